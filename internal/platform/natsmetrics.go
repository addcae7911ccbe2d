package platform

import (
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
)

// natsConnRole names the process's two NATS connections in the metrics:
// JetStream and requests, and live subscriptions (docs/nats.md,
// "Connections").
const (
	natsConnMain = "main"
	natsConnLive = "live"
)

// registerNATSMetrics exports each NATS connection's state and reconnect
// count, read from the client at scrape time: an alert on a disconnected
// or flapping broker needs no logs (docs/operations.md, "HeraldNATSDisconnected").
func (p *Platform) registerNATSMetrics(conns map[string]*nats.Conn) error {
	const ns, sub = "herald", "nats"
	for role, nc := range conns {
		labels := prometheus.Labels{"conn": role}
		for _, c := range []prometheus.Collector{
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "connected", ConstLabels: labels,
				Help: "1 while the NATS connection is connected, else 0 (reconnecting or closed)."},
				func() float64 {
					if nc.IsConnected() {
						return 1
					}
					return 0
				}),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "reconnects_total", ConstLabels: labels,
				Help: "Times the NATS connection reconnected to a server."},
				func() float64 { return float64(nc.Stats().Reconnects) }),
		} {
			if err := p.ops.Registry().Register(c); err != nil {
				return err
			}
		}
	}
	return nil
}
