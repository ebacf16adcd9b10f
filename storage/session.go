package storage

import (
	"context"
	"database/sql"
	"errors"
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

// DeleteSessionsBefore removes old sessions.
func (s *SessionStore) DeleteSessionsBefore(ctx context.Context, t time.Time) (int64, error) {
	var n int64
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM ussd_sessions WHERE updated_at < ?`, fmtTime(t))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
