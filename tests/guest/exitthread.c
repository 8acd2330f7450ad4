// SYS_exit from the only thread ends the process with its status.
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
	printf("exit from the last thread\n");
	fflush(stdout);
	syscall(SYS_exit, 9);
	return 1;
}
