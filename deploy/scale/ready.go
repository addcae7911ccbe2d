package main

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/heraldhq/herald/gateway/protocol"
	"github.com/heraldhq/herald/gateway/ws/wstest"
)

// Bounds of waitAppKnown: gateways learn a new app from a NATS KV watch,
// within a second or so.
const (
	appKnownTimeout = 30 * time.Second
	appKnownPoll    = 200 * time.Millisecond
	appProbeTimeout = 5 * time.Second
)

// waitAppKnown waits until every gateway accepts the app's key, so that
// no connection of the run is refused for a key not yet propagated.
func (f *fleet) waitAppKnown(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, appKnownTimeout)
	defer cancel()
	for _, gw := range f.gateways {
		for !f.accepts(ctx, gw) {
			select {
			case <-ctx.Done():
				return fmt.Errorf("gateway %s does not know app %s: %w", gw, f.app.ID, ctx.Err())
			case <-time.After(appKnownPoll):
			}
		}
	}
	return nil
}

// accepts reports whether gateway gw answers a connection with the app's
// key with pusher:connection_established.
func (f *fleet) accepts(ctx context.Context, gw string) bool {
	ctx, cancel := context.WithTimeout(ctx, appProbeTimeout)
	defer cancel()
	u := strings.Replace(gw, "http://", "ws://", 1) + "/app/" + url.PathEscape(f.app.Key) + "?protocol=7"
	c, err := wstest.Dial(ctx, u, nil)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(appProbeTimeout))
	_, msg, err := c.ReadMessage()
	return err == nil && bytes.Contains(msg, []byte(protocol.EventConnectionEstablished))
}
