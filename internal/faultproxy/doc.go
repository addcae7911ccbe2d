// Package faultproxy is a TCP proxy that injects the network faults the
// chaos tests need between a Herald process and what it connects to
// (NATS): cutting every connection at once, refusing new ones, and adding
// latency in either direction, then restoring a clean link. It is test
// infrastructure for real processes, so it imports no testing package.
package faultproxy
