package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/internal/backoff"
)

// send claims endpoints with due work, up to Concurrency at a time, and
// serves each in a goroutine of its own: a slow or dead endpoint holds
// one slot and delays no other endpoint.
func (d *Dispatcher) send(ctx context.Context) error {
	slots := make(chan struct{}, d.cfg.Concurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	tick := time.NewTicker(d.cfg.PollInterval)
	defer tick.Stop()
	failing := newRetryStreak()
	for {
		if free := cap(slots) - len(slots); free > 0 {
			ids, err := d.store.ClaimWebhookEndpoints(ctx, d.cfg.Owner, d.cfg.Lease, free, d.cfg.BatchGap, d.floor.Load())
			switch {
			case err != nil && ctx.Err() == nil:
				wait, log := failing.Failed()
				if log {
					d.log.Warn("webhook claim failed; retrying", "err", err, "retry_in", wait)
				}
				backoff.Sleep(ctx, wait)
			case err == nil:
				if n := failing.Succeeded(); n > 0 {
					d.log.Info("webhook claim recovered", "failures", n)
				}
			}
			for _, id := range ids {
				slots <- struct{}{}
				wg.Go(func() {
					defer func() { <-slots }()
					d.serve(ctx, id)
					// The endpoint may have more due at once: look again.
					d.notify()
				})
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		case <-d.wake:
		}
	}
}

// serve sends an endpoint's due deliveries in order while it holds the
// endpoint, then gives it up: a delivery waiting for its retry holds back
// the endpoint's later ones, and the claim loop comes back when it is
// due.
func (d *Dispatcher) serve(ctx context.Context, endpointID string) {
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
		defer cancel()
		if err := d.store.ReleaseWebhookEndpoint(rctx, endpointID, d.cfg.Owner); err != nil {
			d.log.Warn("webhook endpoint release failed; its lease expires", "endpoint", endpointID, "err", err)
		}
	}()
	for ctx.Err() == nil {
		s, ok, err := d.store.NextWebhookDelivery(ctx, controlplane.WebhookNext{
			EndpointID: endpointID, Owner: d.cfg.Owner, Lease: d.cfg.Lease,
			MaxEvents: controlplane.MaxWebhookBatch, MinGap: d.cfg.BatchGap, Floor: d.floor.Load(),
		})
		if err != nil {
			if !errors.Is(err, controlplane.ErrWebhookLeaseLost) && ctx.Err() == nil {
				d.log.Warn("webhook next delivery failed", "endpoint", endpointID, "err", err)
			}
			return
		}
		if !ok && s.WaitFor > 0 && s.WaitFor < d.cfg.Lease/2 {
			// A batch endpoint with events waiting for its gap: keep
			// it rather than wait for the next claim.
			if !backoff.Sleep(ctx, s.WaitFor) {
				return
			}
			continue
		}
		if !ok || !s.Due {
			return
		}
		if !d.attempt(ctx, s) {
			return
		}
	}
}

// attempt makes one request for s and records it, with the delivery's
// next state, before anything else is sent to the endpoint. It reports
// whether the endpoint may go on.
func (d *Dispatcher) attempt(ctx context.Context, s controlplane.WebhookSend) bool {
	o := d.request(ctx, s)
	if ctx.Err() != nil && !o.ok() {
		// Stopping: the request was cut short, not answered. It stays
		// pending, unrecorded, for the next holder.
		return false
	}
	a := controlplane.WebhookAttempt{
		DeliveryID: s.ID, EndpointID: s.EndpointID, Duration: o.duration,
		StatusCode: o.statusCode, Error: o.err, Status: controlplane.WebhookDelivered,
		DisableAfter: d.cfg.DisableAfter,
	}
	if !o.ok() {
		a.Status, a.RetryIn = d.nextAfterFailure(s)
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	res, err := d.store.RecordWebhookAttempt(rctx, a)
	if err != nil {
		// Unrecorded, the delivery stays pending and is sent again:
		// at least once.
		d.log.Warn("webhook attempt not recorded", "delivery", s.ID, "err", err)
		return false
	}
	d.debugAttempt(s, a)
	d.m.attempted(a)
	if o.ok() && s.AppID != "" {
		// Operator endpoints belong to no app: nothing to count.
		d.cfg.Meter.App(s.AppID).WebhookCall()
	} else if !o.ok() {
		d.log.Debug("webhook attempt failed", "delivery", s.ID, "endpoint", s.EndpointID,
			"attempt", s.Attempts+1, "status", a.Status, "err", o.err)
	}
	if res.Disabled {
		d.disabled(rctx, res.AppID, s.EndpointID)
		d.settleDisabled(ctx)
		return false
	}
	return o.ok()
}

// nextAfterFailure decides a failed delivery's fate: another attempt
// after a full-jitter backoff while that falls in its retry window (a
// batch endpoint waits at least the batch gap), else failed. A delivery
// always gets at least one attempt, even one that waited behind a
// retrying delivery longer than its window.
func (d *Dispatcher) nextAfterFailure(s controlplane.WebhookSend) (controlplane.WebhookDeliveryStatus, time.Duration) {
	delay := retryDelay(s.Attempts+1, d.cfg.FirstRetry, d.cfg.MaxRetry)
	if s.Batch {
		delay = max(delay, d.cfg.BatchGap)
	}
	if time.Since(s.WindowStart)+delay > d.cfg.RetryWindow {
		return controlplane.WebhookFailed, 0
	}
	return controlplane.WebhookPending, delay
}

// request signs s with the app's oldest live key, or an operator
// endpoint's own key, and sends it.
func (d *Dispatcher) request(ctx context.Context, s controlplane.WebhookSend) outcome {
	var key, secret string
	var err error
	if s.AppID == "" {
		key, secret, err = d.store.OperatorWebhookSigner(ctx, s.EndpointID)
	} else {
		key, secret, err = d.store.WebhookSigner(ctx, s.AppID)
	}
	if err != nil {
		return outcome{err: "no live key to sign with"}
	}
	return d.sender.send(ctx, message{url: s.URL, deliveryID: s.ID, key: key, secret: secret,
		headers: s.Headers, body: s.Body})
}

// systemActor is the audit actor of what the dispatcher does on its own.
const systemActor = "system:webhooks"

// disabled records the automatic disabling of an endpoint and resyncs
// its app, whose wanted event kinds may have shrunk.
func (d *Dispatcher) disabled(ctx context.Context, appID, endpointID string) {
	d.log.Warn("webhook endpoint disabled: it failed every delivery", "app", appID, "endpoint", endpointID,
		"after", d.cfg.DisableAfter)
	d.m.disabled.Inc()
	fields := map[string]any{"reason": "failed every delivery", "failing_for_s": int64(d.cfg.DisableAfter / time.Second)}
	if appID == "" {
		fields["operator"] = true
	} else {
		fields["app_id"] = appID
	}
	details, _ := json.Marshal(fields)
	if err := d.store.RecordAudit(ctx, controlplane.AuditEntry{Actor: systemActor, Action: "webhook.disable",
		Target: endpointID, Details: details}); err != nil {
		d.log.Error("record audit entry", "action", "webhook.disable", "err", err)
	}
	if d.cfg.Publisher != nil && appID != "" {
		if err := d.cfg.Publisher.SyncApp(ctx, appID); err != nil {
			d.log.Warn("app config sync failed; the periodic reconcile will publish it", "app", appID, "err", err)
		}
	}
}
