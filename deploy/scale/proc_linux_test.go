package main

import "testing"

func TestHostCPU(t *testing.T) {
	if h := readHostCPU(); h.total <= 0 || h.busy > h.total || h.softirq > h.busy {
		t.Fatalf("host CPU %+v", h)
	}
}
