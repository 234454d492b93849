/* Futex edge cases through the raw system call: value mismatch, timeouts,
 * bad addresses, wake counts, requeue, bitsets, signals, process-shared
 * futexes in MAP_SHARED memory. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long futex(void *uaddr, int op, int val, const struct timespec *ts, void *uaddr2,
                  int val3)
{
    return syscall(SYS_futex, uaddr, op, val, ts, uaddr2, val3);
}

static void show(const char *what, long r)
{
    printf("%-36s %ld errno %d\n", what, r, r < 0 ? errno : 0);
}

static int word = 1, word2;
static atomic_int waiting, woken;

static void *waiter(void *arg)
{
    int *w = arg;
    atomic_fetch_add(&waiting, 1);
    while (futex(w, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0) != 0 && errno == EINTR)
        ;
    atomic_fetch_add(&woken, 1);
    return NULL;
}

/* Waits until `n` threads have announced they are about to wait, then
 * gives them time to block in the kernel. */
static void settle(int n)
{
    while (atomic_load(&waiting) < n)
        usleep(1000);
    usleep(100000);
}

static void simple_errors(void)
{
    int v = 5;
    struct timespec ms20 = {0, 20000000}, bad = {0, -1};
    errno = 0;
    show("WAIT value mismatch", futex(&v, FUTEX_WAIT, 4, NULL, NULL, 0));
    show("WAIT timeout", futex(&v, FUTEX_WAIT, 5, &ms20, NULL, 0));
    show("WAIT_PRIVATE timeout", futex(&v, FUTEX_WAIT_PRIVATE, 5, &ms20, NULL, 0));
    show("WAIT bad timeout", futex(&v, FUTEX_WAIT, 5, &bad, NULL, 0));
    show("WAKE nobody", futex(&v, FUTEX_WAKE, 10, NULL, NULL, 0));
    show("WAIT unaligned", futex((char *)&v + 1, FUTEX_WAIT, 5, NULL, NULL, 0));
    show("WAIT NULL", futex(NULL, FUTEX_WAIT, 0, NULL, NULL, 0));
    show("WAIT unmapped", futex((void *)0x1000, FUTEX_WAIT, 0, NULL, NULL, 0));
    show("WAIT_BITSET bitset 0", futex(&v, FUTEX_WAIT_BITSET, 5, NULL, NULL, 0));
    show("unknown op", futex(&v, 99, 0, NULL, NULL, 0));
    show("CMP_REQUEUE mismatch",
         futex(&v, FUTEX_CMP_REQUEUE, 1, (void *)1, &word2, 4));
    /* Absolute timeout in the past (WAIT_BITSET takes CLOCK_MONOTONIC). */
    struct timespec past = {1, 0};
    show("WAIT_BITSET past deadline",
         futex(&v, FUTEX_WAIT_BITSET, 5, &past, NULL, FUTEX_BITSET_MATCH_ANY));
}

static void wake_counts(void)
{
    pthread_t t[3];
    word = 1;
    waiting = woken = 0;
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, waiter, &word);
    settle(3);
    show("WAKE 2 of 3", futex(&word, FUTEX_WAKE_PRIVATE, 2, NULL, NULL, 0));
    while (atomic_load(&woken) < 2)
        usleep(1000);
    usleep(20000);
    printf("woken after WAKE 2: %d\n", (int)woken);
    word = 0;
    show("WAKE all", futex(&word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0));
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);

    word = 1;
    waiting = woken = 0;
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, waiter, &word);
    settle(3);
    show("CMP_REQUEUE wake 1 move 2",
         futex(&word, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)2, &word2, 1));
    while (atomic_load(&woken) < 1)
        usleep(1000);
    show("WAKE old word (moved away)", futex(&word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0));
    word = 0;
    show("WAKE requeue target", futex(&word2, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0));
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    printf("all woken %d\n", (int)woken);
}

static int bitword = 1;

static void *bit_waiter(void *arg)
{
    atomic_fetch_add(&waiting, 1);
    long r = futex(&bitword, FUTEX_WAIT_BITSET_PRIVATE, 1, NULL, NULL, (int)(intptr_t)arg);
    return (void *)r;
}

static void bitsets(void)
{
    pthread_t t;
    waiting = 0;
    pthread_create(&t, NULL, bit_waiter, (void *)2);
    settle(1);
    show("WAKE_BITSET other bits", futex(&bitword, FUTEX_WAKE_BITSET_PRIVATE, 1, NULL, NULL, 1));
    show("WAKE_BITSET matching", futex(&bitword, FUTEX_WAKE_BITSET_PRIVATE, 1, NULL, NULL, 6));
    pthread_join(t, NULL);
}

static void on_alarm(int sig)
{
    (void)sig;
}

static void interrupted(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 0}, {0, 30000}};
    setitimer(ITIMER_REAL, &it, NULL);
    int v = 0;
    show("WAIT interrupted by a signal", futex(&v, FUTEX_WAIT, 0, NULL, NULL, 0));
}

static void across_fork(void)
{
    int *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    shared[0] = 0;
    shared[1] = 0;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        /* Timed, so that a lost wake-up fails the test instead of hanging. */
        struct timespec ts = {2, 0};
        __atomic_store_n(&shared[1], 1, __ATOMIC_SEQ_CST);
        while (__atomic_load_n(&shared[0], __ATOMIC_SEQ_CST) == 0)
            if (futex(&shared[0], FUTEX_WAIT, 0, &ts, NULL, 0) < 0 && errno == ETIMEDOUT)
                _exit(99);
        _exit(shared[0]);
    }
    while (__atomic_load_n(&shared[1], __ATOMIC_SEQ_CST) == 0)
        usleep(1000);
    usleep(100000);
    __atomic_store_n(&shared[0], 33, __ATOMIC_SEQ_CST);
    show("shared WAKE across fork", futex(&shared[0], FUTEX_WAKE, 1, NULL, NULL, 0));
    int st;
    waitpid(pid, &st, 0);
    printf("child exit %d\n", WEXITSTATUS(st));
    /* A private wake does not reach a waiter in another process. */
    shared[0] = 0;
    shared[1] = 0;
    pid = fork();
    if (pid == 0) {
        __atomic_store_n(&shared[1], 1, __ATOMIC_SEQ_CST);
        struct timespec ts = {0, 300000000};
        long r = futex(&shared[0], FUTEX_WAIT, 0, &ts, NULL, 0);
        _exit(r < 0 && errno == ETIMEDOUT ? 1 : 2);
    }
    while (__atomic_load_n(&shared[1], __ATOMIC_SEQ_CST) == 0)
        usleep(1000);
    usleep(50000);
    show("PRIVATE WAKE of a shared waiter", futex(&shared[0], FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0));
    waitpid(pid, &st, 0);
    printf("child timed out %d\n", WEXITSTATUS(st) == 1);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    simple_errors();
    wake_counts();
    bitsets();
    interrupted();
    across_fork();
    return 0;
}
