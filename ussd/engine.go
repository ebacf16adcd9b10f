// Package ussd is Karyashala's USSD menu engine: menus written in YAML (see
// docs/menus.md) are served screen by screen, with navigation, pagination to
// the carrier's page limit, sessions persisted in the database and resumable
// after a drop. Carrier adapters (such as ussd/africastalking) turn HTTP
// callbacks into Requests; data sources and actions named by the menus call
// the domain services through a Registry.
package ussd

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/karyashala/karyashala/domain"
	"github.com/karyashala/karyashala/metrics"
)

// Request is one hop of a USSD session as a carrier delivers it.
type Request struct {
	SessionID   string
	Phone       string // E.164, already parsed with domain.ParsePhone
	ServiceCode string
	NetworkCode string
	Text        string // every input so far joined by "*", as Africa's Talking sends it
	// Lang, when one of the configured languages, is used for a new session
	// instead of the phone's remembered language (the simulator's --lang).
	Lang string
}

// Response is the screen to show; End closes the session.
type Response struct {
	End  bool
	Text string
}

// String is the Africa's Talking wire form: "CON text" or "END text".
func (r Response) String() string {
	if r.End {
		return "END " + r.Text
	}
	return "CON " + r.Text
}

// Config holds the engine's settings from the service configuration.
type Config struct {
	Languages    []string // the first is the default
	Limits       Limits
	ResumeWindow time.Duration // 0 turns resuming off
	SessionTTL   time.Duration
	Now          func() time.Time
	// Limit, when set, is asked before every hop whether the caller's
	// number may make one more; a refused hop gets the system text
	// too_many as an END screen and changes nothing.
	Limit Limiter
}

// Limiter decides whether a phone (E.164) may make one more request now;
// ratelimit.Keyed is one. Allow keeps the string it is given.
type Limiter interface {
	Allow(phone string) bool
}

// Engine runs menu sessions. It is safe for concurrent use; hops of one
// session are serialised.
type Engine struct {
	menus atomic.Pointer[Menus]
	reg   *Registry
	store domain.SessionStore
	cfg   Config
	locks sessionLocks
	live  liveSessions
	pages pageCache
}

// New returns an engine serving m.
func New(m *Menus, reg *Registry, store domain.SessionStore, cfg Config) *Engine {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if reg == nil {
		reg = NewRegistry()
	}
	if len(cfg.Languages) == 0 {
		cfg.Languages = []string{"en"}
	}
	e := &Engine{reg: reg, store: store, cfg: cfg}
	e.menus.Store(m)
	return e
}

// Menus returns the menu set being served.
func (e *Engine) Menus() *Menus { return e.menus.Load() }

// SetMenus swaps the menu set atomically; hops in flight finish on the old.
func (e *Engine) SetMenus(m *Menus) { e.menus.Store(m) }

// Options returns what menus for this engine are checked against.
func (e *Engine) Options() Options {
	return Options{Languages: e.cfg.Languages, Limits: e.cfg.Limits, Registry: e.reg}
}

// resumeScreen is the engine's own "continue or start again" screen; menu
// ids cannot start with "_".
const resumeScreen = "_resume"

// state is what is persisted per session between hops.
type state struct {
	Screen  string            `json:"s"`
	Page    int               `json:"p,omitempty"`
	History []frame           `json:"h,omitempty"`
	Vars    map[string]string `json:"v,omitempty"`
	Items   []Item            `json:"i,omitempty"`
	Lang    string            `json:"l"`
	Text    string            `json:"t"`
	Err     string            `json:"e,omitempty"`
	Resume  string            `json:"r,omitempty"`
	Home    string            `json:"o,omitempty"` // where the start screen led
	More    bool              `json:"m,omitempty"` // the page shown has a next one (98 leads there)
}

type frame struct {
	Screen string `json:"s"`
	Page   int    `json:"p,omitempty"`
}

// Handle runs one hop and returns the screen, once the session is saved.
// A malformed request is an EINVALID error with no response. Any other error
// comes with an END response apologising in the caller's language, which the
// adapter sends after logging the error.
func (e *Engine) Handle(ctx context.Context, r Request) (Response, error) {
	switch {
	case strings.TrimSpace(r.SessionID) == "":
		return Response{}, domain.Errorf(domain.EINVALID, "sessionId is missing; every USSD request needs the carrier's session id")
	case r.Phone == "":
		return Response{}, domain.Errorf(domain.EINVALID, "phoneNumber is missing")
	case len(r.SessionID) > 200 || len(r.Text) > 2000:
		return Response{}, domain.Errorf(domain.EINVALID, "sessionId or text is implausibly long")
	case !utf8.ValidString(r.Text):
		return Response{}, domain.Errorf(domain.EINVALID, "text is not valid UTF-8")
	}
	m := e.menus.Load()
	if m == nil {
		return e.apology(ctx, r, nil, fmt.Errorf("no menus loaded"))
	}
	// The state may keep these strings past the request, whose buffers a
	// server such as Fiber can reuse.
	r.SessionID, r.Phone, r.Text, r.Lang = strings.Clone(r.SessionID), strings.Clone(r.Phone), strings.Clone(r.Text), strings.Clone(r.Lang)
	if e.cfg.Limit != nil && !e.cfg.Limit.Allow(r.Phone) {
		metrics.Inc("rate_limited")
		return Response{End: true, Text: e.tooMany(m, r)}, nil
	}
	defer e.locks.lock(r.SessionID).unlock()
	metrics.Inc("ussd_hop")

	h := &hop{e: e, m: m, ctx: ctx, phone: r.Phone}
	var (
		sess *domain.USSDSession
		err  error
	)
	live, gen := e.live.take(r.SessionID)
	switch {
	case live != nil:
		sess = &domain.USSDSession{ID: r.SessionID, Phone: live.phone}
	case r.Text == "":
		// A session's first request (no input yet): nothing stored can
		// matter, and the lookup was a fifth of a first hop. A carrier's
		// retry of it starts the session again at its first screen; an id
		// another phone holds is refused when the session is saved.
		err = domain.Errorf(domain.ENOTFOUND, "new session")
	default:
		sess, err = e.store.SessionByID(ctx, r.SessionID)
	}
	switch domain.ErrorCode(err) {
	case "":
		if sess.Phone != r.Phone {
			return Response{}, domain.Errorf(domain.EINVALID, "session %s belongs to another phone number", r.SessionID)
		}
		if live != nil {
			h.st = live.st
		} else {
			var st state
			if err := json.Unmarshal(sess.State, &st); err != nil {
				return e.apology(ctx, r, nil, fmt.Errorf("decode session %s: %w", r.SessionID, err))
			}
			h.st = &st
		}
		st := h.st
		if !sess.Ended {
			if in, ok := newInput(st.Text, r.Text); ok {
				st.Text = r.Text
				if err := h.apply(in); err != nil {
					return e.apology(ctx, r, h.st, err)
				}
			}
		}
	case domain.ENOTFOUND:
		metrics.Inc("ussd_session_started")
		if err := h.start(r); err != nil {
			return e.apology(ctx, r, h.st, err)
		}
	default:
		return e.apology(ctx, r, nil, fmt.Errorf("load session %s: %w", r.SessionID, err))
	}

	if h.st.Screen != resumeScreen && h.m.Screens[h.st.Screen] == nil {
		// The menus were reloaded without the screen this session was on.
		if err := h.goHome(); err != nil {
			return e.apology(ctx, r, h.st, err)
		}
	}
	resp, err := h.render()
	if err != nil {
		return e.apology(ctx, r, h.st, err)
	}
	b := h.st.encode()
	ended := resp.End || (sess != nil && sess.Ended)
	if slog.Default().Enabled(ctx, slog.LevelDebug) { // its arguments cost a hop more than the check
		slog.Debug("ussd hop", "session", r.SessionID, "phone", domain.MaskPhone(r.Phone), "screen", h.st.Screen, "page", h.st.Page, "end", ended)
	}
	at := e.cfg.Now()
	if err := e.store.SaveSession(ctx, &domain.USSDSession{ID: r.SessionID, Phone: r.Phone, State: b, Ended: ended, UpdatedAt: at}); domain.ErrorCode(err) == domain.EINVALID {
		return Response{}, err // the session id is another phone's
	} else if err != nil {
		return e.apology(ctx, r, h.st, fmt.Errorf("save session %s: %w", r.SessionID, err))
	}
	if !ended && h.st.reusable() {
		e.live.put(r.SessionID, &liveSession{phone: r.Phone, st: h.st, at: at}, gen)
	}
	return resp, nil
}

// apology is the END screen for an internal failure, in the caller's
// language as far as it is known.
func (e *Engine) apology(ctx context.Context, r Request, st *state, err error) (Response, error) {
	metrics.Inc("ussd_error")
	lang := ""
	if st != nil {
		lang = st.Lang
	}
	if lang == "" {
		remembered := ""
		if e.reg != nil && e.reg.Lang != nil {
			var err error
			if remembered, err = e.reg.Lang(ctx, r.Phone); err != nil {
				slog.Warn("read remembered language", "phone", domain.MaskPhone(r.Phone), "err", err)
			}
		}
		lang = e.langFor(r, remembered, "")
	}
	text := endText(e.menus.Load(), "apology", lang, "Sorry, something went wrong. Please dial again later.")
	return Response{End: true, Text: text}, fmt.Errorf("ussd hop for %s: %w", domain.MaskPhone(r.Phone), err)
}

// tooMany is the END screen for a hop over the phone's limit, in the
// language of the session when it is live and the default otherwise: it
// reads nothing from the database, which a flood would otherwise drive.
func (e *Engine) tooMany(m *Menus, r Request) string {
	lang := e.live.lang(r.SessionID)
	if lang == "" {
		lang = e.langFor(r, "", "")
	}
	return endText(m, "too_many", lang, "Too many requests from this phone. Please wait a minute and dial again.")
}

// endText is the system text key of the engine's own END screens in lang,
// shown as written (no templates), or fallback when the menus (if any)
// have none in lang.
func endText(m *Menus, key, lang, fallback string) string {
	if m != nil {
		if t := m.System[key]; t != nil {
			if s := t.Src[lang]; s != "" {
				return actionRE.ReplaceAllString(s, "")
			}
		}
	}
	return fallback
}

// langFor picks a new session's language: the request's override, the
// phone's remembered choice, the member's language, or the default.
func (e *Engine) langFor(r Request, remembered, memberLang string) string {
	for _, l := range []string{r.Lang, remembered, memberLang} {
		if contains(e.cfg.Languages, l) {
			return l
		}
	}
	return e.cfg.Languages[0]
}

// newInput returns what a request's text adds to the text already consumed.
// Africa's Talking repeats every input so far joined by "*", so the new
// input is what follows the old text and one "*", taken whole even when it
// contains "*". A repeated request adds nothing. A carrier that sends only
// the latest input is understood too: text that does not extend the old one
// is the input.
func newInput(old, text string) (string, bool) {
	switch {
	case text == old:
		return "", false
	case old == "":
		return text, true
	case strings.HasPrefix(text, old+"*"):
		return text[len(old)+1:], true
	}
	return text, true
}

// Sweep removes sessions nobody can resume any more.
func (e *Engine) Sweep(ctx context.Context) (int64, error) {
	keep := max(e.cfg.SessionTTL, e.cfg.ResumeWindow) + time.Hour
	before := e.cfg.Now().Add(-keep)
	e.live.dropBefore(before)
	return e.store.DeleteSessionsBefore(ctx, before)
}

// hop is the work of one request.
type hop struct {
	e     *Engine
	m     *Menus
	ctx   context.Context
	phone string
	st    *state
	// While rendering, st.Vars does not change and vars holds it nested
	// for templates once a template needs it.
	rendering bool
	vars      map[string]any
}

func (h *hop) start(r Request) error {
	h.st = &state{Vars: map[string]string{}, Text: r.Text}
	remembered, err := h.who()
	if err != nil {
		return err
	}
	h.st.Lang = h.e.langFor(r, remembered, h.st.Vars["member.lang"])
	h.st.Vars["lang"] = h.st.Lang
	if r.Text == "" {
		if old := h.resumable(r.SessionID); old != "" {
			h.st.Screen, h.st.Resume = resumeScreen, old
			return nil
		}
		return h.goHome()
	}
	// Direct dial (*384*1*2#): the first request carries several inputs.
	if old := h.resumable(r.SessionID); old != "" {
		h.endSession(old)
	}
	if err := h.goHome(); err != nil {
		return err
	}
	for _, in := range strings.Split(r.Text, "*") {
		if err := h.apply(in); err != nil {
			return err
		}
	}
	return nil
}

// goHome enters the start screen with no history.
func (h *hop) goHome() error {
	h.st.History = nil
	if err := h.enter(h.m.Start); err != nil {
		return err
	}
	h.st.Home = h.st.Screen
	return nil
}

// resumable returns the id of the phone's dropped session worth resuming.
// A caller who dropped again on the offer itself is offered the session
// that offer was for, while it is open and within the window of its own
// last hop.
func (h *hop) resumable(current string) string {
	if h.e.cfg.ResumeWindow <= 0 {
		return ""
	}
	since := h.e.cfg.Now().Add(-h.e.cfg.ResumeWindow)
	old, err := h.e.store.LatestSession(h.ctx, h.phone, since)
	if err != nil {
		if domain.ErrorCode(err) != domain.ENOTFOUND {
			slog.Warn("look up resumable session", "phone", domain.MaskPhone(h.phone), "err", err)
		}
		return ""
	}
	if old.ID == current {
		return ""
	}
	var st state
	if json.Unmarshal(old.State, &st) != nil {
		return ""
	}
	if st.Screen == resumeScreen && st.Resume != "" && st.Resume != current {
		offered, err := h.e.store.SessionByID(h.ctx, st.Resume)
		if err != nil || offered.Phone != h.phone || offered.Ended || !offered.UpdatedAt.After(since) {
			return ""
		}
		old, st = offered, state{}
		if json.Unmarshal(old.State, &st) != nil {
			return ""
		}
	}
	if len(st.History) == 0 || st.Screen == resumeScreen || (st.Screen == st.Home && st.Page == 0) {
		return ""
	}
	return old.ID
}

func (h *hop) endSession(id string) {
	s, err := h.e.store.SessionByID(h.ctx, id)
	if err != nil {
		return
	}
	s.Ended = true
	// Its own hop may be under way (under another lock): keep neither copy.
	h.e.live.drop(id)
	defer h.e.live.drop(id)
	if err := h.e.store.SaveSession(h.ctx, s); err != nil {
		slog.Warn("end dropped session", "session", id, "err", err)
	}
}

// who refreshes the member.* values describing the caller and returns the
// phone's remembered language.
func (h *hop) who() (string, error) {
	if h.e.reg == nil || h.e.reg.Who == nil {
		return "", nil
	}
	it, lang, err := h.e.reg.Who(h.ctx, h.phone)
	if err != nil {
		return "", fmt.Errorf("look up caller: %w", err)
	}
	for k := range h.st.Vars {
		if strings.HasPrefix(k, "member.") || k == "member" {
			delete(h.st.Vars, k)
		}
	}
	for k, v := range it {
		h.st.Vars["member."+k] = v
	}
	return lang, nil
}

func (h *hop) setPrefixed(prefix string, it Item) {
	for k := range h.st.Vars {
		if strings.HasPrefix(k, prefix+".") {
			delete(h.st.Vars, k)
		}
	}
	for k, v := range it {
		h.st.Vars[prefix+"."+k] = v
	}
}

// Navigation inputs, the same on every screen.
const (
	inBack = "0"
	inHome = "00"
	inMore = "98"
)

// apply consumes one input on the current screen.
func (h *hop) apply(in string) error {
	st := h.st
	st.Err = ""
	in = strings.TrimSpace(in)
	if st.Screen == resumeScreen {
		return h.applyResume(in)
	}
	s := h.m.Screens[st.Screen]
	if s == nil { // the menus were reloaded without this screen
		st.History = nil
		return h.goHome()
	}
	// 98 is a prompt's answer when the prompt has no next page: a quantity
	// of 98 is as good as any other.
	if in == inMore && (s.Kind != KindInput || st.More) {
		st.Page++ // clamped when rendering
		return nil
	}
	switch in {
	case inHome:
		st.History = nil
		return h.goHome()
	case inBack:
		if st.Page > 0 {
			st.Page--
			return nil
		}
		if s.Kind == KindEnd || len(st.History) == 0 {
			return nil
		}
		f := st.History[len(st.History)-1]
		st.History = st.History[:len(st.History)-1]
		if h.m.Screens[f.Screen] == nil { // gone in a reload
			return h.goHome()
		}
		if err := h.enter(f.Screen); err != nil {
			return err
		}
		st.Page = f.Page
		return nil
	}
	switch s.Kind {
	case KindMenu:
		return h.choose(s, in)
	case KindInput:
		for _, v := range s.Validate {
			if !h.valid(v, in) {
				st.Err = h.text(v.Error, nil)
				st.Page = 0
				return nil
			}
		}
		st.Vars[s.Save] = in
		return h.forward(s.Next.ID)
	}
	return nil // an end screen takes no input
}

func (h *hop) applyResume(in string) error {
	st := h.st
	old := st.Resume
	switch in {
	case "1":
		st.Resume = ""
		sess, err := h.e.store.SessionByID(h.ctx, old)
		var prev state
		if err == nil && json.Unmarshal(sess.State, &prev) == nil && h.m.Screens[prev.Screen] != nil {
			st.Screen, st.Page, st.History, st.Items = prev.Screen, prev.Page, prev.History, prev.Items
			st.Vars = prev.Vars
			if st.Vars == nil {
				st.Vars = map[string]string{}
			}
			st.Vars["lang"] = st.Lang
			h.endSession(old)
			metrics.Inc("ussd_session_resumed")
			_, err := h.who()
			return err
		}
		return h.goHome()
	case "2", inHome:
		st.Resume = ""
		h.endSession(old)
		return h.goHome()
	}
	st.Err = h.sys("invalid")
	return nil
}

// choose handles a menu choice by number: the items first, then the options
// whose conditions hold.
func (h *hop) choose(s *Screen, in string) error {
	st := h.st
	n, err := strconv.Atoi(in)
	if err != nil || n < 1 {
		st.Err, st.Page = h.sys("invalid"), 0
		return nil
	}
	if n <= len(st.Items) && s.Items != nil {
		h.setPrefixed(s.Items.Set, st.Items[n-1])
		return h.forward(s.Items.Goto.ID)
	}
	n -= len(st.Items)
	for _, o := range s.Options {
		if !holds(o.When, st.Vars) {
			continue
		}
		if n--; n == 0 {
			for k, v := range o.Set {
				st.Vars[k] = v
			}
			return h.forward(o.Goto.ID)
		}
	}
	st.Err, st.Page = h.sys("invalid"), 0
	return nil
}

// forward leaves the current screen for id, remembering it for "back".
func (h *hop) forward(id string) error {
	st := h.st
	if s := h.m.Screens[st.Screen]; s != nil && (s.Kind == KindMenu || s.Kind == KindInput) {
		st.History = append(st.History, frame{Screen: st.Screen, Page: st.Page})
		if len(st.History) > 30 {
			st.History = st.History[len(st.History)-30:]
		}
	}
	return h.enter(id)
}

// enter runs routers and actions from id until a screen to show.
func (h *hop) enter(id string) error {
	st := h.st
	for steps := 0; steps < 50; steps++ {
		s := h.m.Screens[id]
		if s == nil {
			return fmt.Errorf("screen %q is not defined in the loaded menus", id)
		}
		switch s.Kind {
		case KindRouter:
			id = s.Default.ID
			for _, r := range s.Routes {
				if holds(r.When, st.Vars) {
					id = r.Goto.ID
					break
				}
			}
			continue
		case KindAction:
			next, err := h.act(s)
			if err != nil {
				return err
			}
			id = next
			continue
		}
		st.Screen, st.Page, st.Items = id, 0, nil
		if s.Kind == KindMenu && s.Items != nil {
			src := h.e.reg.Source(s.Items.Source)
			if src == nil {
				return fmt.Errorf("screen %s: data source %q is not registered", id, s.Items.Source)
			}
			items, err := src.Fetch(h.ctx, h.call())
			if err != nil {
				return fmt.Errorf("screen %s: data source %s: %w", id, s.Items.Source, err)
			}
			st.Items = items
		}
		return nil
	}
	return fmt.Errorf("screen %q: more than 50 routers and actions in a row; the menus loop", id)
}

func (h *hop) call() *Call {
	return &Call{Phone: h.phone, Lang: h.st.Lang, Vars: h.st.Vars}
}

// act runs an action screen and returns the screen its outcome leads to.
func (h *hop) act(s *Screen) (string, error) {
	a := h.e.reg.ActionByName(s.Action)
	if a == nil {
		return "", fmt.Errorf("screen %s: action %q is not registered", s.ID, s.Action)
	}
	args := make(map[string]string, len(s.With))
	for k, t := range s.With {
		args[k] = strings.TrimSpace(h.text(t, nil))
	}
	c := h.call()
	out, res, err := a.Run(h.ctx, c, args)
	if err != nil {
		return "", fmt.Errorf("screen %s: action %s: %w", s.ID, a.Name, err)
	}
	metrics.Inc("ussd_action_" + a.Name)
	if c.Lang != h.st.Lang && contains(h.e.cfg.Languages, c.Lang) {
		h.st.Lang = c.Lang
		h.st.Vars["lang"] = c.Lang
	}
	if s.Save != "" {
		h.setPrefixed(s.Save, res)
	}
	if _, err := h.who(); err != nil {
		return "", err
	}
	next, ok := s.On[out]
	if !ok {
		next, ok = s.On["default"]
	}
	if older := a.Instead[out]; !ok && older != "" {
		next, ok = s.On[older]
	}
	if !ok {
		return "", fmt.Errorf("screen %s: action %s returned outcome %q, which the menu does not route", s.ID, a.Name, out)
	}
	return next.ID, nil
}

// valid checks one validation rule.
func (h *hop) valid(v *Validator, in string) bool {
	bound := func(t *Text) (int64, bool) {
		if t == nil {
			return 0, false
		}
		n, err := strconv.ParseInt(strings.TrimSpace(h.text(t, nil)), 10, 64)
		return n, err == nil
	}
	switch v.Kind {
	case "integer":
		n, err := strconv.ParseInt(in, 10, 64)
		if err != nil {
			return false
		}
		if lo, ok := bound(v.Min); ok && n < lo {
			return false
		}
		if hi, ok := bound(v.Max); ok && n > hi {
			return false
		}
	case "length":
		n := int64(len([]rune(in)))
		if lo, ok := bound(v.Min); ok && n < lo {
			return false
		}
		if hi, ok := bound(v.Max); ok && n > hi {
			return false
		}
	case "regex":
		return v.Regex.MatchString(in)
	case "one_of":
		for _, o := range v.OneOf {
			if strings.EqualFold(o, in) {
				return true
			}
		}
		return false
	}
	return true
}
