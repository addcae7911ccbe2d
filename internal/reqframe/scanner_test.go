package reqframe

import (
	"strconv"
	"strings"
	"testing"
)

// testMaxHead is the scanner's head bound in these tests.
const testMaxHead = 1024

func TestScannerVerdicts(t *testing.T) {
	t.Parallel()
	next := "GET /next HTTP/1.1\r\nHost: h\r\n\r\n"
	for _, tc := range []struct {
		name string
		raw  string
		bad  bool
	}{
		{"plain get", "GET / HTTP/1.1\r\nHost: h\r\n\r\n" + next, false},
		{"bare LF head", "GET / HTTP/1.1\nHost: h\n\n" + next, false},
		{"leading blank line", "\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n" + next, false},
		{"body by length", "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello" + next, false},
		{"body by length holding a head", "POST / HTTP/1.1\r\nContent-Length: 40\r\n\r\nGET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n123456" + next, false},
		{"chunked with extension and trailer", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\nA\r\n0123456789\r\n0\r\nT: v\r\n\r\n" + next, false},
		{"content-length with transfer-encoding", "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", true},
		{"names in any case", "POST / HTTP/1.1\r\ncontent-length: 5\r\nTRANSFER-ENCODING: chunked\r\n\r\n", true},
		{"content-length twice", "POST / HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n", true},
		{"obs-fold", "GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n", true},
		{"second request ambiguous", "GET / HTTP/1.1\r\n\r\nPOST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", true},
		{"chunk size not hex", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", true},
		{"chunk size empty", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", true},
		{"chunk size too long", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + strings.Repeat("f", 17) + "\r\n", true},
		{"chunk size bare LF", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\na\r\n0\r\n\r\n", true},
		{"chunk data without CRLF", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n0\r\n\r\n", true},
		// net/http refuses these itself and closes: no verdict needed.
		{"unknown transfer coding", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nX: a\r\n b\r\n\r\n", false},
		{"head over the bound", "GET / HTTP/1.1\r\nX: " + strings.Repeat("a", testMaxHead) + "\r\nY: a\r\n b\r\n\r\n", false},
		{"transfer-encoding on HTTP/1.0 alone", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n" + next, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// Whole, and a byte at a time: reads split anywhere.
			whole := &scanner{maxHead: testMaxHead}
			if got := whole.feed([]byte(tc.raw)); got != tc.bad {
				t.Errorf("in one read: bad = %v, want %v", got, tc.bad)
			}
			split := &scanner{maxHead: testMaxHead}
			var got bool
			for i := range len(tc.raw) {
				got = split.feed([]byte{tc.raw[i]})
			}
			if got != tc.bad {
				t.Errorf("a byte at a time: bad = %v, want %v", got, tc.bad)
			}
		})
	}
}

// TestScannerFollowsBodies: after sound requests with bodies, the
// scanner is at the next head (it sees the ambiguity there).
func TestScannerFollowsBodies(t *testing.T) {
	t.Parallel()
	s := &scanner{maxHead: testMaxHead}
	sound := "POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc" +
		"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
	if s.feed([]byte(sound)) || s.state != stHead {
		t.Fatalf("after sound requests: bad=%v state=%v, want a head next", s.bad, s.state)
	}
	if !s.feed([]byte("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n")) {
		t.Fatal("the next head's obs-fold was not seen")
	}
}

// BenchmarkScanPublish is the scanner's cost on the publish path: one
// pipelined-free REST publish request (head and a small JSON body), fed
// as net/http reads it, per op. It holds the per-request cost the
// listener adds to every tenant API call.
func BenchmarkScanPublish(b *testing.B) {
	body := `{"name":"ev","channel":"news","data":"{\"text\":\"hello, world, this is a hundred-byte payload for the benchmark run\"}"}`
	req := []byte("POST /apps/app-id/events?auth_key=app-key&auth_timestamp=1765000000&auth_version=1.0&body_md5=0123456789abcdef0123456789abcdef&auth_signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef HTTP/1.1\r\n" +
		"Host: 127.0.0.1:6001\r\nUser-Agent: pusher-http-go\r\nContent-Type: application/json\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\nAccept-Encoding: gzip\r\n\r\n" + body)
	s := scanner{maxHead: 1 << 15}
	b.SetBytes(int64(len(req)))
	b.ReportAllocs()
	for b.Loop() {
		if s.feed(req) {
			b.Fatal("a sound request found ambiguous")
		}
	}
}
