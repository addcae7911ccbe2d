package netfuzz

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/heraldhq/herald/gateway/ws"
)

// Kind is a family of attacks.
type Kind int

// The kinds of attack, each on a connection of its own.
const (
	// RandomBytes sends garbage instead of a request.
	RandomBytes Kind = iota
	// MutatedRequest sends a request to one of the endpoints with bytes
	// flipped, inserted, removed or headers duplicated.
	MutatedRequest
	// HugeHeaders sends a request whose headers pass the server's cap.
	HugeHeaders
	// Slowloris sends a request's headers a byte per pause and never
	// finishes them.
	Slowloris
	// HalfOpen connects and sends nothing.
	HalfOpen
	// BadFrames sends generated frames after a valid WebSocket handshake.
	BadFrames
	// PusherJSON sends mutated Pusher messages after a valid handshake.
	PusherJSON

	numKinds
)

// Kinds lists every kind, for reports.
var Kinds = []Kind{RandomBytes, MutatedRequest, HugeHeaders, Slowloris, HalfOpen, BadFrames, PusherJSON}

// String names the kind in reports.
func (k Kind) String() string {
	switch k {
	case RandomBytes:
		return "random-bytes"
	case MutatedRequest:
		return "mutated-request"
	case HugeHeaders:
		return "huge-headers"
	case Slowloris:
		return "slowloris"
	case HalfOpen:
		return "half-open"
	case BadFrames:
		return "bad-frames"
	case PusherJSON:
		return "pusher-json"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Config describes the server under attack.
type Config struct {
	// Seed makes the generation reproducible.
	Seed uint64
	// AppID and Key name an app the server has; requests use them so
	// that mutations start from something the server accepts.
	AppID, Key string
	// MaxMessage is the gateway's cap on a client message (the oracle
	// parses frames with it); zero means ws.DefaultMaxMessageSize.
	MaxMessage int
	// MaxHeaderBytes is the server's cap on request headers, which
	// HugeHeaders goes past; zero means http.DefaultMaxHeaderBytes.
	MaxHeaderBytes int
	// SlowPause spaces the bytes of a slowloris request; zero means
	// DefaultSlowPause.
	SlowPause time.Duration
	// SlowFor is how long a slowloris client keeps sending: longer than
	// the server's header timeout. Zero means DefaultSlowFor.
	SlowFor time.Duration
}

// Defaults of the slowloris attack: a byte every quarter second for
// longer than net/http servers commonly wait for headers.
const (
	DefaultSlowPause = 250 * time.Millisecond
	DefaultSlowFor   = 15 * time.Second
)

// Attack is one generated attack: what to send on a new connection and
// what a conforming server answers.
type Attack struct {
	Kind Kind
	// Target names the endpoint, for reports.
	Target string
	// Handshake is the valid WebSocket handshake request sent first, if
	// any; Chunks follow once the server answered 101.
	Handshake []byte
	// Chunks are written in order, Pause apart.
	Chunks [][]byte
	Pause  time.Duration
	// Want is the expected answer of a WebSocket attack.
	Want Want
}

// Gen generates attacks. It is not safe for concurrent use: give each
// goroutine its own, with its own seed.
type Gen struct {
	cfg Config
	r   *rand.Rand
}

// New returns a Gen for cfg.
func New(cfg Config) *Gen {
	if cfg.MaxMessage <= 0 {
		cfg.MaxMessage = ws.DefaultMaxMessageSize
	}
	if cfg.MaxHeaderBytes <= 0 {
		cfg.MaxHeaderBytes = http.DefaultMaxHeaderBytes
	}
	if cfg.SlowPause <= 0 {
		cfg.SlowPause = DefaultSlowPause
	}
	if cfg.SlowFor <= 0 {
		cfg.SlowFor = DefaultSlowFor
	}
	return &Gen{cfg: cfg, r: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))}
}

// Next returns the next attack, of a random kind. Slow kinds (slowloris,
// half-open) come rarely: each holds a connection for the server's header
// timeout.
func (g *Gen) Next() Attack {
	k := Kind(g.r.IntN(int(numKinds)))
	if (k == Slowloris || k == HalfOpen) && g.r.IntN(8) != 0 {
		k = BadFrames
	}
	return g.Attack(k)
}

// NextQuick returns the next attack of a kind the server answers within
// the frame read timeout, never waiting for the header timeout: for the
// end of a run that must not overrun.
func (g *Gen) NextQuick() Attack {
	k := pick(g, []Kind{BadFrames, PusherJSON, HugeHeaders, RandomBytes})
	if k == RandomBytes {
		return g.randomBytes(true)
	}
	return g.Attack(k)
}

// Attack returns an attack of kind k.
func (g *Gen) Attack(k Kind) Attack {
	switch k {
	case RandomBytes:
		// Most end like a request's headers, so the server parses them at
		// once; the rest wait for the header timeout.
		return g.randomBytes(g.r.IntN(4) != 0)
	case MutatedRequest:
		target, req := g.request()
		return Attack{Kind: k, Target: target, Chunks: [][]byte{g.mutate(req)}}
	case HugeHeaders:
		target, req := g.request()
		return Attack{Kind: k, Target: target, Chunks: [][]byte{g.hugeHeaders(req)}}
	case Slowloris:
		target, req := g.request()
		return g.slowloris(target, req)
	case HalfOpen:
		return Attack{Kind: k, Target: "any"}
	case BadFrames:
		return g.frameAttack()
	case PusherJSON:
		return g.pusherAttack()
	}
	panic("netfuzz: unknown kind " + k.String())
}

// randomBytes is garbage sent in place of a request; terminated, it ends
// like a request's headers.
func (g *Gen) randomBytes(terminated bool) Attack {
	b := g.bytes(1 + g.r.IntN(4096))
	if terminated {
		b = append(b, "\r\n\r\n"...)
	}
	return Attack{Kind: RandomBytes, Target: "any", Chunks: [][]byte{b}}
}

// bytes returns n random bytes.
func (g *Gen) bytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.r.Uint32())
	}
	return b
}

// pick returns one of xs.
func pick[T any](g *Gen, xs []T) T { return xs[g.r.IntN(len(xs))] }
