// Package protocol encodes and decodes the frames of Pusher Channels
// protocol v7 and Herald's extensions. It is pure code: no I/O, no
// connection state. Server-to-client frames are built by appending into a
// caller's buffer so that a message is encoded once per fan-out.
package protocol
