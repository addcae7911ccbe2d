//go:build !linux

package heraldtest

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }
