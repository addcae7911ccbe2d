// Package webhookevents is the NATS contract of webhooks
// (docs/webhooks.md): the HERALD_WEBHOOK_EVENTS stream that carries
// channels.WebhookEnvelope values from where events happen to the
// dispatcher in the control plane. One subject per app and channel keeps
// a channel's events in order for a consumer that filters or partitions
// by subject.
package webhookevents

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/logstream"
	"github.com/heraldhq/herald/channels"
)

// Names of the stream and its subjects.
const (
	// Stream holds webhook events until the dispatcher has taken them.
	Stream = "HERALD_WEBHOOK_EVENTS"
	// SubjectPrefix starts every event subject:
	// herald.webhook.<app>.<channel token>.
	SubjectPrefix = "herald.webhook"
	// OperatorApp is the app id of operator events (quota_warning,
	// quota_reached, quota_exceeded; docs/webhooks.md, "Operator webhooks"): no app can
	// have it (channels.ValidateAppID refuses '~'), so their subjects,
	// herald.webhook.~operator.<account>, are apart from every app's,
	// and the dispatcher matches them with operator endpoints.
	OperatorApp = "~operator"
)

// StreamConfig configures the stream; zero fields take the logstream
// defaults: an event waits up to a day for a dispatcher (the longest
// control-plane outage webhooks ride out), and an event published again
// within two minutes under the same id (a retry, or two processes that
// both saw the transition) is stored once.
type StreamConfig = logstream.Config

// Subject is where an app's events about channel go.
func Subject(appID, channel string) string {
	return SubjectPrefix + "." + appID + "." + channels.SubjectToken(channel)
}

// AppSubjects matches every event subject of an app.
func AppSubjects(appID string) string { return SubjectPrefix + "." + appID + ".>" }

// EnsureStream creates the stream or brings it to cfg; idempotent and
// safe to call from several processes at once.
func EnsureStream(ctx context.Context, js jetstream.JetStream, cfg StreamConfig) error {
	return logstream.Ensure(ctx, js, Stream, "Herald webhook events", []string{SubjectPrefix + ".>"}, cfg)
}

// OperatorSubject is where the operator events about an account go: one
// subject per account keeps its events in order.
func OperatorSubject(accountID string) string {
	return SubjectPrefix + "." + OperatorApp + "." + channels.SubjectToken(accountID)
}

// PublishOperator stores one operator event about accountID, under
// msgID (see Publish).
func PublishOperator(ctx context.Context, js jetstream.JetStream, accountID string, timeMS int64, ev channels.WebhookEvent, msgID string) error {
	env := channels.WebhookEnvelope{AppID: OperatorApp, TimeMS: timeMS, Event: ev}
	return publish(ctx, js, OperatorSubject(accountID), env, msgID)
}

// Publish stores one event and waits for the stream's acknowledgement.
// msgID, when not empty, names the event so that the same event
// published again within the duplicate window is stored once.
func Publish(ctx context.Context, js jetstream.JetStream, env channels.WebhookEnvelope, msgID string) error {
	return publish(ctx, js, Subject(env.AppID, env.Event.Channel), env, msgID)
}

func publish(ctx context.Context, js jetstream.JetStream, subject string, env channels.WebhookEnvelope, msgID string) error {
	payload, err := json.Marshal(env)
	if err != nil {
		return fmt.Errorf("encode webhook event: %w", err)
	}
	msg := &nats.Msg{Subject: subject, Data: payload, Header: nats.Header{}}
	if msgID != "" {
		msg.Header.Set(jetstream.MsgIDHeader, msgID)
	}
	if _, err := js.PublishMsg(ctx, msg); err != nil {
		return fmt.Errorf("publish webhook event: %w", err)
	}
	return nil
}

// Decode reads an event the stream delivered.
func Decode(data []byte) (channels.WebhookEnvelope, error) {
	var env channels.WebhookEnvelope
	if err := json.Unmarshal(data, &env); err != nil {
		return env, fmt.Errorf("decode webhook event: %w", err)
	}
	return env, nil
}
