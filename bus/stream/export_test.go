package stream

import "github.com/heraldhq/herald/channels"

// Hooks for the black-box tests: they lose messages behind Live's back,
// the way a reconnect or a dropped republish would.

// DropCoreSub ends the core subscription of a subscribed channel without
// telling Live: messages published from now on are lost to it.
func (l *Live) DropCoreSub(appID, channel string) {
	subject := channels.LiveSubject(appID, channel)
	sh := l.shardFor(subject)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if lc := sh.chans[subject]; lc != nil {
		_ = lc.sub.Unsubscribe()
	}
}

// RestoreCoreSub subscribes a channel dropped by DropCoreSub again.
func (l *Live) RestoreCoreSub(appID, channel string) error {
	subject := channels.LiveSubject(appID, channel)
	sh := l.shardFor(subject)
	sh.mu.Lock()
	lc := sh.chans[subject]
	if lc != nil {
		sub, err := l.cfg.NC.ChanSubscribe(subject, sh.msgs)
		if err != nil {
			sh.mu.Unlock()
			return err
		}
		lc.sub = sub
	}
	sh.mu.Unlock()
	return l.cfg.NC.FlushTimeout(l.cfg.Timeout)
}

// Probe makes Live check every channel for missed messages, as it does
// after a reconnect.
func (l *Live) Probe() { l.probeAll() }
