package sse

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Cursor is the id of an SSE event: the serial of the last message sent
// and when it was published (Unix ms). Serials are stream sequences,
// shared by every channel, so one cursor resumes all a stream's channels.
type Cursor struct {
	Serial uint64
	AtMs   int64
}

// Append appends the cursor as "serial-atMs".
func (c Cursor) Append(dst []byte) []byte {
	dst = strconv.AppendUint(dst, c.Serial, 10)
	dst = append(dst, '-')
	return strconv.AppendInt(dst, c.AtMs, 10)
}

func (c Cursor) String() string { return string(c.Append(nil)) }

// ParseCursor reads a cursor written by Append.
func ParseCursor(v string) (Cursor, error) {
	s, ms, ok := strings.Cut(v, "-")
	serial, err1 := strconv.ParseUint(s, 10, 64)
	at, err2 := strconv.ParseInt(ms, 10, 64)
	if !ok || err1 != nil || err2 != nil || serial == 0 {
		return Cursor{}, fmt.Errorf("malformed Last-Event-ID %q", v)
	}
	return Cursor{Serial: serial, AtMs: at}, nil
}

// RequestCursor reads the cursor of a request: Last-Event-ID, or
// ?last_event_id= (for clients that cannot set headers). ok is false when
// there is none.
func RequestCursor(r *http.Request) (c Cursor, ok bool, err error) {
	v := r.Header.Get("Last-Event-ID")
	if v == "" {
		v = r.URL.Query().Get("last_event_id")
	}
	if v == "" {
		return Cursor{}, false, nil
	}
	c, err = ParseCursor(v)
	return c, err == nil, err
}
