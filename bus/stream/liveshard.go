package stream

import (
	"context"
	"log/slog"

	"github.com/nats-io/nats.go"
)

// run handles the shard's messages and probes until ctx is done.
func (sh *liveShard) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-sh.msgs:
			sh.handle(ctx, m)
		case <-sh.wake:
			sh.probe(ctx)
		}
	}
}

// current reports whether lc is still the shard's entry for its channel.
func (sh *liveShard) current(lc *liveChan) bool {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.chans[lc.subject] == lc
}

// handle decodes one republished message and delivers it in order.
func (sh *liveShard) handle(ctx context.Context, m *nats.Msg) {
	sh.mu.Lock()
	lc := sh.chans[m.Subject]
	current := lc != nil && lc.sub == m.Sub
	sh.mu.Unlock()
	if !current {
		// Queued by a subscription that has since ended; a new one for the
		// same channel starts afresh.
		return
	}
	l := sh.live
	d := &sh.d
	if err := decodeLive(d, m, lc.appID, lc.channel); err != nil {
		l.stats.malformed.Add(1)
		l.cfg.Logger.Debug("live: malformed message", slog.String("subject", m.Subject), slog.Any("err", err))
		return
	}
	if l.cfg.Hops != nil {
		stampHops(l.cfg.Hops, d, m)
	}
	d.Waiting = len(sh.msgs)
	switch {
	case d.Serial <= lc.last:
		// Already delivered, by gap repair or a replayed copy.
		l.stats.duplicates.Add(1)
		return
	case lc.last != 0 && d.PrevSerial > lc.last:
		sh.repair(ctx, lc, d.PrevSerial)
	case lc.last != 0 && d.PrevSerial < lc.last:
		// The messages between were deleted or expired before we saw
		// them; nothing to fetch.
		l.stats.skipped.Add(1)
		l.cfg.Logger.Debug("live: predecessor gone", slog.String("app", lc.appID),
			slog.Uint64("serial", d.Serial), slog.Uint64("prev", d.PrevSerial), slog.Uint64("last", lc.last))
	}
	sh.deliver(lc, d)
}

// deliver hands d to the Handler and advances the channel.
func (sh *liveShard) deliver(lc *liveChan, d *Delivery) {
	sh.live.cfg.Handler(d)
	lc.last = d.Serial
	sh.live.stats.deliveries.Add(1)
}

// repair fetches and delivers the channel's messages in (lc.last, upTo].
// It blocks the shard for at most the Live's Timeout; whatever it could
// not fetch by then stays missing (and is counted).
func (sh *liveShard) repair(ctx context.Context, lc *liveChan, upTo uint64) {
	l := sh.live
	from := lc.last
	ctx, cancel := context.WithTimeout(ctx, l.cfg.Timeout)
	defer cancel()
	err := l.cfg.Reader.scan(ctx, lc.appID, lc.channel, query{after: lc.last, upTo: upTo}, func(d *Delivery) bool {
		d.PrevSerial = lc.last
		sh.deliver(lc, d)
		l.stats.repaired.Add(1)
		return true
	})
	if err != nil {
		l.stats.gapsUnrecovered.Add(1)
		l.cfg.Logger.Warn("live: gap not repaired", slog.String("app", lc.appID),
			slog.Uint64("from", from), slog.Uint64("to", upTo), slog.Uint64("reached", lc.last), slog.Any("err", err))
		return
	}
	l.stats.gapsRepaired.Add(1)
}

// probe checks the channels marked after a reconnect for messages newer
// than the last delivered, and delivers them.
func (sh *liveShard) probe(ctx context.Context) {
	var marked []*liveChan
	sh.mu.Lock()
	for _, lc := range sh.chans {
		if lc.probe {
			lc.probe = false
			marked = append(marked, lc)
		}
	}
	sh.mu.Unlock()
	l := sh.live
	for _, lc := range marked {
		if lc.last == 0 || !sh.current(lc) {
			continue // no position yet, or unsubscribed since
		}
		d, ok, err := l.cfg.Reader.Last(ctx, lc.appID, lc.channel)
		if err != nil {
			l.cfg.Logger.Warn("live: probe after reconnect", slog.String("app", lc.appID), slog.Any("err", err))
			continue
		}
		if ok && d.Serial > lc.last {
			sh.repair(ctx, lc, d.Serial)
		}
	}
}
