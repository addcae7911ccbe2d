package e2e_test

import (
	"testing"

	"github.com/heraldhq/herald/internal/testenv"
)

func TestTopologyStarts(t *testing.T) {
	top := testenv.Topology(t)
	t.Log(top.URL())
}
