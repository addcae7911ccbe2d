// Package freeport picks TCP ports for the processes that tests and the
// local topologies start. A port the kernel hands out for ":0" comes from
// its ephemeral range, the range outgoing connections take their local
// ports from: released and then bound by a child process a moment later,
// it can meanwhile become the local port of one of the thousands of
// connections a concurrent test opens (CI saw nats-server fail with
// "address already in use" that way). Ports picked here are below that
// range (Linux's default is 32768–60999).
package freeport

import (
	"errors"
	"math/rand/v2"
	"net"
	"strconv"
)

// The range ports are picked from: below Linux's default ephemeral range.
const (
	Low  = 20000
	High = 32000
)

// triesPerPort bounds the random picks per port wanted.
const triesPerPort = 100

// ErrNoFreePort is returned when no free port was found in the range.
var ErrNoFreePort = errors.New("freeport: no free port")

// Pick returns n distinct ports in [Low, High) that were free on host when
// checked. They are released again: another program may still take one
// before its user binds it, but outgoing connections will not.
func Pick(host string, n int) ([]int, error) {
	seen := make(map[int]bool, n)
	ports := make([]int, 0, n)
	for tries := 0; len(ports) < n; tries++ {
		if tries > triesPerPort*n {
			return nil, ErrNoFreePort
		}
		p := Low + rand.IntN(High-Low)
		if seen[p] {
			continue
		}
		seen[p] = true
		ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p)))
		if err != nil {
			continue
		}
		_ = ln.Close()
		ports = append(ports, p)
	}
	return ports, nil
}
