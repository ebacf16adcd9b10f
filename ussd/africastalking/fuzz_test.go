package africastalking_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	dto "github.com/prometheus/client_model/go"
	"github.com/valyala/fasthttp"

	"github.com/karyashala/karyashala/domain"
	"github.com/karyashala/karyashala/metrics"
	"github.com/karyashala/karyashala/storage"
	"github.com/karyashala/karyashala/ussd"
)

// countingStore counts session saves, so a test can tell whether a request
// wrote anything.
type countingStore struct {
	domain.SessionStore
	saves atomic.Int64
}

func (s *countingStore) SaveSession(ctx context.Context, sess *domain.USSDSession) error {
	s.saves.Add(1)
	return s.SessionStore.SaveSession(ctx, sess)
}

// FuzzCallback posts arbitrary bodies under arbitrary content types to the
// USSD callback, on the built-in menus and a real database. Every answer is
// a 4xx with a one-line reason that saved no session and created no report,
// or a 200 "CON ..." or "END ..." page within the carrier's limit (182
// GSM-7 characters, 80 otherwise) after the session was saved, and never
// the apology an internal failure is answered with (counted as ussd_error).
// Never a 5xx or a panic.
func FuzzCallback(f *testing.F) {
	const formCT = "application/x-www-form-urlencoded"
	hop := func(sid, phone, text string) string {
		return "sessionId=" + sid + "&serviceCode=%2A384%23&phoneNumber=" + strings.ReplaceAll(phone, "+", "%2B") + "&networkCode=40410&text=" + text
	}
	for _, s := range [][2]string{
		{formCT, hop("ATUid_1", "+919800000001", "")},
		{formCT, hop("ATUid_1", "+919800000001", "1")},
		{formCT, hop("ATUid_1", "+919800000001", "1%2A1")},
		{formCT, hop("ATUid_1", "+919800000001", "1%2A1%2A0%2A00")},
		{formCT, hop("ATUid_2", "09800000001", "7%2ADrain%2Ablocked")},
		{formCT, hop("ATUid_3", "+919800000009", "2%2A%E0%A4%A8%E0%A4%B2")},
		{formCT, hop("ATUid_4", "+919800000001", "%FF%FE")},
		{formCT, hop("ATUid_5", "+919800000001", "98%2A98%2A98%2A0%2A00%2A-5%2A99999999999999999999")},
		{formCT, hop("ATUid_1", "+919800000002", "1")},
		{formCT, hop("ATUid_6", "12", "")},
		{formCT, hop("+", "+919800000001", "")},
		{formCT, "phoneNumber=%2B919800000001&text="},
		{formCT, "sessionId=x&sessionId=y&phoneNumber=%2B919800000001&phoneNumber=&text=1&text=2"},
		{formCT, "sessionId=%zz&phoneNumber=%&text[0]=1&=&&"},
		{"application/json", `{"sessionId":"ATUid_7","phoneNumber":"+919800000001","text":"1"}`},
		{"application/xml", `<request><SessionID>ATUid_8</SessionID></request>`},
		{"multipart/form-data; boundary=B", "--B\r\nContent-Disposition: form-data; name=\"sessionId\"\r\n\r\nATUid_9\r\n--B\r\nContent-Disposition: form-data; name=\"phoneNumber\"\r\n\r\n+919800000001\r\n--B--\r\n"},
		{"text/plain", "sessionId=ATUid_10"},
		{"", ""},
	} {
		f.Add(s[0], s[1])
	}
	base, db := newEngine(f)
	store := &countingStore{SessionStore: storage.NewSessionStore(db)}
	opt := base.Options()
	eng := ussd.New(base.Menus(), opt.Registry, store, ussd.Config{Languages: opt.Languages, Limits: opt.Limits, ResumeWindow: 5 * time.Minute, SessionTTL: 3 * time.Minute})
	app := newApp(eng)
	hopErrors := metrics.Events.WithLabelValues("ussd_error")
	complaints := storage.NewComplaintService(db)
	newest := func(t *testing.T) string {
		cs, _, err := complaints.FindComplaints(context.Background(), domain.ComplaintFilter{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) == 0 {
			return ""
		}
		return fmt.Sprintf("%d %s %s", cs[0].ID, cs[0].Status, cs[0].UpdatedAt)
	}

	f.Fuzz(func(t *testing.T, ctype, body string) {
		req := httptest.NewRequest(fiber.MethodPost, "/ussd/africastalking", strings.NewReader(body))
		req.Header.Set(fiber.HeaderContentType, strings.Map(func(r rune) rune {
			if r < 0x20 || r == 0x7f {
				return -1
			}
			return r
		}, ctype))
		saves, report, failures := store.saves.Load(), newest(t), count(t, hopErrors)
		code, got, ok := fuzzDo(t, app, req)
		if !ok {
			return
		}
		saved := store.saves.Load() - saves
		if n := count(t, hopErrors) - failures; n != 0 {
			t.Fatalf("answered %d %q after %v internal failures; see the error logged above", code, got, n)
		}
		switch {
		case code == fiber.StatusOK:
			if saved == 0 {
				t.Fatalf("answered 200 %q without saving the session", got)
			}
			if !strings.HasPrefix(got, "CON ") && !strings.HasPrefix(got, "END ") {
				t.Fatalf("answered 200 %q: starts with neither CON nor END", got)
			}
			if n, max := opt.Limits.Measure(got[4:]); n > max {
				t.Fatalf("a page of %d characters, limit %d:\n%s", n, max, got)
			}
		case code >= 400 && code < 500:
			if line := strings.TrimSuffix(got, "\n"); strings.TrimSpace(line) == "" || strings.ContainsAny(line, "\r\n") {
				t.Fatalf("answered %d with %q; want a one-line reason", code, got)
			}
			if saved != 0 || newest(t) != report {
				t.Fatalf("answered %d %q, but saved %d sessions or changed the newest report", code, got, saved)
			}
		default:
			t.Fatalf("answered %d %q; want 200 or a 4xx", code, got)
		}
	})
}

// count reads a counter.
func count(t *testing.T, c interface{ Write(*dto.Metric) error }) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// fuzzDo sends req through app and returns the status and body. The
// request is first read the way the server reads it (fasthttp, which also
// parses a multipart body); one it cannot read never reaches the handler
// and is answered 400 with the read error, which must be one line: then ok
// is false.
func fuzzDo(t *testing.T, app *fiber.App, req *http.Request) (code int, body string, ok bool) {
	t.Helper()
	if req.Body != http.NoBody && req.Header.Get(fiber.HeaderContentLength) == "" {
		req.Header.Set(fiber.HeaderContentLength, strconv.FormatInt(req.ContentLength, 10))
	}
	dump, err := httputil.DumpRequest(req, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := new(fasthttp.Request).Read(bufio.NewReader(bytes.NewReader(dump))); err != nil {
		if msg := err.Error(); strings.ContainsAny(msg, "\r\n") {
			t.Fatalf("the server would refuse the request with a reason of several lines: %q", msg)
		}
		return 0, "", false
	}
	resp, err := app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b), true
}
