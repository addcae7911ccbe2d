package presence

import (
	"errors"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/directget"
)

// ttlValue formats d for the Nats-TTL header in whole seconds, rounded up.
func ttlValue(d time.Duration) string {
	return strconv.FormatInt(int64(roundTTL(d)/time.Second), 10)
}

// putMsg writes a value with a TTL to subject, as KeyValue.Create with
// KeyTTL does, but also for keys that exist: renewing a lease is
// rewriting its key with a fresh TTL.
func putMsg(subject string, value []byte, ttl time.Duration) *nats.Msg {
	m := nats.NewMsg(subject)
	m.Header.Set(jetstream.MsgTTLHeader, ttlValue(ttl))
	m.Data = value
	return m
}

// purgeMsg purges subject's key and leaves a marker that expires after
// markerTTL. A plain KV delete would leave its marker forever, and member
// keys are unique per connection, so the bucket would only grow.
func purgeMsg(subject string, markerTTL time.Duration) *nats.Msg {
	m := nats.NewMsg(subject)
	m.Header.Set(directget.HeaderKVOperation, directget.KVOpPurge)
	m.Header.Set(jetstream.MsgRollup, jetstream.MsgRollupSubject)
	m.Header.Set(jetstream.MsgTTLHeader, ttlValue(markerTTL))
	return m
}

// expectRev makes m a compare-and-set on its subject's last revision.
func expectRev(m *nats.Msg, rev uint64) *nats.Msg {
	m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(rev, 10))
	return m
}

// isWrongRev reports whether err is JetStream refusing a compare-and-set.
func isWrongRev(err error) bool {
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	return apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant
}
