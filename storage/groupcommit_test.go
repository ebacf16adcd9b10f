package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/karyashala/karyashala/domain"
)

func openTest(t testing.TB) *DB {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "gc.db"))
}

// openAt opens the database at path, closed when the test ends.
func openAt(t testing.TB, path string) *DB {
	t.Helper()
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// reopen closes db and opens its file again, as a restart would.
func reopen(t testing.TB, db *DB) *DB {
	t.Helper()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return openAt(t, db.Path())
}

// In one batch, a caller whose write fails (or panics) leaves no trace, and
// every other caller's write is committed.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 200)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = db.write(ctx, func(tx *sql.Tx) error {
				if _, err := tx.Exec(`INSERT INTO opt_outs (phone, created_at) VALUES (?, 'x')`, fmt.Sprint(i)); err != nil {
					return err
				}
				switch i % 10 {
				case 3:
					return errors.New("refused")
				case 7:
					panic("boom")
				}
				return nil
			})
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		if (i%10 == 3 || i%10 == 7) != (err != nil) {
			t.Fatalf("job %d: err = %v", i, err)
		}
	}
	var n int
	if err := db.r.QueryRow(`SELECT COUNT(*) FROM opt_outs`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 160 {
		t.Fatalf("rows = %d, want 160 (failed jobs rolled back, the rest kept)", n)
	}
}

func TestWriteAfterCloseFails(t *testing.T) {
	db := openTest(t)
	db.Close()
	err := db.write(context.Background(), func(tx *sql.Tx) error { return nil })
	if !errors.Is(err, errClosed) {
		t.Fatalf("write after close = %v", err)
	}
}

// BenchmarkInbound measures durable inbound messages per second with 64
// concurrent callers (synchronous=FULL), as the carrier callbacks write them.
func BenchmarkInbound(b *testing.B) {
	db := openTest(b)
	ms := NewMessageService(db)
	ctx := context.Background()
	var seq sync.Mutex
	n := 0
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			seq.Lock()
			n++
			id := fmt.Sprint("m", n)
			seq.Unlock()
			if _, _, err := ms.StoreInbound(ctx, &domain.Message{Provider: "bench", ProviderID: id, Phone: "+919800000002", Text: "COMPLAINT leak"}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// Writes made through services inside Atomically commit together, a failing
// inner write undoes only itself, and an error from fn undoes everything.
func TestAtomically(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	ms := NewMessageService(db)
	count := func() int {
		var n int
		db.r.QueryRow(`SELECT COUNT(*) FROM opt_outs`).Scan(&n)
		return n
	}
	err := db.Atomically(ctx, func(ctx context.Context) error {
		if err := ms.OptOut(ctx, "+919800000001"); err != nil {
			return err
		}
		// An inner write that fails leaves the rest of the unit standing.
		inner := db.write(ctx, func(tx *sql.Tx) error {
			tx.Exec(`INSERT INTO opt_outs (phone, created_at) VALUES ('+919800000099', 'x')`)
			return errors.New("refused")
		})
		if inner == nil {
			t.Error("inner failure lost")
		}
		return ms.OptOut(ctx, "+919800000002")
	})
	if err != nil || count() != 2 {
		t.Fatalf("committed unit: err %v, rows %d, want 2", err, count())
	}
	err = db.Atomically(ctx, func(ctx context.Context) error {
		ms.OptOut(ctx, "+919800000003")
		return errors.New("changed my mind")
	})
	if err == nil || count() != 2 {
		t.Fatalf("failed unit: err %v, rows %d, want 2 (nothing kept)", err, count())
	}
}

// A durable write is answered only after the WAL is fsynced; a relaxed
// (session) write in the same batch is answered at the commit, without
// waiting for that fsync, the writer commits later batches meanwhile, and
// a batch of only relaxed writes syncs nothing.
func TestDurableWritesWaitForTheSync(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	var syncs atomic.Int32
	release := make(chan struct{})
	db.syncWAL = func() error {
		syncs.Add(1)
		<-release
		return nil
	}
	// Hold the writer in a job so that the next two share a batch.
	hold, held := make(chan struct{}), make(chan struct{})
	go db.writeRelaxed(ctx, func(tx *sql.Tx) error { close(held); <-hold; return nil })
	<-held
	durable, relaxed := make(chan error, 1), make(chan error, 1)
	go func() { durable <- db.write(ctx, insertOptOut("+919800000001")) }()
	go func() { relaxed <- db.writeRelaxed(ctx, insertOptOut("+919800000002")) }()
	time.Sleep(20 * time.Millisecond) // both are queued behind the held job
	close(hold)
	answered(t, relaxed, "a relaxed write waited for the WAL's fsync")
	select {
	case err := <-durable:
		t.Fatalf("a durable write was answered before the WAL was synced (err %v)", err)
	case <-time.After(50 * time.Millisecond):
	}
	// While that fsync is under way the writer goes on: a later batch
	// commits and is answered.
	later := make(chan error, 1)
	go func() { later <- db.writeRelaxed(ctx, insertOptOut("+919800000004")) }()
	answered(t, later, "the writer waited for another batch's fsync")
	close(release)
	if err := <-durable; err != nil {
		t.Fatal(err)
	}
	if n := syncs.Load(); n != 1 {
		t.Fatalf("%d syncs for one batch with a durable write, want 1", n)
	}
	if err := db.writeRelaxed(ctx, insertOptOut("+919800000003")); err != nil {
		t.Fatal(err)
	}
	if n := syncs.Load(); n != 1 {
		t.Fatalf("a batch of only relaxed writes synced the WAL (%d syncs)", n)
	}
	// The writer's connection never switches modes: NORMAL, with the
	// fsync done by the writer itself.
	var mode int
	if err := db.write(ctx, func(tx *sql.Tx) error { return tx.QueryRow("PRAGMA synchronous").Scan(&mode) }); err != nil {
		t.Fatal(err)
	}
	if mode != 1 {
		t.Fatalf("writer's synchronous = %d, want 1 (NORMAL)", mode)
	}
}

// insertOptOut is a one-row write.
func insertOptOut(phone string) func(tx *sql.Tx) error {
	return func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO opt_outs (phone, created_at) VALUES (?, 'x')`, phone)
		return err
	}
}

// answered fails the test unless a write's outcome arrives on ch, nil,
// within five seconds.
func answered(t *testing.T, ch <-chan error, waited string) {
	t.Helper()
	select {
	case err := <-ch:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal(waited)
	}
}

// The real sync opens the WAL and fsyncs it, and finds the file again if it
// was replaced.
func TestFsyncWAL(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	if err := db.write(ctx, insertOptOut("+919800000001")); err != nil {
		t.Fatal(err)
	}
	if db.wal == nil {
		t.Fatal("a durable write did not open the WAL to sync it")
	}
	first := db.wal
	if err := db.fsyncWAL(); err != nil || db.wal != first {
		t.Fatalf("second sync: %v, reopened %v", err, db.wal != first)
	}
	// A descriptor of another file (as after SQLite had replaced the WAL)
	// is noticed, not synced in its place. The writer is idle here.
	other, err := os.Create(filepath.Join(t.TempDir(), "other"))
	if err != nil {
		t.Fatal(err)
	}
	db.wal = other
	if err := db.fsyncWAL(); err != nil {
		t.Fatal(err)
	}
	if db.wal == other {
		t.Fatal("synced a file that is not the WAL")
	}
	if a, _ := db.wal.Stat(); a == nil || !sameAs(a, db.Path()+"-wal") {
		t.Fatal("reopened something other than the WAL")
	}
}

func sameAs(fi os.FileInfo, name string) bool {
	b, err := os.Stat(name)
	return err == nil && os.SameFile(fi, b)
}

// With the background checkpointer copying pages and readers reading all
// along (a read every millisecond each; readers that never pause would
// keep any WAL from restarting), the WAL still restarts from its beginning instead of growing with
// every write (an earlier background checkpointer let it reach 660 MB).
func TestWALStaysBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 40,000 messages")
	}
	db := openTest(t)
	ms := NewMessageService(db)
	ctx, stop := context.WithCancel(context.Background())
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			for ctx.Err() == nil {
				if _, err := ms.Backlog(ctx); err != nil && ctx.Err() == nil {
					t.Error(err)
					return
				}
				time.Sleep(time.Millisecond)
			}
		})
	}
	perWriter := 1250 // 40,000 messages, about 12 MB of pages
	if raceOn {
		perWriter = 400 // 12,800: under -race, 36 MB of WAL without the forced restart
	}
	var writers sync.WaitGroup
	for w := range 32 {
		writers.Go(func() {
			for i := range perWriter {
				m := &domain.Message{Provider: "t", ProviderID: fmt.Sprint(w, "-", i), Phone: fmt.Sprintf("+9197%08d", w*10000+i), Text: strings.Repeat("x", 120)}
				if _, _, err := ms.StoreInbound(context.Background(), m); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	writers.Wait()
	stop()
	readers.Wait()
	fi, err := os.Stat(db.Path() + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	// Without readers the WAL restarts at about 1000 pages (4 MB). Readers
	// that overlap hold restarts back (under -race they did for the whole
	// test, and the WAL passed 200 MB) until the checkpointer forces a
	// restart past walLimit.
	if fi.Size() > 2*walLimit {
		t.Fatalf("WAL is %d bytes after %d writes: it is not restarting", fi.Size(), 32*perWriter)
	}
	t.Logf("WAL %d bytes", fi.Size())
}

// A deferrable job waits while others are waiting or have just run, until
// its turn (turns.laterAt) comes; and the closing DB stops the writer.
func TestNextPutsDeferrableJobsLast(t *testing.T) {
	job := func(name string, deferrable bool) *writeJob {
		return &writeJob{ctx: context.WithValue(context.Background(), struct{}{}, name), deferrable: deferrable}
	}
	name := func(j *writeJob) string { return j.ctx.Value(struct{}{}).(string) }
	db := &DB{jobs: make(chan *writeJob, 4), later: make(chan *writeJob, 4), closing: make(chan struct{}), quiet: 0}
	q := &turns{laterAt: time.Now().Add(time.Hour), timer: time.NewTimer(time.Hour)}
	q.timer.Stop()
	db.later <- job("answer", true)
	db.jobs <- job("callback 1", false)
	db.jobs <- job("callback 2", false)
	var order []string
	for range 3 {
		j, ok := db.next(q)
		if !ok {
			t.Fatal("next stopped before the DB closed")
		}
		order = append(order, name(j))
	}
	if want := "callback 1,callback 2,answer"; strings.Join(order, ",") != want {
		t.Fatalf("jobs taken in the order %q, want %q", order, want)
	}

	// Other jobs ran a moment ago: a deferrable job waits even with
	// nothing else queued, and the next callback goes before it.
	db.quiet, q.lastOther = time.Hour, time.Now()
	db.later <- job("answer between waves", true)
	got := make(chan string)
	go func() { j, _ := db.next(q); got <- name(j) }()
	select {
	case n := <-got:
		t.Fatalf("took %q while other jobs had just run", n)
	case <-time.After(20 * time.Millisecond):
	}
	db.jobs <- job("callback 3", false)
	if n := <-got; n != "callback 3" {
		t.Fatalf("took %q, want callback 3", n)
	}

	// Once its turn has come, a deferrable job goes first.
	q.laterAt = time.Now()
	db.jobs <- job("callback 4", false)
	if j, _ := db.next(q); name(j) != "answer between waves" {
		t.Fatalf("took %q though a deferrable job's turn had come", name(j))
	}
	if j, _ := db.next(q); name(j) != "callback 4" {
		t.Fatalf("took %q, want callback 4", name(j))
	}

	// A deferrable job waiting for its turn gets it without other jobs.
	q.laterAt = time.Now().Add(30 * time.Millisecond)
	db.later <- job("answer on its turn", true)
	if j, _ := db.next(q); name(j) != "answer on its turn" {
		t.Fatalf("took %q, want the deferrable job once its turn came", name(j))
	}

	// Writes made with a Deferrable context are queued as deferrable.
	for _, deferrable := range []bool{true, false} {
		ctx := context.Background()
		if deferrable {
			ctx = domain.Deferrable(ctx)
		}
		errc := make(chan error, 1)
		go func() { errc <- db.write(ctx, func(*sql.Tx) error { return nil }) }()
		var j *writeJob
		queued := false
		select {
		case j = <-db.later:
			queued = true
		case j = <-db.jobs:
		case <-time.After(10 * time.Second):
			t.Fatal("the write was never queued")
		}
		if queued != deferrable || j.deferrable != deferrable {
			t.Fatalf("a write with deferrable=%v context: in the deferrable queue %v, marked %v", deferrable, queued, j.deferrable)
		}
		j.done <- nil
		<-errc
	}

	q.laterAt = time.Now().Add(time.Hour)
	close(db.closing)
	if _, ok := db.next(q); ok {
		t.Fatal("next returned a job from a closing DB with nothing waiting")
	}
}

// A deferrable write goes through the writer like any other: committed,
// and durable, when it returns.
func TestDeferrableWriteCommits(t *testing.T) {
	db := openTest(t)
	ms := NewMessageService(db)
	ctx := domain.Deferrable(context.Background())
	var syncs atomic.Int64
	sync := db.syncWAL
	db.syncWAL = func() error { syncs.Add(1); return sync() }
	if err := db.Atomically(ctx, func(ctx context.Context) error { return ms.OptOut(ctx, "+919800000001") }); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.r.QueryRow(`SELECT COUNT(*) FROM opt_outs`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("opt-outs after a deferrable write: %d (%v), want 1", n, err)
	}
	if syncs.Load() == 0 {
		t.Fatal("a deferrable write returned before the WAL was synced")
	}
}

// A path holding a URI's special characters opens the file it names.
func TestOpenPathWithURICharacters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "union #1?a=b%20.db")
	db := openAt(t, path)
	ss := NewSessionStore(db)
	if err := ss.SaveSession(context.Background(), &domain.USSDSession{ID: "s", Phone: "+919800000001", State: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the database is not at its path: %v", err)
	}
	ents, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), filepath.Base(path)) {
			t.Errorf("a file outside the database's name: %s", e.Name())
		}
	}
}

// When SQLite rolls a batch's transaction back by itself (a full disk here,
// an I/O error or a lack of memory elsewhere) in the middle of a batch, no
// caller is told a write stuck that did not, or failed that did: the
// earlier jobs and the failing one are told they failed, and a job after it
// runs in a transaction of its own and is answered as it ended.
func TestBatchRolledBackByTheDatabase(t *testing.T) {
	db, _ := outboxDB(t)
	ctx := context.Background()
	m := queue(t, db, "+919800000001", "hello")
	var pages int
	if err := db.w.QueryRow(`PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	// A database that cannot grow much more: a full disk's stand-in.
	if _, err := db.w.Exec(`PRAGMA max_page_count = ` + strconv.Itoa(pages+2)); err != nil {
		t.Fatal(err)
	}
	hold, held := make(chan struct{}), make(chan struct{})
	a := make(chan error, 1)
	go func() { // first in the batch, holding the writer so the others join it
		a <- db.write(ctx, func(tx *sql.Tx) error {
			if err := insertOptOut("A")(tx); err != nil {
				return err
			}
			close(held)
			<-hold
			return nil
		})
	}()
	<-held
	b := make(chan error, 1)
	go func() { // one statement, without a savepoint, that fills the disk
		b <- db.writeOne(ctx, func(tx *sql.Tx) error {
			_, err := tx.Exec(`INSERT INTO opt_outs (phone, created_at) VALUES ('B', ?)`, strings.Repeat("x", 1<<20))
			return err
		})
	}()
	time.Sleep(20 * time.Millisecond)
	c := make(chan error, 1)
	go func() { // a sender's claim after it
		_, err := NewOutbox(db).ClaimNext(ctx, "at")
		c <- err
	}()
	time.Sleep(20 * time.Millisecond)
	close(hold)
	errA, errB, errC := <-a, <-b, <-c
	var stored int
	if err := db.r.QueryRow(`SELECT COUNT(*) FROM opt_outs WHERE phone = 'A'`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if (errA == nil) != (stored == 1) {
		t.Errorf("the first job was answered %v, and its row is stored: %v", errA, stored == 1)
	}
	if errB == nil {
		t.Error("the write that filled the disk was answered nil")
	}
	got, err := NewMessageService(db).MessageByID(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if claimed := got.Status == domain.MsgSending; (errC == nil) != claimed {
		t.Errorf("the claim after it was answered %v, and the message is %s", errC, got.Status)
	}
}

// After the WAL's fsync fails, what callers were told no longer matches
// the file (the kernel may have dropped the pages it could not write), so
// every later write is refused, and readiness fails, until a restart reads
// the WAL again.
func TestFailedSyncStopsWrites(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	db.syncWAL = func() error { return errors.New("input/output error") }
	if err := db.write(ctx, insertOptOut("+919800000001")); err == nil {
		t.Fatal("a write whose fsync failed was answered nil")
	}
	db.syncWAL = func() error { return nil }
	err := db.write(ctx, insertOptOut("+919800000002"))
	if err == nil || !strings.Contains(err.Error(), "writes are refused until the service is restarted") {
		t.Fatalf("a write after a failed fsync: %v", err)
	}
	if err := db.Ping(ctx); err == nil {
		t.Fatal("the database is ready after a failed fsync")
	}
	var n int
	if err := db.r.QueryRow(`SELECT COUNT(*) FROM opt_outs WHERE phone = '+919800000002'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("the refused write is stored: %d, %v", n, err)
	}
}
