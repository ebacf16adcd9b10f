package console_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/karyashala/karyashala/api"
	"github.com/karyashala/karyashala/console"
	"github.com/karyashala/karyashala/domain"
	"github.com/karyashala/karyashala/storage"
	"github.com/karyashala/karyashala/storage/storagetest"
)

// fixture is a console on a real SQLite database with a little data: one
// workshop, one active worker with a pending work report, one open
// complaint from a resident, one leader token.
type fixture struct {
	app        *fiber.App
	db         *storage.DB
	deps       console.Deps
	secret     string
	worker     *domain.Member
	report     *domain.WorkReport
	task       *domain.Task
	complaint  *domain.Complaint
	complaint2 *domain.Complaint
	dial       *fakeDial
}

func newFixture(t *testing.T, withDial bool) *fixture {
	t.Helper()
	return newFixtureIn(t, withDial, nil)
}

// newFixtureIn is newFixture with the console in the programme time zone
// loc (nil: the default, UTC).
func newFixtureIn(t *testing.T, withDial bool, loc *time.Location) *fixture {
	t.Helper()
	ctx := context.Background()
	db := storagetest.Open(t)
	f := &fixture{db: db}
	f.deps = console.Deps{Services: db.Services()}
	if withDial {
		f.dial = &fakeDial{}
		f.deps.Dial = func() console.DialFunc { return f.dial.Dial }
	}
	d := f.deps
	ws := &domain.Workshop{Name: "Shanti Nagar workshop", Address: "Block C, Shanti Nagar", Hours: "10-17"}
	must(t, d.Workshops.CreateWorkshop(ctx, ws))
	f.worker = &domain.Member{Phone: "+919812345678", Name: "Sunita Devi", Lang: "hi", WorkshopID: ws.ID, Role: domain.RoleWorker, Status: domain.MemberActive}
	must(t, d.Members.CreateMember(ctx, f.worker))
	f.task = &domain.Task{Titles: map[string]string{"en": "Stitch cloth bags", "hi": "कपड़े के थैले सिलना"}, Kind: "stitching", RateMinor: 1250, Quantity: 100, WorkshopID: ws.ID}
	must(t, d.Tasks.CreateTask(ctx, f.task))
	a, err := d.Tasks.AcceptTask(ctx, f.worker.ID, f.task.ID, 20)
	must(t, err)
	f.report, err = d.Tasks.ReportWork(ctx, f.worker.ID, a.ID, 8)
	must(t, err)
	f.complaint, err = d.Complaints.CreateComplaint(ctx, domain.NewComplaint{Kind: domain.KindComplaint, Text: "पानी की टंकी टूटी है", Category: "water", ReporterPhone: "+919811122233", Channel: domain.ChannelSMS, Lang: "hi"})
	must(t, err)
	f.complaint2, err = d.Complaints.CreateComplaint(ctx, domain.NewComplaint{Kind: domain.KindProposal, Text: "A creche beside the workshop", Category: "childcare", ReporterPhone: "+919811122244", Channel: domain.ChannelUSSD, Lang: "en"})
	must(t, err)
	f.secret, _, err = d.Tokens.CreateToken(ctx, domain.TokenLeader, "Meena")
	must(t, err)

	h, err := console.New(d, console.Options{Languages: []string{"en", "hi"}, Currency: "INR", Region: "IN", ShortCode: "*384#", Location: loc})
	must(t, err)
	f.app = fiber.New(fiber.Config{ErrorHandler: api.ErrorHandler, DisableStartupMessage: true})
	h.Mount(f.app)
	return f
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// fakeDial is a three-screen USSD menu standing in for the engine: it
// records every hop so tests can check what the console sent.
type fakeDial struct {
	mu   sync.Mutex
	hops []string // "session|phone|code|text"
}

func (f *fakeDial) Dial(_ context.Context, sessionID, phone, code, text string) (string, error) {
	f.mu.Lock()
	f.hops = append(f.hops, strings.Join([]string{sessionID, phone, code, text}, "|"))
	f.mu.Unlock()
	switch text {
	case "":
		return "CON Karyashala\n1. Work\n2. Pay", nil
	case "1":
		return "CON Open work:\n1. Stitch cloth bags (80 free)", nil
	case "1*1":
		return "END You took 5 pieces of Stitch cloth bags.", nil
	case "2":
		return "END Balance: Rs 0.00", nil
	}
	return "END Wrong choice.", nil
}

func (f *fakeDial) Hops() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.hops...)
}

// client is a browser stand-in over app.Test: it keeps cookies and reads
// the CSRF token out of the last page.
type client struct {
	t       *testing.T
	app     *fiber.App
	cookies map[string]*http.Cookie
	csrf    string
}

func (f *fixture) client(t *testing.T) *client {
	return &client{t: t, app: f.app, cookies: map[string]*http.Cookie{}}
}

var (
	csrfRE   = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

func htmlUnescape(s string) string { return html.UnescapeString(s) }

type resp struct {
	Status     int
	Body       string
	Header     http.Header
	SetCookies []*http.Cookie
}

func (c *client) do(method, target string, form url.Values) resp {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, ck := range c.cookies {
		req.AddCookie(ck)
	}
	res, err := c.app.Test(req, 10000)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	for _, ck := range res.Cookies() {
		if ck.Value == "" || (!ck.Expires.IsZero() && ck.Expires.Before(time.Now())) {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck
		}
	}
	if m := csrfRE.FindStringSubmatch(string(b)); m != nil {
		c.csrf = m[1]
	}
	return resp{Status: res.StatusCode, Body: string(b), Header: res.Header, SetCookies: res.Cookies()}
}

func (c *client) get(target string) resp { c.t.Helper(); return c.do("GET", target, nil) }

// post sends a form with the current CSRF token added.
func (c *client) post(target string, form url.Values) resp {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get("csrf") == "" {
		form.Set("csrf", c.csrf)
	}
	return c.do("POST", target, form)
}

// follow fetches a redirect's target.
func (c *client) follow(r resp) resp {
	c.t.Helper()
	if r.Status != http.StatusSeeOther && r.Status != http.StatusFound {
		c.t.Fatalf("want a redirect, got %d: %s", r.Status, snippet(r.Body))
	}
	return c.get(r.Header.Get("Location"))
}

func (c *client) signIn(secret string) {
	c.t.Helper()
	c.get("/console/signin")
	r := c.post("/console/signin", url.Values{"token": {secret}})
	if r.Status != http.StatusSeeOther {
		c.t.Fatalf("sign in: status %d: %s", r.Status, snippet(r.Body))
	}
	c.follow(r)
}

func snippet(s string) string {
	if len(s) > 600 {
		return s[:600] + "..."
	}
	return s
}
