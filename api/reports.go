package api

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/karyashala/karyashala/domain"
)

// summaryDays is the default period of the outcome summary.
const summaryDays = 30

// summary reports the programme's outcome for [from, to): dates are
// YYYY-MM-DD (days in the programme's zone; a date in to counts the whole
// day) or RFC 3339, and the period defaults to the last 30 days.
func (a *API) summary(c *fiber.Ctx) error {
	to := a.Now().UTC()
	if raw := c.Query("to"); raw != "" {
		t, err := a.parseWhen("to", raw, true)
		if err != nil {
			return err
		}
		to = t
	}
	from := to.AddDate(0, 0, -summaryDays)
	if raw := c.Query("from"); raw != "" {
		t, err := a.parseWhen("from", raw, false)
		if err != nil {
			return err
		}
		from = t
	}
	if !to.After(from) {
		return domain.Errorf(domain.EINVALID, "from, to: the period is empty (from %s, to %s); from must come before to", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	if to.Sub(from) > 5*366*24*time.Hour {
		return domain.Errorf(domain.EINVALID, "from, to: at most five years at a time")
	}
	s, err := a.Reports.Summary(ctx(c), from, to)
	if err != nil {
		return err
	}
	return c.JSON(struct {
		*domain.Summary
		Currency string `json:"currency"`
	}{s, a.Currency})
}
