// Package fleet drives many Pusher-protocol clients against a Herald
// deployment for the chaos and soak tests (internal/e2e/chaos): lean
// WebSocket connections (gateway/ws/wstest, one goroutine each), a fleet
// of subscribers that reconnect and resume after their last serial, the
// acknowledged serials of paced publishers, a per-subscriber check that
// every acknowledged serial arrived exactly once, and a duration
// histogram of reconnections. It does not import testing: failures are
// returned as errors.
package fleet
