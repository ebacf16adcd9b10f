package africastalking

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
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

// FuzzCallbacks posts arbitrary bodies under arbitrary content types to the
// inbound message and delivery report callbacks, on a real database. Every
// answer is 200 with an empty body or a 4xx with a one-line reason, never a
// 5xx or a panic; a 4xx leaves the database as it was; and an accepted
// message is stored as clean text from an E.164 number.
func FuzzCallbacks(f *testing.F) {
	const (
		inbound = "/sms/africastalking/inbound"
		status  = "/sms/africastalking/status"
		formCT  = "application/x-www-form-urlencoded"
	)
	paths := []string{inbound, status}
	for _, s := range []struct {
		route       uint8
		ctype, body string
	}{
		{0, formCT, form("from", resident, "to", "22384", "text", "COMPLAINT no water in ward 3", "date", "2026-11-28 10:00:00", "id", "ATXid_1", "linkId", "L1")},
		{0, formCT, form("from", "09812345678", "text", "शिकायत नाली बंद है", "id", "ATXid_2")},
		{0, formCT, form("from", smstest.LeaderPhone, "text", "ACK C1001 on it", "id", "ATXid_3")},
		{0, formCT, form("from", resident, "text", "STATUS C1001", "id", "ATXid_4")},
		{0, formCT, form("from", smstest.WorkerPhone, "text", "PAY", "id", "ATXid_5")},
		{0, formCT, "from=%2B919812345678&text=%FF%FE%00HELP&id=ATXid_6"},
		{0, formCT, "from=%2B919812345678&from=12&text=a&text=b&id=x&id=y"},
		{0, formCT, "from=%zz&text=%&id=%2"},
		{0, formCT, "text[0]=a&id[]=b&from.x=c&=&&"},
		{0, "multipart/form-data; boundary=XyZ", "--XyZ\r\nContent-Disposition: form-data; name=\"from\"\r\n\r\n+919812345678\r\n--XyZ\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nHELP\r\n--XyZ\r\nContent-Disposition: form-data; name=\"id\"\r\n\r\nATXid_7\r\n--XyZ--\r\n"},
		{0, "application/json", `{"from":"+919812345678","text":"HELP","id":"ATXid_8"}`},
		{0, "multipart/form-data; boundary=XyZ", "--XyZ\r\nContent-Disposition: form-data; name=\"from\"\r\n\r\n+91"},
		{0, "", ""},
		{1, formCT, form("id", "ATPid_1", "status", "Buffered", "phoneNumber", resident)},
		{1, formCT, form("id", "ATPid_1", "status", "Failed", "failureReason", "UserInBlackList")},
		{1, formCT, form("id", "ATPid_1", "status", "Success")},
		{1, formCT, form("id", "ATPid_404", "status", "Rejected")},
		{1, formCT, form("status", "Success")},
		{1, formCT, form("id", "ATPid_1", "status", "Exploded")},
	} {
		f.Add(s.route, s.ctype, s.body)
	}
	e := smstest.New(f)
	(&Handler{Receiver: e.Inbox}).Routes(e.App)
	ctx := context.Background()
	sent := &domain.Message{Phone: resident, Text: "hello"}
	if err := e.Messages.Enqueue(ctx, sent, false); err != nil {
		f.Fatal(err)
	}
	if _, err := e.Outbox.ClaimNext(ctx, Name); err != nil {
		f.Fatal(err)
	}
	if err := e.Outbox.MarkSent(ctx, sent.ID, "ATPid_1"); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, route uint8, ctype, body string) {
		path := paths[int(route)%len(paths)]
		before := fuzzSnapshot(t, e, sent.ID)
		req := httptest.NewRequest(fiber.MethodPost, path, strings.NewReader(body))
		req.Header.Set(fiber.HeaderContentType, dropControls(ctype))
		code, got, ok := fuzzDo(t, e.App, req)
		if !ok {
			return
		}
		switch {
		case code == fiber.StatusOK:
			if got != "" {
				t.Fatalf("%s answered 200 with body %q; Africa's Talking expects it empty", path, got)
			}
			if path == inbound {
				fuzzCheckStored(t, e)
			}
		case code >= 400 && code < 500:
			fuzzCheckReason(t, code, got)
			if after := fuzzSnapshot(t, e, sent.ID); after != before {
				t.Fatalf("%s answered %d %q but the database changed:\n%s\nbecame:\n%s", path, code, got, before, after)
			}
		default:
			t.Fatalf("%s answered %d %q; want 200 or a 4xx", path, code, got)
		}
	})
}

// fuzzDo sends req through app and returns the status and body. The
// request is first read the way the server reads it (fasthttp, which also
// parses a multipart body); one it cannot read never reaches a handler and
// is answered 400 with the read error, which must be one line: then ok is
// false.
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
		fuzzCheckReason(t, fiber.StatusBadRequest, err.Error())
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
// and the messages a delivery report could update.
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
