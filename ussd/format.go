package ussd

import (
	"strconv"
	"strings"
	"time"
)

// currencyDigits are the minor-unit digits of currencies that do not use two.
var currencyDigits = map[string]int{"JPY": 0, "KRW": 0, "UGX": 0, "RWF": 0, "BIF": 0, "XOF": 0, "XAF": 0, "VND": 0, "KWD": 3, "BHD": 3, "OMR": 3, "TND": 3, "JOD": 3}

// currencySymbols are short, GSM-7-safe prefixes; anything else shows its
// ISO code. The rupee sign is used only where the page is UCS-2 anyway.
var currencySymbols = map[string]map[string]string{
	"INR": {"": "Rs", "hi": "₹", "mr": "₹", "bn": "₹", "ta": "₹", "te": "₹", "gu": "₹", "kn": "₹", "ml": "₹", "pa": "₹"},
	"KES": {"": "KSh"},
	"TZS": {"": "TSh"},
	"UGX": {"": "USh"},
	"NGN": {"": "NGN"},
	"GHS": {"": "GHS"},
	"ZAR": {"": "R"},
	"USD": {"": "$"},
	"EUR": {"": "EUR"},
	"GBP": {"": "£"},
	"BDT": {"": "Tk"},
	"NPR": {"": "Rs"},
	"PKR": {"": "Rs"},
	"LKR": {"": "Rs"},
}

// FormatMoney writes an amount of minor units in currency for a phone
// screen in lang: 1250 INR is "Rs 12.50" in English and "₹12.50" in Hindi,
// 125000000 is "Rs 12,50,000.00" (Indian grouping for INR).
func FormatMoney(minor int64, currency, lang string) string {
	currency = strings.ToUpper(currency)
	digits, ok := currencyDigits[currency]
	if !ok {
		digits = 2
	}
	neg := minor < 0
	if neg {
		minor = -minor
	}
	unit := int64(1)
	for i := 0; i < digits; i++ {
		unit *= 10
	}
	whole := group(strconv.FormatInt(minor/unit, 10), currency == "INR" || currency == "NPR")
	num := whole
	if digits > 0 {
		frac := strconv.FormatInt(minor%unit, 10)
		num += "." + strings.Repeat("0", digits-len(frac)) + frac
	}
	if neg {
		num = "-" + num
	}
	sym := currency
	if syms, ok := currencySymbols[currency]; ok {
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

var monthNames = map[string][]string{
	"en": {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"},
	"hi": {"जन", "फ़र", "मार्च", "अप्रै", "मई", "जून", "जुला", "अग", "सित", "अक्टू", "नव", "दिस"},
}

// FormatDate writes a short day and time for a phone screen: "5 Dec 10:00".
func FormatDate(t time.Time, lang string) string {
	names, ok := monthNames[lang]
	if !ok {
		names = monthNames["en"]
	}
	return strconv.Itoa(t.Day()) + " " + names[t.Month()-1] + " " + t.Format("15:04")
}
