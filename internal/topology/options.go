package topology

import (
	"errors"
	"io"
	"os/exec"
	"time"

	"github.com/heraldhq/herald/channels"
)

// Defaults for zero Options fields: production-like timings, which tests
// shorten.
const (
	DefaultNATSNodes       = 3
	DefaultControlPlanes   = 2
	DefaultGateways        = 2
	DefaultStartTimeout    = 90 * time.Second
	DefaultStopTimeout     = 30 * time.Second
	DefaultShutdownSpread  = 3 * time.Second
	DefaultHealthInterval  = time.Second
	DefaultTunnelTimeout   = 10 * time.Minute
	DefaultConnectTimeout  = 2 * time.Second
	DefaultRequestTimeout  = 30 * time.Second
	DefaultBalancerRetries = 3
)

// debianHAProxy is where Debian's haproxy package installs it.
const debianHAProxy = "/usr/sbin/haproxy"

// Options describes a topology. Zero fields take the defaults above.
type Options struct {
	// Dir holds every process's files (NATS stores, configs, logs).
	// Required.
	Dir string
	// PostgresDir is the PostgreSQL cluster folder; it must be reachable
	// by the server's user (pgcluster.DirFor, testinfra.ClusterDir).
	// Required.
	PostgresDir string
	// PostgresInitCache is pgcluster.Config.InitCache (tests).
	PostgresInitCache string
	// PostgresFast turns durability off (pgcluster.Config.Fast; tests).
	PostgresFast bool
	// HeraldBin and NATSBin are the binaries; empty builds them into Dir
	// from this module (BuildBinaries).
	HeraldBin string
	NATSBin   string
	// HAProxyBin is the balancer; empty means "haproxy" from PATH, else
	// Debian's /usr/sbin/haproxy (sbin is not on every user's PATH).
	HAProxyBin string
	// Host is the address every process listens on; empty means
	// 127.0.0.1.
	Host string
	// BalancerPort is the one public port; 0 picks a free one.
	BalancerPort int

	NATSNodes     int
	ControlPlanes int
	Gateways      int
	// NoBalancer runs without HAProxy: clients reach each gateway and
	// control plane at its own URL (ServerURL), and URL is the first
	// control plane's. A balancer holds two descriptors per connection
	// in one process, so past about half the open-file limit it, not
	// Herald, is the bottleneck (deploy/scale).
	NoBalancer bool

	// MasterKey and AdminToken are the control planes' secrets; empty
	// generates them.
	MasterKey  string
	AdminToken string

	// ShutdownSpread is each gateway's --shutdown-spread.
	ShutdownSpread time.Duration
	// HealthInterval is how often the balancer asks each server's
	// /readyz; one failure takes a server out, two successes put it back.
	HealthInterval time.Duration
	// TunnelTimeout is how long the balancer keeps an idle WebSocket or
	// SSE stream; it must exceed the activity timeout apps use (Pusher's
	// 120 s by default), or idle clients get cut by the balancer.
	TunnelTimeout time.Duration
	// ConnectTimeout and RequestTimeout are the balancer's connect and
	// client/server timeouts.
	ConnectTimeout time.Duration
	RequestTimeout time.Duration
	// StartTimeout bounds each process's start; StopTimeout each graceful
	// stop before a kill.
	StartTimeout time.Duration
	StopTimeout  time.Duration
	// HeraldArgs are extra flags for every control plane and gateway
	// (--log-level debug, say); GatewayArgs and ControlPlaneArgs for one
	// role.
	HeraldArgs       []string
	GatewayArgs      []string
	ControlPlaneArgs []string
	// HeraldEnv are extra environment variables (KEY=value) of herald
	// processes (HERALD_LOG_FORMAT=json, say).
	HeraldEnv []string
	// NATSProxies puts each control plane's and gateway's NATS
	// connection through proxies of its own (faults.go), which tests cut,
	// refuse or slow (Topology.NATSProxies).
	NATSProxies bool
	// NATSMaxFileStore caps each NATS node's JetStream file store in
	// bytes (max_file_store); 0 leaves the server's default (a share of
	// the free disk).
	NATSMaxFileStore int64
	// Log returns the writer of a process's output (name: "nats-0",
	// "gateway-1", …); nil writes to <Dir>/logs/<name>.log.
	Log func(name string) io.Writer
}

func (o *Options) setDefaults() error {
	if o.Dir == "" || o.PostgresDir == "" {
		return errors.New("topology: Dir and PostgresDir are required")
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.NATSNodes, DefaultNATSNodes)
	def(&o.ControlPlanes, DefaultControlPlanes)
	def(&o.Gateways, DefaultGateways)
	defDur(&o.StartTimeout, DefaultStartTimeout)
	defDur(&o.StopTimeout, DefaultStopTimeout)
	defDur(&o.ShutdownSpread, DefaultShutdownSpread)
	defDur(&o.HealthInterval, DefaultHealthInterval)
	defDur(&o.TunnelTimeout, DefaultTunnelTimeout)
	defDur(&o.ConnectTimeout, DefaultConnectTimeout)
	defDur(&o.RequestTimeout, DefaultRequestTimeout)
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	if o.HAProxyBin == "" {
		o.HAProxyBin = debianHAProxy
		if p, err := exec.LookPath("haproxy"); err == nil {
			o.HAProxyBin = p
		}
	}
	if o.TunnelTimeout <= channels.DefaultActivityTimeoutS*time.Second {
		return errors.New("topology: TunnelTimeout must exceed the default activity timeout (120 s)")
	}
	return nil
}
