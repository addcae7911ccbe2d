package platform

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// demoTarget is the demo app on addr.
func demoTarget(addr string) clientTarget {
	return clientTarget{addr: addr, appID: DefaultDevAppID, key: DefaultDevAppKey, secret: DefaultDevAppSecret}
}

// TestClientSnippets pins the banner's client settings for the default
// address, as a newcomer pastes them.
func TestClientSnippets(t *testing.T) {
	want := `  pusher-js     const pusher = new Pusher("app-key", {
                  cluster: "mt1", wsHost: "127.0.0.1", wsPort: 6001, forceTLS: false, enabledTransports: ["ws", "wss"],
                });
  Node server   new Pusher({ appId: "app-id", key: "app-key", secret: "app-secret", host: "127.0.0.1", port: "6001", useTLS: false })  (npm pusher)
  Go server     pusher.Client{AppID: "app-id", Key: "app-key", Secret: "app-secret", Host: "127.0.0.1:6001", Secure: false}  (pusher-http-go)
  More clients  docs/clients.md (Laravel Echo, private and presence channels)
`
	if got := clientSnippets(demoTarget(DefaultAddr)); got != want {
		t.Errorf("clientSnippets:\n%s\nwant:\n%s", got, want)
	}
}

// TestClientSnippetsFollowConfig checks that each snippet is filled in with
// the bound address, the TLS choice and the WebSocket path prefix, in the
// form its client wants (pusher-js wants wsPort or wssPort to match
// forceTLS; the npm SDK a string port; pusher-http-go host:port).
func TestClientSnippetsFollowConfig(t *testing.T) {
	withTLS := demoTarget("127.0.0.1:6443")
	withTLS.tls = true
	withPath := demoTarget("127.0.0.1:6001")
	withPath.wsPath = "/realtime"
	tests := []struct {
		name   string
		target clientTarget
		want   []string
	}{
		{"other address", demoTarget("192.0.2.7:7001"), []string{
			`cluster: "mt1", wsHost: "192.0.2.7", wsPort: 7001, forceTLS: false, enabledTransports: ["ws", "wss"],`,
			`host: "192.0.2.7", port: "7001", useTLS: false })`,
			`Host: "192.0.2.7:7001", Secure: false}`,
		}},
		{"TLS", withTLS, []string{
			`cluster: "mt1", wsHost: "127.0.0.1", wssPort: 6443, forceTLS: true, enabledTransports: ["ws", "wss"],`,
			`host: "127.0.0.1", port: "6443", useTLS: true })`,
			`Host: "127.0.0.1:6443", Secure: true}`,
		}},
		{"path prefix", withPath, []string{
			`cluster: "mt1", wsHost: "127.0.0.1", wsPort: 6001, wsPath: "/realtime", forceTLS: false, enabledTransports: ["ws", "wss"],`,
			`host: "127.0.0.1", port: "6001", useTLS: false })`,
			`Host: "127.0.0.1:6001", Secure: false}`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := clientSnippets(tt.target)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("snippets lack %s:\n%s", w, got)
				}
			}
		})
	}
}

// TestClientSnippetHosts checks the host every snippet dials: a wildcard
// listen address becomes the loopback address of its family, and IPv6 is
// bracketed where a URL is built from it.
func TestClientSnippetHosts(t *testing.T) {
	tests := []struct {
		addr, wsHost, npmHost, goHost string
	}{
		{"0.0.0.0:6001", `wsHost: "127.0.0.1"`, `host: "127.0.0.1"`, `Host: "127.0.0.1:6001"`},
		{"[::]:6001", `wsHost: "[::1]"`, `host: "[::1]"`, `Host: "[::1]:6001"`},
		{"[::1]:6001", `wsHost: "[::1]"`, `host: "[::1]"`, `Host: "[::1]:6001"`},
		{"localhost:6001", `wsHost: "localhost"`, `host: "localhost"`, `Host: "localhost:6001"`},
	}
	for _, tt := range tests {
		got := clientSnippets(demoTarget(tt.addr))
		for _, want := range []string{tt.wsHost, tt.npmHost, tt.goHost} {
			if !strings.Contains(got, want) {
				t.Errorf("%s: snippets lack %s:\n%s", tt.addr, want, got)
			}
		}
	}
}

func TestBuiltByGoRun(t *testing.T) {
	tests := []struct {
		exe  string
		want bool
	}{
		{"/root/.cache/go-build/69/69eb22da8ea659752f6c4b921f509585640f60f56011c4b470b55de6486bdb3d-d/herald", true},
		{"/Users/me/Library/Caches/go-build/0a/0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9-d/herald", true},
		{"/tmp/go-build3957713052/b001/exe/herald", true},
		{"/home/me/.cache/gotmp/go-build123/b001/exe/herald", true},
		{"/private/var/folders/xy/T/go-build42/b001/exe/herald", true},
		{"/usr/local/bin/herald", false},
		{"/home/me/herald/bin/herald", false},
		{"/tmp/exe/herald", false},
		{"/tmp/go-build1/b001/herald.test", false},
		{"/opt/ab/release-d/herald", false},
		{"/opt/herald/0a1b2c3d4e5f60718293a4b5c6d7e8f9-d/herald", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := builtByGoRun(tt.exe); got != tt.want {
			t.Errorf("builtByGoRun(%q) = %v, want %v", tt.exe, got, tt.want)
		}
	}
}

func TestCLICommand(t *testing.T) {
	tests := []struct {
		exe, arg0, want string
	}{
		{"/tmp/go-build1/b001/exe/herald", "/tmp/go-build1/b001/exe/herald", "go run ./cmd/herald"},
		{"/usr/local/bin/herald", "herald", "herald"},
		{"/src/herald/bin/herald", "./bin/herald", "./bin/herald"},
		{"/opt/my tools/herald", "/opt/my tools/herald", "'/opt/my tools/herald'"},
	}
	for _, tt := range tests {
		if got := cliCommand(tt.exe, tt.arg0); got != tt.want {
			t.Errorf("cliCommand(%q, %q) = %q, want %q", tt.exe, tt.arg0, got, tt.want)
		}
	}
}

func TestTryLine(t *testing.T) {
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		cmd, dataDir, want string
	}{
		{"herald", DefaultDataDir, "Try: herald admin apps list"},
		{"herald", ".herald", "Try: herald admin apps list"},
		{"go run ./cmd/herald", filepath.Join(cwd, ".herald"), "Try: go run ./cmd/herald admin apps list"},
		{"herald", "/var/lib/herald", "Try: herald admin --data-dir /var/lib/herald apps list"},
		{"herald", "other/.herald", "Try: herald admin --data-dir other/.herald apps list"},
		{"herald", "/tmp/it's here", `Try: herald admin --data-dir '/tmp/it'\''s here' apps list`},
	}
	for _, tt := range tests {
		if got := tryLine(tt.cmd, tt.dataDir); got != tt.want {
			t.Errorf("tryLine(%q, %q) = %q, want %q", tt.cmd, tt.dataDir, got, tt.want)
		}
	}
}

// TestBannerLines checks what the banner says around the snippets: the
// admin token on its own line and nowhere else, the console's URL, the
// snippets with the bound address, and a Try line for this data folder.
func TestBannerLines(t *testing.T) {
	var out strings.Builder
	p := &Platform{
		cfg: Config{
			DataDir: "/srv/herald-data", DevAppID: DefaultDevAppID, DevAppKey: DefaultDevAppKey,
			DevAppSecret: DefaultDevAppSecret, Stdout: &out,
		},
		addr:       "127.0.0.1:7002",
		adminToken: "hat_example",
	}
	p.printBanner()
	banner := out.String()
	for _, want := range []string{
		"  Admin token   hat_example\n",
		"  Console       http://127.0.0.1:7002/console/  (sign in with the admin token)\n",
		`wsHost: "127.0.0.1", wsPort: 7002,`,
		"admin --data-dir /srv/herald-data apps list\n",
	} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	if n := strings.Count(banner, "hat_example"); n != 1 {
		t.Errorf("the admin token appears %d times, want once:\n%s", n, banner)
	}
}
