package storage

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/karyashala/karyashala/domain"
)

// storeAll stores one message for each id and fails unless each is new;
// then stores each again and fails unless each is the same message's
// redelivery.
func storeAll(t *testing.T, db *DB, ids []string) {
	t.Helper()
	ms, ctx := NewMessageService(db), context.Background()
	first := map[string]int64{}
	for _, id := range ids {
		m, dup, err := ms.StoreInbound(ctx, &domain.Message{Provider: "africastalking", ProviderID: id, Phone: "+919800000020", Text: "COMPLAINT " + id})
		if err != nil || dup {
			t.Fatalf("first delivery of %s: dup=%v, %v", id, dup, err)
		}
		first[id] = m.ID
	}
	for _, id := range ids {
		m, dup, err := ms.StoreInbound(ctx, &domain.Message{Provider: "africastalking", ProviderID: id, Phone: "+919800000020", Text: "COMPLAINT " + id})
		if err != nil || !dup || m.ID != first[id] || m.Text != "COMPLAINT "+id {
			t.Fatalf("redelivery of %s = %+v, dup=%v, %v; want message %d again", id, m, dup, err, first[id])
		}
	}
}

func countInbound(t *testing.T, db *DB, id string) int {
	t.Helper()
	var n int
	if err := db.r.QueryRow(`SELECT COUNT(*) FROM messages WHERE direction = 'in' AND provider_id = ?`, id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Every id hashing alike costs reads, never a message: each is stored
// once and found again, before and after a restart reads the index back.
func TestInboundIndexCollisions(t *testing.T) {
	db := openTest(t)
	same := func(string) uint64 { return 7 }
	db.inboundIdx.sum = same
	ids := []string{"ATXid_a", "ATXid_b", "ATXid_c", "ATXid_d"}
	storeAll(t, db, ids)

	db = reopen(t, db)
	db.inboundIdx.sum = same
	ms, ctx := NewMessageService(db), context.Background()
	for _, id := range ids {
		if _, dup, err := ms.StoreInbound(ctx, &domain.Message{Provider: "africastalking", ProviderID: id, Phone: "+919800000020", Text: "again"}); err != nil || !dup {
			t.Fatalf("after the restart, %s: dup=%v, %v", id, dup, err)
		}
		if n := countInbound(t, db, id); n != 1 {
			t.Fatalf("%s stored %d times", id, n)
		}
	}
	storeAll(t, db, []string{"ATXid_e"})
}

// A message whose transaction rolled back is not there to be a duplicate
// of: its redelivery is stored, even after another message took its row
// id.
func TestInboundRolledBackIsNotADuplicate(t *testing.T) {
	db := openTest(t)
	ms, ctx := NewMessageService(db), context.Background()
	boom := errors.New("boom")
	var lost int64
	err := db.Atomically(ctx, func(ctx context.Context) error {
		m, _, err := ms.StoreInbound(ctx, &domain.Message{Provider: "africastalking", ProviderID: "ATXid_lost", Phone: "+919800000020", Text: "COMPLAINT lost"})
		if err != nil {
			return err
		}
		lost = m.ID
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Atomically = %v, want boom", err)
	}
	other, _, err := ms.StoreInbound(ctx, &domain.Message{Provider: "africastalking", ProviderID: "ATXid_other", Phone: "+919800000021", Text: "COMPLAINT other"})
	if err != nil {
		t.Fatal(err)
	}
	if other.ID != lost {
		t.Logf("the next message got row %d, not the rolled-back %d", other.ID, lost)
	}
	storeAll(t, db, []string{"ATXid_lost"})
	if n := countInbound(t, db, "ATXid_lost"); n != 1 {
		t.Fatalf("ATXid_lost stored %d times", n)
	}
}

// Many deliveries of one message at once, sharing batches, store one row
// and all but one report the duplicate.
func TestInboundConcurrentDeliveriesStoreOne(t *testing.T) {
	db := openTest(t)
	ms := NewMessageService(db)
	const n = 64
	dups := make(chan bool, n)
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			_, dup, err := ms.StoreInbound(context.Background(), &domain.Message{Provider: "twilio", ProviderID: "SM1", Phone: "+919800000020", Text: fmt.Sprint("copy ", i)})
			dups <- dup
			errs <- err
		}()
	}
	firsts := 0
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		if !<-dups {
			firsts++
		}
	}
	if c := countInbound(t, db, "SM1"); c != 1 || firsts != 1 {
		t.Fatalf("%d rows, %d deliveries taken as first; want 1 and 1", c, firsts)
	}
}
