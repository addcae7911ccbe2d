package occupancy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
)

// DefaultTimeout is how long a Client waits for the gateways' answers.
// Gateways answer in about a millisecond; the wait only runs out when a
// registered gateway is dead or stuck.
const DefaultTimeout = 500 * time.Millisecond

// Registry lists the gateways that must answer a query
// (gateways.Reader).
type Registry interface {
	GatewayIDs(ctx context.Context) ([]string, error)
}

// ClientConfig configures a Client. NC and Registry are required.
type ClientConfig struct {
	// NC carries the requests and replies.
	NC *nats.Conn
	// Registry lists the gateways that must answer.
	Registry Registry
	// Timeout bounds the wait for every gateway's answer; zero means
	// DefaultTimeout.
	Timeout time.Duration
	// Logger receives a warning when a gateway does not answer; nil
	// discards.
	Logger *slog.Logger
}

// Client asks every gateway and merges the answers. It is safe for
// concurrent use and holds no goroutine.
type Client struct {
	cfg ClientConfig
	log *slog.Logger
}

// NewClient returns a Client.
func NewClient(cfg ClientConfig) (*Client, error) {
	if cfg.NC == nil || cfg.Registry == nil {
		return nil, errors.New("occupancy: NC and Registry are required")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Client{cfg: cfg, log: log}, nil
}

// Query asks every gateway about q's channels and merges the answers.
// Gateways that did not answer in time are listed in Result.Missing; the
// error is for a query that could not be asked at all.
func (c *Client) Query(ctx context.Context, q Query) (*Result, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	body, err := json.Marshal(q)
	if err != nil {
		return nil, fmt.Errorf("occupancy query: %w", err)
	}
	res := &Result{Channels: map[string]*Channel{}}
	missing, err := c.gather(ctx, QuerySubject, body, func(r *reply) {
		for _, cc := range r.Channels {
			res.add(cc)
		}
	})
	if err != nil {
		return nil, err
	}
	for name, ch := range res.Channels {
		if ch.Subscriptions <= 0 {
			delete(res.Channels, name)
		}
	}
	res.Missing = missing
	return res, nil
}

// Terminate asks every gateway to close the user's connections of the app
// (see Terminate) with 4009, and returns how many they closed and the gateways
// that did not confirm in time.
func (c *Client) Terminate(ctx context.Context, appID, userID string) (closed int, missing []string, err error) {
	t := Terminate{AppID: appID, UserID: userID}
	if err := t.Validate(); err != nil {
		return 0, nil, err
	}
	body, err := json.Marshal(t)
	if err != nil {
		return 0, nil, fmt.Errorf("occupancy terminate: %w", err)
	}
	missing, err = c.gather(ctx, TerminateSubject, body, func(r *reply) { closed += r.Closed })
	return closed, missing, err
}

// progress tracks one gateway's answer.
type progress struct {
	expected bool // listed by the registry
	parts    int  // parts received
	last     int  // number of the final part, -1 until it came
}

func (p *progress) complete() bool { return p.last >= 0 && p.parts == p.last+1 }

// gather publishes one request and hands every reply part to onReply
// until each registered gateway's answer is complete or the timeout
// passes. Answers from gateways the registry did not list yet (one that
// just started) are taken too. It returns the registered gateways whose
// answer is incomplete.
func (c *Client) gather(ctx context.Context, subject string, body []byte, onReply func(*reply)) ([]string, error) {
	ids, err := c.cfg.Registry.GatewayIDs(ctx)
	if err != nil {
		return nil, fmt.Errorf("occupancy: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	gws := make(map[string]*progress, len(ids))
	for _, id := range ids {
		gws[id] = &progress{expected: true, last: -1}
	}
	ib, err := newInbox(c.cfg.NC)
	if err != nil {
		return nil, fmt.Errorf("occupancy: %w", err)
	}
	defer ib.close()
	if err := c.cfg.NC.PublishRequest(subject, ib.subject, body); err != nil {
		return nil, fmt.Errorf("occupancy: publish %s: %w", subject, err)
	}
	wctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	for waiting := len(ids); waiting > 0; {
		m, err := ib.next(wctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			// The timeout passed, or nobody subscribes: what came is
			// the answer.
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, nats.ErrNoResponders) {
				return nil, fmt.Errorf("occupancy: read replies: %w", err)
			}
			break
		}
		var r reply
		if err := json.Unmarshal(m.Data, &r); err != nil || r.GatewayID == "" || r.Part < 0 {
			c.log.Warn("malformed occupancy reply", "subject", subject)
			continue
		}
		p := gws[r.GatewayID]
		if p == nil {
			p = &progress{last: -1}
			gws[r.GatewayID] = p
		}
		if p.complete() {
			continue
		}
		p.parts++
		if r.Final {
			p.last = r.Part
		}
		onReply(&r)
		if p.complete() && p.expected {
			waiting--
		}
	}
	var missing []string
	for id, p := range gws {
		if p.expected && !p.complete() {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		c.log.Warn("gateways did not answer in time; counts may be low",
			"subject", subject, "missing", missing, "timeout", c.cfg.Timeout)
	}
	return missing, nil
}
