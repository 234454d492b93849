/* Shared memory the usual way: mkstemp in a directory (argv[1], /tmp by
 * default), unlink, ftruncate to two pages, then MAP_SHARED mappings of
 * the descriptor. The inode lives only through the open descriptor.
 * Checks: two mappings see each other's stores, read(2)/write(2) agree
 * with them, a forked child's stores reach the parent, munmap and a new
 * mapping keep the contents, growing the file with ftruncate, mremap of
 * a shared mapping (still shared), a new file at the unlinked name (another
 * file), and mremap over a range with a hole (EFAULT, as Linux). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096

static char *map_shared(int fd, size_t len, off_t off)
{
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
    if (p == MAP_FAILED) {
        printf("mmap failed: %s\n", strerror(errno));
        exit(1);
    }
    return p;
}

static int make_unlinked(const char *dir, char *path, size_t size)
{
    snprintf(path, size, "%s/wax-shm-XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd < 0) {
        printf("mkstemp failed: %s\n", strerror(errno));
        exit(1);
    }
    printf("unlink %d\n", unlink(path));
    printf("ftruncate %d\n", ftruncate(fd, 2 * PAGE));
    struct stat st;
    int r = fstat(fd, &st);
    printf("fstat %d size %lld links %d\n", r, (long long)st.st_size, (int)st.st_nlink);
    return fd;
}

/* A new file at the unlinked file's name is another file. */
static void same_name(const char *path, const char *old)
{
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    printf("new file at the old name %d\n", fd >= 0);
    ftruncate(fd, PAGE);
    char *n = map_shared(fd, PAGE, 0);
    printf("new file is empty: %d (old mapping %c)\n", n[0], old[0]);
    struct stat st;
    fstat(fd, &st);
    printf("new file size %lld links %d\n", (long long)st.st_size, (int)st.st_nlink);
    munmap(n, PAGE);
    unlink(path);
    close(fd);
}

static void two_mappings(int fd, char *a, char *b)
{
    a[0] = 'A';
    a[PAGE + 7] = 'B';
    printf("b sees a's stores: %c %c\n", b[0], b[PAGE + 7]);
    b[100] = 'C';
    printf("a sees b's store: %c\n", a[100]);
    char c = 0;
    ssize_t n = pread(fd, &c, 1, PAGE + 7);
    printf("pread sees the mapping: %zd %c\n", n, c);
    printf("pwrite %zd\n", pwrite(fd, "D", 1, 200));
    printf("mappings see pwrite: %c %c\n", a[200], b[200]);
}

static void fork_shares(char *a, char *b)
{
    pid_t pid = fork();
    if (pid == 0) {
        a[300] = 'E';
        b[PAGE + 300] = 'F';
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    printf("child exited %d; parent sees %c %c\n", WEXITSTATUS(status), b[300],
           a[PAGE + 300]);
}

static void remap(int fd, char *a, char *b)
{
    printf("munmap a %d\n", munmap(a, 2 * PAGE));
    b[400] = 'G';
    char *c = map_shared(fd, 2 * PAGE, 0);
    printf("new mapping keeps contents: %c %c %c\n", c[0], c[300], c[400]);
    char *second = map_shared(fd, PAGE, PAGE);
    printf("offset mapping: %c %c\n", second[7], second[300]);
    second[8] = 'H';
    printf("seen at offset: %c\n", c[PAGE + 8]);
    munmap(second, PAGE);
    munmap(b, 2 * PAGE);
    printf("after unmapping the others: %c %c\n", c[0], c[PAGE + 8]);
    printf("grow to 3 pages %d\n", ftruncate(fd, 3 * PAGE));
    char *big = map_shared(fd, 3 * PAGE, 0);
    big[2 * PAGE + 1] = 'I';
    printf("grown mapping: %c %c %d\n", big[0], big[2 * PAGE + 1], big[2 * PAGE]);
    char d = 0;
    ssize_t n = pread(fd, &d, 1, 2 * PAGE + 1);
    printf("pread of grown page: %zd %c\n", n, d);
    char *moved = mremap(c, 2 * PAGE, 3 * PAGE, MREMAP_MAYMOVE);
    printf("mremap grows the shared mapping %d: %c %c\n", moved != MAP_FAILED, moved[0],
           moved[2 * PAGE + 1]);
    moved[5] = 'J';
    big[2 * PAGE + 5] = 'K';
    printf("still shared after mremap: %c %c\n", big[5], moved[2 * PAGE + 5]);
    munmap(big, 3 * PAGE);
    munmap(moved, 3 * PAGE);
}

static void shm_in(const char *dir)
{
    char path[4096];
    int fd = make_unlinked(dir, path, sizeof path);
    char *a = map_shared(fd, 2 * PAGE, 0);
    char *b = map_shared(fd, 2 * PAGE, 0);
    printf("distinct addresses %d\n", a != b);
    two_mappings(fd, a, b);
    same_name(path, a);
    fork_shares(a, b);
    remap(fd, a, b);
    close(fd);
}

/* Three private anonymous pages with the middle one unmapped. */
static char *with_hole(void)
{
    char *p = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    memset(p, 'x', 3 * PAGE);
    munmap(p + PAGE, PAGE);
    return p;
}

static void report(const char *what, void *r, void *old)
{
    const char *how = r == MAP_FAILED ? "failed" : r == old ? "in place" : "moved";
    printf("%-36s %s errno %d\n", what, how, r == MAP_FAILED ? errno : 0);
}

/* Linux: mremap of a range that is not inside one mapping fails with
 * EFAULT, unless it shrinks (the tail is unmapped first). Moving such a
 * range with MREMAP_FIXED is left out: Linux 6.17 began to allow it. */
static void mremap_holes(void)
{
    char *p = with_hole();
    errno = 0;
    report("grow over a hole (MAYMOVE)", mremap(p, 3 * PAGE, 4 * PAGE, MREMAP_MAYMOVE), p);
    report("same size over a hole", mremap(p, 3 * PAGE, 3 * PAGE, MREMAP_MAYMOVE), p);
    report("the hole itself", mremap(p + PAGE, PAGE, 2 * PAGE, MREMAP_MAYMOVE), p + PAGE);
    report("from the hole into the next page",
           mremap(p + PAGE, 2 * PAGE, 3 * PAGE, MREMAP_MAYMOVE), p + PAGE);
    report("shrink over a hole", mremap(p, 3 * PAGE, PAGE, 0), p);
    printf("first page kept: %c\n", p[0]);
    munmap(p, 3 * PAGE);

    /* Two adjacent mappings with different protections are two VMAs. */
    char *q = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    printf("mprotect last page %d\n", mprotect(q + 2 * PAGE, PAGE, PROT_READ));
    report("grow across two mappings", mremap(q, 3 * PAGE, 4 * PAGE, MREMAP_MAYMOVE), q);
    char *r = mremap(q, 2 * PAGE, 3 * PAGE, MREMAP_MAYMOVE);
    report("grow the first of two", r, q);
    munmap(r == MAP_FAILED ? q : r, 3 * PAGE);
    munmap(q + 2 * PAGE, PAGE);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    shm_in(argc > 1 ? argv[1] : "/tmp");
    if (argc > 2)
        shm_in(argv[2]);
    mremap_holes();
    return 0;
}
