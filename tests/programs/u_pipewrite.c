/* Blocking writes to a pipe move every byte: write(2) and writev(2) of
 * more than the pipe holds return only when all of it is in, however slow
 * the reader; a signal that interrupts such a write after some bytes went
 * in makes it return their count (with or without SA_RESTART), and one
 * that interrupts it before any went in gives EINTR; a non-blocking write
 * takes what fits; a reader that goes away makes the write return what it
 * moved and raises SIGPIPE. Prints only deterministic facts. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define BIG 1000000

static unsigned char byte_at(long i) { return (unsigned char)(i * 131 + (i >> 9)); }

static unsigned char data[BIG];
static volatile sig_atomic_t alarms, pipes;

static void on_alarm(int s) { (void)s; alarms++; }
static void on_pipe(int s) { (void)s; pipes++; }

/* A child that reads `want` bytes slowly and exits 0 if every one is
 * right. */
static pid_t slow_reader(int rd, int wr, long want) {
    pid_t pid = fork();
    if (pid == 0) {
        close(wr);
        static unsigned char buf[5000];
        long got = 0;
        ssize_t n;
        while (got < want && (n = read(rd, buf, want - got < 5000 ? want - got : 5000)) > 0) {
            for (ssize_t j = 0; j < n; j++)
                if (buf[j] != byte_at(got + j))
                    _exit(2);
            got += n;
            usleep(100);
        }
        _exit(got == want ? 0 : 3);
    }
    return pid;
}

static int reader_status(pid_t pid) {
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st);
}

static void arm(long usec) {
    struct itimerval it = {{0, 0}, {0, usec}};
    setitimer(ITIMER_REAL, &it, NULL);
}

static void handle(int sig, void (*fn)(int), int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sa.sa_flags = flags;
    sigaction(sig, &sa, NULL);
}

int main(void) {
    for (long i = 0; i < BIG; i++)
        data[i] = byte_at(i);
    int p[2];

    pipe(p);
    pid_t r = slow_reader(p[0], p[1], BIG);
    close(p[0]);
    printf("write %d bytes: %zd\n", BIG, write(p[1], data, BIG));
    close(p[1]);
    printf("  reader: %d\n", reader_status(r));

    pipe(p);
    r = slow_reader(p[0], p[1], BIG);
    close(p[0]);
    struct iovec iov[3] = {{data, 1000}, {data + 1000, 400000}, {data + 401000, BIG - 401000}};
    printf("writev %d bytes: %zd\n", BIG, writev(p[1], iov, 3));
    close(p[1]);
    printf("  reader: %d\n", reader_status(r));

    /* Nobody reads: 64 KiB go in, then the alarm ends the wait. */
    for (int restart = 0; restart < 2; restart++) {
        handle(SIGALRM, on_alarm, restart ? SA_RESTART : 0);
        pipe(p);
        arm(50000);
        ssize_t n = write(p[1], data, 300000);
        printf("interrupted write (%s): %zd, alarms %d\n", restart ? "SA_RESTART" : "no SA_RESTART",
               n, (int)alarms);
        close(p[0]);
        close(p[1]);
    }

    /* A full pipe: the alarm comes before any byte went in. */
    handle(SIGALRM, on_alarm, 0);
    pipe(p);
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    ssize_t n = write(p[1], data, 300000);
    printf("non-blocking write into an empty pipe: %zd\n", n);
    errno = 0;
    n = write(p[1], data, 10);
    printf("non-blocking write into a full pipe: %zd %s\n", n, strerror(errno));
    fcntl(p[1], F_SETFL, 0);
    arm(50000);
    errno = 0;
    n = write(p[1], data, 300000);
    printf("interrupted write into a full pipe: %zd %s\n", n, strerror(errno));
    close(p[0]);
    close(p[1]);

    /* The reader takes 100000 bytes and goes: the writer gets back what
     * it moved (at least that much, less than all) and one SIGPIPE. */
    handle(SIGPIPE, on_pipe, 0);
    pipe(p);
    r = slow_reader(p[0], p[1], 100000);
    close(p[0]);
    n = write(p[1], data, BIG);
    printf("write to a reader that leaves: %s, SIGPIPE %d\n",
           n >= 100000 && n < BIG ? "partial count" : "wrong count", (int)pipes);
    printf("  reader: %d\n", reader_status(r));
    errno = 0;
    n = write(p[1], data, 10);
    printf("write after: %zd %s, SIGPIPE %d\n", n, strerror(errno), (int)pipes);
    return 0;
}
