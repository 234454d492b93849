/* One end of an HTTP-like exchange over TCP on 127.0.0.1, for tests that
 * put the other end on the host:
 *   u_netpeer get PORT        sends a request, prints the reply
 *   u_netpeer serve TOKEN     listens on an ephemeral port, prints it,
 *                             answers one request with TOKEN */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int get(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
        printf("connect: errno %d\n", errno);
        return 1;
    }
    const char *req = "GET / HTTP/1.0\r\n\r\n";
    write(s, req, strlen(req));
    char buf[4096];
    int n;
    while ((n = read(s, buf, sizeof buf)) > 0)
        fwrite(buf, 1, n, stdout);
    return 0;
}

static int serve(const char *token)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 1) < 0) {
        printf("listen: errno %d\n", errno);
        return 1;
    }
    getsockname(s, (struct sockaddr *)&a, &len);
    printf("%d\n", ntohs(a.sin_port));
    fflush(stdout);
    int c = accept(s, NULL, NULL);
    char buf[4096];
    int n = 0, r;
    while (n < (int)sizeof buf - 1 && (r = read(c, buf + n, sizeof buf - 1 - n)) > 0) {
        n += r;
        buf[n] = 0;
        if (strstr(buf, "\r\n\r\n"))
            break;
    }
    dprintf(c, "HTTP/1.0 200 OK\r\nContent-Length: %zu\r\n\r\n%s", strlen(token), token);
    close(c);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "get") == 0)
        return get(atoi(argv[2]));
    if (argc == 3 && strcmp(argv[1], "serve") == 0)
        return serve(argv[2]);
    fprintf(stderr, "usage: u_netpeer get PORT | serve TOKEN\n");
    return 2;
}
