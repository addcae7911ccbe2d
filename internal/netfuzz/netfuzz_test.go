package netfuzz_test

import (
	"context"
	"encoding/binary"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/gateway/ws"
	"github.com/heraldhq/herald/gateway/ws/wstest"
	"github.com/heraldhq/herald/internal/netfuzz"
)

func testConfig(seed uint64) netfuzz.Config {
	return netfuzz.Config{Seed: seed, AppID: "app-id", Key: "app-key", MaxMessage: 16 << 10, MaxHeaderBytes: 4 << 10,
		SlowPause: 20 * time.Millisecond, SlowFor: 600 * time.Millisecond}
}

// TestDeterministic: a seed yields the same attacks; another seed others.
func TestDeterministic(t *testing.T) {
	gen := func(seed uint64) []netfuzz.Attack {
		g := netfuzz.New(testConfig(seed))
		var out []netfuzz.Attack
		for range 200 {
			out = append(out, g.Next())
		}
		return out
	}
	a, b, c := gen(7), gen(7), gen(8)
	if !slices.EqualFunc(a, b, sameAttack) {
		t.Fatal("the same seed gave different attacks")
	}
	if slices.EqualFunc(a, c, sameAttack) {
		t.Fatal("two seeds gave the same attacks")
	}
}

func sameAttack(x, y netfuzz.Attack) bool {
	return x.Kind == y.Kind && x.Target == y.Target && x.Want == y.Want && x.Pause == y.Pause &&
		string(x.Handshake) == string(y.Handshake) && slices.EqualFunc(x.Chunks, y.Chunks, func(p, q []byte) bool { return string(p) == string(q) })
}

// TestEveryKindAndVerdict: the random stream covers every kind, and frame
// attacks every verdict of the oracle.
func TestEveryKindAndVerdict(t *testing.T) {
	g := netfuzz.New(testConfig(1))
	kinds := map[netfuzz.Kind]int{}
	verdicts := map[string]int{}
	for range 3000 {
		a := g.Next()
		kinds[a.Kind]++
		if a.Kind != netfuzz.BadFrames {
			continue
		}
		switch w := a.Want; {
		case w.Open:
			verdicts["open"]++
		case w.Timeout:
			verdicts["timeout"]++
		default:
			verdicts[closeName(w.Close)]++
		}
	}
	for _, k := range netfuzz.Kinds {
		if kinds[k] == 0 {
			t.Errorf("no %v attack in 3000", k)
		}
	}
	for _, v := range []string{"open", "timeout", "1002", "1003", "1007", "1009", "echo"} {
		if verdicts[v] == 0 {
			t.Errorf("no frame attack with verdict %s: %v", v, verdicts)
		}
	}
}

func closeName(code uint16) string {
	switch code {
	case ws.CloseProtocolError:
		return "1002"
	case ws.CloseUnsupportedData:
		return "1003"
	case ws.CloseInvalidPayload:
		return "1007"
	case ws.CloseMessageTooBig:
		return "1009"
	}
	return "echo"
}

// TestPredict: the oracle's verdicts on frames whose answer RFC 6455
// fixes.
func TestPredict(t *testing.T) {
	key := [4]byte{1, 2, 3, 4}
	text := wstest.AppendMaskedFrame(nil, ws.OpText, true, []byte("hi"), key)
	big := binary.BigEndian.AppendUint64([]byte{0x81, 0xff}, 1<<20)
	tests := []struct {
		name string
		b    []byte
		want netfuzz.Want
	}{
		{"valid text", text, netfuzz.Want{Open: true}},
		{"cut frame", text[:len(text)-1], netfuzz.Want{Close: ws.ClosePolicyViolation, Timeout: true}},
		{"unfinished message", wstest.AppendMaskedFrame(nil, ws.OpText, false, []byte("a"), key), netfuzz.Want{Close: ws.ClosePolicyViolation, Timeout: true}},
		{"unmasked", []byte{0x81, 0x01, 'x'}, netfuzz.Want{Close: ws.CloseProtocolError}},
		{"rsv1", append([]byte{0xc1}, text[1:]...), netfuzz.Want{Close: ws.CloseProtocolError}},
		{"over the cap", big, netfuzz.Want{Close: ws.CloseMessageTooBig}},
		{"binary", wstest.AppendMaskedFrame(nil, ws.OpBinary, true, []byte{1}, key), netfuzz.Want{Close: ws.CloseUnsupportedData}},
		{"close 4000", wstest.AppendMaskedFrame(text, ws.OpClose, true, wstest.ClosePayload(4000, ""), key), netfuzz.Want{Close: 4000}},
		{"close without status", wstest.AppendMaskedFrame(nil, ws.OpClose, true, nil, key), netfuzz.Want{Close: ws.CloseNoStatus}},
	}
	for _, tt := range tests {
		if got := netfuzz.Predict(tt.b, 16<<10); got != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

// TestDriveHTTP drives the request-level attacks at a plain HTTP server
// with the limits Herald's listener has, and checks what Check accepts.
func TestDriveHTTP(t *testing.T) {
	const headerTimeout = 300 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: headerTimeout, MaxHeaderBytes: 4 << 10,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusUnauthorized) })}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	limits := netfuzz.Limits{HeaderTimeout: headerTimeout, FrameTimeout: time.Second, Linger: 0, Margin: 2 * time.Second}

	g := netfuzz.New(testConfig(3))
	for _, k := range []netfuzz.Kind{netfuzz.RandomBytes, netfuzz.MutatedRequest, netfuzz.HugeHeaders, netfuzz.Slowloris, netfuzz.HalfOpen} {
		for range 5 {
			a := g.Attack(k)
			o := netfuzz.Drive(context.Background(), ln.Addr().String(), a, limits)
			if err := netfuzz.Check(a, o, limits); err != nil {
				t.Errorf("%v: %v (outcome %+v)", k, err, o)
			}
			if k == netfuzz.Slowloris && o.Took < headerTimeout {
				t.Errorf("slowloris ended after %v, before the header timeout", o.Took)
			}
		}
	}
	// A server that never answers fails the check.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	short := limits
	short.Margin = 100 * time.Millisecond
	a := g.Attack(netfuzz.HalfOpen)
	if err := netfuzz.Check(a, netfuzz.Drive(context.Background(), silent.Addr().String(), a, short), short); err == nil || !strings.Contains(err.Error(), "not closed") {
		t.Fatalf("a server that keeps a half-open connection passed: %v", err)
	}
}
