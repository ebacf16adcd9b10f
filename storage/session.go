package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/karyashala/karyashala/domain"
)

var _ domain.SessionStore = (*SessionStore)(nil)

// SessionStore persists USSD sessions. Every hop's state is written before
// the carrier is answered; the engine keeps live sessions decoded itself, so
// reads here are for a session's first hop and after a restart.
type SessionStore struct{ db *DB }

// NewSessionStore returns the session store on db.
func NewSessionStore(db *DB) *SessionStore { return &SessionStore{db: db} }

func scanSession(row scanner) (*domain.USSDSession, error) {
	var s domain.USSDSession
	var updated string
	if err := row.Scan(&s.ID, &s.Phone, &s.State, &s.Ended, &updated); err != nil {
		return nil, err
	}
	s.UpdatedAt = parseTime(updated)
	return &s, nil
}

// SessionByID returns one session.
func (s *SessionStore) SessionByID(ctx context.Context, id string) (*domain.USSDSession, error) {
	sess, err := scanSession(s.db.r.QueryRowContext(ctx, `SELECT id, phone, state, ended, updated_at FROM ussd_sessions WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, domain.Errorf(domain.ENOTFOUND, "ussd session %q not found", id)
	}
	return sess, err
}

// SaveSession inserts or replaces a session. A session id is one phone's:
// saving it for another phone is EINVALID and changes nothing.
func (s *SessionStore) SaveSession(ctx context.Context, sess *domain.USSDSession) error {
	if sess.UpdatedAt.IsZero() {
		sess.UpdatedAt = s.db.now()
	}
	return s.db.writeRelaxed(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO ussd_sessions (id, phone, state, ended, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET state = excluded.state, ended = excluded.ended, updated_at = excluded.updated_at
			WHERE ussd_sessions.phone = excluded.phone`,
			sess.ID, sess.Phone, sess.State, sess.Ended, fmtTime(sess.UpdatedAt))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return domain.Errorf(domain.EINVALID, "session %s belongs to another phone number", sess.ID)
		}
		return nil
	})
}

// LatestSession returns the phone's latest open session updated after since.
func (s *SessionStore) LatestSession(ctx context.Context, phone string, since time.Time) (*domain.USSDSession, error) {
	sess, err := scanSession(s.db.r.QueryRowContext(ctx, `SELECT id, phone, state, ended, updated_at FROM ussd_sessions
		WHERE phone = ? AND ended = 0 AND updated_at > ? ORDER BY updated_at DESC LIMIT 1`, phone, fmtTime(since)))
	if errors.Is(err, sql.ErrNoRows) {
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
// rowids at a time, each in a transaction of its own: the writer is never
// held up for more than one chunk's scan.
func (s *SessionStore) DeleteSessionsBefore(ctx context.Context, t time.Time) (int64, error) {
	var lo, hi int64
	if err := s.db.r.QueryRowContext(ctx, `SELECT IFNULL(MIN(rowid), 0), IFNULL(MAX(rowid), -1) FROM ussd_sessions`).Scan(&lo, &hi); err != nil {
		return 0, fmt.Errorf("sweep ussd sessions: %w", err)
	}
	before := fmtTime(t)
	var total int64
	for from := lo; from <= hi; from += sweepChunk {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		err := s.db.writeOne(ctx, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `DELETE FROM ussd_sessions WHERE rowid >= ? AND rowid < ? AND updated_at < ?`, from, from+sweepChunk, before)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			total += n
			return err
		})
		if err != nil {
			return total, fmt.Errorf("sweep ussd sessions: %w", err)
		}
	}
	return total, nil
}
