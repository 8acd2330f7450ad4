package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"xemu/internal/testenv"
)

// Guest threads run in parallel, each on its own engine. The stress program
// counts with atomics and with a mutex from 8 threads, through a barrier and
// condition variables, and must be exact in every run: lost updates or lost
// wake-ups show as a wrong count or a hang.
const stressSrc = `
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#define THREADS 8
#define ITERS 200000
static atomic_long atomic_count;
static long locked_count, cond_rounds;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int turn;
static pthread_barrier_t barrier;
static __thread long mine;
static void *work(void *arg) {
	long id = (long)arg;
	mine = id;
	pthread_barrier_wait(&barrier);
	for (int i = 0; i < ITERS; i++) {
		atomic_fetch_add(&atomic_count, 1);
		pthread_mutex_lock(&mu);
		locked_count++;
		pthread_mutex_unlock(&mu);
	}
	// Take turns in order: each waits on the condition variable for its own.
	for (int r = 0; r < 50; r++) {
		pthread_mutex_lock(&mu);
		while (turn % THREADS != id)
			pthread_cond_wait(&cv, &mu);
		turn++;
		cond_rounds++;
		pthread_cond_broadcast(&cv);
		pthread_mutex_unlock(&mu);
	}
	return (void *)(mine == id);
}
int main(void) {
	pthread_t t[THREADS];
	pthread_barrier_init(&barrier, NULL, THREADS);
	for (long i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, work, (void *)i);
	long tls = 0;
	for (int i = 0; i < THREADS; i++) {
		void *r;
		pthread_join(t[i], &r);
		tls += (long)r;
	}
	printf("%ld %ld %ld %ld\n", (long)atomic_count, locked_count, cond_rounds, tls);
	return 0;
}
`

func TestThreadStress(t *testing.T) {
	src := filepath.Join(t.TempDir(), "stress.c")
	if err := os.WriteFile(src, []byte(stressSrc), 0o644); err != nil {
		t.Fatal(err)
	}
	const want = "1600000 1600000 400 8\n"
	builds := []struct {
		name  string
		arch  guestArch
		flags []string
	}{
		{"aarch64-llsc", aarch64, []string{"-mno-outline-atomics"}},
		{"aarch64-lse", aarch64, []string{"-march=armv8.1-a"}},
		{"aarch64-outline", aarch64, nil},
		{"armhf", armhfARM, nil},
	}
	for _, b := range builds {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			prog := compile(t, b.arch, src, "static", b.flags...)
			for run := 0; run < 20; run++ {
				x := runCmdLimit(t, guestLimit, t.TempDir(), "", testEnv, xemu(t), prog)
				checkXemuStderr(t, []string{prog}, x.Stderr)
				if x.Stdout != want || x.Exit != 0 {
					t.Fatalf("run %d: exit %d, got %q, want %q\n%s", run, x.Exit, x.Stdout, want, x.Stderr)
				}
			}
		})
	}
}

// A Go program: its runtime starts threads with clone, parks them on
// futexes, preempts goroutines with signals and uses sigaltstack.
const goThreadsSrc = `package main

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	var n atomic.Int64
	var mu sync.Mutex
	m := 0
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20000; i++ {
				n.Add(1)
				mu.Lock()
				m++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	ch := make(chan int)
	go func() { time.Sleep(10 * time.Millisecond); ch <- 42 }()
	// A goroutine spinning without calls is preempted by a signal.
	stop := make(chan bool)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
		}
	}()
	time.Sleep(20 * time.Millisecond)
	close(stop)
	runtime.GC()
	fmt.Println(n.Load(), m, <-ch, "threads ok")
}
`

func TestGoProgramThreads(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		testenv.Missing(t, "no Go toolchain")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(goThreadsSrc), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, arch := range []struct{ goarch, goarm string }{{"arm64", ""}, {"arm", "7"}} {
		t.Run(arch.goarch, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(dir, "prog-"+arch.goarch)
			cmd := exec.Command(goBin, "build", "-o", out, "main.go")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+arch.goarch, "GOARM="+arch.goarm, "CGO_ENABLED=0", "GOFLAGS=", "GO111MODULE=off")
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("go build: %v\n%s", err, b)
			}
			x := runCmdLimit(t, guestLimit, dir, "", testEnv, xemu(t), out)
			checkXemuStderr(t, []string{out}, x.Stderr)
			if want := "320000 320000 42 threads ok\n"; x.Stdout != want || x.Exit != 0 {
				t.Errorf("exit %d, got %q, want %q\n%s", x.Exit, x.Stdout, want, x.Stderr)
			}
		})
	}
}

const pyThreads = `import threading
n = 0
lock = threading.Lock()
def work(k):
    global n
    for i in range(20000):
        with lock:
            n += 1
ts = [threading.Thread(target=work, args=(i,)) for i in range(4)]
[t.start() for t in ts]; [t.join() for t in ts]
print("threads:", n)
ev = threading.Event()
threading.Timer(0.05, ev.set).start()
print("event:", ev.wait(5))
cond = threading.Condition()
items = []
def produce():
    for i in range(100):
        with cond:
            items.append(i); cond.notify()
threading.Thread(target=produce).start()
got = 0
with cond:
    while got < 100:
        while not items: cond.wait(5)
        got += len(items); items.clear()
print("condition:", got)
`

func TestPythonThreads(t *testing.T) {
	sysroot := pythonSysroot(t)
	py := filepath.Join(sysroot, "usr", "bin", "python3.11")
	dir := pythonScripts(t, map[string]string{"threads.py": pyThreads})
	x := runCmdLimit(t, guestLimit, dir, "", testEnv, xemu(t), "--sysroot", sysroot, py, "-I", "threads.py")
	checkXemuStderr(t, []string{"threads.py"}, x.Stderr)
	if want := "threads: 80000\nevent: True\ncondition: 100\n"; x.Stdout != want || x.Exit != 0 {
		t.Errorf("exit %d, got %q, want %q\n%s", x.Exit, x.Stdout, want, strings.TrimSpace(x.Stderr))
	}
}

// xzInput is text that compresses like real data, the same on every run:
// words from a fixed list in a pseudo-random order.
func xzInput(size int) []byte {
	words := strings.Fields("emulator guest host thread futex signal page table engine block " +
		"translation memory mapping descriptor process kernel register syscall atomic barrier")
	var b strings.Builder
	seed := uint32(12345)
	for b.Len() < size {
		seed = seed*1103515245 + 12345
		b.WriteString(words[(seed>>16)%uint32(len(words))])
		if seed%7 == 0 {
			b.WriteByte('\n')
		} else {
			b.WriteByte(' ')
		}
	}
	return []byte(b.String()[:size])
}

// TestXzThreads: Debian's xz compressing with two threads (liblzma's worker
// threads, futexes, condition variables) gives the bytes qemu-user's gives,
// and decompresses back to the input, on arm64 and armhf.
func TestXzThreads(t *testing.T) {
	in := string(xzInput(3 << 20))
	for _, fs := range []struct {
		arch guestArch
		deb  string
	}{{aarch64, "arm64"}, {armhfARM, "armhf"}} {
		t.Run(fs.deb, func(t *testing.T) {
			t.Parallel()
			rootfs := filepath.Join(root, ".cache", "rootfs-"+fs.deb)
			xz := filepath.Join(root, ".cache", "benchtools-"+fs.deb, "usr", "bin", "xz")
			requireFile(t, xz, "make fixtures fetches xz-utils")
			x, q := runBoth(t, fs.arch, rootfs, in, xz, "-6", "-T2", "--block-size=1MiB", "-c")
			checkXemuStderr(t, []string{xz}, x.Stderr)
			if x.Exit != 0 || q.Exit != 0 || len(x.Stdout) == 0 {
				t.Fatalf("xz -T2: exit xemu %d, qemu %d\n%s", x.Exit, q.Exit, x.Stderr)
			}
			if x.Stdout != q.Stdout {
				t.Fatalf("xz -T2: %d bytes from xemu differ from qemu's %d", len(x.Stdout), len(q.Stdout))
			}
			d := runCmdLimit(t, guestLimit, t.TempDir(), x.Stdout, testEnv, xemu(t), "--sysroot", rootfs, xz, "-d", "-T2", "-c")
			if d.Exit != 0 || d.Stdout != in {
				t.Fatalf("xz -d -T2: exit %d, %d bytes back of %d\n%s", d.Exit, len(d.Stdout), len(in), d.Stderr)
			}
		})
	}
}
