package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/heraldhq/herald/controlplane/postgres"
	"github.com/heraldhq/herald/internal/pgcluster"
	"github.com/heraldhq/herald/internal/platform"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

// readyDeadline bounds how long readiness may take to follow the database.
const readyDeadline = 20 * time.Second

func waitReadyz(t *testing.T, h *testenv.HeraldEnv, want int) {
	t.Helper()
	testinfra.WaitUntilWithin(t, fmt.Sprintf("readyz = %d", want), readyDeadline, func() bool {
		res, err := http.Get(h.URL() + "/readyz")
		if err != nil {
			t.Fatalf("readyz: %v (the process must stay up)", err)
		}
		res.Body.Close()
		return res.StatusCode == want
	})
}

// TestDatabaseOutage stops the database under a running Herald: readiness
// turns red, admin calls fail cleanly, nothing crashes, and everything is
// green again once the database is back.
func TestDatabaseOutage(t *testing.T) {
	cluster := testinfra.NewPostgresCluster(t)
	url := cluster.URL(pgcluster.DefaultDatabase)
	if err := postgres.MigrateUp(context.Background(), url); err != nil {
		t.Fatal(err)
	}
	h := testenv.Herald(t, func(c *platform.Config) { c.DatabaseURL = url })
	waitReadyz(t, h, http.StatusOK)

	if err := cluster.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitReadyz(t, h, http.StatusServiceUnavailable)
	var body struct {
		Error struct{ Code string } `json:"error"`
	}
	if code := h.Admin(t, "GET", "/admin/v1/apps", nil, &body); code < 500 || body.Error.Code == "" {
		t.Fatalf("admin call with the database down = %d %+v", code, body)
	}

	restarted, err := pgcluster.Start(context.Background(), pgcluster.Config{Dir: cluster.Dir(), Fast: true, Logger: testinfra.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = restarted.Stop(context.Background()) })
	waitReadyz(t, h, http.StatusOK)
	if code := h.Admin(t, "GET", "/admin/v1/apps", nil, nil); code != http.StatusOK {
		t.Fatalf("admin call after the database came back = %d", code)
	}
}
