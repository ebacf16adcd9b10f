package console

import (
	"log/slog"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/karyashala/karyashala/api"
	"github.com/karyashala/karyashala/domain"
)

// queueLimit caps how many reports of one status the queue reads.
const queueLimit = 500

// statusOpen is the queue's default filter: every report not closed.
const statusOpen = "open"

var openStatuses = []string{domain.StatusNew, domain.StatusAcknowledged, domain.StatusInProgress}

var allStatuses = []string{domain.StatusNew, domain.StatusAcknowledged, domain.StatusInProgress, domain.StatusResolved, domain.StatusRejected, domain.StatusDuplicate}

// ages are the queue's age filter: reports older than this.
var ages = []struct {
	Value, Label string
	D            time.Duration
}{
	{"", "any age", 0},
	{"1d", "older than 1 day", 24 * time.Hour},
	{"3d", "older than 3 days", 72 * time.Hour},
	{"7d", "older than a week", 7 * 24 * time.Hour},
	{"30d", "older than a month", 30 * 24 * time.Hour},
}

type queueData struct {
	Status, Kind, Category, Age string
	Statuses                    []string
	Ages                        any
	Categories                  []string
	Items                       []*domain.Complaint
	Truncated                   bool
}

// queueFilter reads and checks the queue's filters.
func queueFilter(c *fiber.Ctx) (q queueData, statuses []string, minAge time.Duration, err error) {
	q.Status = c.Query("status", statusOpen)
	q.Kind = c.Query("kind")
	q.Category = strings.TrimSpace(c.Query("category"))
	q.Age = c.Query("age")
	switch {
	case q.Status == statusOpen:
		statuses = openStatuses
	case q.Status == "all":
		statuses = allStatuses
	case contains(allStatuses, q.Status):
		statuses = []string{q.Status}
	default:
		return q, nil, 0, domain.Errorf(domain.EINVALID, "status %q is not one of open, all, %s", q.Status, strings.Join(allStatuses, ", "))
	}
	if q.Kind != "" && q.Kind != domain.KindComplaint && q.Kind != domain.KindProposal {
		return q, nil, 0, domain.Errorf(domain.EINVALID, "kind %q is not complaint or proposal", q.Kind)
	}
	found := false
	for _, a := range ages {
		if a.Value == q.Age {
			minAge, found = a.D, true
		}
	}
	if !found {
		return q, nil, 0, domain.Errorf(domain.EINVALID, "age %q is not one of 1d, 3d, 7d, 30d", q.Age)
	}
	return q, statuses, minAge, nil
}

// complaintsPage is the triage queue: reports nobody has touched come first,
// oldest first; then the rest by how long ago anyone last touched them.
func (h *Console) complaintsPage(c *fiber.Ctx) error {
	q, statuses, minAge, err := queueFilter(c)
	if err != nil {
		return h.fail(c, err)
	}
	q.Statuses = append([]string{statusOpen, "all"}, allStatuses...)
	q.Ages = ages
	now := h.now()
	cats := map[string]bool{}
	for _, st := range statuses {
		items, next, err := h.d.Complaints.FindComplaints(h.ctx(c), domain.ComplaintFilter{
			Status: st, Kind: q.Kind, Category: q.Category, OldestFirst: true, Limit: queueLimit,
		})
		if err != nil {
			return h.fail(c, err)
		}
		if next != "" {
			q.Truncated = true
		}
		for _, it := range items {
			if it.Category != "" {
				cats[it.Category] = true
			}
			if minAge > 0 && now.Sub(it.CreatedAt) < minAge {
				continue
			}
			q.Items = append(q.Items, it)
		}
	}
	sort.SliceStable(q.Items, func(i, j int) bool {
		a, b := q.Items[i], q.Items[j]
		an, bn := a.Status == domain.StatusNew, b.Status == domain.StatusNew
		if an != bn {
			return an
		}
		if an {
			return a.CreatedAt.Before(b.CreatedAt)
		}
		return a.UpdatedAt.Before(b.UpdatedAt)
	})
	for k := range cats {
		q.Categories = append(q.Categories, k)
	}
	sort.Strings(q.Categories)
	return h.render(c, 0, "complaints", "Complaints and proposals", q)
}

type complaintData struct {
	C        *domain.Complaint
	Messages []*domain.Message
	Closed   bool
}

func (h *Console) complaintPage(c *fiber.Ctx) error {
	ref, err := pathRef(c)
	if err != nil {
		return h.fail(c, err)
	}
	cm, err := h.d.Complaints.ComplaintByRef(h.ctx(c), ref)
	if err != nil {
		return h.fail(c, err)
	}
	d := complaintData{C: cm, Closed: domain.IsClosed(cm.Status)}
	if cm.ReporterPhone != "" {
		msgs, _, err := h.d.Messages.FindMessages(h.ctx(c), domain.MessageFilter{Phone: cm.ReporterPhone, Limit: 200})
		if err != nil {
			return h.fail(c, err)
		}
		for _, m := range msgs {
			if m.ComplaintID == cm.ID {
				d.Messages = append(d.Messages, m)
			}
		}
	}
	return h.render(c, 0, "complaint", cm.Ref, d)
}

// complaintActions maps the buttons on a report's page to the status they
// set; "note" only adds a note.
var complaintActions = map[string]string{
	"acknowledge": domain.StatusAcknowledged,
	"in_progress": domain.StatusInProgress,
	"note":        "",
	"resolve":     domain.StatusResolved,
	"reject":      domain.StatusRejected,
	"duplicate":   domain.StatusDuplicate,
}

var actionDone = map[string]string{
	"acknowledge": "acknowledged",
	"in_progress": "marked in progress",
	"note":        "noted",
	"resolve":     "resolved",
	"reject":      "rejected",
	"duplicate":   "marked as a duplicate",
}

func (h *Console) changeComplaint(c *fiber.Ctx) error {
	ref, err := pathRef(c)
	if err != nil {
		return h.fail(c, err)
	}
	back := Prefix + "/complaints/" + url.PathEscape(ref)
	action := c.FormValue("action")
	status, ok := complaintActions[action]
	if !ok {
		return h.redirect(c, back, domain.Errorf(domain.EINVALID, "%q is not an action on a report; use the buttons on the page", action), "")
	}
	ch := domain.ComplaintChange{Status: status, Note: strings.TrimSpace(c.FormValue("note"))}
	switch action {
	case "note":
		if ch.Note == "" {
			return h.redirect(c, back, domain.Errorf(domain.EINVALID, "write the note before pressing Add note"), "")
		}
	case "duplicate":
		orig, err := domain.ParseRef(c.FormValue("duplicate_of"))
		if err != nil {
			return h.redirect(c, back, domain.Errorf(domain.EINVALID, "duplicate of: %s", domain.ErrorMessage(err)), "")
		}
		if orig == ref {
			return h.redirect(c, back, domain.Errorf(domain.EINVALID, "duplicate of: a report cannot duplicate itself; give the original's reference"), "")
		}
		ch.DuplicateOf = orig
	}
	cm, err := h.d.Complaints.ChangeComplaint(h.ctx(c), ref, ch, actor(c))
	if err != nil {
		return h.redirect(c, back, err, "")
	}
	msg := cm.Ref + " " + actionDone[action] + "."
	if cm.ReporterPhone != "" && !cm.Anonymous {
		// Her notification is recorded but not sent after STOP.
		opted, err := h.d.Messages.IsOptedOut(h.ctx(c), cm.ReporterPhone)
		switch {
		case err != nil:
			// The change is made; only what to say about the SMS is unsure.
			slog.Error("console: read reporter's opt-out", "ref", cm.Ref, "err", err)
			msg += " See Messages below for whether the reporter was sent an SMS."
		case opted:
			msg += " The reporter sent STOP, so no SMS was sent to her; tell her another way if she should know."
		default:
			msg += " The reporter is told by SMS (see Messages below)."
		}
	}
	return h.redirect(c, back, nil, msg)
}

// pathRef reads the report's reference from the URL path, escaped or not
// ("%23C1042", "C%201042"), as the API reads it.
func pathRef(c *fiber.Ctx) (string, error) {
	return domain.ParseRef(api.PathParam(c, "ref"))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
