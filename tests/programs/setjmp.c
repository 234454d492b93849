/* setjmp/longjmp (non-local jumps restore ESP, EBP, EBX, ESI, EDI, EIP, and
 * glibc mangles the saved pointers with a TLS guard) and sigsetjmp with a
 * saved signal mask. */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>

static jmp_buf env;
static sigjmp_buf senv;
static int depth_reached;

static void dive(int depth)
{
	volatile char frame[100];
	frame[depth % 100] = (char)depth;
	depth_reached = depth;
	if (depth == 50)
		longjmp(env, depth + frame[depth % 100]);
	dive(depth + 1);
}

int main(void)
{
	volatile int counter = 0;
	int r = setjmp(env);
	counter++;
	printf("setjmp returned %d, counter=%d\n", r, counter);
	if (r == 0)
		dive(0);
	printf("depth reached %d\n", depth_reached);

	r = setjmp(env);
	if (r < 5)
		longjmp(env, r + 1);
	printf("looped with longjmp up to %d\n", r);

	r = setjmp(env);
	if (r == 0)
		longjmp(env, 0); /* longjmp(env, 0) makes setjmp return 1 */
	printf("longjmp 0 gives %d\n", r);

	sigset_t set, old;
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
	if (sigsetjmp(senv, 1) == 0) {
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
		siglongjmp(senv, 1);
	}
	sigprocmask(SIG_BLOCK, NULL, &old);
	printf("after siglongjmp SIGUSR1 blocked=%d\n", sigismember(&old, SIGUSR1));
	return 0;
}
