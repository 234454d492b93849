/* The trap flag: after each instruction that starts with EFLAGS.TF set the
 * thread gets SIGTRAP (si_code TRAP_TRACE, si_addr and EIP past the
 * instruction, trap number 1); the handler runs with TF clear and its
 * return restores it. The instruction that sets TF (popf, iret) does not
 * trap, the one that clears it does; int $0x80 is not followed by a trap
 * of its own; each iteration of a rep string instruction traps; mov/pop
 * to SS hold the trap over the next instruction; a handler can set TF in
 * the context it returns to. The trap EIPs are printed relative to a
 * label, in the order they happened. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#define MAX 64
static unsigned eip[MAX], addr[MAX], trapno[MAX], err[MAX];
static int code[MAX], tf_saved[MAX], tf_handler[MAX], sig[MAX];
static int n;
char src[16] = "abcdefgh", dst[16];

static unsigned flags_now(void)
{
	unsigned f;
	asm volatile("pushf; pop %0" : "=r"(f));
	return f;
}

static void on_trap(int s, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	if (n < MAX) {
		sig[n] = s;
		eip[n] = uc->uc_mcontext.gregs[REG_EIP];
		addr[n] = (unsigned)si->si_addr;
		code[n] = si->si_code;
		trapno[n] = uc->uc_mcontext.gregs[REG_TRAPNO];
		err[n] = uc->uc_mcontext.gregs[REG_ERR];
		tf_saved[n] = uc->uc_mcontext.gregs[REG_EFL] >> 8 & 1;
		tf_handler[n] = flags_now() >> 8 & 1;
		n++;
	}
}

/* SIGUSR1 sets TF in the context it returns to. */
static void on_usr1(int s, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	(void)s;
	(void)si;
	uc->uc_mcontext.gregs[REG_EFL] |= 0x100;
}

static void report(const char *what, const char *base_name, unsigned base)
{
	printf("%s: %d traps\n", what, n);
	for (int i = 0; i < n; i++) {
		printf("  sig %d code %d at %s%+d", sig[i], code[i], base_name,
		       (int)(eip[i] - base));
		printf(" addr==eip %d trapno %d err %u tf saved %d in handler %d\n",
		       addr[i] == eip[i], trapno[i], err[i], tf_saved[i],
		       tf_handler[i]);
	}
	n = 0;
}

extern char tf_a[], tf_b[], tf_c[], tf_d[];

static void __attribute__((noinline)) popf_sequence(void)
{
	asm volatile("pushf; orl $0x100, (%%esp); popf\n"
		     "tf_a: nop\n"
		     "mov $20, %%eax\n" /* getpid */
		     "int $0x80\n"
		     "nop\n"
		     "mov $3, %%ecx; lea src, %%esi; lea dst, %%edi; rep movsb\n"
		     "xor %%ecx, %%ecx; rep movsb\n"
		     "mov $4, %%ecx; lea src, %%esi; lea dst, %%edi; repe cmpsb\n"
		     "mov %%ss, %%eax; mov %%eax, %%ss; nop; nop\n"
		     "push %%ss; pop %%ss; nop\n"
		     "rdtsc\n"
		     "int3\n"
		     "nop\n"
		     "pushf; andl $~0x100, (%%esp); popf\n"
		     "nop; nop\n" ::
			     : "eax", "ecx", "edx", "esi", "edi", "memory", "cc");
}

static void __attribute__((noinline)) iret_sequence(void)
{
	asm volatile("pushf; orl $0x100, (%%esp); push %%cs; push $tf_b\n"
		     "iret\n"
		     "tf_b: nop\n"
		     "nop\n"
		     "pushf; andl $~0x100, (%%esp); popf\n"
		     "nop\n" ::
			     : "memory", "cc");
}

static void __attribute__((noinline)) sigreturn_sequence(void)
{
	asm volatile("mov $20, %%eax; int $0x80\n" /* getpid */
		     "mov %%eax, %%ebx; mov $10, %%ecx; mov $37, %%eax\n"
		     "tf_c: int $0x80\n" /* kill(getpid(), SIGUSR1) */
		     "nop\n"
		     "nop\n"
		     "pushf; andl $~0x100, (%%esp); popf\n"
		     "nop\n" ::
			     : "eax", "ebx", "ecx", "memory", "cc");
}

static void __attribute__((noinline)) loop_sequence(void)
{
	asm volatile("mov $5, %%ecx\n"
		     "pushf; orl $0x100, (%%esp); popf\n"
		     "tf_d: dec %%ecx\n"
		     "jnz tf_d\n"
		     "pushf; andl $~0x100, (%%esp); popf\n" ::
			     : "ecx", "memory", "cc");
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_trap;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGTRAP, &sa, NULL);
	sa.sa_sigaction = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	popf_sequence();
	report("popf", "a", (unsigned)tf_a);
	iret_sequence();
	report("iret", "b", (unsigned)tf_b);
	sigreturn_sequence();
	report("sigreturn", "c", (unsigned)tf_c);
	loop_sequence();
	report("loop", "d", (unsigned)tf_d);
	printf("tf now %u, dst %.3s\n", flags_now() >> 8 & 1, dst);
	return 0;
}
