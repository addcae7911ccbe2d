package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
)

// micros is how durations travel to SQL: "$n::bigint * interval '1 microsecond'".
func micros(d time.Duration) int64 { return d.Microseconds() }

// WebhookTargets returns the enabled endpoints of the apps named, for
// matching events against.
func (s *Store) WebhookTargets(ctx context.Context, appIDs []string) ([]controlplane.WebhookEndpoint, error) {
	rows, _ := s.pool.Query(ctx,
		"select "+webhookColumns+" from webhook_endpoints where enabled and app_id = any($1) order by id", appIDs)
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (controlplane.WebhookEndpoint, error) {
		return scanWebhook(r)
	})
	if err != nil {
		return nil, fmt.Errorf("webhook targets: %w", err)
	}
	return items, nil
}

// EnqueueWebhookEvents stores matched events in one statement; an event
// already queued for its endpoint (a stream message delivered again) is
// skipped, and so is one whose endpoint was deleted or disabled since it
// was matched. The endpoints' rows are read FOR SHARE: a disable under
// way (settleUnsent) is waited for, so that an event is either queued
// before the disable, which records it, or not at all.
func (s *Store) EnqueueWebhookEvents(ctx context.Context, evs []controlplane.WebhookQueued) error {
	if len(evs) == 0 {
		return nil
	}
	ids := make([]string, len(evs))
	seqs := make([]int64, len(evs))
	bodies := make([][]byte, len(evs))
	for i, e := range evs {
		ids[i], seqs[i], bodies[i] = e.EndpointID, int64(e.StreamSeq), e.Event
	}
	// The rows are locked in id order, as every enqueue does, so that
	// enqueues never wait for each other in a cycle.
	_, err := s.pool.Exec(ctx,
		`with live as (select id from webhook_endpoints where id = any($1) and enabled order by id for share)
		 insert into webhook_queue (endpoint_id, stream_seq, event)
		 select q.endpoint_id, q.stream_seq, q.event
		 from unnest($1::text[], $2::bigint[], $3::bytea[]) with ordinality as q(endpoint_id, stream_seq, event, n)
		 join live on live.id = q.endpoint_id
		 order by q.n
		 on conflict (endpoint_id, stream_seq) do nothing`, ids, seqs, bodies)
	if err != nil {
		return fmt.Errorf("enqueue webhook events: %w", err)
	}
	return nil
}

// ClaimWebhookEndpoints leases to owner up to limit enabled endpoints that
// nobody holds and that have work due: a pending head delivery due now,
// or queued events at or below floor (the consumer's ack floor) and no
// pending delivery (for batch endpoints, minGap after their last
// request). Endpoints that waited longest go first.
func (s *Store) ClaimWebhookEndpoints(ctx context.Context, owner string, lease time.Duration, limit int, minGap time.Duration, floor uint64) ([]string, error) {
	rows, _ := s.pool.Query(ctx,
		`with due as (
		   select e.id from webhook_endpoints e
		   where e.enabled and (e.lease_until is null or e.lease_until < now())
		     and ((select d.next_attempt_at <= now() from webhook_deliveries d
		           where d.endpoint_id = e.id and d.status = 'pending' order by d.seq limit 1)
		       or (not exists (select 1 from webhook_deliveries d where d.endpoint_id = e.id and d.status = 'pending')
		           and exists (select 1 from webhook_queue q where q.endpoint_id = e.id and q.cut_at is null
		                       and q.stream_seq <= $5)
		           and (not e.batch or e.last_request_at is null
		                or e.last_request_at <= now() - $3::bigint * interval '1 microsecond')))
		   order by e.last_request_at nulls first, e.id
		   limit $4
		   for update skip locked)
		 update webhook_endpoints e set lease_owner = $1, lease_until = now() + $2::bigint * interval '1 microsecond'
		 from due where e.id = due.id
		 returning e.id`, owner, micros(lease), micros(minGap), limit, int64(floor))
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("claim webhook endpoints: %w", err)
	}
	return ids, nil
}

// ReleaseWebhookEndpoint gives up owner's lease on an endpoint.
func (s *Store) ReleaseWebhookEndpoint(ctx context.Context, endpointID, owner string) error {
	_, err := s.pool.Exec(ctx,
		"update webhook_endpoints set lease_owner = null, lease_until = null where id = $1 and lease_owner = $2",
		endpointID, owner)
	if err != nil {
		return fmt.Errorf("release webhook endpoint %s: %w", endpointID, err)
	}
	return nil
}

// NextWebhookDelivery renews owner's lease and returns the endpoint's head
// delivery: its oldest pending one (Due tells whether it may go now), or,
// when none is pending, a new one cut from its oldest queued event at or
// below q.Floor (a batch endpoint's up to q.MaxEvents, only q.MinGap
// after its last request). It
// reports false when there is nothing to send now (with WaitFor set when
// queued events wait for a batch endpoint's gap), and
// ErrWebhookLeaseLost when the lease passed to another owner.
func (s *Store) NextWebhookDelivery(ctx context.Context, q controlplane.WebhookNext) (controlplane.WebhookSend, bool, error) {
	var (
		send controlplane.WebhookSend
		ok   bool
	)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var (
			enabled bool
			headers []byte
			now     time.Time
			// gapLeft is how long a batch endpoint must still wait
			// after its last request, in microseconds.
			gapLeft int64
		)
		err := tx.QueryRow(ctx,
			`update webhook_endpoints set lease_until = now() + $3::bigint * interval '1 microsecond'
			 where id = $1 and lease_owner = $2
			 returning coalesce(app_id, ''), url, headers, batch, enabled, now(),
			   case when not batch or last_request_at is null then 0
			     else greatest(0, (extract(epoch from last_request_at - now()) * 1e6)::bigint + $4::bigint) end`,
			q.EndpointID, q.Owner, micros(q.Lease), micros(q.MinGap)).
			Scan(&send.AppID, &send.URL, &headers, &send.Batch, &enabled, &now, &gapLeft)
		if errors.Is(err, pgx.ErrNoRows) {
			return controlplane.ErrWebhookLeaseLost
		}
		if err != nil || !enabled {
			return err
		}
		if send.Headers, err = decodeHeaders(headers); err != nil {
			return err
		}
		send.EndpointID = q.EndpointID
		err = tx.QueryRow(ctx,
			`select id, body, attempts, window_start, next_attempt_at <= now() from webhook_deliveries
			 where endpoint_id = $1 and status = 'pending' order by seq limit 1`, q.EndpointID).
			Scan(&send.ID, &send.Body, &send.Attempts, &send.WindowStart, &send.Due)
		if err == nil {
			ok = true
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if gapLeft > 0 {
			var waiting bool
			err := tx.QueryRow(ctx,
				"select exists (select 1 from webhook_queue where endpoint_id = $1 and cut_at is null and stream_seq <= $2)",
				q.EndpointID, int64(q.Floor)).Scan(&waiting)
			if waiting {
				send.WaitFor = time.Duration(gapLeft) * time.Microsecond
			}
			return err
		}
		n := 1
		if send.Batch {
			n = max(q.MaxEvents, 1)
		}
		ok, err = cutDelivery(ctx, tx, &send, n, q.Floor, now)
		return err
	})
	if err != nil && !errors.Is(err, controlplane.ErrWebhookLeaseLost) {
		err = fmt.Errorf("next webhook delivery of %s: %w", q.EndpointID, err)
	}
	return send, ok && err == nil, err
}

// cutDelivery turns up to maxEvents queued events of send.EndpointID at or
// below floor, oldest in the stream first, into a pending delivery, due
// now, created at now.
func cutDelivery(ctx context.Context, tx pgx.Tx, send *controlplane.WebhookSend, maxEvents int, floor uint64, now time.Time) (bool, error) {
	evs, err := cutQueued(ctx, tx, send.EndpointID, maxEvents, int64(floor))
	if err != nil || len(evs) == 0 {
		return false, err
	}
	send.ID = newDeliveryID()
	send.Body = deliveryBody(now, evs)
	send.Attempts, send.WindowStart, send.Due = 0, now, true
	err = insertDeliveries(ctx, tx, send.EndpointID, send.AppID, now,
		[]newDelivery{{id: send.ID, body: send.Body, events: len(evs)}}, controlplane.WebhookPending, nil)
	return err == nil, err
}

// cutQueued marks up to limit queued events of an endpoint at or below
// floor as cut and returns them, oldest in the stream first.
func cutQueued(ctx context.Context, tx pgx.Tx, endpointID string, limit int, floor int64) ([][]byte, error) {
	type queued struct {
		seq   int64
		event []byte
	}
	rows, _ := tx.Query(ctx,
		`with cut as (select seq from webhook_queue where endpoint_id = $1 and cut_at is null and stream_seq <= $3
		              order by stream_seq limit $2 for update skip locked)
		 update webhook_queue q set cut_at = now() from cut where q.seq = cut.seq returning q.stream_seq, q.event`,
		endpointID, limit, floor)
	evs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (queued, error) {
		var e queued
		err := r.Scan(&e.seq, &e.event)
		return e, err
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(evs, func(a, b queued) int { return cmp.Compare(a.seq, b.seq) })
	out := make([][]byte, len(evs))
	for i, e := range evs {
		out[i] = e.event
	}
	return out, nil
}

// deliveryBody is the body of a delivery of events created at now.
func deliveryBody(now time.Time, events [][]byte) []byte {
	return controlplane.WebhookBody(now.UnixMilli(), rawMessages(events))
}

// newDelivery is a delivery about to be stored.
type newDelivery struct {
	id     string
	body   []byte
	events int
}

// insertDeliveries stores ds, in their order, as deliveries of an
// endpoint created at now, in status with lastErr; a pending one is due
// now.
func insertDeliveries(ctx context.Context, tx pgx.Tx, endpointID, appID string, now time.Time, ds []newDelivery,
	status controlplane.WebhookDeliveryStatus, lastErr *string) error {
	ids := make([]string, len(ds))
	bodies := make([][]byte, len(ds))
	counts := make([]int32, len(ds))
	for i, d := range ds {
		ids[i], bodies[i], counts[i] = d.id, d.body, int32(d.events)
	}
	// seq follows the order of insertion, which the ordinality keeps.
	_, err := tx.Exec(ctx,
		`insert into webhook_deliveries (id, endpoint_id, app_id, body, event_count, status, last_error,
		   created_at, window_start, next_attempt_at)
		 select d.id, $4, $5, d.body, d.n, $6, $7, $8, $8, case when $6 = 'pending' then $8::timestamptz end
		 from unnest($1::text[], $2::bytea[], $3::int[]) with ordinality as d(id, body, n, ord)
		 order by d.ord`,
		ids, bodies, counts, endpointID, appID, string(status), lastErr, now)
	return err
}

// RecordWebhookAttempt logs one request and moves its delivery to
// a.Status, in one transaction, before the dispatcher schedules anything
// else. A failed attempt of an endpoint failing for a.DisableAfter
// disables it, settling what it has not sent (settleUnsent; the caller
// then calls SettleDisabledWebhookEndpoints for the rest of a long
// backlog).
func (s *Store) RecordWebhookAttempt(ctx context.Context, a controlplane.WebhookAttempt) (controlplane.WebhookAttemptResult, error) {
	var res controlplane.WebhookAttemptResult
	var code *int
	if a.StatusCode != 0 {
		code = &a.StatusCode
	}
	var lastErr *string
	if a.Error != "" {
		lastErr = &a.Error
	}
	ok := a.Status == controlplane.WebhookDelivered
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// The endpoint's row is locked before the delivery's, as every
		// transaction that changes both does (a disable, a cut): the
		// other order deadlocks with them.
		var disable, batch bool
		err := tx.QueryRow(ctx,
			`update webhook_endpoints set last_request_at = now(),
			   failing_since = case when $2 then null else coalesce(failing_since, now()) end
			 where id = $1
			 returning coalesce(app_id, ''), batch, enabled and not $2 and $3::bigint > 0
			   and failing_since <= now() - $3::bigint * interval '1 microsecond'`,
			a.EndpointID, ok, micros(a.DisableAfter)).Scan(&res.AppID, &batch, &disable)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // deleted meanwhile, with its deliveries
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx,
			`insert into webhook_attempts (delivery_id, attempt, status_code, error, duration_ms)
			 select id, attempts + 1, $2, $3, $4 from webhook_deliveries where id = $1`,
			a.DeliveryID, code, lastErr, a.Duration.Milliseconds()); err != nil {
			return err
		}
		// A delivery settled while its request was in flight (its
		// endpoint disabled meanwhile) becomes delivered if the request
		// succeeded, and otherwise keeps the reason it was settled for.
		if _, err := tx.Exec(ctx,
			`update webhook_deliveries set attempts = attempts + 1, last_status_code = $2,
			   last_error = case when status = 'pending' or $4 = 'delivered' then $3 else last_error end,
			   status = case when status = 'pending' or $4 = 'delivered' then $4 else status end,
			   next_attempt_at = case when status = 'pending' and $4 = 'pending'
			     then now() + $5::bigint * interval '1 microsecond' end,
			   delivered_at = case when $4 = 'delivered' then now() else delivered_at end
			 where id = $1`, a.DeliveryID, code, lastErr, string(a.Status), micros(a.RetryIn)); err != nil {
			return err
		}
		if !disable {
			return nil
		}
		if _, err := tx.Exec(ctx,
			`update webhook_endpoints set enabled = false, disabled_at = now(), updated_at = now(),
			   lease_owner = null, lease_until = null where id = $1`, a.EndpointID); err != nil {
			return err
		}
		res.Disabled = true
		// What is left of a long backlog is the dispatcher's to record
		// (SettleDisabledWebhookEndpoints).
		_, err = settleUnsent(ctx, tx, a.EndpointID, res.AppID, batch, autoDisabledReason)
		return err
	})
	if err != nil {
		return res, fmt.Errorf("record webhook attempt of %s: %w", a.DeliveryID, err)
	}
	return res, nil
}

// WebhookSigner returns the app's oldest live key and its secret, which
// sign its webhooks (Pusher's X-Pusher-Key); NotFound when it has none.
func (s *Store) WebhookSigner(ctx context.Context, appID string) (key, secret string, err error) {
	var sealed []byte
	err = s.pool.QueryRow(ctx,
		`select key, sealed_secret from app_keys where app_id = $1 and revoked_at is null
		 order by created_at, key limit 1`, appID).Scan(&key, &sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", channels.NotFound(fmt.Sprintf("app %s has no live key to sign webhooks", appID))
	}
	if err != nil {
		return "", "", fmt.Errorf("webhook signer of %s: %w", appID, err)
	}
	plain, err := s.box.Open(sealed, channels.SecretAAD(appID, key))
	if err != nil {
		return "", "", fmt.Errorf("webhook signer of %s: open secret: %w", appID, err)
	}
	return key, string(plain), nil
}

// PruneWebhookDeliveries deletes up to limit finished deliveries created
// before before, with their attempts.
func (s *Store) PruneWebhookDeliveries(ctx context.Context, before time.Time, limit int) (int64, error) {
	tag, err := s.pool.Exec(ctx,
		`delete from webhook_deliveries where id in (
		   select id from webhook_deliveries where status <> 'pending' and created_at < $1 limit $2)`,
		before, limit)
	if err != nil {
		return 0, fmt.Errorf("prune webhook deliveries: %w", err)
	}
	return tag.RowsAffected(), nil
}

// PruneWebhookQueue deletes queued events cut into deliveries before
// before: a stream message delivered again later than that would queue its
// event again.
func (s *Store) PruneWebhookQueue(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, "delete from webhook_queue where cut_at < $1", before)
	if err != nil {
		return 0, fmt.Errorf("prune webhook queue: %w", err)
	}
	return tag.RowsAffected(), nil
}

// ListWebhookDeliveries reads an endpoint's delivery log, newest first.
func (s *Store) ListWebhookDeliveries(ctx context.Context, q controlplane.WebhookDeliveryQuery) ([]controlplane.WebhookDelivery, string, error) {
	return s.listWebhookDeliveries(ctx, &q.AppID, q)
}

// listWebhookDeliveries reads the log of an endpoint of owner (an app id,
// or nil for an operator endpoint); q.AppID is not read.
func (s *Store) listWebhookDeliveries(ctx context.Context, owner *string, q controlplane.WebhookDeliveryQuery) ([]controlplane.WebhookDelivery, string, error) {
	pa, err := parsePage(q.Page, deliveriesCursor)
	if err != nil {
		return nil, "", err
	}
	before := pa.seq()
	if _, err := s.getWebhookEndpoint(ctx, owner, q.EndpointID); err != nil {
		return nil, "", err
	}
	type row struct {
		seq int64
		d   controlplane.WebhookDelivery
	}
	rows, _ := s.pool.Query(ctx,
		`select seq, id, endpoint_id, created_at, event_count, attempts, status, last_status_code, last_error,
		   next_attempt_at, delivered_at
		 from webhook_deliveries
		 where endpoint_id = $1 and ($2 = '' or status = $2) and ($3 = 0 or seq < $3)
		 order by seq desc limit $4`, q.EndpointID, string(q.Status), before, pa.limit+1)
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		var status string
		err := r.Scan(&x.seq, &x.d.ID, &x.d.EndpointID, &x.d.CreatedAt, &x.d.EventCount, &x.d.Attempts, &status,
			&x.d.LastStatusCode, &x.d.LastError, &x.d.NextAttemptAt, &x.d.DeliveredAt)
		x.d.Status = controlplane.WebhookDeliveryStatus(status)
		x.d.CreatedAt, x.d.NextAttemptAt, x.d.DeliveredAt = utc(x.d.CreatedAt), utcPtr(x.d.NextAttemptAt), utcPtr(x.d.DeliveredAt)
		return x, err
	})
	if err != nil {
		return nil, "", fmt.Errorf("list webhook deliveries of %s: %w", q.EndpointID, err)
	}
	items, next := trimPage(items, pa, func(x row) string { return strconv.FormatInt(x.seq, 10) })
	out := make([]controlplane.WebhookDelivery, len(items))
	for i, x := range items {
		out[i] = x.d
	}
	return out, next, nil
}

// RedeliverWebhook makes a delivery pending again, due now, with a new
// retry window; its id and body stay, so receivers can deduplicate. A
// delivery of a disabled endpoint is a Conflict: nothing is sent to it
// until it is enabled again.
func (s *Store) RedeliverWebhook(ctx context.Context, appID, endpointID, deliveryID string) error {
	return s.redeliverWebhook(ctx, &appID, endpointID, deliveryID)
}

func (s *Store) redeliverWebhook(ctx context.Context, owner *string, endpointID, deliveryID string) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// FOR SHARE: a disable waits for the redelivery, whose delivery
		// it then fails again, or the redelivery sees the endpoint
		// disabled.
		var enabled bool
		err := tx.QueryRow(ctx,
			`select e.enabled from webhook_deliveries d join webhook_endpoints e on e.id = d.endpoint_id
			 where d.id = $3 and d.endpoint_id = $2 and e.app_id is not distinct from $1 for share of e`,
			owner, endpointID, deliveryID).Scan(&enabled)
		if errors.Is(err, pgx.ErrNoRows) {
			return channels.NotFound(fmt.Sprintf("delivery %s of webhook endpoint %s not found", deliveryID, endpointID))
		}
		if err != nil {
			return err
		}
		if !enabled {
			return channels.Conflict(fmt.Sprintf(
				"webhook endpoint %s is disabled: enable it before redelivering", endpointID))
		}
		_, err = tx.Exec(ctx,
			`update webhook_deliveries set status = 'pending', next_attempt_at = now(), window_start = now(),
			   delivered_at = null
			 where id = $1`, deliveryID)
		return err
	})
	if err != nil {
		return wrapDomain(err, "redeliver webhook "+deliveryID)
	}
	return nil
}

func rawMessages(b [][]byte) []json.RawMessage {
	out := make([]json.RawMessage, len(b))
	for i, x := range b {
		out[i] = x
	}
	return out
}
