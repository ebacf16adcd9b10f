package domain

import (
	"context"
	"time"
)

// Message directions.
const (
	DirIn  = "in"
	DirOut = "out"
)

// Message states. Inbound messages are received; outbound ones move
// queued -> sending -> sent -> delivered, or to failed.
const (
	MsgReceived  = "received"
	MsgQueued    = "queued"
	MsgSending   = "sending"
	MsgSent      = "sent"
	MsgDelivered = "delivered"
	MsgFailed    = "failed"
)

// Message is an SMS in either direction; outbound ones are the outbox.
type Message struct {
	ID          int64      `json:"id"`
	Direction   string     `json:"direction"`
	Provider    string     `json:"provider"`
	ProviderID  string     `json:"provider_id,omitempty"`
	Phone       string     `json:"phone"`          // the resident's or worker's number, E.164
	Peer        string     `json:"peer,omitempty"` // our short code or sender id
	Text        string     `json:"text"`
	Lang        string     `json:"lang,omitempty"`
	Status      string     `json:"status"`
	Segments    int        `json:"segments"`
	Error       string     `json:"error,omitempty"`
	Attempts    int        `json:"attempts"`
	NextAttempt *time.Time `json:"next_attempt_at,omitempty"`
	ComplaintID int64      `json:"-"`
	ReplyTo     int64      `json:"reply_to,omitempty"` // the inbound message an outbound one answers
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	// HandledAt is when an inbound message was answered; nil while it
	// waits for the inbox handler. Error then says why, if it could not be.
	HandledAt *time.Time `json:"handled_at,omitempty"`
}

// MessageFilter selects messages in FindMessages.
type MessageFilter struct {
	Direction string
	Status    string
	Phone     string
	Cursor    string
	Limit     int
}

// OptOut is a number that sent STOP.
type OptOut struct {
	Phone     string    `json:"phone"`
	CreatedAt time.Time `json:"created_at"`
}

// MessageService stores messages durably: the inbound log, the outbox the
// senders drain, and opt-outs.
type MessageService interface {
	// StoreInbound saves an inbound message, not yet answered. When the same
	// provider id was stored before, it returns the stored message and
	// dup=true, changing nothing.
	StoreInbound(ctx context.Context, m *Message) (stored *Message, dup bool, err error)
	// InboundStored reports whether an inbound message with the provider's
	// id is stored already (a redelivery); cheap for an id never seen.
	InboundStored(ctx context.Context, provider, providerID string) (bool, error)
	// Unhandled returns up to limit inbound messages not yet answered,
	// oldest first.
	Unhandled(ctx context.Context, limit int) ([]*Message, error)
	// MarkHandled records an inbound message answered (with reason when it
	// could not be). false means it was answered already and must not be
	// answered again.
	MarkHandled(ctx context.Context, id int64, reason string) (bool, error)
	// Backlog counts inbound messages not yet answered.
	Backlog(ctx context.Context) (int, error)
	// Enqueue puts an outbound message in the outbox as queued, or records it
	// as failed with reason "opted out" when the phone sent STOP (unless
	// force, used for the one STOP confirmation).
	Enqueue(ctx context.Context, m *Message, force bool) error
	// MessageByID returns ENOTFOUND when there is none.
	MessageByID(ctx context.Context, id int64) (*Message, error)
	// FindMessages lists messages newest first.
	FindMessages(ctx context.Context, f MessageFilter) ([]*Message, string, error)
	// OptOut records STOP from a phone and fails the messages to it still
	// waiting in the outbox; idempotent.
	OptOut(ctx context.Context, phone string) error
	// OptIn removes the opt-out; idempotent.
	OptIn(ctx context.Context, phone string) error
	// IsOptedOut reports whether the phone sent STOP and not START since.
	IsOptedOut(ctx context.Context, phone string) (bool, error)
	// OptOuts lists opted-out phones newest first.
	OptOuts(ctx context.Context, cursor string, limit int) ([]*OptOut, string, error)
}
