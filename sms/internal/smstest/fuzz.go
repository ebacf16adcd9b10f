package smstest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
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
)

// The helpers below serve the fuzz tests of every carrier adapter, which
// hold their callbacks to the same rules: every answer is a 200 or a 4xx
// with a one-line reason, never a 5xx or a panic; a 4xx leaves the database
// as it was; and an accepted message is stored as clean text from an E.164
// number. Each rule is checked here once, so the adapters cannot drift
// apart in what they promise.

// ServerView is req as the Fiber app reads it: dumped the way app.Test
// dumps it, then read by fasthttp, which (like the server) also parses a
// multipart body. It is nil when the server cannot read it: such a request
// never reaches a handler, as the server answers it 400 with the read error,
// which must then be one line. A fuzz test calls it before Do so that
// requests the server refuses on its own are not taken for the handler's
// answers, and to see the URL and form the handler will see.
func ServerView(t testing.TB, req *http.Request) *fasthttp.Request {
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
		CheckReason(t, fiber.StatusBadRequest, err.Error())
		return nil
	}
	return &r
}

// Do sends req through app and returns the status and body; it exists so
// that every fuzz test reads answers the same way.
func Do(t testing.TB, app *fiber.App, req *http.Request) (int, string) {
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

// DropControls keeps a fuzzed header value writable as an HTTP header, so
// that a fuzzed content type or signature reaches the handler instead of
// failing in the test.
func DropControls(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// EscapeQuery makes a fuzzed query string a valid request target: bytes a
// URL may carry stay as they are (so "&", "=", "+" and "%" keep their
// meaning and broken escapes reach the server), the rest are %-escaped. It
// is shared by the adapters whose callbacks carry their data in the query.
func EscapeQuery(q string) string {
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

// QueryIDs returns the "id" values of query that are whole numbers: the
// messages a callback with this query could name by our id, whose rows a
// fuzz test must then include in its Snapshot.
func QueryIDs(query string) []int64 {
	var ids []int64
	v, _ := url.ParseQuery(query)
	for _, s := range v["id"] {
		if id, err := strconv.ParseInt(s, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	return ids
}

// CheckReason asserts the one-line plain-text reason of a refusal, the rule
// for every 4xx a callback (or the server before it) answers.
func CheckReason(t testing.TB, code int, body string) {
	t.Helper()
	line := strings.TrimSuffix(body, "\n")
	if strings.TrimSpace(line) == "" || strings.ContainsAny(line, "\r\n") {
		t.Fatalf("answered %d with %q; want a one-line reason", code, body)
	}
}

// Snapshot describes what a refused callback must not change: the newest
// message, complaint and opt-out (every insert changes one of them) and the
// messages ids, which a delivery report or status callback could update.
// Two equal snapshots around a request show that it changed nothing.
func (e *Env) Snapshot(t testing.TB, ids ...int64) string {
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

// CheckStored asserts that the newest inbound message is what the gateway
// promises to store whatever the carrier sent: valid UTF-8 without NULs, at
// most sms.MaxText characters, from an E.164 number.
func (e *Env) CheckStored(t testing.TB) {
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

// Answer is a fuzzed callback's answer, with what CheckAnswer needs to
// judge it.
type Answer struct {
	Path string // the route, for failure messages
	Code int
	Body string
	// Before is e.Snapshot(IDs...) taken before the request.
	Before string
	IDs    []int64
	// OK checks a 200 answer by the carrier's own rules (its body, and
	// whether a message is stored).
	OK func()
}

// CheckAnswer holds a fuzzed callback's answer to the rules every carrier
// adapter keeps: a 200 passes a's OK; a 4xx has a one-line reason and left
// the database as it was; anything else fails the test.
func (e *Env) CheckAnswer(t testing.TB, a Answer) {
	t.Helper()
	switch {
	case a.Code == fiber.StatusOK:
		a.OK()
	case a.Code >= 400 && a.Code < 500:
		CheckReason(t, a.Code, a.Body)
		if after := e.Snapshot(t, a.IDs...); after != a.Before {
			t.Fatalf("%s answered %d %q but the database changed:\n%s\nbecame:\n%s", a.Path, a.Code, a.Body, a.Before, after)
		}
	default:
		t.Fatalf("%s answered %d %q; want 200 or a 4xx", a.Path, a.Code, a.Body)
	}
}
