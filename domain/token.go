package domain

import (
	"context"
	"time"
)

// Token roles for the operator API. Operators can do everything; leaders run
// the programme but cannot manage tokens or configuration.
const (
	TokenOperator = "operator"
	TokenLeader   = "leader"
)

// Token is an API credential. Only a hash of the secret is stored.
type Token struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Role       string     `json:"role"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// TokenService issues and checks API tokens.
type TokenService interface {
	// CreateToken issues a token and returns its secret, shown once;
	// EINVALID for an unknown role or an empty name.
	CreateToken(ctx context.Context, role, name string) (secret string, t *Token, err error)
	// Authenticate returns the token a secret belongs to; EUNAUTHORIZED.
	Authenticate(ctx context.Context, secret string) (*Token, error)
}
