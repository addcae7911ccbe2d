package main

import (
	"os"
	"path/filepath"
	"testing"
)

// A secret is generated once, kept private, and read back on the next
// start, so that the database's sealed values stay readable.
func TestKeptSecret(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	n := 0
	gen := func() string { n++; return "generated-secret" }
	s, created, err := keptSecret(path, gen)
	if err != nil || !created || s != "generated-secret" {
		t.Fatalf("first keptSecret = %q, %v, %v", s, created, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != filePerm {
		t.Fatalf("secret file mode = %v, want %v", st.Mode().Perm(), os.FileMode(filePerm))
	}
	s, created, err = keptSecret(path, gen)
	if err != nil || created || s != "generated-secret" || n != 1 {
		t.Fatalf("second keptSecret = %q, %v, %v (generated %d times)", s, created, err, n)
	}
}
