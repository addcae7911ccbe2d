package api

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"
)

// prettyParam is the query parameter with which echo indents a JSON
// answer; the hand-written answers below leave such requests to c.JSON.
const prettyParam = "pretty"

// serialsAnswerCap is the buffer a one-channel answer fits in without
// growing: {"serials":{"<channel>":<serial>}} with a typical name.
const serialsAnswerCap = 128

// writeSerials answers a publish whose answer is only serials (no channel
// info): `{"serials":{…}}` for a trigger, `{"batch":[{"serials":{…}},…]}`
// for a batch (one map per item). The bytes are exactly those c.JSON
// writes (keys sorted, a trailing newline, the same Content-Type), without
// the reflection and the map of encoding/json, which were a tenth of the
// handler's CPU on the publish path. A channel name that JSON would
// escape, or ?pretty, falls back to c.JSON(fallback()).
func writeSerials(c echo.Context, items [][]namedSerial, batch bool, fallback func() any) error {
	if _, pretty := c.QueryParams()[prettyParam]; pretty {
		return c.JSON(http.StatusOK, fallback())
	}
	buf := make([]byte, 0, serialsAnswerCap)
	if batch {
		buf = append(buf, `{"batch":[`...)
	}
	for i, serials := range items {
		if i > 0 {
			buf = append(buf, ',')
		}
		var ok bool
		if buf, ok = appendSerials(buf, serials); !ok {
			return c.JSON(http.StatusOK, fallback())
		}
	}
	if batch {
		buf = append(buf, ']', '}')
	}
	buf = append(buf, '\n')
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, buf)
}

// namedSerial is one channel's serial in an answer.
type namedSerial struct {
	channel string
	serial  uint64
}

// appendSerials appends {"serials":{…}} with the channels in the order
// encoding/json gives map keys (sorted, duplicates impossible: a publish
// names each channel once). ok is false for a name it would escape.
func appendSerials(buf []byte, serials []namedSerial) ([]byte, bool) {
	if len(serials) > 1 {
		slices.SortFunc(serials, func(a, b namedSerial) int { return cmp.Compare(a.channel, b.channel) })
	}
	buf = append(buf, `{"serials":{`...)
	for i, s := range serials {
		if !jsonPlain(s.channel) {
			return buf, false
		}
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, '"')
		buf = append(buf, s.channel...)
		buf = append(buf, '"', ':')
		buf = strconv.AppendUint(buf, s.serial, 10)
	}
	return append(buf, '}', '}'), true
}

// jsonPlain reports whether encoding/json writes s as is between quotes:
// printable ASCII other than the quote, the backslash and the characters
// it escapes for HTML (<, >, &). Channel names always are (channels
// validates them); the check keeps the bytes right if that ever changes.
func jsonPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case b < 0x20 || b > 0x7e:
			return false
		case b == '"' || b == '\\' || b == '<' || b == '>' || b == '&':
			return false
		}
	}
	return true
}

// serialsMap is serials as the map the JSON answers hold.
func serialsMap(serials []namedSerial) map[string]uint64 {
	m := make(map[string]uint64, len(serials))
	for _, s := range serials {
		m[s.channel] = s.serial
	}
	return m
}
