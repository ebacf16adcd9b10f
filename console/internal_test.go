package console

import (
	"strings"
	"testing"

	"github.com/karyashala/karyashala/domain"
)

func TestMoney(t *testing.T) {
	inr, err := newMoney("INR")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		in   string
		want int64
		err  string
	}{
		{"12", 1200, ""},
		{"12.5", 1250, ""},
		{"12.50", 1250, ""},
		{"₹1,200.05", 120005, ""},
		{".5", 50, ""},
		{"12.505", 0, "more than 2 digits"},
		{"12.", 0, "is not an amount"},
		{"-3", 0, "is not an amount"},
		{"1e3", 0, "is not an amount"},
		{"", 0, "required"},
		{"9999999999999", 0, "too large"},
	} {
		got, err := inr.Parse("amount", tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || domain.ErrorCode(err) != domain.EINVALID {
				t.Errorf("Parse(%q) = %d, %v; want EINVALID containing %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Parse(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for minor, want := range map[int64]string{0: "₹0.00", 5: "₹0.05", 123456789: "₹1,234,567.89", -1250: "-₹12.50"} {
		if got := inr.Format(minor); got != want {
			t.Errorf("Format(%d) = %q, want %q", minor, got, want)
		}
	}
	if got := inr.Plain(-1250); got != "-12.50" {
		t.Errorf("Plain(-1250) = %q", got)
	}
	kes, _ := newMoney("KES")
	if got := kes.Format(150); got != "KES 1.50" {
		t.Errorf("KES Format(150) = %q", got)
	}
	if _, err := newMoney("rupees"); err == nil {
		t.Error("newMoney accepted a non-ISO code")
	}
}

func TestCSVSafe(t *testing.T) {
	for in, want := range map[string]string{"=1+1": "'=1+1", "@SUM(A1)": "'@SUM(A1)", "-12.5": "-12.5", "+91 phone": "'+91 phone", "plain": "plain", "": ""} {
		if got := csvSafe(in); got != want {
			t.Errorf("csvSafe(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/console/work":          "/console/work",
		"/console/work?pay=1":    "/console/work?pay=1",
		"//evil.example/console": "/console/complaints",
		"https://evil.example/":  "/console/complaints",
		"/consolex":              "/console/complaints",
		"/console/\\evil":        "/console/complaints",
		"":                       "/console/complaints",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBarChartEscapesText(t *testing.T) {
	svg := string(barChart("c1", `<script>alert(1)</script>`, []string{"Jan", `"><b>`}, []series{{"a&b", "s1", []float64{3, 7}}}, func(v float64) string { return "x" }))
	if strings.Contains(svg, "<script>") || strings.Contains(svg, `"><b>`) || !strings.Contains(svg, "a&amp;b") {
		t.Fatalf("unescaped text in chart: %s", svg)
	}
	if n := strings.Count(svg, "<rect "); n != 2 {
		t.Fatalf("%d bars, want 2", n)
	}
	// The plot is 240-40-28 = 172 high and 7 sits on a 0..10 axis.
	if !strings.Contains(svg, `height="120.4"`) {
		t.Fatalf("bar for 7 on a 0..10 axis is not 120.4 high: %s", svg)
	}
}

func TestNiceCeil(t *testing.T) {
	for in, want := range map[float64]float64{0: 0, 1: 1, 3: 5, 7: 10, 12: 20, 10000: 10000, 10001: 20000} {
		if got := niceCeil(in); got != want {
			t.Errorf("niceCeil(%v) = %v, want %v", in, got, want)
		}
	}
}
