package tests

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Processes with real Debian programs: bash, tar and gzip from the arm64 and
// armhf root file systems as sysroot, with no binfmt_misc handler involved —
// every command a script runs is a guest ELF that xemu executes through
// itself. The expected outputs are what these scripts print on Linux.

var bashScripts = []struct{ name, script, want string }{
	{"pipeline", `ls /etc | grep -c . >/dev/null && echo ok; printf 'b\na\nc\n' | sort | head -2 | tr a-z A-Z`, "ok\nA\nB\n"},
	{"subshell", `x=$(echo inner); echo "$x"; (exit 3); echo "status $?"; true | false; echo "pipe $?"; echo $( (echo nested) )`, "inner\nstatus 3\npipe 1\nnested\n"},
	{"uname", `uname -m | grep -q -x -e aarch64 -e armv7l && echo guest machine`, "guest machine\n"},
	{"background", `sleep 0.2 & p=$!; wait $p; echo "bg $?"; sleep 30 & k=$!; kill $k; wait $k; echo "killed $?"`, "bg 0\nkilled 143\n"},
	{"trap", `trap 'echo got USR1' USR1; kill -USR1 $$; echo after; trap 'echo bye' EXIT`, "got USR1\nafter\nbye\n"},
	{"xargs", `seq 1 5 | xargs -n 2 echo`, "1 2\n3 4\n5\n"},
	{"status", `sh -c 'exit 7'; echo "sh $?"; /bin/false; echo "false $?"; bash -c 'kill -TERM $$'; echo "term $?"`, "sh 7\nfalse 1\nterm 143\n"},
	{"tar", `mkdir -p d/sub && echo hello > d/sub/f && echo two > d/g && tar czf d.tgz d && tar tzf d.tgz | sort && mkdir x && tar xzf d.tgz -C x && cat x/d/sub/f`, "d/\nd/g\nd/sub/\nd/sub/f\nhello\n"},
}

func TestBashRootfs(t *testing.T) {
	for _, fs := range []struct{ arch, dir string }{{"arm64", "rootfs-arm64"}, {"armhf", "rootfs-armhf"}} {
		rootfs := filepath.Join(root, ".cache", fs.dir)
		for _, s := range bashScripts {
			t.Run(fs.arch+"/"+s.name, func(t *testing.T) {
				t.Parallel()
				requireFile(t, filepath.Join(rootfs, "bin", "bash"), "make fixtures builds it")
				dir := t.TempDir()
				x := runCmd(t, dir, "", testEnv, xemu(t), "--sysroot", rootfs, filepath.Join(rootfs, "bin", "bash"), "-c", s.script)
				checkXemuStderr(t, []string{"bash", "-c", s.script}, x.Stderr)
				if x.Stdout != s.want || x.Exit != 0 {
					t.Errorf("bash -c %q: exit %d\n--- got\n%s--- want\n%s--- stderr\n%s", s.script, x.Exit, x.Stdout, s.want, x.Stderr)
				}
			})
		}
	}
}

// A shell script whose #! interpreter is the guest's bash, executed by a
// guest bash: the kernel's rules, through xemu.
func TestShebangScriptRootfs(t *testing.T) {
	rootfs := filepath.Join(root, ".cache", "rootfs-arm64")
	requireFile(t, filepath.Join(rootfs, "bin", "bash"), "make fixtures builds it")
	dir := t.TempDir()
	script := filepath.Join(dir, "s.sh")
	if err := os.WriteFile(script, []byte("#!/bin/bash -e\necho \"$0 $1 $BASH_VERSINFO\" | sed 's/[0-9]$/N/'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	x := runCmd(t, dir, "", testEnv, xemu(t), "--sysroot", rootfs, filepath.Join(rootfs, "bin", "bash"), "-c", script+" arg")
	if want := script + " arg N\n"; x.Stdout != want || !strings.Contains(x.Stdout, "arg") {
		t.Errorf("got %q (exit %d, stderr %s), want %q", x.Stdout, x.Exit, x.Stderr, want)
	}
}

// An AArch64 program executes an armhf one and the other way round: the
// same xemu process (same pid) goes on with the other architecture's engine.
// qemu-user runs one architecture, so the expected output is written here.
func TestExecOtherArch(t *testing.T) {
	src := filepath.Join(root, "tests", "cross", "exec_other_arch.c")
	a64 := compile(t, aarch64, src, "static")
	arm := compile(t, armhfThumb, src, "static")
	for _, c := range []struct{ first, second string }{{a64, arm}, {arm, a64}} {
		bits := func(p string) string {
			if p == a64 {
				return "64"
			}
			return "32"
		}
		x := runCmd(t, t.TempDir(), "", testEnv, xemu(t), c.first, c.second)
		want := bits(c.first) + "-bit program 1 executes " + filepath.Base(c.second) + "\n" +
			bits(c.second) + "-bit program 2: same pid yes, exe ok, comm ok\n"
		if x.Stdout != want || x.Exit != 0 {
			t.Errorf("%s: exit %d\n--- got\n%s--- want\n%s--- stderr\n%s", filepath.Base(c.first), x.Exit, x.Stdout, want, x.Stderr)
		}
	}
}

// A guest that forks again and again gets its later children from zygotes
// (syscall/kernel/zygote.go), each with the state of its own fork, and a
// wait for any child fails at once when only a zygote is left: the guest
// program checks that (and passes under qemu-user too, in
// TestGuestPrograms); here the strace log shows the zygotes were used.
func TestForkThroughZygote(t *testing.T) {
	src := filepath.Join(root, "tests", "guest", "zygote.c")
	for _, a := range []guestArch{aarch64, armhfThumb} {
		prog := compile(t, a, src, "static")
		log := filepath.Join(t.TempDir(), "strace.log")
		x := runCmd(t, t.TempDir(), "", testEnv, xemu(t), "--strace-file", log, prog)
		if x.Exit != 0 {
			t.Errorf("%s: exit %d\n%s%s", a.Name, x.Exit, x.Stdout, x.Stderr)
		}
		b, err := os.ReadFile(log)
		if err != nil {
			t.Fatal(err)
		}
		// Six forks: the first starts the first zygote, which the second
		// waits for if it must (up to a second: a loaded machine may make
		// one late), and so on.
		if n := strings.Count(string(b), "is a zygote ---"); n < 4 {
			t.Errorf("%s: %d of 6 forks through a zygote, want 5", a.Name, n)
		}
	}
}

// A vfork child reads its parent's memory as it touches it, so what a
// posix_spawn costs does not grow with what the parent wrote: vfork_big
// (which checks its own results) spawns twenty programs from a process with
// 8 and with 200 MiB written, and the strace log says how many pages each
// vfork saved in the parent and read in the child. Copying what the parent
// wrote would be 51200 pages at 200 MiB. It needs a userfaultfd that takes
// the kernel's faults too, which root has; others fall back to the copy.
func TestVforkCopiesNothing(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (a userfaultfd for kernel faults)")
	}
	src := filepath.Join(root, "tests", "guest", "vfork_big.c")
	saved := regexp.MustCompile(`--- vfork: (\d+) pages saved,`)
	read := regexp.MustCompile(`--- vfork: \d+ pages saved, (\d+) read from the parent`)
	for _, a := range []guestArch{aarch64, armhfThumb} {
		prog := compile(t, a, src, "static")
		// The most pages a spawn saved or read, at each size.
		most := map[int]int{}
		for _, mib := range []int{8, 200} {
			log := filepath.Join(t.TempDir(), "strace.log")
			x := runCmd(t, t.TempDir(), "", testEnv, xemu(t), "--strace-file", log, prog, strconv.Itoa(mib))
			if x.Exit != 0 {
				t.Fatalf("%s, %d MiB: exit %d\n%s%s", a.Name, mib, x.Exit, x.Stdout, x.Stderr)
			}
			b, err := os.ReadFile(log)
			if err != nil {
				t.Fatal(err)
			}
			counts := func(re *regexp.Regexp) []int {
				var n []int
				for _, m := range re.FindAllStringSubmatch(string(b), -1) {
					v, _ := strconv.Atoi(m[1])
					n = append(n, v)
				}
				return n
			}
			// Twenty spawns, one of a missing program and two vforks.
			s, r := counts(saved), counts(read)
			if len(s) != 23 || len(r) != 23 {
				t.Fatalf("%s, %d MiB: %d vforks saved, %d read, want 23", a.Name, mib, len(s), len(r))
			}
			for _, v := range s {
				most[mib] = max(most[mib], v)
			}
			// The spawns come first; the two vfork children that follow
			// read a page per MiB, and all of it before their fork.
			for _, v := range r[:21] {
				most[mib] = max(most[mib], v)
			}
		}
		if most[200] > 64 || most[200] > most[8]+16 {
			t.Errorf("%s: a spawn copied up to %d pages with 200 MiB written, %d with 8 MiB", a.Name, most[200], most[8])
		}
	}
}
