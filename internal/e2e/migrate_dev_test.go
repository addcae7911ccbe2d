package e2e_test

import (
	"bytes"
	"errors"
	"net/http"
	"os/exec"
	"strconv"
	"syscall"
	"testing"

	"github.com/heraldhq/herald/controlplane/postgres"
	"github.com/heraldhq/herald/internal/testenv"
)

// migrateResult is how a herald migrate process ended.
type migrateResult struct {
	code           int
	stdout, stderr string
}

func runMigrateBinary(t *testing.T, bin string, args ...string) migrateResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, append([]string{"migrate"}, args...)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if exitErr := (*exec.ExitError)(nil); errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return migrateResult{code, stdout.String(), stderr.String()}
}

// TestMigrateBesideDevBinary: herald migrate on the data folder of a
// running herald dev uses dev's PostgreSQL and leaves it running (it used
// to take the cluster over and stop it, and dev stayed unready); it
// refuses to change the schema under dev, and once dev is gone it starts
// and stops the cluster itself.
func TestMigrateBesideDevBinary(t *testing.T) {
	bin := testenv.BuildHerald(t)
	dataDir, clusterDir := devDataDir(t)
	p, _ := startDev(t, bin, dataDir)
	latest := strconv.Itoa(int(postgres.LatestVersion()))
	current := "schema version " + latest + " of " + latest + "\n"
	devHolder := "herald dev (pid " + strconv.Itoa(p.PID()) + ") is running on " + dataDir + ": stop it first\n"

	for _, tc := range []struct {
		action string
		want   migrateResult
	}{
		{"status", migrateResult{0, current, ""}},
		{"up", migrateResult{0, current, ""}},
		{"down", migrateResult{1, "", "herald migrate down: " + devHolder}},
	} {
		if r := runMigrateBinary(t, bin, "--data-dir", dataDir, tc.action); r != tc.want {
			t.Errorf("migrate %s beside dev = %+v; want %+v", tc.action, r, tc.want)
		}
		if code := getStatus(t, p.URL()+"/readyz"); code != http.StatusOK {
			t.Fatalf("dev's readyz after migrate %s = %d", tc.action, code)
		}
	}
	if len(postgresProcesses(t, clusterDir)) == 0 {
		t.Fatal("dev's postgres is gone")
	}

	if err := p.Stop(t, syscall.SIGINT); err != nil {
		t.Fatalf("herald dev exit after SIGINT: %v\n%s", err, p.Stderr())
	}
	down := "schema version " + strconv.Itoa(int(postgres.LatestVersion()-1)) + " of " + latest + "\n"
	for _, step := range []struct{ action, want string }{{"down", down}, {"status", down}, {"up", current}} {
		if r := runMigrateBinary(t, bin, "--data-dir", dataDir, step.action); r.code != 0 || r.stdout != step.want {
			t.Fatalf("migrate %s with dev stopped = %+v; want %q", step.action, r, step.want)
		}
	}
	if left := postgresProcesses(t, clusterDir); len(left) > 0 {
		t.Fatalf("postgres processes left by migrate: %v", left)
	}
}
