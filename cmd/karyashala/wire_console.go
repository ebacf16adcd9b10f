package main

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/karyashala/karyashala/config"
	"github.com/karyashala/karyashala/console"
)

// mountConsole adds the web console under /console. It runs last, so the
// USSD channel has set s.Dial by now; the simulator still reads it on every
// use so that a later wiring change cannot leave it stale.
func mountConsole(app *fiber.App, s *services, cfg config.Config) (*component, error) {
	h, err := console.New(console.Deps{
		Services: s.Services,
		Menus: func() *console.MenuStatus {
			if s.Menus == nil {
				return nil
			}
			return menuStatus(s.Menus())
		},
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
		Location:  regionLocation(cfg.Region),
	})
	if err != nil {
		return nil, err
	}
	h.Mount(app)
	return &component{Name: "console"}, nil
}

// menuStatus turns the USSD channel's report into the console's view,
// sorting the refused reload's FILE:LINE:COL lines under their files.
func menuStatus(r MenuReport) *console.MenuStatus {
	st := &console.MenuStatus{LoadedAt: r.LoadedAt}
	var lines []string
	if r.Failed != nil {
		st.Err = r.Failed.Error()
		lines = strings.Split(st.Err, "\n")
	}
	for _, f := range r.Files {
		mf := console.MenuFile{Path: f}
		for _, l := range lines {
			if strings.HasPrefix(l, f+":") {
				mf.Problems = append(mf.Problems, l)
			}
		}
		st.Files = append(st.Files, mf)
	}
	return st
}
