package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/karyashala/karyashala/domain"
)

func TestMembers(t *testing.T) {
	e := newEnv(t)
	var ws domain.Workshop
	e.must(201, "POST", "/api/v1/workshops", map[string]string{"name": "Shanti Nagar C", "address": "Block C, ground floor", "hours": "10:00-17:00"}, &ws)

	var m domain.Member
	e.mustAs(e.leader, 201, "POST", "/api/v1/members", map[string]any{
		"phone": "098100 12345", "name": "Sunita", "lang": "hi", "workshop_id": ws.ID, "status": "pending",
	}, &m)
	if m.ID == 0 || m.Phone != "+919810012345" || m.Lang != "hi" || m.Role != domain.RoleWorker || m.Status != domain.MemberPending || m.WorkshopID != ws.ID {
		t.Fatalf("created member %+v", m)
	}
	e.must(409, "POST", "/api/v1/members", map[string]any{"phone": "+919810012345"}, nil)

	var got domain.Member
	e.must(200, "GET", fmt.Sprintf("/api/v1/members/%d", m.ID), nil, &got)
	if got.Phone != m.Phone || got.Name != "Sunita" {
		t.Fatalf("get member %+v", got)
	}
	e.must(404, "GET", "/api/v1/members/9999", nil, nil)

	// A leader activates her.
	e.mustAs(e.leader, 200, "PATCH", fmt.Sprintf("/api/v1/members/%d", m.ID), map[string]string{"status": "active"}, &got)
	if got.Status != domain.MemberActive {
		t.Fatalf("after activation %+v", got)
	}
	e.must(400, "PATCH", fmt.Sprintf("/api/v1/members/%d", m.ID), map[string]string{}, nil)
	e.must(400, "PATCH", fmt.Sprintf("/api/v1/members/%d", m.ID), map[string]string{"lang": ""}, nil)
	e.must(404, "PATCH", "/api/v1/members/9999", map[string]string{"status": "active"}, nil)

	var byPhone page[domain.Member]
	e.must(200, "GET", "/api/v1/members?phone=9810012345", nil, &byPhone)
	if len(byPhone.Items) != 1 || byPhone.Items[0].ID != m.ID {
		t.Fatalf("by phone %+v", byPhone)
	}
	e.must(200, "GET", "/api/v1/members?phone=9810099999", nil, &byPhone)
	if len(byPhone.Items) != 0 {
		t.Fatalf("unknown phone listed %+v", byPhone)
	}
	var active page[domain.Member]
	e.must(200, "GET", "/api/v1/members?status=active&role=worker", nil, &active)
	if len(active.Items) != 1 {
		t.Fatalf("active workers %+v", active)
	}
	e.must(200, "GET", "/api/v1/members?status=pending", nil, &active)
	if len(active.Items) != 0 {
		t.Fatalf("pending workers %+v", active)
	}

	var pay struct {
		domain.PayFigures
		Currency string `json:"currency"`
	}
	e.must(200, "GET", fmt.Sprintf("/api/v1/members/%d/pay", m.ID), nil, &pay)
	if pay.Currency != "INR" || pay.Balance != 0 {
		t.Fatalf("pay %+v", pay)
	}
	e.must(404, "GET", "/api/v1/members/9999/pay", nil, nil)
	e.must(404, "GET", "/api/v1/members/9999/ledger", nil, nil)
	e.must(404, "GET", "/api/v1/members/9999/assignments", nil, nil)

	var wsl page[domain.Workshop]
	e.must(200, "GET", "/api/v1/workshops", nil, &wsl)
	if len(wsl.Items) != 1 || wsl.Items[0].Name != "Shanti Nagar C" {
		t.Fatalf("workshops %+v", wsl)
	}
	e.must(200, "GET", fmt.Sprintf("/api/v1/workshops/%d", ws.ID), nil, nil)
	e.must(400, "POST", "/api/v1/workshops", map[string]string{"name": " "}, nil)
}

// A leader giving units or a training place to a member who is not active
// gets 403, like the phone channels, with a message saying how to activate
// her: it is her state, not the leader's token, that is refused.
func TestNotActiveMemberRefusalSaysHowToActivate(t *testing.T) {
	e := newEnv(t)
	var m domain.Member
	e.must(201, "POST", "/api/v1/members", map[string]any{"phone": "9810000077", "name": "Kamla", "status": "pending"}, &m)
	tk := e.task(10, 100)
	var tr domain.Training
	e.must(201, "POST", "/api/v1/trainings", map[string]any{
		"titles": map[string]string{"en": "Tailoring basics", "hi": "सिलाई"}, "starts_at": time.Now().Add(72 * time.Hour).Format(time.RFC3339), "place": "Hall", "capacity": 5,
	}, &tr)
	accept := fmt.Sprintf("/api/v1/tasks/%d/accept", tk.ID)
	signUp := fmt.Sprintf("/api/v1/trainings/%d/signups", tr.ID)
	fix := fmt.Sprintf(`activate her with PATCH /api/v1/members/%d {"status": "active"}, then try again`, m.ID)
	refused := func(path string, body any, want string) {
		t.Helper()
		status, b := e.call("POST", path, e.leader, body)
		var ae apiError
		if err := json.Unmarshal(b, &ae); err != nil {
			t.Fatalf("POST %s: %d %s", path, status, b)
		}
		if status != 403 || ae.Error.Code != domain.EFORBIDDEN || !strings.Contains(ae.Error.Message, want) {
			t.Errorf("POST %s for a member who is %s: %d %s; want 403 forbidden containing %s", path, m.Status, status, b, want)
		}
	}
	refused(accept, map[string]any{"member_id": m.ID, "quantity": 1}, "is waiting for a leader to activate her registration; "+fix)
	refused(signUp, map[string]any{"phone": m.Phone}, "is waiting for a leader to activate her registration; "+fix)

	e.must(200, "PATCH", fmt.Sprintf("/api/v1/members/%d", m.ID), map[string]string{"status": "inactive"}, &m)
	refused(accept, map[string]any{"member_id": m.ID, "quantity": 1}, "is inactive; re"+fix)

	e.must(200, "PATCH", fmt.Sprintf("/api/v1/members/%d", m.ID), map[string]string{"status": "active"}, &m)
	e.mustAs(e.leader, 201, "POST", accept, map[string]any{"member_id": m.ID, "quantity": 1}, nil)
	e.mustAs(e.leader, 201, "POST", signUp, map[string]any{"member_id": m.ID}, nil)
}

// TestPiecework runs a batch from creation to payout through the API.
func TestPiecework(t *testing.T) {
	e := newEnv(t)
	w := e.worker(1)
	tk := e.task(20, 250)
	if tk.Free != 20 || tk.Status != domain.TaskOpen || tk.Titles["hi"] != "अगरबत्ती पैक" {
		t.Fatalf("created task %+v", tk)
	}
	var got domain.Task
	e.mustAs(e.leader, 200, "GET", fmt.Sprintf("/api/v1/tasks/%d", tk.ID), nil, &got)
	if got.RateMinor != 250 {
		t.Fatalf("task %+v", got)
	}
	e.must(200, "PATCH", fmt.Sprintf("/api/v1/tasks/%d", tk.ID), map[string]any{"add_quantity": 5, "titles": map[string]string{"en": "Pack incense sticks"}}, &got)
	if got.Quantity != 25 || got.Free != 25 || got.Titles["en"] != "Pack incense sticks" {
		t.Fatalf("patched task %+v", got)
	}

	var as domain.Assignment
	e.mustAs(e.leader, 201, "POST", fmt.Sprintf("/api/v1/tasks/%d/accept", tk.ID), map[string]any{"phone": "+919810000001", "quantity": 12}, &as)
	if as.MemberID != w.ID || as.Quantity != 12 {
		t.Fatalf("assignment %+v", as)
	}
	e.must(409, "POST", fmt.Sprintf("/api/v1/tasks/%d/accept", tk.ID), map[string]any{"member_id": w.ID, "quantity": 14}, nil)
	e.must(200, "GET", fmt.Sprintf("/api/v1/tasks/%d", tk.ID), nil, &got)
	if got.Free != 13 {
		t.Fatalf("free after accepting 12 of 25: %d", got.Free)
	}
	e.must(409, "PATCH", fmt.Sprintf("/api/v1/tasks/%d", tk.ID), map[string]any{"add_quantity": -14}, nil)

	var mine page[domain.Assignment]
	e.must(200, "GET", fmt.Sprintf("/api/v1/members/%d/assignments", w.ID), nil, &mine)
	if len(mine.Items) != 1 || mine.Items[0].ID != as.ID || mine.Items[0].Task == nil {
		t.Fatalf("assignments %+v", mine)
	}

	// She reports 10 done at the workshop; 2 are rejected, 8 approved.
	var r1, r2 domain.WorkReport
	e.mustAs(e.leader, 201, "POST", fmt.Sprintf("/api/v1/assignments/%d/work-reports", as.ID), map[string]any{"quantity": 8}, &r1)
	e.mustAs(e.leader, 201, "POST", fmt.Sprintf("/api/v1/assignments/%d/work-reports", as.ID), map[string]any{"quantity": 2}, &r2)
	e.must(400, "POST", fmt.Sprintf("/api/v1/assignments/%d/work-reports", as.ID), map[string]any{"quantity": 3}, nil)
	if r1.AmountMinor != 2000 || r1.Status != domain.ReportPending {
		t.Fatalf("report %+v", r1)
	}
	var pending page[domain.WorkReport]
	e.mustAs(e.leader, 200, "GET", "/api/v1/work-reports?status=pending", nil, &pending)
	if len(pending.Items) != 2 || pending.Items[0].ID != r2.ID {
		t.Fatalf("pending reports, newest first: %+v", pending.Items)
	}

	var dec domain.WorkReport
	e.mustAs(e.leader, 200, "POST", fmt.Sprintf("/api/v1/work-reports/%d/approve", r1.ID), nil, &dec)
	if dec.Status != domain.ReportApproved || dec.DecidedBy != "lakshmi" {
		t.Fatalf("approved %+v", dec)
	}
	e.must(409, "POST", fmt.Sprintf("/api/v1/work-reports/%d/approve", r1.ID), nil, nil)
	e.must(400, "POST", fmt.Sprintf("/api/v1/work-reports/%d/reject", r2.ID), map[string]string{"reason": ""}, nil)
	e.mustAs(e.leader, 200, "POST", fmt.Sprintf("/api/v1/work-reports/%d/reject", r2.ID), map[string]string{"reason": "sticks broken"}, &dec)
	if dec.Status != domain.ReportRejected || dec.Reason != "sticks broken" {
		t.Fatalf("rejected %+v", dec)
	}
	e.must(404, "POST", "/api/v1/work-reports/999/approve", nil, nil)
	e.must(200, "GET", "/api/v1/work-reports?status=pending", nil, &pending)
	if len(pending.Items) != 0 {
		t.Fatalf("still pending %+v", pending.Items)
	}

	var pay domain.PayFigures
	e.must(200, "GET", fmt.Sprintf("/api/v1/members/%d/pay", w.ID), nil, &pay)
	if pay.Approved != 2000 || pay.Balance != 2000 || pay.Paid != 0 {
		t.Fatalf("pay after approval %+v", pay)
	}

	var entry struct {
		domain.LedgerEntry
		Currency string `json:"currency"`
	}
	e.mustAs(e.leader, 201, "POST", "/api/v1/payouts", map[string]any{"member_id": w.ID, "amount_minor": 1500, "reference": "UPI-4431", "note": "cash at workshop"}, &entry)
	if entry.Kind != domain.EntryPayout || entry.AmountMinor != 1500 || entry.CreatedBy != "lakshmi" || entry.Currency != "INR" {
		t.Fatalf("payout %+v", entry)
	}
	// A retry with the same reference books nothing new.
	var again domain.LedgerEntry
	e.must(201, "POST", "/api/v1/payouts", map[string]any{"member_id": w.ID, "amount_minor": 1500, "reference": "UPI-4431"}, &again)
	if again.ID != entry.ID {
		t.Fatalf("retried payout booked again: %d != %d", again.ID, entry.ID)
	}
	// The same reference for a different amount is a mistake, not a retry.
	status, b := e.call("POST", "/api/v1/payouts", e.op, map[string]any{"member_id": w.ID, "amount_minor": 400, "reference": "UPI-4431"})
	if status != 409 || !strings.Contains(string(b), `\"UPI-4431\" was already used for a payout of 1500 to member`) {
		t.Fatalf("reused reference: %d %s", status, b)
	}
	e.must(409, "POST", "/api/v1/payouts", map[string]any{"phone": "9810000001", "amount_minor": 501, "reference": "UPI-4432"}, nil)

	e.must(200, "GET", fmt.Sprintf("/api/v1/members/%d/pay", w.ID), nil, &pay)
	if pay.Paid != 1500 || pay.Balance != 500 {
		t.Fatalf("pay after payout %+v", pay)
	}
	var ledger page[domain.LedgerEntry]
	e.must(200, "GET", fmt.Sprintf("/api/v1/members/%d/ledger", w.ID), nil, &ledger)
	if len(ledger.Items) != 2 || ledger.Items[0].Kind != domain.EntryPayout || ledger.Items[1].Kind != domain.EntryEarning {
		t.Fatalf("ledger newest first %+v", ledger.Items)
	}

	e.must(200, "PATCH", fmt.Sprintf("/api/v1/tasks/%d", tk.ID), map[string]string{"status": "closed"}, &got)
	if got.Status != domain.TaskClosed {
		t.Fatalf("closed task %+v", got)
	}
	e.must(409, "POST", fmt.Sprintf("/api/v1/tasks/%d/accept", tk.ID), map[string]any{"member_id": w.ID, "quantity": 1}, nil)
	var open page[domain.Task]
	e.must(200, "GET", "/api/v1/tasks?status=open", nil, &open)
	if len(open.Items) != 0 {
		t.Fatalf("open tasks %+v", open.Items)
	}
}

// TestConcurrentAccepts races more workers than there are units through the
// API: the task never gives out more than it has.
func TestConcurrentAccepts(t *testing.T) {
	e := newEnv(t)
	const workers, units = 16, 7
	tk := e.task(units, 100)
	ids := make([]int64, workers)
	for i := range ids {
		ids[i] = e.worker(i + 1).ID
	}
	var wg sync.WaitGroup
	statuses := make([]int, workers)
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i], _ = e.call("POST", fmt.Sprintf("/api/v1/tasks/%d/accept", tk.ID), e.leader, map[string]any{"member_id": id, "quantity": 1})
		}()
	}
	wg.Wait()
	counts := map[int]int{}
	for _, s := range statuses {
		counts[s]++
	}
	if counts[201] != units || counts[409] != workers-units {
		t.Fatalf("statuses %v: want %d accepted and %d refused", counts, units, workers-units)
	}
	var got domain.Task
	e.must(200, "GET", fmt.Sprintf("/api/v1/tasks/%d", tk.ID), nil, &got)
	if got.Free != 0 {
		t.Fatalf("free %d after selling out", got.Free)
	}
	var taken int64
	for _, id := range ids {
		var as page[domain.Assignment]
		e.must(200, "GET", fmt.Sprintf("/api/v1/members/%d/assignments", id), nil, &as)
		for _, a := range as.Items {
			taken += a.Quantity
		}
	}
	if taken != units {
		t.Fatalf("assignments total %d units of %d", taken, units)
	}
}

func TestComplaints(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var c1, c2, p1 domain.Complaint
	e.mustAs(e.leader, 201, "POST", "/api/v1/complaints", map[string]any{"text": "No water in block C since Monday", "category": "water", "phone": "9810000001", "lang": "hi"}, &c1)
	e.mustAs(e.leader, 201, "POST", "/api/v1/complaints", map[string]any{"text": "Street light broken"}, &c2)
	e.mustAs(e.leader, 201, "POST", "/api/v1/complaints", map[string]any{"kind": "proposal", "text": "A creche at the workshop", "phone": "+919810000002"}, &p1)
	if !strings.HasPrefix(c1.Ref, "C") || !strings.HasPrefix(p1.Ref, "P") || c1.Channel != domain.ChannelAPI || c1.ReporterPhone != "+919810000001" || c1.Status != domain.StatusNew {
		t.Fatalf("created %+v %+v", c1, p1)
	}
	if !c2.Anonymous || c2.ReporterPhone != "" {
		t.Fatalf("a report without a phone is anonymous: %+v", c2)
	}

	var all page[domain.Complaint]
	e.must(200, "GET", "/api/v1/complaints", nil, &all)
	if len(all.Items) != 3 || all.Items[0].Ref != p1.Ref || all.Items[2].Ref != c1.Ref {
		t.Fatalf("newest first: %+v", refs(all.Items))
	}
	e.must(200, "GET", "/api/v1/complaints?kind=complaint", nil, &all)
	if len(all.Items) != 2 {
		t.Fatalf("kind=complaint: %v", refs(all.Items))
	}
	e.must(200, "GET", "/api/v1/complaints?category=water", nil, &all)
	if len(all.Items) != 1 || all.Items[0].Ref != c1.Ref {
		t.Fatalf("category=water: %v", refs(all.Items))
	}
	e.must(200, "GET", "/api/v1/complaints?order=oldest", nil, &all)
	if all.Items[0].Ref != c1.Ref {
		t.Fatalf("oldest first: %v", refs(all.Items))
	}

	// The leader acknowledges it: history names her, the reporter gets an SMS.
	var ch domain.Complaint
	lower := "c-" + strings.TrimPrefix(c1.Ref, "C")
	e.mustAs(e.leader, 200, "PATCH", "/api/v1/complaints/"+lower, map[string]string{"status": "acknowledged", "note": "Tanker on Thursday"}, &ch)
	if ch.Status != domain.StatusAcknowledged || ch.LatestNote != "Tanker on Thursday" {
		t.Fatalf("changed %+v", ch)
	}
	var one domain.Complaint
	e.must(200, "GET", "/api/v1/complaints/%23"+c1.Ref, nil, &one)
	if len(one.History) == 0 {
		t.Fatalf("no history on %+v", one)
	}
	last := one.History[len(one.History)-1]
	if last.Actor != "lakshmi" || last.FromStatus != domain.StatusNew || last.ToStatus != domain.StatusAcknowledged || last.Note != "Tanker on Thursday" {
		t.Fatalf("history event %+v", last)
	}
	out, _, err := e.deps.Messages.FindMessages(ctx, domain.MessageFilter{Direction: domain.DirOut, Phone: "+919810000001"})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || !strings.Contains(out[0].Text, c1.Ref) {
		t.Fatalf("notification for the reporter: %+v", out)
	}
	var log page[domain.Message]
	e.must(200, "GET", "/api/v1/messages?direction=out&phone=9810000001", nil, &log)
	if len(log.Items) != 1 || log.Items[0].ID != out[0].ID {
		t.Fatalf("message log %+v", log.Items)
	}

	e.must(200, "GET", "/api/v1/complaints?status=acknowledged", nil, &all)
	if len(all.Items) != 1 || all.Items[0].Ref != c1.Ref {
		t.Fatalf("status=acknowledged: %v", refs(all.Items))
	}

	// Anonymous reports change without any SMS.
	e.must(200, "PATCH", "/api/v1/complaints/"+c2.Ref, map[string]string{"status": "duplicate", "duplicate_of": c1.Ref}, &ch)
	if ch.DuplicateOf != c1.Ref {
		t.Fatalf("duplicate %+v", ch)
	}
	out, _, err = e.deps.Messages.FindMessages(ctx, domain.MessageFilter{Direction: domain.DirOut})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 {
		t.Fatalf("outgoing messages %d, want only the first reporter's", len(out))
	}

	for _, tc := range []struct {
		label, ref string
		body       map[string]string
		want       int
		contains   string
	}{
		{"reopen a closed report", c2.Ref, map[string]string{"status": "in_progress"}, 409, "already duplicate"},
		{"unknown status", c1.Ref, map[string]string{"status": "done"}, 400, `status: \"done\" is not one of acknowledged`},
		{"nothing", c1.Ref, map[string]string{}, 400, "status: required"},
		{"duplicate without original", p1.Ref, map[string]string{"status": "duplicate"}, 400, "duplicate_of: required"},
		{"duplicate of itself", p1.Ref, map[string]string{"status": "duplicate", "duplicate_of": p1.Ref}, 400, "cannot be a duplicate of itself"},
		{"duplicate of nothing", p1.Ref, map[string]string{"status": "duplicate", "duplicate_of": "C9999"}, 400, "there is no C9999"},
		{"original without duplicate", p1.Ref, map[string]string{"status": "resolved", "duplicate_of": c1.Ref}, 400, "only goes with status duplicate"},
		{"unknown report", "C9999", map[string]string{"status": "resolved"}, 404, ""},
	} {
		t.Run(tc.label, func(t *testing.T) {
			status, b := e.call("PATCH", "/api/v1/complaints/"+tc.ref, e.op, tc.body)
			if status != tc.want || !strings.Contains(string(b), tc.contains) {
				t.Fatalf("status %d body %s; want %d containing %q", status, b, tc.want, tc.contains)
			}
		})
	}
}

func refs(cs []domain.Complaint) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Ref)
	}
	return out
}

// TestPagination follows next_cursor through every page.
func TestPagination(t *testing.T) {
	e := newEnv(t)
	var created []string
	for i := range 5 {
		e.worker(i + 1)
		var c domain.Complaint
		e.must(201, "POST", "/api/v1/complaints", map[string]any{"text": fmt.Sprintf("problem %d", i)}, &c)
		created = append(created, c.Ref)
	}
	// walk returns each item's ref, or its id when it has no ref.
	walk := func(path string) []string {
		t.Helper()
		var seen []string
		cursor := ""
		for range 10 {
			url := path + "&cursor=" + cursor
			var p struct {
				Items []struct {
					ID  int64  `json:"id"`
					Ref string `json:"ref"`
				} `json:"items"`
				NextCursor string `json:"next_cursor"`
			}
			e.must(200, "GET", url, nil, &p)
			if len(p.Items) > 2 {
				t.Fatalf("%s: page of %d with limit 2", url, len(p.Items))
			}
			for _, it := range p.Items {
				if it.Ref != "" {
					seen = append(seen, it.Ref)
				} else {
					seen = append(seen, fmt.Sprint(it.ID))
				}
			}
			if p.NextCursor == "" {
				return seen
			}
			cursor = p.NextCursor
		}
		t.Fatalf("%s: more than 10 pages", path)
		return nil
	}
	members := walk("/api/v1/members?limit=2")
	if want := []string{"1", "2", "3", "4", "5"}; fmt.Sprint(members) != fmt.Sprint(want) {
		t.Errorf("members paged %v, want %v (oldest first)", members, want)
	}
	complaints := walk("/api/v1/complaints?limit=2")
	slices.Reverse(created)
	if fmt.Sprint(complaints) != fmt.Sprint(created) {
		t.Errorf("complaints paged %v, want %v (newest first)", complaints, created)
	}
}

func TestTrainings(t *testing.T) {
	e := newEnv(t)
	w1, w2 := e.worker(1), e.worker(2)
	starts := time.Now().Add(72 * time.Hour).Truncate(time.Second).Format(time.RFC3339)
	var tr domain.Training
	e.mustAs(e.leader, 201, "POST", "/api/v1/trainings", map[string]any{
		"titles": map[string]string{"en": "Tailoring basics", "hi": "सिलाई"}, "starts_at": starts, "place": "Community hall", "capacity": 1, "topic": "tailoring",
	}, &tr)
	if tr.ID == 0 || tr.Capacity != 1 {
		t.Fatalf("training %+v", tr)
	}
	var up page[domain.Training]
	e.must(200, "GET", "/api/v1/trainings", nil, &up)
	if len(up.Items) != 1 || up.Items[0].ID != tr.ID {
		t.Fatalf("upcoming %+v", up)
	}
	e.mustAs(e.leader, 201, "POST", fmt.Sprintf("/api/v1/trainings/%d/signups", tr.ID), map[string]any{"member_id": w1.ID}, &tr)
	if tr.SignedUp != 1 {
		t.Fatalf("signed up %d", tr.SignedUp)
	}
	e.must(409, "POST", fmt.Sprintf("/api/v1/trainings/%d/signups", tr.ID), map[string]any{"phone": "9810000002"}, nil)
	e.must(404, "POST", "/api/v1/trainings/999/signups", map[string]any{"member_id": w2.ID}, nil)
	e.must(200, "GET", fmt.Sprintf("/api/v1/trainings/%d", tr.ID), nil, &tr)
	if tr.SignedUp != 1 {
		t.Fatalf("over capacity: %d", tr.SignedUp)
	}

	for _, req := range []map[string]any{{"member_id": w1.ID, "topic": "Mobile banking"}, {"member_id": w2.ID, "topic": "mobile  banking"}, {"phone": "9810000002", "topic": "Embroidery"}} {
		e.mustAs(e.leader, 201, "POST", "/api/v1/training-requests", req, nil)
	}
	e.must(400, "POST", "/api/v1/training-requests", map[string]any{"member_id": w1.ID}, nil)
	var demand page[domain.TopicDemand]
	e.must(200, "GET", "/api/v1/training-requests/demand", nil, &demand)
	if len(demand.Items) != 2 || demand.Items[0].Requests != 2 || demand.Items[0].Members != 2 {
		t.Fatalf("demand %+v", demand.Items)
	}
	e.must(200, "GET", "/api/v1/training-requests/demand?since="+time.Now().Add(time.Hour).UTC().Format(time.RFC3339), nil, &demand)
	if len(demand.Items) != 0 {
		t.Fatalf("demand since the future %+v", demand.Items)
	}
}

func TestHelpRequests(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var ws domain.Workshop
	e.must(201, "POST", "/api/v1/workshops", map[string]string{"name": "Block C"}, &ws)
	w := e.worker(1)
	h, err := e.deps.Workshops.RequestHelp(ctx, w.ID, ws.ID, "machine jammed")
	if err != nil {
		t.Fatal(err)
	}
	var open page[domain.HelpRequest]
	e.mustAs(e.leader, 200, "GET", "/api/v1/help-requests?status=open", nil, &open)
	if len(open.Items) != 1 || open.Items[0].ID != h.ID {
		t.Fatalf("open help requests %+v", open)
	}
	var closed domain.HelpRequest
	e.mustAs(e.leader, 200, "POST", fmt.Sprintf("/api/v1/help-requests/%d/close", h.ID), nil, &closed)
	if closed.Status != domain.HelpClosed || closed.ClosedBy != "lakshmi" {
		t.Fatalf("closed %+v", closed)
	}
	e.must(409, "POST", fmt.Sprintf("/api/v1/help-requests/%d/close", h.ID), nil, nil)
	e.must(200, "GET", "/api/v1/help-requests?status=open", nil, &open)
	if len(open.Items) != 0 {
		t.Fatalf("still open %+v", open)
	}
	e.must(400, "GET", "/api/v1/help-requests?status=pending", nil, nil)
}

func TestOptOuts(t *testing.T) {
	e := newEnv(t)
	if err := e.deps.Messages.OptOut(context.Background(), "+919810000001"); err != nil {
		t.Fatal(err)
	}
	var oo page[domain.OptOut]
	e.must(200, "GET", "/api/v1/opt-outs", nil, &oo)
	if len(oo.Items) != 1 || oo.Items[0].Phone != "+919810000001" {
		t.Fatalf("opt-outs %+v", oo)
	}
}

func TestSummary(t *testing.T) {
	e := newEnv(t)
	w := e.worker(1)
	tk := e.task(10, 300)
	var as domain.Assignment
	e.must(201, "POST", fmt.Sprintf("/api/v1/tasks/%d/accept", tk.ID), map[string]any{"member_id": w.ID, "quantity": 4}, &as)
	var r domain.WorkReport
	e.must(201, "POST", fmt.Sprintf("/api/v1/assignments/%d/work-reports", as.ID), map[string]any{"quantity": 4}, &r)
	e.must(200, "POST", fmt.Sprintf("/api/v1/work-reports/%d/approve", r.ID), nil, nil)
	e.must(201, "POST", "/api/v1/complaints", map[string]any{"text": "No water"}, nil)

	var s struct {
		domain.Summary
		Currency string `json:"currency"`
	}
	e.mustAs(e.leader, 200, "GET", "/api/v1/reports/summary", nil, &s)
	if d := s.To.Sub(s.From); d != 30*24*time.Hour {
		t.Fatalf("default period %s", d)
	}
	if s.Currency != "INR" || s.WomenWithPaidWork != 1 || s.EarningsTotal != 1200 || s.ComplaintsVoiced != 1 {
		t.Fatalf("summary %+v", s)
	}
	today := time.Now().UTC().Format(time.DateOnly)
	e.must(200, "GET", "/api/v1/reports/summary?from="+today+"&to="+today, nil, &s)
	if s.To.Sub(s.From) != 24*time.Hour || s.EarningsTotal != 1200 {
		t.Fatalf("today's summary %s..%s %+v", s.From, s.To, s)
	}
	e.must(200, "GET", "/api/v1/reports/summary?from=2020-01-01&to=2020-01-31", nil, &s)
	if s.EarningsTotal != 0 || s.ComplaintsVoiced != 0 {
		t.Fatalf("summary of an empty period %+v", s)
	}
}
