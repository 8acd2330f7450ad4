package linux

import (
	"reflect"
	"testing"
	"unsafe"

	"xemu/syscall/kernel"
)

// TestARMTable: ARM's names reach the right entries.
func TestARMTable(t *testing.T) {
	abi, err := kernel.ForMachine(40)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"getuid": "getuid16", "getuid32": "getuid", "ugetrlimit": "getrlimit", "_llseek": "llseek",
		"clock_gettime64": "clock_gettime", "fstat64": "fstat64", "ARM_set_tls": "ARM_set_tls",
	} {
		e := abi.Lookup(abi.Numbers[name])
		impl := kernel.Entries()[want]
		if e == nil || impl == nil || e.Fn == nil {
			t.Errorf("%s: no handler", name)
			continue
		}
		if e.Name != name {
			t.Errorf("%s: entry named %s", name, e.Name)
		}
		if reflect.ValueOf(e.Fn).Pointer() != reflect.ValueOf(impl.Fn).Pointer() {
			t.Errorf("%s: handled by another entry than %s", name, want)
		}
		if unsafe.Pointer(&e.Args) == unsafe.Pointer(&impl.Args) {
			t.Errorf("%s: the shared entry itself, not a copy", name)
		}
	}
	if e := abi.Lookup(abi.Numbers["clock_gettime64"]); !e.Time64 {
		t.Error("clock_gettime64 does not take 64-bit timespecs")
	}
	if e := abi.Lookup(abi.Numbers["clock_gettime"]); e.Time64 {
		t.Error("clock_gettime takes 64-bit timespecs")
	}
	a64, _ := kernel.ForMachine(183)
	if e := a64.Lookup(a64.Numbers["getuid"]); e.Name != "getuid" || e.Fn == nil {
		t.Errorf("aarch64 getuid is %s", e.Name)
	}
}
