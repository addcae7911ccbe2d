package pgcluster_test

import (
	"errors"
	"testing"

	"github.com/heraldhq/herald/internal/pgcluster"
	"github.com/heraldhq/herald/internal/testinfra"
)

// TestRunningURL: a second process reaches a running server through
// RunningURL without adopting it, and gets ErrNotRunning once it stops;
// Initialized tells a complete cluster from a folder without one.
func TestRunningURL(t *testing.T) {
	t.Parallel()
	dir := testinfra.ClusterDir(t)
	if ok, err := pgcluster.Initialized(dir); ok || err != nil {
		t.Fatalf("Initialized before Start = %v, %v; want false", ok, err)
	}
	if _, err := pgcluster.RunningURL(dir, ""); !errors.Is(err, pgcluster.ErrNotRunning) {
		t.Fatalf("RunningURL before Start: %v; want ErrNotRunning", err)
	}
	c := start(t, pgcluster.Config{Dir: dir, Fast: true, InitCache: testinfra.InitCache()})
	if ok, err := pgcluster.Initialized(dir); !ok || err != nil {
		t.Fatalf("Initialized after Start = %v, %v; want true", ok, err)
	}
	for _, db := range []string{"", "postgres"} {
		url, err := pgcluster.RunningURL(dir, db)
		if err != nil || url != c.URL(db) {
			t.Fatalf("RunningURL(%q) = %q, %v; want %q", db, url, err, c.URL(db))
		}
	}
	url, _ := pgcluster.RunningURL(dir, "")
	connect(t, url)
	if err := c.Stop(testContext(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := pgcluster.RunningURL(dir, ""); !errors.Is(err, pgcluster.ErrNotRunning) {
		t.Fatalf("RunningURL after Stop: %v; want ErrNotRunning", err)
	}
}
