package kannel

import (
	"net/http/httptest"
	"testing"

	"github.com/gofiber/fiber/v2"

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
		{0, smstest.Form("from", "919812345678", "to", "22384", "text", "help", "id", "b7a3c1e0-0001", "ts", "1796032800")},
		{0, smstest.Form("from", "+919812345678", "text", "\x09\x2e\x09\x26\x09\x26", "id", "b7a3c1e0-0002", "charset", "UTF-16BE", "coding", "2")},
		{0, smstest.Form("from", "+919812345678", "text", "\x09\x2e\x09", "id", "b7a3c1e0-0005", "charset", "UCS-2", "coding", "2")},
		{0, smstest.Form("from", "+919812345678", "text", "\xd8\x00\x00\x41", "id", "b7a3c1e0-0006", "charset", "utf-16", "coding", "2")},
		{0, smstest.Form("from", "919812345678", "text", "COMPLAINT caf\xe9 drain blocked", "id", "b7a3c1e0-0003", "charset", "GSM", "coding", "0")},
		{0, smstest.Form("from", "919812345678", "text", "IDEA \x81\x8d\x00 bench", "id", "b7a3c1e0-0007", "charset", "WINDOWS-1252", "coding", "0")},
		{0, smstest.Form("from", "919812345678", "text", "\x01\x02", "id", "b7a3c1e0-0004", "charset", "binary", "coding", "1")},
		{0, smstest.Form("from", "919812345678", "text", "help", "id", "y", "charset", "EBCDIC")},
		{0, smstest.Form("from", "919812345678", "text", "help")},
		{0, smstest.Form("text", "help", "id", "x")},
		{0, "from=%2B919812345678&text=%FF&id=1&charset=utf8&charset=UTF-16BE&coding=9"},
		{0, "from=%zz&text=%&id=%2&=&&charset[]=x"},
		{0, smstest.Form("from", smstest.LeaderPhone, "text", "ACK C1001 on it", "id", "b7a3c1e0-0008")},
		{0, ""},
		{1, smstest.Form("id", "1", "status", "8", "answer", "ACK/")},
		{1, smstest.Form("id", "1", "status", "1", "answer", "id:1 stat:DELIVRD")},
		{1, smstest.Form("id", "1", "status", "2", "answer", "NACK/0x0000000b/Invalid Destination Address")},
		{1, smstest.Form("id", "99999", "status", "16")},
		{1, smstest.Form("id", "abc", "status", "1")},
		{1, smstest.Form("id", "9223372036854775808", "status", "1")},
		{1, smstest.Form("id", "-1", "status", "4")},
		{1, smstest.Form("id", "1", "status", "3")},
	} {
		f.Add(s.route, s.query)
	}
	e := smstest.New(f)
	(&Handler{Receiver: e.Inbox}).Routes(e.App)
	sent := e.Claimed(f, Name, resident)
	f.Fuzz(func(t *testing.T, route uint8, query string) {
		path := []string{inbound, status}[route&1]
		query = smstest.EscapeQuery(query)
		ids := append([]int64{sent.ID}, smstest.QueryIDs(query)...)
		before := e.Snapshot(t, ids...)
		code, got := smstest.Do(t, e.App, httptest.NewRequest(fiber.MethodGet, path+"?"+query, nil))
		e.CheckAnswer(t, smstest.Answer{Path: path, Code: code, Body: got, Before: before, IDs: ids, OK: func() {
			if got != "" {
				t.Fatalf("%s answered 200 with body %q; Kannel would send it to the phone", path, got)
			}
			if path == inbound {
				e.CheckStored(t)
			}
		}})
	})
}
