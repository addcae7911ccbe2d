package main

import (
	"strconv"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/topology"
)

// sampleEvery is how often the window's processes are read: their peak
// memory is the largest sample.
const sampleEvery = time.Second

// usage is one process's resource use over the window.
type usage struct {
	name string
	// group is what it is counted with in the totals: herald (gateways,
	// control plane, NATS), postgres or bench.
	group string
	pids  []int
	// RSS at the end of the window and its peak, in bytes; CPU over the
	// window.
	rss, peak int64
	cpu       time.Duration
	first     time.Duration
}

// Groups of the totals.
const (
	groupHerald   = "herald"
	groupPostgres = "postgres"
	groupBench    = "bench"
)

// sampler reads every process of the run each second until stopped.
type sampler struct {
	procs   []*usage
	started time.Time
	host    hostCPU
	done    chan struct{}
	wg      sync.WaitGroup
}

// heraldPIDs are the Herald processes: gateways, control plane, NATS.
func (f *fleet) heraldPIDs() []int {
	var pids []int
	for _, role := range []topology.Role{topology.RoleGateway, topology.RoleControlPlane, topology.RoleNATS} {
		for i := range f.top.Count(role) {
			pids = append(pids, f.top.PID(role, i))
		}
	}
	return pids
}

// heraldRSS is the Herald processes' total RSS, 0 if unknown.
func (f *fleet) heraldRSS() int64 {
	var rss int64
	for _, pid := range f.heraldPIDs() {
		if st, err := topology.ReadProcStats(pid); err == nil {
			rss += st.RSS
		}
	}
	return rss
}

// startSampler finds the fleet's processes and the bench's (its workers
// are its children) and samples them once now, once a second, and at
// stop.
func startSampler(f *fleet, benchPID int) *sampler {
	s := &sampler{started: time.Now(), host: readHostCPU(), done: make(chan struct{})}
	add := func(name, group string, pids ...int) {
		s.procs = append(s.procs, &usage{name: name, group: group, pids: pids})
	}
	for i := range f.top.Count(topology.RoleGateway) {
		add("gateway-"+strconv.Itoa(i), groupHerald, f.top.PID(topology.RoleGateway, i))
	}
	add("controlplane-0", groupHerald, f.top.PID(topology.RoleControlPlane, 0))
	add("nats-server", groupHerald, f.top.PID(topology.RoleNATS, 0))
	pg := f.top.PID(topology.RolePostgres, 0)
	add("postgresql (all)", groupPostgres, append([]int{pg}, topology.Children(pg)...)...)
	add("bench (publisher)", groupBench, benchPID)
	for i, pid := range topology.Children(benchPID) {
		add("bench worker-"+strconv.Itoa(i), groupBench, pid)
	}
	s.sample(true)
	s.wg.Go(func() {
		t := time.NewTicker(sampleEvery)
		defer t.Stop()
		for {
			select {
			case <-s.done:
				return
			case <-t.C:
				s.sample(false)
			}
		}
	})
	return s
}

// sample reads every process; the first sample is the CPU baseline.
func (s *sampler) sample(first bool) {
	for _, u := range s.procs {
		var rss int64
		var cpu time.Duration
		for _, pid := range u.pids {
			st, err := topology.ReadProcStats(pid)
			if err != nil {
				continue
			}
			rss += st.RSS
			cpu += st.CPU
		}
		if first {
			u.first = cpu
		}
		if rss == 0 {
			continue // gone: keep the last figures
		}
		u.rss, u.peak, u.cpu = rss, max(u.peak, rss), cpu-u.first
	}
}

// stop takes a last sample and returns every process's use, the
// machine's and the window's length.
func (s *sampler) stop() ([]usage, hostCPU, time.Duration) {
	close(s.done)
	s.wg.Wait()
	s.sample(false)
	out := make([]usage, len(s.procs))
	for i, u := range s.procs {
		out[i] = *u
	}
	return out, readHostCPU().sub(s.host), time.Since(s.started)
}
