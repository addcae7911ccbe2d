// Package cors answers browsers' cross-origin requests (the CORS protocol
// of the Fetch standard) on Herald's client-facing endpoints: the SSE
// stream, the history API read with a Bearer token and the JWKS. Which
// origins an endpoint admits is the caller's decision (an app's
// allowed_origins, channels.Settings.AllowsOrigin); this package only
// writes the headers, so that the gateway and the control plane answer
// alike. Credentials travel in the Authorization header or the URL, never
// in cookies, so Access-Control-Allow-Credentials is never sent.
package cors

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MaxAge is how long a browser may reuse a preflight answer before asking
// again. Browsers cap it (Chromium at two hours); ten minutes bounds how
// long a page keeps sending requests an app has since refused.
const MaxAge = 10 * time.Minute

// AllowHeaders are the request headers a cross-origin client may send:
// a token, and the cursor an SSE client resumes from.
const AllowHeaders = "Authorization, Last-Event-ID"

// ExposeHeaders are the response headers a cross-origin script may read
// besides the safelisted ones: the history API's next page, the wait after
// a 429 or 503, and the request id to quote in a support request.
const ExposeHeaders = "Link, Retry-After, X-Request-Id"

// Header names of the protocol.
const (
	headerOrigin         = "Origin"
	headerRequestMethod  = "Access-Control-Request-Method"
	headerRequestHeaders = "Access-Control-Request-Headers"
	headerAllowOrigin    = "Access-Control-Allow-Origin"
	headerAllowMethods   = "Access-Control-Allow-Methods"
	headerAllowHeaders   = "Access-Control-Allow-Headers"
	headerExposeHeaders  = "Access-Control-Expose-Headers"
	headerMaxAge         = "Access-Control-Max-Age"
	headerVary           = "Vary"
)

// Origins decides whether a request from origin may be answered. Nil
// means any origin, answered with "*": for public documents only.
type Origins func(origin string) bool

// IsPreflight reports whether r is a browser's preflight: OPTIONS with an
// Origin and the method the real request will use.
func IsPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get(headerOrigin) != "" &&
		r.Header.Get(headerRequestMethod) != ""
}

// Actual sets the headers of an answer to a request that is not a
// preflight, before anything is written: Vary: Origin (the answer depends
// on it) and, when the request's Origin is allowed, the allowed origin and
// ExposeHeaders. It reports false when the request carries an Origin that
// is refused; the caller should refuse the request, and no CORS header
// lets the page read that answer. A request without an Origin (same-origin
// GETs, servers) is not cross-origin and passes.
func Actual(h http.Header, r *http.Request, allowed Origins) bool {
	origin := r.Header.Get(headerOrigin)
	if allowed == nil {
		h.Set(headerAllowOrigin, "*")
		h.Set(headerExposeHeaders, ExposeHeaders)
		return true
	}
	addVary(h, headerOrigin)
	if origin == "" {
		return true
	}
	if !allowed(origin) {
		return false
	}
	h.Set(headerAllowOrigin, origin)
	h.Set(headerExposeHeaders, ExposeHeaders)
	return true
}

// Preflight sets the headers answering a preflight (IsPreflight) for an
// endpoint that serves methods, and reports whether the real request is
// allowed: its origin by allowed, its method among methods. The caller
// answers 204 when it is, and refuses it (403) when not; a refused
// preflight carries no Access-Control-Allow-Origin, so the browser does
// not send the real request.
func Preflight(h http.Header, r *http.Request, methods []string, allowed Origins) bool {
	addVary(h, headerOrigin)
	addVary(h, headerRequestMethod)
	addVary(h, headerRequestHeaders)
	origin := r.Header.Get(headerOrigin)
	if allowed != nil && !allowed(origin) {
		return false
	}
	if !slices.Contains(methods, r.Header.Get(headerRequestMethod)) {
		return false
	}
	if allowed == nil {
		h.Set(headerAllowOrigin, "*")
	} else {
		h.Set(headerAllowOrigin, origin)
	}
	h.Set(headerAllowMethods, strings.Join(methods, ", "))
	h.Set(headerAllowHeaders, AllowHeaders)
	h.Set(headerMaxAge, strconv.Itoa(int(MaxAge/time.Second)))
	return true
}

// addVary adds name to the Vary header unless it is there.
func addVary(h http.Header, name string) {
	for _, v := range h.Values(headerVary) {
		for f := range strings.SplitSeq(v, ",") {
			if f = strings.TrimSpace(f); f == "*" || strings.EqualFold(f, name) {
				return
			}
		}
	}
	h.Add(headerVary, name)
}
