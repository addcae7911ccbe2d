package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
)

// Shapes of generated webhook identifiers.
const (
	webhookIDPrefix  = "wh_"
	deliveryIDPrefix = "whd_"
	webhookIDLen     = 16
	deliveryIDLen    = 20
)

func newWebhookID() string  { return webhookIDPrefix + randomString(alphanumeric, webhookIDLen) }
func newDeliveryID() string { return deliveryIDPrefix + randomString(alphanumeric, deliveryIDLen) }

// webhookColumns reads an operator endpoint's null app_id as "".
const webhookColumns = `id, coalesce(app_id, ''), coalesce(signing_key, ''), url, events, batch, enabled,
	channel_filter, headers, created_at, updated_at, disabled_at, failing_since`

// CreateWebhookEndpoint stores a new endpoint of appID. The app's row is
// locked while its endpoints are counted, so concurrent creations cannot
// pass in.MaxEndpoints together.
func (s *Store) CreateWebhookEndpoint(ctx context.Context, appID string, in controlplane.NewWebhookEndpoint) (controlplane.WebhookEndpoint, error) {
	headers, err := encodeHeaders(in.Headers)
	if err != nil {
		return controlplane.WebhookEndpoint{}, err
	}
	var w controlplane.WebhookEndpoint
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := getApp(ctx, tx, appID, "for update"); err != nil {
			return err
		}
		if in.MaxEndpoints > 0 {
			var n int64
			if err := tx.QueryRow(ctx, "select count(*) from webhook_endpoints where app_id = $1", appID).Scan(&n); err != nil {
				return err
			}
			if n >= in.MaxEndpoints {
				return channels.BadRequest("url", fmt.Sprintf(
					"the app has %d webhook endpoints, its plan's limit (max_webhook_endpoints %d)", n, in.MaxEndpoints))
			}
		}
		row := tx.QueryRow(ctx,
			`insert into webhook_endpoints (id, app_id, url, events, batch, enabled, channel_filter, headers)
			 values ($1, $2, $3, $4, $5, $6, $7, $8) returning `+webhookColumns,
			newWebhookID(), appID, in.URL, eventStrings(in.Events), in.Batch, in.Enabled, in.ChannelFilter, headers)
		var err error
		w, err = scanWebhook(row)
		return err
	})
	if err != nil {
		return controlplane.WebhookEndpoint{}, wrapDomain(err, "create webhook endpoint of app "+appID)
	}
	return w, nil
}

// GetWebhookEndpoint returns one endpoint of appID, or NotFound.
func (s *Store) GetWebhookEndpoint(ctx context.Context, appID, id string) (controlplane.WebhookEndpoint, error) {
	return s.getWebhookEndpoint(ctx, &appID, id)
}

// ownerMatch is the condition that an endpoint belongs to the owner in
// the first parameter: an app id, or nil for an operator endpoint.
const ownerMatch = "app_id is not distinct from $1"

func (s *Store) getWebhookEndpoint(ctx context.Context, owner *string, id string) (controlplane.WebhookEndpoint, error) {
	w, err := scanWebhook(s.pool.QueryRow(ctx,
		"select "+webhookColumns+" from webhook_endpoints where "+ownerMatch+" and id = $2", owner, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return w, webhookNotFound(id)
	}
	if err != nil {
		return w, fmt.Errorf("get webhook endpoint %s: %w", id, err)
	}
	return w, nil
}

// ListWebhookEndpoints lists appID's endpoints, oldest first; an unknown
// app is NotFound.
func (s *Store) ListWebhookEndpoints(ctx context.Context, appID string) ([]controlplane.WebhookEndpoint, error) {
	rows, _ := s.pool.Query(ctx,
		"select "+webhookColumns+" from webhook_endpoints where app_id = $1 order by created_at, id", appID)
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (controlplane.WebhookEndpoint, error) {
		return scanWebhook(r)
	})
	if err != nil {
		return nil, fmt.Errorf("list webhook endpoints of app %s: %w", appID, err)
	}
	if len(items) == 0 {
		if _, err := s.GetApp(ctx, appID); err != nil {
			return nil, err
		}
	}
	return items, nil
}

// UpdateWebhookEndpoint applies patch. Disabling an endpoint fails its
// pending deliveries and records its queued events as failed deliveries
// (settleUnsent); enabling it clears the auto-disable marks.
func (s *Store) UpdateWebhookEndpoint(ctx context.Context, appID, id string, patch controlplane.WebhookEndpointPatch) (controlplane.WebhookEndpoint, error) {
	return s.updateWebhookEndpoint(ctx, &appID, id, patch)
}

func (s *Store) updateWebhookEndpoint(ctx context.Context, owner *string, id string, patch controlplane.WebhookEndpointPatch) (controlplane.WebhookEndpoint, error) {
	var (
		w    controlplane.WebhookEndpoint
		more bool
	)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		cur, err := scanWebhook(tx.QueryRow(ctx,
			"select "+webhookColumns+" from webhook_endpoints where "+ownerMatch+" and id = $2 for update", owner, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return webhookNotFound(id)
		}
		if err != nil {
			return err
		}
		next := applyWebhookPatch(cur, patch)
		headers, err := encodeHeaders(next.Headers)
		if err != nil {
			return err
		}
		w, err = scanWebhook(tx.QueryRow(ctx,
			`update webhook_endpoints set url = $3, events = $4, batch = $5, enabled = $6,
			   channel_filter = $7, headers = $8, updated_at = now(),
			   disabled_at = case when $6 then null else disabled_at end,
			   failing_since = case when $6 and not enabled then null else failing_since end
			 where `+ownerMatch+` and id = $2 returning `+webhookColumns,
			owner, id, next.URL, eventStrings(next.Events), next.Batch, next.Enabled, next.ChannelFilter, headers))
		if err != nil {
			return err
		}
		if cur.Enabled && !next.Enabled {
			more, err = settleUnsent(ctx, tx, id, cur.AppID, cur.Batch, disabledReason)
		}
		return err
	})
	if err != nil {
		return controlplane.WebhookEndpoint{}, wrapDomain(err, "update webhook endpoint "+id)
	}
	if more {
		// The endpoint is disabled; what is left of its backlog is
		// recorded now, and by the dispatcher if this stops short.
		if err := s.settleAll(ctx, id); err != nil {
			s.logger.Warn("disabled webhook endpoint's backlog left to the dispatcher", "endpoint", id, "err", err)
		}
	}
	return w, nil
}

// DeleteWebhookEndpoint removes an endpoint, its queue and its log.
func (s *Store) DeleteWebhookEndpoint(ctx context.Context, appID, id string) error {
	return s.deleteWebhookEndpoint(ctx, &appID, id)
}

func (s *Store) deleteWebhookEndpoint(ctx context.Context, owner *string, id string) error {
	tag, err := s.pool.Exec(ctx, "delete from webhook_endpoints where "+ownerMatch+" and id = $2", owner, id)
	if err != nil {
		return fmt.Errorf("delete webhook endpoint %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return webhookNotFound(id)
	}
	return nil
}

func applyWebhookPatch(w controlplane.WebhookEndpoint, p controlplane.WebhookEndpointPatch) controlplane.WebhookEndpoint {
	if p.URL != nil {
		w.URL = *p.URL
	}
	if p.Events != nil {
		w.Events = *p.Events
	}
	if p.Batch != nil {
		w.Batch = *p.Batch
	}
	if p.Enabled != nil {
		w.Enabled = *p.Enabled
	}
	if p.ChannelFilter != nil {
		w.ChannelFilter = *p.ChannelFilter
	}
	if p.Headers != nil {
		w.Headers = *p.Headers
	}
	return w
}

// wrapDomain passes a *channels.Error through and wraps anything else.
func wrapDomain(err error, what string) error {
	var de *channels.Error
	if errors.As(err, &de) {
		return err
	}
	return fmt.Errorf("%s: %w", what, err)
}

func webhookNotFound(id string) error {
	return channels.NotFound(fmt.Sprintf("webhook endpoint %s not found", id))
}

func eventStrings(ev []channels.WebhookEventName) []string {
	out := make([]string, len(ev))
	for i, e := range ev {
		out[i] = string(e)
	}
	return out
}

func encodeHeaders(h map[string]string) (string, error) {
	if h == nil {
		h = map[string]string{}
	}
	b, err := json.Marshal(h)
	if err != nil {
		return "", fmt.Errorf("encode webhook headers: %w", err)
	}
	return string(b), nil
}

func scanWebhook(r pgx.Row) (controlplane.WebhookEndpoint, error) {
	var (
		w       controlplane.WebhookEndpoint
		events  []string
		headers []byte
	)
	if err := r.Scan(&w.ID, &w.AppID, &w.Key, &w.URL, &events, &w.Batch, &w.Enabled, &w.ChannelFilter, &headers,
		&w.CreatedAt, &w.UpdatedAt, &w.DisabledAt, &w.FailingSince); err != nil {
		return controlplane.WebhookEndpoint{}, err
	}
	w.Events = make([]channels.WebhookEventName, len(events))
	for i, e := range events {
		w.Events[i] = channels.WebhookEventName(e)
	}
	var err error
	if w.Headers, err = decodeHeaders(headers); err != nil {
		return controlplane.WebhookEndpoint{}, err
	}
	w.CreatedAt, w.UpdatedAt = utc(w.CreatedAt), utc(w.UpdatedAt)
	w.DisabledAt, w.FailingSince = utcPtr(w.DisabledAt), utcPtr(w.FailingSince)
	return w, nil
}

func decodeHeaders(raw []byte) (map[string]string, error) {
	var h map[string]string
	if err := json.Unmarshal(raw, &h); err != nil {
		return nil, fmt.Errorf("decode webhook headers: %w", err)
	}
	return h, nil
}

// wantedWebhookEvents is the union of the kinds the app's enabled
// endpoints want, in channels.WebhookEventNames order (so that an
// unchanged set encodes the same and appsync writes nothing); nil when
// none, so that gateways publish nothing.
func (s *Store) wantedWebhookEvents(ctx context.Context, appID string) ([]channels.WebhookEventName, error) {
	rows, _ := s.pool.Query(ctx,
		`select distinct e from webhook_endpoints w, unnest(w.events) e where w.app_id = $1 and w.enabled`, appID)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("webhook events of app %s: %w", appID, err)
	}
	var out []channels.WebhookEventName
	for _, n := range channels.WebhookEventNames() {
		if slices.Contains(names, string(n)) {
			out = append(out, n)
		}
	}
	return out, nil
}
