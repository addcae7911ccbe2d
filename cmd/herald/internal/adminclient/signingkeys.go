package adminclient

import (
	"context"
	"net/http"

	"github.com/heraldhq/herald/controlplane"
)

// ListSigningKeys returns one page of token signing keys, newest first.
func (c *Client) ListSigningKeys(ctx context.Context, limit int, cursor string) (Page[controlplane.SigningKey], error) {
	var out Page[controlplane.SigningKey]
	err := c.do(ctx, http.MethodGet, prefix+"/signing-keys"+pageQuery(limit, cursor, nil), nil, &out)
	return out, err
}

// RotateSigningKey adds a signing key that signs from now on.
func (c *Client) RotateSigningKey(ctx context.Context) (controlplane.SigningKey, error) {
	var out controlplane.SigningKey
	err := c.do(ctx, http.MethodPost, prefix+"/signing-keys/rotate", nil, &out)
	return out, err
}

// RetireSigningKey retires a signing key: its tokens stop verifying.
func (c *Client) RetireSigningKey(ctx context.Context, kid string) error {
	return c.do(ctx, http.MethodPost, prefix+"/signing-keys/"+esc(kid)+"/retire", nil, nil)
}
