package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/heraldhq/herald/gateway/protocol"
	"github.com/heraldhq/herald/gateway/ws"
)

// Pusher events the subscribers read or write.
const (
	eventEstablished = protocol.EventConnectionEstablished
	eventSucceeded   = protocol.EventSubscriptionSucceeded
	eventError       = protocol.EventError
	eventSubError    = protocol.EventSubscriptionError
	pongMessage      = `{"event":"` + protocol.EventPong + `","data":{}}`
)

// Byte patterns of the frames a subscriber tells apart without decoding
// them: pusher:ping, and where a server frame's data begins.
var (
	patternPing = []byte(`"event":"` + protocol.EventPing + `"`)
	patternData = []byte(`"data":"`)
)

// subscriber is one WebSocket connection subscribed to one channel. Its
// goroutine reads every frame; the coordinator reads its tally between
// steps.
type subscriber struct {
	ws      *wsConn
	channel int
	// bench is the run it reports to.
	bench *Bench
	// eventPattern is `"event":"<Event>"` of the benchmark's events.
	eventPattern []byte

	// mu guards the fields below, which the reading goroutine updates and
	// the coordinator resets and reads between steps.
	mu    sync.Mutex
	step  uint64
	tally Tally
	// stray counts benchmark events of another step (late arrivals).
	stray int64
	err   error
}

// subscribe connects, subscribes to channel and waits for the
// confirmation, within ctx.
func subscribe(ctx context.Context, b *Bench, url string, src *net.TCPAddr, channel int) (*subscriber, error) {
	c, stop, err := dialWS(ctx, url, src)
	if err != nil {
		return nil, err
	}
	defer stop()
	s := &subscriber{ws: c, channel: channel, bench: b, eventPattern: []byte(`"event":"` + b.cfg.Event + `"`)}
	if err := s.expect(eventEstablished); err != nil {
		c.close()
		return nil, err
	}
	req, _ := json.Marshal(map[string]any{
		"event": protocol.EventSubscribe,
		"data":  map[string]string{"channel": b.channelName(channel)},
	})
	if err := c.writeText(string(req)); err != nil {
		c.close()
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	if err := s.expect(eventSucceeded); err != nil {
		c.close()
		return nil, err
	}
	if !stop() {
		c.close()
		return nil, ctx.Err()
	}
	return s, nil
}

// expect reads frames until event arrives, answering pings; an error
// event fails.
func (s *subscriber) expect(event string) error {
	for {
		op, payload, err := s.ws.readFrame()
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", event, err)
		}
		switch op {
		case ws.OpClose:
			return fmt.Errorf("waiting for %s: %w", event, errServerClosed)
		case ws.OpPing:
			if err := s.ws.writeFrame(ws.OpPong, payload); err != nil {
				return err
			}
			continue
		case ws.OpText:
		default:
			continue
		}
		var e struct {
			Event string `json:"event"`
			Data  string `json:"data"`
		}
		if err := json.Unmarshal(payload, &e); err != nil {
			return fmt.Errorf("waiting for %s: %w", event, err)
		}
		switch e.Event {
		case event:
			return nil
		case eventError, eventSubError:
			return fmt.Errorf("waiting for %s: %s %s", event, e.Event, e.Data)
		case protocol.EventPing:
			if err := s.ws.writeText(pongMessage); err != nil {
				return err
			}
		}
	}
}

// run reads frames until the connection ends, recording benchmark events.
func (s *subscriber) run() {
	err := s.read()
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
	s.bench.subscriberDone(err)
}

func (s *subscriber) read() error {
	for {
		op, payload, err := s.ws.readFrame()
		if err != nil {
			return err
		}
		switch op {
		case ws.OpText:
		case ws.OpPing:
			if err := s.ws.writeFrame(ws.OpPong, payload); err != nil {
				return err
			}
			continue
		case ws.OpClose:
			return errServerClosed
		default:
			continue
		}
		now := time.Now().UnixNano()
		switch {
		case bytes.Contains(payload, s.eventPattern):
			s.receive(payload, now)
		case bytes.Contains(payload, patternPing):
			if err := s.ws.writeText(pongMessage); err != nil {
				return err
			}
		}
	}
}

// receive records one benchmark event received at now (Unix ns).
func (s *subscriber) receive(frame []byte, now int64) {
	i := bytes.Index(frame, patternData)
	if i < 0 {
		return
	}
	m, ok := ParseMark(frame[i+len(patternData):])
	if !ok {
		s.bench.malformed.Add(1)
		return
	}
	s.mu.Lock()
	if m.Step != s.step {
		s.stray++
		s.mu.Unlock()
		return
	}
	dup := s.tally.Add(m.Seq)
	s.mu.Unlock()
	if !dup {
		s.bench.received(time.Duration(now - m.SentNs))
	}
}

// startStep resets the tally for step.
func (s *subscriber) startStep(step uint64) {
	s.mu.Lock()
	s.step = step
	s.tally.Reset()
	s.stray = 0
	s.mu.Unlock()
}

// snapshot returns what the subscriber received in the current step, and
// whether its connection is still up.
func (s *subscriber) snapshot() (Received, int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Received{Channel: s.channel, Unique: s.tally.Unique, Duplicates: s.tally.Duplicates}, s.stray, s.err == nil
}

// close ends the connection; run returns.
func (s *subscriber) close() { _ = s.ws.close() }
