//go:build linux

package bvh

import (
	"syscall"
	"time"
)

// processCPUTime returns the CPU time (user + system) the process has used,
// which, unlike wall time, does not count the time other programs on a busy
// machine hold the cores.
func processCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
