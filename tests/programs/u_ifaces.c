/* Network interfaces through the socket ioctls: SIOCGIFCONF, then each
 * interface's flags, address, netmask, MTU, index and link address, and
 * SIOCGIFNAME back from the index; an unknown name gives ENODEV. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static void show(int s, const char *name)
{
    struct ifreq r;
    char buf[INET_ADDRSTRLEN];
    memset(&r, 0, sizeof r);
    strncpy(r.ifr_name, name, IFNAMSIZ - 1);
    if (ioctl(s, SIOCGIFFLAGS, &r) == 0)
        printf("%s flags %#x\n", name, r.ifr_flags & 0xffff);
    if (ioctl(s, SIOCGIFADDR, &r) == 0)
        printf("%s addr %s\n", name,
               inet_ntop(AF_INET, &((struct sockaddr_in *)&r.ifr_addr)->sin_addr, buf, sizeof buf));
    if (ioctl(s, SIOCGIFNETMASK, &r) == 0)
        printf("%s netmask %s\n", name,
               inet_ntop(AF_INET, &((struct sockaddr_in *)&r.ifr_netmask)->sin_addr, buf, sizeof buf));
    if (ioctl(s, SIOCGIFMTU, &r) == 0)
        printf("%s mtu %d\n", name, r.ifr_mtu);
    if (ioctl(s, SIOCGIFHWADDR, &r) == 0) {
        unsigned char *m = (unsigned char *)r.ifr_hwaddr.sa_data;
        printf("%s hw %d %02x:%02x:%02x:%02x:%02x:%02x\n", name, r.ifr_hwaddr.sa_family, m[0],
               m[1], m[2], m[3], m[4], m[5]);
    }
    if (ioctl(s, SIOCGIFINDEX, &r) == 0) {
        int index = r.ifr_ifindex;
        memset(r.ifr_name, 0, sizeof r.ifr_name);
        r.ifr_ifindex = index;
        int ok = ioctl(s, SIOCGIFNAME, &r) == 0 && strcmp(r.ifr_name, name) == 0;
        printf("%s index %d name round trip %d\n", name, index, ok);
    }
}

int main(void)
{
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct ifconf c = {.ifc_len = 0, .ifc_buf = NULL};
    int r0 = ioctl(s, SIOCGIFCONF, &c);
    printf("SIOCGIFCONF size query %d, %d entries\n", r0, c.ifc_len / (int)sizeof(struct ifreq));
    struct ifreq reqs[32];
    c.ifc_len = sizeof reqs;
    c.ifc_req = reqs;
    r0 = ioctl(s, SIOCGIFCONF, &c);
    printf("SIOCGIFCONF %d, %d entries\n", r0, c.ifc_len / (int)sizeof(struct ifreq));
    for (int i = 0; i < c.ifc_len / (int)sizeof(struct ifreq); i++)
        show(s, reqs[i].ifr_name);
    struct ifreq r;
    memset(&r, 0, sizeof r);
    strcpy(r.ifr_name, "nosuch0");
    errno = 0;
    r0 = ioctl(s, SIOCGIFFLAGS, &r);
    printf("unknown: %d errno %d\n", r0, errno);
    close(s);
    return 0;
}
