// Package controlplane holds the control plane's types and the Store
// contract that its adapters share: controlplane/postgres implements the
// Store, controlplane/api serves it over HTTP, controlplane/appsync copies
// app configs to NATS.
package controlplane

import (
	"context"
	"encoding/json"
	"time"

	"github.com/heraldhq/herald/channels"
)

// Page limits for list calls.
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 500
)

// Account owns apps.
type Account struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// PlanID is the account's plan (docs/billing.md, "Plans"); nil
	// means none: unlimited.
	PlanID    *string   `json:"plan_id"`
	CreatedAt time.Time `json:"created_at"`
}

// App is a tenant application.
type App struct {
	ID        string            `json:"id"`
	AccountID string            `json:"account_id"`
	Name      string            `json:"name"`
	Enabled   bool              `json:"enabled"`
	Settings  channels.Settings `json:"settings"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
}

// NewApp is the input of CreateApp. An empty ID gets a generated one; a nil
// Settings patch means the defaults.
type NewApp struct {
	ID        string
	AccountID string
	Name      string
	Settings  channels.SettingsPatch
}

// AppPatch is a partial update of an app; nil fields are unchanged.
type AppPatch struct {
	Name     *string
	Enabled  *bool
	Settings channels.SettingsPatch
}

// Key is an app key as listed: never with its secret.
type Key struct {
	Key       string     `json:"key"`
	AppID     string     `json:"app_id"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at"`
}

// NewKey is a key just created: the only time its secret is shown.
type NewKey struct {
	Key
	Secret string `json:"secret"`
}

// AdminToken describes a stored admin token; the token itself is kept only
// as a hash.
type AdminToken struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at"`
}

// AuditEntry is one admin action.
type AuditEntry struct {
	ID      int64           `json:"id"`
	At      time.Time       `json:"at"`
	Actor   string          `json:"actor"`
	Action  string          `json:"action"`
	Target  string          `json:"target"`
	Details json.RawMessage `json:"details,omitempty"`
}

// Page asks for one page of a list. Cursor is opaque: the NextCursor of the
// previous page, or empty for the first.
type Page struct {
	Limit  int
	Cursor string
}

// MaxAppSearchLen bounds AppFilter.Search, in characters after trimming:
// as long as an app name (channels.MaxNameLen), so any name can be
// searched for.
const MaxAppSearchLen = channels.MaxNameLen

// AppFilter selects the apps that ListApps lists. Empty fields select
// every app.
type AppFilter struct {
	// AccountID keeps only the apps of this account.
	AccountID string
	// Search keeps only the apps whose name or id contains it, ignoring
	// case and the spaces around it; wildcard characters match
	// themselves. The store rejects one longer than MaxAppSearchLen
	// (ErrBadRequest naming "q", the API's parameter).
	Search string
}

// ConfigPublisher copies an app's effective config to the gateways (the
// HERALD_APPS KV bucket). Callers invoke it after every change to an app or
// its keys; SyncApp of a deleted app removes its entry.
type ConfigPublisher interface {
	SyncApp(ctx context.Context, appID string) error
}

// Store is the control plane's persistent state. Every method returns
// *channels.Error for failures a caller should see (ErrNotFound,
// ErrConflict, ErrBadRequest with a field) and wrapped errors otherwise.
type Store interface {
	CreateAccount(ctx context.Context, name string) (Account, error)
	GetAccount(ctx context.Context, id string) (Account, error)
	ListAccounts(ctx context.Context, p Page) (items []Account, next string, err error)
	// DeleteAccount fails with ErrConflict while the account has apps.
	DeleteAccount(ctx context.Context, id string) error

	CreateApp(ctx context.Context, in NewApp) (App, error)
	GetApp(ctx context.Context, id string) (App, error)
	ListApps(ctx context.Context, f AppFilter, p Page) (items []App, next string, err error)
	UpdateApp(ctx context.Context, id string, patch AppPatch) (App, error)
	// DeleteApp removes the app and its keys.
	DeleteApp(ctx context.Context, id string) error

	// CreateKey makes a new key. An empty key and secret are generated.
	CreateKey(ctx context.Context, appID, key, secret string) (NewKey, error)
	ListKeys(ctx context.Context, appID string) ([]Key, error)
	RevokeKey(ctx context.Context, appID, key string) error

	// AppConfig is the effective config published to gateways.
	AppConfig(ctx context.Context, appID string) (channels.AppConfig, error)
	// AppIDs lists every app id, for a full resync.
	AppIDs(ctx context.Context) ([]string, error)

	CreateAdminToken(ctx context.Context, name string) (token string, info AdminToken, err error)
	// VerifyAdminToken returns the live token matching the presented
	// secret, or ErrUnauthorized.
	VerifyAdminToken(ctx context.Context, token string) (AdminToken, error)
	ListAdminTokens(ctx context.Context) ([]AdminToken, error)
	RevokeAdminToken(ctx context.Context, id string) error

	SigningKeyStore
	UsageStore
	PlanStore
	WebhookStore
	OperatorWebhookStore

	RecordAudit(ctx context.Context, e AuditEntry) error
	ListAudit(ctx context.Context, p Page) (items []AuditEntry, next string, err error)

	// Ping checks the database and that migrations are applied.
	Ping(ctx context.Context) error
}
