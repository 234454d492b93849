/* The FPU/SSE state in signal frames. A signal arrives while ST(0), XMM7,
 * the x87 control word and MXCSR hold known non-default values; the
 * handler prints what the kernel saved in the frame's `struct _fpstate`
 * and the clean state it runs with itself, then changes the saved ST(0),
 * XMM7, control word and MXCSR; after sigreturn the interrupted code must
 * see the changed values. Done once with an SA_SIGINFO handler (rt frame,
 * uc_mcontext.fpregs) and once with a plain one (legacy frame, the
 * sigcontext on the stack). x87 state comes back from the frame's FSAVE
 * part, SSE state from its FXSAVE part, as Linux restores them. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#define SSE2 __attribute__((target("sse2"), noinline))

struct fpu_out {
	unsigned char st0[10];
	unsigned char st1[10];
	uint32_t xmm7[4];
	uint16_t cw;
	uint32_t mxcsr;
};

static const uint32_t xmm_in[4] = {0x55667788, 0x11223344, 0xddeeff00, 0x99aabbcc};
static const uint16_t cw_in = 0x0b7f;	   /* round up, 64-bit precision */
static const uint32_t mxcsr_in = 0x3f80; /* round down */

/* Loads the known state, sends itself SIGUSR1 with a bare kill system
 * call (so no library code runs between setting and reading the state),
 * and stores the state found after the handler returned. */
SSE2 static void interrupted(struct fpu_out *out)
{
	int pid = getpid();
	uint16_t cw_def = 0x037f;
	uint32_t mxcsr_def = 0x1f80;
	__asm__ volatile("fldcw %[cw]\n\tldmxcsr %[mx]\n\tmovups %[xin], %%xmm7\n\t"
			 "fld1\n\tfldpi\n\t"
			 "xchgl %%ebx, %%esi\n\tint $0x80\n\txchgl %%ebx, %%esi\n\t"
			 "fstpt %[st0]\n\tfstpt %[st1]\n\tmovups %%xmm7, %[xout]\n\t"
			 "fnstcw %[cwo]\n\tstmxcsr %[mxo]\n\tfldcw %[cwd]\n\tldmxcsr %[mxd]"
			 : [st0] "=m"(out->st0), [st1] "=m"(out->st1), [xout] "=m"(out->xmm7),
			   [cwo] "=m"(out->cw), [mxo] "=m"(out->mxcsr), "+S"(pid)
			 : [cw] "m"(cw_in), [mx] "m"(mxcsr_in), [xin] "m"(xmm_in),
			   [cwd] "m"(cw_def), [mxd] "m"(mxcsr_def), "a"(SYS_kill), "c"(SIGUSR1)
			 : "xmm7", "memory", "st", "st(1)");
}

static void hex(const char *what, const void *p, int n)
{
	const unsigned char *b = p;
	printf(" %s=", what);
	for (int k = n - 1; k >= 0; k--)
		printf("%02x", b[k]);
}

SSE2 static void own_state(void)
{
	uint16_t cw;
	uint32_t mxcsr;
	uint32_t x7[4];
	__asm__ volatile("fnstcw %0\n\tstmxcsr %1\n\tmovups %%xmm7, %2"
			 : "=m"(cw), "=m"(mxcsr), "=m"(x7));
	printf("  handler runs with cw=%04x mxcsr=%08x", cw, mxcsr);
	hex("xmm7", x7, 16);
	printf("\n");
}

/* Prints the saved state and replaces it. */
static void edit(struct _fpstate *fp)
{
	printf("  saved: cw=%04x sw=%04x tag=%04x magic=%04x mxcsr=%08x", fp->cw & 0xffff,
	       fp->sw & 0xffff, fp->tag & 0xffff, fp->magic, fp->mxcsr);
	hex("st0", &fp->_st[0], 10);
	hex("st1", &fp->_st[1], 10);
	hex("fx_st0", &fp->_fxsr_st[0], 10);
	hex("xmm7", &fp->_xmm[7], 16);
	printf("\n");
	own_state();
	/* ST(0) := 2.5, control word := round toward zero, MXCSR := round
	 * toward zero (all exceptions still masked), XMM7 := a new
	 * pattern. */
	static const unsigned char two_and_half[10] = {0, 0, 0, 0, 0, 0, 0, 0xa0, 0x00, 0x40};
	memcpy(&fp->_st[0], two_and_half, 10);
	fp->cw = 0x0f7f;
	fp->mxcsr = 0x7f80;
	static const uint32_t x[4] = {0xcafef00d, 0xdeadbeef, 0x01234567, 0x89abcdef};
	memcpy(&fp->_xmm[7], x, 16);
}

static void rt_handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	printf("  rt handler: sig %d code %d\n", sig, si->si_code);
	edit((struct _fpstate *)uc->uc_mcontext.fpregs);
}

/* The legacy i386 frame: the sigcontext follows the signal number on the
 * stack, where the handler's second parameter is. */
static void old_handler(int sig, struct sigcontext sc)
{
	printf("  legacy handler: sig %d\n", sig);
	edit(sc.fpstate);
}

static void report(const char *what)
{
	struct fpu_out out;
	memset(&out, 0, sizeof out);
	interrupted(&out);
	printf("%s after sigreturn: cw=%04x mxcsr=%08x", what, out.cw, out.mxcsr);
	hex("st0", out.st0, 10);
	hex("st1", out.st1, 10);
	hex("xmm7", out.xmm7, 16);
	printf("\n");
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = rt_handler;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGUSR1, &sa, NULL);
	report("rt");
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = (void (*)(int))old_handler;
	sigaction(SIGUSR1, &sa, NULL);
	report("legacy");
	return 0;
}
