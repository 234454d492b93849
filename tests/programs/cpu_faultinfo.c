/* What a SA_SIGINFO handler learns about a CPU exception: signal, si_code,
 * si_addr, and the trap number and error code in the signal context, for
 * `int n` through gates user mode may not use (#GP with error n*8+2),
 * int3/int $3, into/int $4, icebp, bad segment selectors, and page faults
 * (the error code's present, write, user and instruction-fetch bits).
 * Addresses are printed relative to the instruction or page involved. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

static sigjmp_buf env;
/* Address of the instruction under test, stored by the asm before it
 * (0: a C-level access whose instruction is not known). */
static volatile unsigned at;
static volatile unsigned page;
static int bounds[2] = {1, 2};
/* argv[1] == "no-exec-only": leave out the PROT_EXEC-only page. */
static int skip_exec_only;

static void handler(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	unsigned eip = uc->uc_mcontext.gregs[REG_EIP];
	unsigned addr = (unsigned)si->si_addr;
	printf("sig %d code %d trapno %d err %#x", sig, si->si_code,
	       (int)uc->uc_mcontext.gregs[REG_TRAPNO],
	       (unsigned)uc->uc_mcontext.gregs[REG_ERR]);
	if (at)
		printf(" eip %+d", (int)(eip - at));
	if (addr == 0)
		printf(" addr 0\n");
	else if (page && addr - page < 4096)
		printf(" addr page%+d\n", (int)(addr - page));
	else
		printf(" addr insn%+d\n", (int)(addr - at));
	siglongjmp(env, 1);
}

#define CASE(name, body)                                                       \
	do {                                                                   \
		printf("%-24s", name);                                         \
		fflush(stdout);                                                \
		at = 0; /* unknown for C-level accesses */                     \
		if (!sigsetjmp(env, 1)) {                                      \
			body;                                                  \
			printf("no signal\n");                                 \
		}                                                              \
	} while (0)

/* Runs one instruction (as asm text), recording its address first. */
#define INSN(text) asm volatile("movl $1f, at\n1: " text ::: "memory")

static char *new_page(int prot)
{
	char *p = mmap(NULL, 4096, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	page = (unsigned)p;
	return p;
}

/* Calls `p` as code: the fault is on the fetch, at the page itself. */
static void jump_to(char *p)
{
	at = (unsigned)p;
	((void (*)(void))p)();
}

static void software_interrupts(void)
{
	page = 0;
	CASE("int $0x81", INSN("int $0x81"));
	CASE("int $0", INSN("int $0"));
	CASE("int $1", INSN("int $1"));
	CASE("int $5", INSN("int $5"));
	CASE("int $0xd", INSN("int $0xd"));
	CASE("int $0xe", INSN("int $0xe"));
	CASE("int $0xff", INSN("int $0xff"));
	CASE("int3", INSN("int3"));
	CASE("int $3", INSN(".byte 0xcd, 0x03"));
	CASE("int $4", INSN("int $4"));
	CASE("into", asm volatile("mov $0x7fffffff, %%eax; add $1, %%eax\n"
				  "movl $1f, at\n1: into" ::: "eax", "memory"));
	CASE("icebp", INSN(".byte 0xf1"));
	CASE("hlt", INSN("hlt"));
	CASE("bound", asm volatile("mov $5, %%eax\nmovl $1f, at\n"
				   "1: bound %%eax, (%0)" ::"r"(bounds) : "eax", "memory"));
}

static void selectors(void)
{
	page = 0;
	CASE("mov 0x73 to gs", asm volatile("mov $0x73, %%eax\nmovl $1f, at\n"
					    "1: mov %%eax, %%gs" ::: "eax", "memory"));
	CASE("mov 0x6b to ds", asm volatile("mov $0x6b, %%eax\nmovl $1f, at\n"
					    "1: mov %%eax, %%ds" ::: "eax", "memory"));
	CASE("mov 0x7 to es", asm volatile("mov $0x7, %%eax\nmovl $1f, at\n"
					   "1: mov %%eax, %%es" ::: "eax", "memory"));
	CASE("mov 0x23 to ss", asm volatile("mov $0x23, %%eax\nmovl $1f, at\n"
					    "1: mov %%eax, %%ss" ::: "eax", "memory"));
	CASE("mov 0 to ss", asm volatile("xor %%eax, %%eax\nmovl $1f, at\n"
					 "1: mov %%eax, %%ss" ::: "eax", "memory"));
	CASE("lcall 0x2b", INSN("lcall $0x2b, $0"));
	CASE("lcall 0", INSN("lcall $0, $0"));
	CASE("lcall 0x1b", INSN("lcall $0x1b, $0"));
	CASE("lcall 0x73", INSN("lcall $0x73, $0"));
	CASE("ljmp 0x7", INSN("ljmp $0x7, $0"));
	CASE("ljmp 0x63", INSN("ljmp $0x63, $0"));
	CASE("ljmp 0xfff8", INSN("ljmp $0xfff8, $0"));
	CASE("lret to 0x20", asm volatile("push $0x20; push $0\nmovl $1f, at\n"
					  "1: lret" ::: "memory"));
	CASE("lret to 0x2b", asm volatile("push $0x2b; push $0\nmovl $1f, at\n"
					  "1: lret" ::: "memory"));
	CASE("lret to 3", asm volatile("push $3; push $0\nmovl $1f, at\n"
				       "1: lret" ::: "memory"));
}

static void page_faults(void)
{
	char *p;
	p = new_page(PROT_READ);
	CASE("write untouched ro", *(volatile char *)p = 1);
	p = new_page(PROT_READ);
	(void)*(volatile char *)p;
	CASE("write touched ro", *(volatile char *)p = 1);
	p = new_page(PROT_READ);
	CASE("exec untouched ro", jump_to(p));
	p = new_page(PROT_READ | PROT_WRITE);
	*(volatile char *)p = (char)0xc3;
	CASE("exec written rw", jump_to(p));
	p = new_page(PROT_READ | PROT_WRITE);
	*(volatile char *)p = (char)0xc3;
	mprotect(p, 4096, PROT_NONE);
	CASE("read written, then none", (void)*(volatile char *)(p + 8));
	p = new_page(PROT_NONE);
	CASE("write none", *(volatile char *)(p + 4) = 1);
	p = new_page(PROT_NONE);
	CASE("exec none", jump_to(p));
	p = new_page(PROT_READ | PROT_WRITE);
	munmap(p, 4096);
	CASE("read unmapped", (void)*(volatile char *)(p + 16));
	CASE("write unmapped", *(volatile char *)(p + 16) = 1);
	CASE("exec unmapped", jump_to(p));
	p = new_page(PROT_READ | PROT_WRITE);
	*(volatile char *)p = (char)0xc3;
	mprotect(p, 4096, PROT_EXEC);
	/* On a CPU with protection keys Linux backs PROT_EXEC alone with an
	 * execute-only key, and both accesses fault with SEGV_PKUERR; without
	 * them (and under Wax, whose CPU has none) the page is readable. The
	 * test skips these two where the host has them. */
	if (!skip_exec_only) {
		CASE("read exec-only", (void)*(volatile char *)p);
		CASE("write exec-only", *(volatile char *)p = 0);
	}
	page = 0xc0000000;
	CASE("read kernel", (void)*(volatile char *)0xc0000000);
	CASE("exec kernel", jump_to((char *)0xc0000000));
}

int main(int argc, char **argv)
{
	skip_exec_only = argc > 1 && !strcmp(argv[1], "no-exec-only");
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	int sigs[] = {SIGSEGV, SIGTRAP, SIGBUS, SIGILL, SIGFPE};
	for (unsigned i = 0; i < sizeof sigs / sizeof *sigs; i++)
		sigaction(sigs[i], &sa, NULL);
	software_interrupts();
	selectors();
	page_faults();
	return 0;
}
