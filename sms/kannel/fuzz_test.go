package kannel

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/karyashala/karyashala/domain"
	"github.com/karyashala/karyashala/sms"
	"github.com/karyashala/karyashala/sms/internal/smstest"
)

// FuzzCallbacks sends arbitrary query strings to the smsbox's get-url
// (inbound, with any text, charset and coding bytes) and dlr-url (delivery
// report), on a real database; bit 0 of route picks which. Every answer is
// 200 with an empty body (anything else Kannel would text back to the
// phone) or a 4xx with a one-line reason, never a 5xx or a panic; a 4xx
// leaves the database as it was; and an accepted message is stored as clean
// text from an E.164 number.
func FuzzCallbacks(f *testing.F) {
	const (
		inbound = "/sms/kannel/inbound"
		status  = "/sms/kannel/status"
	)
	for _, s := range []struct {
		route uint8
		query string
	}{
		{0, q("from", "919812345678", "to", "22384", "text", "help", "id", "b7a3c1e0-0001", "ts", "1796032800")},
		{0, q("from", "+919812345678", "text", "\x09\x2e\x09\x26\x09\x26", "id", "b7a3c1e0-0002", "charset", "UTF-16BE", "coding", "2")},
		{0, q("from", "+919812345678", "text", "\x09\x2e\x09", "id", "b7a3c1e0-0005", "charset", "UCS-2", "coding", "2")},
		{0, q("from", "+919812345678", "text", "\xd8\x00\x00\x41", "id", "b7a3c1e0-0006", "charset", "utf-16", "coding", "2")},
		{0, q("from", "919812345678", "text", "COMPLAINT caf\xe9 drain blocked", "id", "b7a3c1e0-0003", "charset", "GSM", "coding", "0")},
		{0, q("from", "919812345678", "text", "IDEA \x81\x8d\x00 bench", "id", "b7a3c1e0-0007", "charset", "WINDOWS-1252", "coding", "0")},
		{0, q("from", "919812345678", "text", "\x01\x02", "id", "b7a3c1e0-0004", "charset", "binary", "coding", "1")},
		{0, q("from", "919812345678", "text", "help", "id", "y", "charset", "EBCDIC")},
		{0, q("from", "919812345678", "text", "help")},
		{0, q("text", "help", "id", "x")},
		{0, "from=%2B919812345678&text=%FF&id=1&charset=utf8&charset=UTF-16BE&coding=9"},
		{0, "from=%zz&text=%&id=%2&=&&charset[]=x"},
		{0, q("from", smstest.LeaderPhone, "text", "ACK C1001 on it", "id", "b7a3c1e0-0008")},
		{0, ""},
		{1, q("id", "1", "status", "8", "answer", "ACK/")},
		{1, q("id", "1", "status", "1", "answer", "id:1 stat:DELIVRD")},
		{1, q("id", "1", "status", "2", "answer", "NACK/0x0000000b/Invalid Destination Address")},
		{1, q("id", "99999", "status", "16")},
		{1, q("id", "abc", "status", "1")},
		{1, q("id", "9223372036854775808", "status", "1")},
		{1, q("id", "-1", "status", "4")},
		{1, q("id", "1", "status", "3")},
	} {
		f.Add(s.route, s.query)
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
	f.Fuzz(func(t *testing.T, route uint8, query string) {
		path := []string{inbound, status}[route&1]
		query = escapeQuery(query)
		ids := []int64{sent.ID}
		v, _ := url.ParseQuery(query)
		for _, s := range v["id"] {
			if id, err := strconv.ParseInt(s, 10, 64); err == nil {
				ids = append(ids, id)
			}
		}
		before := fuzzSnapshot(t, e, ids...)
		code, got := fuzzDo(t, e.App, httptest.NewRequest(fiber.MethodGet, path+"?"+query, nil))
		switch {
		case code == fiber.StatusOK:
			if got != "" {
				t.Fatalf("%s answered 200 with body %q; Kannel would send it to the phone", path, got)
			}
			if path == inbound {
				fuzzCheckStored(t, e)
			}
		case code >= 400 && code < 500:
			fuzzCheckReason(t, code, got)
			if after := fuzzSnapshot(t, e, ids...); after != before {
				t.Fatalf("%s answered %d %q but the database changed:\n%s\nbecame:\n%s", path, code, got, before, after)
			}
		default:
			t.Fatalf("%s answered %d %q; want 200 or a 4xx", path, code, got)
		}
	})
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
