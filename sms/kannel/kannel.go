// Package kannel connects Karyashala's SMS channel to a Kannel smsbox: its
// get-url calls us for each inbound message, its sendsms interface sends,
// and its dlr-url reports delivery back by our own message id.
package kannel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/text/encoding/charmap"

	"github.com/karyashala/karyashala/domain"
	"github.com/karyashala/karyashala/sms"
)

// Name is the provider name recorded on messages.
const Name = "kannel"

// dlrMask asks for every report Kannel has: delivered (1), failed (2),
// buffered (4), accepted by the SMSC (8), rejected by the SMSC (16).
const dlrMask = "31"

// inboundQuery is what the get-url in docs/sms.md sends.
type inboundQuery struct {
	From    string `query:"from"`
	To      string `query:"to"`
	Text    string `query:"text"`
	ID      string `query:"id"`
	TS      string `query:"ts"`
	Charset string `query:"charset"`
	Coding  string `query:"coding"`
}

// statusQuery is the dlr-url we give with each message.
type statusQuery struct {
	ID     string `query:"id"`
	Status string `query:"status"`
	Answer string `query:"answer"`
}

// statusMapping maps Kannel's DLR types (%d) to ours.
var statusMapping = map[string]string{
	"1":  domain.MsgDelivered,
	"2":  domain.MsgFailed,
	"4":  domain.MsgSent,
	"8":  domain.MsgSent,
	"16": domain.MsgFailed,
}

// Handler takes the smsbox's get-url and dlr-url calls.
type Handler struct {
	Receiver sms.Receiver
}

// Routes mounts the inbound and delivery report callbacks.
func (h *Handler) Routes(r fiber.Router) {
	r.Get("/sms/kannel/inbound", h.inbound)
	r.Get("/sms/kannel/status", h.status)
}

func (h *Handler) inbound(c *fiber.Ctx) error {
	var q inboundQuery
	if err := sms.Bind(c, Name, &q); err != nil {
		return err
	}
	text, err := decode(q.Text, q.Charset)
	if err != nil {
		return err
	}
	if err := h.Receiver.Receive(c.UserContext(), sms.Inbound{Provider: Name, ProviderID: q.ID, From: q.From, To: q.To, Text: text}); err != nil {
		return err
	}
	// An empty body: Kannel sends no reply of its own (omit-empty = true);
	// ours goes out through sendsms.
	return c.Status(fiber.StatusOK).Send(nil)
}

// decode turns the text Kannel sent into UTF-8, by the charset its %C
// reports: "UTF-8" (recoded by mo-recode), "GSM" and "WINDOWS-1252" (7-bit
// and recoded messages, which Kannel hands over in Latin-1). "UTF-16BE"
// (UCS-2 not recoded) is refused: the get-url's text=%a splits the text into
// words at whitespace bytes and joins them with '+', and in UTF-16BE those
// bytes are halves of letters (every Devanagari code unit starts with
// 0x09), so the text is lost before it reaches us; mo-recode = true makes
// Kannel send UTF-8 instead. "8-BIT" (and "binary") is data, not text.
func decode(text, charset string) (string, error) {
	switch strings.ToUpper(strings.TrimSpace(charset)) {
	case "", "UTF-8", "UTF8":
		return text, nil
	case "UTF-16BE", "UCS-2", "UCS2", "UTF-16":
		return "", domain.Errorf(domain.EINVALID, "kannel inbound message: the text came as %s (UCS-2 not recoded), which the get-url's text=%%a garbles; set mo-recode = true in the smsbox group so Kannel sends it as UTF-8", charset)
	case "GSM", "ISO-8859-1", "LATIN1", "WINDOWS-1252":
		if utf8.ValidString(text) {
			return text, nil
		}
		s, _ := charmap.Windows1252.NewDecoder().String(text)
		return s, nil
	case "8-BIT", "BINARY":
		return "", domain.Errorf(domain.EINVALID, "kannel inbound message: an 8-bit (binary data) message is not text and cannot be answered")
	default:
		return "", domain.Errorf(domain.EINVALID, "kannel inbound message: charset %q is not supported; use UTF-8 (mo-recode = true in the smsbox group)", charset)
	}
}

func (h *Handler) status(c *fiber.Ctx) error {
	var q statusQuery
	if err := sms.Bind(c, Name, &q); err != nil {
		return err
	}
	id, err := strconv.ParseInt(q.ID, 10, 64)
	if err != nil || id <= 0 {
		return domain.Errorf(domain.EINVALID, "kannel delivery report: id %q is not one of our message ids", q.ID)
	}
	st, err := sms.ReportStatus(Name, statusMapping, q.Status)
	if err != nil {
		return err
	}
	reason := ""
	if st == domain.MsgFailed {
		reason = "kannel DLR " + q.Status
		if q.Answer != "" {
			reason += ": " + q.Answer
		}
	}
	if err := h.Receiver.Report(c.UserContext(), domain.DeliveryReport{Provider: Name, MessageID: id, Status: st, Reason: reason}); err != nil {
		return err
	}
	return c.Status(fiber.StatusOK).Send(nil)
}

// Sender sends through the smsbox sendsms interface (a GET).
type Sender struct {
	SendSMSURL string
	Username   string
	Password   string
	From       string
	// PublicURL and CallbackToken make the dlr-url; without a PublicURL no
	// delivery reports are asked for.
	PublicURL     string
	CallbackToken string
	// Client, when nil, is one that opens a connection for every send: Go's
	// transport sends a GET again by itself when a kept-alive connection
	// closes before the answer, and sendsms is a GET, so the smsbox could
	// take one message twice. One connection a send to the smsbox next door
	// is cheap at the rates SMS goes out.
	Client *http.Client
}

// oneShot is the Sender's client when none is given.
var oneShot = func() *http.Client {
	c := sms.HTTPClient()
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DisableKeepAlives = true
	c.Transport = t
	return c
}()

// Name is the provider name.
func (s *Sender) Name() string { return Name }

// Send asks the smsbox to send one message. Kannel gives no message id; the
// dlr-url carries ours. Text that is not GSM-7 goes as UCS-2 (coding=2),
// converted by Kannel from UTF-8.
func (s *Sender) Send(ctx context.Context, m *domain.Message) (string, error) {
	q := url.Values{
		"username": {s.Username},
		"password": {s.Password},
		"to":       {m.Phone},
		"text":     {m.Text},
		"charset":  {"UTF-8"},
	}
	from := s.From
	if from == "" {
		from = m.Peer
	}
	if from != "" {
		q.Set("from", from)
	}
	if _, enc := domain.SMSSegments(m.Text); enc == domain.EncodingUCS2 {
		q.Set("coding", "2")
	}
	if dlr := sms.CallbackURL(s.PublicURL, "/sms/kannel/status", s.CallbackToken, url.Values{"id": {strconv.FormatInt(m.ID, 10)}}); dlr != "" {
		// %d and %A are Kannel's: the report type and the SMSC's answer.
		q.Set("dlr-mask", dlrMask)
		q.Set("dlr-url", dlr+"&status=%d&answer=%A")
	}
	u := s.SendSMSURL
	if strings.Contains(u, "?") {
		u += "&" + q.Encode()
	} else {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", sms.Permanent("kannel: %v; check sms.kannel.sendsms_url", err)
	}
	client := s.Client
	if client == nil {
		client = oneShot
	}
	resp, err := sms.Do(client, req)
	if err != nil {
		return "", fmt.Errorf("kannel: %w", redact(err, s.Password))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", sms.HTTPError(Name, resp.StatusCode, string(body))
	}
	return "", nil
}

// redact keeps the sendsms password out of errors (url.Error prints the URL).
func redact(err error, password string) error {
	if ue := (*url.Error)(nil); errors.As(err, &ue) && password != "" {
		ue.URL = strings.ReplaceAll(ue.URL, url.QueryEscape(password), "REDACTED")
	}
	return err
}
