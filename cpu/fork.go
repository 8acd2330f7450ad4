package cpu

// #include <stdlib.h>
// #include "fork.h"
import "C"

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// SnapMode says which pages of a range a fork child saves.
type SnapMode int32

const (
	SnapAnon SnapMode = C.XSNAP_ANON // private anonymous: pages ever written
	SnapFile SnapMode = C.XSNAP_FILE // private file mapping: pages no longer the file's
	SnapAll  SnapMode = C.XSNAP_ALL  // every page
)

// SnapRange is host memory a fork child saves into its memfd at Off.
type SnapRange struct {
	Host uintptr
	Len  uint64
	Off  uint64
	Mode SnapMode
}

// ForkRequest is what a fork child does between the clone and its exec of
// the next xemu.
type ForkRequest struct {
	Ranges []SnapRange
	MemFD  int
	// FDListOff is where the child records the guest descriptors whose
	// close-on-exec flag it cleared.
	FDListOff  uint64
	Skip       []int // descriptors that are not the guest's
	Keep       []int // xemu descriptors the next xemu takes over
	CloneFlags uint64
	// What the child executes: ExeFD (execveat with AT_EMPTY_PATH) when it
	// is not -1, else Path.
	ExeFD     int
	Path      string
	Argv, Env []string
	ErrFD     int
	// ProcFD is the host's /proc (O_PATH) or -1; without it the child
	// saves every page it cannot rule out and tries descriptors below MaxFD.
	ProcFD int
	MaxFD  int
}

// Fork clones the host process. The child saves guest memory as r says and
// executes r.Path; only the parent returns, with the child's pid. It must be
// called on the engine's locked thread, from a system call handler.
func Fork(r *ForkRequest) (int, error) {
	ranges := C.malloc(C.size_t(len(r.Ranges)+1) * C.sizeof_xemu_snap_range)
	defer C.free(ranges)
	rs := unsafe.Slice((*C.xemu_snap_range)(ranges), len(r.Ranges)+1)
	for i, s := range r.Ranges {
		rs[i] = C.xemu_snap_range{host: C.uint64_t(s.Host), len: C.uint64_t(s.Len), off: C.uint64_t(s.Off), mode: C.int32_t(s.Mode)}
	}
	keep := cInts(r.Keep)
	defer C.free(unsafe.Pointer(keep))
	skip := cInts(r.Skip)
	defer C.free(unsafe.Pointer(skip))
	path := C.CString(r.Path)
	defer C.free(unsafe.Pointer(path))
	argv := cStrings(r.Argv)
	defer freeCStrings(argv)
	envp := cStrings(r.Env)
	defer freeCStrings(envp)
	req := (*C.xemu_fork_req)(C.malloc(C.sizeof_xemu_fork_req))
	defer C.free(unsafe.Pointer(req))
	*req = C.xemu_fork_req{
		ranges: (*C.xemu_snap_range)(ranges), nranges: C.int32_t(len(r.Ranges)),
		memfd: C.int32_t(r.MemFD), fdlist_off: C.uint64_t(r.FDListOff),
		nskip: C.int32_t(len(r.Skip)), skip: skip,
		nkeep: C.int32_t(len(r.Keep)), keep: keep,
		clone_flags: C.uint64_t(r.CloneFlags), path: path,
		argv: argv, envp: envp, errfd: C.int32_t(r.ErrFD),
		exe_fd: C.int32_t(r.ExeFD), proc_fd: C.int32_t(r.ProcFD), max_fd: C.int32_t(r.MaxFD),
	}
	pid := int64(C.xemu_fork(req))
	runtime.KeepAlive(r)
	if pid < 0 {
		return 0, unix.Errno(-pid)
	}
	return int(pid), nil
}

// UnblockSignals unblocks every host signal of the calling thread.
func UnblockSignals() { C.xemu_unblock_signals() }

func cInts(v []int) *C.int32_t {
	p := (*C.int32_t)(C.malloc(C.size_t(len(v)+1) * 4))
	s := unsafe.Slice(p, len(v)+1)
	for i, x := range v {
		s[i] = C.int32_t(x)
	}
	return p
}

// cStrings is a NULL-terminated C array of C strings.
func cStrings(ss []string) **C.char {
	arr := (**C.char)(C.malloc(C.size_t(len(ss)+1) * C.size_t(unsafe.Sizeof(uintptr(0)))))
	s := unsafe.Slice(arr, len(ss)+1)
	for i, v := range ss {
		s[i] = C.CString(v)
	}
	s[len(ss)] = nil
	return arr
}

func freeCStrings(arr **C.char) {
	for _, p := range unsafe.Slice(arr, 1<<20) {
		if p == nil {
			break
		}
		C.free(unsafe.Pointer(p))
	}
	C.free(unsafe.Pointer(arr))
}

// SaveRanges saves the ranges into memfd from this process, as a fork
// child saves them from its copy: only where nothing else can write guest
// memory meanwhile (a single-threaded guest, stopped in its fork).
func SaveRanges(ranges []SnapRange, memfd, procFD int) error {
	if len(ranges) == 0 {
		return nil
	}
	buf := C.malloc(C.size_t(len(ranges)) * C.sizeof_xemu_snap_range)
	defer C.free(buf)
	rs := unsafe.Slice((*C.xemu_snap_range)(buf), len(ranges))
	for i, s := range ranges {
		rs[i] = C.xemu_snap_range{host: C.uint64_t(s.Host), len: C.uint64_t(s.Len), off: C.uint64_t(s.Off), mode: C.int32_t(s.Mode)}
	}
	if r := int64(C.xemu_save_ranges((*C.xemu_snap_range)(buf), C.int32_t(len(ranges)), C.int32_t(memfd), C.int32_t(procFD))); r < 0 {
		return unix.Errno(-r)
	}
	return nil
}

// Spawn starts the binary exeFD with argv and env as a child of this
// process that inherits none of its descriptors but keepFD (as keepAt) and
// /dev/null (nullFD) as 0, 1 and 2, with every signal blocked. It copies no
// memory of this process (vfork), so it is cheap from any thread.
func Spawn(exeFD int, argv, env []string, keepFD, keepAt, nullFD int) (int, error) {
	cargv := cStrings(argv)
	defer freeCStrings(cargv)
	cenv := cStrings(env)
	defer freeCStrings(cenv)
	req := (*C.xemu_spawn_req)(C.malloc(C.sizeof_xemu_spawn_req))
	defer C.free(unsafe.Pointer(req))
	*req = C.xemu_spawn_req{
		exe_fd: C.int32_t(exeFD), null_fd: C.int32_t(nullFD),
		keep_fd: C.int32_t(keepFD), keep_at: C.int32_t(keepAt),
		argv: cargv, envp: cenv,
	}
	pid := int64(C.xemu_spawn(req))
	if pid < 0 {
		return 0, unix.Errno(-pid)
	}
	return int(pid), nil
}
