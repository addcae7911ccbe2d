package herald_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// buildTimeout bounds the build of a README program.
const buildTimeout = 5 * time.Minute

// TestReadmeProgramsBuild builds every complete program (a Go block that
// starts with "package main") of the module's README as a module of its
// own that requires this one, as a user's would.
func TestReadmeProgramsBuild(t *testing.T) {
	sdkRoot, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(sdkRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(sdkRoot, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	programs := 0
	for i, block := range strings.Split(string(readme), "```go\n")[1:] {
		src, _, _ := strings.Cut(block, "```")
		if !strings.HasPrefix(src, "package main") {
			continue
		}
		programs++
		dir := t.TempDir()
		gomod := "module readme\n\ngo 1.24.0\n\nrequire github.com/heraldhq/herald/sdk/go v0.0.0\n\n" +
			"replace github.com/heraldhq/herald/sdk/go => " + sdkRoot + "\n"
		for name, content := range map[string]string{"go.mod": gomod, "go.sum": string(sum), "main.go": src} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		goCmd := os.Getenv("GO")
		if goCmd == "" {
			goCmd = "go"
		}
		ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
		cmd := exec.CommandContext(ctx, goCmd, "vet", "-mod=mod", ".")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=", "GOPROXY=off", "GOWORK=off")
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Errorf("README program %d does not build: %v\n%s\n%s", i+1, err, out, src)
		}
	}
	if programs == 0 {
		t.Fatal("the README has no program")
	}
}
