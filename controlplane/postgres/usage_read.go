package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/controlplane"
)

// usageSelect lists the counters in billing.Counters order after the
// period start; the caller adds the source and the grouping.
const usageSelect = `select period_start,
    %[1]s(messages_published), %[1]s(messages_delivered), %[1]s(presence_events), %[1]s(webhook_calls),
    %[1]s(api_requests), %[1]s(bytes_in), %[1]s(bytes_out), %[1]s(connection_seconds),
    %[1]s(peak_connections), %[1]s(history_reads)
from usage where %[2]s = $1 and granularity = $2 and period_start >= $3 and period_start < $4`

// appUsage reads one app's rows as they are; accountUsage sums the
// account's apps per period, peaks included (an upper bound, documented
// on controlplane.UsageStore).
var (
	appUsage     = fmt.Sprintf(usageSelect, "", "app_id") + ` order by period_start`
	accountUsage = fmt.Sprintf(usageSelect, "sum", "account_id") + ` group by period_start order by period_start`
)

// AppUsage lists the app's usage periods in r, oldest first.
func (s *Store) AppUsage(ctx context.Context, appID string, r controlplane.UsageRange) ([]billing.Period, error) {
	p, err := s.readUsage(ctx, appUsage, appID, r)
	if err != nil {
		return nil, fmt.Errorf("read usage of app %s: %w", appID, err)
	}
	return p, nil
}

// AccountUsage lists the account's usage periods in r, summed over its
// apps, oldest first.
func (s *Store) AccountUsage(ctx context.Context, accountID string, r controlplane.UsageRange) ([]billing.Period, error) {
	p, err := s.readUsage(ctx, accountUsage, accountID, r)
	if err != nil {
		return nil, fmt.Errorf("read usage of account %s: %w", accountID, err)
	}
	return p, nil
}

// UsageAccount implements controlplane.UsageStore.
func (s *Store) UsageAccount(ctx context.Context, appID string) (string, bool, error) {
	var account string
	err := s.pool.QueryRow(ctx, `select account_id from usage where app_id = $1
		order by period_start desc, granularity limit 1`, appID).Scan(&account)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("read usage account of app %s: %w", appID, err)
	}
	return account, true, nil
}

func (s *Store) readUsage(ctx context.Context, query, id string, r controlplane.UsageRange) ([]billing.Period, error) {
	rows, err := s.pool.Query(ctx, query, id, string(r.Granularity), r.First, r.End)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (billing.Period, error) {
		var p billing.Period
		c := &p.Counters
		err := row.Scan(&p.Start, &c.MessagesPublished, &c.MessagesDelivered, &c.PresenceEvents, &c.WebhookCalls,
			&c.APIRequests, &c.BytesIn, &c.BytesOut, &c.ConnectionSeconds, &c.PeakConnections, &c.HistoryReads)
		p.Start = p.Start.UTC()
		return p, err
	})
}

// countHistory groups an app's stored messages of one stream, up to a
// serial, by the UTC period of their publication.
const countHistory = `select date_trunc($1, published_at, 'UTC'), count(*)
from messages
where app_id = $2 and stream = $3 and serial <= $4 and published_at >= $5 and published_at < $6
group by 1`

// CountHistory counts the app's history messages per period of q.
func (s *Store) CountHistory(ctx context.Context, q controlplane.HistoryCountQuery) (map[time.Time]int64, error) {
	maxSerial := int64(math.MaxInt64)
	if q.MaxSerial < math.MaxInt64 {
		maxSerial = int64(q.MaxSerial)
	}
	rows, err := s.pool.Query(ctx, countHistory, string(q.Granularity), q.AppID, q.Stream, maxSerial, q.First, q.End)
	if err != nil {
		return nil, fmt.Errorf("count history of app %s: %w", q.AppID, err)
	}
	defer rows.Close()
	counts := map[time.Time]int64{}
	for rows.Next() {
		var (
			start time.Time
			n     int64
		)
		if err := rows.Scan(&start, &n); err != nil {
			return nil, fmt.Errorf("count history of app %s: %w", q.AppID, err)
		}
		counts[start.UTC()] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count history of app %s: %w", q.AppID, err)
	}
	return counts, nil
}
