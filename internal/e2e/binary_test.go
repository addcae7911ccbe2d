package e2e_test

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/pgcluster"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

// devDataDir is a new data folder for `herald dev` and the folder of its
// managed cluster, which dev keeps outside it when run as root; both go
// at the end of the test.
func devDataDir(t *testing.T) (dataDir, clusterDir string) {
	t.Helper()
	dataDir = t.TempDir()
	clusterDir, err := pgcluster.DirFor(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(clusterDir) })
	return dataDir, clusterDir
}

// startDev runs `herald dev` on a data folder and waits for its listening
// line; it reports how long that took.
func startDev(t *testing.T, bin, dataDir string, extra ...string) (*testenv.Proc, time.Duration) {
	t.Helper()
	args := append([]string{"dev", "--data-dir", dataDir, "--addr", "127.0.0.1:0"}, extra...)
	p := testenv.StartProc(t, "dev", bin, args...)
	return p, p.Started
}

func getStatus(t *testing.T, url string) int {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// postgresProcesses lists the pids of processes whose command line names
// the cluster folder.
func postgresProcesses(t *testing.T, clusterDir string) []string {
	t.Helper()
	entries, _ := os.ReadDir("/proc")
	var pids []string
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if strings.Contains(string(cmdline), clusterDir) {
			pids = append(pids, e.Name())
		}
	}
	return pids
}

// TestHeraldDevBinary runs the real binary the way a newcomer does: cold
// start on a new data folder, a clean Ctrl-C, a warm start, a SIGKILL and a
// start after it, and checks that no PostgreSQL process is left behind.
func TestHeraldDevBinary(t *testing.T) {
	bin := testenv.BuildHerald(t)
	dataDir, clusterDir := devDataDir(t)

	p, took := startDev(t, bin, dataDir)
	t.Logf("cold start (new data folder, initdb): %s", took)
	if code := getStatus(t, p.URL()+"/readyz"); code != http.StatusOK {
		t.Fatalf("readyz = %d", code)
	}
	token, err := os.ReadFile(filepath.Join(dataDir, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	testinfra.Sensitive(strings.TrimSpace(string(token)))
	accountURL := adminPost(t, p.URL()+"/admin/v1/accounts", strings.TrimSpace(string(token)), `{"name":"Survivor"}`)
	if err := p.Stop(t, syscall.SIGINT); err != nil {
		t.Fatalf("herald dev exit after SIGINT: %v\n%s", err, p.Stderr())
	}
	if left := postgresProcesses(t, clusterDir); len(left) > 0 {
		t.Fatalf("postgres processes left after SIGINT: %v", left)
	}

	p, took = startDev(t, bin, dataDir)
	t.Logf("warm start: %s", took)
	if code := getStatus(t, p.URL()+"/readyz"); code != http.StatusOK {
		t.Fatalf("readyz after warm start = %d", code)
	}
	if code := adminGet(t, p.URL()+accountURL, strings.TrimSpace(string(token))); code != http.StatusOK {
		t.Fatalf("account created before the restart: GET = %d", code)
	}
	_ = p.Stop(t, syscall.SIGKILL)
	if left := postgresProcesses(t, clusterDir); len(left) == 0 {
		t.Fatal("expected the orphaned postgres to outlive a SIGKILLed herald")
	}

	p, took = startDev(t, bin, dataDir)
	t.Logf("start after SIGKILL (orphaned postgres found): %s", took)
	if code := getStatus(t, p.URL()+"/readyz"); code != http.StatusOK {
		t.Fatalf("readyz after SIGKILL restart = %d", code)
	}
	if err := p.Stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("herald dev exit after SIGTERM: %v\n%s", err, p.Stderr())
	}
	if left := postgresProcesses(t, clusterDir); len(left) > 0 {
		t.Fatalf("postgres processes left after SIGTERM: %v", left)
	}

	// The data folder deleted (its server orphaned by a SIGKILL) and a new
	// one made at the same path: it gets a database of its own, even where
	// the cluster lives outside the folder (as root), instead of inheriting
	// one sealed under a master key that is gone.
	p, _ = startDev(t, bin, dataDir)
	_ = p.Stop(t, syscall.SIGKILL)
	if err := os.RemoveAll(dataDir); err != nil {
		t.Fatal(err)
	}
	p, took = startDev(t, bin, dataDir)
	t.Logf("start on a new data folder at the same path: %s", took)
	if code := getStatus(t, p.URL()+"/readyz"); code != http.StatusOK {
		t.Fatalf("readyz on a new data folder = %d", code)
	}
	newToken, err := os.ReadFile(filepath.Join(dataDir, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	testinfra.Sensitive(strings.TrimSpace(string(newToken)))
	if code := adminGet(t, p.URL()+accountURL, strings.TrimSpace(string(newToken))); code != http.StatusNotFound {
		t.Fatalf("the old data folder's account on the new one: GET = %d, want 404", code)
	}
	if err := p.Stop(t, syscall.SIGINT); err != nil {
		t.Fatalf("herald dev exit after SIGINT: %v\n%s", err, p.Stderr())
	}
	if left := postgresProcesses(t, clusterDir); len(left) > 0 {
		t.Fatalf("postgres processes left: %v", left)
	}
}

func TestHeraldDevWithoutPostgresBinaries(t *testing.T) {
	bin := testenv.BuildHerald(t)
	cmd := exec.Command(bin, "dev", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0", "--pg-bin-dir", t.TempDir())
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatal("herald dev started without PostgreSQL binaries")
	}
	for _, want := range []string{"install PostgreSQL", "--database-url"} {
		if !strings.Contains(string(out), want) {
			t.Fatalf("message lacks %q:\n%s", want, out)
		}
	}
}

// adminPost creates a resource and returns its path (/admin/v1/…/{id}).
func adminPost(t *testing.T, url, token, body string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct{ ID string }
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("POST %s = %d, %v", url, res.StatusCode, err)
	}
	return strings.TrimPrefix(url, url[:strings.Index(url, "/admin/")]) + "/" + out.ID
}

func adminGet(t *testing.T, url, token string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}
