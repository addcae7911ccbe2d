package platform

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/heraldhq/herald/controlplane/console"
)

// printBanner tells a newcomer what is running and how to reach it. It goes
// to stdout, never to the structured log, because it holds the demo secret
// and the admin token.
func (p *Platform) printBanner() {
	u := p.URL()
	var b strings.Builder
	wsScheme := "ws://"
	if p.cfg.TLS.enabled() {
		wsScheme = "wss://"
	}
	ws := wsScheme + p.addr + p.cfg.WSPathPrefix + "/app/" + p.cfg.DevAppKey + "?protocol=7"
	fmt.Fprintf(&b, "\n  Herald dev is running\n\n")
	fmt.Fprintf(&b, "  WebSocket     %s\n", ws)
	fmt.Fprintf(&b, "  Publish       POST %s/apps/%s/events  (Pusher-signed, or Basic key:secret)\n", u, p.cfg.DevAppID)
	fmt.Fprintf(&b, "  Admin API     %s/admin/v1  (OpenAPI: %s/admin/v1/openapi.json)\n", u, u)
	fmt.Fprintf(&b, "  Console       %s%s  (sign in with the admin token)\n", u, console.Path)
	fmt.Fprintf(&b, "  Admin token   %s\n", p.adminToken)
	fmt.Fprintf(&b, "  Health        %s/healthz  %s/readyz  %s/metrics\n", u, u, u)
	fmt.Fprintf(&b, "\n  Demo app      id %s   key %s   secret %s\n", p.cfg.DevAppID, p.cfg.DevAppKey, p.cfg.DevAppSecret)
	fmt.Fprintf(&b, "  Data folder   %s\n", p.cfg.DataDir)
	switch {
	case p.cfg.DatabaseURL != "":
		fmt.Fprintf(&b, "  Postgres      the database given by --database-url\n")
	case p.parts.pgCluster != nil:
		fmt.Fprintf(&b, "  Postgres      managed cluster in %s\n", p.parts.pgCluster.Dir())
	}
	if p.natsURL != "" {
		fmt.Fprintf(&b, "  NATS          %s\n", p.natsURL)
	} else {
		fmt.Fprintf(&b, "  NATS          embedded, in-process only (set --nats-port to open a listener)\n")
	}
	b.WriteString("\n")
	b.WriteString(clientSnippets(clientTarget{
		addr: p.addr, tls: p.cfg.TLS.enabled(), wsPath: p.cfg.WSPathPrefix,
		appID: p.cfg.DevAppID, key: p.cfg.DevAppKey, secret: p.cfg.DevAppSecret,
	}))
	exe, _ := os.Executable()
	fmt.Fprintf(&b, "\n  %s\n\n", tryLine(cliCommand(exe, os.Args[0]), p.cfg.DataDir))
	fmt.Fprint(p.cfg.Stdout, b.String())
}

// clientTarget is what a client needs to reach one Herald's demo app.
type clientTarget struct {
	// addr is the bound host:port.
	addr string
	tls  bool
	// wsPath is --ws-path-prefix ("/ws"), or empty.
	wsPath             string
	appID, key, secret string
}

// loopbackFor replaces a wildcard listen host, which a client cannot dial,
// with the loopback address of its family.
var loopbackFor = map[string]string{"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}

// hostPort returns the host as a client writes it (IPv6 in brackets) and
// the port.
func (t clientTarget) hostPort() (host, port string) {
	host, port, err := net.SplitHostPort(t.addr)
	if err != nil {
		// Not host:port (never the case for a bound address): show it whole.
		return t.addr, ""
	}
	if lo, ok := loopbackFor[host]; ok {
		host = lo
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return host, port
}

// clientSnippets returns, indented for the banner, paste-ready settings
// for t: a pusher-js statement, the options of the `pusher` npm server SDK
// and pusher-http-go's Client. docs/clients.md has the long form with
// Laravel Echo. The JavaScript end-to-end suite runs the pusher-js
// statement as the banner prints it (test/banner-snippet.test.mjs).
func clientSnippets(t clientTarget) string {
	host, port := t.hostPort()
	// pusher-js dials wsPort without TLS and wssPort with it; forceTLS
	// picks one. Without forceTLS: false, pusher-js in a browser on an
	// https page, or with Pusher's defaults, dials wss on 443.
	portOpt := "wsPort"
	if t.tls {
		portOpt = "wssPort"
	}
	opts := fmt.Sprintf(`cluster: "mt1", wsHost: %s, %s: %s, `, jsString(host), portOpt, port)
	if t.wsPath != "" {
		opts += fmt.Sprintf("wsPath: %s, ", jsString(t.wsPath))
	}
	opts += fmt.Sprintf(`forceTLS: %t, enabledTransports: ["ws", "wss"],`, t.tls)

	var b strings.Builder
	fmt.Fprintf(&b, "  pusher-js     const pusher = new Pusher(%s, {\n", jsString(t.key))
	fmt.Fprintf(&b, "                  %s\n", opts)
	fmt.Fprintf(&b, "                });\n")
	fmt.Fprintf(&b, "  Node server   new Pusher({ appId: %s, key: %s, secret: %s, host: %s, port: %s, useTLS: %t })  (npm pusher)\n",
		jsString(t.appID), jsString(t.key), jsString(t.secret), jsString(host), jsString(port), t.tls)
	fmt.Fprintf(&b, "  Go server     pusher.Client{AppID: %s, Key: %s, Secret: %s, Host: %s, Secure: %t}  (pusher-http-go)\n",
		strconv.Quote(t.appID), strconv.Quote(t.key), strconv.Quote(t.secret), strconv.Quote(net.JoinHostPort(strings.Trim(host, "[]"), port)), t.tls)
	fmt.Fprintf(&b, "  More clients  docs/clients.md (Laravel Echo, private and presence channels)\n")
	return b.String()
}

// jsString is s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s) // a string always encodes
	return string(b)
}

// goRunCommand is how to run herald from the repository's root when this
// process was started with go run.
const goRunCommand = "go run ./cmd/herald"

// cliCommand is how the user runs herald again from the same folder: "go
// run ./cmd/herald" when this process is a binary go run built (exe is
// its os.Executable), otherwise the path it was started by (arg0) when
// that has a folder in it, and plain "herald" when it was found on PATH.
func cliCommand(exe, arg0 string) string {
	switch {
	case builtByGoRun(exe):
		return goRunCommand
	case strings.ContainsRune(arg0, filepath.Separator):
		return shellQuote(arg0)
	default:
		return "herald"
	}
}

// builtByGoRun reports whether exe is a binary go run built. Since Go
// 1.24 go run keeps it in the build cache, as
// <GOCACHE>/<2 hex digits>/<hash>-d/<name>; before, and when it cannot
// cache, in <temporary folder>/go-build<n>/b<n>/exe/<name>. Both layouts
// are the same on every system and for any GOCACHE or GOTMPDIR, so the
// check needs neither.
func builtByGoRun(exe string) bool {
	if exe == "" {
		return false
	}
	dir := filepath.Dir(exe)
	if cachedExeDir.MatchString(filepath.Base(dir)) && cacheShardDir.MatchString(filepath.Base(filepath.Dir(dir))) {
		return true
	}
	if filepath.Base(dir) != "exe" {
		return false
	}
	buildDir := filepath.Dir(filepath.Dir(dir))
	return strings.HasPrefix(filepath.Base(buildDir), "go-build")
}

// The build cache's folders around a cached executable.
var (
	cachedExeDir  = regexp.MustCompile(`^[0-9a-f]{16,}-d$`)
	cacheShardDir = regexp.MustCompile(`^[0-9a-f]{2}$`)
)

// tryLine suggests a first admin command. The admin CLI finds the URL and
// the admin token in the data folder itself, so the line names the folder
// only when it is not the default one in the current folder.
func tryLine(cmd, dataDir string) string {
	if !sameDir(dataDir, DefaultDataDir) {
		cmd += " admin --data-dir " + shellQuote(dataDir)
	} else {
		cmd += " admin"
	}
	return "Try: " + cmd + " apps list"
}

// sameDir reports whether two paths name the same folder from the
// current one.
func sameDir(a, b string) bool {
	absA, errA := filepath.Abs(a)
	absB, errB := filepath.Abs(b)
	if errA != nil || errB != nil {
		return filepath.Clean(a) == filepath.Clean(b)
	}
	return absA == absB
}

// shellSafe matches words a POSIX shell takes literally.
var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_./:@%+=,-]+$`)

// shellQuote returns s as one shell word.
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
