package platform

import (
	"net/http"
	"time"
)

// DefaultBodyReadTimeout bounds how long a request's body may take to
// arrive once its headers have. ReadHeaderTimeout stops a client that
// withholds its headers; this stops one that announces a body and
// withholds it (a slow POST), which would otherwise hold a handler and its
// connection for as long as it likes. Requests without a body (the
// WebSocket and SSE endpoints, every GET) are not affected.
const DefaultBodyReadTimeout = 10 * time.Second

// bodyDeadline gives each request that has a body a read deadline of
// timeout. It bounds reads only: a handler that outlives it keeps its
// request context (TestBodyDeadline), and the server sets the
// connection's deadlines afresh for its next request.
func bodyDeadline(next http.Handler, timeout time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody {
			_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(timeout))
		}
		next.ServeHTTP(w, r)
	})
}
