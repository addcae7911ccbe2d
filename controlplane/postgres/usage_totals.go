package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/bus/quota"
)

// accountTotals sums the messages of the accounts owning $1's apps in the
// day $2 and the month $3, and their apps' peak connections in the minute
// $4 (a sum of peaks: an upper bound of the account's peak).
const accountTotals = `
with accts as (select distinct account_id from apps where id = any($1::text[]))
select a.account_id,
	coalesce(sum(u.messages_published + u.messages_delivered + u.presence_events + u.webhook_calls)
		filter (where u.granularity = 'day'), 0),
	coalesce(sum(u.messages_published + u.messages_delivered + u.presence_events + u.webhook_calls)
		filter (where u.granularity = 'month'), 0),
	coalesce(sum(u.peak_connections) filter (where u.granularity = 'minute'), 0)
from accts a
left join usage u on u.account_id = a.account_id
	and ((u.granularity = 'day' and u.period_start = $2) or (u.granularity = 'month' and u.period_start = $3)
		or (u.granularity = 'minute' and u.period_start = $4))
group by a.account_id
order by a.account_id`

// AccountTotals implements billing.Store. The sums, the stream marks and
// the flush marks are read in one repeatable-read snapshot, so that the
// marks say exactly which publishes and which meter flushes the sums
// hold.
func (s *Store) AccountTotals(ctx context.Context, appIDs []string, at time.Time) ([]billing.AccountTotals, error) {
	day, month, minute := billing.Day.Start(at), billing.Month.Start(at), billing.Minute.Start(at)
	var out []billing.AccountTotals
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		out = out[:0]
		rows, err := tx.Query(ctx, `select stream, last_serial from usage_stream_marks`)
		if err != nil {
			return err
		}
		marks := map[string]uint64{}
		var (
			stream string
			serial int64
		)
		if _, err := pgx.ForEachRow(rows, []any{&stream, &serial}, func() error {
			marks[stream] = uint64(serial)
			return nil
		}); err != nil {
			return err
		}
		flushes, err := flushMarks(ctx, tx)
		if err != nil {
			return err
		}
		rows, err = tx.Query(ctx, accountTotals, appIDs, day, month, minute)
		if err != nil {
			return err
		}
		var t billing.AccountTotals
		_, err = pgx.ForEachRow(rows, []any{&t.AccountID, &t.DayMessages, &t.MonthMessages, &t.Connections}, func() error {
			out = append(out, billing.AccountTotals{AccountID: t.AccountID, Connections: t.Connections, Entry: quota.Entry{
				Day: day, Month: month, DayMessages: t.DayMessages, MonthMessages: t.MonthMessages,
				Marks: marks, Flushes: flushes, UpdatedAt: at.UTC(),
			}})
			return nil
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read account totals: %w", err)
	}
	return out, nil
}
