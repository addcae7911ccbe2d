package adminclient

import (
	"context"
	"net/http"

	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/controlplane/webhooks"
)

const operatorWebhooksPath = prefix + "/operator/webhooks"

func operatorWebhookPath(id string) string { return operatorWebhooksPath + "/" + esc(id) }

// CreateOperatorWebhook adds an operator webhook endpoint; the answer
// carries its signing secret, this once. Batch and ChannelFilter must be
// nil.
func (c *Client) CreateOperatorWebhook(ctx context.Context, w Webhook) (controlplane.NewOperatorWebhookEndpoint, error) {
	var out controlplane.NewOperatorWebhookEndpoint
	err := c.do(ctx, http.MethodPost, operatorWebhooksPath, w, &out)
	return out, err
}

// ListOperatorWebhooks returns one page of the operator webhook
// endpoints.
func (c *Client) ListOperatorWebhooks(ctx context.Context, limit int, cursor string) (Page[controlplane.WebhookEndpoint], error) {
	var out Page[controlplane.WebhookEndpoint]
	err := c.do(ctx, http.MethodGet, operatorWebhooksPath+pageQuery(limit, cursor, nil), nil, &out)
	return out, err
}

// GetOperatorWebhook returns one operator endpoint.
func (c *Client) GetOperatorWebhook(ctx context.Context, id string) (controlplane.WebhookEndpoint, error) {
	var out controlplane.WebhookEndpoint
	err := c.do(ctx, http.MethodGet, operatorWebhookPath(id), nil, &out)
	return out, err
}

// UpdateOperatorWebhook changes an operator endpoint's given fields.
func (c *Client) UpdateOperatorWebhook(ctx context.Context, id string, w Webhook) (controlplane.WebhookEndpoint, error) {
	var out controlplane.WebhookEndpoint
	err := c.do(ctx, http.MethodPatch, operatorWebhookPath(id), w, &out)
	return out, err
}

// DeleteOperatorWebhook deletes an operator endpoint and its log.
func (c *Client) DeleteOperatorWebhook(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, operatorWebhookPath(id), nil, nil)
}

// ListOperatorWebhookDeliveries returns one page of an operator
// endpoint's delivery log, as ListWebhookDeliveries.
func (c *Client) ListOperatorWebhookDeliveries(ctx context.Context, id, status string, limit int, cursor string) (Page[controlplane.WebhookDelivery], error) {
	return c.listDeliveriesAt(ctx, operatorWebhookPath(id), status, limit, cursor)
}

// RedeliverOperatorWebhook sends a delivery of an operator endpoint
// again.
func (c *Client) RedeliverOperatorWebhook(ctx context.Context, id, deliveryID string) error {
	return c.redeliverAt(ctx, operatorWebhookPath(id), deliveryID)
}

// TestOperatorWebhook sends the operator endpoint a signed test event
// and returns its answer.
func (c *Client) TestOperatorWebhook(ctx context.Context, id string) (webhooks.TestResult, error) {
	return c.testAt(ctx, operatorWebhookPath(id))
}
