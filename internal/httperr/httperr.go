// Package httperr writes the one error shape of every Herald HTTP answer
// (channels.ErrorBody) for handlers outside the APIs' echo routers: the
// gateway's endpoints and the web console's files, which may not import
// each other.
package httperr

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/heraldhq/herald/channels"
)

// Write answers r with status and {"error":{"code":"…","message":"…"}}. A
// HEAD request gets the status and headers only. Headers set before the
// call (Retry-After, Allow, CORS, security headers) are kept.
func Write(w http.ResponseWriter, r *http.Request, status int, code channels.Code, msg string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	// The answer to one request: a cache must not serve it to another.
	h.Set("Cache-Control", "no-store")
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	// Marshal cannot fail: the body holds only strings.
	body, _ := json.Marshal(channels.ErrorBody{Error: channels.ErrorDetail{Code: code, Message: msg}})
	body = append(body, '\n')
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
