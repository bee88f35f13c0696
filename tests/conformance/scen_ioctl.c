/*
 * scen_ioctl.c — section C of kernel-tun-semantics.md: ioctls on an
 * attached fd.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "conf_util.h"

#include <linux/filter.h>
#include <net/if_arp.h>
#include <termios.h>

#define TUNNP (IFF_TUN | IFF_NO_PI)
#define TAPNP (IFF_TAP | IFF_NO_PI)

static int dev(struct conf_ctx *c, int flags)
{
    return conf_dev(c, "ctl0", flags, NULL);
}

static void scen_C01(struct conf_ctx *c) { obs_getiff(c, "TUNGETIFF", dev(c, TUNNP)); }
static void scen_C02(struct conf_ctx *c) { obs_getiff(c, "TUNGETIFF", dev(c, IFF_TUN)); }
static void scen_C03(struct conf_ctx *c) { obs_getiff(c, "TUNGETIFF", dev(c, TAPNP)); }
static void scen_C04(struct conf_ctx *c) { obs_getiff(c, "TUNGETIFF", dev(c, IFF_TAP)); }

static void scen_C06(struct conf_ctx *c)
{
    conf_rc(c, "TUNGETIFF NULL", memio_ioctl(c->sys, dev(c, TUNNP), TUNGETIFF, NULL));
}

static void scen_C07(struct conf_ctx *c)
{
    unsigned feat = 0;
    conf_rc(c, "TUNGETFEATURES", memio_ioctl(c->sys, dev(c, TUNNP), TUNGETFEATURES, &feat));
    conf_observe(c, "features", "0x%x", feat);
}

/* An accept-all classic BPF program. */
static struct sock_filter accept_all[] = { { BPF_RET | BPF_K, 0, 0, 0xffffffff } };
static struct sock_fprog accept_prog = { 1, accept_all };

static void scen_C08(struct conf_ctx *c)
{
    conf_rc(c, "TUNATTACHFILTER on TUN",
            memio_ioctl(c->sys, dev(c, TUNNP), TUNATTACHFILTER, &accept_prog));
}

static void scen_C09(struct conf_ctx *c)
{
    int fd = dev(c, IFF_TAP);
    struct sock_filter got[4];
    struct sock_fprog out = { 4, got };
    conf_rc(c, "TUNATTACHFILTER", memio_ioctl(c->sys, fd, TUNATTACHFILTER, &accept_prog));
    obs_getiff(c, "TUNGETIFF", fd);
    conf_rc(c, "TUNGETFILTER (C10)", memio_ioctl(c->sys, fd, TUNGETFILTER, &out));
    conf_observe(c, "filter len", "%u", out.len);
    conf_rc(c, "TUNDETACHFILTER (C11)", memio_ioctl(c->sys, fd, TUNDETACHFILTER, 0UL));
    obs_getiff(c, "TUNGETIFF after detach", fd);
}

static void scen_C12(struct conf_ctx *c)
{
    struct sock_filter got[4];
    struct sock_fprog out = { 4, got };
    conf_rc(c, "TUNGETFILTER on TUN", memio_ioctl(c->sys, dev(c, TUNNP), TUNGETFILTER, &out));
}

static void persist(struct conf_ctx *c, unsigned long arg, int first_on)
{
    int fd = dev(c, TUNNP);
    if (first_on)
        memio_ioctl(c->sys, fd, TUNSETPERSIST, 1UL);
    conf_rc(c, "TUNSETPERSIST", memio_ioctl(c->sys, fd, TUNSETPERSIST, arg));
    obs_getiff(c, "TUNGETIFF", fd);
    memio_ioctl(c->sys, fd, TUNSETPERSIST, 0UL); /* leave nothing behind */
}

static void scen_C13(struct conf_ctx *c) { persist(c, 1, 0); }
static void scen_C14(struct conf_ctx *c) { persist(c, 0, 1); }

static void scen_C15(struct conf_ctx *c)
{
    static int zero;
    persist(c, (unsigned long)&zero, 0);
}

static void scen_C16(struct conf_ctx *c) { persist(c, 0x100000000UL, 0); }

static void scen_C17(struct conf_ctx *c)
{
    int fd = dev(c, TUNNP);
    conf_rc(c, "TUNSETOWNER 1000", memio_ioctl(c->sys, fd, TUNSETOWNER, 1000UL));
    conf_rc(c, "TUNSETOWNER -1 (C18)", memio_ioctl(c->sys, fd, TUNSETOWNER, (unsigned long)-1L));
    conf_rc(c, "TUNSETOWNER 0xffffffff (C19)",
            memio_ioctl(c->sys, fd, TUNSETOWNER, 0xffffffffUL));
}

static void scen_C20(struct conf_ctx *c)
{
    int fd = dev(c, TUNNP);
    conf_rc(c, "TUNSETGROUP 1000", memio_ioctl(c->sys, fd, TUNSETGROUP, 1000UL));
    conf_rc(c, "TUNSETGROUP -1", memio_ioctl(c->sys, fd, TUNSETGROUP, (unsigned long)-1L));
}

static void scen_C21(struct conf_ctx *c)
{
    conf_rc(c, "TUNSETNOCSUM 1", memio_ioctl(c->sys, dev(c, TUNNP), TUNSETNOCSUM, 1UL));
}

static void scen_C22(struct conf_ctx *c)
{
    conf_rc(c, "TUNSETDEBUG 0", memio_ioctl(c->sys, dev(c, TUNNP), TUNSETDEBUG, 0UL));
}

static void scen_C23(struct conf_ctx *c)
{
    int v = 0, fd = dev(c, TUNNP);
    conf_rc(c, "TUNGETSNDBUF", memio_ioctl(c->sys, fd, TUNGETSNDBUF, &v));
    conf_observe(c, "sndbuf", "%d", v);
}

static void sndbuf(struct conf_ctx *c, int v)
{
    int got = 0, fd = dev(c, TUNNP);
    conf_rc(c, "TUNSETSNDBUF", memio_ioctl(c->sys, fd, TUNSETSNDBUF, &v));
    conf_rc(c, "TUNGETSNDBUF", memio_ioctl(c->sys, fd, TUNGETSNDBUF, &got));
    conf_observe(c, "sndbuf", "%d", got);
}

static void scen_C24(struct conf_ctx *c) { sndbuf(c, 0); }
static void scen_C25(struct conf_ctx *c) { sndbuf(c, -1); }
static void scen_C26(struct conf_ctx *c) { sndbuf(c, 4096); }
static void scen_C27(struct conf_ctx *c) { sndbuf(c, 1); }

static void scen_C28(struct conf_ctx *c)
{
    int fd = dev(c, TUNNP);
    conf_rc(c, "TUNSETSNDBUF NULL", memio_ioctl(c->sys, fd, TUNSETSNDBUF, NULL));
    conf_rc(c, "TUNGETSNDBUF NULL (C29)", memio_ioctl(c->sys, fd, TUNGETSNDBUF, NULL));
}

static void scen_C30(struct conf_ctx *c)
{
    int v = 0, fd = dev(c, TUNNP);
    conf_rc(c, "TUNGETVNETHDRSZ", memio_ioctl(c->sys, fd, TUNGETVNETHDRSZ, &v));
    conf_observe(c, "size", "%d", v);
}

static void vnethdrsz(struct conf_ctx *c, int v)
{
    int got = 0, fd = dev(c, TUNNP);
    conf_rc(c, "TUNSETVNETHDRSZ", memio_ioctl(c->sys, fd, TUNSETVNETHDRSZ, &v));
    conf_rc(c, "TUNGETVNETHDRSZ", memio_ioctl(c->sys, fd, TUNGETVNETHDRSZ, &got));
    conf_observe(c, "size", "%d", got);
}

static void scen_C31(struct conf_ctx *c) { vnethdrsz(c, 9); }
static void scen_C32(struct conf_ctx *c) { vnethdrsz(c, 12); }
static void scen_C33(struct conf_ctx *c) { vnethdrsz(c, 100000); }

static void scen_C34(struct conf_ctx *c)
{
    int v = 7, one = 1, fd = dev(c, TUNNP);
    conf_rc(c, "TUNGETVNETLE", memio_ioctl(c->sys, fd, TUNGETVNETLE, &v));
    conf_observe(c, "le", "%d", v);
    conf_rc(c, "TUNSETVNETLE 1 (C35)", memio_ioctl(c->sys, fd, TUNSETVNETLE, &one));
    conf_rc(c, "TUNGETVNETLE after", memio_ioctl(c->sys, fd, TUNGETVNETLE, &v));
    conf_observe(c, "le after", "%d", v);
}

static void scen_C36(struct conf_ctx *c)
{
    int v = 0;
    conf_rc(c, "TUNGETVNETBE", memio_ioctl(c->sys, dev(c, TUNNP), TUNGETVNETBE, &v));
}

static void offload(struct conf_ctx *c, unsigned long v)
{
    conf_rc(c, "TUNSETOFFLOAD", memio_ioctl(c->sys, dev(c, TUNNP), TUNSETOFFLOAD, v));
}

static void scen_C37(struct conf_ctx *c) { offload(c, 0); }
static void scen_C38(struct conf_ctx *c) { offload(c, TUN_F_CSUM); }
static void scen_C39(struct conf_ctx *c) { offload(c, TUN_F_TSO4); }
static void scen_C40(struct conf_ctx *c)
{
    offload(c, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN | TUN_F_UFO);
}
static void scen_C41(struct conf_ctx *c) { offload(c, TUN_F_UFO); }
static void scen_C42(struct conf_ctx *c) { offload(c, 0x80); }
static void scen_C43(struct conf_ctx *c) { offload(c, TUN_F_CSUM | 0x20 | 0x40); }

static void scen_C44(struct conf_ctx *c)
{
    struct ifreq ifr;
    int fd = dev(c, TUNNP);
    conf_link(c, "ctl0", 0); /* kernel devices start down; memory ones up */
    conf_rc(c, "TUNSETLINK ETHER, down", memio_ioctl(c->sys, fd, TUNSETLINK, (unsigned long)ARPHRD_ETHER));
    memset(&ifr, 0, sizeof ifr);
    memio_ioctl(c->sys, fd, SIOCGIFHWADDR, &ifr);
    conf_observe(c, "hw family after", "%d", ifr.ifr_hwaddr.sa_family);
    conf_link(c, "ctl0", 1);
    conf_rc(c, "TUNSETLINK NONE, up (C45)",
            memio_ioctl(c->sys, fd, TUNSETLINK, (unsigned long)ARPHRD_NONE));
}

static void scen_C46(struct conf_ctx *c)
{
    struct tun_filter f = { 0, 0 };
    conf_rc(c, "TUNSETTXFILTER on TUN", memio_ioctl(c->sys, dev(c, TUNNP), TUNSETTXFILTER, &f));
}

static void scen_C47(struct conf_ctx *c)
{
    struct {
        struct tun_filter f;
        uint8_t addr[2][6];
    } flt = { { 0, 2 }, { { 0x02, 0, 0, 0, 0, 7 }, { 0x02, 0, 0, 0, 0, 8 } } };
    struct tun_filter none = { 0, 0 };
    int fd = dev(c, TAPNP);
    conf_rc(c, "TUNSETTXFILTER count 0", memio_ioctl(c->sys, fd, TUNSETTXFILTER, &none));
    conf_rc(c, "TUNSETTXFILTER count 2 (C48)", memio_ioctl(c->sys, fd, TUNSETTXFILTER, &flt));
}

static void carrier(struct conf_ctx *c, unsigned v)
{
    conf_rc(c, "TUNSETCARRIER", memio_ioctl(c->sys, dev(c, TUNNP), TUNSETCARRIER, &v));
}

static void scen_C49(struct conf_ctx *c) { carrier(c, 0); }
static void scen_C50(struct conf_ctx *c) { carrier(c, 1); }
static void scen_C50b(struct conf_ctx *c) { carrier(c, 7); }

static void scen_C51(struct conf_ctx *c)
{
    conf_rc(c, "TUNSETCARRIER NULL", memio_ioctl(c->sys, dev(c, TUNNP), TUNSETCARRIER, NULL));
}

static char garbage[_IOC_SIZE(0xDEADBEEFu) + 1];

static void scen_C52(struct conf_ctx *c)
{
    conf_rc(c, "ioctl 0xDEADBEEF", memio_ioctl(c->sys, dev(c, TUNNP), 0xDEADBEEFul, garbage));
}

static void scen_C53(struct conf_ctx *c)
{
    struct termios t;
    conf_rc(c, "TCGETS", memio_ioctl(c->sys, dev(c, TUNNP), TCGETS, &t));
}

static void scen_C54(struct conf_ctx *c)
{
    int v;
    conf_rc(c, "FIONREAD", memio_ioctl(c->sys, dev(c, TUNNP), FIONREAD, &v));
}

static void scen_C55(struct conf_ctx *c)
{
    conf_rc(c, "TUNSETQUEUE NULL", memio_ioctl(c->sys, dev(c, TUNNP), TUNSETQUEUE, NULL));
}

static void setqueue(struct conf_ctx *c, int flags)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = (short)flags;
    conf_rc(c, "TUNSETQUEUE", memio_ioctl(c->sys, dev(c, TUNNP), TUNSETQUEUE, &ifr));
}

static void scen_C56(struct conf_ctx *c) { setqueue(c, IFF_DETACH_QUEUE); }
static void scen_C57(struct conf_ctx *c) { setqueue(c, IFF_ATTACH_QUEUE); }

/* The TAP's MAC is random on the kernel: observed as properties. */
static void scen_C58(struct conf_ctx *c)
{
    struct ifreq ifr;
    uint8_t *m;
    memset(&ifr, 0, sizeof ifr);
    conf_rc(c, "SIOCGIFHWADDR", memio_ioctl(c->sys, dev(c, TAPNP), SIOCGIFHWADDR, &ifr));
    m = (uint8_t *)ifr.ifr_hwaddr.sa_data;
    conf_observe(c, "family", "%d", ifr.ifr_hwaddr.sa_family);
    conf_observe(c, "mac locally administered unicast (G01)", "%d", (m[0] & 3) == 2);
}

static void sethw(struct conf_ctx *c, const uint8_t mac[6], int family, int tap)
{
    struct ifreq ifr;
    int fd = dev(c, tap ? TAPNP : TUNNP);
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_hwaddr.sa_family = (unsigned short)family;
    memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
    conf_rc(c, "SIOCSIFHWADDR", memio_ioctl(c->sys, fd, SIOCSIFHWADDR, &ifr));
    memset(&ifr, 0, sizeof ifr);
    memio_ioctl(c->sys, fd, SIOCGIFHWADDR, &ifr);
    /* The kernel's TAP MAC is random: say only whether it took. */
    conf_observe(c, "mac now the one set", "%d", memcmp(ifr.ifr_hwaddr.sa_data, mac, 6) == 0);
    if (!tap)
        conf_obs_hex(c, "TUN address bytes", ifr.ifr_hwaddr.sa_data, 6);
}

static void scen_C59(struct conf_ctx *c)
{
    static const uint8_t m[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
    sethw(c, m, ARPHRD_ETHER, 1);
}

static void scen_C60(struct conf_ctx *c)
{
    static const uint8_t m[6] = { 0x01, 0x11, 0x22, 0x33, 0x44, 0x55 };
    struct ifreq ifr;
    int fd = dev(c, TAPNP);
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
    memcpy(ifr.ifr_hwaddr.sa_data, m, 6);
    conf_rc(c, "SIOCSIFHWADDR multicast", memio_ioctl(c->sys, fd, SIOCSIFHWADDR, &ifr));
}

static void scen_C61(struct conf_ctx *c)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    conf_rc(c, "SIOCGIFHWADDR", memio_ioctl(c->sys, dev(c, TUNNP), SIOCGIFHWADDR, &ifr));
    conf_observe(c, "family", "%d", ifr.ifr_hwaddr.sa_family);
    conf_obs_hex(c, "addr bytes", ifr.ifr_hwaddr.sa_data, 6);
}

/* Not in the table: setting a TUN's hardware address through its fd. */
static void scen_X_C_settun_hw(struct conf_ctx *c)
{
    static const uint8_t m[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
    sethw(c, m, ARPHRD_NONE, 0);
}

/* Not in the table: SIOCSIFHWADDR on a TAP with the wrong family. */
static void scen_X_C_settap_family(struct conf_ctx *c)
{
    static const uint8_t m[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
    sethw(c, m, ARPHRD_NONE, 1);
}

static void scen_C62(struct conf_ctx *c)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    conf_rc(c, "SIOCGIFFLAGS", memio_ioctl(c->sys, dev(c, TUNNP), SIOCGIFFLAGS, &ifr));
}

static void scen_C66(struct conf_ctx *c)
{
    int zero = 0, one = 1, fd = dev(c, TUNNP);
    conf_rc(c, "FIONBIO 0", memio_ioctl(c->sys, fd, FIONBIO, &zero));
    conf_observe(c, "F_GETFL", "0x%x", (unsigned)memio_fcntl(c->sys, fd, F_GETFL));
    conf_rc(c, "FIONBIO 1 (C67)", memio_ioctl(c->sys, fd, FIONBIO, &one));
    conf_observe(c, "F_GETFL after", "0x%x", (unsigned)memio_fcntl(c->sys, fd, F_GETFL));
}

static void scen_C69(struct conf_ctx *c)
{
    dev(c, TUNNP);
    conf_observe(c, "txqueuelen", "%ld", conf_txqlen(c, "ctl0"));
}

static void scen_C70(struct conf_ctx *c)
{
    dev(c, IFF_TAP);
    conf_observe(c, "txqueuelen", "%ld", conf_txqlen(c, "ctl0"));
}

static void scen_C73(struct conf_ctx *c)
{
    conf_rc(c, "TUNSETIFF NULL attached", memio_ioctl(c->sys, dev(c, TUNNP), TUNSETIFF, NULL));
}

const struct conf_scenario conf_scen_ioctl[] = {
    CONF_SCEN(C01, "TUNGETIFF TUN no PI"),
    CONF_SCEN(C02, "TUNGETIFF TUN with PI: 0x1000 is IFF_NOFILTER"),
    CONF_SCEN(C03, "TUNGETIFF TAP no PI"),
    CONF_SCEN(C04, "TUNGETIFF TAP with PI"),
    CONF_SCEN(C06, "TUNGETIFF NULL"),
    CONF_SCEN(C07, "TUNGETFEATURES attached"),
    CONF_WIP(C08, "TUNATTACHFILTER on a TUN", "filters"),
    CONF_WIP(C09, "TUNATTACHFILTER/GETFILTER/DETACHFILTER on a TAP (C10, C11)", "filters"),
    CONF_WIP(C12, "TUNGETFILTER on a TUN", "filters"),
    CONF_SCEN(C13, "TUNSETPERSIST 1"),
    CONF_SCEN(C14, "TUNSETPERSIST 0"),
    CONF_SCEN(C15, "TUNSETPERSIST &zero means on"),
    CONF_SCEN(C16, "TUNSETPERSIST high bits only"),
    CONF_WIP(C17, "TUNSETOWNER 1000, -1, 0xffffffff (C18, C19)", "capabilities"),
    CONF_WIP(C20, "TUNSETGROUP", "capabilities"),
    CONF_SCEN(C21, "TUNSETNOCSUM"),
    CONF_SCEN(C22, "TUNSETDEBUG"),
    CONF_SCEN(C23, "TUNGETSNDBUF default"),
    CONF_SCEN(C24, "TUNSETSNDBUF 0"),
    CONF_SCEN(C25, "TUNSETSNDBUF -1"),
    CONF_SCEN(C26, "TUNSETSNDBUF 4096"),
    CONF_SCEN(C27, "TUNSETSNDBUF 1"),
    CONF_SCEN(C28, "TUNSETSNDBUF/TUNGETSNDBUF NULL (C29)"),
    CONF_SCEN(C30, "TUNGETVNETHDRSZ default"),
    CONF_WIP(C31, "TUNSETVNETHDRSZ 9", "vnet header"),
    CONF_WIP(C32, "TUNSETVNETHDRSZ 12", "vnet header"),
    CONF_WIP(C33, "TUNSETVNETHDRSZ 100000", "vnet header"),
    CONF_WIP(C34, "TUNGETVNETLE, TUNSETVNETLE (C35)", "vnet header"),
    CONF_WIP(C36, "TUNGETVNETBE", "vnet header"),
    CONF_WIP(C37, "TUNSETOFFLOAD 0", "offloads"),
    CONF_WIP(C38, "TUNSETOFFLOAD CSUM", "offloads"),
    CONF_WIP(C39, "TUNSETOFFLOAD TSO4 without CSUM", "offloads"),
    CONF_WIP(C40, "TUNSETOFFLOAD CSUM|TSO4|TSO6|ECN|UFO", "offloads"),
    CONF_WIP(C41, "TUNSETOFFLOAD UFO alone", "offloads"),
    CONF_WIP(C42, "TUNSETOFFLOAD unknown bit", "offloads"),
    CONF_WIP(C43, "TUNSETOFFLOAD CSUM|USO4|USO6", "offloads"),
    CONF_SCEN(C44, "TUNSETLINK down, then up (C45)"),
    CONF_WIP(C46, "TUNSETTXFILTER on a TUN", "filters"),
    CONF_WIP(C47, "TUNSETTXFILTER on a TAP: 0, then 2 (C48)", "filters"),
    CONF_SCEN(C49, "TUNSETCARRIER &0"),
    CONF_SCEN(C50, "TUNSETCARRIER &1"),
    CONF_SCEN(C50b, "TUNSETCARRIER &7"),
    CONF_SCEN(C51, "TUNSETCARRIER NULL"),
    CONF_SCEN(C52, "unknown ioctl attached"),
    CONF_SCEN(C53, "TCGETS attached"),
    CONF_SCEN(C54, "FIONREAD attached"),
    CONF_SCEN(C55, "TUNSETQUEUE NULL"),
    CONF_SCEN(C56, "TUNSETQUEUE detach on a single-queue device"),
    CONF_SCEN(C57, "TUNSETQUEUE attach on an attached fd"),
    CONF_SCEN(C58, "SIOCGIFHWADDR on a TAP"),
    CONF_SCEN(C59, "SIOCSIFHWADDR on a TAP"),
    CONF_SCEN(C60, "SIOCSIFHWADDR multicast"),
    CONF_SCEN(C61, "SIOCGIFHWADDR on a TUN"),
    CONF_SCEN(X_C_settun_hw, "(not in the table) SIOCSIFHWADDR on a TUN"),
    CONF_SCEN(X_C_settap_family, "(not in the table) SIOCSIFHWADDR on a TAP, family NONE"),
    CONF_SCEN(C62, "SIOCGIFFLAGS on a tun fd"),
    CONF_SCEN(C66, "FIONBIO 0, then 1 (C67)"),
    CONF_SCEN(C69, "TUN txqueuelen 500"),
    CONF_SCEN(C70, "TAP txqueuelen 1000"),
    CONF_SCEN(C73, "TUNSETIFF NULL on an attached fd"),
    CONF_END,
};
