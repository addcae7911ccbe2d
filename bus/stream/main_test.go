package stream_test

import (
	"testing"

	"github.com/heraldhq/herald/internal/testenv"
)

// TestMain scans the logs the tests' publishers and readers write for
// secrets (testenv.Main).
func TestMain(m *testing.M) { testenv.Main(m) }
