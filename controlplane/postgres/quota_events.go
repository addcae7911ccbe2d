package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
)

// Audit vocabulary of quota events: the actor, and the action of each
// level (billing.QuotaLevels).
const quotaAuditActor = "billing"

var quotaAuditActions = map[channels.WebhookEventName]string{
	channels.WebhookQuotaWarning:  "quota.threshold_crossed",
	channels.WebhookQuotaReached:  "quota.reached",
	channels.WebhookQuotaExceeded: "quota.exceeded",
}

// RecordQuotaEvent implements billing.Store: the event's row and its
// audit entry commit together, and a row already there (another control
// plane, or a retry) records nothing.
func (s *Store) RecordQuotaEvent(ctx context.Context, e billing.QuotaEvent) (bool, error) {
	recorded := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		action, ok := quotaAuditActions[e.Event]
		if !ok {
			return fmt.Errorf("unknown quota event %q", e.Event)
		}
		tag, err := tx.Exec(ctx, `insert into quota_events
			(account_id, quota, event, threshold, period_start, crossed_at, quota_limit, used, plan, enforcement)
			values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) on conflict do nothing`,
			e.AccountID, e.Quota, string(e.Event), e.Threshold, e.Period, e.At, e.Limit, e.Used, e.Plan, string(e.Enforcement))
		if err != nil {
			return err
		}
		if recorded = tag.RowsAffected() == 1; !recorded {
			return nil
		}
		details, err := json.Marshal(e)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `insert into audit_log (at, actor, action, target, details) values ($1, $2, $3, $4, $5::jsonb)`,
			e.At, quotaAuditActor, action, e.AccountID, string(details))
		return err
	})
	if err != nil {
		return false, fmt.Errorf("record quota event of %s: %w", e.AccountID, err)
	}
	return recorded, nil
}

// OverQuota lists when the account was over a quota of its plan between
// from and to: from each crossing past a limit (quota_exceeded; at the
// limit is not over it) to the end of its period.
func (s *Store) OverQuota(ctx context.Context, accountID string, from, to time.Time) ([]controlplane.Span, error) {
	rows, err := s.pool.Query(ctx, `select quota, period_start, crossed_at from quota_events
		where account_id = $1 and event = $4 and crossed_at < $3 and period_start + interval '1 month' > $2`,
		accountID, from, to, string(channels.WebhookQuotaExceeded))
	if err != nil {
		return nil, fmt.Errorf("read quota events of %s: %w", accountID, err)
	}
	var (
		q             string
		period, since time.Time
		out           []controlplane.Span
	)
	_, err = pgx.ForEachRow(rows, []any{&q, &period, &since}, func() error {
		g := billing.Day
		if q == billing.QuotaMessagesPerMonth.String() {
			g = billing.Month
		}
		// The query's filter is coarse (a month); the span's end decides.
		if end := g.Next(period.UTC()); end.After(from) {
			out = append(out, controlplane.Span{From: since.UTC(), To: end})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read quota events of %s: %w", accountID, err)
	}
	return out, nil
}

// PendingQuotaWebhooks implements billing.Store: the recorded crossings
// not yet stored in HERALD_WEBHOOK_EVENTS, oldest first, and of one fold
// by level (a reached before the exceeded recorded with it).
func (s *Store) PendingQuotaWebhooks(ctx context.Context, limit int) ([]billing.QuotaEvent, error) {
	rows, _ := s.pool.Query(ctx,
		`select account_id, plan, quota, event, threshold, enforcement, period_start, quota_limit, used, crossed_at
		 from quota_events where webhook_published_at is null
		 order by crossed_at, account_id, quota, threshold, event = 'quota_exceeded' limit $1`, limit)
	evs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (billing.QuotaEvent, error) {
		var e billing.QuotaEvent
		var event, enforcement string
		err := r.Scan(&e.AccountID, &e.Plan, &e.Quota, &event, &e.Threshold, &enforcement, &e.Period, &e.Limit, &e.Used, &e.At)
		e.Event, e.Enforcement = channels.WebhookEventName(event), channels.Enforcement(enforcement)
		e.Period, e.At = utc(e.Period), utc(e.At)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("pending quota webhooks: %w", err)
	}
	return evs, nil
}

// QuotaWebhookPublished implements billing.Store.
func (s *Store) QuotaWebhookPublished(ctx context.Context, e billing.QuotaEvent) error {
	_, err := s.pool.Exec(ctx,
		`update quota_events set webhook_published_at = now()
		 where account_id = $1 and quota = $2 and event = $3 and period_start = $4 and webhook_published_at is null`,
		e.AccountID, e.Quota, string(e.Event), e.Period)
	if err != nil {
		return fmt.Errorf("mark quota webhook of %s published: %w", e.AccountID, err)
	}
	return nil
}
