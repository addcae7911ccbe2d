package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
)

// errSerialRange is returned for a serial that does not fit the bigint
// column; JetStream sequences never get there.
var errSerialRange = errors.New("serial out of range")

// historyColumns are the columns WriteHistory fills, in COPY order.
var historyColumns = []string{"stream", "serial", "app_id", "channel", "event", "data", "user_id", "published_at"}

// insertHistory is the idempotent path: one statement where the columns
// travel as arrays, and the conflict clause skips what an earlier delivery
// already stored, duplicates within the batch included.
const insertHistory = `
insert into messages (stream, serial, app_id, channel, event, data, user_id, published_at)
select s, q, a, c, e, d, nullif(u, ''), t
from unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bytea[], $7::text[], $8::timestamptz[])
    as m(s, q, a, c, e, d, u, t)
on conflict (stream, serial) do nothing`

// WriteHistory stores messages, skipping those already stored with the
// same stream and serial, so that writing a batch again is harmless. It
// returns how many were new. The batch is written atomically.
//
// It first tries COPY, about a third faster than the insert: a batch is
// new unless a writer died between its commit and its acknowledgement.
// When COPY meets a row already there, the batch goes again through the
// insert that skips conflicts.
func (s *Store) WriteHistory(ctx context.Context, msgs []controlplane.HistoryMessage) (int64, error) {
	if len(msgs) == 0 {
		return 0, nil
	}
	for i := range msgs {
		if m := &msgs[i]; m.Serial == 0 || m.Serial > math.MaxInt64 {
			return 0, fmt.Errorf("write history: %s serial %d: %w", m.Stream, m.Serial, errSerialRange)
		}
	}
	n, err := s.pool.CopyFrom(ctx, pgx.Identifier{"messages"}, historyColumns, &historyRows{msgs: msgs, i: -1})
	if pgCode(err) == pgUniqueViolation {
		n, err = s.insertHistory(ctx, msgs)
	}
	if err != nil {
		return 0, fmt.Errorf("write history: %w", err)
	}
	return n, nil
}

// insertHistory writes msgs, skipping the ones already stored.
func (s *Store) insertHistory(ctx context.Context, msgs []controlplane.HistoryMessage) (int64, error) {
	n := len(msgs)
	var (
		streams = make([]string, n)
		serials = make([]int64, n)
		apps    = make([]string, n)
		chans   = make([]string, n)
		events  = make([]string, n)
		data    = make([][]byte, n)
		users   = make([]string, n)
		stamps  = make([]time.Time, n)
	)
	for i := range msgs {
		m := &msgs[i]
		streams[i], serials[i], apps[i], chans[i] = m.Stream, int64(m.Serial), m.AppID, m.Channel
		events[i], data[i], users[i], stamps[i] = m.Event, nonNil(m.Data), m.UserID, m.PublishedAt
	}
	tag, err := s.pool.Exec(ctx, insertHistory, streams, serials, apps, chans, events, data, users, stamps)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

// historyRows feeds a batch to COPY (pgx.CopyFromSource).
type historyRows struct {
	msgs []controlplane.HistoryMessage
	i    int
}

func (r *historyRows) Next() bool {
	r.i++
	return r.i < len(r.msgs)
}

func (r *historyRows) Values() ([]any, error) {
	m := &r.msgs[r.i]
	var user any
	if m.UserID != "" {
		user = m.UserID
	}
	return []any{m.Stream, int64(m.Serial), m.AppID, m.Channel, m.Event, nonNil(m.Data), user, m.PublishedAt}, nil
}

func (r *historyRows) Err() error { return nil }

// nonNil turns nil data into empty data: nil would be NULL, which the
// column refuses.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// ListHistory returns one page of a channel's history in serial order: at
// most q.Limit messages, oldest first or newest first as q asks.
func (s *Store) ListHistory(ctx context.Context, q controlplane.HistoryQuery) ([]controlplane.HistoryMessage, error) {
	if q.Limit <= 0 {
		return nil, channels.BadRequest("limit", "limit must be positive")
	}
	if q.HasAfter && q.After > math.MaxInt64 {
		return nil, channels.BadRequest("from_serial", "serial out of range")
	}
	// The statement holds only the bounds that are set, so that each of
	// its few shapes gets a plan (and an index) of its own.
	var sql strings.Builder
	sql.WriteString(`select stream, serial, event, data, coalesce(user_id, ''), published_at
		from messages where app_id = $1 and channel = $2`)
	args := []any{q.AppID, q.Channel}
	arg := func(cond string, v any) {
		args = append(args, v)
		sql.WriteString(" and " + cond + " $" + strconv.Itoa(len(args)))
	}
	order := " order by serial"
	if q.Backwards {
		order = " order by serial desc"
	}
	if q.HasAfter {
		if q.Backwards {
			arg("serial <", int64(q.After))
		} else {
			arg("serial >", int64(q.After))
		}
	}
	if !q.Start.IsZero() {
		arg("published_at >=", q.Start)
	}
	if !q.End.IsZero() {
		arg("published_at <=", q.End)
	}
	args = append(args, q.Limit)
	sql.WriteString(order + " limit $" + strconv.Itoa(len(args)))

	rows, _ := s.pool.Query(ctx, sql.String(), args...)
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (controlplane.HistoryMessage, error) {
		m := controlplane.HistoryMessage{AppID: q.AppID, Channel: q.Channel}
		var serial int64
		err := r.Scan(&m.Stream, &serial, &m.Event, &m.Data, &m.UserID, &m.PublishedAt)
		m.Serial, m.PublishedAt = uint64(serial), utc(m.PublishedAt)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("list history of %s: %w", q.AppID, err)
	}
	return items, nil
}

// historyRetentions walks the distinct app ids of the history with one
// index probe each (a loose index scan: PostgreSQL 15 has no skip scan),
// and joins each with its app's retention, lowered by its account's plan
// where stricter (billing.Limits.Apply). Apps that no longer exist keep
// nothing.
const historyRetentions = `
with recursive ids(app_id) as (
    (select app_id from messages order by app_id limit 1)
    union all
    select (select m.app_id from messages m where m.app_id > ids.app_id order by m.app_id limit 1)
    from ids where ids.app_id is not null
)
select ids.app_id,
       case when a.id is null then 0
            when p.history_retention_s > 0
                 then least(coalesce((a.settings->>'history_retention_s')::bigint, $1), p.history_retention_s)
            else coalesce((a.settings->>'history_retention_s')::bigint, $1) end
from ids left join apps a on a.id = ids.app_id
left join accounts ac on ac.id = a.account_id
left join plans p on p.id = ac.plan_id
where ids.app_id is not null
order by ids.app_id`

// HistoryRetentions lists every app that has history, with its
// retention, in app id order.
func (s *Store) HistoryRetentions(ctx context.Context) ([]controlplane.HistoryRetention, error) {
	rows, _ := s.pool.Query(ctx, historyRetentions, channels.DefaultHistoryRetentionS)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (controlplane.HistoryRetention, error) {
		var (
			h    controlplane.HistoryRetention
			secs int64
		)
		err := r.Scan(&h.AppID, &secs)
		h.Retention = time.Duration(max(secs, 0)) * time.Second
		return h, err
	})
	if err != nil {
		return nil, fmt.Errorf("list history retentions: %w", err)
	}
	return out, nil
}

// purgeHistory deletes one bounded batch. The rows are picked through the
// (app_id, published_at) index, locked so that two control planes purging
// at once split the work instead of waiting on each other, and deleted by
// their physical address (a TID scan: no second index lookup).
const purgeHistory = `
delete from messages where ctid = any(array(
    select ctid from messages
    where app_id = $1 and published_at < $2
    limit $3
    for update skip locked))`

// PurgeHistory deletes at most limit messages of appID published before
// before, in one short transaction, and returns how many it deleted. Fewer
// than limit means none are left (unless another purger holds some).
func (s *Store) PurgeHistory(ctx context.Context, appID string, before time.Time, limit int) (int64, error) {
	if limit <= 0 {
		return 0, channels.BadRequest("limit", "limit must be positive")
	}
	tag, err := s.pool.Exec(ctx, purgeHistory, appID, before, limit)
	if err != nil {
		return 0, fmt.Errorf("purge history of %s: %w", appID, err)
	}
	return tag.RowsAffected(), nil
}
