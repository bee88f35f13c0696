/*
 * test_tun_complete.c — the rest of the device: multiqueue and TUNSETQUEUE,
 * the virtio-net header and offloads, persistence, owner, group and
 * capabilities, TX and socket filters, link type, TUNSETIFINDEX, and the
 * requests with no memory counterpart (kernel-tun-semantics.md rows B32-B52,
 * C08-C22, C30-C51, C55-C65, G24, G25, I16-I22, L01-L09, M01-M14).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>

#include "testutil.h"

#ifndef SIOCGSKNS
#define SIOCGSKNS 0x894C
#endif

static int setup(void **state)
{
    *state = tu_memory();
    return 0;
}

static int teardown(void **state)
{
    memio_sys_free(*state);
    return 0;
}

static int fresh(memio_sys *sys)
{
    int fd = memio_open(sys, "/dev/net/tun", O_RDWR | O_NONBLOCK);
    assert_true(fd >= 0);
    return fd;
}

static unsigned short getiff(memio_sys *sys, int fd)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    assert_int_equal(memio_ioctl(sys, fd, TUNGETIFF, &ifr), 0);
    return (unsigned short)ifr.ifr_flags;
}

/* --- attach flags (B32-B46) ------------------------------------------------ */

/* B32: IFF_TUN_EXCL creates a new device; it is not stored (TUNGETIFF 0x1001). */
static void test_tun_excl_creates_but_is_not_stored(void **state)
{
    memio_sys *sys = *state;
    int fd = tu_tun(sys, O_RDWR, "excl0", IFF_TUN | IFF_NO_PI | IFF_TUN_EXCL);
    assert_int_equal(getiff(sys, fd), 0x1001);
}

/* B39-B41: VNET_HDR, ONE_QUEUE and NAPI are stored and reported. */
static void test_feature_flags_are_stored(void **state)
{
    memio_sys *sys = *state;
    assert_int_equal(getiff(sys, tu_tun(sys, O_RDWR, "", IFF_TUN | IFF_NO_PI | IFF_VNET_HDR)),
                     0x5001);
    assert_int_equal(getiff(sys, tu_tun(sys, O_RDWR, "", IFF_TUN | IFF_NO_PI | IFF_ONE_QUEUE)),
                     0x3001);
    assert_int_equal(getiff(sys, tu_tun(sys, O_RDWR, "", IFF_TUN | IFF_NO_PI | IFF_NAPI)), 0x1011);
}

/* B33-B37: multiqueue devices share one device; a third queue must ask for
 * MQ; its PI flag is not re-applied; the device lives while any queue does. */
static void test_multiqueue_attach_rules(void **state)
{
    memio_sys *sys = *state;
    int fd1 = tu_tun(sys, O_RDWR, "mq0", IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE);
    int fd2 = tu_tun(sys, O_RDWR, "mq0", IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE);
    int fd3 = fresh(sys);
    memio_tunnel *t = memio_tunnel_get(sys, fd1);
    assert_ptr_equal(memio_tunnel_get(sys, fd2), t);
    assert_int_equal(getiff(sys, fd1), 0x1101);
    assert_int_equal(getiff(sys, fd2), 0x1101);
    ASSERT_ERR(tu_setiff(sys, fd3, "mq0", IFF_TUN | IFF_NO_PI, NULL), EINVAL); /* B34 */
    assert_int_equal(tu_setiff(sys, fd3, "mq0", IFF_TUN | IFF_MULTI_QUEUE, NULL), 0); /* B35 */
    assert_int_equal(getiff(sys, fd3), 0x1101);
    assert_int_equal(getiff(sys, fd1), 0x1101);
    assert_int_equal(memio_tunnel_queue_count(t), 3);
    memio_close(sys, fd1); /* B36 */
    assert_true(memio_tunnel_exists(t));
    memio_close(sys, fd2);
    memio_close(sys, fd3); /* B37 */
    assert_false(memio_tunnel_exists(t));
}

/* B38: a multiqueue device takes 256 queues; the 257th is E2BIG. */
static void test_multiqueue_limit_is_256(void **state)
{
    memio_sys *sys = *state;
    int i, fd;
    for (i = 0; i < 256; i++)
        tu_tun(sys, O_RDWR, "mqmax", IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE);
    fd = fresh(sys);
    ASSERT_ERR(tu_setiff(sys, fd, "mqmax", IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE, NULL), E2BIG);
}

/* B46: an IFF_NO_CARRIER device stays without carrier when the link is up. */
static void test_no_carrier_device_stays_without_carrier_when_up(void **state)
{
    memio_sys *sys = *state;
    int fd = tu_tun(sys, O_RDWR, "nc1", IFF_TUN | IFF_NO_PI | IFF_NO_CARRIER);
    memio_tunnel *t = memio_tunnel_get(sys, fd);
    assert_int_equal(memio_tunnel_set_up(t, 1), 0);
    assert_false(memio_tunnel_carrier(t));
    ASSERT_ERR(memio_tunnel_inject(t, "\x45\0\0\x14", 4), ENOLINK);
}

/* B49-B52: TUNSETIFINDEX sets the next device's ifindex, only before
 * attach, not negative, not one in use. */
static void test_setifindex_rules(void **state)
{
    memio_sys *sys = *state;
    int fd = fresh(sys), idx = 4242, fd2;
    assert_int_equal(memio_ioctl(sys, fd, TUNSETIFINDEX, &idx), 0);
    assert_int_equal(tu_setiff(sys, fd, "idx0", IFF_TUN, NULL), 0);
    assert_int_equal(memio_tunnel_ifindex(memio_tunnel_get(sys, fd)), 4242);
    ASSERT_ERR(memio_ioctl(sys, fd, TUNSETIFINDEX, &idx), EPERM); /* B50 */
    fd2 = fresh(sys);
    idx = 1;
    assert_int_equal(memio_ioctl(sys, fd2, TUNSETIFINDEX, &idx), 0); /* B51 */
    ASSERT_ERR(tu_setiff(sys, fd2, "idx1", IFF_TUN, NULL), EBUSY);
    idx = 4242;
    assert_int_equal(memio_ioctl(sys, fd2, TUNSETIFINDEX, &idx), 0);
    ASSERT_ERR(tu_setiff(sys, fd2, "idx1", IFF_TUN, NULL), EBUSY);
    idx = -5;
    ASSERT_ERR(memio_ioctl(sys, fd2, TUNSETIFINDEX, &idx), EINVAL); /* B52 */
    ASSERT_ERR(memio_ioctl(sys, fd2, TUNSETIFINDEX, NULL), EFAULT);
}

/* --- socket filters (C08-C12, G25) ------------------------------------------ */

static struct sock_filter ret_k(unsigned k)
{
    struct sock_filter f = BPF_STMT(BPF_RET | BPF_K, k);
    return f;
}

/* C08-C12: TUNATTACHFILTER is for TAPs; it clears the 0x1000 bit of
 * TUNGETIFF; TUNGETFILTER gives the program back; DETACH restores the bit. */
static void test_socket_filter_ioctls(void **state)
{
    memio_sys *sys = *state;
    struct sock_filter accept = ret_k(0xffff);
    struct sock_fprog prog = {.len = 1, .filter = &accept}, got;
    int tun = tu_tun(sys, O_RDWR, "ftun", IFF_TUN);
    int tap = tu_tun(sys, O_RDWR, "ftap", IFF_TAP);
    ASSERT_ERR(memio_ioctl(sys, tun, TUNATTACHFILTER, &prog), EINVAL);
    ASSERT_ERR(memio_ioctl(sys, tun, TUNGETFILTER, &got), EINVAL);
    assert_int_equal(memio_ioctl(sys, tap, TUNATTACHFILTER, &prog), 0);
    assert_int_equal(getiff(sys, tap), 0x0002);
    memset(&got, 0, sizeof(got));
    assert_int_equal(memio_ioctl(sys, tap, TUNGETFILTER, &got), 0);
    assert_int_equal(got.len, 1);
    assert_ptr_equal(got.filter, &accept);
    assert_int_equal(memio_ioctl(sys, tap, TUNDETACHFILTER, 0), 0);
    assert_int_equal(getiff(sys, tap), 0x1002);
    ASSERT_ERR(memio_ioctl(sys, tap, TUNATTACHFILTER, NULL), EFAULT);
    prog.len = 0;
    ASSERT_ERR(memio_ioctl(sys, tap, TUNATTACHFILTER, &prog), EINVAL);
}

/* G25: a drop-all filter drops what the kernel transmits (tx_dropped); a
 * filter returning a length trims the frame to it. */
static void test_socket_filter_drops_and_trims(void **state)
{
    memio_sys *sys = *state;
    struct sock_filter f = ret_k(0);
    struct sock_fprog prog = {.len = 1, .filter = &f};
    int tap = tu_tun(sys, O_RDWR | O_NONBLOCK, "ftap2", IFF_TAP | IFF_NO_PI);
    memio_tunnel *t = memio_tunnel_get(sys, tap);
    uint8_t frame[60], buf[128];
    memio_tunnel_stats st;
    memset(frame, 0xff, 12);
    memset(frame + 12, 0x08, 48);
    assert_int_equal(memio_ioctl(sys, tap, TUNATTACHFILTER, &prog), 0);
    ASSERT_ERR(memio_tunnel_inject(t, frame, sizeof(frame)), EPERM);
    memio_tunnel_stats_get(t, &st);
    assert_int_equal(st.tx_dropped, 1);
    ASSERT_ERR(memio_read(sys, tap, buf, sizeof(buf)), EAGAIN);
    f = ret_k(20);
    assert_int_equal(memio_ioctl(sys, tap, TUNATTACHFILTER, &prog), 0);
    assert_int_equal(memio_tunnel_inject(t, frame, sizeof(frame)), 0);
    assert_int_equal(memio_read(sys, tap, buf, sizeof(buf)), 20);
}

/* An IFF_NO_PI (IFF_NOFILTER) attach of a new queue skips the filter. */
static void test_nofilter_attach_skips_socket_filter(void **state)
{
    memio_sys *sys = *state;
    struct sock_filter f = ret_k(0);
    struct sock_fprog prog = {.len = 1, .filter = &f};
    int a = tu_tun(sys, O_RDWR, "mqf", IFF_TAP | IFF_MULTI_QUEUE);
    int b, c;
    assert_int_equal(memio_ioctl(sys, a, TUNATTACHFILTER, &prog), 0);
    b = tu_tun(sys, O_RDWR, "mqf", IFF_TAP | IFF_MULTI_QUEUE);
    c = tu_tun(sys, O_RDWR, "mqf", IFF_TAP | IFF_MULTI_QUEUE | IFF_NO_PI);
    assert_int_equal(getiff(sys, b) & IFF_NOFILTER, 0);
    assert_int_equal(getiff(sys, c) & IFF_NOFILTER, IFF_NOFILTER);
}

/* --- TX filter (C46-C48, G24) ----------------------------------------------- */

struct txflt {
    struct tun_filter h;
    uint8_t addr[10][6];
};

/* C46-C48: TUNSETTXFILTER is for TAPs and returns the exact-entry count. */
static void test_txfilter_ioctl_returns_exact_count(void **state)
{
    memio_sys *sys = *state;
    struct txflt flt;
    int tun = tu_tun(sys, O_RDWR, "xtun", IFF_TUN);
    int tap = tu_tun(sys, O_RDWR, "xtap", IFF_TAP);
    memset(&flt, 0, sizeof(flt));
    ASSERT_ERR(memio_ioctl(sys, tun, TUNSETTXFILTER, &flt), EINVAL);
    assert_int_equal(memio_ioctl(sys, tap, TUNSETTXFILTER, &flt), 0);
    flt.h.count = 2;
    memcpy(flt.addr[0], "\x02\0\0\0\0\x07", 6);
    memcpy(flt.addr[1], "\x02\0\0\0\0\x08", 6);
    assert_int_equal(memio_ioctl(sys, tap, TUNSETTXFILTER, &flt), 2);
    flt.h.count = 10; /* 8 exact, then two unicast: no filter, 0 */
    assert_int_equal(memio_ioctl(sys, tap, TUNSETTXFILTER, &flt), 0);
    ASSERT_ERR(memio_ioctl(sys, tap, TUNSETTXFILTER, NULL), EFAULT);
}

/* G24: with a TX filter, frames to other MACs are dropped (tx_dropped). */
static void test_txfilter_drops_frames_to_other_macs(void **state)
{
    memio_sys *sys = *state;
    struct txflt flt;
    int tap = tu_tun(sys, O_RDWR | O_NONBLOCK, "xtap2", IFF_TAP | IFF_NO_PI);
    memio_tunnel *t = memio_tunnel_get(sys, tap);
    uint8_t frame[60], buf[64];
    memio_tunnel_stats st;
    memset(&flt, 0, sizeof(flt));
    flt.h.count = 1;
    memcpy(flt.addr[0], "\x02\0\0\0\0\x07", 6);
    assert_int_equal(memio_ioctl(sys, tap, TUNSETTXFILTER, &flt), 1);
    memset(frame, 0, sizeof(frame));
    memcpy(frame, "\x02\0\0\0\0\x02", 6);
    ASSERT_ERR(memio_tunnel_inject(t, frame, sizeof(frame)), EPERM);
    memset(frame, 0xff, 6); /* broadcast: not in the (empty) multicast hash */
    ASSERT_ERR(memio_tunnel_inject(t, frame, sizeof(frame)), EPERM);
    memio_tunnel_stats_get(t, &st);
    assert_int_equal(st.tx_dropped, 2);
    memcpy(frame, "\x02\0\0\0\0\x07", 6);
    assert_int_equal(memio_tunnel_inject(t, frame, sizeof(frame)), 0);
    assert_int_equal(memio_read(sys, tap, buf, sizeof(buf)), 60);
    flt.h.count = 0; /* disabled: everything passes */
    assert_int_equal(memio_ioctl(sys, tap, TUNSETTXFILTER, &flt), 0);
    memcpy(frame, "\x02\0\0\0\0\x02", 6);
    assert_int_equal(memio_tunnel_inject(t, frame, sizeof(frame)), 0);
}

/* TUN_FLT_ALLMULTI lets every multicast frame through besides the exact ones. */
static void test_txfilter_allmulti_passes_multicast(void **state)
{
    memio_sys *sys = *state;
    struct txflt flt;
    int tap = tu_tun(sys, O_RDWR | O_NONBLOCK, "xtap3", IFF_TAP | IFF_NO_PI);
    memio_tunnel *t = memio_tunnel_get(sys, tap);
    uint8_t frame[60];
    memset(&flt, 0, sizeof(flt));
    flt.h.count = 1;
    flt.h.flags = TUN_FLT_ALLMULTI;
    memcpy(flt.addr[0], "\x02\0\0\0\0\x07", 6);
    assert_int_equal(memio_ioctl(sys, tap, TUNSETTXFILTER, &flt), 1);
    memset(frame, 0, sizeof(frame));
    memcpy(frame, "\x01\x00\x5e\x00\x00\x01", 6);
    assert_int_equal(memio_tunnel_inject(t, frame, sizeof(frame)), 0);
}

/* --- persistence, owner, group (C13-C20, I16-I22) --------------------------- */

/* C17-C20: owner and group take values; (uid_t)-1 is EINVAL. */
static void test_owner_and_group_take_values(void **state)
{
    memio_sys *sys = *state;
    int fd = tu_tun(sys, O_RDWR, "own0", IFF_TUN);
    assert_int_equal(memio_ioctl(sys, fd, TUNSETOWNER, 1000), 0);
    ASSERT_ERR(memio_ioctl(sys, fd, TUNSETOWNER, -1), EINVAL);
    ASSERT_ERR(memio_ioctl(sys, fd, TUNSETOWNER, 0xffffffffUL), EINVAL);
    assert_int_equal(memio_ioctl(sys, fd, TUNSETGROUP, 1000), 0);
    ASSERT_ERR(memio_ioctl(sys, fd, TUNSETGROUP, -1), EINVAL);
    assert_int_equal(memio_ioctl(sys, fd, TUNSETNOCSUM, 1), 0); /* C21 */
    assert_int_equal(memio_ioctl(sys, fd, TUNSETDEBUG, 0), 0);  /* C22 */
}

/* I17, I18, I19, I22: a persistent device with no descriptor drops what is
 * sent; re-attached with PI on, it takes the new flags; the other type is
 * EINVAL; the test can delete it. */
static void test_persistent_device_reattach_rules(void **state)
{
    memio_sys *sys = *state;
    int fd = tu_tun(sys, O_RDWR, "ps2", IFF_TUN | IFF_NO_PI), fd2, fd3;
    memio_tunnel *t = memio_tunnel_get(sys, fd);
    static const uint8_t pkt[20] = {0x45, 0, 0, 20};
    uint8_t buf[64];
    memio_tunnel_stats st;
    assert_int_equal(memio_ioctl(sys, fd, TUNSETPERSIST, 1), 0);
    memio_close(sys, fd);
    assert_true(memio_tunnel_is_persistent(t));
    assert_int_equal(memio_tunnel_set_carrier(t, 1), 0);
    ASSERT_ERR(memio_tunnel_inject(t, pkt, sizeof(pkt)), ENXIO); /* I17 */
    memio_tunnel_stats_get(t, &st);
    assert_int_equal(st.tx_dropped, 1);
    fd2 = fresh(sys);
    ASSERT_ERR(tu_setiff(sys, fd2, "ps2", IFF_TAP, NULL), EINVAL); /* I19 */
    assert_int_equal(tu_setiff(sys, fd2, "ps2", IFF_TUN, NULL), 0); /* I18 */
    assert_int_equal(getiff(sys, fd2), 0x1801);
    assert_int_equal(memio_tunnel_inject(t, pkt, sizeof(pkt)), 0);
    assert_int_equal(memio_read(sys, fd2, buf, sizeof(buf)), 24); /* PI on now */
    memio_close(sys, fd2);
    assert_true(memio_tunnel_exists(t));
    assert_int_equal(memio_tunnel_delete(t), 0); /* I22 */
    assert_false(memio_tunnel_exists(t));
    fd3 = fresh(sys);
    assert_int_equal(tu_setiff(sys, fd3, "ps2", IFF_TAP, NULL), 0); /* the name is free */
}

/* --- capabilities (L01-L09) -------------------------------------------------- */

/* L01-L08: without CAP_NET_ADMIN a device cannot be created, but a
 * persistent one without owner or group can be attached and changed; one
 * owned by another uid or group cannot. */
static void test_without_cap_net_admin(void **state)
{
    memio_sys *sys = *state;
    int own = tu_tun(sys, O_RDWR, "capfree", IFF_TUN | IFF_NO_PI);
    int fd;
    memio_ioctl(sys, own, TUNSETPERSIST, 1);
    memio_close(sys, own);
    own = tu_tun(sys, O_RDWR, "cap1000", IFF_TUN | IFF_NO_PI);
    memio_ioctl(sys, own, TUNSETPERSIST, 1);
    memio_ioctl(sys, own, TUNSETOWNER, 1000);
    memio_close(sys, own);
    own = tu_tun(sys, O_RDWR, "cap0", IFF_TUN | IFF_NO_PI);
    memio_ioctl(sys, own, TUNSETPERSIST, 1);
    memio_ioctl(sys, own, TUNSETOWNER, 0);
    memio_close(sys, own);
    own = tu_tun(sys, O_RDWR, "capgrp", IFF_TUN | IFF_NO_PI);
    memio_ioctl(sys, own, TUNSETPERSIST, 1);
    memio_ioctl(sys, own, TUNSETGROUP, 1000);
    memio_close(sys, own);

    memio_sys_set_credentials(sys, 0, 0, 0);
    fd = fresh(sys); /* L01 */
    ASSERT_ERR(tu_setiff(sys, fd, "new0", IFF_TUN, NULL), EPERM); /* L02 */
    assert_int_equal(tu_setiff(sys, fd, "capfree", IFF_TUN | IFF_NO_PI, NULL), 0); /* L03 */
    assert_int_equal(memio_ioctl(sys, fd, TUNSETOWNER, 4321), 0);                  /* L04 */
    assert_int_equal(memio_ioctl(sys, fd, TUNSETPERSIST, 0), 0);                   /* L05 */
    ASSERT_ERR(memio_ioctl(sys, fd, TUNGETDEVNETNS), EPERM);                        /* L09 */
    ASSERT_ERR(tu_setiff(sys, fresh(sys), "cap1000", IFF_TUN | IFF_NO_PI, NULL), EPERM); /* L06 */
    assert_int_equal(tu_setiff(sys, fresh(sys), "cap0", IFF_TUN | IFF_NO_PI, NULL), 0);  /* L07 */
    ASSERT_ERR(tu_setiff(sys, fresh(sys), "capgrp", IFF_TUN | IFF_NO_PI, NULL), EPERM);  /* L08 */
    ASSERT_ERR(tu_setiff(sys, fresh(sys), "", IFF_TAP | IFF_NAPI | IFF_NAPI_FRAGS, NULL), EPERM);
    memio_sys_set_credentials(sys, 0, 0, 1);
    assert_int_equal(tu_setiff(sys, fresh(sys), "cap1000", IFF_TUN | IFF_NO_PI, NULL), 0);
}

/* --- link type, vnet header sizes, offloads (C30-C45) ------------------------ */

/* C44, C45: TUNSETLINK takes the value, only while down; SIOCGIFHWADDR then
 * reports the new type. */
static void test_setlink_only_while_down(void **state)
{
    memio_sys *sys = *state;
    int fd = tu_tun(sys, O_RDWR, "lt0", IFF_TUN);
    memio_tunnel *t = memio_tunnel_get(sys, fd);
    struct ifreq ifr;
    ASSERT_ERR(memio_ioctl(sys, fd, TUNSETLINK, ARPHRD_ETHER), EBUSY);
    memio_tunnel_set_up(t, 0);
    assert_int_equal(memio_ioctl(sys, fd, TUNSETLINK, ARPHRD_ETHER), 0);
    memset(&ifr, 0, sizeof(ifr));
    assert_int_equal(memio_ioctl(sys, fd, SIOCGIFHWADDR, &ifr), 0);
    assert_int_equal(ifr.ifr_hwaddr.sa_family, ARPHRD_ETHER);
}

/* C30-C36: vnet header size 10 by default, >= 10, no upper bound; LE
 * get/set; BE is EINVAL on the observed kernel. */
static void test_vnet_header_size_and_endianness(void **state)
{
    memio_sys *sys = *state;
    int fd = tu_tun(sys, O_RDWR, "vn0", IFF_TUN);
    int v = 9;
    ASSERT_ERR(memio_ioctl(sys, fd, TUNSETVNETHDRSZ, &v), EINVAL);
    v = 12;
    assert_int_equal(memio_ioctl(sys, fd, TUNSETVNETHDRSZ, &v), 0);
    v = 0;
    assert_int_equal(memio_ioctl(sys, fd, TUNGETVNETHDRSZ, &v), 0);
    assert_int_equal(v, 12);
    v = 100000;
    assert_int_equal(memio_ioctl(sys, fd, TUNSETVNETHDRSZ, &v), 0);
    v = 5;
    assert_int_equal(memio_ioctl(sys, fd, TUNGETVNETLE, &v), 0);
    assert_int_equal(v, 0);
    v = 1;
    assert_int_equal(memio_ioctl(sys, fd, TUNSETVNETLE, &v), 0);
    assert_int_equal(memio_ioctl(sys, fd, TUNGETVNETLE, &v), 0);
    assert_int_equal(v, 1);
    ASSERT_ERR(memio_ioctl(sys, fd, TUNGETVNETBE, &v), EINVAL);
    ASSERT_ERR(memio_ioctl(sys, fd, TUNSETVNETHDRSZ, NULL), EFAULT);
    /* Without IFF_VNET_HDR the test side reports no header. */
    assert_int_equal(memio_tunnel_vnet_hdr_size(memio_tunnel_get(sys, fd)), 0);
}

/* C37-C43: TUNSETOFFLOAD's bit rules. */
static void test_offload_bit_rules(void **state)
{
    memio_sys *sys = *state;
    int fd = tu_tun(sys, O_RDWR, "off0", IFF_TUN);
    memio_tunnel *t = memio_tunnel_get(sys, fd);
    assert_int_equal(memio_ioctl(sys, fd, TUNSETOFFLOAD, 0), 0);
    assert_int_equal(memio_ioctl(sys, fd, TUNSETOFFLOAD, TUN_F_CSUM), 0);
    assert_int_equal(memio_tunnel_offload(t), TUN_F_CSUM);
    ASSERT_ERR(memio_ioctl(sys, fd, TUNSETOFFLOAD, TUN_F_TSO4), EINVAL);
    assert_int_equal(memio_tunnel_offload(t), TUN_F_CSUM);
    assert_int_equal(memio_ioctl(sys, fd, TUNSETOFFLOAD,
                                 TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN | TUN_F_UFO),
                     0);
    ASSERT_ERR(memio_ioctl(sys, fd, TUNSETOFFLOAD, TUN_F_UFO), EINVAL);
    ASSERT_ERR(memio_ioctl(sys, fd, TUNSETOFFLOAD, 0x80), EINVAL);
    assert_int_equal(memio_ioctl(sys, fd, TUNSETOFFLOAD, TUN_F_CSUM | 0x20 | 0x40), 0);
    ASSERT_ERR(memio_ioctl(sys, fd, TUNSETOFFLOAD, TUN_F_CSUM | 0x20), EINVAL);
    ASSERT_ERR(memio_ioctl(sys, fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO_ECN), EINVAL);
}

/* --- TUNSETQUEUE and multiqueue traffic (C55-C57, M01-M06) ------------------- */

static void set_queue(memio_sys *sys, int fd, int flags, int want_errno)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = (short)flags;
    if (want_errno)
        ASSERT_ERR(memio_ioctl(sys, fd, TUNSETQUEUE, &ifr), want_errno);
    else
        assert_int_equal(memio_ioctl(sys, fd, TUNSETQUEUE, &ifr), 0);
}

/* C55-C57, M04, M06: TUNSETQUEUE's errors. */
static void test_setqueue_errors(void **state)
{
    memio_sys *sys = *state;
    int single = tu_tun(sys, O_RDWR, "sq0", IFF_TUN);
    int mq = tu_tun(sys, O_RDWR, "sq1", IFF_TUN | IFF_MULTI_QUEUE);
    int unattached = fresh(sys);
    ASSERT_ERR(memio_ioctl(sys, single, TUNSETQUEUE, NULL), EFAULT); /* C55 */
    set_queue(sys, single, IFF_DETACH_QUEUE, EINVAL);                /* C56 */
    set_queue(sys, mq, IFF_ATTACH_QUEUE, EINVAL);                    /* C57 */
    set_queue(sys, mq, 0, EINVAL);                                   /* M06 */
    set_queue(sys, unattached, IFF_DETACH_QUEUE, EINVAL);
    set_queue(sys, unattached, IFF_ATTACH_QUEUE, EINVAL);
}

static int send_to_port(memio_sys *sys, uint16_t port)
{
    struct sockaddr_in to = tu_addr("10.18.0.2", port);
    return memio_send_udp(sys, "data", 4, (struct sockaddr *)&to, sizeof(to), NULL);
}

static int drain(memio_sys *sys, int fd)
{
    uint8_t buf[256];
    int n = 0;
    while (memio_read(sys, fd, buf, sizeof(buf)) > 0)
        n++;
    return n;
}

/* M01-M05: flows spread over the queues and stay on one; a detached queue
 * gets no traffic, reads EAGAIN, still writes, shows IFF_DETACH_QUEUE. */
static void test_multiqueue_flows_and_detach(void **state)
{
    memio_sys *sys = *state;
    struct sockaddr_in addr = tu_addr("10.18.0.1", 0);
    int q0 = tu_tun(sys, O_RDWR | O_NONBLOCK, "mqt", IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE);
    int q1 = tu_tun(sys, O_RDWR | O_NONBLOCK, "mqt", IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE);
    memio_tunnel *t = memio_tunnel_get(sys, q0);
    uint8_t pkt[64];
    int i, n0, n1;
    memio_tunnel_set_address(t, (struct sockaddr *)&addr, sizeof(addr), 24);
    for (i = 0; i < 40; i++)
        assert_int_equal(send_to_port(sys, (uint16_t)(5000 + i)), 0);
    n0 = drain(sys, q0);
    n1 = drain(sys, q1);
    assert_int_equal(n0 + n1, 40);
    assert_true(n0 > 0 && n1 > 0); /* M01: both queues get flows */
    /* Each flow stays on one queue: the same datagram twice lands together. */
    {
        size_t n = tu_udp4(pkt, sizeof(pkt), "10.18.0.1", 40000, "10.18.0.2", 5003, "x", 1);
        for (i = 0; i < 2; i++)
            assert_int_equal(memio_tunnel_inject(t, pkt, n), 0);
    }
    n0 = drain(sys, q0);
    n1 = drain(sys, q1);
    assert_true((n0 == 2 && n1 == 0) || (n0 == 0 && n1 == 2));

    set_queue(sys, q1, IFF_DETACH_QUEUE, 0);           /* M02 */
    assert_int_equal(getiff(sys, q1), 0x1501);
    assert_int_equal(memio_tunnel_queue_count(t), 1);
    for (i = 0; i < 40; i++)
        send_to_port(sys, (uint16_t)(6000 + i));
    assert_int_equal(drain(sys, q0), 40);              /* M03 */
    ASSERT_ERR(memio_read(sys, q1, pkt, sizeof(pkt)), EAGAIN);
    {
        size_t n = tu_udp4(pkt, sizeof(pkt), "10.18.0.2", 1, "10.18.0.1", 2, "x", 1);
        assert_int_equal(memio_write(sys, q1, pkt, n), (ssize_t)n);
    }
    set_queue(sys, q1, IFF_DETACH_QUEUE, EINVAL);      /* M04 */
    set_queue(sys, q1, IFF_ATTACH_QUEUE, 0);           /* M05 */
    assert_int_equal(getiff(sys, q1), 0x1101);
    assert_int_equal(memio_tunnel_queue_count(t), 2);
    /* The test can name a queue. */
    assert_int_equal(memio_tunnel_inject_queue(t, 1, pkt, 29), 0);
    ASSERT_ERR(memio_tunnel_inject_queue(t, 2, pkt, 29), EINVAL);
    assert_int_equal(drain(sys, q0) + drain(sys, q1), 1);
}

/* Closing the other queues keeps a device with only a detached queue alive. */
static void test_detached_queue_keeps_device_alive(void **state)
{
    memio_sys *sys = *state;
    int q0 = tu_tun(sys, O_RDWR, "mqd", IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE);
    int q1 = tu_tun(sys, O_RDWR, "mqd", IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE);
    memio_tunnel *t = memio_tunnel_get(sys, q0);
    set_queue(sys, q1, IFF_DETACH_QUEUE, 0);
    memio_close(sys, q0);
    assert_true(memio_tunnel_exists(t));
    ASSERT_ERR(memio_tunnel_inject(t, "\x45\0\0\x14", 4), ENXIO);
    memio_close(sys, q1);
    assert_false(memio_tunnel_exists(t));
}

/* --- the virtio-net header on reads and writes (M07-M14) ------------------- */

static int vnet_tun(memio_sys *sys, int extra_flags, unsigned offload)
{
    struct sockaddr_in addr = tu_addr("10.18.0.1", 0);
    int fd = tu_tun(sys, O_RDWR | O_NONBLOCK, "vnet%d", IFF_TUN | IFF_NO_PI | extra_flags);
    memio_tunnel *t = memio_tunnel_get(sys, fd);
    memio_tunnel_set_address(t, (struct sockaddr *)&addr, sizeof(addr), 24);
    if (offload)
        assert_int_equal(memio_ioctl(sys, fd, TUNSETOFFLOAD, offload), 0);
    return fd;
}

/* M07: without offloads the header is all zero, then the packet. */
static void test_vnet_read_has_zero_header(void **state)
{
    memio_sys *sys = *state;
    int fd = vnet_tun(sys, IFF_VNET_HDR, 0);
    uint8_t buf[128], zero[10] = {0};
    memio_udp4_view v;
    assert_int_equal(memio_tunnel_vnet_hdr_size(memio_tunnel_get(sys, fd)), 10);
    assert_int_equal(send_to_port(sys, 4444), 0);
    assert_int_equal(memio_read(sys, fd, buf, sizeof(buf)), 42);
    assert_memory_equal(buf, zero, 10);
    assert_int_equal(memio_packet_parse_udp4(buf + 10, 32, &v), 0);
}

/* M08: a read shorter than the header is EINVAL and the packet is gone. */
static void test_vnet_short_read_loses_packet(void **state)
{
    memio_sys *sys = *state;
    int fd = vnet_tun(sys, IFF_VNET_HDR, 0);
    uint8_t buf[128];
    send_to_port(sys, 4444);
    ASSERT_ERR(memio_read(sys, fd, buf, 9), EINVAL);
    ASSERT_ERR(memio_read(sys, fd, buf, sizeof(buf)), EAGAIN);
}

/* M09: with TUN_F_CSUM the header says NEEDS_CSUM, csum_start 20, offset 6,
 * and the UDP checksum holds only the pseudo-header sum (0x1444 here). */
static void test_vnet_csum_offload_header_and_partial_checksum(void **state)
{
    memio_sys *sys = *state;
    int fd = vnet_tun(sys, IFF_VNET_HDR, TUN_F_CSUM);
    static const uint8_t want[10] = {0x01, 0, 0, 0, 0, 0, 0x14, 0, 0x06, 0};
    uint8_t buf[128];
    assert_int_equal(send_to_port(sys, 4444), 0);
    assert_int_equal(memio_read(sys, fd, buf, sizeof(buf)), 42);
    assert_memory_equal(buf, want, 10);
    assert_int_equal(buf[10 + 26], 0x14);
    assert_int_equal(buf[10 + 27], 0x44);
}

/* M14: offload without a vnet header: the checksum arrives unfinished and
 * nothing says so. */
static void test_csum_offload_without_vnet_header_is_silent(void **state)
{
    memio_sys *sys = *state;
    int fd = vnet_tun(sys, 0, TUN_F_CSUM);
    uint8_t buf[128];
    memio_udp4_view v;
    assert_int_equal(send_to_port(sys, 4444), 0);
    assert_int_equal(memio_read(sys, fd, buf, sizeof(buf)), 32);
    errno = 0;
    assert_int_equal(memio_packet_parse_udp4(buf, 32, &v), -1);
    assert_int_equal(errno, EBADMSG);
}

/* M10-M13: writes with a header: the header is removed; shorter than it,
 * or nothing after it, or a bogus gso_type is EINVAL. */
static void test_vnet_write_rules(void **state)
{
    memio_sys *sys = *state;
    int fd = vnet_tun(sys, IFF_VNET_HDR, 0);
    memio_tunnel *t = memio_tunnel_get(sys, fd);
    uint8_t buf[128], got[128];
    struct virtio_net_hdr *h = (struct virtio_net_hdr *)buf;
    size_t n;
    memset(buf, 0, sizeof(buf));
    n = tu_udp4(buf + 10, sizeof(buf) - 10, "10.18.0.2", 5000, "10.18.0.9", 9, "abc", 3);
    assert_int_equal(memio_write(sys, fd, buf, n + 10), (ssize_t)(n + 10)); /* M10 */
    assert_int_equal(memio_tunnel_take(t, got, sizeof(got)), (ssize_t)n);
    assert_memory_equal(got, buf + 10, n);
    ASSERT_ERR(memio_write(sys, fd, buf, 9), EINVAL);  /* M11 */
    ASSERT_ERR(memio_write(sys, fd, buf, 10), EINVAL); /* M12 */
    h->gso_type = 0x77;
    ASSERT_ERR(memio_write(sys, fd, buf, n + 10), EINVAL); /* M13 */
}

/* A written datagram marked NEEDS_CSUM carries a partial checksum the
 * kernel trusts: a receive descriptor gets it. */
static void test_vnet_needs_csum_write_is_trusted(void **state)
{
    memio_sys *sys = *state;
    int fd = vnet_tun(sys, IFF_VNET_HDR, 0);
    struct sockaddr_in at = tu_addr("10.18.0.1", 9);
    int rx = memio_receive_udp(sys, fd, (struct sockaddr *)&at, sizeof(at));
    uint8_t buf[128];
    char got[8];
    struct virtio_net_hdr h;
    size_t n;
    assert_true(rx >= 0);
    memset(&h, 0, sizeof(h));
    h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    h.csum_start = 20;
    h.csum_offset = 6;
    memcpy(buf, &h, sizeof(h));
    n = tu_udp4(buf + 10, sizeof(buf) - 10, "10.18.0.2", 5000, "10.18.0.1", 9, "abc", 3);
    buf[10 + 26] ^= 0x5a; /* not the full checksum any more */
    assert_int_equal(memio_write(sys, fd, buf, n + 10), (ssize_t)(n + 10));
    assert_int_equal(memio_read(sys, rx, got, sizeof(got)), 3);
    assert_memory_equal(got, "abc", 3);
}

/* --- requests with no memory counterpart (A22, C63-C65) --------------------- */

static void test_requests_without_memory_counterpart(void **state)
{
    memio_sys *sys = *state;
    int fd = tu_tun(sys, O_RDWR, "nons0", IFF_TUN);
    int v = -1;
    ASSERT_ERR(memio_ioctl(sys, fd, SIOCGSKNS, NULL), EOPNOTSUPP);      /* A22 */
    ASSERT_ERR(memio_ioctl(sys, fresh(sys), SIOCGSKNS, NULL), EOPNOTSUPP);
    ASSERT_ERR(memio_ioctl(sys, fd, TUNGETDEVNETNS), EOPNOTSUPP);        /* C63 */
    assert_int_equal(memio_ioctl(sys, fd, TUNSETSTEERINGEBPF, &v), 0);  /* C64 */
    v = 0;
    ASSERT_ERR(memio_ioctl(sys, fd, TUNSETFILTEREBPF, &v), EINVAL);     /* C65 */
    ASSERT_ERR(memio_ioctl(sys, fd, TUNSETFILTEREBPF, NULL), EFAULT);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_tun_excl_creates_but_is_not_stored),
        T(test_feature_flags_are_stored),
        T(test_multiqueue_attach_rules),
        T(test_multiqueue_limit_is_256),
        T(test_no_carrier_device_stays_without_carrier_when_up),
        T(test_setifindex_rules),
        T(test_socket_filter_ioctls),
        T(test_socket_filter_drops_and_trims),
        T(test_nofilter_attach_skips_socket_filter),
        T(test_txfilter_ioctl_returns_exact_count),
        T(test_txfilter_drops_frames_to_other_macs),
        T(test_txfilter_allmulti_passes_multicast),
        T(test_owner_and_group_take_values),
        T(test_persistent_device_reattach_rules),
        T(test_without_cap_net_admin),
        T(test_setlink_only_while_down),
        T(test_vnet_header_size_and_endianness),
        T(test_offload_bit_rules),
        T(test_setqueue_errors),
        T(test_multiqueue_flows_and_detach),
        T(test_detached_queue_keeps_device_alive),
        T(test_vnet_read_has_zero_header),
        T(test_vnet_short_read_loses_packet),
        T(test_vnet_csum_offload_header_and_partial_checksum),
        T(test_csum_offload_without_vnet_header_is_silent),
        T(test_vnet_write_rules),
        T(test_vnet_needs_csum_write_is_trusted),
        T(test_requests_without_memory_counterpart),
    };
    return cmocka_run_group_tests_name("tun: the complete device", tests, NULL, NULL);
}
