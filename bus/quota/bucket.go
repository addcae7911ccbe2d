// Package quota is the HERALD_QUOTA_TOTALS KV bucket, both sides: the
// control plane's usage aggregator puts each account's running message
// totals of the current UTC day and month there after every fold that
// touched the account, and every process that enforces quotas (gateways,
// the control plane's REST API) keeps a Cache that watches the bucket, so
// that the publish path never asks the database (docs/billing.md,
// "Quotas and enforcement").
package quota

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/kvwatch"
	"github.com/heraldhq/herald/channels"
)

// Bucket is the KV bucket of account totals, one key per account id.
const Bucket = "HERALD_QUOTA_TOTALS"

// ErrMalformed marks a key or value that does not decode.
var ErrMalformed = errors.New("malformed quota totals")

// Entry is one account's running totals as of the folds so far.
type Entry struct {
	// Day and Month are the starts (UTC) of the periods the totals are of.
	Day   time.Time `json:"day"`
	Month time.Time `json:"month"`
	// DayMessages and MonthMessages are the account's messages
	// (billing.Counters.Messages) in Day and Month, summed over its apps.
	DayMessages   int64 `json:"day_messages"`
	MonthMessages int64 `json:"month_messages"`
	// Marks is, per message stream (HERALD_MSG, HERALD_MSG_<n>), the last
	// serial whose publishes the totals include: a process adds the
	// publishes it accepted above it.
	Marks map[string]uint64 `json:"marks"`
	// Flushes is, per meter flush source (a process and its boot nonce,
	// billing.ParseFlushID), the last flush sequence such that it and
	// every earlier flush of the source are in the totals: a process
	// keeps counting the deliveries it flushed above it. Sources that
	// had no flush folded lately are left out (billing.FlushMarksWindow).
	Flushes map[string]uint64 `json:"flushes,omitempty"`
	// UpdatedAt is when the totals were read.
	UpdatedAt time.Time `json:"updated_at"`
}

// EnsureBucket creates the bucket or updates its configuration. Only the
// latest value of each key is kept. The totals are on disk: a restarted
// NATS would otherwise let every account start from zero until its next
// fold. replicas < 1 means 1.
func EnsureBucket(ctx context.Context, js jetstream.JetStream, replicas int) (jetstream.KeyValue, error) {
	return kvwatch.EnsureLatestBucket(ctx, js, Bucket, "Herald account message totals of the current day and month, written by the usage aggregator, watched by every enforcer", replicas)
}

// Encode is the one encoding of an Entry in the bucket.
func Encode(e Entry) ([]byte, error) {
	if e.DayMessages < 0 || e.MonthMessages < 0 {
		return nil, fmt.Errorf("%w: negative totals", ErrMalformed)
	}
	return json.Marshal(e)
}

// Decode parses a value written by Encode; errors wrap ErrMalformed.
func Decode(data []byte) (Entry, error) {
	var e Entry
	if err := json.Unmarshal(data, &e); err != nil {
		return Entry{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if e.DayMessages < 0 || e.MonthMessages < 0 || e.Day.IsZero() || e.Month.IsZero() {
		return Entry{}, fmt.Errorf("%w: totals %d/%d of %v/%v", ErrMalformed, e.DayMessages, e.MonthMessages, e.Day, e.Month)
	}
	e.Day, e.Month = e.Day.UTC(), e.Month.UTC()
	return e, nil
}

// Put writes an account's totals. Account ids share the app id alphabet
// ([A-Za-z0-9_-]), which the KV key alphabet holds.
func Put(ctx context.Context, kv jetstream.KeyValue, accountID string, e Entry) error {
	if err := channels.ValidateAppID(accountID); err != nil {
		return fmt.Errorf("put quota totals: account id: %w", err)
	}
	b, err := Encode(e)
	if err != nil {
		return err
	}
	if _, err := kv.Put(ctx, accountID, b); err != nil {
		return fmt.Errorf("put quota totals of %s: %w", accountID, err)
	}
	return nil
}
