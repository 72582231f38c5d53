//go:build unix

package reexec

import "syscall"

func syscallKill(pid int) { syscall.Kill(pid, syscall.SIGKILL) }
