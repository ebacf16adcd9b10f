package api

import (
	"context"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/karyashala/karyashala/domain"
)

// Deps are the domain services and settings the API runs on. Every service
// is required; Region, Languages and Currency come from the configuration.
type Deps struct {
	domain.Services

	// Region is the default region for phone numbers written without "+".
	Region string
	// Languages are the configured languages, the default first; task and
	// training titles must cover all of them.
	Languages []string
	// Currency is the ISO 4217 code of every amount, echoed in pay figures so
	// a script never has to guess what the minor units are of.
	Currency string
	// Now is the clock for default periods; nil means time.Now.
	Now func() time.Time
	// Location is the programme's time zone: a bare date in a query or a
	// deadline (2026-12-04) is that day there, as on the console's
	// dashboard. nil means UTC.
	Location *time.Location
}

// API is the operator API: the handlers and the services they call.
type API struct {
	Deps
}

// New returns the API on deps. It does not mount anything; call Routes. It
// panics when a service is missing, a wiring bug better found at start than
// on the first request that needs it.
func New(deps Deps) *API {
	for name, svc := range map[string]any{
		"Members": deps.Members, "Workshops": deps.Workshops, "Tasks": deps.Tasks, "Ledger": deps.Ledger,
		"Trainings": deps.Trainings, "Complaints": deps.Complaints, "Messages": deps.Messages,
		"Tokens": deps.Tokens, "Reports": deps.Reports,
	} {
		if svc == nil {
			panic("api.New: Deps." + name + " is nil")
		}
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Location == nil {
		deps.Location = time.UTC
	}
	if len(deps.Languages) == 0 {
		deps.Languages = []string{"en"}
	}
	return &API{Deps: deps}
}

// Routes mounts the whole API under /api/v1 on r, behind bearer-token
// authentication. Routes that touch credentials or the gateway's own message
// log are for operators only; everything that runs the programme is open to
// leaders too.
func (a *API) Routes(r fiber.Router) {
	v1 := r.Group("/api/v1", a.authenticate)
	op := operatorOnly

	v1.Get("/members", a.listMembers)
	v1.Post("/members", a.createMember)
	v1.Get("/members/:id", a.getMember)
	v1.Patch("/members/:id", a.updateMember)
	v1.Get("/members/:id/pay", a.memberPay)
	v1.Get("/members/:id/ledger", a.memberLedger)
	v1.Get("/members/:id/assignments", a.memberAssignments)

	v1.Get("/workshops", a.listWorkshops)
	v1.Post("/workshops", a.createWorkshop)
	v1.Get("/workshops/:id", a.getWorkshop)
	v1.Get("/help-requests", a.listHelpRequests)
	v1.Post("/help-requests/:id/close", a.closeHelpRequest)

	v1.Get("/tasks", a.listTasks)
	v1.Post("/tasks", a.createTask)
	v1.Get("/tasks/:id", a.getTask)
	v1.Patch("/tasks/:id", a.updateTask)
	v1.Post("/tasks/:id/accept", a.acceptTask)
	v1.Get("/assignments/:id", a.getAssignment)
	v1.Post("/assignments/:id/work-reports", a.reportWork)

	v1.Get("/work-reports", a.listWorkReports)
	v1.Get("/work-reports/:id", a.getWorkReport)
	v1.Post("/work-reports/:id/approve", a.approveWork)
	v1.Post("/work-reports/:id/reject", a.rejectWork)

	v1.Post("/payouts", a.createPayout)

	v1.Get("/trainings", a.listTrainings)
	v1.Post("/trainings", a.createTraining)
	v1.Get("/trainings/:id", a.getTraining)
	v1.Post("/trainings/:id/signups", a.signUp)
	v1.Post("/training-requests", a.requestTraining)
	v1.Get("/training-requests/demand", a.trainingDemand)

	v1.Get("/complaints", a.listComplaints)
	v1.Post("/complaints", a.createComplaint)
	v1.Get("/complaints/:ref", a.getComplaint)
	v1.Patch("/complaints/:ref", a.changeComplaint)

	v1.Get("/reports/summary", a.summary)

	v1.Get("/messages", op, a.listMessages)
	v1.Get("/opt-outs", op, a.listOptOuts)
	v1.Post("/tokens", op, a.createToken)

	v1.Use(func(c *fiber.Ctx) error {
		return domain.Errorf(domain.ENOTFOUND, "no route %s %s; the routes are listed in docs/api.md", c.Method(), c.Path())
	})
}

// tokenKey is the Locals key of the authenticated *domain.Token.
const tokenKey = "api.token"

// howToGetToken ends every 401 so the reader knows what to do next.
const howToGetToken = "send Authorization: Bearer TOKEN; an operator creates one with `karyashala token create --role operator --name NAME` (or --role leader)"

// authenticate accepts a request only with a known bearer token and keeps
// the token for the handlers: its name is the actor recorded in histories.
func (a *API) authenticate(c *fiber.Ctx) error {
	h := strings.TrimSpace(c.Get(fiber.HeaderAuthorization))
	if h == "" {
		return unauthorized(c, "missing API token")
	}
	scheme, secret, _ := strings.Cut(h, " ")
	secret = strings.TrimSpace(secret)
	if !strings.EqualFold(scheme, "Bearer") || secret == "" {
		return unauthorized(c, "the Authorization header is not a bearer token")
	}
	tok, err := a.Tokens.Authenticate(c.UserContext(), secret)
	if err != nil {
		if domain.ErrorCode(err) == domain.EUNAUTHORIZED {
			return unauthorized(c, "unknown API token")
		}
		return err
	}
	c.Locals(tokenKey, tok)
	return c.Next()
}

// unauthorized answers 401 with the challenge RFC 6750 asks for and a
// message saying how to get a token.
func unauthorized(c *fiber.Ctx, problem string) error {
	c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="karyashala"`)
	return domain.Errorf(domain.EUNAUTHORIZED, "%s: %s", problem, howToGetToken)
}

// operatorOnly guards routes that handle credentials or the gateway's
// message log, which holds the phone numbers of anonymous reporters.
func operatorOnly(c *fiber.Ctx) error {
	tok := token(c)
	if tok == nil || tok.Role != domain.TokenOperator {
		name := ""
		if tok != nil {
			name = tok.Name
		}
		return domain.Errorf(domain.EFORBIDDEN, "%s %s is for operators only; the token of %q is a %s token, ask an operator", c.Method(), c.Route().Path, name, tokenRole(tok))
	}
	return c.Next()
}

func tokenRole(t *domain.Token) string {
	if t == nil {
		return "missing"
	}
	return t.Role
}

// token returns the request's authenticated token, nil outside the API.
func token(c *fiber.Ctx) *domain.Token {
	t, _ := c.Locals(tokenKey).(*domain.Token)
	return t
}

// actor is who a change is recorded as: the token's name.
func actor(c *fiber.Ctx) string {
	if t := token(c); t != nil {
		return t.Name
	}
	return "api"
}

func ctx(c *fiber.Ctx) context.Context { return c.UserContext() }

// page is one page of a list; next_cursor is "" on the last page.
type page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// list answers a page, with an empty array rather than null.
func list[T any](c *fiber.Ctx, items []T, next string) error {
	if items == nil {
		items = []T{}
	}
	return c.JSON(page[T]{Items: items, NextCursor: next})
}

// created answers 201 with v.
func created(c *fiber.Ctx, v any) error {
	return c.Status(fiber.StatusCreated).JSON(v)
}
