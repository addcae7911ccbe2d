package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"testing"

	"github.com/heraldhq/herald/cmd/herald/internal/config"
)

// flagLine matches a flag in the flag package's PrintDefaults output, or
// in herald admin's, which writes --name.
var flagLine = regexp.MustCompile(`(?m)^  --?([a-z0-9][a-z0-9-]*)`)

// TestReadmeDocumentsEveryFlag keeps the README's configuration table
// complete: every flag of every command, with its environment variable.
func TestReadmeDocumentsEveryFlag(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"dev", "controlplane", "gateway", "migrate", "admin", "bench", "healthcheck"} {
		var stdout, stderr bytes.Buffer
		run(context.Background(), []string{cmd, "-h"}, func(string) string { return "" }, &stdout, &stderr)
		flags := flagLine.FindAllStringSubmatch(stderr.String()+stdout.String(), -1)
		if len(flags) == 0 {
			t.Fatalf("herald %s -h listed no flags:\n%s%s", cmd, stdout.String(), stderr.String())
		}
		for _, f := range flags {
			for _, want := range []string{"`--" + f[1] + "`", "`" + config.EnvName(f[1]) + "`"} {
				if !bytes.Contains(readme, []byte(want)) {
					t.Errorf("README lacks %s (flag of herald %s)", want, cmd)
				}
			}
		}
	}
}
