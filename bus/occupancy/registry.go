package occupancy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Registry lists the gateways that must answer a query.
type Registry interface {
	GatewayIDs(ctx context.Context) ([]string, error)
}

// DefaultRegistryTimeout bounds one registry read.
const DefaultRegistryTimeout = 2 * time.Second

// Headers of stored KV messages and Direct Get statuses that nats.go does
// not export.
const (
	hdrStatus       = "Status"
	hdrDescription  = "Description"
	hdrKVOperation  = "KV-Operation"
	statusNoContent = "204" // end of a Direct Get batch
	statusNotFound  = "404" // no key at all
)

// KVRegistry reads the gateway registry, a KV bucket with one key per
// running gateway (docs/nats.md, "KV buckets"), with one Direct Get
// multi_last request: the last message of every key, served by any replica,
// with no consumer and no watcher to keep. A key whose last message is a
// delete, a purge or an expiry marker is a gateway that stopped.
type KVRegistry struct {
	nc      *nats.Conn
	api     string // the Direct Get subject of the bucket's stream
	keys    string // the subject filter of gateway keys
	prefix  string // the subject prefix of every key
	timeout time.Duration
}

// NewKVRegistry returns a registry reader for bucket. Gateway keys are
// single tokens; keys with a '.' (janitor locks) are not gateways.
func NewKVRegistry(nc *nats.Conn, bucket string) *KVRegistry {
	return &KVRegistry{
		nc:      nc,
		api:     "$JS.API.DIRECT.GET.KV_" + bucket,
		keys:    "$KV." + bucket + ".*",
		prefix:  "$KV." + bucket + ".",
		timeout: DefaultRegistryTimeout,
	}
}

// GatewayIDs returns the ids of the registered gateways. A bucket that
// does not exist yet (no gateway ever ran) lists none.
func (r *KVRegistry) GatewayIDs(ctx context.Context) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	ib, err := newInbox(r.nc)
	if err != nil {
		return nil, fmt.Errorf("read gateway registry: %w", err)
	}
	defer ib.close()
	req, err := json.Marshal(struct {
		MultiLast []string `json:"multi_last"`
	}{[]string{r.keys}})
	if err != nil {
		return nil, fmt.Errorf("read gateway registry: %w", err)
	}
	if err := r.nc.PublishRequest(r.api, ib.subject, req); err != nil {
		return nil, fmt.Errorf("read gateway registry: %w", err)
	}
	var ids []string
	for {
		m, err := ib.next(ctx)
		if errors.Is(err, nats.ErrNoResponders) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read gateway registry: %w", err)
		}
		switch status := m.Header.Get(hdrStatus); status {
		case "":
			if id, live := r.entry(m); live {
				ids = append(ids, id)
			}
		case statusNoContent, statusNotFound:
			return ids, nil
		default:
			return nil, fmt.Errorf("read gateway registry: direct get status %s %s", status, m.Header.Get(hdrDescription))
		}
	}
}

// entry returns the gateway id of one stored registry message and whether
// it is a live registration.
func (r *KVRegistry) entry(m *nats.Msg) (string, bool) {
	if op := m.Header.Get(hdrKVOperation); op != "" || m.Header.Get(jetstream.MarkerReasonHeader) != "" {
		return "", false
	}
	id, ok := strings.CutPrefix(m.Header.Get(jetstream.SubjectHeader), r.prefix)
	if !ok || id == "" || strings.Contains(id, ".") {
		return "", false
	}
	return id, true
}
