package gateway

import (
	"context"
	"math"
	"time"

	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway/protocol"
)

// Replay limits (Herald's resume and rewind extensions).
const (
	// MaxRewind is the most messages "rewind" replays; larger values clamp.
	MaxRewind = 100
	// MaxResumeReplay is the most messages one resume replays; a longer
	// gap answers recovered:false and the client reads history over REST.
	MaxResumeReplay = 10_000
	// maxHeldFrames bounds the live frames held for one subscription while
	// it replays.
	maxHeldFrames = 2 * MaxResumeReplay
)

// replayPlan is what a subscribe asked to replay before live messages.
type replayPlan struct {
	resume   bool
	from     uint64
	rewind   int
	rewindMs int64
}

func (p replayPlan) any() bool { return p.resume || p.rewind > 0 || p.rewindMs > 0 }

// Messages refusing a wrong extension field of pusher:subscribe
// (docs/protocol.md).
const (
	msgBadResumeFrom = "resume_from must be a serial (a non-negative integer)"
	msgBadRewind     = "rewind must be a non-negative integer (a count of messages)"
	msgBadRewindMs   = "rewind_ms must be a non-negative integer (milliseconds)"
)

// planReplay reads the extension fields of pusher:subscribe; resume_from
// wins over rewind. It returns an error message naming the first invalid
// field. A rewind above MaxRewind and a rewind_ms longer than the resume
// window are clamped (replayMessages), however large.
func planReplay(req *protocol.Subscribe) (replayPlan, string) {
	switch {
	case req.ResumeFrom.Invalid || req.ResumeFrom.Saturated:
		return replayPlan{}, msgBadResumeFrom
	case req.Rewind.Invalid:
		return replayPlan{}, msgBadRewind
	case req.RewindMs.Invalid:
		return replayPlan{}, msgBadRewindMs
	case req.ResumeFrom.Set:
		return replayPlan{resume: true, from: req.ResumeFrom.N}, ""
	}
	return replayPlan{
		rewind:   int(min(req.Rewind.N, MaxRewind)),
		rewindMs: int64(min(req.RewindMs.N, math.MaxInt64)),
	}, ""
}

// maxConcurrentReplays bounds the replays that read the message stream at
// once on a gateway: after a mass reconnection every client resumes at
// the same moment, and the reads queue here rather than all hit NATS.
const maxConcurrentReplays = 64

// startReplay runs a subscription's replay on its own goroutine, which
// ends with the replay (each read is bounded by PublishTimeout). The
// replay waits on the message stream, and OnMessage runs on one of the
// poller's few workers: replaying there made every other client of the
// gateway wait behind the reads, so that after a mass reconnection new
// connections and subscriptions were answered seconds late
// (docs/reliability.md, scenario 2). Live frames are held meanwhile
// (sub.replaying), as before.
func (g *Gateway) startReplay(c *conn, app *channels.AppConfig, sub *subscription, plan replayPlan) {
	go func() {
		g.replaySlots <- struct{}{}
		defer func() { <-g.replaySlots }()
		// A client gone while its replay waited for a slot costs no read:
		// after a mass disconnect the queue may hold thousands of them.
		c.mu.Lock()
		current := c.currentLocked(sub)
		if !current {
			sub.held, sub.replaying = nil, false
		}
		c.mu.Unlock()
		if current {
			g.replay(c, app, sub, plan)
		}
	}()
}

// replay sends a subscription's missed or recent messages, then releases
// the live frames held meanwhile, dropping those the replay already
// carried, so the client sees every serial once and in order. A
// subscription left (or a connection closed) meanwhile gets nothing.
func (g *Gateway) replay(c *conn, app *channels.AppConfig, sub *subscription, plan replayPlan) {
	ctx, cancel := context.WithTimeout(context.Background(), g.cfg.PublishTimeout)
	defer cancel()
	read := g.replayMessages(ctx, app, sub.ch.Name, plan)
	msgs := read.msgs
	g.metrics.replayed.Add(float64(len(msgs)))
	// On a cache channel the replay takes the cached event's place
	// (replayCache): it is read only when the replay has nothing to give.
	var cached heldFrame
	useCache := sub.ch.Cache && len(msgs) == 0 && !(plan.resume && read.recovered)
	if useCache {
		cached, _ = g.cachedFrame(c.appID, sub.ch.Name)
	}

	c.mu.Lock()
	if !c.currentLocked(sub) {
		sub.held, sub.replaying = nil, false
		c.mu.Unlock()
		return
	}
	var start, slow bool
	emit := func(h heldFrame) {
		st, sl := c.emitLocked(h)
		start, slow = start || st, slow || sl
	}
	// The client already has everything up to its position, whether or
	// not anything was replayed: held live frames at or below it are
	// dropped.
	last := read.position
	for i := range msgs {
		emit(storedFrame(&msgs[i]))
		last = msgs[i].Serial
	}
	if plan.resume {
		data := resumeResult(read.recovered, read.reset)
		emit(heldFrame{frame: encodeFrame(&protocol.Message{Event: protocol.EventResumeResult, Channel: sub.ch.Name, Data: data}), event: protocol.EventResumeResult})
	}
	// The seam between replay and live is checked only from a known
	// position: after recovered:false the client reads history itself.
	sub.verify = read.recovered && last > 0
	if useCache && (cached.serial == 0 || cached.serial > last) {
		// After the resume result, so that a client filling its gap from
		// history starts at its own position, not at the cached event.
		// The cache holds one event, not a history: nothing to verify.
		emit(cached)
		last = max(last, cached.serial)
		sub.verify = false
	}
	gapTo := c.releaseLocked(sub, last, emit)
	verify := sub.verify && gapTo == 0
	c.mu.Unlock()
	g.afterEmit(c, start, slow)
	if gapTo > 0 {
		g.catchUp(c, sub, last, gapTo)
	} else if verify {
		g.scheduleTailCheck(c, sub)
	}
}

// replayRead is what a replay read from the message stream.
type replayRead struct {
	msgs []stream.Delivery
	// recovered says, for a resume, whether msgs is the complete range
	// the client missed.
	recovered bool
	// position is the serial the client holds (resume_from), 0 for a
	// rewind or a position the stream does not know: one beyond the
	// channel's newest message, as a client resending a position from
	// before a stream reset holds. Live messages at or below it are not
	// sent, so an unknown position must not be one.
	position uint64
	// reset says, for a resume, that the position is such an unknown one:
	// the client must forget it (resume_result's "reset").
	reset bool
}

// resumeResult is herald_internal:resume_result's data. reset (only when
// not recovered) tells the client that its position is beyond everything
// stored, as after a stream reset, so that it forgets it: a client keeping
// it would discard the live messages below it that follow.
func resumeResult(recovered, reset bool) string {
	switch {
	case recovered:
		return `{"recovered":true}`
	case reset:
		return `{"recovered":false,"reset":true}`
	}
	return `{"recovered":false}`
}

// replayMessages reads what plan asks for from the message stream. For a
// resume, recovered says whether the range is complete: the message the
// client last saw must still be stored, within the app's resume window,
// and the gap no longer than MaxResumeReplay.
func (g *Gateway) replayMessages(ctx context.Context, app *channels.AppConfig, channel string, plan replayPlan) replayRead {
	window := app.Settings.ResumeWindow()
	now := g.cfg.Now()
	since := now.Add(-window)
	switch {
	case plan.resume && plan.from == 0:
		// The client saw nothing yet: everything within the window.
		out, err := g.cfg.Reader.SinceTime(ctx, app.ID, channel, since, MaxResumeReplay+1)
		if err != nil || len(out) > MaxResumeReplay {
			return replayRead{}
		}
		return replayRead{msgs: out, recovered: true}
	case plan.resume:
		// Read from the anchor (the last message the client saw) on.
		out, err := g.cfg.Reader.Range(ctx, app.ID, channel, plan.from-1, 0, MaxResumeReplay+1)
		switch {
		case err == nil && len(out) == 0:
			// Neither the anchor nor anything after it is stored: the
			// position is beyond the channel's newest message (or the
			// channel expired whole), so live messages start from now.
			return replayRead{reset: true}
		case err != nil || out[0].Serial != plan.from || out[0].Time.Before(since) || len(out) > MaxResumeReplay:
			return replayRead{position: plan.from}
		}
		return replayRead{msgs: out[1:], recovered: true, position: plan.from}
	case plan.rewindMs > 0:
		// Compared in milliseconds first: a huge rewind_ms would overflow
		// a Duration.
		d := window
		if plan.rewindMs < window.Milliseconds() {
			d = time.Duration(plan.rewindMs) * time.Millisecond
		}
		out, err := g.cfg.Reader.SinceTime(ctx, app.ID, channel, now.Add(-d), MaxResumeReplay)
		if err != nil {
			return replayRead{}
		}
		return replayRead{msgs: out, recovered: true}
	case plan.rewind > 0:
		out, err := g.cfg.Reader.SinceTime(ctx, app.ID, channel, since, MaxResumeReplay)
		if err != nil {
			return replayRead{}
		}
		if len(out) > plan.rewind {
			out = out[len(out)-plan.rewind:]
		}
		return replayRead{msgs: out, recovered: true}
	}
	return replayRead{recovered: true}
}
