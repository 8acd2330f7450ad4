package guestfs

import (
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

func TestProcOther(t *testing.T) {
	self := strconv.Itoa(unix.Getpid())
	cases := []struct {
		path string
		pid  int
		file string
		ok   bool
	}{
		{"/proc/123/maps", 123, "maps", true},
		{"/proc/123/cmdline", 123, "cmdline", true},
		{"/proc/4194304/exe", 4194304, "exe", true},
		{"/proc/123/mem", 123, "mem", true}, // served by another xemu itself (OtherMemory)
		{"/proc/123/pagemap", 123, "pagemap", true},
		{"/proc/123/environ", 123, "environ", true},
		{"/proc/123/smaps", 123, "smaps", true},
		{"/proc/123/io", 0, "", false}, // the host's file
		{"/proc/0123/maps", 0, "", false},
		{"/proc/12a/maps", 0, "", false},
		{"/proc/99999999999999999999/maps", 0, "", false},
		{"/proc/self/maps", 0, "", false},
		{"/proc/" + self + "/maps", 0, "", false}, // our own: SplitProc's
		{"/proc/123", 0, "", false},
		{"/proc/123/task/124/maps", 0, "", false},
		{"/etc/123/maps", 0, "", false},
	}
	for _, c := range cases {
		pid, file, ok := ProcOther(c.path)
		if pid != c.pid || file != c.file || ok != c.ok {
			t.Errorf("ProcOther(%q) = %d, %q, %v; want %d, %q, %v", c.path, pid, file, ok, c.pid, c.file, c.ok)
		}
	}
}
