package api

import (
	"strings"

	"github.com/labstack/echo/v4"
)

// literalSemicolons makes a ";" in the query part of a value, as Pusher's
// servers read it, before anything parses the query. Go's parser drops
// every pair holding an unescaped ";", and the official Node SDK sends
// values unescaped (filter_by_prefix=team;1): the signature it made over
// "team;1" failed, and the parameter went missing. Only "&" separates
// pairs; escaping the ";" keeps its value once decoded.
func literalSemicolons(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if u := c.Request().URL; strings.Contains(u.RawQuery, ";") {
			u.RawQuery = strings.ReplaceAll(u.RawQuery, ";", "%3B")
		}
		return next(c)
	}
}
