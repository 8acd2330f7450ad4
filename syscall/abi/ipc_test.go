package abi

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// ipcLayout is one size or offset of an IPC structure: the Go layout's, and
// the kernel's (the C expression, which the test evaluates against the uapi
// headers a cross compiler installs).
type ipcLayout struct {
	c    string
	goV  uintptr
	want uintptr
}

// ipc64Layouts pin the 64-bit structures: AArch64's, and but for
// semid64_ds x86-64's (the host's).
func ipc64Layouts() []ipcLayout { return append(sem64Layouts(), ipc64CommonLayouts()...) }

func sem64Layouts() []ipcLayout {
	var sem Semid64DS
	return []ipcLayout{
		{"sizeof(struct semid64_ds)", unsafe.Sizeof(sem), 88},
		{"offsetof(struct semid64_ds, sem_otime)", unsafe.Offsetof(sem.Otime), 48},
		{"offsetof(struct semid64_ds, sem_ctime)", unsafe.Offsetof(sem.Ctime), 56},
		{"offsetof(struct semid64_ds, sem_nsems)", unsafe.Offsetof(sem.Nsems), 64},
	}
}

// hostLayouts are x86-64's.
func hostLayouts() []ipcLayout {
	var sem HostSemid64DS
	return append([]ipcLayout{
		{"sizeof(struct semid64_ds)", unsafe.Sizeof(sem), 104},
		{"offsetof(struct semid64_ds, sem_otime)", unsafe.Offsetof(sem.Otime), 48},
		{"offsetof(struct semid64_ds, sem_ctime)", unsafe.Offsetof(sem.Ctime), 64},
		{"offsetof(struct semid64_ds, sem_nsems)", unsafe.Offsetof(sem.Nsems), 80},
	}, ipc64CommonLayouts()...)
}

func ipc64CommonLayouts() []ipcLayout {
	var p IPC64Perm
	var msq Msqid64DS
	var shm Shmid64DS
	var si Shminfo64
	var sh ShmInfo
	return append([]ipcLayout{
		{"sizeof(struct ipc64_perm)", unsafe.Sizeof(p), 48},
		{"offsetof(struct ipc64_perm, mode)", unsafe.Offsetof(p.Mode), 20},
		{"offsetof(struct ipc64_perm, seq)", unsafe.Offsetof(p.Seq), 24},
		{"sizeof(struct msqid64_ds)", unsafe.Sizeof(msq), 120},
		{"offsetof(struct msqid64_ds, msg_stime)", unsafe.Offsetof(msq.Stime), 48},
		{"offsetof(struct msqid64_ds, msg_cbytes)", unsafe.Offsetof(msq.Cbytes), 72},
		{"offsetof(struct msqid64_ds, msg_qbytes)", unsafe.Offsetof(msq.Qbytes), 88},
		{"offsetof(struct msqid64_ds, msg_lspid)", unsafe.Offsetof(msq.Lspid), 96},
		{"offsetof(struct msqid64_ds, msg_lrpid)", unsafe.Offsetof(msq.Lrpid), 100},
		{"sizeof(struct shmid64_ds)", unsafe.Sizeof(shm), 112},
		{"offsetof(struct shmid64_ds, shm_segsz)", unsafe.Offsetof(shm.Segsz), 48},
		{"offsetof(struct shmid64_ds, shm_atime)", unsafe.Offsetof(shm.Atime), 56},
		{"offsetof(struct shmid64_ds, shm_ctime)", unsafe.Offsetof(shm.Ctime), 72},
		{"offsetof(struct shmid64_ds, shm_cpid)", unsafe.Offsetof(shm.Cpid), 80},
		{"offsetof(struct shmid64_ds, shm_nattch)", unsafe.Offsetof(shm.Nattch), 88},
		{"sizeof(struct shminfo64)", unsafe.Sizeof(si), 72},
		{"offsetof(struct shminfo64, shmall)", unsafe.Offsetof(si.Shmall), 32},
		{"sizeof(struct shm_info)", unsafe.Sizeof(sh), 48},
		{"offsetof(struct shm_info, shm_tot)", unsafe.Offsetof(sh.ShmTot), 8},
	}, commonIPCLayouts()...)
}

func armIPCLayouts() []ipcLayout {
	var p ArmIPC64Perm
	var sem ArmSemid64DS
	var msq ArmMsqid64DS
	var shm ArmShmid64DS
	var si ArmShminfo64
	var sh ArmShmInfo
	return append([]ipcLayout{
		{"sizeof(struct ipc64_perm)", unsafe.Sizeof(p), 36},
		{"offsetof(struct ipc64_perm, mode)", unsafe.Offsetof(p.Mode), 20},
		{"offsetof(struct ipc64_perm, seq)", unsafe.Offsetof(p.Seq), 24},
		{"sizeof(struct semid64_ds)", unsafe.Sizeof(sem), 64},
		{"offsetof(struct semid64_ds, sem_otime)", unsafe.Offsetof(sem.Otime), 36},
		{"offsetof(struct semid64_ds, sem_ctime)", unsafe.Offsetof(sem.Ctime), 44},
		{"offsetof(struct semid64_ds, sem_nsems)", unsafe.Offsetof(sem.Nsems), 52},
		{"sizeof(struct msqid64_ds)", unsafe.Sizeof(msq), 88},
		{"offsetof(struct msqid64_ds, msg_stime)", unsafe.Offsetof(msq.Stime), 36},
		{"offsetof(struct msqid64_ds, msg_cbytes)", unsafe.Offsetof(msq.Cbytes), 60},
		{"offsetof(struct msqid64_ds, msg_qbytes)", unsafe.Offsetof(msq.Qbytes), 68},
		{"offsetof(struct msqid64_ds, msg_lspid)", unsafe.Offsetof(msq.Lspid), 72},
		{"offsetof(struct msqid64_ds, msg_lrpid)", unsafe.Offsetof(msq.Lrpid), 76},
		{"sizeof(struct shmid64_ds)", unsafe.Sizeof(shm), 84},
		{"offsetof(struct shmid64_ds, shm_segsz)", unsafe.Offsetof(shm.Segsz), 36},
		{"offsetof(struct shmid64_ds, shm_atime)", unsafe.Offsetof(shm.Atime), 40},
		{"offsetof(struct shmid64_ds, shm_ctime)", unsafe.Offsetof(shm.Ctime), 56},
		{"offsetof(struct shmid64_ds, shm_cpid)", unsafe.Offsetof(shm.Cpid), 64},
		{"offsetof(struct shmid64_ds, shm_nattch)", unsafe.Offsetof(shm.Nattch), 72},
		{"sizeof(struct shminfo64)", unsafe.Sizeof(si), 36},
		{"offsetof(struct shminfo64, shmall)", unsafe.Offsetof(si.Shmall), 16},
		{"sizeof(struct shm_info)", unsafe.Sizeof(sh), 24},
		{"offsetof(struct shm_info, shm_tot)", unsafe.Offsetof(sh.ShmTot), 4},
	}, commonIPCLayouts()...)
}

// commonIPCLayouts are the structures of ints, alike everywhere.
func commonIPCLayouts() []ipcLayout {
	var sem Seminfo
	var msg Msginfo
	return []ipcLayout{
		{"sizeof(struct seminfo)", unsafe.Sizeof(sem), 40},
		{"offsetof(struct seminfo, semopm)", unsafe.Offsetof(sem.Semopm), 20},
		{"sizeof(struct msginfo)", unsafe.Sizeof(msg), 32},
		{"offsetof(struct msginfo, msgseg)", unsafe.Offsetof(msg.Msgseg), 28},
		{"sizeof(struct sembuf)", SembufSize, 6},
	}
}

func TestIPCLayouts(t *testing.T) {
	for _, set := range [][]ipcLayout{ipc64Layouts(), hostLayouts(), armIPCLayouts()} {
		for _, l := range set {
			if l.goV != l.want {
				t.Errorf("%s: Go layout has %d, the kernel %d", l.c, l.goV, l.want)
			}
		}
	}
	if IPCArm.SemidSize != 64 || IPCArm.MsqidSize != 88 || IPCArm.ShmidSize != 84 {
		t.Errorf("ARM sizes %d %d %d", IPCArm.SemidSize, IPCArm.MsqidSize, IPCArm.ShmidSize)
	}
}

// TestIPCLayoutsFromHeaders checks the pinned numbers against the uapi
// headers of each cross compiler, and of the host's compiler for the 64-bit
// layouts host calls take as they are.
func TestIPCLayoutsFromHeaders(t *testing.T) {
	for _, c := range []struct {
		cc string
		ls []ipcLayout
	}{
		{"arm-linux-gnueabihf-gcc", armIPCLayouts()},
		{"aarch64-linux-gnu-gcc", ipc64Layouts()},
		{"gcc", hostLayouts()},
	} {
		cc := sigCrossTool(t, c.cc)
		var src strings.Builder
		src.WriteString("#include <stddef.h>\n#include <linux/sem.h>\n#include <linux/msg.h>\n#include <linux/shm.h>\nunsigned int v[] = {\n")
		for _, l := range c.ls {
			src.WriteString("\t" + l.c + ",\n")
		}
		src.WriteString("};\n")
		file := filepath.Join(t.TempDir(), "l.c")
		if err := os.WriteFile(file, []byte(src.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(cc, "-S", "-o", "-", file).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", cc, err, out)
		}
		var vals []uintptr
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) == 2 && (f[0] == ".word" || f[0] == ".long") {
				v, err := strconv.ParseUint(f[1], 0, 32)
				if err != nil {
					t.Fatalf("assembly line %q", sc.Text())
				}
				vals = append(vals, uintptr(v))
			}
		}
		if len(vals) != len(c.ls) {
			t.Fatalf("%s: read %d values from the assembly, want %d", cc, len(vals), len(c.ls))
		}
		for i, l := range c.ls {
			if vals[i] != l.want {
				t.Errorf("%s: %s: the headers say %d, the test %d", cc, l.c, vals[i], l.want)
			}
		}
	}
}

// TestIPCArmRoundTrip: what goes out to an ARM guest comes back the same.
func TestIPCArmRoundTrip(t *testing.T) {
	perm := IPC64Perm{Key: 0x1234, UID: 70000, GID: 5, CUID: 6, CGID: 7, Mode: 0o1640, Seq: 3}
	shm := Shmid64DS{Perm: perm, Segsz: 8192, Atime: 1 << 33, Dtime: 2, Ctime: 3, Cpid: 10, Lpid: 11, Nattch: 2}
	if got := IPCArm.ShmidIn(IPCArm.ShmidOut(&shm)); got != shm {
		t.Errorf("shmid_ds: %+v, want %+v", got, shm)
	}
	msq := Msqid64DS{Perm: perm, Stime: 1, Rtime: 2, Ctime: 3, Cbytes: 4, Qnum: 5, Qbytes: 16384, Lspid: 7, Lrpid: 8}
	if got := IPCArm.MsqidIn(IPCArm.MsqidOut(&msq)); got != msq {
		t.Errorf("msqid_ds: %+v, want %+v", got, msq)
	}
	sem := HostSemid64DS{Perm: perm, Otime: 1, Ctime: -1, Nsems: 4}
	for _, l := range []*IPCLayout{&IPCArm, &IPC64} {
		if got := l.SemidIn(l.SemidOut(&sem)); got != sem {
			t.Errorf("semid_ds: %+v, want %+v", got, sem)
		}
	}
}
