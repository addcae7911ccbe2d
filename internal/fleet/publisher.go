package fleet

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	pusher "github.com/pusher/pusher-http-go/v5"
)

// publishTimeout bounds one publish.
const publishTimeout = 10 * time.Second

// PublisherConfig describes paced publishers.
type PublisherConfig struct {
	// URL is the base URL of the REST API (the balancer).
	URL                string
	AppID, Key, Secret string
	// Channels are published to in turn; Event names the events.
	Channels []string
	Event    string
	// Rate is the messages per second of all workers together; Workers
	// publish concurrently (each paced at Rate/Workers).
	Rate    float64
	Workers int
}

// Publisher publishes with pusher-http-go, unmodified, and records each
// acknowledged serial (Herald's answer carries them; the SDK drops them).
type Publisher struct {
	cfg    PublisherConfig
	acks   *Acks
	next   atomic.Uint64
	errors atomic.Int64
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	kinds map[string]int
}

// StartPublisher starts the workers; they run until Stop.
func StartPublisher(cfg PublisherConfig, acks *Acks) (*Publisher, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("fleet: publisher url: %w", err)
	}
	if cfg.Workers <= 0 || cfg.Rate <= 0 || len(cfg.Channels) == 0 {
		return nil, fmt.Errorf("fleet: publisher needs workers, a rate and channels")
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Publisher{cfg: cfg, acks: acks, cancel: cancel, kinds: map[string]int{}}
	transport := &http.Transport{MaxIdleConnsPerHost: cfg.Workers}
	client := &pusher.Client{
		AppID: cfg.AppID, Key: cfg.Key, Secret: cfg.Secret, Host: u.Host,
		HTTPClient: &http.Client{Timeout: publishTimeout, Transport: RecordSerials(transport, acks.Add)},
	}
	every := time.Duration(float64(time.Second) * float64(cfg.Workers) / cfg.Rate)
	for w := range cfg.Workers {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			// Workers start spread over one period, so that the rate is
			// even rather than in bursts.
			start := time.Now().Add(every * time.Duration(w) / time.Duration(cfg.Workers))
			for k := 0; ; k++ {
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Until(start.Add(every * time.Duration(k)))):
				}
				ch := cfg.Channels[p.next.Add(1)%uint64(len(cfg.Channels))]
				if err := client.Trigger(ch, cfg.Event, map[string]int{"n": k}); err != nil {
					p.errors.Add(1)
					p.mu.Lock()
					p.kinds[errorKind(err)]++
					p.mu.Unlock()
				}
			}
		}()
	}
	return p, nil
}

// Stop stops the workers and waits for them.
func (p *Publisher) Stop() {
	p.cancel()
	p.wg.Wait()
}

// Errors is how many publishes failed, and their kinds.
func (p *Publisher) Errors() (int, map[string]int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int, len(p.kinds))
	for k, v := range p.kinds {
		out[k] = v
	}
	return int(p.errors.Load()), out
}

// RecordSerials wraps next so that record gets each channel's serial from
// every successful publish answer ({"serials":{...}}): the acknowledged
// serials a delivery check holds subscribers to.
func RecordSerials(next http.RoundTripper, record func(channel string, serial uint64)) http.RoundTripper {
	return serialRecorder{record: record, next: next}
}

type serialRecorder struct {
	record func(channel string, serial uint64)
	next   http.RoundTripper
}

func (s serialRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := s.next.RoundTrip(req)
	if err != nil || res.StatusCode != http.StatusOK {
		return res, err
	}
	body, err := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if err != nil {
		return nil, err
	}
	var out struct {
		Serials map[string]uint64 `json:"serials"`
	}
	if json.Unmarshal(body, &out) == nil {
		for ch, n := range out.Serials {
			s.record(ch, n)
		}
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	return res, nil
}
