/* Far transfers through the process's own code selector: lcall/ljmp with
 * an immediate pointer or one in memory, `push %cs; call` ... `lret`,
 * `lret $n`, and iret to the same privilege level with the EFLAGS bits
 * user mode may change; and the faults of the ones Linux refuses. Error
 * codes that differ between CPU vendors (iret to a bad selector) and the
 * order in which a far return reads its two slots are not printed. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>

static sigjmp_buf env;
static int show_err;

static void handler(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	unsigned esp = uc->uc_mcontext.gregs[REG_ESP];
	unsigned addr = (unsigned)si->si_addr;
	printf("sig %d code %d trapno %d", sig, si->si_code,
	       (int)uc->uc_mcontext.gregs[REG_TRAPNO]);
	if (show_err)
		printf(" err %#x", (unsigned)uc->uc_mcontext.gregs[REG_ERR]);
	if (sig == SIGSEGV && si->si_code != 128) {
		if (addr - esp < 8)
			printf(" addr in the 8 bytes at esp");
		else if (esp - addr <= 8)
			printf(" addr in the 8 bytes below esp");
		else
			printf(" addr elsewhere");
	}
	printf(" cs %#x\n", (unsigned)uc->uc_mcontext.gregs[REG_CS] & 0xffff);
	siglongjmp(env, 1);
}

#define CASE(name, err, body)                                                  \
	do {                                                                   \
		printf("%-28s", name);                                         \
		fflush(stdout);                                                \
		show_err = err;                                                \
		if (!sigsetjmp(env, 1)) {                                      \
			body;                                                  \
			printf("\n");                                          \
		}                                                              \
	} while (0)

static unsigned cs(void)
{
	unsigned v;
	asm volatile("mov %%cs, %0" : "=r"(v));
	return v;
}

static void far_calls(void)
{
	unsigned a, b, sp0, sp1;
	CASE("lcall 0x23 / lret", 1, ({
		     asm volatile("mov %%esp, %2\n"
				  "lcall $0x23, $1f\n"
				  "jmp 2f\n"
				  "1: mov (%%esp), %0; mov 4(%%esp), %1; lret\n"
				  "2: mov %%esp, %3"
				  : "=&r"(a), "=&r"(b), "=&r"(sp0), "=&r"(sp1));
		     printf("return eip ok %d, cs slot %#x, esp back %d, cs %#x",
			    a > 0x1000, b & 0xffff, sp0 == sp1, cs());
	     }));
	CASE("lcall 0x20 (RPL 0)", 1, ({
		     asm volatile("lcall $0x20, $1f\n"
				  "jmp 2f\n"
				  "1: mov 4(%%esp), %0; lret\n"
				  "2:"
				  : "=&r"(b));
		     printf("cs slot %#x, cs %#x", b & 0xffff, cs());
	     }));
	CASE("push %cs; call; lret", 1, ({
		     asm volatile("mov %%esp, %1\n"
				  "push %%cs\n"
				  "call 1f\n"
				  "jmp 2f\n"
				  "1: mov 4(%%esp), %0; lret\n"
				  "2: mov %%esp, %2"
				  : "=&r"(b), "=&r"(sp0), "=&r"(sp1));
		     printf("cs slot %#x, esp back %d", b & 0xffff, sp0 == sp1);
	     }));
	CASE("lcall *mem", 1, ({
		     unsigned m[2] = {0, 0x23};
		     asm volatile("movl $1f, (%1)\n"
				  "lcall *(%1)\n"
				  "jmp 2f\n"
				  "1: mov 4(%%esp), %0; lret\n"
				  "2:"
				  : "=&r"(b)
				  : "r"(m)
				  : "memory");
		     printf("cs slot %#x", b & 0xffff);
	     }));
	CASE("lret $12", 1, ({
		     asm volatile("mov %%esp, %0\n"
				  "push $1; push $2; push $3\n"
				  "push %%cs; push $1f\n"
				  "lret $12\n"
				  "1: mov %%esp, %1"
				  : "=&r"(sp0), "=&r"(sp1));
		     printf("esp back %d", sp0 == sp1);
	     }));
	CASE("lret, selector's upper bits", 1,
	     asm volatile("push $0x12340023; push $1f; lret; 1:" ::: "memory"));
	CASE("ljmp 0x23", 1, asm volatile("ljmp $0x23, $1f; 1:"));
	CASE("ljmp 0x22", 1, ({
		     asm volatile("ljmp $0x22, $1f; 1:");
		     printf("cs %#x", cs());
	     }));
	CASE("ljmp *mem", 1, ({
		     unsigned m[2] = {0, 0x23};
		     asm volatile("movl $1f, (%0); ljmp *(%0); 1:" ::"r"(m) : "memory");
	     }));
}

static unsigned iret_with(unsigned image)
{
	unsigned f;
	asm volatile("push %1; push %%cs; push $1f; iret\n"
		     "1: pushf; pop %0\n"
		     "push $0x202; popf"
		     : "=&r"(f)
		     : "r"(image)
		     : "memory", "cc");
	return f;
}

static void irets(void)
{
	unsigned sp0, sp1;
	CASE("iret", 1, ({
		     asm volatile("mov %%esp, %0\n"
				  "pushf; push %%cs; push $1f; iret\n"
				  "1: mov %%esp, %1"
				  : "=&r"(sp0), "=&r"(sp1));
		     printf("esp back %d", sp0 == sp1);
	     }));
	/* Everything but TF and AC (which would trap or fault in printf):
	 * IOPL, IF, VM, VIF, VIP and RF do not change, the rest does. */
	CASE("iret flags 0x3b3ed5", 1, printf("%#x", iret_with(0x3b3ed5)));
	CASE("iret flags 0", 1, printf("%#x", iret_with(0)));
	CASE("iret flags AC|ID|NT", 1, printf("%#x", iret_with(0x244002)));
	CASE("iret with NT set", 1,
	     asm volatile("pushf; orl $0x4000, (%%esp); popf\n"
			  "push $0x202; push %%cs; push $1f; iret\n"
			  "1:" ::: "memory", "cc"));
	asm volatile("push $0x202; popf" ::: "cc");
	CASE("iret to 0x20", 0, asm volatile("pushf; push $0x20; push $1f; iret; 1:" ::: "memory"));
	CASE("iret to 0x2b", 0, asm volatile("pushf; push $0x2b; push $1f; iret; 1:" ::: "memory"));
	CASE("iret to 0", 0, asm volatile("pushf; push $0; push $1f; iret; 1:" ::: "memory"));
}

/* With ESP near 0 the pushes and pops fault (the handler runs on the
 * alternate stack). */
static void bad_stacks(void)
{
	CASE("lcall, no stack", 1,
	     asm volatile("mov %%esp, %%ebx; mov $0x10, %%esp\n"
			  "lcall $0x23, $1f\n1: mov %%ebx, %%esp" ::: "ebx", "memory"));
	CASE("lcall 0x2b, no stack", 1,
	     asm volatile("mov %%esp, %%ebx; mov $0x10, %%esp\n"
			  "lcall $0x2b, $1f\n1: mov %%ebx, %%esp" ::: "ebx", "memory"));
	CASE("lret, no stack", 1,
	     asm volatile("mov %%esp, %%ebx; mov $0x10, %%esp\n"
			  "lret\n1: mov %%ebx, %%esp" ::: "ebx", "memory"));
}

int main(void)
{
	static char alt[65536];
	stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt};
	sigaltstack(&ss, NULL);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	far_calls();
	irets();
	bad_stacks();
	return 0;
}
