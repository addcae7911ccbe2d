package controlplane

import (
	"context"
	"crypto/ed25519"
	"time"
)

// SigningKey is a control-plane token signing key as listed: never with
// its private half. The newest key that is not retired is the Active
// signer; every key that is not retired verifies.
type SigningKey struct {
	KID string `json:"kid"`
	// PublicKey is the raw Ed25519 public key (base64 in JSON).
	PublicKey ed25519.PublicKey `json:"public_key"`
	CreatedAt time.Time         `json:"created_at"`
	RetiredAt *time.Time        `json:"retired_at"`
	Active    bool              `json:"active"`
}

// Live reports whether the key still verifies tokens.
func (k SigningKey) Live() bool { return k.RetiredAt == nil }

// Signer is the active signing key with its private half opened.
type Signer struct {
	KID        string
	PrivateKey ed25519.PrivateKey
}

// SigningKeyPublisher copies the live signing keys' public halves to the
// gateways (the HERALD_SIGNING_KEYS KV bucket). Callers invoke it after
// every rotation or retirement.
type SigningKeyPublisher interface {
	SyncSigningKeys(ctx context.Context) error
}

// SigningKeyStore keeps the control plane's token signing keys.
type SigningKeyStore interface {
	// ListSigningKeys lists every key, retired ones included, newest
	// first.
	ListSigningKeys(ctx context.Context) ([]SigningKey, error)
	// RotateSigningKey adds a key that becomes the signer; older keys
	// keep verifying until retired.
	RotateSigningKey(ctx context.Context) (SigningKey, error)
	// RetireSigningKey stops a key from verifying. Retiring the last
	// live key is ErrConflict (rotate first); an unknown kid is
	// ErrNotFound; retiring a retired key changes nothing.
	RetireSigningKey(ctx context.Context, kid string) error
	// ActiveSigner returns the signer, creating the first key on a
	// database that has none.
	ActiveSigner(ctx context.Context) (Signer, error)
}
