package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/karyashala/karyashala/config"
	"github.com/karyashala/karyashala/demo"
	"github.com/karyashala/karyashala/domain"
)

// serve --demo with English alone (KARYASHALA_LANGUAGES=en) loads the whole
// demo, and a worker dials in to an English menu.
func TestDemoWithEnglishOnly(t *testing.T) {
	srv, s := testServer(t, func(c *config.Config) { c.Languages = []string{"en"} })
	ms, _, err := s.Members.FindMembers(context.Background(), domain.MemberFilter{Limit: 10})
	if err != nil || len(ms) != 3 {
		t.Fatalf("members %d, %v; want the demo's three", len(ms), err)
	}
	code, body := do(t, srv, form("POST", "/ussd/africastalking", "sessionId=s1&serviceCode=*384%23&phoneNumber=%2B919800000002&networkCode=40410&text="))
	if code != 200 || !strings.HasPrefix(body, "CON ") {
		t.Fatalf("dial: %d %q", code, body)
	}
}

// emptyServices opens the services on a new database with the defaults.
func emptyServices(t *testing.T) (config.Config, *services) {
	t.Helper()
	cfg := config.Default()
	cfg.DB.Path = filepath.Join(t.TempDir(), "k.db")
	s, err := openServices(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return cfg, s
}

// A demo that cannot load says nothing was written and what to do.
func TestDemoRefusedSaysWhatToDo(t *testing.T) {
	cfg, s := emptyServices(t)
	ctx := context.Background()
	if err := s.Members.CreateMember(ctx, &domain.Member{Phone: demo.LeaderPhone, Role: domain.RoleWorker, Status: domain.MemberPending}); err != nil {
		t.Fatal(err)
	}
	err := loadDemo(ctx, s, cfg)
	if err == nil || !strings.Contains(err.Error(), "already registered") || !strings.Contains(err.Error(), "nothing was written") || !strings.Contains(err.Error(), "db.path") {
		t.Fatalf("loadDemo with the leader's phone taken: %v", err)
	}
	if ws, _ := s.Workshops.FindWorkshops(ctx); len(ws) != 0 {
		t.Fatalf("a refused demo left %d workshops", len(ws))
	}
}

// The demo's phones are made up: with a carrier as the sender, one of them
// would get a real SMS, so --demo is refused and nothing is written.
func TestDemoRefusedWithACarrier(t *testing.T) {
	cfg, s := emptyServices(t)
	ctx := context.Background()
	for _, c := range []struct {
		sender, base string
		refused      bool
	}{
		{"kannel", "", true},
		{"twilio", "https://api.twilio.com", true},
		{"africastalking", "http://127.0.0.1:9999", false}, // a test's stand-in
	} {
		cfg.SMS.Sender, cfg.SMS.Twilio.BaseURL, cfg.SMS.AfricasTalking.BaseURL = c.sender, c.base, c.base
		if got := reachesPhones(cfg); got != c.refused {
			t.Errorf("sms.sender %s at %q reaches phones: %v, want %v", c.sender, c.base, got, c.refused)
		}
	}
	cfg.SMS.Sender = "kannel"
	if err := loadDemo(ctx, s, cfg); err == nil || !strings.Contains(err.Error(), "sms.sender kannel") {
		t.Fatalf("loadDemo with sms.sender kannel: %v", err)
	}
	if ws, _ := s.Workshops.FindWorkshops(ctx); len(ws) != 0 {
		t.Fatalf("a refused demo left %d workshops", len(ws))
	}
}
