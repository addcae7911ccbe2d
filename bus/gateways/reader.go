package gateways

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/directget"
)

// DefaultReadTimeout bounds one registry read.
const DefaultReadTimeout = 2 * time.Second

// Reader reads the gateway registry, a KV bucket with one key per
// running gateway (docs/nats.md, "KV buckets"), with one Direct Get multi_last request:
// the last message of every key, served by any replica, with no consumer
// and no watcher to keep. A key whose last message is a delete, a purge
// or an expiry marker is a gateway that stopped.
type Reader struct {
	get *directget.Client
}

// NewReader returns a registry reader on nc. It holds no subscription.
func NewReader(nc *nats.Conn) *Reader {
	return &Reader{get: directget.New(nc, stream, DefaultReadTimeout)}
}

// gatewayKeys matches gateway keys only: they are single tokens, and
// keys with a '.' (cleanup locks) are not gateways.
const gatewayKeys = SubjectPrefix + "*"

// GatewayIDs returns the ids of the registered gateways. A bucket that
// does not exist yet (no gateway ever ran) lists none.
func (r *Reader) GatewayIDs(ctx context.Context) ([]string, error) {
	var ids []string
	_, err := r.get.Get(ctx, directget.Request{MultiLast: []string{gatewayKeys}}, func(m *nats.Msg) bool {
		if id, live := r.entry(m); live {
			ids = append(ids, id)
		}
		return true
	})
	if errors.Is(err, nats.ErrNoResponders) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read gateway registry: %w", err)
	}
	return ids, nil
}

// entry returns the gateway id of one stored registry message and whether
// it is a live registration.
func (r *Reader) entry(m *nats.Msg) (string, bool) {
	if op := m.Header.Get(directget.HeaderKVOperation); op != "" || m.Header.Get(jetstream.MarkerReasonHeader) != "" {
		return "", false
	}
	id, ok := strings.CutPrefix(m.Header.Get(jetstream.SubjectHeader), SubjectPrefix)
	if !ok || id == "" || strings.Contains(id, ".") {
		return "", false
	}
	return id, true
}
