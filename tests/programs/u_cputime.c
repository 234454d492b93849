/* CPU time has one source: after a busy loop, getrusage (self, thread),
 * times(), /proc/self/stat, CLOCK_THREAD_CPUTIME_ID and the clock of
 * clock_getcpuclockid agree with CLOCK_PROCESS_CPUTIME_ID; a reaped
 * child's time (and its own reaped child's) shows in wait4's rusage,
 * RUSAGE_CHILDREN and tms_cutime, the way bash's `time` reads it. Only
 * consistency is printed, never a duration. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MS 1000000LL

static long long clock_ns(clockid_t id)
{
    struct timespec t;
    if (clock_gettime(id, &t) != 0)
        return -1;
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static long long tv_ns(struct timeval t)
{
    return t.tv_sec * 1000000000LL + t.tv_usec * 1000LL;
}

static long long rusage_ns(int who)
{
    struct rusage ru;
    if (getrusage(who, &ru) != 0)
        return -1;
    return tv_ns(ru.ru_utime) + tv_ns(ru.ru_stime);
}

static long long ticks_ns(clock_t ticks)
{
    return (long long)ticks * 1000000000LL / sysconf(_SC_CLK_TCK);
}

/* Spins until the process has used `ms` more milliseconds of CPU. */
static volatile unsigned sink;
static void burn(long long ms)
{
    long long end = clock_ns(CLOCK_PROCESS_CPUTIME_ID) + ms * MS;
    while (clock_ns(CLOCK_PROCESS_CPUTIME_ID) < end)
        for (int i = 0; i < 10000; i++)
            sink += i;
}

/* Whether `v` lies in [lo - slack, hi + slack]. */
static int within(long long v, long long lo, long long hi, long long slack)
{
    return v >= lo - slack && v <= hi + slack;
}

/* utime + stime of /proc/self/stat (fields 14 and 15), in ns. */
static long long proc_stat_ns(void)
{
    FILE *f = fopen("/proc/self/stat", "r");
    if (!f)
        return -1;
    char buf[1024];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = buf;
    for (int field = 1; field < 14 && p; field++) {
        p = field == 2 ? strchr(p, ')') : p;
        p = p ? strchr(p + 1, ' ') : p;
    }
    unsigned long long ut, st;
    if (!p || sscanf(p, "%llu %llu", &ut, &st) != 2)
        return -1;
    return ticks_ns(ut + st);
}

static void own_time(void)
{
    burn(300);
    long long before = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    long long ru = rusage_ns(RUSAGE_SELF);
    long long ru_thread = rusage_ns(RUSAGE_THREAD);
    struct tms t;
    times(&t);
    long long tms = ticks_ns(t.tms_utime + t.tms_stime);
    long long stat = proc_stat_ns();
    long long thread = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    clockid_t mine;
    long long by_pid = -1;
    if (clock_getcpuclockid(getpid(), &mine) == 0)
        by_pid = clock_ns(mine);
    long long after = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    printf("process clock counted the loop: %d\n", before >= 300 * MS);
    printf("getrusage(SELF) matches the clock: %d\n", within(ru, before, after, MS));
    printf("getrusage(THREAD) matches the clock: %d\n", within(ru_thread, before, after, MS));
    /* Linux truncates user and system ticks separately and scales them
     * from sampled ticks: a few ticks of slack. */
    printf("times() matches the clock: %d\n", within(tms, before, after, 50 * MS));
    printf("/proc/self/stat matches the clock: %d\n", within(stat, before, after, 50 * MS));
    printf("thread clock matches: %d\n", within(thread, before, after, MS));
    printf("clock_getcpuclockid clock matches: %d\n", within(by_pid, before, after, MS));
    printf("times() children before any wait: %ld\n", (long)(t.tms_cutime + t.tms_cstime));
}

/* A child that burns `ms`, after waiting for a grandchild burning
 * `grand_ms` (if any); returns the child's wait4 rusage in ns. */
static long long child(long long ms, long long grand_ms)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (grand_ms)
            child(grand_ms, 0);
        burn(ms);
        _exit(0);
    }
    int status;
    struct rusage ru;
    wait4(pid, &status, 0, &ru);
    return tv_ns(ru.ru_utime) + tv_ns(ru.ru_stime);
}

static void children_time(void)
{
    long long own_before = rusage_ns(RUSAGE_SELF);
    long long waited = child(200, 100);
    long long children = rusage_ns(RUSAGE_CHILDREN);
    struct tms t;
    times(&t);
    long long cticks = ticks_ns(t.tms_cutime + t.tms_cstime);
    long long own_after = rusage_ns(RUSAGE_SELF);
    printf("wait4 rusage has the child and grandchild: %d\n", waited >= 300 * MS);
    printf("RUSAGE_CHILDREN equals wait4's rusage: %d\n", within(children, waited, waited, MS));
    printf("tms_cutime+tms_cstime match: %d\n", within(cticks, waited, waited, 50 * MS));
    /* The parent only waited: the children's loops are not its time. */
    printf("parent's own time stayed small: %d\n", own_after - own_before < 150 * MS);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    own_time();
    children_time();
    return 0;
}
