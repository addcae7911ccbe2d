package e2e_test

import (
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/gateway"
	"github.com/heraldhq/herald/gateway/ws"
	"github.com/heraldhq/herald/internal/platform"
	"github.com/heraldhq/herald/internal/testenv"
)

// Unfinished-frame attack (issue 10): clients that announce a big frame
// and send part of it, or trickle a frame within the cap, must neither
// make the gateway hold memory in proportion nor keep their connections.
const (
	// envAttackFull runs TestUnfinishedFrameAttack at full size: 300
	// clients with a 1 MB frame and 200 trickling ones, against the
	// default --frame-read-timeout and --close-linger.
	envAttackFull = "HERALD_ATTACK_FULL"
	// attackFrameTimeout is the gateway's --frame-read-timeout in the
	// small run.
	attackFrameTimeout = time.Second
	// attackCloseMargin is how late after the frame read timeout a
	// trickling client may be closed: the sweeper's granularity plus a
	// loaded machine.
	attackCloseMargin = 3 * time.Second
	// maxAttackRSSGrowth bounds what the attack may add to the process's
	// resident memory (the whole platform runs in this process).
	maxAttackRSSGrowth = 30 << 20
	// bigFrameBytes is the frame the first kind of attacker announces and
	// almost completes; trickleFrameBytes the one the second kind
	// announces, within the default app's cap, and trickleSent what it
	// sends at once before trickling a byte per trickleEvery.
	bigFrameBytes     = 1 << 20
	trickleFrameBytes = 20 << 10
	trickleSent       = 10 << 10
	trickleEvery      = 100 * time.Millisecond
	// attackPingEvery spaces the good client's pings while the attack
	// lasts.
	attackPingEvery = 100 * time.Millisecond
)

// attacker is one attacking connection's outcome.
type attacker struct {
	code     uint16        // close code read (0: none)
	err      error         // read error instead of a close frame
	closedIn time.Duration // from its first frame byte to the close
}

func TestUnfinishedFrameAttack(t *testing.T) {
	big, trickling := 50, 50
	frameTimeout, linger := attackFrameTimeout, 500*time.Millisecond
	if os.Getenv(envAttackFull) != "" {
		big, trickling = 300, 200
		frameTimeout, linger = gateway.DefaultFrameReadTimeout, gateway.DefaultCloseLinger
	}
	h := testenv.Herald(t, func(c *platform.Config) {
		c.Gateway.FrameReadTimeout = frameTimeout
		c.Gateway.CloseLinger = linger
	})
	good := testenv.MustDialPusher(t, h.URL(), key)
	good.Subscribe("ticker", key, "", "")
	before := pingLatency(t, good)
	rss0 := settledRSS(t)

	// One masked payload shared by every attacker, so that the clients
	// (in this process too) add little memory of their own.
	payload := make([]byte, bigFrameBytes)
	conns := make([]*testenv.PusherClient, big+trickling)
	for i := range conns {
		conns[i] = testenv.MustDialPusher(t, h.URL(), key)
	}
	results := make([]attacker, len(conns))
	var sent sync.WaitGroup // every attacker has sent its bulk
	sent.Add(len(conns))
	var peak atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i, p := range conns {
		size, first := bigFrameBytes, bigFrameBytes-1<<10
		if i >= big {
			size, first = trickleFrameBytes, trickleSent
		}
		wg.Go(func() {
			start := time.Now()
			wrote := make(chan struct{})
			go func() {
				defer close(wrote)
				err := p.WS().WriteRaw(maskedHeader(size))
				if err == nil {
					err = p.WS().WriteRaw(payload[:first])
				}
				sent.Done()
				for n := first; err == nil && n < size; n++ {
					select {
					case <-stop:
						return
					case <-time.After(trickleEvery):
					}
					err = p.WS().WriteRaw(payload[:1])
				}
			}()
			_ = p.WS().SetDeadline(time.Now().Add(frameTimeout + 2*attackCloseMargin))
			code, _, err := p.WS().ReadClose()
			results[i] = attacker{code: code, err: err, closedIn: time.Since(start)}
			p.WS().Close()
			<-wrote
		})
	}
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			if r := rss(t); r > peak.Load() {
				peak.Store(r)
			}
		}
	}()
	sent.Wait()
	// Pinged before the forced GC of settledRSS, which would stall the
	// whole process (the gateway runs in it) and blur the figure.
	flood := pingLatency(t, good)
	held := settledRSS(t) - rss0
	testenv.Trigger(t, h.URL(), appID, key, secret, "tick", "during the attack", "ticker")
	if e, _ := good.Expect("tick", "ticker"); e.Data != "during the attack" {
		t.Fatalf("good client got %+v", e)
	}
	attackOver := make(chan struct{})
	go func() { wg.Wait(); close(attackOver) }()
	var during []time.Duration // round trips while the trickling clients last
	for waiting := true; waiting; {
		select {
		case <-attackOver:
			waiting = false
		case <-time.After(attackPingEvery):
			during = append(during, pingOnce(t, good))
		}
	}
	close(stop)
	<-sampled

	t.Logf("%d clients with an unfinished %d-byte frame, %d trickling a %d-byte frame", big, bigFrameBytes, trickling, trickleFrameBytes)
	t.Logf("resident memory: +%.1f MB live at the height of the attack, peak +%.1f MB", mb(held), mb(peak.Load()-rss0))
	slices.Sort(during)
	t.Logf("good client's ping round trip (median): %v before, %v right after the flood; while trickled: median %v, max %v over %d pings",
		before, flood, during[len(during)/2], during[len(during)-1], len(during))
	// Live memory once every attacker has sent its bulk, and the peak
	// sampled throughout (garbage included: the server may read the bulk
	// after the clients' writes returned).
	if held > maxAttackRSSGrowth {
		t.Errorf("the attack holds %.1f MB of resident memory, want under %.1f MB", mb(held), mb(maxAttackRSSGrowth))
	}
	if grew := peak.Load() - rss0; grew > maxAttackRSSGrowth {
		t.Errorf("resident memory peaked %.1f MB above its start, want under %.1f MB", mb(grew), mb(maxAttackRSSGrowth))
	}
	var worst [2]time.Duration
	codes := map[string]int{}
	for i, r := range results {
		kind, want := 0, ws.CloseMessageTooBig
		if i >= big {
			kind, want = 1, ws.ClosePolicyViolation
		}
		codes[fmt.Sprintf("%s:%d", []string{"big", "trickling"}[kind], r.code)]++
		if r.err != nil || r.code != want {
			t.Errorf("attacker %d: close %d, %v; want %d", i, r.code, r.err, want)
			continue
		}
		worst[kind] = max(worst[kind], r.closedIn)
	}
	t.Logf("closes %v; slowest: big %v, trickling %v", codes, worst[0], worst[1])
	if m := metrics(t, h); !strings.Contains(m, fmt.Sprintf("herald_gateway_frame_read_timeouts_total %d\n", trickling)) {
		t.Errorf("metrics do not count %d frame read timeouts", trickling)
	}
	if worst[1] > frameTimeout+attackCloseMargin {
		t.Errorf("a trickling client was closed after %v, want within %v", worst[1], frameTimeout+attackCloseMargin)
	}
}

// maskedHeader is a client frame header announcing n bytes, with a zero
// masking key so that the payload can be sent as is.
func maskedHeader(n int) []byte {
	h := []byte{0x81, 0x80 | 127}
	h = binary.BigEndian.AppendUint64(h, uint64(n))
	return append(h, 0, 0, 0, 0)
}

// pingLatency returns the median round trip of pusher:ping.
func pingLatency(t *testing.T, p *testenv.PusherClient) time.Duration {
	t.Helper()
	var d []time.Duration
	for range 5 {
		d = append(d, pingOnce(t, p))
	}
	slices.Sort(d)
	return d[len(d)/2]
}

// pingOnce returns one round trip of pusher:ping.
func pingOnce(t *testing.T, p *testenv.PusherClient) time.Duration {
	t.Helper()
	start := time.Now()
	p.Send("pusher:ping", "", map[string]any{})
	p.Expect("pusher:pong", "")
	return time.Since(start)
}

// settledRSS returns the resident memory after a GC that returns freed
// memory to the OS: what is live.
func settledRSS(t *testing.T) int64 {
	t.Helper()
	runtime.GC()
	debug.FreeOSMemory()
	return rss(t)
}

// rss returns the process's resident memory.
func rss(t *testing.T) int64 {
	statm, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Fatal(err)
	}
	pages, err := strconv.ParseInt(strings.Fields(string(statm))[1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return pages * int64(os.Getpagesize())
}

func mb(n int64) float64 { return float64(n) / (1 << 20) }
