package platform

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/httperr"
)

// startingRetryAfter is the Retry-After, in seconds, of a request refused
// while the process starts: the caches load within about a second.
const startingRetryAfter = 1

// errStarting is the readiness failure until the process has started.
var errStarting = errors.New("starting: the app configs, signing keys and counts are loading")

// opsPaths are answered while the process starts: a balancer and an
// orchestrator must see that it is alive and not ready yet.
var opsPaths = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// startingGate refuses every request but the operational endpoints with 503
// and Retry-After until the process has started (Platform.Ready). The
// listener opens first (a port in use fails before anything is created),
// but before the app config cache has loaded, the gateway would close a
// connection to an existing app with 4001 "does not exist", which clients
// never retry, and the tenant API would answer 404: a restart must not
// look like a deleted app. Clients retry a refused handshake or request
// with their usual back-off.
func (p *Platform) startingGate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-p.ready:
			next.ServeHTTP(w, r)
			return
		default:
		}
		if opsPaths[r.URL.Path] {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Retry-After", strconv.Itoa(startingRetryAfter))
		httperr.Write(w, r, http.StatusServiceUnavailable, channels.CodeUnavailable, "herald is starting; retry in a second")
	})
}

// startedCheck is the readiness check that fails until the process has
// started.
func (p *Platform) startedCheck(context.Context) error {
	select {
	case <-p.ready:
		return nil
	default:
		return errStarting
	}
}
