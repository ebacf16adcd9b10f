package main

import (
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
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

// --self-cpuprofile profiles the load generator, so its share of the cores
// the server shares can be read; a profile it cannot write is refused
// before any load is sent.
func TestLoadtestProfilesItself(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, "ok")
	}))
	defer srv.Close()

	prof := filepath.Join(t.TempDir(), "gen.prof")
	out, err := run(t, "", "loadtest", "--url", srv.URL, "--modes", "bare", "--duration", "300ms", "--concurrency", "4", "--self-cpuprofile", prof)
	if err != nil {
		t.Fatalf("loadtest: %v\n%s", err, out)
	}
	b, err := os.ReadFile(prof)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b { // pprof's profiles are gzipped protobuf
		t.Fatalf("--self-cpuprofile wrote %d bytes that are not a profile", len(b))
	}
	if hits.Load() == 0 {
		t.Fatal("the profiled run sent nothing")
	}

	// A server of its own: the first run's last requests can still be
	// arriving at the first.
	var later atomic.Int64
	srv2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		later.Add(1)
		io.WriteString(w, "ok")
	}))
	defer srv2.Close()
	_, err = run(t, "", "loadtest", "--url", srv2.URL, "--modes", "bare", "--duration", "300ms", "--self-cpuprofile", filepath.Join(t.TempDir(), "no", "such", "dir", "p"))
	if err == nil || !strings.Contains(err.Error(), "--self-cpuprofile") {
		t.Fatalf("a profile in a missing folder: %v, want an error naming --self-cpuprofile", err)
	}
	if n := later.Load(); n != 0 {
		t.Fatalf("loadtest sent %d requests although it could not write its profile", n)
	}
}
