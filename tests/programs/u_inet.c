/* Internet sockets on the loopback interface: TCP and UDP over IPv4 and
 * IPv6, blocking and non-blocking connect, refused connections, ports in
 * use, half-close, SIGPIPE, datagram boundaries, socket options, and
 * readiness through poll, select and epoll (edge-triggered too).
 *
 * Only loopback addresses (127.0.0.1, ::1) are ever used. Ephemeral port
 * numbers differ between runs, so only facts about them are printed. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define E(x)                                                                 \
    do {                                                                     \
        errno = 0;                                                           \
        long r_ = (long)(x);                                                 \
        printf("%-60s = %ld errno %d\n", #x, r_, r_ < 0 ? errno : 0);        \
    } while (0)

/* For calls returning a descriptor, whose number depends on what the
 * parent left open. */
#define F(x)                                                                 \
    do {                                                                     \
        errno = 0;                                                           \
        long r_ = (long)(x);                                                 \
        printf("%-60s = %s errno %d\n", #x, r_ < 0 ? "-1" : "fd", r_ < 0 ? errno : 0); \
    } while (0)

typedef struct sockaddr SA;

static int family;
static volatile int sigpipes;

static void on_pipe(int sig)
{
    (void)sig;
    sigpipes++;
}

/* The loopback address of the current family, port 0. */
static socklen_t loop_addr(struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        return sizeof *a;
    }
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sizeof *a;
}

static int port_of(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
    return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

/* The address without its port, as text. */
static const char *host_of(const struct sockaddr_storage *ss, char *buf)
{
    const void *p = ss->ss_family == AF_INET6
                        ? (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr
                        : (const void *)&((const struct sockaddr_in *)ss)->sin_addr;
    inet_ntop(ss->ss_family, p, buf, INET6_ADDRSTRLEN);
    return buf;
}

static void show_name(const char *what, int fd, int peer)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char buf[INET6_ADDRSTRLEN];
    int r = peer ? getpeername(fd, (SA *)&ss, &len) : getsockname(fd, (SA *)&ss, &len);
    if (r < 0) {
        printf("%s: errno %d\n", what, errno);
        return;
    }
    printf("%s: family %d len %u host %s port set %d\n", what, ss.ss_family, len,
           host_of(&ss, buf), port_of(&ss) != 0);
}

/* A listening socket on the loopback address; its name in *ss. */
static int listener(struct sockaddr_storage *ss, socklen_t *len)
{
    int one = 1;
    int s = socket(family, SOCK_STREAM, 0);
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    *len = loop_addr(ss);
    if (bind(s, (SA *)ss, *len) < 0 || listen(s, 8) < 0)
        printf("listener failed: errno %d\n", errno);
    *len = sizeof *ss;
    getsockname(s, (SA *)ss, len);
    return s;
}

static void show_poll(const char *what, int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events};
    int n = poll(&p, 1, 0);
    printf("poll %s: %d revents %#x\n", what, n, p.revents);
}

static void tcp_basic(void)
{
    struct sockaddr_storage ss, peer;
    socklen_t len, plen = sizeof peer;
    char buf[64];
    int s = listener(&ss, &len);
    show_name("listener name", s, 0);
    int c;
    F(c = socket(family, SOCK_STREAM, 0));
    E(connect(c, (SA *)&ss, len));
    show_name("client name", c, 0);
    show_name("client peer", c, 1);
    int a;
    F(a = accept4(s, (SA *)&peer, &plen, SOCK_CLOEXEC | SOCK_NONBLOCK));
    printf("accepted peer len %u family %d\n", plen, peer.ss_family);
    printf("accepted: cloexec %d nonblock %d\n", (fcntl(a, F_GETFD) & FD_CLOEXEC) != 0,
           (fcntl(a, F_GETFL) & O_NONBLOCK) != 0);
    show_name("accepted name", a, 0);
    show_name("accepted peer", a, 1);
    E(recv(a, buf, sizeof buf, 0));
    E(send(c, "hello", 5, 0));
    E(write(c, " world", 6));
    int avail = -1;
    E(ioctl(a, FIONREAD, &avail));
    printf("FIONREAD %d\n", avail);
    E(recv(a, buf, 3, MSG_PEEK));
    E(recv(a, buf, sizeof buf, 0));
    printf("got %.11s\n", buf);
    E(recv(a, buf, sizeof buf, MSG_DONTWAIT));
    show_poll("server idle", a, POLLIN | POLLOUT | POLLRDHUP);
    /* Half-close: the client stops writing, the server still answers. */
    E(shutdown(c, SHUT_WR));
    show_poll("server after peer SHUT_WR", a, POLLIN | POLLOUT | POLLRDHUP);
    E(recv(a, buf, sizeof buf, 0));
    E(send(a, "reply", 5, 0));
    E(recv(c, buf, sizeof buf, 0));
    E(send(c, "x", 1, MSG_NOSIGNAL));
    E(close(a));
    E(recv(c, buf, sizeof buf, 0));
    show_poll("client after close", c, POLLIN | POLLOUT | POLLRDHUP);
    E(close(c));
    /* Writing to a connection the peer has closed: the first write is
     * answered with a reset, the next fails with EPIPE and SIGPIPE. */
    F(c = socket(family, SOCK_STREAM, 0));
    E(connect(c, (SA *)&ss, len));
    F(a = accept(s, NULL, NULL));
    E(close(a));
    E(recv(c, buf, sizeof buf, 0));
    E(send(c, "a", 1, 0));
    usleep(20000);
    sigpipes = 0;
    E(send(c, "b", 1, 0));
    printf("sigpipes %d\n", sigpipes);
    E(send(c, "c", 1, MSG_NOSIGNAL));
    printf("sigpipes %d\n", sigpipes);
    int err = -1;
    socklen_t elen = sizeof err;
    E(getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &elen));
    printf("SO_ERROR %d\n", err);
    E(close(c));
    /* Closing with unread data resets the connection. */
    F(c = socket(family, SOCK_STREAM, 0));
    E(connect(c, (SA *)&ss, len));
    F(a = accept(s, NULL, NULL));
    E(send(c, "unread", 6, 0));
    usleep(20000);
    E(close(a));
    usleep(20000);
    E(recv(c, buf, sizeof buf, 0));
    E(recv(c, buf, sizeof buf, 0));
    E(close(c));
    E(close(s));
}

static void tcp_errors(void)
{
    struct sockaddr_storage ss, ss2;
    socklen_t len;
    char buf[8];
    int one = 1;
    /* A bound, non-listening port refuses connections. */
    int b = socket(family, SOCK_STREAM, 0);
    len = loop_addr(&ss);
    E(bind(b, (SA *)&ss, len));
    E(bind(b, (SA *)&ss, len));
    len = sizeof ss;
    getsockname(b, (SA *)&ss, &len);
    int c;
    F(c = socket(family, SOCK_STREAM, 0));
    E(recv(c, buf, sizeof buf, 0));
    E(send(c, "x", 1, MSG_NOSIGNAL));
    E(shutdown(c, SHUT_RD));
    show_name("unconnected peer", c, 1);
    E(accept(c, NULL, NULL));
    E(connect(c, (SA *)&ss, len));
    E(connect(c, (SA *)&ss, len));
    E(close(c));
    F(c = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0));
    int r = connect(c, (SA *)&ss, len);
    printf("non-blocking connect to a closed port: %s\n",
           r == 0 ? "0" : errno == EINPROGRESS ? "EINPROGRESS" : strerror(errno));
    struct pollfd p = {.fd = c, .events = POLLIN | POLLOUT};
    E(poll(&p, 1, 1000));
    printf("revents %#x\n", p.revents);
    int err = -1;
    socklen_t elen = sizeof err;
    E(getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &elen));
    printf("SO_ERROR %d\n", err);
    E(close(c));
    /* Ports in use. */
    int d;
    F(d = socket(family, SOCK_STREAM, 0));
    E(bind(d, (SA *)&ss, len));
    E(setsockopt(b, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
    E(setsockopt(d, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
    E(bind(d, (SA *)&ss, len));
    E(listen(b, 4));
    E(close(d));
    F(d = socket(family, SOCK_STREAM, 0));
    E(setsockopt(d, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
    E(bind(d, (SA *)&ss, len));
    /* The wildcard address overlaps the loopback one. */
    memset(&ss2, 0, sizeof ss2);
    ss2.ss_family = family;
    if (family == AF_INET6)
        ((struct sockaddr_in6 *)&ss2)->sin6_port = ((struct sockaddr_in6 *)&ss)->sin6_port;
    else
        ((struct sockaddr_in *)&ss2)->sin_port = ((struct sockaddr_in *)&ss)->sin_port;
    E(close(d));
    F(d = socket(family, SOCK_STREAM, 0));
    E(bind(d, (SA *)&ss2, len));
    E(close(d));
    E(listen(b, 4));
    E(connect(b, (SA *)&ss, len));
    E(close(b));
    /* Wrong address families and lengths. */
    F(c = socket(family, SOCK_STREAM, 0));
    E(bind(c, (SA *)&ss, 4));
    struct sockaddr_un_like {
        unsigned short fam;
        char rest[30];
    } bogus = {.fam = AF_UNIX};
    E(bind(c, (SA *)&bogus, sizeof bogus));
    E(connect(c, (SA *)&bogus, sizeof bogus));
    E(close(c));
}

static void nonblocking_connect(void)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int s = listener(&ss, &len);
    int c;
    F(c = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0));
    int r = connect(c, (SA *)&ss, len);
    printf("non-blocking connect: %s\n",
           r == 0 ? "0" : errno == EINPROGRESS ? "EINPROGRESS" : strerror(errno));
    struct pollfd p = {.fd = c, .events = POLLOUT};
    E(poll(&p, 1, 1000));
    printf("revents %#x\n", p.revents);
    int err = -1;
    socklen_t elen = sizeof err;
    E(getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &elen));
    printf("SO_ERROR %d\n", err);
    E(connect(c, (SA *)&ss, len));
    show_poll("listener with a pending connection", s, POLLIN | POLLOUT);
    int a;
    F(a = accept(s, NULL, NULL));
    show_poll("listener drained", s, POLLIN | POLLOUT);
    int fl = fcntl(s, F_GETFL);
    fcntl(s, F_SETFL, fl | O_NONBLOCK);
    E(accept(s, NULL, NULL));
    /* Fill the connection: non-blocking sends stop with EAGAIN. */
    static char chunk[65536];
    long sent = 0;
    for (int i = 0; i < 10000; i++) {
        r = send(c, chunk, sizeof chunk, MSG_DONTWAIT);
        if (r < 0)
            break;
        sent += r;
    }
    printf("filled: sent some %d, stopped with %s\n", sent > 0,
           errno == EAGAIN ? "EAGAIN" : strerror(errno));
    show_poll("full sender", c, POLLOUT);
    long got = 0;
    char buf[65536];
    while ((r = recv(a, buf, sizeof buf, MSG_DONTWAIT)) > 0)
        got += r;
    printf("drained all %d\n", got == sent);
    show_poll("drained sender", c, POLLOUT);
    E(close(a));
    E(close(c));
    E(close(s));
}

/* A child serves one connection with blocking calls; the parent sends
 * 4 MB through it and reads the checksum back. */
static void blocking_transfer(void)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int s = listener(&ss, &len);
    pid_t pid = fork();
    if (pid == 0) {
        int a = accept(s, NULL, NULL);
        unsigned sum = 0, n = 0;
        char buf[10000];
        int r;
        while ((r = read(a, buf, sizeof buf)) > 0) {
            for (int i = 0; i < r; i++)
                sum = sum * 31 + (unsigned char)buf[i];
            n += r;
        }
        char out[64];
        int k = snprintf(out, sizeof out, "%u %u", n, sum);
        write(a, out, k);
        _exit(0);
    }
    close(s);
    int c = socket(family, SOCK_STREAM, 0);
    if (connect(c, (SA *)&ss, len) < 0)
        printf("connect failed: errno %d\n", errno);
    static char data[1 << 20];
    unsigned sum = 0;
    for (int i = 0; i < (int)sizeof data; i++) {
        data[i] = (char)(i * 7 + (i >> 9));
    }
    for (int round = 0; round < 4; round++)
        for (int i = 0; i < (int)sizeof data; i++)
            sum = sum * 31 + (unsigned char)data[i];
    for (int round = 0; round < 4; round++) {
        size_t off = 0;
        while (off < sizeof data) {
            ssize_t r = write(c, data + off, sizeof data - off);
            if (r <= 0) {
                printf("write failed: errno %d\n", errno);
                break;
            }
            off += r;
        }
    }
    shutdown(c, SHUT_WR);
    char buf[64] = {0};
    int n = 0, r;
    while ((r = read(c, buf + n, sizeof buf - 1 - n)) > 0)
        n += r;
    char want[64];
    snprintf(want, sizeof want, "%u %u", 4u << 20, sum);
    printf("transfer checksum matches %d\n", strcmp(buf, want) == 0);
    int status;
    waitpid(pid, &status, 0);
    printf("child status %d\n", status);
    close(c);
}

static void udp(void)
{
    struct sockaddr_storage ss, from;
    socklen_t len, flen;
    char buf[64];
    int s, c;
    F(s = socket(family, SOCK_DGRAM, 0));
    len = loop_addr(&ss);
    E(bind(s, (SA *)&ss, len));
    len = sizeof ss;
    E(getsockname(s, (SA *)&ss, &len));
    F(c = socket(family, SOCK_DGRAM, 0));
    E(recv(s, buf, sizeof buf, MSG_DONTWAIT));
    E(sendto(c, "one", 3, 0, (SA *)&ss, len));
    E(sendto(c, "three", 5, 0, (SA *)&ss, len));
    E(sendto(c, "", 0, 0, (SA *)&ss, len));
    E(sendto(c, "truncated!", 10, 0, (SA *)&ss, len));
    show_name("udp sender", c, 0);
    int avail = -1;
    E(ioctl(s, FIONREAD, &avail));
    printf("FIONREAD %d\n", avail);
    E(recv(s, buf, sizeof buf, MSG_PEEK));
    flen = sizeof from;
    E(recvfrom(s, buf, sizeof buf, 0, (SA *)&from, &flen));
    struct sockaddr_storage cname;
    socklen_t clen = sizeof cname;
    getsockname(c, (SA *)&cname, &clen);
    printf("from is the sender %d\n", flen == clen && memcmp(&from, &cname, clen) == 0);
    E(recv(s, buf, sizeof buf, 0));
    E(recv(s, buf, sizeof buf, 0));
    struct iovec iov = {.iov_base = buf, .iov_len = 4};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    E(recvmsg(s, &mh, 0));
    printf("msg_flags MSG_TRUNC %d\n", (mh.msg_flags & MSG_TRUNC) != 0);
    E(sendto(c, "again", 5, 0, (SA *)&ss, len));
    E(recv(s, buf, 2, MSG_TRUNC));
    /* A connected datagram socket whose peer port is closed learns it
     * from the port-unreachable answer. */
    struct sockaddr_storage dead;
    socklen_t dlen = loop_addr(&dead);
    int d = socket(family, SOCK_DGRAM, 0);
    bind(d, (SA *)&dead, dlen);
    dlen = sizeof dead;
    getsockname(d, (SA *)&dead, &dlen);
    close(d);
    E(connect(c, (SA *)&dead, dlen));
    show_name("connected udp peer", c, 1);
    E(send(c, "lost", 4, 0));
    usleep(20000);
    E(recv(c, buf, sizeof buf, MSG_DONTWAIT));
    E(recv(c, buf, sizeof buf, MSG_DONTWAIT));
    /* connect(AF_UNSPEC) dissolves the association. */
    struct sockaddr unspec = {.sa_family = AF_UNSPEC};
    E(connect(c, &unspec, sizeof unspec));
    E(send(c, "x", 1, 0));
    E(connect(c, (SA *)&ss, len));
    E(send(c, "via connect", 11, 0));
    E(recv(s, buf, sizeof buf, 0));
    E(listen(s, 1));
    E(accept(s, NULL, NULL));
    E(close(c));
    E(close(s));
}

static void options(void)
{
    int s = socket(family, SOCK_STREAM, 0);
    int v, one = 1;
    socklen_t l = sizeof v;
#define GET(level, opt)                                                      \
    do {                                                                     \
        v = -1;                                                              \
        l = sizeof v;                                                        \
        E(getsockopt(s, level, opt, &v, &l));                               \
        printf("  " #opt " = %d (len %u)\n", v, l);                          \
    } while (0)
    GET(SOL_SOCKET, SO_TYPE);
    GET(SOL_SOCKET, SO_DOMAIN);
    GET(SOL_SOCKET, SO_PROTOCOL);
    GET(SOL_SOCKET, SO_ACCEPTCONN);
    GET(SOL_SOCKET, SO_REUSEADDR);
    GET(SOL_SOCKET, SO_KEEPALIVE);
    GET(IPPROTO_TCP, TCP_NODELAY);
    E(setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one));
    E(setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one));
    E(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
    GET(SOL_SOCKET, SO_KEEPALIVE);
    GET(IPPROTO_TCP, TCP_NODELAY);
    GET(SOL_SOCKET, SO_REUSEADDR);
    v = 65536;
    E(setsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, sizeof v));
    GET(SOL_SOCKET, SO_RCVBUF);
    v = 32768;
    E(setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof v));
    GET(SOL_SOCKET, SO_SNDBUF);
    struct linger lg = {.l_onoff = 1, .l_linger = 5}, lg2;
    E(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
    l = sizeof lg2;
    E(getsockopt(s, SOL_SOCKET, SO_LINGER, &lg2, &l));
    printf("  SO_LINGER = %d %d (len %u)\n", lg2.l_onoff, lg2.l_linger, l);
    if (family == AF_INET6) {
        GET(IPPROTO_IPV6, IPV6_V6ONLY);
        E(setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one));
        GET(IPPROTO_IPV6, IPV6_V6ONLY);
    }
    E(setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &one, 2));
    E(getsockopt(s, SOL_SOCKET, 9999, &v, &l));
    E(close(s));
    s = socket(family, SOCK_DGRAM, 0);
    GET(SOL_SOCKET, SO_TYPE);
    GET(SOL_SOCKET, SO_PROTOCOL);
    E(close(s));
#undef GET
}

static void epoll_edges(void)
{
    struct sockaddr_storage ss;
    socklen_t len;
    struct epoll_event e, out[4];
    char buf[64];
    int s = listener(&ss, &len);
    int ep = epoll_create1(0);
    e.events = EPOLLIN;
    e.data.u32 = 1;
    epoll_ctl(ep, EPOLL_CTL_ADD, s, &e);
    E(epoll_wait(ep, out, 4, 0));
    int c = socket(family, SOCK_STREAM, 0);
    E(connect(c, (SA *)&ss, len));
    E(epoll_wait(ep, out, 4, 100));
    printf("events %#x data %u\n", out[0].events, out[0].data.u32);
    int a = accept4(s, NULL, NULL, SOCK_NONBLOCK);
    e.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
    e.data.u32 = 2;
    E(epoll_ctl(ep, EPOLL_CTL_ADD, a, &e));
    E(epoll_wait(ep, out, 4, 0));
    E(send(c, "abc", 3, 0));
    E(epoll_wait(ep, out, 4, 100));
    printf("events %#x data %u\n", out[0].events, out[0].data.u32);
    E(epoll_wait(ep, out, 4, 0));
    E(send(c, "def", 3, 0));
    E(epoll_wait(ep, out, 4, 100));
    E(recv(a, buf, sizeof buf, 0));
    E(recv(a, buf, sizeof buf, 0));
    E(shutdown(c, SHUT_WR));
    E(epoll_wait(ep, out, 4, 100));
    printf("events %#x data %u\n", out[0].events, out[0].data.u32);
    /* select on the write side. */
    fd_set r, w;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_SET(c, &r);
    FD_SET(c, &w);
    struct timeval tv = {0, 0};
    E(select(c + 1, &r, &w, NULL, &tv));
    printf("readable %d writable %d\n", FD_ISSET(c, &r) != 0, FD_ISSET(c, &w) != 0);
    /* A thread-free wakeup: a child connects later while we block. */
    pid_t pid = fork();
    if (pid == 0) {
        usleep(50000);
        int k = socket(family, SOCK_STREAM, 0);
        connect(k, (SA *)&ss, len);
        write(k, "late", 4);
        close(k);
        _exit(0);
    }
    int b;
    F(b = accept(s, NULL, NULL));
    int n = 0, got;
    while ((got = read(b, buf + n, sizeof buf - n)) > 0)
        n += got;
    printf("late client sent %.*s\n", n, buf);
    waitpid(pid, NULL, 0);
    close(b);
    close(a);
    close(c);
    close(ep);
    close(s);
}

/* An IPv6 socket bound to the wildcard also accepts IPv4 connections,
 * seen as v4-mapped addresses. */
static void dual_stack(void)
{
    struct sockaddr_in6 any = {.sin6_family = AF_INET6, .sin6_addr = in6addr_any};
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int s = socket(AF_INET6, SOCK_STREAM, 0);
    E(bind(s, (SA *)&any, sizeof any));
    E(listen(s, 4));
    getsockname(s, (SA *)&ss, &len);
    struct sockaddr_in v4 = {.sin_family = AF_INET,
                             .sin_port = ((struct sockaddr_in6 *)&ss)->sin6_port,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int c = socket(AF_INET, SOCK_STREAM, 0);
    E(connect(c, (SA *)&v4, sizeof v4));
    int a;
    F(a = accept(s, NULL, NULL));
    show_name("v6 accepted name", a, 0);
    show_name("v6 accepted peer", a, 1);
    close(a);
    close(c);
    int d = socket(AF_INET, SOCK_STREAM, 0);
    E(bind(d, (SA *)&v4, sizeof v4));
    close(d);
    close(s);
    int one = 1;
    s = socket(AF_INET6, SOCK_STREAM, 0);
    setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    E(bind(s, (SA *)&any, sizeof any));
    E(listen(s, 4));
    len = sizeof ss;
    getsockname(s, (SA *)&ss, &len);
    v4.sin_port = ((struct sockaddr_in6 *)&ss)->sin6_port;
    c = socket(AF_INET, SOCK_STREAM, 0);
    E(connect(c, (SA *)&v4, sizeof v4));
    close(c);
    close(s);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGPIPE, on_pipe);
    E(socketpair(AF_INET, SOCK_STREAM, 0, (int[2]){0}));
    E(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP));
    E(socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP));
    E(socket(AF_INET, SOCK_RAW, IPPROTO_ICMP) >= 0 || errno == EPERM);
    int fams[2] = {AF_INET, AF_INET6};
    for (int i = 0; i < 2; i++) {
        family = fams[i];
        printf("=== family %d\n", family);
        tcp_basic();
        tcp_errors();
        nonblocking_connect();
        blocking_transfer();
        udp();
        options();
        epoll_edges();
    }
    printf("=== dual stack\n");
    dual_stack();
    return 0;
}
