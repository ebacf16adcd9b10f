package sms

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/karyashala/karyashala/domain"
	"github.com/karyashala/karyashala/metrics"
	"github.com/karyashala/karyashala/sms/keywords"
)

var _ Receiver = (*Inbox)(nil)

// Inbox stores inbound messages and answers their keywords, as two steps.
// A carrier's callback waits only for the first, one durable INSERT, so it
// is answered 200 quickly however long the answers take; Run then answers
// the stored messages in order, each as one atomic unit (marked answered,
// what it asked for done, its reply queued), so a crash leaves a message
// either answered whole or waiting to be, and nothing answered twice. The
// reply itself leaves through the outbox.
type Inbox struct {
	// Atomic makes each message's writes one unit (storage.DB).
	Atomic     domain.Atomic
	Messages   domain.MessageService
	Outbox     domain.Outbox
	Complaints domain.ComplaintService
	Members    domain.MemberService
	Ledger     domain.LedgerService
	Keywords   *keywords.Set
	// Region reads numbers written without a country code; Currency is the
	// currency of pay figures.
	Region   string
	Currency string
	// Kick, when set, is called after replies are queued, to wake a sender
	// instead of waiting for its next poll.
	Kick func()
	// Batch is how many messages one write answers (default 32): more is
	// cheaper per message, fewer keeps the callbacks that share the writer
	// waiting less. Poll is how often an idle Run looks for messages it was
	// not woken for (default 1s).
	Batch int
	Poll  time.Duration
	// Limit, when set, is asked for every new inbound message whether its
	// sender (E.164) may send one more; a refused message is not stored
	// and Receive returns ELIMITED, which the carrier gets as 429. A
	// redelivery of a stored message is not asked about: it is answered
	// as stored and costs its sender nothing.
	Limit interface{ Allow(phone string) bool }

	once sync.Once
	wake chan struct{}
}

func (in *Inbox) init() {
	in.once.Do(func() {
		in.wake = make(chan struct{}, 1)
		if in.Batch <= 0 {
			in.Batch = 32
		}
		if in.Poll <= 0 {
			in.Poll = time.Second
		}
	})
}

// reply is what a command answers.
type reply struct {
	text  string
	lang  string
	force bool // sent even to an opted-out phone: the STOP confirmation
}

// Receive stores the message, once per provider id, and wakes Run to answer
// it. It returns once the message is durable; a redelivery of a stored
// message changes nothing.
func (in *Inbox) Receive(ctx context.Context, msg Inbound) error {
	in.init()
	phone, err := checkInbound(&msg, in.Region)
	if err != nil {
		return err
	}
	if in.Limit != nil {
		// A carrier redelivers a message whose 200 it did not get; it is
		// stored, and refusing it would tell the carrier it is not.
		stored, err := in.Messages.InboundStored(ctx, msg.Provider, msg.ProviderID)
		if err != nil {
			return fmt.Errorf("store inbound sms: %w", err)
		}
		if !stored && !in.Limit.Allow(phone) {
			metrics.Inc("rate_limited")
			return domain.Errorf(domain.ELIMITED, "too many messages from this number in the last minute; later messages are accepted again")
		}
	}
	_, dup, err := in.Messages.StoreInbound(ctx, &domain.Message{
		Provider: msg.Provider, ProviderID: msg.ProviderID, Phone: phone, Peer: msg.To, Text: msg.Text,
	})
	if err != nil {
		return fmt.Errorf("store inbound sms: %w", err)
	}
	if dup {
		metrics.Inc("sms_in_duplicate")
		return nil
	}
	metrics.Inc("sms_in")
	select {
	case in.wake <- struct{}{}:
	default:
	}
	return nil
}

// Run answers stored messages until ctx is done: at once when Receive
// wakes it, and every Poll for any it missed (those a previous process
// stored and did not answer, say). A batch under way is finished first.
func (in *Inbox) Run(ctx context.Context) {
	in.init()
	var counted time.Time
	for {
		n, err := in.HandlePending(context.WithoutCancel(ctx))
		if err != nil {
			slog.Error("answer inbound sms; trying again", "err", err, "in", in.Poll)
		}
		// The gauge is a count over the waiting messages: at most once a
		// second while busy.
		if n < in.Batch || time.Since(counted) >= time.Second {
			if w, err := in.Messages.Backlog(ctx); err == nil {
				metrics.InboxWaiting.Set(float64(w))
				counted = time.Now()
			}
		}
		if err == nil && n == in.Batch {
			if ctx.Err() != nil {
				return
			}
			continue // there may be more waiting
		}
		select {
		case <-ctx.Done():
			return
		case <-in.wake:
		case <-time.After(in.Poll):
		}
	}
}

// HandlePending answers up to Batch waiting messages, oldest first, in one
// write, and returns how many it took off the queue. Each message is a
// unit of its own inside it: one that cannot be answered (an internal
// error) is marked answered with the error, logged, and left without a
// reply, so it cannot block the messages behind it.
func (in *Inbox) HandlePending(ctx context.Context) (int, error) {
	in.init()
	ms, err := in.Messages.Unhandled(ctx, in.Batch)
	if err != nil || len(ms) == 0 {
		return 0, err
	}
	// Keywords are matched before the write: it runs on the single writer,
	// so only database work belongs inside it.
	matches := make([]keywords.Match, len(ms))
	for i, m := range ms {
		matches[i] = in.Keywords.Match(m.Text)
	}
	type failure struct {
		m   *domain.Message
		err error
	}
	var handled int
	var failed []failure
	// The answers wait while carriers' callbacks are being stored: they
	// are what a carrier waits on (see domain.Deferrable).
	err = in.Atomic.Atomically(domain.Deferrable(ctx), func(ctx context.Context) error {
		handled, failed = 0, nil
		for i, m := range ms {
			first := false
			err := in.Atomic.Atomically(ctx, func(ctx context.Context) error {
				var err error
				if first, err = in.Messages.MarkHandled(ctx, m.ID, ""); err != nil || !first {
					return err
				}
				return in.answer(ctx, m, matches[i])
			})
			if err != nil {
				failed = append(failed, failure{m, err})
				if first, err = in.Messages.MarkHandled(ctx, m.ID, "not answered: "+err.Error()); err != nil {
					return err
				}
			}
			if first {
				handled++
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, f := range failed {
		slog.Error("inbound sms could not be answered", "msg_id", f.m.ID, "phone", domain.MaskPhone(f.m.Phone), "err", f.err)
	}
	metrics.Add("sms_in_failed", len(failed))
	metrics.Add("sms_in_answered", handled-len(failed))
	if handled > len(failed) && in.Kick != nil {
		in.Kick()
	}
	return handled, nil
}

// answer runs the command of one stored message and queues its reply.
func (in *Inbox) answer(ctx context.Context, m *domain.Message, match keywords.Match) error {
	r, err := in.handle(ctx, m, match)
	if err != nil {
		return fmt.Errorf("answer sms %d: %w", m.ID, err)
	}
	out := &domain.Message{Provider: m.Provider, Phone: m.Phone, Peer: m.Peer, Text: r.text, Lang: r.lang, ReplyTo: m.ID}
	if err := in.Messages.Enqueue(ctx, out, r.force); err != nil {
		return fmt.Errorf("queue reply to sms %d: %w", m.ID, err)
	}
	return nil
}

// Report applies a delivery report; unknown messages are only logged.
func (in *Inbox) Report(ctx context.Context, r domain.DeliveryReport) error {
	m, err := in.Outbox.ApplyReport(ctx, r)
	if domain.ErrorCode(err) == domain.ENOTFOUND {
		slog.Warn("delivery report for an unknown message", "provider", r.Provider, "provider_id", r.ProviderID, "msg_id", r.MessageID, "status", r.Status)
		return nil
	} else if err != nil {
		return err
	}
	metrics.Inc("sms_report_" + r.Status)
	slog.Debug("delivery report", "provider", r.Provider, "msg_id", m.ID, "status", m.Status, "reason", r.Reason)
	return nil
}

// NotifyText is the SMS a reporter gets when a leader changes her report,
// in her language; the storage complaint service calls it in the same
// transaction as the change.
func (in *Inbox) NotifyText(c *domain.Complaint, ev *domain.ComplaintEvent) string {
	lang := c.Lang
	status := in.Keywords.Reply(lang, "state_"+c.Status)
	if ev.Note == "" {
		return in.Keywords.Reply(lang, "notify", "ref", c.Ref, "status", status)
	}
	return in.Keywords.Reply(lang, "notify_note", "ref", c.Ref, "status", status, "note", ev.Note)
}

// handle runs the command the message's first word selects. Only internal
// errors come back as errors; everything a sender can get wrong becomes a
// reply that says what to do.
func (in *Inbox) handle(ctx context.Context, m *domain.Message, match keywords.Match) (reply, error) {
	lang := match.Lang
	r := func(key string, vars ...string) (reply, error) {
		return reply{text: in.Keywords.Reply(lang, key, vars...), lang: lang}, nil
	}
	switch match.Command {
	case keywords.Complaint, keywords.Idea:
		return in.create(ctx, m, match)
	case keywords.Status:
		return in.status(ctx, m, match)
	case keywords.Pay:
		return in.pay(ctx, m, lang)
	case keywords.Stop:
		if err := in.Messages.OptOut(ctx, m.Phone); err != nil {
			return reply{}, err
		}
		metrics.Inc("sms_opt_out")
		slog.Info("sms opt-out", "phone", domain.MaskPhone(m.Phone))
		rep, _ := r("stop")
		rep.force = true
		return rep, nil
	case keywords.Start:
		if err := in.Messages.OptIn(ctx, m.Phone); err != nil {
			return reply{}, err
		}
		metrics.Inc("sms_opt_in")
		return r("start")
	case keywords.Ack, keywords.Note, keywords.Resolve, keywords.Reject:
		return in.leader(ctx, m, match)
	case keywords.Help:
		return r("help")
	}
	// No keyword: the help reply, in the script's language when the word is
	// not Latin, else in the language this phone chose before.
	if !hasNonLatinLetter(match.Word) {
		if l, err := in.Members.Language(ctx, m.Phone); err == nil && in.Keywords.HasLang(l) {
			lang = l
		}
	}
	metrics.Inc("sms_unknown_keyword")
	return r("help")
}

func (in *Inbox) create(ctx context.Context, m *domain.Message, match keywords.Match) (reply, error) {
	kind, created, usage := domain.KindComplaint, "complaint_created", "complaint_usage"
	if match.Command == keywords.Idea {
		kind, created, usage = domain.KindProposal, "proposal_created", "proposal_usage"
	}
	if match.Args == "" {
		return reply{text: in.Keywords.Reply(match.Lang, usage), lang: match.Lang}, nil
	}
	c, err := in.Complaints.CreateComplaint(ctx, domain.NewComplaint{
		Kind: kind, Text: match.Args, ReporterPhone: m.Phone, Channel: domain.ChannelSMS, Lang: match.Lang,
	})
	if domain.ErrorCode(err) == domain.EINVALID {
		return reply{text: in.Keywords.Reply(match.Lang, usage), lang: match.Lang}, nil
	} else if err != nil {
		return reply{}, err
	}
	metrics.Inc("complaint_created")
	slog.Info("sms report recorded", "ref", c.Ref, "phone", domain.MaskPhone(m.Phone))
	return reply{text: in.Keywords.Reply(match.Lang, created, "ref", c.Ref), lang: match.Lang}, nil
}

func (in *Inbox) status(ctx context.Context, m *domain.Message, match keywords.Match) (reply, error) {
	lang := match.Lang
	ref, _, ok := domain.CutRef(match.Args)
	if !ok {
		return reply{text: in.Keywords.Reply(lang, "status_usage"), lang: lang}, nil
	}
	c, err := in.Complaints.ComplaintByRef(ctx, ref)
	if domain.ErrorCode(err) == domain.ENOTFOUND || err == nil && c.ReporterPhone != m.Phone {
		return reply{text: in.Keywords.Reply(lang, "status_not_found", "ref", ref), lang: lang}, nil
	} else if err != nil {
		return reply{}, err
	}
	status := in.Keywords.Reply(lang, "state_"+c.Status)
	if c.LatestNote == "" {
		return reply{text: in.Keywords.Reply(lang, "status", "ref", c.Ref, "status", status), lang: lang}, nil
	}
	return reply{text: in.Keywords.Reply(lang, "status_note", "ref", c.Ref, "status", status, "note", c.LatestNote), lang: lang}, nil
}

func (in *Inbox) pay(ctx context.Context, m *domain.Message, lang string) (reply, error) {
	mem, err := in.Members.MemberByPhone(ctx, m.Phone)
	if domain.ErrorCode(err) == domain.ENOTFOUND {
		return reply{text: in.Keywords.Reply(lang, "pay_not_member"), lang: lang}, nil
	} else if err != nil {
		return reply{}, err
	}
	p, err := in.Ledger.Pay(ctx, mem.ID)
	if err != nil {
		return reply{}, err
	}
	f := func(minor int64) string { return domain.FormatMinor(minor, in.Currency) }
	return reply{text: in.Keywords.Reply(lang, "pay", "currency", in.Currency,
		"earned", f(p.Earned), "approved", f(p.Approved), "paid", f(p.Paid), "balance", f(p.Balance)), lang: lang}, nil
}

// leaderStatus is the state each leader command moves a report to; NOTE
// only adds a note.
var leaderStatus = map[string]string{
	keywords.Ack:     domain.StatusAcknowledged,
	keywords.Note:    "",
	keywords.Resolve: domain.StatusResolved,
	keywords.Reject:  domain.StatusRejected,
}

func (in *Inbox) leader(ctx context.Context, m *domain.Message, match keywords.Match) (reply, error) {
	lang := match.Lang
	say := func(key string, vars ...string) (reply, error) {
		return reply{text: in.Keywords.Reply(lang, key, vars...), lang: lang}, nil
	}
	kw := strings.ToUpper(match.Keyword)
	mem, err := in.Members.MemberByPhone(ctx, m.Phone)
	if err != nil && domain.ErrorCode(err) != domain.ENOTFOUND {
		return reply{}, err
	}
	if err != nil || mem.Role != domain.RoleLeader || mem.Status != domain.MemberActive {
		if match.Fuzzy {
			// "NOT C1042 done" from a resident is her sentence, not a
			// misspelt NOTE: she gets what any text without a keyword gets.
			return in.handle(ctx, m, in.Keywords.Unmatched(match))
		}
		slog.Info("leader command from a non-leader", "phone", domain.MaskPhone(m.Phone), "command", match.Command)
		return say("leader_only", "keyword", kw)
	}
	ref, note, ok := domain.CutRef(match.Args)
	status := leaderStatus[match.Command]
	if !ok || match.Command == keywords.Note && note == "" {
		return say("leader_usage", "keyword", kw)
	}
	if utf8.RuneCountInString(note) > domain.MaxNoteChars {
		return say("leader_long_note", "keyword", kw, "ref", ref, "max", strconv.Itoa(domain.MaxNoteChars))
	}
	actor := strings.TrimSpace(mem.Name + " " + m.Phone)
	c, err := in.Complaints.ChangeComplaint(ctx, ref, domain.ComplaintChange{Status: status, Note: note}, actor)
	switch domain.ErrorCode(err) {
	case "":
	case domain.ENOTFOUND:
		return say("leader_not_found", "ref", ref)
	case domain.ECONFLICT:
		// Refused as closed, or as already in that state (a second ACK):
		// only a closed report cannot change any more.
		cur, err := in.Complaints.ComplaintByRef(ctx, ref)
		if err != nil {
			return reply{}, err
		}
		key := "leader_already"
		if domain.IsClosed(cur.Status) {
			key = "leader_closed"
		}
		return say(key, "ref", ref, "status", in.Keywords.Reply(lang, "state_"+cur.Status))
	case domain.EINVALID:
		return say("leader_usage", "keyword", kw)
	default:
		return reply{}, err
	}
	metrics.Inc("complaint_changed_sms")
	slog.Info("leader changed a report by sms", "ref", c.Ref, "status", c.Status, "leader", domain.MaskPhone(m.Phone))
	noted, done := "leader_noted", "leader_done"
	if c.ReporterPhone != "" {
		// Her notification was recorded but not sent: the leader must not
		// count on her knowing.
		opted, err := in.Messages.IsOptedOut(ctx, c.ReporterPhone)
		if err != nil {
			return reply{}, err
		}
		if opted {
			noted, done = "leader_noted_opted_out", "leader_done_opted_out"
		}
	}
	if status == "" {
		return say(noted, "ref", c.Ref)
	}
	return say(done, "ref", c.Ref, "status", in.Keywords.Reply(lang, "state_"+c.Status))
}

func hasNonLatinLetter(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) && !unicode.Is(unicode.Latin, r) {
			return true
		}
	}
	return false
}
