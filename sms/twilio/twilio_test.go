package twilio

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/karyashala/karyashala/domain"
	"github.com/karyashala/karyashala/sms/internal/smstest"
)

const (
	resident  = "+919812345678"
	token     = "12345"
	publicURL = "https://mycompany.example"
)

// Twilio's own documented example: this URL, these parameters and auth
// token 12345 sign to 0/KCTR6DLpKmkAf8muzZqo1nDgQ=.
func TestSignatureTwilioExample(t *testing.T) {
	params := map[string][]string{
		"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+12349013030"}, "Digits": {"1234"}, "From": {"+12349013030"}, "To": {"+18005551212"},
	}
	got := Signature(token, "https://mycompany.com/myapp.php?foo=1&bar=2", params)
	if want := "0/KCTR6DLpKmkAf8muzZqo1nDgQ="; got != want {
		t.Fatalf("Signature = %q, want %q", got, want)
	}
}

func signed(path string, v url.Values) map[string]string {
	return map[string]string{"X-Twilio-Signature": Signature(token, publicURL+path, v)}
}

func TestInbound(t *testing.T) {
	e := smstest.New(t)
	(&Handler{Receiver: e.Inbox, AuthToken: token, AccountSID: "AC1", PublicURL: publicURL + "/"}).Routes(e.App)
	msg := url.Values{"MessageSid": {"SM1"}, "AccountSid": {"AC1"}, "From": {resident}, "To": {"+15005550006"}, "Body": {"IDEA a bench near the tap"}, "NumMedia": {"0"}}
	tampered := url.Values{"MessageSid": {"SM2"}, "AccountSid": {"AC1"}, "From": {resident}, "To": {"+15005550006"}, "Body": {"STOP"}}
	hindi := url.Values{"MessageSid": {"SM3"}, "AccountSid": {"AC1"}, "From": {resident}, "To": {"+15005550006"}, "Body": {"सुझाव नल के पास बेंच"}}
	other := url.Values{"MessageSid": {"SM4"}, "AccountSid": {"AC2"}, "From": {resident}, "Body": {"HELP"}}
	in := func() int { return e.Count(t, domain.MessageFilter{Direction: domain.DirIn}) }
	e.Run(t, []smstest.Case{
		{Label: "signed", URL: "/sms/twilio/inbound", Data: msg.Encode(), Headers: signed("/sms/twilio/inbound", msg),
			ExpectedStatus: 200, ExpectedBodyContains: "<Response/>",
			Check: func(t *testing.T) {
				out := e.Out(t, resident)
				if len(out) != 1 || out[0].Text != "Thank you. Your proposal is P1. Send STATUS P1 to follow it." {
					t.Fatalf("replies = %+v", out)
				}
			}},
		{Label: "duplicate", URL: "/sms/twilio/inbound", Data: msg.Encode(), Headers: signed("/sms/twilio/inbound", msg),
			ExpectedStatus: 200, ExpectedBodyContains: "<Response/>",
			Check: func(t *testing.T) {
				if n, out := in(), e.Out(t, resident); n != 1 || len(out) != 1 {
					t.Fatalf("%d inbound, %d replies after a duplicate; want 1, 1", n, len(out))
				}
			}},
		{Label: "signature of other parameters", URL: "/sms/twilio/inbound", Data: tampered.Encode(), Headers: signed("/sms/twilio/inbound", msg),
			ExpectedStatus: 403, ExpectedBodyContains: "does not match"},
		{Label: "signature over another URL", URL: "/sms/twilio/inbound", Data: msg.Encode(), Headers: signed("/sms/twilio/status", msg),
			ExpectedStatus: 403, ExpectedBodyContains: "does not match"},
		{Label: "no signature", URL: "/sms/twilio/inbound", Data: msg.Encode(),
			ExpectedStatus: 403, ExpectedBodyContains: "X-Twilio-Signature is missing",
			Check: func(t *testing.T) {
				if n := in(); n != 1 {
					t.Fatalf("%d inbound messages after refused requests, want 1", n)
				}
				if opted, _ := e.Messages.IsOptedOut(context.Background(), resident); opted {
					t.Fatal("a forged STOP opted the resident out")
				}
			}},
		{Label: "signed with query string", URL: "/sms/twilio/inbound?token=abc", Data: hindi.Encode(), Headers: signed("/sms/twilio/inbound?token=abc", hindi),
			ExpectedStatus: 200,
			Check: func(t *testing.T) {
				out := e.Out(t, resident)
				if last := out[len(out)-1]; last.Lang != "hi" || !strings.Contains(last.Text, "P2") {
					t.Fatalf("Hindi reply = %q (%s)", last.Text, last.Lang)
				}
			}},
		{Label: "another account", URL: "/sms/twilio/inbound", Data: other.Encode(), Headers: signed("/sms/twilio/inbound", other),
			ExpectedStatus: 403, ExpectedBodyContains: "AccountSid"},
	})
}

func TestInboundUnsigned(t *testing.T) {
	e := smstest.New(t)
	(&Handler{Receiver: e.Inbox}).Routes(e.App)
	e.Run(t, []smstest.Case{
		{Label: "no token configured: no check", URL: "/sms/twilio/inbound", Data: url.Values{"MessageSid": {"SM1"}, "From": {resident}, "Body": {"HELP"}}.Encode(),
			ExpectedStatus: 200, ExpectedBodyContains: "<Response/>"},
		{Label: "missing MessageSid", URL: "/sms/twilio/inbound", Data: url.Values{"From": {resident}, "Body": {"HELP"}}.Encode(),
			ExpectedStatus: 400, ExpectedBodyContains: "message id is missing"},
	})
}

func TestStatus(t *testing.T) {
	e := smstest.New(t)
	(&Handler{Receiver: e.Inbox, AuthToken: token, PublicURL: publicURL}).Routes(e.App)
	ctx := context.Background()
	m := e.Claimed(t, Name, resident)
	path := fmt.Sprintf("/sms/twilio/status?id=%d", m.ID)
	cb := func(status, code string) (string, map[string]string) {
		v := url.Values{"MessageSid": {"SM77"}, "MessageStatus": {status}, "AccountSid": {"AC1"}}
		if code != "" {
			v.Set("ErrorCode", code)
		}
		return v.Encode(), signed(path, v)
	}
	is := func(want, reason string) func(t *testing.T) {
		return func(t *testing.T) {
			got, _ := e.Messages.MessageByID(ctx, m.ID)
			if got.Status != want || got.Error != reason || got.ProviderID != "SM77" {
				t.Fatalf("message %s %q %q, want %s %q SM77", got.Status, got.Error, got.ProviderID, want, reason)
			}
		}
	}
	queued, qh := cb("queued", "")
	sent, sh := cb("sent", "")
	undelivered, uh := cb("undelivered", "30003")
	bogus, bh := cb("exploded", "")
	e.Run(t, []smstest.Case{
		// a callback before the worker marked the send finds it by our id
		{Label: "queued changes nothing", URL: path, Data: queued, Headers: qh, ExpectedStatus: 200},
		{Label: "sent", URL: path, Data: sent, Headers: sh, ExpectedStatus: 200, Check: is(domain.MsgSent, "")},
		{Label: "undelivered", URL: path, Data: undelivered, Headers: uh, ExpectedStatus: 200,
			Check: is(domain.MsgFailed, "Twilio error 30003: the handset is unreachable (off or out of coverage)")},
		{Label: "unknown status", URL: path, Data: bogus, Headers: bh, ExpectedStatus: 400, ExpectedBodyContains: "unknown status"},
		{Label: "unsigned", URL: path, Data: sent, ExpectedStatus: 403},
	})
}

func TestSender(t *testing.T) {
	cases := []struct {
		label     string
		status    int
		body      string
		wantID    string
		permanent bool
		wantErr   string
	}{
		{"created", 201, `{"sid":"SM123","status":"queued"}`, "SM123", false, ""},
		{"invalid number", 400, `{"code":21211,"message":"The 'To' number +91 is not a valid phone number.","status":400}`, "", true, "twilio answered 400: 21211: The 'To' number +91 is not a valid phone number."},
		{"throttled", 429, `{"code":20429,"message":"Too Many Requests","status":429}`, "", false, "20429: Too Many Requests"},
		{"outage", 500, `oops`, "", false, "twilio answered 500: oops"},
	}
	for _, c := range cases {
		t.Run(c.label, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				user, pass, _ := r.BasicAuth()
				want := url.Values{
					"To": {resident}, "From": {"+15005550006"}, "Body": {"आपका मामला C1042: अब हल"},
					"StatusCallback": {"https://gw.example/sms/twilio/status?id=42&token=cbtok"},
				}.Encode()
				if r.Method != http.MethodPost || r.URL.Path != "/2010-04-01/Accounts/AC1/Messages.json" || string(body) != want || user != "AC1" || pass != "authtok" {
					t.Errorf("got %s %s auth %s:%s body %q; want body %q", r.Method, r.URL.Path, user, pass, body, want)
				}
				w.WriteHeader(c.status)
				fmt.Fprint(w, c.body)
			}))
			defer srv.Close()
			s := &Sender{AccountSID: "AC1", AuthToken: "authtok", From: "+15005550006", BaseURL: srv.URL, PublicURL: "https://gw.example/", CallbackToken: "cbtok"}
			id, err := s.Send(context.Background(), &domain.Message{ID: 42, Phone: resident, Text: "आपका मामला C1042: अब हल"})
			if id != c.wantID {
				t.Errorf("id = %q, want %q", id, c.wantID)
			}
			smstest.CheckSendErr(t, err, c.wantErr, c.permanent)
		})
	}
}

// A request Twilio took in full but did not answer may have created the
// message: the error says so, and one that never reached it is retried.
func TestSenderLateAnswer(t *testing.T) {
	smstest.CheckLateAnswer(t, func(ctx context.Context, baseURL string) error {
		s := &Sender{AccountSID: "AC1", AuthToken: "authtok", From: "+15005550006", BaseURL: baseURL}
		_, err := s.Send(ctx, &domain.Message{ID: 42, Phone: resident, Text: "hello"})
		return err
	})
}
