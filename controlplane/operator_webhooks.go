package controlplane

import "context"

// NewOperatorWebhookEndpoint is what creating an operator endpoint
// returns: the endpoint, with its signing key, and the secret of that
// key, shown this once.
type NewOperatorWebhookEndpoint struct {
	WebhookEndpoint
	Secret string `json:"secret"`
}

// OperatorWebhookStore keeps the operator webhook endpoints
// (docs/webhooks.md, "Operator webhooks"): global endpoints, signed with
// a key of their own, that receive the platform's quota events. Their
// deliveries and log are those of app endpoints.
type OperatorWebhookStore interface {
	// CreateOperatorWebhookEndpoint generates the endpoint's signing key
	// and secret; in.MaxEndpoints and in.Batch are not read.
	CreateOperatorWebhookEndpoint(ctx context.Context, in NewWebhookEndpoint) (NewOperatorWebhookEndpoint, error)
	GetOperatorWebhookEndpoint(ctx context.Context, id string) (WebhookEndpoint, error)
	ListOperatorWebhookEndpoints(ctx context.Context) ([]WebhookEndpoint, error)
	UpdateOperatorWebhookEndpoint(ctx context.Context, id string, patch WebhookEndpointPatch) (WebhookEndpoint, error)
	DeleteOperatorWebhookEndpoint(ctx context.Context, id string) error
	// ListOperatorWebhookDeliveries ignores q.AppID.
	ListOperatorWebhookDeliveries(ctx context.Context, q WebhookDeliveryQuery) (items []WebhookDelivery, next string, err error)
	RedeliverOperatorWebhook(ctx context.Context, endpointID, deliveryID string) error
}
