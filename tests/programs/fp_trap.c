/* Unmasked floating-point exceptions (feenableexcept): SIGFPE with the
 * si_code Linux derives from the x87 status/control words or MXCSR
 * (FPE_FLTDIV, FPE_FLTINV, ...), si_addr at the trapping instruction, and
 * the FPU state the kernel saved in the signal frame.
 *
 *   fp_trap            each case once, the handler siglongjmps out
 *   fp_trap fixup      the handler masks the exception in the saved FPU
 *                      state and returns: sigreturn must load that state,
 *                      so the trapping instruction completes masked
 *   fp_trap die        no handler: killed by SIGFPE (status 136) */
#define _GNU_SOURCE
#include <fenv.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

static sigjmp_buf back;
static int fixup;
static volatile double zero = 0.0, one = 1.0, three = 3.0, big = 1e308, tiny = 1e-308;
static volatile double qnan = NAN;
static volatile double sink;
static volatile int isink;
static char *case_start;

/* Each case is its own function so that si_addr can be printed relative
 * to it (the program may be position independent). */
#define DEFCASE(name, stmt)                                                                       \
	static __attribute__((noinline)) void name(void) { stmt; }
DEFCASE(c_div, sink = one / zero)
DEFCASE(c_inv, sink = zero / zero)
DEFCASE(c_ovf, sink = big * big)
DEFCASE(c_und, sink = tiny * tiny)
DEFCASE(c_res, sink = one / three)
DEFCASE(c_cvt, isink = (int)qnan)
DEFCASE(c_sqrt, sink = sqrt(zero - one))

static void handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	struct _libc_fpstate *fp = uc->uc_mcontext.fpregs;
	unsigned char *fx = (unsigned char *)fp + 112; /* the FXSAVE image */
	uint32_t mxcsr;
	memcpy(&mxcsr, fx + 24, 4);
	long off = (char *)si->si_addr - case_start;
	char where[32];
	if (off >= 0 && off < 256)
		snprintf(where, sizeof where, "+%ld", off);
	else
		snprintf(where, sizeof where, "outside");
	/* printf from a handler is fine here: the trap is synchronous and
	 * stdio is not in use at the time. */
	printf("  SIGFPE signo=%d code=%d addr=%s cw=%04lx sw=%04lx tag=%04lx magic=%04lx "
	       "mxcsr=%08x\n",
	       sig, si->si_code, where, fp->cw & 0xffff, fp->sw & 0xffff, fp->tag & 0xffff,
	       fp->status >> 16, mxcsr);
	if (fixup) {
		/* Mask everything and clear the pending x87 exception, so the
		 * instruction completes when sigreturn resumes it. */
		fp->cw |= 0x3f;
		fp->sw &= ~0x80ffUL;
		mxcsr = (mxcsr | 0x1f80) & ~0x3fu;
		memcpy(fx + 24, &mxcsr, 4);
		return;
	}
	siglongjmp(back, 1);
}

static void run(const char *name, void (*f)(void), int excepts)
{
	case_start = (char *)f;
	feclearexcept(FE_ALL_EXCEPT);
	if (sigsetjmp(back, 1) == 0) {
		feenableexcept(excepts);
		f();
		int e = fetestexcept(FE_ALL_EXCEPT);
		fedisableexcept(FE_ALL_EXCEPT);
		printf("%s: no trap, result %a flags %#x\n", name, sink, e);
	} else {
		printf("%s: trapped, enabled now %#x\n", name, fegetexcept());
	}
	fedisableexcept(FE_ALL_EXCEPT);
	feclearexcept(FE_ALL_EXCEPT);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	fixup = strcmp(mode, "fixup") == 0;
	if (strcmp(mode, "die") == 0) {
		printf("dividing by zero with FE_DIVBYZERO enabled\n");
		fflush(stdout);
		feenableexcept(FE_DIVBYZERO);
		sink = one / zero;
		sink += 1;
		printf("still alive: %g\n", sink);
		return 1;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGFPE, &sa, NULL);
	setvbuf(stdout, NULL, _IONBF, 0);
	run("div", c_div, FE_DIVBYZERO);
	run("div-masked", c_div, FE_INVALID);
	run("inv", c_inv, FE_INVALID);
	run("ovf", c_ovf, FE_OVERFLOW);
	run("und", c_und, FE_UNDERFLOW);
	run("res", c_res, FE_INEXACT);
	run("cvt", c_cvt, FE_INVALID);
	run("sqrt", c_sqrt, FE_INVALID);
	run("all-on-1/3", c_res, FE_ALL_EXCEPT);
	printf("control word after: %#x\n", fegetexcept());
	return 0;
}
