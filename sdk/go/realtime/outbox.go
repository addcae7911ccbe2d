package realtime

import (
	"encoding/json"
	"slices"
)

// retriableNack reports a nack whose publish may be resent with the same
// id: 4500 (not stored) and 4301 (over the client message rate, which a
// flush after a reconnection easily is).
func retriableNack(code int) bool {
	return code == 4500 || code == 4301
}

// pending is one publish waiting for its ack.
type pending struct {
	id, channel, event string
	data               json.RawMessage
	sent               bool
	lastNack           *NackError
	done               chan pubResult // buffered 1, written once
}

type pubResult struct {
	serial uint64
	err    error
}

// outbox holds acked publishes in order until their ack, nack or deadline.
// The Client guards it with its mutex.
type outbox struct {
	max  int
	list []*pending
}

func (o *outbox) add(p *pending) error {
	if len(o.list) >= o.max {
		return ErrOutboxFull
	}
	p.done = make(chan pubResult, 1)
	o.list = append(o.list, p)
	return nil
}

// take marks as sent and returns, oldest first, the unsent entries whose
// channel can take them.
func (o *outbox) take(ready func(channel string) bool) []*pending {
	var out []*pending
	for _, p := range o.list {
		if !p.sent && ready(p.channel) {
			p.sent = true
			out = append(out, p)
		}
	}
	return out
}

// unsend makes every entry go again on the next flush (a new socket).
func (o *outbox) unsend() {
	for _, p := range o.list {
		p.sent = false
	}
}

func (o *outbox) settle(id string, r pubResult) {
	i := slices.IndexFunc(o.list, func(p *pending) bool { return p.id == id })
	if i < 0 {
		return
	}
	p := o.list[i]
	o.list = slices.Delete(o.list, i, i+1)
	p.done <- r
}

// nack settles a final refusal; a retriable one is kept for a resend and
// reported true.
func (o *outbox) nack(n *NackError) (retry bool) {
	if retriableNack(n.Code) {
		for _, p := range o.list {
			if p.id == n.ID {
				p.sent = false
				p.lastNack = n
				return true
			}
		}
		return false
	}
	o.settle(n.ID, pubResult{err: n})
	return false
}

// remove forgets an entry whose caller gave up.
func (o *outbox) remove(p *pending) {
	o.list = slices.DeleteFunc(o.list, func(q *pending) bool { return q == p })
}

// failAll settles every entry with err.
func (o *outbox) failAll(err error) {
	for _, p := range o.list {
		p.done <- pubResult{err: err}
	}
	o.list = nil
}

// failChannel settles every entry of channel with err (it was left).
func (o *outbox) failChannel(channel string, err error) {
	o.list = slices.DeleteFunc(o.list, func(p *pending) bool {
		if p.channel != channel {
			return false
		}
		p.done <- pubResult{err: err}
		return true
	})
}
