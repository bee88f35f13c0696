/*
 * scen_ipv6.c — UDP over IPv6 through a TUN with IPv6 turned on: a datagram
 * the test sends (memio_send_udp: a real socket on the kernel's side) as the
 * program reads it, and datagrams the program writes as a bound socket
 * (memio_receive_udp) receives them: D31-D33 with the device's IPv6 on,
 * which the table's own D31-D33 (IPv6 off on the device) do not show.
 *
 * With IPv6 on, a kernel TUN sends router solicitations (K01); reads skip
 * ICMPv6 so that only the datagram is observed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/ip6.h>
#include <string.h>

#include <linux/if_tun.h>

#include "conf.h"
#include "conf_util.h"
#include "netns.h"

#define LOCAL6 "fd06::1"
#define PEER6 "fd06::2"

static int addr6(struct conf_ctx *c, const char *ifname, const char *addr, int prefix)
{
    struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
    memio_tunnel *t;

    if (c->os)
        return memio_test_netns_set_addr6(ifname, addr, prefix);
    t = memio_tunnel_lookup(c->sys, ifname);
    if (!t || inet_pton(AF_INET6, addr, &sin6.sin6_addr) != 1)
        return -1;
    return memio_tunnel_set_address(t, (struct sockaddr *)&sin6, sizeof sin6, prefix);
}

/* A TUN with IPv6 on and LOCAL6/64 on the kernel's side, up. */
static int dev6(struct conf_ctx *c, char *name)
{
    int fd = conf_dev(c, "six%d", IFF_TUN | IFF_NO_PI, name);
    if (fd < 0)
        return -1;
    if (conf_link(c, name, 1) != 0 || addr6(c, name, LOCAL6, 64) != 0) {
        conf_rc(c, "setup addr6/up", -1);
        return -1;
    }
    return fd;
}

/* Reads packets until one that is not ICMPv6 (K01's solicitations). */
static ssize_t read_not_icmp6(struct conf_ctx *c, int fd, uint8_t *buf, size_t cap)
{
    int i;

    for (i = 0; i < 20; i++) {
        ssize_t n = conf_read_wait(c, fd, buf, cap, 1000);
        if (n < 0)
            return n;
        if (n >= 40 && buf[0] >> 4 == 6 && buf[6] == IPPROTO_ICMPV6)
            continue;
        return n;
    }
    errno = EAGAIN;
    return -1;
}

/* The kernel sends a datagram over IPv6: the program reads it as built by
 * the kernel's UDP and IPv6 output. */
static void scen_X6_SEND(struct conf_ctx *c)
{
    char name[IFNAMSIZ];
    struct sockaddr_in6 to = {.sin6_family = AF_INET6, .sin6_port = htons(4444)};
    struct sockaddr_storage from;
    struct sockaddr_in6 *f = (struct sockaddr_in6 *)&from;
    uint8_t buf[2048];
    char a[INET6_ADDRSTRLEN];
    memio_udp6_view v;
    ssize_t n;
    int fd = dev6(c, name);

    if (fd < 0)
        return;
    inet_pton(AF_INET6, PEER6, &to.sin6_addr);
    memset(&from, 0, sizeof from);
    conf_rc(c, "send", memio_send_udp(c->sys, "hello over six", 14, (struct sockaddr *)&to,
                                      sizeof to, &from));
    inet_ntop(AF_INET6, &f->sin6_addr, a, sizeof a);
    conf_observe(c, "from", "%s family=%s port>0=%d", a,
                 f->sin6_family == AF_INET6 ? "inet6" : "other", f->sin6_port != 0);
    n = read_not_icmp6(c, fd, buf, sizeof buf);
    conf_rc(c, "read", n);
    if (n <= 0)
        return;
    if (memio_packet_parse_udp6(buf, (size_t)n, &v) != 0) {
        conf_observe(c, "parse", "-1 %s", conf_errname(errno));
        return;
    }
    inet_ntop(AF_INET6, &v.dst.sin6_addr, a, sizeof a);
    conf_observe(c, "datagram", "to %s:%u hop_limit=%u payload=%zu checksum valid, src port as "
                 "send reported=%d", a, ntohs(v.dst.sin6_port), v.hop_limit, v.payload_len,
                 v.src.sin6_port == f->sin6_port);
}

/* The program writes UDP over IPv6 to a bound socket: valid is received
 * (D31), checksum 0 (D32) and a wrong checksum (D33) are not. */
static void scen_X6_RECV(struct conf_ctx *c)
{
    char name[IFNAMSIZ];
    struct sockaddr_in6 at = {.sin6_family = AF_INET6, .sin6_port = htons(5006)};
    uint8_t pkt[256];
    size_t n;
    int rfd, fd = dev6(c, name);

    if (fd < 0)
        return;
    inet_pton(AF_INET6, LOCAL6, &at.sin6_addr);
    rfd = memio_receive_udp(c->sys, fd, (struct sockaddr *)&at, sizeof at);
    conf_observe(c, "bind", "%s", rfd >= 0 ? "ok" : conf_errname(errno));
    if (rfd < 0)
        return;
    memio_fcntl(c->sys, rfd, F_SETFL, O_NONBLOCK);
    n = conf_udp6(pkt, sizeof pkt, PEER6, LOCAL6, 4000, 5006, "valid", 5, 0, 0);
    conf_rc(c, "write valid", memio_write(c->sys, fd, pkt, n));
    conf_recv_obs(c, "socket after valid", rfd, 1000);
    n = conf_udp6(pkt, sizeof pkt, PEER6, LOCAL6, 4000, 5006, "zero", 4, 1, 0);
    conf_rc(c, "write checksum 0", memio_write(c->sys, fd, pkt, n));
    conf_recv_obs(c, "socket after checksum 0", rfd, 300);
    n = conf_udp6(pkt, sizeof pkt, PEER6, LOCAL6, 4000, 5006, "wrong", 5, 1, 0x1234);
    conf_rc(c, "write wrong checksum", memio_write(c->sys, fd, pkt, n));
    conf_recv_obs(c, "socket after wrong checksum", rfd, 300);
    memio_close(c->sys, rfd);
}

const struct conf_scenario conf_scen_ipv6[] = {
    CONF_SCEN(X6_SEND, "IPv6 on: a kernel UDP datagram over IPv6, read by the program"),
    CONF_SCEN(X6_RECV, "IPv6 on: UDP over IPv6 written to a bound socket (D31-D33)"),
    CONF_END,
};
