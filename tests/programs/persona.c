/* personality(2): the persona is read and set (any value is kept), is
 * inherited by fork and kept across execve; UNAME26 makes uname report a
 * 2.6 release; READ_IMPLIES_EXEC makes readable memory executable. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/utsname.h>
#include <sys/wait.h>

static unsigned current(void)
{
	return (unsigned)personality(0xffffffff);
}

static int release_is_26(void)
{
	struct utsname u;
	uname(&u);
	return strncmp(u.release, "2.6.", 4) == 0;
}

static unsigned proc_personality(void)
{
	unsigned v = 0xdead;
	FILE *f = fopen("/proc/self/personality", "r");
	if (f) {
		if (fscanf(f, "%x", &v) != 1)
			v = 0xbad;
		fclose(f);
	}
	return v;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 1) {
		printf("after exec: %#x\n", current());
		return 0;
	}
	printf("initial: %#x\n", current());
	printf("set returns the old one: %#x\n", (unsigned)personality(PER_LINUX32 | ADDR_NO_RANDOMIZE));
	printf("now: %#x, in /proc: %#x\n", current(), proc_personality());
	personality(0x12345);
	printf("an unknown persona is kept: %#x\n", current());

	personality(UNAME26);
	printf("UNAME26: release 2.6.x: %d\n", release_is_26());
	personality(PER_LINUX);
	printf("PER_LINUX: release 2.6.x: %d\n", release_is_26());

	unsigned char *code = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	code[0] = 0xb8; /* mov eax, 42 */
	code[1] = 42; code[2] = 0; code[3] = 0; code[4] = 0;
	code[5] = 0xc3; /* ret */
	personality(READ_IMPLIES_EXEC);
	mprotect(code, 4096, PROT_READ);
	printf("READ_IMPLIES_EXEC: read-only code runs: %d\n", ((int (*)(void))code)());
	personality(PER_LINUX);

	personality(PER_LINUX32 | ADDR_NO_RANDOMIZE);
	pid_t p = fork();
	if (p == 0) {
		printf("child: %#x\n", current());
		_exit(0);
	}
	waitpid(p, 0, 0);
	execl("/proc/self/exe", argv[0], "again", (char *)0);
	perror("execl");
	return 1;
}
