package abi

import "unsafe"

// System V IPC: commands and flags (include/uapi/linux/{ipc,sem,msg,shm}.h,
// the same on every architecture) and the structures the ctl calls pass,
// whose layouts differ between ARM and 64-bit architectures.
const (
	IPC_PRIVATE = 0
	IPC_CREAT   = 0o1000
	IPC_EXCL    = 0o2000
	IPC_NOWAIT  = 0o4000

	IPC_RMID = 0
	IPC_SET  = 1
	IPC_STAT = 2
	IPC_INFO = 3
	// IPC_64 is the version flag a C library ors into ctl commands where
	// the kernel also takes the old layouts (ARM: ipc_parse_version).
	IPC_64 = 0x100

	GETPID       = 11
	GETVAL       = 12
	GETALL       = 13
	GETNCNT      = 14
	GETZCNT      = 15
	SETVAL       = 16
	SETALL       = 17
	SEM_STAT     = 18
	SEM_INFO     = 19
	SEM_STAT_ANY = 20

	MSG_STAT     = 11
	MSG_INFO     = 12
	MSG_STAT_ANY = 13
	MSG_NOERROR  = 0o10000
	MSG_EXCEPT   = 0o20000
	MSG_COPY     = 0o40000

	SHM_RDONLY   = 0o10000
	SHM_RND      = 0o20000
	SHM_REMAP    = 0o40000
	SHM_EXEC     = 0o100000
	SHM_LOCK     = 11
	SHM_UNLOCK   = 12
	SHM_STAT     = 13
	SHM_INFO     = 14
	SHM_STAT_ANY = 15

	// SembufSize is struct sembuf: three shorts on every architecture.
	SembufSize = 6
)

// The 64-bit layouts: asm-generic/{ipcbuf,sembuf,msgbuf,shmbuf}.h with a
// 32-bit mode_t and 64-bit longs. They are AArch64's, and but for struct
// semid64_ds x86-64's (the host's: arch/x86/include/uapi/asm/{msgbuf,
// shmbuf}.h agree for x86-64), so host calls take them as they are.

// IPC64Perm is struct ipc64_perm: 48 bytes.
type IPC64Perm struct {
	Key                  int32
	UID, GID, CUID, CGID uint32
	Mode                 uint32
	Seq                  uint16
	_                    uint16
	_                    [2]uint64
}

// Semid64DS is struct semid64_ds: 88 bytes.
type Semid64DS struct {
	Perm         IPC64Perm
	Otime, Ctime int64
	Nsems        uint64
	_            [2]uint64
}

// HostSemid64DS is x86-64's struct semid64_ds
// (arch/x86/include/uapi/asm/sembuf.h), which keeps a padding word after
// each time: 104 bytes. The host's semctl takes it.
type HostSemid64DS struct {
	Perm  IPC64Perm
	Otime int64
	_     uint64
	Ctime int64
	_     uint64
	Nsems uint64
	_     [2]uint64
}

// Msqid64DS is struct msqid64_ds: 120 bytes.
type Msqid64DS struct {
	Perm                 IPC64Perm
	Stime, Rtime, Ctime  int64
	Cbytes, Qnum, Qbytes uint64
	Lspid, Lrpid         int32
	_                    [2]uint64
}

// Shmid64DS is struct shmid64_ds: 112 bytes.
type Shmid64DS struct {
	Perm                IPC64Perm
	Segsz               uint64
	Atime, Dtime, Ctime int64
	Cpid, Lpid          int32
	Nattch              uint64
	_                   [2]uint64
}

// Shminfo64 is struct shminfo64 (shmctl IPC_INFO): nine longs, 72 bytes.
type Shminfo64 struct {
	Shmmax, Shmmin, Shmmni, Shmseg, Shmall uint64
	_                                      [4]uint64
}

// ShmInfo is struct shm_info (shmctl SHM_INFO): 48 bytes.
type ShmInfo struct {
	UsedIDs                                       int32
	_                                             int32
	ShmTot, ShmRss, ShmSwp, SwapAttempts, SwapSuc uint64
}

// Seminfo is struct seminfo (semctl IPC_INFO, SEM_INFO): ten ints, the
// same everywhere.
type Seminfo struct {
	Semmap, Semmni, Semmns, Semmnu, Semmsl, Semopm, Semume, Semusz, Semvmx, Semaem int32
}

// Msginfo is struct msginfo (msgctl IPC_INFO, MSG_INFO): seven ints and a
// short, 32 bytes everywhere.
type Msginfo struct {
	Msgpool, Msgmap, Msgmax, Msgmnb, Msgmni, Msgssz, Msgtql int32
	Msgseg                                                  uint16
	_                                                       uint16
}

// The ARM layouts: the same headers with ARM's 16-bit __kernel_mode_t
// (arch/arm/include/uapi/asm/posix_types.h), 32-bit longs, and each time
// split in two words, low first (the y2038 extension of what were padding
// words: __unused1 in older headers).

// ArmIPC64Perm is ARM's struct ipc64_perm: 36 bytes.
type ArmIPC64Perm struct {
	Key                  int32
	UID, GID, CUID, CGID uint32
	Mode                 uint16
	_                    uint16
	Seq                  uint16
	_                    uint16
	_                    [2]uint32
}

// ArmSemid64DS is ARM's struct semid64_ds: 64 bytes.
type ArmSemid64DS struct {
	Perm             ArmIPC64Perm
	Otime, OtimeHigh uint32
	Ctime, CtimeHigh uint32
	Nsems            uint32
	_                [2]uint32
}

// ArmMsqid64DS is ARM's struct msqid64_ds: 88 bytes.
type ArmMsqid64DS struct {
	Perm                 ArmIPC64Perm
	Stime, StimeHigh     uint32
	Rtime, RtimeHigh     uint32
	Ctime, CtimeHigh     uint32
	Cbytes, Qnum, Qbytes uint32
	Lspid, Lrpid         int32
	_                    [2]uint32
}

// ArmShmid64DS is ARM's struct shmid64_ds: 84 bytes.
type ArmShmid64DS struct {
	Perm             ArmIPC64Perm
	Segsz            uint32
	Atime, AtimeHigh uint32
	Dtime, DtimeHigh uint32
	Ctime, CtimeHigh uint32
	Cpid, Lpid       int32
	Nattch           uint32
	_                [2]uint32
}

// ArmShminfo64 is ARM's struct shminfo64: nine 32-bit longs.
type ArmShminfo64 struct {
	Shmmax, Shmmin, Shmmni, Shmseg, Shmall uint32
	_                                      [4]uint32
}

// ArmShmInfo is ARM's struct shm_info: 24 bytes.
type ArmShmInfo struct {
	UsedIDs                                       int32
	ShmTot, ShmRss, ShmSwp, SwapAttempts, SwapSuc uint32
}

// IPCLayout is how an architecture passes System V IPC structures: each
// conversion is between the guest's bytes and the host's 64-bit structure.
type IPCLayout struct {
	// Version64 is the IPC_64 flag the guest's ctl commands carry where its
	// kernel also has the old layouts (ARM), or 0 where it has only these
	// (AArch64 takes the command as it is).
	Version64 int
	// SHMLBA is where shmat places segments: arch/arm/include/asm/shmparam.h
	// has 4 pages (against D-cache aliases) and __ARCH_FORCE_SHMLBA, so an
	// address that is page- but not SHMLBA-aligned needs SHM_RND;
	// AArch64 has asm-generic's PAGE_SIZE.
	SHMLBA      uint64
	ForceSHMLBA bool
	// MtypeSize is the size of struct msgbuf's long mtype.
	MtypeSize int

	SemidSize, MsqidSize, ShmidSize int
	SemidOut                        func(h *HostSemid64DS) []byte
	SemidIn                         func(b []byte) HostSemid64DS
	MsqidOut                        func(h *Msqid64DS) []byte
	MsqidIn                         func(b []byte) Msqid64DS
	ShmidOut                        func(h *Shmid64DS) []byte
	ShmidIn                         func(b []byte) Shmid64DS
	ShminfoOut                      func(h *Shminfo64) []byte
	ShmInfoOut                      func(h *ShmInfo) []byte
}

func structBytes[T any](v *T) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(v)), unsafe.Sizeof(*v))
}

// fromBytes reads a T from b, which holds at least its size.
func fromBytes[T any](b []byte) T {
	var v T
	copy(structBytes(&v), b)
	return v
}

// IPC64 is the layout of 64-bit architectures: the host's own.
var IPC64 = IPCLayout{
	SHMLBA:    4096,
	MtypeSize: 8,
	SemidSize: int(unsafe.Sizeof(Semid64DS{})),
	MsqidSize: int(unsafe.Sizeof(Msqid64DS{})),
	ShmidSize: int(unsafe.Sizeof(Shmid64DS{})),
	SemidOut: func(h *HostSemid64DS) []byte {
		return structBytes(&Semid64DS{Perm: h.Perm, Otime: h.Otime, Ctime: h.Ctime, Nsems: h.Nsems})
	},
	SemidIn: func(b []byte) HostSemid64DS {
		g := fromBytes[Semid64DS](b)
		return HostSemid64DS{Perm: g.Perm, Otime: g.Otime, Ctime: g.Ctime, Nsems: g.Nsems}
	},
	MsqidOut:   func(h *Msqid64DS) []byte { return structBytes(h) },
	MsqidIn:    fromBytes[Msqid64DS],
	ShmidOut:   func(h *Shmid64DS) []byte { return structBytes(h) },
	ShmidIn:    fromBytes[Shmid64DS],
	ShminfoOut: func(h *Shminfo64) []byte { return structBytes(h) },
	ShmInfoOut: func(h *ShmInfo) []byte { return structBytes(h) },
}

// IPCArm is ARM EABI's layout.
var IPCArm = IPCLayout{
	Version64:   IPC_64,
	SHMLBA:      4 * 4096,
	ForceSHMLBA: true,
	MtypeSize:   4,
	SemidSize:   int(unsafe.Sizeof(ArmSemid64DS{})),
	MsqidSize:   int(unsafe.Sizeof(ArmMsqid64DS{})),
	ShmidSize:   int(unsafe.Sizeof(ArmShmid64DS{})),
	SemidOut: func(h *HostSemid64DS) []byte {
		g := ArmSemid64DS{Perm: armPerm(&h.Perm), Nsems: uint32(h.Nsems)}
		g.Otime, g.OtimeHigh = splitTime(h.Otime)
		g.Ctime, g.CtimeHigh = splitTime(h.Ctime)
		return structBytes(&g)
	},
	SemidIn: func(b []byte) HostSemid64DS {
		g := fromBytes[ArmSemid64DS](b)
		return HostSemid64DS{Perm: hostPerm(&g.Perm), Otime: joinTime(g.Otime, g.OtimeHigh),
			Ctime: joinTime(g.Ctime, g.CtimeHigh), Nsems: uint64(g.Nsems)}
	},
	MsqidOut: func(h *Msqid64DS) []byte {
		g := ArmMsqid64DS{Perm: armPerm(&h.Perm), Cbytes: uint32(h.Cbytes), Qnum: uint32(h.Qnum),
			Qbytes: uint32(h.Qbytes), Lspid: h.Lspid, Lrpid: h.Lrpid}
		g.Stime, g.StimeHigh = splitTime(h.Stime)
		g.Rtime, g.RtimeHigh = splitTime(h.Rtime)
		g.Ctime, g.CtimeHigh = splitTime(h.Ctime)
		return structBytes(&g)
	},
	MsqidIn: func(b []byte) Msqid64DS {
		g := fromBytes[ArmMsqid64DS](b)
		return Msqid64DS{Perm: hostPerm(&g.Perm), Stime: joinTime(g.Stime, g.StimeHigh),
			Rtime: joinTime(g.Rtime, g.RtimeHigh), Ctime: joinTime(g.Ctime, g.CtimeHigh),
			Cbytes: uint64(g.Cbytes), Qnum: uint64(g.Qnum), Qbytes: uint64(g.Qbytes), Lspid: g.Lspid, Lrpid: g.Lrpid}
	},
	ShmidOut: func(h *Shmid64DS) []byte {
		g := ArmShmid64DS{Perm: armPerm(&h.Perm), Segsz: uint32(h.Segsz), Cpid: h.Cpid, Lpid: h.Lpid, Nattch: uint32(h.Nattch)}
		g.Atime, g.AtimeHigh = splitTime(h.Atime)
		g.Dtime, g.DtimeHigh = splitTime(h.Dtime)
		g.Ctime, g.CtimeHigh = splitTime(h.Ctime)
		return structBytes(&g)
	},
	ShmidIn: func(b []byte) Shmid64DS {
		g := fromBytes[ArmShmid64DS](b)
		return Shmid64DS{Perm: hostPerm(&g.Perm), Segsz: uint64(g.Segsz), Atime: joinTime(g.Atime, g.AtimeHigh),
			Dtime: joinTime(g.Dtime, g.DtimeHigh), Ctime: joinTime(g.Ctime, g.CtimeHigh),
			Cpid: g.Cpid, Lpid: g.Lpid, Nattch: uint64(g.Nattch)}
	},
	// A 32-bit kernel's limits are longs: the host's defaults
	// (ULONG_MAX - 2^24, ipc/shm.c SHMMAX and SHMALL) keep their low half,
	// which is what ARM's own defaults are.
	ShminfoOut: func(h *Shminfo64) []byte {
		g := ArmShminfo64{Shmmax: uint32(h.Shmmax), Shmmin: uint32(h.Shmmin), Shmmni: uint32(h.Shmmni),
			Shmseg: uint32(h.Shmseg), Shmall: uint32(h.Shmall)}
		return structBytes(&g)
	},
	ShmInfoOut: func(h *ShmInfo) []byte {
		g := ArmShmInfo{UsedIDs: h.UsedIDs, ShmTot: uint32(h.ShmTot), ShmRss: uint32(h.ShmRss), ShmSwp: uint32(h.ShmSwp),
			SwapAttempts: uint32(h.SwapAttempts), SwapSuc: uint32(h.SwapSuc)}
		return structBytes(&g)
	},
}

func armPerm(h *IPC64Perm) ArmIPC64Perm {
	return ArmIPC64Perm{Key: h.Key, UID: h.UID, GID: h.GID, CUID: h.CUID, CGID: h.CGID, Mode: uint16(h.Mode), Seq: h.Seq}
}

func hostPerm(g *ArmIPC64Perm) IPC64Perm {
	return IPC64Perm{Key: g.Key, UID: g.UID, GID: g.GID, CUID: g.CUID, CGID: g.CGID, Mode: uint32(g.Mode), Seq: g.Seq}
}

func splitTime(t int64) (lo, hi uint32) { return uint32(t), uint32(uint64(t) >> 32) }
func joinTime(lo, hi uint32) int64      { return int64(uint64(hi)<<32 | uint64(lo)) }
