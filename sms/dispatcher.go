package sms

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/karyashala/karyashala/domain"
	"github.com/karyashala/karyashala/metrics"
)

// Dispatcher drains the outbox through one Sender with a few workers, at
// most Rate messages a second. Each message is claimed (its attempt
// recorded) immediately before the carrier call and marked right after it,
// on a context that shutting down does not cancel, so a message is never
// sent twice: one the carrier may have received without answering (see
// MaybeSent) is marked sent, unconfirmed, rather than retried, and one
// left sending by a crash is settled at the next start without being sent
// again (see domain.Outbox.RecoverSending).
type Dispatcher struct {
	Outbox      domain.Outbox
	Sender      Sender
	Workers     int
	Rate        float64 // messages per second to this provider
	MaxAttempts int
	// Poll is how often an idle worker looks for due messages (retries);
	// Kick wakes one sooner.
	Poll time.Duration
	// SendTimeout bounds one carrier call. A call that times out after its
	// request was written is not retried (see MaybeSent).
	SendTimeout time.Duration
	// Backoff is the wait before attempt n+1 after attempt n failed
	// temporarily; nil means ExpBackoff.
	Backoff func(attempt int) time.Duration
	// Now is the clock.
	Now func() time.Time

	wake chan struct{}
	once sync.Once
}

func (d *Dispatcher) init() {
	d.once.Do(func() {
		d.wake = make(chan struct{}, 1)
		if d.Workers < 1 {
			d.Workers = 1
		}
		if d.Rate <= 0 {
			d.Rate = 10
		}
		if d.MaxAttempts < 1 {
			d.MaxAttempts = 1
		}
		if d.Poll <= 0 {
			d.Poll = time.Second
		}
		if d.SendTimeout <= 0 {
			d.SendTimeout = 30 * time.Second
		}
		if d.Backoff == nil {
			d.Backoff = ExpBackoff
		}
		if d.Now == nil {
			d.Now = time.Now
		}
	})
}

// Kick wakes an idle worker: a message was just queued.
func (d *Dispatcher) Kick() {
	d.init()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run settles what a previous process left sending, then sends until ctx is
// done and every message in flight is marked. Only one process may drain an
// outbox at a time.
func (d *Dispatcher) Run(ctx context.Context) {
	d.init()
	provider := d.Sender.Name()
	if n, err := d.Outbox.RecoverSending(context.WithoutCancel(ctx), d.Now()); err != nil {
		slog.Error("recover sms left sending", "err", err)
	} else if n > 0 {
		slog.Warn("sms left sending by the previous run marked sent, unconfirmed, not resent", "count", n)
	}
	limiter := rate.NewLimiter(rate.Limit(d.Rate), 1)
	var wg sync.WaitGroup
	for range d.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.work(ctx, provider, limiter)
		}()
	}
	wg.Wait()
}

func (d *Dispatcher) work(ctx context.Context, provider string, limiter *rate.Limiter) {
	for {
		if err := limiter.Wait(ctx); err != nil {
			return // ctx done
		}
		// The claim is committed or not as a whole: never cancelled half-way
		// by shutdown, or a message could be left sending without a send.
		m, err := d.Outbox.ClaimNext(context.WithoutCancel(ctx), provider)
		if err != nil {
			if domain.ErrorCode(err) != domain.ENOTFOUND {
				slog.Error("claim sms", "provider", provider, "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-d.wake:
			case <-time.After(d.Poll):
			}
			continue
		}
		d.send(ctx, m)
	}
}

// send calls the carrier for one claimed message and records the outcome.
func (d *Dispatcher) send(ctx context.Context, m *domain.Message) {
	bg := context.WithoutCancel(ctx)
	sctx, cancel := context.WithTimeout(bg, d.SendTimeout)
	providerID, err := d.Sender.Send(sctx, m)
	cancel()
	log := slog.With("provider", d.Sender.Name(), "msg_id", m.ID, "to", domain.MaskPhone(m.Phone), "attempt", m.Attempts)
	// A carrier's reason may name the number (Twilio's 21211 does): the
	// log gets it masked, the message's error column keeps it whole.
	logged := func(reason string) string { return maskNumber(reason, m.Phone) }
	switch {
	case err == nil:
		if err := d.Outbox.MarkSent(bg, m.ID, providerID); err != nil {
			log.Error("mark sms sent", "provider_id", providerID, "err", err)
		}
		metrics.Inc("sms_out_sent")
		log.Debug("sms sent", "provider_id", providerID)
	case MaybeSent(err):
		reason := "the carrier received the request but did not answer (" + err.Error() + ")"
		if err := d.Outbox.MarkUnconfirmed(bg, m.ID, reason); err != nil {
			log.Error("mark sms sent, unconfirmed", "err", err)
		}
		metrics.Inc("sms_out_unconfirmed")
		log.Warn("sms may have reached the carrier, which did not answer; marked sent, unconfirmed, not resent", "reason", logged(err.Error()))
	case IsPermanent(err):
		if err := d.Outbox.MarkFailed(bg, m.ID, err.Error()); err != nil {
			log.Error("mark sms failed", "err", err)
		}
		metrics.Inc("sms_out_failed")
		log.Warn("sms refused by the carrier", "reason", logged(err.Error()))
	case m.Attempts >= d.MaxAttempts:
		reason := "gave up after " + strconv.Itoa(m.Attempts) + " attempts; last: " + err.Error()
		if err := d.Outbox.MarkFailed(bg, m.ID, reason); err != nil {
			log.Error("mark sms failed", "err", err)
		}
		metrics.Inc("sms_out_failed")
		log.Warn("sms failed", "reason", logged(reason))
	default:
		next := d.Now().Add(d.Backoff(m.Attempts))
		if err := d.Outbox.Retry(bg, m.ID, next, err.Error()); err != nil {
			log.Error("requeue sms", "err", err)
		}
		metrics.Inc("sms_out_retry")
		log.Info("sms will be retried", "reason", logged(err.Error()), "next_attempt_at", next)
	}
}

// maskNumber masks phone (E.164) wherever text carries it, with or
// without its "+".
func maskNumber(text, phone string) string {
	if len(phone) < 7 {
		return text
	}
	text = strings.ReplaceAll(text, phone, domain.MaskPhone(phone))
	if digits := strings.TrimPrefix(phone, "+"); digits != phone {
		text = strings.ReplaceAll(text, digits, domain.MaskPhone(digits))
	}
	return text
}

// ExpBackoff waits 10s after the first failure, doubling each time up to an
// hour, with full jitter over the upper half so that messages refused
// together do not come back together.
func ExpBackoff(attempt int) time.Duration {
	d := 10 * time.Second
	for i := 1; i < attempt && d < time.Hour; i++ {
		d *= 2
	}
	d = min(d, time.Hour)
	return d/2 + rand.N(d/2+1)
}
