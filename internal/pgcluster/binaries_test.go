package pgcluster

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeInstall creates dir with executable files named after the programs.
func fakeInstall(tb testing.TB, dir string, programs ...string) string {
	tb.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	for _, p := range programs {
		if err := os.WriteFile(filepath.Join(dir, p), []byte("#!/bin/sh\n"), 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

func TestFindBinaries(t *testing.T) {
	root := t.TempDir()
	v9 := fakeInstall(t, filepath.Join(root, "lib", "9.6", "bin"), "initdb", "pg_ctl", "postgres")
	v15 := fakeInstall(t, filepath.Join(root, "lib", "15", "bin"), "initdb", "pg_ctl", "postgres")
	fakeInstall(t, filepath.Join(root, "lib", "16", "bin"), "initdb", "pg_ctl") // incomplete
	glob := filepath.Join(root, "lib", "*", "bin")

	// A PATH folder with a symlink to initdb, as /usr/local/bin/initdb -> /usr/lib/postgresql/15/bin/initdb.
	linked := filepath.Join(root, "localbin")
	if err := os.MkdirAll(linked, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range requiredBinaries {
		if err := os.Symlink(filepath.Join(v9, p), filepath.Join(linked, p)); err != nil {
			t.Fatal(err)
		}
	}
	empty := t.TempDir()

	tests := []struct {
		name    string
		dir     string
		path    string
		glob    string
		want    string
		wantErr error
	}{
		{name: "explicit folder", dir: v15, glob: glob, want: v15},
		{name: "explicit folder lacking programs", dir: empty, glob: glob, wantErr: ErrNoBinaries},
		{name: "PATH symlink resolved", path: empty + ":" + linked, glob: glob, want: v9},
		{name: "relative PATH entry ignored", path: ".", glob: glob, want: v15},
		{name: "highest complete installed version", path: empty, glob: glob, want: v15},
		{name: "nothing anywhere", path: empty, glob: filepath.Join(empty, "*", "bin"), wantErr: ErrNoBinaries},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := findBinaries(tt.dir, tt.path, tt.glob)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("findBinaries = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestErrNoBinariesTellsWhatToDo(t *testing.T) {
	_, err := FindBinaries(t.TempDir())
	if !errors.Is(err, ErrNoBinaries) {
		t.Fatalf("FindBinaries(empty folder) = %v, want ErrNoBinaries", err)
	}
	for _, hint := range []string{"apt-get install postgresql", "--database-url"} {
		if !strings.Contains(err.Error(), hint) {
			t.Errorf("error %q does not mention %q", err, hint)
		}
	}
}

// TestFindBinariesHere checks the real installation the other tests use.
func TestFindBinariesHere(t *testing.T) {
	dir, err := FindBinaries("")
	if err != nil {
		t.Fatal(err)
	}
	if err := checkBinaries(dir); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(filepath.Join(dir, "pg_ctl")); err != nil || fi.Mode()&os.ModeSymlink != 0 {
		t.Errorf("FindBinaries = %s, want the real installation, not a folder of links", dir)
	}
}

func TestVersionLess(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"9.6", "15", true},
		{"15", "9.6", false},
		{"15", "16", true},
		{"16", "16", false},
		{"9.5", "9.6", true},
		{"15", "15.1", true},
	}
	for _, tt := range tests {
		if got := versionLess(tt.a, tt.b); got != tt.want {
			t.Errorf("versionLess(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
