// Package smstest builds the SMS channel on a real SQLite database for the
// tests of sms and its carrier adapters, and runs courier-style case tables
// of carrier callbacks through a Fiber app.
package smstest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/karyashala/karyashala/api"
	"github.com/karyashala/karyashala/domain"
	"github.com/karyashala/karyashala/sms"
	"github.com/karyashala/karyashala/sms/keywords"
	"github.com/karyashala/karyashala/storage"
	"github.com/karyashala/karyashala/storage/storagetest"
)

// Env is an Inbox on a fresh database, with a leader and a worker.
type Env struct {
	DB         *storage.DB
	Members    *storage.MemberService
	Complaints *storage.ComplaintService
	Messages   *storage.MessageService
	Ledger     *storage.LedgerService
	Outbox     *storage.Outbox
	Inbox      *sms.Inbox
	App        *fiber.App
	Leader     *domain.Member
	Worker     *domain.Member
}

// Leader and worker phones in every Env.
const (
	LeaderPhone = "+919800000001"
	WorkerPhone = "+919800000002"
)

// New returns an Env whose App has the server's error handler and no
// routes yet.
func New(t testing.TB) *Env {
	t.Helper()
	db := storagetest.Open(t)
	kw, err := keywords.Load("", []string{"en", "hi"})
	if err != nil {
		t.Fatal(err)
	}
	e := &Env{
		DB: db, Members: storage.NewMemberService(db), Complaints: storage.NewComplaintService(db),
		Messages: storage.NewMessageService(db), Ledger: storage.NewLedgerService(db), Outbox: storage.NewOutbox(db),
	}
	e.Inbox = &sms.Inbox{Atomic: db, Messages: e.Messages, Outbox: e.Outbox, Complaints: e.Complaints, Members: e.Members,
		Ledger: e.Ledger, Keywords: kw, Region: "IN", Currency: "INR"}
	e.Complaints.NotifyText = e.Inbox.NotifyText
	e.Leader = &domain.Member{Phone: LeaderPhone, Name: "Sunita", Lang: "hi", Role: domain.RoleLeader, Status: domain.MemberActive}
	e.Worker = &domain.Member{Phone: WorkerPhone, Name: "Asha", Lang: "en", Role: domain.RoleWorker, Status: domain.MemberActive}
	for _, m := range []*domain.Member{e.Leader, e.Worker} {
		if err := e.Members.CreateMember(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	e.App = fiber.New(fiber.Config{ErrorHandler: api.ErrorHandler, ReadBufferSize: sms.ReadBufferSize, DisableStartupMessage: true})
	return e
}

// Drain answers every stored inbound message, as the inbox's Run would in
// the background.
func (e *Env) Drain(t testing.TB) {
	t.Helper()
	for {
		n, err := e.Inbox.HandlePending(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// Out returns the outbound messages to phone, oldest first, once every
// stored inbound message is answered.
func (e *Env) Out(t testing.TB, phone string) []*domain.Message {
	t.Helper()
	e.Drain(t)
	ms, _, err := e.Messages.FindMessages(context.Background(), domain.MessageFilter{Direction: domain.DirOut, Phone: phone, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	for i, j := 0, len(ms)-1; i < j; i, j = i+1, j-1 {
		ms[i], ms[j] = ms[j], ms[i]
	}
	return ms
}

// Count returns how many messages match f.
func (e *Env) Count(t testing.TB, f domain.MessageFilter) int {
	t.Helper()
	f.Limit = 500
	ms, _, err := e.Messages.FindMessages(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return len(ms)
}

// Case is one carrier callback and what it must get back.
type Case struct {
	Label                string
	Method               string // POST when ""
	URL                  string
	Data                 string // form body for POST
	Headers              map[string]string
	ExpectedStatus       int
	ExpectedBodyContains string
	// ExpectedEmptyBody asserts a body of zero bytes (Kannel would send
	// anything else back as an SMS).
	ExpectedEmptyBody bool
	// Check, when set, looks at the database after the request.
	Check func(t *testing.T)
}

// Run sends every case through e.App in order (later cases may depend on
// earlier ones, as with duplicates), answering the stored messages before
// each Check.
func (e *Env) Run(t *testing.T, cases []Case) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Label, func(t *testing.T) {
			method := c.Method
			if method == "" {
				method = http.MethodPost
			}
			var body io.Reader
			if c.Data != "" {
				body = strings.NewReader(c.Data)
			}
			req := httptest.NewRequest(method, c.URL, body)
			if c.Data != "" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			for k, v := range c.Headers {
				req.Header.Set(k, v)
			}
			resp, err := e.App.Test(req, -1)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != c.ExpectedStatus {
				t.Fatalf("status %d, want %d; body %q", resp.StatusCode, c.ExpectedStatus, got)
			}
			if !strings.Contains(string(got), c.ExpectedBodyContains) {
				t.Fatalf("body %q does not contain %q", got, c.ExpectedBodyContains)
			}
			if c.ExpectedEmptyBody && len(got) != 0 {
				t.Fatalf("body %q, want it empty", got)
			}
			if resp.StatusCode >= 400 && strings.Count(strings.TrimSpace(string(got)), "\n") > 0 {
				t.Fatalf("error body is not one line: %q", got)
			}
			if c.Check != nil {
				e.Drain(t)
				c.Check(t)
			}
		})
	}
}
