package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/karyashala/karyashala/domain"
)

var _ domain.LedgerService = (*LedgerService)(nil)

// LedgerService books payouts against earnings.
type LedgerService struct{ db *DB }

// NewLedgerService returns the ledger service on db.
func NewLedgerService(db *DB) *LedgerService { return &LedgerService{db: db} }

// Pay returns a member's figures, as the write transaction ctx runs inside
// (if any) sees them.
func (s *LedgerService) Pay(ctx context.Context, memberID int64) (*domain.PayFigures, error) {
	p := &domain.PayFigures{MemberID: memberID}
	q := s.db.reader(ctx)
	if err := memberExists(ctx, q, memberID); err != nil {
		return nil, err
	}
	err := q.QueryRowContext(ctx, `SELECT
		COALESCE((SELECT SUM(amount_minor) FROM work_reports WHERE member_id = ? AND status = 'pending'), 0),
		COALESCE((SELECT SUM(amount_minor) FROM ledger WHERE member_id = ? AND kind = 'earning'), 0),
		COALESCE((SELECT SUM(amount_minor) FROM ledger WHERE member_id = ? AND kind = 'payout'), 0)`,
		memberID, memberID, memberID).Scan(&p.Pending, &p.Approved, &p.Paid)
	if err != nil {
		return nil, fmt.Errorf("pay figures of member %d: %w", memberID, err)
	}
	p.Earned = p.Pending + p.Approved
	p.Balance = p.Approved - p.Paid
	return p, nil
}

func balance(ctx context.Context, tx *sql.Tx, memberID int64) (int64, error) {
	var b int64
	err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(CASE kind WHEN 'earning' THEN amount_minor ELSE -amount_minor END), 0) FROM ledger WHERE member_id = ?`, memberID).Scan(&b)
	return b, err
}

// RecordPayout books a payment. The balance is read and the payout written
// in one write transaction, and write transactions are serialised, so two
// payouts can never together overdraw.
func (s *LedgerService) RecordPayout(ctx context.Context, p domain.Payout, by string) (*domain.LedgerEntry, error) {
	if p.AmountMinor <= 0 {
		return nil, domain.Errorf(domain.EINVALID, "amount_minor: must be a positive whole number of minor units, not %d", p.AmountMinor)
	}
	p.Reference = strings.TrimSpace(p.Reference)
	e := &domain.LedgerEntry{MemberID: p.MemberID, Kind: domain.EntryPayout, AmountMinor: p.AmountMinor, Reference: p.Reference, Note: p.Note, CreatedBy: by, CreatedAt: s.db.now()}
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		if p.Reference != "" {
			prev, err := scanEntry(tx.QueryRowContext(ctx, `SELECT `+entryCols+` FROM ledger WHERE reference = ?`, p.Reference))
			if err == nil {
				if prev.MemberID != p.MemberID || prev.AmountMinor != p.AmountMinor {
					return fmt.Errorf("%w: %w", domain.ErrReferenceUsed, domain.Errorf(domain.ECONFLICT, "reference: %q was already used for a payout of %d to member %d on %s (entry %d); nothing was booked now, use the new payment's own reference",
						p.Reference, prev.AmountMinor, prev.MemberID, prev.CreatedAt.Format(time.DateOnly), prev.ID))
				}
				e = prev
				return nil
			} else if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		if err := memberExists(ctx, tx, p.MemberID); err != nil {
			return err
		}
		b, err := balance(ctx, tx, p.MemberID)
		if err != nil {
			return err
		}
		if p.AmountMinor > b {
			return fmt.Errorf("%w: %w", domain.ErrOverBalance, domain.Errorf(domain.ECONFLICT, "amount_minor: %d is more than the balance of %d; pay at most the balance", p.AmountMinor, b))
		}
		var ref any
		if p.Reference != "" {
			ref = p.Reference
		}
		return insertID(ctx, tx, &e.ID, `INSERT INTO ledger (member_id, kind, amount_minor, reference, note, created_by, created_at) VALUES (?, 'payout', ?, ?, ?, ?, ?)`,
			p.MemberID, p.AmountMinor, ref, p.Note, by, fmtTime(e.CreatedAt))
	})
	if err != nil {
		return nil, fmt.Errorf("record payout for member %d: %w", p.MemberID, err)
	}
	return e, nil
}

const entryCols = `id, member_id, kind, amount_minor, COALESCE(work_report_id, 0), COALESCE(reference, ''), note, created_by, created_at`

func scanEntry(row scanner) (*domain.LedgerEntry, error) {
	var e domain.LedgerEntry
	var created string
	if err := row.Scan(&e.ID, &e.MemberID, &e.Kind, &e.AmountMinor, &e.WorkReportID, &e.Reference, &e.Note, &e.CreatedBy, &created); err != nil {
		return nil, err
	}
	e.CreatedAt = parseTime(created)
	return &e, nil
}

// Entries lists a member's ledger newest first.
func (s *LedgerService) Entries(ctx context.Context, memberID int64, cursor string, lim int) ([]*domain.LedgerEntry, string, error) {
	before, err := parseCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	lim = limit(lim)
	var w where
	w.add(true, `member_id = ?`, memberID)
	w.add(before > 0, `id < ?`, before)
	q, args := `SELECT `+entryCols+` FROM ledger`+w.String(), w.args
	return page(ctx, s.db.r, q+` ORDER BY id DESC LIMIT ?`, append(args, lim), lim, scanEntry, func(v *domain.LedgerEntry) int64 { return v.ID })
}
