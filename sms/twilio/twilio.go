// Package twilio connects Karyashala's SMS channel to Twilio: signed
// inbound and status webhooks, and the Messages API to send.
package twilio

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/karyashala/karyashala/domain"
	"github.com/karyashala/karyashala/sms"
)

// Name is the provider name recorded on messages.
const Name = "twilio"

// emptyTwiML answers an inbound message without a reply in the webhook:
// replies go through the outbox like every other message, so they are
// counted, rate-limited, opt-out checked and tracked by status callbacks.
const emptyTwiML = `<?xml version="1.0" encoding="UTF-8"?><Response/>`

// inboundForm is the part of Twilio's incoming message webhook we use.
type inboundForm struct {
	MessageSid string `form:"MessageSid"`
	AccountSid string `form:"AccountSid"`
	From       string `form:"From"`
	To         string `form:"To"`
	Body       string `form:"Body"`
}

// statusForm is Twilio's status callback.
type statusForm struct {
	MessageSid    string `form:"MessageSid"`
	MessageStatus string `form:"MessageStatus"`
	ErrorCode     string `form:"ErrorCode"`
}

// statusMapping maps Twilio's message statuses to ours; "" are interim
// states that change nothing.
var statusMapping = map[string]string{
	"accepted":            "",
	"scheduled":           "",
	"queued":              "",
	"sending":             "",
	"sent":                domain.MsgSent,
	"delivered":           domain.MsgDelivered,
	"read":                domain.MsgDelivered,
	"partially_delivered": domain.MsgDelivered,
	"undelivered":         domain.MsgFailed,
	"failed":              domain.MsgFailed,
	"canceled":            domain.MsgFailed,
	"receiving":           "",
	"received":            "",
}

// errorCodes explains the delivery error codes operators meet most.
var errorCodes = map[string]string{
	"21610": "the recipient replied STOP to this Twilio number",
	"21211": "the number is not valid",
	"30003": "the handset is unreachable (off or out of coverage)",
	"30004": "the message was blocked by the recipient or the network",
	"30005": "the number is unknown or no longer in service",
	"30006": "a landline or an unreachable carrier",
	"30007": "filtered by the carrier as spam",
	"30008": "unknown error at the carrier",
}

// Handler takes Twilio's webhooks. With AuthToken set every request must
// carry a valid X-Twilio-Signature computed over PublicURL + path + query.
type Handler struct {
	Receiver   sms.Receiver
	AuthToken  string
	AccountSID string
	// PublicURL is the scheme and host Twilio calls (public_url); when ""
	// the request's own is used, which is wrong behind a proxy.
	PublicURL string
}

// Routes mounts the inbound and status webhooks.
func (h *Handler) Routes(r fiber.Router) {
	r.Post("/sms/twilio/inbound", h.verify, h.inbound)
	r.Post("/sms/twilio/status", h.verify, h.status)
}

// verify checks X-Twilio-Signature in constant time when an auth token is
// configured.
func (h *Handler) verify(c *fiber.Ctx) error {
	if h.AuthToken == "" {
		return c.Next()
	}
	got := c.Get("X-Twilio-Signature")
	if got == "" {
		return fiber.NewError(fiber.StatusForbidden, "twilio webhook: X-Twilio-Signature is missing; only Twilio may call this URL")
	}
	base := strings.TrimRight(h.PublicURL, "/")
	if base == "" {
		base = c.BaseURL()
	}
	params := map[string][]string{}
	c.Request().PostArgs().VisitAll(func(k, v []byte) {
		params[string(k)] = append(params[string(k)], string(v))
	})
	want := Signature(h.AuthToken, base+c.OriginalURL(), params)
	if !hmac.Equal([]byte(got), []byte(want)) {
		return fiber.NewError(fiber.StatusForbidden, "twilio webhook: X-Twilio-Signature does not match; check sms.twilio.auth_token and that public_url is the address configured at Twilio")
	}
	return c.Next()
}

// Signature is Twilio's request signature: base64 HMAC-SHA1, keyed by the
// auth token, of the full URL followed by every POST parameter name and
// value, sorted by name.
func Signature(authToken, fullURL string, params map[string][]string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(fullURL))
	for _, k := range keys {
		for _, v := range params[k] {
			mac.Write([]byte(k))
			mac.Write([]byte(v))
		}
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func (h *Handler) inbound(c *fiber.Ctx) error {
	var f inboundForm
	if err := sms.Bind(c, Name, &f); err != nil {
		return err
	}
	if h.AccountSID != "" && f.AccountSid != h.AccountSID {
		return fiber.NewError(fiber.StatusForbidden, "twilio webhook: AccountSid does not match sms.twilio.account_sid")
	}
	if err := h.Receiver.Receive(c.UserContext(), sms.Inbound{Provider: Name, ProviderID: f.MessageSid, From: f.From, To: f.To, Text: f.Body}); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/xml; charset=utf-8")
	return c.SendString(emptyTwiML)
}

func (h *Handler) status(c *fiber.Ctx) error {
	var f statusForm
	if err := sms.Bind(c, Name, &f); err != nil {
		return err
	}
	if f.MessageSid == "" {
		return domain.Errorf(domain.EINVALID, "twilio status callback: MessageSid is missing")
	}
	st, err := sms.ReportStatus(Name, statusMapping, f.MessageStatus)
	if err != nil {
		return err
	}
	// Our id, put in the StatusCallback URL when sending, finds the message
	// even before the send was marked with Twilio's sid.
	var id int64
	if s := c.Query("id"); s != "" {
		if id, err = strconv.ParseInt(s, 10, 64); err != nil || id <= 0 {
			return domain.Errorf(domain.EINVALID, "twilio status callback: id %q is not a message id", s)
		}
	}
	if st != "" {
		reason := ""
		if f.ErrorCode != "" {
			reason = "Twilio error " + f.ErrorCode
			if d, ok := errorCodes[f.ErrorCode]; ok {
				reason += ": " + d
			}
		} else if st == domain.MsgFailed {
			reason = f.MessageStatus
		}
		if err := h.Receiver.Report(c.UserContext(), domain.DeliveryReport{Provider: Name, ProviderID: f.MessageSid, MessageID: id, Status: st, Reason: reason}); err != nil {
			return err
		}
	}
	return c.Status(fiber.StatusOK).Send(nil)
}

// Sender sends through the Messages API.
type Sender struct {
	AccountSID string
	AuthToken  string
	From       string
	BaseURL    string
	// PublicURL and CallbackToken make the StatusCallback; without a
	// PublicURL no status callbacks are asked for.
	PublicURL     string
	CallbackToken string
	Client        *http.Client
}

// Name is the provider name.
func (s *Sender) Name() string { return Name }

// apiResponse covers both a created message and an error.
type apiResponse struct {
	SID     string `json:"sid"`
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// Send posts one message: POST {BaseURL}/2010-04-01/Accounts/{sid}/Messages.json.
func (s *Sender) Send(ctx context.Context, m *domain.Message) (string, error) {
	from := s.From
	if from == "" {
		from = m.Peer
	}
	form := url.Values{"To": {m.Phone}, "From": {from}, "Body": {m.Text}}
	if cb := sms.CallbackURL(s.PublicURL, "/sms/twilio/status", s.CallbackToken, url.Values{"id": {strconv.FormatInt(m.ID, 10)}}); cb != "" {
		form.Set("StatusCallback", cb)
	}
	u := strings.TrimRight(s.BaseURL, "/") + "/2010-04-01/Accounts/" + url.PathEscape(s.AccountSID) + "/Messages.json"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return "", sms.Permanent("twilio: %v", err)
	}
	req.SetBasicAuth(s.AccountSID, s.AuthToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := sms.Do(s.Client, req)
	if err != nil {
		return "", fmt.Errorf("twilio: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var r apiResponse
	jsonErr := json.Unmarshal(body, &r)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		reason := strings.TrimSpace(string(body))
		if jsonErr == nil && r.Message != "" {
			reason = strconv.Itoa(r.Code) + ": " + r.Message
		}
		return "", sms.HTTPError(Name, resp.StatusCode, reason)
	}
	// Accepted but unreadable: the message exists at Twilio, so it is sent
	// (sending it again would be a duplicate); the status callback finds it
	// by our id.
	return r.SID, nil
}
