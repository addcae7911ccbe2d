package occupancy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/heraldhq/herald/internal/defaults"
)

// Defaults for zero ResponderConfig fields.
const (
	// DefaultWorkers is how many requests a Responder handles at once.
	DefaultWorkers = 2
	// DefaultQueueLen bounds the requests waiting for a worker; beyond it
	// requests are dropped and their askers time out.
	DefaultQueueLen = 256
	// DefaultMaxChunkBytes bounds one reply message (NATS refuses
	// messages over the server's max_payload, 1 MiB by default).
	DefaultMaxChunkBytes = 256 << 10
)

// flushTimeout bounds the wait for the server to confirm the
// subscriptions.
const flushTimeout = 5 * time.Second

// ResponderConfig configures a Responder. NC, GatewayID and Source are
// required.
type ResponderConfig struct {
	// NC is the gateway's NATS connection; subscriptions live on it.
	NC *nats.Conn
	// GatewayID is the id this gateway has in the registry.
	GatewayID string
	Source    Source
	Workers   int
	QueueLen  int
	// MaxChunkBytes bounds one reply message; it is also capped at half
	// the connection's max payload.
	MaxChunkBytes int
	// Logger defaults to discarding.
	Logger *slog.Logger
}

// Responder answers queries and commands for one gateway. Requests are
// handed from the NATS callback to a few workers through a bounded queue,
// so that a large answer never holds up the connection's other
// subscriptions.
type Responder struct {
	cfg  ResponderConfig
	log  *slog.Logger
	work chan *nats.Msg
	// ready is closed once the subscriptions reached the server.
	ready chan struct{}
}

// NewResponder returns a Responder; Run serves.
func NewResponder(cfg ResponderConfig) (*Responder, error) {
	if cfg.NC == nil || cfg.GatewayID == "" || cfg.Source == nil {
		return nil, errors.New("occupancy: NC, GatewayID and Source are required")
	}
	cfg.Workers = defaults.Positive(cfg.Workers, DefaultWorkers)
	cfg.QueueLen = defaults.Positive(cfg.QueueLen, DefaultQueueLen)
	cfg.MaxChunkBytes = defaults.Positive(cfg.MaxChunkBytes, DefaultMaxChunkBytes)
	if half := int(cfg.NC.MaxPayload() / 2); half > 0 {
		cfg.MaxChunkBytes = min(cfg.MaxChunkBytes, half)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Responder{
		cfg: cfg, log: log.With(slog.String("gateway_id", cfg.GatewayID)),
		work: make(chan *nats.Msg, cfg.QueueLen), ready: make(chan struct{}),
	}, nil
}

// Ready is closed once the Responder's subscriptions reached the server:
// from then on, every query is answered.
func (r *Responder) Ready() <-chan struct{} { return r.ready }

// Run subscribes and answers until ctx is done, then unsubscribes and
// waits for the workers. It returns an error only when it cannot
// subscribe.
func (r *Responder) Run(ctx context.Context) error {
	enqueue := func(m *nats.Msg) {
		select {
		case r.work <- m:
		default:
			r.log.Warn("occupancy request dropped: the responder is behind", "subject", m.Subject)
		}
	}
	var subs []*nats.Subscription
	defer func() {
		for _, s := range subs {
			_ = s.Unsubscribe()
		}
	}()
	for _, subject := range []string{QuerySubject, TerminateSubject} {
		s, err := r.cfg.NC.Subscribe(subject, enqueue)
		if err != nil {
			return fmt.Errorf("occupancy: subscribe %s: %w", subject, err)
		}
		subs = append(subs, s)
	}
	fctx, cancel := context.WithTimeout(ctx, flushTimeout)
	err := r.cfg.NC.FlushWithContext(fctx)
	cancel()
	if err != nil {
		// The subscriptions are sent again when the connection is back.
		r.log.Warn("occupancy subscriptions not confirmed", "err", err)
	} else {
		close(r.ready)
	}
	var wg sync.WaitGroup
	for range r.cfg.Workers {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case m := <-r.work:
					r.handle(m)
				}
			}
		})
	}
	<-ctx.Done()
	wg.Wait()
	return nil
}

// handle answers one request.
func (r *Responder) handle(m *nats.Msg) {
	switch m.Subject {
	case QuerySubject:
		var q Query
		if err := json.Unmarshal(m.Data, &q); err != nil || q.Validate() != nil {
			r.log.Warn("malformed occupancy query")
			return
		}
		if m.Reply == "" {
			return
		}
		parts := split(r.cfg.Source.Channels(q), r.cfg.MaxChunkBytes)
		for i, part := range parts {
			r.respond(m.Reply, &reply{GatewayID: r.cfg.GatewayID, Part: i, Final: i == len(parts)-1, Channels: part})
		}
	case TerminateSubject:
		var t Terminate
		if err := json.Unmarshal(m.Data, &t); err != nil || t.Validate() != nil {
			r.log.Warn("malformed terminate command")
			return
		}
		closed := r.cfg.Source.TerminateUser(t.AppID, t.UserID)
		if m.Reply != "" {
			r.respond(m.Reply, &reply{GatewayID: r.cfg.GatewayID, Final: true, Closed: closed})
		}
	}
}

func (r *Responder) respond(subject string, rep *reply) {
	b, err := json.Marshal(rep)
	if err == nil {
		err = r.cfg.NC.Publish(subject, b)
	}
	if err != nil {
		r.log.Warn("occupancy reply failed", "err", err)
	}
}

// Sizes for splitting replies. Estimates are upper bounds: JSON escaping
// turns a byte into at most six ("\u00XX").
const (
	maxEscape    = 6
	entryFraming = 64 // {"name":"","subs":N,"users":[]}, and a comma
	idFraming    = 3  // the quotes and the comma around one user id
)

// split cuts an answer into parts of about limit bytes at most, splitting
// a channel with many users over several entries: its subscriptions stay
// on the first, and the client unions the users of all of them. There is
// always at least one part, so that an empty answer is still an answer.
func split(chans []ChannelCount, limit int) [][]ChannelCount {
	var parts [][]ChannelCount
	var cur []ChannelCount
	size := 0
	add := func(cc ChannelCount, n int) {
		if len(cur) > 0 && size+n > limit {
			parts = append(parts, cur)
			cur, size = nil, 0
		}
		cur = append(cur, cc)
		size += n
	}
	for _, cc := range chans {
		base := entryFraming + maxEscape*len(cc.Name)
		piece := ChannelCount{Name: cc.Name, Subscriptions: cc.Subscriptions}
		n := base
		for _, id := range cc.UserIDs {
			idn := idFraming + maxEscape*len(id)
			if len(piece.UserIDs) > 0 && n+idn > limit {
				add(piece, n)
				piece, n = ChannelCount{Name: cc.Name}, base
			}
			piece.UserIDs = append(piece.UserIDs, id)
			n += idn
		}
		add(piece, n)
	}
	return append(parts, cur)
}
