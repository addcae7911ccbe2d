package topology

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Packages the harness builds: Herald, and the NATS server from the
// module version Herald's go.mod already pins.
const (
	heraldPackage = "github.com/heraldhq/herald/cmd/herald"
	natsPackage   = "github.com/nats-io/nats-server/v2"
)

// BuildBinaries builds herald and nats-server into dir with the go
// command on PATH (run from inside this module) and returns their paths.
func BuildBinaries(ctx context.Context, dir string) (herald, natsServer string, err error) {
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return "", "", fmt.Errorf("topology: %w", err)
	}
	herald, natsServer = filepath.Join(dir, "herald"), filepath.Join(dir, "nats-server")
	for _, b := range []struct{ out, pkg string }{{herald, heraldPackage}, {natsServer, natsPackage}} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", b.out, b.pkg)
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", "", fmt.Errorf("topology: go build %s: %w\n%s", b.pkg, err, out)
		}
	}
	return herald, natsServer, nil
}
