package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/karyashala/karyashala/domain"
)

var _ domain.MessageService = (*MessageService)(nil)

// MessageService stores the SMS log, the outbox and opt-outs.
type MessageService struct{ db *DB }

// NewMessageService returns the message service on db.
func NewMessageService(db *DB) *MessageService { return &MessageService{db: db} }

const messageCols = `id, direction, provider, COALESCE(provider_id, ''), phone, peer, text, lang, status, segments, error, attempts, next_attempt_at, COALESCE(complaint_id, 0), COALESCE(reply_to, 0), created_at, updated_at, handled_at`

func scanMessage(row scanner) (*domain.Message, error) {
	var m domain.Message
	var next, handled sql.NullString
	var created, updated string
	if err := row.Scan(&m.ID, &m.Direction, &m.Provider, &m.ProviderID, &m.Phone, &m.Peer, &m.Text, &m.Lang, &m.Status, &m.Segments,
		&m.Error, &m.Attempts, &next, &m.ComplaintID, &m.ReplyTo, &created, &updated, &handled); err != nil {
		return nil, err
	}
	m.NextAttempt, m.CreatedAt, m.UpdatedAt, m.HandledAt = parseTimePtr(next), parseTime(created), parseTime(updated), parseTimePtr(handled)
	return &m, nil
}

// The inserts of every message in and out. Each row checks the table's
// CHECKs; an IN list of more than two values among them would build a
// b-tree for every row (see migration 2026-12-02-1-checks.sql and
// TestHotInsertsBuildNoTables).
const (
	insertInbound = `INSERT INTO messages (direction, provider, provider_id, phone, peer, text, lang, status, segments, created_at, updated_at)
		VALUES ('in', ?, ?, ?, ?, ?, ?, 'received', ?, ?, ?)`
	insertOutbound = `INSERT INTO messages (direction, provider, phone, peer, text, lang, status, segments, error, next_attempt_at, complaint_id, reply_to, created_at, updated_at)
		VALUES ('out', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

// StoreInbound saves an inbound message once per provider id, unanswered
// (handled_at NULL) for the inbox handler. It is the write every carrier
// callback waits for, so it is one statement and needs no savepoint; the
// inbound index (inboundIndex) finds a redelivery, which stores no row.
func (s *MessageService) StoreInbound(ctx context.Context, m *domain.Message) (*domain.Message, bool, error) {
	if m.Phone == "" || m.Provider == "" {
		return nil, false, domain.Errorf(domain.EINVALID, "an inbound message needs a phone and a provider")
	}
	idx, err := s.db.inbound()
	if err != nil {
		return nil, false, fmt.Errorf("store inbound message: %w", err)
	}
	now := s.db.now()
	m.Direction, m.Status, m.CreatedAt, m.UpdatedAt, m.HandledAt = domain.DirIn, domain.MsgReceived, now, now, nil
	if m.Segments == 0 {
		m.Segments, _ = domain.SMSSegments(m.Text)
	}
	var stored *domain.Message
	dup := false
	err = s.db.writeOne(ctx, func(tx *sql.Tx) error {
		var slot inboundSlot
		if m.ProviderID != "" {
			prev, s, err := idx.storedInbound(ctx, tx, m.Provider, m.ProviderID)
			if err != nil {
				return err
			}
			if prev != nil {
				stored, dup = prev, true
				return nil
			}
			slot = s
		}
		if err := insertID(ctx, tx, &m.ID, insertInbound,
			m.Provider, nullStr(m.ProviderID), m.Phone, m.Peer, m.Text, m.Lang, m.Segments, fmtTime(now), fmtTime(now)); err != nil {
			return err
		}
		if m.ProviderID != "" {
			idx.add(slot, m.ID)
		}
		stored = m
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("store inbound message: %w", err)
	}
	return stored, dup, nil
}

// InboundStored reports whether an inbound message with provider's id is
// stored already, so a redelivery can be told apart before anything is
// counted against its sender. A new id costs a look in the in-memory index
// and no read; only a hit is read back (on the read pool) to confirm it.
// A delivery whose first copy is still being stored is not seen: only
// StoreInbound decides, on the writer, whether a message is new.
func (s *MessageService) InboundStored(ctx context.Context, provider, providerID string) (bool, error) {
	if providerID == "" {
		return false, nil
	}
	idx, err := s.db.inbound()
	if err != nil {
		return false, fmt.Errorf("look for a stored inbound message: %w", err)
	}
	prev, _, err := idx.storedInbound(ctx, s.db.r, provider, providerID)
	if err != nil {
		return false, fmt.Errorf("look for a stored inbound message: %w", err)
	}
	return prev != nil, nil
}

// unhandled selects the inbound messages not yet answered, through the
// partial index that holds only them (its WHERE must match this one).
const unhandled = ` FROM messages INDEXED BY messages_unhandled WHERE direction = 'in' AND handled_at IS NULL`

// Unhandled returns up to lim stored inbound messages not yet answered,
// oldest first.
func (s *MessageService) Unhandled(ctx context.Context, lim int) ([]*domain.Message, error) {
	ms, err := list(ctx, s.db.r, `SELECT `+messageCols+unhandled+` ORDER BY id LIMIT ?`, []any{limit(lim)}, scanMessage)
	if err != nil {
		return nil, fmt.Errorf("unhandled messages: %w", err)
	}
	return ms, nil
}

// MarkHandled records that an inbound message was answered, with reason
// when it could not be. It reports false, changing nothing, when the
// message was answered already: the caller must not answer it again.
func (s *MessageService) MarkHandled(ctx context.Context, id int64, reason string) (bool, error) {
	var n int64
	err := s.db.writeOne(ctx, func(tx *sql.Tx) error {
		now := fmtTime(s.db.now())
		res, err := tx.ExecContext(ctx, `UPDATE messages SET handled_at = ?, updated_at = ?, error = ?
			WHERE id = ? AND direction = 'in' AND handled_at IS NULL`, now, now, reason, id)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("mark message %d handled: %w", id, err)
	}
	return n == 1, nil
}

// Backlog counts the inbound messages stored and not yet answered.
func (s *MessageService) Backlog(ctx context.Context) (int, error) {
	var n int
	err := s.db.r.QueryRowContext(ctx, `SELECT COUNT(*)`+unhandled).Scan(&n)
	return n, err
}

// enqueue writes an outbound message in tx: queued, or failed with reason
// "opted out" when the phone sent STOP and force is false.
func (db *DB) enqueue(ctx context.Context, tx *sql.Tx, m *domain.Message, force bool) error {
	if m.Phone == "" {
		return domain.Errorf(domain.EINVALID, "an outbound message needs a phone")
	}
	now := db.now()
	m.Direction, m.Status, m.CreatedAt, m.UpdatedAt = domain.DirOut, domain.MsgQueued, now, now
	m.Segments, _ = domain.SMSSegments(m.Text)
	if !force {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM opt_outs WHERE phone = ?`, m.Phone).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			m.Status, m.Error = domain.MsgFailed, "opted out"
		}
	}
	return insertID(ctx, tx, &m.ID, insertOutbound,
		m.Provider, m.Phone, m.Peer, m.Text, m.Lang, m.Status, m.Segments, m.Error, fmtTime(now), nullID(m.ComplaintID), nullID(m.ReplyTo), fmtTime(now), fmtTime(now))
}

// Enqueue puts a message in the outbox.
func (s *MessageService) Enqueue(ctx context.Context, m *domain.Message, force bool) error {
	err := s.db.write(ctx, func(tx *sql.Tx) error { return s.db.enqueue(ctx, tx, m, force) })
	if err != nil {
		return fmt.Errorf("enqueue message: %w", err)
	}
	return nil
}

// MessageByID returns one message.
func (s *MessageService) MessageByID(ctx context.Context, id int64) (*domain.Message, error) {
	m, err := scanMessage(s.db.r.QueryRowContext(ctx, `SELECT `+messageCols+` FROM messages WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, domain.Errorf(domain.ENOTFOUND, "message %d not found", id)
	}
	return m, err
}

// FindMessages lists messages newest first.
func (s *MessageService) FindMessages(ctx context.Context, f domain.MessageFilter) ([]*domain.Message, string, error) {
	before, err := parseCursor(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	lim := limit(f.Limit)
	var w where
	w.add(before > 0, `id < ?`, before)
	w.add(f.Direction != "", `direction = ?`, f.Direction)
	w.add(f.Status != "", `status = ?`, f.Status)
	w.add(f.Phone != "", `phone = ?`, f.Phone)
	q, args := `SELECT `+messageCols+` FROM messages`+w.String(), w.args
	return page(ctx, s.db.r, q+` ORDER BY id DESC LIMIT ?`, append(args, lim), lim, scanMessage, func(v *domain.Message) int64 { return v.ID })
}

// OptedOutNote is the error of an outbound message that was waiting in the
// outbox (queued, or queued again for a retry) when its phone sent STOP.
const OptedOutNote = "not sent: the number sent STOP"

// failQueuedTo fails the phone's outbound messages still waiting to be
// claimed, through the partial index of queued messages: the table has no
// index by phone, and only the queued rows are read.
const failQueuedTo = `UPDATE messages INDEXED BY messages_queued SET status = 'failed', error = ?, updated_at = ?
	WHERE status = 'queued' AND direction = 'out' AND phone = ?`

// OptOut records STOP and, in the same transaction, fails every message to
// the phone still waiting in the outbox (a reply queued just before, one
// queued again after a carrier's 5xx): STOP means nothing more is sent but
// the confirmation, which the caller queues, with force, after this.
func (s *MessageService) OptOut(ctx context.Context, phone string) error {
	return s.db.write(ctx, func(tx *sql.Tx) error {
		now := fmtTime(s.db.now())
		if _, err := tx.ExecContext(ctx, `INSERT INTO opt_outs (phone, created_at) VALUES (?, ?) ON CONFLICT (phone) DO NOTHING`, phone, now); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, failQueuedTo, OptedOutNote, now, phone)
		return err
	})
}

// OptIn removes an opt-out.
func (s *MessageService) OptIn(ctx context.Context, phone string) error {
	return s.db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM opt_outs WHERE phone = ?`, phone)
		return err
	})
}

// IsOptedOut reports whether the phone sent STOP; inside Atomically it sees
// a STOP the same write recorded, as the inbox's batches need.
func (s *MessageService) IsOptedOut(ctx context.Context, phone string) (bool, error) {
	var n int
	err := s.db.reader(ctx).QueryRowContext(ctx, `SELECT COUNT(*) FROM opt_outs WHERE phone = ?`, phone).Scan(&n)
	return n > 0, err
}

// OptOuts lists opted-out phones newest first. The cursor is the rowid of
// the last row.
func (s *MessageService) OptOuts(ctx context.Context, cursor string, lim int) ([]*domain.OptOut, string, error) {
	before, err := parseCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	lim = limit(lim)
	q := `SELECT rowid, phone, created_at FROM opt_outs`
	var args []any
	if before > 0 {
		q += ` WHERE rowid < ?`
		args = append(args, before)
	}
	rows, err := s.db.r.QueryContext(ctx, q+` ORDER BY rowid DESC LIMIT ?`, append(args, lim)...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var out []*domain.OptOut
	var last int64
	for rows.Next() {
		var o domain.OptOut
		var created string
		if err := rows.Scan(&last, &o.Phone, &created); err != nil {
			return nil, "", err
		}
		o.CreatedAt = parseTime(created)
		out = append(out, &o)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	return out, nextCursor(len(out), lim, last), nil
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}
