/* Signals: handlers that read and change the saved context, fault codes,
 * the alternate stack, masks, queued real-time signals, SIGCHLD, timed
 * waits for signals. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

static volatile sig_atomic_t got, depth, max_depth, calls;
static volatile int code, on_alt;
static void *volatile addr;

static void count(int sig)
{
    got = sig;
}

/* Skips the faulting instruction (its length is known from the asm below)
 * and puts a marker in the saved EAX, which the interrupted code sees. */
static void skip(int sig, siginfo_t *si, void *ctx)
{
    ucontext_t *uc = ctx;
    got = sig;
    code = si->si_code;
    addr = si->si_addr;
    uc->uc_mcontext.gregs[REG_EIP] += uc->uc_mcontext.gregs[REG_ECX];
    uc->uc_mcontext.gregs[REG_EAX] = 0x1234;
}

static void on_sig(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fn;
    sa.sa_flags = SA_SIGINFO | flags;
    sigaction(sig, &sa, NULL);
}

static void faults(void)
{
    unsigned eax;
    on_sig(SIGSEGV, skip, 0);
    on_sig(SIGFPE, skip, 0);
    on_sig(SIGILL, skip, 0);
    on_sig(SIGTRAP, skip, 0);
    on_sig(SIGBUS, skip, 0);
    /* movl $1,(%edx): c7 02 01 00 00 00, 6 bytes */
    asm volatile("mov $6, %%ecx; mov $0, %%eax; movl $1, (%%edx)"
                 : "=a"(eax) : "d"(16) : "ecx", "memory");
    printf("write to 16: sig %d code %d addr %p eax %#x\n", got, code, addr, eax);
    char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    asm volatile("mov $6, %%ecx; mov $0, %%eax; movl $1, (%%edx)"
                 : "=a"(eax) : "d"(ro + 8) : "ecx", "memory");
    printf("write to read-only: sig %d code %d addr ok %d eax %#x\n", got, code,
           addr == ro + 8, eax);
    munmap(ro, 4096);
    /* div %ecx... divisor in ebx: f7 f3, 2 bytes */
    asm volatile("mov $2, %%ecx; mov $7, %%eax; xor %%edx, %%edx; xor %%ebx, %%ebx; div %%ebx"
                 : "=a"(eax) : : "ebx", "ecx", "edx");
    printf("divide by zero: sig %d code %d eax %#x\n", got, code, eax);
    asm volatile("mov $2, %%ecx; mov $0, %%eax; ud2" : "=a"(eax) : : "ecx");
    printf("ud2: sig %d code %d eax %#x\n", got, code, eax);
    /* int3 traps after the instruction: skip nothing more */
    asm volatile("mov $0, %%ecx; mov $0, %%eax; int3" : "=a"(eax) : : "ecx");
    printf("int3: sig %d code %d eax %#x\n", got, code, eax);
    /* hlt is privileged: #GP, SIGSEGV with SI_KERNEL */
    asm volatile("mov $1, %%ecx; mov $0, %%eax; hlt" : "=a"(eax) : : "ecx");
    printf("hlt: sig %d code %d addr %p eax %#x\n", got, code, addr, eax);
    signal(SIGSEGV, SIG_DFL);
    signal(SIGFPE, SIG_DFL);
    signal(SIGILL, SIG_DFL);
    signal(SIGTRAP, SIG_DFL);
}

static char altstack[64 * 1024];

static void where(int sig)
{
    char here;
    stack_t now;
    got = sig;
    on_alt = &here >= altstack && &here < altstack + sizeof altstack;
    sigaltstack(NULL, &now);
    code = now.ss_flags;
}

static sigjmp_buf escape;

static void overflow_handler(int sig)
{
    char here;
    on_alt = &here >= altstack && &here < altstack + sizeof altstack;
    siglongjmp(escape, sig);
}

#pragma GCC diagnostic ignored "-Winfinite-recursion"
static int recurse(int n)
{
    volatile char pad[1024];
    pad[0] = (char)n;
    return recurse(n + 1) + pad[0];
}

static void alternate_stack(void)
{
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    printf("sigaltstack %d\n", sigaltstack(&ss, NULL));
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = where;
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    printf("SA_ONSTACK: on alt %d, ss_flags in handler %d\n", on_alt, code);
    sa.sa_flags = 0;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    printf("no SA_ONSTACK: on alt %d\n", on_alt);
    stack_t old;
    sigaltstack(NULL, &old);
    printf("ss_flags outside %d size ok %d\n", old.ss_flags, old.ss_size == sizeof altstack);
    ss.ss_size = 100;
    errno = 0;
    int r = sigaltstack(&ss, NULL);
    printf("tiny altstack %d errno %d\n", r, errno);

    sa.sa_handler = overflow_handler;
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGSEGV, &sa, NULL);
    int sig = sigsetjmp(escape, 1);
    if (sig == 0)
        recurse(0);
    printf("stack overflow caught: sig %d on alt %d\n", sig, on_alt);
    signal(SIGSEGV, SIG_DFL);
}

static void nested(int sig)
{
    depth++;
    if (depth > max_depth)
        max_depth = depth;
    /* Deferred, the raise is delivered after this handler returns. */
    if (++calls < 3)
        raise(sig);
    depth--;
}

static void check_mask(int sig, siginfo_t *si, void *ctx)
{
    sigset_t now;
    (void)si;
    (void)ctx;
    sigprocmask(SIG_BLOCK, NULL, &now);
    got = sig;
    code = sigismember(&now, SIGUSR1) * 10 + sigismember(&now, SIGUSR2);
}

static void block_after_return(int sig, siginfo_t *si, void *ctx)
{
    (void)si;
    got = sig;
    sigaddset(&((ucontext_t *)ctx)->uc_sigmask, SIGUSR2);
}

static void flags_and_masks(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = nested;
    sa.sa_flags = SA_NODEFER;
    sigaction(SIGUSR1, &sa, NULL);
    max_depth = depth = calls = 0;
    raise(SIGUSR1);
    printf("SA_NODEFER depth %d calls %d\n", max_depth, calls);
    sa.sa_flags = 0;
    sigaction(SIGUSR1, &sa, NULL);
    max_depth = depth = calls = 0;
    raise(SIGUSR1);
    printf("deferred depth %d calls %d\n", max_depth, calls);

    sa.sa_handler = count;
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    sigaction(SIGUSR1, NULL, &sa);
    printf("SA_RESETHAND: handler now default %d\n", sa.sa_handler == SIG_DFL);

    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = check_mask;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR2);
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    printf("mask in handler: usr1*10+usr2 = %d\n", code);

    sigset_t set, old, pend;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    signal(SIGUSR1, count);
    sigprocmask(SIG_BLOCK, &set, &old);
    got = 0;
    raise(SIGUSR1);
    raise(SIGUSR1);
    sigpending(&pend);
    printf("blocked: pending %d got %d\n", sigismember(&pend, SIGUSR1), got);
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("unblocked: got %d\n", got);

    sa.sa_sigaction = block_after_return;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    sigprocmask(SIG_BLOCK, NULL, &set);
    printf("uc_sigmask change kept: usr2 blocked %d\n", sigismember(&set, SIGUSR2));
    sigprocmask(SIG_SETMASK, &old, NULL);

    errno = 0;
    int r = sigaction(SIGKILL, &sa, NULL);
    printf("sigaction(SIGKILL) %d errno %d\n", r, errno);
    errno = 0;
    r = kill(getpid(), 65);
    printf("kill(sig 65) %d errno %d\n", r, errno);
    printf("kill(sig 0) %d\n", kill(getpid(), 0));
}

static void chld(int sig, siginfo_t *si, void *ctx)
{
    (void)ctx;
    got = sig;
    code = si->si_code * 1000 + si->si_status;
}

static void queued_and_children(void)
{
    sigset_t rt;
    sigemptyset(&rt);
    sigaddset(&rt, SIGRTMIN + 2);
    sigaddset(&rt, SIGUSR2);
    sigprocmask(SIG_BLOCK, &rt, NULL);
    for (int i = 0; i < 3; i++) {
        union sigval v = {.sival_int = 40 + i};
        sigqueue(getpid(), SIGRTMIN + 2, v);
        kill(getpid(), SIGUSR2);
    }
    siginfo_t si;
    int n;
    while ((n = sigtimedwait(&rt, &si, &(struct timespec){0, 0})) > 0)
        printf("sigtimedwait: %s value %d code %d\n", n == SIGUSR2 ? "SIGUSR2" : "SIGRTMIN+2",
               n == SIGUSR2 ? 0 : si.si_value.sival_int, si.si_code);
    printf("then %d errno %d\n", n, errno);

    on_sig(SIGCHLD, chld, SA_RESTART);
    got = 0;
    pid_t pid = fork();
    if (pid == 0)
        _exit(23);
    int st;
    waitpid(pid, &st, 0);
    printf("SIGCHLD got %d code*1000+status %d\n", got, code);

    sigset_t one, empty;
    sigemptyset(&one);
    sigaddset(&one, SIGUSR1);
    sigprocmask(SIG_BLOCK, &one, NULL);
    signal(SIGUSR1, count);
    /* The child's exit must not be what wakes sigsuspend: natively it can
     * exit before the parent suspends, and its SIGCHLD would race
     * SIGUSR1. With SIGCHLD at its default (ignored) only SIGUSR1 counts. */
    signal(SIGCHLD, SIG_DFL);
    pid = fork();
    if (pid == 0) {
        kill(getppid(), SIGUSR1);
        _exit(0);
    }
    sigemptyset(&empty);
    got = 0;
    int r = sigsuspend(&empty);
    printf("sigsuspend %d errno %d got %d\n", r, errno, got);
    waitpid(pid, &st, 0);
    pid = fork();
    if (pid == 0) {
        union sigval v = {.sival_int = 7};
        sigqueue(getppid(), SIGUSR1, v);
        _exit(0);
    }
    r = sigwaitinfo(&one, &si);
    printf("sigwaitinfo %d code %d value %d from child %d\n", r, si.si_code,
           si.si_value.sival_int, si.si_pid == pid);
    waitpid(pid, &st, 0);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A sigtimedwait that times out is over: the poll, select and
 * sigtimedwait after it wait for their own timeouts. */
static void timed_waits(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, NULL);
    struct timespec ten_ms = {0, 10000000};
    int r = sigtimedwait(&set, NULL, &ten_ms);
    printf("sigtimedwait timed out: %d %s\n", r, strerrorname_np(errno));
    int p[2];
    pipe(p);
    struct pollfd fd = {p[0], POLLIN, 0};
    double t0 = now_s();
    r = poll(&fd, 1, 200);
    printf("then poll: %d after its whole timeout %d\n", r, now_s() - t0 >= 0.19);
    sigtimedwait(&set, NULL, &ten_ms);
    struct timespec fifth = {0, 200000000};
    t0 = now_s();
    r = sigtimedwait(&set, NULL, &fifth);
    printf("then sigtimedwait: %d after its whole timeout %d\n", r, now_s() - t0 >= 0.19);
    close(p[0]);
    close(p[1]);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    faults();
    alternate_stack();
    flags_and_masks();
    queued_and_children();
    timed_waits();
    return 0;
}
