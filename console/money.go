package console

import (
	"fmt"

	"golang.org/x/text/currency"

	"github.com/karyashala/karyashala/domain"
)

// money formats and parses amounts of the configured currency, which the
// domain stores as integer minor units (paise for INR), with the same rules
// as SMS and USSD.
type money struct {
	code string
}

func newMoney(code string) (money, error) {
	u, err := currency.ParseISO(code)
	if err != nil {
		return money{}, fmt.Errorf("console: currency %q is not an ISO 4217 code such as INR: %w", code, err)
	}
	return money{code: u.String()}, nil
}

// Format writes minor units for the page: "₹1,234.50". A web page is
// Unicode whatever its language, so it takes the Unicode sign that phones
// get only in Hindi (where the screen is UCS-2 anyway).
func (m money) Format(minor int64) string { return domain.FormatMoney(minor, m.code, "hi") }

// Plain writes minor units as a bare decimal ("1234.50"), for CSV and form
// values that are read back.
func (m money) Plain(minor int64) string { return domain.FormatMinor(minor, m.code) }

// Parse reads an amount a person typed into minor units; field names the
// form field in the error.
func (m money) Parse(field, s string) (int64, error) { return domain.ParseMoney(field, s, m.code) }
