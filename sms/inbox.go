package sms

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"unicode"

	"github.com/karyashala/karyashala/domain"
	"github.com/karyashala/karyashala/metrics"
	"github.com/karyashala/karyashala/sms/keywords"
)

var _ Receiver = (*Inbox)(nil)

// Inbox stores inbound messages and answers their keywords. A message is
// handled in the carrier's request, so the carrier hears 200 only after the
// message, what it asked for (a complaint, an opt-out) and the reply are all
// stored; the reply itself leaves through the outbox.
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
	// Kick, when set, is called after a reply is queued, to wake a sender
	// instead of waiting for its next poll.
	Kick func()
}

// reply is what a command answers.
type reply struct {
	text  string
	lang  string
	force bool // sent even to an opted-out phone: the STOP confirmation
}

// Receive stores the message and, the first time it is seen, answers it.
// Storing it, what its command changes (a complaint, an opt-out) and the
// queued reply are one atomic write: a crash leaves either all of them or
// none, and a redelivery of a stored message is answered already. The
// writer runs units one at a time, so two deliveries of one message racing
// each other cannot both be handled.
func (in *Inbox) Receive(ctx context.Context, msg Inbound) error {
	phone, err := checkInbound(&msg, in.Region)
	if err != nil {
		return err
	}
	// The keyword is matched before the unit: the unit runs on the single
	// writer, so only database work belongs inside it.
	match := in.Keywords.Match(msg.Text)
	dup := false
	err = in.Atomic.Atomically(ctx, func(ctx context.Context) error {
		stored, d, err := in.Messages.StoreInbound(ctx, &domain.Message{
			Provider: msg.Provider, ProviderID: msg.ProviderID, Phone: phone, Peer: msg.To, Text: msg.Text,
		})
		if err != nil {
			return fmt.Errorf("store inbound sms: %w", err)
		}
		if dup = d; dup {
			return nil
		}
		r, err := in.handle(ctx, stored, match)
		if err != nil {
			return fmt.Errorf("answer sms %d: %w", stored.ID, err)
		}
		out := &domain.Message{Provider: msg.Provider, Phone: phone, Peer: msg.To, Text: r.text, Lang: r.lang, ReplyTo: stored.ID}
		if err := in.Messages.Enqueue(ctx, out, r.force); err != nil {
			return fmt.Errorf("queue reply to sms %d: %w", stored.ID, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if dup {
		metrics.Inc("sms_in_duplicate")
		return nil
	}
	metrics.Inc("sms_in")
	if in.Kick != nil {
		in.Kick()
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
	ref, _, ok := splitRef(match.Args)
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
		slog.Info("leader command from a non-leader", "phone", domain.MaskPhone(m.Phone), "command", match.Command)
		return say("leader_only", "keyword", kw)
	}
	ref, note, ok := splitRef(match.Args)
	status := leaderStatus[match.Command]
	if !ok || match.Command == keywords.Note && note == "" {
		return say("leader_usage", "keyword", kw)
	}
	actor := strings.TrimSpace(mem.Name + " " + m.Phone)
	c, err := in.Complaints.ChangeComplaint(ctx, ref, domain.ComplaintChange{Status: status, Note: note}, actor)
	switch domain.ErrorCode(err) {
	case "":
	case domain.ENOTFOUND:
		return say("leader_not_found", "ref", ref)
	case domain.ECONFLICT:
		cur, err := in.Complaints.ComplaintByRef(ctx, ref)
		if err != nil {
			return reply{}, err
		}
		return say("leader_closed", "ref", ref, "status", in.Keywords.Reply(lang, "state_"+cur.Status))
	case domain.EINVALID:
		return say("leader_usage", "keyword", kw)
	default:
		return reply{}, err
	}
	metrics.Inc("complaint_changed_sms")
	slog.Info("leader changed a report by sms", "ref", c.Ref, "status", c.Status, "leader", domain.MaskPhone(m.Phone))
	if status == "" {
		return say("leader_noted", "ref", c.Ref)
	}
	return say("leader_done", "ref", c.Ref, "status", in.Keywords.Reply(lang, "state_"+c.Status))
}

// refPrefix is a reference at the start of a command's arguments, written
// any of the ways people type it: C1042, #c-1042, "C 1042".
var refPrefix = regexp.MustCompile(`^#?\s*[CcPp][\s#\-]*[0-9]{1,9}\b`)

// splitRef reads the reference at the start of args and returns it in
// canonical form with the rest of args.
func splitRef(args string) (ref, rest string, ok bool) {
	loc := refPrefix.FindStringIndex(args)
	if loc == nil {
		return "", "", false
	}
	ref, err := domain.ParseRef(args[:loc[1]])
	if err != nil {
		return "", "", false
	}
	rest = strings.TrimLeftFunc(args[loc[1]:], func(r rune) bool { return unicode.IsSpace(r) || strings.ContainsRune(":,;.-", r) })
	return ref, strings.TrimSpace(rest), true
}

func hasNonLatinLetter(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) && !unicode.Is(unicode.Latin, r) {
			return true
		}
	}
	return false
}
