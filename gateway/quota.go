package gateway

import (
	"fmt"
	"hash/maphash"
	"net/http"
	"strconv"
	"time"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/ratelimit"
)

// Plan quotas at the edge (docs/billing.md, "Quotas and enforcement"):
// the account's message quotas and the app's publish_rate on client
// events and herald:publish (4301, connection kept), and the account's
// max_connections on new connections (4004, SSE 429). Deliveries are
// never cut.

// ConnQuotaRetryAfter is the Retry-After of an SSE connection refused by a
// connection quota (the app's max_connections or its account's): such a
// quota frees when connections close, which has no known time, so this
// only keeps a client that honours it from retrying at once, while
// letting it in soon after a place frees.
const ConnQuotaRetryAfter = time.Minute

// AccountApps lists an account's apps; bus/appconfig.Cache implements
// it. An AppSource without it judges an account's max_connections by the
// connecting app's connections alone.
type AccountApps interface {
	AccountApps(accountID string) []*channels.AppConfig
}

// connRefusal says which limit refused a connection.
type connRefusal int

const (
	connAdmitted connRefusal = iota
	// connOverApp: the app's own max_connections.
	connOverApp
	// connOverAccount: the account plan's max_connections.
	connOverAccount
)

// reserveConn counts a new connection against the app's max_connections
// and its account's plan max_connections (hard), each cluster-wide.
// Every admitted connection is undone by one release. The account's lock
// makes this gateway's own admissions exact; other gateways' count as
// they last reported.
func (g *Gateway) reserveConn(app *channels.AppConfig) connRefusal {
	if app.Quota.MaxConnections > 0 {
		mu := &g.accountLocks[maphash.String(g.connSeed, app.AccountID)%connShards]
		mu.Lock()
		defer mu.Unlock()
		if v := g.cfg.Quotas.CheckConnections(app, g.accountConns(app)); v.Refused {
			return connOverAccount
		}
	}
	if !g.reserve(app.ID, app.Settings.MaxConnections) {
		return connOverApp
	}
	return connAdmitted
}

// accountConns is the account's connections cluster-wide: this gateway's
// (in handshake included) and the others' reports, over its apps.
func (g *Gateway) accountConns(app *channels.AppConfig) int64 {
	apps := []*channels.AppConfig{app}
	if aa, ok := g.cfg.Apps.(AccountApps); ok {
		if list := aa.AccountApps(app.AccountID); len(list) > 0 {
			apps = list
		}
	}
	var n int64
	for _, a := range apps {
		s := g.connShard(a.ID)
		s.mu.Lock()
		n += int64(s.count[a.ID])
		s.mu.Unlock()
		if g.cfg.ClusterConns != nil {
			n += int64(g.cfg.ClusterConns.Remote(a.ID))
		}
	}
	return n
}

// refuseConnQuota answers an SSE request refused by a connection quota:
// 429 over_quota with Retry-After, as every 429 has.
func refuseConnQuota(w http.ResponseWriter, r *http.Request, refusal connRefusal) {
	w.Header().Set("Retry-After", strconv.Itoa(ratelimit.RetryAfterSeconds(ConnQuotaRetryAfter)))
	WriteError(w, r, http.StatusTooManyRequests, channels.CodeOverQuota, connRefusalMessage(refusal))
}

// connRefusalMessage is what a refused connection is told.
func connRefusalMessage(r connRefusal) string {
	if r == connOverAccount {
		return "account has reached its plan's connection quota (max_connections)"
	}
	return "application has reached its connection quota"
}

// quotaMessage names the quota a refused publish went over and when to
// retry.
func quotaMessage(v billing.Verdict) string {
	secs := strconv.Itoa(ratelimit.RetryAfterSeconds(v.RetryAfter))
	if v.Exceeded == billing.QuotaPublishRate {
		return fmt.Sprintf("over the app's publish_rate (%d per second); retry in %s s", v.Limit, secs)
	}
	if v.AtLimit {
		return fmt.Sprintf("the account has reached its %s (%d); retry in %s s", v.Exceeded, v.Limit, secs)
	}
	return fmt.Sprintf("past the account's %s (%d); retry in %s s", v.Exceeded, v.Limit, secs)
}
