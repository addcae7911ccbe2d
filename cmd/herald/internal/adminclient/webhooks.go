package adminclient

import (
	"context"
	"net/http"
	"net/url"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/controlplane/webhooks"
)

// Webhook is the body of CreateWebhook and UpdateWebhook: nil fields are
// left out (defaults on creation, unchanged on update).
type Webhook struct {
	URL           *string                      `json:"url,omitempty"`
	Events        *[]channels.WebhookEventName `json:"events,omitempty"`
	Batch         *bool                        `json:"batch,omitempty"`
	Enabled       *bool                        `json:"enabled,omitempty"`
	ChannelFilter *string                      `json:"channel_filter,omitempty"`
	Headers       *map[string]string           `json:"headers,omitempty"`
}

func webhooksPath(appID string) string { return prefix + "/apps/" + esc(appID) + "/webhooks" }

func webhookPath(appID, id string) string { return webhooksPath(appID) + "/" + esc(id) }

// CreateWebhook adds a webhook endpoint to an app.
func (c *Client) CreateWebhook(ctx context.Context, appID string, w Webhook) (controlplane.WebhookEndpoint, error) {
	var out controlplane.WebhookEndpoint
	err := c.do(ctx, http.MethodPost, webhooksPath(appID), w, &out)
	return out, err
}

// ListWebhooks returns one page of an app's webhook endpoints.
func (c *Client) ListWebhooks(ctx context.Context, appID string, limit int, cursor string) (Page[controlplane.WebhookEndpoint], error) {
	var out Page[controlplane.WebhookEndpoint]
	err := c.do(ctx, http.MethodGet, webhooksPath(appID)+pageQuery(limit, cursor, nil), nil, &out)
	return out, err
}

// GetWebhook returns one endpoint.
func (c *Client) GetWebhook(ctx context.Context, appID, id string) (controlplane.WebhookEndpoint, error) {
	var out controlplane.WebhookEndpoint
	err := c.do(ctx, http.MethodGet, webhookPath(appID, id), nil, &out)
	return out, err
}

// UpdateWebhook changes an endpoint's given fields.
func (c *Client) UpdateWebhook(ctx context.Context, appID, id string, w Webhook) (controlplane.WebhookEndpoint, error) {
	var out controlplane.WebhookEndpoint
	err := c.do(ctx, http.MethodPatch, webhookPath(appID, id), w, &out)
	return out, err
}

// DeleteWebhook deletes an endpoint and its delivery log.
func (c *Client) DeleteWebhook(ctx context.Context, appID, id string) error {
	return c.do(ctx, http.MethodDelete, webhookPath(appID, id), nil, nil)
}

// ListWebhookDeliveries returns one page of an endpoint's delivery log,
// newest first, only in status when it is not empty.
func (c *Client) ListWebhookDeliveries(ctx context.Context, appID, id, status string, limit int, cursor string) (Page[controlplane.WebhookDelivery], error) {
	return c.listDeliveriesAt(ctx, webhookPath(appID, id), status, limit, cursor)
}

// listDeliveriesAt reads the delivery log of the endpoint at path.
func (c *Client) listDeliveriesAt(ctx context.Context, path, status string, limit int, cursor string) (Page[controlplane.WebhookDelivery], error) {
	var extra url.Values
	if status != "" {
		extra = url.Values{"status": {status}}
	}
	var out Page[controlplane.WebhookDelivery]
	err := c.do(ctx, http.MethodGet, path+"/deliveries"+pageQuery(limit, cursor, extra), nil, &out)
	return out, err
}

// RedeliverWebhook sends a delivery again.
func (c *Client) RedeliverWebhook(ctx context.Context, appID, id, deliveryID string) error {
	return c.redeliverAt(ctx, webhookPath(appID, id), deliveryID)
}

func (c *Client) redeliverAt(ctx context.Context, path, deliveryID string) error {
	return c.do(ctx, http.MethodPost, path+"/deliveries/"+esc(deliveryID)+"/redeliver", nil, nil)
}

// TestWebhook sends the endpoint a signed test event and returns its
// answer.
func (c *Client) TestWebhook(ctx context.Context, appID, id string) (webhooks.TestResult, error) {
	return c.testAt(ctx, webhookPath(appID, id))
}

func (c *Client) testAt(ctx context.Context, path string) (webhooks.TestResult, error) {
	var out webhooks.TestResult
	err := c.do(ctx, http.MethodPost, path+"/test", nil, &out)
	return out, err
}
