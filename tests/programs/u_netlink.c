/* Network interfaces through netlink (NETLINK_ROUTE): glibc's getifaddrs
 * and if_nameindex, then raw RTM_GETLINK requests by index and by name,
 * an unknown index (ENODEV in an NLMSG_ERROR) and the socket's name.
 * IPv6 addresses are left out (Wax reports IPv4 ones only). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void addresses(void) {
    struct ifaddrs *all;
    if (getifaddrs(&all) < 0) {
        printf("getifaddrs: %s\n", strerror(errno));
        return;
    }
    char *lines[64];
    int n = 0;
    for (struct ifaddrs *i = all; i && n < 64; i = i->ifa_next) {
        char line[256], a[INET_ADDRSTRLEN] = "", m[INET_ADDRSTRLEN] = "", b[INET_ADDRSTRLEN] = "";
        if (!i->ifa_addr)
            continue;
        if (i->ifa_addr->sa_family == AF_PACKET) {
            struct sockaddr_ll *ll = (struct sockaddr_ll *)i->ifa_addr;
            snprintf(line, sizeof line, "%s packet flags %#x type %d hw %02x:%02x:%02x:%02x:%02x:%02x",
                     i->ifa_name, i->ifa_flags, ll->sll_hatype, ll->sll_addr[0], ll->sll_addr[1],
                     ll->sll_addr[2], ll->sll_addr[3], ll->sll_addr[4], ll->sll_addr[5]);
        } else if (i->ifa_addr->sa_family == AF_INET) {
            inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, a, sizeof a);
            if (i->ifa_netmask)
                inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_netmask)->sin_addr, m, sizeof m);
            if ((i->ifa_flags & IFF_BROADCAST) && i->ifa_broadaddr)
                inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_broadaddr)->sin_addr, b, sizeof b);
            snprintf(line, sizeof line, "%s inet %s netmask %s broadcast %s flags %#x", i->ifa_name, a,
                     m, b[0] ? b : "-", i->ifa_flags);
        } else {
            continue;
        }
        lines[n++] = strdup(line);
    }
    freeifaddrs(all);
    qsort(lines, n, sizeof *lines, cmp);
    for (int i = 0; i < n; i++)
        printf("%s\n", lines[i]);
}

static void names(void) {
    struct if_nameindex *all = if_nameindex();
    if (!all) {
        printf("if_nameindex: %s\n", strerror(errno));
        return;
    }
    for (struct if_nameindex *i = all; i->if_index; i++)
        printf("index %u name %s (if_nametoindex %u)\n", i->if_index, i->if_name,
               if_nametoindex(i->if_name));
    if_freenameindex(all);
}

/* One RTM_GETLINK request (by index, or by name when index is 0); prints
 * what comes back until the ack. */
static void getlink(int s, int index, const char *name) {
    struct {
        struct nlmsghdr h;
        struct ifinfomsg i;
        char attrs[64];
    } req;
    memset(&req, 0, sizeof req);
    req.h.nlmsg_type = RTM_GETLINK;
    req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    req.h.nlmsg_seq = 42;
    req.i.ifi_family = AF_UNSPEC;
    req.i.ifi_index = index;
    size_t len = NLMSG_LENGTH(sizeof req.i);
    if (name) {
        struct rtattr *rta = (struct rtattr *)((char *)&req + NLMSG_ALIGN(len));
        rta->rta_type = IFLA_IFNAME;
        rta->rta_len = RTA_LENGTH(strlen(name) + 1);
        strcpy(RTA_DATA(rta), name);
        len = NLMSG_ALIGN(len) + RTA_ALIGN(rta->rta_len);
    }
    req.h.nlmsg_len = len;
    if (send(s, &req, len, 0) < 0) {
        printf("send: %s\n", strerror(errno));
        return;
    }
    for (int turns = 0; turns < 8; turns++) {
        char buf[8192];
        ssize_t n = recv(s, buf, sizeof buf, 0);
        if (n < 0) {
            printf("recv: %s\n", strerror(errno));
            return;
        }
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_seq != 42)
                printf("wrong sequence number %u\n", h->nlmsg_seq);
            if (h->nlmsg_type == NLMSG_ERROR) {
                struct nlmsgerr *e = NLMSG_DATA(h);
                printf("  error %s\n", e->error ? strerror(-e->error) : "none (ack)");
                return;
            }
            if (h->nlmsg_type == RTM_NEWLINK) {
                struct ifinfomsg *i = NLMSG_DATA(h);
                int alen = IFLA_PAYLOAD(h);
                printf("  link index %d type %d", i->ifi_index, i->ifi_type);
                for (struct rtattr *a = IFLA_RTA(i); RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
                    if (a->rta_type == IFLA_IFNAME)
                        printf(" name %s", (char *)RTA_DATA(a));
                    if (a->rta_type == IFLA_MTU)
                        printf(" mtu %u", *(unsigned *)RTA_DATA(a));
                }
                printf("\n");
            }
        }
    }
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    addresses();
    names();
    int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (s < 0) {
        printf("socket: %s\n", strerror(errno));
        return 0;
    }
    struct sockaddr_nl me = {.nl_family = AF_NETLINK};
    printf("bind: %d\n", bind(s, (struct sockaddr *)&me, sizeof me));
    socklen_t len = sizeof me;
    getsockname(s, (struct sockaddr *)&me, &len);
    printf("name: family %d, pid is mine %d, length %u\n", me.nl_family, me.nl_pid == (unsigned)getpid(),
           len);
    printf("link 1:\n");
    getlink(s, 1, NULL);
    printf("link lo by name:\n");
    getlink(s, 0, "lo");
    printf("link 9999:\n");
    getlink(s, 9999, NULL);
    int r = listen(s, 1);
    printf("listen: %d %s\n", r, r < 0 ? strerror(errno) : "");
    close(s);
    return 0;
}
