package stream

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/heraldhq/herald/bus/directget"
	"github.com/heraldhq/herald/channels"
)

// StoredScanLimit bounds the messages one Stored call reads: a channel
// with more messages in the duplicate window is not searched past them.
const StoredScanLimit = 1024

// Stored looks for the message of appID's channel that was stored with
// the idempotency key msgID within the stream's duplicate window
// (DefaultDuplicates) before now: the message a publish with that MsgID
// would be a duplicate of. It reads, with Direct Get, at most
// StoredScanLimit of the channel's messages, from the window's start on.
// A replica that is behind may not hold a message whose publish has just
// returned. It is for paths that need the answer without publishing (a
// publish refused by a quota, which must still answer a retry as the
// stream would); it costs one Direct Get per Batch messages read.
func (r *Reader) Stored(ctx context.Context, appID, channel, msgID string, now time.Time) (serial uint64, ok bool, err error) {
	subject := channels.MessageSubject(r.cfg.Shard, appID, channel)
	since := now.Add(-DefaultDuplicates).UTC()
	var (
		next uint64
		read int
		bad  error
	)
	match := func(m *nats.Msg) bool {
		v := directget.First(m.Header, directget.HeaderSequence)
		seq, err := strconv.ParseUint(v, 10, 64)
		if err != nil || seq == 0 {
			bad = fmt.Errorf("%w: bad %s %q", ErrMalformed, directget.HeaderSequence, v)
			return false
		}
		read++
		next = seq + 1
		if directget.First(m.Header, HeaderMsgID) == msgID {
			serial = seq
			return false
		}
		return read < StoredScanLimit
	}
	for read < StoredScanLimit {
		req := directget.Request{NextFor: subject, Batch: min(r.cfg.Batch, StoredScanLimit-read), MaxBytes: r.cfg.MaxBytes}
		if next == 0 {
			req.StartTime = &since
		} else {
			req.Seq = next
		}
		before := read
		pending, err := r.getBatch(ctx, req, match)
		switch {
		case bad != nil:
			return 0, false, fmt.Errorf("find %s message %s: %w", appID, msgID, bad)
		case err != nil:
			return 0, false, fmt.Errorf("find %s message %s: %w", appID, msgID, classify(err))
		case serial > 0:
			return serial, true, nil
		case pending == 0 || read == before:
			return 0, false, nil
		}
	}
	return 0, false, nil
}
