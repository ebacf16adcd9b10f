package console

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/text/currency"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/karyashala/karyashala/domain"
)

// money formats and parses amounts of the configured currency, which the
// domain stores as integer minor units (paise for INR).
type money struct {
	code   string
	symbol string
	scale  int // digits after the decimal point
}

func newMoney(code string) (money, error) {
	u, err := currency.ParseISO(code)
	if err != nil {
		return money{}, fmt.Errorf("console: currency %q is not an ISO 4217 code such as INR: %w", code, err)
	}
	scale, _ := currency.Standard.Rounding(u)
	sym := message.NewPrinter(language.English).Sprint(currency.NarrowSymbol(u))
	if sym == "" || sym == u.String() {
		sym = u.String() + " "
	}
	return money{code: u.String(), symbol: sym, scale: scale}, nil
}

// Format writes minor units as "₹1,234.50".
func (m money) Format(minor int64) string {
	neg := minor < 0
	if neg {
		minor = -minor
	}
	div := int64(1)
	for i := 0; i < m.scale; i++ {
		div *= 10
	}
	whole, frac := minor/div, minor%div
	s := groupThousands(strconv.FormatInt(whole, 10))
	if m.scale > 0 {
		s += fmt.Sprintf(".%0*d", m.scale, frac)
	}
	if neg {
		return "-" + m.symbol + s
	}
	return m.symbol + s
}

// Plain writes minor units as a bare decimal ("1234.50"), for CSV and form
// values that are read back.
func (m money) Plain(minor int64) string {
	div := int64(1)
	for i := 0; i < m.scale; i++ {
		div *= 10
	}
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	if m.scale == 0 {
		return sign + strconv.FormatInt(minor, 10)
	}
	return fmt.Sprintf("%s%d.%0*d", sign, minor/div, m.scale, minor%div)
}

// Parse reads an amount a person typed ("12", "12.5", "1,200.00") into minor
// units. field names the form field in the error message.
func (m money) Parse(field, s string) (int64, error) {
	t := strings.TrimSpace(strings.ReplaceAll(s, ",", ""))
	t = strings.TrimPrefix(t, strings.TrimSpace(m.symbol))
	bad := domain.Errorf(domain.EINVALID, "%s: %q is not an amount in %s; write it like 12.50", field, s, m.code)
	if t == "" {
		return 0, domain.Errorf(domain.EINVALID, "%s: required, an amount in %s such as 12.50", field, m.code)
	}
	whole, frac, hasFrac := strings.Cut(t, ".")
	if whole == "" {
		whole = "0"
	}
	if hasFrac && (len(frac) > m.scale || (len(frac) == 0)) {
		if len(frac) > m.scale {
			return 0, domain.Errorf(domain.EINVALID, "%s: %q has more than %d digits after the point", field, s, m.scale)
		}
		return 0, bad
	}
	for _, r := range whole + frac {
		if r < '0' || r > '9' {
			return 0, bad
		}
	}
	if len(whole) > 12 {
		return 0, domain.Errorf(domain.EINVALID, "%s: %q is too large", field, s)
	}
	w, _ := strconv.ParseInt(whole, 10, 64)
	for len(frac) < m.scale {
		frac += "0"
	}
	var f int64
	if frac != "" {
		f, _ = strconv.ParseInt(frac, 10, 64)
	}
	out := w
	for i := 0; i < m.scale; i++ {
		out *= 10
	}
	return out + f, nil
}

// groupThousands puts commas between groups of three digits.
func groupThousands(s string) string {
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	pre := len(s) % 3
	if pre > 0 {
		b.WriteString(s[:pre])
	}
	for i := pre; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}
