package api

import (
	"net/url"

	"github.com/labstack/echo/v4"
)

// pathParam is the path parameter name, decoded exactly once. echo
// routes on URL.RawPath when the request has one (its escaping differs
// from Go's default: an escaped "/", or an escape where none is needed,
// as in "x%41"), and the parameters are then still escaped; otherwise it
// routes on URL.Path, whose parameters are already decoded and must not
// be decoded again ("x%2541" is the id "x%41", not "xA").
func pathParam(c echo.Context, name string) (string, error) {
	v := c.Param(name)
	if c.Request().URL.RawPath == "" {
		return v, nil
	}
	return url.PathUnescape(v)
}
