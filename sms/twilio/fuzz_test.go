package twilio

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/karyashala/karyashala/domain"
	"github.com/karyashala/karyashala/sms"
	"github.com/karyashala/karyashala/sms/internal/smstest"
)

// FuzzWebhooks posts arbitrary query strings, content types, bodies and
// signatures to the signed inbound and status webhooks, on a real database.
// Bit 0 of route picks the webhook; bit 1 sends the fuzzed signature instead
// of the right one. A request passes the signature check exactly when it
// carries the signature of the URL and form the server read; every answer is
// 200 (TwiML for inbound, empty for status) or a 4xx with a one-line reason,
// never a 5xx or a panic; a 4xx leaves the database as it was; and an
// accepted message is stored as clean text from an E.164 number.
func FuzzWebhooks(f *testing.F) {
	const (
		inbound = "/sms/twilio/inbound"
		status  = "/sms/twilio/status"
		formCT  = "application/x-www-form-urlencoded"
	)
	msg := url.Values{"MessageSid": {"SM1"}, "AccountSid": {"AC1"}, "From": {resident}, "To": {"+15005550006"}, "Body": {"IDEA a bench near the tap"}, "NumMedia": {"0"}}.Encode()
	stat := func(sid, st, code string) string {
		v := url.Values{"MessageSid": {sid}, "MessageStatus": {st}, "AccountSid": {"AC1"}}
		if code != "" {
			v.Set("ErrorCode", code)
		}
		return v.Encode()
	}
	for _, s := range []struct {
		route                   uint8
		query, ctype, body, sig string
	}{
		{0, "", formCT, msg, ""},
		{0, "token=abc", formCT, url.Values{"MessageSid": {"SM3"}, "AccountSid": {"AC1"}, "From": {resident}, "Body": {"सुझाव नल के पास बेंच"}}.Encode(), ""},
		{0, "", formCT, url.Values{"MessageSid": {"SM4"}, "AccountSid": {"AC2"}, "From": {resident}, "Body": {"HELP"}}.Encode(), ""},
		{0, "", formCT, url.Values{"MessageSid": {"SM5"}, "AccountSid": {"AC1"}, "From": {smstest.LeaderPhone}, "Body": {"RESOLVE P1 done"}}.Encode(), ""},
		{0, "", formCT, "MessageSid=SM6&AccountSid=AC1&From=%2B919812345678&Body=%FF%00STOP&Body=START&From=", ""},
		{0, "a=%zz&b", formCT, "MessageSid=%&AccountSid=AC1&&=&Body[0]=x", ""},
		{0, "", "multipart/form-data; boundary=B", "--B\r\nContent-Disposition: form-data; name=\"MessageSid\"\r\n\r\nSM7\r\n--B\r\nContent-Disposition: form-data; name=\"AccountSid\"\r\n\r\nAC1\r\n--B\r\nContent-Disposition: form-data; name=\"From\"\r\n\r\n+919812345678\r\n--B--\r\n", ""},
		{0, "", "multipart/form-data; boundary=B", "--B\r\nContent-Disposition: form-da\x00a; name=\"x\"\r\n\r\ny\r\n--B--\r\n", ""},
		{0, "", "application/json", `{"MessageSid":"SM8","AccountSid":"AC1","From":"+919812345678","Body":"HELP"}`, ""},
		{2, "", formCT, msg, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="},
		{2, "", formCT, msg, ""},
		{2, "", "", "", "x"},
		// Our id names message 2, the carrier id is message 1's: a 409,
		// not a 500 from the UNIQUE constraint.
		{1, "id=2", formCT, stat("SM1", "delivered", ""), ""},
		{1, "id=1", formCT, stat("SM77", "queued", ""), ""},
		{1, "id=1", formCT, stat("SM77", "sent", ""), ""},
		{1, "id=1", formCT, stat("SM77", "undelivered", "30003"), ""},
		{1, "id=2", formCT, stat("SM2", "delivered", ""), ""},
		{1, "", formCT, stat("SM77", "failed", "21610"), ""},
		{1, "id=1", formCT, stat("SM77", "exploded", ""), ""},
		{1, "id=-1&id=x", formCT, stat("SM77", "sent", ""), ""},
		{1, "id=1", formCT, "MessageStatus=sent", ""},
		{3, "id=1", formCT, stat("SM77", "sent", ""), "bad"},
	} {
		f.Add(s.route, s.query, s.ctype, s.body, s.sig)
	}

	e := smstest.New(f)
	(&Handler{Receiver: e.Inbox, AuthToken: token, AccountSID: "AC1", PublicURL: publicURL + "/"}).Routes(e.App)
	// Two messages a status callback can find: one sent as SM1, one being
	// sent and not yet known by a sid.
	ctx := context.Background()
	var seeded []int64
	for _, sid := range []string{"SM1", ""} {
		m := &domain.Message{Phone: resident, Text: "hello"}
		if err := e.Messages.Enqueue(ctx, m, false); err != nil {
			f.Fatal(err)
		}
		if _, err := e.Outbox.ClaimNext(ctx, Name); err != nil {
			f.Fatal(err)
		}
		if sid != "" {
			if err := e.Outbox.MarkSent(ctx, m.ID, sid); err != nil {
				f.Fatal(err)
			}
		}
		seeded = append(seeded, m.ID)
	}

	f.Fuzz(func(t *testing.T, route uint8, query, ctype, body, sig string) {
		path := []string{inbound, status}[route&1]
		target := path
		if query != "" {
			target += "?" + escapeQuery(query)
		}
		req := httptest.NewRequest(fiber.MethodPost, target, strings.NewReader(body))
		req.Header.Set(fiber.HeaderContentType, dropControls(ctype))

		// Sign what the server will read: the same bytes through the same
		// HTTP parser.
		seen := serverView(t, req)
		if seen == nil {
			return
		}
		params := map[string][]string{}
		seen.PostArgs().VisitAll(func(k, v []byte) {
			params[string(k)] = append(params[string(k)], string(v))
		})
		right := Signature(token, publicURL+string(seen.Header.RequestURI()), params)
		if route&2 == 0 {
			req.Header.Set("X-Twilio-Signature", right)
		} else if s := dropControls(sig); s != "" {
			req.Header.Set("X-Twilio-Signature", s)
		}
		seen = serverView(t, req)
		if seen == nil {
			return
		}
		got := string(seen.Header.Peek("X-Twilio-Signature"))
		wantPass := got != "" && got == right

		ids := append([]int64(nil), seeded...)
		q, _ := url.ParseQuery(escapeQuery(query))
		for _, s := range q["id"] {
			if id, err := strconv.ParseInt(s, 10, 64); err == nil {
				ids = append(ids, id)
			}
		}
		before := fuzzSnapshot(t, e, ids...)
		code, answer := fuzzDo(t, e.App, req)
		if refused := code == fiber.StatusForbidden && strings.Contains(answer, "X-Twilio-Signature"); refused == wantPass {
			t.Fatalf("signature %q (right: %q) answered %d %q", got, right, code, answer)
		}
		switch {
		case code == fiber.StatusOK:
			want := ""
			if path == inbound {
				want = emptyTwiML
				fuzzCheckStored(t, e)
			}
			if answer != want {
				t.Fatalf("%s answered 200 with %q, want %q", path, answer, want)
			}
		case code >= 400 && code < 500:
			fuzzCheckReason(t, code, answer)
			if after := fuzzSnapshot(t, e, ids...); after != before {
				t.Fatalf("%s answered %d %q but the database changed:\n%s\nbecame:\n%s", path, code, answer, before, after)
			}
		default:
			t.Fatalf("%s answered %d %q; want 200 or a 4xx", path, code, answer)
		}
	})
}

// serverView is req as the Fiber app reads it: dumped the way app.Test
// dumps it, then read by fasthttp, which (like the server) also parses a
// multipart body. nil when the server cannot read it: such a request never
// reaches a handler, as the server answers it 400 with the read error, which
// must then be one line.
func serverView(t *testing.T, req *http.Request) *fasthttp.Request {
	t.Helper()
	if req.Body != http.NoBody && req.Header.Get(fiber.HeaderContentLength) == "" {
		req.Header.Set(fiber.HeaderContentLength, strconv.FormatInt(req.ContentLength, 10))
	}
	dump, err := httputil.DumpRequest(req, true)
	if err != nil {
		t.Fatal(err)
	}
	var r fasthttp.Request
	if err := r.Read(bufio.NewReader(bytes.NewReader(dump))); err != nil {
		fuzzCheckReason(t, fiber.StatusBadRequest, err.Error())
		return nil
	}
	return &r
}

// escapeQuery makes a fuzzed query string a valid request target: bytes a
// URL may carry stay as they are (so "&", "=", "+" and "%" keep their
// meaning and broken escapes reach the server), the rest are %-escaped.
func escapeQuery(q string) string {
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		c := q[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~!$&'()*+,;=:@/?%", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// fuzzDo sends req through app and returns the status and body.
func fuzzDo(t *testing.T, app *fiber.App, req *http.Request) (int, string) {
	t.Helper()
	resp, err := app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// dropControls keeps a fuzzed header value writable as an HTTP header.
func dropControls(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// fuzzCheckReason asserts the one-line plain-text reason of a refusal.
func fuzzCheckReason(t *testing.T, code int, body string) {
	t.Helper()
	line := strings.TrimSuffix(body, "\n")
	if strings.TrimSpace(line) == "" || strings.ContainsAny(line, "\r\n") {
		t.Fatalf("answered %d with %q; want a one-line reason", code, body)
	}
}

// fuzzSnapshot describes what a refused callback must not change: the
// newest message, complaint and opt-out (every insert changes one of them)
// and the messages a status callback could update.
func fuzzSnapshot(t *testing.T, e *smstest.Env, ids ...int64) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	row := func(m *domain.Message) {
		fmt.Fprintf(&b, "message %d %s %s %q %q %q %s\n", m.ID, m.Direction, m.Status, m.ProviderID, m.Error, m.Text, m.UpdatedAt)
	}
	ms, _, err := e.Messages.FindMessages(ctx, domain.MessageFilter{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		row(m)
	}
	for _, id := range ids {
		if m, err := e.Messages.MessageByID(ctx, id); err == nil {
			row(m)
		}
	}
	cs, _, err := e.Complaints.FindComplaints(ctx, domain.ComplaintFilter{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		fmt.Fprintf(&b, "complaint %d %s %s\n", c.ID, c.Status, c.UpdatedAt)
	}
	oo, _, err := e.Messages.OptOuts(ctx, "", 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range oo {
		fmt.Fprintf(&b, "opt-out %s\n", o.Phone)
	}
	return b.String()
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// fuzzCheckStored asserts that the newest inbound message is what the
// gateway promises to store: valid UTF-8 without NULs, at most sms.MaxText
// characters, from an E.164 number.
func fuzzCheckStored(t *testing.T, e *smstest.Env) {
	t.Helper()
	ms, _, err := e.Messages.FindMessages(context.Background(), domain.MessageFilter{Direction: domain.DirIn, Limit: 1})
	if err != nil || len(ms) == 0 {
		t.Fatalf("accepted, but no inbound message is stored (%v)", err)
	}
	m := ms[0]
	if !utf8.ValidString(m.Text) || strings.ContainsRune(m.Text, 0) || utf8.RuneCountInString(m.Text) > sms.MaxText {
		t.Fatalf("stored text %q is not clean text of at most %d characters", m.Text, sms.MaxText)
	}
	if !e164.MatchString(m.Phone) {
		t.Fatalf("stored sender %q is not E.164", m.Phone)
	}
}
