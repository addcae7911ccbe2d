package gateway

import (
	"net/http"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/httperr"
)

// WriteError answers an HTTP request the gateway refuses with status and
// the one error shape of every Herald HTTP answer (channels.ErrorBody):
// {"error":{"code":"…","message":"…"}}. A HEAD request gets the status and
// headers only. Headers set before the call (Retry-After, Allow, CORS) are
// kept.
func WriteError(w http.ResponseWriter, r *http.Request, status int, code channels.Code, msg string) {
	httperr.Write(w, r, status, code, msg)
}

// httpError answers with the generic code of status.
func httpError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	WriteError(w, r, status, channels.CodeOfStatus(status), msg)
}

// NotFound answers a path the edge listener does not serve with 404 in
// the one error shape.
func NotFound(w http.ResponseWriter, r *http.Request) {
	WriteError(w, r, http.StatusNotFound, channels.CodeNotFound, "no such route")
}

// methodNotAllowed answers a method an endpoint does not serve, naming
// the ones it does in Allow.
func methodNotAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	httpError(w, r, http.StatusMethodNotAllowed, "method not allowed: use "+allow)
}
