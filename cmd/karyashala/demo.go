package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"

	"github.com/karyashala/karyashala/config"
	"github.com/karyashala/karyashala/demo"
	"github.com/karyashala/karyashala/domain"
)

func loadDemo(ctx context.Context, s *services, cfg config.Config) error {
	if reachesPhones(cfg) {
		// The demo's phones are made up, and one of them is told at once
		// that its complaint was acknowledged: through a carrier that is a
		// real SMS to whoever holds the number.
		return fmt.Errorf("--demo seeds made-up phone numbers (+91 98000 000xx), and with sms.sender %s one of them would get a real SMS at once; run the demo with sms.sender log (the default), or start without --demo", cfg.SMS.Sender)
	}
	loaded, err := demo.Load(ctx, s.Services, s.DB, cfg.Languages, s.DB.Now())
	if err != nil {
		return fmt.Errorf("%w; nothing was written: --demo fills a database without the demo's phones, so point db.path (or KARYASHALA_DB_PATH) at a new file", err)
	}
	if loaded {
		slog.Info("demo data loaded", "leader", domain.MaskPhone(demo.LeaderPhone), "worker", domain.MaskPhone(demo.WorkerPhone))
	} else {
		slog.Info("demo data not loaded: the database already has a workshop", "db", cfg.DB.Path)
	}
	return nil
}

// reachesPhones reports whether the configured sender can reach real
// phones: any carrier but a stand-in for Africa's Talking or Twilio on this
// machine (a test's), which a base_url on a loopback address is. A Kannel
// smsbox on this machine is a real gateway.
func reachesPhones(cfg config.Config) bool {
	var base string
	switch cfg.SMS.Sender {
	case "", "log":
		return false
	case "africastalking":
		base = cfg.SMS.AfricasTalking.BaseURL
	case "twilio":
		base = cfg.SMS.Twilio.BaseURL
	default:
		return true
	}
	u, err := url.Parse(base)
	if err != nil {
		return true
	}
	ip := net.ParseIP(u.Hostname())
	return !(u.Hostname() == "localhost" || ip != nil && ip.IsLoopback())
}
