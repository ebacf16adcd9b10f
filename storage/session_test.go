package storage

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
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

// Sessions are found by id and by phone after the database is opened again:
// the index is rebuilt from the table, and new sessions get keys of their own.
func TestSessionsFoundAfterReopen(t *testing.T) {
	db := openTest(t)
	ss := NewSessionStore(db)
	ctx := context.Background()
	now := time.Now().UTC()
	save := func(ss *SessionStore, id, phone, state string, at time.Time) {
		t.Helper()
		if err := ss.SaveSession(ctx, &domain.USSDSession{ID: id, Phone: phone, State: []byte(state), UpdatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	save(ss, "a2", "+919800000001", `{"n":2}`, now.Add(-time.Minute))
	save(ss, "b1", "+919800000002", `{"n":3}`, now)
	save(ss, "a1", "+919800000001", `{"n":1}`, now.Add(-2*time.Minute)) // started last, an earlier time
	save(ss, "a1", "+919800000001", `{"n":4}`, now.Add(-2*time.Minute))

	ss = NewSessionStore(reopen(t, db))
	for id, want := range map[string]string{"a1": `{"n":4}`, "a2": `{"n":2}`, "b1": `{"n":3}`} {
		got, err := ss.SessionByID(ctx, id)
		if err != nil || string(got.State) != want {
			t.Fatalf("after reopening, session %s = %v, %v; want state %s", id, got, err, want)
		}
	}
	// The phone's newest session is the last to start, whatever its time.
	if got, err := ss.LatestSession(ctx, "+919800000001", now.Add(-time.Hour)); err != nil || got.ID != "a1" {
		t.Fatalf("latest session after reopening = %v, %v; want a1", got, err)
	}
	// A new session after reopening takes no stored session's key.
	save(ss, "c1", "+919800000003", `{"n":5}`, now)
	if got, err := ss.SessionByID(ctx, "b1"); err != nil || string(got.State) != `{"n":3}` {
		t.Fatalf("b1 after a new session = %v, %v", got, err)
	}
	if got, err := ss.SessionByID(ctx, "c1"); err != nil || string(got.State) != `{"n":5}` {
		t.Fatalf("c1 = %v, %v", got, err)
	}
	if _, err := ss.SessionByID(ctx, "nobody"); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("unknown session: %v, want ENOTFOUND", err)
	}
}

// A session save writes one b-tree, the table's: an index keyed by a
// carrier's id or a phone number would put each new session's entry on a
// page of its own.
func TestSessionTableHasNoIndex(t *testing.T) {
	db := openTest(t)
	var n int
	if err := db.r.QueryRow(`SELECT COUNT(*) FROM pragma_index_list('ussd_sessions')`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("ussd_sessions has %d indexes, want none", n)
	}
}

// A swept session is forgotten by both lookups, and its id can start again.
func TestSweptSessionsAreForgotten(t *testing.T) {
	db := openTest(t)
	ss := NewSessionStore(db)
	ctx := context.Background()
	now := time.Now().UTC()
	old := &domain.USSDSession{ID: "old", Phone: "+919800000001", State: []byte(`{}`), UpdatedAt: now.Add(-2 * time.Hour)}
	if err := ss.SaveSession(ctx, old); err != nil {
		t.Fatal(err)
	}
	if n, err := ss.DeleteSessionsBefore(ctx, now.Add(-time.Hour)); err != nil || n != 1 {
		t.Fatalf("sweep = %d, %v; want 1", n, err)
	}
	if _, err := ss.SessionByID(ctx, "old"); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("swept session by id: %v, want ENOTFOUND", err)
	}
	if _, err := ss.LatestSession(ctx, old.Phone, now.Add(-3*time.Hour)); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("swept session by phone: %v, want ENOTFOUND", err)
	}
	// Another phone may now use the id: it is nobody's.
	again := &domain.USSDSession{ID: "old", Phone: "+919800000002", State: []byte(`{"again":1}`), UpdatedAt: now}
	if err := ss.SaveSession(ctx, again); err != nil {
		t.Fatal(err)
	}
	if got, err := ss.SessionByID(ctx, "old"); err != nil || got.Phone != again.Phone {
		t.Fatalf("the id saved again = %v, %v", got, err)
	}
}

// The migration to keyed sessions keeps every stored session, found by id
// and by phone.
func TestSessionKeysMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	raw := migrateUpTo(t, path, "session-keys.sql")
	at := fmtTime(time.Now())
	mustExec(t, raw, `INSERT INTO ussd_sessions (id, phone, state, ended, updated_at) VALUES ('s1', '+919800000001', '{"n":1}', 0, ?), ('s2', '+919800000002', '{"n":2}', 1, ?)`, at, at)
	db := openMigrated(t, raw, path)
	ss := NewSessionStore(db)
	ctx := context.Background()
	if got, err := ss.SessionByID(ctx, "s2"); err != nil || string(got.State) != `{"n":2}` || !got.Ended {
		t.Fatalf("s2 after the migration = %+v, %v", got, err)
	}
	if got, err := ss.LatestSession(ctx, "+919800000001", time.Now().Add(-time.Hour)); err != nil || got.ID != "s1" {
		t.Fatalf("latest of s1's phone after the migration = %+v, %v", got, err)
	}
}

// A session whose first save failed is found by neither lookup; once a
// later save of it succeeds, by both.
func TestSessionFoundOnceStored(t *testing.T) {
	db := openTest(t)
	ss := NewSessionStore(db)
	now := time.Now().UTC()
	s := &domain.USSDSession{ID: "s1", Phone: "+919800000001", State: []byte(`{}`), UpdatedAt: now}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := ss.SaveSession(cancelled, s); err == nil {
		t.Fatal("a save with a cancelled context succeeded")
	}
	ctx := context.Background()
	if _, err := ss.SessionByID(ctx, "s1"); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("by id after a failed save: %v, want ENOTFOUND", err)
	}
	if _, err := ss.LatestSession(ctx, s.Phone, now.Add(-time.Minute)); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("by phone after a failed save: %v, want ENOTFOUND", err)
	}
	if err := ss.SaveSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.SessionByID(ctx, "s1"); err != nil {
		t.Fatalf("by id once stored: %v", err)
	}
	if got, err := ss.LatestSession(ctx, s.Phone, now.Add(-time.Minute)); err != nil || got.ID != "s1" {
		t.Fatalf("by phone once stored: %v, %v", got, err)
	}
}

// BenchmarkSaveSession is the USSD hop's write on a table of 100,000 stored
// sessions: 64 callers, each saving journeys of six hops, a new session id
// and a random phone each, to the session journal (flushed to the table in
// the background meanwhile).
func BenchmarkSaveSession(b *testing.B) {
	db := openTest(b)
	ctx := context.Background()
	now := time.Now().UTC()
	seedSessionRows(b, db, 100_000, now)
	ss := NewSessionStore(db) // reads the rows above into its index
	state := []byte(`{"s":"guest","v":{"lang":"en"},"l":"en","t":"1*1","o":"guest"}`)
	var seq atomic.Int64
	b.SetParallelism(32) // 64 callers on two cores
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var id, phone string
		for hop := 0; pb.Next(); hop++ {
			if hop%6 == 0 {
				n := seq.Add(1)
				id, phone = fmt.Sprintf("ATUid_%016x", uint64(n)*0x9e3779b97f4a7c15), fmt.Sprintf("+9197%08d", n*7919%100_000_000)
			}
			if err := ss.SaveSession(ctx, &domain.USSDSession{ID: id, Phone: phone, State: state, UpdatedAt: now}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	if flushes, sessions, _ := db.JournalStats(); flushes > 0 {
		b.ReportMetric(float64(sessions)/float64(flushes), "sessions/flush")
	}
}

// Two ids with one hash share a key in the index: the newer session's save
// fails, and neither lookup ever returns one session for the other.
func TestSessionHashCollision(t *testing.T) {
	db := openTest(t)
	ss := NewSessionStore(db)
	db.sessionIdx.sum = func(string) uint64 { return 42 } // every id and phone collide
	ctx := context.Background()
	now := time.Now().UTC()
	first := &domain.USSDSession{ID: "s1", Phone: "+919800000001", State: []byte(`{"n":1}`), UpdatedAt: now}
	if err := ss.SaveSession(ctx, first); err != nil {
		t.Fatal(err)
	}
	for _, phone := range []string{"+919800000002", first.Phone} {
		err := ss.SaveSession(ctx, &domain.USSDSession{ID: "s2", Phone: phone, State: []byte(`{"n":2}`), UpdatedAt: now})
		if domain.ErrorCode(err) != domain.EINVALID {
			t.Fatalf("save of a colliding id from %s: %v, want EINVALID", phone, err)
		}
	}
	if got, err := ss.SessionByID(ctx, "s1"); err != nil || string(got.State) != `{"n":1}` {
		t.Fatalf("s1 after the collisions = %+v, %v", got, err)
	}
	if _, err := ss.SessionByID(ctx, "s2"); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("s2 by id: %v, want ENOTFOUND", err)
	}
	if _, err := ss.LatestSession(ctx, "+919800000002", now.Add(-time.Minute)); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("the other phone's latest: %v, want ENOTFOUND", err)
	}
}

// seedSessionRows stores n ended sessions straight into the table, in one
// transaction, before any store reads it.
func seedSessionRows(b *testing.B, db *DB, n int, now time.Time) {
	b.Helper()
	tx, err := db.w.Begin()
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if _, err := tx.Exec(`INSERT INTO ussd_sessions (k, id, phone, state, ended, updated_at) VALUES (?, ?, ?, '{}', 1, ?)`,
			i+1, fmt.Sprintf("ATUid_seed%016x", uint64(i)*0x9e3779b97f4a7c15), fmt.Sprintf("+9198%08d", i), fmtTime(now)); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}
