/* System calls with hostile arguments: bad pointers, bad descriptors,
 * unknown numbers, impossible sizes. Each must fail with the errno Linux
 * gives (compared with the native run), and never take the emulator down. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static void show(const char *what, long r)
{
	int e = errno;
	printf("%-34s -> %ld", what, r);
	if (r == -1)
		printf(" errno=%d (%s)", e, strerror(e));
	printf("\n");
	errno = 0;
}

#define BAD ((void *)16)
#define KERNEL ((void *)0xc0001000)

int main(int argc, char **argv)
{
	(void)argc;
	int self = open(argv[0], O_RDONLY);
	char buf[64];
	struct stat st;
	show("write(1, BAD, 10)", write(1, BAD, 10));
	show("write(1, KERNEL, 10)", write(1, KERNEL, 10));
	show("read(self, BAD, 10)", read(self, BAD, 10));
	show("read(self, buf, 0)", read(self, buf, 0));
	show("open(BAD)", open(BAD, O_RDONLY));
	show("open(\"\")", open("", O_RDONLY));
	show("stat(BAD)", stat(BAD, &st));
	show("stat(path, BAD)", syscall(SYS_stat64, argv[0], BAD));
	show("write(-5)", write(-5, "x", 1));
	show("write(12345)", write(12345, "x", 1));
	show("close(-1)", close(-1));
	show("read(1000000)", read(1000000, buf, 1));
	show("lseek(self, -1, SEEK_SET)", lseek(self, -1, SEEK_SET));
	show("lseek(self, 0, 99)", lseek(self, 0, 99));
	show("lseek(1 (pipe), 0, SEEK_CUR)", lseek(1, 0, SEEK_CUR));
	show("syscall(9999)", syscall(9999));
	show("syscall(-1)", syscall(-1));
	show("syscall(0x7fffffff)", syscall(0x7fffffff));
	show("mmap(len 0)", (long)mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	show("mmap(len 0xfffff000)",
	     (long)mmap(NULL, 0xfffff000, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	show("mmap(unaligned FIXED)", (long)mmap((void *)0x10000001, 4096, PROT_READ,
						  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	show("mmap(bad fd)", (long)mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 999, 0));
	show("munmap(unaligned)", munmap((void *)0x10000001, 4096));
	show("munmap(len 0)", munmap((void *)0x10000000, 0));
	void *gone = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(gone, 4096);
	show("mprotect(unmapped)", mprotect(gone, 4096, PROT_READ));
	show("munmap(unmapped)", munmap(gone, 4096));
	show("brk(0) > 0", syscall(SYS_brk, 0) > 0);
	show("brk(0xfffff000) unchanged", syscall(SYS_brk, 0xfffff000) == syscall(SYS_brk, 0));
	show("getcwd(buf, 1)", syscall(SYS_getcwd, buf, 1));
	show("getcwd(BAD, 64)", syscall(SYS_getcwd, BAD, 64));
	show("uname(BAD)", syscall(SYS_uname, BAD));
	show("clock_gettime(BAD)", syscall(SYS_clock_gettime, 0, BAD));
	show("clock_gettime(clock 99)", syscall(SYS_clock_gettime, 99, buf));
	show("rt_sigaction(SIGKILL)", syscall(SYS_rt_sigaction, 9, buf, NULL, 8));
	show("rt_sigaction(sig 0)", syscall(SYS_rt_sigaction, 0, NULL, NULL, 8));
	show("rt_sigaction(sig 65)", syscall(SYS_rt_sigaction, 65, NULL, NULL, 8));
	show("rt_sigprocmask(how 7)", syscall(SYS_rt_sigprocmask, 7, buf, NULL, 8));
	show("set_thread_area(BAD)", syscall(SYS_set_thread_area, BAD));
	show("fstat(self, KERNEL)", syscall(SYS_fstat64, self, KERNEL));
	show("writev(1, BAD, 1)", syscall(SYS_writev, 1, BAD, 1));
	show("writev(1, iov, -1)", syscall(SYS_writev, 1, buf, -1));
	show("getdents64(self)", syscall(SYS_getdents64, self, buf, sizeof buf));
	printf("still alive\n");
	return 0;
}
