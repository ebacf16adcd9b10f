package sms

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/karyashala/karyashala/domain"
)

// Bind reads a carrier callback into dst (a struct with form tags): the
// query of a GET, the form body of a POST. A body that is not a form is
// EINVALID, answered 400 with one line.
func Bind(c *fiber.Ctx, provider string, dst any) error {
	if c.Method() == fiber.MethodGet {
		if err := c.QueryParser(dst); err != nil {
			return domain.Errorf(domain.EINVALID, "%s callback: the query string cannot be read: %v", provider, err)
		}
		return nil
	}
	ct := strings.ToLower(string(c.Request().Header.ContentType()))
	if !strings.HasPrefix(ct, fiber.MIMEApplicationForm) && !strings.HasPrefix(ct, fiber.MIMEMultipartForm) {
		return domain.Errorf(domain.EINVALID, "%s callback: expected a form body (application/x-www-form-urlencoded), got %q", provider, ct)
	}
	if err := c.BodyParser(dst); err != nil {
		return domain.Errorf(domain.EINVALID, "%s callback: the form cannot be read: %v", provider, err)
	}
	return nil
}
