package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/platform"
)

// devFolder writes a data folder as herald dev leaves it: the URL it
// serves on and its admin token.
func devFolder(tb testing.TB, url, token string) string {
	tb.Helper()
	dir := tb.TempDir()
	for name, content := range map[string]string{platform.URLFile: url, platform.AdminTokenFile: token} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content+"\n"), 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// closedURL is the URL of a loopback port nothing listens on.
func closedURL(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

func runAdminEnv(env map[string]string, args ...string) cliResult {
	var stdout, stderr bytes.Buffer
	code := runAdmin(context.Background(), args, func(k string) string { return env[k] }, &stdout, &stderr)
	return cliResult{code, stdout.String(), stderr.String()}
}

// TestAdminFindsDevServer: without --url and --admin-token, herald admin
// uses what herald dev left in its data folder (--data-dir or
// HERALD_DATA_DIR), and says so on stderr.
func TestAdminFindsDevServer(t *testing.T) {
	url := adminServer(t)
	dir := devFolder(t, url, adminTestToken)
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"flag", nil, []string{"--data-dir", dir, "accounts", "list"}},
		{"environment", map[string]string{"HERALD_DATA_DIR": dir}, []string{"accounts", "list"}},
		{"flag after the action", nil, []string{"accounts", "list", "--data-dir", dir}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runAdminEnv(tc.env, tc.args...)
			if r.code != 0 {
				t.Fatalf("exit %d\n%s", r.code, r.stderr)
			}
			want := "herald admin: using " + url + " and the admin token from " + dir + " (herald dev's data folder)\n"
			if !strings.HasPrefix(r.stderr, want) {
				t.Errorf("stderr = %q, want it to start with %q", r.stderr, want)
			}
			if !strings.Contains(r.stdout, "NAME") {
				t.Errorf("no table on stdout: %q", r.stdout)
			}
		})
	}
	t.Run("explicit url and token win", func(t *testing.T) {
		other := devFolder(t, closedURL(t), "not-the-token")
		r := runAdminEnv(map[string]string{"HERALD_URL": url, "HERALD_ADMIN_TOKEN": adminTestToken}, "--data-dir", other, "accounts", "list")
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
	t.Run("explicit token, folder's url", func(t *testing.T) {
		r := runAdminEnv(map[string]string{"HERALD_ADMIN_TOKEN": adminTestToken, "HERALD_DATA_DIR": devFolder(t, url, "other")}, "accounts", "list")
		if r.code != 0 || !strings.Contains(r.stderr, "using "+url+" from ") {
			t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
}

// TestAdminTargetRefusals: the folder's token never goes to another URL,
// a missing token says where one comes from, and a server that is not
// running is named with the flag that picks another.
func TestAdminTargetRefusals(t *testing.T) {
	devURL := closedURL(t)
	dir := devFolder(t, devURL, "dev-token")
	cases := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want []string
	}{
		{
			name: "another url", args: []string{"--data-dir", dir, "--url", "http://example.invalid:1", "apps", "list"}, code: 2,
			want: []string{"no admin token for http://example.invalid:1", "--admin-token", "herald dev's, at " + devURL},
		},
		{
			name: "no data folder", args: []string{"--data-dir", filepath.Join(t.TempDir(), "none"), "apps", "list"}, code: 2,
			want: []string{"no admin token", "--admin-token", "HERALD_ADMIN_TOKEN", "--data-dir"},
		},
		{
			name: "dev not running", args: []string{"--data-dir", dir, "apps", "list"}, code: 1,
			want: []string{"the herald dev of " + dir + " is not running", "nothing answers at " + devURL, "--url"},
		},
		{
			name: "nothing at an explicit url", env: map[string]string{"HERALD_ADMIN_TOKEN": "t"},
			args: []string{"--url", devURL, "apps", "list"}, code: 1,
			want: []string{"nothing answers at " + devURL + " (connection refused)", "--url"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runAdminEnv(tc.env, tc.args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", r.code, tc.code, r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
		})
	}
}

func TestAdminBaseURL(t *testing.T) {
	t.Parallel()
	cases := []struct {
		raw, want string
		err       string // in the usage error; "" when none
	}{
		{"http://127.0.0.1:6001", "http://127.0.0.1:6001", ""},
		{"http://127.0.0.1:6001/", "http://127.0.0.1:6001", ""},
		{"http://127.0.0.1:6401/admin/v1", "http://127.0.0.1:6401", ""}, // as the banner shows it
		{"https://herald.example/admin/v1/", "https://herald.example", ""},
		{"https://example.com/herald/admin/v1", "https://example.com/herald", ""}, // behind a path prefix
		{"https://example.com/herald", "https://example.com/herald", ""},
		{"http://127.0.0.1:6401?x=1", "", "no query or fragment"},
		{"http://127.0.0.1:6401/?", "", "no query or fragment"},
		{"http://127.0.0.1:6401#top", "", "no query or fragment"},
		{"localhost:6001", "", "want http:// or https://"},
		{"ftp://herald.example", "", "want http:// or https://"},
		{"http:///admin/v1", "", "want http:// or https://"},
		{"http://[::1", "", "missing ']'"},
	}
	for _, tc := range cases {
		t.Run(tc.raw, func(t *testing.T) {
			got, err := adminBaseURL(tc.raw)
			if tc.err == "" {
				if err != nil || got != tc.want {
					t.Fatalf("adminBaseURL = %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			var ue *adminUsageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "base URL") {
				t.Fatalf("adminBaseURL = %q, %v; want a usage error with %q", got, err, tc.err)
			}
		})
	}
}

// TestAdminURLIsTheServers: the API's own URL, as herald dev's banner shows
// it, works as --url, and a URL that leads elsewhere (here a page that
// answers every path with 200) is said so in one line.
func TestAdminURLIsTheServers(t *testing.T) {
	base := adminServer(t)
	env := map[string]string{"HERALD_ADMIN_TOKEN": adminTestToken}
	if r := runAdminEnv(env, "--url", base+"/admin/v1", "accounts", "list"); r.code != 0 || !strings.Contains(r.stdout, "NAME") {
		t.Fatalf("--url …/admin/v1: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("<!doctype html><title>console</title>"))
	}))
	t.Cleanup(page.Close)
	r := runAdminEnv(env, "--url", page.URL+"/console", "accounts", "list")
	if r.code != 1 || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("exit %d, want 1 and one line; stderr %q", r.code, r.stderr)
	}
	for _, w := range []string{"200 OK, text/html; charset=utf-8", "not JSON from Herald's admin API", page.URL + "/console", "base URL"} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr lacks %q: %q", w, r.stderr)
		}
	}
}
