/* Credentials on Unix sockets after a process changes its ids: SO_PEERCRED
 * shows the effective ids of whoever created (socketpair), connected or
 * listened, SCM_CREDENTIALS the pid and real ids of the sender at the time
 * of each send (write(2) included), and a sender may claim only its own
 * pid and one of its real, effective or saved ids. Prints only
 * deterministic facts (pids as "parent"/"child"/"other"); needs to start as
 * root (as wax's default user is). The listening socket is
 * /tmp/u_peercred.PID.sock; argv[1] (the harness's scratch directory) is
 * not used. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

static pid_t parent, child;

static const char *who(pid_t pid) {
    if (pid == 0)
        return "0";
    if (pid == parent)
        return "parent";
    if (pid == child || (child == 0 && pid == getpid()))
        return "child";
    return "other";
}

static void say(const char *what, int r) {
    printf("%s: %s\n", what, r < 0 ? strerrorname_np(errno) : "ok");
}

static void peercred(const char *what, int fd) {
    struct ucred c;
    socklen_t len = sizeof c;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c, &len) < 0) {
        say(what, -1);
        return;
    }
    printf("%s: SO_PEERCRED pid %s uid %d gid %d (len %u)\n", what, who(c.pid), (int)c.uid,
           (int)c.gid, (unsigned)len);
}

/* Receives one message on `fd` (SO_PASSCRED set) and prints its
 * credentials; it must be there already. */
static void receive(const char *what, int fd) {
    char data[64];
    union {
        char buf[CMSG_SPACE(sizeof(struct ucred))];
        struct cmsghdr align;
    } u;
    struct iovec iov = {data, sizeof data};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                       .msg_controllen = sizeof u.buf};
    ssize_t n = recvmsg(fd, &m, MSG_DONTWAIT);
    if (n < 0) {
        say(what, -1);
        return;
    }
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_CREDENTIALS) {
        printf("%s: %zd bytes, no credentials\n", what, n);
        return;
    }
    struct ucred cr;
    memcpy(&cr, CMSG_DATA(c), sizeof cr);
    printf("%s: %zd bytes from pid %s uid %d gid %d\n", what, n, who(cr.pid), (int)cr.uid,
           (int)cr.gid);
}

/* Sends "x" claiming credentials `c`. */
static int send_claiming(int fd, struct ucred c) {
    union {
        char buf[CMSG_SPACE(sizeof(struct ucred))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    struct iovec iov = {"x", 1};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                       .msg_controllen = sizeof u.buf};
    struct cmsghdr *h = CMSG_FIRSTHDR(&m);
    h->cmsg_level = SOL_SOCKET;
    h->cmsg_type = SCM_CREDENTIALS;
    h->cmsg_len = CMSG_LEN(sizeof c);
    memcpy(CMSG_DATA(h), &c, sizeof c);
    return sendmsg(fd, &m, 0) < 0 ? -1 : 0;
}

int main(int argc, char **argv) {
    if (geteuid() != 0) {
        puts("needs root (as wax's default user is)");
        return 0;
    }
    (void)argc;
    (void)argv;
    parent = getpid();
    int one = 1;

    int lone = socket(AF_UNIX, SOCK_STREAM, 0);
    peercred("unconnected", lone);

    /* Made by the parent as root: the child writes into `pair[0]` later. */
    int pair[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, pair);
    setsockopt(pair[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
    peercred("root's socketpair", pair[0]);
    int dgram[2];
    socketpair(AF_UNIX, SOCK_DGRAM, 0, dgram);
    setsockopt(dgram[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof one);

    /* In /tmp, not in the scratch directory: the child connects with
     * other ids, and the scratch directory's parents (a CI checkout)
     * may be closed to them. */
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof addr.sun_path, "/tmp/u_peercred.%d.sock", (int)parent);
    unlink(addr.sun_path);
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    say("bind", bind(l, (struct sockaddr *)&addr, sizeof addr));
    /* Connecting needs write permission on the socket file. */
    chmod(addr.sun_path, 0777);
    say("listen as root", listen(l, 4));
    setsockopt(l, SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
    fflush(stdout);

    child = fork();
    if (child == 0) {
        /* Real, effective and saved ids all different. */
        say("setresgid 100 200 300", setresgid(100, 200, 300));
        say("setresuid 1000 2000 3000", setresuid(1000, 2000, 3000));
        int mine[2];
        socketpair(AF_UNIX, SOCK_STREAM, 0, mine);
        peercred("child's socketpair", mine[0]);
        peercred("root's socketpair seen by the child", pair[0]);

        int c = socket(AF_UNIX, SOCK_STREAM, 0);
        say("connect", connect(c, (struct sockaddr *)&addr, sizeof addr));
        peercred("child's connected socket", c);
        say("write on the connection", write(c, "abc", 3) == 3 ? 0 : -1);

        say("write on root's socketpair", write(pair[0], "hello", 5) == 5 ? 0 : -1);
        say("send on root's datagram pair", send(dgram[0], "dg", 2, 0) == 2 ? 0 : -1);

        struct ucred claim = {getpid(), 2000, 200};
        say("claim euid/egid", send_claiming(dgram[0], claim));
        claim = (struct ucred){getpid(), 3000, 300};
        say("claim suid/sgid", send_claiming(dgram[0], claim));
        claim = (struct ucred){getpid(), 0, 100};
        say("claim uid 0", send_claiming(dgram[0], claim));
        claim = (struct ucred){getpid(), 1000, 0};
        say("claim gid 0", send_claiming(dgram[0], claim));
        claim = (struct ucred){getppid(), 1000, 100};
        say("claim the parent's pid", send_claiming(dgram[0], claim));
        claim = (struct ucred){getpid(), (uid_t)-1, 100};
        say("claim uid -1", send_claiming(dgram[0], claim));
        fflush(stdout);
        _exit(0);
    }
    /* Everything the child sent stays queued after it has gone, and so
     * do the credentials of the connection it made. */
    int status;
    waitpid(child, &status, 0);
    printf("child status %d\n", status);
    /* The connection is queued already: never wait for one. */
    fcntl(l, F_SETFL, O_NONBLOCK);
    int s = accept4(l, 0, 0, SOCK_NONBLOCK);
    peercred("accepted connection", s);
    receive("read on the connection", s);
    receive("read on root's socketpair", pair[1]);
    receive("datagram", dgram[1]);
    receive("claimed euid/egid", dgram[1]);
    receive("claimed suid/sgid", dgram[1]);

    /* Root may claim any ids and any live process's pid. */
    struct ucred claim = {getpid(), 1234, 5678};
    say("root claims other ids", send_claiming(dgram[0], claim));
    receive("root's claim", dgram[1]);
    int hold[2];
    pipe(hold);
    pid_t other = fork();
    if (other == 0) {
        char b;
        close(hold[1]);
        read(hold[0], &b, 1);
        _exit(0);
    }
    close(hold[0]);
    claim = (struct ucred){other, 0, 0};
    say("root claims another live process's pid", send_claiming(dgram[0], claim));
    receive("root's claim of a pid", dgram[1]);
    close(hold[1]);
    waitpid(other, &status, 0);
    claim = (struct ucred){child, 0, 0};
    say("root claims a reaped child's pid", send_claiming(dgram[0], claim));
    unlink(addr.sun_path);
    return 0;
}
