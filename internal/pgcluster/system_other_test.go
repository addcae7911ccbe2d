//go:build !linux

package pgcluster

import (
	"context"
	"errors"
	"testing"
)

// TestUnsupportedSystem: off Linux, Start and StopDir refuse with an error
// that names the way out, before touching the folder.
func TestUnsupportedSystem(t *testing.T) {
	dir := t.TempDir()
	if _, err := Start(context.Background(), Config{Dir: dir}); !errors.Is(err, ErrUnsupportedSystem) {
		t.Fatalf("Start = %v, want ErrUnsupportedSystem", err)
	}
	if err := StopDir(context.Background(), dir); !errors.Is(err, ErrUnsupportedSystem) {
		t.Fatalf("StopDir = %v, want ErrUnsupportedSystem", err)
	}
}
