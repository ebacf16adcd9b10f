// Package console is the web console union leaders and operators use at
// /console: triage of complaints and proposals, work approvals and pay,
// trainings, the outcome dashboard, and a phone simulator. It renders HTML
// on the server from embedded templates and calls the domain services
// directly, so it works offline on a community centre's laptop with no
// JavaScript at all.
package console

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"mime"
	"path"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/karyashala/karyashala/api"
	"github.com/karyashala/karyashala/domain"
	"github.com/karyashala/karyashala/ratelimit"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Prefix is where the console is mounted.
const Prefix = "/console"

// DialFunc runs one USSD hop in-process, as Africa's Talking would post it:
// text is every input so far joined by "*", the answer begins "CON " or
// "END ".
type DialFunc func(ctx context.Context, sessionID, phone, serviceCode, text string) (string, error)

// MenuFile is one loaded USSD menu file and what is wrong with it.
type MenuFile struct {
	Path     string
	Problems []string // "FILE:LINE:COL: message", empty when valid
}

// MenuStatus is what the USSD channel reports about its menus for the
// console's menus page.
type MenuStatus struct {
	Files    []MenuFile
	LoadedAt time.Time
	// Err is why the last load or reload failed, "" when it worked.
	Err string
}

// Deps are the services the console calls. Dial and Menus are functions so
// that the USSD channel can be wired after the console, or not at all.
type Deps struct {
	domain.Services

	// Dial returns the USSD engine's in-process dialer, nil while there is
	// none; the simulator says so instead of failing.
	Dial func() DialFunc
	// Menus reports the loaded menus; nil when the USSD channel does not
	// expose them.
	Menus func() *MenuStatus
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Options are the parts of the configuration the console shows or needs.
type Options struct {
	Languages []string // the first is the default
	Currency  string   // ISO 4217
	Region    string   // default region for phone numbers
	ShortCode string   // the USSD code the simulator dials, e.g. "*384#"
	// Location is the programme's time zone: a day the dashboard is asked
	// for (from=2026-12-04) is that whole day there, as in the API's
	// summary. nil means UTC.
	Location *time.Location
	// SessionTTL is how long a signed-in session lasts without use; 0
	// means 12 hours.
	SessionTTL time.Duration
}

// Console serves the web console. Create it with New and add its routes
// with Mount.
type Console struct {
	d        Deps
	o        Options
	money    money
	sessions *sessionStore
	// signins limits sign-in attempts per client address, so a token
	// cannot be guessed at speed.
	signins *ratelimit.Keyed
	pages   map[string]*template.Template
	now     func() time.Time
}

// New checks the dependencies and parses the templates.
func New(d Deps, o Options) (*Console, error) {
	switch {
	case d.Members == nil, d.Workshops == nil, d.Tasks == nil, d.Ledger == nil, d.Trainings == nil,
		d.Complaints == nil, d.Messages == nil, d.Tokens == nil, d.Reports == nil:
		return nil, errors.New("console: every domain service in Deps is required; wire them all in cmd/karyashala")
	case len(o.Languages) == 0:
		return nil, errors.New("console: Options.Languages is empty; pass the configured languages")
	}
	m, err := newMoney(o.Currency)
	if err != nil {
		return nil, err
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = 12 * time.Hour
	}
	if o.ShortCode == "" {
		o.ShortCode = "*384#"
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	now := d.Now
	if now == nil {
		now = time.Now
	}
	c := &Console{d: d, o: o, money: m, now: now, sessions: newSessionStore(o.SessionTTL, now), signins: ratelimit.PerMinute(10)}
	if err := c.parseTemplates(); err != nil {
		return nil, err
	}
	return c, nil
}

var pageNames = []string{"signin", "complaints", "complaint", "work", "trainings", "dashboard", "simulator", "menus", "error"}

func (h *Console) parseTemplates() error {
	h.pages = map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.New("layout.html").Funcs(h.funcs()).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return fmt.Errorf("console: parse template %s: %w", name, err)
		}
		h.pages[name] = t
	}
	return nil
}

func (h *Console) funcs() template.FuncMap {
	return template.FuncMap{
		"money":    h.money.Format,
		"plain":    h.money.Plain,
		"when":     func(t time.Time) string { return t.Local().Format("2 Jan 2006 15:04") },
		"day":      func(t time.Time) string { return t.Local().Format("2 Jan 2006") },
		"whenp":    func(t *time.Time) string { return fmtTimePtr(t) },
		"ago":      func(t time.Time) string { return ago(h.now().Sub(t)) },
		"langname": langName,
		"mask":     domain.MaskPhone,
		"label":    statusLabel,
		"pct":      pct,
		"hours":    hours,
		"title":    func(titles map[string]string, lang string) string { return titles[lang] },
		"fill":     fill,
	}
}

func fmtTimePtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Local().Format("2 Jan 2006 15:04")
}

// langName names a language in itself ("हिन्दी") and in English, so a
// reader of either finds it.
func langName(code string) string {
	tag, err := language.Parse(code)
	if err != nil {
		return code
	}
	self := display.Self.Name(tag)
	en := display.English.Tags().Name(tag)
	switch {
	case self == "" && en == "":
		return code
	case self == "" || self == en:
		return en
	case en == "":
		return self
	}
	return self + " (" + en + ")"
}

var statusLabels = map[string]string{
	domain.StatusNew:          "new",
	domain.StatusAcknowledged: "acknowledged",
	domain.StatusInProgress:   "in progress",
	domain.StatusResolved:     "resolved",
	domain.StatusRejected:     "rejected",
	domain.StatusDuplicate:    "duplicate",
}

func statusLabel(s string) string {
	if l, ok := statusLabels[s]; ok {
		return l
	}
	return strings.ReplaceAll(s, "_", " ")
}

func ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	default:
		return fmt.Sprintf("%d days ago", int(d.Hours()/24))
	}
}

func pct(p *float64) string {
	if p == nil {
		return "–"
	}
	return fmt.Sprintf("%.1f%%", *p)
}

func hours(p *float64) string {
	if p == nil {
		return "–"
	}
	if *p >= 48 {
		return fmt.Sprintf("%.1f days", *p/24)
	}
	return fmt.Sprintf("%.1f h", *p)
}

// Mount adds the console's routes under Prefix.
func (h *Console) Mount(app fiber.Router) {
	g := app.Group(Prefix, h.headers)
	g.Get("/static/*", h.static)
	g.Get("/signin", h.signinPage)
	g.Post("/signin", h.signin)

	a := g.Group("", h.requireSession)
	a.Get("/", func(c *fiber.Ctx) error { return c.Redirect(Prefix+"/complaints", fiber.StatusSeeOther) })
	a.Post("/signout", h.signout)
	a.Get("/complaints", h.complaintsPage)
	a.Get("/complaints/:ref", h.complaintPage)
	a.Post("/complaints/:ref", h.changeComplaint)
	a.Get("/work", h.workPage)
	a.Post("/tasks", h.createTask)
	a.Post("/tasks/:id/close", h.closeTask)
	a.Post("/work-reports", h.decideWork)
	a.Post("/payouts", h.recordPayout)
	a.Get("/trainings", h.trainingsPage)
	a.Post("/trainings", h.createTraining)
	a.Get("/dashboard", h.dashboardPage)
	a.Get("/dashboard/:table.csv", h.dashboardCSV)
	a.Get("/simulator", h.simulatorPage)
	a.Post("/simulator", h.simulate)
	a.Get("/menus", h.menusPage)
	a.Use(func(c *fiber.Ctx) error {
		return h.renderError(c, fiber.StatusNotFound, "There is no console page at "+c.Path()+"; use the menu above.")
	})
}

// headers sets the security headers every console response carries: no
// framing, no third-party anything, nothing cached.
func (h *Console) headers(c *fiber.Ctx) error {
	c.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	c.Set("X-Frame-Options", "DENY")
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Referrer-Policy", "same-origin")
	err := c.Next()
	if !strings.HasPrefix(c.Path(), Prefix+"/static/") {
		c.Set(fiber.HeaderCacheControl, "no-store")
	}
	return err
}

func (h *Console) static(c *fiber.Ctx) error {
	name := path.Clean("static/" + c.Params("*"))
	if !strings.HasPrefix(name, "static/") {
		return h.renderError(c, fiber.StatusNotFound, "no such file")
	}
	b, err := fs.ReadFile(staticFS, name)
	if err != nil {
		return c.Status(fiber.StatusNotFound).SendString("no such file\n")
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		c.Set(fiber.HeaderContentType, t)
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
	return c.Send(b)
}

// view is what every page template gets.
type view struct {
	Title     string
	Nav       string
	Session   *session
	CSRF      string
	Flash     *flash
	Languages []string
	Currency  string
	ShortCode string
	Data      any
}

// render executes a page with the layout. status 0 means 200.
func (h *Console) render(c *fiber.Ctx, status int, page, title string, data any) error {
	t, ok := h.pages[page]
	if !ok {
		return fmt.Errorf("console: no template %q", page)
	}
	v := view{Title: title, Nav: page, Languages: h.o.Languages, Currency: h.money.code, ShortCode: h.o.ShortCode, Data: data}
	if s, ok := c.Locals(sessionKey).(*session); ok {
		v.Session = s
		v.CSRF = s.CSRF
		v.Flash = h.sessions.popFlash(s.ID)
	} else if tok, ok := c.Locals(signinCSRFKey).(string); ok {
		v.CSRF = tok
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		slog.Error("render console page", "page", page, "err", err)
		return c.Status(fiber.StatusInternalServerError).SendString("The page could not be drawn; the error is in the server log.\n")
	}
	if status == 0 {
		status = fiber.StatusOK
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Status(status).Send(buf.Bytes())
}

// renderError shows a message on an HTML page.
func (h *Console) renderError(c *fiber.Ctx, status int, msg string) error {
	return h.render(c, status, "error", "Problem", msg)
}

// fail shows a service error: its message when it is the user's to fix, a
// generic one (and a log line) when it is ours.
func (h *Console) fail(c *fiber.Ctx, err error) error {
	status := api.Status(err)
	if domain.ErrorCode(err) == domain.EINTERNAL {
		slog.Error("console request", "method", c.Method(), "path", c.Path(), "err", err)
		return h.renderError(c, status, "Something went wrong on the server; try again, and if it keeps failing ask the operator to check the server log.")
	}
	return h.renderError(c, status, domain.ErrorMessage(err))
}

// redirect answers a form post with a flash message and 303 to where the
// person was, so reloading the page does not post again.
func (h *Console) redirect(c *fiber.Ctx, to string, err error, okMsg string) error {
	s := c.Locals(sessionKey).(*session)
	switch {
	case err == nil:
		h.sessions.setFlash(s.ID, &flash{Msg: okMsg})
	case domain.ErrorCode(err) == domain.EINTERNAL:
		slog.Error("console action", "method", c.Method(), "path", c.Path(), "err", err)
		h.sessions.setFlash(s.ID, &flash{Err: true, Msg: "Something went wrong on the server and nothing was changed; try again, and if it keeps failing ask the operator to check the server log."})
	default:
		h.sessions.setFlash(s.ID, &flash{Err: true, Msg: domain.ErrorMessage(err)})
	}
	return c.Redirect(to, fiber.StatusSeeOther)
}

// actor names the signed-in person in histories and ledgers.
func actor(c *fiber.Ctx) string {
	s := c.Locals(sessionKey).(*session)
	return "console:" + s.Name
}

func (h *Console) ctx(c *fiber.Ctx) context.Context { return c.UserContext() }
