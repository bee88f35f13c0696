/* A program outside memio's tree, built against the installed package: it
 * opens an in-memory TUN, injects a packet and reads it back.  It includes
 * the system's packet headers first, as network code does, so that a field
 * name in memio's headers that one of their macros takes (ip6_flow did)
 * breaks this build. */
#include <fcntl.h>
#include <net/ethernet.h>
#include <netinet/icmp6.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/ip_icmp.h>
#include <netinet/udp.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/if_tun.h>

#include <memio/memio.h>

int main(void)
{
    static const unsigned char pkt[20] = {0x45, 0, 0, 20, 0, 0, 0x40, 0, 64, 17};
    unsigned char buf[64];
    struct ifreq ifr;
    memio_sys *sys = memio_sys_memory();
    int fd;

    if (!sys || memio_register_tun(sys) < 0)
        return 1;
    fd = memio_open(sys, "/dev/net/tun", O_RDWR | O_NONBLOCK);
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    if (fd < 0 || memio_ioctl(sys, fd, TUNSETIFF, &ifr) < 0)
        return 1;
    if (memio_tunnel_inject(memio_tunnel_get(sys, fd), pkt, sizeof(pkt)) < 0)
        return 1;
    if (memio_read(sys, fd, buf, sizeof(buf)) != (ssize_t)sizeof(pkt))
        return 1;
    printf("consumer: read %zu bytes from %s (memio %s)\n", sizeof(pkt), ifr.ifr_name,
           MEMIO_VERSION_STRING);
    memio_sys_free(sys);
    return 0;
}
