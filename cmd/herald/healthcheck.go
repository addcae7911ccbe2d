package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/heraldhq/herald/cmd/herald/internal/config"
	"github.com/heraldhq/herald/internal/platform"
)

// healthcheckTimeout bounds the whole probe: a container runtime runs it
// every few seconds, and a readiness check answers within
// ops.DefaultCheckTimeout, so anything slower is itself a failure.
const healthcheckTimeout = 3 * time.Second

// healthcheckPath is the readiness endpoint every server mode serves
// (internal/ops): 200 when its dependencies answer, 503 otherwise and as
// soon as a gateway starts draining.
const healthcheckPath = "/readyz"

const healthcheckUsage = `Usage: herald healthcheck [flags]

Probes a Herald process's readiness (GET /readyz) and exits 0 when it
answers 200, else 1 with one line saying why, and 2 for a mistake in the
command line. It reads the same --addr (HERALD_ADDR) and --tls-cert
(HERALD_TLS_CERT) as the server, so in a container "herald healthcheck"
needs no arguments and no shell. A --url without a path (the server's
base URL, as herald admin takes it) is probed at /readyz; one with a
path, as given.

`

// runHealthcheck is `herald healthcheck`, the probe of the container
// image's HEALTHCHECK.
func runHealthcheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("herald healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, healthcheckUsage); fs.PrintDefaults() }
	addr := fs.String("addr", platform.DefaultAddr, "the server's listen address; an unspecified host (\":6001\", \"0.0.0.0:6001\") is probed on loopback")
	tlsCert := fs.String("tls-cert", "", "the server's certificate: when set, probe over HTTPS (without verifying it: the probe is local and sends nothing secret)")
	rawURL := fs.String("url", "", "URL to probe instead of one built from --addr: a base URL (http://10.0.0.5:6001) is probed at "+healthcheckPath+", a URL with a path as given")
	if err := config.Parse(fs, args, getenv); err != nil {
		return usageError(err)
	}
	// The flag package stops at the first argument: flags after one would
	// be ignored along with it.
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "herald healthcheck: takes no arguments, got %q\n\n", strings.Join(fs.Args(), " "))
		fs.Usage()
		return 2
	}
	target := readyzOf(*rawURL)
	if target == "" {
		u, err := readyzURL(*addr, *tlsCert != "")
		if err != nil {
			fmt.Fprintf(stderr, "herald healthcheck: %v\n", err)
			return 1
		}
		target = u
	}
	if err := probeReady(ctx, target); err != nil {
		fmt.Fprintf(stderr, "herald healthcheck: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "herald healthcheck: %s ready\n", target)
	return 0
}

// readyzURL builds the readiness URL of a server listening on addr.
func readyzURL(addr string, https bool) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("--addr %q: %w", addr, err)
	}
	if port == "0" {
		return "", fmt.Errorf("--addr %q has a random port: give --url", addr)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	scheme := "http"
	if https {
		scheme = "https"
	}
	u := url.URL{Scheme: scheme, Host: net.JoinHostPort(host, port), Path: healthcheckPath}
	return u.String(), nil
}

// readyzOf returns the URL to probe for --url raw: raw itself when it has
// a path, else its /readyz, since the server's root is the console's page,
// which answers 200 whether the server is ready or not. A raw that does
// not parse is returned as it is, for the probe to say why.
func readyzOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || raw == "" || (u.Path != "" && u.Path != "/") || u.Opaque != "" {
		return raw
	}
	u.Path = healthcheckPath
	return u.String()
}

// errNotReady is returned when the server answers with anything but 200.
var errNotReady = errors.New("not ready")

// probeReady GETs target and returns nil on 200.
func probeReady(ctx context.Context, target string) error {
	ctx, cancel := context.WithTimeout(ctx, healthcheckTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("--url: %w", err)
	}
	client := &http.Client{Transport: &http.Transport{
		// #nosec G402 -- a loopback probe of the process's own certificate,
		// which may be issued for a public name, not for 127.0.0.1.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
		Proxy:           nil, // an HTTP_PROXY in the environment must not catch the probe
	}}
	resp, err := client.Do(req)
	if err != nil {
		return err // names the method, the URL and the cause
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %w: %s", target, errNotReady, resp.Status)
	}
	return nil
}
