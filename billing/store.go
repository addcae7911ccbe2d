package billing

import (
	"context"
	"time"

	"github.com/heraldhq/herald/bus/quota"
)

// Store is where folds land; controlplane/postgres implements it. Each
// method is one transaction: its sums and its record of what it folded
// commit together, which is what makes a fold delivered twice count once.
type Store interface {
	// FoldFlushes adds the flushes not folded before (by ID) to the
	// periods of every granularity holding their minute, and records
	// their ids. It returns how many were new.
	FoldFlushes(ctx context.Context, flushes []Flush) (folded int, err error)
	// FoldPublished adds the messages of stream with a serial above the
	// stream's mark (messages_published, bytes_in) to the periods holding
	// their stream time, and moves the mark to the highest serial. msgs
	// are in serial order. It returns how many were counted.
	FoldPublished(ctx context.Context, stream string, msgs []Published) (counted int, err error)
	// StreamMark returns how far FoldPublished has counted stream (0:
	// nothing yet).
	StreamMark(ctx context.Context, stream string) (uint64, error)
	// ForgetFlushes removes the record of flushes folded before t: no
	// copy of them can be delivered any more.
	ForgetFlushes(ctx context.Context, before time.Time) (int64, error)
	// AccountTotals returns, for the accounts that own appIDs, their
	// messages in the UTC day and month holding at, summed over their
	// apps, with the marks of every message stream, all read in one
	// snapshot: the totals include exactly the publishes at or below
	// the marks (docs/billing.md, "Quotas and enforcement").
	AccountTotals(ctx context.Context, appIDs []string, at time.Time) ([]AccountTotals, error)
	// RecordQuotaEvent records that an account crossed a threshold of a
	// quota in a period, with its audit entry, unless it was recorded
	// before (by any control plane): recorded says whether it is new.
	RecordQuotaEvent(ctx context.Context, e QuotaEvent) (recorded bool, err error)
	// PendingQuotaWebhooks returns up to limit recorded quota events not
	// yet stored for operator webhooks, oldest first (the outbox of
	// docs/webhooks.md, "Operator webhooks").
	PendingQuotaWebhooks(ctx context.Context, limit int) ([]QuotaEvent, error)
	// QuotaWebhookPublished marks e stored for operator webhooks.
	QuotaWebhookPublished(ctx context.Context, e QuotaEvent) error
}

// AccountTotals are one account's running totals, as the enforcers read
// them from HERALD_QUOTA_TOTALS.
type AccountTotals struct {
	AccountID string
	quota.Entry
	// Connections is the sum of the account's apps' peak connections in
	// the current minute: an upper bound of its cluster-wide count, which
	// the 80% and 100% events of max_connections judge.
	Connections int64
}

// Published is one message of a message stream as the published count
// reads it.
type Published struct {
	Serial uint64
	AppID  string
	// At is when the stream stored it: the period it is counted in.
	At time.Time
	// Bytes is the length of its data (bytes_in).
	Bytes int64
}

// Row is what a fold adds to the usage table: one row per app,
// granularity and period, the deltas of the flushes or messages summed.
type Row struct {
	AppID       string
	Granularity Granularity
	Period      time.Time
	Counters    Counters
}

// SumRows adds each (app, minute, counters) to the period of every
// granularity holding the minute, one Row per app, granularity and
// period, sorted so that concurrent folds lock rows in the same order.
func SumRows(add func(yield func(appID string, at time.Time, c Counters))) []Row {
	type key struct {
		app string
		g   Granularity
		p   time.Time
	}
	sums := map[key]*Counters{}
	var keys []key
	add(func(appID string, at time.Time, c Counters) {
		for _, g := range Granularities {
			k := key{appID, g, g.Start(at)}
			s, ok := sums[k]
			if !ok {
				s = &Counters{}
				sums[k] = s
				keys = append(keys, k)
			}
			s.Add(c)
		}
	})
	rows := make([]Row, len(keys))
	for i, k := range keys {
		rows[i] = Row{AppID: k.app, Granularity: k.g, Period: k.p, Counters: *sums[k]}
	}
	sortRows(rows)
	return rows
}
