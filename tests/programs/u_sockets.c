/* Sockets: AF_UNIX stream and datagram socket pairs, a listening socket on
 * a path in argv[1], passing descriptors with SCM_RIGHTS, shutdown,
 * loopback TCP and UDP, and the errno values of misuse. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define E(x)                                                                 \
    do {                                                                     \
        errno = 0;                                                           \
        long r_ = (long)(x);                                                 \
        printf("%-56s = %ld errno %d\n", #x, r_, r_ < 0 ? errno : 0);        \
    } while (0)

static void pairs(void)
{
    int sv[2];
    char buf[64];
    E(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    E(write(sv[0], "hello", 5));
    E(send(sv[0], " world", 6, 0));
    E(recv(sv[1], buf, 3, MSG_PEEK));
    E(read(sv[1], buf, sizeof buf));
    printf("got %.11s\n", buf);
    E(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT));
    E(shutdown(sv[0], SHUT_WR));
    E(read(sv[1], buf, sizeof buf));
    E(write(sv[1], "back", 4));
    E(read(sv[0], buf, sizeof buf));
    signal(SIGPIPE, SIG_IGN);
    E(close(sv[1]));
    E(write(sv[0], "x", 1));
    E(send(sv[0], "x", 1, MSG_NOSIGNAL));
    E(close(sv[0]));

    E(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    E(send(sv[0], "one", 3, 0));
    E(send(sv[0], "two!", 4, 0));
    E(recv(sv[1], buf, 2, 0));
    E(recv(sv[1], buf, sizeof buf, MSG_TRUNC));
    E(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT));
    E(close(sv[0]));
    E(close(sv[1]));

    E(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
    E(send(sv[0], "rec1", 4, 0));
    E(send(sv[0], "record2", 7, 0));
    E(recv(sv[1], buf, sizeof buf, 0));
    E(recv(sv[1], buf, sizeof buf, 0));
    E(close(sv[0]));
    E(recv(sv[1], buf, sizeof buf, 0));
    E(close(sv[1]));

    int type = -1;
    socklen_t len = sizeof type;
    E(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv));
    E(getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &type, &len));
    printf("SO_TYPE %d len %d\n", type, (int)len);
    E(fcntl(sv[0], F_GETFL) & O_NONBLOCK);
    E(fcntl(sv[0], F_GETFD));
    E(read(sv[0], buf, 1));
    E(close(sv[0]));
    E(close(sv[1]));
}

static void pass_fd(void)
{
    int sv[2], p[2];
    E(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    E(pipe(p));
    char cbuf[CMSG_SPACE(sizeof(int))];
    memset(cbuf, 0, sizeof cbuf);
    struct iovec iov = {"F", 1};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                         .msg_controllen = sizeof cbuf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &p[1], sizeof(int));
    E(sendmsg(sv[0], &msg, 0));
    E(close(p[1]));
    char data[4], rbuf[CMSG_SPACE(sizeof(int))];
    struct iovec riov = {data, sizeof data};
    struct msghdr rmsg = {.msg_iov = &riov, .msg_iovlen = 1, .msg_control = rbuf,
                          .msg_controllen = sizeof rbuf};
    E(recvmsg(sv[1], &rmsg, 0));
    c = CMSG_FIRSTHDR(&rmsg);
    int got = -1;
    if (c && c->cmsg_type == SCM_RIGHTS)
        memcpy(&got, CMSG_DATA(c), sizeof got);
    printf("received a descriptor %d\n", got >= 0);
    E(write(got, "via passed fd", 13));
    E(close(got));
    char buf[32];
    E(read(p[0], buf, sizeof buf));
    E(read(p[0], buf, sizeof buf));
    E(close(p[0]));
    E(close(sv[0]));
    E(close(sv[1]));
}

static void listening(const char *dir)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s/sock", dir);
    int s, c, a;
    char buf[64];
    E(s = socket(AF_UNIX, SOCK_STREAM, 0));
    E(bind(s, (struct sockaddr *)&addr, sizeof addr));
    E(bind(s, (struct sockaddr *)&addr, sizeof addr));
    E(listen(s, 5));
    E(c = socket(AF_UNIX, SOCK_STREAM, 0));
    E(connect(c, (struct sockaddr *)&addr, sizeof addr));
    E(a = accept(s, NULL, NULL));
    E(write(c, "ping", 4));
    E(read(a, buf, sizeof buf));
    E(write(a, "pong", 4));
    E(read(c, buf, sizeof buf));
    E(close(c));
    E(read(a, buf, sizeof buf));
    E(close(a));
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int k = socket(AF_UNIX, SOCK_STREAM, 0);
        if (connect(k, (struct sockaddr *)&addr, sizeof addr) != 0)
            _exit(1);
        dprintf(k, "from child");
        _exit(0);
    }
    E(a = accept4(s, NULL, NULL, SOCK_CLOEXEC));
    int n = 0, r;
    while ((r = read(a, buf + n, sizeof buf - n)) > 0)
        n += r;
    printf("child sent %.*s\n", n, buf);
    int st;
    waitpid(pid, &st, 0);
    E(close(a));
    E(close(s));
    E(c = socket(AF_UNIX, SOCK_STREAM, 0));
    E(connect(c, (struct sockaddr *)&addr, sizeof addr));
    E(unlink(addr.sun_path));
    E(connect(c, (struct sockaddr *)&addr, sizeof addr));
    E(close(c));
}

static void inet(void)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    int s, c, a, one = 1;
    char buf[64];
    E(s = socket(AF_INET, SOCK_STREAM, 0));
    E(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
    E(bind(s, (struct sockaddr *)&addr, sizeof addr));
    E(getsockname(s, (struct sockaddr *)&addr, &len));
    printf("bound to an ephemeral port %d\n", ntohs(addr.sin_port) != 0);
    E(listen(s, 1));
    E(c = socket(AF_INET, SOCK_STREAM, 0));
    E(setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one));
    E(connect(c, (struct sockaddr *)&addr, sizeof addr));
    E(a = accept(s, NULL, NULL));
    E(send(c, "tcp data", 8, 0));
    int n = 0;
    while (n < 8) {
        int r = recv(a, buf + n, sizeof buf - n, 0);
        if (r <= 0)
            break;
        n += r;
    }
    printf("tcp received %.*s\n", n, buf);
    E(close(c));
    E(recv(a, buf, sizeof buf, 0));
    E(close(a));
    E(close(s));

    struct sockaddr_in u = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    len = sizeof u;
    E(s = socket(AF_INET, SOCK_DGRAM, 0));
    E(bind(s, (struct sockaddr *)&u, sizeof u));
    E(getsockname(s, (struct sockaddr *)&u, &len));
    E(c = socket(AF_INET, SOCK_DGRAM, 0));
    E(sendto(c, "udp!", 4, 0, (struct sockaddr *)&u, sizeof u));
    E(recvfrom(s, buf, sizeof buf, 0, NULL, NULL));
    E(close(c));
    E(close(s));
}

static void misuse(void)
{
    char buf[4];
    int s, sv[2];
    struct sockaddr_un addr = {.sun_family = AF_UNIX, .sun_path = "/nonexistent/dir/sock"};
    E(socket(AF_UNIX, 12345, 0));
    E(socket(12345, SOCK_STREAM, 0));
    E(s = socket(AF_UNIX, SOCK_STREAM, 0));
    E(connect(s, (struct sockaddr *)&addr, sizeof addr));
    E(accept(s, NULL, NULL));
    E(listen(0, 1));
    E(recv(s, buf, sizeof buf, 0));
    E(send(s, "x", 1, MSG_NOSIGNAL));
    E(getsockopt(s, SOL_SOCKET, 99999, buf, &(socklen_t){4}));
    E(close(s));
    E(socketpair(AF_INET, SOCK_STREAM, 0, sv));
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: u_sockets DIR\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    pairs();
    pass_fd();
    listening(argv[1]);
    inet();
    misuse();
    return 0;
}
