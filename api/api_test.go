package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/karyashala/karyashala/api"
	"github.com/karyashala/karyashala/domain"
	"github.com/karyashala/karyashala/storage"
	"github.com/karyashala/karyashala/storage/storagetest"
)

// env is the API on a real SQLite file, with one operator and one leader
// token.
type env struct {
	t      *testing.T
	app    *fiber.App
	db     *storage.DB
	deps   api.Deps
	op     string // operator token, name "olga"
	leader string // leader token, name "lakshmi"
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := storagetest.Open(t)
	deps := api.Deps{
		Services:  db.Services(),
		Region:    "IN",
		Languages: []string{"en", "hi"},
		Currency:  "INR",
	}
	app := fiber.New(fiber.Config{ErrorHandler: api.ErrorHandler})
	api.New(deps).Routes(app)
	e := &env{t: t, app: app, db: db, deps: deps}
	ctx := context.Background()
	var err error
	if e.op, _, err = deps.Tokens.CreateToken(ctx, domain.TokenOperator, "olga"); err != nil {
		t.Fatal(err)
	}
	if e.leader, _, err = deps.Tokens.CreateToken(ctx, domain.TokenLeader, "lakshmi"); err != nil {
		t.Fatal(err)
	}
	return e
}

// raw sends a request with a literal body (nil for none) and returns the
// status and body.
func (e *env) raw(method, path, token, contentType string, body []byte) (int, []byte, http.Header) {
	e.t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.app.Test(req, -1)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, b, resp.Header
}

// call sends body as JSON (a string is sent as is) and returns status and
// response body.
func (e *env) call(method, path, token string, body any) (int, []byte) {
	e.t.Helper()
	var b []byte
	switch v := body.(type) {
	case nil:
	case string:
		b = []byte(v)
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			e.t.Fatal(err)
		}
	}
	ct := ""
	if b != nil {
		ct = "application/json"
	}
	status, resp, _ := e.raw(method, path, token, ct, b)
	return status, resp
}

// must sends the request as the operator, checks the status and decodes the
// response into out (when not nil).
func (e *env) must(want int, method, path string, body, out any) {
	e.t.Helper()
	e.mustAs(e.op, want, method, path, body, out)
}

func (e *env) mustAs(token string, want int, method, path string, body, out any) {
	e.t.Helper()
	status, b := e.call(method, path, token, body)
	if status != want {
		e.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, status, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
}

// apiError is the error body every failure answers.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// page is a list response.
type page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// worker adds an active worker with the phone +9198100000NN.
func (e *env) worker(n int) *domain.Member {
	e.t.Helper()
	var m domain.Member
	e.must(201, "POST", "/api/v1/members", map[string]any{"phone": fmt.Sprintf("98100%05d", n), "name": fmt.Sprintf("Worker %d", n)}, &m)
	return &m
}

// task adds an open task of qty units at rate paise a piece.
func (e *env) task(qty, rate int64) *domain.Task {
	e.t.Helper()
	var t domain.Task
	e.must(201, "POST", "/api/v1/tasks", map[string]any{
		"titles": map[string]string{"en": "Pack incense", "hi": "अगरबत्ती पैक"}, "kind": "packaging",
		"rate_minor": rate, "quantity": qty,
	}, &t)
	return &t
}

func TestAuth(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		label, method, path, auth string
		want                      int
		contains                  string
	}{
		{"no header", "GET", "/api/v1/tasks", "", 401, "karyashala token create --role operator --name NAME"},
		{"basic auth", "GET", "/api/v1/tasks", "Basic b2xnYTpzZWNyZXQ=", 401, "not a bearer token"},
		{"empty bearer", "GET", "/api/v1/tasks", "Bearer ", 401, "karyashala token create"},
		{"wrong token", "GET", "/api/v1/tasks", "Bearer not-a-token", 401, "unknown API token"},
		{"unknown route still needs a token", "GET", "/api/v1/nothing", "", 401, "karyashala token create"},
		{"leader lists tasks", "GET", "/api/v1/tasks", "Bearer " + e.leader, 200, `"items":[]`},
		{"lower-case scheme", "GET", "/api/v1/tasks", "bearer " + e.leader, 200, `"items":[]`},
		{"leader reads the message log", "GET", "/api/v1/messages", "Bearer " + e.leader, 403, "for operators only"},
		{"leader reads opt-outs", "GET", "/api/v1/opt-outs", "Bearer " + e.leader, 403, "for operators only"},
		{"leader mints a token", "POST", "/api/v1/tokens", "Bearer " + e.leader, 403, `token of \"lakshmi\" is a leader token`},
		{"operator reads the message log", "GET", "/api/v1/messages", "Bearer " + e.op, 200, `"items":[]`},
	}
	for _, tc := range cases {
		t.Run(tc.label, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(`{"role":"operator","name":"x"}`))
			req.Header.Set("Content-Type", "application/json")
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := e.app.Test(req, -1)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.want || !strings.Contains(string(b), tc.contains) {
				t.Fatalf("status %d body %s; want %d containing %q", resp.StatusCode, b, tc.want, tc.contains)
			}
			if tc.want == 401 {
				if resp.Header.Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
				var ae apiError
				if err := json.Unmarshal(b, &ae); err != nil || ae.Error.Code != domain.EUNAUTHORIZED {
					t.Errorf("401 body %s is not an unauthorized error", b)
				}
			}
			if tc.want == 403 {
				var ae apiError
				if err := json.Unmarshal(b, &ae); err != nil || ae.Error.Code != domain.EFORBIDDEN {
					t.Errorf("403 body %s is not a forbidden error", b)
				}
			}
		})
	}
}

func TestTokensCreatedByOperatorWork(t *testing.T) {
	e := newEnv(t)
	var tok struct {
		Token string `json:"token"`
		Name  string `json:"name"`
		Role  string `json:"role"`
	}
	e.must(201, "POST", "/api/v1/tokens", map[string]string{"role": "leader", "name": "meena"}, &tok)
	if tok.Token == "" || tok.Role != "leader" || tok.Name != "meena" {
		t.Fatalf("token response %+v", tok)
	}
	e.mustAs(tok.Token, 200, "GET", "/api/v1/tasks", nil, nil)
	e.mustAs(tok.Token, 403, "POST", "/api/v1/tokens", map[string]string{"role": "operator", "name": "me"}, nil)

	status, b := e.call("POST", "/api/v1/tokens", e.op, map[string]string{"role": "admin", "name": "x"})
	if status != 400 || !strings.Contains(string(b), `role: \"admin\" is not one of operator, leader`) {
		t.Fatalf("bad role: %d %s", status, b)
	}
}

func TestValidation(t *testing.T) {
	e := newEnv(t)
	w := e.worker(1)
	tk := e.task(10, 250)
	cases := []struct {
		label, method, path, contentType, body string
		want                                   int
		contains                               string
	}{
		{"phone that does not parse", "POST", "/api/v1/members", "application/json", `{"phone":"12","name":"A"}`, 400, `phone: phone number \"12\" is not valid for region IN`},
		{"missing phone", "POST", "/api/v1/members", "application/json", `{"name":"A"}`, 400, "phone: required"},
		{"unknown field", "POST", "/api/v1/members", "application/json", `{"phone":"9810000099","nmae":"A"}`, 400, `unknown field \"nmae\"; the fields are phone, name, lang`},
		{"broken JSON", "POST", "/api/v1/members", "application/json", `{"phone":`, 400, "not valid JSON"},
		{"JSON syntax", "POST", "/api/v1/members", "application/json", `{phone: 1}`, 400, "not valid JSON"},
		{"empty body", "POST", "/api/v1/members", "application/json", ``, 400, "a JSON object is required"},
		{"array body", "POST", "/api/v1/members", "application/json", `[]`, 400, "expected a JSON object"},
		{"two objects", "POST", "/api/v1/members", "application/json", `{"phone":"9810000099"} {}`, 400, "unexpected data after the JSON object"},
		{"form body", "POST", "/api/v1/members", "application/x-www-form-urlencoded", `phone=9810000099`, 415, "send Content-Type: application/json"},
		{"unknown language", "POST", "/api/v1/members", "application/json", `{"phone":"9810000099","lang":"fr"}`, 400, `lang: \"fr\" is not a configured language`},
		{"unknown role", "POST", "/api/v1/members", "application/json", `{"phone":"9810000099","role":"boss"}`, 400, "role: must be"},
		{"missing workshop", "POST", "/api/v1/members", "application/json", `{"phone":"9810000099","workshop_id":77}`, 400, "workshop_id: there is no workshop 77"},
		{"string for a number", "POST", "/api/v1/tasks", "application/json", `{"titles":{"en":"a","hi":"b"},"rate_minor":"250","quantity":5}`, 400, "rate_minor: expected a whole number, got string"},
		{"fractional money", "POST", "/api/v1/tasks", "application/json", `{"titles":{"en":"a","hi":"b"},"rate_minor":2.5,"quantity":5}`, 400, "rate_minor: expected a whole number, got number 2.5"},
		{"title missing a language", "POST", "/api/v1/tasks", "application/json", `{"titles":{"en":"a"},"rate_minor":250,"quantity":5}`, 400, "titles.hi: a title in every configured language is required"},
		{"title in an unknown language", "POST", "/api/v1/tasks", "application/json", `{"titles":{"en":"a","hi":"b","fr":"c"},"rate_minor":250,"quantity":5}`, 400, "titles.fr"},
		{"zero quantity", "POST", "/api/v1/tasks", "application/json", `{"titles":{"en":"a","hi":"b"},"rate_minor":250,"quantity":0}`, 400, "quantity: must be at least 1"},
		{"bad deadline", "POST", "/api/v1/tasks", "application/json", `{"titles":{"en":"a","hi":"b"},"rate_minor":250,"quantity":5,"deadline":"friday"}`, 400, `deadline: \"friday\" is not a date`},
		{"past deadline", "POST", "/api/v1/tasks", "application/json", `{"titles":{"en":"a","hi":"b"},"rate_minor":250,"quantity":5,"deadline":"2001-01-01"}`, 400, "deadline: 2001-01-01 is already past"},
		{"empty task patch", "PATCH", fmt.Sprintf("/api/v1/tasks/%d", tk.ID), "application/json", `{}`, 400, "nothing to change"},
		{"huge add_quantity", "PATCH", fmt.Sprintf("/api/v1/tasks/%d", tk.ID), "application/json", `{"add_quantity":9223372036854775807}`, 400, "add_quantity: at most 10000000 either way, not 9223372036854775807; a task holds at most 10000000 units"},
		{"huge negative add_quantity", "PATCH", fmt.Sprintf("/api/v1/tasks/%d", tk.ID), "application/json", `{"add_quantity":-9223372036854775808}`, 400, "add_quantity: at most 10000000 either way, not -9223372036854775808"},
		{"add_quantity over the limit", "PATCH", fmt.Sprintf("/api/v1/tasks/%d", tk.ID), "application/json", `{"add_quantity":10000001}`, 400, "add_quantity: at most 10000000 either way, not 10000001"},
		{"bad task status", "PATCH", fmt.Sprintf("/api/v1/tasks/%d", tk.ID), "application/json", `{"status":"done"}`, 400, `status: \"done\" is not one of open, closed`},
		{"non-numeric id", "GET", "/api/v1/tasks/abc", "", "", 400, `id: \"abc\" is not a task id`},
		{"unknown task", "GET", "/api/v1/tasks/999", "", "", 404, ""},
		{"accept zero", "POST", fmt.Sprintf("/api/v1/tasks/%d/accept", tk.ID), "application/json", fmt.Sprintf(`{"member_id":%d,"quantity":0}`, w.ID), 400, "quantity: must be at least 1"},
		{"accept nobody", "POST", fmt.Sprintf("/api/v1/tasks/%d/accept", tk.ID), "application/json", `{"quantity":1}`, 400, "member_id: required (or phone)"},
		{"accept both ids", "POST", fmt.Sprintf("/api/v1/tasks/%d/accept", tk.ID), "application/json", fmt.Sprintf(`{"member_id":%d,"phone":"9810000001","quantity":1}`, w.ID), 400, "give one of them, not both"},
		{"accept unknown phone", "POST", fmt.Sprintf("/api/v1/tasks/%d/accept", tk.ID), "application/json", `{"phone":"9810000555","quantity":1}`, 404, "no member has the number +919810000555"},
		{"payout without reference", "POST", "/api/v1/payouts", "application/json", fmt.Sprintf(`{"member_id":%d,"amount_minor":100}`, w.ID), 400, "reference: required"},
		{"negative payout", "POST", "/api/v1/payouts", "application/json", fmt.Sprintf(`{"member_id":%d,"amount_minor":-100,"reference":"x"}`, w.ID), 400, "amount_minor: must be a positive whole number"},
		{"payout above balance", "POST", "/api/v1/payouts", "application/json", fmt.Sprintf(`{"member_id":%d,"amount_minor":100,"reference":"UPI-1"}`, w.ID), 409, ""},
		{"unknown complaint status", "GET", "/api/v1/complaints?status=open", "", "", 400, `status: \"open\" is not one of new, acknowledged`},
		{"unknown complaint kind", "GET", "/api/v1/complaints?kind=idea", "", "", 400, `kind: \"idea\" is not one of complaint, proposal`},
		{"bad complaint ref", "GET", "/api/v1/complaints/X12", "", "", 400, "ref: \\\"X12\\\" is not a reference"},
		{"bad cursor", "GET", "/api/v1/complaints?cursor=zzz", "", "", 400, "cursor:"},
		{"page too big", "GET", "/api/v1/members?limit=5000", "", "", 400, "limit: \\\"5000\\\" is not a page size"},
		{"bad member filter", "GET", "/api/v1/members?status=gone", "", "", 400, "status: \\\"gone\\\" is not one of pending, active, inactive"},
		{"bad from", "GET", "/api/v1/reports/summary?from=2026-13-01", "", "", 400, "from: \\\"2026-13-01\\\" is not a date"},
		{"empty period", "GET", "/api/v1/reports/summary?from=2026-11-30&to=2026-11-01", "", "", 400, "from must come before to"},
		{"complaint without text", "POST", "/api/v1/complaints", "application/json", `{"text":"  "}`, 400, "text: required"},
		{"anonymous with phone", "POST", "/api/v1/complaints", "application/json", `{"text":"no water","phone":"9810000001","anonymous":true}`, 400, "phone: leave it out when anonymous is true"},
		{"message direction", "GET", "/api/v1/messages?direction=sideways", "", "", 400, `direction: \"sideways\" is not one of in, out`},
		{"training in the past", "POST", "/api/v1/trainings", "application/json", `{"titles":{"en":"a","hi":"b"},"starts_at":"2001-01-01T10:00:00+05:30","place":"Hall","capacity":3}`, 400, "starts_at: 2001-01-01T10:00:00+05:30 is already past"},
		{"training date only", "POST", "/api/v1/trainings", "application/json", `{"titles":{"en":"a","hi":"b"},"starts_at":"2030-01-01","place":"Hall","capacity":3}`, 400, "starts_at: \\\"2030-01-01\\\" is not a time"},
		{"no such route", "GET", "/api/v1/nothing", "", "", 404, "no route GET /api/v1/nothing"},
	}
	for _, tc := range cases {
		t.Run(tc.label, func(t *testing.T) {
			var body []byte
			if tc.body != "" || tc.contentType != "" {
				body = []byte(tc.body)
			}
			status, b, _ := e.raw(tc.method, tc.path, e.op, tc.contentType, body)
			if status != tc.want || !strings.Contains(string(b), tc.contains) {
				t.Fatalf("status %d body %s; want %d containing %q", status, b, tc.want, tc.contains)
			}
			var ae apiError
			if err := json.Unmarshal(b, &ae); err != nil || ae.Error.Code == "" || ae.Error.Message == "" {
				t.Fatalf("body %s is not {\"error\":{\"code\",\"message\"}}", b)
			}
		})
	}

	// None of the refused requests changed anything.
	var ms page[domain.Member]
	e.must(200, "GET", "/api/v1/members", nil, &ms)
	if len(ms.Items) != 1 {
		t.Errorf("members after refused requests: %d, want 1", len(ms.Items))
	}
	var ts page[domain.Task]
	e.must(200, "GET", "/api/v1/tasks", nil, &ts)
	if len(ts.Items) != 1 || ts.Items[0].Free != 10 || ts.Items[0].Status != domain.TaskOpen {
		t.Errorf("tasks after refused requests: %+v", ts.Items)
	}
	var cs page[domain.Complaint]
	e.must(200, "GET", "/api/v1/complaints", nil, &cs)
	if len(cs.Items) != 0 {
		t.Errorf("complaints after refused requests: %d", len(cs.Items))
	}
	var pay domain.PayFigures
	e.must(200, "GET", fmt.Sprintf("/api/v1/members/%d/pay", w.ID), nil, &pay)
	if pay.Paid != 0 {
		t.Errorf("paid after refused payouts: %d", pay.Paid)
	}
}
