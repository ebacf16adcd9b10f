package console_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/karyashala/karyashala/api"
	"github.com/karyashala/karyashala/console"

	"github.com/karyashala/karyashala/domain"
)

func TestUnsignedRequestsAreSentToSignIn(t *testing.T) {
	f := newFixture(t, false)
	c := f.client(t)
	for _, path := range []string{"/console/", "/console/complaints?status=new", "/console/work", "/console/dashboard", "/console/simulator", "/console/complaints/C1001"} {
		r := c.get(path)
		if r.Status != http.StatusSeeOther {
			t.Errorf("GET %s: status %d, want 303", path, r.Status)
			continue
		}
		want := "/console/signin?next=" + url.QueryEscape(path)
		if got := r.Header.Get("Location"); got != want {
			t.Errorf("GET %s: Location %q, want %q", path, got, want)
		}
	}
	r := c.do("POST", "/console/complaints/C1001", url.Values{"action": {"resolve"}})
	if r.Status != http.StatusUnauthorized || !strings.Contains(r.Body, "Sign in again") {
		t.Errorf("unsigned POST: status %d, body %s", r.Status, snippet(r.Body))
	}
}

func TestSignIn(t *testing.T) {
	f := newFixture(t, false)

	t.Run("unknown token", func(t *testing.T) {
		c := f.client(t)
		c.get("/console/signin")
		r := c.post("/console/signin", url.Values{"token": {"not-a-token"}})
		if r.Status != http.StatusUnauthorized || !strings.Contains(r.Body, "That token is not known") {
			t.Fatalf("status %d, body %s", r.Status, snippet(r.Body))
		}
		if _, ok := c.cookies["karyashala_console"]; ok {
			t.Fatal("a session cookie was set for an unknown token")
		}
	})
	t.Run("form without its CSRF token", func(t *testing.T) {
		c := f.client(t)
		c.get("/console/signin")
		r := c.do("POST", "/console/signin", url.Values{"token": {f.secret}, "csrf": {"forged"}})
		if r.Status != http.StatusForbidden {
			t.Fatalf("status %d, want 403", r.Status)
		}
		if _, ok := c.cookies["karyashala_console"]; ok {
			t.Fatal("signed in despite a forged CSRF token")
		}
	})
	t.Run("good token", func(t *testing.T) {
		c := f.client(t)
		c.get("/console/signin?next=" + url.QueryEscape("/console/work"))
		r := c.post("/console/signin", url.Values{"token": {f.secret}, "next": {"/console/work"}})
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/console/work" {
			t.Fatalf("status %d location %q", r.Status, r.Header.Get("Location"))
		}
		var sess *http.Cookie
		for _, ck := range r.SetCookies {
			if ck.Name == "karyashala_console" {
				sess = ck
			}
		}
		if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteStrictMode || sess.Path != "/console" {
			t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/console", sess)
		}
		page := c.follow(r)
		if page.Status != 200 || !strings.Contains(page.Body, "Meena (leader)") {
			t.Fatalf("work page after sign-in: %d %s", page.Status, snippet(page.Body))
		}
		// Signing out ends the session on the server, not just the cookie.
		old := *c.cookies["karyashala_console"]
		out := c.post("/console/signout", nil)
		if out.Status != http.StatusSeeOther {
			t.Fatalf("sign out: %d", out.Status)
		}
		c.cookies["karyashala_console"] = &old
		if r := c.get("/console/work"); r.Status != http.StatusSeeOther {
			t.Fatalf("old session still works after sign-out: %d", r.Status)
		}
	})
	t.Run("next cannot leave the console", func(t *testing.T) {
		for _, next := range []string{"https://evil.example/", "//evil.example/console/", "/api/v1/tasks"} {
			c := f.client(t)
			c.get("/console/signin")
			r := c.post("/console/signin", url.Values{"token": {f.secret}, "next": {next}})
			if loc := r.Header.Get("Location"); loc != "/console/complaints" {
				t.Errorf("next=%q redirected to %q", next, loc)
			}
		}
	})
}

func TestFormsWithoutCSRFTokenChangeNothing(t *testing.T) {
	f := newFixture(t, false)
	c := f.client(t)
	c.signIn(f.secret)
	posts := []struct {
		path string
		form url.Values
	}{
		{"/console/complaints/" + f.complaint.Ref, url.Values{"action": {"resolve"}}},
		{"/console/work-reports", url.Values{"action": {"approve"}, "id": {strconv.FormatInt(f.report.ID, 10)}}},
		{"/console/tasks/" + strconv.FormatInt(f.task.ID, 10) + "/close", url.Values{}},
		{"/console/signout", url.Values{}},
	}
	for _, p := range posts {
		for _, tok := range []string{"", "wrong"} {
			form := url.Values{}
			for k, v := range p.form {
				form[k] = v
			}
			form.Set("csrf", tok)
			r := c.do("POST", p.path, form)
			if r.Status != http.StatusForbidden || !strings.Contains(r.Body, "Reload the page") {
				t.Errorf("POST %s csrf=%q: status %d, want 403 with advice", p.path, tok, r.Status)
			}
		}
	}
	ctx := context.Background()
	cm, _ := f.deps.Complaints.ComplaintByRef(ctx, f.complaint.Ref)
	wr, _ := f.deps.Tasks.WorkReportByID(ctx, f.report.ID)
	tk, _ := f.deps.Tasks.TaskByID(ctx, f.task.ID)
	if cm.Status != domain.StatusNew || wr.Status != domain.ReportPending || tk.Status != domain.TaskOpen {
		t.Fatalf("a forged form changed data: complaint %s, report %s, task %s", cm.Status, wr.Status, tk.Status)
	}
	if r := c.get("/console/work"); r.Status != 200 {
		t.Fatalf("session ended by a forged sign-out: %d", r.Status)
	}
}

func TestComplaintQueueAndActions(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	c := f.client(t)
	c.signIn(f.secret)

	// Touch the older one: the untouched proposal must come first.
	if _, err := f.deps.Complaints.ChangeComplaint(ctx, f.complaint.Ref, domain.ComplaintChange{Status: domain.StatusAcknowledged}, "test"); err != nil {
		t.Fatal(err)
	}
	q := c.get("/console/complaints")
	i1, i2 := strings.Index(q.Body, ">"+f.complaint2.Ref+"<"), strings.Index(q.Body, ">"+f.complaint.Ref+"<")
	if q.Status != 200 || i1 < 0 || i2 < 0 || i1 > i2 {
		t.Fatalf("queue: status %d, untouched %s at %d, touched %s at %d", q.Status, f.complaint2.Ref, i1, f.complaint.Ref, i2)
	}
	if !strings.Contains(q.Body, "पानी की टंकी टूटी है") {
		t.Fatal("queue does not show the Hindi report text")
	}
	filtered := c.get("/console/complaints?kind=proposal")
	if strings.Contains(filtered.Body, ">"+f.complaint.Ref+"<") || !strings.Contains(filtered.Body, ">"+f.complaint2.Ref+"<") {
		t.Fatal("kind=proposal filter shows a complaint or hides the proposal")
	}
	if r := c.get("/console/complaints?category=water&age=30d"); strings.Contains(r.Body, ">"+f.complaint.Ref+"<") {
		t.Fatal("age=30d shows a report made just now")
	}
	if r := c.get("/console/complaints?status=bogus"); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "is not one of open") {
		t.Fatalf("bad status filter: %d %s", r.Status, snippet(r.Body))
	}

	page := c.get("/console/complaints/" + strings.ToLower(f.complaint.Ref))
	if page.Status != 200 || !strings.Contains(page.Body, "acknowledged") {
		t.Fatalf("complaint page: %d", page.Status)
	}
	r := c.post("/console/complaints/"+f.complaint.Ref, url.Values{"action": {"resolve"}, "note": {"Tank repaired on Monday"}})
	page = c.follow(r)
	if !strings.Contains(page.Body, "resolved.") || !strings.Contains(page.Body, "Tank repaired on Monday") {
		t.Fatalf("after resolve: %s", snippet(page.Body))
	}
	cm, err := f.deps.Complaints.ComplaintByRef(ctx, f.complaint.Ref)
	must(t, err)
	if cm.Status != domain.StatusResolved || cm.History[len(cm.History)-1].Actor != "console:Meena" {
		t.Fatalf("complaint after resolve: %s by %q", cm.Status, cm.History[len(cm.History)-1].Actor)
	}
	msgs, _, err := f.deps.Messages.FindMessages(ctx, domain.MessageFilter{Phone: "+919811122233", Direction: domain.DirOut})
	must(t, err)
	var sms *domain.Message
	for _, m := range msgs {
		if strings.Contains(m.Text, "Tank repaired on Monday") {
			sms = m
		}
	}
	if sms == nil {
		t.Fatalf("no SMS to the reporter recorded; outbox %+v", msgs)
	}
	if !strings.Contains(page.Body, sms.Text) {
		t.Fatalf("the complaint page does not show the outgoing SMS %q", sms.Text)
	}

	// A closed report cannot be reopened; the leader is told why.
	r = c.post("/console/complaints/"+f.complaint.Ref, url.Values{"action": {"reject"}})
	page = c.follow(r)
	if !strings.Contains(page.Body, "already resolved") {
		t.Fatalf("reopen attempt: %s", snippet(page.Body))
	}
	// Duplicate needs a real original.
	r = c.post("/console/complaints/"+f.complaint2.Ref, url.Values{"action": {"duplicate"}, "duplicate_of": {"banana"}})
	if page = c.follow(r); !strings.Contains(page.Body, "is not a reference") {
		t.Fatalf("bad duplicate_of: %s", snippet(page.Body))
	}
	r = c.post("/console/complaints/"+f.complaint2.Ref, url.Values{"action": {"duplicate"}, "duplicate_of": {"c-" + strings.TrimPrefix(f.complaint.Ref, "C")}})
	c.follow(r)
	cm2, _ := f.deps.Complaints.ComplaintByRef(ctx, f.complaint2.Ref)
	if cm2.Status != domain.StatusDuplicate || cm2.DuplicateOf != f.complaint.Ref {
		t.Fatalf("duplicate: %s of %q", cm2.Status, cm2.DuplicateOf)
	}
	if r := c.get("/console/complaints/C99999"); r.Status != http.StatusNotFound {
		t.Fatalf("unknown ref: %d", r.Status)
	}
}

// A reference in a console URL is read as people type it, escaped the way
// a browser sends it: "#C1001", "C 1001", "c-1001".
func TestComplaintPageEscapedReference(t *testing.T) {
	f := newFixture(t, false)
	c := f.client(t)
	c.signIn(f.secret)
	n := strings.TrimPrefix(f.complaint.Ref, "C")
	for _, p := range []string{"%23C" + n, "C%20" + n, "c-" + n, "%23c%2D" + n} {
		if r := c.get("/console/complaints/" + p); r.Status != 200 || !strings.Contains(r.Body, "पानी की टंकी टूटी है") {
			t.Errorf("/console/complaints/%s: %d %s", p, r.Status, snippet(r.Body))
		}
	}
	c.get("/console/complaints/" + f.complaint.Ref)
	r := c.post("/console/complaints/%23"+f.complaint.Ref, url.Values{"action": {"acknowledge"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("POST /console/complaints/%%23%s: %d %s", f.complaint.Ref, r.Status, snippet(r.Body))
	}
	if cm, _ := f.deps.Complaints.ComplaintByRef(context.Background(), f.complaint.Ref); cm.Status != domain.StatusAcknowledged {
		t.Errorf("after acknowledging through %%23%s: %s", f.complaint.Ref, cm.Status)
	}
}

// A reporter who sent STOP gets no SMS about her report, so the console
// does not tell the leader she does; another reporter still is told.
func TestComplaintChangeAfterReporterSentStop(t *testing.T) {
	f := newFixture(t, false)
	must(t, f.deps.Messages.OptOut(context.Background(), f.complaint.ReporterPhone))
	c := f.client(t)
	c.signIn(f.secret)
	c.get("/console/complaints/" + f.complaint.Ref)
	page := c.follow(c.post("/console/complaints/"+f.complaint.Ref, url.Values{"action": {"acknowledge"}}))
	if !strings.Contains(page.Body, "The reporter sent STOP, so no SMS was sent to her") || strings.Contains(page.Body, "The reporter is told by SMS") {
		t.Errorf("flash after a change to a report whose reporter sent STOP: %s", flashText(page.Body))
	}
	page = c.follow(c.post("/console/complaints/"+f.complaint2.Ref, url.Values{"action": {"acknowledge"}}))
	if !strings.Contains(page.Body, "The reporter is told by SMS") {
		t.Errorf("flash after a change to a report whose reporter gets SMS: %s", flashText(page.Body))
	}
}

// flashText is the flash message on a page, for failure messages.
func flashText(body string) string {
	if m := regexp.MustCompile(`<p class="flash[^"]*"[^>]*>([^<]*)</p>`).FindStringSubmatch(body); m != nil {
		return htmlUnescape(m[1])
	}
	return "(no flash)"
}

func TestWorkApprovalsAndPay(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	c := f.client(t)
	c.signIn(f.secret)

	page := c.get("/console/work")
	for _, want := range []string{"Stitch cloth bags", "कपड़े के थैले सिलना", "₹12.50", "<strong>80</strong> / 100", "Sunita Devi", "₹100.00"} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("work page lacks %q", want)
		}
	}
	if r := c.follow(c.post("/console/work-reports", url.Values{"action": {"reject"}, "id": {strconv.FormatInt(f.report.ID, 10)}})); !strings.Contains(r.Body, "write a reason") {
		t.Fatalf("reject without reason: %s", snippet(r.Body))
	}
	r := c.follow(c.post("/console/work-reports", url.Values{"action": {"approve"}, "id": {strconv.FormatInt(f.report.ID, 10)}}))
	if !strings.Contains(r.Body, "Approved 1 work report(s).") {
		t.Fatalf("approve: %s", snippet(r.Body))
	}
	pay, err := f.deps.Ledger.Pay(ctx, f.worker.ID)
	must(t, err)
	if pay.Balance != 10000 {
		t.Fatalf("balance after approving 8 x 12.50: %d paise, want 10000", pay.Balance)
	}
	if !strings.Contains(r.Body, `<td class="balance"><strong>₹100.00</strong>`) {
		t.Fatal("work page does not show the new balance ₹100.00")
	}
	// Approving again is a conflict, reported per report.
	r = c.follow(c.post("/console/work-reports", url.Values{"action": {"approve"}, "id": {strconv.FormatInt(f.report.ID, 10)}}))
	if !strings.Contains(r.Body, "Approved 0 work report(s). Not changed: report") {
		t.Fatalf("second approve: %s", snippet(r.Body))
	}

	id := strconv.FormatInt(f.worker.ID, 10)
	r = c.follow(c.post("/console/payouts", url.Values{"member_id": {id}, "amount": {"150"}, "payout_key": {hidden(r.Body).Get("payout_key")}}))
	if pay, _ := f.deps.Ledger.Pay(ctx, f.worker.ID); pay.Paid != 0 || flashText(r.Body) != "₹150.00 is more than her balance of ₹100.00; pay at most the balance" {
		t.Fatalf("payout above the balance: paid %d, told %q", pay.Paid, flashText(r.Body))
	}
	// in money, not in paise under the API's field name
	for _, amount := range []string{"0", "0.00"} {
		r = c.follow(c.post("/console/payouts", url.Values{"member_id": {id}, "amount": {amount}, "payout_key": {hidden(r.Body).Get("payout_key")}}))
		if got := flashText(r.Body); got != "amount: ₹0.00 is nothing to pay; type the amount she was paid, e.g. 150" {
			t.Errorf("payout of %q: told %q", amount, got)
		}
	}
	r = c.follow(c.post("/console/payouts", url.Values{"member_id": {id}, "amount": {"60.5"}, "reference": {"UPI-1"}}))
	if !strings.Contains(r.Body, "Payout of ₹60.50 to Sunita Devi recorded") || !strings.Contains(r.Body, "<strong>₹39.50</strong>") {
		t.Fatalf("payout: %s", snippet(r.Body))
	}

	// Creating a task needs a title in every configured language.
	r = c.post("/console/tasks", url.Values{"title_en": {"Pack spices"}, "rate": {"2"}, "quantity": {"500"}})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "titles.hi") || !strings.Contains(r.Body, `value="Pack spices"`) {
		t.Fatalf("task without Hindi title: %d %s", r.Status, snippet(r.Body))
	}
	r = c.follow(c.post("/console/tasks", url.Values{"title_en": {"Pack spices"}, "title_hi": {"मसाले पैक करना"}, "rate": {"2.5"}, "quantity": {"500"}}))
	if !strings.Contains(r.Body, "created with 500 pieces free") || !strings.Contains(r.Body, "मसाले पैक करना") {
		t.Fatalf("create task: %s", snippet(r.Body))
	}
	r = c.follow(c.post("/console/tasks/"+strconv.FormatInt(f.task.ID, 10)+"/close", nil))
	if tk, _ := f.deps.Tasks.TaskByID(ctx, f.task.ID); tk.Status != domain.TaskClosed || !strings.Contains(r.Body, "closed") {
		t.Fatalf("close task: %s", tk.Status)
	}
}

// A payout form posted twice (a double-click, a form sent again) books the
// payment once: the form carries a one-time reference for when the leader
// types none, as for cash. The same form sent again for another amount is
// refused, and so is a form without the key.
func TestPayoutFormPostedTwiceBooksOnce(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	_, err := f.deps.Tasks.ApproveWork(ctx, f.report.ID, "test") // 8 x 12.50 = 100.00
	must(t, err)
	c := f.client(t)
	c.signIn(f.secret)
	paid := func() int64 {
		t.Helper()
		pay, err := f.deps.Ledger.Pay(ctx, f.worker.ID)
		must(t, err)
		return pay.Paid
	}
	id := strconv.FormatInt(f.worker.ID, 10)

	key := hidden(c.get("/console/work").Body).Get("payout_key")
	if !strings.HasPrefix(key, "console-") {
		t.Fatalf("the payout form carries no one-time key: %q", key)
	}
	cash := url.Values{"member_id": {id}, "amount": {"Rs.40"}, "payout_key": {key}}
	c.post("/console/payouts", cash)
	r := c.follow(c.post("/console/payouts", cash))
	if got := paid(); got != 4000 || !strings.Contains(r.Body, "Payout of ₹40.00 to Sunita Devi recorded") {
		t.Fatalf("one cash payout form posted twice: paid %d paise, want 4000 once; %s", got, snippet(r.Body))
	}
	next := hidden(r.Body).Get("payout_key")
	if next == "" || next == key {
		t.Fatalf("the page drawn after a payout reuses the key %q", key)
	}

	cash.Set("amount", "10")
	r = c.follow(c.post("/console/payouts", cash))
	if got := paid(); got != 4000 || !strings.Contains(r.Body, "this form already recorded a different payout") {
		t.Fatalf("the used form sent again for another amount: paid %d, want 4000 and a refusal; %s", got, snippet(r.Body))
	}
	r = c.follow(c.post("/console/payouts", url.Values{"member_id": {id}, "amount": {"10"}}))
	if got := paid(); got != 4000 || !strings.Contains(r.Body, "reload the page") {
		t.Fatalf("a form without its key: paid %d, want 4000 and a refusal; %s", got, snippet(r.Body))
	}

	upi := url.Values{"member_id": {id}, "amount": {"10"}, "reference": {"UPI-7"}, "payout_key": {next}}
	c.post("/console/payouts", upi)
	c.post("/console/payouts", upi)
	if got := paid(); got != 5000 {
		t.Fatalf("one UPI payout form posted twice: paid %d paise, want 5000", got)
	}
}

func TestTrainingFromTopic(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		_, err := f.deps.Trainings.RequestTraining(ctx, f.worker.ID, "Tailoring blouses")
		must(t, err)
	}
	c := f.client(t)
	c.signIn(f.secret)
	page := c.get("/console/trainings")
	if !strings.Contains(page.Body, "Tailoring blouses") || !strings.Contains(page.Body, "/console/trainings?topic=Tailoring%20blouses#new") {
		t.Fatalf("topic demand not shown with a plan link: %s", snippet(page.Body))
	}
	form := c.get("/console/trainings?topic=Tailoring%20blouses")
	if !strings.Contains(form.Body, `name="title_hi" lang="hi" value="Tailoring blouses"`) {
		t.Fatal("the plan form is not filled in from the topic")
	}
	r := c.follow(c.post("/console/trainings", url.Values{"topic": {"Tailoring blouses"}, "title_en": {"Tailoring blouses"}, "title_hi": {"ब्लाउज़ सिलाई"},
		"date": {"2099-01-15"}, "time": {"10:30"}, "place": {"Shanti Nagar workshop"}, "capacity": {"12"}}))
	if !strings.Contains(r.Body, "created for 12 people") || !strings.Contains(r.Body, "ब्लाउज़ सिलाई") || !strings.Contains(r.Body, "0 / 12") {
		t.Fatalf("create training: %s", snippet(r.Body))
	}
	r = c.post("/console/trainings", url.Values{"title_en": {"x"}, "title_hi": {"x"}, "date": {"2001-01-01"}, "time": {"10:00"}, "place": {"p"}, "capacity": {"5"}})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "has passed") {
		t.Fatalf("training in the past: %d", r.Status)
	}
}

func TestDashboardAndCSV(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	_, err := f.deps.Tasks.ApproveWork(ctx, f.report.ID, "test")
	must(t, err)
	c := f.client(t)
	c.signIn(f.secret)
	page := c.get("/console/dashboard")
	if page.Status != 200 {
		t.Fatalf("dashboard: %d %s", page.Status, snippet(page.Body))
	}
	if n := strings.Count(page.Body, `<svg class="chart"`); n != 3 {
		t.Fatalf("%d charts, want 3", n)
	}
	if !strings.Contains(page.Body, `id="fig-earnings">₹100.00<`) || !strings.Contains(page.Body, `id="fig-women">1<`) {
		t.Fatalf("figures do not show the approved earning: %s", snippet(page.Body[strings.Index(page.Body, "figures"):]))
	}
	if r := c.get("/console/dashboard?from=2026-05-01&to=2026-04-01"); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "must not be before the start") {
		t.Fatalf("reversed period: %d", r.Status)
	}

	r := c.get("/console/dashboard/figures.csv")
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") || !strings.Contains(r.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("figures.csv: %d %v", r.Status, r.Header)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.Body, "\ufeff"))).ReadAll()
	must(t, err)
	got := map[string]string{}
	for _, row := range rows {
		got[row[0]] = row[1]
	}
	if got["earnings_total_INR"] != "100.00" || got["women_with_paid_work"] != "1" {
		t.Fatalf("figures.csv rows: %v", got)
	}
	r = c.get("/console/dashboard/months.csv")
	rows, err = csv.NewReader(strings.NewReader(strings.TrimPrefix(r.Body, "\ufeff"))).ReadAll()
	must(t, err)
	if len(rows) != 13 || rows[12][2] != "100.00" {
		t.Fatalf("months.csv: %d rows, last %v", len(rows), rows[len(rows)-1])
	}
	_, err = f.deps.Trainings.RequestTraining(ctx, f.worker.ID, "=HYPERLINK(\"x\")")
	must(t, err)
	r = c.get("/console/dashboard/demand.csv")
	if !strings.Contains(r.Body, `'=HYPERLINK`) {
		t.Fatalf("demand.csv does not defuse a formula-looking topic: %s", r.Body)
	}
	if r := c.get("/console/dashboard/secrets.csv"); r.Status != http.StatusNotFound {
		t.Fatalf("unknown table: %d", r.Status)
	}
}

// The CSV links on the dashboard download the period the page shows, not
// the current month: the links carry from and to as query parameters.
func TestDashboardCSVLinksKeepPeriod(t *testing.T) {
	f := newFixture(t, false)
	c := f.client(t)
	c.signIn(f.secret)
	page := c.get("/console/dashboard?from=2026-01-01&to=2026-01-31")
	links := regexp.MustCompile(`href="(/console/dashboard/(figures|demand)\.csv[^"]*)"`).FindAllStringSubmatch(page.Body, -1)
	if len(links) != 2 {
		t.Fatalf("found %d figures/demand CSV links, want 2", len(links))
	}
	for _, l := range links {
		link := htmlUnescape(l[1])
		r := c.get(link)
		want := "karyashala-" + l[2] + "-2026-01-01-2026-01-31.csv"
		if r.Status != 200 || !strings.Contains(r.Header.Get("Content-Disposition"), want) {
			t.Errorf("link %q: %d, %q; want the file %s", link, r.Status, r.Header.Get("Content-Disposition"), want)
		}
	}
}

// The dashboard and the API's summary read the same dates as the same days
// in the programme's zone: work approved at 01:30 on 21 November in India
// (20:00 UTC the day before) counts on the 21st in both, whatever zone the
// server runs in.
func TestDashboardAndAPISummaryAgreeOnDays(t *testing.T) {
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	must(t, err)
	f := newFixtureIn(t, false, kolkata)
	api.New(api.Deps{Services: f.deps.Services, Region: "IN", Languages: []string{"en", "hi"}, Currency: "INR", Location: kolkata}).Routes(f.app)
	f.db.Now = func() time.Time { return time.Date(2026, 11, 20, 20, 0, 0, 0, time.UTC) }
	_, err = f.deps.Tasks.ApproveWork(context.Background(), f.report.ID, "test")
	must(t, err)
	c := f.client(t)
	c.signIn(f.secret)
	for day, want := range map[string]int64{"2026-11-20": 0, "2026-11-21": 10000} {
		q := "?from=" + day + "&to=" + day
		r := c.get("/console/dashboard/figures.csv" + q)
		rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.Body, "\ufeff"))).ReadAll()
		must(t, err)
		figures := map[string]string{}
		for _, row := range rows {
			figures[row[0]] = row[1]
		}
		req := httptest.NewRequest("GET", "/api/v1/reports/summary"+q, nil)
		req.Header.Set("Authorization", "Bearer "+f.secret)
		res, err := f.app.Test(req)
		must(t, err)
		var s struct {
			From     time.Time `json:"from"`
			Earnings int64     `json:"earnings_total_minor"`
		}
		must(t, json.NewDecoder(res.Body).Decode(&s))
		res.Body.Close()
		wantFrom := day + "T00:00:00+05:30"
		if figures["from"] != wantFrom || figures["earnings_total_INR"] != strconv.FormatFloat(float64(want)/100, 'f', 2, 64) {
			t.Errorf("dashboard for %s: from %s, earnings %s; want from %s, earnings %d paise", day, figures["from"], figures["earnings_total_INR"], wantFrom, want)
		}
		if !s.From.Equal(mustParse(t, wantFrom)) || s.Earnings != want {
			t.Errorf("API summary for %s: from %s, earnings %d; want from %s, earnings %d", day, s.From, s.Earnings, wantFrom, want)
		}
	}
}

func mustParse(t *testing.T, rfc3339 string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, rfc3339)
	must(t, err)
	return v
}

func TestSimulator(t *testing.T) {
	t.Run("without a USSD engine", func(t *testing.T) {
		f := newFixture(t, false)
		c := f.client(t)
		c.signIn(f.secret)
		if r := c.get("/console/simulator"); !strings.Contains(r.Body, "USSD engine is not wired") || !strings.Contains(r.Body, "disabled") {
			t.Fatalf("simulator without engine: %s", snippet(r.Body))
		}
		if r := c.post("/console/simulator", url.Values{"op": {"dial"}, "phone": {"+919999900001"}, "lang": {"hi"}}); r.Status != http.StatusServiceUnavailable {
			t.Fatalf("dial without engine: %d", r.Status)
		}
	})
	t.Run("a journey", func(t *testing.T) {
		f := newFixture(t, true)
		c := f.client(t)
		c.signIn(f.secret)
		r := c.post("/console/simulator", url.Values{"op": {"dial"}, "phone": {"09999900001"}, "lang": {"hi"}})
		if !strings.Contains(r.Body, "1. Work") {
			t.Fatalf("dial: %s", snippet(r.Body))
		}
		lang, err := f.deps.Members.Language(context.Background(), "+919999900001")
		must(t, err)
		if lang != "hi" {
			t.Fatalf("chosen language not remembered for the phone: %q", lang)
		}
		state := hidden(r.Body)
		state.Set("op", "send")
		state.Set("input", "1")
		r = c.post("/console/simulator", state)
		if !strings.Contains(r.Body, "Open work:") {
			t.Fatalf("after 1: %s", snippet(r.Body))
		}
		state = hidden(r.Body)
		state.Set("op", "send")
		state.Set("input", "1")
		r = c.post("/console/simulator", state)
		if !strings.Contains(r.Body, "You took 5 pieces") || !strings.Contains(r.Body, "Dial *384#") {
			t.Fatalf("after 1*1: %s", snippet(r.Body))
		}
		hops := f.dial.Hops()
		if len(hops) != 3 {
			t.Fatalf("hops %v", hops)
		}
		sid := strings.Split(hops[0], "|")[0]
		want := []string{sid + "|+919999900001|*384#|", sid + "|+919999900001|*384#|1", sid + "|+919999900001|*384#|1*1"}
		for i := range want {
			if hops[i] != want[i] {
				t.Errorf("hop %d: %q, want %q", i, hops[i], want[i])
			}
		}
		if r := c.post("/console/simulator", url.Values{"op": {"dial"}, "phone": {"12"}}); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "not valid for region IN") {
			t.Fatalf("bad phone: %d", r.Status)
		}
	})
}

// hidden collects a page's hidden inputs (but the CSRF token, which the
// client adds) as a form.
func hidden(body string) url.Values {
	v := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(body, -1) {
		if m[1] != "csrf" {
			v.Add(m[1], htmlUnescape(m[2]))
		}
	}
	return v
}

func TestMenusPage(t *testing.T) {
	f := newFixture(t, false)
	c := f.client(t)
	c.signIn(f.secret)
	if r := c.get("/console/menus"); r.Status != 200 || !strings.Contains(r.Body, "does not report its loaded menus") {
		t.Fatalf("menus without a reporter: %d %s", r.Status, snippet(r.Body))
	}

	d := f.deps
	d.Menus = func() *console.MenuStatus {
		return &console.MenuStatus{
			LoadedAt: time.Now().Add(-3 * time.Minute),
			Err:      "menus/work.yaml:4:3: unknown screen \"pay\"",
			Files: []console.MenuFile{
				{Path: "menus/main.yaml"},
				{Path: "menus/work.yaml", Problems: []string{"menus/work.yaml:4:3: unknown screen \"pay\""}},
			},
		}
	}
	h, err := console.New(d, console.Options{Languages: []string{"en", "hi"}, Currency: "INR", Region: "IN"})
	must(t, err)
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	h.Mount(app)
	c2 := &client{t: t, app: app, cookies: map[string]*http.Cookie{}}
	c2.signIn(f.secret)
	r := c2.get("/console/menus")
	for _, want := range []string{"menus/main.yaml", "menus/work.yaml:4:3: unknown screen &#34;pay&#34;", "The last reload failed", "3 min ago"} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("menus page lacks %q: %s", want, snippet(r.Body))
		}
	}
	if strings.Contains(r.Body, "Every menu file is valid") {
		t.Error("menus page says valid despite problems")
	}
}

func TestSecurityHeadersAndStatic(t *testing.T) {
	f := newFixture(t, false)
	c := f.client(t)
	r := c.get("/console/signin")
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || r.Header.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("headers %v", r.Header)
	}
	if r := c.get("/console/static/console.css"); r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/css") {
		t.Fatalf("css: %d %q", r.Status, r.Header.Get("Content-Type"))
	}
	if r := c.get("/console/static/../console.go"); r.Status != http.StatusNotFound {
		t.Fatalf("path escape: %d", r.Status)
	}
}

// Guessing tokens at speed is throttled per client address.
func TestSignInThrottled(t *testing.T) {
	f := newFixture(t, false)
	c := f.client(t)
	var last resp
	for i := 0; i < 12; i++ {
		c.get("/console/signin")
		last = c.post("/console/signin", url.Values{"token": {"guess"}})
	}
	if last.Status != http.StatusTooManyRequests || !strings.Contains(last.Body, "Too many sign-in attempts") {
		t.Fatalf("12th attempt: status %d, body %s", last.Status, snippet(last.Body))
	}
}
