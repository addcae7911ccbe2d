package bench

import (
	"bytes"
	"strconv"
)

// Mark is what every benchmark event carries in its data.
type Mark struct {
	// Step numbers the sweep step the event was published in, from 1.
	Step uint64
	// Seq is the event's sequence number on its channel within the step,
	// from 0.
	Seq uint64
	// SentNs is the wall-clock time (Unix nanoseconds) the publish request
	// was sent.
	SentNs int64
}

// AppendData appends the data of an event carrying m, padded with 'x' to
// at least size bytes: {"step":1,"seq":2,"ts":3,"pad":"xxx"}.
func AppendData(dst []byte, m Mark, size int) []byte {
	start := len(dst)
	dst = append(dst, `{"step":`...)
	dst = strconv.AppendUint(dst, m.Step, 10)
	dst = append(dst, `,"seq":`...)
	dst = strconv.AppendUint(dst, m.Seq, 10)
	dst = append(dst, `,"ts":`...)
	dst = strconv.AppendInt(dst, m.SentNs, 10)
	dst = append(dst, `,"pad":"`...)
	for len(dst)-start < size-2 {
		dst = append(dst, 'x')
	}
	return append(dst, `"}`...)
}

// Keys of the data fields, as they appear in the data and in a server
// frame, where the data is a JSON string and its quotes are escaped.
var (
	keyStep = []byte(`step`)
	keySeq  = []byte(`seq`)
	keyTS   = []byte(`ts`)
)

// ParseMark finds the mark in b, which is either the data or a whole
// server frame that carries it (escaped). It does not allocate.
func ParseMark(b []byte) (Mark, bool) {
	step, rest, ok := numberAfter(b, keyStep)
	if !ok {
		return Mark{}, false
	}
	seq, rest, ok := numberAfter(rest, keySeq)
	if !ok {
		return Mark{}, false
	}
	ts, _, ok := numberAfter(rest, keyTS)
	if !ok || ts > 1<<63-1 {
		return Mark{}, false
	}
	return Mark{Step: step, Seq: seq, SentNs: int64(ts)}, true
}

// numberAfter finds key, skips the quote, backslash and colon characters
// that follow it and parses the decimal number there. It returns what
// follows the number.
func numberAfter(b, key []byte) (uint64, []byte, bool) {
	i := bytes.Index(b, key)
	if i < 0 {
		return 0, nil, false
	}
	b = b[i+len(key):]
	for len(b) > 0 && (b[0] == '"' || b[0] == '\\' || b[0] == ':') {
		b = b[1:]
	}
	var n uint64
	digits := 0
	for ; digits < len(b) && b[digits] >= '0' && b[digits] <= '9'; digits++ {
		d := uint64(b[digits] - '0')
		if n > (1<<64-1-d)/10 {
			return 0, nil, false
		}
		n = n*10 + d
	}
	if digits == 0 {
		return 0, nil, false
	}
	return n, b[digits:], true
}
