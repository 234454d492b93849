/* What a process may do after it gives up root (setuid): the checks use
 * its own credentials, not those the machine started with. Prints only
 * deterministic facts; needs to start as root (as wax's default user is). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int seen_uid = -1;

static void on_usr1(int sig, siginfo_t *si, void *ctx) {
    (void)sig, (void)ctx;
    seen_uid = (int)si->si_uid;
}

static void say(const char *what, int r) {
    printf("%s: %s\n", what, r < 0 ? strerrorname_np(errno) : "ok");
}

int main(void) {
    if (geteuid() != 0) {
        puts("needs root (as wax's default user is)");
        return 0;
    }
    struct sigaction sa = {0};
    sa.sa_sigaction = on_usr1;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, 0);
    struct rlimit rl;
    /* (Raising a hard limit as root depends on CAP_SYS_RESOURCE, which a
     * container's root may lack: not compared.) */
    kill(getpid(), SIGUSR1);
    printf("si_uid as root: %d\n", seen_uid);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        say("setuid 65534", setuid(65534));
        rl.rlim_cur = rl.rlim_max = 512;
        say("lower the file limit", setrlimit(RLIMIT_NOFILE, &rl));
        rl.rlim_cur = rl.rlim_max = 1024;
        say("raise it again", setrlimit(RLIMIT_NOFILE, &rl));
        kill(getpid(), SIGUSR1);
        printf("si_uid after setuid: %d\n", seen_uid);
        fflush(stdout);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    printf("child status %d\n", status);
    return 0;
}
