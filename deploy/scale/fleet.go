package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/heraldhq/herald/internal/topology"
)

// fleet is what the load generator needs of the running topology.
type fleet struct {
	top      *topology.Topology
	app      topology.App
	apiURL   string
	gateways []string
}

func newFleet(top *topology.Topology, app topology.App) *fleet {
	f := &fleet{top: top, app: app, apiURL: top.URL()}
	for i := range top.Count(topology.RoleGateway) {
		u, _ := top.ServerURL(topology.RoleGateway, i)
		f.gateways = append(f.gateways, u)
	}
	return f
}

// benchArgs are `herald bench`'s arguments for the run.
func (f *fleet) benchArgs(o options) []string {
	return []string{"bench", "--json",
		"--url", f.apiURL, "--ws-urls", strings.Join(f.gateways, ","), "--src", o.src,
		"--app-id", f.app.ID, "--key", f.app.Key, "--secret", f.app.Secret,
		"--subscribers", fmt.Sprint(o.conns), "--channels", "1", "--workers", fmt.Sprint(o.workers),
		"--connect-concurrency", fmt.Sprint(o.concurrent),
		"--rate", fmt.Sprint(o.rate), "--duration", o.duration.String(), "--drain", o.drain.String(),
		"--max-p99", o.maxP99.String(), "--publishers", "1",
	}
}

// printInfo is -only-start's report: enough to point any load generator
// at the fleet.
func (f *fleet) printInfo(w io.Writer, o options) {
	fmt.Fprintf(w, "\nThe fleet is up; every process logs to %s.\n\n", f.top.LogDir())
	fmt.Fprintf(w, "  API (control plane)  %s   pid %d\n", f.apiURL, f.top.PID(topology.RoleControlPlane, 0))
	for i, u := range f.gateways {
		fmt.Fprintf(w, "  gateway %d            %s   pid %d\n", i, u, f.top.PID(topology.RoleGateway, i))
	}
	fmt.Fprintf(w, "  NATS                 %s   pid %d\n", f.top.NATSURL(), f.top.PID(topology.RoleNATS, 0))
	fmt.Fprintf(w, "  PostgreSQL           pid %d\n", f.top.PID(topology.RolePostgres, 0))
	fmt.Fprintf(w, "  app                  id %s  key %s  secret %s\n", f.app.ID, f.app.Key, f.app.Secret)
	fmt.Fprintf(w, "\nherald bench:\n  %s %s\n", f.top.HeraldBin(), strings.Join(f.benchArgs(o), " "))
	fmt.Fprintf(w, "\nrtload (one process per gateway; each under the open-file limit), e.g. gateway 0:\n")
	fmt.Fprintf(w, "  rtload fanout -proto pusher -url %s -api-url %s -app-id %s -app-key %s -secret %s -subs %d -channels 1 -rate %g -src 127.0.0.2-127.0.0.3 -pid %d\n",
		f.gateways[0], f.apiURL, f.app.ID, f.app.Key, f.app.Secret,
		o.conns/len(f.gateways), o.rate, f.top.PID(topology.RoleGateway, 0))
	fmt.Fprintln(w, "\nCtrl-C stops every process.")
}
