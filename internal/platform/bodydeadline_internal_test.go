package platform

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestBodyDeadline: a request that withholds its announced body is cut
// off after the body timeout, where one whose body arrived keeps its
// handler running past it.
func TestBodyDeadline(t *testing.T) {
	const timeout = 200 * time.Millisecond
	srv := httptest.NewServer(bodyDeadline(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			http.Error(w, "body: "+err.Error(), http.StatusBadRequest)
			return
		}
		// Past the deadline: cleared, it must not cancel the request.
		time.Sleep(2 * timeout)
		if err := r.Context().Err(); err != nil {
			http.Error(w, "cancelled", http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}), timeout))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")

	send := func(req string) (status string, took time.Duration) {
		t.Helper()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * timeout))
		start := time.Now()
		if _, err := io.WriteString(c, req); err != nil {
			t.Fatal(err)
		}
		line, _ := bufio.NewReader(c).ReadString('\n')
		return strings.TrimSpace(line), time.Since(start)
	}
	if status, took := send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab"); !strings.Contains(status, " 400 ") || took > 5*timeout {
		t.Fatalf("withheld body: %q after %v, want 400 after about %v", status, took, timeout)
	}
	if status, _ := send("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"); !strings.Contains(status, " 400 ") {
		t.Fatalf("withheld chunked body: %q", status)
	}
	if status, _ := send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab"); !strings.Contains(status, " 200 ") {
		t.Fatalf("whole body: %q", status)
	}
}
