// Package syscall is the guest's Linux, in three layers with imports pointing
// one way (linux → kernel → abi):
//
//	abi     facts: system call numbers, flag values, layouts, signal frames
//	kernel  state and behaviour: Process, Task, signals, the run loop, the
//	        dispatch table that handlers register into
//	linux   the handlers, one file per subsystem, with no state of their own
//
// This package ties them together for the command line.
package syscall

import (
	"xemu/syscall/kernel"
	_ "xemu/syscall/linux" // registers the handlers
)

// The command line's view of the kernel.
type (
	Config    = kernel.Config
	ExitError = kernel.ExitError
	HostSelf  = kernel.HostSelf
	SigSet    = kernel.SigSet
)

var (
	Run         = kernel.Run
	Resume      = kernel.Resume
	ZygoteMain  = kernel.ZygoteMain
	ForMachine  = kernel.ForMachine
	PrepareHost = kernel.PrepareHost
	DieBySignal = kernel.DieBySignal

	OpenHostSelf = kernel.OpenHostSelf
	ParseSelfFDs = kernel.ParseSelfFDs
	KeepProgram  = kernel.KeepProgram
	ExecEnv      = kernel.ExecEnv

	ParseExecState = kernel.ParseExecState
)
