package history

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
)

// DefaultMaxStreamScan is the most stream messages one history read looks
// at above the watermark. The writer normally trails the stream by one
// batch, so a read finds a handful; only a writer far behind (a long
// database outage) gets near it.
const DefaultMaxStreamScan = 20000

// ErrBehind is answered, instead of a page with a hole, when a read would
// have to scan more than its cap of messages the writer has not stored.
var ErrBehind = &channels.Error{Code: channels.CodeUnavailable,
	Message: "history is catching up with the message stream; try again shortly"}

// Store reads what the writer stored (controlplane/postgres.Store).
type Store interface {
	// ListHistory returns at most q.Limit stored messages of a channel in
	// serial order.
	ListHistory(ctx context.Context, q controlplane.HistoryQuery) ([]controlplane.HistoryMessage, error)
}

// StreamReader reads a channel's messages from the message stream
// (bus/stream.Reader).
type StreamReader interface {
	Each(ctx context.Context, appID, channel string, after, upTo uint64, fn func(*stream.Delivery) bool) error
	LeaderLast(ctx context.Context, appID, channel string) (uint64, error)
}

// WatermarkSource gives the serial at or below which every message is
// stored (*Watermark).
type WatermarkSource interface {
	Get(ctx context.Context) (uint64, error)
}

// ReaderConfig configures a Reader. Store, Stream and Watermark are
// required.
type ReaderConfig struct {
	Store     Store
	Stream    StreamReader
	Watermark WatermarkSource
	// StreamName is the stream the messages read from it are labelled
	// with; empty means shard 0's.
	StreamName string
	// Apps, when set, tells which apps keep no history: nothing is read
	// from the stream for them, as the writer stores nothing of theirs.
	Apps AppSource
	// MaxStreamScan caps the stream messages one read looks at; zero means
	// DefaultMaxStreamScan.
	MaxStreamScan int
	// Strict asks the stream leader for the channel's newest serial first
	// and reads up to it, retrying a replica that answers from behind: with
	// a replicated stream, a follower may not have applied a write whose
	// publish already returned. A single server needs none of it.
	Strict bool
}

// Reader answers history queries completely the moment a message is in
// the stream, without waiting for the writer: PostgreSQL holds every
// message at or below the watermark, and the stream every message above
// it, so a page is PostgreSQL's page merged with the stream's messages
// above the watermark, in serial order and without duplicates. Without the
// stream part, a page read while a batch is in flight (or held by a writer
// that died, until JetStream delivers it again) would skip its messages
// while showing later ones, and a reader paging on with a cursor would
// never see them.
type Reader struct {
	cfg ReaderConfig
}

// NewReader returns a Reader.
func NewReader(cfg ReaderConfig) (*Reader, error) {
	if cfg.Store == nil || cfg.Stream == nil || cfg.Watermark == nil {
		return nil, errors.New("history reader: Store, Stream and Watermark are required")
	}
	if cfg.StreamName == "" {
		cfg.StreamName = stream.StreamName(0)
	}
	cfg.MaxStreamScan = orDefault(cfg.MaxStreamScan, DefaultMaxStreamScan)
	return &Reader{cfg: cfg}, nil
}

// ListHistory returns one page of a channel's history: at most q.Limit
// messages, in serial order, oldest or newest first as q asks.
func (r *Reader) ListHistory(ctx context.Context, q controlplane.HistoryQuery) ([]controlplane.HistoryMessage, error) {
	if q.Limit <= 0 {
		return nil, channels.BadRequest("limit", "limit must be positive")
	}
	// The watermark first: what was stored at or below it when it was
	// read is still stored when PostgreSQL is read. Read after PostgreSQL,
	// it could count messages stored in between, missing from both parts.
	mark, err := r.cfg.Watermark.Get(ctx)
	if err != nil {
		return nil, err
	}
	stored, err := r.cfg.Store.ListHistory(ctx, q)
	if err != nil {
		return nil, err
	}
	if !r.needsStream(q, mark, stored) {
		return stored, nil
	}
	recent, err := r.readStream(ctx, q, mark)
	if err != nil {
		return nil, err
	}
	return merge(stored, recent, q.Backwards, q.Limit), nil
}

// needsStream reports whether messages above the watermark can be on the
// page.
func (r *Reader) needsStream(q controlplane.HistoryQuery, mark uint64, stored []controlplane.HistoryMessage) bool {
	if r.keepsNothing(q.AppID) {
		return false
	}
	if q.Backwards {
		// Newest first: the page ends below q.After.
		return !q.HasAfter || q.After > mark+1
	}
	// Oldest first: a full page at or below the watermark comes before
	// anything the stream holds above it.
	return len(stored) < q.Limit || stored[len(stored)-1].Serial > mark
}

// keepsNothing reports whether appID is known to keep no history.
func (r *Reader) keepsNothing(appID string) bool {
	if r.cfg.Apps == nil {
		return false
	}
	app, ok := r.cfg.Apps.App(appID)
	return ok && app.Settings.HistoryRetentionS == 0
}

// readStream reads the messages of q above mark from the stream, at most
// q.Limit of them: the first ones forwards, the last ones backwards.
func (r *Reader) readStream(ctx context.Context, q controlplane.HistoryQuery, mark uint64) ([]controlplane.HistoryMessage, error) {
	after := mark
	if !q.Backwards && q.HasAfter {
		after = max(after, q.After)
	}
	var upTo uint64
	if r.cfg.Strict {
		last, err := r.cfg.Stream.LeaderLast(ctx, q.AppID, q.Channel)
		if err != nil {
			return nil, fmt.Errorf("history above serial %d: %w", mark, err)
		}
		if last <= after {
			return nil, nil
		}
		upTo = last
	}
	var (
		// Backwards keeps the newest q.Limit in a ring.
		out     = make([]controlplane.HistoryMessage, 0, min(q.Limit, initialStreamPage))
		next    int
		scanned int
		behind  bool
	)
	err := r.cfg.Stream.Each(ctx, q.AppID, q.Channel, after, upTo, func(d *stream.Delivery) bool {
		if q.Backwards && q.HasAfter && d.Serial >= q.After {
			return false
		}
		if scanned++; scanned > r.cfg.MaxStreamScan {
			behind = true
			return false
		}
		m := r.message(d)
		if (!q.Start.IsZero() && m.PublishedAt.Before(q.Start)) || (!q.End.IsZero() && m.PublishedAt.After(q.End)) {
			return true
		}
		switch {
		case len(out) < q.Limit:
			out = append(out, m)
		default: // backwards, ring full: drop the oldest
			out[next] = m
			next = (next + 1) % q.Limit
		}
		return q.Backwards || len(out) < q.Limit
	})
	if errors.Is(err, stream.ErrGapUnrecoverable) {
		// A strict read that the replicas could not bring up to the
		// leader's newest serial: retrying may work.
		return nil, fmt.Errorf("history above serial %d: %w: %w", mark, stream.ErrUnavailable, err)
	}
	if err != nil {
		return nil, fmt.Errorf("history above serial %d: %w", mark, err)
	}
	if behind {
		return nil, fmt.Errorf("history of %s: more than %d messages above serial %d: %w", q.AppID, r.cfg.MaxStreamScan, mark, ErrBehind)
	}
	if q.Backwards {
		// Oldest first from the ring's start, then newest first.
		out = append(out[next:], out[:next]...)
		slices.Reverse(out)
	}
	return out, nil
}

// initialStreamPage sizes the first allocation of a stream read: most find
// a few messages, however large the page asked for.
const initialStreamPage = 16

// message is a stream delivery as the history shows it: the time is cut
// to the microseconds PostgreSQL keeps, so that a message reads the same
// before and after the writer stores it.
func (r *Reader) message(d *stream.Delivery) controlplane.HistoryMessage {
	return controlplane.HistoryMessage{
		Stream: r.cfg.StreamName, Serial: d.Serial, AppID: d.AppID, Channel: d.Channel,
		Event: d.Event, Data: d.Data, UserID: d.UserID,
		PublishedAt: d.Time.UTC().Truncate(time.Microsecond),
	}
}

// merge merges two pages sorted in the same direction into one of at most
// limit messages, each serial once (the copies are the same message).
func merge(a, b []controlplane.HistoryMessage, backwards bool, limit int) []controlplane.HistoryMessage {
	if len(b) == 0 {
		return a[:min(len(a), limit)]
	}
	first := func(x, y uint64) bool { return x < y }
	if backwards {
		first = func(x, y uint64) bool { return x > y }
	}
	out := make([]controlplane.HistoryMessage, 0, min(len(a)+len(b), limit))
	i, j := 0, 0
	for len(out) < limit && (i < len(a) || j < len(b)) {
		switch {
		case j == len(b) || (i < len(a) && first(a[i].Serial, b[j].Serial)):
			out = append(out, a[i])
			i++
		case i == len(a) || first(b[j].Serial, a[i].Serial):
			out = append(out, b[j])
			j++
		default: // the same serial in both
			out = append(out, a[i])
			i, j = i+1, j+1
		}
	}
	return out
}
