package channels

import "time"

// AppConfig is an app's effective configuration as gateways see it. The
// control plane writes one per app to the HERALD_APPS KV bucket; gateways
// watch the bucket and never ask the database.
type AppConfig struct {
	ID        string   `json:"id"`
	AccountID string   `json:"account_id"`
	Name      string   `json:"name"`
	Enabled   bool     `json:"enabled"`
	Shard     int      `json:"shard"`
	Settings  Settings `json:"settings"`
	// Quota is the account plan's part the edge enforces (quota.go).
	Quota Quota `json:"quota"`
	// WebhookEvents are the kinds of webhook event at least one of the
	// app's enabled endpoints wants (docs/webhooks.md): gateways publish
	// no other kind, so an app without webhooks costs nothing.
	WebhookEvents []WebhookEventName `json:"webhook_events,omitempty"`
	Keys          []AppKey           `json:"keys"`
	UpdatedAt     time.Time          `json:"updated_at"`
}

// AppKey is one live (unrevoked) key of an app. Revoked keys are absent.
type AppKey struct {
	Key string `json:"key"`
	// SealedSecret is the secret sealed with the platform master key (see
	// internal/secretbox), bound to the app id and key so that it cannot be
	// moved to another key. It is never sent in clear.
	SealedSecret []byte `json:"sealed_secret"`
}

// Key returns the live key named key, if any.
func (c *AppConfig) Key(key string) (AppKey, bool) {
	for _, k := range c.Keys {
		if k.Key == key {
			return k, true
		}
	}
	return AppKey{}, false
}

// SecretAAD is the additional data that binds a sealed key secret to its
// app and key.
func SecretAAD(appID, key string) []byte {
	return []byte("herald-app-key\x00" + appID + "\x00" + key)
}
