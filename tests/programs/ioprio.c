/* ioprio_get/ioprio_set: the I/O priority is kept per process, inherited
 * by fork, and checked as Linux checks it. Only values every kernel since
 * 2.6.13 treats alike (no hint bits, nothing above bit 15, no real-time
 * class, which needs privilege). */
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define WHO_PROCESS 1
#define WHO_PGRP 2
#define CLASS(c) ((c) << 13)

static void set(unsigned v)
{
	errno = 0;
	long r = syscall(SYS_ioprio_set, WHO_PROCESS, 0, v);
	printf("set %#x: %ld", v, r);
	if (r < 0)
		printf(" (errno %d)", errno);
	printf(", now %#lx\n", syscall(SYS_ioprio_get, WHO_PROCESS, 0));
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	printf("initial %#lx\n", syscall(SYS_ioprio_get, WHO_PROCESS, 0));
	set(CLASS(2) | 7);
	set(CLASS(2) | 0);
	set(CLASS(3));
	set(CLASS(0) | 5);
	set(CLASS(5));
	set(CLASS(0));
	set(CLASS(2) | 3);
	setpgid(0, 0); /* a group of its own */
	printf("of the process group: %#lx\n", syscall(SYS_ioprio_get, WHO_PGRP, 0));
	errno = 0;
	long r = syscall(SYS_ioprio_get, 9, 0);
	printf("which 9: %ld (errno %d)\n", r, errno);
	pid_t p = fork();
	if (p == 0) {
		printf("child %#lx\n", syscall(SYS_ioprio_get, WHO_PROCESS, 0));
		_exit(0);
	}
	waitpid(p, 0, 0);
	errno = 0;
	r = syscall(SYS_ioprio_get, WHO_PROCESS, p);
	printf("a reaped child: %ld (errno %d)\n", r, errno);
	return 0;
}
