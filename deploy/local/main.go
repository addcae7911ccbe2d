// Command local runs Herald's production topology on this machine from
// real processes (internal/topology): 3 nats-server processes in a
// JetStream cluster, PostgreSQL, the migrations, 2 control planes, 2
// gateways and HAProxy in front, then prints the one URL to use, the
// admin token and a demo app's credentials. Ctrl-C stops every process by
// its pid. See README.md beside it.
//
//	go run ./deploy/local
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/heraldhq/herald/internal/pgcluster"
	"github.com/heraldhq/herald/internal/secretbox"
	"github.com/heraldhq/herald/internal/topology"
)

// demoAppID is the app created on a fresh start.
const demoAppID = "demo"

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "deploy/local:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("deploy/local", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", ".herald-local", "folder of every process's data, configuration and log")
	port := fs.Int("port", 7001, "the balancer's port: the one URL clients and SDKs use")
	gateways := fs.Int("gateways", topology.DefaultGateways, "gateway processes")
	controlPlanes := fs.Int("controlplanes", topology.DefaultControlPlanes, "control plane processes")
	spread := fs.Duration("shutdown-spread", topology.DefaultShutdownSpread, "each gateway's --shutdown-spread")
	if err := fs.Parse(args); err != nil {
		return err
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	pgDir, err := pgcluster.DirFor(abs)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(abs, dirPerm); err != nil {
		return err
	}
	masterKey, fresh, err := keptSecret(filepath.Join(abs, "master.key"), secretbox.GenerateKey)
	if err != nil {
		return err
	}
	adminToken, _, err := keptSecret(filepath.Join(abs, "admin.token"), newAdminToken)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if fresh {
		// A new folder at a used path: the old database's sealed values
		// need the old master key, so that database goes (as in herald
		// dev).
		if err := pgcluster.RemoveDir(ctx, pgDir); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "building herald and nats-server, starting the topology in %s …\n", abs)
	top, err := topology.Start(ctx, topology.Options{
		Dir: abs, PostgresDir: pgDir, BalancerPort: *port, MasterKey: masterKey, AdminToken: adminToken,
		Gateways: *gateways, ControlPlanes: *controlPlanes, ShutdownSpread: *spread,
	})
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(stdout, "stopping every process …")
		if err := top.Close(); err != nil {
			fmt.Fprintln(stderr, "deploy/local: stop:", err)
		}
	}()
	app, err := demoApp(ctx, top, filepath.Join(abs, "demo-app.json"))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, `
Herald's production topology is up; every process logs to %s.

  URL          %s   (WebSockets at /app/{key}, SSE at /sse, REST and admin APIs)
  admin token  %s
  demo app     id %s  key %s  secret %s
  NATS         %s
  PostgreSQL   %s

Try: curl -H "Authorization: Bearer <admin token>" %s/admin/v1/apps
Ctrl-C stops every process.
`, top.LogDir(), top.URL(), top.AdminToken(), app.ID, app.Key, app.Secret, top.NATSURL(), top.DatabaseURL(), top.URL())
	<-ctx.Done()
	return nil
}
