package cpu

// Interrupt asks the engine to stop at its next safe point. Until the
// link-time wrappers make a stop from another thread safe (UNICORN.md), it
// does nothing here: signals for a thread that runs guest code are taken at
// its next system call.
func (e *Engine) Interrupt() {}
