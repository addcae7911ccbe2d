package billing_test

import (
	"os/exec"
	"strings"
	"testing"
)

// billing imports, of Herald's packages, only bus and channels, and the
// plumbing bus uses too (internal/backoff, internal/defaults)
// (docs/billing.md): it
// never reaches the gateway, the control plane or SQL, which it reaches
// through its Store.
func TestImports(t *testing.T) {
	const module = "github.com/heraldhq/herald/"
	out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, module+"billing").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		rel, ours := strings.CutPrefix(p, module)
		if ours && rel != "channels" && rel != "bus" && !strings.HasPrefix(rel, "bus/") && rel != "internal/backoff" && rel != "internal/defaults" {
			t.Errorf("billing imports %s; only bus and channels are allowed", p)
		}
	}
	deps, err := exec.Command("go", "list", "-deps", module+"billing").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, p := range strings.Fields(string(deps)) {
		for _, banned := range []string{"controlplane", "gateway", "cmd", "internal/platform"} {
			if strings.HasPrefix(p, module+banned) {
				t.Errorf("billing depends on %s", p)
			}
		}
		if strings.HasPrefix(p, "github.com/jackc/") {
			t.Errorf("billing depends on SQL driver %s", p)
		}
	}
}
