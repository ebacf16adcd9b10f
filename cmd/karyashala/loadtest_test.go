package main

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/karyashala/karyashala/loadtest"
)

// A label belongs on a result's first line, not after its note about
// missed requests.
func TestLabelledKeepsTheLabelOnTheFirstLine(t *testing.T) {
	r := loadtest.Result{Mode: "ussd", Requests: 100, Elapsed: time.Second, Rate: 100, Missed: 3}
	lines := strings.Split(labelled(r, "server"), "\n")
	if len(lines) != 2 || !strings.HasSuffix(lines[0], "   server") || !strings.Contains(lines[1], "3 due requests") {
		t.Fatalf("labelled:\n%s", strings.Join(lines, "\n"))
	}
	if got := labelled(loadtest.Result{Mode: "bare", Requests: 1, Elapsed: time.Second}, "baseline"); strings.Count(got, "\n") != 0 || !strings.HasSuffix(got, "   baseline") {
		t.Fatalf("labelled: %q", got)
	}
	if l := latencies([]loadtest.Result{{P99: 3 * time.Millisecond}, {P99: 9 * time.Millisecond}, {P99: 5 * time.Millisecond}}); l.p99 != 5 || l.p99min != 3 || l.p99max != 9 {
		t.Fatalf("latencies: %+v, want the median p99 5 ms between 3 and 9", l)
	}
}

// A bound the histogram cannot give is said so, not printed as a figure.
func TestBoundText(t *testing.T) {
	for v, want := range map[float64]string{25: "at most 25.0ms", 0: "unknown", math.Inf(1): "beyond the largest bucket"} {
		if got := boundText(v); !strings.HasPrefix(got, want) {
			t.Errorf("boundText(%v) = %q, want %q...", v, got, want)
		}
	}
	if got := boundText(median([]float64{10, math.Inf(1), math.Inf(1)})); got != "beyond the largest bucket" {
		t.Errorf("median bound of 10ms, beyond, beyond: %q", got)
	}
	if boundMS(time.Duration(math.MaxInt64)) != math.Inf(1) || boundMS(15*time.Millisecond) != 15 {
		t.Error("boundMS does not keep the loadtest package's sentinel apart from a figure")
	}
}
