/* sysinfo(2) against /proc: uptime, load averages, memory, and the task
 * count. Without arguments it prints only facts that hold on any machine
 * (compared with native). With "counts" it prints sysinfo's procs as the
 * program forks, starts a thread, leaves a zombie and reaps it: the
 * machine-wide number of tasks, which only under wax is this program's
 * own (checked there against exact values). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <unistd.h>

static struct sysinfo info(void)
{
    struct sysinfo s;
    if (sysinfo(&s) != 0) {
        perror("sysinfo");
        exit(1);
    }
    return s;
}

/* The value after `key` in /proc/meminfo, in bytes. */
static unsigned long long meminfo(const char *key)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    unsigned long long kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, strlen(key)) == 0 && line[strlen(key)] == ':')
            sscanf(line + strlen(key) + 1, "%llu", &kb);
    if (f)
        fclose(f);
    return kb * 1024;
}

static double proc_number(const char *path)
{
    FILE *f = fopen(path, "r");
    double v = -1;
    if (f) {
        if (fscanf(f, "%lf", &v) != 1)
            v = -1;
        fclose(f);
    }
    return v;
}

static void consistency(void)
{
    struct sysinfo s = info();
    double up = proc_number("/proc/uptime");
    double load = proc_number("/proc/loadavg");
    unsigned long long unit = s.mem_unit;
    unsigned long long total = s.totalram * unit, mem_total = meminfo("MemTotal");
    printf("uptime matches /proc/uptime: %d\n", s.uptime >= (long)up - 1 && s.uptime <= (long)up + 1);
    printf("1-minute load near /proc/loadavg: %d\n", s.loads[0] / 65536.0 - load < 0.5 &&
                                                         load - s.loads[0] / 65536.0 < 0.5);
    printf("mem_unit is a power of two: %d\n", unit && (unit & (unit - 1)) == 0);
    printf("totalram matches MemTotal: %d\n", total <= mem_total && mem_total - total < unit);
    printf("free <= total: %d\n", s.freeram <= s.totalram);
    printf("free swap <= swap: %d\n", s.freeswap <= s.totalswap);
    printf("at least this process: %d\n", s.procs >= 1);
}

static int hold[2];

static void *blocked(void *arg)
{
    (void)arg;
    char c;
    read(hold[0], &c, 1);
    return NULL;
}

static void counts(void)
{
    printf("start %d\n", info().procs);
    pipe(hold);
    pid_t child = fork();
    if (child == 0) {
        char c;
        read(hold[0], &c, 1);
        _exit(0);
    }
    printf("fork %d\n", info().procs);
    pthread_t t;
    pthread_create(&t, NULL, blocked, NULL);
    printf("thread %d\n", info().procs);
    write(hold[1], "xx", 2);
    siginfo_t si;
    waitid(P_PID, child, &si, WEXITED | WNOWAIT);
    pthread_join(t, NULL);
    printf("zombie child, thread joined %d\n", info().procs);
    waitpid(child, NULL, 0);
    printf("reaped %d\n", info().procs);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1 && strcmp(argv[1], "counts") == 0)
        counts();
    else
        consistency();
    return 0;
}
