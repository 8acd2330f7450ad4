package cpu

// #include "engine.h"
import "C"

// Reg is a Unicorn register number of the engine's architecture.
type Reg int

// Model is a CPU model of one architecture.
type Model struct {
	uc   int
	Name string
}

// Arch is what the cpu package knows of a guest architecture.
type Arch struct {
	id           int
	Name         string
	Bits         int
	DefaultModel Model
	// TrapBase is above the arena in Unicorn's physical space: refused pages
	// are answered there so the access stops with its exact address.
	TrapBase  uint64
	ArenaSize uint64
	PCReg     Reg
	RetReg    Reg // where a system call's result goes
	SPReg     Reg
	resumePC  func(e *Engine, pc uint64) uint64
}

// ResumePC is the address to restart emulation at after a stop at pc (on ARM
// the Thumb bit is added back from CPSR).
func (a *Arch) ResumePC(e *Engine, pc uint64) uint64 { return a.resumePC(e, pc) }
