package webhooks

import (
	"context"
	"encoding/json"
	"time"

	"github.com/heraldhq/herald/controlplane"
)

// TestEventName is the event a test request carries.
const TestEventName = "webhook_test"

// testDeliveryPrefix starts the X-Herald-Delivery of a test request,
// which is not kept in the delivery log.
const testDeliveryPrefix = "whd_test_"

// TestResult is the endpoint's answer to a test request.
type TestResult struct {
	// StatusCode is 0 when no answer came.
	StatusCode int    `json:"status_code"`
	OK         bool   `json:"ok"`
	Error      string `json:"error,omitempty"`
	DurationMS int64  `json:"duration_ms"`
}

// Test sends the endpoint a signed {"name":"webhook_test"} event now,
// outside its queue, and reports the answer.
func (d *Dispatcher) Test(ctx context.Context, appID, endpointID string) (TestResult, error) {
	w, err := d.store.GetWebhookEndpoint(ctx, appID, endpointID)
	if err != nil {
		return TestResult{}, err
	}
	return d.test(ctx, w), nil
}

// TestOperator sends an operator endpoint a signed
// {"name":"webhook_test"} event now, as Test.
func (d *Dispatcher) TestOperator(ctx context.Context, endpointID string) (TestResult, error) {
	w, err := d.store.GetOperatorWebhookEndpoint(ctx, endpointID)
	if err != nil {
		return TestResult{}, err
	}
	return d.test(ctx, w), nil
}

func (d *Dispatcher) test(ctx context.Context, w controlplane.WebhookEndpoint) TestResult {
	ev, _ := json.Marshal(map[string]string{"name": TestEventName})
	s := controlplane.WebhookSend{
		ID: testDeliveryPrefix + time.Now().UTC().Format("20060102T150405.000000000"), EndpointID: w.ID, AppID: w.AppID, URL: w.URL,
		Headers: w.Headers, Body: controlplane.WebhookBody(time.Now().UnixMilli(), []json.RawMessage{ev}),
	}
	o := d.request(ctx, s)
	return TestResult{StatusCode: o.statusCode, OK: o.ok(), Error: o.err, DurationMS: o.duration.Milliseconds()}
}
