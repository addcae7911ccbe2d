package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestReadyzURL(t *testing.T) {
	cases := []struct {
		addr  string
		https bool
		want  string
		err   bool
	}{
		{"127.0.0.1:6001", false, "http://127.0.0.1:6001/readyz", false},
		{":6001", false, "http://127.0.0.1:6001/readyz", false},
		{"0.0.0.0:7000", true, "https://127.0.0.1:7000/readyz", false},
		{"[::]:6001", false, "http://127.0.0.1:6001/readyz", false},
		{"[::1]:6001", false, "http://[::1]:6001/readyz", false},
		{"herald.internal:6001", false, "http://herald.internal:6001/readyz", false},
		{"127.0.0.1:0", false, "", true},
		{"6001", false, "", true},
	}
	for _, c := range cases {
		t.Run(c.addr, func(t *testing.T) {
			got, err := readyzURL(c.addr, c.https)
			if (err != nil) != c.err || got != c.want {
				t.Fatalf("readyzURL(%q) = %q, %v; want %q, error %v", c.addr, got, err, c.want, c.err)
			}
		})
	}
}

func TestHealthcheckCommand(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	cases := []struct {
		name   string
		args   []string
		env    map[string]string
		status int
		code   int
		stderr string
	}{
		{"ready by --addr", []string{"--addr", ":" + port}, nil, http.StatusOK, 0, ""},
		{"ready by HERALD_ADDR", nil, map[string]string{"HERALD_ADDR": "0.0.0.0:" + port}, http.StatusOK, 0, ""},
		{"ready by --url", []string{"--url", srv.URL + "/readyz"}, nil, http.StatusOK, 0, ""},
		{"not ready", []string{"--addr", ":" + port}, nil, http.StatusServiceUnavailable, 1, "not ready: 503 Service Unavailable"},
		{"wrong path", []string{"--url", srv.URL + "/nope"}, nil, http.StatusOK, 1, "404 Not Found"},
		{"nothing listening", []string{"--url", closedURL + "/readyz"}, nil, http.StatusOK, 1, "connect"},
		{"random port", []string{"--addr", "127.0.0.1:0"}, nil, http.StatusOK, 1, "give --url"},
		{"bad flag", []string{"--nope"}, nil, http.StatusOK, 2, "flag provided but not defined"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status = c.status
			var stdout, stderr bytes.Buffer
			args := append([]string{"healthcheck"}, c.args...)
			code := run(context.Background(), args, func(k string) string { return c.env[k] }, &stdout, &stderr)
			if code != c.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, c.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), c.stderr) {
				t.Fatalf("stderr %q lacks %q", stderr.String(), c.stderr)
			}
			if code == 1 && strings.Count(strings.TrimSpace(stderr.String()), "\n") != 0 {
				t.Fatalf("reason is not one line: %q", stderr.String())
			}
		})
	}
}
