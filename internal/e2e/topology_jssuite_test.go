package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
	"github.com/heraldhq/herald/internal/topology"
)

// The JavaScript suite (internal/e2e/js: real pusher-js, Laravel Echo and
// the `pusher` SDK) against the production topology through its balancer.
const (
	// jsSuiteDir is the suite's folder, from this package's.
	jsSuiteDir = "js"
	// jsTokenExpiryNotice is the gateways' --token-expiry-notice: short,
	// as herald dev's in the suite's own runs, so that the token refresh
	// test waits seconds.
	jsTokenExpiryNotice = 2 * time.Second
	// jsSuiteTimeout bounds one run of the suite (about 30 s here).
	jsSuiteTimeout = 3 * time.Minute
	// jsSuiteStopWait is how long the harness has after SIGTERM to stop
	// its test processes.
	jsSuiteStopWait = 10 * time.Second
)

// Every file of the suite marked `e2e-target: any` (the harness names the
// others and why) runs with pusher-js and the `pusher` SDK pointed at the
// balancer: each test process creates its apps through the admin API, its
// clients reach either gateway and its REST calls either control plane.
func TestTopologyJSSuite(t *testing.T) {
	// Parallel: it runs processes of its own and spends most of its time
	// waiting on them (timeouts, restarts), so it overlaps with the other
	// long e2e tests.
	t.Parallel()
	node := jsSuitePrerequisites(t)
	top := testenv.Topology(t, jsSuiteTopology)
	runJSSuite(t, node, top, "through the balancer")
}

// jsSuitePrerequisites fails the test, saying what to do, when Node or the
// suite's packages are missing; it returns node's path.
func jsSuitePrerequisites(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node not found (%v): this test runs the JavaScript suite in internal/e2e/%s through the topology's balancer; install Node >= 20.19 and npm, then run `make jsdeps`", err, jsSuiteDir)
	}
	// npm ci writes this file last.
	if _, err := os.Stat(filepath.Join(jsSuiteDir, "node_modules", ".package-lock.json")); err != nil {
		t.Fatalf("the JavaScript suite's packages are not installed (%v): run `make jsdeps` (npm ci in internal/e2e/%s)", err, jsSuiteDir)
	}
	return node
}

// jsSuiteTopology gives the topology what the suite's files expect of any
// Herald they run against: the short token expiry notice the harness
// announces, and webhook endpoints on loopback (their receivers listen on
// 127.0.0.1).
func jsSuiteTopology(o *topology.Options) {
	o.GatewayArgs = append(o.GatewayArgs, "--token-expiry-notice", jsTokenExpiryNotice.String())
	o.ControlPlaneArgs = append(o.ControlPlaneArgs, "--webhook-allow-private")
}

// runJSSuite runs `node harness/run.mjs files...` (every external-capable
// file when none is given) against top's balancer and fails with the
// suite's output when it fails. The app secrets the tests create are
// registered for testinfra's scan of the topology's logs.
func runJSSuite(t *testing.T, node string, top *topology.Topology, what string, files ...string) {
	t.Helper()
	secrets := filepath.Join(t.TempDir(), "js-secrets")
	ctx, cancel := context.WithTimeout(context.Background(), jsSuiteTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{filepath.Join("harness", "run.mjs")}, files...)...)
	cmd.Dir = jsSuiteDir
	cmd.Env = append(os.Environ(),
		"HERALD_E2E_URL="+top.URL(),
		"HERALD_E2E_ADMIN_TOKEN="+top.AdminToken(),
		"HERALD_E2E_TOKEN_EXPIRY_NOTICE_S="+strconv.Itoa(int(jsTokenExpiryNotice/time.Second)),
		"HERALD_E2E_SECRETS_FILE="+secrets,
	)
	// The harness stops its test processes on SIGTERM.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = jsSuiteStopWait
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	before := gatewaysAccepted(t, top)
	began := time.Now()
	err := cmd.Run()
	wall := time.Since(began).Round(100 * time.Millisecond)
	registerJSSecrets(t, secrets)
	if err != nil {
		t.Fatalf("the JavaScript suite %s failed (%v) after %s:\n%s", what, err, wall, out.String())
	}
	accepted := gatewaysAccepted(t, top)
	for i := range accepted {
		accepted[i] -= before[i]
	}
	t.Logf("the JavaScript suite %s passed in %s; WebSocket connections accepted per gateway %v:\n%s",
		what, wall, accepted, jsSummary(out.String()))
	// Through a balancer both gateways serve the suite's clients; one
	// that got none would mean the suite bypassed the balancer.
	for i, n := range accepted {
		if n <= 0 {
			t.Errorf("gateway %d accepted no WebSocket connection during the suite", i)
		}
	}
}

// gatewaysAccepted is each gateway's herald_gateway_connections_total,
// read from it directly.
func gatewaysAccepted(t *testing.T, top *topology.Topology) []int {
	t.Helper()
	counts := make([]int, top.Count(topology.RoleGateway))
	for i := range counts {
		u, err := top.ServerURL(topology.RoleGateway, i)
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.Get(u + "/metrics")
		if err != nil {
			t.Fatalf("gateway %d metrics: %v", i, err)
		}
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "herald_gateway_connections_total "); ok {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					t.Fatalf("gateway %d herald_gateway_connections_total %q: %v", i, v, err)
				}
				counts[i] = int(f)
			}
		}
		_ = res.Body.Close()
	}
	return counts
}

// registerJSSecrets marks each secret the suite's tests made as sensitive,
// so that testinfra.Main fails the run if a process logged one.
func registerJSSecrets(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Errorf("the JavaScript suite's secrets: %v", err)
	}
	for s := range strings.FieldsSeq(string(b)) {
		testinfra.Sensitive(s)
	}
}

// jsSummary keeps the harness's own lines and the test runner's totals.
func jsSummary(out string) string {
	var b strings.Builder
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, "herald-e2e:") || strings.HasPrefix(l, "ℹ ") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}
