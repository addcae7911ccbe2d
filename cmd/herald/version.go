package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
)

// runVersion prints `herald version`: the module version, the commit it
// was built from and the Go version, as the toolchain recorded them in
// the binary.
func runVersion(stdout io.Writer) int {
	bi, _ := debug.ReadBuildInfo() // nil without build info
	fmt.Fprintln(stdout, versionLine(bi, runtime.GOOS+"/"+runtime.GOARCH))
	return 0
}

// versionLine formats build info as one line, for example
//
//	herald v1.2.0, commit 4f1c…e9 (2026-12-01T10:00:00Z), go1.26.0 linux/amd64
//
// `go run` and `go build` in a checkout give the version "(devel)" (or a
// pseudo-version); a build outside version control has no commit.
func versionLine(bi *debug.BuildInfo, platform string) string {
	version, goVersion := "(unknown)", runtime.Version()
	settings := map[string]string{}
	if bi != nil {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		if bi.GoVersion != "" {
			goVersion = bi.GoVersion
		}
		for _, s := range bi.Settings {
			settings[s.Key] = s.Value
		}
	}
	commit := "commit unknown"
	if rev := settings["vcs.revision"]; rev != "" {
		var notes []string
		if t := settings["vcs.time"]; t != "" {
			notes = append(notes, t)
		}
		if settings["vcs.modified"] == "true" {
			notes = append(notes, "with uncommitted changes")
		}
		commit = "commit " + rev
		if len(notes) > 0 {
			commit += " (" + strings.Join(notes, ", ") + ")"
		}
	}
	return fmt.Sprintf("herald %s, %s, %s %s", version, commit, goVersion, platform)
}
