package gateway

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldhq/herald/gateway/ws"
)

// metrics are the gateway's Prometheus series. Per-message counters are
// global unless Config.MetricsAppLabels adds an app label to connections,
// deliveries and slow-consumer closes; each connection and channel then
// resolves its app's series once (appSeries), never per message.
type metrics struct {
	// global are the unlabelled series, and with app labels the vectors
	// the per-app series come from.
	global    appSeries
	appLabels bool
	connVec   *prometheus.GaugeVec
	delivVec  *prometheus.CounterVec
	slowVec   *prometheus.CounterVec

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

// appSeries are the series one app's connections and channels count in:
// the app's own with app labels, else the global ones.
type appSeries struct {
	connections   prometheus.Gauge
	deliveries    prometheus.Counter
	slowConsumers prometheus.Counter
}

const (
	metricsNamespace = "herald"
	metricsSubsystem = "gateway"
	// appLabel is the label --metrics-app-labels adds.
	appLabel = "app"
)

var (
	connectionsOpts   = prometheus.GaugeOpts{Namespace: metricsNamespace, Subsystem: metricsSubsystem, Name: "connections", Help: "Open client connections."}
	deliveriesOpts    = prometheus.CounterOpts{Namespace: metricsNamespace, Subsystem: metricsSubsystem, Name: "deliveries_total", Help: "Channel messages queued to subscribers."}
	slowConsumersOpts = prometheus.CounterOpts{Namespace: metricsNamespace, Subsystem: metricsSubsystem, Name: "slow_consumer_closes_total",
		Help: "Connections closed with 4100 because their send queue overflowed."}
)

func newMetrics(reg prometheus.Registerer, channelCount func() float64, appLabels bool) (*metrics, error) {
	const ns, sub = metricsNamespace, metricsSubsystem
	m := &metrics{
		appLabels:           appLabels,
		connections:         prometheus.NewGauge(connectionsOpts),
		connectionsTotal:    prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "connections_total", Help: "Client connections accepted."}),
		refused:             prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "connections_refused_total", Help: "Connections refused, by Pusher error code."}, []string{"code"}),
		subscriptions:       prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "subscriptions", Help: "Channel subscriptions of open connections."}),
		channels:            prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "channels", Help: "Channels with local subscribers."}, channelCount),
		messagesIn:          prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "messages_in_total", Help: "Frames received from clients."}),
		messagesOut:         prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "messages_out_total", Help: "Frames written to clients."}),
		bytesIn:             prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "bytes_in_total", Help: "Payload bytes received from clients."}),
		bytesOut:            prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "bytes_out_total", Help: "Bytes written to clients."}),
		deliveries:          prometheus.NewCounter(deliveriesOpts),
		slowConsumers:       prometheus.NewCounter(slowConsumersOpts),
		clientEventsLimited: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "client_events_rate_limited_total", Help: "Client events refused with 4301."}),
		replayed:            prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "replayed_messages_total", Help: "Messages replayed by resume and rewind."}),
		replayGaps:          prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "replay_gaps_total", Help: "Gaps found between a replay's end and the first live message, and fetched."}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "connections_rate_limited_total",
			Help: "Connections refused by the connection-rate limits, by scope (ip, app) and transport (ws, sse)."}, []string{"scope", "transport"}),
	}
	m.global = appSeries{connections: m.connections, deliveries: m.deliveries, slowConsumers: m.slowConsumers}
	perApp := []prometheus.Collector{m.connections, m.deliveries, m.slowConsumers}
	if appLabels {
		m.connVec = prometheus.NewGaugeVec(connectionsOpts, []string{appLabel})
		m.delivVec = prometheus.NewCounterVec(deliveriesOpts, []string{appLabel})
		m.slowVec = prometheus.NewCounterVec(slowConsumersOpts, []string{appLabel})
		perApp = []prometheus.Collector{m.connVec, m.delivVec, m.slowVec}
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range append(perApp, m.connectionsTotal, m.refused, m.subscriptions, m.channels, m.messagesIn,
		m.messagesOut, m.bytesIn, m.bytesOut, m.clientEventsLimited, m.replayed, m.replayGaps, m.rateLimited) {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// forApp returns the series appID's connections and channels count in.
// It looks the app's children up: callers resolve it once per connection
// or channel, never per message.
func (m *metrics) forApp(appID string) *appSeries {
	if !m.appLabels {
		return &m.global
	}
	return &appSeries{
		connections:   m.connVec.WithLabelValues(appID),
		deliveries:    m.delivVec.WithLabelValues(appID),
		slowConsumers: m.slowVec.WithLabelValues(appID),
	}
}

// registerPollerMetrics exports the WebSocket poller's counters.
func registerPollerMetrics(reg prometheus.Registerer, stats func() ws.Stats) error {
	if reg == nil {
		return nil
	}
	const ns, sub = metricsNamespace, metricsSubsystem
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
