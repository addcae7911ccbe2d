package reqframe_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/reqframe"
)

// serve runs an HTTP server on a scanned loopback listener; handled
// counts the requests that reached its handler.
func serve(t *testing.T, handled chan<- string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handled <- r.URL.Path
		_, _ = io.Copy(io.Discard, r.Body)
	})
	srv := &http.Server{
		Handler: reqframe.Handler(next, func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "ambiguous", http.StatusBadRequest)
		}),
		ConnContext:       reqframe.ConnContext,
		ReadHeaderTimeout: time.Second,
	}
	go func() { _ = srv.Serve(reqframe.Listener(ln, 8192)) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

func TestHandlerRefusesAmbiguousConnection(t *testing.T) {
	t.Parallel()
	handled := make(chan string, 10)
	addr := serve(t, handled)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.WriteString(c, "GET /first HTTP/1.1\r\nHost: h\r\n\r\n")
	br := bufio.NewReader(c)
	if res, err := http.ReadResponse(br, nil); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("sound request: %v %v", res, err)
	}
	_, _ = io.WriteString(c, "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n")
	res, err := http.ReadResponse(br, nil)
	if err != nil || res.StatusCode != http.StatusBadRequest || !res.Close {
		t.Fatalf("ambiguous request: %v %v, want 400 and close", res, err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	if _, err := http.ReadResponse(br, nil); err == nil {
		t.Fatal("a second answer followed the refusal")
	}
	close(handled)
	var paths []string
	for p := range handled {
		paths = append(paths, p)
	}
	if len(paths) != 1 || paths[0] != "/first" {
		t.Fatalf("handler reached by %v, want only /first", paths)
	}
}

func TestUnwrap(t *testing.T) {
	t.Parallel()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if reqframe.Unwrap(a) != a {
		t.Fatal("Unwrap changed a connection it did not wrap")
	}
}
