package main

import (
	"bytes"
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
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

// The spawned server is the load's own: the operator's karyashala.yaml and
// KARYASHALA_ variables, here a Kannel sender and a callbacks.token, must
// not reach it, or the load's COMPLAINT messages from random numbers would
// be answered with real SMS, or refused with 403.
func TestLoadtestServerIgnoresTheOperatorsConfig(t *testing.T) {
	var sent atomic.Int64
	carrier := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sent.Add(1)
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, "0: Accepted for delivery")
	}))
	defer carrier.Close()

	dir := t.TempDir()
	t.Chdir(dir)
	conf := "sms:\n  sender: kannel\n  kannel:\n    sendsms_url: " + carrier.URL + "/cgi-bin/sendsms\ncallbacks:\n  token: operators-secret\n"
	if err := os.WriteFile(filepath.Join(dir, "karyashala.yaml"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KARYASHALA_SMS_SENDER", "kannel")
	t.Setenv("KARYASHALA_SMS_KANNEL_SENDSMS_URL", carrier.URL+"/cgi-bin/sendsms")
	t.Setenv("KS_TEST_RUN_MAIN", "1") // the children are this binary playing karyashala

	root := rootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs([]string{"loadtest", "--modes", "sms", "--rounds", "1", "--duration", "200ms", "--concurrency", "4", "--latency-at", "0"})
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("loadtest: %v\n%s", err, out.String())
	}
	var results int
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.Contains(line, " requests, ") {
			results++
			if !strings.Contains(line, " 0 errors") {
				t.Errorf("a run had errors (the operator's callbacks.token?): %s", line)
			}
		}
	}
	if results != 3 || !strings.Contains(out.String(), "sms: ") {
		t.Fatalf("want the GET, baseline and server runs and the inbox line:\n%s", out.String())
	}
	if n := sent.Load(); n != 0 {
		t.Fatalf("the load's server sent %d SMS through the operator's Kannel", n)
	}
}

// The spawned server's environment keeps what the Go runtime and the
// system need and drops every KARYASHALA_ override.
func TestServerEnv(t *testing.T) {
	got := serverEnv([]string{"PATH=/bin", "KARYASHALA_SMS_SENDER=twilio", "HOME=/root", "GOMAXPROCS=2", "KARYASHALA_CALLBACKS_TOKEN=x", "GODEBUG=gctrace=1"})
	want := []string{"PATH=/bin", "HOME=/root", "GOMAXPROCS=2", "GODEBUG=gctrace=1"}
	if !slices.Equal(got, want) {
		t.Fatalf("serverEnv = %q, want %q", got, want)
	}
}
