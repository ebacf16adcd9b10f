package console

import (
	"context"
	"encoding/csv"
	"fmt"
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/karyashala/karyashala/domain"
)

// month is one month's figures for the twelve-month charts.
type month struct {
	Start time.Time
	S     *domain.Summary
}

type dashboardData struct {
	From, To string // dates as typed, To inclusive
	S        *domain.Summary
	Months   []month
	Charts   []template.HTML
}

// period reads ?from=&to= as days in the programme's zone (to inclusive),
// the way the API's summary reads them; the default is the current month
// so far.
func (h *Console) period(c *fiber.Ctx) (from, to time.Time, fromS, toS string, err error) {
	loc := h.o.Location
	now := h.now().In(loc)
	fromS, toS = c.Query("from"), c.Query("to")
	if fromS == "" {
		fromS = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, loc).Format("2006-01-02")
	}
	if toS == "" {
		toS = now.Format("2006-01-02")
	}
	from, err = time.ParseInLocation("2006-01-02", fromS, loc)
	if err != nil {
		return from, to, fromS, toS, domain.Errorf(domain.EINVALID, "from: %q is not a date like 2026-01-31", fromS)
	}
	last, err := time.ParseInLocation("2006-01-02", toS, loc)
	if err != nil {
		return from, to, fromS, toS, domain.Errorf(domain.EINVALID, "to: %q is not a date like 2026-01-31", toS)
	}
	to = last.AddDate(0, 0, 1)
	if !to.After(from) {
		return from, to, fromS, toS, domain.Errorf(domain.EINVALID, "the period from %s to %s is empty; the end must not be before the start", fromS, toS)
	}
	return from, to, fromS, toS, nil
}

// lastTwelveMonths reads each of the last twelve calendar months, the
// current one included, in the programme's zone.
func (h *Console) lastTwelveMonths(ctx context.Context) ([]month, error) {
	now := h.now().In(h.o.Location)
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, h.o.Location).AddDate(0, -11, 0)
	out := make([]month, 0, 12)
	for i := 0; i < 12; i++ {
		start := first.AddDate(0, i, 0)
		s, err := h.d.Reports.Summary(ctx, start, start.AddDate(0, 1, 0))
		if err != nil {
			return nil, fmt.Errorf("summary for %s: %w", start.Format("Jan 2006"), err)
		}
		out = append(out, month{Start: start, S: s})
	}
	return out, nil
}

func (h *Console) dashboardPage(c *fiber.Ctx) error {
	from, to, fromS, toS, err := h.period(c)
	if err != nil {
		return h.fail(c, err)
	}
	d := dashboardData{From: fromS, To: toS}
	if d.S, err = h.d.Reports.Summary(h.ctx(c), from, to); err != nil {
		return h.fail(c, err)
	}
	if d.Months, err = h.lastTwelveMonths(h.ctx(c)); err != nil {
		return h.fail(c, err)
	}
	labels := make([]string, len(d.Months))
	women := make([]float64, len(d.Months))
	earn := make([]float64, len(d.Months))
	voiced := make([]float64, len(d.Months))
	resolved := make([]float64, len(d.Months))
	for i, m := range d.Months {
		labels[i] = m.Start.Format("Jan")
		women[i] = float64(m.S.WomenWithPaidWork)
		earn[i] = float64(m.S.EarningsTotal)
		voiced[i] = float64(m.S.ComplaintsVoiced + m.S.ProposalsVoiced)
		resolved[i] = float64(m.S.Resolved)
	}
	count := func(v float64) string { return strconv.FormatInt(int64(v), 10) }
	d.Charts = []template.HTML{
		barChart("chart-women", "Women with paid work, by month", labels, []series{{"women with paid work", "s1", women}}, count),
		barChart("chart-earnings", "Earnings approved, by month ("+h.money.code+")", labels, []series{{"earnings", "s2", earn}}, func(v float64) string { return h.money.Format(int64(v)) }),
		barChart("chart-voice", "Problems voiced and resolved, by month", labels, []series{{"voiced", "s3", voiced}, {"resolved", "s4", resolved}}, count),
	}
	return h.render(c, 0, "dashboard", "Dashboard", d)
}

// dashboardCSV exports one of the dashboard's tables.
func (h *Console) dashboardCSV(c *fiber.Ctx) error {
	from, to, fromS, toS, err := h.period(c)
	if err != nil {
		return h.fail(c, err)
	}
	var rows [][]string
	table := c.Params("table")
	switch table {
	case "figures":
		s, err := h.d.Reports.Summary(h.ctx(c), from, to)
		if err != nil {
			return h.fail(c, err)
		}
		rows = h.figureRows(s)
	case "months":
		months, err := h.lastTwelveMonths(h.ctx(c))
		if err != nil {
			return h.fail(c, err)
		}
		rows = [][]string{{"month", "women_with_paid_work", "earnings_" + h.money.code, "paid_out_" + h.money.code, "complaints_voiced", "proposals_voiced", "resolved", "resolution_rate_pct", "training_signups"}}
		for _, m := range months {
			s := m.S
			rows = append(rows, []string{m.Start.Format("2006-01"), itoa(s.WomenWithPaidWork), h.money.Plain(s.EarningsTotal), h.money.Plain(s.PaidOut),
				itoa(s.ComplaintsVoiced), itoa(s.ProposalsVoiced), itoa(s.Resolved), floatp(s.ResolutionRatePct), itoa(s.TrainingSignups)})
		}
	case "demand":
		s, err := h.d.Reports.Summary(h.ctx(c), from, to)
		if err != nil {
			return h.fail(c, err)
		}
		rows = [][]string{{"topic", "requests", "members", "latest"}}
		for _, t := range s.TrainingDemand {
			rows = append(rows, []string{t.Topic, itoa(t.Requests), itoa(t.Members), t.Latest.UTC().Format(time.RFC3339)})
		}
	default:
		return h.renderError(c, fiber.StatusNotFound, fmt.Sprintf("There is no table %q to export; the dashboard offers figures, months and demand.", table))
	}
	var b strings.Builder
	w := csv.NewWriter(&b)
	for _, r := range rows {
		for i := range r {
			r[i] = csvSafe(r[i])
		}
		_ = w.Write(r)
	}
	w.Flush()
	name := fmt.Sprintf("karyashala-%s-%s-%s.csv", table, fromS, toS)
	if table == "months" {
		name = fmt.Sprintf("karyashala-months-to-%s.csv", h.now().In(h.o.Location).Format("2006-01"))
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	// A byte-order mark so spreadsheet programs read Hindi topics as UTF-8.
	return c.SendString("\ufeff" + b.String())
}

// figureRows are the period's figures as metric,value rows.
func (h *Console) figureRows(s *domain.Summary) [][]string {
	return [][]string{
		{"metric", "value"},
		{"from", s.From.In(h.o.Location).Format(time.RFC3339)},
		{"to", s.To.In(h.o.Location).Format(time.RFC3339)},
		{"women_with_paid_work", itoa(s.WomenWithPaidWork)},
		{"women_with_paid_work_previous", itoa(s.WomenWithPaidWorkBefore)},
		{"earnings_total_" + h.money.code, h.money.Plain(s.EarningsTotal)},
		{"earnings_total_previous_" + h.money.code, h.money.Plain(s.EarningsTotalBefore)},
		{"earnings_change_pct", floatp(s.EarningsChangePct)},
		{"earnings_median_" + h.money.code, h.money.Plain(s.EarningsMedian)},
		{"paid_out_" + h.money.code, h.money.Plain(s.PaidOut)},
		{"workers_stopped", itoa(s.WorkersStopped)},
		{"complaints_voiced", itoa(s.ComplaintsVoiced)},
		{"proposals_voiced", itoa(s.ProposalsVoiced)},
		{"resolved", itoa(s.Resolved)},
		{"resolution_rate_pct", floatp(s.ResolutionRatePct)},
		{"median_hours_to_acknowledge", floatp(s.MedianHoursToAck)},
		{"median_hours_to_resolve", floatp(s.MedianHoursToResolve)},
		{"training_signups", itoa(s.TrainingSignups)},
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func floatp(p *float64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatFloat(*p, 'f', 1, 64)
}

// csvSafe stops a spreadsheet from running a cell that a resident's text
// made look like a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		if _, err := strconv.ParseFloat(s, 64); err == nil {
			return s // a negative number, not a formula
		}
		return "'" + s
	}
	return s
}

// series is one set of bars in a chart.
type series struct {
	Name   string
	Class  string // CSS class giving its colour
	Values []float64
}

// barChart draws grouped bars as an accessible SVG: a title, a tooltip on
// every bar, the axis maximum and month labels. Every text is escaped.
func barChart(id, title string, labels []string, ss []series, format func(float64) string) template.HTML {
	const w, hgt, left, right, top, bottom = 640.0, 240.0, 8.0, 8.0, 40.0, 28.0
	maxV := 0.0
	for _, s := range ss {
		for _, v := range s.Values {
			maxV = math.Max(maxV, v)
		}
	}
	top1 := niceCeil(maxV)
	plotH := hgt - top - bottom
	slot := (w - left - right) / float64(len(labels))
	barW := slot * 0.7 / float64(len(ss))
	var b strings.Builder
	e := html.EscapeString
	fmt.Fprintf(&b, `<svg class="chart" id="%s" viewBox="0 0 %.0f %.0f" role="img" aria-labelledby="%s-t"><title id="%s-t">%s</title>`, e(id), w, hgt, e(id), e(id), e(title))
	fmt.Fprintf(&b, `<text class="ct" x="%.0f" y="16">%s</text>`, left, e(title))
	fmt.Fprintf(&b, `<text class="ax" x="%.0f" y="16" text-anchor="end">max %s</text>`, w-right, e(format(top1)))
	fmt.Fprintf(&b, `<line class="base" x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f"/>`, left, w-right, hgt-bottom, hgt-bottom)
	fmt.Fprintf(&b, `<line class="grid" x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f"/>`, left, w-right, top, top)
	for i, l := range labels {
		x0 := left + float64(i)*slot + slot*0.15
		for j, s := range ss {
			v := 0.0
			if i < len(s.Values) {
				v = s.Values[i]
			}
			bh := 0.0
			if top1 > 0 {
				bh = v / top1 * plotH
			}
			x := x0 + float64(j)*barW
			fmt.Fprintf(&b, `<rect class="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s %s: %s</title></rect>`,
				e(s.Class), x, hgt-bottom-bh, math.Max(barW-1, 1), bh, e(l), e(s.Name), e(format(v)))
		}
		fmt.Fprintf(&b, `<text class="ax" x="%.1f" y="%.0f" text-anchor="middle">%s</text>`, left+float64(i)*slot+slot/2, hgt-10, e(l))
	}
	if len(ss) > 1 {
		x := left
		for _, s := range ss {
			fmt.Fprintf(&b, `<rect class="%s" x="%.0f" y="22" width="10" height="10"/><text class="ax" x="%.0f" y="31">%s</text>`, e(s.Class), x, x+14, e(s.Name))
			x += 120
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // built above from escaped text and numbers only
}

// niceCeil rounds up to 1, 2 or 5 times a power of ten, so the axis reads
// well.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 0
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}
