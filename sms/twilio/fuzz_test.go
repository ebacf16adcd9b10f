package twilio

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

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
	var seeded []int64
	for _, sid := range []string{"SM1", ""} {
		m := e.Claimed(f, Name, resident)
		if sid != "" {
			e.MarkSent(f, m, sid)
		}
		seeded = append(seeded, m.ID)
	}

	f.Fuzz(func(t *testing.T, route uint8, query, ctype, body, sig string) {
		path := []string{inbound, status}[route&1]
		target := path
		if query != "" {
			target += "?" + smstest.EscapeQuery(query)
		}
		req := httptest.NewRequest(fiber.MethodPost, target, strings.NewReader(body))
		req.Header.Set(fiber.HeaderContentType, smstest.DropControls(ctype))

		// Sign what the server will read: the same bytes through the same
		// HTTP parser.
		seen := smstest.ServerView(t, req)
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
		} else if s := smstest.DropControls(sig); s != "" {
			req.Header.Set("X-Twilio-Signature", s)
		}
		seen = smstest.ServerView(t, req)
		if seen == nil {
			return
		}
		got := string(seen.Header.Peek("X-Twilio-Signature"))
		wantPass := got != "" && got == right

		ids := append(append([]int64(nil), seeded...), smstest.QueryIDs(smstest.EscapeQuery(query))...)
		before := e.Snapshot(t, ids...)
		code, answer := smstest.Do(t, e.App, req)
		if refused := code == fiber.StatusForbidden && strings.Contains(answer, "X-Twilio-Signature"); refused == wantPass {
			t.Fatalf("signature %q (right: %q) answered %d %q", got, right, code, answer)
		}
		e.CheckAnswer(t, smstest.Answer{Path: path, Code: code, Body: answer, Before: before, IDs: ids, OK: func() {
			want := ""
			if path == inbound {
				want = emptyTwiML
				e.CheckStored(t)
			}
			if answer != want {
				t.Fatalf("%s answered 200 with %q, want %q", path, answer, want)
			}
		}})
	})
}
