/*
 * scen_write.c — what the program writes: sections D (TUN), F (TUN with
 * PI) and the write rows of G (TAP) of kernel-tun-semantics.md, each
 * checked as the table checks it, by a UDP socket at the device's address
 * (memio_receive_udp on both systems), and Twisted's test_send.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "conf_util.h"

#include <stdlib.h>
#include <arpa/inet.h>
#include <sys/uio.h>

#define DEV "cfw0"
#define LOCAL "10.77.0.1"
#define PEER "10.77.0.2"
#define PORT 5000
#define WAIT 300 /* ms a socket is given to receive */

#define TUNNP (IFF_TUN | IFF_NO_PI)
#define TAPNP (IFF_TAP | IFF_NO_PI)

static uint8_t big[4750977 + 64];

/* A device up, addressed, with a receive descriptor at LOCAL:PORT. */
static int wdev(struct conf_ctx *c, int flags, int *rfd)
{
    int fd = conf_dev_net(c, DEV, flags, LOCAL, PEER);
    *rfd = -1;
    if (fd < 0)
        return -1;
    *rfd = conf_recv_open(c, fd, LOCAL, PORT);
    if (*rfd < 0)
        conf_rc(c, "setup receive", -1);
    return fd;
}

/* A device that is down (the kernel's start; the memory device set down). */
static int down_dev(struct conf_ctx *c, int flags)
{
    int fd = conf_dev(c, DEV, flags, NULL);
    if (fd >= 0)
        conf_link(c, DEV, 0);
    return fd;
}

static size_t valid(uint8_t *buf, size_t payload)
{
    static const char text[] = "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz"
                               "0123456789abcdefghijklmnopqrstuvwxyz";
    return conf_udp4(buf, 70000, PEER, 6000, LOCAL, PORT, text, payload);
}

/* Writes buf on fd and records the write and the socket's reception. */
static void write_obs(struct conf_ctx *c, int fd, int rfd, const void *buf, size_t len)
{
    conf_rc(c, "write", memio_write(c->sys, fd, buf, len));
    if (rfd >= 0)
        conf_recv_obs(c, "socket", rfd, WAIT);
}

/* A write on a down device, with rx_dropped's change. */
static void down_write(struct conf_ctx *c, int flags, const void *buf, size_t len)
{
    struct conf_stats a, b;
    int fd = down_dev(c, flags);
    if (fd < 0)
        return;
    conf_stats(c, DEV, &a);
    conf_rc(c, "write", memio_write(c->sys, fd, buf, len));
    conf_stats(c, DEV, &b);
    conf_observe(c, "rx_dropped delta", "%llu",
                 (unsigned long long)(b.rx_dropped - a.rx_dropped));
}

/* --- D ------------------------------------------------------------------ */

static void scen_D01(struct conf_ctx *c)
{
    uint8_t p[128];
    down_write(c, TUNNP, p, valid(p, 5));
}

static void scen_D02(struct conf_ctx *c) { down_write(c, TUNNP, "\x45", 1); }
static void scen_D03(struct conf_ctx *c) { down_write(c, TUNNP, "\x00", 1); }
static void scen_D04(struct conf_ctx *c) { down_write(c, TUNNP, "", 0); }

static void scen_D05(struct conf_ctx *c)
{
    uint8_t p[20] = { 0x45 };
    down_write(c, TUNNP, p, sizeof p);
}

static void scen_D05b(struct conf_ctx *c) { down_write(c, TUNNP, "\x60", 1); }
static void scen_D05c(struct conf_ctx *c) { down_write(c, TUNNP, "\x45\x00", 2); }

/* A valid datagram, mutated by `how`, written on an up TUN. */
static void up_write(struct conf_ctx *c, void (*how)(uint8_t *p, size_t *len))
{
    uint8_t p[256];
    size_t len;
    int rfd, fd = wdev(c, TUNNP, &rfd);
    if (fd < 0)
        return;
    len = valid(p, 9);
    if (how)
        how(p, &len);
    write_obs(c, fd, rfd, p, len);
}

static void zero_udp_csum(uint8_t *p, size_t *len) { (void)len; p[26] = p[27] = 0; }
static void bad_udp_csum(uint8_t *p, size_t *len) { (void)len; p[27] ^= 0x5a; }
static void bad_ip_csum(uint8_t *p, size_t *len) { (void)len; p[11] ^= 0x5a; }
static void truncate10(uint8_t *p, size_t *len) { (void)p; *len = 10; }
static void minus2(uint8_t *p, size_t *len) { (void)p; *len -= 2; }
static void junk4(uint8_t *p, size_t *len) { memcpy(p + *len, "junk", 4); *len += 4; }

static void scen_D06(struct conf_ctx *c) { up_write(c, zero_udp_csum); }
static void scen_D07(struct conf_ctx *c) { up_write(c, NULL); }
static void scen_D08(struct conf_ctx *c) { up_write(c, bad_udp_csum); }
static void scen_D09(struct conf_ctx *c) { up_write(c, bad_ip_csum); }
static void scen_D15(struct conf_ctx *c) { up_write(c, truncate10); }
static void scen_D16(struct conf_ctx *c) { up_write(c, minus2); }
static void scen_D17(struct conf_ctx *c) { up_write(c, junk4); }

/* Raw bytes on an up TUN. */
static void up_raw(struct conf_ctx *c, const void *buf, size_t len)
{
    int rfd, fd = wdev(c, TUNNP, &rfd);
    if (fd >= 0)
        conf_rc(c, "write", memio_write(c->sys, fd, buf, len));
}

static void scen_D10(struct conf_ctx *c) { up_raw(c, "", 0); }
static void scen_D11(struct conf_ctx *c) { up_raw(c, "\x45", 1); }
static void scen_D12(struct conf_ctx *c) { up_raw(c, "\x00", 1); }
static void scen_D13(struct conf_ctx *c) { up_raw(c, "\x50\0\0\0", 4); }
static void scen_D14(struct conf_ctx *c) { up_raw(c, "\x60", 1); }

/* A valid datagram of `payload` bytes, padded with zeros to `total`. */
static void big_write(struct conf_ctx *c, size_t payload, size_t total)
{
    int rfd, fd = wdev(c, TUNNP, &rfd);
    uint8_t *p = big;
    size_t len;
    if (fd < 0)
        return;
    {
        char *pay = malloc(payload ? payload : 1);
        memset(pay, 'z', payload);
        len = conf_udp4(p, sizeof big, PEER, 6000, LOCAL, PORT, pay, payload);
        free(pay);
    }
    if (total > len)
        memset(p + len, 0, total - len);
    else
        total = len;
    write_obs(c, fd, rfd, p, total);
}

static void scen_D18(struct conf_ctx *c) { big_write(c, 3000 - 28, 3000); }
static void scen_D19(struct conf_ctx *c) { big_write(c, 65507, 65535); }
static void scen_D21(struct conf_ctx *c) { big_write(c, 100, 70000); }

/* 0x45 and zeros, `len` bytes. */
static void zeros_write(struct conf_ctx *c, size_t len)
{
    int rfd, fd = wdev(c, TUNNP, &rfd);
    if (fd < 0)
        return;
    memset(big, 0, len);
    big[0] = 0x45;
    conf_rc(c, "write", memio_write(c->sys, fd, big, len));
}

static void scen_D20(struct conf_ctx *c) { zeros_write(c, 70000); }
static void scen_D22(struct conf_ctx *c) { zeros_write(c, 1048576); }
static void scen_D23(struct conf_ctx *c) { zeros_write(c, 2097152); }

static void scen_D23b(struct conf_ctx *c)
{
    int rfd, fd = wdev(c, TUNNP, &rfd);
    if (fd < 0)
        return;
    memset(big, 0, sizeof big);
    big[0] = 0x45;
    conf_rc(c, "write 4750976", memio_write(c->sys, fd, big, 4750976));
    conf_rc(c, "write 4750977", memio_write(c->sys, fd, big, 4750977));
}

/* D24: an ICMP echo request to our address; what comes back on the tun. */
static void scen_D24(struct conf_ctx *c)
{
    uint8_t p[64], buf[256];
    int rfd, fd = wdev(c, TUNNP, &rfd);
    uint16_t s;
    if (fd < 0)
        return;
    memset(p, 0, 44);
    p[0] = 0x45;
    p[3] = 44;
    p[6] = 0x40; /* DF */
    p[8] = 64;
    p[9] = 1;
    inet_pton(AF_INET, PEER, p + 12);
    inet_pton(AF_INET, LOCAL, p + 16);
    s = memio_inet_checksum(p, 20);
    p[10] = (uint8_t)(s >> 8);
    p[11] = (uint8_t)s;
    p[20] = 8; /* echo request */
    p[24] = 0x12;
    p[26] = 0;
    p[27] = 1;
    s = memio_inet_checksum(p + 20, 24);
    p[22] = (uint8_t)(s >> 8);
    p[23] = (uint8_t)s;
    conf_rc(c, "write", memio_write(c->sys, fd, p, 44));
    conf_rc(c, "read back", conf_read_wait(c, fd, buf, sizeof buf, WAIT));
}

/* D25: UDP to a closed port of ours; what comes back on the tun. */
static void scen_D25(struct conf_ctx *c)
{
    uint8_t p[128], buf[256];
    int rfd, fd = wdev(c, TUNNP, &rfd);
    size_t len;
    if (fd < 0)
        return;
    len = conf_udp4(p, sizeof p, PEER, 6000, LOCAL, 5999, "x", 1);
    conf_rc(c, "write", memio_write(c->sys, fd, p, len));
    conf_rc(c, "read back", conf_read_wait(c, fd, buf, sizeof buf, WAIT));
}

/* D27: UDP to an address that is not ours (forwarding off). */
static void scen_D27(struct conf_ctx *c)
{
    uint8_t p[128], buf[256];
    int rfd, fd = wdev(c, TUNNP, &rfd);
    size_t len;
    if (fd < 0)
        return;
    len = conf_udp4(p, sizeof p, PEER, 6000, "10.99.0.9", PORT, "abc", 3);
    conf_rc(c, "write", memio_write(c->sys, fd, p, len));
    conf_rc(c, "tun read", conf_read_wait(c, fd, buf, sizeof buf, 100));
}

/* D28: UDP whose source is our own address. */
static void scen_D28(struct conf_ctx *c)
{
    uint8_t p[128];
    int rfd, fd = wdev(c, TUNNP, &rfd);
    size_t len;
    if (fd < 0)
        return;
    len = conf_udp4(p, sizeof p, LOCAL, 6000, LOCAL, PORT, "abcdefg", 7);
    write_obs(c, fd, rfd, p, len);
}

/* D29: UDP to the subnet broadcast, socket bound to 0.0.0.0. */
static void scen_D29(struct conf_ctx *c)
{
    uint8_t p[128];
    int fd = conf_dev_net(c, DEV, TUNNP, LOCAL, PEER), rfd;
    size_t len;
    if (fd < 0)
        return;
    rfd = conf_recv_open(c, fd, "0.0.0.0", PORT);
    conf_observe(c, "receive at 0.0.0.0", "%s", rfd >= 0 ? "ok" : conf_errname(errno));
    len = conf_udp4(p, sizeof p, PEER, 6000, "10.77.0.255", PORT, "bcast", 5);
    write_obs(c, fd, rfd, p, len);
}

/* Not in the table: a socket bound to the device's own address does not
 * get a datagram sent to the subnet broadcast. */
static void scen_X_D_bcast_to_bound(struct conf_ctx *c)
{
    uint8_t p[128];
    int rfd, fd = wdev(c, TUNNP, &rfd);
    size_t len;
    if (fd < 0)
        return;
    len = conf_udp4(p, sizeof p, PEER, 6000, "10.77.0.255", PORT, "bcast", 5);
    write_obs(c, fd, rfd, p, len);
}

static void scen_D30(struct conf_ctx *c)
{
    uint8_t p[256];
    struct iovec iov[3];
    int rfd, fd = wdev(c, TUNNP, &rfd);
    size_t len;
    if (fd < 0)
        return;
    len = valid(p, 100);
    iov[0] = (struct iovec){ p, 5 };
    iov[1] = (struct iovec){ p + 5, 30 };
    iov[2] = (struct iovec){ p + 35, len - 35 };
    conf_rc(c, "writev", memio_writev(c->sys, fd, iov, 3));
    conf_recv_obs(c, "socket", rfd, WAIT);
}

/* D31-D33: IPv6/UDP writes (the device has IPv6 off: accepted, dropped). */
static void v6_write(struct conf_ctx *c, int override, uint16_t csum)
{
    uint8_t p[128];
    int rfd, fd = wdev(c, TUNNP, &rfd);
    size_t len;
    if (fd < 0)
        return;
    len = conf_udp6(p, sizeof p, "fd00::2", "fd00::1", 6000, PORT, "abcdef", 6, override, csum);
    conf_rc(c, "write", memio_write(c->sys, fd, p, len));
}

static void scen_D31(struct conf_ctx *c) { v6_write(c, 0, 0); }
static void scen_D32(struct conf_ctx *c) { v6_write(c, 1, 0); }
static void scen_D33(struct conf_ctx *c) { v6_write(c, 1, 0x1234); }

static void scen_D34(struct conf_ctx *c)
{
    uint8_t p[128];
    int rfd, fd = wdev(c, TUNNP, &rfd);
    size_t len = valid(p, 5);
    if (fd < 0)
        return;
    conf_rc(c, "write up", memio_write(c->sys, fd, p, len));
    conf_link(c, DEV, 0);
    conf_rc(c, "write down again", memio_write(c->sys, fd, p, len));
}

/* --- F ------------------------------------------------------------------ */

static void pi_write(struct conf_ctx *c, uint16_t flags, uint16_t proto)
{
    uint8_t p[128];
    int rfd, fd = wdev(c, IFF_TUN, &rfd);
    size_t len;
    if (fd < 0)
        return;
    len = conf_pi(p, valid(p, 8), flags, proto);
    write_obs(c, fd, rfd, p, len);
}

static void scen_F01(struct conf_ctx *c) { pi_write(c, 0, 0x0800); }
static void scen_F02(struct conf_ctx *c) { pi_write(c, 0, 0); }
static void scen_F03(struct conf_ctx *c) { pi_write(c, 0, 0x86dd); }
static void scen_F04(struct conf_ctx *c) { pi_write(c, 0, 0x0008); }
static void scen_F05(struct conf_ctx *c) { pi_write(c, 0xffff, 0x0800); }

static void pi_raw(struct conf_ctx *c, int up, const void *buf, size_t len)
{
    int rfd, fd = up ? wdev(c, IFF_TUN, &rfd) : down_dev(c, IFF_TUN);
    if (fd >= 0)
        conf_rc(c, "write", memio_write(c->sys, fd, buf, len));
}

static void scen_F06(struct conf_ctx *c) { pi_raw(c, 1, "\0\0\x08", 3); }
static void scen_F07(struct conf_ctx *c) { pi_raw(c, 1, "\0\0\x08\0", 4); }
static void scen_F08(struct conf_ctx *c) { pi_raw(c, 1, "", 0); }

static void scen_F09(struct conf_ctx *c)
{
    uint8_t p[24] = { 0, 0, 0x08, 0 };
    pi_raw(c, 1, p, sizeof p);
}

static void scen_F10(struct conf_ctx *c)
{
    uint8_t p[128];
    struct tun_pi pi = { 0, htons(0x0800) };
    struct iovec iov[2];
    int rfd, fd = wdev(c, IFF_TUN, &rfd);
    size_t len;
    if (fd < 0)
        return;
    len = valid(p, 2);
    iov[0] = (struct iovec){ &pi, sizeof pi };
    iov[1] = (struct iovec){ p, len };
    conf_rc(c, "writev", memio_writev(c->sys, fd, iov, 2));
    conf_recv_obs(c, "socket", rfd, WAIT);
}

static void scen_F11(struct conf_ctx *c) { pi_raw(c, 0, "\0\0\x08\0", 4); }
static void scen_F12(struct conf_ctx *c) { pi_raw(c, 0, "\0\0\x08", 3); }

/* --- G (writes) --------------------------------------------------------- */

static void scen_G02(struct conf_ctx *c)
{
    uint8_t f[14] = { 0 };
    down_write(c, TAPNP, f, 13);
}

static void scen_G03(struct conf_ctx *c)
{
    uint8_t f[14] = { 0 };
    down_write(c, TAPNP, f, 14);
}

static void scen_G04(struct conf_ctx *c) { down_write(c, TAPNP, "", 0); }

/* A frame carrying a valid datagram to LOCAL:PORT, with the given
 * destination MAC (NULL: the device's own) and source (NULL: the peer). */
static void tap_write(struct conf_ctx *c, int flags, const uint8_t *dst, int src_own,
                      uint16_t pi_proto)
{
    uint8_t p[256], own[6] = { 0 };
    int rfd, fd = wdev(c, flags, &rfd);
    size_t len;
    if (fd < 0)
        return;
    conf_mac(c, fd, own);
    len = valid(p, 9);
    len = conf_eth(p, len, dst ? dst : own, src_own ? own : conf_peer_mac, 0x0800);
    if (!(flags & IFF_NO_PI))
        len = conf_pi(p, len, 0, pi_proto);
    write_obs(c, fd, rfd, p, len);
}

static const uint8_t other_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x77 };
static const uint8_t zero_mac[6] = { 0 };
static const uint8_t mcast_mac[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };

static void scen_G09(struct conf_ctx *c) { tap_write(c, TAPNP, NULL, 0, 0); }
static void scen_G10(struct conf_ctx *c) { tap_write(c, TAPNP, conf_bcast_mac, 0, 0); }
static void scen_G11(struct conf_ctx *c) { tap_write(c, TAPNP, other_mac, 0, 0); }
static void scen_G12(struct conf_ctx *c) { tap_write(c, TAPNP, zero_mac, 0, 0); }
static void scen_G13(struct conf_ctx *c) { tap_write(c, TAPNP, mcast_mac, 0, 0); }
static void scen_G14(struct conf_ctx *c) { tap_write(c, TAPNP, NULL, 1, 0); }
static void scen_G28(struct conf_ctx *c) { tap_write(c, IFF_TAP, NULL, 0, 0); }
static void scen_G29(struct conf_ctx *c) { tap_write(c, IFF_TAP, NULL, 0, 0x86dd); }

/* Not in the table: TAP+PI with the right proto. */
static void scen_X_G_pi_ip(struct conf_ctx *c) { tap_write(c, IFF_TAP, NULL, 0, 0x0800); }

static void tap_raw(struct conf_ctx *c, int flags, size_t len, uint16_t type)
{
    int rfd, fd = wdev(c, flags, &rfd);
    if (fd < 0)
        return;
    memset(big, 0, len + 16);
    memcpy(big, conf_bcast_mac, 6);
    memcpy(big + 6, conf_peer_mac, 6);
    if (len >= 14) {
        big[12] = (uint8_t)(type >> 8);
        big[13] = (uint8_t)type;
    }
    conf_rc(c, "write", memio_write(c->sys, fd, big, len));
}

static void scen_G15(struct conf_ctx *c) { tap_raw(c, TAPNP, 13, 0x0800); }
static void scen_G16(struct conf_ctx *c) { tap_raw(c, TAPNP, 14, 0x0800); }
static void scen_G17(struct conf_ctx *c) { tap_raw(c, TAPNP, 0, 0x0800); }
static void scen_G18(struct conf_ctx *c) { tap_raw(c, TAPNP, 1600, 0x0800); }
static void scen_G19(struct conf_ctx *c) { tap_raw(c, TAPNP, 70000, 0x0800); }
static void scen_G21(struct conf_ctx *c) { tap_raw(c, TAPNP, 60, 0x88b5); }
static void scen_G22(struct conf_ctx *c) { tap_raw(c, TAPNP, 60, 0x0030); }
static void scen_G30(struct conf_ctx *c) { tap_raw(c, IFF_TAP, 17, 0x0800); }
static void scen_G31(struct conf_ctx *c) { tap_raw(c, IFF_TAP, 18, 0x0800); }

/* G20: a 60-byte minimum frame: a 29-byte datagram and zero padding. */
static void scen_G20(struct conf_ctx *c)
{
    uint8_t p[128], own[6] = { 0 };
    int rfd, fd = wdev(c, TAPNP, &rfd);
    size_t len;
    if (fd < 0)
        return;
    conf_mac(c, fd, own);
    memset(p, 0, sizeof p);
    len = conf_eth(p, valid(p, 1), own, conf_peer_mac, 0x0800);
    memset(p + len, 0, 60 - len);
    write_obs(c, fd, rfd, p, 60);
}

/* --- Twisted's test_send ----------------------------------------------- */

/* test_send: a datagram the program writes to LOCAL:12345 reaches the
 * socket bound there with its payload intact (Twisted's TapHelper sends to
 * the broadcast MAC from 00:00:00:00:00:00). */
static void tw_send(struct conf_ctx *c, int flags)
{
    static const char msg[] = "hello world:conformance";
    uint8_t p[256], buf[256];
    int fd = conf_dev_net(c, DEV, flags, LOCAL, PEER), rfd;
    size_t len;
    ssize_t n;
    if (fd < 0)
        return;
    rfd = conf_recv_open(c, fd, LOCAL, 12345);
    len = conf_udp4(p, sizeof p, PEER, 50000, LOCAL, 12345, msg, sizeof msg - 1);
    if (flags & IFF_TAP)
        len = conf_eth(p, len, conf_bcast_mac, zero_mac, 0x0800);
    if (!(flags & IFF_NO_PI))
        len = conf_pi(p, len, 0, (flags & IFF_TAP) ? 0 : 0x0800);
    conf_rc(c, "write", memio_write(c->sys, fd, p, len));
    n = conf_read_wait(c, rfd, buf, sizeof buf, 2000);
    conf_rc(c, "socket read", n);
    conf_observe(c, "payload intact", "%d",
                 n == (ssize_t)sizeof msg - 1 && memcmp(buf, msg, sizeof msg - 1) == 0);
}

static void scen_TW_send_TUN(struct conf_ctx *c) { tw_send(c, TUNNP); }
static void scen_TW_send_TUN_PI(struct conf_ctx *c) { tw_send(c, IFF_TUN); }
static void scen_TW_send_TAP(struct conf_ctx *c) { tw_send(c, TAPNP); }
static void scen_TW_send_TAP_PI(struct conf_ctx *c) { tw_send(c, IFF_TAP); }

const struct conf_scenario conf_scen_write[] = {
    CONF_SCEN(D01, "DOWN: write valid IPv4/UDP"),
    CONF_SCEN(D02, "DOWN: write 1 byte 0x45"),
    CONF_SCEN(D03, "DOWN: write 1 byte 0x00"),
    CONF_SCEN(D04, "DOWN: write 0 bytes"),
    CONF_SCEN(D05, "DOWN: write 20 bytes 0x45..."),
    CONF_SCEN(D05b, "DOWN: write 1 byte 0x60"),
    CONF_SCEN(D05c, "DOWN: write 0x45 0x00"),
    CONF_SCEN(D06, "UP: UDP checksum 0 delivered"),
    CONF_SCEN(D07, "UP: valid UDP delivered"),
    CONF_SCEN(D08, "UP: wrong UDP checksum dropped"),
    CONF_SCEN(D09, "UP: wrong IP checksum dropped"),
    CONF_SCEN(D10, "UP: write 0 bytes"),
    CONF_SCEN(D11, "UP: write 1 byte 0x45"),
    CONF_SCEN(D12, "UP: write 1 byte 0x00"),
    CONF_SCEN(D13, "UP: version 5"),
    CONF_SCEN(D14, "UP: 1 byte 0x60"),
    CONF_SCEN(D15, "UP: truncated IPv4 header"),
    CONF_SCEN(D16, "UP: IP total length > bytes"),
    CONF_SCEN(D17, "UP: trailing bytes trimmed"),
    CONF_SCEN(D18, "UP: 3000-byte datagram, no MTU check"),
    CONF_SCEN(D19, "UP: 65535-byte datagram"),
    CONF_SCEN(D20, "UP: 70000 bytes 0x45+zeros"),
    CONF_SCEN(D21, "UP: 70000 bytes = valid packet + padding"),
    CONF_SCEN(D22, "UP: 1 MiB write"),
    CONF_SCEN(D23, "UP: 2 MiB write"),
    CONF_SCEN(D23b, "UP: write ceiling 4750976"),
    CONF_SCEN(D24, "UP: ICMP echo to our address"),
    CONF_SCEN(D25, "UP: UDP to a closed port"),
    CONF_SCEN(D27, "UP: UDP to a non-local address"),
    CONF_SCEN(D28, "UP: source is our own address"),
    CONF_SCEN(D29, "UP: subnet broadcast, socket on 0.0.0.0"),
    CONF_SCEN(X_D_bcast_to_bound, "(not in the table) subnet broadcast, socket on our address"),
    CONF_SCEN(D30, "UP: writev in 3 pieces"),
    CONF_SCEN(D31, "UP: IPv6/UDP valid"),
    CONF_SCEN(D32, "UP: IPv6/UDP checksum 0"),
    CONF_SCEN(D33, "UP: IPv6/UDP wrong checksum"),
    CONF_SCEN(D34, "DOWN again: EIO"),
    CONF_SCEN(F01, "PI proto IPv4"),
    CONF_SCEN(F02, "PI proto 0"),
    CONF_SCEN(F03, "PI proto IPv6 on an IPv4 packet"),
    CONF_SCEN(F04, "PI proto host-order 0x0008"),
    CONF_SCEN(F05, "PI flags 0xffff"),
    CONF_SCEN(F06, "PI: write 3 bytes"),
    CONF_SCEN(F07, "PI: write 4 bytes"),
    CONF_SCEN(F08, "PI: write 0 bytes"),
    CONF_SCEN(F09, "PI: version nibble 0 accepted"),
    CONF_SCEN(F10, "PI: writev {pi, packet}"),
    CONF_SCEN(F11, "PI, DOWN: write 4 bytes"),
    CONF_SCEN(F12, "PI, DOWN: write 3 bytes"),
    CONF_SCEN(G02, "TAP DOWN: write 13 bytes"),
    CONF_SCEN(G03, "TAP DOWN: write 14 bytes"),
    CONF_SCEN(G04, "TAP DOWN: write 0 bytes"),
    CONF_SCEN(G09, "TAP: dst our MAC"),
    CONF_SCEN(G10, "TAP: dst broadcast"),
    CONF_SCEN(G11, "TAP: dst another unicast MAC"),
    CONF_SCEN(G12, "TAP: dst 00:00:00:00:00:00"),
    CONF_SCEN(G13, "TAP: dst multicast MAC"),
    CONF_SCEN(G14, "TAP: src is our MAC"),
    CONF_SCEN(G15, "TAP UP: write 13 bytes"),
    CONF_SCEN(G16, "TAP UP: write 14 bytes"),
    CONF_SCEN(G17, "TAP UP: write 0 bytes"),
    CONF_SCEN(G18, "TAP UP: write 1600 bytes"),
    CONF_SCEN(G19, "TAP UP: write 70000 bytes"),
    CONF_SCEN(G20, "TAP: 60-byte padded frame"),
    CONF_SCEN(G21, "TAP: ethertype 0x88b5"),
    CONF_SCEN(G22, "TAP: 802.3 length field"),
    CONF_SCEN(G28, "TAP+PI: proto 0 ignored"),
    CONF_SCEN(G29, "TAP+PI: proto IPv6 ignored"),
    CONF_SCEN(X_G_pi_ip, "(not in the table) TAP+PI proto IPv4"),
    CONF_SCEN(G30, "TAP+PI: write 17 bytes"),
    CONF_SCEN(G31, "TAP+PI: write 18 bytes"),
    CONF_SCEN(TW_send_TUN, "Twisted test_send on TUN"),
    CONF_SCEN(TW_send_TUN_PI, "Twisted test_send on TUN+PI"),
    CONF_SCEN(TW_send_TAP, "Twisted test_send on TAP"),
    CONF_SCEN(TW_send_TAP_PI, "Twisted test_send on TAP+PI"),
    CONF_END,
};
