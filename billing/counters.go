package billing

// Counters is one app's usage over one period, or the deltas of one flush.
// Every field is a count except PeakConnections, a maximum: adding two
// Counters sums the counts and keeps the greater peak.
type Counters struct {
	MessagesPublished int64 `json:"messages_published"`
	MessagesDelivered int64 `json:"messages_delivered"`
	PresenceEvents    int64 `json:"presence_events"`
	WebhookCalls      int64 `json:"webhook_calls"`
	APIRequests       int64 `json:"api_requests"`
	BytesIn           int64 `json:"bytes_in"`
	BytesOut          int64 `json:"bytes_out"`
	ConnectionSeconds int64 `json:"connection_seconds"`
	PeakConnections   int64 `json:"peak_connections"`
	HistoryReads      int64 `json:"history_reads"`
}

// Messages is what a plan counts as messages, Pusher's rule: one publish
// to 50 subscribers is 51 messages (docs/billing.md, "Counting rules").
func (c Counters) Messages() int64 {
	return c.MessagesPublished + c.MessagesDelivered + c.PresenceEvents + c.WebhookCalls
}

// Add folds o into c.
func (c *Counters) Add(o Counters) {
	c.MessagesPublished += o.MessagesPublished
	c.MessagesDelivered += o.MessagesDelivered
	c.PresenceEvents += o.PresenceEvents
	c.WebhookCalls += o.WebhookCalls
	c.APIRequests += o.APIRequests
	c.BytesIn += o.BytesIn
	c.BytesOut += o.BytesOut
	c.ConnectionSeconds += o.ConnectionSeconds
	c.PeakConnections = max(c.PeakConnections, o.PeakConnections)
	c.HistoryReads += o.HistoryReads
}

// IsZero reports whether c counts nothing: a period with nothing in it is
// left out of usage listings.
func (c Counters) IsZero() bool { return c == Counters{} }

// Columns names the counters in the order of Values, as the usage API's
// JSON fields and CSV header name them.
var Columns = []string{
	"messages", "messages_published", "messages_delivered", "presence_events", "webhook_calls",
	"api_requests", "bytes_in", "bytes_out", "connection_seconds", "peak_connections", "history_reads",
}

// Values lists c's counters in the order of Columns, Messages first.
func (c Counters) Values() []int64 {
	return []int64{
		c.Messages(), c.MessagesPublished, c.MessagesDelivered, c.PresenceEvents, c.WebhookCalls,
		c.APIRequests, c.BytesIn, c.BytesOut, c.ConnectionSeconds, c.PeakConnections, c.HistoryReads,
	}
}
