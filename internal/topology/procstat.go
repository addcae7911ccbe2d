package topology

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is the kernel's USER_HZ, the unit of /proc/<pid>/stat's CPU
// times: 100 on every Linux platform Go supports.
const clockTicks = 100

// ProcStats is a process's resource use, read from /proc (Linux only).
type ProcStats struct {
	// RSS is the resident set size in bytes.
	RSS int64
	// CPU is the user plus system time used since the process started.
	CPU time.Duration
	// FDs is how many file descriptors are open.
	FDs int
	// Goroutines is go_goroutines from a herald process's /metrics; -1
	// for other processes.
	Goroutines int
}

// ReadProcStats reads pid's RSS, CPU time and open descriptors.
func ReadProcStats(pid int) (ProcStats, error) {
	dir := "/proc/" + strconv.Itoa(pid)
	fields, err := statFields(pid)
	if err != nil {
		return ProcStats{}, err
	}
	// After the name: state(3) … utime(14) stime(15) … rss(24), 1-based
	// over the whole line, so index-3 here.
	const utime, stime, rss = 14 - 3, 15 - 3, 24 - 3
	if len(fields) <= rss {
		return ProcStats{}, fmt.Errorf("procstat: short %s/stat", dir)
	}
	num := func(i int) int64 { n, _ := strconv.ParseInt(fields[i], 10, 64); return n }
	ticks := num(utime) + num(stime)
	fds, err := os.ReadDir(dir + "/fd")
	if err != nil {
		return ProcStats{}, fmt.Errorf("procstat: %w", err)
	}
	return ProcStats{
		RSS:        num(rss) * int64(os.Getpagesize()),
		CPU:        time.Duration(ticks) * time.Second / clockTicks,
		FDs:        len(fds),
		Goroutines: -1,
	}, nil
}

// statFields returns the fields of /proc/<pid>/stat after the command
// name: the name, in parentheses, may hold spaces, so they count from
// the last ")". Field n of proc(5), 1-based over the whole line, is at
// index n-3.
func statFields(pid int) ([]string, error) {
	path := "/proc/" + strconv.Itoa(pid) + "/stat"
	stat, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("procstat: %w", err)
	}
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return nil, fmt.Errorf("procstat: malformed %s", path)
	}
	return strings.Fields(string(stat[end+1:])), nil
}

// Children lists the processes whose parent is pid (Linux only).
func Children(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	const ppid = 4 - 3 // proc(5) field 4, see statFields
	parent := strconv.Itoa(pid)
	var out []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if fields, err := statFields(child); err == nil && len(fields) > ppid && fields[ppid] == parent {
			out = append(out, child)
		}
	}
	return out
}

// Stats is the resource use of role i (a running process); for herald
// servers Goroutines is read from its /metrics.
func (t *Topology) Stats(role Role, i int) (ProcStats, error) {
	pid := t.PID(role, i)
	if pid == 0 {
		return ProcStats{}, fmt.Errorf("stats of %s %d: %w", role, i, ErrNoProcess)
	}
	st, err := ReadProcStats(pid)
	if err != nil {
		return st, err
	}
	if role == RoleGateway || role == RoleControlPlane {
		u, err := t.ServerURL(role, i)
		if err != nil {
			return st, err
		}
		if st.Goroutines, err = goroutines(u + "/metrics"); err != nil {
			return st, err
		}
	}
	return st, nil
}

// goroutines reads go_goroutines from a Prometheus text exposition.
func goroutines(metricsURL string) (int, error) {
	res, err := probeClient.Get(metricsURL)
	if err != nil {
		return 0, fmt.Errorf("procstat: %w", err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return 0, fmt.Errorf("procstat: go_goroutines %q: %w", v, err)
			}
			return int(f), nil
		}
	}
	_, _ = io.Copy(io.Discard, res.Body)
	return 0, fmt.Errorf("procstat: no go_goroutines in %s", metricsURL)
}

// NATSStats is what a nats-server's monitoring endpoints report.
type NATSStats struct {
	// Subscriptions is the server's subscription count (/subsz).
	Subscriptions int
	// Connections is its client connections (/connz).
	Connections int
}

// NATSStats reads node i's monitoring endpoints.
func (t *Topology) NATSStats(i int) (NATSStats, error) {
	if i < 0 || i >= len(t.nats) {
		return NATSStats{}, fmt.Errorf("nats %d: %w", i, ErrNoProcess)
	}
	base := "http://" + hostPort(t.opts.Host, t.nats[i].monitor)
	var subsz struct {
		N int `json:"num_subscriptions"`
	}
	var connz struct {
		N int `json:"num_connections"`
	}
	if err := getJSON(base+"/subsz", &subsz); err != nil {
		return NATSStats{}, err
	}
	if err := getJSON(base+"/connz", &connz); err != nil {
		return NATSStats{}, err
	}
	return NATSStats{Subscriptions: subsz.N, Connections: connz.N}, nil
}

func getJSON(url string, out any) error {
	res, err := probeClient.Get(url)
	if err != nil {
		return fmt.Errorf("procstat: %w", err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		return fmt.Errorf("procstat: %s: %w", url, err)
	}
	return nil
}

// NATSSubjects counts node i's subscriptions by subject (at most
// maxListedSubs of them), to show what a growing count is made of.
func (t *Topology) NATSSubjects(i int) (map[string]int, error) {
	if i < 0 || i >= len(t.nats) {
		return nil, fmt.Errorf("nats %d: %w", i, ErrNoProcess)
	}
	var subsz struct {
		List []struct {
			Subject string `json:"subject"`
		} `json:"subscriptions_list"`
	}
	url := fmt.Sprintf("http://%s/subsz?subs=1&limit=%d", hostPort(t.opts.Host, t.nats[i].monitor), maxListedSubs)
	if err := getJSON(url, &subsz); err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, s := range subsz.List {
		out[s.Subject]++
	}
	return out, nil
}

// maxListedSubs bounds NATSSubjects's list.
const maxListedSubs = 100000
