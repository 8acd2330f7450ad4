package syscall

// kinds is shorthand for an argument list.
func kinds(k ...ArgKind) []ArgKind { return k }

// families are the entry lists of each subsystem's file, added by their init
// functions.
var families []map[string]*Entry

func addEntries(m map[string]*Entry) { families = append(families, m) }

// entries is every system call xemu implements, by its Linux name. Each
// architecture's table is these entries placed at that architecture's
// numbers; names an architecture has but these lists lack are ENOSYS there.
func entries() map[string]*Entry {
	all := map[string]*Entry{}
	for _, f := range families {
		for name, e := range f {
			if _, dup := all[name]; dup {
				panic("syscall: two entries for " + name)
			}
			all[name] = e
		}
	}
	return all
}

func init() {
	addEntries(map[string]*Entry{
		// files (sys_file.go)
		"openat":            {Fn: openat, Args: kinds(KDirFD, KPath, KOpenFlags, KHex)},
		"close":             {Fn: closeFD, Args: kinds(KFD)},
		"close_range":       {Fn: closeRange, Args: kinds(KUint, KUint, KHex)},
		"read":              {Fn: read, Args: kinds(KFD, KPtr, KULong)},
		"write":             {Fn: write, Args: kinds(KFD, KStrBuf, KULong)},
		"pread64":           {Fn: pread64, Args: kinds(KFD, KPtr, KULong, KOff64)},
		"pwrite64":          {Fn: pwrite64, Args: kinds(KFD, KStrBuf, KULong, KOff64)},
		"readv":             {Fn: readv, Args: kinds(KFD, KPtr, KInt)},
		"writev":            {Fn: writev, Args: kinds(KFD, KPtr, KInt)},
		"preadv":            {Fn: preadv, Args: kinds(KFD, KPtr, KInt, KOffLo, KOffHi)},
		"pwritev":           {Fn: pwritev, Args: kinds(KFD, KPtr, KInt, KOffLo, KOffHi)},
		"lseek":             {Fn: lseek, Args: kinds(KFD, KLong, KInt)},
		"fstat":             {Fn: fstat, Args: kinds(KFD, KPtr)},
		"newfstatat":        {Fn: newfstatat, Args: kinds(KDirFD, KPath, KPtr, KHex)},
		"statx":             {Fn: statx, Args: kinds(KDirFD, KPath, KHex, KHex, KPtr)},
		"getdents64":        {Fn: getdents64, Args: kinds(KFD, KPtr, KUint)},
		"readlinkat":        {Fn: readlinkat, Args: kinds(KDirFD, KPath, KPtr, KInt)},
		"faccessat":         {Fn: faccessat, Args: kinds(KDirFD, KPath, KHex)},
		"faccessat2":        {Fn: faccessat2, Args: kinds(KDirFD, KPath, KHex, KHex)},
		"mkdirat":           {Fn: mkdirat, Args: kinds(KDirFD, KPath, KHex)},
		"mknodat":           {Fn: mknodat, Args: kinds(KDirFD, KPath, KHex, KHex)},
		"unlinkat":          {Fn: unlinkat, Args: kinds(KDirFD, KPath, KHex)},
		"renameat":          {Fn: renameat, Args: kinds(KDirFD, KPath, KDirFD, KPath)},
		"renameat2":         {Fn: renameat2, Args: kinds(KDirFD, KPath, KDirFD, KPath, KHex)},
		"symlinkat":         {Fn: symlinkat, Args: kinds(KPath, KDirFD, KPath)},
		"linkat":            {Fn: linkat, Args: kinds(KDirFD, KPath, KDirFD, KPath, KHex)},
		"fchmod":            {Fn: fchmod, Args: kinds(KFD, KHex)},
		"fchmodat":          {Fn: fchmodat, Args: kinds(KDirFD, KPath, KHex)},
		"fchown":            {Fn: fchown, Args: kinds(KFD, KInt, KInt)},
		"fchownat":          {Fn: fchownat, Args: kinds(KDirFD, KPath, KInt, KInt, KHex)},
		"utimensat":         {Fn: utimensat, Args: kinds(KDirFD, KPath, KPtr, KHex)},
		"truncate":          {Fn: truncate, Args: kinds(KPath, KLong)},
		"ftruncate":         {Fn: ftruncate, Args: kinds(KFD, KLong)},
		"fsync":             {Fn: fsync, Args: kinds(KFD)},
		"fdatasync":         {Fn: fdatasync, Args: kinds(KFD)},
		"sync":              {Fn: syncAll},
		"syncfs":            {Fn: syncfs, Args: kinds(KFD)},
		"fallocate":         {Fn: fallocate, Args: kinds(KFD, KHex, KOff64, KOff64)},
		"fadvise64":         {Fn: fadvise64, Args: kinds(KFD, KOff64, KOff64, KInt)},
		"readahead":         {Fn: readahead, Args: kinds(KFD, KOff64, KULong)},
		"flock":             {Fn: flock, Args: kinds(KFD, KHex)},
		"dup":               {Fn: dup, Args: kinds(KFD)},
		"dup3":              {Fn: dup3, Args: kinds(KFD, KFD, KOpenFlags)},
		"pipe2":             {Fn: pipe2, Args: kinds(KPtr, KOpenFlags)},
		"chdir":             {Fn: chdir, Args: kinds(KPath)},
		"fchdir":            {Fn: fchdir, Args: kinds(KFD)},
		"getcwd":            {Fn: getcwd, Args: kinds(KPtr, KULong)},
		"umask":             {Fn: umask, Args: kinds(KHex)},
		"statfs":            {Fn: statfs, Args: kinds(KPath, KPtr)},
		"fstatfs":           {Fn: fstatfs, Args: kinds(KFD, KPtr)},
		"sendfile":          {Fn: sendfile, Args: kinds(KFD, KFD, KPtr, KULong)},
		"copy_file_range":   {Fn: copyFileRange, Args: kinds(KFD, KPtr, KFD, KPtr, KULong, KHex)},
		"splice":            {Fn: splice, Args: kinds(KFD, KPtr, KFD, KPtr, KULong, KHex)},
		"tee":               {Fn: tee, Args: kinds(KFD, KFD, KULong, KHex)},
		"memfd_create":      {Fn: memfdCreate, Args: kinds(KPath, KHex)},
		"inotify_init1":     {Fn: inotifyInit1, Args: kinds(KOpenFlags)},
		"inotify_add_watch": {Fn: inotifyAddWatch, Args: kinds(KFD, KPath, KHex)},
		"inotify_rm_watch":  {Fn: inotifyRmWatch, Args: kinds(KFD, KInt)},
		"fcntl":             {Fn: fcntl, Args: kinds(KFD, KInt, KULong)},
		"ioctl":             {Fn: ioctl, Args: kinds(KFD, KHex, KULong), Support: Partial, Note: "terminal, FIONREAD/FIONBIO and a few file ioctls; others ENOTTY"},

		// memory (sys_mem.go)
		"mmap":       {Fn: mmap, Args: kinds(KPtr, KULong, KProt, KMapFlags, KFD, KULong), Ret: RetHex},
		"munmap":     {Fn: munmap, Args: kinds(KPtr, KULong)},
		"mprotect":   {Fn: mprotect, Args: kinds(KPtr, KULong, KProt)},
		"mremap":     {Fn: mremap, Args: kinds(KPtr, KULong, KULong, KHex, KPtr), Ret: RetHex, Support: Partial, Note: "MREMAP_DONTUNMAP and old_size 0 are refused"},
		"brk":        {Fn: brk, Args: kinds(KPtr), Ret: RetHex},
		"madvise":    {Fn: madvise, Args: kinds(KPtr, KULong, KInt)},
		"msync":      {Fn: msync, Args: kinds(KPtr, KULong, KHex)},
		"mincore":    {Fn: mincore, Args: kinds(KPtr, KULong, KPtr)},
		"mlock":      {Fn: mlock, Args: kinds(KPtr, KULong)},
		"munlock":    {Fn: munlock, Args: kinds(KPtr, KULong)},
		"mlockall":   {Fn: mlockall, Args: kinds(KHex), Support: Partial, Note: "MCL_FUTURE is accepted but not applied"},
		"munlockall": {Fn: munlockall},

		// process and identity (sys_proc.go)
		"exit_group":        {Fn: exitGroup, Args: kinds(KInt), Ret: RetNone},
		"exit":              {Fn: exitThread, Args: kinds(KInt), Ret: RetNone},
		"getpid":            {Fn: getpid},
		"getppid":           {Fn: getppid},
		"gettid":            {Fn: gettid},
		"getuid":            {Fn: getuid},
		"geteuid":           {Fn: geteuid},
		"getgid":            {Fn: getgid},
		"getegid":           {Fn: getegid},
		"getpgid":           {Fn: getpgid, Args: kinds(KInt)},
		"setpgid":           {Fn: setpgid, Args: kinds(KInt, KInt)},
		"getsid":            {Fn: getsid, Args: kinds(KInt)},
		"setsid":            {Fn: setsid},
		"setuid":            {Fn: setuid, Args: kinds(KInt)},
		"setgid":            {Fn: setgid, Args: kinds(KInt)},
		"setreuid":          {Fn: setreuid, Args: kinds(KInt, KInt)},
		"setregid":          {Fn: setregid, Args: kinds(KInt, KInt)},
		"setresuid":         {Fn: setresuid, Args: kinds(KInt, KInt, KInt)},
		"setresgid":         {Fn: setresgid, Args: kinds(KInt, KInt, KInt)},
		"getresuid":         {Fn: getresuid, Args: kinds(KPtr, KPtr, KPtr)},
		"getresgid":         {Fn: getresgid, Args: kinds(KPtr, KPtr, KPtr)},
		"setfsuid":          {Fn: setfsuid, Args: kinds(KInt)},
		"setfsgid":          {Fn: setfsgid, Args: kinds(KInt)},
		"getgroups":         {Fn: getgroups, Args: kinds(KInt, KPtr)},
		"setgroups":         {Fn: setgroups, Args: kinds(KInt, KPtr)},
		"uname":             {Fn: uname, Args: kinds(KPtr)},
		"set_tid_address":   {Fn: setTIDAddress, Args: kinds(KPtr)},
		"set_robust_list":   {Fn: setRobustList, Args: kinds(KPtr, KULong), Support: Partial, Note: "recorded; robust futexes are released at thread exit once threads exist"},
		"get_robust_list":   {Fn: getRobustList, Args: kinds(KInt, KPtr, KPtr)},
		"rseq":              {Support: Unimplemented, Note: "glibc falls back when rseq is unavailable"},
		"prlimit64":         {Fn: prlimit64, Args: kinds(KInt, KInt, KPtr, KPtr)},
		"getrlimit":         {Fn: getrlimit, Args: kinds(KInt, KPtr)},
		"setrlimit":         {Fn: setrlimit, Args: kinds(KInt, KPtr)},
		"getrusage":         {Fn: getrusage, Args: kinds(KInt, KPtr)},
		"sysinfo":           {Fn: sysinfo, Args: kinds(KPtr)},
		"getrandom":         {Fn: getrandom, Args: kinds(KPtr, KULong, KHex)},
		"sched_getaffinity": {Fn: schedGetaffinity, Args: kinds(KInt, KULong, KPtr)},
		"sched_setaffinity": {Fn: schedSetaffinity, Args: kinds(KInt, KULong, KPtr)},
		"sched_yield":       {Fn: schedYield},
		"getcpu":            {Fn: getcpu, Args: kinds(KPtr, KPtr, KPtr)},
		"prctl":             {Fn: prctl, Args: kinds(KInt, KULong, KULong, KULong, KULong), Support: Partial, Note: "names, death signal, dumpable, no_new_privs, subreaper, THP; arm64 SVE/PAC/MTE options EINVAL"},
		"personality":       {Fn: personality, Args: kinds(KHex), Support: Partial, Note: "recorded; ADDR_NO_RANDOMIZE applies at the next exec"},

		// time (sys_time.go)
		"clock_gettime":   {Fn: clockGettime, Args: kinds(KInt, KPtr)},
		"clock_getres":    {Fn: clockGetres, Args: kinds(KInt, KPtr)},
		"clock_nanosleep": {Fn: clockNanosleep, Args: kinds(KInt, KHex, KPtr, KPtr)},
		"nanosleep":       {Fn: nanosleep, Args: kinds(KPtr, KPtr)},
		"gettimeofday":    {Fn: gettimeofday, Args: kinds(KPtr, KPtr)},
		"times":           {Fn: times, Args: kinds(KPtr)},
		"getitimer":       {Fn: getitimer, Args: kinds(KInt, KPtr)},
		"setitimer":       {Fn: setitimer, Args: kinds(KInt, KPtr, KPtr), Support: Partial, Note: "the timer runs; its signal reaches only default dispositions"},

		// signals (sys_signal.go)
		"rt_sigaction":   {Fn: rtSigaction, Args: kinds(KSignal, KPtr, KPtr, KULong), Support: Partial, Note: "dispositions recorded; guest handlers are not yet run"},
		"rt_sigprocmask": {Fn: rtSigprocmask, Args: kinds(KInt, KPtr, KPtr, KULong)},
		"rt_sigpending":  {Fn: rtSigpending, Args: kinds(KPtr, KULong), Support: Partial, Note: "no signal is ever pending yet"},
		"sigaltstack":    {Fn: sigaltstack, Args: kinds(KPtr, KPtr)},
		"kill":           {Fn: kill, Args: kinds(KInt, KSignal), Support: Partial, Note: "signals to itself take their default action"},
		"tgkill":         {Fn: tgkill, Args: kinds(KInt, KInt, KSignal), Support: Partial, Note: "signals to itself take their default action"},
		"tkill":          {Fn: tkill, Args: kinds(KInt, KSignal), Support: Partial, Note: "signals to itself take their default action"},
	})
}
