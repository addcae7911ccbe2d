package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestListenerFlagsRefuseBadConfig: a server refuses to start, with a
// usage exit code and a message naming the flag, on half a TLS setup or a
// malformed trusted proxy, from flags or from the environment.
func TestListenerFlagsRefuseBadConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"cert without key", []string{"dev", "--tls-cert", "cert.pem"}, nil, "--tls-key"},
		{"key without cert", []string{"controlplane", "--tls-key", "key.pem"}, nil, "--tls-cert"},
		{"key from env without cert", []string{"gateway"}, map[string]string{"HERALD_TLS_KEY": "key.pem"}, "--tls-cert"},
		{"bad proxy", []string{"gateway", "--trusted-proxies", "10.0.0.0/8,nonsense"}, nil, "--trusted-proxies"},
		{"negative header cap", []string{"dev", "--max-header-bytes", "-1"}, nil, "--max-header-bytes"},
		{"bad proxy on a control plane", []string{"controlplane", "--trusted-proxies", "nonsense"}, nil, "--trusted-proxies"},
		{"negative header timeout", []string{"gateway", "--http-header-timeout", "-1s"}, nil, "--http-header-timeout"},
		{"negative body timeout", []string{"controlplane"}, map[string]string{"HERALD_HTTP_BODY_TIMEOUT": "-1s"}, "--http-body-timeout"},
		{"negative idle timeout", []string{"dev", "--http-idle-timeout", "-5s"}, nil, "--http-idle-timeout"},
		{"negative auth-failure burst", []string{"controlplane", "--auth-fail-burst", "-1"}, nil, "--auth-fail-burst"},
		{"auth-failure rate not a number", []string{"gateway"}, map[string]string{"HERALD_AUTH_FAIL_RATE": "NaN"}, "--auth-fail-rate"},
		{"profiler on every interface", []string{"dev", "--pprof-addr", ":6060"}, nil, "--pprof-addr"},
		{"profiler on a public address", []string{"controlplane"}, map[string]string{"HERALD_PPROF_ADDR": "10.1.2.3:6060"}, "--pprof-addr"},
		{"profiler address without a port", []string{"gateway", "--pprof-addr", "127.0.0.1"}, nil, "--pprof-addr"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, func(k string) string { return tc.env[k] }, &stdout, &stderr)
			if code != 2 || !strings.Contains(stderr.String(), tc.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and a message naming %s", code, stderr.String(), tc.want)
			}
		})
	}
}
