/* What a careful program sees when its data cannot be kept: every call's
 * result, one line each ("name ok" or "name err ERRNO"), for the
 * disk_faults tests.
 *
 *   durable write FILE KIB   write KIB KiB in 64 KiB pieces, then fsync
 *   durable range FILE       write 4 KiB, then sync_file_range and fdatasync
 *   durable mmap FILE        change a MAP_SHARED mapping of FILE, msync it
 *   durable sparse FILE KIB [fsync]
 *                            a sparse file of KIB KiB filled through a
 *                            MAP_SHARED mapping, unmapped without msync
 *                            (then fsync if asked)
 *   durable syncfs FILE      syncfs on FILE's file system
 *   durable read FILE        read FILE to the end
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int report(const char *what, int r) {
    if (r < 0)
        printf("%s err %d\n", what, errno);
    else
        printf("%s ok\n", what);
    fflush(stdout);
    return r;
}

static int do_write(const char *path, long kib) {
    static char buf[65536];
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (report("open", fd) < 0)
        return 1;
    long long done = 0, want = kib * 1024LL;
    memset(buf, 'x', sizeof buf);
    while (done < want) {
        size_t n = want - done < (long long)sizeof buf ? (size_t)(want - done) : sizeof buf;
        ssize_t w = write(fd, buf, n);
        if (w < 0) {
            printf("write err %d after %lld\n", errno, done);
            break;
        }
        done += w; /* a short write is retried: the next one says why */
    }
    if (done == want)
        printf("write ok %lld\n", done);
    report("fsync", fsync(fd));
    report("close", close(fd));
    return 0;
}

static int do_range(const char *path) {
    char buf[4096];
    memset(buf, 'r', sizeof buf);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (report("open", fd) < 0)
        return 1;
    report("write", write(fd, buf, sizeof buf) == (ssize_t)sizeof buf ? 0 : -1);
    report("sync_file_range",
           sync_file_range(fd, 0, 0,
                           SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                               SYNC_FILE_RANGE_WAIT_AFTER));
    report("fdatasync", fdatasync(fd));
    return 0;
}

static int do_mmap(const char *path) {
    int fd = open(path, O_RDWR);
    if (report("open", fd) < 0)
        return 1;
    char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        return report("mmap", -1), 1;
    memcpy(p, "mapped!", 7);
    report("msync", msync(p, 4096, MS_SYNC));
    return 0;
}

static int do_sparse(const char *path, long kib, int then_fsync) {
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (report("open", fd) < 0)
        return 1;
    size_t len = (size_t)kib * 1024;
    report("ftruncate", ftruncate(fd, len));
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        return report("mmap", -1), 1;
    memset(p, 's', len);
    report("munmap", munmap(p, len));
    if (then_fsync)
        report("fsync", fsync(fd));
    report("close", close(fd));
    return 0;
}

static int do_syncfs(const char *path) {
    int fd = open(path, O_RDONLY);
    if (report("open", fd) < 0)
        return 1;
    report("syncfs", syncfs(fd));
    return 0;
}

static int do_read(const char *path) {
    static char buf[65536];
    int fd = open(path, O_RDONLY);
    if (report("open", fd) < 0)
        return 1;
    long long done = 0;
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0) {
            printf("read err %d after %lld\n", errno, done);
            return 0;
        }
        if (r == 0)
            break;
        done += r;
    }
    printf("read ok %lld\n", done);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3)
        return 2;
    if (!strcmp(argv[1], "write") && argc == 4)
        return do_write(argv[2], atol(argv[3]));
    if (!strcmp(argv[1], "range"))
        return do_range(argv[2]);
    if (!strcmp(argv[1], "mmap"))
        return do_mmap(argv[2]);
    if (!strcmp(argv[1], "sparse") && argc >= 4)
        return do_sparse(argv[2], atol(argv[3]), argc == 5 && !strcmp(argv[4], "fsync"));
    if (!strcmp(argv[1], "syncfs"))
        return do_syncfs(argv[2]);
    if (!strcmp(argv[1], "read"))
        return do_read(argv[2]);
    return 2;
}
