package loadtest

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCheckLoopback(t *testing.T) {
	for raw, ok := range map[string]bool{
		"http://127.0.0.1:8080":   true,
		"http://localhost:8080/":  true,
		"http://[::1]:8080":       true,
		"http://10.0.0.5:8080":    false,
		"http://example.org":      false,
		"127.0.0.1:8080":          false, // no scheme: not a URL to send to
		"http://192.168.1.1:8080": false,
	} {
		if err := CheckLoopback(raw); (err == nil) != ok {
			t.Errorf("CheckLoopback(%q) = %v, want ok=%v", raw, err, ok)
		}
	}
	if _, err := Run(context.Background(), Options{URL: "http://example.org", Mode: "bare", Concurrency: 1, Duration: time.Second}); err == nil {
		t.Fatal("Run sent load to a non-loopback address")
	}
}

// fakeUSSD answers like a USSD server: CON until the journey's last input,
// then END. It records every session's texts in order.
type fakeUSSD struct {
	mu        sync.Mutex
	sessions  map[string][]string
	phones    map[string]string
	last      string
	failEvery int // answer every failEvery-th request 500, recording nothing
	requests  int
	failed    int
}

func (f *fakeUSSD) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.URL.Path != "/ussd/africastalking" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	id, text, phone := r.PostForm.Get("sessionId"), r.PostForm.Get("text"), r.PostForm.Get("phoneNumber")
	if code, net := r.PostForm.Get("serviceCode"), r.PostForm.Get("networkCode"); code != "*384#" || net != "40410" {
		http.Error(w, fmt.Sprintf("serviceCode %q, networkCode %q", code, net), http.StatusBadRequest)
		return
	}
	if !phonePattern.MatchString(phone) || !carrierID.MatchString(id) {
		http.Error(w, fmt.Sprintf("phoneNumber %q, sessionId %q", phone, id), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	if f.requests++; f.failEvery > 0 && f.requests%f.failEvery == 0 {
		f.failed++
		f.mu.Unlock()
		http.Error(w, "try again", http.StatusInternalServerError)
		return
	}
	f.sessions[id] = append(f.sessions[id], text)
	if p, ok := f.phones[id]; ok && p != phone {
		f.mu.Unlock()
		http.Error(w, "phone changed within a session", http.StatusBadRequest)
		return
	}
	f.phones[id] = phone
	f.mu.Unlock()
	if strings.HasSuffix(text, f.last) && text != "" {
		fmt.Fprint(w, "END bye")
		return
	}
	fmt.Fprint(w, "CON menu")
}

// Every journey is dialled in order, a hop at a time, each session with one
// phone; after a failed hop the next starts a new session.
func TestRunUSSDJourneys(t *testing.T) {
	for _, failEvery := range []int{0, 7} {
		t.Run(fmt.Sprint("fail every ", failEvery), func(t *testing.T) { testUSSDJourneys(t, failEvery) })
	}
}

func testUSSDJourneys(t *testing.T, failEvery int) {
	f := &fakeUSSD{sessions: map[string][]string{}, phones: map[string]string{}, last: "00", failEvery: failEvery}
	srv := httptest.NewServer(f)
	defer srv.Close()
	r, err := Run(context.Background(), Options{URL: srv.URL, Mode: "ussd", Concurrency: 4, Duration: 300 * time.Millisecond, Journey: []string{"1", "2", "00"}})
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	failed := f.failed
	f.mu.Unlock()
	// A request cut off by the run's end may have been answered (and a
	// failure counted) without being counted by Run.
	if r.Requests == 0 || r.Errors < int64(failed)-4 || r.Errors > int64(failed) {
		t.Fatalf("%d requests, %d errors (%s); the server failed %d", r.Requests, r.Errors, r.FirstErr, failed)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	complete := 0
	for id, texts := range f.sessions {
		want := []string{"", "1", "1*2", "1*2*00"}
		for i, text := range texts {
			if text != want[i] {
				t.Fatalf("session %s hop %d sent %q, want %q (all: %q)", id, i, text, want[i], texts)
			}
		}
		if len(texts) == len(want) {
			complete++
		}
	}
	if complete == 0 {
		t.Fatalf("no journey was completed in %d sessions", len(f.sessions))
	}
	if r.P50 <= 0 || r.P99 < r.P50 || r.P999 < r.P99 || r.Max < r.P999 {
		t.Fatalf("percentiles out of order: %+v", r)
	}
}

var (
	phonePattern = regexp.MustCompile(`^\+9197[0-9]{8}$`)
	// carrierID is an id as Africa's Talking gives them: random hex.
	carrierID = regexp.MustCompile(`^AT[UX]id_[0-9a-f]{32}$`)
)

// The SMS load's forms decode to what a carrier sends: a phone number,
// the short code, a COMPLAINT, a date and a message id of its own.
func TestRunSMSForms(t *testing.T) {
	var mu sync.Mutex
	ids := map[string]bool{}
	var bad []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.URL.Path != "/sms/africastalking/inbound" || r.URL.Query().Get("token") != "s3cr&t" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		f := r.PostForm
		_, dateErr := time.Parse("2006-01-02 15:04:05", f.Get("date"))
		mu.Lock()
		defer mu.Unlock()
		if !regexp.MustCompile(`^\+9196[0-9]{8}$`).MatchString(f.Get("from")) || f.Get("to") != "384" ||
			!regexp.MustCompile(`^COMPLAINT load test [0-9]+$`).MatchString(f.Get("text")) || dateErr != nil ||
			!f.Has("linkId") || !carrierID.MatchString(f.Get("id")) || ids[f.Get("id")] {
			bad = append(bad, r.Form.Encode())
		}
		ids[f.Get("id")] = true
		fmt.Fprint(w, "ok")
	}))
	defer srv.Close()
	r, err := Run(context.Background(), Options{URL: srv.URL, Mode: "sms", Concurrency: 3, Duration: 200 * time.Millisecond, Token: "s3cr&t"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests == 0 || r.Errors != 0 {
		t.Fatalf("%d requests, %d errors (%s)", r.Requests, r.Errors, r.FirstErr)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bad) > 0 {
		t.Fatalf("%d of %d messages were not what a carrier sends, first: %s", len(bad), len(ids), bad[0])
	}
}

func TestRunCountsErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "rate limited", http.StatusTooManyRequests)
	}))
	defer srv.Close()
	r, err := Run(context.Background(), Options{URL: srv.URL, Mode: "sms", Concurrency: 2, Duration: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests == 0 || r.Errors != r.Requests {
		t.Fatalf("%d requests, %d errors: every answer was a 429", r.Requests, r.Errors)
	}
	if !strings.Contains(r.FirstErr, "429") {
		t.Fatalf("first error %q does not say what the server answered", r.FirstErr)
	}
}

// In open loop a stalled server shows as latency: requests are timed from
// when they were due, not from when a connection was free to send them.
func TestRunOpenLoopTimesFromDueTime(t *testing.T) {
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		fmt.Fprint(w, "CON ok")
	}))
	defer srv.Close()
	// One connection, 200 requests a second offered, 20 ms each: the
	// connection falls behind, and due requests queue up behind it.
	r, err := Run(context.Background(), Options{URL: srv.URL, Mode: "bare", Concurrency: 1, Duration: 500 * time.Millisecond, Rate: 200})
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests == 0 || r.Requests > 26 {
		t.Fatalf("%d requests in 0.5 s over one 20 ms connection", r.Requests)
	}
	if r.Max < 30*time.Millisecond {
		t.Fatalf("max latency %s: requests waiting for the busy connection were timed from when they were sent", r.Max)
	}
	if r.Missed == 0 {
		t.Fatal("no due request was counted as missed, though the one connection was always busy")
	}
	if !strings.Contains(r.String(), "could not be sent") {
		t.Fatalf("the report does not say requests were missed:\n%s", r)
	}
}

// The server's own histogram, read from its /metrics, bounds the
// handlers' share of the tail.
func TestReadHandlerTimes(t *testing.T) {
	var mu sync.Mutex
	body := `# HELP karyashala_http_request_seconds HTTP request handling time by route.
karyashala_http_request_seconds_bucket{method="POST",route="/ussd/africastalking",le="0.005"} 90
karyashala_http_request_seconds_bucket{method="POST",route="/ussd/africastalking",le="0.01"} 99
karyashala_http_request_seconds_bucket{method="POST",route="/ussd/africastalking",le="0.025"} 100
karyashala_http_request_seconds_bucket{method="POST",route="/ussd/africastalking",le="+Inf"} 100
karyashala_http_request_seconds_bucket{method="POST",route="/sms/africastalking/inbound",le="0.005"} 7
karyashala_http_request_seconds_bucket{method="POST",route="/sms/africastalking/inbound",le="+Inf"} 7
`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprint(w, body)
	}))
	defer srv.Close()
	ctx := context.Background()
	before, err := ReadHandlerTimes(ctx, srv.URL, "/ussd/africastalking")
	if err != nil {
		t.Fatal(err)
	}
	if got := before.Bound(0.99); got != 10*time.Millisecond {
		t.Fatalf("p99 bound %s, want 10ms (99 of 100 within it)", got)
	}
	if got := before.Bound(0.999); got != 25*time.Millisecond {
		t.Fatalf("p999 bound %s, want 25ms", got)
	}
	// Between two readings: 100 more requests, 50 of them slower than 25 ms.
	mu.Lock()
	body = strings.NewReplacer(`le="0.005"} 90`, `le="0.005"} 130`, `le="0.01"} 99`, `le="0.01"} 149`,
		`le="0.025"} 100`, `le="0.025"} 150`, `le="+Inf"} 100`, `le="+Inf"} 200`).Replace(body)
	mu.Unlock()
	after, err := ReadHandlerTimes(ctx, srv.URL, "/ussd/africastalking")
	if err != nil {
		t.Fatal(err)
	}
	if got := after.Since(before).Bound(0.99); got != time.Duration(math.MaxInt64) {
		t.Fatalf("half the new requests beyond the last finite bucket, yet p99 bound %s", got)
	}
	if got := after.Since(before).Bound(0.4); got != 5*time.Millisecond {
		t.Fatalf("40 of the 100 new requests within 5 ms, yet the 40%% bound is %s", got)
	}
	if none, _ := ReadHandlerTimes(ctx, srv.URL, "/nowhere"); none.Bound(0.99) != 0 {
		t.Fatal("a route with no requests has a bound")
	}
}
