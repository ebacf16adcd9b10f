package sms

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/karyashala/karyashala/domain"
)

// Sender hands one outbound message to a carrier. It returns the carrier's
// message id ("" when the carrier gives none), or an error that says whether
// trying again can help (see Permanent).
type Sender interface {
	// Name is the provider recorded on the messages it sends.
	Name() string
	Send(ctx context.Context, m *domain.Message) (providerID string, err error)
}

// SendError is a carrier's refusal. Permanent ones (a 4xx: a bad number, bad
// credentials, an opted-out handset) are not retried; the others (5xx,
// throttling) are, with backoff.
type SendError struct {
	Permanent bool
	Reason    string
}

func (e *SendError) Error() string { return e.Reason }

// Permanent returns a SendError that is not worth retrying.
func Permanent(format string, args ...any) error {
	return &SendError{Permanent: true, Reason: fmt.Sprintf(format, args...)}
}

// Temporary returns a SendError worth retrying later.
func Temporary(format string, args ...any) error {
	return &SendError{Reason: fmt.Sprintf(format, args...)}
}

// IsPermanent reports whether err says retrying cannot help. Errors that are
// not SendErrors (a refused connection, a timeout before the request was
// written) are temporary; see MaybeSent for one after it was.
func IsPermanent(err error) bool {
	var se *SendError
	return errors.As(err, &se) && se.Permanent
}

// maybeSentError is a failure after the whole request reached the
// carrier's connection: a timeout waiting for the answer, a connection
// reset. The carrier may have taken the message; it wraps the cause.
type maybeSentError struct{ err error }

func (e *maybeSentError) Error() string { return e.err.Error() }
func (e *maybeSentError) Unwrap() error { return e.err }

// MaybeSent reports whether err came after the carrier may have received
// the message (see Do): sending it again could deliver it twice, so the
// dispatcher records it sent, unconfirmed, instead of retrying.
func MaybeSent(err error) bool {
	var ms *maybeSentError
	return errors.As(err, &ms)
}

// Do sends a carrier request with client (HTTPClient when nil) and tells
// apart the failures that can be retried from those that cannot: one
// before the request was written in full (DNS, dial, a refused
// connection) never reached the carrier; one after it (no answer in time,
// a reset) may have, and comes back marked MaybeSent. Answers, 5xx and 429
// included, come back as responses for HTTPError to judge.
func Do(client *http.Client, req *http.Request) (*http.Response, error) {
	if client == nil {
		client = HTTPClient()
	}
	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(info httptrace.WroteRequestInfo) {
		if info.Err == nil {
			wrote.Store(true)
		}
	}}
	resp, err := client.Do(req.WithContext(httptrace.WithClientTrace(req.Context(), trace)))
	if err != nil && wrote.Load() {
		return nil, &maybeSentError{err}
	}
	return resp, err
}

// HTTPError classifies a carrier's HTTP answer: 408, 429 and 5xx are worth
// retrying, any other 4xx is not. reason is the carrier's own words.
func HTTPError(provider string, status int, reason string) error {
	reason = strings.TrimSpace(reason)
	if len(reason) > 300 {
		reason = reason[:300]
	}
	msg := provider + " answered " + strconv.Itoa(status)
	if reason != "" {
		msg += ": " + reason
	}
	if status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500 {
		return &SendError{Reason: msg}
	}
	return &SendError{Permanent: true, Reason: msg}
}

// HTTPClient is the client the carrier senders use: a request that takes
// longer than this is abandoned (and, once written, not sent again; see
// Do).
func HTTPClient() *http.Client { return &http.Client{Timeout: 20 * time.Second} }

// LogSender writes each message to the log instead of sending it, so the
// service runs, and can be tried, without a carrier account.
type LogSender struct{}

// Name is "log".
func (LogSender) Name() string { return "log" }

// Send logs the message and calls it sent.
func (LogSender) Send(ctx context.Context, m *domain.Message) (string, error) {
	slog.Info("sms (log sender: not sent to a carrier)", "msg_id", m.ID, "to", domain.MaskPhone(m.Phone), "segments", m.Segments, "text", m.Text)
	return "log-" + strconv.FormatInt(m.ID, 10), nil
}
