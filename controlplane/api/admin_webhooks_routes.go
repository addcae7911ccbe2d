package api

import (
	"net/http"

	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/controlplane/webhooks"
)

// webhookRoutes are the admin routes of an app's webhook endpoints
// (docs/webhooks.md).
func (a *API) webhookRoutes() []route {
	const (
		tag  = "webhooks"
		base = adminPrefix + "/apps/:id/webhooks"
		one  = base + "/:webhook_id"
	)
	return []route{
		{method: http.MethodPost, path: base, id: "createWebhook", tag: tag,
			summary: "Add a webhook endpoint. events defaults to every kind but subscription_count, enabled to true, batch to false; the URL must be http(s) and, unless the server allows private addresses, reach only public addresses. 400 (field url) when the app is at its plan's max_webhook_endpoints.",
			status:  http.StatusCreated, request: typeOf[createWebhookRequest](),
			response: typeOf[controlplane.WebhookEndpoint](), handler: a.createWebhook},
		{method: http.MethodGet, path: base, id: "listWebhooks", tag: tag,
			summary: "List an app's webhook endpoints, oldest first.", status: http.StatusOK, query: pageParams(),
			response: typeOf[controlplane.WebhookEndpoint](), list: true, handler: a.listWebhooks},
		{method: http.MethodGet, path: one, id: "getWebhook", tag: tag,
			summary: "Get one webhook endpoint.", status: http.StatusOK,
			response: typeOf[controlplane.WebhookEndpoint](), handler: a.getWebhook},
		{method: http.MethodPatch, path: one, id: "updateWebhook", tag: tag,
			summary: "Change any subset of an endpoint's fields. Disabling it fails its pending deliveries and records each event it had queued as a failed delivery (last_error \"endpoint disabled\"), redeliverable once it is enabled again; events stored while it is disabled are not queued for it. Enabling one that was disabled automatically clears that.",
			status:  http.StatusOK, request: typeOf[updateWebhookRequest](),
			response: typeOf[controlplane.WebhookEndpoint](), handler: a.updateWebhook},
		{method: http.MethodDelete, path: one, id: "deleteWebhook", tag: tag,
			summary: "Delete an endpoint and its delivery log.", status: http.StatusNoContent, handler: a.deleteWebhook},
		{method: http.MethodGet, path: one + "/deliveries", id: "listWebhookDeliveries", tag: tag,
			summary: "The endpoint's delivery log, newest first. attempts counts the HTTP requests made, the successful one included.",
			status:  http.StatusOK,
			query: append([]queryParam{{name: "status", description: "Only deliveries in this status: pending, delivered or failed."}},
				pageParams()...),
			response: typeOf[controlplane.WebhookDelivery](), list: true, handler: a.listWebhookDeliveries},
		{method: http.MethodPost, path: one + "/deliveries/:delivery_id/redeliver", id: "redeliverWebhook", tag: tag,
			summary: "Send a delivery again: the same body and X-Herald-Delivery, with a new retry window. 409 while the endpoint is disabled.",
			status:  http.StatusAccepted, handler: a.redeliverWebhook},
		{method: http.MethodPost, path: one + "/test", id: "testWebhook", tag: tag,
			summary: "Send the endpoint a signed {\"name\":\"webhook_test\"} event now and answer its status (status_code 0 when it did not answer).",
			status:  http.StatusOK, response: typeOf[webhooks.TestResult](), handler: a.testWebhook},
	}
}
