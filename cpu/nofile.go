package cpu

// int xemu_start_nofile(unsigned long long *cur, unsigned long long *max);
import "C"

// StartFileLimit is RLIMIT_NOFILE as the process was started with, before
// the Go runtime raised its soft limit (nofile.c); ok is false if it could
// not be read.
func StartFileLimit() (cur, max uint64, ok bool) {
	var c, m C.ulonglong
	if C.xemu_start_nofile(&c, &m) == 0 {
		return 0, 0, false
	}
	return uint64(c), uint64(m), true
}
