// Package loadtest drives whole USSD journeys and inbound SMS against a
// running Karyashala (or a do-nothing baseline server) over loopback HTTP
// and reports throughput and latency percentiles. It is bounded in both
// concurrency and duration and stops by itself.
package loadtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// Options describe one run.
type Options struct {
	URL         string        // base URL of the server, loopback only
	Mode        string        // "ussd", "sms" or "bare" (a GET / on a baseline server)
	Concurrency int           // virtual users, each with one connection
	Duration    time.Duration // how long to send
	Journey     []string      // USSD inputs one hop after another; the session ends after the last
	ServiceCode string
	Token       string // callbacks.token, when the server needs one
	// Rate, when above 0, offers that many requests a second in total
	// (open loop): latency is then measured from when each request was due,
	// so a stalled server shows as latency instead of hiding as a lower
	// request rate. 0 sends as fast as the connections allow.
	Rate     float64
	Progress io.Writer
}

// Result is what a run measured.
type Result struct {
	Mode     string
	Requests int64
	Errors   int64
	Elapsed  time.Duration
	P50      time.Duration
	P99      time.Duration
	P999     time.Duration
	Max      time.Duration
	FirstErr string
	Rate     float64 // offered rate, 0 for closed loop
	Missed   int64   // due requests never sent because every connection was busy
}

// PerSecond is the request rate.
func (r Result) PerSecond() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

func (r Result) String() string {
	unit := "req/s"
	switch r.Mode {
	case "ussd":
		unit = "hops/s"
	case "sms":
		unit = "msgs/s"
	}
	mode := r.Mode
	if r.Rate > 0 {
		mode = fmt.Sprintf("%s@%.0f/s", r.Mode, r.Rate)
	}
	s := fmt.Sprintf("%-5s %9.0f %-6s  p50 %6.2fms  p99 %6.2fms  p999 %6.2fms  max %6.2fms  (%d requests, %d errors, %.1fs)",
		mode, r.PerSecond(), unit, ms(r.P50), ms(r.P99), ms(r.P999), ms(r.Max), r.Requests, r.Errors, r.Elapsed.Seconds())
	if r.Missed > 0 {
		s += fmt.Sprintf("\n      %d due requests could not be sent: every connection was busy", r.Missed)
	}
	if r.FirstErr != "" {
		s += "\n      first error: " + r.FirstErr
	}
	return s
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// CheckLoopback refuses any target that is not on this machine: load is
// only ever sent to loopback addresses.
func CheckLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("--url %q is not a URL like http://127.0.0.1:8080", raw)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("--url %q: load is only sent to loopback addresses (127.0.0.1, ::1, localhost)", raw)
	}
	return nil
}

// Run sends load until the duration is over and returns what it measured.
func Run(ctx context.Context, o Options) (Result, error) {
	if err := CheckLoopback(o.URL); err != nil {
		return Result{}, err
	}
	if o.Concurrency < 1 || o.Concurrency > 4096 {
		return Result{}, fmt.Errorf("--concurrency %d is outside 1..4096", o.Concurrency)
	}
	if o.Duration <= 0 || o.Duration > 10*time.Minute {
		return Result{}, fmt.Errorf("--duration %s is outside (0, 10m]", o.Duration)
	}
	if len(o.Journey) == 0 {
		o.Journey = DefaultJourney
	}
	if o.ServiceCode == "" {
		o.ServiceCode = "*384#"
	}
	t, err := newTarget(o)
	if err != nil {
		return Result{}, err
	}
	defer t.client.CloseIdleConnections()

	ctx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	deadline, _ := ctx.Deadline()
	var requests, errs atomic.Int64
	var firstErr atomic.Value
	lats := make([][]time.Duration, o.Concurrency)
	start := time.Now()

	stopProgress := make(chan struct{})
	var pwg sync.WaitGroup
	if o.Progress != nil {
		pwg.Add(1)
		go func() {
			defer pwg.Done()
			t := time.NewTicker(time.Second)
			defer t.Stop()
			var last int64
			for {
				select {
				case <-stopProgress:
					fmt.Fprintln(o.Progress)
					return
				case <-t.C:
					n := requests.Load()
					fmt.Fprintf(o.Progress, "\r%-5s %5.0fs  %8d requests  %7d/s  %d errors   ", o.Mode, time.Since(start).Seconds(), n, n-last, errs.Load())
					last = n
				}
			}
		}()
	}

	// In open loop a pacer hands out due times; a worker measures from
	// the due time, not from when it got round to sending.
	var due chan time.Time
	var missed atomic.Int64
	if o.Rate > 0 {
		due = make(chan time.Time, o.Concurrency)
		go func() {
			defer close(due)
			interval := time.Duration(float64(time.Second) / o.Rate)
			next := time.Now()
			for {
				next = next.Add(interval)
				if d := time.Until(next); d > 0 {
					select {
					case <-ctx.Done():
						return
					case <-time.After(d):
					}
				} else if ctx.Err() != nil {
					return
				}
				select {
				case due <- next:
				default:
					missed.Add(1)
				}
			}
		}()
	}

	var wg sync.WaitGroup
	for w := 0; w < o.Concurrency; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			u := &user{o: o, t: t, deadline: deadline, rng: rand.New(rand.NewPCG(uint64(w), uint64(start.UnixNano()))),
				req: fasthttp.AcquireRequest(), resp: fasthttp.AcquireResponse()}
			defer fasthttp.ReleaseRequest(u.req)
			defer fasthttp.ReleaseResponse(u.resp)
			lat := make([]time.Duration, 0, 4096)
			for ctx.Err() == nil {
				t0 := time.Now()
				if due != nil {
					var ok bool
					if t0, ok = <-due; !ok {
						break
					}
				}
				err := u.step()
				if ctx.Err() != nil || !time.Now().Before(deadline) {
					break // a request cut off by the end of the run is not counted
				}
				lat = append(lat, time.Since(t0))
				requests.Add(1)
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
			lats[w] = lat
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(stopProgress)
	pwg.Wait()

	all := slices.Concat(lats...)
	slices.Sort(all)
	r := Result{Mode: o.Mode, Requests: requests.Load(), Errors: errs.Load(), Elapsed: elapsed, Rate: o.Rate, Missed: missed.Load()}
	if v, ok := firstErr.Load().(string); ok {
		r.FirstErr = v
	}
	if len(all) > 0 {
		r.P50, r.P99, r.P999, r.Max = pct(all, 0.50), pct(all, 0.99), pct(all, 0.999), all[len(all)-1]
	}
	return r, nil
}

func pct(sorted []time.Duration, p float64) time.Duration {
	i := int(float64(len(sorted)-1) * p)
	return sorted[i]
}

// user is one virtual phone. It keeps one request and one response and
// builds its form bodies by appending, so the load generator, which shares
// the machine's cores with the server it measures, spends little of them.
type user struct {
	o        Options
	t        *target
	rng      *rand.Rand
	deadline time.Time // the run's end: a request still waiting then is cut off
	req      *fasthttp.Request
	resp     *fasthttp.Response
	body     []byte
	session  []byte // the session's form fields before text=
	hop      int
	seq      int
}

// target is what every user of a run sends to: one connection pool and the
// parts of each request that never change.
type target struct {
	client  *fasthttp.HostClient
	ussdURL string
	smsURL  string
	bareURL string
	fields  string   // serviceCode and networkCode, escaped
	texts   []string // the text field of each hop of the journey, escaped
	hops    int      // in one journey: len(Journey)+1
}

func newTarget(o Options) (*target, error) {
	u, err := url.Parse(o.URL)
	if err != nil {
		return nil, err
	}
	addr := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		addr = net.JoinHostPort(u.Hostname(), port)
	}
	base := strings.TrimRight(o.URL, "/")
	callback := func(path string) string {
		if o.Token != "" {
			return base + path + "?token=" + url.QueryEscape(o.Token)
		}
		return base + path
	}
	t := &target{
		client: &fasthttp.HostClient{
			Addr:                          addr,
			IsTLS:                         u.Scheme == "https",
			MaxConns:                      o.Concurrency,
			MaxConnWaitTimeout:            requestTimeout,
			MaxIdleConnDuration:           time.Minute,
			NoDefaultUserAgentHeader:      true,
			DisableHeaderNamesNormalizing: true,
			DisablePathNormalizing:        true,
		},
		ussdURL: callback("/ussd/africastalking"),
		smsURL:  callback("/sms/africastalking/inbound"),
		bareURL: base + "/",
		fields:  "&serviceCode=" + url.QueryEscape(o.ServiceCode) + "&networkCode=40410",
		hops:    len(o.Journey) + 1,
	}
	t.texts = JourneyTexts(o.Journey)
	return t, nil
}

// DefaultJourney is what a USSD run dials when Options.Journey is empty:
// register, a name too short (the error page), back, report a problem,
// home.
var DefaultJourney = []string{"1", "1", "0", "2", "00"}

// JourneyTexts is the text field of each hop of journey, escaped for a
// form body, as Africa's Talking sends it: empty on the first hop, then
// the inputs so far joined by "*".
func JourneyTexts(journey []string) []string {
	texts := make([]string, 0, len(journey)+1)
	for hop := 0; hop <= len(journey); hop++ {
		texts = append(texts, url.QueryEscape(strings.Join(journey[:hop], "*")))
	}
	return texts
}

// requestTimeout bounds one request, and the wait for a free connection.
const requestTimeout = 30 * time.Second

func (u *user) step() error {
	switch u.o.Mode {
	case "ussd":
		return u.ussdHop()
	case "sms":
		return u.sms()
	default:
		_, err := u.do(fasthttp.MethodGet, u.t.bareURL, nil)
		return err
	}
}

func (u *user) ussdHop() error {
	if len(u.session) == 0 || u.hop >= u.t.hops {
		b := fmt.Appendf(u.session[:0], "sessionId=%s&phoneNumber=%%2B9197%08d", u.carrierID("ATUid_"), u.rng.IntN(100_000_000))
		b = append(b, u.t.fields...)
		u.session, u.hop = append(b, "&text="...), 0
	}
	u.body = append(append(u.body[:0], u.session...), u.t.texts[u.hop]...)
	body, err := u.do(fasthttp.MethodPost, u.t.ussdURL, u.body)
	u.hop++
	switch {
	case err != nil:
		u.hop = u.t.hops // the next hop starts a new session
		return err
	case bytes.HasPrefix(body, []byte("END ")):
		u.hop = u.t.hops
	case !bytes.HasPrefix(body, []byte("CON ")):
		u.hop = u.t.hops
		return fmt.Errorf("ussd answer does not start with CON or END: %.60q", body)
	}
	return nil
}

func (u *user) sms() error {
	u.seq++
	now := time.Now()
	u.body = fmt.Appendf(u.body[:0], "from=%%2B9196%08d&to=384&text=COMPLAINT+load+test+%d&date=%s&id=%s&linkId=",
		u.rng.IntN(100_000_000), u.seq, url.QueryEscape(now.UTC().Format("2006-01-02 15:04:05")), u.carrierID("ATXid_"))
	_, err := u.do(fasthttp.MethodPost, u.t.smsURL, u.body)
	return err
}

// carrierID is a session or message id as Africa's Talking gives them:
// prefix and 128 random bits in hex, unique in the run and across runs.
// They are random, not in order, because a carrier's are: ids in order
// made the server's work on them look cheaper than it is (see
// storage/inbound.go).
func (u *user) carrierID(prefix string) string {
	return fmt.Sprintf("%s%016x%016x", prefix, u.rng.Uint64(), u.rng.Uint64())
}

// do sends one request and returns the answer's body, which is valid until
// the next request; an answer other than 200 is an error saying what the
// server answered.
func (u *user) do(method, target string, form []byte) ([]byte, error) {
	u.req.Reset()
	u.req.Header.SetMethod(method)
	u.req.SetRequestURI(target)
	if form != nil {
		u.req.Header.SetContentType("application/x-www-form-urlencoded")
		u.req.SetBodyRaw(form)
	}
	deadline := time.Now().Add(requestTimeout)
	if u.deadline.Before(deadline) {
		deadline = u.deadline
	}
	if err := u.t.client.DoDeadline(u.req, u.resp, deadline); err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, u.req.URI().Path(), err)
	}
	body := u.resp.Body()
	if len(body) > 4096 {
		body = body[:4096]
	}
	if code := u.resp.StatusCode(); code != fasthttp.StatusOK {
		return body, fmt.Errorf("%s %s: %d %s", method, u.req.URI().Path(), code, bytes.TrimSpace(body))
	}
	return body, nil
}

// Inbox is what a Karyashala server's /metrics says of its SMS inbox.
type Inbox struct {
	Answered float64 // inbound messages answered since the server started
	Waiting  float64 // stored and not yet answered
}

// ReadInbox scrapes the inbox figures from baseURL's /metrics.
func ReadInbox(ctx context.Context, baseURL string) (Inbox, error) {
	b, err := scrape(ctx, baseURL)
	if err != nil {
		return Inbox{}, err
	}
	var in Inbox
	for _, line := range strings.Split(b, "\n") {
		name, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		switch name {
		case `karyashala_events_total{event="sms_in_answered"}`:
			in.Answered, _ = strconv.ParseFloat(value, 64)
		case "karyashala_sms_inbox_waiting":
			in.Waiting, _ = strconv.ParseFloat(value, 64)
		}
	}
	return in, nil
}

// HandlerTimes is a server's own histogram of how long one route's
// requests took in its handlers, from /metrics: cumulative counts by upper
// bound in seconds. The difference of two readings covers what happened
// between them.
type HandlerTimes struct {
	Bounds []float64 // upper bounds, ascending; the last is +Inf
	Counts []float64 // requests at or under each bound
}

// ReadHandlerTimes scrapes route's handler-time histogram from baseURL's
// /metrics; a route with no requests yet has no buckets.
func ReadHandlerTimes(ctx context.Context, baseURL, route string) (HandlerTimes, error) {
	b, err := scrape(ctx, baseURL)
	if err != nil {
		return HandlerTimes{}, err
	}
	prefix := `karyashala_http_request_seconds_bucket{method="POST",route="` + route + `",le="`
	var h HandlerTimes
	for _, line := range strings.Split(b, "\n") {
		rest, ok := strings.CutPrefix(line, prefix)
		if !ok {
			continue
		}
		le, count, ok := strings.Cut(rest, `"} `)
		if !ok {
			continue
		}
		bound, err := strconv.ParseFloat(le, 64) // reads "+Inf" too
		n, err2 := strconv.ParseFloat(count, 64)
		if err != nil || err2 != nil {
			return HandlerTimes{}, fmt.Errorf("read %s's handler times: bad bucket %q", route, line)
		}
		h.Bounds, h.Counts = append(h.Bounds, bound), append(h.Counts, n)
	}
	return h, nil
}

// Since is what h counted after earlier, a reading of the same route.
func (h HandlerTimes) Since(earlier HandlerTimes) HandlerTimes {
	out := HandlerTimes{Bounds: h.Bounds, Counts: slices.Clone(h.Counts)}
	if len(earlier.Counts) == len(h.Counts) {
		for i := range out.Counts {
			out.Counts[i] -= earlier.Counts[i]
		}
	}
	return out
}

// Bound returns the smallest upper bound under which at least the share q
// of the requests were handled: the histogram's answer to "p99 is at most".
// It is 0 when there were no requests.
func (h HandlerTimes) Bound(q float64) time.Duration {
	if len(h.Counts) == 0 || h.Counts[len(h.Counts)-1] == 0 {
		return 0
	}
	total := h.Counts[len(h.Counts)-1]
	for i, n := range h.Counts {
		if n >= q*total {
			if math.IsInf(h.Bounds[i], 1) {
				return time.Duration(math.MaxInt64)
			}
			return time.Duration(h.Bounds[i] * float64(time.Second))
		}
	}
	return time.Duration(math.MaxInt64)
}

func scrape(ctx context.Context, baseURL string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(baseURL, "/")+"/metrics", nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}
