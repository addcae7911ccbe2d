package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/heraldhq/herald/gateway/ws"
	"github.com/heraldhq/herald/internal/netfuzz"
	"github.com/heraldhq/herald/internal/platform"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

// Hostile input at the socket (issue 22): the network-level and
// protocol-level fuzzers of internal/netfuzz against a `herald dev`
// process, with good clients beside them.
const (
	// envNetFuzzDuration runs TestNetFuzz's attack for that long (`make
	// fuzz-net`), and holds the good clients' p99 under attack to
	// netFuzzP99Ratio times the quiet figure.
	envNetFuzzDuration = "HERALD_NETFUZZ_DURATION"
	// envNetFuzzSeed replays a run: the seed is logged at the start.
	envNetFuzzSeed = "HERALD_NETFUZZ_SEED"
	// netFuzzShort is the attack's length in `make test`: the slow
	// attacks (slowloris, half-open) all start at once and last the
	// server's header timeout. netFuzzQuiet is the quiet measurement
	// before it.
	netFuzzShort = platform.DefaultReadHeaderTimeout
	netFuzzQuiet = 2 * time.Second
	// netFuzzAttackers is how many connections attack at once; each
	// starts with a kind of its own, so every kind runs at least twice.
	netFuzzAttackers = 16
	// netFuzzGood is how many good clients measure pusher:ping round
	// trips, one every netFuzzPingEvery.
	netFuzzGood      = 4
	netFuzzPingEvery = 10 * time.Millisecond
	// The process's limits: a short frame read timeout and linger, and a
	// message cap the frame oracle uses.
	netFuzzFrameTimeout = time.Second
	netFuzzLinger       = 100 * time.Millisecond
	netFuzzMaxMessage   = 16 << 10
	netFuzzMaxHeader    = 8 << 10
	// netFuzzSlowPause spaces a slowloris client's bytes.
	netFuzzSlowPause = 250 * time.Millisecond
	// netFuzzMargin is the slack on every timeout for a loaded machine.
	netFuzzMargin = 3 * time.Second
	// netFuzzRSSGrowth bounds what the attack may add to the process's
	// resident memory over its figure after the quiet phase: the
	// attackers hold at most netFuzzAttackers connections, each at most
	// its message cap, so the bound is the Go runtime's slack.
	netFuzzRSSGrowth = 64 << 20
	// netFuzzP99Ratio bounds the good clients' p99 round trip under
	// attack against the quiet one, in the long run only.
	netFuzzP99Ratio = 2
)

// crashOutput matches what the Go runtime writes when a process crashes.
var crashOutput = regexp.MustCompile(`(?m)^(panic: |fatal error: |goroutine \d+ \[)`)

func TestNetFuzz(t *testing.T) {
	// Parallel: it runs processes of its own and spends most of its time
	// waiting on them (timeouts, restarts), so it overlaps with the other
	// long e2e tests.
	t.Parallel()
	attackFor, quietFor, long := netFuzzShort, netFuzzQuiet, false
	if v := os.Getenv(envNetFuzzDuration); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("%s: %v", envNetFuzzDuration, err)
		}
		attackFor, quietFor, long = d, max(d/5, 30*time.Second), true
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv(envNetFuzzSeed); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("%s: %v", envNetFuzzSeed, err)
		}
		seed = s
	}
	t.Logf("seed %d (%s=%d replays it)", seed, envNetFuzzSeed, seed)

	bin := testenv.BuildHerald(t)
	p := testenv.StartProc(t, "netfuzz", bin, "dev", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0",
		"--database-url", testinfra.Postgres(t), "--frame-read-timeout", netFuzzFrameTimeout.String(),
		"--close-linger", netFuzzLinger.String(), "--max-client-message-bytes", strconv.Itoa(netFuzzMaxMessage),
		"--max-header-bytes", strconv.Itoa(netFuzzMaxHeader))
	addr := strings.TrimPrefix(p.URL(), "http://")
	// The listening line may come before the app caches have loaded.
	testinfra.WaitUntilWithin(t, "the dev app to take connections", testenv.PusherTimeout, func() bool {
		c, err := testenv.DialPusher(t, p.URL(), key, "", nil)
		if err == nil {
			_ = c.WS().Close()
		}
		return err == nil
	})
	limits := netfuzz.Limits{HeaderTimeout: platform.DefaultReadHeaderTimeout, FrameTimeout: netFuzzFrameTimeout,
		Linger: netFuzzLinger, Margin: netFuzzMargin}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	good := startGoodClients(t, ctx, p.URL())
	mem := sampleRSS(ctx, p.PID())
	time.Sleep(quietFor)
	quiet := good.cut()
	rssQuiet := mem.peak.Swap(0)

	// The attack: each attacker starts with a kind of its own, so that
	// every kind runs even in the short run, then goes random; once the
	// end is nearer than the header timeout, it sends only attacks that
	// are answered at once, so the run ends on time.
	var (
		mu       sync.Mutex
		failures []string
		counts   = map[string]int{}
		slowest  = map[string]time.Duration{}
		attacks  atomic.Int64
	)
	deadline := time.Now().Add(attackFor)
	quickFrom := deadline.Add(-limits.HeaderTimeout - limits.Margin)
	var wg sync.WaitGroup
	for i := range netFuzzAttackers {
		wg.Go(func() {
			gen := netfuzz.New(netfuzz.Config{Seed: seed + uint64(i), AppID: appID, Key: key,
				MaxMessage: netFuzzMaxMessage, MaxHeaderBytes: netFuzzMaxHeader,
				SlowPause: netFuzzSlowPause, SlowFor: limits.HeaderTimeout + limits.Margin})
			for n := 0; time.Now().Before(deadline); n++ {
				var a netfuzz.Attack
				switch {
				case n == 0:
					a = gen.Attack(netfuzz.Kinds[i%len(netfuzz.Kinds)])
				case time.Now().After(quickFrom):
					a = gen.NextQuick()
				default:
					a = gen.Next()
				}
				o := netfuzz.Drive(ctx, addr, a, limits)
				err := netfuzz.Check(a, o, limits)
				attacks.Add(1)
				mu.Lock()
				counts[a.Kind.String()]++
				slowest[a.Kind.String()] = max(slowest[a.Kind.String()], o.Took)
				if err != nil && len(failures) < 20 {
					failures = append(failures, fmt.Sprintf("seed %d attack %d (%s at %s, want %+v): %v; outcome %+v",
						seed+uint64(i), n, a.Kind, a.Target, a.Want, err, o))
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	attacked := good.cut()
	rssAttack := mem.peak.Load()

	// The good clients still get what is published to them.
	cancel()
	good.pinging.Wait()
	testenv.Trigger(t, p.URL(), appID, key, secret, "after", "the attack", "netfuzz-good")
	goodErrs := good.wait()

	t.Logf("%d attacks in %v: %v; slowest answer or end: %v", attacks.Load(), attackFor, counts, slowest)
	qp50, qp99 := percentiles(quiet)
	ap50, ap99 := percentiles(attacked)
	t.Logf("good clients' pusher:ping round trip: quiet p50 %v p99 %v (%d); under attack p50 %v p99 %v (%d); p99 ratio %.2f",
		qp50, qp99, len(quiet), ap50, ap99, len(attacked), float64(ap99)/float64(max(qp99, 1)))
	t.Logf("resident memory: %.1f MB quiet, %.1f MB peak under attack (bound +%.0f MB)", mb(rssQuiet), mb(rssAttack), mb(netFuzzRSSGrowth))

	for _, f := range failures {
		t.Error(f)
	}
	for _, err := range goodErrs {
		t.Errorf("good client: %v", err)
	}
	if err := syscall.Kill(p.PID(), 0); err != nil {
		t.Fatalf("the process is gone: %v\n%s", err, p.Stderr())
	}
	if code := getStatus(t, p.URL()+"/healthz"); code != http.StatusOK {
		t.Errorf("healthz = %d after the attack", code)
	}
	if m := crashOutput.FindString(p.Stderr()); m != "" {
		t.Errorf("the process's stderr has %q", m)
	}
	if rssAttack > rssQuiet+netFuzzRSSGrowth {
		t.Errorf("resident memory peaked at %.1f MB, over %.1f MB quiet + %.0f MB", mb(rssAttack), mb(rssQuiet), mb(netFuzzRSSGrowth))
	}
	if long && ap99 > netFuzzP99Ratio*qp99 {
		t.Errorf("p99 under attack %v is over %d× the quiet p99 %v", ap99, netFuzzP99Ratio, qp99)
	}
}

// goodClients are pusher clients that measure pusher:ping round trips
// until their context ends, then wait for one published event.
type goodClients struct {
	mu      sync.Mutex
	samples []time.Duration
	errs    chan error
	wg      sync.WaitGroup
	// pinging is done once every client stopped pinging and waits for
	// the event.
	pinging sync.WaitGroup
}

func startGoodClients(t *testing.T, ctx context.Context, baseURL string) *goodClients {
	t.Helper()
	g := &goodClients{errs: make(chan error, netFuzzGood)}
	for range netFuzzGood {
		c := testenv.MustDialPusher(t, baseURL, key)
		c.Subscribe("netfuzz-good", key, "", "")
		g.pinging.Add(1)
		g.wg.Go(func() {
			if err := g.run(ctx, c); err != nil {
				g.errs <- err
			}
		})
	}
	return g
}

// run pings until ctx ends, then expects the event "after".
func (g *goodClients) run(ctx context.Context, c *testenv.PusherClient) error {
	stopped := sync.OnceFunc(g.pinging.Done)
	defer stopped()
	cl := c.WS()
	ping := `{"event":"pusher:ping","data":{}}`
	for ctx.Err() == nil {
		start := time.Now()
		_ = cl.SetDeadline(start.Add(testenv.PusherTimeout))
		if err := cl.WriteText(ping); err != nil {
			return fmt.Errorf("write ping: %w", err)
		}
		if err := readEvent(cl.ReadMessage, "pusher:pong"); err != nil {
			return err
		}
		g.mu.Lock()
		g.samples = append(g.samples, time.Since(start))
		g.mu.Unlock()
		time.Sleep(netFuzzPingEvery)
	}
	stopped()
	_ = cl.SetDeadline(time.Now().Add(testenv.PusherTimeout))
	return readEvent(cl.ReadMessage, "after")
}

// readEvent reads messages until the named event.
func readEvent(read func() (ws.Opcode, []byte, error), name string) error {
	for {
		op, b, err := read()
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", name, err)
		}
		if op == ws.OpClose {
			code, _ := ws.Message{Op: op, Payload: b}.CloseStatus()
			return fmt.Errorf("waiting for %s: closed with %d", name, code)
		}
		var e struct{ Event string }
		if op == ws.OpText && json.Unmarshal(b, &e) == nil && e.Event == name {
			return nil
		}
	}
}

// cut returns the samples so far and starts anew.
func (g *goodClients) cut() []time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.samples
	g.samples = nil
	return s
}

// wait waits for the clients and returns their errors.
func (g *goodClients) wait() []error {
	g.wg.Wait()
	close(g.errs)
	var errs []error
	for err := range g.errs {
		errs = append(errs, err)
	}
	return errs
}

// percentiles returns the median and the 99th percentile.
func percentiles(d []time.Duration) (p50, p99 time.Duration) {
	if len(d) == 0 {
		return 0, 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2], s[(len(s)-1)*99/100]
}

// rssSampler keeps the peak resident memory of a process.
type rssSampler struct{ peak atomic.Int64 }

// sampleRSS samples pid's resident memory every 50 ms until ctx ends.
func sampleRSS(ctx context.Context, pid int) *rssSampler {
	s := &rssSampler{}
	go func() {
		for ctx.Err() == nil {
			if r := procRSS(pid); r > s.peak.Load() {
				s.peak.Store(r)
			}
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	return s
}

// procRSS reads a process's VmRSS (0 if it cannot).
func procRSS(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
