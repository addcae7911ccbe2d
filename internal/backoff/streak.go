package backoff

import "time"

// Streak paces a loop that retries after consecutive failures of the same
// dependency (PostgreSQL, NATS): each failure waits twice as long as the
// one before, from Base up to Max, and only the first failure and every
// LogEvery-th after it are worth a log line, so that an outage of minutes
// does not write one warning per second. The zero value is not usable;
// the loop that owns it calls Failed and Succeeded.
type Streak struct {
	// Base is the wait after the first failure, Max the longest wait.
	Base, Max time.Duration
	// LogEvery: Failed reports log for failure 1, LogEvery+1, 2*LogEvery+1…
	LogEvery int
	n        int
	wait     time.Duration
}

// Failed counts one more failure and returns how long to wait (jittered)
// and whether this failure should be logged.
func (s *Streak) Failed() (wait time.Duration, log bool) {
	s.n++
	if s.n == 1 {
		s.wait = s.Base
	} else {
		s.wait = min(2*s.wait, s.Max)
	}
	return Jitter(s.wait), s.LogEvery <= 1 || (s.n-1)%s.LogEvery == 0
}

// Succeeded ends the streak and returns how many failures it had: a loop
// logs its recovery when that is not 0.
func (s *Streak) Succeeded() (failures int) {
	n := s.n
	s.n, s.wait = 0, 0
	return n
}
