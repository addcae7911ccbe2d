package main

import (
	"bytes"
	"context"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionLine(t *testing.T) {
	settings := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	cases := []struct {
		name string
		bi   *debug.BuildInfo
		want string
	}{
		{
			name: "release build",
			bi: &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.0"},
				Settings: settings("vcs.revision", "4f1c0e9", "vcs.time", "2026-12-01T10:00:00Z", "vcs.modified", "false")},
			want: "herald v1.2.0, commit 4f1c0e9 (2026-12-01T10:00:00Z), go1.26.0 linux/amd64",
		},
		{
			name: "go run in a checkout with changes",
			bi: &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"},
				Settings: settings("vcs.revision", "4f1c0e9", "vcs.modified", "true")},
			want: "herald (devel), commit 4f1c0e9 (with uncommitted changes), go1.26.0 linux/amd64",
		},
		{
			name: "no version control",
			bi:   &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}},
			want: "herald (devel), commit unknown, go1.26.0 linux/amd64",
		},
		{
			name: "no build info",
			want: "herald (unknown), commit unknown, " + runtime.Version() + " linux/amd64",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := versionLine(tc.bi, "linux/amd64"); got != tc.want {
				t.Errorf("versionLine =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// TestVersionCommand: `herald version` and `herald --version` print the
// line of this binary's build info on stdout.
func TestVersionCommand(t *testing.T) {
	for _, arg := range []string{"version", "--version"} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), []string{arg}, func(string) string { return "" }, &stdout, &stderr); code != 0 {
			t.Fatalf("herald %s = %d: %s", arg, code, stderr.String())
		}
		bi, _ := debug.ReadBuildInfo()
		want := versionLine(bi, runtime.GOOS+"/"+runtime.GOARCH) + "\n"
		if stdout.String() != want || !strings.Contains(want, runtime.Version()) {
			t.Errorf("herald %s printed %q, want %q", arg, stdout.String(), want)
		}
	}
}
