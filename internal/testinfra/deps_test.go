package testinfra_test

import (
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// module is Herald's module path.
const module = "github.com/heraldhq/herald"

// allowedDeps are the only Herald packages testinfra may depend on, even
// indirectly: plumbing that imports nothing of Herald's itself. Anything
// more and the tests of some package (bus, gateway) could no longer import
// testinfra without a cycle.
var allowedDeps = []string{
	module + "/internal/freeport",
	module + "/internal/logscan",
	module + "/internal/natsembed",
	module + "/internal/pgcluster",
	module + "/internal/testinfra",
}

// TestDependencies: testinfra imports nothing of Herald's but the
// plumbing that starts servers, so every package's tests can use it.
func TestDependencies(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	var herald []string
	for _, p := range strings.Fields(string(out)) {
		if p == module || strings.HasPrefix(p, module+"/") {
			herald = append(herald, p)
			if !slices.Contains(allowedDeps, p) {
				t.Errorf("testinfra depends on %s; it may import only %v", p, allowedDeps)
			}
		}
	}
	if !slices.Contains(herald, module+"/internal/testinfra") {
		t.Fatalf("go list -deps did not list testinfra itself, so it checked nothing:\n%s", out)
	}
}
