// Package api is the operator API: JSON under /api/v1 with bearer tokens, on
// the domain services. It also owns the one mapping from domain error codes
// to HTTP statuses.
package api

import (
	"errors"
	"log/slog"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/karyashala/karyashala/domain"
)

// codes maps domain error codes to HTTP statuses.
var codes = map[string]int{
	domain.ECONFLICT:     fiber.StatusConflict,
	domain.EFORBIDDEN:    fiber.StatusForbidden,
	domain.EINTERNAL:     fiber.StatusInternalServerError,
	domain.EINVALID:      fiber.StatusBadRequest,
	domain.ELIMITED:      fiber.StatusTooManyRequests,
	domain.ENOTFOUND:     fiber.StatusNotFound,
	domain.EUNAUTHORIZED: fiber.StatusUnauthorized,
}

// Status returns the HTTP status for a domain error.
func Status(err error) int {
	if s, ok := codes[domain.ErrorCode(err)]; ok {
		return s
	}
	return fiber.StatusInternalServerError
}

// ErrorHandler is the server's one error handler. Under /api it answers
// {"error": {"code", "message"}}; elsewhere (carrier callbacks, console) a
// one-line plain-text reason. Only internal errors are logged as errors.
func ErrorHandler(c *fiber.Ctx, err error) error {
	status := Status(err)
	code := domain.ErrorCode(err)
	msg := domain.ErrorMessage(err)
	var fe *fiber.Error
	if errors.As(err, &fe) {
		status, msg = fe.Code, fe.Message
		code = fiberCode(fe.Code)
	}
	if status >= 500 {
		slog.Error("request failed", "method", c.Method(), "path", c.Path(), "err", err)
	}
	if strings.HasPrefix(c.Path(), "/api/") {
		return c.Status(status).JSON(fiber.Map{"error": fiber.Map{"code": code, "message": msg}})
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	return c.Status(status).SendString(msg + "\n")
}

func fiberCode(status int) string {
	switch {
	case status == fiber.StatusNotFound:
		return domain.ENOTFOUND
	case status == fiber.StatusUnauthorized:
		return domain.EUNAUTHORIZED
	case status == fiber.StatusForbidden:
		return domain.EFORBIDDEN
	case status == fiber.StatusConflict:
		return domain.ECONFLICT
	case status == fiber.StatusTooManyRequests:
		return domain.ELIMITED
	case status >= 500:
		return domain.EINTERNAL
	default:
		return domain.EINVALID
	}
}
