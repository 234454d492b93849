/* Resource limits start from the host's, as for any program the host
 * starts: every RLIMIT_* through getrlimit, prlimit64 and the raw
 * ugetrlimit call, then the descriptor limit at work (open, dup2,
 * F_DUPFD and poll at the soft limit) after lowering it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *names[] = {
    "CPU",  "FSIZE",   "DATA",       "STACK",    "CORE", "RSS",    "NPROC",  "NOFILE",
    "MEMLOCK", "AS", "LOCKS", "SIGPENDING", "MSGQUEUE", "NICE", "RTPRIO", "RTTIME",
};

/* Prints a call's result and errno (read after the call). */
static void result(const char *what, long r)
{
    printf("%s: %ld errno %d\n", what, r, r < 0 ? errno : 0);
}

static void show(unsigned long long v)
{
    if (v == (unsigned long long)RLIM64_INFINITY)
        printf(" unlimited");
    else
        printf(" %llu", v);
}

static void all_limits(void)
{
    for (int r = 0; r < 16; r++) {
        struct rlimit64 l64;
        struct rlimit l;
        uint32_t raw[2];
        int a = prlimit64(0, r, NULL, &l64);
        int b = getrlimit(r, &l);
        long c = syscall(SYS_ugetrlimit, r, raw);
        printf("%-10s %d %d %ld:", names[r], a, b, c);
        show(l64.rlim_cur);
        show(l64.rlim_max);
        printf(" |%s", l.rlim_cur == RLIM_INFINITY ? " unlimited" : "");
        if (l.rlim_cur != RLIM_INFINITY)
            printf(" %lu", (unsigned long)l.rlim_cur);
        printf(" | %#x %#x\n", raw[0], raw[1]);
    }
    struct rlimit64 bad;
    result("resource 16", prlimit64(0, 16, NULL, &bad));
}

/* With a soft limit of `soft` descriptors. */
static void nofile_at_work(int soft)
{
    struct rlimit l;
    getrlimit(RLIMIT_NOFILE, &l);
    l.rlim_cur = soft;
    result("lower the soft limit", setrlimit(RLIMIT_NOFILE, &l));
    int last = -1, fd;
    while ((fd = open("/dev/null", O_RDONLY)) >= 0)
        last = fd;
    printf("open until it fails: last %d errno %d\n", last, errno);
    result("dup2 to soft-1", dup2(0, soft - 1));
    result("dup2 to soft", dup2(0, soft));
    result("F_DUPFD from soft", fcntl(0, F_DUPFD, soft));
    static struct pollfd p[1024];
    result("poll with soft+1 entries", poll(p, soft + 1, 0));
    for (int i = 3; i < soft; i++)
        close(i);
    l.rlim_cur = l.rlim_max + (l.rlim_max != RLIM_INFINITY);
    result("soft above hard", setrlimit(RLIMIT_NOFILE, &l));
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    all_limits();
    nofile_at_work(40);
    return 0;
}
