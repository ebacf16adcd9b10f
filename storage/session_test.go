package storage

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/karyashala/karyashala/domain"
)

// The sweep removes every session older than the cutoff and nothing newer,
// across more rows than one chunk holds, old and new interleaved.
func TestSweepSessionsInChunks(t *testing.T) {
	db := openTest(t)
	ss := NewSessionStore(db)
	ctx := context.Background()
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	const n = 2*sweepChunk + 500
	old := 0
	for i := 0; i < n; i++ {
		at := now.Add(-time.Duration(i%3) * time.Hour) // two in three are an hour or more old
		if i%3 != 0 {
			old++
		}
		s := &domain.USSDSession{ID: fmt.Sprint("s", i), Phone: "+919800000002", State: []byte(`{}`), UpdatedAt: at}
		if err := ss.SaveSession(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ss.DeleteSessionsBefore(ctx, now.Add(-30*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if got != int64(old) {
		t.Fatalf("deleted %d, want %d", got, old)
	}
	var left, stale int
	if err := db.r.QueryRow(`SELECT COUNT(*), COUNT(*) FILTER (WHERE updated_at < ?) FROM ussd_sessions`, fmtTime(now.Add(-30*time.Minute))).Scan(&left, &stale); err != nil {
		t.Fatal(err)
	}
	if left != n-old || stale != 0 {
		t.Fatalf("left %d sessions (%d stale), want %d (0 stale)", left, stale, n-old)
	}
	if _, err := ss.SessionByID(ctx, fmt.Sprint("s", n-n%3)); err != nil {
		t.Fatalf("a recent session was swept: %v", err)
	}
	// An empty table sweeps to nothing.
	if _, err := ss.DeleteSessionsBefore(ctx, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, err := ss.DeleteSessionsBefore(ctx, now.Add(time.Hour)); err != nil || got != 0 {
		t.Fatalf("sweep of an empty table = %d, %v", got, err)
	}
}
