package storage

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/karyashala/karyashala/domain"
)

var _ domain.TokenService = (*TokenService)(nil)

// TokenService issues API tokens and stores only their SHA-256. A lookup by
// hash is a constant-time way to compare: the secret is never compared
// byte by byte against stored data.
type TokenService struct{ db *DB }

// NewTokenService returns the token service on db.
func NewTokenService(db *DB) *TokenService { return &TokenService{db: db} }

// tokenPrefix makes a leaked token easy to recognise in a secret scanner.
const tokenPrefix = "ks_"

func hashToken(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// CreateToken issues a token.
func (s *TokenService) CreateToken(ctx context.Context, role, name string) (string, *domain.Token, error) {
	name = strings.TrimSpace(name)
	if role != domain.TokenOperator && role != domain.TokenLeader {
		return "", nil, domain.Errorf(domain.EINVALID, "role: must be operator or leader, not %q", role)
	}
	if name == "" {
		return "", nil, domain.Errorf(domain.EINVALID, "name: say who the token is for")
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, err
	}
	secret := tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	t := &domain.Token{Name: name, Role: role, CreatedAt: s.db.now()}
	err := s.db.write(ctx, func(tx *sql.Tx) error {
		return insertID(ctx, tx, &t.ID, `INSERT INTO tokens (name, role, hash, created_at) VALUES (?, ?, ?, ?)`,
			name, role, hashToken(secret), fmtTime(t.CreatedAt))
	})
	if err != nil {
		return "", nil, fmt.Errorf("create token: %w", err)
	}
	return secret, t, nil
}

// Authenticate returns the token a secret belongs to.
func (s *TokenService) Authenticate(ctx context.Context, secret string) (*domain.Token, error) {
	if secret == "" {
		return nil, domain.Errorf(domain.EUNAUTHORIZED, "no token given; send Authorization: Bearer TOKEN (create one with karyashala token create)")
	}
	var t domain.Token
	var created string
	var used sql.NullString
	err := s.db.r.QueryRowContext(ctx, `SELECT id, name, role, created_at, last_used_at FROM tokens WHERE hash = ?`, hashToken(secret)).
		Scan(&t.ID, &t.Name, &t.Role, &created, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, domain.Errorf(domain.EUNAUTHORIZED, "token not recognised; create one with karyashala token create")
	} else if err != nil {
		return nil, err
	}
	t.CreatedAt, t.LastUsedAt = parseTime(created), parseTimePtr(used)
	return &t, nil
}
