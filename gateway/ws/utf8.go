package ws

import "unicode/utf8"

// validUTF8Prefix checks b, the next bytes of a text message being received
// in fragments. It returns how many leading bytes form complete valid
// characters, and ok = false as soon as b holds bytes that can never become
// valid UTF-8. When final is false an incomplete character at the end of b
// is accepted (the next fragment may complete it); when final is true it is
// invalid. Checking each fragment as it arrives fails a bad message early
// instead of after buffering all of it (RFC 6455 section 8.1).
func validUTF8Prefix(b []byte, final bool) (n int, ok bool) {
	if utf8.Valid(b) {
		return len(b), true
	}
	for n < len(b) {
		if b[n] < utf8.RuneSelf {
			n++
			continue
		}
		// FullRune is false only for a proper prefix of a valid encoding:
		// it checks the continuation bytes' ranges as far as they go.
		if !utf8.FullRune(b[n:]) {
			return n, !final
		}
		r, size := utf8.DecodeRune(b[n:])
		if r == utf8.RuneError && size == 1 {
			return n, false
		}
		n += size
	}
	return n, true
}
