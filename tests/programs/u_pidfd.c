/* pidfds: pidfd_open, poll on one, pidfd_send_signal, waitid(P_PIDFD),
 * pidfd_getfd, and what each says about a process that has exited or
 * been waited for. Prints only deterministic facts. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK O_NONBLOCK
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static int pidfd_open(pid_t pid, unsigned flags) {
    return syscall(SYS_pidfd_open, pid, flags);
}

static int pidfd_send_signal(int fd, int sig, siginfo_t *info, unsigned flags) {
    return syscall(SYS_pidfd_send_signal, fd, sig, info, flags);
}

static int pidfd_getfd(int pidfd, int fd, unsigned flags) {
    return syscall(SYS_pidfd_getfd, pidfd, fd, flags);
}

static void result(const char *what, long r) {
    if (r < 0)
        printf("%s: -1 %s\n", what, strerror(errno));
    else
        printf("%s: ok\n", what);
}

static int readable(int fd, int ms) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int n = poll(&p, 1, ms);
    return n == 1 && (p.revents & POLLIN);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    int ready[2];
    if (pipe(ready))
        return 1;
    pid_t child = fork();
    if (child == 0) {
        close(ready[0]);
        write(ready[1], "r", 1);
        for (;;)
            pause();
    }
    char c;
    read(ready[0], &c, 1);

    int fd = pidfd_open(child, 0);
    result("pidfd_open", fd);
    int flags = fcntl(fd, F_GETFD);
    printf("close-on-exec: %d\n", (flags & FD_CLOEXEC) != 0);
    char link[64] = {0}, path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    readlink(path, link, sizeof link - 1);
    printf("link: %s\n", link);
    printf("readable while running: %d\n", readable(fd, 0));
    char buf[8];
    result("read", read(fd, buf, sizeof buf));

    /* Another process's descriptor: the child's end of the pipe. */
    int got = pidfd_getfd(fd, ready[1], 0);
    result("pidfd_getfd", got);
    printf("copy is close-on-exec: %d\n", (fcntl(got, F_GETFD) & FD_CLOEXEC) != 0);
    write(got, "x", 1);
    read(ready[0], &c, 1);
    printf("through the copy: %c\n", c);
    result("pidfd_getfd of a closed fd", pidfd_getfd(fd, 999, 0));
    result("pidfd_getfd with flags", pidfd_getfd(fd, ready[1], 1));

    result("pidfd_send_signal 0", pidfd_send_signal(fd, 0, NULL, 0));
    result("pidfd_send_signal flags", pidfd_send_signal(fd, SIGTERM, NULL, 8));
    result("pidfd_send_signal on a pipe", pidfd_send_signal(ready[0], SIGTERM, NULL, 0));
    result("pidfd_send_signal SIGTERM", pidfd_send_signal(fd, SIGTERM, NULL, 0));
    printf("readable after exit: %d\n", readable(fd, 5000));

    siginfo_t si;
    memset(&si, 0, sizeof si);
    result("waitid P_PIDFD", waitid(P_PIDFD, fd, &si, WEXITED));
    printf("si_pid is the child: %d, code %s, status %d\n", si.si_pid == child,
           si.si_code == CLD_KILLED ? "CLD_KILLED" : "other", si.si_status);
    result("pidfd_send_signal after wait", pidfd_send_signal(fd, SIGTERM, NULL, 0));
    result("waitid again", waitid(P_PIDFD, fd, &si, WEXITED | WNOHANG));
    result("pidfd_getfd after wait", pidfd_getfd(fd, 0, 0));

    /* A child that exits by itself, waited for through the pidfd. */
    pid_t quick = fork();
    if (quick == 0)
        _exit(7);
    int qfd = pidfd_open(quick, PIDFD_NONBLOCK);
    result("pidfd_open PIDFD_NONBLOCK", qfd);
    printf("O_NONBLOCK: %d\n", (fcntl(qfd, F_GETFL) & O_NONBLOCK) != 0);
    printf("readable: %d\n", readable(qfd, 5000));
    memset(&si, 0, sizeof si);
    result("waitid", waitid(P_PIDFD, qfd, &si, WEXITED));
    printf("code %s, status %d\n", si.si_code == CLD_EXITED ? "CLD_EXITED" : "other", si.si_status);

    result("pidfd_open of no process", pidfd_open(0x3fffff00, 0));
    result("pidfd_open pid 0", pidfd_open(0, 0));
    result("pidfd_open bad flags", pidfd_open(getpid(), 1));
    int self = pidfd_open(getpid(), 0);
    result("pidfd_open self", self);
    printf("self readable: %d\n", readable(self, 0));
    result("waitid P_PIDFD on a non-child", waitid(P_PIDFD, self, &si, WEXITED | WNOHANG));
    result("waitid P_PIDFD on a pipe", waitid(P_PIDFD, ready[0], &si, WEXITED | WNOHANG));

    /* pidfd_send_signal also takes a /proc/PID directory (CPython's
     * test_signal does this); waitid does not, nor another directory. */
    snprintf(path, sizeof path, "/proc/%d", (int)getpid());
    int dir = open(path, O_RDONLY | O_DIRECTORY);
    result("open /proc/PID", dir);
    result("pidfd_send_signal on /proc/PID", pidfd_send_signal(dir, 0, NULL, 0));
    result("waitid P_PIDFD on /proc/PID", waitid(P_PIDFD, dir, &si, WEXITED | WNOHANG));
    int root = open("/", O_RDONLY | O_DIRECTORY);
    result("pidfd_send_signal on /", pidfd_send_signal(root, 0, NULL, 0));
    int proc = open("/proc", O_RDONLY | O_DIRECTORY);
    result("pidfd_send_signal on /proc", pidfd_send_signal(proc, 0, NULL, 0));
    return 0;
}
