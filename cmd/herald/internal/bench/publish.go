package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/channels"
)

// maxErrorBody bounds what is kept of a refused publish's answer.
const maxErrorBody = 200

// publishStats is what publishing one step did.
type publishStats struct {
	// published[c] counts the publishes the API accepted on channel c.
	published []atomic.Int64
	errors    atomic.Int64
	// latency is each accepted publish request's round trip.
	latency  Histogram
	mu       sync.Mutex
	firstErr error
	elapsed  time.Duration
}

func (p *publishStats) fail(err error) {
	p.errors.Add(1)
	p.mu.Lock()
	if p.firstErr == nil {
		p.firstErr = err
	}
	p.mu.Unlock()
}

// publish sends pacer.Total events through the REST API, publish i on
// channel i mod Channels with sequence number i / Channels, paced open
// loop, with at most Publishers requests in flight. A publisher that
// cannot keep up delays the later publishes: the achieved rate shows it.
func (b *Bench) publish(ctx context.Context, step uint64, pacer Pacer) *publishStats {
	st := &publishStats{published: make([]atomic.Int64, b.cfg.Channels)}
	tickets := make(chan int64, b.cfg.Publishers)
	var wg sync.WaitGroup
	for range b.cfg.Publishers {
		wg.Go(func() {
			var data []byte
			for i := range tickets {
				ch := int(i % int64(b.cfg.Channels))
				m := Mark{Step: step, Seq: uint64(i / int64(b.cfg.Channels)), SentNs: time.Now().UnixNano()}
				data = AppendData(data[:0], m, b.cfg.PayloadBytes)
				if err := b.trigger(ctx, b.channelName(ch), data); err != nil {
					st.fail(err)
					continue
				}
				st.latency.Record(time.Duration(time.Now().UnixNano() - m.SentNs))
				st.published[ch].Add(1)
			}
		})
	}
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	var next int64
	for next < pacer.Total && ctx.Err() == nil {
		for due := pacer.Due(time.Since(start)); next < due; next++ {
			select {
			case tickets <- next:
			case <-ctx.Done():
			}
		}
		if next >= pacer.Total {
			break
		}
		timer.Reset(pacer.At(next) - time.Since(start))
		select {
		case <-timer.C:
		case <-ctx.Done():
		}
	}
	close(tickets)
	wg.Wait()
	st.elapsed = time.Since(start)
	return st
}

// triggerBody is the body of POST /apps/{id}/events.
type triggerBody struct {
	Name    string `json:"name"`
	Channel string `json:"channel"`
	Data    string `json:"data"`
}

// trigger publishes one event, signed as Pusher's HTTP API requires.
func (b *Bench) trigger(ctx context.Context, channel string, data []byte) error {
	body, err := json.Marshal(triggerBody{Name: b.cfg.Event, Channel: channel, Data: string(data)})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost,
		b.eventsURL+"?"+b.sign(http.MethodPost, b.eventsPath, body), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := b.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(res.Body, maxErrorBody))
		return fmt.Errorf("publish: %s: %s", res.Status, bytes.TrimSpace(msg))
	}
	// Drain the answer so the connection is reused.
	_, _ = io.Copy(io.Discard, res.Body)
	return nil
}

// sign returns the query string of a request signed with the app's key.
func (b *Bench) sign(method, path string, body []byte) string {
	q := url.Values{}
	q.Set("auth_key", b.cfg.Key)
	q.Set("auth_timestamp", strconv.FormatInt(time.Now().Unix(), 10))
	q.Set("auth_version", "1.0")
	q.Set("body_md5", channels.BodyMD5(body))
	q.Set("auth_signature", channels.HMACSHA256Hex(b.cfg.Secret, channels.RequestStringToSign(method, path, q)))
	return q.Encode()
}
