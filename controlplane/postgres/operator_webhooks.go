package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/controlplane"
)

// Operator endpoints (docs/webhooks.md, "Operator webhooks") are rows of
// webhook_endpoints without an app, with a signing key and sealed secret
// of their own (migration 009): the queue, the deliveries, the leases and
// the log are those of app endpoints. Their methods here pass a nil owner
// to the shared ones.

// operatorSecretAAD binds an operator endpoint's sealed secret to the
// endpoint and its key, as channels.SecretAAD binds an app key's.
func operatorSecretAAD(endpointID, key string) []byte {
	return []byte("herald-operator-webhook\x00" + endpointID + "\x00" + key)
}

// CreateOperatorWebhookEndpoint stores a new operator endpoint with a
// generated signing key and secret; the secret is stored sealed and
// returned only here.
func (s *Store) CreateOperatorWebhookEndpoint(ctx context.Context, in controlplane.NewWebhookEndpoint) (controlplane.NewOperatorWebhookEndpoint, error) {
	headers, err := encodeHeaders(in.Headers)
	if err != nil {
		return controlplane.NewOperatorWebhookEndpoint{}, err
	}
	id, key, secret := newWebhookID(), newKey(), newSecret()
	sealed := s.box.Seal([]byte(secret), operatorSecretAAD(id, key))
	w, err := scanWebhook(s.pool.QueryRow(ctx,
		`insert into webhook_endpoints (id, url, events, batch, enabled, channel_filter, headers, signing_key, sealed_secret)
		 values ($1, $2, $3, false, $4, '', $5, $6, $7) returning `+webhookColumns,
		id, in.URL, eventStrings(in.Events), in.Enabled, headers, key, sealed))
	if err != nil {
		return controlplane.NewOperatorWebhookEndpoint{}, fmt.Errorf("create operator webhook endpoint: %w", err)
	}
	return controlplane.NewOperatorWebhookEndpoint{WebhookEndpoint: w, Secret: secret}, nil
}

// GetOperatorWebhookEndpoint returns one operator endpoint, or NotFound.
func (s *Store) GetOperatorWebhookEndpoint(ctx context.Context, id string) (controlplane.WebhookEndpoint, error) {
	return s.getWebhookEndpoint(ctx, nil, id)
}

// ListOperatorWebhookEndpoints lists the operator endpoints, oldest
// first.
func (s *Store) ListOperatorWebhookEndpoints(ctx context.Context) ([]controlplane.WebhookEndpoint, error) {
	return s.operatorEndpoints(ctx, false)
}

// OperatorWebhookTargets returns the enabled operator endpoints, for
// matching operator events against.
func (s *Store) OperatorWebhookTargets(ctx context.Context) ([]controlplane.WebhookEndpoint, error) {
	return s.operatorEndpoints(ctx, true)
}

func (s *Store) operatorEndpoints(ctx context.Context, enabledOnly bool) ([]controlplane.WebhookEndpoint, error) {
	rows, _ := s.pool.Query(ctx,
		"select "+webhookColumns+" from webhook_endpoints where app_id is null and (enabled or not $1) order by created_at, id",
		enabledOnly)
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (controlplane.WebhookEndpoint, error) {
		return scanWebhook(r)
	})
	if err != nil {
		return nil, fmt.Errorf("list operator webhook endpoints: %w", err)
	}
	return items, nil
}

// UpdateOperatorWebhookEndpoint applies patch, as UpdateWebhookEndpoint.
func (s *Store) UpdateOperatorWebhookEndpoint(ctx context.Context, id string, patch controlplane.WebhookEndpointPatch) (controlplane.WebhookEndpoint, error) {
	return s.updateWebhookEndpoint(ctx, nil, id, patch)
}

// DeleteOperatorWebhookEndpoint removes an operator endpoint, its queue
// and its log.
func (s *Store) DeleteOperatorWebhookEndpoint(ctx context.Context, id string) error {
	return s.deleteWebhookEndpoint(ctx, nil, id)
}

// ListOperatorWebhookDeliveries reads an operator endpoint's delivery
// log, newest first; q.AppID is not read.
func (s *Store) ListOperatorWebhookDeliveries(ctx context.Context, q controlplane.WebhookDeliveryQuery) ([]controlplane.WebhookDelivery, string, error) {
	return s.listWebhookDeliveries(ctx, nil, q)
}

// RedeliverOperatorWebhook makes a delivery of an operator endpoint
// pending again, as RedeliverWebhook.
func (s *Store) RedeliverOperatorWebhook(ctx context.Context, endpointID, deliveryID string) error {
	return s.redeliverWebhook(ctx, nil, endpointID, deliveryID)
}

// OperatorWebhookSigner returns an operator endpoint's signing key and
// its secret; NotFound when there is no such operator endpoint.
func (s *Store) OperatorWebhookSigner(ctx context.Context, endpointID string) (key, secret string, err error) {
	var sealed []byte
	err = s.pool.QueryRow(ctx,
		"select signing_key, sealed_secret from webhook_endpoints where id = $1 and app_id is null", endpointID).
		Scan(&key, &sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", webhookNotFound(endpointID)
	}
	if err != nil {
		return "", "", fmt.Errorf("operator webhook signer of %s: %w", endpointID, err)
	}
	plain, err := s.box.Open(sealed, operatorSecretAAD(endpointID, key))
	if err != nil {
		return "", "", fmt.Errorf("operator webhook signer of %s: open secret: %w", endpointID, err)
	}
	return key, string(plain), nil
}
