package pgcluster

import "syscall"

// sysProcAttr starts a program in its own session, as cred, killed if
// herald dies (see runner.run).
func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setsid: true, Credential: cred, Pdeathsig: syscall.SIGKILL}
}
