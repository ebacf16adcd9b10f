package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/karyashala/karyashala/domain"
)

var _ domain.Outbox = (*Outbox)(nil)

// Outbox is the senders' side of the messages table. Every state change is
// one UPDATE on the single write connection, so two workers never claim the
// same message.
type Outbox struct{ db *DB }

// NewOutbox returns the outbox on db.
func NewOutbox(db *DB) *Outbox { return &Outbox{db: db} }

// Unconfirmed starts the note on messages recovered from sending after a
// crash: the carrier may or may not have them.
const Unconfirmed = "unconfirmed: the gateway stopped while sending this message; " + unconfirmedAdvice

// unconfirmedAdvice ends the note on every message marked sent without the
// carrier's word (RecoverSending, MarkUnconfirmed).
const unconfirmedAdvice = "it was not sent again, to avoid a duplicate. A delivery report will confirm it; if none arrives, check the carrier's log before sending it by hand."

// msgRank orders message states: a delivery report moves a message forward
// only.
var msgRank = map[string]int{
	domain.MsgQueued:    0,
	domain.MsgSending:   1,
	domain.MsgSent:      2,
	domain.MsgDelivered: 3,
	domain.MsgFailed:    3,
}

// outboundByCarrierID finds the message a delivery report is about,
// through the partial unique index of outbound carrier ids.
const outboundByCarrierID = `SELECT ` + messageCols + ` FROM messages WHERE direction = 'out' AND provider = ? AND provider_id = ?`

// claimQuery finds the next due queued message. Without statistics the
// planner would rather walk every outbound message by direction.
const claimQuery = `SELECT id FROM messages INDEXED BY messages_queued
	WHERE status = 'queued' AND direction = 'out' AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
	ORDER BY next_attempt_at, id LIMIT 1`

// ClaimNext marks the oldest due queued message sending, counting the
// attempt, before any carrier is called.
//
// An idle sender asks every second; it looks on the read pool first, and
// the claim itself, a write, happens only when something is due. A write
// that is not a session save makes the batch it lands in commit with an
// fsync, and an idle poll in a batch of USSD session saves held every hop
// in it up for one.
func (o *Outbox) ClaimNext(ctx context.Context, provider string) (*domain.Message, error) {
	now := fmtTime(o.db.now())
	if o.db.txOf(ctx) == nil {
		var due bool
		if err := o.db.r.QueryRowContext(ctx, `SELECT EXISTS (`+claimQuery+`)`, now).Scan(&due); err != nil {
			return nil, fmt.Errorf("look for due outbound messages: %w", err)
		} else if !due {
			return nil, domain.Errorf(domain.ENOTFOUND, "no message is due")
		}
	}
	var m *domain.Message
	err := o.db.write(ctx, func(tx *sql.Tx) error {
		var err error
		m, err = scanMessage(tx.QueryRowContext(ctx, `UPDATE messages
			SET status = 'sending', provider = ?, attempts = attempts + 1, updated_at = ?
			WHERE id = (`+claimQuery+`)
			RETURNING `+messageCols, provider, now, now))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, domain.Errorf(domain.ENOTFOUND, "no message is due")
	} else if err != nil {
		return nil, fmt.Errorf("claim outbound message: %w", err)
	}
	return m, nil
}

// MarkSent records the carrier's acceptance. A delivery report that beat it
// here (delivered, failed) is kept.
func (o *Outbox) MarkSent(ctx context.Context, id int64, providerID string) error {
	return o.update(ctx, id, "mark message sent", `UPDATE messages SET
		status = CASE WHEN status IN ('queued', 'sending', 'sent') THEN 'sent' ELSE status END,
		error = CASE WHEN status IN ('queued', 'sending', 'sent') THEN '' ELSE error END,
		provider_id = COALESCE(provider_id, ?), updated_at = ?
		WHERE id = ? AND direction = 'out'`, nullStr(providerID), fmtTime(o.db.now()), id)
}

// MarkUnconfirmed records a claimed message sent without the carrier's
// word, with a note that starts "unconfirmed: " and says why: the carrier
// may have it. A delivery report that got here first is kept.
func (o *Outbox) MarkUnconfirmed(ctx context.Context, id int64, reason string) error {
	return o.update(ctx, id, "mark message sent, unconfirmed", `UPDATE messages SET
		status = CASE WHEN status IN ('queued', 'sending') THEN 'sent' ELSE status END,
		error = CASE WHEN status IN ('queued', 'sending') THEN ? ELSE error END,
		updated_at = ?
		WHERE id = ? AND direction = 'out'`, "unconfirmed: "+reason+"; "+unconfirmedAdvice, fmtTime(o.db.now()), id)
}

// Retry queues a claimed message again, due at next.
func (o *Outbox) Retry(ctx context.Context, id int64, next time.Time, reason string) error {
	return o.update(ctx, id, "retry message", `UPDATE messages SET status = 'queued', next_attempt_at = ?, error = ?, updated_at = ?
		WHERE id = ? AND direction = 'out' AND status IN ('queued', 'sending')`, fmtTime(next), reason, fmtTime(o.db.now()), id)
}

// MarkFailed gives up on a message that was not yet sent.
func (o *Outbox) MarkFailed(ctx context.Context, id int64, reason string) error {
	return o.update(ctx, id, "mark message failed", `UPDATE messages SET status = 'failed', error = ?, updated_at = ?
		WHERE id = ? AND direction = 'out' AND status IN ('queued', 'sending')`, reason, fmtTime(o.db.now()), id)
}

// update runs one UPDATE of an outbound message by id. No row changed is
// fine when the message exists (a delivery report got there first) and
// ENOTFOUND when it does not.
func (o *Outbox) update(ctx context.Context, id int64, what, q string, args ...any) error {
	err := o.db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM messages WHERE id = ? AND direction = 'out'`, id).Scan(&n); err != nil {
			return err
		} else if n == 0 {
			return domain.Errorf(domain.ENOTFOUND, "outbound message %d not found", id)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s %d: %w", what, id, err)
	}
	return nil
}

// ApplyReport moves a message forward on a carrier's delivery report.
func (o *Outbox) ApplyReport(ctx context.Context, r domain.DeliveryReport) (*domain.Message, error) {
	rank, ok := msgRank[r.Status]
	if !ok || r.Status == domain.MsgQueued || r.Status == domain.MsgSending {
		return nil, domain.Errorf(domain.EINVALID, "delivery report status %q is not sent, delivered or failed", r.Status)
	}
	if r.MessageID == 0 && (r.Provider == "" || r.ProviderID == "") {
		return nil, domain.Errorf(domain.EINVALID, "a delivery report needs our message id or the carrier's")
	}
	var m *domain.Message
	err := o.db.write(ctx, func(tx *sql.Tx) error {
		var err error
		if r.MessageID != 0 {
			m, err = scanMessage(tx.QueryRowContext(ctx, `SELECT `+messageCols+` FROM messages WHERE id = ? AND direction = 'out'`, r.MessageID))
		} else {
			m, err = scanMessage(tx.QueryRowContext(ctx, outboundByCarrierID, r.Provider, r.ProviderID))
		}
		if errors.Is(err, sql.ErrNoRows) {
			return domain.Errorf(domain.ENOTFOUND, "no outbound message matches the report (id %d, %s id %q)", r.MessageID, r.Provider, r.ProviderID)
		} else if err != nil {
			return err
		}
		if m.ProviderID == "" && r.ProviderID != "" {
			m.ProviderID = r.ProviderID
		}
		if rank > msgRank[m.Status] {
			m.Status = r.Status
			switch {
			case r.Status == domain.MsgFailed:
				m.Error = r.Reason
			case r.Status == domain.MsgDelivered:
				m.Error = ""
			}
		}
		m.UpdatedAt = o.db.now()
		_, err = tx.ExecContext(ctx, `UPDATE messages SET status = ?, error = ?, provider_id = ?, updated_at = ? WHERE id = ?`,
			m.Status, m.Error, nullStr(m.ProviderID), fmtTime(m.UpdatedAt), m.ID)
		if isUnique(err) {
			return domain.Errorf(domain.ECONFLICT, "the report names message %d, but %s id %q belongs to another message", m.ID, r.Provider, r.ProviderID)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("apply delivery report: %w", err)
	}
	return m, nil
}

// RecoverSending settles messages a dead process left sending, without
// sending them again.
func (o *Outbox) RecoverSending(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := o.db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE messages SET status = 'sent', error = ?, updated_at = ?
			WHERE direction = 'out' AND status = 'sending' AND updated_at < ?`, Unconfirmed, fmtTime(o.db.now()), fmtTime(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("recover messages left sending: %w", err)
	}
	return int(n), nil
}
