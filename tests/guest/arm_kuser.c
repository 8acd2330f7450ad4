// The kuser helpers, called through their fixed addresses in the vector page
// as older C libraries and runtimes (Go's, for one) do
// (Documentation/arch/arm/kernel_user_helpers.rst).
// xemu-test: arch=armhf,armel
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef int (*kuser_cmpxchg_t)(int oldval, int newval, volatile int *ptr);
typedef int (*kuser_cmpxchg64_t)(const int64_t *oldval, const int64_t *newval, volatile int64_t *ptr);
typedef void (*kuser_memory_barrier_t)(void);
typedef void *(*kuser_get_tls_t)(void);

#define kuser_helper_version (*(int32_t *)0xffff0ffc)
#define kuser_cmpxchg ((kuser_cmpxchg_t)0xffff0fc0)
#define kuser_cmpxchg64 ((kuser_cmpxchg64_t)0xffff0f60)
#define kuser_memory_barrier ((kuser_memory_barrier_t)0xffff0fa0)
#define kuser_get_tls ((kuser_get_tls_t)0xffff0fe0)

// The C flag after a helper that sets it: cmpxchg's callers may test it
// instead of r0.
static int cmpxchg_carry(int oldval, int newval, volatile int *ptr) {
	register int r0 __asm__("r0") = oldval;
	register int r1 __asm__("r1") = newval;
	register volatile int *r2 __asm__("r2") = ptr;
	int carry;
	__asm__ volatile("blx %[fn]\n\t"
			 "mov %[c], #0\n\t"
			 "adc %[c], %[c], #0"
			 : "+r"(r0), "+r"(r1), "+r"(r2), [c] "=r"(carry)
			 : [fn] "r"(0xffff0fc0)
			 : "r3", "ip", "lr", "cc", "memory");
	return carry;
}

int main(void) {
	printf("helper version %d\n", kuser_helper_version);

	void *tp = __builtin_thread_pointer();
	printf("get_tls is the thread pointer: %d\n", kuser_get_tls() == tp);
	printf("get_tls matches the get_tls call: %d\n", kuser_get_tls() == (void *)syscall(0xf0006));

	volatile int word = 5;
	int r = kuser_cmpxchg(5, 9, &word);
	printf("cmpxchg 5->9 on 5: r0 %d word %d\n", r, word);
	r = kuser_cmpxchg(5, 11, &word);
	printf("cmpxchg 5->11 on 9: r0 %s word %d\n", r == 0 ? "0" : "nonzero", word);
	word = 1;
	printf("carry on success: %d\n", cmpxchg_carry(1, 2, &word));
	printf("carry on failure: %d (word %d)\n", cmpxchg_carry(1, 3, &word), word);

	volatile int64_t wide __attribute__((aligned(8))) = 0x100000002LL;
	int64_t old = 0x100000002LL, new = 0x700000008LL;
	r = kuser_cmpxchg64(&old, &new, &wide);
	printf("cmpxchg64 on match: r0 %d value %#llx\n", r, (unsigned long long)wide);
	old = 0x100000002LL, new = 0x300000004LL;
	r = kuser_cmpxchg64(&old, &new, &wide);
	printf("cmpxchg64 on mismatch: r0 %s value %#llx\n", r == 0 ? "0" : "nonzero", (unsigned long long)wide);

	kuser_memory_barrier();
	printf("memory barrier returned\n");

	// An atomic add built on cmpxchg, as pre-v6 C libraries did.
	volatile int counter = 0;
	for (int i = 0; i < 1000; i++) {
		int v;
		do
			v = counter;
		while (kuser_cmpxchg(v, v + 3, &counter) != 0);
	}
	printf("counter %d\n", counter);
	return 0;
}
