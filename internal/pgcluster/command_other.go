//go:build !linux

package pgcluster

import "syscall"

// sysProcAttr starts a program in its own session, as cred. Only Linux
// has a parent-death signal; Start refuses to run on other systems
// (checkSystem), so this is what a port to them would start from.
func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setsid: true, Credential: cred}
}
