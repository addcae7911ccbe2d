//go:build !linux

package pgcluster

// checkSystem reports whether the managed cluster can run here: see
// ErrUnsupportedSystem.
func checkSystem() error { return ErrUnsupportedSystem }
