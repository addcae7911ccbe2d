//go:build herald_cluster

package e2e_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/topology"
)

// The long version of TestTopologyJSSuite (`make cluster-test`): every
// external-capable file of the JavaScript suite through the balancer, then
// again after each gateway in turn has been restarted (SIGTERM, drained
// with 4200, started again), so that the suite also passes against
// gateways that rebuilt their app caches and subscriptions from NATS
// while the other kept serving.
func TestTopologyClusterJSSuite(t *testing.T) {
	node := jsSuitePrerequisites(t)
	top := testenv.Topology(t, jsSuiteTopology)
	runJSSuite(t, node, top, "before the restarts")
	ctx, cancel := context.WithTimeout(context.Background(), testenv.ProcTimeout)
	defer cancel()
	for i := range top.Count(topology.RoleGateway) {
		began := time.Now()
		if err := top.Restart(ctx, topology.RoleGateway, i); err != nil {
			t.Fatal(err)
		}
		t.Logf("gateway %d restarted in %s", i, time.Since(began).Round(time.Millisecond))
		runJSSuite(t, node, top, fmt.Sprintf("after gateway %d restarted", i))
	}
}
