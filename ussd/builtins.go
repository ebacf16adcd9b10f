package ussd

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/karyashala/karyashala/domain"
)

// BuiltinOptions tune the built-in registry to the configuration.
type BuiltinOptions struct {
	Currency         string
	Languages        []string
	OpenRegistration bool           // registration: open
	Location         *time.Location // dates are shown in it; nil for time.Local
	Now              func() time.Time
}

// languageNames are how each language names itself on the language menu.
var languageNames = map[string]string{
	"en": "English", "hi": "हिन्दी", "mr": "मराठी", "bn": "বাংলা", "ta": "தமிழ்", "te": "తెలుగు",
	"gu": "ગુજરાતી", "kn": "ಕನ್ನಡ", "ml": "മലയാളം", "pa": "ਪੰਜਾਬੀ", "ur": "اردو", "sw": "Kiswahili",
}

// Builtins returns the registry covering every worker journey: registering,
// open tasks and accepting a quantity, assignments and reporting work done,
// pay, trainings and requests for a topic, help at a workshop, community
// problems and the language choice. It calls the services' members,
// workshops, tasks, ledger, trainings and complaints; nil services are fine
// for checking menus, which needs only names.
func Builtins(svc domain.Services, opt BuiltinOptions) *Registry {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Location == nil {
		opt.Location = time.Local
	}
	b := &builtins{svc: svc, opt: opt}
	r := NewRegistry()
	r.Who = b.who
	if svc.Members != nil {
		r.Lang = svc.Members.Language
		r.SetLang = svc.Members.SetLanguage
	}

	r.AddSource(&DataSource{Name: "open_tasks", Doc: "open tasks with units still free, for the caller's workshop and for all",
		Fields: []string{"id", "title", "rate", "rate_minor", "free", "quantity", "deadline"}, Fetch: b.openTasks})
	r.AddSource(&DataSource{Name: "my_assignments", Doc: "the caller's assignments with units still to report",
		Fields: []string{"id", "task_id", "title", "quantity", "reported", "remaining", "rate"}, Fetch: b.myAssignments})
	r.AddSource(&DataSource{Name: "upcoming_trainings", Doc: "trainings not started yet, soonest first",
		Fields: []string{"id", "title", "date", "place", "seats"}, Fetch: b.trainings})
	r.AddSource(&DataSource{Name: "workshops", Doc: "every workshop by name",
		Fields: []string{"id", "name", "address", "hours"}, Fetch: b.workshops})
	r.AddSource(&DataSource{Name: "languages", Doc: "the configured languages, each in its own script",
		Fields: []string{"code", "name"}, Fetch: b.languages})

	r.AddAction(&Action{Name: "register", Doc: "signs the caller up as a worker",
		Params: []string{"name"}, Optional: []string{"workshop_id"},
		Outcomes: []string{"active", "pending", "already_registered"}, Run: b.register})
	r.AddAction(&Action{Name: "accept_task", Doc: "gives the caller a quantity of a task",
		Params:   []string{"task_id", "quantity"},
		Outcomes: []string{"ok", "sold_out", "closed", "not_active", "not_registered"}, Run: b.acceptTask})
	r.AddAction(&Action{Name: "report_work", Doc: "records units of an assignment done, for a leader to approve",
		Params:   []string{"assignment_id", "quantity"},
		Outcomes: []string{"ok", "too_many", "not_found", "not_registered"}, Run: b.reportWork})
	r.AddAction(&Action{Name: "pay", Doc: "reads the caller's earned, pending, approved, paid and balance amounts",
		Outcomes: []string{"ok", "not_registered"}, Run: b.pay})
	r.AddAction(&Action{Name: "sign_up_training", Doc: "books the caller on a training",
		Params:   []string{"training_id"},
		Outcomes: []string{"ok", "full", "already", "started", "not_active", "not_registered"},
		// not_active came on 2026-12-04; menus from before route a member
		// who is not active where they route one who is not registered.
		Instead: map[string]string{"not_active": "not_registered"}, Run: b.signUp})
	r.AddAction(&Action{Name: "request_training", Doc: "records a training topic the caller asks for",
		Params:   []string{"topic"},
		Outcomes: []string{"ok", "not_registered"}, Run: b.requestTraining})
	r.AddAction(&Action{Name: "request_help", Doc: "asks a leader at the caller's workshop for help",
		Optional: []string{"note"},
		Outcomes: []string{"ok", "no_workshop", "not_registered"}, Run: b.requestHelp})
	r.AddAction(&Action{Name: "report_problem", Doc: "records a community problem (or, with kind proposal, an idea) from the caller",
		Params: []string{"text"}, Optional: []string{"kind", "anonymous"},
		Outcomes: []string{"ok"}, Run: b.reportProblem})
	r.AddAction(&Action{Name: "set_language", Doc: "switches the session to a language and remembers it for the phone",
		Params:   []string{"lang"},
		Outcomes: []string{"ok"}, Run: b.setLanguage})
	return r
}

type builtins struct {
	svc domain.Services
	opt BuiltinOptions
}

func (b *builtins) money(minor int64, lang string) string {
	return domain.FormatMoney(minor, b.opt.Currency, lang)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func (b *builtins) who(ctx context.Context, phone string) (Item, string, error) {
	if b.svc.Members == nil {
		return Item{}, "", nil
	}
	m, lang, err := b.svc.Members.Caller(ctx, phone)
	if err != nil {
		return nil, "", err
	}
	if m == nil {
		return Item{}, lang, nil
	}
	it := Item{"id": itoa(m.ID), "name": m.Name, "status": m.Status, "role": m.Role, "lang": m.Lang}
	if m.WorkshopID != 0 {
		it["workshop_id"] = itoa(m.WorkshopID)
	}
	return it, lang, nil
}

// memberID is the caller's member id, 0 when she is not registered.
func memberID(c *Call) int64 {
	n, _ := strconv.ParseInt(c.Vars["member.id"], 10, 64)
	return n
}

func argInt(args map[string]string, name string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(args[name]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parameter %s: %q is not a whole number; check the menu's with:", name, args[name])
	}
	return n, nil
}

const maxItems = 30

func (b *builtins) openTasks(ctx context.Context, c *Call) ([]Item, error) {
	// The workshop is chosen in the query: filtered afterwards, the newest
	// tasks of other workshops would crowd hers out of the page.
	ws, _ := strconv.ParseInt(c.Vars["member.workshop_id"], 10, 64)
	tasks, _, err := b.svc.Tasks.FindTasks(ctx, domain.TaskFilter{Status: domain.TaskOpen, WorkshopID: ws, ForWorkshop: true, OnlyFree: true, Limit: maxItems})
	if err != nil {
		return nil, err
	}
	now := b.opt.Now()
	var out []Item
	for _, t := range tasks {
		if t.Free <= 0 || (t.Deadline != nil && t.Deadline.Before(now)) {
			continue
		}
		it := Item{"id": itoa(t.ID), "title": t.Title(c.Lang), "rate": b.money(t.RateMinor, c.Lang),
			"rate_minor": itoa(t.RateMinor), "free": itoa(t.Free), "quantity": itoa(t.Quantity), "deadline": ""}
		if t.Deadline != nil {
			it["deadline"] = FormatDate(t.Deadline.In(b.opt.Location), c.Lang)
		}
		out = append(out, it)
		if len(out) == maxItems {
			break
		}
	}
	return out, nil
}

func (b *builtins) myAssignments(ctx context.Context, c *Call) ([]Item, error) {
	id := memberID(c)
	if id == 0 {
		return nil, nil
	}
	as, err := b.svc.Tasks.AssignmentsByMember(ctx, id, false)
	if err != nil {
		return nil, err
	}
	var out []Item
	for _, a := range as {
		if a.Remaining() <= 0 {
			continue
		}
		it := Item{"id": itoa(a.ID), "task_id": itoa(a.TaskID), "quantity": itoa(a.Quantity),
			"reported": itoa(a.Reported), "remaining": itoa(a.Remaining())}
		if a.Task != nil {
			it["title"], it["rate"] = a.Task.Title(c.Lang), b.money(a.Task.RateMinor, c.Lang)
		}
		out = append(out, it)
		if len(out) == maxItems {
			break
		}
	}
	return out, nil
}

func (b *builtins) trainings(ctx context.Context, c *Call) ([]Item, error) {
	ts, err := b.svc.Trainings.UpcomingTrainings(ctx)
	if err != nil {
		return nil, err
	}
	var out []Item
	for _, t := range ts {
		out = append(out, Item{"id": itoa(t.ID), "title": t.Title(c.Lang), "date": FormatDate(t.StartsAt.In(b.opt.Location), c.Lang),
			"place": t.Place, "seats": itoa(max(t.Capacity-t.SignedUp, 0))})
		if len(out) == maxItems {
			break
		}
	}
	return out, nil
}

func (b *builtins) workshops(ctx context.Context, c *Call) ([]Item, error) {
	ws, err := b.svc.Workshops.FindWorkshops(ctx)
	if err != nil {
		return nil, err
	}
	var out []Item
	for _, w := range ws {
		out = append(out, Item{"id": itoa(w.ID), "name": w.Name, "address": w.Address, "hours": w.Hours})
		if len(out) == maxItems {
			break
		}
	}
	return out, nil
}

func (b *builtins) languages(ctx context.Context, c *Call) ([]Item, error) {
	var out []Item
	for _, l := range b.opt.Languages {
		name := languageNames[l]
		if name == "" {
			name = l
		}
		out = append(out, Item{"code": l, "name": name})
	}
	return out, nil
}

func (b *builtins) register(ctx context.Context, c *Call, args map[string]string) (string, Item, error) {
	var ws int64
	if s := strings.TrimSpace(args["workshop_id"]); s != "" {
		var err error
		if ws, err = argInt(args, "workshop_id"); err != nil {
			return "", nil, err
		}
	}
	m, err := b.svc.Members.Register(ctx, c.Phone, strings.TrimSpace(args["name"]), c.Lang, ws, b.opt.OpenRegistration)
	switch domain.ErrorCode(err) {
	case "":
	case domain.ECONFLICT:
		return "already_registered", Item{}, nil
	default:
		return "", nil, err
	}
	res := Item{"name": m.Name, "status": m.Status}
	if m.Status == domain.MemberActive {
		return "active", res, nil
	}
	return "pending", res, nil
}

func (b *builtins) acceptTask(ctx context.Context, c *Call, args map[string]string) (string, Item, error) {
	id := memberID(c)
	if id == 0 {
		return "not_registered", Item{}, nil
	}
	taskID, err := argInt(args, "task_id")
	if err != nil {
		return "", nil, err
	}
	qty, err := argInt(args, "quantity")
	if err != nil {
		return "", nil, err
	}
	a, err := b.svc.Tasks.AcceptTask(ctx, id, taskID, qty)
	switch domain.ErrorCode(err) {
	case "":
	case domain.EFORBIDDEN:
		return "not_active", Item{}, nil
	case domain.ENOTFOUND:
		return "closed", Item{"free": "0"}, nil
	case domain.ECONFLICT, domain.EINVALID:
		t, terr := b.svc.Tasks.TaskByID(ctx, taskID)
		if terr != nil {
			return "closed", Item{"free": "0"}, nil
		}
		if t.Status == domain.TaskOpen && t.Free > 0 && (t.Deadline == nil || t.Deadline.After(b.opt.Now())) {
			return "sold_out", Item{"free": itoa(t.Free), "title": t.Title(c.Lang)}, nil
		}
		return "closed", Item{"free": "0", "title": t.Title(c.Lang)}, nil
	default:
		return "", nil, err
	}
	res := Item{"assignment_id": itoa(a.ID), "quantity": itoa(a.Quantity)}
	if t, err := b.svc.Tasks.TaskByID(ctx, a.TaskID); err == nil {
		res["title"], res["amount"], res["free"] = t.Title(c.Lang), b.money(t.RateMinor*a.Quantity, c.Lang), itoa(t.Free)
	}
	return "ok", res, nil
}

func (b *builtins) reportWork(ctx context.Context, c *Call, args map[string]string) (string, Item, error) {
	id := memberID(c)
	if id == 0 {
		return "not_registered", Item{}, nil
	}
	aID, err := argInt(args, "assignment_id")
	if err != nil {
		return "", nil, err
	}
	qty, err := argInt(args, "quantity")
	if err != nil {
		return "", nil, err
	}
	wr, err := b.svc.Tasks.ReportWork(ctx, id, aID, qty)
	switch domain.ErrorCode(err) {
	case "":
	case domain.ENOTFOUND:
		return "not_found", Item{}, nil
	case domain.EINVALID, domain.ECONFLICT:
		res := Item{}
		if a, err := b.svc.Tasks.AssignmentByID(ctx, aID); err == nil {
			res["remaining"] = itoa(a.Remaining())
		}
		return "too_many", res, nil
	default:
		return "", nil, err
	}
	return "ok", Item{"report_id": itoa(wr.ID), "quantity": itoa(wr.Quantity), "amount": b.money(wr.AmountMinor, c.Lang)}, nil
}

func (b *builtins) pay(ctx context.Context, c *Call, _ map[string]string) (string, Item, error) {
	id := memberID(c)
	if id == 0 {
		return "not_registered", Item{}, nil
	}
	p, err := b.svc.Ledger.Pay(ctx, id)
	if domain.ErrorCode(err) == domain.ENOTFOUND {
		return "not_registered", Item{}, nil
	} else if err != nil {
		return "", nil, err
	}
	return "ok", Item{"earned": b.money(p.Earned, c.Lang), "pending": b.money(p.Pending, c.Lang),
		"approved": b.money(p.Approved, c.Lang), "paid": b.money(p.Paid, c.Lang), "balance": b.money(p.Balance, c.Lang)}, nil
}

func (b *builtins) signUp(ctx context.Context, c *Call, args map[string]string) (string, Item, error) {
	id := memberID(c)
	if id == 0 {
		return "not_registered", Item{}, nil
	}
	tID, err := argInt(args, "training_id")
	if err != nil {
		return "", nil, err
	}
	t, err := b.svc.Trainings.SignUp(ctx, tID, id)
	switch domain.ErrorCode(err) {
	case "":
		return "ok", Item{"title": t.Title(c.Lang), "date": FormatDate(t.StartsAt.In(b.opt.Location), c.Lang), "place": t.Place}, nil
	case domain.ENOTFOUND:
		return "started", Item{}, nil
	case domain.EFORBIDDEN:
		return "not_active", Item{}, nil
	case domain.ECONFLICT:
		t, terr := b.svc.Trainings.TrainingByID(ctx, tID)
		if terr != nil {
			return "started", Item{}, nil
		}
		res := Item{"title": t.Title(c.Lang), "date": FormatDate(t.StartsAt.In(b.opt.Location), c.Lang), "place": t.Place}
		switch {
		case errors.Is(err, domain.ErrAlreadySignedUp):
			return "already", res, nil
		case !t.StartsAt.After(b.opt.Now()):
			return "started", res, nil
		case t.SignedUp >= t.Capacity:
			return "full", res, nil
		}
		return "already", res, nil
	}
	return "", nil, err
}

func (b *builtins) requestTraining(ctx context.Context, c *Call, args map[string]string) (string, Item, error) {
	id := memberID(c)
	if id == 0 {
		return "not_registered", Item{}, nil
	}
	r, err := b.svc.Trainings.RequestTraining(ctx, id, strings.TrimSpace(args["topic"]))
	if err != nil {
		return "", nil, err
	}
	return "ok", Item{"topic": r.Topic}, nil
}

func (b *builtins) requestHelp(ctx context.Context, c *Call, args map[string]string) (string, Item, error) {
	id := memberID(c)
	if id == 0 {
		return "not_registered", Item{}, nil
	}
	hr, err := b.svc.Workshops.RequestHelp(ctx, id, 0, strings.TrimSpace(args["note"]))
	switch domain.ErrorCode(err) {
	case "":
	case domain.ENOTFOUND, domain.EINVALID:
		return "no_workshop", Item{}, nil
	default:
		return "", nil, err
	}
	res := Item{"request_id": itoa(hr.ID)}
	if w, err := b.svc.Workshops.WorkshopByID(ctx, hr.WorkshopID); err == nil {
		res["workshop"], res["address"], res["hours"] = w.Name, w.Address, w.Hours
	}
	return "ok", res, nil
}

func (b *builtins) reportProblem(ctx context.Context, c *Call, args map[string]string) (string, Item, error) {
	kind := strings.TrimSpace(args["kind"])
	if kind == "" {
		kind = domain.KindComplaint
	}
	anon := strings.TrimSpace(args["anonymous"])
	n := domain.NewComplaint{Kind: kind, Text: strings.TrimSpace(args["text"]), ReporterPhone: c.Phone,
		Channel: domain.ChannelUSSD, Lang: c.Lang}
	if anon == "1" || anon == "true" || anon == "yes" {
		n.Anonymous, n.ReporterPhone = true, ""
	}
	cp, err := b.svc.Complaints.CreateComplaint(ctx, n)
	if err != nil {
		return "", nil, err
	}
	return "ok", Item{"ref": cp.Ref}, nil
}

func (b *builtins) setLanguage(ctx context.Context, c *Call, args map[string]string) (string, Item, error) {
	lang := strings.TrimSpace(args["lang"])
	if !contains(b.opt.Languages, lang) {
		return "", nil, fmt.Errorf("set_language: %q is not a configured language (%s)", lang, strings.Join(b.opt.Languages, ", "))
	}
	if err := b.svc.Members.SetLanguage(ctx, c.Phone, lang); err != nil {
		return "", nil, err
	}
	c.Lang = lang
	return "ok", Item{"code": lang, "name": languageNames[lang]}, nil
}
