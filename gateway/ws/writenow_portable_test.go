//go:build !linux || herald_portable_ws

package ws_test

// writesNow says the transport writes without waiting: the epoll one
// does; the portable one leaves every write to Write.
const writesNow = false
