package main

import (
	"context"
	"fmt"
	"time"

	"github.com/karyashala/karyashala/config"
	"github.com/karyashala/karyashala/domain"
	"github.com/karyashala/karyashala/storage"
)

// services are the domain services on one open database, shared by every
// channel.
type services struct {
	domain.Services
	DB *storage.DB
	// Sessions are the USSD sessions, made by the USSD channel: the first
	// process to make a database's session store is the one that writes
	// them, so commands that do not dial leave them alone.
	Sessions domain.SessionStore
	// complaints is Services.Complaints as the store that has it: the SMS
	// channel sets how a complaint's updates reach its reporter.
	complaints *storage.ComplaintService

	// Dial runs one USSD hop in-process, as Africa's Talking would post it
	// (text is every input so far joined by "*"); it answers "CON ..." or
	// "END ...". Set by mountUSSD, used by the console's phone simulator.
	Dial func(ctx context.Context, sessionID, phone, serviceCode, text string) (string, error)
	// Menus reports the USSD menus in use, for the console. Set by mountUSSD.
	Menus func() MenuReport
}

// MenuReport is what the USSD channel says about its menus: the files in
// use, when they were loaded, and why the last reload was refused (nil when
// it was not).
type MenuReport struct {
	Files    []string
	LoadedAt time.Time
	Failed   error
}

// openServices opens (and migrates) the configured database.
func openServices(cfg config.Config) (*services, error) {
	db, err := storage.Open(cfg.DB.Path)
	if err != nil {
		return nil, fmt.Errorf("%w; check db.path (%s)", err, cfg.DB.Path)
	}
	db.Languages = cfg.Languages
	s := &services{Services: db.Services(), DB: db}
	s.complaints = s.Complaints.(*storage.ComplaintService)
	return s, nil
}

func (s *services) Close() error { return s.DB.Close() }
