package console

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/heraldhq/herald/channels"
)

// writeError answers in the one error shape of every Herald HTTP answer
// (channels.ErrorBody). The gateway has its own writer; this package may
// not import it.
func writeError(w http.ResponseWriter, r *http.Request, status int, code channels.Code, msg string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
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
