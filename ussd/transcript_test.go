package ussd_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/karyashala/karyashala/domain"
	"github.com/karyashala/karyashala/storage"
	"github.com/karyashala/karyashala/storage/storagetest"
	"github.com/karyashala/karyashala/ussd"
)

var update = flag.Bool("update", false, "rewrite the golden transcripts in testdata/ from what the engine answers")

// ist is the programme's time zone in the tests.
var ist = time.FixedZone("IST", 5*3600+1800)

var limits = ussd.Limits{MaxGSM7: 182, MaxUCS2: 80}

// Phones of the seeded people.
const (
	phoneAsha    = "+919800000001" // active worker, English
	phoneSunita  = "+919800000002" // active worker, Hindi
	phoneRekha   = "+919800000003" // pending worker
	phoneLeader  = "+919800000009"
	phoneUnknown = "+919800000077"
)

// env is a real database with demo data and an engine on it.
type env struct {
	t      testing.TB
	db     *storage.DB
	now    time.Time
	svc    domain.Services
	store  domain.SessionStore
	eng    *ussd.Engine
	menus  string // menu file path, when the test serves files
	reload *ussd.Reloader
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{t: t, db: storagetest.Open(t), now: time.Date(2026, 12, 1, 10, 0, 0, 0, ist)}
	e.db.Now = func() time.Time { return e.now }
	e.svc = e.db.Services()
	e.store = storage.NewSessionStore(e.db)
	e.seed()
	e.newEngine(nil)
	return e
}

func (e *env) registry() *ussd.Registry {
	return ussd.Builtins(e.svc, ussd.BuiltinOptions{Currency: "INR", Languages: []string{"en", "hi"},
		Location: ist, Now: func() time.Time { return e.now }})
}

func (e *env) config() ussd.Config {
	return ussd.Config{Languages: []string{"en", "hi"}, Limits: limits, ResumeWindow: 5 * time.Minute,
		SessionTTL: 180 * time.Second, Now: func() time.Time { return e.now }}
}

// newEngine builds a fresh engine on the same database, as a restarted
// service would: from the menu file when one is set, else the built-ins.
func (e *env) newEngine(m *ussd.Menus) {
	e.t.Helper()
	reg := e.registry()
	opt := ussd.Options{Languages: []string{"en", "hi"}, Limits: limits, Registry: reg}
	var probs ussd.Problems
	switch {
	case m != nil:
	case e.menus != "":
		m, probs = ussd.LoadFiles([]string{e.menus}, opt)
	default:
		m, probs = ussd.LoadBuiltin(opt)
	}
	if len(probs) > 0 {
		e.t.Fatalf("menus: %v", probs)
	}
	e.eng = ussd.New(m, reg, e.store, e.config())
	if e.menus != "" {
		e.reload = ussd.NewReloader(e.eng, []string{e.menus})
	}
}

func (e *env) seed() {
	ctx := context.Background()
	must := func(err error) {
		e.t.Helper()
		if err != nil {
			e.t.Fatal(err)
		}
	}
	w1 := &domain.Workshop{Name: "Sundar Nagar Workshop", Address: "Block C, Sundar Nagar", Hours: "Mon-Sat 9-5"}
	must(e.svc.Workshops.CreateWorkshop(ctx, w1))
	must(e.svc.Workshops.CreateWorkshop(ctx, &domain.Workshop{Name: "Shanti Colony Centre", Address: "Lane 4, Shanti Colony", Hours: "Mon-Fri 10-4"}))
	for _, m := range []*domain.Member{
		{Phone: phoneLeader, Name: "Meera", Lang: "hi", WorkshopID: w1.ID, Role: domain.RoleLeader, Status: domain.MemberActive},
		{Phone: phoneAsha, Name: "Asha", Lang: "en", WorkshopID: w1.ID, Role: domain.RoleWorker, Status: domain.MemberActive},
		{Phone: phoneSunita, Name: "Sunita", Lang: "hi", WorkshopID: w1.ID, Role: domain.RoleWorker, Status: domain.MemberActive},
		{Phone: phoneRekha, Name: "Rekha", Lang: "en", WorkshopID: w1.ID, Role: domain.RoleWorker, Status: domain.MemberPending},
	} {
		must(e.svc.Members.CreateMember(ctx, m))
	}
	for _, t := range []*domain.Task{
		{Titles: map[string]string{"en": "Attach buttons to shirts", "hi": "कमीज़ों पर बटन लगाना"}, RateMinor: 75, Quantity: 500},
		{Titles: map[string]string{"en": "Hem dupattas", "hi": "दुपट्टे की तुरपाई"}, RateMinor: 400, Quantity: 120},
		{Titles: map[string]string{"en": "Pack spice sachets", "hi": "मसाले के पैकेट भरना"}, RateMinor: 50, Quantity: 1000},
		{Titles: map[string]string{"en": "Embroider kurta necks", "hi": "कुर्ते के गले पर कढ़ाई"}, RateMinor: 1200, Quantity: 50},
		{Titles: map[string]string{"en": "Stitch cloth bags", "hi": "कपड़े के थैले सिलना"}, RateMinor: 250, Quantity: 200},
	} {
		t.WorkshopID = w1.ID
		must(e.svc.Tasks.CreateTask(ctx, t))
	}
	for _, tr := range []*domain.Training{
		{Titles: map[string]string{"en": "Tailoring basics", "hi": "सिलाई की शुरुआत"}, StartsAt: time.Date(2026, 12, 5, 10, 0, 0, 0, ist), Place: "Sundar Nagar Workshop", Capacity: 20},
		{Titles: map[string]string{"en": "Bookkeeping", "hi": "हिसाब-किताब"}, StartsAt: time.Date(2026, 12, 8, 14, 0, 0, 0, ist), Place: "Community Hall", Capacity: 10},
		{Titles: map[string]string{"en": "Machine repair", "hi": "मशीन मरम्मत"}, StartsAt: time.Date(2026, 12, 12, 11, 0, 0, 0, ist), Place: "Shanti Colony Centre", Capacity: 1},
	} {
		must(e.svc.Trainings.CreateTraining(ctx, tr))
	}
}

// session is the carrier's view of one USSD session in a transcript.
type session struct {
	id    string
	phone string
	text  string
	lang  string
}

// runTranscript plays a transcript: each "@dial ID [TEXT]" opens a session
// (TEXT is what a direct dial carries), each "> INPUT" sends one more input,
// and other "@" lines are directives. The lines after each are what came
// back; with -update they are rewritten, otherwise compared. With
// fromStore, every hop reads its session back from the store, as the first
// hop after a restart does, instead of the state the engine kept.
func runTranscript(t *testing.T, path string, fromStore bool) {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	ctx := context.Background()
	var out strings.Builder
	phone := phoneAsha
	lang := ""
	cur := &session{}
	sessions := map[string]*session{}

	send := func(s *session) string {
		if fromStore {
			ussd.ForgetLiveSessions(e.eng)
		}
		resp, err := e.eng.Handle(ctx, ussd.Request{SessionID: s.id, Phone: s.phone, ServiceCode: "*384#", NetworkCode: "40410", Text: s.text, Lang: s.lang})
		if err != nil {
			t.Errorf("%s: hop %q: %v", path, s.text, err)
		}
		if n, max := limits.Measure(resp.Text); n > max {
			t.Errorf("%s: screen of %d characters exceeds %d:\n%s", path, n, max, resp.Text)
		}
		return resp.String()
	}
	for _, line := range strings.Split(string(raw), "\n") {
		switch {
		case strings.HasPrefix(line, "#"):
			out.WriteString(line + "\n")
			continue
		case strings.HasPrefix(line, "> "), line == ">":
			out.WriteString(line + "\n")
			in := strings.TrimPrefix(strings.TrimPrefix(line, ">"), " ")
			if cur.text == "" {
				cur.text = in
			} else {
				cur.text += "*" + in
			}
			out.WriteString(send(cur) + "\n\n")
			continue
		case strings.HasPrefix(line, "@"):
		default:
			continue // a screen from the last run, or a blank line
		}
		out.WriteString(line + "\n")
		f := strings.Fields(line)
		switch f[0] {
		case "@phone":
			phone = f[1]
		case "@lang":
			lang = ""
			if len(f) > 1 {
				lang = f[1]
			}
		case "@remember":
			if err := e.svc.Members.SetLanguage(ctx, phone, f[1]); err != nil {
				t.Fatal(err)
			}
		case "@dial":
			text := ""
			if len(f) > 2 {
				text = f[2]
			}
			cur = &session{id: f[1], phone: phone, text: text, lang: lang}
			sessions[f[1]] = cur
			out.WriteString(send(cur) + "\n\n")
		case "@resend":
			out.WriteString(send(cur) + "\n\n")
		case "@switch":
			cur = sessions[f[1]]
		case "@advance":
			d, err := time.ParseDuration(f[1])
			if err != nil {
				t.Fatal(err)
			}
			e.now = e.now.Add(d)
		case "@restart":
			e.newEngine(nil)
		case "@approve":
			reps, _, err := e.svc.Tasks.FindWorkReports(ctx, domain.WorkReportFilter{Status: domain.ReportPending})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range reps {
				if _, err := e.svc.Tasks.ApproveWork(ctx, r.ID, "leader"); err != nil {
					t.Fatal(err)
				}
			}
			out.WriteString(fmt.Sprintf("approved %d reports\n\n", len(reps)))
		case "@payout":
			m, err := e.svc.Members.MemberByPhone(ctx, phone)
			if err != nil {
				t.Fatal(err)
			}
			var amt int64
			fmt.Sscan(f[1], &amt)
			if _, err := e.svc.Ledger.RecordPayout(ctx, domain.Payout{MemberID: m.ID, AmountMinor: amt, Reference: "UPI" + f[1]}, "leader"); err != nil {
				t.Fatal(err)
			}
		case "@serve-file":
			// serve menus from a file (a copy of the built-ins) so it can be reloaded
			e.menus = filepath.Join(t.TempDir(), "menus.yaml")
			if err := os.WriteFile(e.menus, ussd.BuiltinSource().Data, 0o644); err != nil {
				t.Fatal(err)
			}
			e.newEngine(nil)
		case "@reload":
			b, err := os.ReadFile(filepath.Join("testdata", f[1]))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(e.menus, b, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := e.reload.Reload(); err != nil {
				out.WriteString("reload refused:\n" + strings.ReplaceAll(err.Error(), e.menus, "menus.yaml") + "\n\n")
			} else {
				out.WriteString("reload ok\n\n")
			}
		case "@ready":
			if err := e.reload.Ready(); err != nil {
				out.WriteString("not ready: " + err.Error() + "\n\n")
			} else if d := e.reload.Detail(); d != "" {
				s := strings.ReplaceAll(d, e.menus, "menus.yaml")
				// the load time varies from run to run
				if i := strings.Index(s, " loaded at "); i >= 0 {
					j := strings.Index(s[i:], ";")
					s = s[:i] + " loaded at T" + s[i+j:]
				}
				out.WriteString("ready, with a warning: " + s + "\n\n")
			} else {
				out.WriteString("ready\n\n")
			}
		case "@complaints":
			cs, _, err := e.svc.Complaints.FindComplaints(ctx, domain.ComplaintFilter{})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range cs {
				out.WriteString(fmt.Sprintf("%s %s %s %q by %s\n", c.Ref, c.Channel, c.Lang, c.Text, c.ReporterPhone))
			}
			out.WriteString("\n")
		default:
			t.Fatalf("%s: unknown directive %q", path, f[0])
		}
	}
	got := strings.TrimRight(out.String(), "\n") + "\n"
	if *update && !fromStore {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if diff := cmp.Diff(string(raw), got); diff != "" {
		t.Errorf("%s differs from what the engine answers (-golden +got); run go test ./ussd -run Transcripts -update after checking:\n%s", path, diff)
	}
}

func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob("testdata/journeys/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts in testdata/journeys: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) { runTranscript(t, f, false) })
	}
}

// TestTranscriptsFromStore plays the transcripts again reading every session
// from the store, so keeping live sessions decoded in the engine can never
// answer differently from the saved state.
func TestTranscriptsFromStore(t *testing.T) {
	files, err := filepath.Glob("testdata/journeys/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts in testdata/journeys: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) { runTranscript(t, f, true) })
	}
}
