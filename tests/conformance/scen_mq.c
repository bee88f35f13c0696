/*
 * scen_mq.c — section M (multiqueue, TUNSETQUEUE, IFF_VNET_HDR, offloads),
 * the filter rows of G (G24, G25) and the namespace and eBPF ioctls of C
 * (C63-C65) of kernel-tun-semantics.md.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "conf_util.h"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/virtio_net.h>
#include <unistd.h>

#define DEV "cfm0"
#define LOCAL "10.80.0.1"
#define PEER "10.80.0.2"
#define PORT 4444
#define WAIT 1000

#define TUNNP (IFF_TUN | IFF_NO_PI)
#define MQ (IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE)

/* Two queues of a multiqueue TUN, up and addressed. */
static int mq2(struct conf_ctx *c, int *q1)
{
    int q0 = conf_dev_net(c, DEV, MQ, LOCAL, PEER);
    *q1 = conf_open(c, O_RDWR | O_NONBLOCK);
    if (q0 < 0 || conf_setiff(c, *q1, DEV, MQ, NULL) != 0) {
        conf_rc(c, "setup 2nd queue", -1);
        return -1;
    }
    return q0;
}

static int drain(struct conf_ctx *c, int fd)
{
    char buf[256];
    int n = 0;
    while (memio_read(c->sys, fd, buf, sizeof buf) >= 0)
        n++;
    return n;
}

/* M01: 40 datagrams to 40 ports: the kernel's flow hash is random, so
 * only the total and whether both queues got traffic are compared. */
static void scen_M01(struct conf_ctx *c)
{
    int q1, q0 = mq2(c, &q1), a, b;
    if (q0 < 0)
        return;
    for (int i = 0; i < 40; i++)
        conf_send(c, PEER, (uint16_t)(5000 + i), "m", 1, NULL);
    conf_wait(c, q0, POLLIN, 200);
    a = drain(c, q0);
    b = drain(c, q1);
    conf_observe(c, "total", "%d", a + b);
    conf_observe(c, "both queues got some", "%d", a > 0 && b > 0);
}

static int setqueue(struct conf_ctx *c, int fd, int flags)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = (short)flags;
    return memio_ioctl(c->sys, fd, TUNSETQUEUE, &ifr);
}

static void scen_M02(struct conf_ctx *c)
{
    char buf[256];
    uint8_t p[64];
    size_t len;
    int q1, q0 = mq2(c, &q1), got0;
    if (q0 < 0)
        return;
    conf_rc(c, "TUNSETQUEUE detach", setqueue(c, q1, IFF_DETACH_QUEUE));
    obs_getiff(c, "TUNGETIFF on it", q1);
    for (int i = 0; i < 40; i++)
        conf_send(c, PEER, (uint16_t)(5000 + i), "m", 1, NULL);
    conf_wait(c, q0, POLLIN, 200);
    got0 = drain(c, q0);
    conf_observe(c, "queue0 got (M03)", "%d", got0);
    conf_rc(c, "read on detached (M03)", memio_read(c->sys, q1, buf, sizeof buf));
    len = conf_udp4(p, sizeof p, PEER, 6000, LOCAL, 5000, "x", 1);
    conf_rc(c, "write on detached (M03)", memio_write(c->sys, q1, p, len));
    obs_poll(c, "poll(all) on detached", q1, POLL_ALL);
    conf_rc(c, "detach again (M04)", setqueue(c, q1, IFF_DETACH_QUEUE));
    conf_rc(c, "attach (M05)", setqueue(c, q1, IFF_ATTACH_QUEUE));
    obs_getiff(c, "TUNGETIFF after attach", q1);
    conf_rc(c, "flags 0 (M06)", setqueue(c, q1, 0));
}

/* A TUN with IFF_VNET_HDR, up and addressed. */
static int vdev(struct conf_ctx *c, int flags)
{
    return conf_dev_net(c, DEV, flags, LOCAL, PEER);
}

static void vnet_read(struct conf_ctx *c, int flags, unsigned long offload, size_t len)
{
    uint8_t buf[256];
    memio_udp4_view v;
    size_t hl = (flags & IFF_VNET_HDR) ? 10 : 0;
    ssize_t n;
    int fd = vdev(c, flags);
    if (fd < 0)
        return;
    if (offload != (unsigned long)-1)
        conf_rc(c, "TUNSETOFFLOAD", memio_ioctl(c->sys, fd, TUNSETOFFLOAD, offload));
    conf_rc(c, "send", conf_send(c, PEER, PORT, "abcd", 4, NULL));
    conf_wait(c, fd, POLLIN, WAIT);
    n = obs_read(c, "read", fd, buf, len);
    if (n > (ssize_t)hl) {
        if (hl)
            conf_obs_hex(c, "vnet hdr", buf, hl);
        errno = 0;
        conf_observe(c, "checksums verify",
                     "%d", memio_packet_parse_udp4(buf + hl, (size_t)n - hl, &v) == 0);
    }
    obs_read(c, "next read", fd, buf, sizeof buf);
}

static void scen_M07(struct conf_ctx *c) { vnet_read(c, TUNNP | IFF_VNET_HDR, -1, 256); }
static void scen_M08(struct conf_ctx *c) { vnet_read(c, TUNNP | IFF_VNET_HDR, -1, 9); }
static void scen_M09(struct conf_ctx *c) { vnet_read(c, TUNNP | IFF_VNET_HDR, TUN_F_CSUM, 256); }
static void scen_M14(struct conf_ctx *c) { vnet_read(c, TUNNP, TUN_F_CSUM, 256); }

static void vnet_write(struct conf_ctx *c, size_t total, uint8_t gso_type)
{
    uint8_t p[128];
    size_t len;
    int fd = vdev(c, TUNNP | IFF_VNET_HDR), rfd;
    if (fd < 0)
        return;
    rfd = conf_recv_open(c, fd, LOCAL, 5000);
    len = conf_udp4(p + 10, sizeof p - 10, PEER, 6000, LOCAL, 5000, "abc", 3);
    memset(p, 0, 10);
    p[1] = gso_type;
    conf_rc(c, "write", memio_write(c->sys, fd, p, total ? total : len + 10));
    conf_recv_obs(c, "socket", rfd, 300);
}

static void scen_M10(struct conf_ctx *c) { vnet_write(c, 0, 0); }
static void scen_M11(struct conf_ctx *c) { vnet_write(c, 9, 0); }
static void scen_M12(struct conf_ctx *c) { vnet_write(c, 10, 0); }
static void scen_M13(struct conf_ctx *c) { vnet_write(c, 0, 0x77); }

/* G24, G25: what the kernel sends is dropped by a TX filter or a socket
 * filter on the TAP. */
static void tap_filtered(struct conf_ctx *c, int socket_filter)
{
    static struct sock_filter drop_all[] = { { BPF_RET | BPF_K, 0, 0, 0 } };
    struct sock_fprog prog = { 1, drop_all };
    struct {
        struct tun_filter f;
        uint8_t addr[6];
    } flt = { { 0, 1 }, { 0x02, 0, 0, 0, 0, 0x07 } };
    struct conf_stats a, b;
    char buf[256];
    int fd = conf_dev_net(c, DEV, IFF_TAP | IFF_NO_PI, LOCAL, PEER);
    if (fd < 0)
        return;
    if (socket_filter)
        conf_rc(c, "TUNATTACHFILTER drop-all", memio_ioctl(c->sys, fd, TUNATTACHFILTER, &prog));
    else
        conf_rc(c, "TUNSETTXFILTER {02:..:07}", memio_ioctl(c->sys, fd, TUNSETTXFILTER, &flt));
    conf_stats(c, DEV, &a);
    conf_rc(c, "send", conf_send(c, PEER, PORT, "x", 1, NULL));
    conf_rc(c, "read", conf_read_wait(c, fd, buf, sizeof buf, 200));
    conf_stats(c, DEV, &b);
    conf_observe(c, "tx_dropped delta", "%llu", (unsigned long long)(b.tx_dropped - a.tx_dropped));
}

static void scen_G24(struct conf_ctx *c) { tap_filtered(c, 0); }
static void scen_G25(struct conf_ctx *c) { tap_filtered(c, 1); }

static void scen_C63(struct conf_ctx *c)
{
    int fd = conf_dev(c, DEV, TUNNP, NULL), ns;
    ns = memio_ioctl(c->sys, fd, TUNGETDEVNETNS, 0UL);
    conf_observe(c, "TUNGETDEVNETNS", "%s", ns >= 0 ? "fd>=0" : conf_errname(errno));
    if (ns >= 0 && c->os)
        close(ns);
}

static void scen_C64(struct conf_ctx *c)
{
    int minus1 = -1;
    conf_rc(c, "TUNSETSTEERINGEBPF -1",
            memio_ioctl(c->sys, conf_dev(c, DEV, TUNNP, NULL), TUNSETSTEERINGEBPF, &minus1));
}

static void scen_C65(struct conf_ctx *c)
{
    int zero = 0;
    conf_rc(c, "TUNSETFILTEREBPF 0",
            memio_ioctl(c->sys, conf_dev(c, DEV, TUNNP, NULL), TUNSETFILTEREBPF, &zero));
}

const struct conf_scenario conf_scen_mq[] = {
    CONF_WIP(M01, "multiqueue: 40 flows over 2 queues", "multiqueue"),
    CONF_WIP(M02, "TUNSETQUEUE detach/attach (M03-M06)", "multiqueue"),
    CONF_WIP(M07, "VNET_HDR: read kernel UDP", "vnet header"),
    CONF_WIP(M08, "VNET_HDR: read(9) loses the packet", "vnet header"),
    CONF_WIP(M09, "VNET_HDR + TUN_F_CSUM: partial checksum", "offloads"),
    CONF_WIP(M10, "VNET_HDR: write header + datagram", "vnet header"),
    CONF_WIP(M11, "VNET_HDR: write 9 bytes", "vnet header"),
    CONF_WIP(M12, "VNET_HDR: write header only", "vnet header"),
    CONF_WIP(M13, "VNET_HDR: bogus gso_type", "vnet header"),
    CONF_WIP(M14, "TUN_F_CSUM without VNET_HDR", "offloads"),
    CONF_SCEN(G24, "TAP: TX filter drops kernel frames"),
    CONF_SCEN(G25, "TAP: socket filter drops kernel frames"),
    CONF_SCEN(C63, "TUNGETDEVNETNS"),
    CONF_SCEN(C64, "TUNSETSTEERINGEBPF -1"),
    CONF_SCEN(C65, "TUNSETFILTEREBPF on a non-BPF fd"),
    CONF_END,
};
