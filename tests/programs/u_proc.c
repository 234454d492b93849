/* Processes: fork, exec, wait statuses, pipes, process groups.
 * Prints only what is deterministic (no pids, no timing). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void show_status(const char *what, int st)
{
    if (WIFEXITED(st))
        printf("%s: exited %d\n", what, WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        printf("%s: killed by %d\n", what, WTERMSIG(st));
    else if (WIFSTOPPED(st))
        printf("%s: stopped by %d\n", what, WSTOPSIG(st));
    else if (WIFCONTINUED(st))
        printf("%s: continued\n", what);
    else
        printf("%s: ??? %#x\n", what, st);
}

static volatile int *volatile null_page = (int *)8;

static int child_status(pid_t pid)
{
    int st = -1;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return st;
}

static void exit_codes(void)
{
    static const int codes[] = {0, 1, 42, 255, 256 + 7};
    for (unsigned i = 0; i < sizeof codes / sizeof *codes; i++) {
        pid_t pid = fork();
        if (pid == 0)
            _exit(codes[i]);
        char what[32];
        snprintf(what, sizeof what, "_exit(%d)", codes[i]);
        show_status(what, child_status(pid));
    }
    static const int sigs[] = {SIGTERM, SIGKILL, SIGUSR1, SIGSEGV, SIGABRT};
    for (unsigned i = 0; i < sizeof sigs / sizeof *sigs; i++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            if (sigs[i] == SIGSEGV)
                *null_page = 1;
            if (sigs[i] == SIGABRT)
                abort();
            raise(sigs[i]);
            _exit(99);
        }
        char what[32];
        snprintf(what, sizeof what, "signal %d", sigs[i]);
        show_status(what, child_status(pid));
    }
}

static void stop_and_continue(void)
{
    /* The child waits for "go" after it is continued, so it cannot exit
     * before the parent has seen it continue (natively the two run on
     * separate CPUs: without this the exit could come first). */
    int go[2];
    pipe(go);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        char c;
        close(go[1]);
        raise(SIGSTOP);
        read(go[0], &c, 1);
        _exit(3);
    }
    close(go[0]);
    int st;
    waitpid(pid, &st, WUNTRACED);
    show_status("WUNTRACED", st);
    kill(pid, SIGCONT);
    waitpid(pid, &st, WCONTINUED);
    show_status("WCONTINUED", st);
    write(go[1], "g", 1);
    close(go[1]);
    show_status("after continue", child_status(pid));
}

static void wnohang_and_waitid(void)
{
    int go[2];
    pipe(go);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        char c;
        close(go[1]);
        read(go[0], &c, 1);
        _exit(c);
    }
    close(go[0]);
    int st;
    printf("WNOHANG while running: %d\n", (int)waitpid(pid, &st, WNOHANG));
    write(go[1], "\x05", 1);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int r = waitid(P_PID, pid, &si, WEXITED);
    printf("waitid %d code %d status %d pid ok %d\n", r, si.si_code, si.si_status,
           si.si_pid == pid);
    errno = 0;
    int none = wait(&st);
    printf("wait with no children: %d errno %d\n", none, errno);
    close(go[1]);
}

static void pipes(void)
{
    int p[2];
    printf("pipe2 %d\n", pipe2(p, O_CLOEXEC | O_NONBLOCK));
    printf("cloexec %d nonblock %d\n", fcntl(p[0], F_GETFD) & FD_CLOEXEC,
           !!(fcntl(p[1], F_GETFL) & O_NONBLOCK));
    char buf[4096];
    memset(buf, 'p', sizeof buf);
    long total = 0;
    for (;;) {
        ssize_t n = write(p[1], buf, sizeof buf);
        if (n < 0)
            break;
        total += n;
    }
    printf("pipe filled with %ld bytes, then errno %d\n", total, errno);
    errno = 0;
    char c;
    long drained = 0;
    ssize_t n;
    while ((n = read(p[0], buf, sizeof buf)) > 0)
        drained += n;
    printf("drained %ld, then read %d errno %d\n", drained, (int)n, errno);
    close(p[1]);
    printf("read at EOF %d\n", (int)read(p[0], &c, 1));
    close(p[0]);

    /* Writing to a pipe without readers: EPIPE when SIGPIPE is ignored,
     * death by SIGPIPE otherwise. */
    pipe(p);
    close(p[0]);
    signal(SIGPIPE, SIG_IGN);
    errno = 0;
    int wr = write(p[1], "x", 1);
    printf("write without reader: %d errno %d\n", wr, errno);
    signal(SIGPIPE, SIG_DFL);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        write(p[1], "x", 1);
        _exit(0);
    }
    show_status("SIGPIPE child", child_status(pid));
    close(p[1]);

    /* A pipeline of two children: the first writes, the second counts. */
    int q[2], r[2];
    pipe(q);
    pipe(r);
    fflush(stdout);
    pid_t w = fork();
    if (w == 0) {
        close(q[0]);
        for (int i = 0; i < 1000; i++)
            dprintf(q[1], "line %d\n", i);
        _exit(0);
    }
    pid_t c2 = fork();
    if (c2 == 0) {
        close(q[1]);
        close(r[0]);
        long bytes = 0, lines = 0;
        while ((n = read(q[0], buf, sizeof buf)) > 0) {
            bytes += n;
            for (ssize_t i = 0; i < n; i++)
                lines += buf[i] == '\n';
        }
        dprintf(r[1], "%ld bytes %ld lines", bytes, lines);
        _exit(0);
    }
    close(q[0]);
    close(q[1]);
    close(r[1]);
    n = read(r[0], buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    printf("pipeline: %s\n", buf);
    child_status(w);
    child_status(c2);
    close(r[0]);
}

static void exec_tests(const char *self)
{
    int keep = open("/dev/null", O_RDONLY);
    int gone = open("/dev/null", O_RDONLY | O_CLOEXEC);
    char a[16], b[16];
    snprintf(a, sizeof a, "%d", keep);
    snprintf(b, sizeof b, "%d", gone);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        char *argv[] = {"renamed-argv0", "exec-child", a, b, "last arg", NULL};
        char *envp[] = {"WAXU=value with = sign", "EMPTY=", NULL};
        execve(self, argv, envp);
        _exit(100 + errno);
    }
    show_status("exec child", child_status(pid));
    close(keep);
    close(gone);
    char *argv[] = {"x", NULL};
    static const char *bad[] = {"/nonexistent/prog", "/", "/dev/null", "/proc/self/cwd/"};
    for (unsigned i = 0; i < sizeof bad / sizeof *bad; i++) {
        errno = 0;
        int r = execve(bad[i], argv, environ);
        printf("execve(%s) = %d errno %d\n", bad[i], r, errno);
    }
}

static int exec_child(int argc, char **argv)
{
    printf("  child argc %d argv0 %s", argc, argv[0]);
    for (int i = 1; i < argc; i++)
        printf(" [%s]", argv[i]);
    printf("\n  env WAXU=%s EMPTY=%s HOME=%s\n", getenv("WAXU"), getenv("EMPTY"),
           getenv("HOME") ? "set" : "unset");
    errno = 0;
    int kept = fcntl(atoi(argv[2]), F_GETFD);
    int e1 = errno;
    errno = 0;
    int closed = fcntl(atoi(argv[3]), F_GETFD);
    printf("  inherited fd %d/%d, cloexec fd %d/%d\n", kept, e1, closed, errno);
    fflush(stdout);
    return 17;
}

static void spawn_and_vfork(const char *self)
{
    fflush(stdout);
    pid_t pid;
    char *argv[] = {"spawned", "exec-child", "0", "99", NULL};
    char *envp[] = {"WAXU=spawn", NULL};
    int r = posix_spawn(&pid, self, NULL, NULL, argv, envp);
    show_status("spawned", child_status(pid));
    printf("posix_spawn %d\n", r);
    volatile int shared = 1;
    pid = vfork();
    if (pid == 0) {
        shared = 2; /* vfork shares memory until _exit */
        _exit(9);
    }
    show_status("vfork child", child_status(pid));
    printf("vfork shared %d\n", shared);
}

static void groups_and_sessions(void)
{
    int p[2];
    pipe(p);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        pid_t sid = setsid();
        int ok = sid == getpid() && getpgrp() == getpid() && getsid(0) == getpid();
        errno = 0;
        int again = setsid();
        dprintf(p[1], "setsid ok %d, second setsid %d errno %d; ppid ok %d", ok, again, errno,
                getppid() != getpid());
        _exit(0);
    }
    close(p[1]);
    char buf[200];
    int n = read(p[0], buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    printf("%s\n", buf);
    child_status(pid);
    close(p[0]);
    pid = fork();
    if (pid == 0) {
        pause();
        _exit(0);
    }
    printf("setpgid %d\n", setpgid(pid, pid));
    printf("child pgid is its pid %d\n", getpgid(pid) == pid);
    printf("killpg %d\n", killpg(pid, SIGHUP));
    show_status("killpg child", child_status(pid));
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "exec-child") == 0)
        return exec_child(argc, argv);
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = 0;
    exit_codes();
    stop_and_continue();
    wnohang_and_waitid();
    pipes();
    exec_tests(self);
    spawn_and_vfork(self);
    groups_and_sessions();
    return 0;
}
