/* Ways for a program to die by a signal: `crash MODE`. Each mode prints a
 * line first (flushed), so the test also checks output before the crash is
 * not lost. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile int zero = 0;
static volatile int minus_one = -1;

static int recurse(int n)
{
	volatile char pad[256];
	pad[0] = (char)n;
	return recurse(n + 1) + pad[0];
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	const char *m = argv[1];
	printf("crashing: %s\n", m);
	fflush(stdout);
	if (!strcmp(m, "abort"))
		abort();
	if (!strcmp(m, "null"))
		return *(volatile int *)0;
	if (!strcmp(m, "null-write"))
		*(volatile int *)16 = 1;
	if (!strcmp(m, "kernel-write")) /* above the i386 user address space */
		*(volatile int *)0xc0000000 = 1;
	if (!strcmp(m, "rodata-write"))
		*(volatile char *)"a string literal" = 'A';
	if (!strcmp(m, "call-null"))
		((void (*)(void))(void *)zero)();
	if (!strcmp(m, "div0"))
		return 100 / zero;
	if (!strcmp(m, "divmin")) /* INT_MIN / -1 overflows: also #DE */
		return (int)0x80000000 / minus_one;
	if (!strcmp(m, "ud2"))
		__builtin_trap();
	if (!strcmp(m, "int3"))
		__asm__ volatile("int3");
	if (!strcmp(m, "hlt")) /* privileged: #GP, which Linux reports as SIGSEGV */
		__asm__ volatile("hlt");
	if (!strcmp(m, "stack-overflow"))
		return recurse(0);
	if (!strcmp(m, "raise-term"))
		raise(SIGTERM);
	if (!strcmp(m, "kill-self-kill"))
		kill(getpid(), SIGKILL);
	printf("unknown mode\n");
	return 2;
}
