package platform

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestDataFolderLockNamesHolder: a second dev on one data folder is
// refused with the pid of the first and the flag that picks another. The
// lock is an flock, per open file, so a second Platform in this process
// conflicts as another process would.
func TestDataFolderLockNamesHolder(t *testing.T) {
	dir := t.TempDir()
	first, err := New(Config{Mode: ModeDev, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.lockDataDir(); err != nil {
		t.Fatalf("first lock: %v", err)
	}
	second, err := New(Config{Mode: ModeDev, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	err = second.lockDataDir()
	want := "data folder " + dir + " is in use by herald dev (pid " + strconv.Itoa(os.Getpid()) + "); stop it, or pick another folder with --data-dir"
	if err == nil || err.Error() != want {
		t.Fatalf("second lock: %v, want %q", err, want)
	}
	if err := first.shutdown(); err != nil {
		t.Fatal(err)
	}
	if err := second.lockDataDir(); err != nil {
		t.Fatalf("lock after the first released it: %v", err)
	}
	_ = second.shutdown()
}

// TestWriteURLFile: the URL file holds an address a client here can dial.
func TestWriteURLFile(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{"127.0.0.1:6101", "http://127.0.0.1:6101"},
		{"0.0.0.0:6001", "http://127.0.0.1:6001"},
		{"[::]:6001", "http://[::1]:6001"},
		{"[::1]:7000", "http://[::1]:7000"},
	} {
		p := &Platform{cfg: Config{Mode: ModeDev, DataDir: t.TempDir()}, addr: tc.addr}
		if err := p.writeURLFile(); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(p.cfg.DataDir, URLFile))
		if err != nil || strings.TrimSpace(string(b)) != tc.want {
			t.Errorf("%s: url file %q (%v), want %s", tc.addr, b, err, tc.want)
		}
	}
}
