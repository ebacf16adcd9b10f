package storage

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/karyashala/karyashala/domain"
)

// outboxDB opens a database whose clock the test moves by hand. (An
// internal test cannot use storagetest, which imports this package.)
func outboxDB(t *testing.T) (*DB, *time.Time) {
	t.Helper()
	db := openAt(t, filepath.Join(t.TempDir(), "outbox.db"))
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	return db, &now
}

func queue(t *testing.T, db *DB, phone, text string) *domain.Message {
	t.Helper()
	m := &domain.Message{Phone: phone, Text: text, Lang: "en"}
	if err := NewMessageService(db).Enqueue(context.Background(), m, false); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestOutboxLifecycle(t *testing.T) {
	ctx := context.Background()
	db, now := outboxDB(t)
	o := NewOutbox(db)
	a := queue(t, db, "+919800000011", "first")
	b := queue(t, db, "+919800000012", "second")

	got, err := o.ClaimNext(ctx, "twilio")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != a.ID || got.Status != domain.MsgSending || got.Attempts != 1 || got.Provider != "twilio" {
		t.Fatalf("first claim = %+v, want message %d sending, attempt 1, provider twilio", got, a.ID)
	}
	// a claimed message is not claimed again
	if got, err := o.ClaimNext(ctx, "twilio"); err != nil || got.ID != b.ID {
		t.Fatalf("second claim = %v, %v; want message %d", got, err, b.ID)
	}
	batches, _ := db.WriteStats()
	if _, err := o.ClaimNext(ctx, "twilio"); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("claim on an empty outbox: %v, want ENOTFOUND", err)
	}
	if after, _ := db.WriteStats(); after != batches {
		t.Fatalf("a claim with nothing due made %d write(s): an idle poll must not reach the writer", after-batches)
	}

	// a sent, b retried later
	if err := o.MarkSent(ctx, a.ID, "SM1"); err != nil {
		t.Fatal(err)
	}
	if err := o.Retry(ctx, b.ID, now.Add(time.Minute), "carrier answered 503"); err != nil {
		t.Fatal(err)
	}
	if _, err := o.ClaimNext(ctx, "twilio"); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("a retry was claimed before it was due: %v", err)
	}
	*now = now.Add(time.Minute)
	got, err = o.ClaimNext(ctx, "twilio")
	if err != nil || got.ID != b.ID || got.Attempts != 2 || got.Error != "carrier answered 503" {
		t.Fatalf("claim after the retry is due = %+v, %v", got, err)
	}
	if err := o.MarkFailed(ctx, b.ID, "21211: The 'To' number is not a valid phone number."); err != nil {
		t.Fatal(err)
	}

	// delivery reports: by the carrier's id, forward only
	m, err := o.ApplyReport(ctx, domain.DeliveryReport{Provider: "twilio", ProviderID: "SM1", Status: domain.MsgDelivered})
	if err != nil || m.Status != domain.MsgDelivered {
		t.Fatalf("delivered report = %+v, %v", m, err)
	}
	m, err = o.ApplyReport(ctx, domain.DeliveryReport{Provider: "twilio", ProviderID: "SM1", Status: domain.MsgSent})
	if err != nil || m.Status != domain.MsgDelivered {
		t.Fatalf("a late 'sent' report moved a delivered message back: %+v, %v", m, err)
	}
	if _, err := o.ApplyReport(ctx, domain.DeliveryReport{Provider: "twilio", ProviderID: "SM404", Status: domain.MsgSent}); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("report for an unknown id: %v, want ENOTFOUND", err)
	}
	if _, err := o.ApplyReport(ctx, domain.DeliveryReport{MessageID: a.ID, Status: "queued"}); domain.ErrorCode(err) != domain.EINVALID {
		t.Fatalf("report with status queued: %v, want EINVALID", err)
	}
	failed, _ := NewMessageService(db).MessageByID(ctx, b.ID)
	if failed.Status != domain.MsgFailed || !strings.Contains(failed.Error, "21211") {
		t.Fatalf("failed message = %+v", failed)
	}
	if err := o.MarkSent(ctx, 999, "x"); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("MarkSent of an unknown message: %v, want ENOTFOUND", err)
	}
}

// A report that arrives (by our id) before the worker marks the message
// sent is kept, and the worker's mark adds the carrier id without moving it
// back.
func TestOutboxReportBeforeMark(t *testing.T) {
	ctx := context.Background()
	db, _ := outboxDB(t)
	o := NewOutbox(db)
	a := queue(t, db, "+919800000011", "hello")
	if _, err := o.ClaimNext(ctx, "kannel"); err != nil {
		t.Fatal(err)
	}
	if _, err := o.ApplyReport(ctx, domain.DeliveryReport{Provider: "kannel", MessageID: a.ID, Status: domain.MsgDelivered}); err != nil {
		t.Fatal(err)
	}
	if err := o.MarkSent(ctx, a.ID, ""); err != nil {
		t.Fatal(err)
	}
	m, _ := NewMessageService(db).MessageByID(ctx, a.ID)
	if m.Status != domain.MsgDelivered {
		t.Fatalf("status = %s, want delivered", m.Status)
	}
}

func TestOutboxRecoverSending(t *testing.T) {
	ctx := context.Background()
	db, now := outboxDB(t)
	o := NewOutbox(db)
	a := queue(t, db, "+919800000011", "in flight when the process died")
	b := queue(t, db, "+919800000012", "still queued")
	if _, err := o.ClaimNext(ctx, "africastalking"); err != nil {
		t.Fatal(err)
	}
	*now = now.Add(time.Second)
	n, err := o.RecoverSending(ctx, *now)
	if err != nil || n != 1 {
		t.Fatalf("RecoverSending = %d, %v; want 1", n, err)
	}
	m, _ := NewMessageService(db).MessageByID(ctx, a.ID)
	if m.Status != domain.MsgSent || !strings.HasPrefix(m.Error, "unconfirmed") || m.Attempts != 1 {
		t.Fatalf("recovered message = %+v, want sent and unconfirmed, never requeued", m)
	}
	// the queued one is untouched and is the only one left to send
	got, err := o.ClaimNext(ctx, "africastalking")
	if err != nil || got.ID != b.ID {
		t.Fatalf("claim after recovery = %v, %v; want message %d", got, err, b.ID)
	}
	if _, err := o.ClaimNext(ctx, "africastalking"); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("the recovered message was claimed again: %v", err)
	}
	// its delivery report still finds it by our id and confirms it
	m, err = o.ApplyReport(ctx, domain.DeliveryReport{MessageID: a.ID, Provider: "twilio", ProviderID: "SM9", Status: domain.MsgDelivered})
	if err != nil || m.Status != domain.MsgDelivered || m.Error != "" || m.ProviderID != "SM9" {
		t.Fatalf("report on a recovered message = %+v, %v", m, err)
	}
}

// A message the carrier may have but never confirmed is recorded sent with
// a note that says why, is not claimed again, and a delivery report that
// beat the mark is kept.
func TestOutboxMarkUnconfirmed(t *testing.T) {
	ctx := context.Background()
	db, _ := outboxDB(t)
	o := NewOutbox(db)
	a := queue(t, db, "+919800000011", "answered late")
	b := queue(t, db, "+919800000012", "reported first")
	for range 2 {
		if _, err := o.ClaimNext(ctx, "twilio"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := o.ApplyReport(ctx, domain.DeliveryReport{MessageID: b.ID, Status: domain.MsgDelivered}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{a.ID, b.ID} {
		if err := o.MarkUnconfirmed(ctx, id, "no answer in 30s"); err != nil {
			t.Fatal(err)
		}
	}
	ms := NewMessageService(db)
	got, _ := ms.MessageByID(ctx, a.ID)
	if want := "unconfirmed: no answer in 30s; " + unconfirmedAdvice; got.Status != domain.MsgSent || got.Error != want {
		t.Errorf("unconfirmed message = %s %q; want sent %q", got.Status, got.Error, want)
	}
	if got, _ := ms.MessageByID(ctx, b.ID); got.Status != domain.MsgDelivered || got.Error != "" {
		t.Errorf("message delivered before the mark = %s %q; want delivered", got.Status, got.Error)
	}
	if _, err := o.ClaimNext(ctx, "twilio"); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("claim after MarkUnconfirmed: %v, want ENOTFOUND", err)
	}
	if err := o.MarkUnconfirmed(ctx, 999, "x"); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("MarkUnconfirmed of an unknown message: %v, want ENOTFOUND", err)
	}
}

// Opted-out phones' messages are recorded failed and never claimed.
func TestOutboxSkipsOptedOut(t *testing.T) {
	ctx := context.Background()
	db, _ := outboxDB(t)
	o := NewOutbox(db)
	if err := NewMessageService(db).OptOut(ctx, "+919800000011"); err != nil {
		t.Fatal(err)
	}
	queue(t, db, "+919800000011", "you will not get this")
	if _, err := o.ClaimNext(ctx, "log"); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("claimed a message to an opted-out phone: %v", err)
	}
}

// STOP fails what was already waiting for the phone, a retry due later
// included, and leaves other phones' messages and one in flight alone.
func TestOptOutFailsQueuedMessages(t *testing.T) {
	ctx := context.Background()
	db, now := outboxDB(t)
	o := NewOutbox(db)
	const phone = "+919800000011"
	inFlight := queue(t, db, phone, "being sent")
	if _, err := o.ClaimNext(ctx, "log"); err != nil {
		t.Fatal(err)
	}
	retried := queue(t, db, phone, "carrier answered 503")
	if _, err := o.ClaimNext(ctx, "log"); err != nil {
		t.Fatal(err)
	}
	if err := o.Retry(ctx, retried.ID, now.Add(time.Minute), "carrier answered 503"); err != nil {
		t.Fatal(err)
	}
	waiting := queue(t, db, phone, "queued before STOP")
	other := queue(t, db, "+919800000012", "another phone")

	if err := NewMessageService(db).OptOut(ctx, phone); err != nil {
		t.Fatal(err)
	}
	*now = now.Add(time.Hour)
	for _, c := range []struct {
		m            *domain.Message
		status, note string
	}{
		{inFlight, domain.MsgSending, ""},
		{retried, domain.MsgFailed, OptedOutNote},
		{waiting, domain.MsgFailed, OptedOutNote},
		{other, domain.MsgQueued, ""},
	} {
		got, err := NewMessageService(db).MessageByID(ctx, c.m.ID)
		if err != nil || got.Status != c.status || got.Error != c.note {
			t.Errorf("%q after STOP = %s %q, %v; want %s %q", c.m.Text, got.Status, got.Error, err, c.status, c.note)
		}
	}
	if got, err := o.ClaimNext(ctx, "log"); err != nil || got.ID != other.ID {
		t.Fatalf("claim after STOP = %+v, %v; want only the other phone's message %d", got, err, other.ID)
	}
	if got, err := o.ClaimNext(ctx, "log"); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("claim after STOP = %+v, %v; want nothing left", got, err)
	}
}

// Workers claiming at once each get different messages, and all of them.
func TestOutboxConcurrentClaims(t *testing.T) {
	ctx := context.Background()
	db, _ := outboxDB(t)
	o := NewOutbox(db)
	const n = 40
	for i := 0; i < n; i++ {
		queue(t, db, "+919800000011", "bulk")
	}
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				m, err := o.ClaimNext(ctx, "log")
				if err != nil {
					return
				}
				mu.Lock()
				seen[m.ID]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("claimed %d distinct messages, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("message %d claimed %d times", id, c)
		}
	}
}
