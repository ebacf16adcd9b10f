package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/karyashala/karyashala/config"
	"github.com/karyashala/karyashala/domain"
	"github.com/karyashala/karyashala/sms"
)

// testServer is the whole app, every channel mounted, on a fresh database.
func testServerB(b *testing.B) (*server, *services) {
	return testServer(b, func(c *config.Config) { c.Log.Level = "warn" })
}

func testServer(t testing.TB, mutate func(*config.Config)) (*server, *services) {
	t.Helper()
	cfg := config.Default()
	cfg.DB.Path = filepath.Join(t.TempDir(), "k.db")
	cfg.RateLimit.SMSPerMinute, cfg.RateLimit.USSDPerMinute = 0, 0
	if mutate != nil {
		mutate(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	s, err := openServices(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := loadDemo(context.Background(), s, cfg); err != nil {
		t.Fatal(err)
	}
	srv, err := newServer(s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return srv, s
}

func do(t *testing.T, srv *server, req *http.Request) (int, string) {
	t.Helper()
	resp, err := srv.app.Test(req, -1)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func form(method, target string, body string) *http.Request {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

func counts(t *testing.T, s *services) (msgs, complaints int) {
	t.Helper()
	ctx := context.Background()
	for cursor := ""; ; {
		page, next, err := s.Messages.FindMessages(ctx, domain.MessageFilter{Cursor: cursor, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		msgs += len(page)
		if cursor = next; next == "" {
			break
		}
	}
	list, _, err := s.Complaints.FindComplaints(ctx, domain.ComplaintFilter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return msgs, len(list)
}

// Hostile input on every public route gets a clear 4xx (or, for USSD, a
// safe screen), writes nothing, and the service keeps serving.
func TestHostileInputs(t *testing.T) {
	srv, s := testServer(t, nil)
	big := "text=" + strings.Repeat("A", 1<<20)
	cases := []struct {
		label  string
		req    *http.Request
		status int // exact status wanted
	}{
		{"ussd missing fields", form("POST", "/ussd/africastalking", "text=1"), 400},
		{"ussd bad phone", form("POST", "/ussd/africastalking", "sessionId=s1&phoneNumber=07x&text="), 400},
		{"ussd json body", func() *http.Request {
			r := httptest.NewRequest("POST", "/ussd/africastalking", strings.NewReader(`{"sessionId":"s"}`))
			r.Header.Set("Content-Type", "application/json")
			return r
		}(), 400},
		{"ussd 1MB body", form("POST", "/ussd/africastalking", big), 413},
		{"at inbound missing from", form("POST", "/sms/africastalking/inbound", "text=COMPLAINT x&id=h1"), 400},
		{"at inbound unparseable phone", form("POST", "/sms/africastalking/inbound", "from=abc&text=COMPLAINT+x&id=h2"), 400},
		{"at inbound 1MB body", form("POST", "/sms/africastalking/inbound", big), 413},
		{"at status missing id", form("POST", "/sms/africastalking/status", "status=Success"), 400},
		{"twilio inbound missing sid", form("POST", "/sms/twilio/inbound", "From=%2B919800000020&Body=hi"), 400},
		{"twilio status missing sid", form("POST", "/sms/twilio/status", "MessageStatus=delivered"), 400},
		{"kannel inbound missing from", httptest.NewRequest("GET", "/sms/kannel/inbound?text=hi&id=k1", nil), 400},
		// An unknown id is acknowledged (and logged) so Kannel does not retry it forever.
		{"kannel status unknown id", httptest.NewRequest("GET", "/sms/kannel/status?id=999999&status=1", nil), 200},
		{"kannel status bad id", httptest.NewRequest("GET", "/sms/kannel/status?id=abc&status=1", nil), 400},
		{"api without token", httptest.NewRequest("GET", "/api/v1/complaints", nil), 401},
		{"api bad token", func() *http.Request {
			r := httptest.NewRequest("GET", "/api/v1/complaints", nil)
			r.Header.Set("Authorization", "Bearer '; DROP TABLE tokens; --")
			return r
		}(), 401},
	}
	// A real listener: body limits are enforced while reading from the
	// socket, which app.Test bypasses.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.app.Listener(ln)
	t.Cleanup(func() { srv.app.Shutdown() })
	base := "http://" + ln.Addr().String()
	msgs0, comp0 := counts(t, s)
	for _, c := range cases {
		u, _ := url.Parse(base + c.req.URL.String())
		c.req.URL, c.req.RequestURI, c.req.Host = u, "", u.Host
		resp, err := http.DefaultClient.Do(c.req)
		if err != nil && c.status == 413 && (errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)) {
			// The server answered 413 and closed the connection before
			// the client finished writing the body: refused unread.
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.label, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		status, body := resp.StatusCode, string(b)
		if status != c.status {
			t.Errorf("%s: status %d (%q), want %d", c.label, status, body, c.status)
		}
		if status >= 400 && (strings.TrimSpace(body) == "" || strings.Count(strings.TrimSpace(body), "\n") > 0 && !strings.HasPrefix(body, "{")) {
			t.Errorf("%s: reason %q is not one line", c.label, body)
		}
	}
	if msgs, comp := counts(t, s); msgs != msgs0 || comp != comp0 {
		t.Errorf("refused requests wrote: messages %d -> %d, complaints %d -> %d", msgs0, msgs, comp0, comp)
	}
	if status, _ := do(t, srv, httptest.NewRequest("GET", "/healthz", nil)); status != 200 {
		t.Fatalf("healthz after hostile input: %d", status)
	}
}

// Injection strings and NUL bytes are stored and echoed literally, never run.
func TestInjectionStoredLiterally(t *testing.T) {
	srv, s := testServer(t, nil)
	startComponents(t, srv)
	for i, text := range []string{
		"'; DROP TABLE complaints; --",
		"{{.Secret}} {{template \"x\"}} ${jndi:ldap://x}",
		"<script>alert(1)</script> ROBERT'); --",
		"nul\x00byte",
		"bad \xff\xfe utf-8",
	} {
		body := url.Values{"from": {"+919800000020"}, "to": {"384"}, "id": {"inj-" + string(rune('a'+i))}, "text": {"COMPLAINT " + text}}.Encode()
		status, resp := do(t, srv, form("POST", "/sms/africastalking/inbound", body))
		if status != 200 {
			t.Fatalf("%q: %d %s", text, status, resp)
		}
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if n, err := s.Messages.Backlog(context.Background()); err == nil && n == 0 {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("%d messages still unanswered after 5s (%v)", n, err)
		}
	}
	list, _, err := s.Complaints.FindComplaints(context.Background(), domain.ComplaintFilter{Reporter: "+919800000020"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, c := range list {
		got[c.Text] = true
	}
	for _, want := range []string{"'; DROP TABLE complaints; --", "{{.Secret}} {{template \"x\"}} ${jndi:ldap://x}", "<script>alert(1)</script> ROBERT'); --"} {
		if !got[want] {
			t.Errorf("complaint text %q not stored literally; have %v", want, got)
		}
	}
	for text := range got {
		if !utf8.ValidString(text) {
			t.Errorf("stored invalid UTF-8 %q", text)
		}
	}
	if !got["bad \uFFFD\uFFFD utf-8"] && !got["bad \uFFFD utf-8"] {
		t.Errorf("invalid UTF-8 not stored with replacement characters: %v", got)
	}
	if ok, _ := s.DB.IntegrityCheck(context.Background()); ok != "ok" {
		t.Fatal(ok)
	}
}

func TestCallbackTokenAndRateLimit(t *testing.T) {
	srv, _ := testServer(t, func(c *config.Config) {
		c.Callbacks.Token = "s3cret"
		c.RateLimit.SMSPerMinute = 2
	})
	body := "from=%2B919800000020&to=384&text=HELP&id="
	if status, _ := do(t, srv, form("POST", "/sms/africastalking/inbound", body+"t0")); status != 403 {
		t.Fatalf("without token: %d, want 403", status)
	}
	if status, _ := do(t, srv, form("POST", "/sms/africastalking/inbound?token=wrong", body+"t0")); status != 403 {
		t.Fatalf("wrong token: %d, want 403", status)
	}
	for i, want := range []int{200, 200, 429} {
		status, resp := do(t, srv, form("POST", "/sms/africastalking/inbound?token=s3cret", body+"t"+string(rune('1'+i))))
		if status != want {
			t.Fatalf("message %d: %d %q, want %d", i+1, status, resp, want)
		}
	}
	// Another phone is not affected.
	if status, _ := do(t, srv, form("POST", "/sms/africastalking/inbound?token=s3cret", "from=%2B919800000021&to=384&text=HELP&id=o1")); status != 200 {
		t.Fatalf("other phone limited: %d", status)
	}
}

func TestHealthReadyMetrics(t *testing.T) {
	srv, s := testServer(t, nil)
	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready", "/metrics": "karyashala_http_requests_total"} {
		do(t, srv, httptest.NewRequest("GET", "/healthz", nil))
		status, body := do(t, srv, httptest.NewRequest("GET", path, nil))
		if status != 200 || !strings.Contains(body, want) {
			t.Errorf("%s: %d %.200q, want %q", path, status, body, want)
		}
	}
	// The group committer's figures are this database's.
	commits, writes := s.DB.WriteStats()
	if commits == 0 {
		t.Fatal("no commits recorded after loading the test data")
	}
	_, body := do(t, srv, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{fmt.Sprintf("karyashala_db_commits_total %d\n", commits), fmt.Sprintf("karyashala_db_writes_total %d\n", writes)} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	// A request the API refuses is counted with the status it got, not as
	// a 500.
	secret, _, err := s.Tokens.CreateToken(context.Background(), domain.TokenOperator, "test")
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/api/v1/tasks/999999", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	if status, resp := do(t, srv, req); status != 404 {
		t.Fatalf("GET /api/v1/tasks/999999: %d %q, want 404", status, resp)
	}
	_, body = do(t, srv, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{`karyashala_http_requests_total{code="404",method="GET",route="/api/v1/tasks/:id"} 1`} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(body, `karyashala_http_requests_total{code="500",method="GET",route="/api/v1/tasks/:id"}`) {
		t.Error("/metrics counts the API's 404 as a 500")
	}
	// So are the session journal's, once a hop's save is flushed.
	if status, resp := do(t, srv, form("POST", "/ussd/africastalking", "sessionId=m1&phoneNumber=%2B919800000031&serviceCode=*384%23&text=")); status != 200 {
		t.Fatalf("ussd hop: %d %q", status, resp)
	}
	var flushes, sessions int64
	for deadline := time.Now().Add(5 * time.Second); flushes == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		flushes, sessions, _ = s.DB.JournalStats()
	}
	if flushes == 0 || sessions == 0 {
		t.Fatalf("journal stats %d flushes, %d sessions after a hop; want it flushed", flushes, sessions)
	}
	_, body = do(t, srv, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{fmt.Sprintf("karyashala_ussd_journal_flushes_total %d\n", flushes), fmt.Sprintf("karyashala_ussd_journal_sessions_total %d\n", sessions), "karyashala_ussd_journal_flush_seconds_total "} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// Many sessions hop at once; each stays with its own phone. This failed
// when request values aliased fasthttp's reused buffers.
func TestConcurrentUSSDSessionsStayApart(t *testing.T) {
	srv, _ := testServer(t, nil)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				for _, text := range []string{"", "1", "1*1"} {
					body := fmt.Sprintf("sessionId=s%d-%d&phoneNumber=%%2B9196%08d&serviceCode=*384%%23&text=%s", g, i, g*1000+i, text)
					req := httptest.NewRequest("POST", "/ussd/africastalking", strings.NewReader(body))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					resp, _ := srv.app.Test(req, -1)
					b, _ := io.ReadAll(resp.Body)
					if resp.StatusCode != 200 {
						t.Errorf("%s -> %d %q", body, resp.StatusCode, b)
						return
					}
				}
			}
		}(g)
	}
	wg.Wait()
}

// A refused menu reload keeps /readyz at 200 (the last good menus serve)
// and shows why; the console's menus page gets the problems by file.
func TestReadyzDetailAndMenuStatus(t *testing.T) {
	srv, s := testServer(t, nil)
	srv.components = append(srv.components, &component{Name: "test", Detail: func() string { return "ussd: edited menus refused" }})
	status, body := do(t, srv, httptest.NewRequest("GET", "/readyz", nil))
	if status != 200 || !strings.Contains(body, "ready\nussd: edited menus refused") {
		t.Fatalf("readyz = %d %q", status, body)
	}
	if s.Menus == nil || len(s.Menus().Files) == 0 {
		t.Fatal("the USSD channel does not report its menus")
	}
	st := menuStatus(MenuReport{Files: []string{"a.yaml", "b.yaml"}, Failed: fmt.Errorf("a.yaml:3:4: bad\nb.yaml:1:1: worse\na.yaml:9:1: also")})
	if len(st.Files) != 2 || len(st.Files[0].Problems) != 2 || st.Files[1].Problems[0] != "b.yaml:1:1: worse" {
		t.Fatalf("menu status = %+v", st)
	}
}

// A second USSD channel on a database whose sessions another server writes
// refuses to start, saying why; commands that do not dial are unaffected.
func TestSecondUSSDChannelRefused(t *testing.T) {
	_, s := testServer(t, nil)
	cfg := config.Default()
	cfg.DB.Path = s.DB.Path()
	other, err := openServices(cfg)
	if err != nil {
		t.Fatalf("a second process's commands: %v", err)
	}
	defer other.Close()
	if _, _, err := other.Members.FindMembers(context.Background(), domain.MemberFilter{}); err != nil {
		t.Fatalf("a second process reads members: %v", err)
	}
	_, err = newServer(other, cfg)
	if err == nil || !strings.Contains(err.Error(), "written by another process") {
		t.Fatalf("a second server on one database: %v, want a refusal naming the lock", err)
	}
}

// TestRateLimitReadsThePhoneTheHandlerReads: the limit counts the number
// the callback's handler stores (the inbox and the engine count the parsed
// number), so a different number elsewhere in the request (a query
// parameter on a form post, a form body on Kannel's GET) cannot put one
// phone's flood in other phones' buckets.
func TestRateLimitReadsThePhoneTheHandlerReads(t *testing.T) {
	srv, _ := testServer(t, func(c *config.Config) { c.RateLimit.SMSPerMinute, c.RateLimit.USSDPerMinute = 2, 2 })
	for i, want := range []int{200, 200, 429, 429} {
		// Each time another number in the query; the body's is the same.
		path := fmt.Sprintf("/sms/africastalking/inbound?from=%%2B9198000001%02d&phoneNumber=%%2B9198000002%02d", i, i)
		status, resp := do(t, srv, form("POST", path, fmt.Sprintf("from=%%2B919800000040&to=384&text=HELP&id=q%d", i)))
		if status != want {
			t.Fatalf("africastalking message %d: %d %q, want %d", i+1, status, resp, want)
		}
	}
	for i, want := range []string{"CON ", "CON ", "END Too many requests"} {
		path := fmt.Sprintf("/ussd/africastalking?phoneNumber=%%2B9198000003%02d", i)
		status, resp := do(t, srv, form("POST", path, fmt.Sprintf("sessionId=rl%d&phoneNumber=%%2B919800000041&serviceCode=*384%%23&text=", i)))
		if status != 200 || !strings.HasPrefix(resp, want) {
			t.Fatalf("ussd hop %d: %d %q, want %q", i+1, status, resp, want)
		}
	}
	for i, want := range []int{200, 200, 429} {
		req := httptest.NewRequest("GET", fmt.Sprintf("/sms/kannel/inbound?from=%%2B919800000042&to=384&text=HELP&id=k%d", i),
			strings.NewReader(fmt.Sprintf("from=%%2B9198000004%02d", i)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if status, resp := do(t, srv, req); status != want {
			t.Fatalf("kannel message %d: %d %q, want %d", i+1, status, resp, want)
		}
	}
}

// In-process simulate while a server holds the database's sessions is
// refused with the way out the README's walk-through uses: --url.
func TestSimulateWhileServingSuggestsURL(t *testing.T) {
	_, s := testServer(t, nil)
	_, err := runOn(t, s.DB.Path(), "1\n", "simulate", "--phone", "+919800000002")
	if err == nil || !strings.Contains(err.Error(), "written by another process") || !strings.Contains(err.Error(), "simulate --url") {
		t.Fatalf("simulate beside a server: %v, want a refusal suggesting --url", err)
	}
}

// The API reads a bare date as that day in the programme's zone, the
// region's (India's for IN), as the console does.
func TestReportDaysAreTheRegionsDays(t *testing.T) {
	srv, s := testServer(t, nil)
	secret, _, err := s.Tokens.CreateToken(context.Background(), domain.TokenOperator, "test")
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/api/v1/reports/summary?from=2026-12-04&to=2026-12-04", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	status, body := do(t, srv, req)
	if status != 200 || !strings.Contains(body, `"from":"2026-12-04T00:00:00+05:30"`) {
		t.Fatalf("summary for 2026-12-04 in region IN: %d %s", status, body)
	}
}

// Kannel's get-url carries the text in the query: the longest text
// accepted, in Hindi (nine bytes a letter once escaped), is read and stored,
// not refused before the handler with 431.
func TestKannelLongestHindiTextIsRead(t *testing.T) {
	srv, s := testServer(t, nil)
	text := "शिकायत " + strings.Repeat("क", sms.MaxText-len([]rune("शिकायत ")))
	q := url.Values{"from": {"+919800000050"}, "to": {"384"}, "id": {"long-1"}, "text": {text}}
	status, body := do(t, srv, httptest.NewRequest("GET", "/sms/kannel/inbound?"+q.Encode(), nil))
	if status != 200 {
		t.Fatalf("a %d-letter Hindi text through Kannel (%d bytes of query): %d %q", sms.MaxText, len(q.Encode()), status, body)
	}
	ms, _, err := s.Messages.FindMessages(context.Background(), domain.MessageFilter{Direction: domain.DirIn, Phone: "+919800000050", Limit: 1})
	if err != nil || len(ms) != 1 || ms[0].Text != text {
		t.Fatalf("the long text is not stored whole: %d messages, %v", len(ms), err)
	}
}
