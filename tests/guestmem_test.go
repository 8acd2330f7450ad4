package tests

import (
	"bufio"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"xemu/internal/testenv"
)

// TestGuestMemTrust: the xemu that owns a guest's memory decides who may
// read it from the credentials each request comes with, whoever sends it
// (a guest can send datagrams to the socket itself): a request claiming
// another user is refused, the same request from root is answered with the
// guest's bytes at the guest's address. Root only: it claims credentials
// it does not have. The request is the one syscall/kernel/othermem.go
// describes.
func TestGuestMemTrust(t *testing.T) {
	testenv.NeedRoot(t, "sending another user's credentials")
	src := filepath.Join(t.TempDir(), "guestmem_wait.c")
	code := "#include <stdio.h>\nstatic char secret[] = \"guest secret\";\n" +
		"int main(void) { printf(\"%lx\\n\", (unsigned long)secret); fflush(stdout); getchar(); return 0; }\n"
	if err := os.WriteFile(src, []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(xemu(t), compile(t, aarch64, src, "static"))
	cmd.Env = testEnv
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	addr, err := strconv.ParseUint(strings.TrimSpace(line), 16, 64)
	if err != nil {
		t.Fatalf("guest printed %q", line)
	}

	ask := func(uid uint32) []byte {
		t.Helper()
		c, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(c)
		unix.SetsockoptInt(c, unix.SOL_SOCKET, unix.SO_PASSCRED, 1)
		tv := unix.Timeval{Sec: 10}
		unix.SetsockoptTimeval(c, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
		to := &unix.SockaddrUnix{Name: "@xemu-guest-" + strconv.Itoa(cmd.Process.Pid)}
		req := make([]byte, 13)
		req[0] = 1 // read
		binary.LittleEndian.PutUint64(req[1:], addr)
		binary.LittleEndian.PutUint32(req[9:], 12)
		cred := unix.UnixCredentials(&unix.Ucred{Pid: int32(os.Getpid()), Uid: uid, Gid: uid})
		if err := unix.Sendmsg(c, req, cred, to, 0); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 64)
		n, _, err := unix.Recvfrom(c, buf, 0)
		if err != nil {
			t.Fatalf("no answer: %v", err)
		}
		return buf[:n]
	}
	if got := ask(1001); string(got) != "\x02" {
		t.Errorf("another user's request answered %q, want refused (\\x02)", got)
	}
	if got := ask(0); string(got) != "\x01guest secret" {
		t.Errorf("root's request answered %q, want \"\\x01guest secret\"", got)
	}
}
