package topology

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/heraldhq/herald/internal/faultproxy"
	"github.com/heraldhq/herald/internal/freeport"
	"github.com/heraldhq/herald/internal/pgcluster"
	"github.com/heraldhq/herald/internal/secretbox"
)

// Role names a kind of process of the topology.
type Role string

// The roles, each with processes numbered from 0 (PostgreSQL and the
// balancer have only 0).
const (
	RoleNATS         Role = "nats"
	RolePostgres     Role = "postgres"
	RoleControlPlane Role = "controlplane"
	RoleGateway      Role = "gateway"
	RoleBalancer     Role = "balancer"
)

// File modes of what the harness writes: private, since configs and logs
// may name secrets' files.
const (
	dirPerm  = 0o700
	filePerm = 0o600
)

// adminTokenBytes is the entropy of a generated admin token.
const adminTokenBytes = 32

// pollInterval is how often the harness looks at a process it waits for.
const pollInterval = 50 * time.Millisecond

// ErrNoProcess is returned for a role and index the topology lacks.
var ErrNoProcess = errors.New("no such process")

// Topology is a running production topology.
type Topology struct {
	opts       Options
	heraldBin  string
	natsBin    string
	masterKey  string
	adminToken string
	// wsPrefix is the gateways' --ws-path-prefix (none).
	wsPrefix string

	balancerPort      int
	gatewayPorts      []int
	controlPlanePorts []int
	nats              []natsNode
	// natsProxies are each herald process's NATS proxies by role
	// (Options.NATSProxies; faults.go).
	natsProxies map[Role][]faultproxy.Group

	procs map[Role][]*proc

	pgMu sync.Mutex
	pg   *pgcluster.Cluster
	// dbURL stays the same across PostgreSQL restarts (a socket in
	// PostgresDir).
	dbURL string

	logMu sync.Mutex
	logs  []io.Closer
}

// Start builds what is missing and starts every process: PostgreSQL and
// the NATS cluster, the migrations, the first control plane (which
// creates the streams), the other servers, then the balancer. It returns
// once the balancer routes to a control plane and a gateway. On failure
// whatever started is stopped.
func Start(ctx context.Context, opts Options) (*Topology, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(opts.Dir, "logs"), dirPerm); err != nil {
		return nil, fmt.Errorf("topology: %w", err)
	}
	t := &Topology{opts: opts, heraldBin: opts.HeraldBin, natsBin: opts.NATSBin, procs: map[Role][]*proc{}}
	if err := t.startAll(ctx); err != nil {
		return nil, errors.Join(err, t.Close())
	}
	return t, nil
}

// startAll is Start's sequence.
func (t *Topology) startAll(ctx context.Context) error {
	if err := t.prepare(ctx); err != nil {
		return err
	}
	if err := t.startPostgres(ctx); err != nil {
		return err
	}
	t.addHeraldProcs()
	g, gctx := errgroup.WithContext(ctx)
	for i := range t.nats {
		g.Go(func() error { return t.startNATS(gctx, i) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if err := t.migrate(ctx); err != nil {
		return err
	}
	// The first control plane and the first gateway create the streams
	// and buckets, one at a time: JetStream answers concurrent creations
	// of the same replicated bucket slowly while the cluster is young.
	if err := t.Start(ctx, RoleControlPlane, 0); err != nil {
		return err
	}
	if err := t.Start(ctx, RoleGateway, 0); err != nil {
		return err
	}
	g, gctx = errgroup.WithContext(ctx)
	for i := 1; i < len(t.controlPlanePorts); i++ {
		g.Go(func() error { return t.Start(gctx, RoleControlPlane, i) })
	}
	for i := 1; i < len(t.gatewayPorts); i++ {
		g.Go(func() error { return t.Start(gctx, RoleGateway, i) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if t.opts.NoBalancer {
		return nil
	}
	return t.Start(ctx, RoleBalancer, 0)
}

// prepare finds or builds the binaries, makes the secrets, picks the
// ports and describes every process.
func (t *Topology) prepare(ctx context.Context) error {
	o := t.opts
	if t.heraldBin == "" || t.natsBin == "" {
		h, n, err := BuildBinaries(ctx, filepath.Join(o.Dir, "bin"))
		if err != nil {
			return err
		}
		t.heraldBin, t.natsBin = h, n
	}
	t.masterKey, t.adminToken = o.MasterKey, o.AdminToken
	if t.masterKey == "" {
		t.masterKey = secretbox.GenerateKey()
	}
	if t.adminToken == "" {
		b := make([]byte, adminTokenBytes)
		_, _ = rand.Read(b)
		t.adminToken = "hat_" + base64.RawURLEncoding.EncodeToString(b)
	}
	ports, err := freeport.Pick(o.Host, 1+3*o.NATSNodes+o.ControlPlanes+o.Gateways)
	if err != nil {
		return err
	}
	t.balancerPort, ports = ports[0], ports[1:]
	if o.BalancerPort != 0 {
		t.balancerPort = o.BalancerPort
	}
	for i := range o.NATSNodes {
		t.nats = append(t.nats, natsNode{client: ports[0], cluster: ports[1], monitor: ports[2], dir: filepath.Join(o.Dir, "nats-"+strconv.Itoa(i))})
		ports = ports[3:]
	}
	t.controlPlanePorts, ports = ports[:o.ControlPlanes], ports[o.ControlPlanes:]
	t.gatewayPorts = ports[:o.Gateways]
	if err := t.startNATSProxies(); err != nil {
		return err
	}

	for i := range t.nats {
		conf, err := t.natsConfig(i)
		if err != nil {
			return fmt.Errorf("topology: nats config: %w", err)
		}
		t.procs[RoleNATS] = append(t.procs[RoleNATS], t.newProc(fmt.Sprintf("nats-%d", i), t.natsBin, false, nil, "-c", conf))
	}
	if o.NoBalancer {
		return nil
	}
	cfg, err := t.haproxyConfig()
	if err != nil {
		return fmt.Errorf("topology: haproxy config: %w", err)
	}
	// -db: stay in the foreground, so that the harness owns its pid.
	t.procs[RoleBalancer] = []*proc{t.newProc("balancer", o.HAProxyBin, false, nil, "-db", "-f", cfg)}
	return nil
}

// addHeraldProcs describes the control planes and gateways, once the
// database URL is known.
func (t *Topology) addHeraldProcs() {
	o := t.opts
	heraldEnv := append([]string{"HERALD_MASTER_KEY=" + t.masterKey, "HERALD_ADMIN_TOKEN=" + t.adminToken}, o.HeraldEnv...)
	replicas := strconv.Itoa(min(o.NATSNodes, DefaultNATSNodes))
	for i, port := range t.controlPlanePorts {
		args := append([]string{"controlplane", "--addr", hostPort(o.Host, port), "--nats-url", t.heraldNATSURL(RoleControlPlane, i),
			"--nats-replicas", replicas, "--database-url", t.DatabaseURL(), "--trusted-proxies", o.Host}, o.HeraldArgs...)
		args = append(args, o.ControlPlaneArgs...)
		t.procs[RoleControlPlane] = append(t.procs[RoleControlPlane], t.newProc(fmt.Sprintf("controlplane-%d", i), t.heraldBin, true, heraldEnv, args...))
	}
	for i, port := range t.gatewayPorts {
		args := append([]string{"gateway", "--addr", hostPort(o.Host, port), "--nats-url", t.heraldNATSURL(RoleGateway, i),
			"--nats-replicas", replicas, "--gateway-id", fmt.Sprintf("gw-%d", i),
			"--trusted-proxies", o.Host, "--shutdown-spread", o.ShutdownSpread.String()}, o.HeraldArgs...)
		args = append(args, o.GatewayArgs...)
		t.procs[RoleGateway] = append(t.procs[RoleGateway], t.newProc(fmt.Sprintf("gateway-%d", i), t.heraldBin, true, heraldEnv, args...))
	}
}

// newProc describes a process whose output goes to its log.
func (t *Topology) newProc(name, bin string, listening bool, env []string, args ...string) *proc {
	return &proc{name: name, bin: bin, args: args, env: env, log: t.logWriter(name), listening: listening}
}

// logWriter returns the (serialized) writer of name's output.
func (t *Topology) logWriter(name string) io.Writer {
	if t.opts.Log != nil {
		return &lockedWriter{w: t.opts.Log(name)}
	}
	f, err := os.OpenFile(filepath.Join(t.opts.Dir, "logs", name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, filePerm)
	if err != nil {
		return io.Discard
	}
	t.logMu.Lock()
	t.logs = append(t.logs, f)
	t.logMu.Unlock()
	return &lockedWriter{w: f}
}

// URL is the balancer's URL: the one address clients and SDKs use. With
// Options.NoBalancer it is the first control plane's (the REST and admin
// APIs; WebSockets go to each gateway's ServerURL).
func (t *Topology) URL() string {
	if t.opts.NoBalancer {
		return "http://" + hostPort(t.opts.Host, t.controlPlanePorts[0])
	}
	return "http://" + hostPort(t.opts.Host, t.balancerPort)
}

// HeraldBin is the herald binary the topology runs (built by Start when
// Options.HeraldBin was empty), for tools run against it such as
// `herald bench`.
func (t *Topology) HeraldBin() string { return t.heraldBin }

// AdminToken is the control planes' bootstrap admin token.
func (t *Topology) AdminToken() string { return t.adminToken }

// MasterKey is the master key every herald process shares.
func (t *Topology) MasterKey() string { return t.masterKey }

// DatabaseURL is the PostgreSQL URL (a Unix socket in PostgresDir).
func (t *Topology) DatabaseURL() string { return t.dbURL }

// LogDir is where process logs go when Options.Log is nil.
func (t *Topology) LogDir() string { return filepath.Join(t.opts.Dir, "logs") }

// ServerURL is the direct URL of gateway or control plane i, bypassing
// the balancer.
func (t *Topology) ServerURL(role Role, i int) (string, error) {
	var ports []int
	switch role {
	case RoleGateway:
		ports = t.gatewayPorts
	case RoleControlPlane:
		ports = t.controlPlanePorts
	}
	if i < 0 || i >= len(ports) {
		return "", fmt.Errorf("%s %d: %w", role, i, ErrNoProcess)
	}
	return "http://" + hostPort(t.opts.Host, ports[i]), nil
}

// Count is how many processes role has.
func (t *Topology) Count(role Role) int {
	if role == RolePostgres {
		return 1
	}
	return len(t.procs[role])
}

// PID is the process id of role i, 0 when it is not running.
func (t *Topology) PID(role Role, i int) int {
	if role == RolePostgres {
		t.pgMu.Lock()
		defer t.pgMu.Unlock()
		if t.pg == nil {
			return 0
		}
		return t.pg.PID()
	}
	p, err := t.proc(role, i)
	if err != nil {
		return 0
	}
	return p.pid()
}

func (t *Topology) proc(role Role, i int) (*proc, error) {
	ps := t.procs[role]
	if i < 0 || i >= len(ps) {
		return nil, fmt.Errorf("%s %d: %w", role, i, ErrNoProcess)
	}
	return ps[i], nil
}

// Start starts role i again after Stop or Kill (or, within Start, for
// the first time) and waits until it serves.
func (t *Topology) Start(ctx context.Context, role Role, i int) error {
	switch role {
	case RolePostgres:
		return t.startPostgres(ctx)
	case RoleNATS:
		return t.startNATS(ctx, i)
	}
	p, err := t.proc(role, i)
	if err != nil {
		return err
	}
	if err := p.start(ctx, t.opts.StartTimeout); err != nil {
		return fmt.Errorf("topology: %w", err)
	}
	if role == RoleBalancer {
		return t.waitBalancer(ctx, p)
	}
	return nil
}

// Stop stops role i gracefully (SIGTERM; a fast shutdown for PostgreSQL)
// and waits until it has exited; past StopTimeout it is killed.
func (t *Topology) Stop(ctx context.Context, role Role, i int) error {
	if role == RolePostgres {
		t.pgMu.Lock()
		defer t.pgMu.Unlock()
		if t.pg == nil {
			return nil
		}
		err := t.pg.Stop(ctx)
		t.pg = nil
		return err
	}
	p, err := t.proc(role, i)
	if err != nil {
		return err
	}
	return p.signal(syscall.SIGTERM, t.opts.StopTimeout)
}

// Kill stops role i the way a crash would (SIGKILL) and waits until it
// has exited.
func (t *Topology) Kill(ctx context.Context, role Role, i int) error {
	if role == RolePostgres {
		t.pgMu.Lock()
		defer t.pgMu.Unlock()
		if t.pg == nil {
			return nil
		}
		pid := t.pg.PID()
		t.pg = nil
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			return fmt.Errorf("kill postgres: %w", err)
		}
		return waitGone(ctx, pid, t.opts.StopTimeout)
	}
	p, err := t.proc(role, i)
	if err != nil {
		return err
	}
	return p.signal(syscall.SIGKILL, t.opts.StopTimeout)
}

// Restart is Stop then Start.
func (t *Topology) Restart(ctx context.Context, role Role, i int) error {
	if err := t.Stop(ctx, role, i); err != nil {
		return err
	}
	return t.Start(ctx, role, i)
}

// Close stops every process by its pid, the balancer first and
// PostgreSQL last, and returns the first error.
func (t *Topology) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), t.opts.StopTimeout)
	defer cancel()
	var errs []error
	for _, role := range []Role{RoleBalancer, RoleGateway, RoleControlPlane, RoleNATS} {
		g := errgroup.Group{}
		for _, p := range t.procs[role] {
			g.Go(func() error { return p.signal(syscall.SIGTERM, t.opts.StopTimeout) })
		}
		errs = append(errs, g.Wait())
	}
	errs = append(errs, t.Stop(ctx, RolePostgres, 0), t.closeNATSProxies())
	t.logMu.Lock()
	for _, c := range t.logs {
		_ = c.Close()
	}
	t.logs = nil
	t.logMu.Unlock()
	return errors.Join(errs...)
}

func (t *Topology) startPostgres(ctx context.Context) error {
	t.pgMu.Lock()
	defer t.pgMu.Unlock()
	if t.pg != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, t.opts.StartTimeout)
	defer cancel()
	c, err := pgcluster.Start(ctx, pgcluster.Config{
		Dir: t.opts.PostgresDir, Fast: t.opts.PostgresFast, InitCache: t.opts.PostgresInitCache,
		StartTimeout: t.opts.StartTimeout, StopTimeout: t.opts.StopTimeout,
	})
	if err != nil {
		return fmt.Errorf("topology: postgres: %w", err)
	}
	t.pg = c
	t.dbURL = c.URL("")
	return nil
}

// startNATS starts node i and waits until it reports healthy: for a node
// joining a running cluster, once it has caught up.
func (t *Topology) startNATS(ctx context.Context, i int) error {
	p, err := t.proc(RoleNATS, i)
	if err != nil {
		return err
	}
	if err := p.start(ctx, t.opts.StartTimeout); err != nil {
		return fmt.Errorf("topology: %w", err)
	}
	return t.waitFor(ctx, p.name+" healthy", p, func() bool { return t.natsHealthy(i) })
}

// migrate applies the schema, as an operator's one-shot job would.
func (t *Topology) migrate(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, t.opts.StartTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, t.heraldBin, "migrate", "--database-url", t.DatabaseURL(), "up")
	out, err := cmd.CombinedOutput()
	_, _ = t.logWriter("migrate").Write(out)
	if err != nil {
		return fmt.Errorf("topology: herald migrate up: %w\n%s", err, out)
	}
	return nil
}

// waitBalancer waits until the balancer routes to a control plane and to
// a gateway.
func (t *Topology) waitBalancer(ctx context.Context, p *proc) error {
	return t.waitFor(ctx, "balancer routing", p, func() bool {
		// HAProxy answers 503 itself while a backend has no server up; a
		// gateway answers a plain GET of a WebSocket path with 426.
		return routed(httpStatus(t.URL()+"/readyz")) && routed(httpStatus(t.URL()+t.wsPrefix+"/app/probe"))
	})
}

// routed reports whether status came from a server behind the balancer.
func routed(status int) bool { return status != 0 && status != http.StatusServiceUnavailable }

// waitFor polls cond until it holds, StartTimeout passes, ctx ends or p
// exits.
func (t *Topology) waitFor(ctx context.Context, what string, p *proc, cond func() bool) error {
	deadline := time.Now().Add(t.opts.StartTimeout)
	for !cond() {
		if !p.running() {
			return fmt.Errorf("topology: %s: %s %w:\n%s", what, p.name, ErrExited, p.tail.String())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("topology: %s: not after %s", what, t.opts.StartTimeout)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("topology: %s: %w", what, ctx.Err())
		case <-time.After(pollInterval):
		}
	}
	return nil
}

// probeClient bounds the harness's own HTTP probes.
var probeClient = &http.Client{Timeout: 2 * time.Second}

// httpStatus is the status of GET url, 0 when there is no answer.
func httpStatus(url string) int {
	res, err := probeClient.Get(url)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	return res.StatusCode
}

// waitGone waits until pid no longer exists.
func waitGone(ctx context.Context, pid int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			return fmt.Errorf("process %d still running after %s", pid, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pollInterval):
		}
	}
	return nil
}

// lockedWriter serializes a process's stdout and stderr into one log.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
