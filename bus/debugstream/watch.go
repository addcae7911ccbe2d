package debugstream

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/kvttl"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/defaults"
	"github.com/heraldhq/herald/internal/tick"
)

// Bounds of Watch.
const (
	// interestWriteTimeout bounds one interest put or purge.
	interestWriteTimeout = 5 * time.Second
	// setupTimeout bounds Watch's writes and subscription.
	setupTimeout = 5 * time.Second
	// localSettle bounds how long Watch waits for this process's own
	// Interest to see the new key: the same KV watch every process runs,
	// so once it has, the app's gateways have too, give or take their
	// network distance.
	localSettle = 2 * time.Second
	// holderBytes is the entropy of a process's interest key suffix.
	holderBytes = 6
)

// droppedPrefix starts the JSON of a dropped event (Type is the first
// field of channels.DebugEvent).
var droppedPrefix = []byte(`{"type":"` + string(channels.DebugDropped) + `"`)

// WatchersConfig configures Watchers. JS and NC are required.
type WatchersConfig struct {
	// JS writes the interest keys.
	JS jetstream.JetStream
	// NC subscribes to the debug subjects.
	NC *nats.Conn
	// Interest, when set, is this process's Interest: Watch returns once
	// it sees the app watched.
	Interest *Interest
	// InterestTTL is the life of an interest key; zero means
	// DefaultInterestTTL. Keys are renewed every third of it.
	InterestTTL time.Duration
	// EventsPerSecond caps the events one stream hands out, whatever
	// number of processes publish them; zero means
	// DefaultEventsPerSecond.
	EventsPerSecond int
	// Buffer is how many events wait for a slow reader; zero means
	// DefaultBuffer.
	Buffer int
	Now    func() time.Time
	Logger *slog.Logger
}

// Watchers marks apps as watched for as long as at least one stream of
// this process reads them, and reads their events.
type Watchers struct {
	cfg WatchersConfig
	// holder makes this process's keys its own: two control planes
	// watching one app each keep their own key alive.
	holder string
	mu     sync.Mutex
	apps   map[string]*held
}

// held is the interest this process holds in one app.
type held struct {
	streams int
	stop    context.CancelFunc
	done    chan struct{}
}

// NewWatchers validates cfg and returns Watchers.
func NewWatchers(cfg WatchersConfig) (*Watchers, error) {
	if cfg.JS == nil || cfg.NC == nil {
		return nil, errors.New("debugstream: JS and NC are required")
	}
	cfg.InterestTTL = kvttl.Round(max(defaults.Positive(cfg.InterestTTL, DefaultInterestTTL), kvttl.MinTTL))
	cfg.EventsPerSecond = defaults.Positive(cfg.EventsPerSecond, DefaultEventsPerSecond)
	cfg.Buffer = defaults.Positive(cfg.Buffer, DefaultBuffer)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	b := make([]byte, holderBytes)
	_, _ = rand.Read(b)
	return &Watchers{cfg: cfg, holder: hex.EncodeToString(b), apps: map[string]*held{}}, nil
}

// Stream is one reader of an app's debug events.
type Stream struct {
	appID   string
	now     func() time.Time
	events  chan []byte
	sub     *nats.Subscription
	limiter *limiter
	cancel  context.CancelFunc
	done    chan struct{}
	once    sync.Once
	release func()
}

// Events delivers the app's events as JSON objects, each a
// channels.DebugEvent; dropped events sum up what was not delivered.
func (s *Stream) Events() <-chan []byte { return s.events }

// Close stops the stream and gives up its interest.
func (s *Stream) Close() {
	s.once.Do(func() {
		_ = s.sub.Unsubscribe()
		s.cancel()
		<-s.done
		s.release()
	})
}

// Watch marks the app as watched, subscribes to its events and returns
// once this process's Interest (if any) sees it, so that what happens
// from then on is in the stream. The stream ends with Close; ctx bounds
// only the set-up.
func (w *Watchers) Watch(ctx context.Context, appID string) (*Stream, error) {
	if err := channels.ValidateAppID(appID); err != nil {
		return nil, fmt.Errorf("watch debug events: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, setupTimeout)
	defer cancel()
	if err := w.acquire(ctx, appID); err != nil {
		return nil, err
	}
	s := &Stream{
		appID: appID, now: w.cfg.Now, events: make(chan []byte, w.cfg.Buffer),
		limiter: newLimiter(w.cfg.EventsPerSecond, w.cfg.Now), done: make(chan struct{}),
		release: func() { w.release(appID) },
	}
	sub, err := w.cfg.NC.Subscribe(channels.DebugSubject(appID), s.handle)
	if err == nil {
		// The server has the subscription once the flush returns.
		err = w.cfg.NC.FlushWithContext(ctx)
	}
	if err != nil {
		if sub != nil {
			_ = sub.Unsubscribe()
		}
		w.release(appID)
		return nil, fmt.Errorf("subscribe to debug events: %w", err)
	}
	s.sub = sub
	if w.cfg.Interest != nil {
		sctx, cancel := context.WithTimeout(ctx, localSettle)
		if !w.cfg.Interest.waitWatched(sctx, appID) {
			w.cfg.Logger.Warn("debug interest not seen locally in time", "app", appID)
		}
		cancel()
	}
	rctx, stop := context.WithCancel(context.Background())
	s.cancel = stop
	go func() {
		defer close(s.done)
		tick.Every(rctx, dropReportInterval, nil, s.reportDropped(w.cfg.Now))
	}()
	return s, nil
}

// handle takes one event off the subscription. It never blocks: an event
// over the cap or that finds the buffer full is counted as dropped, and
// the dropped events of publishers are added to the count.
func (s *Stream) handle(m *nats.Msg) {
	if bytes.HasPrefix(m.Data, droppedPrefix) {
		var ev channels.DebugEvent
		if json.Unmarshal(m.Data, &ev) == nil && ev.Count > 0 {
			s.limiter.drop(s.appID, ev.Count)
		}
		return
	}
	if !s.limiter.allow(s.appID, s.now()) {
		return
	}
	select {
	case s.events <- m.Data:
	default:
		s.limiter.drop(s.appID, 1)
	}
}

// reportDropped hands the count of dropped events to the reader as one
// event; a count that finds the buffer full waits for the next report.
func (s *Stream) reportDropped(now func() time.Time) func() {
	return func() {
		s.limiter.takeDropped(func(appID string, n int64) {
			b, _ := json.Marshal(channels.DebugEvent{Type: channels.DebugDropped, Time: now().UnixMilli(), Count: n})
			select {
			case s.events <- b:
			default:
				s.limiter.drop(appID, n)
			}
		})
	}
}

// acquire holds the app's interest: the first stream of the process
// writes the key and starts renewing it.
func (w *Watchers) acquire(ctx context.Context, appID string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if h := w.apps[appID]; h != nil {
		h.streams++
		return nil
	}
	if err := w.put(ctx, appID); err != nil {
		return err
	}
	rctx, cancel := context.WithCancel(context.Background())
	h := &held{streams: 1, stop: cancel, done: make(chan struct{})}
	w.apps[appID] = h
	go func() {
		defer close(h.done)
		tick.Every(rctx, w.cfg.InterestTTL/3, nil, func() {
			pctx, cancel := context.WithTimeout(rctx, interestWriteTimeout)
			defer cancel()
			if err := w.put(pctx, appID); err != nil && rctx.Err() == nil {
				w.cfg.Logger.Warn("debug interest not renewed", "app", appID, "err", err)
			}
		})
	}()
	return nil
}

// release gives up one stream's hold; the last one stops the renewal and
// purges the key, so that the app's gateways stop at once rather than
// after the TTL.
func (w *Watchers) release(appID string) {
	w.mu.Lock()
	h := w.apps[appID]
	if h == nil {
		w.mu.Unlock()
		return
	}
	h.streams--
	if h.streams > 0 {
		w.mu.Unlock()
		return
	}
	delete(w.apps, appID)
	h.stop()
	<-h.done
	// Purged under the lock: a Watch of the app that comes now must
	// write its key after this purge, not before.
	defer w.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), interestWriteTimeout)
	defer cancel()
	if _, err := w.cfg.JS.PublishMsg(ctx, kvttl.Purge(subject(key(appID, w.holder)), w.cfg.InterestTTL)); err != nil {
		w.cfg.Logger.Warn("debug interest not purged; it expires", "app", appID, "err", err)
	}
}

// put writes (or renews) the app's key with the TTL.
func (w *Watchers) put(ctx context.Context, appID string) error {
	ctx, cancel := context.WithTimeout(ctx, interestWriteTimeout)
	defer cancel()
	if _, err := w.cfg.JS.PublishMsg(ctx, kvttl.Put(subject(key(appID, w.holder)), nil, w.cfg.InterestTTL)); err != nil {
		return fmt.Errorf("put debug interest of %s: %w", appID, err)
	}
	return nil
}
