package domain

import (
	"context"
	"time"
)

// USSDSession is the persisted state of one carrier USSD session, so a
// restart mid-session loses nothing and a dropped session can be resumed.
type USSDSession struct {
	ID        string // the carrier's session id
	Phone     string // E.164
	State     []byte // the engine's encoded state
	Ended     bool
	UpdatedAt time.Time
}

// SessionStore persists USSD sessions.
type SessionStore interface {
	// SessionByID returns ENOTFOUND when there is none.
	SessionByID(ctx context.Context, id string) (*USSDSession, error)
	// SaveSession inserts or replaces a session; it returns once the
	// state survives a crash of the process.
	SaveSession(ctx context.Context, s *USSDSession) error
	// LatestSession returns the phone's newest session (the last to start)
	// if it has not ended and was updated after since; ENOTFOUND when not.
	LatestSession(ctx context.Context, phone string, since time.Time) (*USSDSession, error)
	// DeleteSessionsBefore removes sessions last updated before t, returning
	// how many.
	DeleteSessionsBefore(ctx context.Context, t time.Time) (int64, error)
}
