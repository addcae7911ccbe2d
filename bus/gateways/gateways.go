// Package gateways owns the registry of running gateways (docs/nats.md,
// "KV buckets"; docs/architecture.md, "Cluster-wide state"): the
// HERALD_GATEWAYS KV bucket, with one key per gateway process, written by
// that gateway and kept alive by its heartbeat.
//
// A gateway registers with Register and keeps its key alive with
// Registration.Run, which also watches the bucket: it knows which
// gateways are live and hears when one dies (its key expires or is
// purged), so that presence can clean up after it. The control plane
// reads the registry with a Reader, one Direct Get, to know which
// gateways must answer a cluster-wide query (occupancy). Gateway ids are
// validated here for every key that holds one: presence members and
// connection counts too.
package gateways

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/heraldhq/herald/channels"
)

// Bucket is the KV bucket of running gateways: one key <gateway id> per
// gateway process, plus cleanup locks, whose keys hold a '.'.
const Bucket = "HERALD_GATEWAYS"

// SubjectPrefix is the bucket's stream subject prefix; every key of the
// bucket is a subject below it.
const SubjectPrefix = "$KV." + Bucket + "."

// stream is the stream behind Bucket.
const stream = "KV_" + Bucket

// lockPrefix starts the key of the lock that elects the gateway cleaning
// up after a dead one. Gateway ids never hold a '.', so a lock key can
// never be mistaken for a gateway.
const lockPrefix = "janitor."

// MaxIDLen bounds gateway ids.
const MaxIDLen = 64

var idPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// ValidateGatewayID checks a gateway id: 1 to MaxIDLen characters of
// [A-Za-z0-9_-]. Such an id is a single KV key token and a single subject
// token.
func ValidateGatewayID(id string) error {
	if len(id) == 0 || len(id) > MaxIDLen || !idPattern.MatchString(id) {
		return channels.BadRequest("gateway_id", fmt.Sprintf("gateway id must match ^[A-Za-z0-9_-]{1,%d}$", MaxIDLen))
	}
	return nil
}

// ErrIDInUse is returned by Register when another running gateway
// registered the same id.
var ErrIDInUse = errors.New("gateway id in use")

// Gateway is one running gateway as the registry lists it: the value of
// its key.
type Gateway struct {
	ID        string    `json:"id"`
	StartedAt time.Time `json:"started_at"`
	Addr      string    `json:"addr,omitempty"`
}

// decode parses the value of key id; it fails unless the value names the
// same gateway.
func decode(id string, value []byte) (Gateway, error) {
	var g Gateway
	if err := json.Unmarshal(value, &g); err != nil {
		return Gateway{}, err
	}
	if g.ID != id {
		return Gateway{}, fmt.Errorf("entry of %q names %q", id, g.ID)
	}
	return g, nil
}
