package occupancy

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

// Registry lists the gateways that must answer a query.
type Registry interface {
	GatewayIDs(ctx context.Context) ([]string, error)
}

// DefaultRegistryTimeout bounds one registry read.
const DefaultRegistryTimeout = 2 * time.Second

// KVRegistry reads the gateway registry, a KV bucket with one key per
// running gateway (DESIGN.md §5), with one Direct Get multi_last request:
// the last message of every key, served by any replica, with no consumer
// and no watcher to keep. A key whose last message is a delete, a purge
// or an expiry marker is a gateway that stopped.
type KVRegistry struct {
	get    *directget.Client
	keys   string // the subject filter of gateway keys
	prefix string // the subject prefix of every key
}

// NewKVRegistry returns a registry reader for bucket. Gateway keys are
// single tokens; keys with a '.' (janitor locks) are not gateways.
func NewKVRegistry(nc *nats.Conn, bucket string) *KVRegistry {
	return &KVRegistry{
		get:    directget.New(nc, "KV_"+bucket, DefaultRegistryTimeout),
		keys:   "$KV." + bucket + ".*",
		prefix: "$KV." + bucket + ".",
	}
}

// GatewayIDs returns the ids of the registered gateways. A bucket that
// does not exist yet (no gateway ever ran) lists none.
func (r *KVRegistry) GatewayIDs(ctx context.Context) ([]string, error) {
	var ids []string
	_, err := r.get.Get(ctx, directget.Request{MultiLast: []string{r.keys}}, func(m *nats.Msg) bool {
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
func (r *KVRegistry) entry(m *nats.Msg) (string, bool) {
	if op := m.Header.Get(directget.HeaderKVOperation); op != "" || m.Header.Get(jetstream.MarkerReasonHeader) != "" {
		return "", false
	}
	id, ok := strings.CutPrefix(m.Header.Get(jetstream.SubjectHeader), r.prefix)
	if !ok || id == "" || strings.Contains(id, ".") {
		return "", false
	}
	return id, true
}
