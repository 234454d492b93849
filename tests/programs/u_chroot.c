/* chroot(2) and the host name: a child process confined to a scratch
 * directory sees it as "/" (absolute paths, "..", absolute symlinks),
 * its working directory outside shows as "(unreachable)...", the
 * parent keeps its own root; sethostname/setdomainname change what
 * uname reports. Natively the name changes happen in a new UTS namespace
 * (as root), so the host's name is never touched; wax has one name per
 * machine. Prints only deterministic facts. argv[1]: a scratch directory
 * (absolute path). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

static void say(const char *what, int r) {
    if (r < 0)
        printf("%s: -1 %s\n", what, strerrorname_np(errno));
    else
        printf("%s: %d\n", what, r);
}

static void show_file(const char *path) {
    char buf[64] = {0};
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        printf("open %s: %s\n", path, strerrorname_np(errno));
        return;
    }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    printf("open %s: %zd bytes: %s", path, n, buf);
}

static void show_cwd(const char *when) {
    char buf[4096];
    if (!getcwd(buf, sizeof buf)) {
        /* glibc turns Linux's "(unreachable)..." answer into ENOENT */
        printf("getcwd %s: %s\n", when, strerrorname_np(errno));
        return;
    }
    printf("getcwd %s: %s\n", when, buf);
}

static void confined(const char *dir) {
    char inner[4096];
    snprintf(inner, sizeof inner, "%s/inner", dir);
    say("chroot to a file", chroot("/proc/self/status"));
    say("chroot to nothing", chroot("/no/such/dir"));
    say("chroot inner", chroot(inner));
    show_cwd("after chroot, before chdir");
    say("chdir /", chdir("/"));
    show_cwd("after chdir /");
    show_file("/f");
    show_file("/../../../f");
    show_file("/abs");
    show_file("/d/../f");
    show_file("/etc/hostname");
    struct stat root, up;
    stat("/", &root);
    stat("/..", &up);
    printf("/.. is /: %d\n", root.st_ino == up.st_ino && root.st_dev == up.st_dev);
    say("mkdir /d/e", mkdir("/d/e", 0755));
    say("chdir /d/e", chdir("/d/e"));
    show_cwd("in /d/e");
    say("chroot .. (nested)", chroot(".."));
    show_cwd("after nested chroot");
    say("chdir /", chdir("/"));
    show_file("/../f");
    show_file("/e/../../f");
    say("setuid 65534", setuid(65534));
    say("chroot unprivileged", chroot("."));
}

static void names(void) {
    struct utsname u;
    /* Natively the names change in a new UTS namespace, never the host's;
     * wax has no namespaces (ENOSYS) and one name per machine. */
    if (unshare(CLONE_NEWUTS) < 0 && errno != ENOSYS) {
        printf("no UTS namespace (%s): host name not touched\n", strerrorname_np(errno));
        return;
    }
    say("sethostname too long", sethostname("0123456789012345678901234567890123456789012345678901234567890123456789", 70));
    say("sethostname", sethostname("wax-test-host", 13));
    say("setdomainname", setdomainname("example.org", 11));
    uname(&u);
    printf("nodename %s domainname %s\n", u.nodename, u.domainname);
    char h[128] = {0};
    gethostname(h, sizeof h);
    printf("gethostname %s\n", h);
    show_file("/proc/sys/kernel/hostname");
    show_file("/proc/sys/kernel/domainname");
    say("setuid 65534", setuid(65534));
    say("sethostname unprivileged", sethostname("nope", 4));
}

static void in_child(void (*f)(const char *), const char *arg) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        f(arg);
        fflush(stdout);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    printf("child status %d\n", status);
}

static void names_child(const char *unused) {
    (void)unused;
    names();
}

int main(int argc, char **argv) {
    if (argc < 2)
        return 2;
    if (geteuid() != 0) {
        puts("needs root (as wax's default user is)");
        return 0;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/inner", argv[1]);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/inner/d", argv[1]);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/inner/f", argv[1]);
    FILE *f = fopen(path, "w");
    fputs("inside\n", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/inner/d/f", argv[1]);
    f = fopen(path, "w");
    fputs("inside d\n", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/inner/abs", argv[1]);
    say("symlink", symlink("/f", path));
    if (chdir(argv[1]) < 0)
        return 3;
    in_child(confined, argv[1]);
    show_file("inner/f");
    struct stat st;
    printf("parent still sees /proc: %d\n", stat("/proc/self", &st) == 0);
    in_child(names_child, 0);
    return 0;
}
