package kannel

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/karyashala/karyashala/domain"
	"github.com/karyashala/karyashala/sms"
	"github.com/karyashala/karyashala/sms/internal/smstest"
)

const resident = "+919812345678"

func TestInbound(t *testing.T) {
	e := smstest.New(t)
	(&Handler{Receiver: e.Inbox}).Routes(e.App)
	utf16 := string([]byte{0x09, 0x2e, 0x09, 0x26, 0x09, 0x26}) // मदद in UTF-16BE
	in := func() int { return e.Count(t, domain.MessageFilter{Direction: domain.DirIn}) }
	e.Run(t, []smstest.Case{
		{Label: "help without a plus", Method: "GET", URL: "/sms/kannel/inbound?" + smstest.Form("from", "919812345678", "to", "22384", "text", "help", "id", "b7a3c1e0-0001", "ts", "1796032800"),
			ExpectedStatus: 200, ExpectedEmptyBody: true,
			Check: func(t *testing.T) {
				out := e.Out(t, resident)
				if len(out) != 1 || !strings.HasPrefix(out[0].Text, "Karyashala: send COMPLAINT") {
					t.Fatalf("replies = %+v", out)
				}
			}},
		{Label: "duplicate id", Method: "GET", URL: "/sms/kannel/inbound?" + smstest.Form("from", "919812345678", "text", "help", "id", "b7a3c1e0-0001"),
			ExpectedStatus: 200,
			Check: func(t *testing.T) {
				if n, out := in(), e.Out(t, resident); n != 1 || len(out) != 1 {
					t.Fatalf("%d inbound, %d replies; want 1, 1", n, len(out))
				}
			}},
		// text=%a has split UCS-2 at its 0x09 bytes before it reaches us:
		// refused, with the setting that makes Kannel send UTF-8.
		{Label: "UCS-2 not recoded", Method: "GET", URL: "/sms/kannel/inbound?" + smstest.Form("from", "+919812345678", "text", utf16, "id", "b7a3c1e0-0002", "charset", "UTF-16BE", "coding", "2"),
			ExpectedStatus: 400, ExpectedBodyContains: "set mo-recode = true in the smsbox group",
			Check: func(t *testing.T) {
				if n := in(); n != 1 {
					t.Fatalf("%d inbound messages stored, want the UCS-2 one refused", n)
				}
			}},
		{Label: "Hindi recoded by mo-recode", Method: "GET", URL: "/sms/kannel/inbound?" + smstest.Form("from", "+919812345678", "text", "मदद", "id", "b7a3c1e0-0008", "charset", "UTF-8", "coding", "2"),
			ExpectedStatus: 200,
			Check: func(t *testing.T) {
				out := e.Out(t, resident)
				if last := out[len(out)-1]; last.Lang != "hi" || !strings.Contains(last.Text, "शिकायत/सुझाव") {
					t.Fatalf("reply to मदद = %q (%s)", last.Text, last.Lang)
				}
			}},
		{Label: "Latin-1 from a 7-bit message", Method: "GET", URL: "/sms/kannel/inbound?" + smstest.Form("from", "919812345678", "text", "COMPLAINT caf\xe9 drain blocked", "id", "b7a3c1e0-0003", "charset", "GSM", "coding", "0"),
			ExpectedStatus: 200,
			Check: func(t *testing.T) {
				c, err := e.Complaints.ComplaintByRef(context.Background(), "C1001")
				if err != nil || c.Text != "café drain blocked" {
					t.Fatalf("complaint = %+v, %v", c, err)
				}
			}},
		{Label: "binary", Method: "GET", URL: "/sms/kannel/inbound?" + smstest.Form("from", "919812345678", "text", "\x01\x02", "id", "b7a3c1e0-0004", "charset", "binary", "coding", "1"),
			ExpectedStatus: 400, ExpectedBodyContains: "8-bit (binary data) message is not text"},
		// what Kannel's %C says for an 8-bit message
		{Label: "8-bit", Method: "GET", URL: "/sms/kannel/inbound?" + smstest.Form("from", "919812345678", "text", "\x01\x02", "id", "b7a3c1e0-0009", "charset", "8-BIT", "coding", "1"),
			ExpectedStatus: 400, ExpectedBodyContains: "8-bit (binary data) message is not text"},
		{Label: "missing id", Method: "GET", URL: "/sms/kannel/inbound?" + smstest.Form("from", "919812345678", "text", "help"),
			ExpectedStatus: 400, ExpectedBodyContains: "message id is missing"},
		{Label: "missing sender", Method: "GET", URL: "/sms/kannel/inbound?" + smstest.Form("text", "help", "id", "x"),
			ExpectedStatus: 400, ExpectedBodyContains: "phone number is empty"},
		{Label: "odd charset", Method: "GET", URL: "/sms/kannel/inbound?" + smstest.Form("from", "919812345678", "text", "help", "id", "y", "charset", "EBCDIC"),
			ExpectedStatus: 400, ExpectedBodyContains: "mo-recode"},
		{Label: "POST is not the get-url", URL: "/sms/kannel/inbound", Data: smstest.Form("from", "919812345678"), ExpectedStatus: 405},
	})
}

func TestStatus(t *testing.T) {
	e := smstest.New(t)
	(&Handler{Receiver: e.Inbox}).Routes(e.App)
	m := e.Claimed(t, Name, resident)
	e.MarkSent(t, m, "")
	id := fmt.Sprint(m.ID)
	e.Run(t, []smstest.Case{
		{Label: "smsc ack", Method: "GET", URL: "/sms/kannel/status?" + smstest.Form("id", id, "status", "8", "answer", "ACK/"), ExpectedStatus: 200, Check: e.StatusIs(m.ID, domain.MsgSent, "")},
		{Label: "delivered", Method: "GET", URL: "/sms/kannel/status?" + smstest.Form("id", id, "status", "1", "answer", "id:1 stat:DELIVRD"), ExpectedStatus: 200, ExpectedEmptyBody: true, Check: e.StatusIs(m.ID, domain.MsgDelivered, "")},
		{Label: "failure after delivery ignored", Method: "GET", URL: "/sms/kannel/status?" + smstest.Form("id", id, "status", "2"), ExpectedStatus: 200, Check: e.StatusIs(m.ID, domain.MsgDelivered, "")},
		{Label: "unknown message acknowledged", Method: "GET", URL: "/sms/kannel/status?" + smstest.Form("id", "99999", "status", "1"), ExpectedStatus: 200},
		{Label: "not our id", Method: "GET", URL: "/sms/kannel/status?" + smstest.Form("id", "abc", "status", "1"), ExpectedStatus: 400, ExpectedBodyContains: "not one of our message ids"},
		{Label: "unknown type", Method: "GET", URL: "/sms/kannel/status?" + smstest.Form("id", id, "status", "3"), ExpectedStatus: 400, ExpectedBodyContains: `unknown status "3"`},
	})
}

func TestSender(t *testing.T) {
	cases := []struct {
		label     string
		text      string
		status    int
		body      string
		wantQuery url.Values
		permanent bool
		wantErr   string
	}{
		{"gsm-7", "Thank you. Your complaint is C1042.", 202, "0: Accepted for delivery", url.Values{
			"username": {"kuser"}, "password": {"kpass"}, "to": {resident}, "from": {"22384"}, "charset": {"UTF-8"},
			"text": {"Thank you. Your complaint is C1042."}, "dlr-mask": {"31"},
			"dlr-url": {"https://gw.example/sms/kannel/status?id=42&token=cbtok&status=%d&answer=%A"},
		}, false, ""},
		{"unicode", "धन्यवाद। शिकायत C1042 दर्ज हुई।", 202, "3: Queued for later delivery", url.Values{
			"username": {"kuser"}, "password": {"kpass"}, "to": {resident}, "from": {"22384"}, "charset": {"UTF-8"}, "coding": {"2"},
			"text": {"धन्यवाद। शिकायत C1042 दर्ज हुई।"}, "dlr-mask": {"31"},
			"dlr-url": {"https://gw.example/sms/kannel/status?id=42&token=cbtok&status=%d&answer=%A"},
		}, false, ""},
		{"bad credentials", "hi", 403, "Authorization failed for sendsms", nil, true, "kannel answered 403: Authorization failed for sendsms"},
		{"smsc down", "hi", 503, "Sending failed.", nil, false, "kannel answered 503"},
	}
	for _, c := range cases {
		t.Run(c.label, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodGet || r.URL.Path != "/cgi-bin/sendsms" {
					t.Errorf("got %s %s", r.Method, r.URL.Path)
				}
				if c.wantQuery != nil && r.URL.Query().Encode() != c.wantQuery.Encode() {
					t.Errorf("query\n got %s\nwant %s", r.URL.Query().Encode(), c.wantQuery.Encode())
				}
				w.WriteHeader(c.status)
				fmt.Fprint(w, c.body)
			}))
			defer srv.Close()
			s := &Sender{SendSMSURL: srv.URL + "/cgi-bin/sendsms", Username: "kuser", Password: "kpass", From: "22384", PublicURL: "https://gw.example", CallbackToken: "cbtok"}
			_, err := s.Send(context.Background(), &domain.Message{ID: 42, Phone: resident, Text: c.text})
			smstest.CheckSendErr(t, err, c.wantErr, c.permanent)
		})
	}
}

// An unreachable smsbox is a temporary error that does not leak the password.
func TestSenderUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close()
	s := &Sender{SendSMSURL: u + "/cgi-bin/sendsms", Username: "kuser", Password: "s3cret"}
	_, err := s.Send(context.Background(), &domain.Message{ID: 1, Phone: resident, Text: "hi"})
	if err == nil || sms.IsPermanent(err) || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("err = %v; want a temporary error without the password", err)
	}
}

// An smsbox that closes the connection after taking a request gets it
// once: Go's transport would send a GET again by itself on a kept-alive
// connection, so the sender keeps none.
func TestSenderNeverSendsAGetTwice(t *testing.T) {
	var mu sync.Mutex
	got := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got[r.URL.Query().Get("text")]++
		n := got[r.URL.Query().Get("text")]
		mu.Unlock()
		if r.URL.Query().Get("text") == "second" && n == 1 {
			// Taken, then the connection drops before the answer.
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		w.WriteHeader(202)
		fmt.Fprint(w, "0: Accepted for delivery")
	}))
	defer srv.Close()
	s := &Sender{SendSMSURL: srv.URL + "/cgi-bin/sendsms", Username: "kuser", Password: "kpass"}
	if _, err := s.Send(context.Background(), &domain.Message{ID: 1, Phone: resident, Text: "first"}); err != nil {
		t.Fatal(err)
	}
	_, err := s.Send(context.Background(), &domain.Message{ID: 2, Phone: resident, Text: "second"})
	mu.Lock()
	defer mu.Unlock()
	if got["second"] != 1 {
		t.Fatalf("the smsbox took the second message %d times (send returned %v)", got["second"], err)
	}
	if !sms.MaybeSent(err) {
		t.Fatalf("send = %v; want an error saying the message may have been sent", err)
	}
}

// A sendsms request the smsbox took in full but did not answer may have
// been sent: the error says so, and one that never reached it is retried.
func TestSenderLateAnswer(t *testing.T) {
	smstest.CheckLateAnswer(t, func(ctx context.Context, baseURL string) error {
		s := &Sender{SendSMSURL: baseURL + "/cgi-bin/sendsms", Username: "kuser", Password: "kpass"}
		_, err := s.Send(ctx, &domain.Message{ID: 42, Phone: resident, Text: "hello"})
		return err
	})
}
