package storage

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/karyashala/karyashala/domain"
)

// The session journal is where a USSD hop's save goes before the carrier is
// answered: one record copied into a file beside the database, mapped into
// memory, with no fsync, like a relaxed commit (it survives a crash of the
// process, since the mapped pages are the kernel's page cache, and a power
// cut up to the last fsync). Every journalFlushEvery the states
// saved since the last flush, the newest of each session only, are written
// to ussd_sessions in a few transactions, and once those are durable the
// journal files they came from are removed. Opening the store replays any
// files a crash left behind into the table first.
//
// Until then every hop's save was an upsert on the group-committing writer:
// the statement, its share of a commit, and the ten or so pages the rows of
// the sessions in progress share, rewritten to the WAL by every batch. A
// diagnostic build without that save ran 24-40% more hops a second
// (docs/performance.md, session 9). A journey's hops now share one upsert
// when they fall within one flush, and a flush's rows share their pages.
//
// The states not yet flushed are kept in memory, so reads see them; another
// process reading the table (a backup, the console of another server) sees
// sessions as of the last flush, at most journalFlushEvery old.
//
// A journal file is made journalSegment long, its blocks allocated then,
// so a full disk is an error when a file is started and not a SIGBUS when a
// page of the mapping is first written. A save that does not fit starts the
// next file. Unwritten, the rest of a file reads as zeros, which replay
// takes for its end. Until session 11 a save was a write(2) under the
// journal's lock: 2-3 µs of a hop's CPU, and a system call's return, where
// the kernel may switch threads, with every other hop's save waiting behind
// it (docs/performance.md).
//
// Only one process writes a database's sessions: the first to open the
// store takes a lock on <db>-sessions.lock and keeps it until Close. Another
// process's store reads the table, and its saves fail with ECONFLICT.

const (
	journalFlushEvery = 200 * time.Millisecond
	journalFlushAt    = 8192 // sessions in memory that start a flush early
	journalChunk      = 256  // rows a flush writes per transaction
	journalMaxRecord  = 1 << 20
	journalMagic      = "karyashala ussd sessions 1\n"
	journalSegment    = 1 << 20 // a journal file's length; its mapping counts in resident memory
)

var crc32c = crc32.MakeTable(crc32.Castagnoli)

type journal struct {
	db     *DB
	prefix string // the journal files' names start so, then a number and .log
	lock   *os.File
	// notOwner, when set, is why this process does not write sessions.
	notOwner error

	mu       sync.Mutex
	m        []byte // the current file, mapped; nil once closed
	seq      int64  // its number
	size     int64  // how much of it is written
	buf      []byte
	pending  map[int64]*domain.USSDSession // saved since the last flush began
	flushing map[int64]*domain.USSDSession // being written by the flush

	flushMu sync.Mutex // one flush at a time
	kick    chan struct{}
	stop    chan struct{}
	done    chan struct{}

	// what the flushes did, for /metrics
	flushes, flushed, flushNanos atomic.Int64
}

// openJournal takes the sessions' lock and replays what earlier runs left
// in journal files into idx and the table. Without the lock the journal is
// read-only: reads go to the table.
func openJournal(db *DB, idx *sessionIndex) (*journal, error) {
	j := &journal{db: db, prefix: db.path + "-sessions-", pending: map[int64]*domain.USSDSession{}}
	lock, err := os.OpenFile(db.path+"-sessions.lock", os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open the ussd session lock: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			j.notOwner = domain.Errorf(domain.ECONFLICT, "USSD sessions in %s are written by another process, which holds %s (a running karyashala serve or simulate); stop it first, or dial the running server with karyashala simulate --url", db.path, lock.Name())
			return j, nil
		}
		return nil, fmt.Errorf("lock the ussd sessions: %w", err)
	}
	j.lock = lock
	seqs, err := j.files()
	if err != nil {
		lock.Close()
		return nil, err
	}
	for _, seq := range seqs {
		if err := j.replay(seq, idx); err != nil {
			lock.Close()
			return nil, err
		}
		j.seq = seq
	}
	if err := j.rotate(); err != nil {
		lock.Close()
		return nil, err
	}
	if err := j.flush(context.Background()); err != nil {
		// The files stay; the next flush tries again.
		slog.Error("write replayed ussd sessions", "err", err)
	}
	j.kick, j.stop, j.done = make(chan struct{}, 1), make(chan struct{}), make(chan struct{})
	go j.flusher()
	return j, nil
}

func (j *journal) name(seq int64) string { return fmt.Sprintf("%s%06d.log", j.prefix, seq) }

// files lists the journal files' numbers, in order.
func (j *journal) files() ([]int64, error) {
	ents, err := os.ReadDir(filepath.Dir(j.prefix))
	if err != nil {
		return nil, fmt.Errorf("list ussd session journals: %w", err)
	}
	base := filepath.Base(j.prefix)
	var seqs []int64
	for _, e := range ents {
		n, ok := strings.CutPrefix(e.Name(), base)
		if n, ok2 := strings.CutSuffix(n, ".log"); ok && ok2 {
			if seq, err := strconv.ParseInt(n, 10, 64); err == nil && seq > 0 {
				seqs = append(seqs, seq)
			}
		}
	}
	slices.Sort(seqs)
	return seqs, nil
}

// replay reads one journal file's records into idx and pending. A record
// cut short or damaged ends the file: it was being written when the process
// or the machine stopped, and its caller was not answered.
func (j *journal) replay(seq int64, idx *sessionIndex) error {
	f, err := os.Open(j.name(seq))
	if err != nil {
		return fmt.Errorf("replay ussd sessions: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	magic := make([]byte, len(journalMagic))
	if n, err := io.ReadFull(r, magic); err != nil || string(magic) != journalMagic {
		if n > 0 && !strings.HasPrefix(journalMagic, string(magic[:n])) {
			// A power cut can leave a file its length and not its bytes.
			slog.Warn("ussd session journal: damaged from its start; ignored", "file", f.Name())
		}
		return nil // or created, not yet written
	}
	var off int64 = int64(len(journalMagic))
	var hdr [8]byte
	var payload []byte
	for n := 0; ; n++ {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if err != io.EOF {
				slog.Warn("ussd session journal ends in a partial record", "file", f.Name(), "offset", off, "records", n)
			}
			return nil
		}
		size, sum := binary.LittleEndian.Uint32(hdr[:4]), binary.LittleEndian.Uint32(hdr[4:])
		if size == 0 {
			return nil // the file's unwritten rest: no record is empty
		}
		if size > journalMaxRecord {
			slog.Warn("ussd session journal: damaged record; the rest of the file is ignored", "file", f.Name(), "offset", off, "records", n)
			return nil
		}
		payload = slices.Grow(payload[:0], int(size))[:size]
		if _, err := io.ReadFull(r, payload); err != nil || crc32.Checksum(payload, crc32c) != sum {
			slog.Warn("ussd session journal: partial or damaged record; the rest of the file is ignored", "file", f.Name(), "offset", off, "records", n)
			return nil
		}
		k, s, err := decodeSession(payload)
		if err != nil {
			slog.Warn("ussd session journal: undecodable record; the rest of the file is ignored", "file", f.Name(), "offset", off, "err", err)
			return nil
		}
		idx.replayed(s.ID, s.Phone, k)
		j.pending[k] = s
		off += 8 + int64(size)
	}
}

// appendSession encodes one save: k, ended, the time, then id, phone and
// state, each with its length.
func appendSession(b []byte, k int64, s *domain.USSDSession) []byte {
	start := len(b)
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0) // length and checksum
	b = binary.AppendUvarint(b, uint64(k))
	ended := byte(0)
	if s.Ended {
		ended = 1
	}
	b = append(b, ended)
	b = binary.AppendVarint(b, s.UpdatedAt.UnixNano())
	b = binary.AppendUvarint(b, uint64(len(s.ID)))
	b = append(b, s.ID...)
	b = binary.AppendUvarint(b, uint64(len(s.Phone)))
	b = append(b, s.Phone...)
	b = binary.AppendUvarint(b, uint64(len(s.State)))
	b = append(b, s.State...)
	p := b[start+8:]
	binary.LittleEndian.PutUint32(b[start:], uint32(len(p)))
	binary.LittleEndian.PutUint32(b[start+4:], crc32.Checksum(p, crc32c))
	return b
}

var errBadRecord = errors.New("bad record")

func decodeSession(p []byte) (int64, *domain.USSDSession, error) {
	k, n := binary.Uvarint(p)
	if n <= 0 || k == 0 || len(p) < n+1 {
		return 0, nil, errBadRecord
	}
	p = p[n:]
	s := &domain.USSDSession{Ended: p[0] == 1}
	p = p[1:]
	at, n := binary.Varint(p)
	if n <= 0 {
		return 0, nil, errBadRecord
	}
	p = p[n:]
	s.UpdatedAt = time.Unix(0, at).UTC()
	var fields [3][]byte
	for i := range fields {
		l, n := binary.Uvarint(p)
		if n <= 0 || uint64(len(p)-n) < l {
			return 0, nil, errBadRecord
		}
		fields[i] = p[n : n+int(l)]
		p = p[n+int(l):]
	}
	s.ID, s.Phone, s.State = string(fields[0]), string(fields[1]), slices.Clone(fields[2])
	if len(p) != 0 || s.ID == "" {
		return 0, nil, errBadRecord
	}
	return int64(k), s, nil
}

// save appends s, session k, to the journal. It returns once the record is
// in the file (the kernel's page cache: no fsync).
func (j *journal) save(k int64, s *domain.USSDSession) error {
	if j.notOwner != nil {
		return j.notOwner
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.m == nil {
		return errClosed
	}
	c := *s
	c.UpdatedAt = c.UpdatedAt.UTC().Truncate(time.Microsecond) // the table's precision
	j.buf = appendSession(j.buf[:0], k, &c)
	if len(j.buf)-8 > journalMaxRecord {
		return domain.Errorf(domain.EINVALID, "USSD session %s: its state of %d bytes is more than a session may keep (%d)", s.ID, len(s.State), journalMaxRecord)
	}
	if j.size+int64(len(j.buf)) > int64(len(j.m)) {
		if err := j.rotateLocked(len(j.buf)); err != nil {
			return fmt.Errorf("write the ussd session journal: %w", err)
		}
	}
	j.size += int64(copy(j.m[j.size:], j.buf))
	j.pending[k] = &c
	if len(j.pending) == journalFlushAt {
		select {
		case j.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

// get returns session k's newest state not yet in the table, if any.
func (j *journal) get(k int64) (*domain.USSDSession, bool) {
	if j.notOwner != nil {
		return nil, false
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	s, ok := j.pending[k]
	if !ok {
		s, ok = j.flushing[k]
	}
	if !ok {
		return nil, false
	}
	c := *s
	return &c, true
}

// holds reports whether session k has a state not yet in the table.
func (j *journal) holds(k int64) bool {
	_, ok := j.get(k)
	return ok
}

func (j *journal) rotate() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.rotateLocked(0)
}

// rotateLocked starts the next journal file, with room for a record of
// need bytes. On an error the current file, if any, stays in use.
func (j *journal) rotateLocked(need int) error {
	m, err := mapJournal(j.name(j.seq+1), max(journalSegment, len(journalMagic)+need))
	if err != nil {
		return fmt.Errorf("start a ussd session journal: %w", err)
	}
	copy(m, journalMagic)
	j.unmap()
	j.m, j.seq, j.size = m, j.seq+1, int64(len(journalMagic))
	return nil
}

// mapJournal makes the file name size bytes long, its blocks allocated, and
// maps it for writing.
func mapJournal(name string, size int) ([]byte, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	defer f.Close() // the mapping keeps the file
	m, err := func() ([]byte, error) {
		if err := allocate(f, int64(size)); err != nil {
			return nil, err
		}
		return syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	}()
	if err != nil {
		os.Remove(name)
		return nil, err
	}
	return m, nil
}

// unmap lets the current file go: what was copied into it stays in the
// file, and its pages leave this process's resident memory.
func (j *journal) unmap() {
	if j.m != nil {
		if err := syscall.Munmap(j.m); err != nil {
			slog.Warn("ussd session journal: unmap", "err", err)
		}
		j.m = nil
	}
}

// flush writes the states saved since the last flush to the table, the
// newest of each session, and removes the journal files they were in once
// that is durable. On an error they stay in memory and in their files for
// the next flush.
func (j *journal) flush(ctx context.Context) error {
	if j.notOwner != nil {
		return nil
	}
	j.flushMu.Lock()
	defer j.flushMu.Unlock()
	start := time.Now()
	j.mu.Lock()
	batch := j.pending
	if len(batch) == 0 {
		j.mu.Unlock()
		return nil
	}
	j.pending, j.flushing = make(map[int64]*domain.USSDSession, len(batch)), batch
	// Files before upto hold nothing newer than batch; if a new file cannot
	// be started the current one goes on, and stays until a later flush.
	if err := j.rotateLocked(0); err != nil && j.m != nil {
		slog.Warn("ussd session journal", "err", err)
	}
	upto := j.seq
	j.mu.Unlock()

	keys := make([]int64, 0, len(batch))
	for k := range batch {
		keys = append(keys, k)
	}
	slices.Sort(keys) // neighbouring rows, neighbouring pages
	err := j.write(ctx, keys, batch)

	j.mu.Lock()
	if err != nil {
		for k, s := range batch {
			if _, newer := j.pending[k]; !newer {
				j.pending[k] = s
			}
		}
	}
	j.flushing = nil
	j.mu.Unlock()
	if err != nil {
		return fmt.Errorf("write ussd sessions from the journal: %w", err)
	}
	j.flushes.Add(1)
	j.flushed.Add(int64(len(batch)))
	j.flushNanos.Add(int64(time.Since(start)))
	seqs, err := j.files()
	if err != nil {
		return err
	}
	for _, seq := range seqs {
		if seq < upto {
			if err := os.Remove(j.name(seq)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("remove a flushed ussd session journal: %w", err)
			}
		}
	}
	return nil
}

// write upserts the sessions keys in batch, a chunk a transaction, and
// returns once all of them are durable: every chunk but the last commits
// without an fsync, and the last one's covers them all.
func (j *journal) write(ctx context.Context, keys []int64, batch map[int64]*domain.USSDSession) error {
	for len(keys) > 0 {
		chunk := keys[:min(journalChunk, len(keys))]
		keys = keys[len(chunk):]
		fn := func(tx *sql.Tx) error {
			args := make([]any, 0, 6*journalRows)
			for rest := chunk; len(rest) > 0; {
				rows := rest[:min(journalRows, len(rest))]
				rest = rest[len(rows):]
				args = args[:0]
				for _, k := range rows {
					s := batch[k]
					args = append(args, k, s.ID, s.Phone, s.State, s.Ended, fmtTime(s.UpdatedAt))
				}
				res, err := tx.ExecContext(ctx, upsertSessions(len(rows)), args...)
				if err != nil {
					return err
				}
				if n, err := res.RowsAffected(); err != nil {
					return err
				} else if n < int64(len(rows)) {
					// The index let two sessions share a key (both hashes
					// collided); the stored one keeps it.
					slog.Error("ussd sessions not stored: their keys are other sessions'", "sessions", int64(len(rows))-n)
				}
			}
			return nil
		}
		var err error
		if len(keys) > 0 {
			err = j.db.writeRelaxed(ctx, fn)
		} else {
			err = j.db.write(ctx, fn)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// journalRows is how many sessions one upsert statement stores, sharing a
// statement's own cost: 11.0 against 15.8 µs a session stored, medians of
// four interleaved runs of BenchmarkJournalFlush each.
const journalRows = 32

var upserts [journalRows + 1]string

// upsertSessions is the statement that stores n sessions, each only over a
// row of its own id and phone.
func upsertSessions(n int) string {
	if upserts[n] == "" {
		panic("upsertSessions: no statement for " + strconv.Itoa(n))
	}
	return upserts[n]
}

func init() {
	for n := 1; n <= journalRows; n++ {
		upserts[n] = `INSERT INTO ussd_sessions (k, id, phone, state, ended, updated_at) VALUES (?, ?, ?, ?, ?, ?)` +
			strings.Repeat(`, (?, ?, ?, ?, ?, ?)`, n-1) + `
			ON CONFLICT (k) DO UPDATE SET state = excluded.state, ended = excluded.ended, updated_at = excluded.updated_at
			WHERE ussd_sessions.phone = excluded.phone AND ussd_sessions.id = excluded.id`
	}
}

// flusher flushes every journalFlushEvery, and sooner when many sessions
// wait. After a failed flush it waits twice as long each time, up to ten
// seconds, so a full disk or a locked database does not turn into a new
// journal file and an error line five times a second.
func (j *journal) flusher() {
	defer close(j.done)
	wait := journalFlushEvery
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		select {
		case <-j.stop:
			return
		case <-t.C:
		case <-j.kick:
			if wait > journalFlushEvery {
				continue // failing: the timer says when to try again
			}
			t.Stop()
		}
		if err := j.flush(context.Background()); err != nil {
			wait = min(2*wait, 10*time.Second)
			slog.Error("flush ussd sessions; they stay in the journal and in memory", "err", err, "retry_in", wait)
		} else {
			wait = journalFlushEvery
		}
		t.Reset(wait)
	}
}

// JournalStats reports the USSD session journal's flushes: how many, the
// sessions they stored (sessions over flushes: how many each carried), and
// the time they took, until they were durable.
func (db *DB) JournalStats() (flushes, sessions int64, seconds float64) {
	j := db.journal.Load()
	if j == nil {
		return 0, 0, 0
	}
	return j.flushes.Load(), j.flushed.Load(), time.Duration(j.flushNanos.Load()).Seconds()
}

// close flushes what is in memory and closes the journal; its files are
// gone unless that flush failed, or a save came while it ran: that save
// went into the file the flush started, which then stays, to be replayed
// at the next start. Saves after the unmap are refused (errClosed).
func (j *journal) close() error {
	if j.notOwner != nil {
		return nil
	}
	close(j.stop)
	<-j.done
	err := j.flush(context.Background())
	j.mu.Lock()
	j.unmap()
	saved := len(j.pending) > 0
	j.mu.Unlock()
	if err == nil && !saved {
		// The last file, started by the flush, holds nothing.
		os.Remove(j.name(j.seq))
	}
	j.lock.Close()
	return err
}

// writeZeros fills f with size zero bytes: allocate where the file system
// cannot reserve blocks without writing them.
func writeZeros(f *os.File, size int64) error {
	zeros := make([]byte, 64<<10)
	for off := int64(0); off < size; off += int64(len(zeros)) {
		if _, err := f.WriteAt(zeros[:min(int64(len(zeros)), size-off)], off); err != nil {
			return err
		}
	}
	return nil
}
