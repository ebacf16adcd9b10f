package domain

import (
	"context"
	"time"
	"unicode/utf8"
)

// Member roles.
const (
	RoleWorker = "worker"
	RoleLeader = "leader"
)

// Member statuses. A self-registered worker is pending until a leader
// activates her, unless the configuration allows open registration.
const (
	MemberPending  = "pending"
	MemberActive   = "active"
	MemberInactive = "inactive"
)

// Member is a worker or a union leader, known by her phone number.
type Member struct {
	ID         int64     `json:"id"`
	Phone      string    `json:"phone"` // E.164
	Name       string    `json:"name"`
	Lang       string    `json:"lang"`
	WorkshopID int64     `json:"workshop_id,omitempty"`
	Role       string    `json:"role"`
	Status     string    `json:"status"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// MemberFilter selects members in FindMembers. Zero fields match everything.
type MemberFilter struct {
	Role   string
	Status string
	Cursor string
	Limit  int
}

// MemberUpdate holds the fields UpdateMember changes; nil fields are kept.
type MemberUpdate struct {
	Name       *string `json:"name"`
	Lang       *string `json:"lang"`
	WorkshopID *int64  `json:"workshop_id"`
	Role       *string `json:"role"`
	Status     *string `json:"status"`
}

// MemberService manages workers and leaders.
type MemberService interface {
	// CreateMember adds a member; the phone must already be E.164.
	// EINVALID for a bad field, ECONFLICT when the phone is registered.
	CreateMember(ctx context.Context, m *Member) error
	// Register is a worker signing herself up from her phone. She is pending
	// unless openRegistration; ECONFLICT when the phone is registered.
	Register(ctx context.Context, phone, name, lang string, workshopID int64, openRegistration bool) (*Member, error)
	// MemberByID returns ENOTFOUND when there is none.
	MemberByID(ctx context.Context, id int64) (*Member, error)
	// MemberByPhone returns ENOTFOUND when the phone is not registered.
	MemberByPhone(ctx context.Context, phone string) (*Member, error)
	// FindMembers lists members oldest first; the returned cursor is "" on the last page.
	FindMembers(ctx context.Context, f MemberFilter) ([]*Member, string, error)
	// UpdateMember changes a member; EINVALID, ENOTFOUND.
	UpdateMember(ctx context.Context, id int64, u MemberUpdate) (*Member, error)
	// SetLanguage remembers the language a phone chose, member or not.
	SetLanguage(ctx context.Context, phone, lang string) error
	// Language returns the remembered language of a phone, "" when none.
	Language(ctx context.Context, phone string) (string, error)
	// Caller is MemberByPhone and Language in one read, for a session's
	// first request: the member is nil when the phone is not registered.
	Caller(ctx context.Context, phone string) (*Member, string, error)
}

// Validate checks the fields a store cannot check for itself.
func (m *Member) Validate() error {
	switch {
	case m.Phone == "":
		return Errorf(EINVALID, "phone: required")
	case utf8.RuneCountInString(m.Name) > 100:
		return Errorf(EINVALID, "name: at most 100 characters")
	case m.Role != RoleWorker && m.Role != RoleLeader:
		return Errorf(EINVALID, "role: must be %q or %q, not %q", RoleWorker, RoleLeader, m.Role)
	case m.Status != MemberPending && m.Status != MemberActive && m.Status != MemberInactive:
		return Errorf(EINVALID, "status: must be pending, active or inactive, not %q", m.Status)
	}
	return nil
}
