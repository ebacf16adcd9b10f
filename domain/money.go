package domain

import (
	"strconv"
	"strings"

	"golang.org/x/text/currency"
)

// Money is stored as an integer of minor units (paise for INR). These are
// the one place amounts are written for people and read back from them, so
// SMS, USSD and the console agree to the paisa.

// CurrencyDigits is how many minor-unit digits a currency has (2 for INR, 0
// for JPY and UGX, 3 for KWD), from the ISO 4217 data in x/text; 2 for a
// code it does not know.
func CurrencyDigits(code string) int {
	u, err := currency.ParseISO(code)
	if err != nil {
		return 2
	}
	d, _ := currency.Standard.Rounding(u)
	return d
}

// FormatMinor writes minor units as a bare decimal with the currency's
// digits: 123450 INR is "1234.50". Digits only, so it costs the same in
// GSM-7 and UCS-2, reads the same in every language and parses back.
func FormatMinor(minor int64, code string) string {
	digits := CurrencyDigits(code)
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

// currencySymbols are short, GSM-7-safe prefixes by language ("" for any);
// anything else shows its ISO code. The rupee sign is used only where the
// text is UCS-2 anyway.
var currencySymbols = map[string]map[string]string{
	"INR": {"": "Rs", "hi": "₹", "mr": "₹", "bn": "₹", "ta": "₹", "te": "₹", "gu": "₹", "kn": "₹", "ml": "₹", "pa": "₹"},
	"KES": {"": "KSh"},
	"TZS": {"": "TSh"},
	"UGX": {"": "USh"},
	"ZAR": {"": "R"},
	"USD": {"": "$"},
	"GBP": {"": "£"},
	"BDT": {"": "Tk"},
	"NPR": {"": "Rs"},
	"PKR": {"": "Rs"},
	"LKR": {"": "Rs"},
}

// FormatMoney writes minor units for a person reading lang: 1250 INR is
// "Rs 12.50" in English and "₹12.50" in Hindi; 125000000 is
// "Rs 12,50,000.00" (Indian grouping for INR and NPR).
func FormatMoney(minor int64, code, lang string) string {
	code = strings.ToUpper(code)
	num := FormatMinor(minor, code)
	neg := strings.HasPrefix(num, "-")
	num = strings.TrimPrefix(num, "-")
	whole, frac, hasFrac := strings.Cut(num, ".")
	num = group(whole, code == "INR" || code == "NPR")
	if hasFrac {
		num += "." + frac
	}
	if neg {
		num = "-" + num
	}
	sym := code
	if syms, ok := currencySymbols[code]; ok {
		sym = syms[""]
		if s, ok := syms[lang]; ok {
			sym = s
		}
	}
	if sym == "₹" || sym == "$" || sym == "£" {
		return sym + num
	}
	return sym + " " + num
}

// group puts thousands separators in a run of digits, the Indian way
// (12,50,000) when indian.
func group(d string, indian bool) string {
	if len(d) <= 3 {
		return d
	}
	head, tail := d[:len(d)-3], d[len(d)-3:]
	step := 3
	if indian {
		step = 2
	}
	var parts []string
	for len(head) > step {
		parts = append([]string{head[len(head)-step:]}, parts...)
		head = head[:len(head)-step]
	}
	parts = append([]string{head}, parts...)
	return strings.Join(parts, ",") + "," + tail
}

// ParseMoney reads an amount a person typed ("12", "12.5", "1,200.00",
// "₹12", "Rs 12", "Rs.12.50", "INR 12") into minor units of code. field
// names the input in the EINVALID error.
func ParseMoney(field, s, code string) (int64, error) {
	code = strings.ToUpper(code)
	digits := CurrencyDigits(code)
	t := strings.TrimSpace(strings.ReplaceAll(s, ",", ""))
	for _, p := range []string{code, "Rs", "₹", "$", "£", "KSh", "USh", "TSh"} {
		t = trimSymbol(t, p)
	}
	if t == "" {
		return 0, Errorf(EINVALID, "%s: required, an amount in %s such as 12.50", field, code)
	}
	bad := Errorf(EINVALID, "%s: %q is not an amount in %s; write it like 12.50", field, s, code)
	whole, frac, hasFrac := strings.Cut(t, ".")
	if whole == "" {
		whole = "0"
	}
	if hasFrac && frac == "" {
		return 0, bad
	}
	for _, r := range whole + frac {
		if r < '0' || r > '9' {
			return 0, bad
		}
	}
	if hasFrac && len(frac) > digits {
		return 0, Errorf(EINVALID, "%s: %q has more than %d digits after the point", field, s, digits)
	}
	if len(whole) > 12 {
		return 0, Errorf(EINVALID, "%s: %q is too large", field, s)
	}
	w, _ := strconv.ParseInt(whole, 10, 64)
	frac += strings.Repeat("0", digits-len(frac))
	var f int64
	if frac != "" {
		f, _ = strconv.ParseInt(frac, 10, 64)
	}
	for i := 0; i < digits; i++ {
		w *= 10
	}
	return w + f, nil
}

// trimSymbol strips a currency symbol or code from the front of t, in any
// case, and the spaces after it. A symbol of letters may end in a dot, the
// way receipts write "Rs.50": that dot is the abbreviation's, not a decimal
// point, or "Rs.50" would be read as 50 paise. After "$" or "£" a dot is a
// decimal point ("$.50"), and "Rs..50" stays a typo to refuse.
func trimSymbol(t, sym string) string {
	if len(t) < len(sym) || !strings.EqualFold(t[:len(sym)], sym) {
		return t
	}
	t = t[len(sym):]
	if last := sym[len(sym)-1]; ('a' <= last && last <= 'z' || 'A' <= last && last <= 'Z') && strings.HasPrefix(t, ".") && !strings.HasPrefix(t, "..") {
		t = t[1:]
	}
	return strings.TrimSpace(t)
}
