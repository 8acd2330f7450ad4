// Process identity and resources: ids, uname, sysinfo, limits, usage,
// randomness, affinity, prctl, personality, set_tid_address, umask, times.
// Values that differ from run to run print only as relations.
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/times.h>
#include <sys/utsname.h>
#include <unistd.h>

#define R(expr) report(#expr, (long)(expr))

static long report(const char *what, long r) {
	if (r < 0)
		printf("%s = -1 %s\n", what, strerrorname_np(errno));
	else
		printf("%s = %ld\n", what, r);
	return r;
}

static void ids(void) {
	pid_t pid = getpid();
	printf("pid>0: %d\n", pid > 0);
	printf("raw getpid == getpid: %d\n", syscall(SYS_getpid) == pid);
	printf("ppid>0: %d ppid!=pid: %d\n", getppid() > 0, getppid() != pid);
	printf("gettid>0: %d, equals getpid: %d\n", gettid() > 0, gettid() == getpid());
	uid_t r, e, s;
	R(getresuid(&r, &e, &s));
	printf("getresuid consistent: %d %d\n", r == getuid(), e == geteuid());
	gid_t gr, ge, gs;
	R(getresgid(&gr, &ge, &gs));
	printf("getresgid consistent: %d %d\n", gr == getgid(), ge == getegid());
	int n = getgroups(0, NULL);
	printf("getgroups count>=0: %d\n", n >= 0);
	gid_t groups[256];
	printf("getgroups fills count: %d\n", getgroups(256, groups) == n);
	if (n > 0)
		R(getgroups(n - 1, groups));
	R(syscall(SYS_getgroups, -1, groups));
	R(setuid(getuid()));
	R(setgid(getgid()));
	R(setreuid(-1, -1));
	R(setregid(-1, -1));
	R(setresuid(-1, -1, -1));
	R(setresgid(-1, -1, -1));
	printf("setfsuid(-1) is uid: %d\n", (uid_t)syscall(SYS_setfsuid, -1) == geteuid());
	printf("setfsgid(-1) is gid: %d\n", (gid_t)syscall(SYS_setfsgid, -1) == getegid());
	printf("getpgid(0) == getpgrp: %d\n", getpgid(0) == getpgrp());
	printf("getsid>0: %d\n", getsid(0) > 0);
	R(getpgid(-5));
	printf("setpgid(0,0) then leader: %d\n", setpgid(0, 0) == 0 && getpgid(0) == pid);
	printf("tid address returns tid: %d\n", syscall(SYS_set_tid_address, NULL) == gettid());
}

static void machine(void) {
	struct utsname u;
	R(uname(&u));
	printf("machine=%s sysname=%s\n", u.machine, u.sysname);
	printf("release nonempty: %d nodename nonempty: %d\n", u.release[0] != 0, u.nodename[0] != 0);
	struct sysinfo si;
	R(sysinfo(&si));
	// freeram <= totalram is checked in linuxonly.c: qemu-arm truncates
	// sizes past 4 GiB instead of scaling them, so it is no oracle for it.
	printf("sysinfo: mem_unit>0=%d totalram>0=%d procs>0=%d\n", si.mem_unit > 0, si.totalram > 0,
	       si.procs > 0);
	cpu_set_t set;
	CPU_ZERO(&set);
	R(sched_getaffinity(0, sizeof set, &set));
	printf("cpus>0: %d\n", CPU_COUNT(&set) > 0);
	long got = syscall(SYS_sched_getaffinity, 0, sizeof set, &set);
	// Linux returns the size of its CPU mask: the host's nr_cpu_ids in longs.
	printf("raw sched_getaffinity = %ld\n", got);
	R(syscall(SYS_sched_getaffinity, 0, 3, &set));
	R(sched_setaffinity(0, sizeof set, &set));
	R(sched_yield());
	unsigned cpu = 9999, node = 9999;
	R(syscall(SYS_getcpu, &cpu, &node, NULL));
	printf("getcpu in set: %d\n", CPU_ISSET(cpu, &set));
}

static void limits(void) {
	struct rlimit old, l;
	R(getrlimit(RLIMIT_NOFILE, &old));
	printf("nofile cur<=max: %d\n", old.rlim_cur <= old.rlim_max);
	l = (struct rlimit){64, old.rlim_max};
	R(setrlimit(RLIMIT_NOFILE, &l));
	R(getrlimit(RLIMIT_NOFILE, &l));
	printf("nofile cur=%lu max unchanged=%d\n", (unsigned long)l.rlim_cur, l.rlim_max == old.rlim_max);
	struct rlimit pl = {100, old.rlim_max}, pold;
	R(prlimit(0, RLIMIT_NOFILE, &pl, &pold));
	printf("prlimit old cur=%lu\n", (unsigned long)pold.rlim_cur);
	R(prlimit(getpid(), RLIMIT_NOFILE, NULL, &pold));
	printf("prlimit now cur=%lu\n", (unsigned long)pold.rlim_cur);
	l = (struct rlimit){200, 100};
	R(setrlimit(RLIMIT_NOFILE, &l));
	R(setrlimit(RLIMIT_NOFILE, &old));
	R(syscall(SYS_prlimit64, 0, 99, NULL, &pold));

	R(getrlimit(RLIMIT_STACK, &old));
	printf("stack cur>0: %d\n", old.rlim_cur > 0);
	l = (struct rlimit){4 << 20, old.rlim_max};
	R(setrlimit(RLIMIT_STACK, &l));
	// qemu-user 7.2 accepts a new RLIMIT_STACK without recording it, so the
	// value read back is not compared.
	R(setrlimit(RLIMIT_STACK, &old));
	R(getrlimit(RLIMIT_AS, &l));
	printf("as infinite: %d\n", l.rlim_cur == RLIM_INFINITY);
	R(getrlimit(RLIMIT_CORE, &l));
	R(getrlimit(RLIMIT_NPROC, &l));
}

static void usage(void) {
	struct rusage ru;
	R(getrusage(RUSAGE_SELF, &ru));
	printf("self: usec<1e6=%d maxrss>0=%d\n", ru.ru_utime.tv_usec < 1000000 && ru.ru_stime.tv_usec < 1000000,
	       ru.ru_maxrss > 0);
	R(getrusage(RUSAGE_CHILDREN, &ru));
	printf("children utime=%ld.%06ld\n", (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec);
	R(getrusage(RUSAGE_THREAD, &ru));
	R(getrusage(12345, &ru));
	struct tms t;
	clock_t c = times(&t);
	printf("times: ok=%d cutime=%ld\n", c != (clock_t)-1, (long)t.tms_cutime);
	printf("times(NULL) ok: %d\n", times(NULL) != (clock_t)-1);
	printf("clk_tck=%ld\n", sysconf(_SC_CLK_TCK));
}

static void randomness(void) {
	unsigned char buf[300];
	R(getrandom(buf, 32, 0));
	R(getrandom(buf, sizeof buf, GRND_NONBLOCK));
	R(getrandom(buf, 16, GRND_RANDOM | GRND_NONBLOCK) > 0 || errno == EAGAIN);
	R(getrandom(buf, 16, 0x100));
	unsigned char a[32] = {0}, b[32] = {0};
	getrandom(a, 32, 0);
	getrandom(b, 32, 0);
	printf("two draws differ: %d\n", memcmp(a, b, 32) != 0);
}

static void control(void) {
	char name[32] = {0};
	R(prctl(PR_SET_NAME, "xemu-worker-name-too-long"));
	R(prctl(PR_GET_NAME, name));
	printf("name=%s\n", name);
	R(prctl(PR_SET_NAME, "short"));
	memset(name, 'z', sizeof name);
	R(prctl(PR_GET_NAME, name));
	printf("name=%s len=%zu\n", name, strlen(name));
	R(prctl(PR_GET_DUMPABLE));
	R(prctl(PR_SET_DUMPABLE, 0));
	R(prctl(PR_GET_DUMPABLE));
	R(prctl(PR_SET_DUMPABLE, 1));
	R(prctl(PR_SET_DUMPABLE, 7));
	int sig = -1;
	R(prctl(PR_SET_PDEATHSIG, SIGUSR1));
	R(prctl(PR_GET_PDEATHSIG, &sig));
	printf("pdeathsig=%d\n", sig);
	R(prctl(PR_SET_PDEATHSIG, 0));
	R(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	R(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	R(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	R(prctl(9999));

	R(personality(0xffffffff));
	R(personality(PER_LINUX));
	R(personality(0xffffffff));

	R(umask(077));
	R(umask(022));
	R(umask(0777 | 01000));
	R(umask(022));

}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	ids();
	machine();
	limits();
	usage();
	randomness();
	control();
	return 0;
}
