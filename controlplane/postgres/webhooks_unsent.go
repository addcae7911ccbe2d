package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/controlplane"
)

// Why the deliveries of an endpoint that stopped sending failed, as the
// delivery log says.
const (
	disabledReason     = "endpoint disabled"
	autoDisabledReason = "endpoint disabled: every delivery failed"
)

// unsentChunk is how many queued events of a disabled endpoint one
// transaction records, so that a long backlog neither holds the
// endpoint's row (which EnqueueWebhookEvents waits for) for long nor
// outlasts the dispatcher's write timeout; a whole number of batches, so
// that every batch but the last is full.
const unsentChunk = 10 * controlplane.MaxWebhookBatch

// settleUnsent is what disabling an endpoint does to what it has not
// sent, in the disabling transaction (which holds the endpoint's row, so
// that EnqueueWebhookEvents queues nothing more for it): its pending
// deliveries fail with reason, and its first unsentChunk queued events
// are recorded (recordQueued). It reports whether more are queued:
// settleDisabled records them, in transactions of their own.
func settleUnsent(ctx context.Context, tx pgx.Tx, endpointID, appID string, batch bool, reason string) (bool, error) {
	if _, err := tx.Exec(ctx,
		`update webhook_deliveries set status = 'failed', last_error = $2, next_attempt_at = null
		 where endpoint_id = $1 and status = 'pending'`, endpointID, reason); err != nil {
		return false, err
	}
	return recordQueued(ctx, tx, endpointID, appID, batch, reason)
}

// recordQueued cuts up to unsentChunk queued events of an endpoint that
// stopped sending, above the ack floor too, in stream order, into failed
// deliveries with reason (one event each, or up to MaxWebhookBatch for a
// batch endpoint, as they would have been sent), which can be redelivered
// once it is enabled again. It reports whether more may be queued.
func recordQueued(ctx context.Context, tx pgx.Tx, endpointID, appID string, batch bool, reason string) (bool, error) {
	var now time.Time
	if err := tx.QueryRow(ctx, "select now()").Scan(&now); err != nil {
		return false, err
	}
	evs, err := cutQueued(ctx, tx, endpointID, unsentChunk, math.MaxInt64)
	if err != nil || len(evs) == 0 {
		return false, err
	}
	per := 1
	if batch {
		per = controlplane.MaxWebhookBatch
	}
	var ds []newDelivery
	for part := range slices.Chunk(evs, per) {
		ds = append(ds, newDelivery{id: newDeliveryID(), body: deliveryBody(now, part), events: len(part)})
	}
	if err := insertDeliveries(ctx, tx, endpointID, appID, now, ds, controlplane.WebhookFailed, &reason); err != nil {
		return false, err
	}
	return len(evs) == unsentChunk, nil
}

// settleDisabled records the next unsentChunk events still queued for an
// endpoint, if it is still disabled (once enabled again, they are sent
// instead), and reports whether more may be queued.
func (s *Store) settleDisabled(ctx context.Context, endpointID string) (bool, error) {
	var more bool
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var (
			appID        string
			batch, on    bool
			autoDisabled bool
		)
		err := tx.QueryRow(ctx,
			`select coalesce(app_id, ''), batch, enabled, disabled_at is not null from webhook_endpoints
			 where id = $1 for update`, endpointID).Scan(&appID, &batch, &on, &autoDisabled)
		if errors.Is(err, pgx.ErrNoRows) || err != nil || on {
			return nil
		}
		reason := disabledReason
		if autoDisabled {
			reason = autoDisabledReason
		}
		more, err = recordQueued(ctx, tx, endpointID, appID, batch, reason)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("settle disabled webhook endpoint %s: %w", endpointID, err)
	}
	return more, nil
}

// settleAll runs settleDisabled until nothing is left to record.
func (s *Store) settleAll(ctx context.Context, endpointID string) error {
	for {
		more, err := s.settleDisabled(ctx, endpointID)
		if err != nil || !more {
			return err
		}
	}
}

// SettleDisabledWebhookEndpoints records, as failed deliveries, the
// events still queued for disabled endpoints: what the transactions after
// a disable did not get to (a control plane that stopped meanwhile).
func (s *Store) SettleDisabledWebhookEndpoints(ctx context.Context) error {
	rows, _ := s.pool.Query(ctx,
		`select e.id from webhook_endpoints e where not e.enabled
		   and exists (select 1 from webhook_queue q where q.endpoint_id = e.id and q.cut_at is null)`)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("disabled webhook endpoints with queued events: %w", err)
	}
	for _, id := range ids {
		if err := s.settleAll(ctx, id); err != nil {
			return err
		}
	}
	return nil
}
