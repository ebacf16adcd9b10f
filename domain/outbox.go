package domain

import (
	"context"
	"time"
)

// DeliveryReport is what a carrier tells us about an outbound message after
// it left: found by our own id when the carrier echoes it back (Kannel's
// dlr-url, Twilio's StatusCallback), else by the carrier's message id.
type DeliveryReport struct {
	Provider   string
	ProviderID string
	MessageID  int64
	Status     string // MsgSent, MsgDelivered or MsgFailed
	Reason     string // the carrier's words for a failure
}

// Outbox is the sending side of the messages table. The senders drain it so
// that no message is sent twice and none is lost: an attempt is recorded
// (status sending) before the carrier is called, so a crash between the call
// and the mark leaves a trace that is never blindly retried.
type Outbox interface {
	// ClaimNext takes the oldest queued outbound message that is due, sets
	// its provider, counts the attempt and marks it sending, all in one
	// transaction; ENOTFOUND when nothing is due.
	ClaimNext(ctx context.Context, provider string) (*Message, error)
	// MarkSent records that the carrier accepted a claimed message, with the
	// carrier's id ("" when it gives none). A delivery report that arrived
	// first is kept. ENOTFOUND for an unknown id.
	MarkSent(ctx context.Context, id int64, providerID string) error
	// MarkUnconfirmed records a claimed message sent although the carrier
	// never answered, when it may have received it (a timeout after the
	// request was written): sending again could be a duplicate. The note
	// starts "unconfirmed: " and carries reason; a delivery report that
	// arrived first is kept. ENOTFOUND for an unknown id.
	MarkUnconfirmed(ctx context.Context, id int64, reason string) error
	// Retry puts a claimed message back in the queue, due at next, noting
	// why the attempt failed. ENOTFOUND for an unknown id.
	Retry(ctx context.Context, id int64, next time.Time, reason string) error
	// MarkFailed gives up on a message with the reason a person can act on.
	// ENOTFOUND for an unknown id.
	MarkFailed(ctx context.Context, id int64, reason string) error
	// ApplyReport moves a message forward on a delivery report (queued <
	// sending < sent < delivered or failed; never backwards) and returns it.
	// ENOTFOUND when no outbound message matches; ECONFLICT when the report
	// names one message by our id and gives another's carrier id.
	ApplyReport(ctx context.Context, r DeliveryReport) (*Message, error)
	// RecoverSending settles messages left sending by a process that died
	// before marking them, last touched before the given time. It does not
	// requeue them (the carrier may have accepted them: sending again would
	// be a duplicate); it marks them sent with an "unconfirmed" note, and a
	// later delivery report confirms or fails them. It returns how many.
	RecoverSending(ctx context.Context, before time.Time) (int, error)
}
