package ussd

import (
	"strings"
	"testing"
	"time"
)

func TestFormatDate(t *testing.T) {
	d := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	if got := FormatDate(d, "en"); got != "5 Dec 10:00" {
		t.Errorf("en: %q", got)
	}
	if got := FormatDate(d, "hi"); got != "5 दिस 10:00" {
		t.Errorf("hi: %q", got)
	}
}

func TestNewInput(t *testing.T) {
	cases := []struct {
		old, text, want string
		ok              bool
	}{
		{"", "1", "1", true},
		{"1", "1*2", "2", true},
		{"1*2", "1*2", "", false},                           // a retry
		{"1*7", "1*7*Drain*blocked", "Drain*blocked", true}, // a typed "*" stays in the input
		{"1", "1*", "", true},                               // an empty answer
		{"1*2", "5", "5", true},                             // a carrier sending only the latest input
		{"1", "11", "11", true},
	}
	for _, c := range cases {
		got, ok := newInput(c.old, c.text)
		if got != c.want || ok != c.ok {
			t.Errorf("newInput(%q, %q) = %q, %v; want %q, %v", c.old, c.text, got, ok, c.want, c.ok)
		}
	}
}

// TestPaginateFits checks that pages never exceed the limit, keep every
// word, and carry "more" on all but the last.
func TestPaginateFits(t *testing.T) {
	lim := Limits{MaxGSM7: 60, MaxUCS2: 30}
	blocks := []string{
		"A fairly long header line that will not fit on one small page at all",
		"1. कपड़े के थैले सिलना ₹2.50, 200 बाकी",
		"2. Short",
		strings.Repeat("x", 100),
	}
	pages := paginate(lim, blocks, "0 Back", "00 Home", "98 More", true)
	if len(pages) < 3 {
		t.Fatalf("want several pages, got %q", pages)
	}
	var all strings.Builder
	for i, p := range pages {
		if !lim.Fits(p) {
			n, max := lim.Measure(p)
			t.Errorf("page %d is %d > %d: %q", i, n, max, p)
		}
		hasMore := strings.HasSuffix(p, "98 More")
		if last := i == len(pages)-1; hasMore == last {
			t.Errorf("page %d: more=%v on last=%v: %q", i, hasMore, last, p)
		}
		all.WriteString(p + " ")
	}
	for _, w := range strings.Fields("fairly long header 1. कपड़े सिलना 2. Short") {
		if !strings.Contains(all.String(), w) {
			t.Errorf("word %q lost in pagination", w)
		}
	}
	if got := strings.Count(all.String(), "x"); got != 100 {
		t.Errorf("%d of 100 x kept", got)
	}
}
