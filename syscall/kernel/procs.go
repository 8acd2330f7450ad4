package kernel

import (
	"os"
	"runtime"
	"sync"

	"xemu/cpu"
)

// A guest with one thread runs its Go side on one processor (GOMAXPROCS 1),
// and gets all of them back when it starts a second thread. The guest's code
// runs inside a cgo call (Unicorn), which holds no processor; the Go side
// only handles system calls and a few goroutines (signal forwarding, the
// /proc/PID/mem server). A second processor bought a single-threaded guest
// nothing but cost: the runtime spinning up threads to look for work each
// time a goroutine woke, and sysmon polling every 20 µs while a processor
// sat in the cgo call. Measured on 2 CPUs, 60 fork+exec of /bin/true from a
// guest bash, whose zygotes and children all start this way: 5–6% faster
// at the median of 8–10 alternating runs (1% at the minimum, where this
// VM's noise is least); the start of an empty program unchanged. A
// GOMAXPROCS in the environment is left as it is. Usually the runtime
// starts with one processor already (cpu/oneproc.c), which spares the
// stop of the world a later runtime.GOMAXPROCS(1) costs.
var procs struct {
	once    sync.Once
	lowered bool // by xemu: allProcs gives back the runtime's default
}

// singleProc lowers GOMAXPROCS to 1 at start-up.
func singleProc() {
	if cpu.OneProcFromStart() {
		procs.lowered = true
		return
	}
	if _, set := os.LookupEnv("GOMAXPROCS"); set {
		return
	}
	runtime.GOMAXPROCS(1)
	procs.lowered = true
}

// allProcs gives the runtime back every processor, once the guest has
// threads whose system calls may run in Go at the same time.
func allProcs() {
	procs.once.Do(func() {
		if procs.lowered {
			runtime.SetDefaultGOMAXPROCS()
		}
	})
}
