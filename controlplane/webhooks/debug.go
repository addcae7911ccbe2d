package webhooks

import (
	"encoding/json"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
)

// DebugEmitter publishes the debug events of apps a console watches
// (bus/debugstream.Publisher; docs/console.md, "Debug stream").
type DebugEmitter interface {
	Watched(appID string) bool
	Publish(appID string, ev channels.DebugEvent)
}

// debugStatus names a delivery's state after an attempt as the console
// shows it: a pending delivery is being retried.
func debugStatus(s controlplane.WebhookDeliveryStatus) string {
	if s == controlplane.WebhookPending {
		return "retrying"
	}
	return string(s)
}

// debugAttempt reports an attempt recorded for an app endpoint's
// delivery; operator endpoints belong to no app.
func (d *Dispatcher) debugAttempt(s controlplane.WebhookSend, a controlplane.WebhookAttempt) {
	if d.cfg.Debug == nil || s.AppID == "" || !d.cfg.Debug.Watched(s.AppID) {
		return
	}
	d.cfg.Debug.Publish(s.AppID, channels.DebugEvent{Type: channels.DebugWebhook, Webhook: &channels.DebugDelivery{
		EndpointID: s.EndpointID, DeliveryID: s.ID, Status: debugStatus(a.Status), StatusCode: a.StatusCode,
		Attempts: s.Attempts + 1, Events: eventNames(s.Body), Error: a.Error,
	}})
}

// eventNames lists the names of the events in a webhook body.
func eventNames(body []byte) []string {
	var b struct {
		Events []struct {
			Name string `json:"name"`
		} `json:"events"`
	}
	if json.Unmarshal(body, &b) != nil {
		return nil
	}
	names := make([]string, 0, len(b.Events))
	for _, e := range b.Events {
		names = append(names, e.Name)
	}
	return names
}
