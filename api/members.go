package api

import (
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/karyashala/karyashala/domain"
)

func (a *API) listMembers(c *fiber.Ctx) error {
	if raw := c.Query("phone"); raw != "" {
		p, err := a.phone("phone", raw)
		if err != nil {
			return err
		}
		m, err := a.Members.MemberByPhone(ctx(c), p)
		if domain.ErrorCode(err) == domain.ENOTFOUND {
			return list[*domain.Member](c, nil, "")
		} else if err != nil {
			return err
		}
		return list(c, []*domain.Member{m}, "")
	}
	var f domain.MemberFilter
	var err error
	if f.Role, err = queryEnum(c, "role", domain.RoleWorker, domain.RoleLeader); err != nil {
		return err
	}
	if f.Status, err = queryEnum(c, "status", domain.MemberPending, domain.MemberActive, domain.MemberInactive); err != nil {
		return err
	}
	if f.Limit, err = queryLimit(c); err != nil {
		return err
	}
	f.Cursor = c.Query("cursor")
	ms, next, err := a.Members.FindMembers(ctx(c), f)
	if err != nil {
		return err
	}
	return list(c, ms, next)
}

// newMember is the body of POST /members.
type newMember struct {
	Phone      string `json:"phone"`
	Name       string `json:"name"`
	Lang       string `json:"lang"`
	WorkshopID int64  `json:"workshop_id"`
	Role       string `json:"role"`
	Status     string `json:"status"`
}

// createMember adds a worker or leader. A leader adding someone in person
// has already checked who she is, so the member is active unless the body
// says otherwise.
func (a *API) createMember(c *fiber.Ctx) error {
	var b newMember
	if err := decode(c, &b); err != nil {
		return err
	}
	if strings.TrimSpace(b.Phone) == "" {
		return domain.Errorf(domain.EINVALID, "phone: required, e.g. +919812345678")
	}
	p, err := a.phone("phone", b.Phone)
	if err != nil {
		return err
	}
	m := &domain.Member{Phone: p, Name: strings.TrimSpace(b.Name), WorkshopID: b.WorkshopID, Role: b.Role, Status: b.Status}
	if m.Role == "" {
		m.Role = domain.RoleWorker
	}
	if m.Status == "" {
		m.Status = domain.MemberActive
	}
	if m.Lang, err = a.lang("lang", b.Lang); err != nil {
		return err
	}
	if err := m.Validate(); err != nil {
		return err
	}
	if err := a.workshopExists(ctx(c), "workshop_id", m.WorkshopID); err != nil {
		return err
	}
	if err := a.Members.CreateMember(ctx(c), m); err != nil {
		return err
	}
	return created(c, m)
}

func (a *API) getMember(c *fiber.Ctx) error {
	id, err := pathID(c, "member")
	if err != nil {
		return err
	}
	m, err := a.Members.MemberByID(ctx(c), id)
	if err != nil {
		return err
	}
	return c.JSON(m)
}

// updateMember changes a member, e.g. {"status": "active"} to activate a
// worker who registered herself by phone.
func (a *API) updateMember(c *fiber.Ctx) error {
	id, err := pathID(c, "member")
	if err != nil {
		return err
	}
	var u domain.MemberUpdate
	if err := decode(c, &u); err != nil {
		return err
	}
	if u == (domain.MemberUpdate{}) {
		return domain.Errorf(domain.EINVALID, "request body: nothing to change; send one or more of %s", strings.Join(fields(&u), ", "))
	}
	if u.Status != nil {
		if err := oneOf("status", *u.Status, domain.MemberPending, domain.MemberActive, domain.MemberInactive); err != nil {
			return err
		}
	}
	if u.Role != nil {
		if err := oneOf("role", *u.Role, domain.RoleWorker, domain.RoleLeader); err != nil {
			return err
		}
	}
	if u.Lang != nil {
		if *u.Lang == "" {
			return domain.Errorf(domain.EINVALID, "lang: must not be empty; use one of %s", strings.Join(a.Languages, ", "))
		}
		if _, err := a.lang("lang", *u.Lang); err != nil {
			return err
		}
	}
	if u.Name != nil {
		n := strings.TrimSpace(*u.Name)
		if utf8.RuneCountInString(n) > 100 {
			return domain.Errorf(domain.EINVALID, "name: at most 100 characters")
		}
		u.Name = &n
	}
	if u.WorkshopID != nil {
		if err := a.workshopExists(ctx(c), "workshop_id", *u.WorkshopID); err != nil {
			return err
		}
	}
	m, err := a.Members.UpdateMember(ctx(c), id, u)
	if err != nil {
		return err
	}
	return c.JSON(m)
}

// payFigures are a member's pay with the currency they are in.
type payFigures struct {
	*domain.PayFigures
	Currency string `json:"currency"`
}

func (a *API) memberPay(c *fiber.Ctx) error {
	id, err := pathID(c, "member")
	if err != nil {
		return err
	}
	p, err := a.Ledger.Pay(ctx(c), id)
	if err != nil {
		return err
	}
	return c.JSON(payFigures{PayFigures: p, Currency: a.Currency})
}

func (a *API) memberLedger(c *fiber.Ctx) error {
	id, err := pathID(c, "member")
	if err != nil {
		return err
	}
	n, err := queryLimit(c)
	if err != nil {
		return err
	}
	if _, err := a.Members.MemberByID(ctx(c), id); err != nil {
		return err
	}
	es, next, err := a.Ledger.Entries(ctx(c), id, c.Query("cursor"), n)
	if err != nil {
		return err
	}
	return list(c, es, next)
}

// memberAssignments lists what a member accepted and has still to report;
// ?all=true includes the finished ones.
func (a *API) memberAssignments(c *fiber.Ctx) error {
	id, err := pathID(c, "member")
	if err != nil {
		return err
	}
	all, err := queryBool(c, "all")
	if err != nil {
		return err
	}
	if _, err := a.Members.MemberByID(ctx(c), id); err != nil {
		return err
	}
	as, err := a.Tasks.AssignmentsByMember(ctx(c), id, all)
	if err != nil {
		return err
	}
	return list(c, as, "")
}
