package debugstream

import (
	"sync"
	"time"
)

// limiter caps each app's events per wall-clock second and counts what it
// refuses until the count is taken.
type limiter struct {
	perSecond int
	now       func() time.Time
	mu        sync.Mutex
	apps      map[string]*window
}

// window is one app's current second.
type window struct {
	sec     int64
	n       int
	dropped int64
}

func newLimiter(perSecond int, now func() time.Time) *limiter {
	return &limiter{perSecond: perSecond, now: now, apps: map[string]*window{}}
}

// allow counts one event of the app that happened at now and reports
// whether it is within the cap of now's second; a refused one is counted
// as dropped.
func (l *limiter) allow(appID string, now time.Time) bool {
	sec := now.Unix()
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.apps[appID]
	if w == nil {
		w = &window{sec: sec}
		l.apps[appID] = w
	}
	if w.sec != sec {
		w.sec, w.n = sec, 0
	}
	if w.n < l.perSecond {
		w.n++
		return true
	}
	w.dropped++
	return false
}

// drop counts n events of the app dropped elsewhere (a full buffer, an
// upstream cap).
func (l *limiter) drop(appID string, n int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.apps[appID]
	if w == nil {
		w = &window{sec: l.now().Unix()}
		l.apps[appID] = w
	}
	w.dropped += n
}

// takeDropped calls report with every app's dropped count since the last
// call and resets them; apps idle for a second are forgotten.
func (l *limiter) takeDropped(report func(appID string, n int64)) {
	sec := l.now().Unix()
	type drop struct {
		app string
		n   int64
	}
	var drops []drop
	l.mu.Lock()
	for app, w := range l.apps {
		if w.dropped > 0 {
			drops = append(drops, drop{app, w.dropped})
			w.dropped = 0
		} else if w.sec < sec-1 {
			delete(l.apps, app)
		}
	}
	l.mu.Unlock()
	for _, d := range drops {
		report(d.app, d.n)
	}
}
