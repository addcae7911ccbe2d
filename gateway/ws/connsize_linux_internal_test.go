//go:build linux && !herald_portable_ws

package ws

import (
	"testing"
	"unsafe"
)

// maxConnSize is the allocation size class a Conn must fit: every idle
// connection pays for it twice over in resident memory
// (docs/performance.md, "Memory per connection"). A field that pushes
// Conn past it belongs behind a pointer, allocated when first used.
const maxConnSize = 288

func TestConnSize(t *testing.T) {
	if n := unsafe.Sizeof(Conn{}); n > maxConnSize {
		t.Fatalf("Conn is %d bytes, more than %d: the next size class costs every connection %d bytes more", n, maxConnSize, 320-maxConnSize)
	}
}
