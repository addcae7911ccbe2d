package gateway

import (
	"testing"
	"unsafe"
)

// maxConnSize is the allocation size class a connection's state must fit:
// every idle connection pays for it twice over in resident memory
// (docs/performance.md, "Memory per connection"). A field that pushes
// conn past it belongs behind a pointer, allocated when first used.
const maxConnSize = 256

// maxSubscriptionSize is the same for a subscription, which every
// subscribed connection has at least one of.
const maxSubscriptionSize = 80

func TestConnSize(t *testing.T) {
	if n := unsafe.Sizeof(conn{}); n > maxConnSize {
		t.Fatalf("conn is %d bytes, more than %d: the next size class costs every connection %d bytes more", n, maxConnSize, 288-maxConnSize)
	}
	if n := unsafe.Sizeof(subscription{}); n > maxSubscriptionSize {
		t.Fatalf("subscription is %d bytes, more than %d: the next size class costs every subscription %d bytes more", n, maxSubscriptionSize, 96-maxSubscriptionSize)
	}
}
