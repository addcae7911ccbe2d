package ws_test

import (
	"context"
	"testing"
	"time"

	"github.com/heraldhq/herald/gateway/ws/wstest"
)

// testTimeout bounds every wait in the integration tests.
const testTimeout = 10 * time.Second

// dialURL connects a test client to u, closed at cleanup; its reads and
// writes fail after testTimeout.
func dialURL(tb testing.TB, u string) *wstest.Client {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, err := wstest.Dial(ctx, u, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if err := c.SetDeadline(time.Now().Add(testTimeout)); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}
