/* Readiness: poll, ppoll, select, pselect and epoll over pipes, socket
 * pairs, eventfd and timerfd; edge- and level-triggered epoll, EPOLLONESHOT,
 * EPOLLHUP on a closed writer, timeouts, and misuse errors. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#define E(x)                                                                 \
    do {                                                                     \
        errno = 0;                                                           \
        long r_ = (long)(x);                                                 \
        printf("%-58s = %ld errno %d\n", #x, r_, r_ < 0 ? errno : 0);        \
    } while (0)

static void show_revents(const char *what, struct pollfd *fds, int n)
{
    printf("%s:", what);
    for (int i = 0; i < n; i++)
        printf(" %#x", fds[i].revents);
    printf("\n");
}

static void polls(void)
{
    int p[2], sv[2];
    char c;
    pipe(p);
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    struct pollfd fds[5] = {
        {p[0], POLLIN, 0}, {p[1], POLLOUT, 0}, {sv[0], POLLIN | POLLOUT, 0}, {-1, POLLIN, 0},
        {999, POLLIN, 0}};
    E(poll(fds, 5, 0));
    show_revents("idle", fds, 5);
    write(p[1], "x", 1);
    write(sv[1], "y", 1);
    E(poll(fds, 5, 0));
    show_revents("data", fds, 5);
    read(p[0], &c, 1);
    close(p[1]);
    E(poll(fds, 1, 0));
    show_revents("writer closed", fds, 1);
    close(sv[1]);
    E(poll(&fds[2], 1, 0));
    show_revents("peer closed", &fds[2], 1);
    close(p[0]);
    close(sv[0]);

    pipe(p);
    struct pollfd one = {p[0], POLLIN, 0};
    E(poll(&one, 1, 30));
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        usleep(50000);
        write(p[1], "late", 4);
        _exit(0);
    }
    E(poll(&one, 1, 5000));
    show_revents("woken by a writer", &one, 1);
    waitpid(pid, NULL, 0);
    struct timespec ts = {0, 10000000};
    sigset_t mask;
    sigemptyset(&mask);
    char buf[8];
    read(p[0], buf, sizeof buf);
    E(ppoll(&one, 1, &ts, &mask));
    E(poll(NULL, 0, 20));
    close(p[0]);
    close(p[1]);
}

static void selects(void)
{
    int p[2];
    pipe(p);
    fd_set r, w;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_SET(p[0], &r);
    FD_SET(p[1], &w);
    struct timeval tv = {0, 0};
    E(select(p[1] + 1, &r, &w, NULL, &tv));
    printf("readable %d writable %d\n", FD_ISSET(p[0], &r), FD_ISSET(p[1], &w));
    write(p[1], "s", 1);
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    tv = (struct timeval){1, 0};
    E(select(p[0] + 1, &r, NULL, NULL, &tv));
    printf("readable %d\n", FD_ISSET(p[0], &r));
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    FD_SET(20, &r);
    tv = (struct timeval){0, 0};
    E(select(21, &r, NULL, NULL, &tv));
    tv = (struct timeval){0, 20000};
    E(select(0, NULL, NULL, NULL, &tv));
    printf("select timeout left %ld.%06ld\n", (long)tv.tv_sec, (long)tv.tv_usec);
    struct timespec ts = {0, 0};
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    E(pselect(p[0] + 1, &r, NULL, NULL, &ts, NULL));
    close(p[0]);
    close(p[1]);
}

static void show_events(const char *what, struct epoll_event *ev, int n)
{
    printf("%s: %d", what, n);
    for (int i = 0; i < n; i++)
        printf(" [data %d events %#x]", (int)ev[i].data.u32, ev[i].events);
    printf("\n");
}

static void epolls(void)
{
    int ep, p[2], q[2];
    struct epoll_event ev, out[8];
    E(ep = epoll_create1(EPOLL_CLOEXEC));
    pipe(p);
    pipe(q);
    ev = (struct epoll_event){.events = EPOLLIN, .data.u32 = 1};
    E(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
    E(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
    ev = (struct epoll_event){.events = EPOLLIN | EPOLLET, .data.u32 = 2};
    E(epoll_ctl(ep, EPOLL_CTL_ADD, q[0], &ev));
    ev = (struct epoll_event){.events = EPOLLOUT, .data.u32 = 3};
    E(epoll_ctl(ep, EPOLL_CTL_ADD, q[1], &ev));
    int n = epoll_wait(ep, out, 8, 0);
    show_events("only the writable end", out, n);
    write(p[1], "ab", 2);
    write(q[1], "cd", 2);
    ev = (struct epoll_event){.events = 0, .data.u32 = 3};
    E(epoll_ctl(ep, EPOLL_CTL_MOD, q[1], &ev));
    n = epoll_wait(ep, out, 8, 0);
    /* Order of ready events follows readiness order; sort by data. */
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (out[j].data.u32 < out[i].data.u32) {
                struct epoll_event t = out[i];
                out[i] = out[j];
                out[j] = t;
            }
    show_events("both readable", out, n);
    n = epoll_wait(ep, out, 8, 0);
    show_events("again: level-triggered stays, edge does not", out, n);
    write(q[1], "e", 1);
    n = epoll_wait(ep, out, 8, 0);
    show_events("new data re-arms the edge", out, n);
    char buf[8];
    read(p[0], buf, sizeof buf);
    read(q[0], buf, sizeof buf);
    E(epoll_ctl(ep, EPOLL_CTL_DEL, q[0], NULL));
    E(epoll_ctl(ep, EPOLL_CTL_DEL, q[0], NULL));
    ev = (struct epoll_event){.events = EPOLLIN | EPOLLONESHOT, .data.u32 = 4};
    E(epoll_ctl(ep, EPOLL_CTL_ADD, q[0], &ev));
    write(q[1], "f", 1);
    n = epoll_wait(ep, out, 8, 0);
    show_events("oneshot fires", out, n);
    n = epoll_wait(ep, out, 8, 0);
    show_events("oneshot disarmed", out, n);
    E(epoll_ctl(ep, EPOLL_CTL_MOD, q[0], &ev));
    n = epoll_wait(ep, out, 8, 0);
    show_events("re-armed by MOD", out, n);
    close(p[1]);
    n = epoll_wait(ep, out, 8, 0);
    show_events("pipe writer closed", out, n);
    E(epoll_wait(ep, out, 8, 20));
    E(epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev));
    int f = open("/dev/null", O_RDONLY);
    E(epoll_ctl(ep, EPOLL_CTL_ADD, f, &ev));
    E(epoll_wait(ep, out, 0, 0));
    E(epoll_wait(f, out, 1, 0));
    close(f);
    close(p[0]);
    close(q[0]);
    close(q[1]);
    close(ep);
}

static void event_and_timer_fds(void)
{
    int efd, tfd, ep;
    uint64_t v;
    E(efd = eventfd(3, EFD_NONBLOCK));
    E(read(efd, &v, sizeof v));
    printf("eventfd value %llu\n", (unsigned long long)v);
    E(read(efd, &v, sizeof v));
    v = 5;
    E(write(efd, &v, sizeof v));
    E(write(efd, &v, 4));
    E(close(efd));
    E(efd = eventfd(0, EFD_SEMAPHORE | EFD_NONBLOCK));
    v = 2;
    write(efd, &v, sizeof v);
    E(read(efd, &v, sizeof v));
    printf("semaphore read %llu\n", (unsigned long long)v);

    E(tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC));
    /* First expiry late enough that the eventfd is reported alone even
     * on a loaded machine, then every 10 ms. */
    struct itimerspec its = {{0, 10000000}, {0, 200000000}}, cur;
    E(timerfd_settime(tfd, 0, &its, NULL));
    E(ep = epoll_create1(0));
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 7}, out[4];
    E(epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev));
    E(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &(struct epoll_event){.events = EPOLLIN, .data.u32 = 8}));
    int n = epoll_wait(ep, out, 4, 0);
    show_events("eventfd ready first", out, n);
    read(efd, &v, sizeof v);
    n = epoll_wait(ep, out, 4, 5000);
    show_events("timerfd fired", out, n);
    usleep(30000);
    E(read(tfd, &v, sizeof v));
    printf("expirations >= 3: %d\n", v >= 3);
    E(timerfd_gettime(tfd, &cur));
    printf("interval %ld\n", cur.it_interval.tv_nsec);
    its = (struct itimerspec){{0, 0}, {0, 0}};
    E(timerfd_settime(tfd, 0, &its, NULL));
    int fl = fcntl(tfd, F_GETFL);
    fcntl(tfd, F_SETFL, fl | O_NONBLOCK);
    E(read(tfd, &v, sizeof v));
    close(tfd);
    close(efd);
    close(ep);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    polls();
    selects();
    epolls();
    event_and_timer_fds();
    return 0;
}
