/*
 * scen_attach.c — sections A (open, and calls before TUNSETIFF) and B
 * (TUNSETIFF: naming, flags, attaching) of kernel-tun-semantics.md.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "conf_util.h"

#include <linux/sockios.h>
#include <termios.h>
#include <unistd.h>

#define NB (O_RDWR | O_NONBLOCK)

/* --- A ------------------------------------------------------------------ */

static void scen_A01(struct conf_ctx *c)
{
    int fd = conf_open(c, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    conf_observe(c, "open", "%s", fd >= 0 ? "fd>=0" : conf_errname(errno));
}

static void scen_A02(struct conf_ctx *c)
{
    int fd = conf_open(c, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    conf_rc(c, "F_GETFD", memio_fcntl(c->sys, fd, F_GETFD));
}

static void scen_A03(struct conf_ctx *c)
{
    int fd = conf_open(c, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    int fl = memio_fcntl(c->sys, fd, F_GETFL);
    conf_observe(c, "F_GETFL", "0x%x", (unsigned)fl);
}

static void scen_A04(struct conf_ctx *c)
{
    char buf[2048];
    int fd = conf_open(c, NB);
    conf_rc(c, "read(2048)", memio_read(c->sys, fd, buf, sizeof buf));
}

static void scen_A05(struct conf_ctx *c)
{
    char buf[1];
    int fd = conf_open(c, NB);
    conf_rc(c, "read(0)", memio_read(c->sys, fd, buf, 0));
}

static void scen_A06(struct conf_ctx *c)
{
    int fd = conf_open(c, NB);
    conf_rc(c, "write(4)", memio_write(c->sys, fd, "\x45\0\0\0", 4));
}

static void scen_A07(struct conf_ctx *c)
{
    int fd = conf_open(c, NB);
    conf_rc(c, "write(0)", memio_write(c->sys, fd, "", 0));
}

static void scen_A08(struct conf_ctx *c)
{
    int fd = conf_open(c, NB);
    obs_getiff(c, "TUNGETIFF", fd);
}

static void scen_A09(struct conf_ctx *c)
{
    unsigned feat = 0;
    int fd = conf_open(c, NB);
    conf_rc(c, "TUNGETFEATURES", memio_ioctl(c->sys, fd, TUNGETFEATURES, &feat));
    conf_observe(c, "features", "0x%x", feat);
}

static void scen_A10(struct conf_ctx *c)
{
    int fd = conf_open(c, NB);
    conf_rc(c, "TUNGETFEATURES NULL", memio_ioctl(c->sys, fd, TUNGETFEATURES, NULL));
}

static void scen_A11(struct conf_ctx *c)
{
    int fd = conf_open(c, NB);
    obs_poll(c, "poll(IN|OUT)", fd, POLLIN | POLLOUT);
}

static void scen_A12(struct conf_ctx *c)
{
    int fd = conf_open(c, NB);
    conf_rc(c, "TUNSETPERSIST 1", memio_ioctl(c->sys, fd, TUNSETPERSIST, 1UL));
}

static void scen_A13(struct conf_ctx *c)
{
    int v = 0, fd = conf_open(c, NB);
    conf_rc(c, "TUNGETSNDBUF", memio_ioctl(c->sys, fd, TUNGETSNDBUF, &v));
}

static void scen_A14(struct conf_ctx *c)
{
    int v = 0, fd = conf_open(c, NB);
    conf_rc(c, "TUNGETVNETHDRSZ", memio_ioctl(c->sys, fd, TUNGETVNETHDRSZ, &v));
}

/* 0xDEADBEEF encodes an argument of 0x1ead bytes: give that much. */
static char garbage[_IOC_SIZE(0xDEADBEEFu) + 1];

static void scen_A15(struct conf_ctx *c)
{
    int fd = conf_open(c, NB);
    conf_rc(c, "ioctl 0xDEADBEEF", memio_ioctl(c->sys, fd, 0xDEADBEEFul, garbage));
}

static void scen_A16(struct conf_ctx *c)
{
    struct termios t;
    int fd = conf_open(c, NB);
    conf_rc(c, "TCGETS", memio_ioctl(c->sys, fd, TCGETS, &t));
}

static void scen_A17(struct conf_ctx *c)
{
    int v = 0, fd = conf_open(c, NB);
    conf_rc(c, "FIONREAD", memio_ioctl(c->sys, fd, FIONREAD, &v));
}

static void scen_A18(struct conf_ctx *c)
{
    int fd = conf_open(c, NB);
    conf_rc(c, "TUNSETIFF NULL", memio_ioctl(c->sys, fd, TUNSETIFF, NULL));
}

static void scen_A22(struct conf_ctx *c)
{
    int fd = conf_open(c, NB), ns;
    ns = memio_ioctl(c->sys, fd, SIOCGSKNS, 0UL);
    conf_observe(c, "SIOCGSKNS", "%s", ns >= 0 ? "fd>=0" : conf_errname(errno));
    if (ns >= 0 && c->os)
        close(ns);
}

static void scen_A23(struct conf_ctx *c)
{
    int fd = conf_open(c, NB);
    conf_rc(c, "TUNGETDEVNETNS", memio_ioctl(c->sys, fd, TUNGETDEVNETNS, 0UL));
}

static void scen_A24(struct conf_ctx *c)
{
    int fd = conf_open(c, O_RDONLY | O_NONBLOCK);
    conf_observe(c, "open O_RDONLY", "%s", fd >= 0 ? "fd>=0" : conf_errname(errno));
    conf_rc(c, "TUNSETIFF", conf_setiff(c, fd, "cfro0", IFF_TUN | IFF_NO_PI, NULL));
}

static void scen_A25(struct conf_ctx *c)
{
    int fd = conf_open(c, O_RDONLY | O_NONBLOCK);
    conf_setiff(c, fd, "cfro0", IFF_TUN | IFF_NO_PI, NULL);
    conf_link(c, "cfro0", 1);
    conf_rc(c, "write(1)", memio_write(c->sys, fd, "\x45", 1));
}

static void scen_A26(struct conf_ctx *c)
{
    char buf[64];
    int fd = conf_open(c, O_WRONLY | O_NONBLOCK);
    conf_rc(c, "TUNSETIFF", conf_setiff(c, fd, "cfwo0", IFF_TUN | IFF_NO_PI, NULL));
    conf_rc(c, "read", memio_read(c->sys, fd, buf, sizeof buf));
}

/* --- B ------------------------------------------------------------------ */

static void scen_B01(struct conf_ctx *c)
{
    obs_setiff(c, conf_open(c, NB), "", IFF_TUN);
}

static void scen_B02(struct conf_ctx *c)
{
    conf_dev(c, "", IFF_TUN, NULL); /* tun0 held open */
    obs_setiff(c, conf_open(c, NB), "", IFF_TUN | IFF_NO_PI);
}

static void scen_B03(struct conf_ctx *c)
{
    obs_setiff(c, conf_open(c, NB), "", IFF_TAP);
}

static void scen_B04(struct conf_ctx *c)
{
    conf_dev(c, "", IFF_TAP, NULL); /* tap0 held open */
    obs_setiff(c, conf_open(c, NB), "", IFF_TAP | IFF_NO_PI);
}

static void scen_B05(struct conf_ctx *c)
{
    obs_setiff(c, conf_open(c, NB), "x0", IFF_NO_PI);
}

static void scen_B06(struct conf_ctx *c)
{
    obs_setiff(c, conf_open(c, NB), "", 0);
}

static void scen_B07(struct conf_ctx *c)
{
    struct ifreq ifr;
    int fd = conf_open(c, NB);
    obs_setiff(c, fd, "both0", IFF_TUN | IFF_TAP | IFF_NO_PI);
    memset(&ifr, 0, sizeof ifr);
    conf_rc(c, "SIOCGIFHWADDR", memio_ioctl(c->sys, fd, SIOCGIFHWADDR, &ifr));
    conf_observe(c, "hw family", "%d", ifr.ifr_hwaddr.sa_family);
}

static void scen_B08(struct conf_ctx *c)
{
    conf_dev(c, "", IFF_TUN | IFF_NO_PI, NULL);
    conf_dev(c, "", IFF_TUN | IFF_NO_PI, NULL);
    obs_setiff(c, conf_open(c, NB), "tun%d", IFF_TUN | IFF_NO_PI);
}

static void scen_B09(struct conf_ctx *c)
{
    conf_dev(c, "", IFF_TUN | IFF_NO_PI, NULL);
    conf_dev(c, "", IFF_TUN | IFF_NO_PI, NULL);
    obs_setiff(c, conf_open(c, NB), "tun%d", IFF_TAP | IFF_NO_PI);
}

static void scen_B10(struct conf_ctx *c) { obs_setiff(c, conf_open(c, NB), "vpn%d", IFF_TUN); }
static void scen_B11(struct conf_ctx *c) { obs_setiff(c, conf_open(c, NB), "a%d%d", IFF_TUN); }
static void scen_B12(struct conf_ctx *c) { obs_setiff(c, conf_open(c, NB), "a%s", IFF_TUN); }
static void scen_B13(struct conf_ctx *c) { obs_setiff(c, conf_open(c, NB), "%d", IFF_TUN); }
static void scen_B14(struct conf_ctx *c) { obs_setiff(c, conf_open(c, NB), "mytun", IFF_TUN); }

static void scen_B15(struct conf_ctx *c)
{
    /* 16 bytes, no NUL: conf_setiff copies all IFNAMSIZ of them. */
    obs_setiff(c, conf_open(c, NB), "abcdefghijklmnop", IFF_TUN);
}

static void scen_B16(struct conf_ctx *c)
{
    obs_setiff(c, conf_open(c, NB), "abcdefghijklmno", IFF_TUN);
}

static void scen_B17(struct conf_ctx *c) { obs_setiff(c, conf_open(c, NB), "a/b", IFF_TUN); }
static void scen_B18(struct conf_ctx *c) { obs_setiff(c, conf_open(c, NB), "a:b", IFF_TUN); }
static void scen_B19(struct conf_ctx *c) { obs_setiff(c, conf_open(c, NB), "a b", IFF_TUN); }
static void scen_B20(struct conf_ctx *c) { obs_setiff(c, conf_open(c, NB), ".", IFF_TUN); }
static void scen_B21(struct conf_ctx *c) { obs_setiff(c, conf_open(c, NB), "..", IFF_TUN); }
static void scen_B22(struct conf_ctx *c) { obs_setiff(c, conf_open(c, NB), "lo", IFF_TUN); }

static void scen_B23(struct conf_ctx *c)
{
    obs_setiff(c, conf_open(c, NB), "lo", IFF_TUN | IFF_TUN_EXCL);
}

static void scen_B24(struct conf_ctx *c)
{
    int fd = conf_open(c, NB);
    conf_rc(c, "first", conf_setiff(c, fd, "twice0", IFF_TUN | IFF_NO_PI, NULL));
    conf_rc(c, "second", conf_setiff(c, fd, "twice1", IFF_TUN | IFF_NO_PI, NULL));
    obs_exists(c, "afterwards", "twice1");
}

static void scen_B25(struct conf_ctx *c)
{
    int fd = conf_open(c, NB);
    conf_rc(c, "first", conf_setiff(c, fd, "twice0", IFF_TUN | IFF_NO_PI, NULL));
    conf_rc(c, "again", conf_setiff(c, fd, "twice0", IFF_TUN | IFF_NO_PI, NULL));
}

/* A second fd asks for the name an attached non-multiqueue TUN has. */
static void second_fd(struct conf_ctx *c, int flags)
{
    conf_dev(c, "cfdup0", IFF_TUN | IFF_NO_PI, NULL);
    conf_rc(c, "2nd TUNSETIFF", conf_setiff(c, conf_open(c, NB), "cfdup0", flags, NULL));
}

static void scen_B26(struct conf_ctx *c) { second_fd(c, IFF_TUN | IFF_NO_PI); }
static void scen_B27(struct conf_ctx *c) { second_fd(c, IFF_TAP | IFF_NO_PI); }
static void scen_B28(struct conf_ctx *c) { second_fd(c, IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE); }
static void scen_B29(struct conf_ctx *c) { second_fd(c, IFF_TUN | IFF_NO_PI | IFF_TUN_EXCL); }
static void scen_B30(struct conf_ctx *c) { second_fd(c, IFF_TUN); }

static void scen_B31(struct conf_ctx *c)
{
    int fd;
    conf_dev(c, "cfdup0", IFF_TUN | IFF_NO_PI, NULL);
    fd = conf_open(c, NB);
    conf_setiff(c, fd, "cfdup0", IFF_TUN | IFF_NO_PI, NULL);
    conf_setiff(c, fd, "cfdup0", IFF_TAP | IFF_NO_PI, NULL);
    conf_setiff(c, fd, "cfdup0", IFF_TUN | IFF_MULTI_QUEUE, NULL);
    conf_setiff(c, fd, "cfdup0", IFF_TUN | IFF_TUN_EXCL, NULL);
    conf_setiff(c, fd, "cfdup0", IFF_TUN, NULL);
    obs_setiff(c, fd, "tun%d", IFF_TUN | IFF_NO_PI);
}

static void scen_B32(struct conf_ctx *c)
{
    obs_setiff(c, conf_open(c, NB), "excl0", IFF_TUN | IFF_NO_PI | IFF_TUN_EXCL);
}

static void scen_B33(struct conf_ctx *c)
{
    int a = conf_open(c, NB), b = conf_open(c, NB);
    conf_rc(c, "fd1", conf_setiff(c, a, "mq0", IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE, NULL));
    conf_rc(c, "fd2", conf_setiff(c, b, "mq0", IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE, NULL));
    obs_getiff(c, "TUNGETIFF fd1", a);
    obs_getiff(c, "TUNGETIFF fd2", b);
}

static void scen_B34(struct conf_ctx *c)
{
    int a = conf_open(c, NB), b = conf_open(c, NB);
    conf_setiff(c, a, "mq0", IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE, NULL);
    conf_setiff(c, b, "mq0", IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE, NULL);
    conf_rc(c, "3rd without MQ", conf_setiff(c, conf_open(c, NB), "mq0", IFF_TUN | IFF_NO_PI, NULL));
}

static void scen_B35(struct conf_ctx *c)
{
    int a = conf_open(c, NB), b = conf_open(c, NB), d = conf_open(c, NB);
    conf_setiff(c, a, "mq0", IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE, NULL);
    conf_setiff(c, b, "mq0", IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE, NULL);
    conf_rc(c, "3rd with PI", conf_setiff(c, d, "mq0", IFF_TUN | IFF_MULTI_QUEUE, NULL));
    obs_getiff(c, "TUNGETIFF fd3", d);
    obs_getiff(c, "TUNGETIFF fd1", a);
}

static void scen_B36(struct conf_ctx *c)
{
    int a = conf_open(c, NB), b = conf_open(c, NB), d = conf_open(c, NB);
    conf_setiff(c, a, "mq0", IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE, NULL);
    conf_setiff(c, b, "mq0", IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE, NULL);
    conf_setiff(c, d, "mq0", IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE, NULL);
    conf_close(c, a);
    obs_exists(c, "after closing 1 of 3", "mq0");
    conf_close(c, b);
    conf_close(c, d);
    obs_exists(c, "after closing all (B37)", "mq0");
}

static void scen_B38(struct conf_ctx *c)
{
    int n = 0, rc = 0, fds[300];
    for (int i = 0; i < 260; i++) {
        fds[i] = memio_open(c->sys, CONF_TUN_PATH, NB);
        rc = conf_setiff(c, fds[i], "mq0", IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE, NULL);
        if (rc != 0) {
            conf_rc(c, "queue that failed", rc);
            memio_close(c->sys, fds[i]);
            break;
        }
        n++;
    }
    conf_observe(c, "queues attached", "%d", n);
    for (int i = 0; i < n; i++)
        memio_close(c->sys, fds[i]);
}

static void scen_B39(struct conf_ctx *c)
{
    obs_setiff(c, conf_open(c, NB), "cf0", IFF_TUN | IFF_NO_PI | IFF_VNET_HDR);
}

static void scen_B40(struct conf_ctx *c)
{
    obs_setiff(c, conf_open(c, NB), "cf0", IFF_TUN | IFF_NO_PI | IFF_ONE_QUEUE);
}

static void scen_B41(struct conf_ctx *c)
{
    obs_setiff(c, conf_open(c, NB), "cf0", IFF_TUN | IFF_NO_PI | IFF_NAPI);
}

static void scen_B42(struct conf_ctx *c)
{
    obs_setiff(c, conf_open(c, NB), "cf0", IFF_TUN | IFF_NAPI | IFF_NAPI_FRAGS);
}

static void scen_B43(struct conf_ctx *c)
{
    obs_setiff(c, conf_open(c, NB), "cf0", IFF_TAP | IFF_NAPI_FRAGS);
}

static void scen_B44(struct conf_ctx *c)
{
    obs_setiff(c, conf_open(c, NB), "cf0", IFF_TAP | IFF_NAPI | IFF_NAPI_FRAGS);
}

static void scen_B45(struct conf_ctx *c)
{
    obs_setiff(c, conf_open(c, NB), "cf0", IFF_TUN | IFF_NO_PI | IFF_NO_CARRIER);
}

/* B46: an IFF_NO_CARRIER device stays without carrier after up; what the
 * kernel transmits is dropped and counted (E12). */
static void scen_B46(struct conf_ctx *c)
{
    struct conf_stats a, b;
    char buf[256];
    int fd = conf_dev_net(c, "cf0", IFF_TUN | IFF_NO_PI | IFF_NO_CARRIER, "10.77.0.1", NULL);
    if (fd < 0)
        return;
    conf_stats(c, "cf0", &a);
    conf_rc(c, "send", conf_send(c, "10.77.0.2", 4444, "x", 1, NULL));
    conf_rc(c, "read", conf_read_wait(c, fd, buf, sizeof buf, 200));
    conf_stats(c, "cf0", &b);
    conf_observe(c, "tx_dropped delta", "%llu", (unsigned long long)(b.tx_dropped - a.tx_dropped));
    obs_poll(c, "poll(all)", fd, POLL_ALL);
}

static void scen_B47(struct conf_ctx *c)
{
    obs_setiff(c, conf_open(c, NB), "junk0",
               IFF_TUN | IFF_NO_PI | 0x4 | 0x8 | 0x80 | IFF_PERSIST | IFF_ATTACH_QUEUE);
}

static void scen_B48(struct conf_ctx *c)
{
    int fd = conf_open(c, NB);
    conf_setiff(c, fd, "junk0", IFF_TUN | IFF_NO_PI | IFF_PERSIST, NULL);
    conf_close(c, fd);
    obs_exists(c, "after close", "junk0");
}

static void scen_B49(struct conf_ctx *c)
{
    int idx = 4242, fd = conf_open(c, NB);
    conf_rc(c, "TUNSETIFINDEX 4242", memio_ioctl(c->sys, fd, TUNSETIFINDEX, &idx));
    conf_rc(c, "TUNSETIFF", conf_setiff(c, fd, "idx0", IFF_TUN | IFF_NO_PI, NULL));
    conf_observe(c, "ifindex", "%s", conf_ifindex(c, "idx0") == 4242 ? "4242" : "other");
}

static void scen_B50(struct conf_ctx *c)
{
    int idx = 4243, fd = conf_dev(c, "cf0", IFF_TUN | IFF_NO_PI, NULL);
    conf_rc(c, "TUNSETIFINDEX attached", memio_ioctl(c->sys, fd, TUNSETIFINDEX, &idx));
}

static void scen_B51(struct conf_ctx *c)
{
    int idx = 1, fd = conf_open(c, NB);
    conf_rc(c, "TUNSETIFINDEX 1", memio_ioctl(c->sys, fd, TUNSETIFINDEX, &idx));
    conf_rc(c, "TUNSETIFF", conf_setiff(c, fd, "idx1", IFF_TUN | IFF_NO_PI, NULL));
}

static void scen_B52(struct conf_ctx *c)
{
    int idx = -5, fd = conf_open(c, NB);
    conf_rc(c, "TUNSETIFINDEX -5", memio_ioctl(c->sys, fd, TUNSETIFINDEX, &idx));
}

static void scen_B53(struct conf_ctx *c)
{
    char n1[IFNAMSIZ] = "", n2[IFNAMSIZ] = "";
    int fd = conf_dev(c, "tun%d", IFF_TUN | IFF_NO_PI, n1), i1, i2;
    i1 = conf_ifindex(c, n1);
    conf_close(c, fd);
    obs_exists(c, "after close", n1);
    conf_dev(c, "tun%d", IFF_TUN | IFF_NO_PI, n2);
    i2 = conf_ifindex(c, n2);
    conf_observe(c, "names", "%s then %s", n1, n2);
    conf_observe(c, "ifindex grew", "%d", i2 > i1);
}

/* Not in the table: a TUN template that would not fit once expanded. */
static void scen_X_B_long_template(struct conf_ctx *c)
{
    obs_setiff(c, conf_open(c, NB), "abcdefghijklm%d", IFF_TUN);
}

const struct conf_scenario conf_scen_attach[] = {
    CONF_SCEN(A01, "open /dev/net/tun O_RDWR|O_NONBLOCK|O_CLOEXEC"),
    CONF_SCEN(A02, "F_GETFD after O_CLOEXEC"),
    CONF_SCEN(A03, "F_GETFL of a fresh fd"),
    CONF_SCEN(A04, "read before TUNSETIFF"),
    CONF_SCEN(A05, "read(0) before TUNSETIFF"),
    CONF_SCEN(A06, "write before TUNSETIFF"),
    CONF_SCEN(A07, "write(0) before TUNSETIFF"),
    CONF_SCEN(A08, "TUNGETIFF before TUNSETIFF"),
    CONF_SCEN(A09, "TUNGETFEATURES before TUNSETIFF"),
    CONF_SCEN(A10, "TUNGETFEATURES NULL"),
    CONF_SCEN(A11, "poll before TUNSETIFF"),
    CONF_SCEN(A12, "TUNSETPERSIST before TUNSETIFF"),
    CONF_SCEN(A13, "TUNGETSNDBUF before TUNSETIFF"),
    CONF_SCEN(A14, "TUNGETVNETHDRSZ before TUNSETIFF"),
    CONF_SCEN(A15, "unknown ioctl before TUNSETIFF"),
    CONF_SCEN(A16, "TCGETS before TUNSETIFF"),
    CONF_SCEN(A17, "FIONREAD before TUNSETIFF"),
    CONF_SCEN(A18, "TUNSETIFF NULL"),
    CONF_SCEN(A22, "SIOCGSKNS before TUNSETIFF"),
    CONF_SCEN(A23, "TUNGETDEVNETNS before TUNSETIFF"),
    CONF_SCEN(A24, "O_RDONLY fd can TUNSETIFF"),
    CONF_SCEN(A25, "write on an O_RDONLY attached fd"),
    CONF_SCEN(A26, "read on an O_WRONLY attached fd"),
    CONF_SCEN(B01, "TUN with PI, empty name"),
    CONF_SCEN(B02, "TUN no PI, empty name, tun0 held"),
    CONF_SCEN(B03, "TAP with PI, empty name"),
    CONF_SCEN(B04, "TAP no PI, empty name, tap0 held"),
    CONF_SCEN(B05, "neither TUN nor TAP"),
    CONF_SCEN(B06, "flags 0"),
    CONF_SCEN(B07, "TUN|TAP makes a TUN"),
    CONF_SCEN(B08, "template tun%d, lowest free unit"),
    CONF_SCEN(B09, "TAP with template tun%d"),
    CONF_SCEN(B10, "template vpn%d"),
    CONF_SCEN(B11, "template a%d%d"),
    CONF_SCEN(B12, "template a%s"),
    CONF_SCEN(B13, "template %d"),
    CONF_SCEN(B14, "explicit name"),
    CONF_SCEN(B15, "16-byte name without NUL"),
    CONF_SCEN(B16, "15-byte name"),
    CONF_SCEN(B17, "name a/b"),
    CONF_SCEN(B18, "name a:b"),
    CONF_SCEN(B19, "name a b"),
    CONF_SCEN(B20, "name ."),
    CONF_SCEN(B21, "name .."),
    CONF_SCEN(B22, "name lo"),
    CONF_SCEN(B23, "name lo with IFF_TUN_EXCL"),
    CONF_SCEN(B24, "TUNSETIFF twice, other name"),
    CONF_SCEN(B25, "TUNSETIFF twice, same name"),
    CONF_SCEN(B26, "2nd fd, same name and type"),
    CONF_SCEN(B27, "2nd fd, other type"),
    CONF_SCEN(B28, "2nd fd, IFF_MULTI_QUEUE on a single-queue device"),
    CONF_SCEN(B29, "2nd fd, IFF_TUN_EXCL"),
    CONF_SCEN(B30, "2nd fd, PI differs"),
    CONF_SCEN(B31, "fd reusable after failed TUNSETIFFs"),
    CONF_SCEN(B32, "IFF_TUN_EXCL new name"),
    CONF_WIP(B33, "multiqueue: two fds on mq0", "multiqueue"),
    CONF_WIP(B34, "multiqueue: 3rd fd without IFF_MULTI_QUEUE", "multiqueue"),
    CONF_WIP(B35, "multiqueue: 3rd fd with PI", "multiqueue"),
    CONF_WIP(B36, "multiqueue: device lives while a queue is attached (B37)", "multiqueue"),
    CONF_WIP(B38, "multiqueue: 256 queues, then E2BIG", "multiqueue"),
    CONF_SCEN(B39, "IFF_VNET_HDR stored"),
    CONF_SCEN(B40, "IFF_ONE_QUEUE stored"),
    CONF_SCEN(B41, "IFF_NAPI stored"),
    CONF_SCEN(B42, "IFF_NAPI_FRAGS on a TUN"),
    CONF_SCEN(B43, "IFF_NAPI_FRAGS without IFF_NAPI"),
    CONF_SCEN(B44, "TAP IFF_NAPI|IFF_NAPI_FRAGS"),
    CONF_SCEN(B45, "IFF_NO_CARRIER not stored"),
    CONF_SCEN(B46, "IFF_NO_CARRIER device up: kernel traffic dropped"),
    CONF_SCEN(B47, "unknown flag bits ignored, echoed"),
    CONF_SCEN(B48, "IFF_PERSIST in TUNSETIFF ignored"),
    CONF_SCEN(B49, "TUNSETIFINDEX 4242 then TUNSETIFF"),
    CONF_SCEN(B50, "TUNSETIFINDEX after attach"),
    CONF_SCEN(B51, "TUNSETIFINDEX 1 (lo's)"),
    CONF_SCEN(B52, "TUNSETIFINDEX -5"),
    CONF_SCEN(B53, "name reused after close, ifindex not"),
    CONF_SCEN(X_B_long_template, "(not in the table) 13-char prefix + %d"),
    CONF_END,
};
