// Package chaos holds the reliability scenarios of docs/reliability.md:
// each starts the production topology from real processes
// (internal/topology), injects a fault under load, checks the invariants
// and prints its figures in lines starting with "FIGURES <scenario>:".
// Every test runs a short version by default (make test, with -race) and
// the long one with HERALD_CHAOS_LONG=1 (make chaos, make soak).
package chaos

import (
	"testing"

	"github.com/heraldhq/herald/internal/testinfra"
)

func TestMain(m *testing.M) { testinfra.Main(m) }
