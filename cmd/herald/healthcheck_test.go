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

func TestReadyzOf(t *testing.T) {
	cases := []struct{ raw, want string }{
		{"", ""},
		{"http://127.0.0.1:6401", "http://127.0.0.1:6401/readyz"},
		{"http://127.0.0.1:6401/", "http://127.0.0.1:6401/readyz"},
		{"https://10.0.0.5:6001", "https://10.0.0.5:6001/readyz"},
		{"http://127.0.0.1:6401/readyz", "http://127.0.0.1:6401/readyz"},
		{"http://127.0.0.1:6401/herald/readyz", "http://127.0.0.1:6401/herald/readyz"},
		{"http://127.0.0.1:6401/livez", "http://127.0.0.1:6401/livez"},
		{"localhost:6001", "localhost:6001"}, // no host: left for the probe to refuse
		{"http://[::1", "http://[::1"},
	}
	for _, c := range cases {
		if got := readyzOf(c.raw); got != c.want {
			t.Errorf("readyzOf(%q) = %q, want %q", c.raw, got, c.want)
		}
	}
}

func TestHealthcheckCommand(t *testing.T) {
	status := http.StatusOK
	// As a Herald: the root is the console's page, 200 whether ready or not.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/readyz":
			w.WriteHeader(status)
		case "/":
			w.WriteHeader(http.StatusOK)
		default:
			http.NotFound(w, r)
		}
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
		{"ready by base --url", []string{"--url", srv.URL}, nil, http.StatusOK, 0, ""},
		{"base --url not ready", []string{"--url", srv.URL}, nil, http.StatusServiceUnavailable, 1, "/readyz: not ready: 503"},
		{"base --url with a slash not ready", []string{"--url", srv.URL + "/"}, nil, http.StatusServiceUnavailable, 1, "/readyz: not ready"},
		{"base HERALD_URL not ready", nil, map[string]string{"HERALD_URL": srv.URL}, http.StatusServiceUnavailable, 1, "not ready"},
		{"bad flag", []string{"--nope"}, nil, http.StatusOK, 2, "flag provided but not defined"},
		{"an argument", []string{"extra"}, nil, http.StatusOK, 2, `takes no arguments, got "extra"`},
		// Without the refusal, the --addr after the argument goes unread
		// and the default address is probed.
		{"flags after an argument", []string{"extra", "--addr", ":" + port}, nil, http.StatusOK, 2, "takes no arguments"},
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
