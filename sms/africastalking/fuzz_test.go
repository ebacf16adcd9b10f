package africastalking

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

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
		{0, formCT, smstest.Form("from", resident, "to", "22384", "text", "COMPLAINT no water in ward 3", "date", "2026-11-28 10:00:00", "id", "ATXid_1", "linkId", "L1")},
		{0, formCT, smstest.Form("from", "09812345678", "text", "शिकायत नाली बंद है", "id", "ATXid_2")},
		{0, formCT, smstest.Form("from", smstest.LeaderPhone, "text", "ACK C1001 on it", "id", "ATXid_3")},
		{0, formCT, smstest.Form("from", resident, "text", "STATUS C1001", "id", "ATXid_4")},
		{0, formCT, smstest.Form("from", smstest.WorkerPhone, "text", "PAY", "id", "ATXid_5")},
		{0, formCT, "from=%2B919812345678&text=%FF%FE%00HELP&id=ATXid_6"},
		{0, formCT, "from=%2B919812345678&from=12&text=a&text=b&id=x&id=y"},
		{0, formCT, "from=%zz&text=%&id=%2"},
		{0, formCT, "text[0]=a&id[]=b&from.x=c&=&&"},
		{0, "multipart/form-data; boundary=XyZ", "--XyZ\r\nContent-Disposition: form-data; name=\"from\"\r\n\r\n+919812345678\r\n--XyZ\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nHELP\r\n--XyZ\r\nContent-Disposition: form-data; name=\"id\"\r\n\r\nATXid_7\r\n--XyZ--\r\n"},
		{0, "application/json", `{"from":"+919812345678","text":"HELP","id":"ATXid_8"}`},
		{0, "multipart/form-data; boundary=XyZ", "--XyZ\r\nContent-Disposition: form-data; name=\"from\"\r\n\r\n+91"},
		{0, "", ""},
		{1, formCT, smstest.Form("id", "ATPid_1", "status", "Buffered", "phoneNumber", resident)},
		{1, formCT, smstest.Form("id", "ATPid_1", "status", "Failed", "failureReason", "UserInBlackList")},
		{1, formCT, smstest.Form("id", "ATPid_1", "status", "Success")},
		{1, formCT, smstest.Form("id", "ATPid_404", "status", "Rejected")},
		{1, formCT, smstest.Form("status", "Success")},
		{1, formCT, smstest.Form("id", "ATPid_1", "status", "Exploded")},
	} {
		f.Add(s.route, s.ctype, s.body)
	}
	e := smstest.New(f)
	(&Handler{Receiver: e.Inbox}).Routes(e.App)
	sent := e.Claimed(f, Name, resident)
	e.MarkSent(f, sent, "ATPid_1")
	f.Fuzz(func(t *testing.T, route uint8, ctype, body string) {
		path := paths[int(route)%len(paths)]
		ids := []int64{sent.ID}
		before := e.Snapshot(t, ids...)
		req := httptest.NewRequest(fiber.MethodPost, path, strings.NewReader(body))
		req.Header.Set(fiber.HeaderContentType, smstest.DropControls(ctype))
		if smstest.ServerView(t, req) == nil {
			return
		}
		code, got := smstest.Do(t, e.App, req)
		e.CheckAnswer(t, smstest.Answer{Path: path, Code: code, Body: got, Before: before, IDs: ids, OK: func() {
			if got != "" {
				t.Fatalf("%s answered 200 with body %q; Africa's Talking expects it empty", path, got)
			}
			if path == inbound {
				e.CheckStored(t)
			}
		}})
	})
}
