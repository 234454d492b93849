/*
 * Host side of Wax's instruction differential test: runs each case natively
 * on the host CPU (as an i386 process) and reports the final state.
 *
 * Built by cpu/tests/differential/host.rs with `gcc -m32 -static`. Reads
 * cases from stdin and writes one result per case to stdout; the record
 * layouts are `struct case_hdr` and `struct result` below, mirrored in
 * host.rs. Guest memory sits at fixed addresses (see `map_areas`), the same
 * ones the interpreter side maps.
 *
 * A case's code is copied so that it ends exactly at CODE_END, where a jump
 * back into the runner (`case_exit`) records the registers. Faults are
 * caught on an alternate signal stack (the guest stack stays untouched) and
 * reported with the registers from the signal context.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#define PAGE 0x1000u
#define CODE_PAGE 0x10000000u
#define CODE_END 0x10001000u
#define DATA 0x8000u
#define DATA_LEN 0x2000u
#define RO 0xa000u
#define STACK 0x30000000u
#define STACK_LEN 0x1000u
#define MAX_CODE 256u

struct case_hdr {
    uint32_t regs[8]; /* EAX ECX EDX EBX ESP EBP ESI EDI */
    uint32_t eflags;
    uint16_t code_len, data_off, data_len, stack_off, stack_len, pad;
};

struct result {
    uint32_t signo, code, addr, eip;
    uint32_t regs[8];
    uint32_t eflags;
    uint32_t ndiff; /* then ndiff words: area offset << 8 | new byte */
};

/* Register file handed to and taken from the guest code (order: regs[8],
 * eflags), addressed by the assembly below. */
uint32_t g_in[9], g_out[9];
uint32_t g_saved_esp, g_entry;

void enter_case(void);
void case_exit(void);

__asm__(
    ".text\n"
    ".globl enter_case\n"
    "enter_case:\n"
    "  pushl %ebp\n  pushl %ebx\n  pushl %esi\n  pushl %edi\n"
    "  movl %esp, g_saved_esp\n"
    /* Flags first, on the runner's stack: the moves below keep them. */
    "  pushl g_in+32\n  popfl\n"
    "  movl g_in+4, %ecx\n  movl g_in+8, %edx\n  movl g_in+12, %ebx\n"
    "  movl g_in+20, %ebp\n  movl g_in+24, %esi\n  movl g_in+28, %edi\n"
    "  movl g_in+16, %esp\n  movl g_in+0, %eax\n"
    "  jmp *g_entry\n"
    ".globl case_exit\n"
    "case_exit:\n"
    "  movl %eax, g_out+0\n  movl %ecx, g_out+4\n  movl %edx, g_out+8\n"
    "  movl %ebx, g_out+12\n  movl %esp, g_out+16\n  movl %ebp, g_out+20\n"
    "  movl %esi, g_out+24\n  movl %edi, g_out+28\n"
    "  movl g_saved_esp, %esp\n"
    "  pushfl\n  popl g_out+32\n  cld\n"
    "  popl %edi\n  popl %esi\n  popl %ebx\n  popl %ebp\n"
    "  ret\n");

static sigjmp_buf g_jmp;
static struct result g_res;

static void on_signal(int sig, siginfo_t *si, void *ctx)
{
    const greg_t *g = ((ucontext_t *)ctx)->uc_mcontext.gregs;
    static const int order[8] = {REG_EAX, REG_ECX, REG_EDX, REG_EBX,
                                 REG_UESP, REG_EBP, REG_ESI, REG_EDI};
    g_res.signo = (uint32_t)sig;
    g_res.code = (uint32_t)si->si_code;
    g_res.addr = (uint32_t)(uintptr_t)si->si_addr;
    g_res.eip = (uint32_t)g[REG_EIP];
    for (int i = 0; i < 8; i++)
        g_res.regs[i] = (uint32_t)g[order[i]];
    g_res.eflags = (uint32_t)g[REG_EFL];
    siglongjmp(g_jmp, 1);
}

static void die(const char *what)
{
    perror(what);
    exit(2);
}

static void map_at(uint32_t addr, uint32_t len, int prot)
{
    void *p = mmap((void *)(uintptr_t)addr, len, prot,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p != (void *)(uintptr_t)addr)
        die("mmap");
}

/* The pages every case sees. Neighbouring pages stay unmapped so that
 * accesses past the areas fault. */
static void map_areas(void)
{
    map_at(CODE_PAGE, 2 * PAGE, PROT_READ | PROT_WRITE | PROT_EXEC);
    map_at(DATA, DATA_LEN, PROT_READ | PROT_WRITE);
    map_at(RO, PAGE, PROT_READ | PROT_WRITE);
    for (uint32_t i = 0; i < PAGE; i++)
        ((uint8_t *)(uintptr_t)RO)[i] = (uint8_t)(i * 7 + 3);
    if (mprotect((void *)(uintptr_t)RO, PAGE, PROT_READ))
        die("mprotect");
    map_at(STACK, STACK_LEN, PROT_READ | PROT_WRITE);
    /* The way back: `jmp case_exit` at CODE_END. */
    uint8_t *stub = (uint8_t *)(uintptr_t)CODE_END;
    int32_t rel = (int32_t)((uintptr_t)case_exit - (CODE_END + 5));
    stub[0] = 0xe9;
    memcpy(stub + 1, &rel, 4);
}

static void catch_signals(void)
{
    static uint8_t alt[1 << 16];
    stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0};
    if (sigaltstack(&ss, 0))
        die("sigaltstack");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP};
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        if (sigaction(sigs[i], &sa, 0))
            die("sigaction");
}

static void read_exact(void *buf, size_t n)
{
    if (n && fread(buf, 1, n, stdin) != n)
        die("short case");
}

/* Memory as it was when the case started: the areas are zero outside the
 * windows a case fills in. */
static uint8_t g_initial[DATA_LEN + STACK_LEN];
static uint32_t g_diff[DATA_LEN + STACK_LEN];

static uint8_t *area(uint32_t off)
{
    return off < DATA_LEN ? (uint8_t *)(uintptr_t)(DATA + off)
                          : (uint8_t *)(uintptr_t)(STACK + off - DATA_LEN);
}

/* Appends the bytes that changed to g_diff and zeroes the changed chunks
 * (compared in 64-byte chunks; the windows are cleared by the caller). */
static uint32_t collect_diff(void)
{
    uint32_t n = 0;
    for (uint32_t off = 0; off < sizeof g_initial; off += 64) {
        uint8_t *now = area(off);
        if (memcmp(now, g_initial + off, 64) == 0)
            continue;
        for (uint32_t i = 0; i < 64; i++)
            if (now[i] != g_initial[off + i])
                g_diff[n++] = (off + i) << 8 | now[i];
        memset(now, 0, 64);
    }
    return n;
}

/* Zeroes a window in both the area and the initial image. */
static void clear_window(uint32_t off, uint32_t len)
{
    memset(area(off), 0, len);
    memset(g_initial + off, 0, len);
}

static void run_one(const struct case_hdr *h, const uint8_t *code)
{
    /* The rest of the code page is zero on both sides (a case may read it
     * through a random pointer or stack pointer): no earlier case's bytes. */
    memset((void *)(uintptr_t)CODE_PAGE, 0, PAGE - h->code_len);
    memcpy((void *)(uintptr_t)(CODE_END - h->code_len), code, h->code_len);
    memcpy(g_in, h->regs, sizeof h->regs);
    g_in[8] = h->eflags;
    g_entry = CODE_END - h->code_len;
    memset(&g_res, 0, sizeof g_res);
    if (sigsetjmp(g_jmp, 1) == 0) {
        enter_case();
        memcpy(g_res.regs, g_out, sizeof g_res.regs);
        g_res.eflags = g_out[8];
        g_res.eip = CODE_END;
    }
}

int main(void)
{
    static char inbuf[1 << 16], outbuf[1 << 16];
    setvbuf(stdin, inbuf, _IOFBF, sizeof inbuf);
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    map_areas();
    catch_signals();
    struct case_hdr h;
    static uint8_t code[MAX_CODE];
    while (fread(&h, sizeof h, 1, stdin) == 1) {
        if (h.code_len > MAX_CODE || h.data_off + h.data_len > DATA_LEN ||
            h.stack_off + h.stack_len > STACK_LEN) {
            fprintf(stderr, "runner: bad case header\n");
            return 2;
        }
        read_exact(code, h.code_len);
        read_exact(g_initial + h.data_off, h.data_len);
        read_exact(g_initial + DATA_LEN + h.stack_off, h.stack_len);
        memcpy(area(h.data_off), g_initial + h.data_off, h.data_len);
        memcpy(area(DATA_LEN + h.stack_off), g_initial + DATA_LEN + h.stack_off,
               h.stack_len);
        run_one(&h, code);
        g_res.ndiff = collect_diff();
        clear_window(h.data_off, h.data_len);
        clear_window(DATA_LEN + h.stack_off, h.stack_len);
        fwrite(&g_res, sizeof g_res, 1, stdout);
        fwrite(g_diff, 4, g_res.ndiff, stdout);
    }
    return fflush(stdout) ? 2 : 0;
}
