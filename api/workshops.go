package api

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/karyashala/karyashala/domain"
)

func (a *API) listWorkshops(c *fiber.Ctx) error {
	ws, err := a.Workshops.FindWorkshops(ctx(c))
	if err != nil {
		return err
	}
	return list(c, ws, "")
}

// newWorkshop is the body of POST /workshops.
type newWorkshop struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	Hours   string `json:"hours"`
}

func (a *API) createWorkshop(c *fiber.Ctx) error {
	var b newWorkshop
	if err := decode(c, &b); err != nil {
		return err
	}
	w := &domain.Workshop{Name: strings.TrimSpace(b.Name), Address: strings.TrimSpace(b.Address), Hours: strings.TrimSpace(b.Hours)}
	switch {
	case w.Name == "":
		return domain.Errorf(domain.EINVALID, "name: required, e.g. \"Shanti Nagar block C\"")
	case len([]rune(w.Name)) > 60:
		return domain.Errorf(domain.EINVALID, "name: at most 60 characters so it fits a phone screen")
	}
	if err := a.Workshops.CreateWorkshop(ctx(c), w); err != nil {
		return err
	}
	return created(c, w)
}

func (a *API) getWorkshop(c *fiber.Ctx) error {
	id, err := pathID(c, "workshop")
	if err != nil {
		return err
	}
	w, err := a.Workshops.WorkshopByID(ctx(c), id)
	if err != nil {
		return err
	}
	return c.JSON(w)
}

// listHelpRequests lists help requests newest first; ?status=open is the
// queue a leader works through.
func (a *API) listHelpRequests(c *fiber.Ctx) error {
	status, err := queryEnum(c, "status", domain.HelpOpen, domain.HelpClosed)
	if err != nil {
		return err
	}
	hs, err := a.Workshops.FindHelpRequests(ctx(c), status)
	if err != nil {
		return err
	}
	return list(c, hs, "")
}

func (a *API) closeHelpRequest(c *fiber.Ctx) error {
	id, err := pathID(c, "help request")
	if err != nil {
		return err
	}
	h, err := a.Workshops.CloseHelpRequest(ctx(c), id, actor(c))
	if err != nil {
		return err
	}
	return c.JSON(h)
}
