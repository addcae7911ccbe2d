package stream_test

import (
	"testing"

	"github.com/heraldhq/herald/internal/testinfra"
)

// TestMain scans the logs the tests' publishers and readers write for
// secrets (testinfra.Main).
func TestMain(m *testing.M) { testinfra.Main(m) }
