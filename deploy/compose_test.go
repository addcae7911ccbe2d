package deploy

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway"
)

const composeDir = "compose"

// composeFiles are what compose.yaml reads besides itself; herald.env is
// the operator's copy of herald.env.example.
var composeFiles = []string{"compose.yaml", "nats.conf", "haproxy.cfg"}

// gatewayPaths are the gateway's routes with no --ws-path-prefix
// (gateway.Gateway's Path, TokenPath and SSEPath): the balancer sends
// these to gateways and everything else to control planes.
var gatewayPaths = []string{"/app/", gateway.TokenPathPrefix, "/sse"}

type composeFile struct {
	Services map[string]composeService `yaml:"services"`
	Networks map[string]any            `yaml:"networks"`
	Volumes  map[string]any            `yaml:"volumes"`
}

type composeService struct {
	Image           string                       `yaml:"image"`
	Command         []string                     `yaml:"command"`
	EnvFile         string                       `yaml:"env_file"`
	Environment     map[string]string            `yaml:"environment"`
	DependsOn       map[string]composeDependency `yaml:"depends_on"`
	Healthcheck     *composeHealthcheck          `yaml:"healthcheck"`
	Volumes         []string                     `yaml:"volumes"`
	StopGracePeriod string                       `yaml:"stop_grace_period"`
	Networks        map[string]struct {
		IPv4Address string `yaml:"ipv4_address"`
	} `yaml:"networks"`
}

type composeDependency struct {
	Condition string `yaml:"condition"`
}

type composeHealthcheck struct {
	Test    []string `yaml:"test"`
	Disable bool     `yaml:"disable"`
}

// The services of the topology, by role.
var (
	natsServices    = []string{"nats1", "nats2", "nats3"}
	heraldServices  = []string{"migrate", "controlplane1", "controlplane2", "gateway1", "gateway2"}
	serverServices  = []string{"controlplane1", "controlplane2", "gateway1", "gateway2"}
	gatewayServices = []string{"gateway1", "gateway2"}
)

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(composeDir, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	return c
}

// readEnvFile returns the variables of a KEY=VALUE file.
func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	vars := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: not KEY=VALUE: %q", path, line)
		}
		vars[k] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return vars
}

// TestComposeConfig runs Debian's docker-compose over the files, with
// herald.env made from the example as an operator would.
func TestComposeConfig(t *testing.T) {
	bin := requireTool(t, "docker-compose", "docker-compose")
	dir := filepath.Join(t.TempDir(), "deploy", "compose")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	copies := map[string]string{"herald.env.example": "herald.env"}
	for _, f := range composeFiles {
		copies[f] = f
	}
	for from, to := range copies {
		b, err := os.ReadFile(filepath.Join(composeDir, from))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, to), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	run(t, dir, bin, "--file", "compose.yaml", "config", "--quiet")
}

// TestComposeHAProxyConfig checks haproxy.cfg with HAProxy itself.
func TestComposeHAProxyConfig(t *testing.T) {
	bin := requireTool(t, "haproxy", "haproxy")
	run(t, composeDir, bin, "-c", "-q", "-f", "haproxy.cfg")
}

func TestComposeTopology(t *testing.T) {
	c := loadCompose(t)
	want := slices.Concat(natsServices, []string{"postgres", "haproxy"}, heraldServices)
	var got []string
	for name := range c.Services {
		got = append(got, name)
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("services %v, want %v", got, want)
	}
	s := c.Services

	// Migrations run once PostgreSQL is healthy; every server waits for
	// them and for the three NATS nodes.
	if !slices.Equal(s["migrate"].Command, []string{"migrate", "up"}) {
		t.Errorf("migrate runs %v, want [migrate up]", s["migrate"].Command)
	}
	wantDependency(t, s, "migrate", "postgres", "service_healthy")
	for _, name := range serverServices {
		wantDependency(t, s, name, "migrate", "service_completed_successfully")
		for _, n := range natsServices {
			wantDependency(t, s, name, n, "service_healthy")
		}
	}
	for _, name := range serverServices {
		wantDependency(t, s, "haproxy", name, "service_healthy")
	}

	// Health: the servers probe themselves with herald healthcheck.
	for _, name := range slices.Concat(natsServices, []string{"postgres"}, serverServices) {
		hc := s[name].Healthcheck
		if hc == nil || hc.Disable || len(hc.Test) == 0 {
			t.Errorf("%s has no healthcheck", name)
		}
	}
	for _, name := range serverServices {
		if hc := s[name].Healthcheck; hc != nil && !slices.Equal(hc.Test, []string{"CMD", "/herald", "healthcheck"}) {
			t.Errorf("%s healthcheck %v, want [CMD /herald healthcheck]", name, hc.Test)
		}
	}

	// Secrets come from the operator's env file, never from the file.
	for _, name := range slices.Concat(heraldServices, []string{"postgres"}) {
		if s[name].EnvFile != "herald.env" {
			t.Errorf("%s env_file %q, want herald.env", name, s[name].EnvFile)
		}
		for k := range s[name].Environment {
			if strings.Contains(k, "KEY") || strings.Contains(k, "TOKEN") || strings.Contains(k, "PASSWORD") || strings.Contains(k, "DATABASE_URL") {
				t.Errorf("%s sets the secret %s in compose.yaml; it belongs in herald.env", name, k)
			}
		}
	}
	example := readEnvFile(t, filepath.Join(composeDir, "herald.env.example"))
	for _, k := range []string{"HERALD_MASTER_KEY", "HERALD_ADMIN_TOKEN", "HERALD_DATABASE_URL", "POSTGRES_PASSWORD"} {
		if _, ok := example[k]; !ok {
			t.Errorf("herald.env.example lacks %s", k)
		}
	}
	ignored, _ := os.ReadFile(filepath.Join(composeDir, ".gitignore"))
	if !slices.Contains(strings.Fields(string(ignored)), "herald.env") {
		t.Errorf("deploy/compose/.gitignore must list herald.env, the operator's secrets")
	}

	// Data survives containers: a volume per NATS node and for PostgreSQL.
	for _, name := range natsServices {
		wantVolume(t, c, name, "/data")
	}
	wantVolume(t, c, "postgres", "/var/lib/postgresql/data")

	checkComposeNATS(t, c)
	checkComposeServers(t, c)
}

// natsServerModule finds the nats-server version Herald is built and
// tested with.
var natsServerModule = regexp.MustCompile(`(?m)^\s*github.com/nats-io/nats-server/v2 v(\d+\.\d+)\.`)

// TestComposeNATSVersion: the compose file runs the NATS release Herald
// embeds and tests against.
func TestComposeNATSVersion(t *testing.T) {
	gomod, err := os.ReadFile(filepath.Join("..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := natsServerModule.FindSubmatch(gomod)
	if m == nil {
		t.Fatal("go.mod requires no github.com/nats-io/nats-server/v2")
	}
	c := loadCompose(t)
	for _, name := range natsServices {
		if img := c.Services[name].Image; !strings.HasPrefix(img, "nats:"+string(m[1])+"-") && img != "nats:"+string(m[1]) {
			t.Errorf("%s runs %s; go.mod has nats-server %s", name, img, m[1])
		}
	}
}

func wantDependency(t *testing.T, s map[string]composeService, from, to, condition string) {
	t.Helper()
	if got := s[from].DependsOn[to].Condition; got != condition {
		t.Errorf("%s depends on %s with condition %q, want %q", from, to, got, condition)
	}
}

func wantVolume(t *testing.T, c composeFile, service, target string) {
	t.Helper()
	for _, v := range c.Services[service].Volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && parts[1] == target {
			if _, named := c.Volumes[parts[0]]; named {
				return
			}
		}
	}
	t.Errorf("%s keeps %s on no named volume", service, target)
}

// checkComposeNATS: three nodes with distinct names, each a route of the
// shared cluster configuration.
func checkComposeNATS(t *testing.T, c composeFile) {
	t.Helper()
	conf, err := os.ReadFile(filepath.Join(composeDir, "nats.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range natsServices {
		cmd := c.Services[name].Command
		i := slices.Index(cmd, "--server_name")
		if i < 0 || i+1 >= len(cmd) || cmd[i+1] != name {
			t.Errorf("%s command %v: want --server_name %s", name, cmd, name)
		}
		if !strings.Contains(string(conf), "nats-route://"+name+":6222") {
			t.Errorf("nats.conf routes lack %s", name)
		}
	}
	for _, want := range []string{"jetstream", "cluster", "http_port: 8222"} {
		if !strings.Contains(string(conf), want) {
			t.Errorf("nats.conf lacks %q", want)
		}
	}
}

// checkComposeServers: every server on all three NATS nodes with R3
// streams; gateways trust only the balancer and stop gracefully.
func checkComposeServers(t *testing.T, c composeFile) {
	t.Helper()
	for _, name := range serverServices {
		args := flagValues(c.Services[name].Command)
		if args["nats-replicas"] != "3" {
			t.Errorf("%s: --nats-replicas=%q, want 3", name, args["nats-replicas"])
		}
		for _, n := range natsServices {
			if !strings.Contains(args["nats-url"], "nats://"+n+":4222") {
				t.Errorf("%s: --nats-url=%q lacks %s", name, args["nats-url"], n)
			}
		}
	}
	balancer := c.Services["haproxy"].Networks["herald"].IPv4Address
	if balancer == "" {
		t.Fatal("haproxy has no fixed address for the gateways to trust")
	}
	for _, name := range gatewayServices {
		args := flagValues(c.Services[name].Command)
		if args["trusted-proxies"] != balancer {
			t.Errorf("%s: --trusted-proxies=%q, want the balancer %s", name, args["trusted-proxies"], balancer)
		}
		spread := gateway.DefaultShutdownSpread
		if v, ok := args["shutdown-spread"]; ok {
			d, err := time.ParseDuration(v)
			if err != nil {
				t.Fatalf("%s: --shutdown-spread: %v", name, err)
			}
			spread = d
		}
		grace, err := time.ParseDuration(c.Services[name].StopGracePeriod)
		if err != nil || grace <= spread+minDrain {
			t.Errorf("%s: stop_grace_period %q must exceed --shutdown-spread %v plus %v of drain", name, c.Services[name].StopGracePeriod, spread, minDrain)
		}
	}
	checkHAProxyRouting(t)
}

// minDrain is what a gateway's stop needs beyond --shutdown-spread: the
// close linger (gateway.DefaultCloseLinger) and the final usage flush.
const minDrain = 5 * time.Second

// haproxyTunnel finds HAProxy's tunnel timeout.
var haproxyTunnel = regexp.MustCompile(`(?m)^\s*timeout tunnel (\d+)s\s*$`)

func checkHAProxyRouting(t *testing.T) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(composeDir, "haproxy.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(b)
	for _, want := range append([]string{"option forwardfor", "option httpchk GET /readyz",
		"server gateway1 gateway1:6001", "server gateway2 gateway2:6001",
		"server controlplane1 controlplane1:6001", "server controlplane2 controlplane2:6001",
		"default_backend controlplanes", "use_backend gateways if to_gateway"}, gatewayPaths...) {
		if !strings.Contains(cfg, want) {
			t.Errorf("haproxy.cfg lacks %q", want)
		}
	}
	m := haproxyTunnel.FindStringSubmatch(cfg)
	if m == nil {
		t.Fatal("haproxy.cfg sets no timeout tunnel in seconds")
	}
	if tunnel, _ := time.ParseDuration(m[1] + "s"); tunnel <= channels.DefaultActivityTimeoutS*time.Second {
		t.Errorf("timeout tunnel %v must exceed the activity timeout %ds", tunnel, channels.DefaultActivityTimeoutS)
	}
}

// flagValues maps --name=value arguments to their values.
func flagValues(args []string) map[string]string {
	m := map[string]string{}
	for _, a := range args {
		if name, v, ok := strings.Cut(strings.TrimLeft(a, "-"), "="); ok && strings.HasPrefix(a, "-") {
			m[name] = v
		}
	}
	return m
}

// TestComposeHeraldFlags: every herald flag and HERALD_ variable the
// compose files use exists for the mode that gets it.
func TestComposeHeraldFlags(t *testing.T) {
	c := loadCompose(t)
	// A shared env file's variable must be known to some mode that reads
	// it (gateways ignore --database-url's, which they lack).
	fileModes := map[string][]string{}
	for _, name := range heraldServices {
		s := c.Services[name]
		var env []string
		for k := range s.Environment {
			env = append(env, k)
		}
		checkHeraldCommand(t, heraldCommand{where: "compose.yaml " + name, args: s.Command, env: env})
		if hc := s.Healthcheck; hc != nil && !hc.Disable {
			checkHeraldCommand(t, heraldCommand{where: "compose.yaml " + name + " healthcheck", args: hc.Test[2:]})
		}
		if s.EnvFile != "" {
			fileModes[s.EnvFile] = append(fileModes[s.EnvFile], s.Command[0])
		}
	}
	flags := herald(t)
	for file, modes := range fileModes {
		// The committed example stands for the operator's copy.
		for k := range readEnvFile(t, filepath.Join(composeDir, file+".example")) {
			f := envFlag(k)
			if f == "" {
				continue
			}
			if !slices.ContainsFunc(modes, func(m string) bool { return flags[m][f] }) {
				t.Errorf("%s.example: %s sets --%s, which none of %v has", file, k, f, modes)
			}
		}
	}
}
