/*
 * scen_read.c — what the kernel transmits and the program reads: sections
 * E and E-PI, the read rows of G (TAP) of kernel-tun-semantics.md, and
 * Twisted's test_receive.  The kernel's datagrams come from memio_send_udp
 * on both systems (a real UDP socket on os).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "conf_util.h"

#include <arpa/inet.h>
#include <sys/uio.h>

#define DEV "cfr0"
#define LOCAL "10.78.0.1"
#define PEER "10.78.0.2"
#define PORT 4444
#define WAIT 1000

#define TUNNP (IFF_TUN | IFF_NO_PI)
#define TAPNP (IFF_TAP | IFF_NO_PI)

static char payload[3000];

static int rdev(struct conf_ctx *c, int flags)
{
    return conf_dev_net(c, DEV, flags, LOCAL, PEER);
}

/* The kernel sends `len` bytes to PEER:PORT; records send's result. */
static int send_obs(struct conf_ctx *c, size_t len, struct sockaddr_in *from)
{
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (char)('a' + i % 26);
    return conf_send(c, PEER, PORT, payload, len, from);
}

/* Records what a datagram read from a TUN (or TAP, after `skip` bytes)
 * says: its properties, not the kernel's random ids and ports. */
static void obs_datagram(struct conf_ctx *c, const uint8_t *ip, size_t len,
                         const struct sockaddr_in *from)
{
    memio_udp4_view v;
    char src[16], dst[16];
    if (memio_packet_parse_udp4(ip, len, &v) != 0) {
        conf_observe(c, "datagram", "not a valid IPv4/UDP datagram (%s)", conf_errname(errno));
        return;
    }
    inet_ntop(AF_INET, &v.src.sin_addr, src, sizeof src);
    inet_ntop(AF_INET, &v.dst.sin_addr, dst, sizeof dst);
    conf_observe(c, "datagram", "%s->%s:%u ttl=%u frag=0x%04x checksums valid, payload %zu",
                 src, dst, ntohs(v.dst.sin_port), v.ttl, v.frag, v.payload_len);
    conf_observe(c, "source port as send reported", "%d",
                 from && v.src.sin_port == from->sin_port && v.src.sin_port != 0);
}

/* --- E ------------------------------------------------------------------ */

static void scen_E01(struct conf_ctx *c)
{
    char buf[64];
    int fd = conf_dev(c, DEV, TUNNP, NULL);
    conf_link(c, DEV, 0);
    obs_read(c, "read", fd, buf, sizeof buf);
}

static void scen_E02(struct conf_ctx *c)
{
    char buf[64];
    obs_read(c, "read", rdev(c, TUNNP), buf, sizeof buf);
}

static void scen_E03(struct conf_ctx *c)
{
    uint8_t buf[70000];
    struct sockaddr_in from;
    int fd = rdev(c, TUNNP);
    ssize_t n;
    if (fd < 0)
        return;
    conf_rc(c, "send", send_obs(c, 100, &from));
    n = conf_read_wait(c, fd, buf, sizeof buf, WAIT);
    conf_rc(c, "read(70000)", n);
    if (n > 0)
        obs_datagram(c, buf, (size_t)n, &from);
}

/* One 100-byte datagram queued, then read with a buffer of `len`. */
static void read_len(struct conf_ctx *c, int flags, size_t len, int show_pi)
{
    uint8_t buf[256];
    int fd = rdev(c, flags);
    ssize_t n;
    if (fd < 0)
        return;
    send_obs(c, 100, NULL);
    conf_wait(c, fd, POLLIN, WAIT);
    n = obs_read(c, "read", fd, buf, len);
    if (show_pi && n >= 4)
        conf_obs_hex(c, "pi", buf, 4);
    obs_read(c, "next read", fd, buf, sizeof buf);
}

static void scen_E04(struct conf_ctx *c) { read_len(c, TUNNP, 128, 0); }
static void scen_E05(struct conf_ctx *c) { read_len(c, TUNNP, 50, 0); }

static void scen_E06(struct conf_ctx *c)
{
    uint8_t buf[70000];
    int fd = rdev(c, TUNNP);
    if (fd < 0)
        return;
    send_obs(c, 100, NULL);
    conf_wait(c, fd, POLLIN, WAIT);
    obs_read(c, "read(0)", fd, buf, 0);
    obs_read(c, "read(70000)", fd, buf, sizeof buf);
}

static void scen_E07(struct conf_ctx *c)
{
    uint8_t a[7], b[200], buf[256];
    struct iovec iov[2] = { { a, sizeof a }, { b, sizeof b } };
    int fd = rdev(c, TUNNP);
    if (fd < 0)
        return;
    send_obs(c, 100, NULL);
    send_obs(c, 10, NULL);
    conf_wait(c, fd, POLLIN, WAIT);
    conf_rc(c, "readv{7,200}", memio_readv(c->sys, fd, iov, 2));
    conf_observe(c, "first piece is the IP header start", "%d", a[0] == 0x45);
    conf_rc(c, "next read", conf_read_wait(c, fd, buf, sizeof buf, WAIT));
}

/* E08: a 3000-byte datagram over a 1500-byte MTU. */
static void scen_E08(struct conf_ctx *c)
{
    uint8_t buf[4096];
    int fd = rdev(c, TUNNP);
    if (fd < 0)
        return;
    conf_rc(c, "send 3000", send_obs(c, 3000, NULL));
    for (int i = 0; i < 4; i++) {
        char label[16];
        ssize_t n = conf_read_wait(c, fd, buf, sizeof buf, i ? 100 : WAIT);
        snprintf(label, sizeof label, "read %d", i + 1);
        if (n >= 8)
            conf_observe(c, label, "%zd frag=0x%02x%02x", n, buf[6], buf[7]);
        else
            conf_rc(c, label, n);
        if (n < 0)
            break;
    }
}

static void scen_E10(struct conf_ctx *c)
{
    uint8_t buf[256];
    int fd = rdev(c, TUNNP);
    if (fd < 0)
        return;
    send_obs(c, 20, NULL);
    send_obs(c, 20, NULL);
    conf_wait(c, fd, POLLIN, WAIT);
    conf_link(c, DEV, 0);
    obs_poll(c, "poll(IN|OUT) down", fd, POLLIN | POLLOUT);
    obs_poll(c, "poll(all) down", fd, POLL_ALL);
    obs_read(c, "read", fd, buf, sizeof buf);
    obs_read(c, "read 2", fd, buf, sizeof buf);
    obs_read(c, "read 3", fd, buf, sizeof buf);
}

static void scen_E11(struct conf_ctx *c)
{
    int fd = rdev(c, TUNNP);
    if (fd < 0)
        return;
    conf_link(c, DEV, 0);
    conf_rc(c, "send while down", send_obs(c, 10, NULL));
}

static void scen_E12(struct conf_ctx *c)
{
    uint8_t buf[256];
    unsigned off = 0, on = 1;
    struct conf_stats a, b;
    int fd = rdev(c, TUNNP), got = 0;
    if (fd < 0)
        return;
    conf_rc(c, "TUNSETCARRIER 0", memio_ioctl(c->sys, fd, TUNSETCARRIER, &off));
    conf_settle_carrier(c, DEV, 0);
    conf_stats(c, DEV, &a);
    conf_rc(c, "send", send_obs(c, 20, NULL));
    conf_rc(c, "read", conf_read_wait(c, fd, buf, sizeof buf, 200));
    conf_stats(c, DEV, &b);
    conf_observe(c, "tx_dropped delta", "%llu", (unsigned long long)(b.tx_dropped - a.tx_dropped));
    /* E13: writes only look at IFF_UP. */
    {
        uint8_t p[64];
        size_t len = conf_udp4(p, sizeof p, PEER, 6000, LOCAL, 5000, "x", 1);
        conf_rc(c, "write with carrier off (E13)", memio_write(c->sys, fd, p, len));
    }
    obs_poll(c, "poll(all) carrier off (H08)", fd, POLL_ALL);
    /* E14: nothing was held back. */
    conf_rc(c, "TUNSETCARRIER 1", memio_ioctl(c->sys, fd, TUNSETCARRIER, &on));
    conf_settle_carrier(c, DEV, 1);
    while (conf_read_wait(c, fd, buf, sizeof buf, 100) >= 0)
        got++;
    conf_observe(c, "read after carrier on (E14)", "%d", got);
}

/* --- E-PI ----------------------------------------------------------------- */

static void scen_E15(struct conf_ctx *c) { read_len(c, IFF_TUN, 256, 1); }
static void scen_E16(struct conf_ctx *c) { read_len(c, IFF_TUN, 132, 1); }
static void scen_E17(struct conf_ctx *c) { read_len(c, IFF_TUN, 131, 1); }
static void scen_E18(struct conf_ctx *c) { read_len(c, IFF_TUN, 50, 1); }
static void scen_E19(struct conf_ctx *c) { read_len(c, IFF_TUN, 4, 1); }
static void scen_E20(struct conf_ctx *c) { read_len(c, IFF_TUN, 3, 1); }

static void scen_E21(struct conf_ctx *c)
{
    uint8_t buf[256];
    int fd = rdev(c, IFF_TUN);
    if (fd < 0)
        return;
    send_obs(c, 100, NULL);
    conf_wait(c, fd, POLLIN, WAIT);
    obs_read(c, "read(0)", fd, buf, 0);
    obs_read(c, "read", fd, buf, sizeof buf);
}

static void scen_E22(struct conf_ctx *c)
{
    uint8_t buf[256];
    struct tun_pi pi = { 0x77, 0x77 };
    struct iovec iov[2] = { { &pi, sizeof pi }, { buf, sizeof buf } };
    int fd = rdev(c, IFF_TUN);
    if (fd < 0)
        return;
    send_obs(c, 100, NULL);
    conf_wait(c, fd, POLLIN, WAIT);
    conf_rc(c, "readv{pi,buf}", memio_readv(c->sys, fd, iov, 2));
    conf_observe(c, "pi", "flags=0x%x proto=0x%04x", pi.flags, ntohs(pi.proto));
}

/* --- G (reads) ---------------------------------------------------------- */

static void scen_G01(struct conf_ctx *c)
{
    uint8_t m[6] = { 0 };
    int fd = conf_dev(c, DEV, TAPNP, NULL);
    conf_rc(c, "SIOCGIFHWADDR", conf_mac(c, fd, m));
    conf_observe(c, "locally administered", "%d", (m[0] & 2) != 0);
    conf_observe(c, "multicast", "%d", m[0] & 1);
}

/* A frame the kernel sent on a TAP: length, addresses as properties. */
static void obs_frame(struct conf_ctx *c, int fd, const uint8_t *f, ssize_t n,
                      const struct sockaddr_in *from)
{
    uint8_t own[6] = { 0 };
    const char *dst;
    conf_mac(c, fd, own);
    if (n < 14)
        return;
    dst = memcmp(f, conf_peer_mac, 6) == 0    ? "neighbour"
          : memcmp(f, conf_bcast_mac, 6) == 0 ? "broadcast"
                                               : "other";
    conf_observe(c, "eth", "dst=%s src=%s type=0x%02x%02x", dst,
                 memcmp(f + 6, own, 6) == 0 ? "device MAC" : "other", f[12], f[13]);
    if (f[12] == 0x08 && f[13] == 0x00)
        obs_datagram(c, f + 14, (size_t)n - 14, from);
}

/* G05: to an address with no neighbour entry. */
static void scen_G05(struct conf_ctx *c)
{
    uint8_t buf[256];
    int fd = rdev(c, TAPNP);
    ssize_t n;
    if (fd < 0)
        return;
    conf_rc(c, "send to 10.78.0.3", conf_send(c, "10.78.0.3", PORT, "x", 1, NULL));
    n = conf_read_wait(c, fd, buf, sizeof buf, WAIT);
    conf_rc(c, "read", n);
    obs_frame(c, fd, buf, n, NULL);
}

static void scen_G07(struct conf_ctx *c)
{
    uint8_t buf[256];
    struct sockaddr_in from;
    int fd = rdev(c, TAPNP);
    ssize_t n;
    if (fd < 0)
        return;
    conf_rc(c, "send", send_obs(c, 10, &from));
    n = conf_read_wait(c, fd, buf, sizeof buf, WAIT);
    conf_rc(c, "read", n);
    obs_frame(c, fd, buf, n, &from);
}

/* Not in the table: once the program has sent from the neighbour's MAC,
 * both address it (the memory device's rule, the kernel's neighbour). */
static void scen_X_G07_after_write(struct conf_ctx *c)
{
    uint8_t buf[256], p[128], own[6] = { 0 };
    struct sockaddr_in from;
    int fd = rdev(c, TAPNP);
    size_t len;
    ssize_t n;
    if (fd < 0)
        return;
    conf_mac(c, fd, own);
    /* A socket at the destination, or the kernel answers with an ICMP
     * port unreachable (D25) before our datagram. */
    conf_recv_open(c, fd, LOCAL, 5000);
    len = conf_udp4(p, sizeof p, PEER, 6000, LOCAL, 5000, "hi", 2);
    len = conf_eth(p, len, own, conf_peer_mac, 0x0800);
    conf_rc(c, "program writes from the neighbour", memio_write(c->sys, fd, p, len));
    conf_rc(c, "send", send_obs(c, 10, &from));
    n = conf_read_wait(c, fd, buf, sizeof buf, WAIT);
    conf_rc(c, "read", n);
    obs_frame(c, fd, buf, n, &from);
}

static void scen_G08(struct conf_ctx *c) { read_len(c, TAPNP, 20, 0); }

static void scen_G26(struct conf_ctx *c)
{
    uint8_t buf[256];
    int fd = rdev(c, IFF_TAP);
    ssize_t n;
    if (fd < 0)
        return;
    conf_rc(c, "send", send_obs(c, 10, NULL));
    n = conf_read_wait(c, fd, buf, sizeof buf, WAIT);
    conf_rc(c, "read", n);
    if (n >= 4)
        conf_obs_hex(c, "pi", buf, 4);
}

/* --- Twisted's test_receive ------------------------------------------- */

/* test_receive: a datagram sent to PEER:12345 comes out of the tunnel from
 * the address and port send reported, payload intact; with PI the header
 * says flags 0 and the frame's protocol. */
static void tw_receive(struct conf_ctx *c, int flags)
{
    static const char msg[] = "hello world:conformance";
    uint8_t buf[2048];
    struct sockaddr_in from;
    int fd = rdev(c, flags), found = 0;
    size_t off = (flags & IFF_NO_PI) ? 0 : 4;
    if (fd < 0)
        return;
    conf_rc(c, "send", conf_send(c, PEER, 12345, msg, sizeof msg - 1, &from));
    conf_observe(c, "from", "%s", from.sin_addr.s_addr == inet_addr(LOCAL) ? "local address" : "other");
    for (int i = 0; i < 8 && !found; i++) {
        memio_udp4_view v;
        ssize_t n = conf_read_wait(c, fd, buf, sizeof buf, WAIT);
        size_t skip = off + ((flags & IFF_TAP) ? 14 : 0);
        if (n < 0)
            break;
        if ((size_t)n > skip && memio_packet_parse_udp4(buf + skip, (size_t)n - skip, &v) == 0 &&
            v.src.sin_port == from.sin_port && v.payload_len == sizeof msg - 1 &&
            memcmp(v.payload, msg, v.payload_len) == 0) {
            found = 1;
            if (off)
                conf_obs_hex(c, "pi", buf, 4);
        }
    }
    conf_observe(c, "datagram found", "%d", found);
}

static void scen_TW_receive_TUN(struct conf_ctx *c) { tw_receive(c, TUNNP); }
static void scen_TW_receive_TUN_PI(struct conf_ctx *c) { tw_receive(c, IFF_TUN); }
static void scen_TW_receive_TAP(struct conf_ctx *c) { tw_receive(c, TAPNP); }
static void scen_TW_receive_TAP_PI(struct conf_ctx *c) { tw_receive(c, IFF_TAP); }

const struct conf_scenario conf_scen_read[] = {
    CONF_SCEN(E01, "DOWN, empty: read"),
    CONF_SCEN(E02, "UP, empty: read"),
    CONF_SCEN(E03, "kernel datagram: DF, TTL 64, valid checksums"),
    CONF_SCEN(E04, "read with buffer == packet"),
    CONF_SCEN(E05, "short read discards the rest"),
    CONF_SCEN(E06, "read(0) does not consume"),
    CONF_SCEN(E07, "readv scatters one packet"),
    CONF_SCEN(E08, "3000-byte datagram over MTU 1500"),
    CONF_SCEN(E10, "queued packets readable after down"),
    CONF_SCEN(E11, "DOWN: send via the routeless subnet"),
    CONF_SCEN(E12, "carrier off: kernel traffic dropped (E13, E14, H08)"),
    CONF_SCEN(E15, "PI: read(256)"),
    CONF_SCEN(E16, "PI: read exactly 4 + packet"),
    CONF_SCEN(E17, "PI: read one byte short: TUN_PKT_STRIP"),
    CONF_SCEN(E18, "PI: read(50)"),
    CONF_SCEN(E19, "PI: read(4)"),
    CONF_SCEN(E20, "PI: read(3) loses the packet"),
    CONF_SCEN(E21, "PI: read(0)"),
    CONF_SCEN(E22, "PI: readv {tun_pi, buf}"),
    CONF_SCEN(G01, "TAP MAC"),
    CONF_SCEN(G05, "TAP: send to an unknown neighbour"),
    CONF_SCEN(G07, "TAP: send to a static neighbour"),
    CONF_SCEN(X_G07_after_write, "(not in the table) TAP: send after the program wrote"),
    CONF_SCEN(G08, "TAP: short read"),
    CONF_SCEN(G26, "TAP+PI: read a kernel IPv4 frame"),
    CONF_SCEN(TW_receive_TUN, "Twisted test_receive on TUN"),
    CONF_SCEN(TW_receive_TUN_PI, "Twisted test_receive on TUN+PI"),
    CONF_SCEN(TW_receive_TAP, "Twisted test_receive on TAP"),
    CONF_SCEN(TW_receive_TAP_PI, "Twisted test_receive on TAP+PI"),
    CONF_END,
};
