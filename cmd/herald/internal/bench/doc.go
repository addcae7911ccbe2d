// Package bench is Herald's load generator, behind `herald bench`: it opens
// many Pusher WebSocket subscribers over a few channels, publishes through
// the REST API at a paced rate, and measures what the platform delivers:
// deliveries per second, loss, duplicates and end-to-end latency.
//
// Every published event carries its step, a per-channel sequence number and
// its send time (wall clock, so the publisher and the subscribers must run
// on the same machine or on closely synchronised clocks). Subscribers record
// each event's receive time in an HDR-style histogram and tick its
// sequence number in a bitset, which finds both losses (expected =
// publishes accepted on the channel × its subscribers) and duplicates.
//
// The package is a client only: it speaks the wire protocol (a lean RFC
// 6455 client and the Pusher HTTP API signature) and imports nothing of the
// server.
package bench
