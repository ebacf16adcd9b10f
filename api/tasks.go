package api

import (
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/karyashala/karyashala/domain"
)

func (a *API) listTasks(c *fiber.Ctx) error {
	var f domain.TaskFilter
	var err error
	if f.Status, err = queryEnum(c, "status", domain.TaskOpen, domain.TaskClosed); err != nil {
		return err
	}
	if f.WorkshopID, err = queryID(c, "workshop_id"); err != nil {
		return err
	}
	if f.OnlyFree, err = queryBool(c, "free"); err != nil {
		return err
	}
	if f.Limit, err = queryLimit(c); err != nil {
		return err
	}
	f.Cursor = c.Query("cursor")
	ts, next, err := a.Tasks.FindTasks(ctx(c), f)
	if err != nil {
		return err
	}
	return list(c, ts, next)
}

// newTask is the body of POST /tasks. Deadline is RFC 3339 text so a bad
// value gets a message naming the field and the format.
type newTask struct {
	Titles     map[string]string `json:"titles"`
	Kind       string            `json:"kind"`
	RateMinor  int64             `json:"rate_minor"`
	Quantity   int64             `json:"quantity"`
	Deadline   string            `json:"deadline"`
	WorkshopID int64             `json:"workshop_id"`
}

func (a *API) createTask(c *fiber.Ctx) error {
	var b newTask
	if err := decode(c, &b); err != nil {
		return err
	}
	t := &domain.Task{
		Titles:     trimAll(b.Titles),
		Kind:       strings.TrimSpace(b.Kind),
		RateMinor:  b.RateMinor,
		Quantity:   b.Quantity,
		WorkshopID: b.WorkshopID,
		Status:     domain.TaskOpen,
	}
	if err := a.titles("titles", t.Titles); err != nil {
		return err
	}
	if err := t.Validate(a.Languages); err != nil {
		return err
	}
	if b.Deadline != "" {
		d, err := a.deadline(b.Deadline)
		if err != nil {
			return err
		}
		t.Deadline = &d
	}
	if err := a.workshopExists(ctx(c), "workshop_id", t.WorkshopID); err != nil {
		return err
	}
	if err := a.Tasks.CreateTask(ctx(c), t); err != nil {
		return err
	}
	return created(c, t)
}

// deadline reads a task deadline, which must lie ahead.
func (a *API) deadline(raw string) (time.Time, error) {
	d, err := a.parseWhen("deadline", raw, true)
	if err != nil {
		return d, err
	}
	if !d.After(a.Now()) {
		return d, domain.Errorf(domain.EINVALID, "deadline: %s is already past; give a time ahead", raw)
	}
	return d.UTC(), nil
}

func trimAll(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = strings.TrimSpace(v)
	}
	return out
}

func (a *API) getTask(c *fiber.Ctx) error {
	id, err := pathID(c, "task")
	if err != nil {
		return err
	}
	t, err := a.Tasks.TaskByID(ctx(c), id)
	if err != nil {
		return err
	}
	return c.JSON(t)
}

// taskPatch is the body of PATCH /tasks/{id}; absent fields are kept.
type taskPatch struct {
	Titles      map[string]string `json:"titles"`
	Status      *string           `json:"status"`
	Deadline    *string           `json:"deadline"`
	AddQuantity *int64            `json:"add_quantity"`
}

func (a *API) updateTask(c *fiber.Ctx) error {
	id, err := pathID(c, "task")
	if err != nil {
		return err
	}
	var b taskPatch
	if err := decode(c, &b); err != nil {
		return err
	}
	if b.Titles == nil && b.Status == nil && b.Deadline == nil && b.AddQuantity == nil {
		return domain.Errorf(domain.EINVALID, "request body: nothing to change; send one or more of titles, status, deadline, add_quantity")
	}
	u := domain.TaskUpdate{Titles: trimAll(b.Titles), Status: b.Status, AddQuantity: b.AddQuantity}
	if err := a.titles("titles", u.Titles); err != nil {
		return err
	}
	for l, s := range u.Titles {
		switch {
		case s == "":
			return domain.Errorf(domain.EINVALID, "titles.%s: must not be empty", l)
		case len([]rune(s)) > 60:
			return domain.Errorf(domain.EINVALID, "titles.%s: at most 60 characters so it fits a phone screen", l)
		}
	}
	if u.Status != nil {
		if err := oneOf("status", *u.Status, domain.TaskOpen, domain.TaskClosed); err != nil {
			return err
		}
	}
	if b.Deadline != nil {
		d, err := a.deadline(*b.Deadline)
		if err != nil {
			return err
		}
		u.Deadline = &d
	}
	if u.AddQuantity != nil {
		switch d := *u.AddQuantity; {
		case d == 0:
			return domain.Errorf(domain.EINVALID, "add_quantity: 0 changes nothing; give a positive number to grow the batch or a negative one to shrink it")
		case d > domain.MaxTaskQuantity || d < -domain.MaxTaskQuantity:
			// Refused here: near the int64 limits the store's free+d
			// overflows and answers a wrong conflict.
			return domain.Errorf(domain.EINVALID, "add_quantity: at most %d either way, not %d; a task holds at most %d units", domain.MaxTaskQuantity, d, domain.MaxTaskQuantity)
		}
	}
	t, err := a.Tasks.UpdateTask(ctx(c), id, u)
	if err != nil {
		return err
	}
	return c.JSON(t)
}

// acceptBody is the body of POST /tasks/{id}/accept: a leader taking units
// of a task on behalf of a worker, e.g. at the workshop.
type acceptBody struct {
	MemberID int64  `json:"member_id"`
	Phone    string `json:"phone"`
	Quantity int64  `json:"quantity"`
}

func (a *API) acceptTask(c *fiber.Ctx) error {
	id, err := pathID(c, "task")
	if err != nil {
		return err
	}
	var b acceptBody
	if err := decode(c, &b); err != nil {
		return err
	}
	if b.Quantity <= 0 {
		return domain.Errorf(domain.EINVALID, "quantity: must be at least 1, not %d", b.Quantity)
	}
	m, err := a.member(ctx(c), b.MemberID, b.Phone)
	if err != nil {
		return err
	}
	as, err := a.Tasks.AcceptTask(ctx(c), m.ID, id, b.Quantity)
	if err != nil {
		return notActive(err, m)
	}
	return created(c, as)
}

// notActive says how to fix the store's refusal of a member who is not
// active, the one EFORBIDDEN that accepting units and signing up return;
// other errors pass unchanged. The code stays EFORBIDDEN (403), which the
// phone channels answer as such; the message tells the API's reader,
// whose token is not the problem, what to do.
func notActive(err error, m *domain.Member) error {
	if domain.ErrorCode(err) != domain.EFORBIDDEN {
		return err
	}
	fix := fmt.Sprintf(`PATCH /api/v1/members/%d {"status": "active"}`, m.ID)
	switch m.Status {
	case domain.MemberPending:
		return domain.Errorf(domain.EFORBIDDEN, "member %d is waiting for a leader to activate her registration; activate her with %s, then try again", m.ID, fix)
	case domain.MemberInactive:
		return domain.Errorf(domain.EFORBIDDEN, "member %d is inactive; reactivate her with %s, then try again", m.ID, fix)
	}
	return domain.Errorf(domain.EFORBIDDEN, "%s; activate her with %s, then try again", domain.ErrorMessage(err), fix)
}

func (a *API) getAssignment(c *fiber.Ctx) error {
	id, err := pathID(c, "assignment")
	if err != nil {
		return err
	}
	as, err := a.Tasks.AssignmentByID(ctx(c), id)
	if err != nil {
		return err
	}
	return c.JSON(as)
}

// quantityBody is the body of POST /assignments/{id}/work-reports.
type quantityBody struct {
	Quantity int64 `json:"quantity"`
}

// reportWork records work a worker reported in person, on her assignment.
func (a *API) reportWork(c *fiber.Ctx) error {
	id, err := pathID(c, "assignment")
	if err != nil {
		return err
	}
	var b quantityBody
	if err := decode(c, &b); err != nil {
		return err
	}
	if b.Quantity <= 0 {
		return domain.Errorf(domain.EINVALID, "quantity: must be at least 1, not %d", b.Quantity)
	}
	as, err := a.Tasks.AssignmentByID(ctx(c), id)
	if err != nil {
		return err
	}
	r, err := a.Tasks.ReportWork(ctx(c), as.MemberID, as.ID, b.Quantity)
	if err != nil {
		return err
	}
	return created(c, r)
}

func (a *API) listWorkReports(c *fiber.Ctx) error {
	var f domain.WorkReportFilter
	var err error
	if f.Status, err = queryEnum(c, "status", domain.ReportPending, domain.ReportApproved, domain.ReportRejected); err != nil {
		return err
	}
	if f.MemberID, err = queryID(c, "member_id"); err != nil {
		return err
	}
	if f.Limit, err = queryLimit(c); err != nil {
		return err
	}
	f.Cursor = c.Query("cursor")
	rs, next, err := a.Tasks.FindWorkReports(ctx(c), f)
	if err != nil {
		return err
	}
	return list(c, rs, next)
}

func (a *API) getWorkReport(c *fiber.Ctx) error {
	id, err := pathID(c, "work report")
	if err != nil {
		return err
	}
	r, err := a.Tasks.WorkReportByID(ctx(c), id)
	if err != nil {
		return err
	}
	return c.JSON(r)
}

// approveWork approves a pending report, booking its earning in the ledger.
func (a *API) approveWork(c *fiber.Ctx) error {
	id, err := pathID(c, "work report")
	if err != nil {
		return err
	}
	r, err := a.Tasks.ApproveWork(ctx(c), id, actor(c))
	if err != nil {
		return err
	}
	return c.JSON(r)
}

// reasonBody is the body of POST /work-reports/{id}/reject.
type reasonBody struct {
	Reason string `json:"reason"`
}

func (a *API) rejectWork(c *fiber.Ctx) error {
	id, err := pathID(c, "work report")
	if err != nil {
		return err
	}
	var b reasonBody
	if err := decode(c, &b); err != nil {
		return err
	}
	if b.Reason = strings.TrimSpace(b.Reason); b.Reason == "" {
		return domain.Errorf(domain.EINVALID, "reason: required; the worker is told why her work was not accepted")
	}
	r, err := a.Tasks.RejectWork(ctx(c), id, actor(c), b.Reason)
	if err != nil {
		return err
	}
	return c.JSON(r)
}

// payoutBody is the body of POST /payouts.
type payoutBody struct {
	MemberID    int64  `json:"member_id"`
	Phone       string `json:"phone"`
	AmountMinor int64  `json:"amount_minor"`
	Reference   string `json:"reference"`
	Note        string `json:"note"`
}

// ledgerEntry is a ledger entry with the currency of its amount.
type ledgerEntry struct {
	*domain.LedgerEntry
	Currency string `json:"currency"`
}

// createPayout records money paid to a worker. The reference (a UPI or bank
// transaction id) is required: it makes a retried request safe, since a
// repeated reference returns the first payout instead of paying twice.
func (a *API) createPayout(c *fiber.Ctx) error {
	var b payoutBody
	if err := decode(c, &b); err != nil {
		return err
	}
	b.Reference = strings.TrimSpace(b.Reference)
	switch {
	case b.AmountMinor <= 0:
		return domain.Errorf(domain.EINVALID, "amount_minor: must be a positive whole number of minor units (paise: 15000 is 150.00 %s), not %d", a.Currency, b.AmountMinor)
	case b.Reference == "":
		return domain.Errorf(domain.EINVALID, "reference: required; give the transaction id of the payment (UPI, bank or cash book) so a retried request cannot pay twice")
	case len(b.Reference) > 100:
		return domain.Errorf(domain.EINVALID, "reference: at most 100 characters")
	}
	m, err := a.member(ctx(c), b.MemberID, b.Phone)
	if err != nil {
		return err
	}
	e, err := a.Ledger.RecordPayout(ctx(c), domain.Payout{MemberID: m.ID, AmountMinor: b.AmountMinor, Reference: b.Reference, Note: strings.TrimSpace(b.Note)}, actor(c))
	if err != nil {
		return err
	}
	return created(c, ledgerEntry{LedgerEntry: e, Currency: a.Currency})
}
