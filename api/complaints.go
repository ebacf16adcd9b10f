package api

import (
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/karyashala/karyashala/domain"
)

// maxComplaintText bounds what a leader types in; an SMS complaint is far
// shorter.
const maxComplaintText = 2000

// allStatuses are the states a complaint can be in, for list filters.
var allStatuses = append([]string{domain.StatusNew}, domain.ValidStatuses...)

// listComplaints lists complaints and proposals newest first (?order=oldest
// for a triage queue), filtered by status, kind, category and reporter phone.
func (a *API) listComplaints(c *fiber.Ctx) error {
	var f domain.ComplaintFilter
	var err error
	if f.Status, err = queryEnum(c, "status", allStatuses...); err != nil {
		return err
	}
	if f.Kind, err = queryEnum(c, "kind", domain.KindComplaint, domain.KindProposal); err != nil {
		return err
	}
	order, err := queryEnum(c, "order", "newest", "oldest")
	if err != nil {
		return err
	}
	f.OldestFirst = order == "oldest"
	if raw := c.Query("phone"); raw != "" {
		if f.Reporter, err = a.phone("phone", raw); err != nil {
			return err
		}
	}
	if f.Limit, err = queryLimit(c); err != nil {
		return err
	}
	f.Category = strings.TrimSpace(c.Query("category"))
	f.Cursor = c.Query("cursor")
	cs, next, err := a.Complaints.FindComplaints(ctx(c), f)
	if err != nil {
		return err
	}
	return list(c, cs, next)
}

// newComplaint is the body of POST /complaints: a leader recording a problem
// or proposal a resident voiced in person.
type newComplaint struct {
	Kind      string `json:"kind"`
	Text      string `json:"text"`
	Category  string `json:"category"`
	Phone     string `json:"phone"`
	Anonymous bool   `json:"anonymous"`
	Lang      string `json:"lang"`
}

func (a *API) createComplaint(c *fiber.Ctx) error {
	var b newComplaint
	if err := decode(c, &b); err != nil {
		return err
	}
	n := domain.NewComplaint{
		Kind:      b.Kind,
		Text:      strings.TrimSpace(b.Text),
		Category:  strings.TrimSpace(b.Category),
		Anonymous: b.Anonymous,
		Channel:   domain.ChannelAPI,
	}
	if n.Kind == "" {
		n.Kind = domain.KindComplaint
	}
	if err := oneOf("kind", n.Kind, domain.KindComplaint, domain.KindProposal); err != nil {
		return err
	}
	switch {
	case n.Text == "":
		return domain.Errorf(domain.EINVALID, "text: required; write the problem or proposal in the resident's words")
	case len([]rune(n.Text)) > maxComplaintText:
		return domain.Errorf(domain.EINVALID, "text: at most %d characters", maxComplaintText)
	case len([]rune(n.Category)) > 60:
		return domain.Errorf(domain.EINVALID, "category: at most 60 characters")
	}
	var err error
	if n.Lang, err = a.lang("lang", b.Lang); err != nil {
		return err
	}
	switch raw := strings.TrimSpace(b.Phone); {
	case raw != "" && b.Anonymous:
		return domain.Errorf(domain.EINVALID, "phone: leave it out when anonymous is true; an anonymous report keeps no number")
	case raw != "":
		if n.ReporterPhone, err = a.phone("phone", raw); err != nil {
			return err
		}
	default:
		n.Anonymous = true
	}
	cm, err := a.Complaints.CreateComplaint(ctx(c), n)
	if err != nil {
		return err
	}
	return created(c, cm)
}

// complaintRef reads the {ref} path parameter in any form people type it.
func complaintRef(c *fiber.Ctx) (string, error) {
	ref, err := domain.ParseRef(PathParam(c, "ref"))
	if err != nil {
		return "", domain.Errorf(domain.EINVALID, "ref: %s", domain.ErrorMessage(err))
	}
	return ref, nil
}

func (a *API) getComplaint(c *fiber.Ctx) error {
	ref, err := complaintRef(c)
	if err != nil {
		return err
	}
	cm, err := a.Complaints.ComplaintByRef(ctx(c), ref)
	if err != nil {
		return err
	}
	return c.JSON(cm)
}

// complaintPatch is the body of PATCH /complaints/{ref}.
type complaintPatch struct {
	Status      string `json:"status"`
	Note        string `json:"note"`
	DuplicateOf string `json:"duplicate_of"`
}

// changeComplaint moves a complaint to a new state (or only adds a note);
// the store records the change in its history under the token's name and
// queues an SMS telling the reporter.
func (a *API) changeComplaint(c *fiber.Ctx) error {
	ref, err := complaintRef(c)
	if err != nil {
		return err
	}
	var b complaintPatch
	if err := decode(c, &b); err != nil {
		return err
	}
	ch := domain.ComplaintChange{Status: b.Status, Note: strings.TrimSpace(b.Note)}
	switch {
	case ch.Status == "" && ch.Note == "":
		return domain.Errorf(domain.EINVALID, "status: required (one of %s), or a note alone", strings.Join(domain.ValidStatuses, ", "))
	case utf8.RuneCountInString(ch.Note) > domain.MaxNoteChars:
		return domain.Errorf(domain.EINVALID, "note: at most %d characters; it is sent to the reporter by SMS", domain.MaxNoteChars)
	}
	if ch.Status != "" {
		if err := oneOf("status", ch.Status, domain.ValidStatuses...); err != nil {
			return err
		}
	}
	switch {
	case ch.Status == domain.StatusDuplicate && strings.TrimSpace(b.DuplicateOf) == "":
		return domain.Errorf(domain.EINVALID, "duplicate_of: required with status duplicate; give the reference of the original, e.g. C1042")
	case ch.Status != domain.StatusDuplicate && b.DuplicateOf != "":
		return domain.Errorf(domain.EINVALID, "duplicate_of: only goes with status duplicate")
	case b.DuplicateOf != "":
		orig, err := domain.ParseRef(b.DuplicateOf)
		if err != nil {
			return domain.Errorf(domain.EINVALID, "duplicate_of: %s", domain.ErrorMessage(err))
		}
		if orig == ref {
			return domain.Errorf(domain.EINVALID, "duplicate_of: %s cannot be a duplicate of itself", ref)
		}
		if _, err := a.Complaints.ComplaintByRef(ctx(c), orig); err != nil {
			if domain.ErrorCode(err) == domain.ENOTFOUND {
				return domain.Errorf(domain.EINVALID, "duplicate_of: there is no %s", orig)
			}
			return err
		}
		ch.DuplicateOf = orig
	}
	cm, err := a.Complaints.ChangeComplaint(ctx(c), ref, ch, actor(c))
	if err != nil {
		return err
	}
	return c.JSON(cm)
}
