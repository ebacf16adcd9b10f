package africastalking

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/karyashala/karyashala/domain"
	"github.com/karyashala/karyashala/sms/internal/smstest"
)

const resident = "+919812345678"

func TestInbound(t *testing.T) {
	e := smstest.New(t)
	(&Handler{Receiver: e.Inbox}).Routes(e.App)
	in := func() int { return e.Count(t, domain.MessageFilter{Direction: domain.DirIn}) }
	complaints := func() int {
		cs, _, _ := e.Complaints.FindComplaints(context.Background(), domain.ComplaintFilter{Limit: 100})
		return len(cs)
	}
	e.Run(t, []smstest.Case{
		{Label: "complaint", URL: "/sms/africastalking/inbound",
			Data:           smstest.Form("from", resident, "to", "22384", "text", "COMPLAINT no water in ward 3", "date", "2026-11-28 10:00:00", "id", "ATXid_1", "linkId", "L1"),
			ExpectedStatus: 200, ExpectedEmptyBody: true,
			Check: func(t *testing.T) {
				out := e.Out(t, resident)
				if len(out) != 1 || !strings.Contains(out[0].Text, "C1001") || out[0].Status != domain.MsgQueued || out[0].Segments != 1 {
					t.Fatalf("reply = %+v", out)
				}
			}},
		{Label: "same id again: stored once, answered once", URL: "/sms/africastalking/inbound",
			Data:           smstest.Form("from", resident, "to", "22384", "text", "COMPLAINT no water in ward 3", "id", "ATXid_1"),
			ExpectedStatus: 200,
			Check: func(t *testing.T) {
				if n := in(); n != 1 {
					t.Fatalf("%d inbound messages, want 1", n)
				}
				if n := complaints(); n != 1 {
					t.Fatalf("%d complaints, want 1", n)
				}
				if out := e.Out(t, resident); len(out) != 1 {
					t.Fatalf("%d replies, want 1", len(out))
				}
			}},
		{Label: "Hindi keyword, Hindi reply", URL: "/sms/africastalking/inbound",
			Data:           smstest.Form("from", resident, "to", "22384", "text", "शिकायत नाली बंद है", "id", "ATXid_2"),
			ExpectedStatus: 200,
			Check: func(t *testing.T) {
				out := e.Out(t, resident)
				last := out[len(out)-1]
				if last.Lang != "hi" || !strings.Contains(last.Text, "धन्यवाद") || !strings.Contains(last.Text, "C1002") {
					t.Fatalf("reply = %q (%s)", last.Text, last.Lang)
				}
				if n, enc := domain.SMSSegments(last.Text); n != 1 || enc != domain.EncodingUCS2 || last.Segments != 1 {
					t.Fatalf("Hindi reply is %d %s segments (stored %d)", n, enc, last.Segments)
				}
			}},
		{Label: "missing id", URL: "/sms/africastalking/inbound",
			Data: smstest.Form("from", resident, "text", "HELP"), ExpectedStatus: 400, ExpectedBodyContains: "message id is missing"},
		{Label: "bad sender", URL: "/sms/africastalking/inbound",
			Data: smstest.Form("from", "12", "text", "HELP", "id", "ATXid_3"), ExpectedStatus: 400, ExpectedBodyContains: "is not valid for region IN"},
		{Label: "not a form", URL: "/sms/africastalking/inbound", Headers: map[string]string{"Content-Type": "application/json"},
			ExpectedStatus: 400, ExpectedBodyContains: "expected a form body"},
		{Label: "text too long", URL: "/sms/africastalking/inbound",
			Data: smstest.Form("from", resident, "text", strings.Repeat("a", 1601), "id", "ATXid_4"), ExpectedStatus: 400, ExpectedBodyContains: "more than the 1600"},
		{Label: "malformed input changed nothing", URL: "/sms/africastalking/inbound",
			Data: smstest.Form("from", resident, "text", "HELP", "id", "ATXid_5"), ExpectedStatus: 200,
			Check: func(t *testing.T) {
				if n := in(); n != 3 {
					t.Fatalf("%d inbound messages, want 3 (the malformed ones stored nothing)", n)
				}
			}},
	})
}

func TestStatus(t *testing.T) {
	e := smstest.New(t)
	(&Handler{Receiver: e.Inbox}).Routes(e.App)
	m := e.Claimed(t, Name, resident)
	e.MarkSent(t, m, "ATPid_1")
	e.Run(t, []smstest.Case{
		{Label: "buffered", URL: "/sms/africastalking/status", Data: smstest.Form("id", "ATPid_1", "status", "Buffered", "phoneNumber", resident),
			ExpectedStatus: 200, Check: e.StatusIs(m.ID, domain.MsgSent, "")},
		{Label: "failed with reason", URL: "/sms/africastalking/status",
			Data:           smstest.Form("id", "ATPid_1", "status", "Failed", "phoneNumber", resident, "failureReason", "UserInBlackList"),
			ExpectedStatus: 200, Check: e.StatusIs(m.ID, domain.MsgFailed, "UserInBlackList")},
		{Label: "late success does not undo failure", URL: "/sms/africastalking/status", Data: smstest.Form("id", "ATPid_1", "status", "Success"),
			ExpectedStatus: 200, Check: e.StatusIs(m.ID, domain.MsgFailed, "UserInBlackList")},
		{Label: "unknown message is acknowledged", URL: "/sms/africastalking/status", Data: smstest.Form("id", "ATPid_404", "status", "Success"),
			ExpectedStatus: 200},
		{Label: "unknown status", URL: "/sms/africastalking/status", Data: smstest.Form("id", "ATPid_1", "status", "Exploded"),
			ExpectedStatus: 400, ExpectedBodyContains: `unknown status "Exploded"`},
		{Label: "missing id", URL: "/sms/africastalking/status", Data: smstest.Form("status", "Success"),
			ExpectedStatus: 400, ExpectedBodyContains: "id is missing"},
	})
}

func TestSender(t *testing.T) {
	var calls atomic.Int32
	cases := []struct {
		label     string
		status    int
		body      string
		wantID    string
		permanent bool
		wantErr   string
	}{
		{"accepted", 201, `{"SMSMessageData":{"Message":"Sent to 1/1 Total Cost: KES 0.8000","Recipients":[{"statusCode":101,"number":"+919812345678","status":"Success","cost":"KES 0.8000","messageId":"ATPid_SampleTxnId123"}]}}`, "ATPid_SampleTxnId123", false, ""},
		{"invalid number", 201, `{"SMSMessageData":{"Message":"Sent to 0/1","Recipients":[{"statusCode":403,"number":"+919812345678","status":"InvalidPhoneNumber","messageId":"None"}]}}`, "", true, "403 InvalidPhoneNumber"},
		{"gateway error", 201, `{"SMSMessageData":{"Message":"Sent to 0/1","Recipients":[{"statusCode":501,"status":"GatewayError"}]}}`, "", false, "501 GatewayError"},
		{"bad api key", 401, `The supplied authentication is invalid`, "", true, "africastalking answered 401: The supplied authentication is invalid"},
		{"outage", 503, `Service Unavailable`, "", false, "africastalking answered 503"},
	}
	for _, c := range cases {
		t.Run(c.label, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				body, _ := io.ReadAll(r.Body)
				want := "from=KARYA&message=Thank+you.+Your+complaint+is+C1042.&to=%2B919812345678&username=karyashala"
				if r.Method != http.MethodPost || r.URL.Path != "/version1/messaging" || string(body) != want ||
					r.Header.Get("apiKey") != "secret-key" || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || r.Header.Get("Accept") != "application/json" {
					t.Errorf("request %s %s apiKey=%q ct=%q body %q; want body %q", r.Method, r.URL.Path, r.Header.Get("apiKey"), r.Header.Get("Content-Type"), body, want)
				}
				w.WriteHeader(c.status)
				fmt.Fprint(w, c.body)
			}))
			defer srv.Close()
			s := &Sender{Username: "karyashala", APIKey: "secret-key", From: "KARYA", BaseURL: srv.URL + "/"}
			id, err := s.Send(context.Background(), &domain.Message{ID: 7, Phone: resident, Text: "Thank you. Your complaint is C1042."})
			if id != c.wantID {
				t.Errorf("id = %q, want %q", id, c.wantID)
			}
			smstest.CheckSendErr(t, err, c.wantErr, c.permanent)
		})
	}
	if calls.Load() != int32(len(cases)) {
		t.Errorf("%d calls, want %d", calls.Load(), len(cases))
	}
}

// A request Africa's Talking took in full but did not answer may have
// sent the message: the error says so, and one that never reached it is
// retried.
func TestSenderLateAnswer(t *testing.T) {
	smstest.CheckLateAnswer(t, func(ctx context.Context, baseURL string) error {
		s := &Sender{Username: "karyashala", APIKey: "secret-key", BaseURL: baseURL}
		_, err := s.Send(ctx, &domain.Message{ID: 7, Phone: resident, Text: "hello"})
		return err
	})
}
