package e2e_test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/heraldhq/herald/internal/pgcluster"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

// abandonedCluster makes a stopped cluster folder in the shared folder
// whose recorded data folder does not exist, as a deleted data folder
// leaves behind; it is removed at the end of the test if still there.
func abandonedCluster(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	dir := filepath.Join(pgcluster.SharedTempRoot, pgcluster.DirPrefix+"e2e"+hex.EncodeToString(b))
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	gone := filepath.Join(t.TempDir(), "deleted-data-folder")
	if err := os.WriteFile(filepath.Join(dir, "owner"), []byte(gone+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestDevCLIBinary runs the built binary through what a newcomer meets:
// the start-up sweep of abandoned clusters, herald admin finding the dev
// server through its data folder, "stopping…" at Ctrl-C, --reset, and
// herald version.
func TestDevCLIBinary(t *testing.T) {
	bin := testenv.BuildHerald(t)
	dataDir, _ := devDataDir(t)
	abandoned := abandonedCluster(t)

	p, _ := startDev(t, bin, dataDir)
	if _, err := os.Stat(abandoned); !os.IsNotExist(err) {
		t.Errorf("the abandoned cluster %s is still there after dev started (stat: %v)", abandoned, err)
	}
	url, err := os.ReadFile(filepath.Join(dataDir, "url"))
	if err != nil || strings.TrimSpace(string(url)) != p.URL() {
		t.Fatalf("url file %q (%v), want %s", url, err, p.URL())
	}

	// herald admin with no URL nor token: the data folder's.
	admin := exec.Command(bin, "admin", "--data-dir", dataDir, "accounts", "create", "--name", "BeforeReset", "--json")
	admin.Env = withoutHeraldEnv()
	var stderr strings.Builder
	admin.Stderr = &stderr
	out, err := admin.Output()
	if err != nil {
		t.Fatalf("herald admin: %v\n%s", err, stderr.String())
	}
	var account struct{ ID string }
	if err := json.Unmarshal(out, &account); err != nil || account.ID == "" {
		t.Fatalf("accounts create printed %s (%v)", out, err)
	}
	if note := "herald admin: using " + p.URL() + " and the admin token from " + dataDir + " (herald dev's data folder)\n"; stderr.String() != note {
		t.Errorf("herald admin stderr = %q, want %q", stderr.String(), note)
	}
	token := readToken(t, dataDir)

	// Ctrl-C: "stopping…" at once, before the shutdown steps log.
	if err := p.Stop(t, syscall.SIGINT); err != nil {
		t.Fatalf("exit after SIGINT: %v\n%s", err, p.Stderr())
	}
	logs := p.Stderr()
	stopping := strings.Index(logs, "herald dev: stopping…\n")
	stopped := strings.Index(logs, `"msg":"postgres stopped"`)
	if stopping < 0 || stopped < 0 || stopping > stopped {
		t.Errorf("want \"stopping…\" (at %d) before the postgres stop (at %d):\n%s", stopping, stopped, logs)
	}

	// --reset: a new database, master key and admin token.
	p, _ = startDev(t, bin, dataDir, "--reset")
	newToken := readToken(t, dataDir)
	if newToken == token {
		t.Error("--reset kept the admin token")
	}
	if code := adminGet(t, p.URL()+"/admin/v1/accounts/"+account.ID, newToken); code != http.StatusNotFound {
		t.Errorf("an account made before --reset: GET = %d, want 404", code)
	}
	if err := p.Stop(t, syscall.SIGINT); err != nil {
		t.Fatalf("exit after SIGINT: %v\n%s", err, p.Stderr())
	}

	for _, arg := range []string{"version", "--version"} {
		out, err := exec.Command(bin, arg).Output()
		if err != nil {
			t.Fatalf("herald %s: %v", arg, err)
		}
		if s := string(out); !strings.HasPrefix(s, "herald ") || !strings.Contains(s, ", commit ") ||
			!strings.Contains(s, runtime.Version()) {
			t.Errorf("herald %s printed %q", arg, s)
		}
	}
}

// withoutHeraldEnv is this process's environment without HERALD_*
// settings, which would take precedence over the data folder.
func withoutHeraldEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HERALD_") {
			env = append(env, kv)
		}
	}
	return env
}

func readToken(t *testing.T, dataDir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(b))
	testinfra.Sensitive(token)
	return token
}
