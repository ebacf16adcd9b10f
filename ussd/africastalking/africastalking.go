// Package africastalking serves Africa's Talking USSD callbacks: a form post
// per hop, answered "CON ..." to go on or "END ..." to close the session.
package africastalking

import (
	"bytes"
	"context"
	"log/slog"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/karyashala/karyashala/domain"
	"github.com/karyashala/karyashala/ussd"
)

// Engine runs one USSD hop; *ussd.Engine is one.
type Engine interface {
	Handle(ctx context.Context, r ussd.Request) (ussd.Response, error)
}

// Handler is the Africa's Talking USSD adapter.
type Handler struct {
	eng    Engine
	region string
}

// New returns the adapter; region is the default for numbers written
// without a country code.
func New(eng Engine, region string) *Handler {
	return &Handler{eng: eng, region: region}
}

// Path is the callback URL path to configure at Africa's Talking.
const Path = "/ussd/africastalking"

// Routes adds POST /ussd/africastalking.
func (h *Handler) Routes(r fiber.Router) {
	r.Post(Path, h.handle)
}

// request is the form Africa's Talking posts on every hop.
type request struct {
	SessionID   string `form:"sessionId"`
	ServiceCode string `form:"serviceCode"`
	PhoneNumber string `form:"phoneNumber"`
	NetworkCode string `form:"networkCode"`
	Text        string `form:"text"`
}

// formType is the content type Africa's Talking posts with.
const formType = "application/x-www-form-urlencoded"

// parseForm reads the plain form post every hop is, as c.BodyParser would
// (field names in any case, the last of repeated fields) without its
// reflection, which costs more than the rest of the adapter. It reports
// false, having read nothing, for anything else: other content types, and
// bracketed names, which BodyParser rewrites or rejects.
func (r *request) parseForm(c *fiber.Ctx) bool {
	if string(c.Request().Header.ContentType()) != formType {
		return false
	}
	args := c.Request().PostArgs()
	ok := true
	args.VisitAll(func(k, _ []byte) {
		if bytes.IndexByte(k, '[') >= 0 {
			ok = false
		}
	})
	if !ok {
		return false
	}
	args.VisitAll(func(k, v []byte) {
		if f := r.field(k); f != nil {
			*f = string(v)
		}
	})
	return true
}

// field returns where the form field named k goes, or nil.
func (r *request) field(k []byte) *string {
	fields := [...]struct {
		name string
		to   *string
	}{{"sessionId", &r.SessionID}, {"serviceCode", &r.ServiceCode}, {"phoneNumber", &r.PhoneNumber},
		{"networkCode", &r.NetworkCode}, {"text", &r.Text}}
	for _, f := range fields {
		if string(k) == f.name {
			return f.to
		}
	}
	for _, f := range fields {
		if bytes.EqualFold(k, []byte(f.name)) {
			return f.to
		}
	}
	return nil
}

func (h *Handler) handle(c *fiber.Ctx) error {
	var req request
	if !req.parseForm(c) {
		if err := c.BodyParser(&req); err != nil {
			return fiber.NewError(fiber.StatusBadRequest, "the body is not a form post: send application/x-www-form-urlencoded with sessionId, phoneNumber and text")
		}
	}
	switch {
	case strings.TrimSpace(req.SessionID) == "":
		return fiber.NewError(fiber.StatusBadRequest, "sessionId is missing; every USSD request needs the carrier's session id")
	case strings.TrimSpace(req.PhoneNumber) == "":
		return fiber.NewError(fiber.StatusBadRequest, "phoneNumber is missing")
	}
	phone, err := domain.ParsePhone(req.PhoneNumber, h.region)
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, domain.ErrorMessage(err))
	}
	resp, err := h.eng.Handle(c.UserContext(), ussd.Request{
		SessionID:   req.SessionID,
		Phone:       phone,
		ServiceCode: req.ServiceCode,
		NetworkCode: req.NetworkCode,
		Text:        req.Text,
	})
	if err != nil {
		if domain.ErrorCode(err) == domain.EINVALID {
			return fiber.NewError(fiber.StatusBadRequest, domain.ErrorMessage(err))
		}
		// The caller still gets an answer: the engine's apology in her language.
		slog.Error("ussd hop failed", "carrier", "africastalking", "session", req.SessionID, "phone", domain.MaskPhone(phone), "err", err)
		if resp.Text == "" {
			resp = ussd.Response{End: true, Text: "Sorry, something went wrong. Please dial again later."}
		}
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	return c.SendString(resp.String())
}
