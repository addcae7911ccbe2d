package controlplane

import "time"

// History limits of GET /apps/{id}/channels/{name}/messages.
const (
	DefaultHistoryLimit = 100
	MaxHistoryLimit     = 1000
)

// HistoryMessage is one message as the history keeps it: what the message
// stream stored, with the stream's sequence as its serial.
type HistoryMessage struct {
	// Stream is the message stream that stored it (HERALD_MSG, …).
	Stream  string
	Serial  uint64
	AppID   string
	Channel string
	Event   string
	// Data is the event's data, byte for byte.
	Data []byte
	// UserID is the sender of a client event on a presence channel, or
	// empty.
	UserID string
	// PublishedAt is when the stream stored the message.
	PublishedAt time.Time
}

// HistoryQuery asks for one page of a channel's history, in serial order.
type HistoryQuery struct {
	AppID   string
	Channel string
	// Backwards lists newest first; otherwise oldest first.
	Backwards bool
	// After, when HasAfter is set, is an exclusive serial bound in the
	// query's direction: forwards lists serials above it, backwards below
	// it. Without it, the page starts at the oldest (forwards) or the newest
	// (backwards) message.
	After    uint64
	HasAfter bool
	// Start and End bound PublishedAt, both inclusive; zero means
	// unbounded.
	Start time.Time
	End   time.Time
	// Limit is the most messages to return; it must be positive.
	Limit int
}

// HistoryRetention is how long one app's history is kept, for the
// retention loop.
type HistoryRetention struct {
	AppID string
	// Retention is the app's history_retention_s; 0 keeps nothing. An app
	// that no longer exists has 0.
	Retention time.Duration
}
