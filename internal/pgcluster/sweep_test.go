package pgcluster_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/heraldhq/herald/internal/pgcluster"
	"github.com/heraldhq/herald/internal/testinfra"
)

// fakeCluster makes a cluster folder in root as Start leaves it stopped:
// a lock file and, when owner is not empty, the owner record.
func fakeCluster(tb testing.TB, root, name, owner string) string {
	tb.Helper()
	dir := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".lock"), nil, 0o600); err != nil {
		tb.Fatal(err)
	}
	if owner != "" {
		if err := os.WriteFile(filepath.Join(dir, "owner"), []byte(owner+"\n"), 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// TestSweep removes the clusters whose data folder is gone and leaves the
// others: a running server, a folder that still exists, a cluster being
// started (its lock held), one from before owners were recorded, and
// folders not named like clusters.
func TestSweep(t *testing.T) {
	t.Parallel()
	root := testinfra.ClusterDir(t)
	if err := os.Chmod(root, 0o755); err != nil { // the server user must reach the cluster
		t.Fatal(err)
	}
	gone := filepath.Join(t.TempDir(), "gone")
	live := t.TempDir()

	// A real cluster whose owner is deleted while its server runs.
	ownerOfRunning := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(ownerOfRunning, 0o700); err != nil {
		t.Fatal(err)
	}
	runningDir := filepath.Join(root, pgcluster.DirPrefix+"running")
	c := start(t, pgcluster.Config{Dir: runningDir, Fast: true, InitCache: testinfra.InitCache(), Owner: ownerOfRunning})
	if err := os.Remove(ownerOfRunning); err != nil {
		t.Fatal(err)
	}

	abandoned := fakeCluster(t, root, pgcluster.DirPrefix+"abandoned", gone)
	owned := fakeCluster(t, root, pgcluster.DirPrefix+"owned", live)
	unrecorded := fakeCluster(t, root, pgcluster.DirPrefix+"unrecorded", "")
	relative := fakeCluster(t, root, pgcluster.DirPrefix+"relative", "relative/path")
	other := fakeCluster(t, root, "not-a-cluster", gone)
	starting := fakeCluster(t, root, pgcluster.DirPrefix+"starting", gone)
	f, err := os.OpenFile(filepath.Join(starting, ".lock"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}

	res, err := pgcluster.Sweep(context.Background(), root)
	if err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	if !slices.Equal(res.Removed, []string{abandoned}) {
		t.Errorf("Removed = %v, want [%s]", res.Removed, abandoned)
	}
	slices.Sort(res.Unrecorded)
	if want := []string{relative, unrecorded}; !slices.Equal(res.Unrecorded, want) {
		t.Errorf("Unrecorded = %v, want %v", res.Unrecorded, want)
	}
	for _, kept := range []string{runningDir, owned, unrecorded, relative, other, starting} {
		if !exists(kept) {
			t.Errorf("%s was removed", kept)
		}
	}
	if exists(abandoned) {
		t.Errorf("%s is still there", abandoned)
	}

	// Once the server has stopped and the start is over, both go.
	if err := c.Stop(testContext(t)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	res, err = pgcluster.Sweep(context.Background(), root)
	if err != nil {
		t.Fatalf("second Sweep: %v", err)
	}
	slices.Sort(res.Removed)
	if want := []string{runningDir, starting}; !slices.Equal(res.Removed, want) {
		t.Errorf("second Removed = %v, want %v", res.Removed, want)
	}
}

// TestRemoveDir stops a running cluster and deletes its folder; a missing
// folder is fine.
func TestRemoveDir(t *testing.T) {
	t.Parallel()
	dir := testinfra.ClusterDir(t)
	c, err := pgcluster.Start(testContext(t), pgcluster.Config{Dir: dir, Fast: true, InitCache: testinfra.InitCache()})
	if err != nil {
		t.Fatal(err)
	}
	if err := pgcluster.RemoveDir(testContext(t), dir); err != nil {
		t.Fatalf("RemoveDir: %v", err)
	}
	if exists(dir) {
		t.Error("the folder is still there")
	}
	if pids := serverProcesses(t, c.DataDir()); len(pids) > 0 {
		t.Errorf("server processes %v left", pids)
	}
	if err := pgcluster.RemoveDir(testContext(t), dir); err != nil {
		t.Errorf("RemoveDir of a missing folder: %v", err)
	}
}
