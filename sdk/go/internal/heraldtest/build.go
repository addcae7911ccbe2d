package heraldtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// serverModule is the module path of the repository's root go.mod.
const serverModule = "github.com/heraldhq/herald"

// BinEnv names an already built herald binary to use instead of building
// one (as HERALD_E2E_BIN does for the JavaScript suites).
const BinEnv = "HERALD_E2E_BIN"

var build struct {
	once sync.Once
	dir  string // the temporary folder holding the binary, removed by Main
	bin  string
	err  error
}

// Main runs the tests of a package that starts Herald, then stops the
// shared servers and removes the binary it built. It returns the exit
// code for os.Exit.
func Main(m *testing.M) int {
	code := m.Run()
	stopShared()
	if build.dir != "" {
		if err := os.RemoveAll(build.dir); err != nil {
			fmt.Fprintf(os.Stderr, "heraldtest: remove build folder: %v\n", err)
		}
	}
	return code
}

// RepoRoot walks up from the working directory to the folder whose
// go.mod declares the server module.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("heraldtest: working directory: %w", err)
	}
	for {
		if module(filepath.Join(dir, "go.mod")) == serverModule {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("heraldtest: no go.mod of " + serverModule + " above the working directory")
		}
		dir = parent
	}
}

// module returns the module path a go.mod declares, or "".
func module(gomod string) string {
	f, err := os.Open(gomod)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// Binary returns the herald binary, building ./cmd/herald of the
// repository the first time ($GO or "go"; BinEnv skips the build).
func Binary(tb testing.TB) string {
	tb.Helper()
	build.once.Do(func() {
		if bin := os.Getenv(BinEnv); bin != "" {
			build.bin = bin
			return
		}
		build.bin, build.err = buildHerald()
	})
	if build.err != nil {
		tb.Fatal(build.err)
	}
	return build.bin
}

func buildHerald() (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "heraldtest-bin-")
	if err != nil {
		return "", fmt.Errorf("heraldtest: %w", err)
	}
	build.dir = dir
	goCmd := os.Getenv("GO")
	if goCmd == "" {
		goCmd = "go"
	}
	bin := filepath.Join(dir, "herald")
	ctx, cancel := context.WithTimeout(context.Background(), BuildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, goCmd, "build", "-o", bin, "./cmd/herald")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("heraldtest: go build ./cmd/herald: %w\n%s", err, out)
	}
	return bin, nil
}
