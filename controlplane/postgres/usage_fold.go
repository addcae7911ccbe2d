package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/billing"
)

var _ billing.Store = (*Store)(nil)

// FoldFlushes implements billing.Store: in one transaction, each flush
// id is recorded, and the flushes whose id was new are added to the
// usage rows. A flush folded before adds nothing.
func (s *Store) FoldFlushes(ctx context.Context, flushes []billing.Flush) (int, error) {
	folded := 0
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		folded = 0
		fresh, err := recordFlushes(ctx, tx, flushes)
		if err != nil {
			return err
		}
		isNew := make(map[string]bool, len(fresh))
		for _, id := range fresh {
			isNew[id] = true
		}
		sums := billing.SumRows(func(yield func(string, time.Time, billing.Counters)) {
			for _, f := range flushes {
				if !isNew[f.ID] {
					continue
				}
				// Counted once even if the batch holds it twice.
				delete(isNew, f.ID)
				folded++
				for _, a := range f.Apps {
					yield(a.AppID, f.Minute, a.Counters)
				}
			}
		})
		if err := addUsage(ctx, tx, sums); err != nil {
			return err
		}
		return moveFlushMarks(ctx, tx, fresh)
	})
	if err != nil {
		return 0, fmt.Errorf("fold meter flushes: %w", err)
	}
	return folded, nil
}

// FoldPublished implements billing.Store: the stream's mark row is locked
// for the transaction, so two folders of the same stream take turns, and
// only messages above it count.
func (s *Store) FoldPublished(ctx context.Context, stream string, msgs []billing.Published) (int, error) {
	counted := 0
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		counted = 0
		if _, err := tx.Exec(ctx, `insert into usage_stream_marks (stream, last_serial) values ($1, 0)
			on conflict (stream) do nothing`, stream); err != nil {
			return fmt.Errorf("create stream mark: %w", err)
		}
		var mark int64
		if err := tx.QueryRow(ctx, `select last_serial from usage_stream_marks where stream = $1 for update`, stream).Scan(&mark); err != nil {
			return fmt.Errorf("lock stream mark: %w", err)
		}
		last := uint64(mark)
		sums := billing.SumRows(func(yield func(string, time.Time, billing.Counters)) {
			for _, m := range msgs {
				if m.Serial <= last {
					continue
				}
				last = m.Serial
				if m.AppID == "" {
					continue
				}
				counted++
				yield(m.AppID, m.At, billing.Counters{MessagesPublished: 1, BytesIn: m.Bytes})
			}
		})
		if last == uint64(mark) {
			return nil
		}
		if err := addUsage(ctx, tx, sums); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `update usage_stream_marks set last_serial = $2 where stream = $1`, stream, int64(last)); err != nil {
			return fmt.Errorf("move stream mark: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("fold published messages of %s: %w", stream, err)
	}
	return counted, nil
}

// StreamMark implements billing.Store.
func (s *Store) StreamMark(ctx context.Context, stream string) (uint64, error) {
	var mark int64
	err := s.pool.QueryRow(ctx, `select last_serial from usage_stream_marks where stream = $1`, stream).Scan(&mark)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read stream mark of %s: %w", stream, err)
	}
	return uint64(mark), nil
}

// ForgetFlushes implements billing.Store: the flush ids, and the marks of
// the sources with no flush folded since.
func (s *Store) ForgetFlushes(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `delete from usage_flushes where folded_at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("forget meter flushes: %w", err)
	}
	if _, err := s.pool.Exec(ctx, `delete from usage_flush_marks where updated_at < $1`, before); err != nil {
		return 0, fmt.Errorf("forget meter flush marks: %w", err)
	}
	return tag.RowsAffected(), nil
}

// addUsage adds rows to the usage table in one statement. Counts add up;
// peak_connections keeps the greater value. account_id is the app's
// account at fold time, ” for an app that no longer exists (its usage
// stays readable by app id); a row that had no account takes one as soon
// as a fold knows it.
func addUsage(ctx context.Context, tx pgx.Tx, rows []billing.Row) error {
	if len(rows) == 0 {
		return nil
	}
	n := len(rows)
	app, gran, period := make([]string, n), make([]string, n), make([]time.Time, n)
	cols := make([][]int64, 10)
	for i := range cols {
		cols[i] = make([]int64, n)
	}
	for i, r := range rows {
		app[i], gran[i], period[i] = r.AppID, string(r.Granularity), r.Period
		c := r.Counters
		for j, v := range []int64{c.MessagesPublished, c.MessagesDelivered, c.PresenceEvents, c.WebhookCalls,
			c.APIRequests, c.BytesIn, c.BytesOut, c.ConnectionSeconds, c.PeakConnections, c.HistoryReads} {
			cols[j][i] = v
		}
	}
	_, err := tx.Exec(ctx, `
		insert into usage as u (account_id, app_id, granularity, period_start,
			messages_published, messages_delivered, presence_events, webhook_calls, api_requests,
			bytes_in, bytes_out, connection_seconds, peak_connections, history_reads)
		select coalesce(a.account_id, ''), v.app_id, v.granularity, v.period_start,
			v.mp, v.md, v.pe, v.wc, v.ar, v.bi, v.bo, v.cs, v.pc, v.hr
		from unnest($1::text[], $2::text[], $3::timestamptz[], $4::bigint[], $5::bigint[], $6::bigint[],
			$7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[])
			as v(app_id, granularity, period_start, mp, md, pe, wc, ar, bi, bo, cs, pc, hr)
		left join apps a on a.id = v.app_id
		on conflict (app_id, granularity, period_start) do update set
			account_id = case when u.account_id = '' then excluded.account_id else u.account_id end,
			messages_published = u.messages_published + excluded.messages_published,
			messages_delivered = u.messages_delivered + excluded.messages_delivered,
			presence_events = u.presence_events + excluded.presence_events,
			webhook_calls = u.webhook_calls + excluded.webhook_calls,
			api_requests = u.api_requests + excluded.api_requests,
			bytes_in = u.bytes_in + excluded.bytes_in,
			bytes_out = u.bytes_out + excluded.bytes_out,
			connection_seconds = u.connection_seconds + excluded.connection_seconds,
			peak_connections = greatest(u.peak_connections, excluded.peak_connections),
			history_reads = u.history_reads + excluded.history_reads`,
		app, gran, period, cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6], cols[7], cols[8], cols[9])
	if err != nil {
		return fmt.Errorf("add usage: %w", err)
	}
	return nil
}
