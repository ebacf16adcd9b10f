package main

import (
	"github.com/gofiber/fiber/v2"

	"github.com/karyashala/karyashala/config"
	"github.com/karyashala/karyashala/console"
)

// mountConsole adds the web console under /console. It runs last, so the
// USSD channel has set s.Dial by now; the simulator still reads it on every
// use so that a later wiring change cannot leave it stale.
func mountConsole(app *fiber.App, s *services, cfg config.Config) (*component, error) {
	h, err := console.New(console.Deps{
		Members:    s.Members,
		Workshops:  s.Workshops,
		Tasks:      s.Tasks,
		Ledger:     s.Ledger,
		Trainings:  s.Trainings,
		Complaints: s.Complaints,
		Messages:   s.Messages,
		Tokens:     s.Tokens,
		Reports:    s.Reports,
		Dial: func() console.DialFunc {
			if s.Dial == nil {
				return nil
			}
			return s.Dial
		},
	}, console.Options{
		Languages: cfg.Languages,
		Currency:  cfg.Currency,
		Region:    cfg.Region,
		ShortCode: cfg.USSD.ShortCode,
	})
	if err != nil {
		return nil, err
	}
	h.Mount(app)
	return &component{Name: "console"}, nil
}
