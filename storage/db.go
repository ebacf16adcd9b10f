// Package storage implements the domain's services on SQLite
// (modernc.org/sqlite, pure Go). It is the only package that imports
// database/sql. Writes go through one connection, so write transactions
// serialise in Go instead of failing with SQLITE_BUSY, and the checks that
// must not interleave (the last free units of a task, a worker's balance)
// run inside them. Reads use a separate pool and WAL lets them run alongside.
package storage

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/karyashala/karyashala/domain"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// DB is an open Karyashala database.
type DB struct {
	path string
	w    *sql.DB // one connection: every write transaction
	r    *sql.DB // read pool
	// rolledBack is raised by SQLite's rollback hook on w: the writer
	// clears it before each job and looks after, to learn whether SQLite
	// ended the batch's transaction by itself (a full disk, an I/O error).
	rolledBack atomic.Bool
	// failed, once set, refuses every write (see fail).
	failed atomic.Pointer[error]

	jobs       chan *writeJob
	later      chan *writeJob // deferrable jobs (domain.Deferrable)
	quiet      time.Duration  // see next; tests change it
	closing    chan struct{}
	writerDone chan struct{}
	ckpt       *sql.DB       // one connection: the background checkpointer's
	ckptWake   chan struct{} // a commit added to the WAL
	ckptDone   chan struct{}
	closeOnce  sync.Once
	batches    atomic.Int64
	jobCount   atomic.Int64
	wal        *os.File // the WAL, opened to fsync it; syncer goroutine only
	// syncWAL makes the commits so far durable; tests replace it.
	syncWAL    func() error
	syncq      chan []*writeJob // committed durable jobs, for the syncer
	syncerDone chan struct{}
	sessionIdx sessionIndex // see SessionStore
	journal    atomic.Pointer[journal]
	inboundIdx inboundIndex // see MessageService.StoreInbound
	known      knownPhones  // see MemberService.Caller

	// Now is the clock; tests replace it.
	Now func() time.Time
	// Languages are the configured languages; titles must cover them.
	Languages []string
}

// Kinds of connection, for dsn.
const (
	connWriter = iota // the writer's: commits, and DB.syncWAL makes them durable
	connReader        // the read pool's
	connOther         // checkpoints and backups
)

// dsn puts the pragmas in the connection string so every pooled connection
// gets them. The writer's connection runs synchronous=NORMAL and the writer
// fsyncs the WAL itself after a commit that needs it (see batch.commit); the
// others run FULL, so a checkpoint syncs what it copies.
func dsn(path string, kind int) string {
	readonly := kind == connReader
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	if kind == connWriter {
		q.Add("_pragma", "synchronous(NORMAL)")
	} else {
		q.Add("_pragma", "synchronous(FULL)")
	}
	// Each caller in a group commit runs in a savepoint; keep the
	// savepoint journals in memory, not in temporary files.
	q.Add("_pragma", "temp_store(MEMORY)")
	// A WAL that grew in a burst is cut back to this when it restarts.
	q.Add("_pragma", fmt.Sprintf("journal_size_limit(%d)", walLimit))
	// The background checkpointer copies pages out of the WAL; the
	// writer's own checkpoint, inside a commit, is the backstop for when it
	// falls behind, not the routine (SQLite's default is 1000 pages).
	q.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", walLimit/4096))
	if readonly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	// In a URI filename '?' starts the parameters and '#' a fragment, and
	// '%' escapes: a path holding them would name another file.
	return "file:" + uriPath.Replace(path) + "?" + q.Encode()
}

var uriPath = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")

// Open opens (creating it and its folder if need be) the SQLite file at path
// and applies pending migrations.
func Open(path string) (*DB, error) {
	if path == "" || path == ":memory:" {
		return nil, fmt.Errorf("open database: a file path is required (an in-memory database is not shared between connections)")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	db := &DB{path: path, Now: time.Now, Languages: []string{"en", "hi"}}
	w := openCached(dsn(path, connWriter), true, &db.rolledBack)
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	db.w = w
	db.syncWAL = db.fsyncWAL
	if err := db.Migrate(context.Background()); err != nil {
		w.Close()
		return nil, err
	}
	r := openCached(dsn(path, connReader), false, nil)
	n := max(4, runtime.GOMAXPROCS(0)*2)
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	db.r = r
	db.ckpt = openCached(dsn(path, connOther), true, nil)
	db.ckpt.SetMaxOpenConns(1)
	db.jobs, db.closing, db.writerDone = make(chan *writeJob), make(chan struct{}), make(chan struct{})
	db.later, db.quiet = make(chan *writeJob), quiet
	db.ckptWake, db.ckptDone = make(chan struct{}, 1), make(chan struct{})
	db.syncq, db.syncerDone = make(chan []*writeJob, 64), make(chan struct{})
	go db.writer()
	go db.syncer()
	go db.checkpointer()
	return db, nil
}

// Close writes the USSD sessions still in memory to the table, stops the
// writer after the batch in hand, then closes both pools, checkpointing the
// WAL.
func (db *DB) Close() error {
	var errs []error
	db.closeOnce.Do(func() {
		if j := db.journal.Load(); j != nil {
			errs = append(errs, j.close())
		}
		if db.closing != nil {
			close(db.closing)
			<-db.writerDone
			<-db.syncerDone
			<-db.ckptDone
		}
	})
	if db.ckpt != nil {
		errs = append(errs, db.ckpt.Close())
	}
	if db.r != nil {
		errs = append(errs, db.r.Close())
	}
	errs = append(errs, db.w.Close())
	if db.wal != nil {
		errs = append(errs, db.wal.Close())
	}
	return errors.Join(errs...)
}

// Services are the domain's services on db.
func (db *DB) Services() domain.Services {
	return domain.Services{
		Members:    NewMemberService(db),
		Workshops:  NewWorkshopService(db),
		Tasks:      NewTaskService(db),
		Ledger:     NewLedgerService(db),
		Trainings:  NewTrainingService(db),
		Complaints: NewComplaintService(db),
		Messages:   NewMessageService(db),
		Tokens:     NewTokenService(db),
		Reports:    NewReportService(db),
	}
}

// Path is the database file.
func (db *DB) Path() string { return db.path }

// Ping checks that the database answers, for /readyz.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.failed.Load(); err != nil {
		return *err
	}
	var one int
	return db.r.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Migrate applies, in name order, every embedded migration not yet recorded
// in the migrations table, each in its own transaction. They run with
// foreign keys off, as SQLite's procedure for rebuilding a table requires
// (a parent table dropped and created again would otherwise cascade or
// fail on its children), and each checks every foreign key before it
// commits instead (migrateFile). The pragma is a no-op inside a
// transaction, so it is set on the writer's one connection around them.
func (db *DB) Migrate(ctx context.Context) (err error) {
	if _, err := db.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("create migrations table: %w", err)
	}
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	if _, err := db.w.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	defer func() {
		// Whatever ctx says: the writer must not go on without them.
		if _, e := db.w.ExecContext(context.Background(), `PRAGMA foreign_keys = ON`); e != nil && err == nil {
			err = fmt.Errorf("migrations: turn foreign keys back on: %w", e)
		}
	}()
	for _, name := range names {
		if err := db.migrateFile(ctx, name); err != nil {
			return err
		}
	}
	return nil
}

// AppliedMigrations lists the migrations recorded as applied, in order.
func (db *DB) AppliedMigrations(ctx context.Context) ([]string, error) {
	return queryStrings(ctx, db.w, `SELECT name FROM migrations ORDER BY name`)
}

// queryStrings runs a query of one text column and returns its values.
func queryStrings(ctx context.Context, db *sql.DB, query string) ([]string, error) {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// migrateFile applies one migration, unless it is recorded already, with
// foreign keys off (see Migrate) and checked before it commits.
func (db *DB) migrateFile(ctx context.Context, name string) error {
	base := filepath.Base(name)
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM migrations WHERE name = ?`, base).Scan(&n); err != nil {
		return fmt.Errorf("migration %s: %w", base, err)
	} else if n > 0 {
		return nil
	}
	body, err := migrationFS.ReadFile(name)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return fmt.Errorf("migration %s: %w", base, err)
	}
	if err := foreignKeyCheck(ctx, tx); err != nil {
		return fmt.Errorf("migration %s: %w", base, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO migrations (name, applied_at) VALUES (?, ?)`, base, fmtTime(time.Now())); err != nil {
		return fmt.Errorf("migration %s: %w", base, err)
	}
	return tx.Commit()
}

// foreignKeyCheck fails, naming the first offending row, when a row
// refers to one that does not exist.
func foreignKeyCheck(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		return err
	}
	defer rows.Close()
	if rows.Next() {
		var table, parent string
		var rowid sql.NullInt64
		var fk int
		if err := rows.Scan(&table, &rowid, &parent, &fk); err != nil {
			return err
		}
		return fmt.Errorf("foreign key check: row %d of %s refers to a missing row of %s", rowid.Int64, table, parent)
	}
	return rows.Err()
}

// writeJob is one caller's write waiting for the group committer.
type writeJob struct {
	ctx  context.Context
	fn   func(tx *sql.Tx) error
	done chan error
	// relaxed jobs may commit without an fsync (synchronous=NORMAL): they
	// survive a crash of the process, and a power cut up to the next
	// synced commit. Only USSD session state (the journal's flush) is
	// written this way.
	relaxed bool
	// deferrable jobs wait while others are waiting (see DB.next).
	deferrable bool
	// one jobs change at most one row with one statement; SQLite undoes a
	// failed statement by itself, so they need no savepoint of their own.
	// Such a fn must not fail after its statement succeeded (a panic then
	// would keep the change): keep it to the statement and its checks.
	one bool
}

// maxBatch bounds how many callers share one commit.
const maxBatch = 256

var errClosed = errors.New("database is closed")

// write runs fn in a write transaction and returns once it is committed (or
// failed). Concurrent callers are group-committed: the single writer
// goroutine runs every waiting fn in one transaction, each inside its own
// savepoint so one caller's failure rolls back only its own changes, and
// answers them all after the one fsync. Durability then costs one sync per
// batch instead of one per request.
func (db *DB) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return db.submit(&writeJob{ctx: ctx, fn: fn})
}

// writeOne is write for fn that makes at most one change, in one statement
// (reads around it are fine): a failed statement undoes itself, so the
// writer skips the savepoint it would otherwise wrap fn in. Inbound
// messages, the most frequent write, are stored this way.
func (db *DB) writeOne(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return db.submit(&writeJob{ctx: ctx, fn: fn, one: true})
}

// writeRelaxed is write for state whose loss in a power cut (not a process
// crash) is acceptable: it is answered as soon as its batch commits, never
// after the WAL's fsync, and the next synced commit makes it durable too.
// The session journal's flush writes its chunks this way, all but the last,
// whose synced commit covers them.
func (db *DB) writeRelaxed(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return db.submit(&writeJob{ctx: ctx, fn: fn, relaxed: true})
}

// fail stops every later write with err. After an fsync fails the kernel
// may have dropped the pages it could not write, and a later fsync can
// succeed without them, so the file no longer matches what callers were
// told (PostgreSQL stops for the same reason): what the WAL holds is read
// again at the next start.
func (db *DB) fail(err error) {
	if db.failed.CompareAndSwap(nil, &err) {
		slog.Error("storage stopped", "err", err)
	}
}

func (db *DB) submit(job *writeJob) error {
	if err := db.failed.Load(); err != nil {
		return *err
	}
	ctx := job.ctx
	if tx := db.txOf(ctx); tx != nil {
		if job.one {
			return job.fn(tx)
		}
		return nested(tx, job.fn)
	}
	job.done = make(chan error, 1)
	queue := db.jobs
	if job.deferrable = domain.IsDeferrable(ctx); job.deferrable {
		queue = db.later
	}
	select {
	case queue <- job:
	case <-db.closing:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once handed over the job will run; wait for its outcome even if ctx
	// ends meanwhile, so the caller never reports failure for a committed
	// write.
	return <-job.done
}

var _ domain.Atomic = (*DB)(nil)

// txKey marks a context that runs inside one of db's write transactions.
type txKey struct{ db *DB }

// txOf returns the write transaction ctx runs inside (see Atomically), or
// nil.
func (db *DB) txOf(ctx context.Context) *sql.Tx {
	tx, _ := ctx.Value(txKey{db}).(*sql.Tx)
	return tx
}

// querier is what a read runs on: the read pool, or a write transaction.
type querier interface {
	queryRower
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// reader is where a read made with ctx runs: inside Atomically, the write
// transaction, so that a read sees the changes made before it in the same
// unit (the inbox answers a batch of messages in one, and a STATUS after a
// RESOLVE in it must see the RESOLVE); else the read pool, which sees
// only what is committed.
func (db *DB) reader(ctx context.Context) querier {
	if tx := db.txOf(ctx); tx != nil {
		return tx
	}
	return db.r
}

// Atomically runs fn as one write: every service call fn makes with the ctx
// it is given joins the same transaction, so they commit together (after
// which Atomically returns) or not at all. fn runs on the writer goroutine:
// it must do its slow work (network, heavy parsing) before, not inside, and
// must pass the ctx it is given to every service call, or a write made with
// another context would wait for the writer forever.
func (db *DB) Atomically(ctx context.Context, fn func(ctx context.Context) error) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		return fn(context.WithValue(ctx, txKey{db}, tx))
	})
}

// nested runs fn inside the transaction in hand, in a savepoint of its own so
// that its failure undoes only its own changes, as a write of its own would.
func nested(tx *sql.Tx, fn func(tx *sql.Tx) error) error {
	if _, err := tx.Exec("SAVEPOINT inner"); err != nil {
		return err
	}
	err := fn(tx)
	if err != nil {
		if _, e := tx.Exec("ROLLBACK TO inner"); e != nil {
			return errors.Join(err, e)
		}
	}
	if _, e := tx.Exec("RELEASE inner"); e != nil {
		return errors.Join(err, e)
	}
	return err
}

// writer is the single goroutine that owns the write connection. It runs
// each job as soon as it takes it, inside the batch's open transaction,
// and commits when no more are coming: the jobs' statements run while the
// batch waits for company, not after.
func (db *DB) writer() {
	defer close(db.writerDone)
	defer close(db.syncq) // after the last batch: the syncer answers what it holds and stops
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	last := 0
	q := &turns{laterAt: time.Now(), timer: time.NewTimer(time.Hour)}
	q.timer.Stop()
	for {
		first, ok := db.next(q)
		if !ok {
			return
		}
		b := &batch{db: db}
		t0 := time.Now()
		b.run(first)
		if first.deferrable {
			q.laterAt = time.Now().Add(time.Since(t0) * (laterShare - 1))
		}
		// Let the goroutines that are running (handlers a moment away from
		// their own write) run first and join this batch: a commit costs
		// the same for one write as for fifteen. When nothing else is
		// runnable this returns at once.
		runtime.Gosched()
	drain:
		for len(b.jobs) < maxBatch {
			select {
			case j := <-db.jobs:
				b.run(j)
			default:
				break drain
			}
		}
		// When the last commit was shared, callers are arriving together:
		// wait a moment for more of them. A commit (BEGIN, the WAL
		// append, COMMIT) costs the same CPU for two writes as for
		// twenty, and at a few thousand hops a second the batches were
		// of two to five. A lone caller, whose last commit was its own,
		// never waits. (Waiting only until a batch is as big as the last
		// one ended the wait at once with a few steady callers, but at
		// 12,000 hops/s from many phones it shrank batches from 18 writes
		// to 11, a commit's CPU for every 11 hops.)
		if last > 1 && len(b.jobs) < lingerBatch {
			linger.Reset(lingerFor)
		wait:
			for len(b.jobs) < lingerBatch {
				select {
				case j := <-db.jobs:
					b.run(j)
				case <-linger.C:
					break wait
				}
			}
			linger.Stop()
		}
		last = len(b.jobs)
		others := !first.deferrable || len(b.jobs) > 1
		b.commit()
		if others {
			q.lastOther = time.Now()
		}
	}
}

// turns is the writer's account of when each kind of job may go, for
// next.
type turns struct {
	laterAt   time.Time // a deferrable job goes first from then on
	lastOther time.Time // a batch committed other jobs
	timer     *time.Timer
}

// next waits for the job to start the next batch with. Deferrable jobs
// (answering stored SMS) wait while carriers' callbacks are coming: they
// go only when no other job is waiting and none has run for db.quiet.
// Callbacks under load arrive in waves, each answered together after its
// batch's commit, and the moment between two waves is no time to start
// answering 32 messages. So that a steady stream of callbacks cannot
// starve them, one deferrable job goes first once q.laterAt has come (the
// writer sets it so that they get a share of its time, see laterShare).
// Only the first job of a batch can be deferrable: the batch's other
// places are for the jobs waiting behind it. next reports false when db is
// closing.
func (db *DB) next(q *turns) (*writeJob, bool) {
	for {
		now := time.Now()
		overdue := !now.Before(q.laterAt)
		if overdue {
			select {
			case j := <-db.later:
				return j, true
			default:
			}
		}
		select {
		case j := <-db.jobs:
			return j, true
		default:
		}
		if overdue || now.Sub(q.lastOther) >= db.quiet {
			select {
			case j := <-db.jobs:
				return j, true
			case j := <-db.later:
				return j, true
			case <-db.closing:
				return nil, false
			}
		}
		// Other jobs ran a moment ago: wait for the next of them, or until
		// deferrable ones may go.
		q.timer.Reset(min(q.lastOther.Add(db.quiet).Sub(now), q.laterAt.Sub(now)))
		select {
		case j := <-db.jobs:
			q.timer.Stop()
			return j, true
		case <-q.timer.C:
		case <-db.closing:
			q.timer.Stop()
			return nil, false
		}
	}
}

// While other jobs keep coming, deferrable ones wait for a pause of quiet,
// or until they have had 1/laterShare of the writer's time: after a
// deferrable job that ran for d, the next goes first after (laterShare-1)d.
// The inbox answers 32 messages in about 2 ms, and then waits 18; its
// small jobs, at a trickle of messages, wait as little.
const (
	quiet      = 5 * time.Millisecond
	laterShare = 10
)

// A commit waits at most lingerFor (in practice up to a millisecond, the
// runtime's timer granularity when idle) for lingerBatch writes.
const (
	lingerFor   = 500 * time.Microsecond
	lingerBatch = 32
)

// checkpointer copies committed WAL pages into the database file from a
// connection of its own, on the other core, while the writer goes on, so
// that the writer's own checkpoint (SQLite's automatic one, inside a commit,
// stalling every caller in its batch while pages are copied) is left only
// as a backstop. A PASSIVE checkpoint never waits for readers or the
// writer; only past walLimit does it ask for a RESTART, which holds writes
// back for as long as the readers in progress take.
//
// It runs every ckptEvery, not after every commit. Each checkpoint that
// copies everything lets the next commit start the WAL over, and that
// commit writes a new WAL header and fsyncs it, even in a batch of session
// saves that otherwise commits without an fsync: at one checkpoint every
// 20 ms that was up to fifty fsyncs a second in the writer, each holding
// up a batch. Spaced out, each checkpoint also copies a page rewritten many
// times (the sessions in progress share a few) once instead of every time.
func (db *DB) checkpointer() {
	defer close(db.ckptDone)
	for {
		select {
		case <-db.closing:
			return
		case <-db.ckptWake:
		}
		mode := "PASSIVE"
		if fi, err := os.Stat(db.path + "-wal"); err == nil && fi.Size() > walLimit {
			// Readers overlapping without a break keep any checkpoint
			// from finishing, and the WAL from restarting. RESTART holds
			// writes back (the writer waits, as for any lock) until the
			// readers in progress finish, usually milliseconds, then
			// lets the WAL start over; journal_size_limit shrinks it.
			mode = "RESTART"
		}
		if _, err := db.ckpt.Exec(`PRAGMA wal_checkpoint(` + mode + `)`); err != nil && !strings.Contains(err.Error(), "locked") && !strings.Contains(err.Error(), "busy") {
			slog.Warn("background wal checkpoint", "mode", mode, "err", err)
		}
		// Copy in runs, not after every commit.
		select {
		case <-db.closing:
			return
		case <-time.After(ckptEvery):
		}
	}
}

// ckptEvery spaces the background checkpoints; past walLimit bytes the
// WAL is made to start over. At the load run's 25,000 USSD hops a second
// the WAL gains about 7 MB in ckptEvery, inside walLimit.
const (
	ckptEvery = 250 * time.Millisecond
	walLimit  = 16 << 20
)

// WriteStats reports how many write transactions were committed and how
// many callers' writes they carried; jobs/batches is the group-commit
// factor.
func (db *DB) WriteStats() (batches, jobs int64) { return db.batches.Load(), db.jobCount.Load() }

// batch is the write transaction the writer has open and the jobs it has
// run in it, in order.
type batch struct {
	db   *DB
	tx   *sql.Tx     // nil until a job needs it, and after a rollback
	jobs []*writeJob // every job taken, answered at commit
	errs []error     // each job's outcome so far
	in   []int       // the jobs whose changes tx holds
}

// run runs j in the batch's transaction. A job whose changes tx holds no
// others' can fail without a savepoint (the whole transaction is rolled
// back); after others, a job of more than one statement runs in a savepoint
// of its own, so its failure undoes only its own changes.
func (b *batch) run(j *writeJob) {
	i := len(b.jobs)
	b.jobs, b.errs = append(b.jobs, j), append(b.errs, nil)
	if err := j.ctx.Err(); err != nil {
		b.errs[i] = err
		return
	}
	if b.tx == nil {
		tx, err := b.db.w.BeginTx(context.Background(), nil)
		if err != nil {
			b.errs[i] = fmt.Errorf("begin: %w", err)
			return
		}
		b.tx = tx
	}
	savepoint := len(b.in) > 0 && !j.one
	if savepoint {
		if _, err := b.tx.Exec("SAVEPOINT job"); err != nil {
			b.errs[i] = err
			return
		}
	}
	b.db.rolledBack.Store(false)
	err := runJob(j, b.tx)
	b.errs[i] = err
	if b.db.rolledBack.Load() {
		// SQLite rolled the whole transaction back by itself (it may for
		// a full disk, an I/O error, a lack of memory): the earlier jobs'
		// changes are gone, and a statement after it would commit alone.
		// Every job of the transaction is told so, this one too.
		if err == nil {
			err = errors.New("the database rolled the transaction back")
		}
		b.in = append(b.in, i)
		b.abort(fmt.Errorf("write rolled back by the database, nothing of it was kept; try again: %w", err))
		return
	}
	if err == nil {
		b.in = append(b.in, i)
		if savepoint {
			if _, err := b.tx.Exec("RELEASE job"); err != nil {
				b.abort(fmt.Errorf("release savepoint: %w", err))
			}
		}
		return
	}
	switch {
	case savepoint:
		if _, err := b.tx.Exec("ROLLBACK TO job"); err != nil {
			b.abort(fmt.Errorf("rollback to savepoint: %w", err))
		} else if _, err := b.tx.Exec("RELEASE job"); err != nil {
			b.abort(fmt.Errorf("release savepoint: %w", err))
		}
	case len(b.in) == 0:
		// Nothing else is in the transaction: roll it all back.
		b.tx.Rollback()
		b.tx = nil
	}
	// Otherwise j was one statement, which SQLite undid by itself.
}

// abort rolls back a transaction that can no longer be used, failing every
// job whose changes it held; later jobs start a new one.
func (b *batch) abort(err error) {
	b.tx.Rollback()
	b.tx = nil
	for _, i := range b.in {
		b.errs[i] = err
	}
	b.in = b.in[:0]
}

// commit commits the batch and answers its jobs. The write connection runs
// synchronous=NORMAL, so a commit reaches the WAL without an fsync: it
// survives a crash of the process, and relaxed jobs (USSD session state)
// are answered then. The other jobs go to the syncer, which fsyncs the WAL
// and answers them after it: that sync is all synchronous=FULL adds in WAL
// mode ("an additional sync operation of the WAL file happens after each
// transaction commit", SQLite's documentation). Meanwhile the writer goes
// on with the next batch: session saves never wait for another caller's
// fsync, a sync can cover several commits, and the transaction can stay
// open across the linger, which a change of synchronous mode (refused
// inside a transaction) would not allow.
func (b *batch) commit() {
	db := b.db
	db.batches.Add(1)
	db.jobCount.Add(int64(len(b.jobs)))
	var durable []*writeJob
	if b.tx != nil {
		if err := b.tx.Commit(); err != nil {
			for _, i := range b.in {
				b.errs[i] = fmt.Errorf("commit: %w", err)
			}
		} else {
			for _, i := range b.in {
				if !b.jobs[i].relaxed {
					durable = append(durable, b.jobs[i])
					b.jobs[i] = nil // answered by the syncer
				}
			}
		}
		select {
		case db.ckptWake <- struct{}{}:
		default:
		}
	}
	for i, j := range b.jobs {
		if j != nil {
			j.done <- b.errs[i]
		}
	}
	if len(durable) > 0 {
		db.syncq <- durable
	}
}

// syncer fsyncs the WAL for committed durable jobs and answers them. Jobs
// of every batch that committed while it synced share its next fsync.
func (db *DB) syncer() {
	defer close(db.syncerDone)
	for jobs := range db.syncq {
	more:
		for {
			select {
			case js, ok := <-db.syncq:
				if !ok {
					break more
				}
				jobs = append(jobs, js...)
			default:
				break more
			}
		}
		err := db.syncWAL()
		if err != nil {
			db.fail(fmt.Errorf("the database file could not be made durable (fsync of the WAL: %w); writes are refused until the service is restarted: check the disk, then restart", err))
		}
		for _, j := range jobs {
			j.done <- err
		}
	}
}

// fsyncWAL fsyncs the WAL file, through a descriptor of the writer's own:
// fsync makes durable whatever was written to the file, by any descriptor.
// The file is opened again if SQLite has replaced it.
func (db *DB) fsyncWAL() error {
	name := db.path + "-wal"
	if db.wal != nil {
		a, err1 := db.wal.Stat()
		b, err2 := os.Stat(name)
		if err1 != nil || err2 != nil || !os.SameFile(a, b) {
			db.wal.Close()
			db.wal = nil
		}
	}
	if db.wal == nil {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("open the WAL to sync it: %w", err)
		}
		db.wal = f
	}
	if err := db.wal.Sync(); err != nil {
		return fmt.Errorf("sync the WAL: %w", err)
	}
	return nil
}

// runJob runs one caller's fn, turning a panic into an error so one bad
// write cannot take the writer (and every other caller) down.
func runJob(j *writeJob, tx *sql.Tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("write panicked: %v", r)
		}
	}()
	return j.fn(tx)
}

// IntegrityCheck runs PRAGMA integrity_check and returns its verdict, "ok"
// when the file is sound.
func (db *DB) IntegrityCheck(ctx context.Context) (string, error) {
	var s string
	err := db.r.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&s)
	return s, err
}

// Backup writes a consistent copy of the live database to dst with VACUUM
// INTO; dst must not exist.
func (db *DB) Backup(ctx context.Context, dst string) error {
	if _, err := os.Stat(dst); err == nil {
		return domain.Errorf(domain.ECONFLICT, "backup: %s already exists; choose a new file name", dst)
	}
	// A connection of its own: the read pool is query_only, and the write
	// connection must stay free for callbacks while the copy runs.
	c, err := sql.Open("sqlite", dsn(db.path, connOther))
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, `VACUUM INTO ?`, dst); err != nil {
		return fmt.Errorf("backup to %s: %w", dst, err)
	}
	return nil
}

// timeLayout is fixed-width so that times sort as text.
const timeLayout = "2006-01-02T15:04:05.000000Z"

func fmtTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func fmtTimePtr(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return fmtTime(*t)
}

func parseTime(s string) time.Time {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		t, _ = time.Parse(time.RFC3339Nano, s)
	}
	return t
}

func parseTimePtr(s sql.NullString) *time.Time {
	if !s.Valid || s.String == "" {
		return nil
	}
	t := parseTime(s.String)
	return &t
}

func (db *DB) now() time.Time { return db.Now().UTC() }

// errNoInsert is insertID's answer when the row was not inserted (ON
// CONFLICT DO NOTHING).
var errNoInsert = errors.New("no row inserted")

// insertID runs an INSERT and stores the new row's id in id. It is Exec
// and last_insert_rowid rather than RETURNING, which costs a result set:
// every message makes several inserts.
func insertID(ctx context.Context, tx *sql.Tx, id *int64, q string, args ...any) error {
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return errNoInsert
	}
	*id, err = res.LastInsertId()
	return err
}

// isUnique reports whether err is a UNIQUE constraint violation.
func isUnique(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// limit clamps a page size.
func limit(n int) int {
	if n <= 0 {
		return 50
	}
	if n > 500 {
		return 500
	}
	return n
}
