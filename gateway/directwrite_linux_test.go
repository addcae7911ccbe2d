//go:build linux && !herald_portable_ws

package gateway

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/heraldhq/herald/gateway/ws"
	"github.com/heraldhq/herald/gateway/ws/wstest"
	"github.com/heraldhq/herald/internal/testinfra"
)

// Only the epoll transport writes without waiting (ws.Conn.WriteNow).
// TestQueueOnlySkipsTheDirectWrite: a frame from a fan-out that is behind
// goes to the send queue for the writer even when the socket could take
// it now; any other frame is written at once.
func TestQueueOnlySkipsTheDirectWrite(t *testing.T) {
	for _, queueOnly := range []bool{false, true} {
		t.Run(fmt.Sprintf("queueOnly=%v", queueOnly), func(t *testing.T) {
			g := benchGateway(t)
			server, client := testinfra.TCPPair(t)
			wc, err := g.poller.Add(server, nopHandler{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			c := &conn{gw: g, sink: wsSink{}, socketID: g.newSocketID(), appID: benchApp}
			c.setWS(wc)
			frame := ws.AppendFrame(nil, ws.OpText, true, []byte(`{"event":"e"}`))
			c.mu.Lock()
			ok, start, _ := c.enqueueLocked(heldFrame{frame: frame, queueOnly: queueOnly})
			queued := len(c.queue)
			c.mu.Unlock()
			if !ok {
				t.Fatal("frame refused")
			}
			if wantQueued := map[bool]int{false: 0, true: 1}[queueOnly]; queued != wantQueued || start != queueOnly {
				t.Fatalf("queued %d, writer started %v; want %d, %v", queued, start, wantQueued, queueOnly)
			}
			c.afterQueue(start, false)
			f, err := wstest.Wrap(client).ReadFrame()
			if err != nil || !bytes.Equal(f.Payload, frame[2:]) {
				t.Fatalf("read %q, %v", f.Payload, err)
			}
		})
	}
}
