/* Touches more memory than the machine has, 8 MiB at a time: natively
 * (with a host that has the memory) it finishes; under `wax run --memory
 * 64M` the process is killed by SIGKILL, as by Linux's OOM killer.
 * argv[1]: "self" (this process grows) or "child" (a child grows and the
 * parent reports how it ended). argv[2]: MiB to touch (default 256). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void grow(long mib)
{
    for (long done = 0; done < mib; done += 8) {
        char *p = malloc(8 << 20);
        if (!p) {
            printf("malloc failed after %ld MiB\n", done);
            exit(2);
        }
        memset(p, 1, 8 << 20);
    }
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    long mib = argc > 2 ? atol(argv[2]) : 256;
    if (argc > 1 && strcmp(argv[1], "child") == 0) {
        pid_t pid = fork();
        if (pid == 0) {
            grow(mib);
            _exit(0);
        }
        int status;
        waitpid(pid, &status, 0);
        if (WIFSIGNALED(status))
            printf("child killed by signal %d\n", WTERMSIG(status));
        else
            printf("child exited %d\n", WEXITSTATUS(status));
        /* The parent goes on: the memory came back with the child. */
        grow(16);
        printf("parent still runs\n");
        return 0;
    }
    grow(mib);
    printf("touched %ld MiB\n", mib);
    return 0;
}
