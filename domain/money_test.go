package domain_test

import (
	"strings"
	"testing"

	"github.com/karyashala/karyashala/domain"
)

func TestFormatMinor(t *testing.T) {
	cases := []struct {
		minor int64
		code  string
		want  string
	}{
		{123450, "INR", "1234.50"},
		{5, "INR", "0.05"},
		{0, "KES", "0.00"},
		{1500, "JPY", "1500"},
		{12345, "KWD", "12.345"},
		{-250, "INR", "-2.50"},
	}
	for _, c := range cases {
		if got := domain.FormatMinor(c.minor, c.code); got != c.want {
			t.Errorf("FormatMinor(%d, %s) = %q, want %q", c.minor, c.code, got, c.want)
		}
	}
}

func TestFormatMoney(t *testing.T) {
	cases := []struct {
		minor     int64
		cur, lang string
		want      string
	}{
		{1250, "INR", "en", "Rs 12.50"},
		{1250, "INR", "hi", "₹12.50"},
		{5, "INR", "en", "Rs 0.05"},
		{0, "INR", "en", "Rs 0.00"},
		{125000000, "INR", "en", "Rs 12,50,000.00"},
		{-300, "INR", "en", "Rs -3.00"},
		{123456789, "KES", "en", "KSh 1,234,567.89"},
		{1500, "UGX", "en", "USh 1,500"},
		{1500, "XYZ", "en", "XYZ 15.00"},
	}
	for _, c := range cases {
		if got := domain.FormatMoney(c.minor, c.cur, c.lang); got != c.want {
			t.Errorf("FormatMoney(%d, %s, %s) = %q, want %q", c.minor, c.cur, c.lang, got, c.want)
		}
	}
	if _, ok := domain.GSM7Len(domain.FormatMoney(1250, "INR", "en")); !ok {
		t.Error("English amounts must stay GSM-7")
	}
}

func TestParseMoney(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		err  string
	}{
		{"12", 1200, ""},
		{"12.5", 1250, ""},
		{"12.50", 1250, ""},
		{"₹1,200.05", 120005, ""},
		{"Rs 12", 1200, ""},
		{"Rs.50", 5000, ""},
		{"Rs. 50", 5000, ""},
		{"Rs.12.50", 1250, ""},
		{"rs.12.50", 1250, ""},
		{"RS 12", 1200, ""},
		{"INR 12.50", 1250, ""},
		{"inr12", 1200, ""},
		{"₹ 12", 1200, ""},
		{"Rs .50", 50, ""},
		{"Rs.", 0, "required"},
		{"Rs..50", 0, "is not an amount"},
		{"1.2.3", 0, "is not an amount"},
		{".5", 50, ""},
		{"12.505", 0, "more than 2 digits"},
		{"12.", 0, "is not an amount"},
		{"-3", 0, "is not an amount"},
		{"1e3", 0, "is not an amount"},
		{"", 0, "required"},
		{"9999999999999", 0, "too large"},
	} {
		got, err := domain.ParseMoney("amount", tc.in, "INR")
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || domain.ErrorCode(err) != domain.EINVALID {
				t.Errorf("ParseMoney(%q) = %d, %v; want EINVALID containing %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseMoney(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	if got, err := domain.ParseMoney("amount", "1500", "JPY"); err != nil || got != 1500 {
		t.Errorf("JPY: %d %v", got, err)
	}
	// After a symbol that is not letters the dot is a decimal point.
	if got, err := domain.ParseMoney("amount", "$.50", "USD"); err != nil || got != 50 {
		t.Errorf("$.50: %d %v, want 50 cents", got, err)
	}
	if got, err := domain.ParseMoney("amount", "KSh.100", "KES"); err != nil || got != 10000 {
		t.Errorf("KSh.100: %d %v, want 10000", got, err)
	}
	// Round trip.
	for _, m := range []int64{0, 5, 1250, 123456789} {
		if got, err := domain.ParseMoney("x", domain.FormatMoney(m, "INR", "en"), "INR"); err != nil || got != m {
			t.Errorf("round trip %d: %d %v", m, got, err)
		}
	}
}
