package sms

import (
	"strconv"
	"strings"

	"golang.org/x/text/currency"
)

// FormatMinor writes an amount of minor units (paise) as a plain decimal
// with the currency's standard digits, "1234.50" for 123450 INR: digits
// only, so it costs the same in GSM-7 and UCS-2 and reads the same in every
// language. The currency code goes in the reply template.
func FormatMinor(minor int64, code string) string {
	digits := 2
	if u, err := currency.ParseISO(code); err == nil {
		digits, _ = currency.Standard.Rounding(u)
	}
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	s := strconv.FormatInt(minor, 10)
	if digits == 0 {
		return sign + s
	}
	if len(s) <= digits {
		s = strings.Repeat("0", digits-len(s)+1) + s
	}
	return sign + s[:len(s)-digits] + "." + s[len(s)-digits:]
}
