//go:build !unix

package bench

import "errors"

// RaiseFileLimit is only implemented on Unix.
func RaiseFileLimit() (uint64, error) {
	return 0, errors.New("raising the open file limit is not supported on this system")
}
