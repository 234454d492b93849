/* Memory mappings: anonymous and file mappings, mprotect, mremap, partial
 * munmap, MAP_FIXED, shared vs private across fork, SIGBUS past EOF,
 * madvise, and the errno values of bad calls. argv[1]: a scratch dir. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096

static sigjmp_buf recover;
static volatile int fault_sig, fault_code;

static void on_fault(int sig, siginfo_t *si, void *ctx)
{
    (void)ctx;
    fault_sig = sig;
    fault_code = si->si_code;
    siglongjmp(recover, 1);
}

/* Touches `p` (read or write) and reports the signal it raised, if any. */
static void probe(const char *what, volatile char *p, int write)
{
    fault_sig = fault_code = 0;
    if (sigsetjmp(recover, 1) == 0) {
        if (write)
            *p = 1;
        else
            (void)*p;
    }
    printf("%-34s signal %d code %d\n", what, fault_sig, fault_code);
}

static void *map(size_t len, int prot, int flags, int fd, off_t off)
{
    return mmap(NULL, len, prot, flags, fd, off);
}

static void anonymous(void)
{
    char *p = map(4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int zero = 1;
    for (int i = 0; i < 4 * PAGE; i++)
        zero &= p[i] == 0;
    printf("anonymous memory is zero %d\n", zero);
    memset(p, 'a', 4 * PAGE);
    printf("mprotect read-only %d\n", mprotect(p + PAGE, PAGE, PROT_READ));
    probe("write to read-only page", p + PAGE, 1);
    probe("read of read-only page", p + PAGE, 0);
    printf("mprotect none %d\n", mprotect(p + 2 * PAGE, PAGE, PROT_NONE));
    probe("read of PROT_NONE page", p + 2 * PAGE, 0);
    mprotect(p + 2 * PAGE, PAGE, PROT_READ | PROT_WRITE);
    printf("PROT_NONE kept contents %d\n", p[2 * PAGE + 5] == 'a');
    printf("munmap middle page %d\n", munmap(p + PAGE, PAGE));
    probe("read of unmapped hole", p + PAGE, 0);
    probe("read after the hole", p + 2 * PAGE, 0);

    char *q = mmap(p + PAGE, PAGE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    printf("MAP_FIXED into the hole at the same address %d, zero %d\n", q == p + PAGE, q[7] == 0);
    q = mmap(p, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    printf("MAP_FIXED over data replaces it: %d\n", q == p && p[0] == 0);

    printf("madvise DONTNEED %d\n", madvise(p + 3 * PAGE, PAGE, MADV_DONTNEED));
    printf("anonymous page zero after DONTNEED %d\n", p[3 * PAGE] == 0);

    p[2 * PAGE] = 'x';
    char *r = mremap(p + 2 * PAGE, PAGE, 64 * PAGE, MREMAP_MAYMOVE);
    printf("mremap grow ok %d keeps data %d\n", r != MAP_FAILED, r[0] == 'x');
    r[63 * PAGE] = 'y';
    char *s = mremap(r, 64 * PAGE, 2 * PAGE, 0);
    printf("mremap shrink in place %d\n", s == r);
    probe("read past the shrunk end", r + 2 * PAGE, 0);
    errno = 0;
    s = mremap(r, 2 * PAGE, 1 << 30, 0);
    printf("mremap grow without MAYMOVE into used space: failed %d\n", s == MAP_FAILED);
    munmap(r, 2 * PAGE);
    munmap(p, 4 * PAGE);
}

static void errors(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/ro", dir);
    int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
    write(fd, "data", 4);
    close(fd);
    fd = open(path, O_RDONLY);
    struct {
        const char *what;
        size_t len;
        int prot, flags, fd;
        off_t off;
    } cases[] = {
        {"length 0", 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0},
        {"no MAP_PRIVATE/SHARED", PAGE, PROT_READ, MAP_ANONYMOUS, -1, 0},
        {"bad fd", PAGE, PROT_READ, MAP_PRIVATE, 999, 0},
        {"unaligned offset", PAGE, PROT_READ, MAP_PRIVATE, fd, 100},
        {"shared writable on O_RDONLY", PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0},
        {"private writable on O_RDONLY", PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0},
        {"a directory", PAGE, PROT_READ, MAP_PRIVATE, -2, 0},
    };
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    for (unsigned i = 0; i < sizeof cases / sizeof *cases; i++) {
        errno = 0;
        void *p = map(cases[i].len, cases[i].prot, cases[i].flags,
                      cases[i].fd == -2 ? dfd : cases[i].fd, cases[i].off);
        printf("mmap %-30s %s errno %d\n", cases[i].what, p == MAP_FAILED ? "fails" : "works",
               p == MAP_FAILED ? errno : 0);
    }
    char *p = map(PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    errno = 0;
    int r = munmap(p + 1, PAGE);
    printf("munmap unaligned %d errno %d\n", r, errno);
    errno = 0;
    r = mprotect(p + 1, PAGE, PROT_READ);
    printf("mprotect unaligned %d errno %d\n", r, errno);
    munmap(p, PAGE);
    errno = 0;
    r = mprotect(p, PAGE, PROT_READ);
    printf("mprotect unmapped %d errno %d\n", r, errno);
    printf("munmap unmapped %d\n", munmap(p, PAGE));
    /* An old length that rounds up to 4 GiB: the unmapped tail would end
     * past TASK_SIZE. */
    p = map(2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    errno = 0;
    void *m = mremap(p, 0xfffff001u, PAGE, 0);
    printf("mremap shrink from 4 GiB %s errno %d\n", m == MAP_FAILED ? "fails" : "works", errno);
    probe("its second page is still there", p + PAGE, 1);
    munmap(p, 2 * PAGE);
    close(fd);
    close(dfd);
}

static void files(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/mapped", dir);
    int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);
    char page[PAGE];
    for (int i = 0; i < 3; i++) {
        memset(page, 'A' + i, PAGE);
        write(fd, page, PAGE);
    }
    write(fd, "tail", 4);
    char *shared = map(4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    char *priv = map(2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, PAGE);
    printf("file maps: %c %c %c%c%c%c, private at offset: %c\n", shared[0], shared[PAGE],
           shared[3 * PAGE], shared[3 * PAGE + 1], shared[3 * PAGE + 2], shared[3 * PAGE + 3],
           priv[0]);
    printf("bytes after EOF in the last page are zero %d\n", shared[3 * PAGE + 4] == 0);
    shared[10] = 'z';
    char c = 0;
    pread(fd, &c, 1, 10);
    printf("write through MAP_SHARED seen by read: %c\n", c);
    pwrite(fd, "W", 1, PAGE + 1);
    printf("pwrite seen by shared %c and (untouched) private %c\n", shared[PAGE + 1], priv[1]);
    priv[2] = 'p';
    pread(fd, &c, 1, PAGE + 2);
    printf("private write stays private: file %c mapping %c\n", c, priv[2]);
    printf("msync %d\n", msync(shared, 4 * PAGE, MS_SYNC));
    char *beyond = map(2 * PAGE, PROT_READ, MAP_SHARED, fd, 4 * PAGE);
    probe("map wholly past EOF (SIGBUS)", beyond, 0);
    ftruncate(fd, PAGE);
    probe("page cut off by ftruncate", shared + 2 * PAGE, 0);
    ftruncate(fd, 4 * PAGE);
    printf("grown file reads zero through the map %d\n", shared[2 * PAGE] == 0);
    close(fd);
    shared[5] = 'q';
    fd = open(path, O_RDONLY);
    pread(fd, &c, 1, 5);
    printf("mapping outlives its fd: %c\n", c);
    munmap(shared, 4 * PAGE);
    munmap(priv, 2 * PAGE);
    munmap(beyond, 2 * PAGE);
    close(fd);
    unlink(path);
}

static void across_fork(void)
{
    int *shared = map(PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int *priv = map(PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    *shared = 1;
    *priv = 1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        *shared = 2;
        *priv = 2;
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("after fork: shared %d private %d\n", *shared, *priv);
    char *m = map(PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    strcpy(m, "before");
    madvise(m, PAGE, MADV_DONTFORK);
    pid = fork();
    if (pid == 0) {
        volatile char *v = m;
        signal(SIGSEGV, SIG_DFL);
        _exit(v[0] == 'b');
    }
    waitpid(pid, &st, 0);
    printf("MADV_DONTFORK child: %s\n",
           WIFSIGNALED(st) ? "killed" : WEXITSTATUS(st) ? "saw data" : "saw zero");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: u_mmap DIR\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    anonymous();
    errors(argv[1]);
    files(argv[1]);
    across_fork();
    return 0;
}
