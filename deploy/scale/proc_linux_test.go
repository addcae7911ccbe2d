package main

import (
	"os"
	"os/exec"
	"slices"
	"testing"
)

func TestChildrenAndHostCPU(t *testing.T) {
	cmd := exec.Command("sleep", "5")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	if kids := children(cmd.Process.Pid); slices.Contains(kids, cmd.Process.Pid) {
		t.Fatalf("sleep is its own child: %v", kids)
	}
	if got := children(os.Getpid()); !slices.Contains(got, cmd.Process.Pid) {
		t.Fatalf("children of the test %v lack sleep %d", got, cmd.Process.Pid)
	}
	if h := readHostCPU(); h.total <= 0 || h.busy > h.total || h.softirq > h.busy {
		t.Fatalf("host CPU %+v", h)
	}
}
