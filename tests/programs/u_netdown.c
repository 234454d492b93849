/* Internet sockets on a machine whose network is down (a fresh network
 * namespace natively, `wax run --net none`): sockets can be created,
 * bound and put to listen, but nothing can be reached, not even the
 * loopback address. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#define E(x)                                                                 \
    do {                                                                     \
        errno = 0;                                                           \
        long r_ = (long)(x);                                                 \
        printf("%-60s = %s errno %d\n", #x, r_ < 0 ? "-1" : "ok", r_ < 0 ? errno : 0); \
    } while (0)

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    struct sockaddr_in lo = {.sin_family = AF_INET, .sin_port = htons(9)};
    lo.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct sockaddr_in any = {.sin_family = AF_INET};
    struct sockaddr_in6 lo6 = {.sin6_family = AF_INET6, .sin6_port = htons(9)};
    lo6.sin6_addr = in6addr_loopback;
    int s, u, s6;
    E(s = socket(AF_INET, SOCK_STREAM, 0));
    E(connect(s, (struct sockaddr *)&lo, sizeof lo));
    E(bind(s, (struct sockaddr *)&any, sizeof any));
    E(listen(s, 1));
    E(u = socket(AF_INET, SOCK_DGRAM, 0));
    E(bind(u, (struct sockaddr *)&lo, sizeof lo));
    E(sendto(u, "x", 1, 0, (struct sockaddr *)&lo, sizeof lo));
    E(s6 = socket(AF_INET6, SOCK_STREAM, 0));
    E(connect(s6, (struct sockaddr *)&lo6, sizeof lo6));
    close(s);
    close(u);
    close(s6);
    return 0;
}
