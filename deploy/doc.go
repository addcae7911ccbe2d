// Package deploy holds Herald's deployment files (the compose topology in
// compose/, the Helm chart in helm/herald) and the tests that check them
// without a container runtime: the files parse, describe the production
// topology (3 NATS servers, PostgreSQL, migrations first, 2 control
// planes, 2 gateways behind a load balancer), and every herald flag and
// HERALD_* variable they use exists in the built binary. It has no Go
// code of its own.
package deploy
