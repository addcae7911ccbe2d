package api

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
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
// reads them.
func checkParams(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		values := c.ParamValues()
		for i, name := range c.ParamNames() {
			if p := textProblem(values[i]); p != "" {
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

// jsonFrame is one open object or array of the walk in checkJSONText.
type jsonFrame struct {
	path    string // of the container itself
	object  bool
	wantKey bool   // in an object: the next string is a key
	key     string // in an object: the key of the current value
	index   int    // in an array: the index of the current value
}

// checkJSONText returns a 400 naming the first string of body, key or
// value, that is not fit to store: invalid UTF-8, NUL, or an unpaired
// surrogate escape. It reads the literals as sent, since decoding has
// already replaced what it could not represent. Fields are named as the
// other errors name them: "name", "settings.allowed_origins[2]". Syntax
// errors are the decoder's to report: on one the walk stops with nil.
func checkJSONText(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	var stack []jsonFrame
	// here is the path of the value the next token starts.
	here := func() string {
		if len(stack) == 0 {
			return ""
		}
		f := &stack[len(stack)-1]
		if f.object {
			if f.path == "" {
				return f.key
			}
			return f.path + "." + f.key
		}
		return f.path + "[" + strconv.Itoa(f.index) + "]"
	}
	// done moves past a complete value.
	done := func() {
		if len(stack) == 0 {
			return
		}
		f := &stack[len(stack)-1]
		if f.object {
			f.wantKey = true
		} else {
			f.index++
		}
	}
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		switch v := tok.(type) {
		case json.Delim:
			if v == '{' || v == '[' {
				stack = append(stack, jsonFrame{path: here(), object: v == '{', wantKey: true})
				continue
			}
			stack = stack[:len(stack)-1]
			done()
		case string:
			// The raw token may start with the separator and blanks
			// before the literal.
			raw := body[start:dec.InputOffset()]
			problem := literalProblem(raw[bytes.IndexByte(raw, '"'):])
			if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].wantKey {
				top := &stack[n-1]
				if problem != "" {
					where := top.path
					if where == "" {
						where = "the body"
					}
					return channels.BadRequest(top.path, "a field name in "+where+" "+problem)
				}
				top.key, top.wantKey = v, false
				continue
			}
			if problem != "" {
				if name := here(); name != "" {
					return channels.BadRequest(name, name+" "+problem)
				}
				return channels.BadRequest("", "the body "+problem)
			}
			done()
		default:
			done()
		}
	}
}

// literalProblem is textProblem for the raw bytes of one JSON string
// literal whose syntax the decoder accepted, escapes undecoded.
func literalProblem(lit []byte) string {
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
			return problemNUL
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
