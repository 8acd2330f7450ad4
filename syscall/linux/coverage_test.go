package linux

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"xemu/syscall/kernel"
)

// coverageDoc renders syscalls.md: every system call of every architecture
// with its support level, from the same tables that dispatch and --strace use.
func coverageDoc() string {
	var b strings.Builder
	b.WriteString("# System call coverage\n\nGenerated from the dispatch tables by `XEMU_UPDATE=1 go test ./syscall/linux -run TestCoverageDoc`; do not edit.\n")
	b.WriteString("ENOSYS: the guest gets ENOSYS (and `--strace` names the call).\n")
	var machines []int
	for m := range kernel.Abis {
		machines = append(machines, m)
	}
	sort.Ints(machines)
	for _, m := range machines {
		abi, _ := kernel.ForMachine(m)
		rows := abi.Coverage()
		counts := map[kernel.Support]int{}
		for _, r := range rows {
			counts[r.Support]++
		}
		fmt.Fprintf(&b, "\n## %s\n\n%d supported, %d partial, %d ENOSYS.\n\n| nr | name | support | note |\n|---|---|---|---|\n",
			abi.Name, counts[kernel.Supported], counts[kernel.Partial], counts[kernel.Unimplemented])
		for _, r := range rows {
			fmt.Fprintf(&b, "| %d | %s | %s | %s |\n", r.Nr, r.Name, r.Support, r.Note)
		}
	}
	return b.String()
}

// TestCoverageDoc keeps syscalls.md equal to the tables.
func TestCoverageDoc(t *testing.T) {
	want := coverageDoc()
	if os.Getenv("XEMU_UPDATE") != "" {
		if err := os.WriteFile("syscalls.md", []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("syscalls.md")
	if err != nil || string(got) != want {
		t.Fatalf("syscalls.md is out of date: run XEMU_UPDATE=1 go test ./syscall/linux -run TestCoverageDoc")
	}
}

// TestEveryEntryHasAHandlerOrAReason: an entry is either implemented or says
// why not; nothing is silently unsupported.
func TestEveryEntryHasAHandlerOrAReason(t *testing.T) {
	for name, e := range kernel.Entries() {
		if !e.Implemented() && (e.Support != kernel.Unimplemented || e.Note == "") {
			t.Errorf("%s: no handler and no reason", name)
		}
		if e.Implemented() && e.Support == kernel.Unimplemented {
			t.Errorf("%s: has a handler but says unimplemented", name)
		}
		if e.Support == kernel.Partial && e.Note == "" {
			t.Errorf("%s: partial without saying what is missing", name)
		}
	}
}
