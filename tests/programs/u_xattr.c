/* Extended attributes in the user namespace on files in DIR (argv[1]):
 * set, get (size probe, short buffer), list, XATTR_CREATE/REPLACE,
 * remove, descriptors, symlinks, and the errors for bad names, sizes and
 * flags; user attributes on a FIFO and a pipe (only regular files and
 * directories have them), and /proc, a file system without xattr
 * support. Prints only deterministic facts. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

static void result(const char *what, long r) {
    if (r < 0)
        printf("%s: -1 %s\n", what, strerror(errno));
    else
        printf("%s: %ld\n", what, r);
}

/* The names listxattr gives, sorted, as one line (the host's file system
 * may list in any order). */
static void names(const char *what, const char *buf, long n) {
    const char *list[16];
    int count = 0;
    for (long i = 0; i < n && count < 16; i += strlen(buf + i) + 1)
        list[count++] = buf + i;
    for (int i = 0; i < count; i++)
        for (int j = i + 1; j < count; j++)
            if (strcmp(list[j], list[i]) < 0) {
                const char *t = list[i];
                list[i] = list[j];
                list[j] = t;
            }
    printf("%s:", what);
    for (int i = 0; i < count; i++)
        if (!strncmp(list[i], "user.", 5))
            printf(" %s", list[i]);
    printf("\n");
}

int main(int argc, char **argv) {
    if (argc < 2)
        return 2;
    setvbuf(stdout, NULL, _IONBF, 0);
    /* Names with the pid: DIR may be a /tmp shared with other runs. */
    char file[512], link[512], missing[512], target[64];
    snprintf(target, sizeof target, "xattr-file-%d", (int)getpid());
    snprintf(file, sizeof file, "%s/%s", argv[1], target);
    snprintf(link, sizeof link, "%s/xattr-link-%d", argv[1], (int)getpid());
    snprintf(missing, sizeof missing, "%s/no-such-file", argv[1]);
    int fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return 1;
    symlink(target, link);

    char buf[256];
    result("getxattr before", getxattr(file, "user.color", buf, sizeof buf));
    result("setxattr", setxattr(file, "user.color", "blue", 4, 0));
    result("size probe", getxattr(file, "user.color", NULL, 0));
    memset(buf, 0, sizeof buf);
    result("getxattr", getxattr(file, "user.color", buf, sizeof buf));
    printf("value: %s\n", buf);
    result("short buffer", getxattr(file, "user.color", buf, 2));
    result("through the symlink", getxattr(link, "user.color", buf, sizeof buf));
    result("lgetxattr of the symlink", lgetxattr(link, "user.color", buf, sizeof buf));
    result("lsetxattr user.* on a symlink", lsetxattr(link, "user.x", "1", 1, 0));
    result("XATTR_CREATE existing", setxattr(file, "user.color", "red", 3, XATTR_CREATE));
    result("XATTR_REPLACE missing", setxattr(file, "user.size", "9", 1, XATTR_REPLACE));
    result("XATTR_REPLACE existing", setxattr(file, "user.color", "green", 5, XATTR_REPLACE));
    memset(buf, 0, sizeof buf);
    getxattr(file, "user.color", buf, sizeof buf);
    printf("value: %s\n", buf);
    result("empty value", setxattr(file, "user.empty", "", 0, 0));
    result("get empty", getxattr(file, "user.empty", buf, sizeof buf));
    result("fsetxattr", fsetxattr(fd, "user.fd", "via-fd", 6, 0));
    memset(buf, 0, sizeof buf);
    result("fgetxattr", fgetxattr(fd, "user.fd", buf, sizeof buf));
    printf("value: %s\n", buf);

    /* The size probe may count names of other namespaces the host's file
     * system adds (security labels): only compare it with the list. */
    long probe = listxattr(file, NULL, 0);
    char list[1024];
    long n = listxattr(file, list, sizeof list);
    printf("size probe matches the list: %d\n", probe == n);
    names("listxattr", list, n);
    n = flistxattr(fd, list, sizeof list);
    names("flistxattr", list, n);
    result("list short buffer", listxattr(file, list, 3));

    result("removexattr", removexattr(file, "user.empty"));
    result("removexattr again", removexattr(file, "user.empty"));
    result("fremovexattr", fremovexattr(fd, "user.fd"));
    n = listxattr(file, list, sizeof list);
    names("after removes", list, n);

    result("name without a namespace", setxattr(file, "color", "x", 1, 0));
    result("get without a namespace", getxattr(file, "color", buf, sizeof buf));
    result("empty name", setxattr(file, "", "x", 1, 0));
    result("bare prefix", setxattr(file, "user.", "x", 1, 0));
    char longname[300];
    memset(longname, 'a', sizeof longname);
    memcpy(longname, "user.", 5);
    longname[sizeof longname - 1] = 0;
    result("name past 255", setxattr(file, longname, "x", 1, 0));
    char *big = calloc(1, 70000);
    result("value past 64 KiB", setxattr(file, "user.big", big, 70000, 0));
    result("bad flags", setxattr(file, "user.color", "x", 1, 4));
    result("missing file", getxattr(missing, "user.color", buf, sizeof buf));
    result("bad descriptor", fgetxattr(999, "user.color", buf, sizeof buf));

    char fifo[512];
    snprintf(fifo, sizeof fifo, "%s/xattr-fifo-%d", argv[1], (int)getpid());
    mkfifo(fifo, 0644);
    result("user.* get on a FIFO", getxattr(fifo, "user.color", buf, sizeof buf));
    result("user.* set on a FIFO", setxattr(fifo, "user.color", "x", 1, 0));
    result("user.* remove on a FIFO", removexattr(fifo, "user.color"));
    unlink(fifo);
    int p[2];
    pipe(p);
    result("user.* get on a pipe", fgetxattr(p[0], "user.color", buf, sizeof buf));
    result("user.* set on a pipe", fsetxattr(p[1], "user.color", "x", 1, 0));
    close(p[0]);
    close(p[1]);

    const char *proc = "/proc/self/status";
    result("/proc get", getxattr(proc, "user.color", buf, sizeof buf));
    result("/proc get security.*", getxattr(proc, "security.selinux", buf, sizeof buf));
    result("/proc set", setxattr(proc, "user.color", "x", 1, 0));
    result("/proc remove", removexattr(proc, "user.color"));
    result("/proc list", listxattr(proc, list, sizeof list));

    unlink(link);
    close(fd);
    unlink(file);
    return 0;
}
