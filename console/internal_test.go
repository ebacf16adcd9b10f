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
	if got, err := inr.Parse("amount", "₹1,200.05"); err != nil || got != 120005 {
		t.Errorf("Parse = %d, %v", got, err)
	}
	if _, err := inr.Parse("amount", "12.505"); domain.ErrorCode(err) != domain.EINVALID || !strings.Contains(err.Error(), "amount:") {
		t.Errorf("Parse of a bad amount: %v", err)
	}
	if got := inr.Format(123456789); got != "₹12,34,567.89" {
		t.Errorf("Format = %q", got)
	}
	if got := inr.Plain(-1250); got != "-12.50" {
		t.Errorf("Plain(-1250) = %q", got)
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
