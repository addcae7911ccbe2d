package gateway

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldhq/herald/gateway/ws"
)

// metrics are the gateway's Prometheus series. Per-app labels are kept to
// where they are cheap (refusals); per-message counters are global.
type metrics struct {
	connections         prometheus.Gauge
	connectionsTotal    prometheus.Counter
	refused             *prometheus.CounterVec
	subscriptions       prometheus.Gauge
	channels            prometheus.GaugeFunc
	messagesIn          prometheus.Counter
	messagesOut         prometheus.Counter
	bytesIn             prometheus.Counter
	bytesOut            prometheus.Counter
	deliveries          prometheus.Counter
	slowConsumers       prometheus.Counter
	clientEventsLimited prometheus.Counter
	replayed            prometheus.Counter
	replayGaps          prometheus.Counter
	rateLimited         *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer, channelCount func() float64) (*metrics, error) {
	const ns, sub = "herald", "gateway"
	m := &metrics{
		connections:         prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "connections", Help: "Open client connections."}),
		connectionsTotal:    prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "connections_total", Help: "Client connections accepted."}),
		refused:             prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "connections_refused_total", Help: "Connections refused, by Pusher error code."}, []string{"code"}),
		subscriptions:       prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "subscriptions", Help: "Channel subscriptions of open connections."}),
		channels:            prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "channels", Help: "Channels with local subscribers."}, channelCount),
		messagesIn:          prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "messages_in_total", Help: "Frames received from clients."}),
		messagesOut:         prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "messages_out_total", Help: "Frames written to clients."}),
		bytesIn:             prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "bytes_in_total", Help: "Payload bytes received from clients."}),
		bytesOut:            prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "bytes_out_total", Help: "Bytes written to clients."}),
		deliveries:          prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "deliveries_total", Help: "Channel messages queued to subscribers."}),
		slowConsumers:       prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "slow_consumer_closes_total", Help: "Connections closed with 4100 because their send queue overflowed."}),
		clientEventsLimited: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "client_events_rate_limited_total", Help: "Client events refused with 4301."}),
		replayed:            prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "replayed_messages_total", Help: "Messages replayed by resume and rewind."}),
		replayGaps:          prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "replay_gaps_total", Help: "Gaps found between a replay's end and the first live message, and fetched."}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "connections_rate_limited_total",
			Help: "Connections refused by the connection-rate limits, by scope (ip, app) and transport (ws, sse)."}, []string{"scope", "transport"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.connections, m.connectionsTotal, m.refused, m.subscriptions, m.channels, m.messagesIn,
		m.messagesOut, m.bytesIn, m.bytesOut, m.deliveries, m.slowConsumers, m.clientEventsLimited, m.replayed, m.replayGaps, m.rateLimited} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// registerPollerMetrics exports the WebSocket poller's counters.
func registerPollerMetrics(reg prometheus.Registerer, stats func() ws.Stats) error {
	if reg == nil {
		return nil
	}
	const ns, sub = "herald", "gateway"
	for _, c := range []prometheus.Collector{
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "websocket_protocol_errors_total",
			Help: "WebSocket connections closed because the client broke RFC 6455 or a limit (1002, 1003, 1007, 1008, 1009)."},
			func() float64 { return float64(stats().ProtocolErrors) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "frame_read_timeouts_total",
			Help: "WebSocket connections closed with 1008 because a frame did not complete within --frame-read-timeout."},
			func() float64 { return float64(stats().FrameTimeouts) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "lingering_connections",
			Help: "Closed WebSocket connections whose socket lingers after the close frame (--close-linger)."},
			func() float64 { return float64(stats().Lingering) }),
	} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}
