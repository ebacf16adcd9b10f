package api

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/karyashala/karyashala/domain"
)

// listMessages is the SMS log, newest first: inbound messages and the
// outbox with delivery states. Operators only, since it shows who sent
// every anonymous report.
func (a *API) listMessages(c *fiber.Ctx) error {
	var f domain.MessageFilter
	var err error
	if f.Direction, err = queryEnum(c, "direction", domain.DirIn, domain.DirOut); err != nil {
		return err
	}
	if f.Status, err = queryEnum(c, "status", domain.MsgReceived, domain.MsgQueued, domain.MsgSending, domain.MsgSent, domain.MsgDelivered, domain.MsgFailed); err != nil {
		return err
	}
	if raw := c.Query("phone"); raw != "" {
		if f.Phone, err = a.phone("phone", raw); err != nil {
			return err
		}
	}
	if f.Limit, err = queryLimit(c); err != nil {
		return err
	}
	f.Cursor = c.Query("cursor")
	ms, next, err := a.Messages.FindMessages(ctx(c), f)
	if err != nil {
		return err
	}
	return list(c, ms, next)
}

// listOptOuts lists numbers that sent STOP, newest first.
func (a *API) listOptOuts(c *fiber.Ctx) error {
	n, err := queryLimit(c)
	if err != nil {
		return err
	}
	oo, next, err := a.Messages.OptOuts(ctx(c), c.Query("cursor"), n)
	if err != nil {
		return err
	}
	return list(c, oo, next)
}

// newToken is the body of POST /tokens.
type newToken struct {
	Role string `json:"role"`
	Name string `json:"name"`
}

// createdToken shows a new token's secret, the only time it is shown.
type createdToken struct {
	*domain.Token
	Secret string `json:"token"`
}

// createToken issues an API token from a script, as `karyashala token
// create` does on the server. Operators only: a leader must not be able to
// mint an operator token.
func (a *API) createToken(c *fiber.Ctx) error {
	var b newToken
	if err := decode(c, &b); err != nil {
		return err
	}
	b.Name = strings.TrimSpace(b.Name)
	if err := oneOf("role", b.Role, domain.TokenOperator, domain.TokenLeader); err != nil {
		return err
	}
	switch {
	case b.Name == "":
		return domain.Errorf(domain.EINVALID, "name: required; who the token is for, recorded with every change made with it")
	case len([]rune(b.Name)) > 60:
		return domain.Errorf(domain.EINVALID, "name: at most 60 characters")
	}
	secret, t, err := a.Tokens.CreateToken(ctx(c), b.Role, b.Name)
	if err != nil {
		return err
	}
	return created(c, createdToken{Token: t, Secret: secret})
}
