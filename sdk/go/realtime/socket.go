package realtime

import (
	"context"
	"fmt"
	"net/http"

	"github.com/coder/websocket"
)

// readLimit is above the gateway's largest frame (--max-client-message-bytes
// applies to what clients send; server frames carry a message plus envelope).
const readLimit = 1 << 20

// wsDialer dials with github.com/coder/websocket.
func wsDialer(hc *http.Client) Dialer {
	return func(ctx context.Context, url string, header http.Header) (Socket, error) {
		c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: hc, HTTPHeader: header})
		if resp != nil && resp.Body != nil {
			_ = resp.Body.Close()
		}
		if err != nil {
			if resp != nil {
				return nil, fmt.Errorf("dial: HTTP %d: %w", resp.StatusCode, err)
			}
			return nil, fmt.Errorf("dial: %w", err)
		}
		c.SetReadLimit(readLimit)
		return wsSocket{c}, nil
	}
}

type wsSocket struct{ c *websocket.Conn }

func (s wsSocket) Read(ctx context.Context) ([]byte, error) {
	_, b, err := s.c.Read(ctx)
	return b, err
}

func (s wsSocket) Write(ctx context.Context, msg []byte) error {
	return s.c.Write(ctx, websocket.MessageText, msg)
}

func (s wsSocket) Close(code int, reason string) error {
	if code == 0 {
		return s.c.CloseNow()
	}
	return s.c.Close(websocket.StatusCode(code), reason)
}

func (s wsSocket) CloseCode(err error) int {
	return int(websocket.CloseStatus(err))
}
