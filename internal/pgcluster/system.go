package pgcluster

import "errors"

// ErrUnsupportedSystem is returned by Start and StopDir on systems other
// than Linux: the managed cluster finds and supervises its server
// processes through /proc and relies on Linux's parent-death signal. On
// those systems, run PostgreSQL yourself and pass its URL.
var ErrUnsupportedSystem = errors.New("pgcluster: the managed PostgreSQL cluster needs Linux; on this system run PostgreSQL yourself and pass --database-url")
