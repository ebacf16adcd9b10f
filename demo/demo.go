// Package demo seeds an empty database with a small programme, so a newcomer
// can dial in, text a keyword or open the console at once.
package demo

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/karyashala/karyashala/domain"
)

// Phones of the demo people, for the README's examples.
const (
	LeaderPhone   = "+919800000001"
	WorkerPhone   = "+919800000002"
	Worker2Phone  = "+919800000003"
	ResidentPhone = "+919800000009"
)

// Load writes the demo programme unless the database already has a
// workshop, in which case it does nothing and says so (loaded=false). It
// writes through the domain services, so the demo data obeys the same rules
// as real data, and all of it in one unit through atomic: a step that fails
// (a demo phone already registered, say) leaves nothing behind, so a later
// run can load it once the cause is fixed. langs are the configured
// languages, the default first: the demo people speak only those, and
// every title is given in each of them.
func Load(ctx context.Context, s domain.Services, atomic domain.Atomic, langs []string, now time.Time) (loaded bool, err error) {
	if len(langs) == 0 {
		return false, fmt.Errorf("no languages configured; list them in languages, the default first, e.g. [en, hi]")
	}
	err = atomic.Atomically(ctx, func(ctx context.Context) error {
		var err error
		loaded, err = load(ctx, s, languages(langs), now)
		return err
	})
	if err != nil {
		return false, err
	}
	return loaded, nil
}

// languages picks the demo's texts for the configured languages.
type languages []string

// lang is want when it is configured, else the default language: a
// member's language must be a configured one.
func (ls languages) lang(want string) string {
	if slices.Contains(ls, want) {
		return want
	}
	return ls[0]
}

// titles gives a title in every configured language (task and training
// titles must cover them all): the Hindi text for hi, the English one for
// every language the demo has no text of its own for.
func (ls languages) titles(en, hi string) map[string]string {
	t := make(map[string]string, len(ls))
	for _, l := range ls {
		t[l] = en
		if l == "hi" {
			t[l] = hi
		}
	}
	return t
}

func load(ctx context.Context, s domain.Services, ls languages, now time.Time) (bool, error) {
	ws, err := s.Workshops.FindWorkshops(ctx)
	if err != nil {
		return false, err
	}
	if len(ws) > 0 {
		return false, nil
	}
	w := &domain.Workshop{Name: "Shakti Nagar Block 4", Address: "Ground floor, Block 4, Shakti Nagar", Hours: "Mon-Sat 10:00-17:00"}
	if err := s.Workshops.CreateWorkshop(ctx, w); err != nil {
		return false, fmt.Errorf("workshop: %w", err)
	}
	leader := &domain.Member{Phone: LeaderPhone, Name: "Sunita Devi", Lang: ls.lang("hi"), WorkshopID: w.ID, Role: domain.RoleLeader, Status: domain.MemberActive}
	worker := &domain.Member{Phone: WorkerPhone, Name: "Asha", Lang: ls.lang("en"), WorkshopID: w.ID, Role: domain.RoleWorker, Status: domain.MemberActive}
	worker2 := &domain.Member{Phone: Worker2Phone, Name: "Meena", Lang: ls.lang("hi"), WorkshopID: w.ID, Role: domain.RoleWorker, Status: domain.MemberActive}
	for _, m := range []*domain.Member{leader, worker, worker2} {
		if err := s.Members.CreateMember(ctx, m); err != nil {
			return false, fmt.Errorf("member %s (%s): %w", m.Name, domain.MaskPhone(m.Phone), err)
		}
	}
	week := now.Add(7 * 24 * time.Hour)
	tasks := []*domain.Task{
		{Titles: ls.titles("Pack incense sticks", "अगरबत्ती पैकिंग"), Kind: "packaging", RateMinor: 150, Quantity: 500, WorkshopID: w.ID, Deadline: &week},
		{Titles: ls.titles("Stitch cloth bags", "कपड़े के थैले सिलाई"), Kind: "assembly", RateMinor: 1200, Quantity: 60, WorkshopID: w.ID},
		{Titles: ls.titles("Sort photos (digital)", "फोटो छांटना (डिजिटल)"), Kind: "digital", RateMinor: 50, Quantity: 1000},
	}
	for _, t := range tasks {
		if err := s.Tasks.CreateTask(ctx, t); err != nil {
			return false, fmt.Errorf("task: %w", err)
		}
	}
	// Asha has done some work already, so PAY and the dashboard show figures.
	a, err := s.Tasks.AcceptTask(ctx, worker.ID, tasks[1].ID, 10)
	if err != nil {
		return false, err
	}
	r, err := s.Tasks.ReportWork(ctx, worker.ID, a.ID, 6)
	if err != nil {
		return false, err
	}
	if _, err := s.Tasks.ApproveWork(ctx, r.ID, leader.Name); err != nil {
		return false, err
	}
	if _, err := s.Tasks.ReportWork(ctx, worker.ID, a.ID, 2); err != nil {
		return false, err
	}
	if _, err := s.Ledger.RecordPayout(ctx, domain.Payout{MemberID: worker.ID, AmountMinor: 5000, Reference: "demo-upi-1", Note: "UPI"}, leader.Name); err != nil {
		return false, err
	}

	day := func(d int, h int) time.Time {
		t := now.AddDate(0, 0, d)
		return time.Date(t.Year(), t.Month(), t.Day(), h, 0, 0, 0, time.UTC)
	}
	trainings := []*domain.Training{
		{Titles: ls.titles("Tailoring basics", "सिलाई की शुरुआत"), StartsAt: day(5, 5), Place: w.Name, Capacity: 12, WorkshopID: w.ID},
		{Titles: ls.titles("Phone banking", "फ़ोन बैंकिंग"), StartsAt: day(12, 6), Place: "Community hall", Capacity: 20},
	}
	for _, t := range trainings {
		if err := s.Trainings.CreateTraining(ctx, t); err != nil {
			return false, fmt.Errorf("training: %w", err)
		}
	}
	for _, topic := range []string{"Mobile repair", "mobile repair", "Embroidery"} {
		if _, err := s.Trainings.RequestTraining(ctx, worker2.ID, topic); err != nil {
			return false, err
		}
	}
	c, err := s.Complaints.CreateComplaint(ctx, domain.NewComplaint{Kind: domain.KindComplaint, Text: "Water leak near block 4 stairs", Category: "water",
		ReporterPhone: ResidentPhone, Channel: domain.ChannelSMS, Lang: ls.lang("en")})
	if err != nil {
		return false, err
	}
	if _, err := s.Complaints.ChangeComplaint(ctx, c.Ref, domain.ComplaintChange{Status: domain.StatusAcknowledged, Note: "Plumber asked to visit"}, leader.Name); err != nil {
		return false, err
	}
	if _, err := s.Complaints.CreateComplaint(ctx, domain.NewComplaint{Kind: domain.KindComplaint, Text: "Street light broken at gate 2", Category: "lighting",
		Channel: domain.ChannelSMS, Lang: ls.lang("en"), Anonymous: true}); err != nil {
		return false, err
	}
	idea := "बच्चों के लिए पुस्तकालय"
	if ls.lang("hi") != "hi" {
		idea = "A library for the children"
	}
	if _, err := s.Complaints.CreateComplaint(ctx, domain.NewComplaint{Kind: domain.KindProposal, Text: idea, Category: "education",
		ReporterPhone: ResidentPhone, Channel: domain.ChannelSMS, Lang: ls.lang("hi")}); err != nil {
		return false, err
	}
	return true, nil
}
