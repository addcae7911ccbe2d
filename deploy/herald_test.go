package deploy

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// heraldModes are the commands the deployment files run; the image's
// HEALTHCHECK runs healthcheck.
var heraldModes = []string{"gateway", "controlplane", "migrate", "healthcheck"}

// heraldEnvPrefix starts every herald environment variable. The binary
// maps a flag --foo-bar to HERALD_FOO_BAR (cmd/herald/internal/config,
// which this package cannot import; TestHeraldEnvRule checks the binary
// still says so).
const heraldEnvPrefix = "HERALD_"

// flagLine matches a flag in the flag package's PrintDefaults output.
var flagLine = regexp.MustCompile(`(?m)^  -([a-z0-9-]+)`)

var (
	heraldOnce  sync.Once
	heraldBin   string
	heraldErr   error
	heraldFlags map[string]map[string]bool
	heraldUsage string
)

// herald builds cmd/herald once per test binary and returns the flags of
// each mode, read from `herald <mode> -h`.
func herald(t *testing.T) map[string]map[string]bool {
	t.Helper()
	heraldOnce.Do(func() {
		dir, err := os.MkdirTemp("", "herald-deploy-")
		if err != nil {
			heraldErr = err
			return
		}
		heraldBin = filepath.Join(dir, "herald")
		build := exec.Command("go", "build", "-o", heraldBin, "../cmd/herald")
		if out, err := build.CombinedOutput(); err != nil {
			heraldErr = fmt.Errorf("go build ../cmd/herald: %v\n%s", err, out)
			return
		}
		heraldFlags = map[string]map[string]bool{}
		for _, mode := range heraldModes {
			out, _ := exec.Command(heraldBin, mode, "-h").CombinedOutput()
			flags := map[string]bool{}
			for _, m := range flagLine.FindAllStringSubmatch(string(out), -1) {
				flags[m[1]] = true
			}
			if len(flags) == 0 {
				heraldErr = fmt.Errorf("herald %s -h listed no flags:\n%s", mode, out)
				return
			}
			heraldFlags[mode] = flags
		}
		out, _ := exec.Command(heraldBin, "help").CombinedOutput()
		heraldUsage = string(out)
	})
	if heraldErr != nil {
		t.Fatal(heraldErr)
	}
	return heraldFlags
}

func TestMain(m *testing.M) {
	code := m.Run()
	if heraldBin != "" {
		_ = os.RemoveAll(filepath.Dir(heraldBin))
	}
	os.Exit(code)
}

// TestHeraldEnvRule pins the rule envFlag relies on.
func TestHeraldEnvRule(t *testing.T) {
	herald(t)
	if !strings.Contains(heraldUsage, "--foo-bar can also be set with the environment variable HERALD_FOO_BAR") {
		t.Fatalf("herald help no longer states the flag/environment rule:\n%s", heraldUsage)
	}
}

// envFlag returns the flag an environment variable sets, or "" when it is
// not a HERALD_ variable.
func envFlag(name string) string {
	rest, ok := strings.CutPrefix(name, heraldEnvPrefix)
	if !ok {
		return ""
	}
	return strings.ToLower(strings.ReplaceAll(rest, "_", "-"))
}

// heraldCommand is one herald process a deployment file starts: its mode
// (the first argument), its other arguments, and the HERALD_ variables
// set for it.
type heraldCommand struct {
	where string // for messages: file and service
	args  []string
	env   []string
}

// checkHeraldCommand reports arguments and variables the binary does not
// know for the command's mode. Flags must be written --name=value so that
// the check needs no knowledge of which flags take values.
func checkHeraldCommand(t *testing.T, c heraldCommand) {
	t.Helper()
	flags := herald(t)
	if len(c.args) == 0 {
		t.Errorf("%s: no herald command", c.where)
		return
	}
	mode := c.args[0]
	known, ok := flags[mode]
	if !ok {
		t.Errorf("%s: herald %q is not a mode the deployment files may run (%v)", c.where, mode, heraldModes)
		return
	}
	for _, a := range c.args[1:] {
		if !strings.HasPrefix(a, "-") {
			if mode == "migrate" && (a == "up" || a == "status") {
				continue
			}
			t.Errorf("%s: herald %s: unexpected argument %q", c.where, mode, a)
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !known[name] {
			t.Errorf("%s: herald %s has no flag --%s", c.where, mode, name)
		}
		if !hasValue {
			t.Errorf("%s: write %q as --%s=value", c.where, a, name)
		}
	}
	for _, v := range c.env {
		if f := envFlag(v); f != "" && !known[f] {
			t.Errorf("%s: %s sets --%s, which herald %s does not have", c.where, v, f, mode)
		}
	}
}

// run runs a command and fails the test with its output on error.
func run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// requireTool returns the path of a Debian tool the check needs. CI
// (.ci/run) installs it, so there its absence fails; elsewhere the check
// is skipped with a note saying what to install.
func requireTool(t *testing.T, name, debianPackage string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s not on PATH; .ci/run installs Debian's %s", name, debianPackage)
	}
	t.Skipf("%s not on PATH (apt-get install %s); CI runs this check", name, debianPackage)
	return ""
}
