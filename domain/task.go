package domain

import (
	"context"
	"time"
)

// Task statuses.
const (
	TaskOpen   = "open"
	TaskClosed = "closed"
)

// Task is a batch of piecework paid per piece. Free is what is still
// available to accept; it only ever falls through AcceptTask, atomically.
type Task struct {
	ID         int64             `json:"id"`
	Titles     map[string]string `json:"titles"` // language -> title
	Kind       string            `json:"kind"`
	RateMinor  int64             `json:"rate_minor"` // per piece, minor units of the currency
	Quantity   int64             `json:"quantity"`
	Free       int64             `json:"free"`
	Deadline   *time.Time        `json:"deadline,omitempty"`
	WorkshopID int64             `json:"workshop_id,omitempty"`
	Status     string            `json:"status"`
	CreatedAt  time.Time         `json:"created_at"`
}

// Title returns the task's title in lang, falling back to another language.
func (t *Task) Title(lang string) string { return titleIn(t.Titles, lang) }

// titleIn picks lang's title, else English, else any: a worker always sees
// something she can ask about, even when a translation is missing.
func titleIn(titles map[string]string, lang string) string {
	if s := titles[lang]; s != "" {
		return s
	}
	if s := titles["en"]; s != "" {
		return s
	}
	for _, s := range titles {
		return s
	}
	return ""
}

// Validate checks a new task. langs are the configured languages, each of
// which needs a title.
func (t *Task) Validate(langs []string) error {
	for _, l := range langs {
		if t.Titles[l] == "" {
			return Errorf(EINVALID, "titles.%s: a title in every configured language is required", l)
		}
	}
	for l, s := range t.Titles {
		if len([]rune(s)) > 60 {
			return Errorf(EINVALID, "titles.%s: at most 60 characters so it fits a phone screen", l)
		}
	}
	switch {
	case t.RateMinor <= 0:
		return Errorf(EINVALID, "rate_minor: must be a positive whole number of minor units (paise), not %d", t.RateMinor)
	case t.Quantity <= 0:
		return Errorf(EINVALID, "quantity: must be at least 1, not %d", t.Quantity)
	case t.Quantity > MaxTaskQuantity:
		return Errorf(EINVALID, "quantity: at most %d", MaxTaskQuantity)
	case t.RateMinor > 100_000_000:
		return Errorf(EINVALID, "rate_minor: at most 100000000")
	}
	return nil
}

// MaxTaskQuantity is the most units a task may hold.
const MaxTaskQuantity = 10_000_000

// TaskFilter selects tasks in FindTasks.
type TaskFilter struct {
	Status     string // "" for all
	WorkshopID int64
	// ForWorkshop keeps what a worker of WorkshopID may take: its tasks
	// and those of no workshop (only those when WorkshopID is 0).
	ForWorkshop bool
	OnlyFree    bool // only tasks with units still free
	Cursor      string
	Limit       int
}

// TaskUpdate holds the fields UpdateTask changes; nil fields are kept.
type TaskUpdate struct {
	Titles   map[string]string `json:"titles"`
	Status   *string           `json:"status"`
	Deadline *time.Time        `json:"deadline"`
	// AddQuantity grows (or, negative, shrinks) the batch; it can never take
	// back units already accepted.
	AddQuantity *int64 `json:"add_quantity"`
}

// Assignment is a quantity of a task a worker accepted. Reported counts the
// units she reported done, less rejected reports.
type Assignment struct {
	ID        int64     `json:"id"`
	TaskID    int64     `json:"task_id"`
	MemberID  int64     `json:"member_id"`
	Quantity  int64     `json:"quantity"`
	Reported  int64     `json:"reported"`
	CreatedAt time.Time `json:"created_at"`
	Task      *Task     `json:"task,omitempty"`
}

// Remaining is what she accepted and has not reported yet.
func (a *Assignment) Remaining() int64 { return a.Quantity - a.Reported }

// Work report statuses.
const (
	ReportPending  = "pending"
	ReportApproved = "approved"
	ReportRejected = "rejected"
)

// WorkReport is a worker saying she finished a quantity of an assignment. A
// leader approves it (creating an earning) or rejects it with a reason.
type WorkReport struct {
	ID           int64      `json:"id"`
	AssignmentID int64      `json:"assignment_id"`
	TaskID       int64      `json:"task_id"`
	MemberID     int64      `json:"member_id"`
	Quantity     int64      `json:"quantity"`
	AmountMinor  int64      `json:"amount_minor"` // rate x quantity, earned on approval
	Status       string     `json:"status"`
	Reason       string     `json:"reason,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	DecidedAt    *time.Time `json:"decided_at,omitempty"`
	DecidedBy    string     `json:"decided_by,omitempty"`
}

// WorkReportFilter selects reports in FindWorkReports.
type WorkReportFilter struct {
	Status   string
	MemberID int64
	Cursor   string
	Limit    int
}

// TaskService manages piecework: tasks, assignments and work reports.
type TaskService interface {
	// CreateTask adds an open task whose free quantity is its quantity; EINVALID.
	CreateTask(ctx context.Context, t *Task) error
	// TaskByID returns ENOTFOUND when there is none.
	TaskByID(ctx context.Context, id int64) (*Task, error)
	// FindTasks lists tasks newest first with a cursor for the next page.
	FindTasks(ctx context.Context, f TaskFilter) ([]*Task, string, error)
	// UpdateTask changes a task; EINVALID, ENOTFOUND, ECONFLICT when a
	// quantity change would take back accepted units.
	UpdateTask(ctx context.Context, id int64, u TaskUpdate) (*Task, error)

	// AcceptTask gives the member qty units of the task, atomically: ENOTFOUND,
	// EFORBIDDEN for a member who is not active, ECONFLICT when the task is
	// closed, past its deadline, or has fewer than qty units free.
	AcceptTask(ctx context.Context, memberID, taskID, qty int64) (*Assignment, error)
	// AssignmentsByMember lists the member's assignments with units still to
	// report (all of them when all is true), newest first, with their tasks.
	AssignmentsByMember(ctx context.Context, memberID int64, all bool) ([]*Assignment, error)
	// AssignmentByID returns ENOTFOUND when there is none.
	AssignmentByID(ctx context.Context, id int64) (*Assignment, error)

	// ReportWork records qty units done on the member's assignment: ENOTFOUND
	// (also for someone else's assignment), EINVALID when qty exceeds what she
	// accepted less what she already reported.
	ReportWork(ctx context.Context, memberID, assignmentID, qty int64) (*WorkReport, error)
	// FindWorkReports lists reports newest first.
	FindWorkReports(ctx context.Context, f WorkReportFilter) ([]*WorkReport, string, error)
	// WorkReportByID returns ENOTFOUND when there is none.
	WorkReportByID(ctx context.Context, id int64) (*WorkReport, error)
	// ApproveWork approves a pending report and books its earning in the
	// ledger; ENOTFOUND, ECONFLICT when it was already decided.
	ApproveWork(ctx context.Context, reportID int64, by string) (*WorkReport, error)
	// RejectWork rejects a pending report with a reason, freeing its units to
	// be reported again; EINVALID without a reason, ENOTFOUND, ECONFLICT.
	RejectWork(ctx context.Context, reportID int64, by, reason string) (*WorkReport, error)
}
