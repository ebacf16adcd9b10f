package console

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/karyashala/karyashala/domain"
)

// listLimit caps the rows a work page section reads.
const listLimit = 500

type reportRow struct {
	R      *domain.WorkReport
	Member *domain.Member
	Task   *domain.Task
}

type workerRow struct {
	M   *domain.Member
	Pay *domain.PayFigures
}

// taskForm is the create-task form, kept to redraw it with the problem.
type taskForm struct {
	Titles     map[string]string
	Kind       string
	Rate       string
	Quantity   string
	Deadline   string
	WorkshopID int64
}

type workData struct {
	Tasks      []*domain.Task
	Reports    []reportRow
	Workers    []workerRow
	Workshops  []*domain.Workshop
	Form       taskForm
	FormError  string
	PayMember  int64
	TasksTrunc bool
	// PayoutKey is the payout form's one-time reference, used when the
	// leader gives none (cash): a double-click or a resent form then
	// books the payment once.
	PayoutKey string
}

// payoutKeyPrefix starts every reference the console makes up for a
// payout, so the ledger shows where it came from.
const payoutKeyPrefix = "console-"

func (h *Console) workPage(c *fiber.Ctx) error {
	return h.drawWork(c, 0, taskForm{}, "")
}

func (h *Console) drawWork(c *fiber.Ctx, status int, form taskForm, formErr string) error {
	ctx := h.ctx(c)
	d := workData{Form: form, FormError: formErr, PayoutKey: payoutKeyPrefix + randomID()[:22]}
	d.PayMember, _ = strconv.ParseInt(c.Query("pay"), 10, 64)
	var next string
	var err error
	d.Tasks, next, err = h.d.Tasks.FindTasks(ctx, domain.TaskFilter{Status: domain.TaskOpen, Limit: listLimit})
	if err != nil {
		return h.fail(c, err)
	}
	d.TasksTrunc = next != ""
	if d.Workshops, err = h.d.Workshops.FindWorkshops(ctx); err != nil {
		return h.fail(c, err)
	}
	reports, _, err := h.d.Tasks.FindWorkReports(ctx, domain.WorkReportFilter{Status: domain.ReportPending, Limit: listLimit})
	if err != nil {
		return h.fail(c, err)
	}
	members := map[int64]*domain.Member{}
	tasks := map[int64]*domain.Task{}
	for _, r := range reports {
		m, err := h.member(ctx, members, r.MemberID)
		if err != nil {
			return h.fail(c, err)
		}
		t, ok := tasks[r.TaskID]
		if !ok {
			if t, err = h.d.Tasks.TaskByID(ctx, r.TaskID); err != nil {
				return h.fail(c, err)
			}
			tasks[r.TaskID] = t
		}
		d.Reports = append(d.Reports, reportRow{R: r, Member: m, Task: t})
	}
	cursor := ""
	for {
		ws, nextCur, err := h.d.Members.FindMembers(ctx, domain.MemberFilter{Role: domain.RoleWorker, Cursor: cursor, Limit: listLimit})
		if err != nil {
			return h.fail(c, err)
		}
		for _, m := range ws {
			p, err := h.d.Ledger.Pay(ctx, m.ID)
			if err != nil {
				return h.fail(c, err)
			}
			d.Workers = append(d.Workers, workerRow{M: m, Pay: p})
		}
		if nextCur == "" || len(d.Workers) >= 5000 {
			break
		}
		cursor = nextCur
	}
	if d.Form.Titles == nil {
		d.Form.Titles = map[string]string{}
	}
	if d.Form.WorkshopID == 0 && len(d.Workshops) > 0 {
		d.Form.WorkshopID = d.Workshops[0].ID
	}
	return h.render(c, status, "work", "Work and pay", d)
}

func (h *Console) member(ctx context.Context, cache map[int64]*domain.Member, id int64) (*domain.Member, error) {
	if m, ok := cache[id]; ok {
		return m, nil
	}
	m, err := h.d.Members.MemberByID(ctx, id)
	if err != nil {
		return nil, err
	}
	cache[id] = m
	return m, nil
}

// formTitles reads the title_LANG fields of a form, one per configured
// language, for tasks and trainings alike.
func (h *Console) formTitles(c *fiber.Ctx) map[string]string {
	titles := make(map[string]string, len(h.o.Languages))
	for _, l := range h.o.Languages {
		titles[l] = strings.TrimSpace(c.FormValue("title_" + l))
	}
	return titles
}

func (h *Console) createTask(c *fiber.Ctx) error {
	f := taskForm{
		Titles:   h.formTitles(c),
		Kind:     strings.TrimSpace(c.FormValue("kind")),
		Rate:     strings.TrimSpace(c.FormValue("rate")),
		Quantity: strings.TrimSpace(c.FormValue("quantity")),
		Deadline: strings.TrimSpace(c.FormValue("deadline")),
	}
	f.WorkshopID, _ = strconv.ParseInt(c.FormValue("workshop_id"), 10, 64)
	t, err := h.taskFromForm(f)
	if err == nil {
		err = h.d.Tasks.CreateTask(h.ctx(c), t)
	}
	if err != nil {
		if domain.ErrorCode(err) == domain.EINTERNAL {
			return h.fail(c, err)
		}
		return h.drawWork(c, fiber.StatusUnprocessableEntity, f, domain.ErrorMessage(err))
	}
	return h.redirect(c, Prefix+"/work", nil, fmt.Sprintf("Task %d “%s” created with %d pieces free.", t.ID, t.Title(h.o.Languages[0]), t.Quantity))
}

func (h *Console) taskFromForm(f taskForm) (*domain.Task, error) {
	rate, err := h.money.Parse("rate per piece", f.Rate)
	if err != nil {
		return nil, err
	}
	qty, err := strconv.ParseInt(f.Quantity, 10, 64)
	if err != nil {
		return nil, domain.Errorf(domain.EINVALID, "quantity: %q is not a whole number of pieces", f.Quantity)
	}
	t := &domain.Task{Titles: map[string]string{}, Kind: f.Kind, RateMinor: rate, Quantity: qty, WorkshopID: f.WorkshopID, Status: domain.TaskOpen}
	for l, s := range f.Titles {
		if s != "" {
			t.Titles[l] = s
		}
	}
	if f.Deadline != "" {
		day, err := time.ParseInLocation("2006-01-02", f.Deadline, time.Local)
		if err != nil {
			return nil, domain.Errorf(domain.EINVALID, "deadline: %q is not a date like 2026-12-31", f.Deadline)
		}
		end := day.Add(24*time.Hour - time.Second) // the whole day counts
		if end.Before(h.now()) {
			return nil, domain.Errorf(domain.EINVALID, "deadline: %s has passed; choose today or a later day", f.Deadline)
		}
		t.Deadline = &end
	}
	if err := t.Validate(h.o.Languages); err != nil {
		return nil, err
	}
	return t, nil
}

func (h *Console) closeTask(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return h.redirect(c, Prefix+"/work", domain.Errorf(domain.EINVALID, "task %q is not a task number", c.Params("id")), "")
	}
	closed := domain.TaskClosed
	t, err := h.d.Tasks.UpdateTask(h.ctx(c), id, domain.TaskUpdate{Status: &closed})
	if err != nil {
		return h.redirect(c, Prefix+"/work", err, "")
	}
	return h.redirect(c, Prefix+"/work", nil, fmt.Sprintf("Task %d “%s” closed; nobody can accept more of it.", t.ID, t.Title(h.o.Languages[0])))
}

// decideWork approves or rejects the ticked work reports, one by one, and
// reports what happened to each.
func (h *Console) decideWork(c *fiber.Ctx) error {
	back := Prefix + "/work#reports"
	action := c.FormValue("action")
	reason := strings.TrimSpace(c.FormValue("reason"))
	var ids []int64
	for _, raw := range c.Request().PostArgs().PeekMulti("id") {
		id, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil {
			return h.redirect(c, back, domain.Errorf(domain.EINVALID, "work report %q is not a number", raw), "")
		}
		ids = append(ids, id)
	}
	switch {
	case action != "approve" && action != "reject":
		return h.redirect(c, back, domain.Errorf(domain.EINVALID, "%q is neither approve nor reject; use the buttons under the list", action), "")
	case len(ids) == 0:
		return h.redirect(c, back, domain.Errorf(domain.EINVALID, "tick at least one work report first"), "")
	case action == "reject" && reason == "":
		return h.redirect(c, back, domain.Errorf(domain.EINVALID, "write a reason before rejecting; the worker is told it"), "")
	}
	var done int
	var problems []string
	for _, id := range ids {
		var err error
		if action == "approve" {
			_, err = h.d.Tasks.ApproveWork(h.ctx(c), id, actor(c))
		} else {
			_, err = h.d.Tasks.RejectWork(h.ctx(c), id, actor(c), reason)
		}
		if err != nil {
			if domain.ErrorCode(err) == domain.EINTERNAL {
				return h.redirect(c, back, fmt.Errorf("%s work report %d after %d done: %w", action, id, done, err), "")
			}
			problems = append(problems, fmt.Sprintf("report %d: %s", id, domain.ErrorMessage(err)))
			continue
		}
		done++
	}
	verb := map[string]string{"approve": "Approved", "reject": "Rejected"}[action]
	msg := fmt.Sprintf("%s %d work report(s).", verb, done)
	if len(problems) > 0 {
		return h.redirect(c, back, domain.Errorf(domain.ECONFLICT, "%s Not changed: %s", msg, strings.Join(problems, "; ")), "")
	}
	return h.redirect(c, back, nil, msg)
}

// recordPayout books a payment from the payout form. The ledger books a
// repeated reference once, so a payout always carries one: the leader's
// (a UPI transaction id) or, for cash, the form's one-time key.
func (h *Console) recordPayout(c *fiber.Ctx) error {
	back := Prefix + "/work#workers"
	memberID, err := strconv.ParseInt(c.FormValue("member_id"), 10, 64)
	if err != nil || memberID <= 0 {
		return h.redirect(c, back, domain.Errorf(domain.EINVALID, "choose the worker who was paid"), "")
	}
	amount, err := h.money.Parse("amount", c.FormValue("amount"))
	if err != nil {
		return h.redirect(c, back, err, "")
	}
	if amount <= 0 {
		// The ledger refuses it too, but in minor units under the API's
		// field name.
		return h.redirect(c, back, domain.Errorf(domain.EINVALID, "amount: %s is nothing to pay; type the amount she was paid, e.g. 150", h.money.Format(amount)), "")
	}
	ref := strings.TrimSpace(c.FormValue("reference"))
	formKey := ref == ""
	if formKey {
		ref = c.FormValue("payout_key")
	}
	switch {
	case formKey && (!strings.HasPrefix(ref, payoutKeyPrefix) || len(ref) == len(payoutKeyPrefix) || len(ref) > 100):
		return h.redirect(c, back, domain.Errorf(domain.EINVALID, "the payout form came without its one-time key, so a repeat could pay twice; nothing was booked: reload the page and record the payout again"), "")
	case len(ref) > 100:
		return h.redirect(c, back, domain.Errorf(domain.EINVALID, "reference: at most 100 characters"), "")
	}
	p := domain.Payout{
		MemberID:    memberID,
		AmountMinor: amount,
		Reference:   ref,
		Note:        strings.TrimSpace(c.FormValue("note")),
	}
	e, err := h.d.Ledger.RecordPayout(h.ctx(c), p, actor(c))
	if formKey && errors.Is(err, domain.ErrReferenceUsed) {
		// The leader typed no reference: say what the key is for.
		err = domain.Errorf(domain.ECONFLICT, "this form already recorded a different payout, so nothing was booked now; reload the page to record another (%s)", domain.ErrorMessage(err))
	}
	if errors.Is(err, domain.ErrOverBalance) {
		// Over the balance: the ledger says it in minor units for the API;
		// the leader typed money, so say it in money.
		msg := fmt.Sprintf("%s is more than her balance; pay at most the balance shown below", h.money.Format(amount))
		if pay, perr := h.d.Ledger.Pay(h.ctx(c), memberID); perr == nil {
			msg = fmt.Sprintf("%s is more than her balance of %s; pay at most the balance", h.money.Format(amount), h.money.Format(pay.Balance))
		}
		err = domain.Errorf(domain.ECONFLICT, "%s", msg)
	}
	if err != nil {
		return h.redirect(c, back, err, "")
	}
	name := fmt.Sprintf("worker %d", memberID)
	if m, err := h.d.Members.MemberByID(h.ctx(c), memberID); err == nil && m.Name != "" {
		name = m.Name
	}
	return h.redirect(c, back, nil, fmt.Sprintf("Payout of %s to %s recorded (entry %d).", h.money.Format(e.AmountMinor), name, e.ID))
}
