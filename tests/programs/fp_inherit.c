/* FPU/SSE state across process and thread creation. The parent sets
 * non-default rounding (x87 and SSE, via fesetround), an unmasked x87
 * exception and a non-default MXCSR, then: a forked child computes with
 * them; a new thread (pthread_create) reports what it starts with; an
 * execve'd copy of this program reports the reset state (x87 control word
 * 0x037f, MXCSR 0x1f80). */
#define _GNU_SOURCE
#include <fenv.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile double one = 1.0, three = 3.0;
static volatile float fone = 1.0f, fthree = 3.0f;

static uint16_t get_cw(void)
{
	uint16_t cw;
	__asm__ volatile("fnstcw %0" : "=m"(cw));
	return cw;
}

static uint32_t get_mxcsr(void)
{
	uint32_t m;
	__asm__ volatile("stmxcsr %0" : "=m"(m));
	return m;
}

static void state(const char *who)
{
	double q = one / three;
	float fq = fone / fthree;
	long double lq = (long double)one / three;
	uint64_t qb;
	uint32_t fb;
	memcpy(&qb, &q, 8);
	memcpy(&fb, &fq, 4);
	printf("%s: cw=%04x mxcsr=%04x round=%d 1/3=%016llx %08x %La\n", who, get_cw(), get_mxcsr(),
	       fegetround(), (unsigned long long)qb, fb, lq);
	fflush(stdout);
}

static void *thread_main(void *arg)
{
	state((const char *)arg);
	fesetround(FE_TONEAREST);
	state("thread after fesetround(nearest)");
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "exec") == 0) {
		state("exec'd");
		return 0;
	}
	state("start");
	fesetround(FE_UPWARD);
	feenableexcept(FE_DIVBYZERO);
	/* Flush-to-zero and denormals-are-zero on top. */
	uint32_t m = get_mxcsr() | 0x8040;
	__asm__ volatile("ldmxcsr %0" : : "m"(m));
	state("parent");

	pid_t pid = fork();
	if (pid == 0) {
		state("forked child");
		fesetround(FE_DOWNWARD);
		state("child after fesetround(down)");
		_exit(0);
	}
	int status;
	waitpid(pid, &status, 0);
	printf("child status %#x\n", status);
	state("parent after child");

	pthread_t t;
	pthread_create(&t, NULL, thread_main, "new thread");
	pthread_join(t, NULL);
	state("parent after thread");

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execl(argv[0], argv[0], "exec", (char *)NULL);
		perror("execl");
		_exit(127);
	}
	waitpid(pid, &status, 0);
	printf("exec child status %#x\n", status);
	return 0;
}
