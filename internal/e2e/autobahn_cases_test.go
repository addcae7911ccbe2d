package e2e_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/heraldhq/herald/gateway/ws"
)

// The Autobahn TestSuite's server cases (github.com/crossbario/autobahn-
// testsuite, cases 1 to 7, 9, 10, 12 and 13), numbered as there, with the
// outcome RFC 6455 requires of a server that answers messages rather than
// echoing them. Where Herald's answer differs from Autobahn's by design
// the case's description says so; docs/security.md explains each.

// pingMsg is a small, valid Pusher message: answered with pusher:pong.
const pingMsg = `{"event":"pusher:ping","data":{}}`

// Constructors of the table.
func step(write []byte, want ...abWant) abStep { return abStep{write: write, want: want} }

func chopped(write []byte, chop int, want ...abWant) abStep {
	return abStep{write: write, chop: chop, want: want}
}

func ab(id, desc string, steps ...abStep) abCase { return abCase{id: id, desc: desc, steps: steps} }

var (
	pusherPong  = answer("pusher:pong")
	pusherError = answer("pusher:error")
)

// autobahnCases returns the table, in Autobahn's order.
func autobahnCases() []abCase {
	var cs []abCase
	for _, g := range []func() []abCase{abFraming, abPings, abReserved, abFragmentation, abUTF8, abClose, abLimits, abDeflate} {
		cs = append(cs, g()...)
	}
	return cs
}

// abFraming is 1.x: text and binary messages of every length class.
func abFraming() []abCase {
	sizes := []int{0, 125, 126, 127, 128, 65535, 65536}
	var cs []abCase
	for i, n := range sizes {
		msg, ans := abMessage(n)
		cs = append(cs, ab(fmt.Sprintf("1.1.%d", i+1), fmt.Sprintf("text message of %d bytes", n), step(textOf(string(msg)), ans)))
	}
	msg, ans := abMessage(65536)
	cs = append(cs, ab("1.1.8", "text message of 65536 bytes, written in pieces of 997 bytes", chopped(textOf(string(msg)), 997, ans)))
	for i, n := range sizes {
		cs = append(cs, ab(fmt.Sprintf("1.2.%d", i+1), fmt.Sprintf("binary message of %d bytes: refused, Herald takes text only (Autobahn: echo)", n),
			step(frameOf(ws.OpBinary, true, bytes.Repeat([]byte{0xfe}, n)), closeWith(ws.CloseUnsupportedData))))
	}
	cs = append(cs, ab("1.2.8", "binary message of 65536 bytes in pieces of 997 bytes: refused (Autobahn: echo)",
		chopped(frameOf(ws.OpBinary, true, bytes.Repeat([]byte{0xfe}, 65536)), 997, closeWith(ws.CloseUnsupportedData))))
	return cs
}

// abPings is 2.x: pings and pongs.
func abPings() []abCase {
	bin := "\x00\xff\xfe\xfd\xfc\xfb\x00\xff"
	b125 := strings.Repeat("\xfe", 125)
	cs := []abCase{
		ab("2.1", "ping without payload", step(frameOf(ws.OpPing, true, nil), pong(""))),
		ab("2.2", "ping with a small text payload", step(frameOf(ws.OpPing, true, []byte("Hello, world!")), pong("Hello, world!"))),
		ab("2.3", "ping with a small binary payload", step(frameOf(ws.OpPing, true, []byte(bin)), pong(bin))),
		ab("2.4", "ping with a 125-byte binary payload", step(frameOf(ws.OpPing, true, []byte(b125)), pong(b125))),
		ab("2.5", "ping with a 126-byte payload", step(frameOf(ws.OpPing, true, []byte(b125+"x")), closeWith(ws.CloseProtocolError))),
		ab("2.6", "ping with a 125-byte payload, written a byte at a time", chopped(frameOf(ws.OpPing, true, []byte(b125)), 1, pong(b125))),
		ab("2.7", "unsolicited pong without payload: ignored", step(frameOf(ws.OpPong, true, nil))),
		ab("2.8", "unsolicited pong with payload: ignored", step(frameOf(ws.OpPong, true, []byte("unsolicited pong payload")))),
		ab("2.9", "unsolicited pong, then ping", step(joinFrames(frameOf(ws.OpPong, true, []byte("unsolicited pong payload")),
			frameOf(ws.OpPing, true, []byte("ping payload"))), pong("ping payload"))),
	}
	var many []byte
	var pongs []abWant
	var oneByOne []abStep
	for i := range 10 {
		p := fmt.Sprintf("payload-%d", i)
		many = append(many, frameOf(ws.OpPing, true, []byte(p))...)
		pongs = append(pongs, pong(p))
		oneByOne = append(oneByOne, step(frameOf(ws.OpPing, true, []byte(p)), pong(p)))
	}
	cs = append(cs, ab("2.10", "10 pings in one write: 10 pongs in order", step(many, pongs...)))
	cs = append(cs, ab("2.11", "10 pings, one write each", oneByOne...))
	return cs
}

// abReserved is 3.x (reserved bits) and 4.x (reserved opcodes): the
// connection fails with 1002 at the bad frame; what came before is
// answered, what comes after is not.
func abReserved() []abCase {
	bad := closeWith(ws.CloseProtocolError)
	ping := frameOf(ws.OpPing, true, []byte("after"))
	cs := []abCase{
		ab("3.1", "text with RSV = 1", step(frameRSV(1, ws.OpText, true, []byte(pingMsg)), bad)),
		ab("3.2", "text, text with RSV = 2, ping", step(joinFrames(textOf(pingMsg), frameRSV(2, ws.OpText, true, []byte(pingMsg)), ping), maybe(pusherPong), bad)),
		ab("3.3", "text, text with RSV = 3, ping, one write each", step(textOf(pingMsg), pusherPong),
			step(joinFrames(frameRSV(3, ws.OpText, true, []byte(pingMsg)), ping), bad)),
		ab("3.4", "text, text with RSV = 4 (RSV1), ping, written a byte at a time", chopped(joinFrames(textOf(pingMsg),
			frameRSV(4, ws.OpText, true, []byte(pingMsg)), ping), 1, maybe(pusherPong), bad)),
		ab("3.5", "binary with RSV = 5", step(frameRSV(5, ws.OpBinary, true, []byte{0, 1, 2}), bad)),
		ab("3.6", "ping with RSV = 6", step(frameRSV(6, ws.OpPing, true, []byte("ping")), bad)),
		ab("3.7", "close with RSV = 7", step(frameRSV(7, ws.OpClose, true, nil), bad)),
	}
	for i, group := range [][]ws.Opcode{{3, 4, 5, 6, 7}, {11, 12, 13, 14, 15}} {
		kind := []string{"non-control", "control"}[i]
		for j, op := range group {
			id := fmt.Sprintf("4.%d.%d", i+1, j+1)
			var payload []byte
			if j%2 == 1 || j == 4 {
				payload = []byte("reserved opcode payload")
			}
			f := frameOf(op, true, payload)
			desc := fmt.Sprintf("reserved %s opcode %d", kind, op)
			switch j {
			case 0, 1:
				cs = append(cs, ab(id, desc, step(f, bad)))
			case 4:
				cs = append(cs, ab(id, "text, "+desc+", ping, written a byte at a time",
					chopped(joinFrames(textOf(pingMsg), f, ping), 1, maybe(pusherPong), bad)))
			default:
				cs = append(cs, ab(id, "text, "+desc+", ping", step(joinFrames(textOf(pingMsg), f, ping), maybe(pusherPong), bad)))
			}
		}
	}
	return cs
}

// abFragmentation is 5.x.
func abFragmentation() []abCase {
	bad := closeWith(ws.CloseProtocolError)
	half := len(pingMsg) / 2
	f1 := frameOf(ws.OpText, false, []byte(pingMsg[:half]))
	f2 := frameOf(ws.OpContinuation, true, []byte(pingMsg[half:]))
	pingP := frameOf(ws.OpPing, true, []byte("ping payload"))
	contFin := frameOf(ws.OpContinuation, true, []byte("fragment"))
	contMore := frameOf(ws.OpContinuation, false, []byte("fragment"))
	cs := []abCase{
		ab("5.1", "ping in 2 fragments", step(joinFrames(frameOf(ws.OpPing, false, []byte("fragment1")), frameOf(ws.OpContinuation, true, []byte("fragment2"))), bad)),
		ab("5.2", "pong in 2 fragments", step(joinFrames(frameOf(ws.OpPong, false, []byte("fragment1")), frameOf(ws.OpContinuation, true, []byte("fragment2"))), bad)),
		ab("5.3", "text in 2 fragments", step(joinFrames(f1, f2), pusherPong)),
		ab("5.4", "text in 2 fragments, one write each", step(f1), step(f2, pusherPong)),
		ab("5.5", "text in 2 fragments, written a byte at a time", chopped(joinFrames(f1, f2), 1, pusherPong)),
		ab("5.6", "text in 2 fragments with a ping between", step(joinFrames(f1, pingP, f2), pong("ping payload"), pusherPong)),
		ab("5.7", "text in 2 fragments with a ping between, one write each", step(f1), step(pingP, pong("ping payload")), step(f2, pusherPong)),
		ab("5.8", "text in 2 fragments with a ping between, written a byte at a time", chopped(joinFrames(f1, pingP, f2), 1, pong("ping payload"), pusherPong)),
		ab("5.9", "continuation (FIN) without a message, then text", step(joinFrames(contFin, textOf(pingMsg)), bad)),
		ab("5.10", "continuation (FIN) without a message, then text, one write each", step(contFin, bad)),
		ab("5.11", "continuation (FIN) without a message, then text, written a byte at a time", chopped(joinFrames(contFin, textOf(pingMsg)), 1, bad)),
		ab("5.12", "continuation (no FIN) without a message, then text", step(joinFrames(contMore, textOf(pingMsg)), bad)),
		ab("5.13", "continuation (no FIN) without a message, then text, one write each", step(contMore, bad)),
		ab("5.14", "continuation (no FIN) without a message, then text, written a byte at a time", chopped(joinFrames(contMore, textOf(pingMsg)), 1, bad)),
		ab("5.15", "text in 2 fragments, then continuations with nothing to continue", step(joinFrames(f1, f2, contMore, contFin), maybe(pusherPong), bad)),
		ab("5.16", "continuation (no FIN) without a message, text in 2 fragments, twice", step(joinFrames(contMore, f1, f2, contMore, f1, f2), bad)),
		ab("5.17", "continuation (FIN) without a message, text in 2 fragments, twice", step(joinFrames(contFin, f1, f2, contFin, f1, f2), bad)),
		ab("5.18", "text in 2 fragments both with the text opcode", step(joinFrames(f1, frameOf(ws.OpText, true, []byte(pingMsg[half:]))), bad)),
	}
	// 5.19 and 5.20: 5 fragments with 2 pings between, frame by frame and
	// in one write.
	parts := []string{pingMsg[:5], pingMsg[5:10], pingMsg[10:15], pingMsg[15:20], pingMsg[20:]}
	var frames [][]byte
	var oneByOne []abStep
	for i, p := range parts {
		op := ws.OpContinuation
		if i == 0 {
			op = ws.OpText
		}
		f := frameOf(op, i == len(parts)-1, []byte(p))
		frames = append(frames, f)
		switch i {
		case len(parts) - 1:
			oneByOne = append(oneByOne, step(f, pusherPong))
		default:
			oneByOne = append(oneByOne, step(f))
		}
		if i == 1 || i == 3 {
			pp := fmt.Sprintf("pongme %d", i)
			frames = append(frames, frameOf(ws.OpPing, true, []byte(pp)))
			oneByOne = append(oneByOne, step(frameOf(ws.OpPing, true, []byte(pp)), pong(pp)))
		}
	}
	cs = append(cs, ab("5.19", "text in 5 fragments with 2 pings between, one write each", oneByOne...))
	cs = append(cs, ab("5.20", "text in 5 fragments with 2 pings between, in one write",
		step(joinFrames(frames...), pong("pongme 1"), pong("pongme 3"), pusherPong)))
	return cs
}

// utf8Seq is a byte sequence of Markus Kuhn's UTF-8 decoder test, as
// Autobahn's 6.5 to 6.23 send them, with whether it is valid UTF-8
// (written by hand, not computed with the decoder under test).
type utf8Seq struct {
	id    string
	desc  string
	bytes string
	valid bool
}

// utf8Seqs returns Autobahn's UTF-8 sequences.
func utf8Seqs() []utf8Seq {
	kosme := "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"
	seqs := []utf8Seq{
		{"6.5.1", "κόσμε", kosme, true},
		{"6.5.2", "U+10000", "\xf0\x90\x80\x80", true},
		{"6.5.3", "Latin-1 and ASCII", "Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!", true},
		{"6.5.4", "κόσμε then U+10FFFF", kosme + "\xf4\x8f\xbf\xbf", true},
		{"6.5.5", "an emoji", "\xf0\x9f\x98\x80", true},
	}
	// 6.6: every prefix of κόσμε; those that cut a character are invalid.
	cuts := map[int]bool{1: true, 3: true, 4: true, 6: true, 8: true, 10: true} // prefix lengths inside a character
	for n := 1; n <= len(kosme); n++ {
		seqs = append(seqs, utf8Seq{fmt.Sprintf("6.6.%d", n), fmt.Sprintf("the first %d bytes of κόσμε", n), kosme[:n], !cuts[n]})
	}
	groups := []struct {
		group string
		desc  string
		valid bool
		seqs  []string
	}{
		{"6.7", "first possible sequence of its length", true, []string{"\x00", "\xc2\x80", "\xe0\xa0\x80", "\xf0\x90\x80\x80"}},
		{"6.8", "first possible 5- or 6-byte sequence (not UTF-8)", false, []string{"\xf8\x88\x80\x80\x80", "\xfc\x84\x80\x80\x80\x80"}},
		{"6.9", "last possible sequence of its length", true, []string{"\x7f", "\xdf\xbf", "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf"}},
		{"6.10", "last 4-, 5- or 6-byte sequence past U+10FFFF", false, []string{"\xf7\xbf\xbf\xbf", "\xfb\xbf\xbf\xbf\xbf", "\xfd\xbf\xbf\xbf\xbf\xbf"}},
		{"6.11", "boundary: U+D7FF, U+E000, U+FFFD, U+10FFFF", true, []string{"\xed\x9f\xbf", "\xee\x80\x80", "\xef\xbf\xbd", "\xf4\x8f\xbf\xbf"}},
		{"6.12", "unexpected continuation bytes", false, []string{"\x80", "\xbf", "\x80\xbf", "\x80\xbf\x80", "\x80\xbf\x80\xbf",
			"\x80\xbf\x80\xbf\x80", "\x80\xbf\x80\xbf\x80\xbf", continuationBytes()}},
		{"6.13", "lonely start bytes, each followed by a space", false, []string{spaced(0xc0, 0xdf), spaced(0xe0, 0xef), spaced(0xf0, 0xf7), spaced(0xf8, 0xfb), spaced(0xfc, 0xfd)}},
		{"6.14", "sequence with its last continuation byte missing", false, []string{"\xc0", "\xe0\x80", "\xf0\x80\x80", "\xf8\x80\x80\x80", "\xfc\x80\x80\x80\x80",
			"\xdf", "\xef\xbf", "\xf7\xbf\xbf", "\xfb\xbf\xbf\xbf", "\xfd\xbf\xbf\xbf\xbf"}},
		{"6.15", "the 6.14 sequences concatenated", false, []string{"\xc0\xe0\x80\xf0\x80\x80\xf8\x80\x80\x80\xfc\x80\x80\x80\x80\xdf\xef\xbf\xf7\xbf\xbf\xfb\xbf\xbf\xbf\xfd\xbf\xbf\xbf\xbf"}},
		{"6.16", "impossible bytes", false, []string{"\xfe", "\xff", "\xfe\xfe\xff\xff"}},
		{"6.17", "overlong '/'", false, []string{"\xc0\xaf", "\xe0\x80\xaf", "\xf0\x80\x80\xaf", "\xf8\x80\x80\x80\xaf", "\xfc\x80\x80\x80\x80\xaf"}},
		{"6.18", "maximum overlong sequence", false, []string{"\xc1\xbf", "\xe0\x9f\xbf", "\xf0\x8f\xbf\xbf", "\xf8\x87\xbf\xbf\xbf", "\xfc\x83\xbf\xbf\xbf\xbf"}},
		{"6.19", "overlong NUL", false, []string{"\xc0\x80", "\xe0\x80\x80", "\xf0\x80\x80\x80", "\xf8\x80\x80\x80\x80", "\xfc\x80\x80\x80\x80\x80"}},
		{"6.20", "single UTF-16 surrogate", false, []string{"\xed\xa0\x80", "\xed\xad\xbf", "\xed\xae\x80", "\xed\xaf\xbf", "\xed\xb0\x80", "\xed\xbe\x80", "\xed\xbf\xbf"}},
		{"6.21", "paired UTF-16 surrogates", false, []string{"\xed\xa0\x80\xed\xb0\x80", "\xed\xa0\x80\xed\xbf\xbf", "\xed\xad\xbf\xed\xb0\x80", "\xed\xad\xbf\xed\xbf\xbf",
			"\xed\xae\x80\xed\xb0\x80", "\xed\xae\x80\xed\xbf\xbf", "\xed\xaf\xbf\xed\xb0\x80", "\xed\xaf\xbf\xed\xbf\xbf"}},
		{"6.22", "noncharacter (valid UTF-8)", true, nonCharacters()},
		{"6.23", "U+FFFD, U+FEFF and other specials", true, []string{"\xef\xbf\xbd", "\xef\xbb\xbf", "\xef\xbf\xb9", "\xef\xbf\xbc"}},
	}
	for _, g := range groups {
		for i, s := range g.seqs {
			seqs = append(seqs, utf8Seq{fmt.Sprintf("%s.%d", g.group, i+1), g.desc, s, g.valid})
		}
	}
	return seqs
}

// continuationBytes is every continuation byte, 0x80 to 0xbf.
func continuationBytes() string {
	var b []byte
	for c := 0x80; c <= 0xbf; c++ {
		b = append(b, byte(c))
	}
	return string(b)
}

// spaced is the bytes from lo to hi, each followed by a space.
func spaced(lo, hi int) string {
	var b []byte
	for c := lo; c <= hi; c++ {
		b = append(b, byte(c), ' ')
	}
	return string(b)
}

// nonCharacters is U+FFFE and U+FFFF of every plane, encoded.
func nonCharacters() []string {
	var out []string
	for plane := rune(0); plane <= 0x10; plane++ {
		for _, low := range []rune{0xfffe, 0xffff} {
			out = append(out, string(utf8.AppendRune(nil, plane<<16|low)))
		}
	}
	return out
}

// abUTF8 is 6.x: UTF-8 handling of text messages, whole and fragmented,
// failing fast on an invalid fragment.
func abUTF8() []abCase {
	bad := closeWith(ws.CloseInvalidPayload)
	latin := "Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!"
	kosme := "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"
	invalid := kosme + "\xed\xa0\x80" + "edited"
	cs := []abCase{
		ab("6.1.1", "empty text message", step(textOf(""), pusherError)),
		ab("6.1.2", "text message of 3 empty fragments", step(joinFrames(frameOf(ws.OpText, false, nil), frameOf(ws.OpContinuation, false, nil),
			frameOf(ws.OpContinuation, true, nil)), pusherError)),
		ab("6.1.3", "empty, non-empty and empty fragments", step(joinFrames(frameOf(ws.OpText, false, nil),
			frameOf(ws.OpContinuation, false, []byte("middle frame payload")), frameOf(ws.OpContinuation, true, nil)), pusherError)),
		ab("6.2.1", "valid UTF-8 in one frame", step(textOf(latin), pusherError)),
		ab("6.2.2", "valid UTF-8 in a fragment per character", step(runeFragments(latin), pusherError)),
		ab("6.2.3", "valid UTF-8 in 1-byte fragments", step(fragments(ws.OpText, []byte(latin), 1), pusherError)),
		ab("6.2.4", "κόσμε in 1-byte fragments", step(fragments(ws.OpText, []byte(kosme), 1), pusherError)),
		ab("6.3.1", "invalid UTF-8 (a surrogate) in one frame", step(textOf(invalid), bad)),
		ab("6.3.2", "invalid UTF-8 in 1-byte fragments", step(fragments(ws.OpText, []byte(invalid), 1), bad)),
	}
	// 6.4: fail fast: the gateway fails the connection on the invalid
	// fragment, before the message's last fragment (never sent) arrives.
	failFast := []struct{ first, second string }{
		{kosme, "\xf4\x90\x80\x80"},                 // 6.4.1: invalid code point as its own fragment
		{kosme + "\xf4", "\x90\x80\x80"},            // 6.4.2: cut inside the invalid sequence
		{kosme, "\xf4\x90\x80\x80"},                 // 6.4.3: as 6.4.1, written a byte at a time
		{kosme + "\xf4", "\x90\x80\x80" + "edited"}, // 6.4.4: as 6.4.2, written a byte at a time
	}
	for i, ff := range failFast {
		w := joinFrames(frameOf(ws.OpText, false, []byte(ff.first)), frameOf(ws.OpContinuation, false, []byte(ff.second)))
		s := step(w, bad)
		desc := "fail fast: valid fragment, then an invalid one, no final fragment"
		if i >= 2 {
			s.chop, desc = 1, desc+", written a byte at a time"
		}
		cs = append(cs, ab(fmt.Sprintf("6.4.%d", i+1), desc, s))
	}
	for _, s := range utf8Seqs() {
		want := pusherError
		if !s.valid {
			want = bad
		}
		c := ab(s.id, s.desc+fmt.Sprintf(" (% x), whole and in 1-byte fragments", s.bytes), step(textOf(s.bytes), want))
		c.again = []abStep{step(fragments(ws.OpText, []byte(s.bytes), 1), want)}
		if len(s.bytes) > 24 {
			c.desc = s.desc + fmt.Sprintf(" (%d bytes), whole and in 1-byte fragments", len(s.bytes))
		}
		cs = append(cs, c)
	}
	return cs
}

// runeFragments is a text message with a fragment per character.
func runeFragments(s string) []byte {
	var out []byte
	for i, r := range s {
		op := ws.OpContinuation
		if i == 0 {
			op = ws.OpText
		}
		n := utf8.RuneLen(r)
		out = append(out, frameOf(op, i+n == len(s), []byte(s[i:i+n]))...)
	}
	return out
}

// abClose is 7.x: the closing handshake and close codes.
func abClose() []abCase {
	normal := closeWith(ws.CloseNormal)
	bad := closeWith(ws.CloseProtocolError)
	half := len(pingMsg) / 2
	big, bigAnswer := abMessage(60 << 10)
	cs := []abCase{
		ab("7.1.1", "text, then close 1000", step(joinFrames(textOf(pingMsg), closeFrame(1000, "")), maybe(pusherPong), normal)),
		ab("7.1.2", "close twice", step(joinFrames(closeFrame(1000, ""), closeFrame(1000, "")), normal)),
		ab("7.1.3", "close, then ping: no pong", step(joinFrames(closeFrame(1000, ""), frameOf(ws.OpPing, true, []byte("after close"))), normal)),
		ab("7.1.4", "close, then text: not answered", step(joinFrames(closeFrame(1000, ""), textOf(pingMsg)), normal)),
		ab("7.1.5", "first fragment, close, last fragment", step(joinFrames(frameOf(ws.OpText, false, []byte(pingMsg[:half])), closeFrame(1000, ""),
			frameOf(ws.OpContinuation, true, []byte(pingMsg[half:]))), normal)),
		ab("7.1.6", "60 KiB message, close, ping (Autobahn: 256 KiB, over Herald's cap)", step(joinFrames(textOf(string(big)), closeFrame(1000, ""),
			frameOf(ws.OpPing, true, []byte("after close"))), maybe(bigAnswer), normal)),
		ab("7.3.1", "close without payload: echoed without status", step(rawClose(nil), closeWith(ws.CloseNoStatus))),
		ab("7.3.2", "close with a 1-byte payload", step(rawClose([]byte{0x03}), bad)),
		ab("7.3.3", "close 1000 without reason", step(closeFrame(1000, ""), normal)),
		ab("7.3.4", "close 1000 with a reason", step(closeFrame(1000, "Ok, bye"), normal)),
		ab("7.3.5", "close 1000 with a 123-byte reason", step(closeFrame(1000, strings.Repeat("*", 123)), normal)),
		ab("7.3.6", "close 1000 with a 124-byte reason (126-byte payload)", step(closeFrame(1000, strings.Repeat("*", 124)), bad)),
		ab("7.5.1", "close 1000 with an invalid UTF-8 reason", step(closeFrame(1000, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"), closeWith(ws.CloseInvalidPayload))),
	}
	for i, code := range []uint16{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999} {
		cs = append(cs, ab(fmt.Sprintf("7.7.%d", i+1), fmt.Sprintf("close with valid code %d: echoed", code), step(closeFrame(code, ""), closeWith(code))))
	}
	for i, code := range []uint16{0, 999, 1004, 1005, 1006, 1012, 1013, 1014, 1015, 1016, 1100, 2000, 2999} {
		id := fmt.Sprintf("7.9.%d", i+1)
		if code >= 1012 && code <= 1014 {
			// Registered with IANA after Autobahn's table was written:
			// Herald accepts them as the registry does.
			cs = append(cs, ab(id, fmt.Sprintf("close with code %d: registered since Autobahn's table (IANA), so echoed (Autobahn: 1002)", code),
				step(closeFrame(code, ""), closeWith(code))))
			continue
		}
		cs = append(cs, ab(id, fmt.Sprintf("close with invalid code %d", code), step(rawClose(binary.BigEndian.AppendUint16(nil, code)), bad)))
	}
	cs = append(cs, ab("7.13.1", "close with code 5000", step(closeFrame(5000, ""), bad)))
	cs = append(cs, ab("7.13.2", "close with code 65535", step(closeFrame(65535, ""), bad)))
	return cs
}

// abLimits is 9.x and 10.x: big messages, within Herald's cap (64 KiB
// here: the app's max_message_bytes and the gateway's ceiling) and over
// it, where the gateway refuses the frame from its header with 1009.
func abLimits() []abCase {
	tooBig := closeWith(ws.CloseMessageTooBig)
	sizes := []int{64 << 10, 256 << 10, 1 << 20, 4 << 20, 8 << 20, 16 << 20}
	var cs []abCase
	for i, n := range sizes {
		id := fmt.Sprintf("9.1.%d", i+1)
		if n <= abCap {
			msg, ans := abMessage(n)
			cs = append(cs, ab(id, fmt.Sprintf("text message of %d bytes (the cap)", n), step(textOf(string(msg)), ans)))
			continue
		}
		cs = append(cs, ab(id, fmt.Sprintf("text message of %d bytes: over the cap, refused from its header (Autobahn: echo)", n),
			step(joinFrames(maskedLenHeader(ws.OpText, uint64(n)), make([]byte, 4<<10)), tooBig)))
	}
	for i, n := range sizes {
		cs = append(cs, ab(fmt.Sprintf("9.2.%d", i+1), fmt.Sprintf("binary message of %d bytes: refused, text only (Autobahn: echo)", n),
			step(joinFrames(maskedLenHeader(ws.OpBinary, uint64(n)), make([]byte, 4<<10)), closeWith(ws.CloseUnsupportedData))))
	}
	frags := []int{64, 256, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20}
	for i, size := range frags {
		cs = append(cs, ab(fmt.Sprintf("9.3.%d", i+1), fmt.Sprintf("4 MiB text message in fragments of %d bytes: refused once over the cap (Autobahn: echo)", size),
			step(overCapFragments(size), tooBig)))
	}
	for i, size := range frags {
		cs = append(cs, ab(fmt.Sprintf("9.4.%d", i+1), fmt.Sprintf("4 MiB binary message in fragments of %d bytes: refused, text only (Autobahn: echo)", size),
			step(firstFragmentStart(ws.OpBinary, size), closeWith(ws.CloseUnsupportedData))))
	}
	msg, ans := abMessage(abCap)
	for i, chop := range []int{64, 128, 256, 512, 1024, 2048} {
		cs = append(cs, ab(fmt.Sprintf("9.5.%d", i+1), fmt.Sprintf("%d-byte text message (Autobahn: 1 MiB) written in pieces of %d bytes", abCap, chop),
			chopped(textOf(string(msg)), chop, ans)))
	}
	var many []byte
	var pongs []abWant
	for range 100 {
		many = append(many, textOf(pingMsg)...)
		pongs = append(pongs, pusherPong)
	}
	cs = append(cs, ab("9.7.1", "100 small messages in one write (Autobahn: 1000, timed)", step(many, pongs...)))
	cs = append(cs, ab("10.1.1", "65536-byte text message in fragments of 1300 bytes", step(fragments(ws.OpText, msg, 1300), ans)))
	return cs
}

// overCapFragments is the start of a 4 MiB text message in fragments of
// size bytes: enough of them to pass the cap, or, for fragments over it,
// the first one's header and a little of its payload.
func overCapFragments(size int) []byte {
	if size > abCap {
		return firstFragmentStart(ws.OpText, size)
	}
	chunk := bytes.Repeat([]byte("x"), size)
	out := frameOf(ws.OpText, false, chunk)
	for sent := size; sent <= abCap; sent += size {
		out = append(out, frameOf(ws.OpContinuation, false, chunk)...)
	}
	return out
}

// abDeflate is 12.x and 13.x: Herald does not negotiate permessage-deflate
// (RFC 7692), so the offer is declined and a compressed frame (RSV1) fails
// the connection with 1002.
func abDeflate() []abCase {
	withOffer := func(c abCase, offer string) abCase { c.offer = offer; return c }
	pmd := "permessage-deflate"
	full := "permessage-deflate; client_max_window_bits; server_no_context_takeover"
	half := len(pingMsg) / 2
	return []abCase{
		withOffer(ab("12.1.1", "permessage-deflate offered: declined; messages uncompressed", step(textOf(pingMsg), pusherPong)), pmd),
		withOffer(ab("12.1.2", "permessage-deflate with parameters offered: declined", step(textOf(pingMsg), pusherPong)), full),
		withOffer(ab("13.1.1", "after the declined offer, a text frame with RSV1 (compressed)", step(frameRSV(4, ws.OpText, true, []byte(pingMsg)), closeWith(ws.CloseProtocolError))), pmd),
		withOffer(ab("13.1.2", "after the declined offer, a continuation with RSV1", step(joinFrames(frameOf(ws.OpText, false, []byte(pingMsg[:half])),
			frameRSV(4, ws.OpContinuation, true, []byte(pingMsg[half:]))), closeWith(ws.CloseProtocolError))), pmd),
	}
}

// firstFragmentStart is the header of a first fragment of size bytes and
// a little of its payload: all a case needs to send when the gateway
// refuses the fragment from its header.
func firstFragmentStart(op ws.Opcode, size int) []byte {
	h := maskedLenHeader(op, uint64(size))
	h[0] &^= 0x80 // not the last fragment
	return joinFrames(h, make([]byte, min(size, 4<<10)))
}
