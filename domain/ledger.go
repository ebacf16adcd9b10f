package domain

import (
	"context"
	"errors"
	"time"
)

// ErrOverBalance and ErrReferenceUsed are in the chain of RecordPayout's
// ECONFLICT, for a caller that says it its own way (test with errors.Is):
// the payout is more than the balance, or its reference was used for
// another payout.
var (
	ErrOverBalance   = errors.New("more than the balance")
	ErrReferenceUsed = errors.New("reference used for another payout")
)

// Ledger entry kinds.
const (
	EntryEarning = "earning"
	EntryPayout  = "payout"
)

// LedgerEntry is an earning (from an approved work report) or a payout to a
// worker. Amounts are positive integer minor units; Kind gives the sign.
type LedgerEntry struct {
	ID           int64     `json:"id"`
	MemberID     int64     `json:"member_id"`
	Kind         string    `json:"kind"`
	AmountMinor  int64     `json:"amount_minor"`
	WorkReportID int64     `json:"work_report_id,omitempty"`
	Reference    string    `json:"reference,omitempty"` // payout idempotency key, e.g. a UPI transaction id
	Note         string    `json:"note,omitempty"`
	CreatedBy    string    `json:"created_by,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
}

// PayFigures are a worker's money, all in minor units. Earned counts every
// reported unit not rejected (pending and approved); Approved is what leaders
// approved; Paid what was paid out; Balance = Approved - Paid, never negative.
type PayFigures struct {
	MemberID int64 `json:"member_id"`
	Earned   int64 `json:"earned_minor"`
	Pending  int64 `json:"pending_minor"`
	Approved int64 `json:"approved_minor"`
	Paid     int64 `json:"paid_minor"`
	Balance  int64 `json:"balance_minor"`
}

// Payout is a request to record money paid to a worker.
type Payout struct {
	MemberID    int64  `json:"member_id"`
	AmountMinor int64  `json:"amount_minor"`
	Reference   string `json:"reference"`
	Note        string `json:"note"`
}

// LedgerService books payouts and reads pay figures.
type LedgerService interface {
	// Pay returns the member's figures; ENOTFOUND for an unknown member.
	Pay(ctx context.Context, memberID int64) (*PayFigures, error)
	// RecordPayout books a payment, atomically against the balance: EINVALID
	// for a non-positive amount, ENOTFOUND, ECONFLICT when it exceeds the
	// balance (with ErrOverBalance) or its Reference was another payout's
	// (with ErrReferenceUsed). A repeated Reference of the same payout
	// returns the first entry unchanged.
	RecordPayout(ctx context.Context, p Payout, by string) (*LedgerEntry, error)
	// Entries lists a member's ledger newest first.
	Entries(ctx context.Context, memberID int64, cursor string, limit int) ([]*LedgerEntry, string, error)
}
