package pgcluster

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestDirFor(t *testing.T) {
	shared := func(dataDir string) string {
		sum := sha256.Sum256([]byte(dataDir))
		return "/var/tmp/herald-pg-" + hex.EncodeToString(sum[:])[:12]
	}
	long := "/home/someone/" + strings.Repeat("x", 80)
	tests := []struct {
		name    string
		dataDir string
		root    bool
		want    string
	}{
		{name: "user keeps it in the data folder", dataDir: "/home/a/.herald", want: "/home/a/.herald/postgres"},
		{name: "root uses /var/tmp", dataDir: "/home/a/.herald", root: true, want: shared("/home/a/.herald")},
		{name: "socket path too long", dataDir: long, want: shared(long)},
		{name: "shell metacharacters", dataDir: "/home/a/$x", want: shared("/home/a/$x")},
		{name: "cleaned", dataDir: "/home/a/./b/../.herald/", root: true, want: shared("/home/a/.herald")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := dirFor(tt.dataDir, tt.root)
			if err != nil || got != tt.want {
				t.Fatalf("dirFor(%q, root=%v) = %q, %v; want %q", tt.dataDir, tt.root, got, err, tt.want)
			}
			if _, err := newLayout(got); err != nil {
				t.Errorf("the chosen folder is unusable: %v", err)
			}
		})
	}
}

func TestDirForRelative(t *testing.T) {
	abs, err := filepath.Abs("data")
	if err != nil {
		t.Fatal(err)
	}
	a, err1 := DirFor("data")
	b, err2 := DirFor(abs)
	if err := errors.Join(err1, err2); err != nil || a != b {
		t.Fatalf("DirFor(relative) = %q, DirFor(absolute) = %q, %v", a, b, err)
	}
}

func TestSocketPathLimit(t *testing.T) {
	// The socket path is <dir>/sock/.s.PGSQL.5432: 19 bytes after dir.
	const suffix = len("/sock/.s.PGSQL.5432")
	fits := "/" + strings.Repeat("a", MaxSocketPath-suffix-1)
	if _, err := newLayout(fits); err != nil {
		t.Errorf("a %d-byte socket path is refused: %v", MaxSocketPath, err)
	}
	if _, err := newLayout(fits + "a"); !errors.Is(err, ErrSocketPathTooLong) {
		t.Errorf("a %d-byte socket path: err = %v, want ErrSocketPathTooLong", MaxSocketPath+1, err)
	}
}

func TestURL(t *testing.T) {
	c := &Cluster{layout: layout{socket: "/var/tmp/herald pg/sock"}, database: "herald"}
	tests := []struct{ db, want string }{
		{"", "postgres://herald@/herald?host=/var/tmp/herald%20pg/sock&port=5432&sslmode=disable"},
		{"t_x", "postgres://herald@/t_x?host=/var/tmp/herald%20pg/sock&port=5432&sslmode=disable"},
	}
	for _, tt := range tests {
		got := c.URL(tt.db)
		if got != tt.want {
			t.Errorf("URL(%q) = %q, want %q", tt.db, got, tt.want)
		}
		// PGPORT in the environment must not redirect the URL.
		t.Setenv("PGPORT", "1")
		cfg, err := pgconn.ParseConfig(got)
		if err != nil {
			t.Fatalf("pgx cannot parse %q: %v", got, err)
		}
		wantDB := tt.db
		if wantDB == "" {
			wantDB = "herald"
		}
		if cfg.Host != c.layout.socket || cfg.Port != Port || cfg.Database != wantDB || cfg.User != Superuser {
			t.Errorf("pgx reads %q as host=%q port=%d database=%q user=%q", got, cfg.Host, cfg.Port, cfg.Database, cfg.User)
		}
	}
}
