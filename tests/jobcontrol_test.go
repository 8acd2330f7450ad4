package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// An interactive guest bash in a terminal (a tmux pane) with job control: a
// foreground job stopped with Ctrl-Z shows as Stopped in jobs, fg resumes it
// in the foreground, and Ctrl-C ends it with status 130, as in any terminal.
// The test waits on the processes' states in /proc, not on time.
func TestInteractiveBashJobControl(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("tmux missing (make deps installs it)")
	}
	for _, fs := range []struct{ arch, dir string }{{"arm64", "rootfs-arm64"}, {"armhf", "rootfs-armhf"}} {
		t.Run(fs.arch, func(t *testing.T) {
			t.Parallel()
			rootfs := filepath.Join(root, ".cache", fs.dir)
			requireFile(t, filepath.Join(rootfs, "bin", "bash"), "make fixtures builds it")
			jobControl(t, rootfs)
		})
	}
}

func jobControl(t *testing.T, rootfs string) {
	socket := fmt.Sprintf("xemu-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	tmux := func(args ...string) string {
		out, err := exec.Command("tmux", append([]string{"-L", socket, "-f", "/dev/null"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	tmux("new-session", "-d", "-x", "100", "-y", "40", "env", "-i", "PATH=/usr/bin:/bin", "HOME=/tmp", "TERM=xterm", "PS1=$ ",
		xemu(t), "--sysroot", rootfs, filepath.Join(rootfs, "bin", "bash"), "--norc", "--noprofile", "-i")
	t.Cleanup(func() { exec.Command("tmux", "-L", socket, "kill-server").Run() })
	pane := func() string { return tmux("capture-pane", "-p", "-S", "-100") }
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for end := time.Now().Add(60 * time.Second); !ok(); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatalf("timed out waiting for %s; pane:\n%s", what, pane())
			}
		}
	}
	shell, err := strconv.Atoi(strings.TrimSpace(tmux("display-message", "-p", "#{pane_pid}")))
	if err != nil {
		t.Fatal(err)
	}
	waitFor("the prompt", func() bool { return strings.HasSuffix(strings.TrimSpace(pane()), "$") })

	tmux("send-keys", "sleep 30", "Enter")
	var job procStat
	// The job's own program, not the forked bash before its exec (which
	// still ignores SIGTSTP as the interactive shell does): an execve in
	// the process names it (comm), one that re-executes xemu shows in its
	// command line.
	waitFor("sleep in the foreground", func() bool {
		var ok bool
		job, ok = childOf(shell)
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", job.pid))
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", job.pid))
		return ok && job.foreground() && (string(comm) == "sleep\n" || strings.Contains(string(cmdline), "/usr/bin/sleep\x0030"))
	})
	tmux("send-keys", "C-z")
	waitFor("the job stopped", func() bool { return readProcStat(job.pid).state == "T" })
	tmux("send-keys", "jobs; echo jobs-end", "Enter")
	waitFor("jobs", func() bool { return strings.Contains(pane(), "\njobs-end") })
	if p := pane(); !strings.Contains(p, "\n[1]+  Stopped                 sleep 30\njobs-end") {
		t.Fatalf("jobs does not show the stopped job:\n%s", p)
	}
	tmux("send-keys", "fg", "Enter")
	waitFor("the job resumed in the foreground", func() bool {
		s := readProcStat(job.pid)
		return s.state != "T" && s.foreground()
	})
	tmux("send-keys", "C-c")
	waitFor("the job ended", func() bool { return readProcStat(job.pid).state == "" })
	tmux("send-keys", "echo done $?", "Enter")
	waitFor("echo", func() bool { return strings.Contains(pane(), "\ndone ") })
	if p := pane(); !strings.Contains(p, "\ndone 130\n") {
		t.Fatalf("want done 130 after Ctrl-C:\n%s", p)
	}
}

// procStat is what the test reads of /proc/PID/stat.
type procStat struct {
	pid, ppid, pgrp, tpgid int
	state                  string // "" if the process is gone
}

// foreground: the process's group owns its terminal.
func (s procStat) foreground() bool { return s.state != "" && s.tpgid == s.pgrp }

func readProcStat(pid int) procStat {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{pid: pid}
	}
	// pid (comm) state ppid pgrp session tty_nr tpgid ...
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 6 || f[0] == "Z" || f[0] == "X" {
		return procStat{pid: pid}
	}
	s := procStat{pid: pid, state: f[0]}
	s.ppid, _ = strconv.Atoi(f[1])
	s.pgrp, _ = strconv.Atoi(f[2])
	s.tpgid, _ = strconv.Atoi(f[5])
	return s
}

// childOf finds a live child of pid.
func childOf(pid int) (procStat, bool) {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if s := readProcStat(n); s.state != "" && s.ppid == pid {
			return s, true
		}
	}
	return procStat{}, false
}
