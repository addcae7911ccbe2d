package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

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
	t := adminTarget{url: g.url, token: g.token, dataDir: filepath.Clean(g.dataDir)}
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

// explainConnError rewrites a refused connection as what to do about it;
// other errors are returned as they are.
func (t adminTarget) explainConnError(err error) error {
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
