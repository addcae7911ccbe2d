// Package appconfig is the HERALD_APPS KV bucket, both sides: the control
// plane writes each app's effective config (channels.AppConfig, secrets
// sealed) under its app id, and every gateway keeps a Cache that watches
// the whole bucket, so that lookups on the edge never touch a database and
// a revoked key stops working about a second after the change.
//
// Control planes keep the same Cache: the REST API looks apps and keys up
// in it too.
package appconfig

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/kvwatch"
	"github.com/heraldhq/herald/channels"
)

// Bucket is the KV bucket that holds app configs, one key per app id.
const Bucket = "HERALD_APPS"

// ErrMalformed marks a value that does not decode to a valid AppConfig.
var ErrMalformed = errors.New("malformed app config")

// EnsureBucket creates the bucket or updates its configuration. Only the
// latest value of each key is kept: the history of an app's config lives
// in Postgres. replicas < 1 means 1.
func EnsureBucket(ctx context.Context, js jetstream.JetStream, replicas int) (jetstream.KeyValue, error) {
	return kvwatch.EnsureLatestBucket(ctx, js, Bucket, "Herald app configs, written by the control plane, watched by gateways", replicas)
}

// Encode is the one encoding of an AppConfig in the bucket.
func Encode(cfg channels.AppConfig) ([]byte, error) {
	if err := channels.ValidateAppID(cfg.ID); err != nil {
		return nil, fmt.Errorf("encode app config: %w", err)
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("encode app config %s: %w", cfg.ID, err)
	}
	return b, nil
}

// Decode parses a value written by Encode. Errors wrap ErrMalformed and
// never quote the value, which holds sealed secrets.
func Decode(data []byte) (channels.AppConfig, error) {
	var cfg channels.AppConfig
	if err := json.Unmarshal(data, &cfg); err != nil {
		return channels.AppConfig{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if err := channels.ValidateAppID(cfg.ID); err != nil {
		return channels.AppConfig{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	for _, k := range cfg.Keys {
		if k.Key == "" {
			return channels.AppConfig{}, fmt.Errorf("%w: app %s has an empty key", ErrMalformed, cfg.ID)
		}
	}
	return cfg, nil
}

// Put writes cfg under its app id, unconditionally. Writers that race
// with other writers (the control plane's syncer) use compare-and-set on
// the KV revision instead.
func Put(ctx context.Context, kv jetstream.KeyValue, cfg channels.AppConfig) error {
	b, err := Encode(cfg)
	if err != nil {
		return err
	}
	if _, err := kv.Put(ctx, cfg.ID, b); err != nil {
		return fmt.Errorf("put app config %s: %w", cfg.ID, err)
	}
	return nil
}

// Delete removes an app's entry; watchers see a delete. Deleting an absent
// app is not an error.
func Delete(ctx context.Context, kv jetstream.KeyValue, appID string) error {
	if err := channels.ValidateAppID(appID); err != nil {
		return fmt.Errorf("delete app config: %w", err)
	}
	if err := kv.Delete(ctx, appID); err != nil {
		return fmt.Errorf("delete app config %s: %w", appID, err)
	}
	return nil
}
