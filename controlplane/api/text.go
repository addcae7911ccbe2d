package api

import (
	"bytes"
	"maps"
	"net/url"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/channels"
)

// Every string a request brings (body fields, path and query parameters)
// is checked once, as it is decoded, so that no handler has to: PostgreSQL
// text holds neither NUL nor invalid UTF-8 (it fails with SQLSTATE 22021,
// or 22P05 inside jsonb), which made such input a 500; and encoding/json
// silently turns invalid UTF-8 and unpaired surrogate escapes ("\ud800")
// into U+FFFD, storing something other than what was sent. All three are
// a 400 naming the field.

// What is wrong with a string, completed by the field's name.
const (
	problemUTF8      = "is not valid UTF-8"
	problemNUL       = `contains NUL (\u0000)`
	problemSurrogate = `contains an unpaired UTF-16 surrogate escape (\ud800-\udfff)`
)

// textProblem says what makes s unfit to store, or "" when nothing does.
func textProblem(s string) string {
	if !utf8.ValidString(s) {
		return problemUTF8
	}
	if strings.IndexByte(s, 0) >= 0 {
		return problemNUL
	}
	return ""
}

// checkParams refuses a request whose path or query parameters are not
// fit to store (textProblem), naming the parameter, before any handler
// reads them. A path parameter is checked decoded: echo routes on the
// path as sent when it is not escaped as Go would escape it ("%ff" rather
// than "%FF"), and leaves its parameters escaped then, so that "%ff" and
// "%FF" are refused alike.
func checkParams(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		escaped := c.Request().URL.RawPath != ""
		values := c.ParamValues()
		for i, name := range c.ParamNames() {
			v := values[i]
			if escaped {
				var err error
				if v, err = url.PathUnescape(v); err != nil {
					return channels.BadRequest(name, name+" is not a valid path segment")
				}
			}
			if p := textProblem(v); p != "" {
				return channels.BadRequest(name, name+" "+p)
			}
		}
		query := c.QueryParams()
		// Sorted, so that the same request always names the same field.
		for _, name := range slices.Sorted(maps.Keys(query)) {
			if p := textProblem(name); p != "" {
				return channels.BadRequest("", "a query parameter name "+p)
			}
			for _, v := range query[name] {
				if p := textProblem(v); p != "" {
					return channels.BadRequest(name, name+" "+p)
				}
			}
		}
		return next(c)
	}
}

// checkJSONText returns a 400 naming the first string of body, key or
// value, that is not fit to store: invalid UTF-8, NUL, or an unpaired
// surrogate escape. It reads the literals as sent, since decoding has
// already replaced what it could not represent. Fields are named by their
// path (jsonPath): "name", "settings.allowed_origins[2]". Syntax errors
// are the decoder's to report: on one the walk stops with nil.
func checkJSONText(body []byte) error { return walkJSONText(body, false) }

// checkPublishText is checkJSONText for a publish body, whose data is
// stored as bytes and delivered as sent: a NUL is data like any other.
// Only what decoding would rewrite (invalid UTF-8, unpaired surrogates)
// is refused.
func checkPublishText(body []byte) error { return walkJSONText(body, true) }

// walkJSONText is checkJSONText, with NUL allowed or not.
func walkJSONText(body []byte, allowNUL bool) error {
	var bad error
	walkJSON(body, func(t jsonToken) bool {
		if _, ok := t.tok.(string); !ok {
			return true
		}
		// The raw token may start with the separator and blanks before
		// the literal.
		problem := literalProblem(t.raw[bytes.IndexByte(t.raw, '"'):], allowNUL)
		if problem == "" {
			return true
		}
		name := t.path.String()
		switch {
		case t.key && name == "":
			bad = channels.BadRequest("", "a field name in the body "+problem)
		case t.key:
			bad = channels.BadRequest(name, "a field name in "+name+" "+problem)
		case name == "":
			bad = channels.BadRequest("", "the body "+problem)
		default:
			bad = channels.BadRequest(name, name+" "+problem)
		}
		return false
	})
	return bad
}

// literalProblem is textProblem for the raw bytes of one JSON string
// literal whose syntax the decoder accepted, escapes undecoded; a NUL
// escape is one unless allowNUL.
func literalProblem(lit []byte, allowNUL bool) string {
	if !utf8.Valid(lit) {
		return problemUTF8
	}
	for i := 0; i < len(lit); i++ {
		if lit[i] != '\\' {
			continue
		}
		i++ // the escaped character: \\ and \" are skipped whole
		if lit[i] != 'u' {
			continue
		}
		r := hexRune(lit[i+1 : i+5])
		i += 4
		switch {
		case r == 0:
			if !allowNUL {
				return problemNUL
			}
		case !utf16.IsSurrogate(r):
		case r < 0xdc00 && i+6 < len(lit) && lit[i+1] == '\\' && lit[i+2] == 'u' &&
			utf16.DecodeRune(r, hexRune(lit[i+3:i+7])) != utf8.RuneError:
			i += 6 // a high surrogate and its low one: a valid pair
		default:
			return problemSurrogate
		}
	}
	return ""
}

// hexRune reads the four hex digits of a \u escape; the decoder has
// checked that they are.
func hexRune(b []byte) rune {
	var r rune
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		}
	}
	return r
}
