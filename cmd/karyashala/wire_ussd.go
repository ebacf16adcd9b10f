package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"
	_ "time/tzdata" // training dates are shown in the region's zone, also on hosts without zoneinfo

	"github.com/gofiber/fiber/v2"
	"github.com/nyaruka/phonenumbers"

	"github.com/karyashala/karyashala/config"
	"github.com/karyashala/karyashala/domain"
	"github.com/karyashala/karyashala/ratelimit"
	"github.com/karyashala/karyashala/storage"
	"github.com/karyashala/karyashala/ussd"
	"github.com/karyashala/karyashala/ussd/africastalking"
)

// mountUSSD builds the menu engine, adds the carrier callbacks, and lets the
// console dial in-process. It refuses to start on menus with problems.
func mountUSSD(app *fiber.App, s *services, cfg config.Config) (*component, error) {
	eng, rel, err := buildUSSD(s, cfg, ratelimit.PerMinute(cfg.RateLimit.USSDPerMinute))
	if err != nil {
		return nil, err
	}
	africastalking.New(eng, cfg.Region).Routes(app)
	s.Dial = func(ctx context.Context, sessionID, phone, serviceCode, text string) (string, error) {
		p, err := domain.ParsePhone(phone, cfg.Region)
		if err != nil {
			return "", err
		}
		resp, err := eng.Handle(ctx, ussd.Request{SessionID: sessionID, Phone: p, ServiceCode: serviceCode, Text: text})
		if err != nil {
			if domain.ErrorCode(err) == domain.EINVALID {
				return "", err
			}
			slog.Error("ussd hop failed", "carrier", "console", "session", sessionID, "phone", domain.MaskPhone(p), "err", err)
		}
		return resp.String(), nil
	}
	comp := &component{
		Name:  "ussd",
		Ready: func() error { return nil },
		Run: func(ctx context.Context) {
			go sweepSessions(ctx, eng)
			if rel != nil {
				if err := rel.Watch(ctx); err != nil {
					slog.Error("menu hot reload is off", "err", err)
				}
			}
		},
	}
	started := time.Now()
	s.Menus = func() MenuReport {
		r := MenuReport{LoadedAt: started}
		if m := eng.Menus(); m != nil {
			r.Files = m.Files
		}
		if rel != nil {
			r.LoadedAt, r.Failed = rel.Status()
		}
		return r
	}
	if rel != nil {
		comp.Ready, comp.Detail = rel.Ready, rel.Detail
	}
	return comp, nil
}

// buildUSSD makes the engine on the open services: from menus.path with a
// reloader, or from the built-in menus (no reloader). limit, when not nil,
// is the per-phone limit on hops.
func buildUSSD(s *services, cfg config.Config, limit ussd.Limiter) (*ussd.Engine, *ussd.Reloader, error) {
	reg := ussd.Builtins(s.Services, ussd.BuiltinOptions{
		Currency:         cfg.Currency,
		Languages:        cfg.Languages,
		OpenRegistration: cfg.Registration == "open",
		Location:         regionLocation(cfg.Region),
	})
	opt := menuOptions(cfg, reg)
	var (
		m     *ussd.Menus
		probs ussd.Problems
	)
	if cfg.Menus.Path == "" {
		m, probs = ussd.LoadBuiltin(opt)
	} else {
		m, probs = ussd.LoadFiles([]string{cfg.Menus.Path}, opt)
	}
	if len(probs) > 0 {
		return nil, nil, fmt.Errorf("menus have problems; fix them (karyashala menu check shows the same list):\n%v", probs)
	}
	if s.Sessions == nil {
		ss := storage.NewSessionStore(s.DB)
		if err := ss.Writable(); err != nil {
			return nil, nil, err
		}
		s.Sessions = ss
	}
	eng := ussd.New(m, reg, s.Sessions, ussd.Config{
		Languages:    cfg.Languages,
		Limits:       opt.Limits,
		ResumeWindow: cfg.USSD.ResumeWindow,
		SessionTTL:   cfg.USSD.SessionTTL,
		Limit:        limit,
	})
	var rel *ussd.Reloader
	if cfg.Menus.Path != "" {
		rel = ussd.NewReloader(eng, []string{cfg.Menus.Path})
	}
	slog.Info("ussd menus loaded", "files", strings.Join(m.Files, ","), "screens", len(m.Screens))
	return eng, rel, nil
}

// menuOptions is what menus are checked against under cfg.
func menuOptions(cfg config.Config, reg *ussd.Registry) ussd.Options {
	return ussd.Options{
		Languages: cfg.Languages,
		Limits:    ussd.Limits{MaxGSM7: cfg.USSD.MaxCharsGSM7, MaxUCS2: cfg.USSD.MaxCharsUCS2},
		Registry:  reg,
	}
}

// sweepSessions deletes sessions too old to resume, every ten minutes.
func sweepSessions(ctx context.Context, eng *ussd.Engine) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := eng.Sweep(ctx); err != nil {
				slog.Warn("sweep ussd sessions", "err", err)
			} else if n > 0 {
				slog.Debug("swept ussd sessions", "deleted", n)
			}
		}
	}
}

// regionLocation is the time zone of the region's phone numbers (the first,
// where a region spans several), for showing training dates.
func regionLocation(region string) *time.Location {
	num := phonenumbers.GetExampleNumber(region)
	if num == nil {
		return time.Local
	}
	zones, err := phonenumbers.GetTimezonesForNumber(num)
	if err != nil || len(zones) == 0 {
		return time.Local
	}
	loc, err := time.LoadLocation(zones[0])
	if err != nil {
		return time.Local
	}
	return loc
}
