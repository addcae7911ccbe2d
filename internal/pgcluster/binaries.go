package pgcluster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// ErrNoBinaries is returned when the PostgreSQL server programs cannot be
// found. Its message tells the user what to do about it.
var ErrNoBinaries = errors.New("pgcluster: no PostgreSQL server binaries (initdb, pg_ctl, postgres) found: " +
	"install PostgreSQL (for example `apt-get install postgresql`) " +
	"or pass --database-url to use an existing database")

// DefaultInstallGlob matches the per-version binary folders of the Debian and
// Ubuntu packages, which do not put initdb and pg_ctl on PATH.
const DefaultInstallGlob = "/usr/lib/postgresql/*/bin"

// requiredBinaries are the programs a cluster needs. pg_ctl runs the postgres
// found next to itself, so all three must live in one folder.
var requiredBinaries = [...]string{"initdb", "pg_ctl", "postgres"}

// FindBinaries returns the folder holding initdb, pg_ctl and postgres. A
// non-empty dir is used as given (and checked); otherwise FindBinaries looks
// for initdb on PATH, following symbolic links to the real installation,
// then in the highest version under DefaultInstallGlob. It returns an error
// wrapping ErrNoBinaries when nothing fits.
func FindBinaries(dir string) (string, error) {
	return findBinaries(dir, os.Getenv("PATH"), DefaultInstallGlob)
}

func findBinaries(dir, pathList, installGlob string) (string, error) {
	if dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return "", fmt.Errorf("pgcluster: binaries folder: %w", err)
		}
		if err := checkBinaries(abs); err != nil {
			return "", fmt.Errorf("%w (%v)", ErrNoBinaries, err)
		}
		return abs, nil
	}
	if d, ok := binariesOnPath(pathList); ok {
		return d, nil
	}
	if d, ok := binariesInstalled(installGlob); ok {
		return d, nil
	}
	return "", fmt.Errorf("%w (searched PATH and %s)", ErrNoBinaries, installGlob)
}

// binariesOnPath finds initdb on pathList and returns the folder it really
// lives in, so that a /usr/local/bin symlink leads to the installation that
// also holds postgres.
func binariesOnPath(pathList string) (string, bool) {
	for _, d := range filepath.SplitList(pathList) {
		if d == "" || !filepath.IsAbs(d) {
			continue // like exec.LookPath, never trust the current folder
		}
		p, err := filepath.EvalSymlinks(filepath.Join(d, "initdb"))
		if err != nil {
			continue
		}
		bin := filepath.Dir(p)
		if checkBinaries(bin) == nil {
			return bin, true
		}
	}
	return "", false
}

// binariesInstalled returns the folder of the highest major version that
// matches installGlob and holds every required program.
func binariesInstalled(installGlob string) (string, bool) {
	dirs, err := filepath.Glob(installGlob)
	if err != nil {
		return "", false
	}
	// The version is the parent of bin: /usr/lib/postgresql/15/bin.
	sort.Slice(dirs, func(i, j int) bool {
		return versionLess(filepath.Base(filepath.Dir(dirs[j])), filepath.Base(filepath.Dir(dirs[i])))
	})
	for _, d := range dirs {
		if checkBinaries(d) == nil {
			return d, true
		}
	}
	return "", false
}

// versionLess compares dotted version numbers numerically ("9.6" < "15");
// parts that are not numbers compare as text.
func versionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		na, ea := strconv.Atoi(pa[i])
		nb, eb := strconv.Atoi(pb[i])
		switch {
		case ea == nil && eb == nil && na != nb:
			return na < nb
		case (ea != nil || eb != nil) && pa[i] != pb[i]:
			return pa[i] < pb[i]
		}
	}
	return len(pa) < len(pb)
}

// checkBinaries reports which required programs dir lacks.
func checkBinaries(dir string) error {
	var missing []string
	for _, name := range requiredBinaries {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s lacks %s", dir, strings.Join(missing, ", "))
	}
	return nil
}
