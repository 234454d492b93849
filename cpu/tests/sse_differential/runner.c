/*
 * Host side of the SSE differential test (cpu/tests/sse_differential.rs):
 * runs each case's instruction natively and reports the resulting state.
 *
 * Cases arrive on stdin as `struct state` records preceded by the code
 * bytes; results go to stdout as `struct state` records. Guest data sits
 * at DATA, which the interpreter side maps at the same address. The code
 * is copied into an executable page and ends with `ret`; a fault (SIGFPE
 * for #XM, SIGSEGV for #GP/#PF, SIGILL for #UD) is reported with the
 * MXCSR and XMM registers from the signal context.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#define DATA 0x20000000u
#define CODE 0x21000000u

struct state {
    uint32_t signo;
    uint32_t gpr[8]; /* EAX ECX EDX EBX ESP(ignored) EBP ESI EDI */
    uint32_t eflags;
    uint32_t mxcsr;
    uint32_t pad;
    uint8_t xmm[8][16];
    uint64_t mm[8];
    uint8_t data[64];
};

struct state g_in, g_out;
uint32_t g_entry, g_saved_esp;
static sigjmp_buf g_jmp;

void run_case(void);
__asm__(
    ".text\n"
    ".globl run_case\n"
    "run_case:\n"
    "  pushal\n"
    "  movl %esp, g_saved_esp\n"
    "  movups g_in+48, %xmm0\n  movups g_in+64, %xmm1\n"
    "  movups g_in+80, %xmm2\n  movups g_in+96, %xmm3\n"
    "  movups g_in+112, %xmm4\n  movups g_in+128, %xmm5\n"
    "  movups g_in+144, %xmm6\n  movups g_in+160, %xmm7\n"
    "  movq g_in+176, %mm0\n  movq g_in+184, %mm1\n"
    "  movq g_in+192, %mm2\n  movq g_in+200, %mm3\n"
    "  movq g_in+208, %mm4\n  movq g_in+216, %mm5\n"
    "  movq g_in+224, %mm6\n  movq g_in+232, %mm7\n"
    "  ldmxcsr g_in+40\n"
    "  pushl g_in+36\n  popfl\n"
    "  movl g_in+8, %ecx\n  movl g_in+12, %edx\n  movl g_in+16, %ebx\n"
    "  movl g_in+24, %ebp\n  movl g_in+28, %esi\n  movl g_in+32, %edi\n"
    "  movl g_in+4, %eax\n"
    "  call *g_entry\n"
    "  pushfl\n  popl g_out+36\n"
    "  movl %eax, g_out+4\n  movl %ecx, g_out+8\n  movl %edx, g_out+12\n"
    "  movl %ebx, g_out+16\n  movl %ebp, g_out+24\n  movl %esi, g_out+28\n"
    "  movl %edi, g_out+32\n"
    "  stmxcsr g_out+40\n"
    "  movups %xmm0, g_out+48\n  movups %xmm1, g_out+64\n"
    "  movups %xmm2, g_out+80\n  movups %xmm3, g_out+96\n"
    "  movups %xmm4, g_out+112\n  movups %xmm5, g_out+128\n"
    "  movups %xmm6, g_out+144\n  movups %xmm7, g_out+160\n"
    "  movq %mm0, g_out+176\n  movq %mm1, g_out+184\n"
    "  movq %mm2, g_out+192\n  movq %mm3, g_out+200\n"
    "  movq %mm4, g_out+208\n  movq %mm5, g_out+216\n"
    "  movq %mm6, g_out+224\n  movq %mm7, g_out+232\n"
    "  emms\n"
    "  movl g_saved_esp, %esp\n"
    "  popal\n"
    "  ret\n");

static void on_fault(int sig, siginfo_t *si, void *ctx)
{
    ucontext_t *uc = ctx;
    struct _fpstate *fp = (struct _fpstate *)uc->uc_mcontext.fpregs;
    (void)si;
    g_out.signo = (uint32_t)sig;
    g_out.mxcsr = fp->mxcsr;
    memcpy(g_out.xmm, fp->_xmm, sizeof g_out.xmm);
    siglongjmp(g_jmp, 1);
}

int main(void)
{
    struct sigaction sa;
    uint8_t code[32];
    uint32_t len;
    void *d = mmap((void *)DATA, 0x1000, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    void *c = mmap((void *)CODE, 0x1000, PROT_READ | PROT_WRITE | PROT_EXEC,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (d == MAP_FAILED || c == MAP_FAILED)
        return 2;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGFPE, &sa, 0);
    sigaction(SIGSEGV, &sa, 0);
    sigaction(SIGILL, &sa, 0);
    while (fread(&len, 4, 1, stdin) == 1 && len <= 30 &&
           fread(code, 1, len, stdin) == len &&
           fread(&g_in, sizeof g_in, 1, stdin) == 1) {
        memcpy(c, code, len);
        ((uint8_t *)c)[len] = 0xc3; /* ret */
        memcpy(d, g_in.data, sizeof g_in.data);
        g_entry = CODE;
        memset(&g_out, 0, sizeof g_out);
        if (!sigsetjmp(g_jmp, 1))
            run_case();
        memcpy(g_out.data, d, sizeof g_out.data);
        fwrite(&g_out, sizeof g_out, 1, stdout);
    }
    fflush(stdout);
    return 0;
}
