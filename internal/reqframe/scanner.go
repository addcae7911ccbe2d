package reqframe

import (
	"bytes"
)

// Limits of the scanner: past them Go's own parser refuses the request
// (431, 400) and closes the connection, so the scanner stops.
const (
	// maxChunkLine is Go's limit on a chunk-size line (net/http's
	// maxLineLength).
	maxChunkLine = 4096
	// maxChunkHexDigits is the longest chunk size Go parses.
	maxChunkHexDigits = 16
	// maxChunkSize is the largest chunk the scanner can count down; a
	// larger one cannot be a real body of Herald's APIs.
	maxChunkSize = 1 << 62
	// maxLengthDigits keeps a Content-Length within an int64.
	maxLengthDigits = 18
)

// scanState is where the scanner is in the byte stream of a connection.
type scanState int

const (
	stHead      scanState = iota // request line and header fields
	stBody                       // remain bytes of a Content-Length body
	stChunkSize                  // a chunk-size line
	stChunkData                  // remain bytes of chunk data
	stChunkCRLF                  // the CRLF after chunk data
	stTrailer                    // trailer fields after the last chunk
	stStopped                    // verdict given, or Go closes the connection
)

// head is what the scanner learned of one request head.
type head struct {
	started  bool // the request line was seen
	http10   bool
	fold     bool
	clCount  int
	clValue  string
	teCount  int
	teValue  string
	byteSize int
}

// scanner follows the requests of one connection as net/http frames
// them, and flags the first one whose framing a proxy in front could read
// differently: a head with both Content-Length and Transfer-Encoding, with
// Content-Length twice, or with an obs-fold continuation line, and a
// chunked body whose sizes or delimiters are malformed. It only reads.
type scanner struct {
	maxHead int
	state   scanState
	line    []byte // the current line, while it spans reads
	h       head
	remain  int64
	crlf    int // bytes of the CRLF after chunk data seen
	bad     bool
}

// feed scans the next bytes read from the connection and reports whether
// an ambiguous request has been seen (then and ever after).
func (s *scanner) feed(p []byte) bool {
	for len(p) > 0 && s.state != stStopped {
		switch s.state {
		case stBody, stChunkData:
			n := int64(len(p))
			if n > s.remain {
				n = s.remain
			}
			s.remain -= n
			p = p[n:]
			if s.remain == 0 {
				if s.state == stBody {
					s.state = stHead
				} else {
					s.state, s.crlf = stChunkCRLF, 0
				}
			}
		case stChunkCRLF:
			if p[0] != "\r\n"[s.crlf] {
				s.fail()
				return s.bad
			}
			p = p[1:]
			if s.crlf++; s.crlf == 2 {
				s.state = stChunkSize
			}
		default:
			i := bytes.IndexByte(p, '\n')
			if i < 0 {
				s.line = append(s.line, p...)
				if len(s.line) > s.lineLimit() {
					s.stop()
				}
				return s.bad
			}
			line := p[:i]
			if len(s.line) > 0 {
				line = append(s.line, line...)
			}
			p = p[i+1:]
			if len(line) > s.lineLimit() {
				s.stop()
				return s.bad
			}
			s.endLine(line)
			s.line = s.line[:0]
			if cap(s.line) > maxChunkLine {
				// A long line spanned reads: a keep-alive connection
				// need not hold its buffer.
				s.line = nil
			}
		}
	}
	return s.bad
}

// lineLimit bounds what one line may hold before the scanner gives up.
func (s *scanner) lineLimit() int {
	if s.state == stChunkSize {
		return maxChunkLine
	}
	return s.maxHead
}

// fail flags the connection and stops scanning it.
func (s *scanner) fail() { s.bad, s.state = true, stStopped }

// stop ends scanning without a verdict: Go's parser refuses what follows
// (too large, unsupported) and closes the connection.
func (s *scanner) stop() { s.state = stStopped }

// endLine handles one line (without its LF) in the head, chunk-size or
// trailer state.
func (s *scanner) endLine(line []byte) {
	switch s.state {
	case stChunkSize:
		s.chunkSize(line)
	case stTrailer:
		if len(bytes.TrimSuffix(line, []byte("\r"))) == 0 {
			s.state = stHead
		}
	default:
		s.headLine(line)
	}
}

// headLine takes one line of a request head.
func (s *scanner) headLine(line []byte) {
	s.h.byteSize += len(line) + 1
	if s.h.byteSize > s.maxHead {
		s.stop()
		return
	}
	text := bytes.TrimSuffix(line, []byte("\r"))
	if !s.h.started {
		if len(text) == 0 {
			return // blank lines before a request line are skipped
		}
		s.h.started = true
		s.h.http10 = bytes.HasSuffix(text, []byte("HTTP/1.0"))
		return
	}
	if len(text) == 0 {
		s.endHead()
		return
	}
	if text[0] == ' ' || text[0] == '\t' {
		s.h.fold = true
		return
	}
	name, value, _ := bytes.Cut(text, []byte(":"))
	value = bytes.TrimSpace(value)
	switch {
	case bytes.EqualFold(name, []byte("Content-Length")):
		s.h.clCount++
		s.h.clValue = string(value)
	case bytes.EqualFold(name, []byte("Transfer-Encoding")):
		s.h.teCount++
		s.h.teValue = string(value)
	}
}

// endHead judges a complete head and finds how its body is framed, as
// net/http does (transfer.go: parseTransferEncoding, fixLength).
func (s *scanner) endHead() {
	h := s.h
	s.h = head{}
	if h.fold || h.clCount > 1 || (h.clCount > 0 && h.teCount > 0) {
		s.fail()
		return
	}
	switch {
	case h.teCount > 0 && !h.http10:
		if h.teCount != 1 || !equalFold(h.teValue, "chunked") {
			s.stop() // Go answers 501 and closes
			return
		}
		s.state = stChunkSize
	case h.clCount == 1:
		n, ok := parseLength(h.clValue)
		if !ok {
			s.stop() // Go answers 400 and closes
			return
		}
		s.state, s.remain = stHead, n
		if n > 0 {
			s.state = stBody
		}
	default:
		s.state = stHead
	}
}

// chunkSize takes a chunk-size line: hex digits, optional extensions
// after ';', CRLF (a bare LF is refused, as net/http refuses it).
func (s *scanner) chunkSize(line []byte) {
	text, ok := bytes.CutSuffix(line, []byte("\r"))
	if !ok {
		s.fail()
		return
	}
	if i := bytes.IndexByte(text, ';'); i >= 0 {
		text = text[:i]
	}
	text = bytes.TrimRight(text, " \t")
	if len(text) == 0 || len(text) > maxChunkHexDigits {
		s.fail()
		return
	}
	var n uint64
	for _, b := range text {
		d, ok := hexDigit(b)
		if !ok {
			s.fail()
			return
		}
		n = n<<4 | uint64(d)
	}
	if n > maxChunkSize {
		s.fail()
		return
	}
	if n == 0 {
		s.state = stTrailer
		return
	}
	s.state, s.remain = stChunkData, int64(n)
}

func hexDigit(b byte) (byte, bool) {
	switch {
	case '0' <= b && b <= '9':
		return b - '0', true
	case 'a' <= b && b <= 'f':
		return b - 'a' + 10, true
	case 'A' <= b && b <= 'F':
		return b - 'A' + 10, true
	}
	return 0, false
}

// parseLength parses a Content-Length as net/http does: digits only.
func parseLength(v string) (int64, bool) {
	if v == "" || len(v) > maxLengthDigits {
		return 0, false
	}
	var n int64
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, false
		}
		n = n*10 + int64(v[i]-'0')
	}
	return n, true
}

func equalFold(a, b string) bool { return bytes.EqualFold([]byte(a), []byte(b)) }
