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
	DB         *storage.DB
	Members    domain.MemberService
	Workshops  domain.WorkshopService
	Tasks      domain.TaskService
	Ledger     domain.LedgerService
	Trainings  domain.TrainingService
	Complaints *storage.ComplaintService
	Messages   domain.MessageService
	Tokens     domain.TokenService
	Reports    domain.ReportService
	Sessions   domain.SessionStore

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
	return &services{
		DB:         db,
		Members:    storage.NewMemberService(db),
		Workshops:  storage.NewWorkshopService(db),
		Tasks:      storage.NewTaskService(db),
		Ledger:     storage.NewLedgerService(db),
		Trainings:  storage.NewTrainingService(db),
		Complaints: storage.NewComplaintService(db),
		Messages:   storage.NewMessageService(db),
		Tokens:     storage.NewTokenService(db),
		Reports:    storage.NewReportService(db),
		Sessions:   storage.NewSessionStore(db),
	}, nil
}

func (s *services) Close() error { return s.DB.Close() }
