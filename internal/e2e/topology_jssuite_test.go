package e2e_test

import (
	"bufio"
	"bytes"
	"context"
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
	began := time.Now()
	err := cmd.Run()
	wall := time.Since(began).Round(100 * time.Millisecond)
	registerJSSecrets(t, secrets)
	if err != nil {
		t.Fatalf("the JavaScript suite %s failed (%v) after %s:\n%s", what, err, wall, out.String())
	}
	t.Logf("the JavaScript suite %s passed in %s:\n%s", what, wall, jsSummary(out.String()))
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
