package storage

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/karyashala/karyashala/domain"
)

// holdFlushes stops db's journal from flushing on its own, so what is saved
// stays in the journal until the test flushes or crashes.
func holdFlushes(t testing.TB, db *DB) *journal {
	t.Helper()
	j := db.journal.Load()
	if j == nil || j.notOwner != nil {
		t.Fatal("this DB does not write its sessions")
	}
	close(j.stop)
	<-j.done
	// close stops the flusher again: let it.
	stop, done := make(chan struct{}), make(chan struct{})
	go func() { <-stop; close(done) }()
	j.stop, j.done = stop, done
	return j
}

// crash leaves db as a killed process would: the journal neither flushed nor
// closed, its lock released by the process's end.
func crash(t *testing.T, db *DB) {
	t.Helper()
	j := db.journal.Load()
	j.mu.Lock()
	j.unmap()
	j.mu.Unlock()
	j.lock.Close()
	db.journal.Store(nil)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

func storedRows(t *testing.T, db *DB) int {
	t.Helper()
	var n int
	if err := db.r.QueryRow(`SELECT COUNT(*) FROM ussd_sessions`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func journalFiles(t *testing.T, db *DB) []string {
	t.Helper()
	names, err := filepath.Glob(db.Path() + "-sessions-*.log")
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// States saved only to the journal (no flush since) are back after a crash,
// by id and by phone, and in the table; a record the crash cut short or
// damaged is dropped and every whole one before it kept.
func TestJournalReplaysAfterCrash(t *testing.T) {
	for _, tc := range []struct {
		name string
		tail func(rec []byte) []byte
	}{
		{"clean end", func([]byte) []byte { return nil }},
		{"cut short", func(rec []byte) []byte { return rec[:len(rec)-3] }},
		{"checksum wrong", func(rec []byte) []byte { rec[len(rec)-1] ^= 0xff; return rec }},
		{"header only", func(rec []byte) []byte { return rec[:5] }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openTest(t)
			ss := NewSessionStore(db)
			j := holdFlushes(t, db)
			ctx := context.Background()
			now := time.Now().UTC()
			saves := []domain.USSDSession{
				{ID: "a", Phone: "+919800000001", State: []byte(`{"n":1}`), UpdatedAt: now},
				{ID: "b", Phone: "+919800000002", State: []byte(`{"n":2}`), UpdatedAt: now},
				{ID: "a", Phone: "+919800000001", State: []byte(`{"n":3}`), UpdatedAt: now.Add(time.Second)},
				{ID: "c", Phone: "+919800000003", State: []byte(`{"n":4}`), Ended: true, UpdatedAt: now},
			}
			for i := range saves {
				if err := ss.SaveSession(ctx, &saves[i]); err != nil {
					t.Fatal(err)
				}
			}
			if n := storedRows(t, db); n != 0 {
				t.Fatalf("%d rows in the table before any flush; the saves should be in the journal only", n)
			}
			if got, err := ss.SessionByID(ctx, "a"); err != nil || string(got.State) != `{"n":3}` {
				t.Fatalf("a before the crash = %+v, %v", got, err)
			}
			// The write the crash interrupted: never answered, so never to
			// be found.
			rec := appendSession(nil, 99, &domain.USSDSession{ID: "torn", Phone: "+919800000004", State: []byte(`{}`), UpdatedAt: now})
			f, err := os.OpenFile(j.name(j.seq), os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteAt(tc.tail(rec), j.size); err != nil {
				t.Fatal(err)
			}
			f.Close()
			crash(t, db)

			db = openAt(t, db.Path())
			ss = NewSessionStore(db)
			for id, want := range map[string]string{"a": `{"n":3}`, "b": `{"n":2}`, "c": `{"n":4}`} {
				got, err := ss.SessionByID(ctx, id)
				if err != nil || string(got.State) != want {
					t.Fatalf("%s after the crash = %+v, %v; want state %s", id, got, err, want)
				}
			}
			if got, err := ss.LatestSession(ctx, "+919800000001", now.Add(-time.Minute)); err != nil || got.ID != "a" || !got.UpdatedAt.Equal(now.Add(time.Second).Truncate(time.Microsecond)) {
				t.Fatalf("the phone's latest after the crash = %+v, %v", got, err)
			}
			if _, err := ss.SessionByID(ctx, "torn"); domain.ErrorCode(err) != domain.ENOTFOUND {
				t.Fatalf("the torn record's session: %v, want ENOTFOUND", err)
			}
			// Replayed into the table, the old files gone.
			if n := storedRows(t, db); n != 3 {
				t.Fatalf("%d rows after the replay, want 3", n)
			}
			if files := journalFiles(t, db); len(files) != 1 {
				t.Fatalf("journal files after the replay: %v, want only the new one", files)
			}
			// A new session takes none of the replayed sessions' keys.
			if err := ss.SaveSession(ctx, &domain.USSDSession{ID: "d", Phone: "+919800000005", State: []byte(`{"n":5}`), UpdatedAt: now}); err != nil {
				t.Fatal(err)
			}
			for id, want := range map[string]string{"c": `{"n":4}`, "d": `{"n":5}`} {
				if got, err := ss.SessionByID(ctx, id); err != nil || string(got.State) != want {
					t.Fatalf("%s after a new session = %+v, %v", id, got, err)
				}
			}
		})
	}
}

// A journal file a power cut left as zeros (its length, not its bytes) is
// skipped, and the files after it replayed.
func TestJournalSkipsAZeroedFile(t *testing.T) {
	db := openTest(t)
	ss := NewSessionStore(db)
	j := holdFlushes(t, db)
	ctx := context.Background()
	zeroed := j.name(j.seq)
	j.rotate()
	if err := ss.SaveSession(ctx, &domain.USSDSession{ID: "s", Phone: "+919800000001", State: []byte(`{"n":1}`), UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	crash(t, db)
	if err := os.WriteFile(zeroed, make([]byte, 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	db = openAt(t, db.Path())
	if got, err := NewSessionStore(db).SessionByID(ctx, "s"); err != nil || string(got.State) != `{"n":1}` {
		t.Fatalf("s after the zeroed file = %+v, %v", got, err)
	}
}

// Saves that fill a journal file go on in the next one, each file no longer
// than it was made, and a crash loses none of them; a state too big for a
// record is refused before anything is written.
func TestJournalStartsTheNextFileWhenFull(t *testing.T) {
	db := openTest(t)
	ss := NewSessionStore(db)
	holdFlushes(t, db)
	ctx := context.Background()
	now := time.Now().UTC()
	state := bytes.Repeat([]byte("x"), 1000)
	const n = 3 * journalSegment / 1000
	for i := range n {
		s := &domain.USSDSession{ID: fmt.Sprint("s", i), Phone: fmt.Sprintf("+9198%08d", i), State: state, UpdatedAt: now}
		if err := ss.SaveSession(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	big := &domain.USSDSession{ID: "big", Phone: "+919800000001", State: make([]byte, journalMaxRecord), UpdatedAt: now}
	if err := ss.SaveSession(ctx, big); domain.ErrorCode(err) != domain.EINVALID {
		t.Fatalf("saving a %d-byte state: %v, want EINVALID", len(big.State), err)
	}
	// Nearly the biggest that fits, in a file of its own.
	big.State = big.State[:journalMaxRecord-100]
	if err := ss.SaveSession(ctx, big); err != nil {
		t.Fatal(err)
	}
	files := journalFiles(t, db)
	if len(files) < 4 {
		t.Fatalf("journal files after %d KB of saves: %v, want at least 4", n, files)
	}
	for _, f := range files {
		// Made journalSegment long, or as long as the big record needs.
		if fi, err := os.Stat(f); err != nil || fi.Size() < journalSegment || fi.Size() > journalSegment+64 {
			t.Fatalf("%s: %v", f, err)
		}
	}
	crash(t, db)

	db = openAt(t, db.Path())
	ss = NewSessionStore(db)
	if got := storedRows(t, db); got != n+1 {
		t.Fatalf("%d rows after the replay, want %d", got, n+1)
	}
	for _, id := range []string{"s0", fmt.Sprint("s", n/2), fmt.Sprint("s", n-1)} {
		if got, err := ss.SessionByID(ctx, id); err != nil || !bytes.Equal(got.State, state) {
			t.Fatalf("%s after the crash: %v", id, err)
		}
	}
	if got, err := ss.SessionByID(ctx, "big"); err != nil || len(got.State) != len(big.State) {
		t.Fatalf("big after the crash: %v", err)
	}
}

// A flush stores each session's newest state once, removes the files it
// came from, and keeps what is saved meanwhile for the next.
func TestJournalFlushStoresNewestState(t *testing.T) {
	db := openTest(t)
	ss := NewSessionStore(db)
	j := holdFlushes(t, db)
	ctx := context.Background()
	now := time.Now().UTC()
	for i := 1; i <= 5; i++ {
		s := &domain.USSDSession{ID: "s", Phone: "+919800000001", State: []byte(fmt.Sprintf(`{"n":%d}`, i)), UpdatedAt: now}
		if err := ss.SaveSession(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	before := journalFiles(t, db)
	if err := j.flush(ctx); err != nil {
		t.Fatal(err)
	}
	var state string
	if err := db.r.QueryRow(`SELECT state FROM ussd_sessions WHERE id = 's'`).Scan(&state); err != nil || state != `{"n":5}` {
		t.Fatalf("stored state %q, %v; want the newest", state, err)
	}
	after := journalFiles(t, db)
	if len(after) != 1 || after[0] == before[0] {
		t.Fatalf("journal files %v before the flush, %v after; want the old one removed and a new one", before, after)
	}
	if err := ss.SaveSession(ctx, &domain.USSDSession{ID: "s", Phone: "+919800000001", State: []byte(`{"n":6}`), UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if got, err := ss.SessionByID(ctx, "s"); err != nil || string(got.State) != `{"n":6}` {
		t.Fatalf("after a save past the flush = %+v, %v", got, err)
	}
	// Close flushes, and leaves no journal behind.
	path := db.Path()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if files := journalFiles(t, db); len(files) != 0 {
		t.Fatalf("journal files after Close: %v", files)
	}
	db = openAt(t, path)
	if err := db.r.QueryRow(`SELECT state FROM ussd_sessions WHERE id = 's'`).Scan(&state); err != nil || state != `{"n":6}` {
		t.Fatalf("stored state after Close %q, %v", state, err)
	}
}

// A failed flush loses nothing: its states stay readable and are stored by
// the next, unless a newer one came meanwhile.
func TestJournalFailedFlushKeepsStates(t *testing.T) {
	db := openTest(t)
	ss := NewSessionStore(db)
	j := holdFlushes(t, db)
	ctx := context.Background()
	now := time.Now().UTC()
	save := func(id, state string) {
		t.Helper()
		if err := ss.SaveSession(ctx, &domain.USSDSession{ID: id, Phone: "+919800000001", State: []byte(state), UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	save("x", `{"n":1}`)
	save("y", `{"n":1}`)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := j.flush(cancelled); err == nil {
		t.Fatal("a flush with a cancelled context succeeded")
	}
	save("y", `{"n":2}`)
	for id, want := range map[string]string{"x": `{"n":1}`, "y": `{"n":2}`} {
		if got, err := ss.SessionByID(ctx, id); err != nil || string(got.State) != want {
			t.Fatalf("%s after a failed flush = %+v, %v", id, got, err)
		}
	}
	if err := j.flush(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.r.QueryRow(`SELECT COUNT(*) FROM ussd_sessions WHERE (id = 'x' AND CAST(state AS TEXT) = '{"n":1}') OR (id = 'y' AND CAST(state AS TEXT) = '{"n":2}')`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d of 2 sessions stored as saved, %v", n, err)
	}
	if files := journalFiles(t, db); len(files) != 1 {
		t.Fatalf("journal files after the flush that worked: %v", files)
	}
}

// A second process on the database reads the sessions the first has
// flushed, and cannot save any: one writer keeps the keys apart.
func TestSessionsHaveOneWriter(t *testing.T) {
	db := openTest(t)
	ss := NewSessionStore(db)
	ctx := context.Background()
	now := time.Now().UTC()
	if err := ss.SaveSession(ctx, &domain.USSDSession{ID: "s", Phone: "+919800000001", State: []byte(`{}`), UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := db.journal.Load().flush(ctx); err != nil {
		t.Fatal(err)
	}
	other := openAt(t, db.Path())
	os2 := NewSessionStore(other)
	if err := os2.Writable(); domain.ErrorCode(err) != domain.ECONFLICT {
		t.Fatalf("second store Writable = %v, want ECONFLICT", err)
	}
	err := os2.SaveSession(ctx, &domain.USSDSession{ID: "t", Phone: "+919800000002", State: []byte(`{}`), UpdatedAt: now})
	if domain.ErrorCode(err) != domain.ECONFLICT {
		t.Fatalf("second store's save = %v, want ECONFLICT", err)
	}
	if _, err := os2.DeleteSessionsBefore(ctx, now); domain.ErrorCode(err) != domain.ECONFLICT {
		t.Fatalf("second store's sweep = %v, want ECONFLICT", err)
	}
	if got, err := os2.SessionByID(ctx, "s"); err != nil || got.Phone != "+919800000001" {
		t.Fatalf("second store reads s = %+v, %v", got, err)
	}
	if err := ss.Writable(); err != nil {
		t.Fatalf("first store Writable = %v", err)
	}
}

// Every record decodes to what was saved.
func TestJournalRecordRoundTrip(t *testing.T) {
	s := &domain.USSDSession{ID: "ATUid_1", Phone: "+919800000001", State: []byte(`{"v":"पानी"}`), Ended: true, UpdatedAt: time.Date(2026, 12, 2, 10, 0, 0, 123000, time.UTC)}
	rec := appendSession([]byte("before"), 42, s)[len("before"):]
	k, got, err := decodeSession(rec[8:])
	if err != nil || k != 42 || got.ID != s.ID || got.Phone != s.Phone || !bytes.Equal(got.State, s.State) || got.Ended != s.Ended || !got.UpdatedAt.Equal(s.UpdatedAt) {
		t.Fatalf("decoded %d %+v, %v; want 42 %+v", k, got, err, s)
	}
}

// The replay's decoder takes any bytes a damaged file holds without
// panicking, and what it accepts encodes back to the same record.
func FuzzJournalRecord(f *testing.F) {
	f.Add(appendSession(nil, 1, &domain.USSDSession{ID: "s", Phone: "+919800000001", State: []byte(`{}`), UpdatedAt: time.Unix(1, 0)})[8:])
	f.Add(appendSession(nil, 1<<40, &domain.USSDSession{ID: "ATUid_x", Phone: "+1", Ended: true})[8:])
	f.Add([]byte{})
	f.Add([]byte{1, 2, 0})
	f.Fuzz(func(t *testing.T, p []byte) {
		k, s, err := decodeSession(p)
		if err != nil {
			return
		}
		again := appendSession(nil, k, s)[8:]
		k2, s2, err := decodeSession(again)
		if err != nil || k2 != k || s2.ID != s.ID || s2.Phone != s.Phone || !bytes.Equal(s2.State, s.State) || s2.Ended != s.Ended || !s2.UpdatedAt.Equal(s.UpdatedAt) {
			t.Fatalf("%x decoded to %d %+v, which encodes to %x: %d %+v %v", p, k, s, again, k2, s2, err)
		}
	})
}

// BenchmarkJournalFlush is a flush of what 256 callers' journeys leave in a
// fifth of a second: 800 new sessions, on a table of 100,000. Per op: one
// session stored.
func BenchmarkJournalFlush(b *testing.B) {
	db := openTest(b)
	ctx := context.Background()
	now := time.Now().UTC()
	seedSessionRows(b, db, 100_000, now)
	ss := NewSessionStore(db)
	j := holdFlushes(b, db)
	state := []byte(`{"s":"guest","v":{"lang":"en"},"l":"en","t":"1*1","o":"guest"}`)
	b.ResetTimer()
	for n := 0; n < b.N; {
		b.StopTimer()
		for i := 0; i < 800 && n < b.N; i, n = i+1, n+1 {
			id := fmt.Sprintf("ATUid_%016x", uint64(n)*0x9e3779b97f4a7c15)
			if err := ss.SaveSession(ctx, &domain.USSDSession{ID: id, Phone: fmt.Sprintf("+9197%08d", n), State: state, Ended: true, UpdatedAt: now}); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		if err := j.flush(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// A session saved while Close's last flush runs goes into the file that
// flush started; Close keeps that file, and the next start replays it. A
// save once Close has finished is refused.
func TestJournalKeepsASaveMadeDuringClose(t *testing.T) {
	db := openTest(t)
	ss := NewSessionStore(db)
	ctx := context.Background()
	save := func(id string) error {
		return ss.SaveSession(ctx, &domain.USSDSession{ID: id, Phone: "+919800000001", State: []byte(`{}`), UpdatedAt: time.Now()})
	}
	if err := save("first"); err != nil {
		t.Fatal(err)
	}
	// The writer held, so Close's flush waits in it with its batch taken.
	hold, held := make(chan struct{}), make(chan struct{})
	go db.write(ctx, func(*sql.Tx) error { close(held); <-hold; return nil })
	<-held
	closed := make(chan error, 1)
	go func() { closed <- db.Close() }()
	j := db.journal.Load()
	for {
		j.mu.Lock()
		flushing := j.flushing != nil
		j.mu.Unlock()
		if flushing {
			break
		}
		time.Sleep(time.Millisecond)
	}
	errSave := save("during-close")
	close(hold)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if err := save("after-close"); err == nil {
		t.Error("a save after Close was answered nil")
	}
	again := NewSessionStore(openAt(t, db.Path()))
	for _, id := range []string{"first", "during-close"} {
		if _, err := again.SessionByID(ctx, id); err != nil && (id == "first" || errSave == nil) {
			t.Errorf("session %s, saved (%v) before Close returned, is gone after a restart: %v", id, errSave, err)
		}
	}
}
