package heraldtest

import "syscall"

// sysProcAttr has Linux stop herald (SIGINT, so that it stops its
// PostgreSQL too) when the test binary dies without its cleanup, e.g. on
// a test timeout's panic.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGINT}
}
