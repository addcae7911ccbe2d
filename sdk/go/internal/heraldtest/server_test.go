package heraldtest_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/heraldhq/herald/sdk/go/internal/heraldtest"
)

func TestMain(m *testing.M) { os.Exit(heraldtest.Main(m)) }

func TestRepoRoot(t *testing.T) {
	root, err := heraldtest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "cmd", "herald")); err != nil {
		t.Fatalf("repository root %s has no cmd/herald: %v", root, err)
	}
}

// TestServerLifecycle starts herald dev, creates an app through the admin
// API, restarts the server on the same data folder and address, and finds
// the app again.
func TestServerLifecycle(t *testing.T) {
	s := heraldtest.Start(t)
	if s.AdminToken == "" {
		t.Fatal("no admin token")
	}
	app, err := s.NewApp(map[string]any{"client_events": true})
	if err != nil {
		t.Fatal(err)
	}
	if app.ID == "" || app.Key == "" || app.Secret == "" {
		t.Fatalf("NewApp = %+v", app)
	}
	url := s.URL
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if s.URL != url {
		t.Fatalf("restarted on %s, want %s", s.URL, url)
	}
	var got struct {
		ID       string
		Settings struct {
			ClientEvents bool `json:"client_events"`
		}
	}
	if err := s.Admin(http.MethodGet, "/admin/v1/apps/"+app.ID, nil, &got); err != nil {
		t.Fatal(err)
	}
	if got.ID != app.ID || !got.Settings.ClientEvents {
		t.Fatalf("app after restart = %+v", got)
	}
	err = s.Admin(http.MethodGet, "/admin/v1/apps/nope", nil, nil)
	if ae, ok := err.(*heraldtest.AdminError); !ok || ae.Status != http.StatusNotFound {
		t.Fatalf("unknown app: %v", err)
	}
}
