package main

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is the kernel's USER_HZ, the unit of /proc/stat.
const clockTicks = 100

// hostCPU is the machine's CPU time by kind, from /proc/stat's first
// line: what no process's own figures show, such as the softirq time
// loopback TCP spends delivering packets.
type hostCPU struct {
	busy, softirq, total time.Duration
}

// readHostCPU reads /proc/stat; zero if it cannot.
func readHostCPU() hostCPU {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return hostCPU{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	// cpu user nice system idle iowait irq softirq steal …
	const idle, iowait, softirq = 4, 5, 7
	if len(f) <= softirq || f[0] != "cpu" {
		return hostCPU{}
	}
	var h hostCPU
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		d := time.Duration(n) * time.Second / clockTicks
		// Fields past steal (guest times) are already in user and nice.
		if i+1 > 8 {
			break
		}
		h.total += d
		if i+1 != idle && i+1 != iowait {
			h.busy += d
		}
		if i+1 == softirq {
			h.softirq = d
		}
	}
	return h
}

// sub is h minus an earlier reading.
func (h hostCPU) sub(o hostCPU) hostCPU {
	return hostCPU{busy: h.busy - o.busy, softirq: h.softirq - o.softirq, total: h.total - o.total}
}
