package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Superuser is the database superuser of every cluster; local socket
// connections need no password.
const Superuser = "herald"

// settingsFileName is included from postgresql.conf and rewritten at every
// start, so that the settings always match the Config and the folder.
const settingsFileName = "herald.conf"

// hbaConf lets local socket connections in without a password, and nothing
// else: the server has no TCP listener, and the socket folder is private to
// the server user (and root).
const hbaConf = "# Written by herald at every start.\nlocal all all trust\n"

// fastWALSegmentMB is the WAL segment size of Fast clusters: a small
// first segment makes initdb and copies of its result faster.
const fastWALSegmentMB = 1

// initialize creates the data folder, from the init cache or with initdb,
// unless the cluster folder already holds a complete one.
func (c *Cluster) initialize(ctx context.Context, fast bool, cache string) error {
	if _, err := os.Stat(c.layout.marker); err == nil {
		return nil
	}
	// A data folder without the marker comes from an initialization that
	// did not finish; it never held data.
	if err := os.RemoveAll(c.layout.data); err != nil {
		return fmt.Errorf("pgcluster: remove incomplete data folder: %w", err)
	}
	copied := false
	if cache != "" {
		err := c.copyFromCache(ctx, cache, fast)
		if err == nil {
			copied = true
		} else {
			c.logger.Warn("postgres init cache unusable; running initdb", "cache", cache, "err", err)
			if err := os.RemoveAll(c.layout.data); err != nil {
				return fmt.Errorf("pgcluster: remove partial copy: %w", err)
			}
		}
	}
	if !copied {
		if err := initdb(ctx, c.run, c.layout, fast); err != nil {
			return err
		}
	}
	if err := os.WriteFile(c.layout.marker, nil, filePerm); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	return nil
}

// initdb initializes l's data folder and makes its postgresql.conf include
// the settings file. The caller writes l's marker.
func initdb(ctx context.Context, run runner, l layout, fast bool) error {
	args := []string{
		"--pgdata=" + l.data,
		"--username=" + Superuser,
		"--encoding=UTF8",
		"--locale=C",
		"--auth=trust",
		"--no-instructions",
	}
	if fast {
		args = append(args, "--no-sync", "--wal-segsize="+strconv.Itoa(fastWALSegmentMB))
	}
	if err := run.run(ctx, "initdb", args...); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	conf := filepath.Join(l.data, "postgresql.conf")
	f, err := os.OpenFile(conf, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	_, err = fmt.Fprintf(f, "\n# Added by herald.\ninclude '%s'\n", settingsFileName)
	if err := errors.Join(err, f.Close()); err != nil {
		return fmt.Errorf("pgcluster: append to %s: %w", conf, err)
	}
	return nil
}

// filePerm is the mode of the files we write into a cluster folder.
const filePerm = 0o600

// settings returns the contents of herald.conf.
func settings(socketDir string, fast bool) string {
	var b strings.Builder
	b.WriteString("# Written by herald at every start; changes here are lost.\n")
	set := func(k, v string) { fmt.Fprintf(&b, "%s = %s\n", k, v) }
	set("listen_addresses", "''")
	set("port", strconv.Itoa(Port))
	set("unix_socket_directories", confString(socketDir))
	set("unix_socket_permissions", "0700")
	set("timezone", "'UTC'")
	set("log_timezone", "'UTC'")
	if fast {
		// Throwaway test clusters trade crash safety for speed.
		set("fsync", "off")
		set("synchronous_commit", "off")
		set("full_page_writes", "off")
	}
	return b.String()
}

// confString quotes s for postgresql.conf.
func confString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// configure writes the settings and access rules used by the next start.
func (c *Cluster) configure(fast bool) error {
	files := []struct{ name, body string }{
		{settingsFileName, settings(c.layout.socket, fast)},
		{"pg_hba.conf", hbaConf},
	}
	for _, f := range files {
		p := filepath.Join(c.layout.data, f.name)
		if err := os.WriteFile(p, []byte(f.body), filePerm); err != nil {
			return fmt.Errorf("pgcluster: %w", err)
		}
		if err := c.run.as.chown(p); err != nil {
			return err
		}
	}
	return nil
}
