// Package africastalking connects Karyashala's SMS channel to Africa's
// Talking: inbound messages and delivery reports posted to us, and the
// bulk messaging API to send.
package africastalking

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/karyashala/karyashala/domain"
	"github.com/karyashala/karyashala/sms"
)

// Name is the provider name recorded on messages.
const Name = "africastalking"

// inboundForm is what Africa's Talking posts for an incoming message.
type inboundForm struct {
	From   string `form:"from"`
	To     string `form:"to"`
	Text   string `form:"text"`
	Date   string `form:"date"`
	ID     string `form:"id"`
	LinkID string `form:"linkId"`
}

// statusForm is a delivery report.
type statusForm struct {
	ID            string `form:"id"`
	Status        string `form:"status"`
	PhoneNumber   string `form:"phoneNumber"`
	NetworkCode   string `form:"networkCode"`
	FailureReason string `form:"failureReason"`
}

// statusMapping maps Africa's Talking's delivery statuses to ours.
var statusMapping = map[string]string{
	"Sent":      domain.MsgSent,
	"Submitted": domain.MsgSent,
	"Buffered":  domain.MsgSent,
	"Success":   domain.MsgDelivered,
	"Rejected":  domain.MsgFailed,
	"Failed":    domain.MsgFailed,
}

// Handler takes Africa's Talking's callbacks.
type Handler struct {
	Receiver sms.Receiver
}

// Routes mounts the inbound and delivery report callbacks.
func (h *Handler) Routes(r fiber.Router) {
	r.Post("/sms/africastalking/inbound", h.inbound)
	r.Post("/sms/africastalking/status", h.status)
}

func (h *Handler) inbound(c *fiber.Ctx) error {
	var f inboundForm
	if err := sms.Bind(c, Name, &f); err != nil {
		return err
	}
	if err := h.Receiver.Receive(c.UserContext(), sms.Inbound{Provider: Name, ProviderID: f.ID, From: f.From, To: f.To, Text: f.Text}); err != nil {
		return err
	}
	return c.Status(fiber.StatusOK).Send(nil)
}

func (h *Handler) status(c *fiber.Ctx) error {
	var f statusForm
	if err := sms.Bind(c, Name, &f); err != nil {
		return err
	}
	if f.ID == "" {
		return domain.Errorf(domain.EINVALID, "africastalking delivery report: id is missing")
	}
	st, err := sms.ReportStatus(Name, statusMapping, f.Status)
	if err != nil {
		return err
	}
	if st != "" {
		reason := f.FailureReason
		if st == domain.MsgFailed && reason == "" {
			reason = f.Status
		}
		if err := h.Receiver.Report(c.UserContext(), domain.DeliveryReport{Provider: Name, ProviderID: f.ID, Status: st, Reason: reason}); err != nil {
			return err
		}
	}
	return c.Status(fiber.StatusOK).Send(nil)
}

// Sender sends through the messaging API: POST {BaseURL}/version1/messaging.
type Sender struct {
	Username string
	APIKey   string
	From     string // sender id or short code; "" uses the account default
	BaseURL  string
	Client   *http.Client
}

// Name is the provider name.
func (s *Sender) Name() string { return Name }

// response is the messaging API's answer.
type response struct {
	SMSMessageData struct {
		Message    string `json:"Message"`
		Recipients []struct {
			StatusCode int    `json:"statusCode"`
			Number     string `json:"number"`
			Status     string `json:"status"`
			MessageID  string `json:"messageId"`
		} `json:"Recipients"`
	} `json:"SMSMessageData"`
}

// Send posts one message. Per-recipient codes 100-102 are accepted, 401-409
// are refusals (invalid number, blacklisted, no balance), 5xx retried.
func (s *Sender) Send(ctx context.Context, m *domain.Message) (string, error) {
	form := url.Values{"username": {s.Username}, "to": {m.Phone}, "message": {m.Text}}
	if s.From != "" {
		form.Set("from", s.From)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(s.BaseURL, "/")+"/version1/messaging", strings.NewReader(form.Encode()))
	if err != nil {
		return "", sms.Permanent("africastalking: %v", err)
	}
	req.Header.Set("apiKey", s.APIKey)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := sms.Do(s.Client, req)
	if err != nil {
		return "", fmt.Errorf("africastalking: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", sms.HTTPError(Name, resp.StatusCode, string(body))
	}
	var r response
	if err := json.Unmarshal(body, &r); err != nil {
		// Accepted but unreadable: sending again could be a duplicate.
		return "", nil
	}
	if len(r.SMSMessageData.Recipients) == 0 {
		// No recipient at all: the whole request was refused, e.g. "InvalidSenderId".
		return "", sms.Permanent("africastalking: %s", r.SMSMessageData.Message)
	}
	rc := r.SMSMessageData.Recipients[0]
	switch {
	case rc.StatusCode >= 100 && rc.StatusCode <= 102:
		return rc.MessageID, nil
	case rc.StatusCode >= 500:
		return "", sms.Temporary("africastalking: %d %s", rc.StatusCode, rc.Status)
	default:
		return "", sms.Permanent("africastalking: %d %s", rc.StatusCode, rc.Status)
	}
}
