package topology

import (
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"
)

// The test process's own figures are plausible: resident, some CPU
// spent, descriptors open; and a process that is gone is an error.
func TestReadProcStats(t *testing.T) {
	// Burn a little CPU so that the tick count is above zero.
	deadline := time.Now().Add(50 * time.Millisecond)
	for n := 0; time.Now().Before(deadline); n++ {
		_ = n * n
	}
	st, err := ReadProcStats(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if st.RSS <= 0 || st.CPU <= 0 || st.FDs < 3 || st.Goroutines != -1 {
		t.Fatalf("implausible stats of this process: %+v", st)
	}
	f, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	more, err := ReadProcStats(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if more.FDs != st.FDs+1 {
		t.Fatalf("opening a file took descriptors from %d to %d", st.FDs, more.FDs)
	}
	if _, err := ReadProcStats(1 << 30); err == nil {
		t.Fatal("stats of a process that does not exist")
	}
}

// TestChildren: a process started by this test is among its children,
// and not among its own.
func TestChildren(t *testing.T) {
	cmd := exec.Command("sleep", "5")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	if kids := Children(cmd.Process.Pid); slices.Contains(kids, cmd.Process.Pid) {
		t.Fatalf("sleep is its own child: %v", kids)
	}
	if got := Children(os.Getpid()); !slices.Contains(got, cmd.Process.Pid) {
		t.Fatalf("children of the test %v lack sleep %d", got, cmd.Process.Pid)
	}
}
