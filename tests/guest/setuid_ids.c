// Prints the credentials it runs with and whether the kernel (or the
// emulator) put it in secure mode, as a setuid-root program sees them.
#include <stdio.h>
#include <sys/auxv.h>
#include <unistd.h>

int main(void) {
	printf("uid=%d euid=%d gid=%d egid=%d secure=%lu\n", (int)getuid(), (int)geteuid(),
	       (int)getgid(), (int)getegid(), getauxval(AT_SECURE));
	return 0;
}
