package sms_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/karyashala/karyashala/domain"
	"github.com/karyashala/karyashala/sms"
	"github.com/karyashala/karyashala/sms/internal/smstest"
	"github.com/karyashala/karyashala/sms/kannel"
	"github.com/karyashala/karyashala/sms/twilio"
	"github.com/karyashala/karyashala/storage"
)

// fakeSender answers each send with the next result of SendFn.
type fakeSender struct {
	mu     sync.Mutex
	SendFn func(m *domain.Message) (string, error)
	sent   []int64
}

func (f *fakeSender) Name() string { return "fake" }

func (f *fakeSender) Send(ctx context.Context, m *domain.Message) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, m.ID)
	return f.SendFn(m)
}

func (f *fakeSender) calls() []int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int64(nil), f.sent...)
}

func enqueue(t *testing.T, e *smstest.Env, text string) *domain.Message {
	t.Helper()
	m := &domain.Message{Phone: resident, Text: text}
	if err := e.Messages.Enqueue(ctx, m, false); err != nil {
		t.Fatal(err)
	}
	return m
}

// waitFor polls until cond holds or fails the test after 10s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func status(t *testing.T, e *smstest.Env, id int64) *domain.Message {
	t.Helper()
	m, err := e.Messages.MessageByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDispatcherOutcomes(t *testing.T) {
	e := smstest.New(t)
	ok := enqueue(t, e, "accepted")
	flaky := enqueue(t, e, "5xx twice then accepted")
	refused := enqueue(t, e, "refused")
	doomed := enqueue(t, e, "always 5xx")
	var flakyTries atomic.Int32
	f := &fakeSender{SendFn: func(m *domain.Message) (string, error) {
		switch m.ID {
		case flaky.ID:
			if flakyTries.Add(1) <= 2 {
				return "", sms.HTTPError("fake", 503, "busy")
			}
		case refused.ID:
			return "", sms.HTTPError("fake", 400, "21211: The 'To' number is not a valid phone number.")
		case doomed.ID:
			return "", errors.New("dial tcp: connection refused")
		}
		return fmt.Sprintf("P%d", m.ID), nil
	}}
	var backoffs []int
	var mu sync.Mutex
	d := &sms.Dispatcher{Outbox: e.Outbox, Sender: f, Workers: 3, Rate: 1000, MaxAttempts: 3, Poll: 5 * time.Millisecond,
		Backoff: func(n int) time.Duration {
			mu.Lock()
			backoffs = append(backoffs, n)
			mu.Unlock()
			return time.Millisecond
		}}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { d.Run(runCtx); close(done) }()
	waitFor(t, "every message settled", func() bool {
		for _, id := range []int64{ok.ID, flaky.ID, refused.ID, doomed.ID} {
			if s := status(t, e, id).Status; s == domain.MsgQueued || s == domain.MsgSending {
				return false
			}
		}
		return true
	})
	cancel()
	<-done
	want := map[int64]struct {
		status, err string
		attempts    int
	}{
		ok.ID:      {domain.MsgSent, "", 1},
		flaky.ID:   {domain.MsgSent, "", 3},
		refused.ID: {domain.MsgFailed, "fake answered 400: 21211: The 'To' number is not a valid phone number.", 1},
		doomed.ID:  {domain.MsgFailed, "gave up after 3 attempts; last: dial tcp: connection refused", 3},
	}
	for id, w := range want {
		m := status(t, e, id)
		if m.Status != w.status || m.Error != w.err || m.Attempts != w.attempts {
			t.Errorf("message %d (%q): %s %q after %d attempts; want %s %q after %d", id, m.Text, m.Status, m.Error, m.Attempts, w.status, w.err, w.attempts)
		}
	}
	if m := status(t, e, ok.ID); m.ProviderID != fmt.Sprintf("P%d", ok.ID) || m.Provider != "fake" {
		t.Errorf("sent message provider %s id %q", m.Provider, m.ProviderID)
	}
	if len(f.calls()) != 1+3+1+3 {
		t.Errorf("%d carrier calls, want 8: %v", len(f.calls()), f.calls())
	}
}

// A carrier's reason that names the number (Twilio's 21211 does, with or
// without the +) reaches the log masked; the message's error keeps it
// whole for the operator.
func TestCarrierReasonLoggedMasked(t *testing.T) {
	e := smstest.New(t)
	refused := enqueue(t, e, "refused")
	retried := enqueue(t, e, "retried")
	reasons := map[int64]error{
		refused.ID: sms.HTTPError("twilio", 400, "21211: The 'To' number "+resident+" is not a valid phone number."),
		retried.ID: sms.HTTPError("kannel", 503, "no route to "+strings.TrimPrefix(resident, "+")),
	}
	f := &fakeSender{SendFn: func(m *domain.Message) (string, error) { return "", reasons[m.ID] }}
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	defer slog.SetDefault(old)
	d := &sms.Dispatcher{Outbox: e.Outbox, Sender: f, Rate: 1000, MaxAttempts: 2, Poll: 5 * time.Millisecond, Backoff: func(int) time.Duration { return 0 }}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { d.Run(runCtx); close(done) }()
	waitFor(t, "both messages failed", func() bool {
		return status(t, e, refused.ID).Status == domain.MsgFailed && status(t, e, retried.ID).Status == domain.MsgFailed
	})
	cancel()
	<-done
	log := buf.String()
	if strings.Contains(log, strings.TrimPrefix(resident, "+")) || !strings.Contains(log, "21211: The 'To' number +91******5678 is not a valid phone number.") {
		t.Errorf("the log carries the number unmasked, or not the reason:\n%s", log)
	}
	if got := status(t, e, refused.ID).Error; !strings.Contains(got, resident) {
		t.Errorf("the refused message's error %q lost the carrier's reason", got)
	}
}

func TestExpBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{1: 10 * time.Second, 2: 20 * time.Second, 4: 80 * time.Second, 20: time.Hour} {
		for range 50 {
			if got := sms.ExpBackoff(n); got < want/2 || got > want {
				t.Fatalf("ExpBackoff(%d) = %s, want within [%s, %s]", n, got, want/2, want)
			}
		}
	}
}

// killOutbox is the real outbox whose MarkSent kills the dispatcher: the
// carrier has the message, the mark never happens, as when the process dies
// between the two.
type killOutbox struct {
	*storage.Outbox
	kill   func()
	killed atomic.Bool
}

func (k *killOutbox) MarkSent(ctx context.Context, id int64, providerID string) error {
	if k.killed.CompareAndSwap(false, true) {
		k.kill()
		return errors.New("process killed")
	}
	return k.Outbox.MarkSent(ctx, id, providerID)
}

// The sending worker dies between the carrier's acceptance and the mark.
// After a restart the message is not sent again, and it is not lost: it is
// recorded sent (unconfirmed) and Kannel's delivery report, which carries
// our id, confirms it. The message queued behind it goes out once.
func TestKillBetweenSendAndMark(t *testing.T) {
	e := smstest.New(t)
	var mu sync.Mutex
	received := map[string]int{}
	smsbox := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		received[r.URL.Query().Get("text")]++
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprint(w, "0: Accepted for delivery")
	}))
	defer smsbox.Close()
	sender := &kannel.Sender{SendSMSURL: smsbox.URL + "/cgi-bin/sendsms", Username: "u", Password: "p", PublicURL: "https://gw.example"}
	first := enqueue(t, e, "first")

	// run 1: killed after the smsbox accepted "first"
	runCtx, cancel := context.WithCancel(ctx)
	ko := &killOutbox{Outbox: e.Outbox, kill: cancel}
	d1 := &sms.Dispatcher{Outbox: ko, Sender: sender, Workers: 2, Rate: 1000, MaxAttempts: 5, Poll: 5 * time.Millisecond}
	d1.Run(runCtx)
	if m := status(t, e, first.ID); m.Status != domain.MsgSending || m.Attempts != 1 {
		t.Fatalf("after the kill: %s, %d attempts; want sending, 1", m.Status, m.Attempts)
	}
	second := enqueue(t, e, "second")

	// run 2: a restart
	runCtx, cancel = context.WithCancel(ctx)
	d2 := &sms.Dispatcher{Outbox: e.Outbox, Sender: sender, Workers: 2, Rate: 1000, MaxAttempts: 5, Poll: 5 * time.Millisecond}
	done := make(chan struct{})
	go func() { d2.Run(runCtx); close(done) }()
	waitFor(t, "second sent", func() bool { return status(t, e, second.ID).Status == domain.MsgSent })
	time.Sleep(50 * time.Millisecond) // room for a wrong resend to show
	cancel()
	<-done

	mu.Lock()
	if received["first"] != 1 || received["second"] != 1 {
		t.Fatalf("smsbox received %v; want each message once", received)
	}
	mu.Unlock()
	m := status(t, e, first.ID)
	if m.Status != domain.MsgSent || !strings.HasPrefix(m.Error, "unconfirmed") || m.Attempts != 1 {
		t.Fatalf("first after restart: %s %q %d attempts", m.Status, m.Error, m.Attempts)
	}
	// Kannel's report finds it by our id
	(&kannel.Handler{Receiver: e.Inbox}).Routes(e.App)
	e.Run(t, []smstest.Case{{Label: "dlr", Method: "GET",
		URL:            "/sms/kannel/status?" + url.Values{"id": {fmt.Sprint(first.ID)}, "status": {"1"}}.Encode(),
		ExpectedStatus: 200}})
	if m := status(t, e, first.ID); m.Status != domain.MsgDelivered || m.Error != "" {
		t.Fatalf("first after its report: %s %q", m.Status, m.Error)
	}
}

// A carrier that accepts a message but answers after SendTimeout has it:
// the message is recorded sent, unconfirmed, and not sent again, where a
// retry would give the phone a second copy.
func TestSlowCarrierGetsMessageOnce(t *testing.T) {
	e := smstest.New(t)
	m := enqueue(t, e, "Your complaint is C1001")
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		if calls.Add(1) == 1 {
			time.Sleep(300 * time.Millisecond) // created, answered late
		}
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"sid": "SM1"}`)
	}))
	defer srv.Close()
	d := &sms.Dispatcher{Outbox: e.Outbox, Sender: &twilio.Sender{AccountSID: "AC1", AuthToken: "x", From: "+15005550006", BaseURL: srv.URL},
		MaxAttempts: 3, SendTimeout: 100 * time.Millisecond, Poll: 5 * time.Millisecond, Backoff: func(int) time.Duration { return 0 }}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { d.Run(runCtx); close(done) }()
	waitFor(t, "the message settled", func() bool { return status(t, e, m.ID).Status == domain.MsgSent })
	time.Sleep(400 * time.Millisecond) // room for a wrong resend to show
	cancel()
	<-done
	if n := calls.Load(); n != 1 {
		t.Errorf("the carrier got the message %d times, want once", n)
	}
	got := status(t, e, m.ID)
	if got.Attempts != 1 || !strings.HasPrefix(got.Error, "unconfirmed: the carrier received the request but did not answer") {
		t.Errorf("after a late answer: %s %q, %d attempts; want sent, unconfirmed, 1 attempt", got.Status, got.Error, got.Attempts)
	}
}

// Shutting down mid-send finishes and records the message in flight.
func TestShutdownMarksInFlight(t *testing.T) {
	e := smstest.New(t)
	m := enqueue(t, e, "slow")
	runCtx, cancel := context.WithCancel(ctx)
	f := &fakeSender{SendFn: func(*domain.Message) (string, error) {
		cancel()
		time.Sleep(20 * time.Millisecond)
		return "P1", nil
	}}
	(&sms.Dispatcher{Outbox: e.Outbox, Sender: f, Poll: time.Millisecond}).Run(runCtx)
	if got := status(t, e, m.ID); got.Status != domain.MsgSent || got.ProviderID != "P1" {
		t.Fatalf("after shutdown: %s %q, want sent P1", got.Status, got.ProviderID)
	}
}
