// Package sms is Karyashala's text-message channel: the Inbox that stores
// every inbound message and answers its keyword, the Dispatcher that drains
// the outbox through a Sender, and what the carrier adapters (one subpackage
// each: africastalking, twilio, kannel) share. The adapters translate a
// carrier's callbacks into Inbound messages and delivery reports; the rules
// live here once.
package sms

import (
	"context"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/karyashala/karyashala/domain"
)

// Inbound is one text message as a carrier delivered it, before it is
// checked and stored.
type Inbound struct {
	Provider   string // the adapter's name: africastalking, twilio, kannel
	ProviderID string // the carrier's message id; the same id twice is one message
	From       string // the sender's number as the carrier wrote it
	To         string // our short code or number
	Text       string
}

// Receiver is what a carrier adapter hands its callbacks to. Both methods
// return only after what they were given is durably stored, so the adapter
// can then answer the carrier 200.
type Receiver interface {
	// Receive stores an inbound message (once per provider id) for the inbox
	// to answer. EINVALID for a message that cannot be stored as given.
	Receive(ctx context.Context, in Inbound) error
	// Report applies a delivery report. An unknown message is logged and
	// not an error: the carrier cannot do anything about it.
	Report(ctx context.Context, r domain.DeliveryReport) error
}

// MaxText is the longest inbound text accepted, in characters: ten
// concatenated segments, Twilio's own limit.
const MaxText = 1600

// ReadBufferSize is what a server must read at once of a callback's request
// line and headers (fiber.Config.ReadBufferSize, 4 KB by default). Kannel's
// get-url carries the text in the query: MaxText Devanagari letters, three
// UTF-8 bytes each written %XX, are nine bytes a letter, and with 4 KB
// for the other fields and headers the longest text we accept fits. A
// request past the buffer is refused with 431 before any handler sees it.
const ReadBufferSize = MaxText*9 + 4<<10

// cleanText makes carrier text safe to store: valid UTF-8 and no NULs.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.ReplaceAll(s, "\x00", "")
}

// checkInbound validates what an adapter read and returns the sender in
// E.164.
func checkInbound(in *Inbound, region string) (string, error) {
	if strings.TrimSpace(in.ProviderID) == "" {
		return "", domain.Errorf(domain.EINVALID, "%s inbound message: the message id is missing; without it a redelivery would be stored twice", in.Provider)
	}
	if len(in.ProviderID) > 200 {
		return "", domain.Errorf(domain.EINVALID, "%s inbound message: the message id is longer than 200 characters", in.Provider)
	}
	phone, err := domain.ParsePhone(in.From, region)
	if err != nil {
		return "", domain.Errorf(domain.EINVALID, "%s inbound message: sender: %s", in.Provider, domain.ErrorMessage(err))
	}
	in.Text = cleanText(in.Text)
	if n := utf8.RuneCountInString(in.Text); n > MaxText {
		return "", domain.Errorf(domain.EINVALID, "%s inbound message: text has %d characters, more than the %d accepted", in.Provider, n, MaxText)
	}
	return phone, nil
}

// CallbackURL is the address a carrier calls us back at: publicURL + path,
// with the callbacks.token (when set) and extra query values. "" when
// publicURL is not configured, as no carrier could reach us then.
func CallbackURL(publicURL, path, token string, extra url.Values) string {
	if publicURL == "" {
		return ""
	}
	q := url.Values{}
	for k, vs := range extra {
		q[k] = vs
	}
	if token != "" {
		q.Set("token", token)
	}
	u := strings.TrimRight(publicURL, "/") + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// ReportStatus maps a carrier's delivery status through its table to ours.
// A status the table maps to "" is an interim one (queued at the carrier)
// that changes nothing; one missing from the table is EINVALID.
func ReportStatus(provider string, table map[string]string, raw string) (string, error) {
	s, ok := table[raw]
	if !ok {
		return "", domain.Errorf(domain.EINVALID, "%s delivery report: unknown status %q", provider, raw)
	}
	return s, nil
}
