package main

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/heraldhq/herald/controlplane/postgres"
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
