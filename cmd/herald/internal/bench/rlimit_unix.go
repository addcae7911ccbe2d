//go:build unix

package bench

import (
	"fmt"
	"syscall"
)

// RaiseFileLimit raises the soft limit on open files to the hard limit,
// since every subscriber holds a socket, and returns the limit in force.
// (Rlimit fields are int64 on some BSDs, hence the conversions.)
func RaiseFileLimit() (uint64, error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, fmt.Errorf("get open file limit: %w", err)
	}
	if l.Cur >= l.Max {
		return uint64(l.Cur), nil
	}
	l.Cur = l.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, fmt.Errorf("raise open file limit to %d: %w", l.Max, err)
	}
	return uint64(l.Cur), nil
}
