// System V semaphores, message queues and shared memory: typed messages,
// IPC_NOWAIT, MSG_NOERROR, E2BIG, MSG_EXCEPT, a full queue, semaphore sets
// and their ctl commands, interrupted waits, and shared memory attached twice
// (writes seen through both), at a given address, with SHM_RND, SHM_REMAP,
// read-only, and detached (then touching it faults). qemu-user gets some
// things wrong that this leaves out: shmat with SHM_REMAP and no address
// (Linux: EINVAL), semctl with a bad buffer (qemu-arm crashes), msgrcv with
// a bad buffer on an empty queue (Linux: ENOMSG; qemu checks the buffer
// first). Every object is private
// and removed before the program ends. Nothing printed depends on ids,
// addresses, pids or times.
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char *err(long r) {
	if (r >= 0)
		return "ok";
	switch (errno) {
	case EINVAL: return "EINVAL";
	case E2BIG: return "E2BIG";
	case EAGAIN: return "EAGAIN";
	case ENOMSG: return "ENOMSG";
	case EINTR: return "EINTR";
	case EIDRM: return "EIDRM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case ENOMEM: return "ENOMEM";
	default: return strerror(errno);
	}
}

union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
	struct seminfo *__buf;
};

struct msg {
	long mtype;
	char mtext[64];
};

static void on_alarm(int sig) { (void)sig; }

// arm sets a one-shot 50 ms SIGALRM whose handler interrupts a wait
// (no SA_RESTART).
static void arm(void) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = {{0, 0}, {0, 50000}};
	setitimer(ITIMER_REAL, &it, NULL);
}

static void sems(void) {
	int id = semget(IPC_PRIVATE, 3, IPC_CREAT | 0640);
	printf("semget: %s\n", err(id));
	unsigned short set[3] = {1, 2, 3}, get[3] = {0};
	union semun u = {.array = set};
	printf("SETALL: %s\n", err(semctl(id, 0, SETALL, u)));
	u.array = get;
	printf("GETALL: %s %d %d %d\n", err(semctl(id, 0, GETALL, u)), get[0], get[1], get[2]);
	u.val = 7;
	printf("SETVAL: %s\n", err(semctl(id, 1, SETVAL, u)));
	printf("GETVAL: %d\n", semctl(id, 1, GETVAL));
	printf("GETPID is me: %d\n", semctl(id, 1, GETPID) == getpid());
	printf("GETNCNT %d GETZCNT %d\n", semctl(id, 0, GETNCNT), semctl(id, 0, GETZCNT));

	struct sembuf ops[2] = {{0, -1, 0}, {2, 2, SEM_UNDO}};
	printf("semop: %s\n", err(semop(id, ops, 2)));
	u.array = get;
	semctl(id, 0, GETALL, u);
	printf("after semop: %d %d %d\n", get[0], get[1], get[2]);
	struct sembuf dec = {0, -1, IPC_NOWAIT};
	printf("semop on 0, IPC_NOWAIT: %s\n", err(semop(id, &dec, 1)));
	dec.sem_flg = 0;
	struct timespec ts = {0, 20000000};
	printf("semtimedop 20 ms: %s\n", err(semtimedop(id, &dec, 1, &ts)));
	ts.tv_nsec = 2000000000;
	printf("semtimedop bad timeout: %s\n", err(semtimedop(id, &dec, 1, &ts)));
	printf("semop no ops: %s\n", err(semop(id, ops, 0)));
	printf("semop bad sops: %s\n", err(semop(id, (struct sembuf *)8, 1)));
	arm();
	printf("semop interrupted: %s\n", err(semop(id, &dec, 1)));

	struct semid_ds ds;
	u.buf = &ds;
	printf("IPC_STAT: %s nsems %lu mode %o mine %d\n", err(semctl(id, 0, IPC_STAT, u)),
	       (unsigned long)ds.sem_nsems, ds.sem_perm.mode & 0777, ds.sem_perm.uid == getuid());
	ds.sem_perm.mode = 0600;
	printf("IPC_SET: %s\n", err(semctl(id, 0, IPC_SET, u)));
	semctl(id, 0, IPC_STAT, u);
	printf("mode now %o, otime set %d\n", ds.sem_perm.mode & 0777, ds.sem_otime != 0);
	struct seminfo si;
	u.__buf = &si;
	printf("IPC_INFO: %s semmsl %d semopm %d semvmx %d\n", semctl(id, 0, IPC_INFO, u) >= 0 ? "ok" : err(-1),
	       si.semmsl, si.semopm, si.semvmx);
	printf("SEM_INFO: %s\n", semctl(id, 0, SEM_INFO, u) >= 0 ? "ok" : err(-1));
	printf("bad command: %s\n", err(semctl(id, 0, 99)));
	printf("IPC_RMID: %s\n", err(semctl(id, 0, IPC_RMID)));
	printf("semop after RMID: %s\n", err(semop(id, ops, 1)));
}

static void msgs(void) {
	int id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	printf("msgget: %s\n", err(id));
	struct msg m;
	const char *texts[] = {"one", "two", "three"};
	for (int i = 0; i < 3; i++) {
		m.mtype = 3 - i;
		strcpy(m.mtext, texts[i]);
		printf("msgsnd type %ld: %s\n", m.mtype, err(msgsnd(id, &m, strlen(texts[i]) + 1, 0)));
	}
	struct msqid_ds ds;
	msgctl(id, IPC_STAT, &ds);
	printf("qnum %lu cbytes %lu mine %d\n", (unsigned long)ds.msg_qnum, (unsigned long)ds.__msg_cbytes,
	       ds.msg_perm.uid == getuid());
	long n = msgrcv(id, &m, sizeof m.mtext, 2, 0);
	printf("msgrcv type 2: %ld type %ld %s\n", n, m.mtype, m.mtext);
	n = msgrcv(id, &m, sizeof m.mtext, -3, 0);
	printf("msgrcv type -3: %ld type %ld %s\n", n, m.mtype, m.mtext);
	n = msgrcv(id, &m, sizeof m.mtext, 0, 0);
	printf("msgrcv any: %ld type %ld %s\n", n, m.mtype, m.mtext);
	printf("msgrcv empty, IPC_NOWAIT: %s\n", err(msgrcv(id, &m, sizeof m.mtext, 0, IPC_NOWAIT)));

	m.mtype = 0x7fffffff;
	strcpy(m.mtext, "hello world");
	printf("msgsnd 11 bytes: %s\n", err(msgsnd(id, &m, 11, 0)));
	printf("msgrcv into 5: %s\n", err(msgrcv(id, &m, 5, 0, IPC_NOWAIT)));
	memset(m.mtext, 0, sizeof m.mtext);
	n = msgrcv(id, &m, 5, 0, MSG_NOERROR);
	printf("msgrcv MSG_NOERROR: %ld type %#lx %s\n", n, m.mtype, m.mtext);

	for (long t = 5; t <= 6; t++) {
		m.mtype = t;
		snprintf(m.mtext, sizeof m.mtext, "type %ld", t);
		msgsnd(id, &m, 7, 0);
	}
	n = msgrcv(id, &m, sizeof m.mtext, 5, MSG_EXCEPT);
	printf("msgrcv except 5: %ld type %ld %s\n", n, m.mtype, m.mtext);
	n = msgrcv(id, &m, sizeof m.mtext, 5, 0);
	printf("msgrcv 5: %ld type %ld %s\n", n, m.mtype, m.mtext);

	m.mtype = 0;
	printf("msgsnd type 0: %s\n", err(msgsnd(id, &m, 1, 0)));
	printf("msgsnd bad buffer: %s\n", err(msgsnd(id, (void *)8, 1, 0)));
	m.mtype = 1;
	static char big[sizeof(long) + 16384];
	((struct msg *)big)->mtype = 1;
	printf("msgsnd past msgmax: %s\n", err(msgsnd(id, big, 16384, 0)));
	arm();
	printf("msgrcv interrupted: %s\n", err(msgrcv(id, &m, sizeof m.mtext, 0, 0)));
	m.mtype = 1; // qemu-user writes mtype even when msgrcv fails

	ds.msg_qbytes = 16;
	ds.msg_perm.mode = 0640;
	printf("IPC_SET: %s\n", err(msgctl(id, IPC_SET, &ds)));
	msgctl(id, IPC_STAT, &ds);
	printf("qbytes %lu mode %o stime set %d rtime set %d\n", (unsigned long)ds.msg_qbytes, ds.msg_perm.mode & 0777,
	       ds.msg_stime != 0, ds.msg_rtime != 0);
	printf("msgsnd 10: %s\n", err(msgsnd(id, &m, 10, IPC_NOWAIT)));
	printf("msgsnd 10 more, IPC_NOWAIT: %s\n", err(msgsnd(id, &m, 10, IPC_NOWAIT)));
	struct msginfo mi;
	printf("IPC_INFO: %s msgmax %d msgmnb %d\n", msgctl(id, IPC_INFO, (struct msqid_ds *)&mi) >= 0 ? "ok" : err(-1),
	       mi.msgmax, mi.msgmnb);
	printf("MSG_INFO: %s\n", msgctl(id, MSG_INFO, (struct msqid_ds *)&mi) >= 0 ? "ok" : err(-1));
	printf("IPC_RMID: %s\n", err(msgctl(id, IPC_RMID, NULL)));
	printf("msgsnd after RMID: %s\n", err(msgsnd(id, &m, 1, 0)));
}

// peek reads a byte outside any conditional (IT) block of the caller: xemu
// loses the Thumb IT state when a load inside one misses its TLB (an engine
// bug that is not this test's subject).
static char __attribute__((noinline)) peek(const volatile char *p) { return *p; }

static sigjmp_buf jb;
static void on_segv(int sig) { siglongjmp(jb, sig); }

// touch reports whether reading p faults.
static const char *touch(volatile char *p) {
	struct sigaction sa, old;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_segv;
	sigaction(SIGSEGV, &sa, &old);
	const char *r = "readable";
	if (sigsetjmp(jb, 1) == 0)
		(void)*p;
	else
		r = "SIGSEGV";
	sigaction(SIGSEGV, &old, NULL);
	return r;
}

// shmMaps counts the lines of /proc/self/maps naming a System V segment.
static int shmMaps(void) {
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int n = 0;
	while (f && fgets(line, sizeof line, f))
		if (strstr(line, "/SYSV"))
			n++;
	if (f)
		fclose(f);
	return n;
}

static void shms(void) {
	long page = sysconf(_SC_PAGESIZE);
	size_t size = 3 * page;
	int id = shmget(IPC_PRIVATE, size, IPC_CREAT | 0600);
	printf("shmget: %s\n", err(id));
	char *a = shmat(id, NULL, 0);
	char *b = shmat(id, NULL, 0);
	printf("shmat twice: %s %s, distinct %d\n", err(a == (void *)-1 ? -1 : 0), err(b == (void *)-1 ? -1 : 0), a != b);
	strcpy(a + page + 10, "through a");
	printf("b sees: %s\n", b + page + 10);
	b[2 * page] = 'B';
	printf("a sees: %c\n", a[2 * page]);
	struct shmid_ds ds;
	printf("IPC_STAT: %s segsz %lu nattch %lu mode %o mine %d\n", err(shmctl(id, IPC_STAT, &ds)),
	       (unsigned long)ds.shm_segsz, (unsigned long)ds.shm_nattch, ds.shm_perm.mode & 0777,
	       ds.shm_perm.uid == getuid());
	printf("maps lines: %d\n", shmMaps());

	// A free, SHMLBA-aligned address: the segment is attached there.
	long lba = SHMLBA;
	char *hole = mmap(NULL, size + 2 * lba, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *at = (char *)(((unsigned long)hole + lba - 1) & ~(lba - 1));
	munmap(hole, size + 2 * lba);
	// (SHM_REMAP: qemu-arm reserves the whole guest space on the host, so
	// its host shmat refuses a free address without it.)
	char *c = shmat(id, at, SHM_RDONLY | SHM_REMAP);
	printf("shmat at address: %d, sees %c\n", c == at, c == at ? peek(c + 2 * page) : '?');
	printf("again without SHM_REMAP: %s\n", err(shmat(id, at, 0) == (void *)-1 ? -1 : 0));
	printf("unaligned: %s\n", err(shmat(id, at + page + 1, 0) == (void *)-1 ? -1 : 0));
	char *r = shmat(id, at + page, SHM_RND | SHM_REMAP);
	printf("SHM_RND|SHM_REMAP: %s at %ld pages\n", err(r == (void *)-1 ? -1 : 0), r == (void *)-1 ? -1 : (long)(r - at) / page);
	shmctl(id, IPC_STAT, &ds);
	printf("nattch %lu\n", (unsigned long)ds.shm_nattch);

	printf("shmdt inside: %s\n", err(shmdt(a + page)));
	printf("shmdt a: %s\n", err(shmdt(a)));
	printf("a after shmdt: %s, b: %s\n", touch(a), touch(b + 2 * page));
	printf("shmdt a again: %s\n", err(shmdt(a)));
	// munmap of part of an attach, then shmdt takes the rest.
	printf("munmap middle of b: %s\n", err(munmap(b + page, page)));
	printf("b's last page: %c\n", b[2 * page]);
	printf("shmdt b: %s, last page now %s\n", err(shmdt(b)), touch(b + 2 * page));
	shmctl(id, IPC_STAT, &ds);
	printf("nattch %lu\n", (unsigned long)ds.shm_nattch);
	printf("maps lines: %d\n", shmMaps());

	struct shminfo si;
	printf("IPC_INFO: %s shmmin %lu shmmni %lu\n", shmctl(id, IPC_INFO, (struct shmid_ds *)&si) >= 0 ? "ok" : err(-1),
	       (unsigned long)si.shmmin, (unsigned long)si.shmmni);
	struct shm_info sinfo;
	printf("SHM_INFO: %s\n", shmctl(id, SHM_INFO, (struct shmid_ds *)&sinfo) >= 0 ? "ok" : err(-1));
	ds.shm_perm.mode = 0640;
	printf("IPC_SET: %s\n", err(shmctl(id, IPC_SET, &ds)));
	shmctl(id, IPC_STAT, &ds);
	printf("mode now %o\n", ds.shm_perm.mode & 0777);
	printf("IPC_RMID: %s\n", err(shmctl(id, IPC_RMID, NULL)));
	printf("still attached at r: %s\n", r + page + 10);
	printf("shmdt r: %s\n", err(shmdt(r)));
	// Linux keeps a removed segment's id while it is attached.
	char *d = shmat(id, NULL, 0);
	printf("shmat after RMID: %s\n", err(d == (void *)-1 ? -1 : 0));
	printf("shmdt d: %s\n", err(shmdt(d)));
	printf("shmdt c: %s\n", err(shmdt(c)));
	printf("maps lines: %d\n", shmMaps());
}

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	sems();
	msgs();
	shms();
	return 0;
}
