package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"time"

	"github.com/karyashala/karyashala/domain"
)

var _ domain.SessionStore = (*SessionStore)(nil)

// SessionStore persists USSD sessions. Every hop's state is written before
// the carrier is answered, to the session journal (storage/journal.go),
// which moves it to the table within a fraction of a second; the engine
// keeps live sessions decoded itself, so reads here are for a session's
// first hop and after a restart.
//
// A carrier's session id and a phone number are random keys. As SQLite
// indexes each new session put an entry on a page of its own in each, two
// more pages for the WAL and the checkpoint than its row, and made a session
// save three to four times the cost of an append on the one writer. The
// table is keyed instead by a number given in order (k), so a new session's
// row lands beside the last one; the two lookups are maps in memory, read
// from the table when the store is made. Only one process writes a
// database's sessions, the first to make a store (see journal).
type SessionStore struct{ db *DB }

// NewSessionStore returns the session store on db, reading the index now
// (100,000 sessions take about a tenth of a second) rather than in a first
// hop, and replaying the session journal a crash left. Every store on one DB
// shares one index; an error reading it is returned by every call.
func NewSessionStore(db *DB) *SessionStore {
	db.sessions()
	return &SessionStore{db: db}
}

// sessionIndex finds a session's key by its carrier id, and a phone's
// newest session: the last to start, whose key is the highest.
//
// The maps are keyed by a 64-bit hash of the id and of the phone, so they
// hold no pointers and the collector never walks them: with the strings
// themselves as keys, each collection's marking took twice as long (54-58
// against 24-35 ms, live heap 28 against 22 MB, after 480,000 hops). An
// entry costs about 50 bytes. Every read checks the row's own id or phone,
// and a save's upsert its id, so two strings with one hash (about one chance
// in 10^7 among a million sessions) cost the newer session an error, never
// another's state: a save is checked against a second hash, of the id and
// the phone together, which both would have to match too.
type sessionIndex struct {
	once    sync.Once
	err     error
	j       *journal
	mu      sync.Mutex
	seed    maphash.Seed
	seed2   maphash.Seed // check's
	byID    map[uint64]sessionKey
	byPhone map[uint64]int64
	next    int64               // the key a new session gets
	sum     func(string) uint64 // tests' stand-in for the hash
}

// hash is safe without mu: seed is set once, when the index is read.
func (idx *sessionIndex) hash(s string) uint64 {
	if idx.sum != nil {
		return idx.sum(s)
	}
	return maphash.String(idx.seed, s)
}

// check is the second hash, of a session's id and phone together.
func (idx *sessionIndex) check(id, phone string) uint64 {
	var h maphash.Hash
	h.SetSeed(idx.seed2)
	h.WriteString(id)
	h.WriteByte(0)
	h.WriteString(phone)
	return h.Sum64()
}

type sessionKey struct {
	k      int64
	check  uint64 // of the id and the phone that holds it
	stored bool   // a save of it succeeded
}

// sessions returns db's session index, reading it from the table and the
// journal the first time (not under any one caller's context: a cancelled
// first caller would leave the index unread for good).
func (db *DB) sessions() (*sessionIndex, error) {
	idx := &db.sessionIdx
	idx.once.Do(func() {
		if idx.err = idx.load(context.Background(), db.r); idx.err != nil {
			return
		}
		idx.j, idx.err = openJournal(db, idx)
		db.journal.Store(idx.j)
	})
	return idx, idx.err
}

// load reads every stored session's key.
func (idx *sessionIndex) load(ctx context.Context, r *sql.DB) error {
	idx.seed, idx.seed2 = maphash.MakeSeed(), maphash.MakeSeed()
	idx.byID, idx.byPhone, idx.next = make(map[uint64]sessionKey), make(map[uint64]int64), 1
	rows, err := r.QueryContext(ctx, `SELECT k, id, phone FROM ussd_sessions ORDER BY k`)
	if err != nil {
		return fmt.Errorf("read ussd session keys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k int64
		var id, phone string
		if err := rows.Scan(&k, &id, &phone); err != nil {
			return fmt.Errorf("read ussd session keys: %w", err)
		}
		// In key order, the last row of an id (the one saves reach) and of
		// a phone (its newest session) win.
		idx.byID[idx.hash(id)] = sessionKey{k: k, check: idx.check(id, phone), stored: true}
		idx.byPhone[idx.hash(phone)] = k
		idx.next = k + 1
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read ussd session keys: %w", err)
	}
	return nil
}

// claim returns id's key for a save from phone, giving a new one to an id
// not seen before. An id stored for another phone is EINVALID.
func (idx *sessionIndex) claim(id, phone string) (sessionKey, error) {
	h, c := idx.hash(id), idx.check(id, phone)
	idx.mu.Lock()
	defer idx.mu.Unlock()
	sk, ok := idx.byID[h]
	switch {
	case !ok:
		sk = sessionKey{k: idx.next, check: c}
		idx.next++
		idx.byID[h] = sk
	case sk.check != c && sk.stored:
		return sk, domain.Errorf(domain.EINVALID, "session %s belongs to another phone number", id)
	case sk.check != c:
		sk.check = c // never stored: nobody's yet
		idx.byID[h] = sk
	}
	return sk, nil
}

// replayed records a save found in the journal, as load does a row: the
// newest key of an id and of a phone wins.
func (idx *sessionIndex) replayed(id, phone string, k int64) {
	h, p := idx.hash(id), idx.hash(phone)
	if k >= idx.byID[h].k {
		idx.byID[h] = sessionKey{k: k, check: idx.check(id, phone), stored: true}
	}
	if k > idx.byPhone[p] {
		idx.byPhone[p] = k
	}
	idx.next = max(idx.next, k+1)
}

func (idx *sessionIndex) lookup(id string) (int64, bool) {
	h := idx.hash(id)
	idx.mu.Lock()
	defer idx.mu.Unlock()
	sk, ok := idx.byID[h]
	return sk.k, ok
}

// stored records the first successful save of id, phone's session k: a
// session only reaches the phone's lookup once it is in the table. Later
// saves leave the index alone (a hop's cost: these maps are large).
func (idx *sessionIndex) stored(id, phone string, k int64) {
	h, p := idx.hash(id), idx.hash(phone)
	idx.mu.Lock()
	defer idx.mu.Unlock()
	if sk, ok := idx.byID[h]; ok && sk.k == k {
		sk.stored = true
		idx.byID[h] = sk
	}
	if k > idx.byPhone[p] {
		idx.byPhone[p] = k
	}
}

func (idx *sessionIndex) latest(phone string) (int64, bool) {
	p := idx.hash(phone)
	idx.mu.Lock()
	defer idx.mu.Unlock()
	k, ok := idx.byPhone[p]
	return k, ok
}

// deletedSession is a swept row, to forget.
type deletedSession struct {
	k         int64
	id, phone string
}

// forget drops swept sessions from the lookups, but for any saved again
// since: the next flush stores them again.
func (idx *sessionIndex) forget(gone []deletedSession) {
	idx.mu.Lock()
	defer idx.mu.Unlock()
	for _, d := range gone {
		if idx.j.holds(d.k) {
			continue
		}
		if h := idx.hash(d.id); idx.byID[h].k == d.k {
			delete(idx.byID, h)
		}
		if p := idx.hash(d.phone); idx.byPhone[p] == d.k {
			delete(idx.byPhone, p)
		}
	}
}

const sessionCols = `id, phone, state, ended, updated_at`

func scanSession(row scanner) (*domain.USSDSession, error) {
	var s domain.USSDSession
	var updated string
	if err := row.Scan(&s.ID, &s.Phone, &s.State, &s.Ended, &updated); err != nil {
		return nil, err
	}
	s.UpdatedAt = parseTime(updated)
	return &s, nil
}

// Writable returns nil if this process writes the database's sessions, and
// otherwise why not: another process does, or the index could not be read.
func (s *SessionStore) Writable() error {
	idx, err := s.db.sessions()
	if err != nil {
		return err
	}
	return idx.j.notOwner
}

// SessionByID returns one session.
func (s *SessionStore) SessionByID(ctx context.Context, id string) (*domain.USSDSession, error) {
	idx, err := s.db.sessions()
	if err != nil {
		return nil, err
	}
	k, ok := idx.lookup(id)
	var sess *domain.USSDSession
	if ok {
		if held, in := idx.j.get(k); in {
			if held.ID == id {
				return held, nil
			}
			ok = false
		}
	}
	if ok {
		// A key whose first save failed has no row.
		sess, err = scanSession(s.db.r.QueryRowContext(ctx, `SELECT `+sessionCols+` FROM ussd_sessions WHERE k = ? AND id = ?`, k, id))
	}
	if !ok || errors.Is(err, sql.ErrNoRows) {
		return nil, domain.Errorf(domain.ENOTFOUND, "ussd session %q not found", id)
	}
	return sess, err
}

// SaveSession inserts or replaces a session, in the journal: it returns
// once the state survives a crash of the process (see journal). A session
// id is one phone's: saving it for another phone is EINVALID and changes
// nothing.
func (s *SessionStore) SaveSession(ctx context.Context, sess *domain.USSDSession) error {
	idx, err := s.db.sessions()
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if sess.ID == "" {
		return domain.Errorf(domain.EINVALID, "a ussd session needs an id")
	}
	if sess.UpdatedAt.IsZero() {
		sess.UpdatedAt = s.db.now()
	}
	sk, err := idx.claim(sess.ID, sess.Phone)
	if err != nil {
		return err
	}
	if err := idx.j.save(sk.k, sess); err != nil {
		return err
	}
	if !sk.stored {
		idx.stored(sess.ID, sess.Phone, sk.k)
	}
	return nil
}

// LatestSession returns the phone's newest session (the last to start) if it
// is open and was updated after since.
func (s *SessionStore) LatestSession(ctx context.Context, phone string, since time.Time) (*domain.USSDSession, error) {
	idx, err := s.db.sessions()
	if err != nil {
		return nil, err
	}
	k, ok := idx.latest(phone)
	var sess *domain.USSDSession
	if ok {
		if held, in := idx.j.get(k); in {
			if held.Phone == phone && !held.Ended && held.UpdatedAt.After(since) {
				return held, nil
			}
			ok = false
		}
	}
	if ok {
		sess, err = scanSession(s.db.r.QueryRowContext(ctx, `SELECT `+sessionCols+` FROM ussd_sessions
			WHERE k = ? AND phone = ? AND ended = 0 AND updated_at > ?`, k, phone, fmtTime(since)))
	}
	if !ok || errors.Is(err, sql.ErrNoRows) {
		return nil, domain.Errorf(domain.ENOTFOUND, "no open ussd session for %s", domain.MaskPhone(phone))
	}
	return sess, err
}

// sweepChunk bounds the rows one sweep transaction looks at. The table has
// no index on updated_at (every hop would pay to move its entry), so one
// DELETE over the whole table held the writer, and every caller's write,
// for as long as a scan of every stored session took.
const sweepChunk = 1000

// DeleteSessionsBefore removes sessions last updated before t, a range of
// keys at a time, each in a transaction of its own: the writer is never held
// up for more than one chunk's scan. It flushes the journal first, so a
// session in memory is judged by its newest state.
func (s *SessionStore) DeleteSessionsBefore(ctx context.Context, t time.Time) (int64, error) {
	idx, err := s.db.sessions()
	if err != nil {
		return 0, err
	}
	if idx.j.notOwner != nil {
		return 0, idx.j.notOwner
	}
	if err := idx.j.flush(ctx); err != nil {
		return 0, fmt.Errorf("sweep ussd sessions: %w", err)
	}
	var lo, hi int64
	if err := s.db.r.QueryRowContext(ctx, `SELECT IFNULL(MIN(k), 0), IFNULL(MAX(k), -1) FROM ussd_sessions`).Scan(&lo, &hi); err != nil {
		return 0, fmt.Errorf("sweep ussd sessions: %w", err)
	}
	before := fmtTime(t)
	var total int64
	for from := lo; from <= hi; from += sweepChunk {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		var gone []deletedSession
		err := s.db.write(ctx, func(tx *sql.Tx) error {
			rows, err := tx.QueryContext(ctx, `DELETE FROM ussd_sessions WHERE k >= ? AND k < ? AND updated_at < ? RETURNING k, id, phone`, from, from+sweepChunk, before)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var d deletedSession
				if err := rows.Scan(&d.k, &d.id, &d.phone); err != nil {
					return err
				}
				gone = append(gone, d)
			}
			return rows.Err()
		})
		if err != nil {
			return total, fmt.Errorf("sweep ussd sessions: %w", err)
		}
		idx.forget(gone)
		total += int64(len(gone))
	}
	return total, nil
}
