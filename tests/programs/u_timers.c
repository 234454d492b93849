/* Timers and sleeps: alarm, interval timers, POSIX timers, EINTR and
 * SA_RESTART, absolute clock_nanosleep. Only counts and bounds are printed,
 * never measured times. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t ticks, got;
static volatile int value;

static void tick(int sig)
{
    got = sig;
    ticks++;
}

static void with_value(int sig, siginfo_t *si, void *ctx)
{
    (void)ctx;
    got = sig;
    value = si->si_value.sival_int;
    ticks++;
}

static long long now_ns(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void handle(int sig, int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = tick;
    sa.sa_flags = flags;
    sigaction(sig, &sa, NULL);
}

static void alarm_and_sleep(void)
{
    handle(SIGALRM, 0);
    printf("alarm(5) previous %u\n", alarm(5));
    unsigned left = alarm(1);
    printf("alarm(1) previous in 4..5: %d\n", left >= 4 && left <= 5);
    struct timespec req = {5, 0}, rem = {0, 0};
    long long t0 = now_ns(CLOCK_MONOTONIC);
    errno = 0;
    int r = nanosleep(&req, &rem);
    long long took = now_ns(CLOCK_MONOTONIC) - t0;
    printf("nanosleep interrupted %d errno %d got %d rem in 3..5 %d slept >= 0.9s %d\n", r,
           errno, got, rem.tv_sec >= 3 && rem.tv_sec <= 5, took >= 900000000LL);
    t0 = now_ns(CLOCK_MONOTONIC);
    req = (struct timespec){0, 30000000};
    r = nanosleep(&req, NULL);
    took = now_ns(CLOCK_MONOTONIC) - t0;
    printf("nanosleep 30ms %d, >= 30ms %d\n", r, took >= 30000000LL);
    struct timespec abs;
    clock_gettime(CLOCK_MONOTONIC, &abs);
    abs.tv_nsec += 20000000;
    if (abs.tv_nsec >= 1000000000) {
        abs.tv_sec++;
        abs.tv_nsec -= 1000000000;
    }
    r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, NULL);
    printf("clock_nanosleep absolute %d, reached %d\n", r,
           now_ns(CLOCK_MONOTONIC) >= abs.tv_sec * 1000000000LL + abs.tv_nsec);
    req = (struct timespec){0, 1000000000};
    errno = 0;
    r = nanosleep(&req, NULL);
    printf("nanosleep bad tv_nsec %d errno %d\n", r, errno);
    struct timespec res;
    clock_getres(CLOCK_MONOTONIC, &res);
    printf("clock_getres monotonic <= 1ms %d\n", res.tv_sec == 0 && res.tv_nsec <= 1000000);
    printf("monotonic moves %d\n", now_ns(CLOCK_MONOTONIC) > t0);
    printf("realtime after 2020 %d\n", now_ns(CLOCK_REALTIME) > 1577836800LL * 1000000000LL);
}

static void interval_timers(void)
{
    handle(SIGALRM, SA_RESTART);
    ticks = 0;
    struct itimerval it = {{0, 10000}, {0, 10000}}, cur;
    printf("setitimer %d\n", setitimer(ITIMER_REAL, &it, NULL));
    getitimer(ITIMER_REAL, &cur);
    printf("getitimer interval %ld value <= 10ms %d\n", (long)cur.it_interval.tv_usec,
           cur.it_value.tv_sec == 0 && cur.it_value.tv_usec <= 10000);
    sigset_t none;
    sigemptyset(&none);
    while (ticks < 5)
        sigsuspend(&none);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, &cur);
    printf("5 ticks seen; old interval %ld\n", (long)cur.it_interval.tv_usec);
    getitimer(ITIMER_REAL, &cur);
    printf("disarmed %d\n", cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0);

    /* ITIMER_PROF counts CPU time: burn CPU until it fires. */
    handle(SIGPROF, 0);
    got = 0;
    struct itimerval prof = {{0, 0}, {0, 20000}};
    setitimer(ITIMER_PROF, &prof, NULL);
    volatile unsigned long spin = 0;
    while (!got)
        spin++;
    printf("ITIMER_PROF fired %d\n", got);
}

static void interrupted_reads(void)
{
    int p[2];
    pipe(p);
    char c;
    handle(SIGALRM, 0);
    struct itimerval once = {{0, 0}, {0, 50000}};
    setitimer(ITIMER_REAL, &once, NULL);
    errno = 0;
    int r = read(p[0], &c, 1);
    printf("read without SA_RESTART: %d errno %d\n", r, errno);

    handle(SIGALRM, SA_RESTART);
    ticks = 0;
    setitimer(ITIMER_REAL, &once, NULL);
    pid_t pid = fork();
    if (pid == 0) {
        usleep(300000);
        write(p[1], "z", 1);
        _exit(0);
    }
    r = read(p[0], &c, 1);
    printf("read with SA_RESTART: %d '%c' ticks %d\n", r, c, ticks);
}

static void posix_timers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = with_value;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGRTMIN, &sa, NULL);
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = SIGRTMIN;
    sev.sigev_value.sival_int = 77;
    timer_t t;
    printf("timer_create %d\n", timer_create(CLOCK_MONOTONIC, &sev, &t));
    struct itimerspec its = {{0, 5000000}, {0, 5000000}}, cur;
    ticks = 0;
    printf("timer_settime %d\n", timer_settime(t, 0, &its, NULL));
    timer_gettime(t, &cur);
    printf("timer_gettime interval %ld\n", cur.it_interval.tv_nsec);
    sigset_t none;
    sigemptyset(&none);
    while (ticks < 3)
        sigsuspend(&none);
    printf("3 timer signals, value %d\n", value);
    printf("timer_delete %d\n", timer_delete(t));
    errno = 0;
    int r = timer_settime(t, 0, &its, NULL);
    printf("settime after delete %d errno %d\n", r, errno);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    alarm_and_sleep();
    interval_timers();
    interrupted_reads();
    posix_timers();
    return 0;
}
