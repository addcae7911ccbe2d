package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/heraldhq/herald/cmd/herald/internal/adminclient"
	"github.com/heraldhq/herald/cmd/herald/internal/config"
	"github.com/heraldhq/herald/internal/platform"
)

// adminTarget is the server `herald admin` talks to and how it was found.
type adminTarget struct {
	url, token string
	// fromDataDir says that the URL came from herald dev's data folder,
	// dataDir.
	fromDataDir bool
	dataDir     string
	// note, when not empty, says what was taken from the data folder; it
	// is printed on stderr before the command runs.
	note string
}

// resolveAdminTarget picks the URL and token: --url/--admin-token (or
// their environment variables) win; what they leave out comes from the
// data folder of herald dev, which keeps the URL it serves on and its
// bootstrap token (platform.URLFile, platform.AdminTokenFile). The
// folder's token goes only to the folder's server, never to another URL.
func resolveAdminTarget(g adminGlobals) (adminTarget, error) {
	t := adminTarget{token: g.token, dataDir: filepath.Clean(g.dataDir)}
	if g.url != "" {
		u, err := adminBaseURL(g.url)
		if err != nil {
			return t, err
		}
		t.url = u
	}
	if t.url != "" && t.token != "" {
		return t, nil
	}
	dir := t.dataDir
	folderURL, _ := readDataFile(dir, platform.URLFile)
	folderToken, tokenErr := readDataFile(dir, platform.AdminTokenFile)
	devURL := folderURL
	if devURL == "" {
		devURL = defaultAdminURL // a dev from before the URL file, or not started yet
	}
	var used []string
	if t.url == "" {
		t.url = devURL
		if folderURL != "" {
			t.fromDataDir = true
			used = append(used, folderURL)
		}
	}
	if t.token == "" {
		switch {
		case folderToken != "" && sameURL(t.url, devURL):
			t.token = folderToken
			used = append(used, "the admin token")
		case folderToken != "":
			return t, usagef("no admin token for %s: pass --admin-token or set %s (the token in %s is herald dev's, at %s)",
				t.url, config.EnvName("admin-token"), dir, devURL)
		case tokenErr != nil && !errors.Is(tokenErr, fs.ErrNotExist):
			return t, usagef("no admin token: pass --admin-token or set %s (%v)", config.EnvName("admin-token"), tokenErr)
		default:
			return t, usagef("no admin token: pass --admin-token or set %s, or start herald dev, which keeps one in its data folder (%s; another with --data-dir)",
				config.EnvName("admin-token"), dir)
		}
	}
	if len(used) > 0 {
		t.note = fmt.Sprintf("using %s from %s (herald dev's data folder)", strings.Join(used, " and "), dir)
	}
	return t, nil
}

// adminAPIPath is where a server serves the admin API. The banner of
// herald dev shows the API's URL with it, so a --url copied from there
// ends with it.
const adminAPIPath = "/admin/v1"

// adminBaseURL checks that raw is a server's base URL and returns it
// without a trailing slash or adminAPIPath.
func adminBaseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err == nil && ((u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		err = errors.New("want http:// or https:// and a host")
	}
	if err == nil && (u.RawQuery != "" || u.Fragment != "" || u.ForceQuery) {
		err = errors.New("a base URL has no query or fragment")
	}
	if err != nil {
		return "", usagef("--url %q: %v: give the server's base URL, such as %s", raw, err, defaultAdminURL)
	}
	u.Path = strings.TrimSuffix(strings.TrimRight(u.Path, "/"), adminAPIPath)
	u.RawPath = ""
	return strings.TrimRight(u.String(), "/"), nil
}

// readDataFile returns the trimmed content of a file of the data folder.
func readDataFile(dir, name string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// sameURL compares base URLs, ignoring case and a trailing slash.
func sameURL(a, b string) bool {
	return strings.EqualFold(strings.TrimRight(a, "/"), strings.TrimRight(b, "/"))
}

// explain rewrites a refused connection, or an answer that is not the
// admin API's, as what to do about it; other errors are returned as they
// are.
func (t adminTarget) explain(err error) error {
	if na := (*adminclient.NotAPIError)(nil); errors.As(err, &na) {
		return fmt.Errorf("%w: is %s Herald's base URL? --url (or %s) takes the server's base URL, such as %s",
			err, t.url, config.EnvName("url"), defaultAdminURL)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return err
	}
	if t.fromDataDir {
		return fmt.Errorf("the herald dev of %s is not running: nothing answers at %s, where it last served; start it, or pass --url (or set %s) for another server",
			t.dataDir, t.url, config.EnvName("url"))
	}
	return fmt.Errorf("nothing answers at %s (connection refused): is Herald running there? Pass --url (or set %s) for another address",
		t.url, config.EnvName("url"))
}
