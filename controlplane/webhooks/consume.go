package webhooks

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/webhookevents"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/internal/backoff"
)

// maxAckPending bounds the events fetched and not yet queued across every
// control plane.
const maxAckPending = 4 * DefaultFetchBatch

// consumerConfig is the durable consumer every control plane shares:
// each event goes to one of them, and one that dies before acknowledging
// leaves its events to the others after AckWait. Events are queued in
// whatever order control planes commit their batches; the sender restores
// the stream's order by cutting only up to the ack floor (readFloor).
func (d *Dispatcher) consumerConfig() jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       d.cfg.Consumer,
		Description:   "Herald webhook dispatcher",
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       d.cfg.AckWait,
		MaxDeliver:    -1,
		MaxAckPending: maxAckPending,
		Replicas:      d.cfg.Replicas,
	}
}

// consume runs the consumer, re-creating it after failures.
func (d *Dispatcher) consume(ctx context.Context) error {
	failing := newRetryStreak()
	for {
		err := webhookevents.EnsureStream(ctx, d.cfg.JS, webhookevents.StreamConfig{Replicas: d.cfg.Replicas})
		if err == nil {
			var cons jetstream.Consumer
			cons, err = d.cfg.JS.CreateOrUpdateConsumer(ctx, webhookevents.Stream, d.consumerConfig())
			if err == nil {
				if n := failing.Succeeded(); n > 0 {
					d.log.Info("webhook consumer recovered", "failures", n)
				}
				err = d.pull(ctx, cons)
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		wait, log := failing.Failed()
		if log {
			d.log.Warn("webhook consumer failed; retrying", "err", err, "retry_in", wait)
		}
		if !backoff.Sleep(ctx, wait) {
			return ctx.Err()
		}
	}
}

// pull fetches and queues batches until a failure.
func (d *Dispatcher) pull(ctx context.Context, cons jetstream.Consumer) error {
	for ctx.Err() == nil {
		batch, err := cons.Fetch(DefaultFetchBatch, jetstream.FetchMaxWait(DefaultFetchWait))
		if err != nil {
			return fmt.Errorf("fetch: %w", err)
		}
		var msgs []jetstream.Msg
		for m := range batch.Messages() {
			msgs = append(msgs, m)
		}
		if len(msgs) > 0 {
			if err := d.queue(ctx, msgs); err != nil {
				for _, m := range msgs {
					_ = m.Nak()
				}
				return err
			}
		}
		if err := batch.Error(); err != nil {
			return fmt.Errorf("fetch: %w", err)
		}
		if err := d.readFloor(ctx, cons); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// readFloor reads the consumer's ack floor. Events are acknowledged only
// once queued, so every event at or below it is queued (or needed no
// endpoint); above it, one that a control plane fetched and has not
// queued yet (or that died with it, to be delivered again after AckWait)
// may precede queued ones in its channel.
func (d *Dispatcher) readFloor(ctx context.Context, cons jetstream.Consumer) error {
	info, err := cons.Info(ctx)
	if err != nil {
		return fmt.Errorf("consumer info: %w", err)
	}
	if f := info.AckFloor.Stream; f > d.floor.Load() {
		d.floor.Store(f)
		d.notify()
	}
	return nil
}

// queue matches a batch of events with their apps' enabled endpoints,
// stores the matches, and only then acknowledges the batch.
func (d *Dispatcher) queue(ctx context.Context, msgs []jetstream.Msg) error {
	type decoded struct {
		seq   uint64
		app   string
		event []byte
		ev    channels.WebhookEvent
	}
	evs := make([]decoded, 0, len(msgs))
	bad := make([]bool, len(msgs))
	apps := map[string]struct{}{}
	for i, m := range msgs {
		env, err := webhookevents.Decode(m.Data())
		meta, merr := m.Metadata()
		if err != nil || merr != nil || !wellFormed(env) {
			bad[i] = true
			d.log.Warn("webhook dispatcher skips a malformed event", "subject", m.Subject())
			continue
		}
		raw, err := json.Marshal(env.Event)
		if err != nil {
			bad[i] = true
			continue
		}
		evs = append(evs, decoded{seq: meta.Sequence.Stream, app: env.AppID, event: raw, ev: env.Event})
		apps[env.AppID] = struct{}{}
	}
	if len(evs) > 0 {
		targets, err := d.targets(ctx, apps)
		if err != nil {
			return err
		}
		byApp := map[string][]controlplane.WebhookEndpoint{}
		for _, t := range targets {
			app := t.AppID
			if app == "" {
				app = webhookevents.OperatorApp
			}
			byApp[app] = append(byApp[app], t)
		}
		var q []controlplane.WebhookQueued
		for _, e := range evs {
			for _, t := range byApp[e.app] {
				if t.Wants(e.ev) {
					q = append(q, controlplane.WebhookQueued{EndpointID: t.ID, StreamSeq: e.seq, Event: e.event})
				}
			}
		}
		if err := d.store.EnqueueWebhookEvents(ctx, q); err != nil {
			return err
		}
		if len(q) > 0 {
			d.notify()
		}
	}
	for i, m := range msgs {
		var err error
		if bad[i] {
			err = m.Term()
		} else {
			err = m.Ack()
		}
		if err != nil {
			d.log.Debug("webhook event ack failed", "err", err)
		}
	}
	return nil
}

// wellFormed reports whether env is an app's event of an app kind or an
// operator event of an operator kind.
func wellFormed(env channels.WebhookEnvelope) bool {
	if env.AppID == webhookevents.OperatorApp {
		return env.Event.Name.Operator()
	}
	return env.AppID != "" && env.Event.Name.Valid()
}

// targets returns the enabled endpoints of the apps named; the operator
// app names the operator endpoints.
func (d *Dispatcher) targets(ctx context.Context, apps map[string]struct{}) ([]controlplane.WebhookEndpoint, error) {
	ids := make([]string, 0, len(apps))
	operator := false
	for id := range apps {
		if id == webhookevents.OperatorApp {
			operator = true
			continue
		}
		ids = append(ids, id)
	}
	var out []controlplane.WebhookEndpoint
	if len(ids) > 0 {
		t, err := d.store.WebhookTargets(ctx, ids)
		if err != nil {
			return nil, err
		}
		out = t
	}
	if operator {
		t, err := d.store.OperatorWebhookTargets(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, t...)
	}
	return out, nil
}
