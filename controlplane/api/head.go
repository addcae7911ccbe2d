package api

import (
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
)

// HEAD is answered wherever GET is, with the status and headers of the
// GET and no body (RFC 9110, section 9.3.2): load balancers and uptime
// checks send it. It has no route of its own, so the route table, and the
// OpenAPI document built from it, list GET only.
//
// echo routes by the request's method: headAsGet, the last thing before
// routing, shows the router a GET, and headRestored, the first middleware
// after it, gives the request its method back. Everything else sees
// HEAD: authentication (a Pusher signature covers the method, so a HEAD
// must be signed as a HEAD and a GET's signature does not authenticate
// it), the handlers (a stream is not opened for a HEAD: isHead) and the
// logs. net/http drops the body a handler writes to a HEAD.

// ctxHead marks a HEAD request that is routed as a GET.
const ctxHead = "herald.head"

// headAsGet lets the router find the GET route of a HEAD request. It must
// be the last Pre middleware, so that nothing else sees the GET.
func headAsGet(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if r := c.Request(); r.Method == http.MethodHead {
			r.Method = http.MethodGet
			c.Set(ctxHead, true)
		}
		return next(c)
	}
}

// headRestored undoes headAsGet once the route is found; it must be the
// first middleware. Where echo answers with the route's methods (405, and
// OPTIONS on a route without a handler of its own), HEAD joins GET in
// Allow.
func headRestored(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if c.Get(ctxHead) != nil {
			c.Request().Method = http.MethodHead
		}
		if _, ok := c.Get(echo.ContextKeyHeaderAllow).(string); ok {
			res := c.Response()
			res.Before(func() {
				if allow := res.Header().Get(echo.HeaderAllow); allow != "" {
					res.Header().Set(echo.HeaderAllow, allowWithHead(allow))
				}
			})
		}
		return next(c)
	}
}

// allowWithHead adds HEAD after GET to an Allow list ("OPTIONS, GET") that
// has GET and not HEAD.
func allowWithHead(allow string) string {
	methods := strings.Split(allow, ", ")
	if slices.Contains(methods, http.MethodHead) {
		return allow
	}
	i := slices.Index(methods, http.MethodGet)
	if i < 0 {
		return allow
	}
	return strings.Join(slices.Insert(methods, i+1, http.MethodHead), ", ")
}

// servedMethods are the methods a route of method answers: HEAD with GET.
// Preflights and Allow list them.
func servedMethods(method string) []string {
	if method == http.MethodGet {
		return []string{http.MethodGet, http.MethodHead}
	}
	return []string{method}
}

// isHead reports whether c is a HEAD request, which a handler answers
// with the headers of its GET and nothing after them.
func isHead(c echo.Context) bool { return c.Request().Method == http.MethodHead }
