/* Tries every way out of the root that a guest might use to read the host
 * file argv[1] (an absolute host path outside the root). Prints one line per
 * attempt: "blocked" (with errno) or "LEAKED" if the secret was read. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *secret;
static int leaks;

static void attempt(const char *what, int dirfd, const char *path)
{
    char buf[256] = {0};
    int fd = openat(dirfd, path, O_RDONLY);
    int err = errno;
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (n > 0 && strstr(buf, "WAX-SECRET")) {
        printf("%s: LEAKED\n", what);
        leaks++;
    } else {
        printf("%s: blocked (%s)\n", what, fd < 0 ? strerror(err) : "other content");
    }
    if (fd >= 0)
        close(fd);
}

static void with_prefix(const char *what, const char *prefix)
{
    char path[4096];
    snprintf(path, sizeof path, "%s%s", prefix, secret);
    attempt(what, AT_FDCWD, path);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    secret = argv[1];
    setvbuf(stdout, NULL, _IONBF, 0);
    chdir("/");
    with_prefix("absolute host path", "");
    with_prefix("dot-dot from /", "/../../../../../../..");
    with_prefix("relative dot-dot", "../../../../../../../..");
    for (int i = 0; i < 20; i++)
        chdir("..");
    with_prefix("after chdir(..) x20", ".");
    with_prefix("/proc/self/root", "/proc/self/root");
    with_prefix("/proc/1/root", "/proc/1/root");
    char self_root[64];
    snprintf(self_root, sizeof self_root, "/proc/%d/root", (int)getpid());
    with_prefix("/proc/PID/root", self_root);
    with_prefix("/proc/self/cwd", "/proc/self/cwd/../../../../../..");

    /* Symlinks made by the guest: absolute, relative, and to a directory. */
    mkdir("/escape", 0755);
    symlink(secret, "/escape/abs");
    attempt("absolute symlink", AT_FDCWD, "/escape/abs");
    char rel[4096];
    snprintf(rel, sizeof rel, "../../../../../../../../../..%s", secret);
    symlink(rel, "/escape/rel");
    attempt("relative symlink", AT_FDCWD, "/escape/rel");
    symlink("../../../../../../../../../..", "/escape/up");
    char via_dir[4096];
    snprintf(via_dir, sizeof via_dir, "/escape/up%s", secret);
    attempt("symlink to a directory above", AT_FDCWD, via_dir);
    /* The host-side symlinks prepared by the test (absolute and relative). */
    attempt("host-made absolute symlink", AT_FDCWD, "/host-abs");
    attempt("host-made relative symlink", AT_FDCWD, "/host-rel");

    int root = open("/", O_RDONLY | O_DIRECTORY);
    char dots[4096];
    snprintf(dots, sizeof dots, "../../../../..%s", secret);
    attempt("openat(root fd, ../..)", root, dots);

    /* The classic chroot escape: chroot into a subdirectory while keeping
     * the cwd outside it, then walk up. */
    mkdir("/escape/jail", 0755);
    chdir("/");
    if (chroot("/escape/jail") == 0) {
        for (int i = 0; i < 20; i++)
            chdir("..");
        with_prefix("chroot escape", ".");
    } else {
        printf("chroot escape: blocked (chroot: %s)\n", strerror(errno));
    }
    printf("%d leaks\n", leaks);
    return leaks ? 1 : 0;
}
