package domain

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Complaint kinds; the reference letter tells them apart.
const (
	KindComplaint = "complaint" // C1042
	KindProposal  = "proposal"  // P17
)

// Complaint statuses.
const (
	StatusNew          = "new"
	StatusAcknowledged = "acknowledged"
	StatusInProgress   = "in_progress"
	StatusResolved     = "resolved"
	StatusRejected     = "rejected"
	StatusDuplicate    = "duplicate"
)

// Channels a complaint arrives by.
const (
	ChannelSMS     = "sms"
	ChannelUSSD    = "ussd"
	ChannelAPI     = "api"
	ChannelConsole = "console"
)

// Complaint is a community problem or proposal a resident voiced.
type Complaint struct {
	ID             int64             `json:"-"`
	Ref            string            `json:"ref"`
	Kind           string            `json:"kind"`
	Text           string            `json:"text"`
	Category       string            `json:"category,omitempty"`
	ReporterPhone  string            `json:"reporter_phone,omitempty"`
	Anonymous      bool              `json:"anonymous"`
	Channel        string            `json:"channel"`
	Lang           string            `json:"lang"`
	Status         string            `json:"status"`
	DuplicateOf    string            `json:"duplicate_of,omitempty"`
	LatestNote     string            `json:"latest_note,omitempty"`
	CreatedAt      time.Time         `json:"created_at"`
	UpdatedAt      time.Time         `json:"updated_at"`
	AcknowledgedAt *time.Time        `json:"acknowledged_at,omitempty"`
	ResolvedAt     *time.Time        `json:"resolved_at,omitempty"`
	History        []*ComplaintEvent `json:"history,omitempty"`
}

// ComplaintEvent is one change in a complaint's life: who, when, from which
// state to which, and the note left.
type ComplaintEvent struct {
	ID         int64     `json:"id"`
	At         time.Time `json:"at"`
	Actor      string    `json:"actor"`
	FromStatus string    `json:"from_status,omitempty"`
	ToStatus   string    `json:"to_status"`
	Note       string    `json:"note,omitempty"`
}

// ValidStatuses are the states a complaint can be moved to by a leader.
var ValidStatuses = []string{StatusAcknowledged, StatusInProgress, StatusResolved, StatusRejected, StatusDuplicate}

// IsClosed reports whether no further state change is expected.
func IsClosed(status string) bool {
	return status == StatusResolved || status == StatusRejected || status == StatusDuplicate
}

var refRE = regexp.MustCompile(`^([CcPp])[\s#\-]*0*([0-9]{1,9})$`)

// ParseRef reads a complaint reference the way people type it: "C1042",
// "c-1042", "#C1042", "c 1042". It returns the canonical form "C1042".
func ParseRef(s string) (string, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimLeft(t, "#")
	t = strings.TrimSpace(t)
	m := refRE.FindStringSubmatch(t)
	if m == nil {
		return "", Errorf(EINVALID, "%q is not a reference; references look like C1042 or P17", s)
	}
	n, _ := strconv.ParseInt(m[2], 10, 64)
	if n == 0 {
		return "", Errorf(EINVALID, "%q is not a reference; references look like C1042 or P17", s)
	}
	return fmt.Sprintf("%s%d", strings.ToUpper(m[1]), n), nil
}

// refPrefix is a reference at the start of a text, written any of the ways
// people type it: C1042, #c-1042, "C 1042".
var refPrefix = regexp.MustCompile(`^#?\s*[CcPp][\s#\-]*[0-9]{1,9}\b`)

// CutRef reads the reference at the start of s (a command's arguments) and
// returns it in canonical form with the rest of s, trimmed. ok is false
// when s does not start with a reference.
func CutRef(s string) (ref, rest string, ok bool) {
	loc := refPrefix.FindStringIndex(s)
	if loc == nil {
		return "", "", false
	}
	ref, err := ParseRef(s[:loc[1]])
	if err != nil {
		return "", "", false
	}
	rest = strings.TrimLeftFunc(s[loc[1]:], func(r rune) bool { return unicode.IsSpace(r) || strings.ContainsRune(":,;.-", r) })
	return ref, strings.TrimSpace(rest), true
}

// NewComplaint is what a resident or leader submits.
type NewComplaint struct {
	Kind          string
	Text          string
	Category      string
	ReporterPhone string // E.164, "" when anonymous
	Anonymous     bool
	Channel       string
	Lang          string
}

// ComplaintFilter selects complaints in FindComplaints.
type ComplaintFilter struct {
	Status   string
	Kind     string
	Category string
	Reporter string // E.164
	Cursor   string
	Limit    int
	// OldestFirst orders by creation ascending (for a triage queue).
	OldestFirst bool
}

// MaxNoteChars is the longest note a change may carry, in characters: it
// goes to the reporter by SMS, and past this it would take many segments.
const MaxNoteChars = 500

// ComplaintChange moves a complaint to a new status, with a note, or only
// adds a note when Status is "".
type ComplaintChange struct {
	Status      string `json:"status"`
	Note        string `json:"note"`
	DuplicateOf string `json:"duplicate_of"`
}

// ComplaintService records complaints and proposals and moves them through
// their states. Every change records an SMS notification for the reporter in
// the outbox, unless she reported anonymously or opted out.
type ComplaintService interface {
	// CreateComplaint stores a new report with the next reference of its kind;
	// EINVALID for empty text or an unknown kind.
	CreateComplaint(ctx context.Context, n NewComplaint) (*Complaint, error)
	// ComplaintByRef returns the complaint with its history; ENOTFOUND.
	ComplaintByRef(ctx context.Context, ref string) (*Complaint, error)
	// FindComplaints lists complaints newest first with a cursor.
	FindComplaints(ctx context.Context, f ComplaintFilter) ([]*Complaint, string, error)
	// ChangeComplaint applies a leader's change: EINVALID for an unknown
	// status or a duplicate without the original, ENOTFOUND, ECONFLICT when
	// the complaint is already closed and the change would reopen it.
	ChangeComplaint(ctx context.Context, ref string, ch ComplaintChange, actor string) (*Complaint, error)
}
