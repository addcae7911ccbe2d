package adminclient

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
)

// prefix is the root of the admin API.
const prefix = "/admin/v1"

// NewApp is the input of CreateApp. ID is generated when empty; Settings,
// when set, is a partial object over the defaults.
type NewApp struct {
	AccountID string                  `json:"account_id"`
	Name      string                  `json:"name"`
	ID        string                  `json:"id,omitempty"`
	Settings  *channels.SettingsPatch `json:"settings,omitempty"`
}

// Patch is a partial update of an app: nil fields, settings included one
// by one, are left as they are.
type Patch struct {
	Name     *string                 `json:"name,omitempty"`
	Enabled  *bool                   `json:"enabled,omitempty"`
	Settings *channels.SettingsPatch `json:"settings,omitempty"`
}

// NewToken is an admin token just created: the only time Token is shown.
type NewToken struct {
	Token string `json:"token"`
	controlplane.AdminToken
}

type nameBody struct {
	Name string `json:"name"`
}

type keyBody struct {
	Key    string `json:"key,omitempty"`
	Secret string `json:"secret,omitempty"`
}

func esc(s string) string { return url.PathEscape(s) }

// CreateAccount creates an account.
func (c *Client) CreateAccount(ctx context.Context, name string) (controlplane.Account, error) {
	var out controlplane.Account
	err := c.do(ctx, http.MethodPost, prefix+"/accounts", nameBody{name}, &out)
	return out, err
}

// ListAccounts returns one page of accounts; limit 0 means the server's
// default and cursor "" the first page.
func (c *Client) ListAccounts(ctx context.Context, limit int, cursor string) (Page[controlplane.Account], error) {
	var out Page[controlplane.Account]
	err := c.do(ctx, http.MethodGet, prefix+"/accounts"+pageQuery(limit, cursor, nil), nil, &out)
	return out, err
}

// GetAccount returns one account.
func (c *Client) GetAccount(ctx context.Context, id string) (controlplane.Account, error) {
	var out controlplane.Account
	err := c.do(ctx, http.MethodGet, prefix+"/accounts/"+esc(id), nil, &out)
	return out, err
}

// DeleteAccount deletes an account that has no apps.
func (c *Client) DeleteAccount(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, prefix+"/accounts/"+esc(id), nil, nil)
}

// CreateApp creates an app.
func (c *Client) CreateApp(ctx context.Context, in NewApp) (controlplane.App, error) {
	var out controlplane.App
	err := c.do(ctx, http.MethodPost, prefix+"/apps", in, &out)
	return out, err
}

// ListApps returns one page of the apps that f selects.
func (c *Client) ListApps(ctx context.Context, f controlplane.AppFilter, limit int, cursor string) (Page[controlplane.App], error) {
	extra := url.Values{}
	if f.AccountID != "" {
		extra.Set("account_id", f.AccountID)
	}
	if f.Search != "" {
		extra.Set("q", f.Search)
	}
	var out Page[controlplane.App]
	err := c.do(ctx, http.MethodGet, prefix+"/apps"+pageQuery(limit, cursor, extra), nil, &out)
	return out, err
}

// GetApp returns one app.
func (c *Client) GetApp(ctx context.Context, id string) (controlplane.App, error) {
	var out controlplane.App
	err := c.do(ctx, http.MethodGet, prefix+"/apps/"+esc(id), nil, &out)
	return out, err
}

// UpdateApp applies a partial update and returns the app as it now is.
func (c *Client) UpdateApp(ctx context.Context, id string, p Patch) (controlplane.App, error) {
	var out controlplane.App
	err := c.do(ctx, http.MethodPatch, prefix+"/apps/"+esc(id), p, &out)
	return out, err
}

// DeleteApp deletes an app and its keys.
func (c *Client) DeleteApp(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, prefix+"/apps/"+esc(id), nil, nil)
}

// CreateKey makes a new key for an app; the answer is the only time its
// secret is shown.
func (c *Client) CreateKey(ctx context.Context, appID string) (controlplane.NewKey, error) {
	return c.ImportKey(ctx, appID, "", "")
}

// ImportKey adds a key with a chosen key and secret (either may be empty
// to have it generated), to move credentials from another
// Pusher-compatible service.
func (c *Client) ImportKey(ctx context.Context, appID, key, secret string) (controlplane.NewKey, error) {
	var out controlplane.NewKey
	err := c.do(ctx, http.MethodPost, prefix+"/apps/"+esc(appID)+"/keys", keyBody{key, secret}, &out)
	return out, err
}

// ListKeys returns one page of an app's keys, without secrets.
func (c *Client) ListKeys(ctx context.Context, appID string, limit int, cursor string) (Page[controlplane.Key], error) {
	var out Page[controlplane.Key]
	err := c.do(ctx, http.MethodGet, prefix+"/apps/"+esc(appID)+"/keys"+pageQuery(limit, cursor, nil), nil, &out)
	return out, err
}

// RevokeKey revokes one key of an app.
func (c *Client) RevokeKey(ctx context.Context, appID, key string) error {
	return c.do(ctx, http.MethodDelete, prefix+"/apps/"+esc(appID)+"/keys/"+esc(key), nil, nil)
}

// CreateToken makes an admin token; the answer is the only time it is
// shown.
func (c *Client) CreateToken(ctx context.Context, name string) (NewToken, error) {
	var out NewToken
	err := c.do(ctx, http.MethodPost, prefix+"/tokens", nameBody{name}, &out)
	return out, err
}

// ListTokens returns one page of admin tokens, never the tokens themselves.
func (c *Client) ListTokens(ctx context.Context, limit int, cursor string) (Page[controlplane.AdminToken], error) {
	var out Page[controlplane.AdminToken]
	err := c.do(ctx, http.MethodGet, prefix+"/tokens"+pageQuery(limit, cursor, nil), nil, &out)
	return out, err
}

// RevokeToken revokes an admin token by id.
func (c *Client) RevokeToken(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, prefix+"/tokens/"+esc(id), nil, nil)
}

// ListAudit returns one page of the audit log, newest first.
func (c *Client) ListAudit(ctx context.Context, limit int, cursor string) (Page[controlplane.AuditEntry], error) {
	var out Page[controlplane.AuditEntry]
	err := c.do(ctx, http.MethodGet, prefix+"/audit"+pageQuery(limit, cursor, nil), nil, &out)
	return out, err
}

// OpenAPI returns the admin API's OpenAPI 3.0 document.
func (c *Client) OpenAPI(ctx context.Context) (json.RawMessage, error) {
	var out json.RawMessage
	err := c.do(ctx, http.MethodGet, prefix+"/openapi.json", nil, &out)
	return out, err
}
