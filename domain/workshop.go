package domain

import (
	"context"
	"time"
)

// Workshop is a micro-workshop: a shared room in a housing complex where
// women work and can ask a leader for help.
type Workshop struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Address   string    `json:"address"`
	Hours     string    `json:"hours"`
	CreatedAt time.Time `json:"created_at"`
}

// Help request statuses.
const (
	HelpOpen   = "open"
	HelpClosed = "closed"
)

// HelpRequest is a worker asking for help at a workshop; a leader sees it and
// closes it.
type HelpRequest struct {
	ID         int64      `json:"id"`
	MemberID   int64      `json:"member_id"`
	WorkshopID int64      `json:"workshop_id"`
	Note       string     `json:"note"`
	Status     string     `json:"status"`
	CreatedAt  time.Time  `json:"created_at"`
	ClosedAt   *time.Time `json:"closed_at,omitempty"`
	ClosedBy   string     `json:"closed_by,omitempty"`
}

// WorkshopService manages workshops and help requests.
type WorkshopService interface {
	// CreateWorkshop adds a workshop; EINVALID without a name.
	CreateWorkshop(ctx context.Context, w *Workshop) error
	// WorkshopByID returns ENOTFOUND when there is none.
	WorkshopByID(ctx context.Context, id int64) (*Workshop, error)
	// FindWorkshops lists all workshops by name.
	FindWorkshops(ctx context.Context) ([]*Workshop, error)
	// RequestHelp records a help request from a member at a workshop (her
	// home workshop when workshopID is 0); ENOTFOUND, EINVALID.
	RequestHelp(ctx context.Context, memberID, workshopID int64, note string) (*HelpRequest, error)
	// FindHelpRequests lists requests newest first, by status ("" for all).
	FindHelpRequests(ctx context.Context, status string) ([]*HelpRequest, error)
	// CloseHelpRequest closes an open request; ENOTFOUND, ECONFLICT when closed.
	CloseHelpRequest(ctx context.Context, id int64, by string) (*HelpRequest, error)
}
