package abi

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// sigFrameDumpFromQemu runs testdata/sigframe_dump.c under qemu-user and returns
// its key -> value lines and the frame bytes.
func sigFrameDumpFromQemu(t *testing.T, triple, qemu, cpuModel string, gccFlags []string, mode string) (map[string]uint64, []byte) {
	t.Helper()
	gcc := sigCrossTool(t, triple+"-gcc")
	q := sigCrossTool(t, qemu)
	bin := filepath.Join(t.TempDir(), "dump")
	args := append([]string{"-static", "-O0", "-fno-omit-frame-pointer", "-o", bin}, gccFlags...)
	args = append(args, "testdata/sigframe_dump.c")
	if out, err := exec.Command(gcc, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", gcc, err, out)
	}
	out, err := exec.Command(q, "-cpu", cpuModel, bin, mode).Output()
	if err != nil {
		t.Fatalf("%s %s %s: %v", q, bin, mode, err)
	}
	vals := map[string]uint64{}
	var frame []byte
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), " ")
		if k == "frame" {
			if frame, err = hex.DecodeString(v); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if vals[k], err = strconv.ParseUint(v, 16, 64); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
	}
	if frame == nil {
		t.Fatalf("no frame in output:\n%s", out)
	}
	return vals, frame
}

// TestSigFrameMatchesQemu compares Build with the frames qemu-user builds
// (qemu models the kernel's): a request is made from what the dumped frame
// says was interrupted, and Build must put the frame at the same address,
// write exactly the same bytes and enter the handler with the same
// registers. Bytes Build would write elsewhere or leave out, misplaced
// records and wrong alignment all show up.
func TestSigFrameMatchesQemu(t *testing.T) {
	for _, mode := range []string{"kill", "segv"} {
		t.Run("aarch64/"+mode, func(t *testing.T) {
			v, dump := sigFrameDumpFromQemu(t, "aarch64-linux-gnu", "qemu-aarch64", "cortex-a72", nil, mode)
			var f RTSigframeAArch64
			sigLayoutFrom(&f, dump)
			sc := &f.UC.Mcontext
			req := &SigFrameRequest{
				Mask: f.UC.Sigmask, Info: UnmarshalSigInfo(f.Info[:], 64), RT: true,
				Stack: StackT{SP: f.UC.Stack.SP, Flags: f.UC.Stack.Flags, Size: f.UC.Stack.Size},
				SP:    v["top"], Handler: v["handler"], Trampoline: v["lr"] - SigTrampAArch64RT,
				FaultAddr: sc.FaultAddress,
			}
			req.Regs.X, req.Regs.SP, req.Regs.PC, req.Regs.PState = sc.Regs, sc.SP, sc.PC, sc.PState
			for off := 0; off+8 <= len(sc.Reserved); {
				magic := binary.LittleEndian.Uint32(sc.Reserved[off:])
				size := int(binary.LittleEndian.Uint32(sc.Reserved[off+4:]))
				if magic == FPSIMD_MAGIC {
					var fp FPSIMDContextAArch64
					sigLayoutFrom(&fp, sc.Reserved[off:])
					req.Regs.V, req.Regs.FPSR, req.Regs.FPCR = fp.VRegs, uint64(fp.FPSR), uint64(fp.FPCR)
				}
				if magic == ESR_MAGIC {
					req.ESR = binary.LittleEndian.Uint64(sc.Reserved[off+8:])
				}
				if magic == 0 || size < 8 {
					break
				}
				off += size
			}
			// qemu 7.2 writes no esr_context for faults (the kernel does; the
			// request just follows the dump) but does fill fault_address.
			if mode == "segv" && (req.FaultAddr != 16 || req.Info.Addr != 16 || req.Info.Code != SEGV_MAPERR) {
				t.Errorf("segv: fault_address %#x si_addr %#x si_code %d", req.FaultAddr, req.Info.Addr, req.Info.Code)
			}
			fr, err := SigFrameAArch64.Build(req)
			if err != nil {
				t.Fatal(err)
			}
			compareSigFrameWithDump(t, fr, v["info"], dump)
			sigReturnFromDump(t, SigFrameAArch64, true, fr, v, dump, req)
			for _, c := range []struct {
				what      string
				got, want uint64
			}{
				{"x0", fr.Regs.X[0], v["sig"]},
				{"x1", fr.Regs.X[1], v["info"]},
				{"x2", fr.Regs.X[2], v["uc"]},
				{"x29", fr.Regs.X[29], v["fp"]},
				{"x30", fr.Regs.X[30], v["lr"]},
				{"pc", fr.Regs.PC, v["handler"]},
			} {
				if c.got != c.want {
					t.Errorf("%s at handler entry = %#x, qemu says %#x", c.what, c.got, c.want)
				}
			}
		})
	}
	for _, mode := range []string{"kill", "segv", "nort"} {
		for _, isa := range []string{"-marm", "-mthumb"} {
			t.Run("arm"+isa+"/"+mode, func(t *testing.T) { testARMFrameMatchesQemu(t, isa, mode) })
		}
	}
}

func testARMFrameMatchesQemu(t *testing.T, isa, mode string) {
	v, dump := sigFrameDumpFromQemu(t, "arm-linux-gnueabihf", "qemu-arm", "cortex-a15", []string{isa}, mode)
	rt := mode != "nort"
	var f RTSigframeARM
	if rt {
		sigLayoutFrom(&f, dump)
	} else {
		sigLayoutFrom(&f.Sig, dump)
		// qemu 7.2's non-rt frame departs from arch/arm/kernel/signal.c
		// setup_frame in two ways: uc_flags 0 instead of 0x5ac3c35a, and a
		// uc_stack filled in. Undo them so the rest can be compared.
		f.Sig.UC.Flags = sigframeUCFlagsARM
		f.Sig.UC.Stack = StackTARM{}
		copy(dump, sigLayoutBytes(&f.Sig)[:unsafe.Offsetof(f.Sig.UC.Mcontext)])
		v["handler"] = v["handler_nort"]
	}
	uc := &f.Sig.UC
	sc := &uc.Mcontext
	vfp := &uc.Regspace.VFP
	req := &SigFrameRequest{
		Mask: uint64(uc.Sigmask[0]) | uint64(uc.Sigmask[1])<<32,
		Info: UnmarshalSigInfo(f.Info[:], 32), RT: rt,
		Stack: StackT{SP: uint64(uc.Stack.SP), Flags: uc.Stack.Flags, Size: uint64(uc.Stack.Size)},
		SP:    v["top"], Handler: v["handler"],
		// glibc's sigaction sets SA_RESTORER on ARM.
		Restorer: v["lr"],
		TrapNo:   uint64(sc.TrapNo), ErrorCode: uint64(sc.ErrorCode), FaultAddr: uint64(sc.FaultAddress),
	}
	if !rt {
		req.Info.Signo = int32(v["sig"])
	}
	for i, r := range sc.R {
		req.Regs.X[i] = uint64(r)
	}
	req.Regs.X[11], req.Regs.X[12], req.Regs.X[14] = uint64(sc.FP), uint64(sc.IP), uint64(sc.LR)
	req.Regs.SP, req.Regs.PC, req.Regs.PState = uint64(sc.SP), uint64(sc.PC), uint64(sc.CPSR)
	for i, d := range vfp.FPRegs {
		req.Regs.V[i/2][i%2] = d
	}
	req.Regs.FPSR = uint64(vfp.FPSCR)
	// qemu 7.2 leaves sigcontext.fault_address 0 on ARM (the kernel
	// stores the FAR there); the request just follows the dump.
	if mode == "segv" && (req.Info.Addr != 16 || req.Info.Code != SEGV_MAPERR) {
		t.Errorf("segv: si_addr %#x si_code %d", req.Info.Addr, req.Info.Code)
	}
	fr, err := SigFrameARM.Build(req)
	if err != nil {
		t.Fatal(err)
	}
	compareSigFrameWithDump(t, fr, v["info"], dump)
	sigReturnFromDump(t, SigFrameARM, rt, fr, v, dump, req)
	for _, c := range []struct {
		what      string
		got, want uint64
	}{
		{"r0", fr.Regs.X[0], v["sig"]},
		{"sp", fr.Regs.SP, v["info"]},
		{"lr", fr.Regs.X[14], v["lr"]},
		{"pc", fr.Regs.PC, v["handler"] &^ 1},
		{"cpsr.T", fr.Regs.PState & sigCPSRThumb >> 5, v["handler"] & 1},
	} {
		if c.got != c.want {
			t.Errorf("%s at handler entry = %#x, qemu says %#x", c.what, c.got, c.want)
		}
	}
	if rt && (fr.Regs.X[1] != v["info"] || fr.Regs.X[2] != v["uc"]) {
		t.Errorf("r1, r2 at handler entry = %#x %#x, qemu says %#x %#x", fr.Regs.X[1], fr.Regs.X[2], v["info"], v["uc"])
	}
	if isa == "-mthumb" && req.Regs.PState&sigCPSRThumb == 0 {
		t.Errorf("interrupted Thumb code saved cpsr %#x without T", req.Regs.PState)
	}
}

func compareSigFrameWithDump(t *testing.T, fr SigFrame, info uint64, dump []byte) {
	t.Helper()
	if fr.Addr != info {
		t.Errorf("frame at %#x, qemu put it at %#x", fr.Addr, info)
		return
	}
	if len(dump) < len(fr.Bytes) {
		t.Fatalf("dump of %d bytes shorter than the %d-byte frame", len(dump), len(fr.Bytes))
	}
	for i := range fr.Bytes {
		if fr.Bytes[i] != dump[i] {
			t.Errorf("frame byte %#x: Build wrote %#x, qemu %#x (bytes %#x.. % x vs % x)", i, fr.Bytes[i], dump[i],
				i&^15, fr.Bytes[i&^15:min(len(fr.Bytes), i&^15+16)], dump[i&^15:i&^15+16])
			return
		}
	}
	// Past the frame only what the stack held before: the zeroed alternate
	// stack.
	for i := len(fr.Bytes); i < len(dump); i++ {
		if dump[i] != 0 {
			t.Errorf("qemu wrote byte %#x past the %d-byte frame", i, len(fr.Bytes))
			return
		}
	}
}

// sigReturnFromDump feeds qemu's own frame to ReturnFrame, which must accept it
// and give back the interrupted registers and mask.
func sigReturnFromDump(t *testing.T, l SigFrameLayout, rt bool, fr SigFrame, v map[string]uint64, dump []byte, req *SigFrameRequest) {
	t.Helper()
	mem := &sigFakeStack{base: v["info"], b: dump}
	cur := fr.Regs
	got, mask, stack, err := l.ReturnFrame(v["info"], rt, &cur, mem.read)
	if err != nil {
		t.Fatalf("qemu's frame refused: %v", err)
	}
	if got != req.Regs || mask != req.Mask || stack != req.Stack {
		t.Errorf("sigreturn from qemu's frame:\n got %+v mask %#x stack %+v\nwant %+v mask %#x stack %+v",
			got, mask, stack, req.Regs, req.Mask, req.Stack)
	}
}
