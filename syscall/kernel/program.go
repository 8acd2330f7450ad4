package kernel

import (
	"fmt"

	"xemu/cpu"
	"xemu/cpu/mem"
	"xemu/loader"
)

// program is a guest program about to run: the one xemu starts with, or the
// one an execve replaces the process's program with.
type program struct {
	f, interp *loader.File
	abi       *ABI
	argv, env []string
	execfn    string // AT_EXECFN: the path the program was executed by
	exe       string // absolute host path (/proc/self/exe)
}

func (pr *program) close() {
	pr.f.Close()
	if pr.interp != nil {
		pr.interp.Close()
	}
}

// image is a program loaded into an address space and an engine of its own,
// which are not yet the process's: until install, the old program still
// runs, and an error returns to it.
type image struct {
	abi   *ABI
	space *mem.AddressSpace
	cpu   *cpu.Engine
	entry uint64 // where the CPU starts (bit 0: Thumb)
	stack *loader.Stack
	// What the loader read of the CPU (AT_HWCAP, /proc/cpuinfo).
	hwcap, hwcap2, cpuid uint64
	trampoline           mem.GuestAddr
}

// release frees an image that was not installed.
func (img *image) release() {
	if img.cpu != nil {
		img.cpu.Close()
	}
	img.space.Close()
}

// loadProgram builds pr's image as Linux's load_elf_binary does (stack,
// segments, interpreter, argv, envp and auxv, brk, the signal return page,
// ARM's kernel pages), with the process's limits and personality applied.
func (t *Task) loadProgram(pr *program, randomize bool) (*image, error) {
	p, abi := t.P, pr.abi
	space, err := mem.New(mem.Layout{Limit: mem.GuestAddr(abi.Limit), MinAddr: 0x10000, ArenaSize: abi.CPU.ArenaSize})
	if err != nil {
		return nil, fmt.Errorf("reserving guest memory: %w", err)
	}
	p.setupMemFDs(space)
	img := &image{abi: abi, space: space}
	ok := false
	defer func() {
		if !ok {
			img.release()
		}
	}()
	if abi.KernelPages != nil {
		if err := abi.KernelPages(space); err != nil {
			return nil, fmt.Errorf("mapping the kernel's pages: %w", err)
		}
	}
	if img.cpu, err = p.openEngineOn(t, abi, space); err != nil {
		return nil, err
	}
	// On this engine, before it runs the program or anything is mapped
	// where the test maps its pages, and before signals can stop it.
	img.cpu.SelfTest()
	target := abi.Target(img.cpu)
	target.Randomize = randomize
	img.hwcap, img.hwcap2, img.cpuid = target.HWCap, target.HWCap2, target.CPUID
	stack, err := loader.MapStack(space, target, false)
	if err != nil {
		return nil, fmt.Errorf("mapping the stack: %w", err)
	}
	ld, err := loader.Load(space, target, pr.f, pr.interp)
	if err != nil {
		return nil, err
	}
	if err := loader.BuildStack(space, target, stack, ld, pr.argv, pr.env, pr.execfn); err != nil {
		return nil, fmt.Errorf("building the initial stack: %w", err)
	}
	space.SetBrk(mem.GuestAddr(ld.BrkStart))
	if img.trampoline, err = mapSigTrampoline(space, abi); err != nil {
		return nil, fmt.Errorf("mapping the signal return page: %w", err)
	}
	// Limits the previous program set apply from here on (the program's
	// own image is mapped whatever they say).
	p.memoryRules(space)
	if err := abi.StartThread(img.cpu, ld.Entry, stack.SP); err != nil {
		return nil, err
	}
	img.entry, img.stack = ld.Entry, stack
	ok = true
	return img, nil
}

// install makes img the process's program, on thread t.
func (t *Task) install(img *image, pr *program) {
	p := t.P
	p.ABI, p.Mem = img.abi, img.space
	p.Mem.SetObserver(p)
	p.sigMu.Lock()
	t.CPU = img.cpu
	p.sigMu.Unlock()
	cpu.SetSignalTarget(img.cpu)
	p.HWCap, p.HWCap2, p.CPUID = img.hwcap, img.hwcap2, img.cpuid
	p.Auxv = img.stack.Auxv
	p.EnvStart, p.EnvEnd = mem.GuestAddr(img.stack.EnvStart), mem.GuestAddr(img.stack.EnvEnd)
	p.sigTrampoline = img.trampoline
	p.ExePath, p.Argv, p.FS.Exe = pr.f.Path, pr.argv, pr.exe
}
