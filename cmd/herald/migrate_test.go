package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/heraldhq/herald/controlplane/postgres"
	"github.com/heraldhq/herald/internal/pgcluster"
	"github.com/heraldhq/herald/internal/testinfra"
)

func TestMigrateCommand(t *testing.T) {
	url := testinfra.Postgres(t)
	latest := postgres.LatestVersion()
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"status"}, "schema version 0 of "},
		{[]string{"up"}, "schema version " + itoa(latest) + " of " + itoa(latest)},
		{[]string{"down"}, "schema version " + itoa(latest-1) + " of "},
		{[]string{"up"}, "schema version " + itoa(latest) + " of "},
	}
	for _, s := range steps {
		var out, errOut bytes.Buffer
		args := append([]string{"migrate", "--database-url", url}, s.args...)
		if code := run(context.Background(), args, func(string) string { return "" }, &out, &errOut); code != 0 {
			t.Fatalf("herald %v = %d: %s", args, code, errOut.String())
		}
		if !strings.Contains(out.String(), s.want) {
			t.Fatalf("herald migrate %v printed %q, want %q", s.args, out.String(), s.want)
		}
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"migrate", "--database-url", url, "sideways"}, func(string) string { return "" }, &out, &errOut); code != 2 {
		t.Fatalf("unknown action exit = %d", code)
	}
}

func itoa(v int32) string { return strconv.Itoa(int(v)) }

// TestMigrateArguments: flags may follow the action, as in herald admin,
// and a wrong action is named on one line before the usage.
func TestMigrateArguments(t *testing.T) {
	url := testinfra.Postgres(t)
	r := runServerCmd("migrate", "status", "--database-url", url)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "schema version 0 of ") {
		t.Fatalf("flags after the action: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	for _, tc := range []struct {
		args []string
		line string
	}{
		{[]string{"--database-url", url}, "herald migrate: missing action: up, down or status\n"},
		{[]string{"--database-url", url, "sideways"}, "herald migrate: unknown action \"sideways\": up, down or status\n"},
		{[]string{"status", "up", "--database-url", url}, "herald migrate: one action only, got [\"status\" \"up\"]\n"},
	} {
		r := runServerCmd(append([]string{"migrate"}, tc.args...)...)
		if r.code != 2 || !strings.HasPrefix(r.stderr, tc.line+"\nUsage: herald migrate") {
			t.Errorf("migrate %q: exit %d, stderr %q; want 2 and %q then the usage", tc.args, r.code, r.stderr, tc.line)
		}
	}
}

// TestMigrateNoDataDir: a --data-dir herald dev never ran in is one line
// and exit 1, for every action, and nothing is made there.
func TestMigrateNoDataDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "typo")
	for _, action := range []string{"status", "up", "down"} {
		r := runServerCmd("migrate", action, "--data-dir", dir)
		want := "herald migrate: no Herald data folder at " + dir + ": start herald dev --data-dir " + dir +
			" once to make one, or pass --database-url\n"
		if r.code != 1 || r.stderr != want || r.stdout != "" {
			t.Errorf("migrate %s: exit %d, stdout %q, stderr %q; want 1 and %q", action, r.code, r.stdout, r.stderr, want)
		}
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the data folder was made (stat: %v)", err)
	}
	clusterDir, err := pgcluster.DirFor(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(clusterDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a cluster was made in %s (stat: %v)", clusterDir, err)
	}
}
