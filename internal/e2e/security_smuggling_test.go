package e2e_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/platform"
	"github.com/heraldhq/herald/internal/secretbox"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

// smuggleTimeout bounds one attempt: a refused connection is closed at
// once, so only a server that kept it open waits this long.
const smuggleTimeout = 3 * time.Second

// smuggled is the request hidden in the attempts' bodies: were it
// served, its answer (a 404) would be a second response.
const smuggled = "GET /smuggled-canary HTTP/1.1\r\nHost: herald\r\n\r\n"

// smuggleCase is one attempt: raw bytes and the status of the one answer
// they must get.
type smuggleCase struct {
	name   string
	raw    string
	status int
}

func smuggleCases() []smuggleCase {
	chunkedEnd := "0\r\n\r\n"
	cl := strconv.Itoa(len(chunkedEnd + smuggled))
	post := "POST /healthz HTTP/1.1\r\nHost: herald\r\n"
	return []smuggleCase{
		{"Content-Length then Transfer-Encoding", post + "Content-Length: " + cl + "\r\nTransfer-Encoding: chunked\r\n\r\n" + chunkedEnd + smuggled, 400},
		{"Transfer-Encoding then Content-Length", post + "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n" + chunkedEnd + smuggled, 400},
		{"Transfer-Encoding on HTTP/1.0 with Content-Length", "POST /healthz HTTP/1.0\r\nHost: herald\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n" + smuggled, 400},
		{"two Content-Lengths, different", post + "Content-Length: 0\r\nContent-Length: " + strconv.Itoa(len(smuggled)) + "\r\n\r\n" + smuggled, 400},
		{"two Content-Lengths, equal", post + "Content-Length: 0\r\nContent-Length: 0\r\n\r\n" + smuggled, 400},
		{"Content-Length list", post + "Content-Length: 0, 0\r\n\r\n" + smuggled, 400},
		{"signed Content-Length", post + "Content-Length: +0\r\n\r\n" + smuggled, 400},
		{"obs-fold Transfer-Encoding", post + "Content-Length: " + cl + "\r\nTransfer-Encoding:\r\n chunked\r\n\r\n" + chunkedEnd + smuggled, 400},
		{"obs-fold in another field", "GET /healthz HTTP/1.1\r\nHost: herald\r\nX-Note: a\r\n\tb\r\n\r\n" + smuggled, 400},
		{"space before the colon", post + "Transfer-Encoding : chunked\r\nContent-Length: 0\r\n\r\n" + smuggled, 400},
		{"chunk size not hex", post + "Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n" + chunkedEnd + smuggled, 400},
		{"chunk size negative", post + "Transfer-Encoding: chunked\r\n\r\n-1\r\nabc\r\n" + chunkedEnd + smuggled, 400},
		{"chunk size overflowing", post + "Transfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\nabc\r\n" + chunkedEnd + smuggled, 400},
		{"chunk size line with bare LF", post + "Transfer-Encoding: chunked\r\n\r\n3\nabc\r\n" + chunkedEnd + smuggled, 400},
		{"chunk data longer than its size", post + "Transfer-Encoding: chunked\r\n\r\n1\r\nabc\r\n" + chunkedEnd + smuggled, 400},
		// net/http itself answers these 501 before any handler.
		{"Transfer-Encoding other than chunked", post + "Transfer-Encoding: xchunked\r\nContent-Length: 0\r\n\r\n" + smuggled, 501},
		{"Transfer-Encoding chunked twice", post + "Transfer-Encoding: chunked, chunked\r\n\r\n" + chunkedEnd + smuggled, 501},
	}
}

// attempt sends raw on a new connection to addr and returns the statuses
// of every response read until the server closed the connection.
func attempt(t *testing.T, addr, raw string) []int {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, smuggleTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(smuggleTimeout))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	var statuses []int
	br := bufio.NewReader(c)
	for {
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Errorf("the connection stayed open after %v", statuses)
			}
			return statuses
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		statuses = append(statuses, res.StatusCode)
	}
}

// TestSecuritySmuggling sends request smuggling attempts as raw bytes to
// the listener of each kind of process (dev, control plane, gateway):
// each gets exactly one answer, a 400 (501 for a transfer coding net/http
// does not know) before any handler, and the connection is closed, so the
// request hidden in its body is never served. A sound pipelined pair is
// still served twice, on each listener.
func TestSecuritySmuggling(t *testing.T) {
	t.Parallel()
	nats := testinfra.NATS(t)
	base := platform.Config{
		Addr: "127.0.0.1:0", NATSURL: nats.ClientURL(), MasterKey: secretbox.GenerateKey(),
		ShutdownTimeout: 5 * time.Second, Logger: testinfra.Logger(t),
	}
	cp, gw := base, base
	cp.Mode, cp.DatabaseURL, cp.AdminToken = platform.ModeControlPlane, testinfra.Postgres(t), "smuggling-admin-token"
	gw.Mode, gw.GatewayID = platform.ModeGateway, "gw-smuggling"
	listeners := map[string]string{
		"dev":          testenv.Herald(t).Addr(),
		"controlplane": testenv.StartHerald(t, cp).Addr(),
		"gateway":      testenv.StartHerald(t, gw).Addr(),
	}
	for name, addr := range listeners {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sound := "GET /healthz HTTP/1.1\r\nHost: herald\r\n\r\n" + "GET /healthz HTTP/1.1\r\nHost: herald\r\nConnection: close\r\n\r\n"
			if got := attempt(t, addr, sound); len(got) != 2 || got[0] != http.StatusOK || got[1] != http.StatusOK {
				t.Fatalf("a sound pipelined pair got %v, want [200 200]", got)
			}
			for _, tc := range smuggleCases() {
				if got := attempt(t, addr, tc.raw); len(got) != 1 || got[0] != tc.status {
					t.Errorf("%s: answers %v, want exactly [%d]", tc.name, got, tc.status)
				}
			}
		})
	}
}
