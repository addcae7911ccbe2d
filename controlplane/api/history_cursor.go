package api

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
)

// History cursors are opaque to callers: a version, the serial the next
// page starts after, and a MAC that binds both to the app, the channel and
// the query's other parameters, under a key derived from the master key
// (so that every control plane accepts every other one's cursors). A
// cursor that was altered, or replayed on another channel or query, is
// refused; even a forged one could only name a position in a channel the
// caller may already read.
const (
	cursorVersion = 1
	cursorTagSize = 16
	cursorSize    = 1 + 8 + cursorTagSize
	// cursorKeyInfo separates the cursor key from every other key derived
	// from the master key.
	cursorKeyInfo = "herald history cursor v1"
	// cursorDomain starts every MAC input, so that no other HMAC under
	// the same key can pass for a cursor.
	cursorDomain = "herald-history-cursor"
)

// errBadCursor is what every cursor that does not verify gives.
var errBadCursor = errors.New("cursor is not valid for this channel and query")

// cursorSigner makes and checks history cursors.
type cursorSigner struct {
	key []byte
}

// newCursorSigner derives the cursor key from the master key.
func newCursorSigner(masterKey []byte) (*cursorSigner, error) {
	if len(masterKey) == 0 {
		return nil, errors.New("api: the history API needs the master key")
	}
	key, err := hkdf.Key(sha256.New, masterKey, nil, cursorKeyInfo, sha256.Size)
	if err != nil {
		return nil, err
	}
	return &cursorSigner{key: key}, nil
}

// cursorScope is what a cursor is bound to: everything of the query but
// the limit (which may change from page to page) and the position.
type cursorScope struct {
	appID, channel string
	backwards      bool
	// start, end and fromSerial as the caller sent them ("" when absent).
	start, end, fromSerial string
}

// sign returns the cursor of the page after serial.
func (s *cursorSigner) sign(scope cursorScope, serial uint64) string {
	var raw [cursorSize]byte
	raw[0] = cursorVersion
	binary.BigEndian.PutUint64(raw[1:9], serial)
	copy(raw[9:], s.tag(scope, raw[:9]))
	return base64.RawURLEncoding.EncodeToString(raw[:])
}

// verify returns the serial of a cursor made by sign for scope.
func (s *cursorSigner) verify(scope cursorScope, cursor string) (uint64, error) {
	if len(cursor) != base64.RawURLEncoding.EncodedLen(cursorSize) {
		return 0, errBadCursor
	}
	// Strict: one string per cursor, no variants in the unused bits.
	raw, err := base64.RawURLEncoding.Strict().DecodeString(cursor)
	if err != nil || len(raw) != cursorSize || raw[0] != cursorVersion {
		return 0, errBadCursor
	}
	if !hmac.Equal(raw[9:], s.tag(scope, raw[:9])) {
		return 0, errBadCursor
	}
	return binary.BigEndian.Uint64(raw[1:9]), nil
}

// tag is the truncated MAC of a cursor body in its scope. The fields are
// NUL-separated: none of them can contain NUL (app ids and channel names
// are validated, the rest are decimal numbers).
func (s *cursorSigner) tag(scope cursorScope, body []byte) []byte {
	mac := hmac.New(sha256.New, s.key)
	dir := "forwards"
	if scope.backwards {
		dir = "backwards"
	}
	for _, f := range []string{cursorDomain, scope.appID, scope.channel, dir, scope.start, scope.end, scope.fromSerial} {
		mac.Write([]byte(f))
		mac.Write([]byte{0})
	}
	mac.Write(body)
	return mac.Sum(nil)[:cursorTagSize]
}
