/* File operations and their errno values, in a scratch directory
 * (argv[1]): open flags, read/write/seek, links, renames, directories,
 * permissions (as root), dup/fcntl (F_NOTIFY's checks), *at calls,
 * truncation, sparse files; FIFOs separately (argv[2] = "fifo"). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs a call and prints its result and errno, named by its source. */
#define E(x)                                                                 \
    do {                                                                     \
        errno = 0;                                                           \
        long r_ = (long)(x);                                                 \
        printf("%-52s = %ld errno %d\n", #x, r_, r_ < 0 ? errno : 0);        \
    } while (0)

/* An address no program maps, for EFAULT (volatile: gcc would warn). */
static void *volatile bad_pointer = (void *)8;

static int sorted_names(const char *dir, char *out, size_t size)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    char names[64][64];
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 64)
        snprintf(names[n++], 64, "%.63s", de->d_name);
    closedir(d);
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (strcmp(names[i], names[j]) > 0) {
                char t[64];
                strcpy(t, names[i]);
                strcpy(names[i], names[j]);
                strcpy(names[j], t);
            }
    out[0] = 0;
    for (int i = 0; i < n; i++)
        snprintf(out + strlen(out), size - strlen(out), "%s ", names[i]);
    return n;
}

static void basics(void)
{
    int fd;
    char buf[256];
    struct stat st;
    E(fd = open("f", O_CREAT | O_RDWR | O_EXCL, 0640));
    E(open("f", O_CREAT | O_RDWR | O_EXCL, 0640));
    E(open("missing", O_RDONLY));
    E(open("missing/x", O_CREAT | O_WRONLY, 0600));
    E(open("f/x", O_RDONLY));
    E(open(".", O_WRONLY));
    E(open("f", O_RDONLY | O_DIRECTORY));
    E(write(fd, "hello world", 11));
    E(lseek(fd, 0, SEEK_CUR));
    E(lseek(fd, -5, SEEK_END));
    E(read(fd, buf, sizeof buf));
    E(lseek(fd, -100, SEEK_SET));
    E(lseek(fd, 0, 42));
    E(pwrite(fd, "HELLO", 5, 0));
    E(pread(fd, buf, 11, 0));
    printf("content %.11s\n", buf);
    E(lseek(fd, 1 << 20, SEEK_SET));
    E(write(fd, "end", 3));
    E(fstat(fd, &st));
    printf("size %lld blocks less than size %d mode %o nlink %d\n", (long long)st.st_size,
           st.st_blocks * 512 < st.st_size, st.st_mode, (int)st.st_nlink);
    E(lseek(fd, 0, SEEK_DATA));
    E(ftruncate(fd, 5));
    E(fstat(fd, &st));
    printf("size after ftruncate %lld\n", (long long)st.st_size);
    struct iovec iov[2] = {{"ab", 2}, {"cd", 2}};
    E(lseek(fd, 0, SEEK_END));
    E(writev(fd, iov, 2));
    E(pread(fd, buf, 20, 0));
    printf("content %.9s\n", buf);
    E(read(999, buf, 1));
    E(write(fd, bad_pointer, 1));
    E(close(fd));
    E(close(fd));
    E(fd = open("f", O_WRONLY | O_APPEND));
    E(lseek(fd, 0, SEEK_SET));
    E(write(fd, "!", 1));
    E(read(fd, buf, 1));
    E(close(fd));
    E(fd = open("f", O_RDONLY | O_TRUNC));
    E(close(fd));
    E(stat("f", &st));
    printf("O_TRUNC on O_RDONLY truncates to %lld\n", (long long)st.st_size);
}

static void names(void)
{
    char buf[256], list[4096];
    struct stat st;
    int fd;
    E(fd = open("a", O_CREAT | O_WRONLY, 0644));
    E(write(fd, "aaa", 3));
    E(close(fd));
    E(link("a", "b"));
    E(link("a", "b"));
    E(stat("a", &st));
    printf("nlink %d\n", (int)st.st_nlink);
    E(symlink("a", "s"));
    E(symlink("nowhere", "dangling"));
    E(readlink("s", buf, sizeof buf));
    E(readlink("a", buf, sizeof buf));
    E(open("dangling", O_RDONLY));
    E(open("s", O_RDONLY | O_NOFOLLOW));
    E(lstat("dangling", &st));
    printf("lstat dangling is a link %d size %lld\n", S_ISLNK(st.st_mode), (long long)st.st_size);
    E(symlink("loop2", "loop1"));
    E(symlink("loop1", "loop2"));
    E(open("loop1", O_RDONLY));
    E(mkdir("d", 0755));
    E(mkdir("d", 0755));
    E(mkdir("d/e", 0755));
    E(rename("d", "d/e/f"));
    E(rename("a", "d"));
    E(rename("d", "a"));
    E(rmdir("d"));
    E(rmdir("d/e/.."));
    E(rmdir("."));
    E(unlink("d"));
    E(rmdir("a"));
    E(rename("b", "c"));
    E(rename("c", "a"));
    E(stat("a", &st));
    printf("nlink after rename over a link of itself %d\n", (int)st.st_nlink);
    E(renameat2(AT_FDCWD, "s", AT_FDCWD, "a", RENAME_NOREPLACE));
    E(renameat2(AT_FDCWD, "s", AT_FDCWD, "a", RENAME_EXCHANGE));
    E(lstat("a", &st));
    printf("after exchange a is a link %d\n", S_ISLNK(st.st_mode));
    E(renameat2(AT_FDCWD, "s", AT_FDCWD, "a", RENAME_EXCHANGE));
    char longname[300];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    E(open(longname, O_CREAT | O_WRONLY, 0644));
    E(sorted_names(".", list, sizeof list));
    printf("entries: %s\n", list);
    E(sorted_names("d/e", list, sizeof list));
    printf("entries of d/e: %s\n", list);
    E(unlink("s"));
    E(unlink("dangling"));
    E(unlink("loop1"));
    E(unlink("loop2"));
    E(rmdir("d/e"));
    E(rmdir("d"));
}

static void descriptors(void)
{
    int fd, fd2;
    char buf[16];
    E(fd = open("a", O_RDWR));
    E(fd2 = dup(fd));
    E(read(fd, buf, 1));
    E(lseek(fd2, 0, SEEK_CUR));
    E(dup2(fd, 100));
    E(fcntl(100, F_GETFD));
    E(dup3(fd, 101, O_CLOEXEC));
    E(fcntl(101, F_GETFD));
    E(dup3(fd, fd, 0));
    E(dup2(fd, fd));
    E(fcntl(fd, F_DUPFD, 50));
    E(fcntl(fd, F_DUPFD_CLOEXEC, 50));
    E(fcntl(fd, F_GETFL) & O_ACCMODE);
    E(fcntl(fd, F_SETFL, O_APPEND | O_NONBLOCK));
    E(fcntl(fd, F_GETFL) & (O_APPEND | O_NONBLOCK));
    E(fcntl(999, F_GETFD));
    E(fcntl(fd, 12345));
    /* F_NOTIFY without event bits removes registrations: fine on any
     * file (DN_MULTISHOT is past 2^31: CPython's test_fcntl_64_bit).
     * Events on a non-directory are ENOTDIR. (Registering events on a
     * directory is EINVAL under wax, which reports no changes: not
     * compared.) */
    E(fcntl(fd, F_NOTIFY, DN_MULTISHOT));
    E(fcntl(fd, F_NOTIFY, 0));
    E(fcntl(fd, F_NOTIFY, DN_CREATE | DN_MULTISHOT));
    int dir;
    E(dir = open(".", O_RDONLY | O_DIRECTORY));
    E(fcntl(dir, F_NOTIFY, DN_MULTISHOT));
    E(close(dir));
    E(close(100));
    E(close(101));
    E(close(50));
    E(close(51));
    E(close(fd2));
    E(close(fd));
}

/* FIFOs opened without blocking. Run on its own ("u_files DIR fifo"):
 * an implementation that blocks the whole emulator in open() hangs here,
 * and that should not take the other checks down with it. */
static void fifos(void)
{
    int fd;
    E(mkfifo("fifo", 0600));
    E(mkfifo("fifo", 0600));
    E(open("fifo", O_WRONLY | O_NONBLOCK));
    E(fd = open("fifo", O_RDONLY | O_NONBLOCK));
    E(open("fifo", O_WRONLY | O_NONBLOCK) > fd);
    E(close(fd));
    E(unlink("fifo"));
}

static void permissions_and_at(void)
{
    struct stat st;
    int dfd, fd;
    E(mkdir("sub", 0700));
    E(dfd = open("sub", O_RDONLY | O_DIRECTORY));
    E(fd = openat(dfd, "x", O_CREAT | O_WRONLY, 0600));
    E(close(fd));
    E(fstatat(dfd, "x", &st, 0));
    printf("mode %o\n", st.st_mode);
    E(fchmodat(dfd, "x", 04755, 0));
    E(fstatat(dfd, "x", &st, 0));
    printf("mode %o\n", st.st_mode);
    E(fchownat(dfd, "x", 1234, 5678, 0));
    E(fstatat(dfd, "x", &st, 0));
    printf("uid %d gid %d mode %o\n", (int)st.st_uid, (int)st.st_gid, st.st_mode);
    E(mkdirat(dfd, "inner", 0755));
    E(symlinkat("x", dfd, "lx"));
    E(linkat(dfd, "x", dfd, "hx", 0));
    E(unlinkat(dfd, "inner", 0));
    E(unlinkat(dfd, "x", AT_REMOVEDIR));
    E(unlinkat(dfd, "inner", AT_REMOVEDIR));
    E(faccessat(dfd, "x", R_OK | W_OK, 0));
    E(faccessat(dfd, "nope", F_OK, 0));
    E(openat(dfd, "/", O_RDONLY) >= 0);
    E(openat(12345, "rel", O_RDONLY));
    E(fd = openat(dfd, ".", O_RDONLY));
    E(fchdir(fd));
    E(access("hx", F_OK));
    E(chdir(".."));
    E(close(fd));
    E(umask(027));
    E(fd = open("masked", O_CREAT | O_WRONLY, 0666));
    E(fstat(fd, &st));
    printf("mode with umask 027: %o\n", st.st_mode & 0777);
    E(umask(022));
    E(close(fd));
    E(unlink("masked"));
    E(unlinkat(dfd, "x", 0));
    E(unlinkat(dfd, "lx", 0));
    E(unlinkat(dfd, "hx", 0));
    E(close(dfd));
    E(rmdir("sub"));
    char cwd[PATH_MAX];
    E(getcwd(cwd, 4) == NULL);
    E(chdir("a"));
    E(chdir("nonexistent"));
}

/* /dev/tty names the controlling terminal: a new session has none, so
 * opening it fails with ENXIO (the harness's stdio are pipes, so under
 * wax no host terminal stands in either). */
static void no_controlling_terminal(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        setsid();
        int fd = open("/dev/tty", O_RDWR);
        printf("open /dev/tty after setsid: %d errno %s\n", fd < 0 ? -1 : 0,
               fd < 0 ? strerror(errno) : "none");
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    printf("child status %d\n", status);
}

int main(int argc, char **argv)
{
    if (argc < 2 || chdir(argv[1]) != 0) {
        fprintf(stderr, "usage: u_files DIR\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    umask(022);
    if (argc > 2 && strcmp(argv[2], "fifo") == 0) {
        fifos();
        return 0;
    }
    basics();
    names();
    descriptors();
    permissions_and_at();
    no_controlling_terminal();
    return 0;
}
