package storage_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/karyashala/karyashala/domain"
	"github.com/karyashala/karyashala/storage"
	"github.com/karyashala/karyashala/storage/storagetest"
)

var ctx = context.Background()

// fixture is a database with a workshop, a leader and two active workers.
type fixture struct {
	db          *storage.DB
	members     *storage.MemberService
	tasks       *storage.TaskService
	ledger      *storage.LedgerService
	trainings   *storage.TrainingService
	complaints  *storage.ComplaintService
	messages    *storage.MessageService
	workshop    *domain.Workshop
	leader      *domain.Member
	asha, meena *domain.Member
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := storagetest.Open(t)
	f := &fixture{db: db, members: storage.NewMemberService(db), tasks: storage.NewTaskService(db), ledger: storage.NewLedgerService(db),
		trainings: storage.NewTrainingService(db), complaints: storage.NewComplaintService(db), messages: storage.NewMessageService(db)}
	f.workshop = &domain.Workshop{Name: "Block 4"}
	must(t, storage.NewWorkshopService(db).CreateWorkshop(ctx, f.workshop))
	f.leader = &domain.Member{Phone: "+919800000001", Name: "Sunita", Role: domain.RoleLeader, Status: domain.MemberActive}
	f.asha = &domain.Member{Phone: "+919800000002", Name: "Asha", Role: domain.RoleWorker, Status: domain.MemberActive, WorkshopID: f.workshop.ID}
	f.meena = &domain.Member{Phone: "+919800000003", Name: "Meena", Lang: "hi", Role: domain.RoleWorker, Status: domain.MemberActive}
	for _, m := range []*domain.Member{f.leader, f.asha, f.meena} {
		must(t, f.members.CreateMember(ctx, m))
	}
	return f
}

func (f *fixture) task(t *testing.T, qty, rate int64) *domain.Task {
	t.Helper()
	task := &domain.Task{Titles: map[string]string{"en": "Pack", "hi": "पैकिंग"}, RateMinor: rate, Quantity: qty}
	must(t, f.tasks.CreateTask(ctx, task))
	return task
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := domain.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

func TestMigrationsRecordedAndIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.db")
	db, err := storage.Open(path)
	must(t, err)
	first, err := db.AppliedMigrations(ctx)
	must(t, err)
	db.Close()
	db, err = storage.Open(path)
	must(t, err)
	defer db.Close()
	again, err := db.AppliedMigrations(ctx)
	must(t, err)
	if len(first) == 0 || len(first) != len(again) || first[0] != "2026-11-28-1-init.sql" {
		t.Fatalf("migrations: first %v, again %v", first, again)
	}
	if s, err := db.IntegrityCheck(ctx); err != nil || s != "ok" {
		t.Fatalf("integrity_check = %q, %v", s, err)
	}
}

func TestMemberRules(t *testing.T) {
	f := newFixture(t)
	err := f.members.CreateMember(ctx, &domain.Member{Phone: f.asha.Phone, Name: "Other"})
	wantCode(t, err, domain.ECONFLICT)
	err = f.members.CreateMember(ctx, &domain.Member{Phone: "+919800000099", Name: "X", Lang: "fr"})
	wantCode(t, err, domain.EINVALID)

	m, err := f.members.Register(ctx, "+919800000010", "Rani", "hi", 0, false)
	must(t, err)
	if m.Status != domain.MemberPending {
		t.Fatalf("self-registered status = %s, want pending", m.Status)
	}
	task := f.task(t, 10, 100)
	_, err = f.tasks.AcceptTask(ctx, m.ID, task.ID, 1)
	wantCode(t, err, domain.EFORBIDDEN)
	open, err := f.members.Register(ctx, "+919800000011", "Gita", "en", 0, true)
	must(t, err)
	if open.Status != domain.MemberActive {
		t.Fatalf("open registration status = %s, want active", open.Status)
	}

	must(t, f.members.SetLanguage(ctx, "+919800000050", "hi"))
	if l, _ := f.members.Language(ctx, "+919800000050"); l != "hi" {
		t.Fatalf("language = %q, want hi", l)
	}
	if l, _ := f.members.Language(ctx, "+919800000051"); l != "" {
		t.Fatalf("unknown phone language = %q, want empty", l)
	}
	_, err = f.members.MemberByPhone(ctx, "+919800000051")
	wantCode(t, err, domain.ENOTFOUND)
}

// UpdateMember changes only the fields it is given: a change committed
// before its write, such as a language chosen on the phone, stays. Inside
// one unit the earlier change is not yet visible to the read pool, so a
// read outside the write transaction would put the old language back.
func TestUpdateMemberKeepsChangesMadeBeforeItsWrite(t *testing.T) {
	f := newFixture(t)
	name := "Asha Kumari"
	err := f.db.Atomically(ctx, func(ctx context.Context) error {
		if err := f.members.SetLanguage(ctx, f.asha.Phone, "hi"); err != nil {
			return err
		}
		_, err := f.members.UpdateMember(ctx, f.asha.ID, domain.MemberUpdate{Name: &name})
		return err
	})
	must(t, err)
	got, err := f.members.MemberByID(ctx, f.asha.ID)
	must(t, err)
	if got.Name != name || got.Lang != "hi" {
		t.Fatalf("after choosing hi and a rename: name %q, lang %q; want %q, hi", got.Name, got.Lang, name)
	}
}

// Concurrent updates of different fields of one member both stick.
func TestConcurrentMemberUpdatesKeepBothChanges(t *testing.T) {
	f := newFixture(t)
	for i := range 50 {
		m := &domain.Member{Phone: fmt.Sprintf("+91982000%04d", i), Name: "Old", Status: domain.MemberPending}
		must(t, f.members.CreateMember(ctx, m))
		name, active := "New", domain.MemberActive
		var wg sync.WaitGroup
		for _, u := range []domain.MemberUpdate{{Name: &name}, {Status: &active}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := f.members.UpdateMember(ctx, m.ID, u); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		got, err := f.members.MemberByID(ctx, m.ID)
		must(t, err)
		if got.Name != name || got.Status != active {
			t.Fatalf("round %d: name %q, status %q; want both changes", i, got.Name, got.Status)
		}
	}
}

// Caller is MemberByPhone and Language in one read, and must agree with them.
func TestCallerAgreesWithMemberAndLanguage(t *testing.T) {
	f := newFixture(t)
	must(t, f.members.SetLanguage(ctx, f.asha.Phone, "hi")) // a member who chose Hindi (her own language is English)
	must(t, f.members.SetLanguage(ctx, "+919800000050", "hi"))
	for _, phone := range []string{
		f.asha.Phone,    // member, chosen language
		f.meena.Phone,   // member, her own language only
		f.leader.Phone,  // member, default language
		"+919800000050", // not a member, chosen language
		"+919800000051", // nobody
	} {
		m, lang, err := f.members.Caller(ctx, phone)
		must(t, err)
		want, err := f.members.MemberByPhone(ctx, phone)
		if domain.ErrorCode(err) == domain.ENOTFOUND {
			want = nil
		} else {
			must(t, err)
		}
		if diff := cmp.Diff(want, m); diff != "" {
			t.Errorf("%s: Caller's member differs from MemberByPhone's (-want +got):\n%s", phone, diff)
		}
		if wantLang, _ := f.members.Language(ctx, phone); lang != wantLang {
			t.Errorf("%s: Caller's language %q, Language says %q", phone, lang, wantLang)
		}
	}
	if _, lang, _ := f.members.Caller(ctx, f.asha.Phone); lang != "hi" {
		t.Fatalf("Asha chose Hindi; Caller says %q", lang)
	}
	if _, lang, _ := f.members.Caller(ctx, f.meena.Phone); lang != "hi" {
		t.Fatalf("Meena's own language is Hindi; Caller says %q", lang)
	}
}

// Twenty workers race for a 25-unit task, 3 units each: exactly eight win,
// and the task's free count matches what was handed out.
func TestAcceptTaskNeverOversells(t *testing.T) {
	f := newFixture(t)
	task := f.task(t, 25, 100)
	var workers []int64
	for i := 0; i < 20; i++ {
		m := &domain.Member{Phone: "+9198100000" + string(rune('1'+i/10)) + string(rune('0'+i%10)), Name: "W", Status: domain.MemberActive}
		must(t, f.members.CreateMember(ctx, m))
		workers = append(workers, m.ID)
	}
	var won, soldOut atomic.Int64
	var wg sync.WaitGroup
	for _, id := range workers {
		wg.Add(1)
		go func(id int64) {
			defer wg.Done()
			_, err := f.tasks.AcceptTask(ctx, id, task.ID, 3)
			switch domain.ErrorCode(err) {
			case "":
				won.Add(1)
			case domain.ECONFLICT:
				soldOut.Add(1)
			default:
				t.Errorf("accept: %v", err)
			}
		}(id)
	}
	wg.Wait()
	got, err := f.tasks.TaskByID(ctx, task.ID)
	must(t, err)
	if won.Load() != 8 || got.Free != 25-3*8 || soldOut.Load() != 12 {
		t.Fatalf("won %d, sold out %d, free %d; want 8, 12, 1", won.Load(), soldOut.Load(), got.Free)
	}
	_, err = f.tasks.AcceptTask(ctx, f.asha.ID, task.ID, 2)
	if err == nil || domain.ErrorMessage(err) != "task 1 has only 1 units free; accept 1 or fewer" {
		t.Fatalf("accept beyond free: %v", err)
	}
}

func TestAcceptClosedOrPastDeadline(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	f.db.Now = func() time.Time { return now }
	task := f.task(t, 10, 100)
	closed := domain.TaskClosed
	_, err := f.tasks.UpdateTask(ctx, task.ID, domain.TaskUpdate{Status: &closed})
	must(t, err)
	_, err = f.tasks.AcceptTask(ctx, f.asha.ID, task.ID, 1)
	wantCode(t, err, domain.ECONFLICT)

	d := now.Add(time.Hour)
	t2 := &domain.Task{Titles: map[string]string{"en": "a", "hi": "b"}, RateMinor: 1, Quantity: 5, Deadline: &d}
	must(t, f.tasks.CreateTask(ctx, t2))
	f.db.Now = func() time.Time { return now.Add(2 * time.Hour) }
	_, err = f.tasks.AcceptTask(ctx, f.asha.ID, t2.ID, 1)
	wantCode(t, err, domain.ECONFLICT)
	_, err = f.tasks.AcceptTask(ctx, f.asha.ID, 999, 1)
	wantCode(t, err, domain.ENOTFOUND)
	_, err = f.tasks.AcceptTask(ctx, f.asha.ID, t2.ID, 0)
	wantCode(t, err, domain.EINVALID)
}

func TestTaskValidationNamesField(t *testing.T) {
	f := newFixture(t)
	err := f.tasks.CreateTask(ctx, &domain.Task{Titles: map[string]string{"en": "Pack"}, RateMinor: 100, Quantity: 1})
	if domain.ErrorCode(err) != domain.EINVALID || domain.ErrorMessage(err) != "titles.hi: a title in every configured language is required" {
		t.Fatalf("missing hi title: %v", err)
	}
	err = f.tasks.CreateTask(ctx, &domain.Task{Titles: map[string]string{"en": "a", "hi": "b"}, RateMinor: 0, Quantity: 1})
	wantCode(t, err, domain.EINVALID)
}

func TestShrinkingTaskCannotTakeBackAcceptedUnits(t *testing.T) {
	f := newFixture(t)
	task := f.task(t, 10, 100)
	_, err := f.tasks.AcceptTask(ctx, f.asha.ID, task.ID, 7)
	must(t, err)
	minus := int64(-4)
	_, err = f.tasks.UpdateTask(ctx, task.ID, domain.TaskUpdate{AddQuantity: &minus})
	wantCode(t, err, domain.ECONFLICT)
	minus = -3
	got, err := f.tasks.UpdateTask(ctx, task.ID, domain.TaskUpdate{AddQuantity: &minus})
	must(t, err)
	if got.Quantity != 7 || got.Free != 0 {
		t.Fatalf("after shrink: quantity %d free %d", got.Quantity, got.Free)
	}
}

func TestWorkReportsAndLedger(t *testing.T) {
	f := newFixture(t)
	task := f.task(t, 50, 250) // Rs 2.50 a piece
	a, err := f.tasks.AcceptTask(ctx, f.asha.ID, task.ID, 10)
	must(t, err)

	_, err = f.tasks.ReportWork(ctx, f.meena.ID, a.ID, 1)
	wantCode(t, err, domain.ENOTFOUND) // someone else's assignment
	_, err = f.tasks.ReportWork(ctx, f.asha.ID, a.ID, 11)
	wantCode(t, err, domain.EINVALID)

	r1, err := f.tasks.ReportWork(ctx, f.asha.ID, a.ID, 6)
	must(t, err)
	if r1.AmountMinor != 1500 {
		t.Fatalf("amount = %d, want 1500", r1.AmountMinor)
	}
	_, err = f.tasks.ReportWork(ctx, f.asha.ID, a.ID, 5)
	if domain.ErrorMessage(err) != "quantity: you can report at most 4 more on this assignment (accepted 10, reported 6)" {
		t.Fatalf("over-report: %v", err)
	}
	r2, err := f.tasks.ReportWork(ctx, f.asha.ID, a.ID, 4)
	must(t, err)

	_, err = f.tasks.ApproveWork(ctx, r1.ID, "Sunita")
	must(t, err)
	_, err = f.tasks.ApproveWork(ctx, r1.ID, "Sunita")
	wantCode(t, err, domain.ECONFLICT)
	_, err = f.tasks.RejectWork(ctx, r2.ID, "Sunita", "")
	wantCode(t, err, domain.EINVALID)
	_, err = f.tasks.RejectWork(ctx, r2.ID, "Sunita", "stitching loose")
	must(t, err)
	// The rejected units can be reported again.
	r3, err := f.tasks.ReportWork(ctx, f.asha.ID, a.ID, 4)
	must(t, err)

	p, err := f.ledger.Pay(ctx, f.asha.ID)
	must(t, err)
	want := domain.PayFigures{MemberID: f.asha.ID, Earned: 2500, Pending: 1000, Approved: 1500, Paid: 0, Balance: 1500}
	if *p != want {
		t.Fatalf("pay = %+v, want %+v", *p, want)
	}
	_, err = f.ledger.RecordPayout(ctx, domain.Payout{MemberID: f.asha.ID, AmountMinor: 1501}, "Sunita")
	wantCode(t, err, domain.ECONFLICT)
	e, err := f.ledger.RecordPayout(ctx, domain.Payout{MemberID: f.asha.ID, AmountMinor: 1000, Reference: "UPI-1"}, "Sunita")
	must(t, err)
	again, err := f.ledger.RecordPayout(ctx, domain.Payout{MemberID: f.asha.ID, AmountMinor: 1000, Reference: "UPI-1"}, "Sunita")
	must(t, err)
	if again.ID != e.ID {
		t.Fatalf("repeated reference booked a second payout")
	}
	_, err = f.ledger.RecordPayout(ctx, domain.Payout{MemberID: f.asha.ID, AmountMinor: 0}, "Sunita")
	wantCode(t, err, domain.EINVALID)
	_, err = f.tasks.ApproveWork(ctx, r3.ID, "Sunita")
	must(t, err)
	p, _ = f.ledger.Pay(ctx, f.asha.ID)
	if p.Balance != 1500 || p.Paid != 1000 || p.Approved != 2500 {
		t.Fatalf("pay after payout = %+v", *p)
	}
	entries, _, err := f.ledger.Entries(ctx, f.asha.ID, "", 10)
	must(t, err)
	if len(entries) != 3 || entries[0].Kind != domain.EntryEarning || entries[1].Kind != domain.EntryPayout {
		t.Fatalf("entries = %+v", entries)
	}
}

// Ten leaders pay the same worker 300 at once from a balance of 1000: three
// payouts go through, seven are refused, and the balance never goes below 0.
func TestPayoutsNeverOverdraw(t *testing.T) {
	f := newFixture(t)
	task := f.task(t, 10, 100)
	a, err := f.tasks.AcceptTask(ctx, f.asha.ID, task.ID, 10)
	must(t, err)
	r, err := f.tasks.ReportWork(ctx, f.asha.ID, a.ID, 10)
	must(t, err)
	_, err = f.tasks.ApproveWork(ctx, r.ID, "x")
	must(t, err)

	var ok, refused atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.ledger.RecordPayout(ctx, domain.Payout{MemberID: f.asha.ID, AmountMinor: 300}, "leader")
			if err == nil {
				ok.Add(1)
			} else if domain.ErrorCode(err) == domain.ECONFLICT {
				refused.Add(1)
			} else {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	p, err := f.ledger.Pay(ctx, f.asha.ID)
	must(t, err)
	if ok.Load() != 3 || refused.Load() != 7 || p.Balance != 100 {
		t.Fatalf("ok %d refused %d balance %d; want 3, 7, 100", ok.Load(), refused.Load(), p.Balance)
	}
}

// Concurrent approvals of one report book its earning once.
func TestApproveTwiceConcurrentlyPaysOnce(t *testing.T) {
	f := newFixture(t)
	task := f.task(t, 10, 100)
	a, _ := f.tasks.AcceptTask(ctx, f.asha.ID, task.ID, 10)
	r, err := f.tasks.ReportWork(ctx, f.asha.ID, a.ID, 10)
	must(t, err)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); f.tasks.ApproveWork(ctx, r.ID, "x") }()
	}
	wg.Wait()
	p, _ := f.ledger.Pay(ctx, f.asha.ID)
	if p.Approved != 1000 {
		t.Fatalf("approved = %d, want 1000 (booked once)", p.Approved)
	}
}

func TestTrainingCapacity(t *testing.T) {
	f := newFixture(t)
	tr := &domain.Training{Titles: map[string]string{"en": "Tailoring", "hi": "सिलाई"}, StartsAt: time.Now().Add(48 * time.Hour), Place: "Hall", Capacity: 1}
	must(t, f.trainings.CreateTraining(ctx, tr))
	var wg sync.WaitGroup
	var ok atomic.Int64
	for _, m := range []*domain.Member{f.asha, f.meena, f.leader} {
		wg.Add(1)
		go func(id int64) {
			defer wg.Done()
			if _, err := f.trainings.SignUp(ctx, tr.ID, id); err == nil {
				ok.Add(1)
			} else if domain.ErrorCode(err) != domain.ECONFLICT {
				t.Error(err)
			}
		}(m.ID)
	}
	wg.Wait()
	got, _ := f.trainings.TrainingByID(ctx, tr.ID)
	if ok.Load() != 1 || got.SignedUp != 1 {
		t.Fatalf("signed up %d (%d ok), capacity 1", got.SignedUp, ok.Load())
	}
	up, err := f.trainings.UpcomingTrainings(ctx)
	must(t, err)
	if len(up) != 1 {
		t.Fatalf("upcoming = %d", len(up))
	}
	for _, topic := range []string{"Mobile repair", " mobile  REPAIR ", "Embroidery"} {
		_, err := f.trainings.RequestTraining(ctx, f.asha.ID, topic)
		must(t, err)
	}
	_, err = f.trainings.RequestTraining(ctx, f.asha.ID, "  ")
	wantCode(t, err, domain.EINVALID)
	d, err := f.trainings.TopicDemand(ctx, time.Now().Add(-time.Hour))
	must(t, err)
	if len(d) != 2 || d[0].Requests != 2 || d[1].Topic != "Embroidery" {
		t.Fatalf("demand = %+v %+v", d[0], d[1])
	}
}

func TestComplaintLifecycleRecordsNotifications(t *testing.T) {
	f := newFixture(t)
	c, err := f.complaints.CreateComplaint(ctx, domain.NewComplaint{Kind: domain.KindComplaint, Text: "water leak near block 4", ReporterPhone: "+919800000020", Channel: domain.ChannelSMS, Lang: "en"})
	must(t, err)
	p, err := f.complaints.CreateComplaint(ctx, domain.NewComplaint{Kind: domain.KindProposal, Text: "library", ReporterPhone: "+919800000020", Channel: domain.ChannelSMS, Lang: "hi"})
	must(t, err)
	if c.Ref != "C1001" || p.Ref != "P1" {
		t.Fatalf("refs = %s %s", c.Ref, p.Ref)
	}
	got, err := f.complaints.ChangeComplaint(ctx, "c-1001", domain.ComplaintChange{Status: domain.StatusAcknowledged, Note: "plumber Tuesday"}, "Sunita")
	must(t, err)
	if got.AcknowledgedAt == nil || got.LatestNote != "plumber Tuesday" || len(got.History) != 2 {
		t.Fatalf("after ack: %+v", got)
	}
	_, err = f.complaints.ChangeComplaint(ctx, "C1001", domain.ComplaintChange{Status: domain.StatusAcknowledged}, "Sunita")
	wantCode(t, err, domain.ECONFLICT)
	_, err = f.complaints.ChangeComplaint(ctx, "C1001", domain.ComplaintChange{Status: "fixed"}, "Sunita")
	wantCode(t, err, domain.EINVALID)
	_, err = f.complaints.ChangeComplaint(ctx, "C1001", domain.ComplaintChange{Status: domain.StatusResolved, Note: "pipe fixed"}, "Sunita")
	must(t, err)
	_, err = f.complaints.ChangeComplaint(ctx, "#C1001", domain.ComplaintChange{Status: domain.StatusInProgress}, "Sunita")
	wantCode(t, err, domain.ECONFLICT)
	_, err = f.complaints.ChangeComplaint(ctx, "C9999", domain.ComplaintChange{Note: "x"}, "Sunita")
	wantCode(t, err, domain.ENOTFOUND)

	msgs, _, err := f.messages.FindMessages(ctx, domain.MessageFilter{Direction: domain.DirOut, Phone: "+919800000020"})
	must(t, err)
	if len(msgs) != 2 || msgs[0].Text != "C1001 is now resolved: pipe fixed" || msgs[0].Status != domain.MsgQueued || msgs[0].Segments != 1 {
		t.Fatalf("notifications = %+v", msgs)
	}

	// Opted out: the notification is recorded as failed, never queued.
	must(t, f.messages.OptOut(ctx, "+919800000020"))
	_, err = f.complaints.ChangeComplaint(ctx, "P1", domain.ComplaintChange{Status: domain.StatusDuplicate, DuplicateOf: "P1"}, "Sunita")
	wantCode(t, err, domain.EINVALID)
	_, err = f.complaints.ChangeComplaint(ctx, "P1", domain.ComplaintChange{Status: domain.StatusDuplicate, DuplicateOf: "C1001"}, "Sunita")
	must(t, err)
	msgs, _, _ = f.messages.FindMessages(ctx, domain.MessageFilter{Direction: domain.DirOut, Phone: "+919800000020"})
	if msgs[0].Status != domain.MsgFailed || msgs[0].Error != "opted out" || msgs[0].Lang != "hi" {
		t.Fatalf("opted-out notification = %+v", msgs[0])
	}

	// Anonymous reports get no SMS.
	anon, err := f.complaints.CreateComplaint(ctx, domain.NewComplaint{Kind: domain.KindComplaint, Text: "light", ReporterPhone: "+919800000021", Anonymous: true, Channel: domain.ChannelSMS})
	must(t, err)
	if anon.ReporterPhone != "" {
		t.Fatal("anonymous complaint kept the phone")
	}
	_, err = f.complaints.ChangeComplaint(ctx, anon.Ref, domain.ComplaintChange{Status: domain.StatusAcknowledged}, "Sunita")
	must(t, err)
	all, _, _ := f.messages.FindMessages(ctx, domain.MessageFilter{Direction: domain.DirOut})
	if len(all) != 3 {
		t.Fatalf("outbound messages = %d, want 3", len(all))
	}

	list, next, err := f.complaints.FindComplaints(ctx, domain.ComplaintFilter{Limit: 2})
	must(t, err)
	if len(list) != 2 || list[0].Ref != anon.Ref || next == "" {
		t.Fatalf("page 1 = %d items, next %q", len(list), next)
	}
	list, next, err = f.complaints.FindComplaints(ctx, domain.ComplaintFilter{Limit: 2, Cursor: next})
	must(t, err)
	if len(list) != 1 || list[0].Ref != "C1001" || next != "" {
		t.Fatalf("page 2 = %+v, next %q", list, next)
	}
	_, _, err = f.complaints.FindComplaints(ctx, domain.ComplaintFilter{Status: "open"})
	wantCode(t, err, domain.EINVALID)
}

func TestInboundStoredOnce(t *testing.T) {
	f := newFixture(t)
	m := &domain.Message{Provider: "africastalking", ProviderID: "ATXid_1", Phone: "+919800000020", Text: "COMPLAINT leak"}
	if stored, err := f.messages.InboundStored(ctx, "africastalking", "ATXid_1"); err != nil || stored {
		t.Fatalf("InboundStored before the first delivery = %v, %v; want false", stored, err)
	}
	first, dup, err := f.messages.StoreInbound(ctx, m)
	must(t, err)
	if dup {
		t.Fatal("first delivery marked duplicate")
	}
	if stored, err := f.messages.InboundStored(ctx, "africastalking", "ATXid_1"); err != nil || !stored {
		t.Fatalf("InboundStored after the first delivery = %v, %v; want true", stored, err)
	}
	if stored, err := f.messages.InboundStored(ctx, "twilio", "ATXid_1"); err != nil || stored {
		t.Fatalf("InboundStored of another provider's id = %v, %v; want false", stored, err)
	}
	second, dup, err := f.messages.StoreInbound(ctx, &domain.Message{Provider: "africastalking", ProviderID: "ATXid_1", Phone: "+919800000020", Text: "COMPLAINT leak"})
	must(t, err)
	if !dup || second.ID != first.ID {
		t.Fatalf("second delivery: dup=%v id=%d, want dup of %d", dup, second.ID, first.ID)
	}
	// Same id from another provider is another message.
	_, dup, err = f.messages.StoreInbound(ctx, &domain.Message{Provider: "twilio", ProviderID: "ATXid_1", Phone: "+919800000020", Text: "x"})
	must(t, err)
	if dup {
		t.Fatal("another provider's id was taken for a duplicate")
	}
}

// Reads made inside Atomically see the unit's own writes before it
// commits: the inbox answers a batch of messages in one unit, and a
// STATUS after a RESOLVE in the same batch must report it resolved.
func TestReadsInsideAtomicallySeeTheUnit(t *testing.T) {
	f := newFixture(t)
	c, err := f.complaints.CreateComplaint(ctx, domain.NewComplaint{Kind: domain.KindComplaint, Text: "no water", ReporterPhone: "+919800000020", Channel: domain.ChannelSMS})
	must(t, err)
	const phone = "+919800000030"
	err = f.db.Atomically(ctx, func(ctx context.Context) error {
		if _, err := f.complaints.ChangeComplaint(ctx, c.Ref, domain.ComplaintChange{Status: domain.StatusResolved, Note: "pipe fixed"}, "Sunita"); err != nil {
			return err
		}
		if got, err := f.complaints.ComplaintByRef(ctx, c.Ref); err != nil || got.Status != domain.StatusResolved || got.LatestNote != "pipe fixed" {
			t.Errorf("ComplaintByRef after a change in the unit = %+v, %v; want resolved, pipe fixed", got, err)
		}
		m := &domain.Member{Phone: phone, Name: "Kamla", Lang: "hi"}
		if err := f.members.CreateMember(ctx, m); err != nil {
			return err
		}
		if got, err := f.members.MemberByPhone(ctx, phone); err != nil || got.ID != m.ID {
			t.Errorf("MemberByPhone of a member created in the unit = %+v, %v", got, err)
		}
		if lang, err := f.members.Language(ctx, phone); err != nil || lang != "hi" {
			t.Errorf("Language of a member created in the unit = %q, %v; want hi", lang, err)
		}
		if _, err := f.ledger.Pay(ctx, m.ID); err != nil {
			t.Errorf("Pay of a member created in the unit: %v", err)
		}
		return nil
	})
	must(t, err)
}

func TestSummary(t *testing.T) {
	f := newFixture(t)
	base := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	f.db.Now = func() time.Time { return base }
	task := f.task(t, 100, 100)
	earn := func(m *domain.Member, qty int64, at time.Time) {
		f.db.Now = func() time.Time { return at }
		a, err := f.tasks.AcceptTask(ctx, m.ID, task.ID, qty)
		must(t, err)
		r, err := f.tasks.ReportWork(ctx, m.ID, a.ID, qty)
		must(t, err)
		_, err = f.tasks.ApproveWork(ctx, r.ID, "x")
		must(t, err)
	}
	earn(f.asha, 10, base.AddDate(0, 0, 5))    // previous period
	earn(f.meena, 5, base.AddDate(0, 0, 6))    // previous period only: stopped
	earn(f.asha, 20, base.AddDate(0, 0, 35))   // this period
	earn(f.leader, 30, base.AddDate(0, 0, 36)) // this period

	f.db.Now = func() time.Time { return base.AddDate(0, 0, 40) }
	c, _ := f.complaints.CreateComplaint(ctx, domain.NewComplaint{Kind: domain.KindComplaint, Text: "a", Channel: "sms"})
	f.complaints.CreateComplaint(ctx, domain.NewComplaint{Kind: domain.KindProposal, Text: "b", Channel: "sms"})
	f.db.Now = func() time.Time { return base.AddDate(0, 0, 40).Add(2 * time.Hour) }
	f.complaints.ChangeComplaint(ctx, c.Ref, domain.ComplaintChange{Status: domain.StatusAcknowledged}, "x")
	f.db.Now = func() time.Time { return base.AddDate(0, 0, 41) }
	f.complaints.ChangeComplaint(ctx, c.Ref, domain.ComplaintChange{Status: domain.StatusResolved}, "x")

	s, err := storage.NewReportService(f.db).Summary(ctx, base.AddDate(0, 0, 30), base.AddDate(0, 0, 60))
	must(t, err)
	if s.WomenWithPaidWork != 2 || s.WomenWithPaidWorkBefore != 2 || s.EarningsTotal != 5000 || s.EarningsTotalBefore != 1500 ||
		s.EarningsMedian != 2500 || s.WorkersStopped != 1 || s.ComplaintsVoiced != 1 || s.ProposalsVoiced != 1 || s.Resolved != 1 {
		t.Fatalf("summary = %+v", s)
	}
	if *s.ResolutionRatePct != 50 || *s.MedianHoursToAck != 2 || *s.MedianHoursToResolve != 24 {
		t.Fatalf("rates: %v %v %v", *s.ResolutionRatePct, *s.MedianHoursToAck, *s.MedianHoursToResolve)
	}
	if _, err := storage.NewReportService(f.db).Summary(ctx, base, base); domain.ErrorCode(err) != domain.EINVALID {
		t.Fatalf("empty period: %v", err)
	}
}

func TestTokensStoredAsHash(t *testing.T) {
	f := newFixture(t)
	ts := storage.NewTokenService(f.db)
	secret, tok, err := ts.CreateToken(ctx, domain.TokenLeader, "Sunita")
	must(t, err)
	got, err := ts.Authenticate(ctx, secret)
	must(t, err)
	if got.ID != tok.ID || got.Role != domain.TokenLeader {
		t.Fatalf("authenticated %+v", got)
	}
	_, err = ts.Authenticate(ctx, secret+"x")
	wantCode(t, err, domain.EUNAUTHORIZED)
	_, _, err = ts.CreateToken(ctx, "admin", "x")
	wantCode(t, err, domain.EINVALID)
}

func TestSessionsAndBackup(t *testing.T) {
	f := newFixture(t)
	ss := storage.NewSessionStore(f.db)
	now := time.Now().UTC()
	must(t, ss.SaveSession(ctx, &domain.USSDSession{ID: "s1", Phone: "+919800000002", State: []byte(`{"a":1}`), UpdatedAt: now}))
	must(t, ss.SaveSession(ctx, &domain.USSDSession{ID: "s1", Phone: "+919800000002", State: []byte(`{"a":2}`), UpdatedAt: now}))
	got, err := ss.SessionByID(ctx, "s1")
	must(t, err)
	if string(got.State) != `{"a":2}` {
		t.Fatalf("state = %s", got.State)
	}
	// Another phone cannot take the session over.
	err = ss.SaveSession(ctx, &domain.USSDSession{ID: "s1", Phone: "+919800000003", State: []byte(`{"a":3}`), UpdatedAt: now})
	wantCode(t, err, domain.EINVALID)
	if got, _ := ss.SessionByID(ctx, "s1"); got.Phone != "+919800000002" || string(got.State) != `{"a":2}` {
		t.Fatalf("after another phone's save: %s %s", got.Phone, got.State)
	}
	if _, err := ss.LatestSession(ctx, "+919800000002", now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	_, err = ss.LatestSession(ctx, "+919800000002", now.Add(time.Minute))
	wantCode(t, err, domain.ENOTFOUND)

	dst := filepath.Join(t.TempDir(), "backup.db")
	must(t, f.db.Backup(ctx, dst))
	restored, err := storage.Open(dst)
	must(t, err)
	defer restored.Close()
	m, err := storage.NewMemberService(restored).MemberByPhone(ctx, f.asha.Phone)
	must(t, err)
	if m.Name != "Asha" {
		t.Fatalf("restored member = %+v", m)
	}
	if err := f.db.Backup(ctx, dst); domain.ErrorCode(err) != domain.ECONFLICT {
		t.Fatalf("backup over existing file: %v", err)
	}
}
