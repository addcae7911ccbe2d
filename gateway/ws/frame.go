package ws

import (
	"encoding/binary"
	"unicode/utf8"
)

// Frame geometry of RFC 6455 section 5.2.
const (
	// MaxControlPayload is the largest payload of a control frame (close,
	// ping, pong).
	MaxControlPayload = 125
	// MaxCloseReason is the longest close reason that fits a close frame
	// after its 2-byte status code.
	MaxCloseReason = MaxControlPayload - 2
	// MaxHeaderSize is the largest frame header: 2 fixed bytes, 8 bytes of
	// extended length and a 4-byte masking key.
	MaxHeaderSize = 14

	// len7Max is the largest payload length written in the 7-bit field;
	// len7Ext16 and len7Ext64 announce a 16- or 64-bit extended length.
	len7Max   = 125
	len7Ext16 = 126
	len7Ext64 = 127
	maxLen16  = 0xFFFF

	finBit  = 0x80
	rsvBits = 0x70
	opBits  = 0x0F
	maskBit = 0x80
	lenBits = 0x7F
	keySize = 4
)

// FrameSize returns the size of a server frame carrying n payload bytes, so
// callers can size a buffer before AppendFrame.
func FrameSize(n int) int { return headerSize(n) + n }

// headerSize is the size of an unmasked (server) frame header for an n-byte
// payload.
func headerSize(n int) int {
	switch {
	case n <= len7Max:
		return 2
	case n <= maxLen16:
		return 4
	default:
		return 10
	}
}

// AppendHeader appends the header of a server frame with an n-byte payload.
// Server frames are never masked. Use it to frame a payload that is written
// separately (for example as its own element of net.Buffers) without
// copying it.
func AppendHeader(dst []byte, op Opcode, fin bool, n int) []byte {
	b0 := byte(op) & opBits
	if fin {
		b0 |= finBit
	}
	switch {
	case n <= len7Max:
		return append(dst, b0, byte(n))
	case n <= maxLen16:
		dst = append(dst, b0, len7Ext16)
		return binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, b0, len7Ext64)
		return binary.BigEndian.AppendUint64(dst, uint64(n))
	}
}

// AppendFrame appends a complete server frame (header and payload) to dst.
// The same bytes can be written to every subscriber of a fan-out, since
// server frames are not masked.
func AppendFrame(dst []byte, op Opcode, fin bool, payload []byte) []byte {
	dst = AppendHeader(dst, op, fin, len(payload))
	return append(dst, payload...)
}

// AppendClose appends a close frame with a status code and a reason. A code
// of 0 appends a close frame without a status (and ignores the reason). A
// reason longer than MaxCloseReason bytes is cut at a UTF-8 boundary so the
// frame stays a valid control frame.
func AppendClose(dst []byte, code uint16, reason string) []byte {
	if code == 0 {
		return AppendHeader(dst, OpClose, true, 0)
	}
	reason = truncateUTF8(reason, MaxCloseReason)
	dst = AppendHeader(dst, OpClose, true, 2+len(reason))
	dst = binary.BigEndian.AppendUint16(dst, code)
	return append(dst, reason...)
}

// truncateUTF8 returns the longest prefix of s of at most n bytes that does
// not end inside a multi-byte character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// maskBytes XORs b in place with the masking key, as if b started at offset
// pos of the payload (RFC 6455 section 5.3). Masking and unmasking are the
// same operation. It works on 8 bytes at a time because unmasking is on the
// path of every received byte.
func maskBytes(key [keySize]byte, pos int, b []byte) {
	if len(b) >= 8 {
		var k [8]byte
		for i := range k {
			k[i] = key[(pos+i)&3]
		}
		k64 := binary.LittleEndian.Uint64(k[:])
		for len(b) >= 8 {
			binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^k64)
			b = b[8:]
		}
		// Whole words advance pos by multiples of 4: the key phase is
		// unchanged for the tail.
	}
	for i := range b {
		b[i] ^= key[(pos+i)&3]
	}
}

// frameEnd returns where the frame of b that holds offset off ends, b
// being whole frames as AppendFrame writes them; off itself when it is at
// a frame boundary. A write cut short at off must still send b[off:end]
// for the stream to stay well-formed.
func frameEnd(b []byte, off int) int {
	end := 0
	for end < off {
		n, ok := frameLen(b[end:])
		if !ok {
			return len(b)
		}
		end += n
	}
	return min(end, len(b))
}

// frameLen returns the size, header included, of the frame starting b; ok
// is false when b is too short to hold its header.
func frameLen(b []byte) (n int, ok bool) {
	if len(b) < 2 {
		return 0, false
	}
	ext := extLen(b[1] & lenBits)
	if len(b) < 2+ext {
		return 0, false
	}
	var plen uint64
	switch ext {
	case 0:
		plen = uint64(b[1] & lenBits)
	case 2:
		plen = uint64(binary.BigEndian.Uint16(b[2:]))
	default:
		plen = binary.BigEndian.Uint64(b[2:])
	}
	hlen := 2 + ext
	if b[1]&maskBit != 0 {
		hlen += keySize
	}
	if plen > uint64(len(b)) {
		return len(b) + 1, true // past the end: the caller stops there
	}
	return hlen + int(plen), true
}
