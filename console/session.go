package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/karyashala/karyashala/domain"
)

// Cookie names. The session cookie holds only a random id; everything else
// stays on the server, so signing out really ends the session.
const (
	SessionCookie = "karyashala_console"
	signinCookie  = "karyashala_console_signin"
	sessionKey    = "console.session"
	signinCSRFKey = "console.signin_csrf"
	maxSessions   = 10000
)

// session is one signed-in browser.
type session struct {
	ID      string
	CSRF    string
	TokenID int64
	Name    string
	Role    string
	Expires time.Time
	flash   *flash
}

// flash is a one-time message shown on the next page.
type flash struct {
	Err bool
	Msg string
}

// sessionStore keeps sessions in memory: a restart signs everyone out, which
// is acceptable for a console that signs in with a token in seconds.
type sessionStore struct {
	mu  sync.Mutex
	m   map[string]*session
	ttl time.Duration
	now func() time.Time
}

func newSessionStore(ttl time.Duration, now func() time.Time) *sessionStore {
	return &sessionStore{m: map[string]*session{}, ttl: ttl, now: now}
}

func randomID() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("console: no randomness: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func (st *sessionStore) create(t *domain.Token) *session {
	st.mu.Lock()
	defer st.mu.Unlock()
	now := st.now()
	if len(st.m) >= maxSessions {
		for id, s := range st.m {
			if now.After(s.Expires) {
				delete(st.m, id)
			}
		}
	}
	s := &session{ID: randomID(), CSRF: randomID(), TokenID: t.ID, Name: t.Name, Role: t.Role, Expires: now.Add(st.ttl)}
	st.m[s.ID] = s
	return s
}

// get returns a copy of a live session and extends its life.
func (st *sessionStore) get(id string) (*session, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	s, ok := st.m[id]
	if !ok {
		return nil, false
	}
	now := st.now()
	if now.After(s.Expires) {
		delete(st.m, id)
		return nil, false
	}
	s.Expires = now.Add(st.ttl)
	cp := *s
	cp.flash = nil
	return &cp, true
}

func (st *sessionStore) delete(id string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.m, id)
}

func (st *sessionStore) setFlash(id string, f *flash) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if s, ok := st.m[id]; ok {
		s.flash = f
	}
}

func (st *sessionStore) popFlash(id string) *flash {
	st.mu.Lock()
	defer st.mu.Unlock()
	s, ok := st.m[id]
	if !ok {
		return nil
	}
	f := s.flash
	s.flash = nil
	return f
}

func (h *Console) setCookie(c *fiber.Ctx, name, value string, expires time.Time) {
	c.Cookie(&fiber.Cookie{
		Name:     name,
		Value:    value,
		Path:     Prefix,
		Expires:  expires,
		HTTPOnly: true,
		Secure:   c.Protocol() == "https",
		SameSite: fiber.CookieSameSiteStrictMode,
	})
}

// requireSession lets signed-in browsers through, sends others to the
// sign-in page, and refuses any POST whose form lacks the session's CSRF
// token.
func (h *Console) requireSession(c *fiber.Ctx) error {
	s, ok := h.sessions.get(c.Cookies(SessionCookie))
	if !ok {
		if c.Method() == fiber.MethodGet {
			next := c.OriginalURL()
			return c.Redirect(Prefix+"/signin?next="+url.QueryEscape(next), fiber.StatusSeeOther)
		}
		return h.renderError(c, fiber.StatusUnauthorized, "You are not signed in, or your session ended. Sign in again at "+Prefix+"/signin and repeat what you were doing.")
	}
	c.Locals(sessionKey, s)
	if c.Method() != fiber.MethodGet && c.Method() != fiber.MethodHead {
		if !sameToken(c.FormValue("csrf"), s.CSRF) {
			return h.renderError(c, fiber.StatusForbidden, "This form is out of date or did not come from the console (its security token does not match). Reload the page and try again.")
		}
	}
	return c.Next()
}

func sameToken(got, want string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

type signinData struct {
	Next  string
	Error string
}

func (h *Console) signinPage(c *fiber.Ctx) error {
	if _, ok := h.sessions.get(c.Cookies(SessionCookie)); ok {
		return c.Redirect(safeNext(c.Query("next")), fiber.StatusSeeOther)
	}
	return h.showSignin(c, 0, "")
}

// showSignin draws the sign-in form with a fresh sign-in CSRF token, kept in
// a short-lived cookie and compared with the form's on post.
func (h *Console) showSignin(c *fiber.Ctx, status int, msg string) error {
	tok := randomID()
	h.setCookie(c, signinCookie, tok, h.now().Add(time.Hour))
	c.Locals(signinCSRFKey, tok)
	return h.render(c, status, "signin", "Sign in", signinData{Next: safeNext(c.Query("next", c.FormValue("next"))), Error: msg})
}

func (h *Console) signin(c *fiber.Ctx) error {
	if !sameToken(c.FormValue("csrf"), c.Cookies(signinCookie)) {
		return h.showSignin(c, fiber.StatusForbidden, "The sign-in form expired or did not come from this console. Enter your token again.")
	}
	if !h.signins.Allow(c.IP()) {
		slog.Info("console sign-in throttled", "ip", c.IP())
		return h.showSignin(c, fiber.StatusTooManyRequests, "Too many sign-in attempts from this computer. Wait a minute, then try again.")
	}
	secret := strings.TrimSpace(c.FormValue("token"))
	if secret == "" {
		return h.showSignin(c, fiber.StatusUnprocessableEntity, "Enter your token. An operator creates one with: karyashala token create --role leader --name \"Your name\"")
	}
	t, err := h.d.Tokens.Authenticate(h.ctx(c), secret)
	if err != nil {
		if domain.ErrorCode(err) == domain.EUNAUTHORIZED {
			slog.Info("console sign-in refused", "ip", c.IP())
			return h.showSignin(c, fiber.StatusUnauthorized, "That token is not known. Check you copied all of it; if it was lost, an operator can create a new one with: karyashala token create --role leader --name \"Your name\"")
		}
		return h.fail(c, err)
	}
	if t.Role != domain.TokenLeader && t.Role != domain.TokenOperator {
		return h.showSignin(c, fiber.StatusForbidden, "This token's role cannot use the console; ask an operator for a leader or operator token.")
	}
	s := h.sessions.create(t)
	h.setCookie(c, SessionCookie, s.ID, time.Time{})
	h.setCookie(c, signinCookie, "", time.Unix(1, 0))
	slog.Info("console sign-in", "token_id", t.ID, "role", t.Role)
	return c.Redirect(safeNext(c.FormValue("next")), fiber.StatusSeeOther)
}

func (h *Console) signout(c *fiber.Ctx) error {
	s := c.Locals(sessionKey).(*session)
	h.sessions.delete(s.ID)
	h.setCookie(c, SessionCookie, "", time.Unix(1, 0))
	return c.Redirect(Prefix+"/signin", fiber.StatusSeeOther)
}

// safeNext keeps post-sign-in redirects inside the console.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix+"/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return Prefix + "/complaints"
	}
	return next
}
