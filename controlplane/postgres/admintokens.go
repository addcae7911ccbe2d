package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
)

const adminTokenColumns = "id, name, created_at, revoked_at"

// CreateAdminToken makes a new admin token: "hat_" and 256 random bits in
// base64url. The token is returned only here; the database keeps its
// SHA-256.
func (s *Store) CreateAdminToken(ctx context.Context, name string) (string, controlplane.AdminToken, error) {
	if err := channels.ValidateName("name", name); err != nil {
		return "", controlplane.AdminToken{}, err
	}
	token := newAdminToken()
	row := s.pool.QueryRow(ctx,
		"insert into admin_tokens (id, name, token_hash) values ($1, $2, $3) returning "+adminTokenColumns,
		newAdminTokenID(), name, hashAdminToken(token))
	info, err := scanAdminToken(row)
	if err != nil {
		return "", controlplane.AdminToken{}, fmt.Errorf("create admin token: %w", err)
	}
	return token, info, nil
}

// VerifyAdminToken returns the live token that token is, or an
// Unauthorized error.
//
// The lookup compares hashes in a B-tree rather than the token in constant
// time, and that is safe: what a timing side channel could reveal is how
// much of the SHA-256 of a guess matches a stored hash, and knowing hash
// prefixes does not help find a preimage among 2^256 tokens.
func (s *Store) VerifyAdminToken(ctx context.Context, token string) (controlplane.AdminToken, error) {
	if len(token) != adminTokenLen || !strings.HasPrefix(token, adminTokenPrefix) {
		return controlplane.AdminToken{}, errInvalidAdminToken()
	}
	row := s.pool.QueryRow(ctx,
		"select "+adminTokenColumns+" from admin_tokens where token_hash = $1 and revoked_at is null",
		hashAdminToken(token))
	info, err := scanAdminToken(row)
	if errors.Is(err, pgx.ErrNoRows) {
		return controlplane.AdminToken{}, errInvalidAdminToken()
	}
	if err != nil {
		return controlplane.AdminToken{}, fmt.Errorf("verify admin token: %w", err)
	}
	return info, nil
}

// ListAdminTokens lists every admin token, revoked ones included, oldest
// first.
func (s *Store) ListAdminTokens(ctx context.Context) ([]controlplane.AdminToken, error) {
	rows, _ := s.pool.Query(ctx, "select "+adminTokenColumns+" from admin_tokens order by created_at, id")
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (controlplane.AdminToken, error) {
		return scanAdminToken(r)
	})
	if err != nil {
		return nil, fmt.Errorf("list admin tokens: %w", err)
	}
	return items, nil
}

// RevokeAdminToken makes a token unusable. Revoking it again succeeds and
// keeps the first revocation time.
func (s *Store) RevokeAdminToken(ctx context.Context, id string) error {
	tag, err := s.pool.Exec(ctx,
		"update admin_tokens set revoked_at = coalesce(revoked_at, now()) where id = $1", id)
	if err != nil {
		return fmt.Errorf("revoke admin token %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return channels.NotFound(fmt.Sprintf("admin token %s not found", id))
	}
	return nil
}

func errInvalidAdminToken() error {
	return &channels.Error{Code: channels.CodeUnauthorized, Message: "invalid admin token"}
}

func scanAdminToken(r pgx.Row) (controlplane.AdminToken, error) {
	var t controlplane.AdminToken
	if err := r.Scan(&t.ID, &t.Name, &t.CreatedAt, &t.RevokedAt); err != nil {
		return controlplane.AdminToken{}, err
	}
	t.CreatedAt, t.RevokedAt = utc(t.CreatedAt), utcPtr(t.RevokedAt)
	return t, nil
}
