package sms_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/karyashala/karyashala/domain"
	"github.com/karyashala/karyashala/ratelimit"
	"github.com/karyashala/karyashala/sms"
	"github.com/karyashala/karyashala/sms/internal/smstest"
	"github.com/karyashala/karyashala/sms/keywords"
	"github.com/karyashala/karyashala/storage"
)

const resident = "+919812345678"

var ctx = context.Background()

// send delivers one message as a carrier would and returns the reply text.
func send(t *testing.T, e *smstest.Env, from, id, text string) *domain.Message {
	t.Helper()
	if err := e.Inbox.Receive(ctx, sms.Inbound{Provider: "test", ProviderID: id, From: from, To: "22384", Text: text}); err != nil {
		t.Fatalf("Receive(%q): %v", text, err)
	}
	out := e.Out(t, from)
	if len(out) == 0 {
		t.Fatalf("no reply to %q", text)
	}
	return out[len(out)-1]
}

func TestCommands(t *testing.T) {
	e := smstest.New(t)
	cases := []struct {
		from, text string
		want       string // the reply, exactly
		lang       string
	}{
		{resident, "COMPLAINT no water in ward 3", "Thank you. Your complaint is C1001. Send STATUS C1001 to follow it.", "en"},
		{resident, "Complain the tap leaks", "Thank you. Your complaint is C1002. Send STATUS C1002 to follow it.", "en"},
		{resident, "COMPLAINT", "Send COMPLAINT and the problem, e.g. COMPLAINT no water in ward 3", "en"},
		{resident, "suggest a bench near the tap", "Thank you. Your proposal is P1. Send STATUS P1 to follow it.", "en"},
		{resident, "सुझाव नल के पास बेंच", "धन्यवाद। सुझाव P2 दर्ज हुआ। जानने हेतु STATUS P2 भेजें", "hi"},
		{resident, "status c-1001", "C1001: received.", "en"},
		{resident, "STATUS #P2", "P2: received.", "en"},
		{resident, "स्थिति C1001", "C1001: दर्ज।", "hi"},
		{resident, "STATUS", "Send STATUS and your reference, e.g. STATUS C1042", "en"},
		{smstest.WorkerPhone, "STATUS C1001", "We found no report C1001 from this number. Check the reference and send it again.", "en"},
		{resident, "STATUS C9999", "We found no report C9999 from this number. Check the reference and send it again.", "en"},
		{resident, "PAY", "This number is not registered as a worker. Ask your union leader to register you.", "en"},
		{smstest.WorkerPhone, "pay", "Pay in INR: earned 0.00, approved 0.00, paid 0.00, balance 0.00.", "en"},
		{smstest.WorkerPhone, "भुगतान", "INR में: कमाई 0.00, मंज़ूर 0.00, मिला 0.00, बाकी 0.00", "hi"},
		{resident, "HELPP", "Karyashala: send COMPLAINT and the problem, IDEA and your proposal, STATUS and the reference (e.g. STATUS C1042), PAY for your pay, STOP to end messages.", "en"},
		{resident, "मदद", "शिकायत/सुझाव + बात लिखें। STATUS C1042, PAY, STOP भी भेज सकते हैं", "hi"},
		{resident, "hello is anyone there", "Karyashala: send COMPLAINT and the problem, IDEA and your proposal, STATUS and the reference (e.g. STATUS C1042), PAY for your pay, STOP to end messages.", "en"},
		{resident, "नमस्ते", "शिकायत/सुझाव + बात लिखें। STATUS C1042, PAY, STOP भी भेज सकते हैं", "hi"},
		{resident, "ACK C1001", "Sorry, only union leaders can use ACK. Send HELP to see what you can do.", "en"},
		{smstest.WorkerPhone, "RESOLVE C1001 fixed", "Sorry, only union leaders can use RESOLVE. Send HELP to see what you can do.", "en"},
	}
	for i, c := range cases {
		got := send(t, e, c.from, "id"+string(rune('a'+i)), c.text)
		if got.Text != c.want || got.Lang != c.lang {
			t.Errorf("%q from %s:\n got %q (%s)\nwant %q (%s)", c.text, c.from, got.Text, got.Lang, c.want, c.lang)
		}
	}
	// the refused leader command changed nothing
	c, err := e.Complaints.ComplaintByRef(ctx, "C1001")
	if err != nil || c.Status != domain.StatusNew || c.Channel != domain.ChannelSMS || c.ReporterPhone != resident {
		t.Fatalf("C1001 = %+v, %v", c, err)
	}
}

// A leader acts from her phone; the reporter is told each time, in the
// language she reported in; a closed report cannot be reopened, a second
// ACK is told the report is acknowledged already, and a note over the
// limit is told so.
func TestLeaderCommands(t *testing.T) {
	e := smstest.New(t)
	send(t, e, resident, "r1", "शिकायत पानी नहीं आ रहा")
	steps := []struct {
		text, reply, notify string
	}{
		{"ack c1001", "C1001 is now acknowledged. The reporter is told by SMS.", "आपका मामला C1001: अब स्वीकार"},
		// still open: it can change, it just is acknowledged already
		{"ACK C1001", "C1001 is already acknowledged. Nothing changed.", ""},
		{"NOTE C1001 plumber coming Tuesday", "Note added to C1001. The reporter is told by SMS.", "आपका मामला C1001: अब स्वीकार। plumber coming Tuesday"},
		{"NOTE C1001", "Send NOTE, the reference and a note, e.g. NOTE C1042 pipe fixed", ""},
		{"NOTE C1001 " + strings.Repeat("a", 501), "Your note is too long: 500 characters at most. Send NOTE C1001 again with a shorter note.", ""},
		{"NOTE C1001 " + strings.Repeat("न", 500), "Note added to C1001. The reporter is told by SMS.", "आपका मामला C1001: अब स्वीकार। " + strings.Repeat("न", 500)},
		{"RESOLVE #C-1001 pipe fixed", "C1001 is now resolved. The reporter is told by SMS.", "आपका मामला C1001: अब हल। pipe fixed"},
		{"REJECT C1001 not in our area", "C1001 is already resolved and cannot change now.", ""},
		{"ACK C4040", "There is no report C4040. Check the reference and send it again.", ""},
		{"RESOLVE pipe fixed", "Send RESOLVE, the reference and a note, e.g. RESOLVE C1042 pipe fixed", ""},
	}
	for i, s := range steps {
		before := len(e.Out(t, resident))
		got := send(t, e, smstest.LeaderPhone, "l"+string(rune('a'+i)), s.text)
		if got.Text != s.reply {
			t.Errorf("%q: reply %q, want %q", s.text, got.Text, s.reply)
		}
		out := e.Out(t, resident)
		switch {
		case s.notify == "" && len(out) != before:
			t.Errorf("%q: the reporter was notified: %q", s.text, out[len(out)-1].Text)
		case s.notify != "" && (len(out) != before+1 || out[len(out)-1].Text != s.notify || out[len(out)-1].Lang != "hi"):
			t.Errorf("%q: reporter's messages %d -> %d, last %q; want %q", s.text, before, len(out), out[len(out)-1].Text, s.notify)
		}
	}
	c, _ := e.Complaints.ComplaintByRef(ctx, "C1001")
	if c.Status != domain.StatusResolved || c.LatestNote != "pipe fixed" || !strings.Contains(c.History[len(c.History)-1].Actor, "Sunita") {
		t.Fatalf("C1001 = %s %q, last actor %q", c.Status, c.LatestNote, c.History[len(c.History)-1].Actor)
	}
	// the reporter now sees the note
	if got := send(t, e, resident, "r2", "STATUS C1001"); got.Text != "C1001: resolved. pipe fixed" {
		t.Errorf("status after resolve = %q", got.Text)
	}
}

// A one-edit guess at a leader command is only taken from a leader and
// only with a reference after it; from anyone else it is answered as a text
// with no keyword, so a resident whose complaint starts "Not working" is
// told how to send it rather than that only leaders can use NOTE. An exact
// leader keyword from a non-leader is still refused by name.
func TestFuzzyLeaderCommands(t *testing.T) {
	e := smstest.New(t)
	send(t, e, resident, "r0", "COMPLAINT no water in ward 3")
	help := send(t, e, resident, "r1", "hello").Text
	for i, text := range []string{"Not working handpump in ward 5", "NOT C1001 checked", "Eject C1001 from the list?"} {
		if got := send(t, e, resident, fmt.Sprintf("r%d", i+2), text); got.Text != help {
			t.Errorf("resident's %q answered %q, want the help reply", text, got.Text)
		}
	}
	if got := send(t, e, resident, "r9", "NOTE C1001 checked"); got.Text != "Sorry, only union leaders can use NOTE. Send HELP to see what you can do." {
		t.Errorf("resident's exact NOTE answered %q", got.Text)
	}

	help = send(t, e, smstest.LeaderPhone, "l0", "hello").Text // in her language, Hindi
	if got := send(t, e, smstest.LeaderPhone, "l1", "Eject the broken tap"); got.Text != help {
		t.Errorf("leader's %q answered %q, want the help reply", "Eject the broken tap", got.Text)
	}
	if c, _ := e.Complaints.ComplaintByRef(ctx, "C1001"); c.Status != domain.StatusNew || c.LatestNote != "" {
		t.Fatalf("C1001 changed by texts that are no command: %s %q", c.Status, c.LatestNote)
	}
	// the rule takes a leader's one-edit guess that names a reference
	if got := send(t, e, smstest.LeaderPhone, "l2", "NOT C1001 checked"); got.Text != "Note added to C1001. The reporter is told by SMS." {
		t.Errorf("leader's %q answered %q", "NOT C1001 checked", got.Text)
	}
	if c, _ := e.Complaints.ComplaintByRef(ctx, "C1001"); c.Status != domain.StatusNew || c.LatestNote != "checked" {
		t.Errorf("C1001 after the leader's NOT = %s %q, want a note %q", c.Status, c.LatestNote, "checked")
	}
}

// A leader whose change cannot reach the reporter, because she sent STOP,
// is told so instead of "The reporter is told by SMS", also when the STOP
// and the change are answered in the same batch.
func TestLeaderToldReporterSentStop(t *testing.T) {
	e := smstest.New(t)
	send(t, e, resident, "r1", "COMPLAINT no water in ward 3")
	for _, id := range []string{"r2", "l1"} {
		from, text := resident, "STOP"
		if id == "l1" {
			from, text = smstest.LeaderPhone, "ACK C1001"
		}
		if err := e.Inbox.Receive(ctx, sms.Inbound{Provider: "test", ProviderID: id, From: from, To: "22384", Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	out := e.Out(t, smstest.LeaderPhone)
	if got := out[len(out)-1].Text; got != "C1001 is now acknowledged. The reporter sent STOP, so she gets no SMS about it; tell her another way." {
		t.Errorf("ACK after the reporter's STOP answered %q", got)
	}
	if got := send(t, e, smstest.LeaderPhone, "l2", "NOTE C1001 tanker on Friday"); got.Text != "Note added to C1001. The reporter sent STOP, so she gets no SMS about it; tell her another way." {
		t.Errorf("NOTE after the reporter's STOP answered %q", got.Text)
	}
	send(t, e, resident, "r3", "START")
	if got := send(t, e, smstest.LeaderPhone, "l3", "RESOLVE C1001 tanker came"); got.Text != "C1001 is now resolved. The reporter is told by SMS." {
		t.Errorf("RESOLVE after the reporter's START answered %q", got.Text)
	}
}

// After STOP nothing reaches the phone but the one confirmation, until
// START; STOP inside a sentence is not an opt-out.
func TestOptOut(t *testing.T) {
	e := smstest.New(t)
	send(t, e, resident, "s0", "COMPLAINT broken pipe")
	// its reply met a carrier's 503 and waits for a retry
	if m, err := e.Outbox.ClaimNext(ctx, "test"); err != nil {
		t.Fatal(err)
	} else if err := e.Outbox.Retry(ctx, m.ID, time.Now().Add(time.Minute), "test answered 503"); err != nil {
		t.Fatal(err)
	}
	if got := send(t, e, resident, "s1", "stop the noise near the school"); !strings.HasPrefix(got.Text, "Karyashala: send COMPLAINT") {
		t.Fatalf("STOP in a sentence: %q", got.Text)
	}
	if opted, _ := e.Messages.IsOptedOut(ctx, resident); opted {
		t.Fatal("opted out by a sentence starting with STOP")
	}
	got := send(t, e, resident, "s2", "STOP")
	if got.Status != domain.MsgQueued || got.Text != "You will get no more messages from Karyashala. Send START to get them again." {
		t.Fatalf("STOP confirmation = %+v", got)
	}
	// a reply and a leader's notification are recorded, not sent
	if got := send(t, e, resident, "s3", "HELP"); got.Status != domain.MsgFailed || got.Error != "opted out" {
		t.Fatalf("reply after STOP = %s %q", got.Status, got.Error)
	}
	send(t, e, smstest.LeaderPhone, "s4", "ACK C1001")
	if got := e.Out(t, resident); got[len(got)-1].Status != domain.MsgFailed {
		t.Fatalf("notification after STOP = %+v", got[len(got)-1])
	}
	// and the outbox has only the confirmation to send: the replies queued
	// before STOP were failed by it
	var sent []string
	for {
		m, err := e.Outbox.ClaimNext(ctx, "test")
		if err != nil {
			break
		}
		if m.Phone == resident {
			sent = append(sent, m.Text)
		}
	}
	if len(sent) != 1 || !strings.HasPrefix(sent[0], "You will get no more messages") {
		t.Fatalf("after STOP the outbox sent %q to the phone; want only the confirmation", sent)
	}
	for _, m := range e.Out(t, resident)[:2] {
		if m.Status != domain.MsgFailed || m.Error != storage.OptedOutNote {
			t.Errorf("reply %q queued before STOP = %s %q; want failed %q", m.Text, m.Status, m.Error, storage.OptedOutNote)
		}
	}
	if got := send(t, e, resident, "s5", "START"); got.Status != domain.MsgQueued || !strings.HasPrefix(got.Text, "Messages are on again") {
		t.Fatalf("START reply = %+v", got)
	}
}

// A byte-order mark or zero-width space around STOP, as some phones and
// gateways send it, is still an opt-out.
func TestOptOutWithInvisibleCharacters(t *testing.T) {
	e := smstest.New(t)
	for i, text := range []string{"\ufeffSTOP", "STOP\u200b"} {
		phone := fmt.Sprintf("+91981234560%d", i)
		got := send(t, e, phone, fmt.Sprintf("inv%d", i), text)
		if opted, _ := e.Messages.IsOptedOut(ctx, phone); !opted || !strings.HasPrefix(got.Text, "You will get no more messages") {
			t.Errorf("%+q: opted out %v, reply %q", text, opted, got.Text)
		}
	}
}

// In a programme whose only language is Hindi, STOP still opts out and is
// confirmed in Hindi, and a leader's RESOLVE works and is answered in Hindi.
func TestHindiOnlyProgramme(t *testing.T) {
	e := smstest.New(t)
	kw, err := keywords.Load("", []string{"hi"})
	if err != nil {
		t.Fatalf("built-in keywords for [hi]: %v", err)
	}
	e.Inbox.Keywords = kw
	send(t, e, resident, "h0", "शिकायत नल टूटा")
	if got := send(t, e, smstest.LeaderPhone, "h1", "RESOLVE C1001 नल ठीक"); got.Text != "C1001 अब हल है। शिकायतकर्ता को SMS भेजा जाएगा" || got.Lang != "hi" {
		t.Errorf("RESOLVE in [hi] answered %q (%s)", got.Text, got.Lang)
	}
	got := send(t, e, resident, "h2", "STOP")
	if opted, _ := e.Messages.IsOptedOut(ctx, resident); !opted || got.Text != "अब आपको संदेश नहीं आएँगे। फिर शुरू करने के लिए START भेजें" || got.Lang != "hi" {
		t.Errorf("STOP in [hi]: opted out %v, reply %q (%s)", opted, got.Text, got.Lang)
	}
}

// Deliveries of one message racing each other, and answerers racing each
// other, handle it once: one complaint, one reply, since the message is
// stored once and marking it answered, handling it and replying are one
// unit, done only by the unit that marks it first.
func TestConcurrentRedeliveriesHandledOnce(t *testing.T) {
	e := smstest.New(t)
	e.Inbox.Limit = ratelimit.PerMinute(100) // its look for a stored copy races too
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := e.Inbox.Receive(ctx, sms.Inbound{Provider: "test", ProviderID: "race1", From: resident, To: "384", Text: "COMPLAINT no light in lane 2"}); err != nil {
				t.Error(err)
			}
			if _, err := e.Inbox.HandlePending(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	out := e.Out(t, resident)
	cs, _, _ := e.Complaints.FindComplaints(ctx, domain.ComplaintFilter{})
	if len(cs) != 1 || len(out) != 1 || out[0].Text != "Thank you. Your complaint is C1001. Send STATUS C1001 to follow it." {
		t.Fatalf("%d complaints, %d replies (%+v); want 1 and 1", len(cs), len(out), out)
	}
}

func TestNotifyTextSegments(t *testing.T) {
	e := smstest.New(t)
	for _, lang := range []string{"en", "hi"} {
		for _, st := range domain.ValidStatuses {
			text := e.Inbox.NotifyText(&domain.Complaint{Ref: "C100000", Lang: lang, Status: st}, &domain.ComplaintEvent{ToStatus: st})
			if n, _ := domain.SMSSegments(text); n != 1 {
				t.Errorf("%s %s notification %q is %d segments", lang, st, text, n)
			}
		}
	}
}

// A message is durable, and waiting, as soon as Receive returns; Run
// answers what is waiting when it starts (what a killed process left) and
// what arrives while it runs.
func TestRunAnswersWaitingMessages(t *testing.T) {
	e := smstest.New(t)
	e.Inbox.Poll = 20 * time.Millisecond
	receive := func(id, text string) {
		t.Helper()
		if err := e.Inbox.Receive(ctx, sms.Inbound{Provider: "test", ProviderID: id, From: resident, To: "384", Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	receive("w1", "COMPLAINT no water")
	if n, err := e.Messages.Backlog(ctx); err != nil || n != 1 {
		t.Fatalf("backlog = %d, %v; want 1", n, err)
	}
	if out := e.Count(t, domain.MessageFilter{Direction: domain.DirOut}); out != 0 {
		t.Fatalf("%d replies before Run", out)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { e.Inbox.Run(runCtx); close(done) }()
	defer func() { stop(); <-done }()
	receive("w2", "STATUS C1001")
	waitFor(t, "the backlog to empty", func() bool { n, _ := e.Messages.Backlog(ctx); return n == 0 })
	out := e.Count(t, domain.MessageFilter{Direction: domain.DirOut, Phone: resident})
	if out != 2 {
		t.Fatalf("%d replies, want 2", out)
	}
	in, _, _ := e.Messages.FindMessages(ctx, domain.MessageFilter{Direction: domain.DirIn, Phone: resident})
	for _, m := range in {
		if m.HandledAt == nil || m.Error != "" {
			t.Errorf("message %d: handled_at %v, error %q", m.ID, m.HandledAt, m.Error)
		}
	}
}

// A message answered in a batch sees what the messages before it in the
// batch changed: a STATUS after a RESOLVE reports it resolved, and a
// REJECT after it is told the report is closed.
func TestBatchSeesEarlierChanges(t *testing.T) {
	e := smstest.New(t)
	send(t, e, resident, "b0", "COMPLAINT no water") // C1001, answered
	for i, m := range []struct{ from, text string }{
		{smstest.LeaderPhone, "RESOLVE C1001 pipe fixed"},
		{resident, "STATUS C1001"},
		{smstest.LeaderPhone, "REJECT C1001 not ours"},
	} {
		if err := e.Inbox.Receive(ctx, sms.Inbound{Provider: "test", ProviderID: fmt.Sprint("b", i+1), From: m.from, To: "384", Text: m.text}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := e.Inbox.HandlePending(ctx); err != nil || n != 3 {
		t.Fatalf("HandlePending = %d, %v; want 3 in one batch", n, err)
	}
	if out := e.Out(t, resident); out[len(out)-1].Text != "C1001: resolved. pipe fixed" {
		t.Errorf("STATUS after RESOLVE in the same batch = %q", out[len(out)-1].Text)
	}
	if out := e.Out(t, smstest.LeaderPhone); out[len(out)-1].Text != "C1001 is already resolved and cannot change now." {
		t.Errorf("REJECT after RESOLVE in the same batch = %q", out[len(out)-1].Text)
	}
}

// Messages answered in one batch are answered in the order they came: a
// STOP takes effect for the complaint's reply queued before it and for
// the HELP after it.
func TestBatchKeepsOrder(t *testing.T) {
	e := smstest.New(t)
	for i, text := range []string{"COMPLAINT dark stairs", "STOP", "HELP"} {
		if err := e.Inbox.Receive(ctx, sms.Inbound{Provider: "test", ProviderID: fmt.Sprint("o", i), From: resident, To: "384", Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := e.Inbox.HandlePending(ctx); err != nil || n != 3 {
		t.Fatalf("HandlePending = %d, %v; want 3 in one batch", n, err)
	}
	out := e.Out(t, resident)
	if len(out) != 3 || out[0].Error != storage.OptedOutNote || out[1].Status != domain.MsgQueued || out[2].Error != "opted out" {
		for _, m := range out {
			t.Logf("%s %q %q", m.Status, m.Error, m.Text)
		}
		t.Fatal("want the complaint's reply failed by the STOP, STOP's queued and HELP's refused (opted out)")
	}
}

// failingComplaints fails every complaint whose text contains "poison"
// after storing it, as a fault half-way through would.
type failingComplaints struct{ domain.ComplaintService }

func (f failingComplaints) CreateComplaint(ctx context.Context, n domain.NewComplaint) (*domain.Complaint, error) {
	c, err := f.ComplaintService.CreateComplaint(ctx, n)
	if err == nil && strings.Contains(n.Text, "poison") {
		return nil, errors.New("disk on fire")
	}
	return c, err
}

// A message that cannot be answered is marked with the reason and left:
// what it half did is undone, and the messages behind it are answered.
func TestUnanswerableMessageDoesNotBlock(t *testing.T) {
	e := smstest.New(t)
	e.Inbox.Complaints = failingComplaints{e.Complaints}
	for i, text := range []string{"COMPLAINT first", "COMPLAINT poison", "COMPLAINT third"} {
		if err := e.Inbox.Receive(ctx, sms.Inbound{Provider: "test", ProviderID: fmt.Sprint("p", i), From: resident, To: "384", Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	e.Drain(t)
	out := e.Out(t, resident)
	if len(out) != 2 || !strings.Contains(out[0].Text, "C1001") || !strings.Contains(out[1].Text, "C1002") {
		t.Fatalf("replies %+v; want C1001 and C1002", out)
	}
	in, _, _ := e.Messages.FindMessages(ctx, domain.MessageFilter{Direction: domain.DirIn, Phone: resident})
	for _, m := range in {
		poison := strings.Contains(m.Text, "poison")
		if m.HandledAt == nil || poison != strings.Contains(m.Error, "disk on fire") {
			t.Errorf("%q: handled_at %v, error %q", m.Text, m.HandledAt, m.Error)
		}
	}
	if n, _ := e.Messages.Backlog(ctx); n != 0 {
		t.Fatalf("backlog %d after drain", n)
	}
	if cs, _, _ := e.Complaints.FindComplaints(ctx, domain.ComplaintFilter{}); len(cs) != 2 {
		t.Fatalf("%d complaints stored, want 2 (the poisoned one undone)", len(cs))
	}
}

// recordingAtomic notes whether each unit it is given may wait for other
// writes.
type recordingAtomic struct {
	domain.Atomic
	deferrable []bool
}

func (a *recordingAtomic) Atomically(ctx context.Context, fn func(ctx context.Context) error) error {
	a.deferrable = append(a.deferrable, domain.IsDeferrable(ctx))
	return a.Atomic.Atomically(ctx, fn)
}

// Answering stored messages is deferrable work: it waits while carriers'
// callbacks are being stored.
func TestAnswersAreDeferrable(t *testing.T) {
	e := smstest.New(t)
	rec := &recordingAtomic{Atomic: e.Inbox.Atomic}
	e.Inbox.Atomic = rec
	if err := e.Inbox.Receive(ctx, sms.Inbound{Provider: "test", ProviderID: "d1", From: resident, To: "384", Text: "COMPLAINT dark stairs"}); err != nil {
		t.Fatal(err)
	}
	if n, err := e.Inbox.HandlePending(ctx); err != nil || n != 1 {
		t.Fatalf("HandlePending = %d, %v; want 1", n, err)
	}
	if len(rec.deferrable) == 0 || !rec.deferrable[0] {
		t.Fatalf("the inbox's units, deferrable: %v; want the answering unit marked", rec.deferrable)
	}
}

// The limit counts the sender's number once parsed, so the ways a carrier
// may write one number share one budget; a refused message is ELIMITED and
// not stored, and other numbers are served as usual.
func TestReceiveLimitsEachNumber(t *testing.T) {
	e := smstest.New(t)
	e.Inbox.Limit = ratelimit.PerMinute(2)
	for i, from := range []string{"+91 98123 45678", "09812345678", "919812345678", "+919812345678"} {
		err := e.Inbox.Receive(ctx, sms.Inbound{Provider: "test", ProviderID: fmt.Sprint("lim", i), From: from, To: "384", Text: "COMPLAINT lift broken"})
		if i < 2 && err != nil {
			t.Fatalf("message %d from %q: %v, want it stored", i+1, from, err)
		}
		if i >= 2 && domain.ErrorCode(err) != domain.ELIMITED {
			t.Fatalf("message %d from %q: %v, want %s", i+1, from, err, domain.ELIMITED)
		}
	}
	if n := e.Count(t, domain.MessageFilter{Direction: domain.DirIn, Phone: resident}); n != 2 {
		t.Fatalf("%d inbound messages stored for %s, want the 2 within the limit", n, resident)
	}
	if err := e.Inbox.Receive(ctx, sms.Inbound{Provider: "test", ProviderID: "other", From: smstest.WorkerPhone, To: "384", Text: "PAY"}); err != nil {
		t.Fatalf("another number was limited: %v", err)
	}
}

// A carrier's redelivery of a message already stored (it lost our 200) is
// answered as stored even when its sender is at the limit, and spends none
// of the sender's budget.
func TestReceiveRedeliveryIsNotLimited(t *testing.T) {
	e := smstest.New(t)
	e.Inbox.Limit = ratelimit.PerMinute(2)
	receive := func(id string) error {
		return e.Inbox.Receive(ctx, sms.Inbound{Provider: "test", ProviderID: id, From: resident, To: "384", Text: "COMPLAINT lift broken"})
	}
	if err := receive("m0"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := receive("m0"); err != nil {
			t.Fatalf("redelivery %d of a stored message: %v; want it answered as stored", i+1, err)
		}
	}
	if err := receive("m1"); err != nil {
		t.Fatalf("second new message: %v; the redeliveries spent the sender's budget", err)
	}
	if err := receive("m1"); err != nil {
		t.Fatalf("redelivery at the limit: %v; want it answered as stored", err)
	}
	if err := receive("m2"); domain.ErrorCode(err) != domain.ELIMITED {
		t.Fatalf("third new message: %v, want %s", err, domain.ELIMITED)
	}
	if n := e.Count(t, domain.MessageFilter{Direction: domain.DirIn, Phone: resident}); n != 2 {
		t.Fatalf("%d inbound messages stored, want 2", n)
	}
}
