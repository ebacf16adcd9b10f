// Package crashtest kills the real binary with SIGKILL under concurrent
// carrier and operator load, restarts it, and checks that nothing that was
// acknowledged is lost, doubled or corrupt.
package crashtest

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/karyashala/karyashala/domain"
	"github.com/karyashala/karyashala/internal/proc"
	"github.com/karyashala/karyashala/storage"
)

// fakeAT plays Africa's Talking's messaging API and counts every message it
// is asked to send, by recipient and text.
type fakeAT struct {
	mu   sync.Mutex
	seen map[string]int
	n    int
}

func (f *fakeAT) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	f.mu.Lock()
	f.n++
	id := fmt.Sprintf("ATXid_crash_%d", f.n)
	f.seen[r.PostForm.Get("to")+"\x00"+r.PostForm.Get("message")]++
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, `{"SMSMessageData":{"Message":"Sent to 1/1 Total Cost: KES 0.8000","Recipients":[{"statusCode":101,"number":%q,"status":"Success","cost":"KES 0.8000","messageId":%q}]}}`,
		r.PostForm.Get("to"), id)
}

func buildBinary(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	bin := filepath.Join(t.TempDir(), "karyashala")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/karyashala")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, b)
	}
	return bin
}

type harness struct {
	t     *testing.T
	bin   string
	env   []string
	addr  string
	token string
	logs  *bytes.Buffer
}

func (h *harness) start() *exec.Cmd {
	h.t.Helper()
	cmd := exec.Command(h.bin, "serve", "--demo")
	cmd.Env = h.env
	cmd.Stdout, cmd.Stderr = h.logs, h.logs
	if err := proc.StartAndWait(cmd, "http://"+h.addr+"/readyz", 30*time.Second); err != nil {
		h.t.Fatalf("%v:\n%s", err, h.logs)
	}
	return cmd
}

// acked records what the server answered 2xx for.
type acked struct {
	mu      sync.Mutex
	sms     []string // provider ids
	payouts []string // references
	hops    int
	ussd    map[string]answeredHop // session id -> its last answered hop
}

type answeredHop struct{ phone, text string }

func (h *harness) load(ctx context.Context, a *acked, worker int64) {
	client := &http.Client{Timeout: 5 * time.Second}
	post := func(path string, form url.Values) (int, string) {
		req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+h.addr+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := client.Do(req)
		if err != nil {
			return 0, ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	var wg sync.WaitGroup
	for g := 0; g < 12; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			// As a carrier does, a message that got no 200 is sent again,
			// with its id, until one comes (across the kills and restarts),
			// and now and then one that got its 200 is sent again too.
			var form url.Values
			for i := 0; ctx.Err() == nil; i++ {
				if form == nil {
					id := fmt.Sprintf("ATXid_%016x%016x", rand.Uint64(), rand.Uint64())
					form = url.Values{"from": {fmt.Sprintf("+9196%08d", rand.IntN(100_000_000))}, "to": {"384"},
						"text": {"COMPLAINT crash test " + id}, "id": {id}, "date": {"2026-11-28 10:00:00"}}
				}
				if code, _ := post("/sms/africastalking/inbound", form); code != 200 {
					time.Sleep(20 * time.Millisecond)
					continue
				}
				a.mu.Lock()
				a.sms = append(a.sms, form.Get("id"))
				a.mu.Unlock()
				if i%10 == 0 {
					continue // the same message again
				}
				form = nil
			}
		}(g)
	}
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				sid := fmt.Sprintf("ussd-%d-%d-%d", time.Now().UnixNano(), g, i)
				phone := fmt.Sprintf("+9197%08d", rand.IntN(100_000_000))
				text := ""
				for _, in := range []string{"", "1", "1", "0"} {
					if in != "" {
						text = strings.TrimPrefix(text+"*"+in, "*")
					}
					code, body := post("/ussd/africastalking", url.Values{"sessionId": {sid}, "serviceCode": {"*384#"}, "phoneNumber": {phone}, "text": {text}})
					if code != 200 {
						break
					}
					if !strings.HasPrefix(body, "CON ") && !strings.HasPrefix(body, "END ") {
						h.t.Errorf("ussd answer %q", body)
					}
					a.mu.Lock()
					a.hops++
					if a.ussd == nil {
						a.ussd = map[string]answeredHop{}
					}
					a.ussd[sid] = answeredHop{phone, text}
					a.mu.Unlock()
					if strings.HasPrefix(body, "END ") {
						break
					}
				}
			}
		}(g)
	}
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				ref := fmt.Sprintf("pay-%d-%d-%d", time.Now().UnixNano(), g, i)
				body, _ := json.Marshal(map[string]any{"member_id": worker, "amount_minor": 1, "reference": ref})
				req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+h.addr+"/api/v1/payouts", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+h.token)
				resp, err := client.Do(req)
				if err != nil {
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode/100 == 2 {
					a.mu.Lock()
					a.payouts = append(a.payouts, ref)
					a.mu.Unlock()
				}
			}
		}(g)
	}
	wg.Wait()
}

func TestSIGKILLUnderLoadLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test builds and kills the real binary; skipped with -short")
	}
	at := &fakeAT{seen: map[string]int{}}
	fake := httptest.NewServer(at)
	defer fake.Close()

	dir := t.TempDir()
	dbPath := filepath.Join(dir, "crash.db")
	addr, err := proc.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, bin: buildBinary(t), addr: addr, logs: &bytes.Buffer{}}
	h.env = append(os.Environ(),
		"KARYASHALA_HTTP_ADDR="+h.addr, "KARYASHALA_DB_PATH="+dbPath, "KARYASHALA_LOG_LEVEL=warn",
		"KARYASHALA_SMS_SENDER=africastalking", "KARYASHALA_SMS_AFRICASTALKING_USERNAME=sandbox",
		"KARYASHALA_SMS_AFRICASTALKING_API_KEY=key", "KARYASHALA_SMS_AFRICASTALKING_BASE_URL="+fake.URL,
		"KARYASHALA_SMS_RATE_PER_SECOND=1000",
		"KARYASHALA_RATELIMIT_SMS_PER_MINUTE=0", "KARYASHALA_RATELIMIT_USSD_PER_MINUTE=0")
	tok := exec.Command(h.bin, "token", "create", "--role", "operator", "--name", "crash")
	tok.Env = h.env
	out, err := tok.Output()
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	h.token = strings.TrimSpace(string(out))

	var worker int64
	a := &acked{}
	for round := 0; round < 4; round++ {
		srv := h.start()
		if worker == 0 {
			worker = demoWorker(t, dbPath)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { h.load(ctx, a, worker); close(done) }()
		time.Sleep(time.Duration(400+rand.IntN(1200)) * time.Millisecond)
		srv.Process.Signal(syscall.SIGKILL)
		srv.Wait()
		cancel()
		<-done
	}
	// A last clean run answers what was stored and drains the outbox.
	srv := h.start()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && pending(t, dbPath) > 0 {
		time.Sleep(200 * time.Millisecond)
	}
	srv.Process.Signal(syscall.SIGTERM)
	srv.Wait()

	db, err := storage.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if s, err := db.IntegrityCheck(ctx); err != nil || s != "ok" {
		t.Fatalf("integrity_check = %q, %v", s, err)
	}

	// Every acknowledged inbound message is stored exactly once, and
	// answered exactly once.
	in := map[string]int{}
	inMsg := map[string]*domain.Message{}
	replies := map[int64]int{}
	var outbound []*domain.Message
	ms := storage.NewMessageService(db)
	for cursor := ""; ; {
		page, next, err := ms.FindMessages(ctx, domain.MessageFilter{Cursor: cursor, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page {
			if m.Direction == domain.DirIn {
				in[m.ProviderID]++
				inMsg[m.ProviderID] = m
			} else {
				outbound = append(outbound, m)
				replies[m.ReplyTo]++
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	for id, n := range in {
		if n > 1 {
			t.Errorf("message %s stored %d times", id, n)
		}
	}
	for _, id := range a.sms {
		if in[id] != 1 {
			t.Errorf("acknowledged message %s stored %d times", id, in[id])
			continue
		}
		if m := inMsg[id]; m.HandledAt == nil || m.Error != "" || replies[m.ID] != 1 {
			t.Errorf("acknowledged message %s: handled_at %v, error %q, %d replies; want answered once", id, m.HandledAt, m.Error, replies[m.ID])
		}
	}

	// Every answered USSD hop's session is stored once, as far as that hop
	// at least, and found by its id after the restarts.
	raw, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var dupIDs int
	if err := raw.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT id FROM ussd_sessions GROUP BY id HAVING COUNT(*) > 1)`).Scan(&dupIDs); err != nil {
		t.Fatal(err)
	}
	if dupIDs > 0 {
		t.Errorf("%d USSD session ids are stored more than once", dupIDs)
	}
	sessions := storage.NewSessionStore(db)
	for sid, hop := range a.ussd {
		s, err := sessions.SessionByID(ctx, sid)
		if err != nil {
			t.Errorf("answered USSD session %s: %v", sid, err)
			continue
		}
		var st struct {
			Text string `json:"t"` // the input the session has consumed (ussd's state)
		}
		if err := json.Unmarshal(s.State, &st); err != nil || s.Phone != hop.phone || !strings.HasPrefix(st.Text, hop.text) {
			t.Errorf("answered USSD session %s (text %q, %s): stored %s for %s (%v)", sid, hop.text, domain.MaskPhone(hop.phone), s.State, domain.MaskPhone(s.Phone), err)
		}
	}

	// Every acknowledged payout is in the ledger exactly once.
	refs := map[string]int{}
	for cursor := ""; ; {
		page, next, err := storage.NewLedgerService(db).Entries(ctx, worker, cursor, 500)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			refs[e.Reference]++
		}
		if next == "" {
			break
		}
		cursor = next
	}
	for _, ref := range a.payouts {
		if refs[ref] != 1 {
			t.Errorf("acknowledged payout %s booked %d times", ref, refs[ref])
		}
	}
	pay, err := storage.NewLedgerService(db).Pay(ctx, worker)
	if err != nil || pay.Balance < 0 {
		t.Fatalf("balance %+v, %v", pay, err)
	}

	// No outgoing message reached the carrier twice; none is left unsent.
	at.mu.Lock()
	defer at.mu.Unlock()
	for k, n := range at.seen {
		if n > 1 {
			t.Errorf("carrier got %q %d times", strings.ReplaceAll(k, "\x00", " "), n)
		}
	}
	left := 0
	for _, m := range outbound {
		if m.Status == domain.MsgQueued {
			left++
		}
	}
	if left > 0 {
		t.Errorf("%d outbound messages still queued after the final run", left)
	}
	t.Logf("acknowledged: %d inbound SMS, %d USSD hops in %d sessions, %d payouts; %d outbound messages, %d sent to the carrier",
		len(a.sms), a.hops, len(a.ussd), len(a.payouts), len(outbound), len(at.seen))
	if len(a.sms) == 0 || a.hops == 0 || len(a.payouts) == 0 {
		t.Fatalf("load did not get through: the test proved nothing\n%s", h.logs)
	}
}

func demoWorker(t *testing.T, dbPath string) int64 {
	db, err := storage.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m, err := storage.NewMemberService(db).MemberByPhone(context.Background(), "+919800000002")
	if err != nil {
		t.Fatal(err)
	}
	return m.ID
}

// pending counts the inbound messages not yet answered and the outbound
// ones not yet sent.
func pending(t *testing.T, dbPath string) int {
	db, err := storage.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ms := storage.NewMessageService(db)
	page, _, err := ms.FindMessages(context.Background(), domain.MessageFilter{Direction: domain.DirOut, Status: domain.MsgQueued, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	waiting, err := ms.Backlog(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(page) + waiting
}
