package abi

// Open flags that ARM and AArch64 number differently from x86-64
// (arch/arm64/include/uapi/asm/fcntl.h, arch/arm/include/uapi/asm/fcntl.h).
const (
	GuestODirectory = 0o40000
	GuestONofollow  = 0o100000
	GuestODirect    = 0o200000
	GuestOLargefile = 0o400000

	hostODirect    = 0o40000
	hostOLargefile = 0o100000
	hostODirectory = 0o200000
	hostONofollow  = 0o400000
)

var openFlagMap = [][2]int{
	{GuestODirectory, hostODirectory},
	{GuestONofollow, hostONofollow},
	{GuestODirect, hostODirect},
	{GuestOLargefile, hostOLargefile},
}

const movedOpenFlags = GuestODirectory | GuestONofollow | GuestODirect | GuestOLargefile

func OpenFlagsToHost(f int) int {
	h := f &^ movedOpenFlags
	for _, m := range openFlagMap {
		if f&m[0] != 0 {
			h |= m[1]
		}
	}
	return h
}

func OpenFlagsToGuest(h int) int {
	g := h &^ (hostODirectory | hostONofollow | hostODirect | hostOLargefile)
	for _, m := range openFlagMap {
		if h&m[1] != 0 {
			g |= m[0]
		}
	}
	return g
}
