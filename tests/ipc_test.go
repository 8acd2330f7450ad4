package tests

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ipcPeer is a guest that shares System V objects with a native process: it
// makes a segment and a semaphore, prints their ids, writes into the
// segment, waits on the semaphore for the native side, and prints what the
// native side wrote into the segment and how many attach it.
const ipcPeer = `
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/shm.h>

int main(void) {
	int shm = shmget(IPC_PRIVATE, 8192, IPC_CREAT | 0600);
	int sem = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
	char *p = shmat(shm, NULL, 0);
	if (shm < 0 || sem < 0 || p == (void *)-1) {
		perror("ipc");
		return 1;
	}
	strcpy(p + 4096, "from guest");
	printf("%d %d\n", shm, sem);
	fflush(stdout);
	struct sembuf wait = {0, -1, 0};
	if (semop(sem, &wait, 1) < 0) {
		perror("semop");
		return 1;
	}
	struct shmid_ds ds;
	shmctl(shm, IPC_STAT, &ds);
	printf("guest sees: %s, nattch %lu\n", p, (unsigned long)ds.shm_nattch);
	shmctl(shm, IPC_RMID, NULL);
	semctl(sem, 0, IPC_RMID);
	return 0;
}
`

// TestSysVIPCWithNative: a guest and this (native) process share a System V
// segment and semaphore: each sees what the other writes, and the native
// process's semop wakes the guest.
func TestSysVIPCWithNative(t *testing.T) {
	src := filepath.Join(t.TempDir(), "ipc_peer.c")
	if err := os.WriteFile(src, []byte(ipcPeer), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, a := range []guestArch{aarch64, armhfThumb} {
		t.Run(a.Name, func(t *testing.T) {
			prog := compile(t, a, src, "static")
			cmd := exec.Command(xemu(t), prog)
			cmd.Env = testEnv
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			defer func() {
				cmd.Process.Kill()
				<-done
			}()
			lines := make(chan string)
			go func() {
				sc := bufio.NewScanner(out)
				for sc.Scan() {
					lines <- sc.Text()
				}
				close(lines)
				cmd.Wait()
				close(done)
			}()
			next := func() string {
				select {
				case l, ok := <-lines:
					if !ok {
						t.Fatalf("guest ended early\n%s", stderr.String())
					}
					return l
				case <-time.After(time.Minute):
					t.Fatal("guest timed out")
				}
				return ""
			}
			var shm, sem int
			if _, err := fmt.Sscanf(next(), "%d %d", &shm, &sem); err != nil {
				t.Fatalf("guest's ids: %v\n%s", err, stderr.String())
			}
			// Removed here too in case the guest fails (IPC_RMID of a
			// removed id is just EINVAL).
			t.Cleanup(func() {
				unix.SysvShmCtl(shm, unix.IPC_RMID, nil)
				unix.Syscall6(unix.SYS_SEMCTL, uintptr(sem), 0, unix.IPC_RMID, 0, 0, 0)
			})
			b, err := unix.SysvShmAttach(shm, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.SysvShmDetach(b)
			if got := string(b[4096 : 4096+10]); got != "from guest" {
				t.Errorf("native side sees %q", got)
			}
			copy(b, "from native\x00")
			post := [3]int16{0, 1, 0}
			if _, _, e := unix.Syscall(unix.SYS_SEMOP, uintptr(sem), uintptr(unsafe.Pointer(&post[0])), 1); e != 0 {
				t.Fatal(e)
			}
			if got, want := next(), "guest sees: from native, nattch 2"; got != want {
				t.Errorf("guest printed %q, want %q", got, want)
			}
			<-done
			if st := cmd.ProcessState; st == nil || st.ExitCode() != 0 {
				t.Errorf("guest: %v\n%s", st, stderr.String())
			}
			checkXemuStderr(t, []string{prog}, stderr.String())
			if strings.Contains(stderr.String(), "xemu:") {
				t.Errorf("xemu stderr: %s", stderr.String())
			}
		})
	}
}
