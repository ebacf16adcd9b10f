package smstest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/karyashala/karyashala/domain"
	"github.com/karyashala/karyashala/sms"
)

// Form encodes key, value pairs as a form body or query string (sorted by
// key, as url.Values encodes). Every carrier's callback tests and fuzz
// seeds build their requests with it.
func Form(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v.Encode()
}

// Claimed queues "hello" to phone and claims it for carrier, as the
// dispatcher does before it sends: the message a delivery report or status
// callback then updates, in the tests of every adapter.
func (e *Env) Claimed(t testing.TB, carrier, phone string) *domain.Message {
	t.Helper()
	ctx := context.Background()
	m := &domain.Message{Phone: phone, Text: "hello"}
	if err := e.Messages.Enqueue(ctx, m, false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Outbox.ClaimNext(ctx, carrier); err != nil {
		t.Fatal(err)
	}
	return m
}

// MarkSent records that the carrier accepted m under providerID, as the
// dispatcher does after a send; a status callback can then find m by that
// id.
func (e *Env) MarkSent(t testing.TB, m *domain.Message, providerID string) {
	t.Helper()
	if err := e.Outbox.MarkSent(context.Background(), m.ID, providerID); err != nil {
		t.Fatal(err)
	}
}

// StatusIs returns a Case.Check that message id has status and error
// reason: how the adapters' status tests see what a callback did.
func (e *Env) StatusIs(id int64, status, reason string) func(t *testing.T) {
	return func(t *testing.T) {
		t.Helper()
		got, _ := e.Messages.MessageByID(context.Background(), id)
		if got.Status != status || got.Error != reason {
			t.Fatalf("message is %s (%q), want %s (%q)", got.Status, got.Error, status, reason)
		}
	}
}

// CheckSendErr asserts the error a Sender returned: nil when wantErr is
// "", else one containing wantErr; and, when not nil, permanent or
// temporary as permanent says. Every adapter's Sender test holds its
// answers to it, so they classify carrier errors alike.
func CheckSendErr(t testing.TB, err error, wantErr string, permanent bool) {
	t.Helper()
	if wantErr == "" && err != nil || wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)) {
		t.Fatalf("err = %v, want %q", err, wantErr)
	}
	if err != nil && sms.IsPermanent(err) != permanent {
		t.Errorf("permanent = %v, want %v", sms.IsPermanent(err), permanent)
	}
}

// CheckLateAnswer holds a Sender to "never twice": send, given a
// carrier's base URL, sends one message on ctx. A carrier that read the
// whole request and then answers too late, or drops the connection, may
// have the message, and the error must say so (sms.MaybeSent), so it is
// not sent again; a carrier that is not listening never got it, and the
// error is an ordinary temporary one, retried.
func CheckLateAnswer(t *testing.T, send func(ctx context.Context, baseURL string) error) {
	t.Helper()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done(): // the sender gave up
		case <-time.After(5 * time.Second):
		}
		w.WriteHeader(http.StatusCreated)
	}))
	defer slow.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := send(ctx, slow.URL); !sms.MaybeSent(err) {
		t.Errorf("carrier took the request and answered late: err = %v; want one that says it may be sent", err)
	}

	reset := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		conn.Close()
	}))
	defer reset.Close()
	if err := send(context.Background(), reset.URL); !sms.MaybeSent(err) {
		t.Errorf("carrier took the request and dropped the connection: err = %v; want one that says it may be sent", err)
	}

	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	if err := send(context.Background(), dead.URL); err == nil || sms.MaybeSent(err) || sms.IsPermanent(err) {
		t.Errorf("carrier not listening: err = %v; want a temporary error, retried", err)
	}
}
