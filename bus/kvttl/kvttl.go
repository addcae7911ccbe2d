// Package kvttl writes KV keys with a per-key TTL, as compare-and-sets on
// a key's last revision: what jetstream.KeyValue cannot do for a key that
// exists (renewing a lease is rewriting its key with a fresh TTL). The
// bucket must allow per-message TTLs (AllowMsgTTL, which LimitMarkerTTL
// implies). Presence members and gateway registrations are both leases
// written this way.
package kvttl

import (
	"errors"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/directget"
)

// MinTTL is the shortest TTL JetStream accepts (docs/nats.md, "KV: TTLs,
// markers, compare-and-set"); TTLs are also rounded up to whole seconds.
const MinTTL = time.Second

// Round rounds d up to whole seconds: JetStream truncates TTLs to
// seconds, and a lease must never be shorter than asked.
func Round(d time.Duration) time.Duration {
	return (d + time.Second - 1).Truncate(time.Second)
}

// ttlValue formats d for the Nats-TTL header in whole seconds, rounded up.
func ttlValue(d time.Duration) string {
	return strconv.FormatInt(int64(Round(d)/time.Second), 10)
}

// Put is the message that writes value with a TTL to subject (a key's
// subject, $KV.<bucket>.<key>), as KeyValue.Create with KeyTTL does, but
// also for keys that exist.
func Put(subject string, value []byte, ttl time.Duration) *nats.Msg {
	m := nats.NewMsg(subject)
	m.Header.Set(jetstream.MsgTTLHeader, ttlValue(ttl))
	m.Data = value
	return m
}

// Purge is the message that purges subject's key and leaves a marker that expires after
// markerTTL. A plain KV delete would leave its marker forever, and member
// keys are unique per connection, so the bucket would only grow.
func Purge(subject string, markerTTL time.Duration) *nats.Msg {
	m := nats.NewMsg(subject)
	m.Header.Set(directget.HeaderKVOperation, directget.KVOpPurge)
	m.Header.Set(jetstream.MsgRollup, jetstream.MsgRollupSubject)
	m.Header.Set(jetstream.MsgTTLHeader, ttlValue(markerTTL))
	return m
}

// ExpectRev makes m a compare-and-set on its subject's last revision.
func ExpectRev(m *nats.Msg, rev uint64) *nats.Msg {
	m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(rev, 10))
	return m
}

// IsWrongRev reports whether err is JetStream refusing a compare-and-set.
func IsWrongRev(err error) bool {
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	return apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant
}
