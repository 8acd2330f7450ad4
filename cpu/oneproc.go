package cpu

// extern char *xemu_borrowed_env;
// extern int xemu_borrowed_at;
// int xemu_env_to_borrow(char **envp);
import "C"

import (
	"os"
	"slices"
	"strings"
)

// oneProcFromStart: the runtime started with GOMAXPROCS 1 because
// oneproc.c put it in the environment, not because the user did.
var oneProcFromStart bool

// The borrowed entry goes back first thing: package cpu's init runs before
// the packages that import it, and those read the environment.
func init() {
	if C.xemu_borrowed_at < 0 {
		return
	}
	// Unset and set again, the borrowed entry and those after it are
	// appended in order after the others, where they were. (With cgo,
	// Setenv and Unsetenv change the C library's environment too.)
	env := os.Environ()
	again := []string{C.GoString(C.xemu_borrowed_env)}
	if at := slices.Index(env, "GOMAXPROCS=1"); at >= 0 {
		again = append(again, env[at+1:]...)
	}
	os.Unsetenv("GOMAXPROCS")
	for _, entry := range again {
		key, value, _ := strings.Cut(entry, "=")
		os.Unsetenv(key)
		os.Setenv(key, value)
	}
	oneProcFromStart = true
}

// OneProcFromStart reports whether the Go runtime started with one processor
// at xemu's request (oneproc.c); runtime.SetDefaultGOMAXPROCS gives back
// what it would have chosen.
func OneProcFromStart() bool { return oneProcFromStart }

// envToBorrow is the index of the entry of env oneproc.c would borrow, or -1.
func envToBorrow(env []string) int {
	envp, free := cStringArray(env)
	defer free()
	return int(C.xemu_env_to_borrow(&envp[0]))
}
