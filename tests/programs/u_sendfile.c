/* sendfile into a pipe that fills: a child sends a 1 MiB file through a
 * pipe whose reader is slower than the writer, with sendfile's implicit
 * file offset and with an explicit one; the parent reads it all back and
 * checks every byte (nothing lost or repeated when a call has to wait for
 * room). Also a non-blocking pipe: EAGAIN, and nothing consumed from the
 * file. argv[1]: a scratch directory. Prints only deterministic facts. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/wait.h>
#include <unistd.h>

#define SIZE (1 << 20)

static unsigned char byte_at(long i) { return (unsigned char)(i * 131 + (i >> 9)); }

static void check_stream(int rd, const char *what) {
    static unsigned char buf[7000];
    long got = 0, bad = -1;
    ssize_t n;
    while ((n = read(rd, buf, sizeof buf)) > 0) {
        for (ssize_t j = 0; j < n; j++)
            if (bad < 0 && buf[j] != byte_at(got + j))
                bad = got + j;
        got += n;
        usleep(200); /* slower than the writer: the pipe fills */
    }
    printf("%s: %ld bytes, first wrong byte %ld\n", what, got, bad);
}

static void send_all(const char *path, int wr, int explicit_offset) {
    int fd = open(path, O_RDONLY);
    off_t off = 0;
    long total = 0;
    for (;;) {
        ssize_t n = explicit_offset ? sendfile(wr, fd, &off, 65536) : sendfile(wr, fd, NULL, 65536);
        if (n < 0) {
            printf("sendfile: %s\n", strerrorname_np(errno));
            break;
        }
        if (n == 0)
            break;
        total += n;
    }
    if (explicit_offset)
        printf("explicit offset ends at %ld, file offset %ld\n", (long)off, (long)lseek(fd, 0, SEEK_CUR));
    else
        printf("implicit offset ends at %ld\n", (long)lseek(fd, 0, SEEK_CUR));
    printf("sent %ld\n", total);
    close(fd);
}

int main(int argc, char **argv) {
    if (argc < 2)
        return 2;
    char path[4096];
    snprintf(path, sizeof path, "%s/data", argv[1]);
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    static unsigned char chunk[SIZE];
    for (long i = 0; i < SIZE; i++)
        chunk[i] = byte_at(i);
    if (write(fd, chunk, SIZE) != SIZE)
        return 3;
    close(fd);
    for (int explicit_offset = 0; explicit_offset < 2; explicit_offset++) {
        int p[2];
        pipe(p);
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            close(p[0]);
            send_all(path, p[1], explicit_offset);
            fflush(stdout);
            _exit(0);
        }
        close(p[1]);
        waitpid(pid, NULL, WNOHANG);
        check_stream(p[0], explicit_offset ? "explicit offset" : "implicit offset");
        close(p[0]);
        int status;
        waitpid(pid, &status, 0);
    }
    /* A full non-blocking pipe: EAGAIN, and the file offset stays. */
    int p[2];
    pipe2(p, O_NONBLOCK);
    while (write(p[1], chunk, 4096) > 0) {
    }
    fd = open(path, O_RDONLY);
    ssize_t n = sendfile(p[1], fd, NULL, 4096);
    printf("full non-blocking pipe: %zd %s, file offset %ld\n", n, n < 0 ? strerrorname_np(errno) : "", (long)lseek(fd, 0, SEEK_CUR));
    return 0;
}
