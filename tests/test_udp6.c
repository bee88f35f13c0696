/*
 * test_udp6.c — IPv6 through memio_send_udp and memio_receive_udp on the
 * memory system: datagrams built as the kernel sends them (hop limit 64,
 * valid checksum; PI proto 0x86dd, E23), routed by IPv6 prefix, and written
 * ones delivered or dropped as a kernel socket would (D31-D33), with a
 * socket bound to :: taking IPv4 too.
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
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/if_tun.h>

#include "testutil.h"

#define LOCAL6 "fd00::1"  /* the kernel side */
#define REMOTE6 "fd00::2" /* the program */

static struct sockaddr_in6 addr6(const char *ip, uint16_t port)
{
    struct sockaddr_in6 a;
    memset(&a, 0, sizeof(a));
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    assert_int_equal(inet_pton(AF_INET6, ip, &a.sin6_addr), 1);
    return a;
}

static size_t udp6(uint8_t *buf, size_t cap, const char *src, uint16_t sport, const char *dst,
                   uint16_t dport, const char *payload)
{
    struct sockaddr_in6 s = addr6(src, sport), d = addr6(dst, dport);
    ssize_t n = memio_packet_udp6(buf, cap, &s, &d, payload, strlen(payload));
    assert_true(n > 0);
    return (size_t)n;
}

struct fixture {
    memio_sys *sys;
    int fd;
    memio_tunnel *t;
    int rx; /* at [LOCAL6]:5000 */
};

static struct fixture *make(int flags)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    struct sockaddr_in6 local = addr6(LOCAL6, 0), at = addr6(LOCAL6, 5000);
    fx->sys = tu_memory();
    fx->fd = tu_tun(fx->sys, O_RDWR | O_NONBLOCK, "six%d", flags);
    fx->t = memio_tunnel_get(fx->sys, fx->fd);
    assert_int_equal(memio_tunnel_set_address(fx->t, (struct sockaddr *)&local, sizeof(local), 64),
                     0);
    fx->rx = memio_receive_udp(fx->sys, fx->fd, (struct sockaddr *)&at, sizeof(at));
    assert_true(fx->rx >= 0);
    memio_fcntl(fx->sys, fx->rx, F_SETFL, O_NONBLOCK);
    return fx;
}

static int setup_tun(void **state) { *state = make(IFF_TUN | IFF_NO_PI); return 0; }
static int setup_tun_pi(void **state) { *state = make(IFF_TUN); return 0; }
static int setup_tap(void **state) { *state = make(IFF_TAP | IFF_NO_PI); return 0; }

static int teardown(void **state)
{
    struct fixture *fx = *state;
    memio_sys_free(fx->sys);
    free(fx);
    return 0;
}

#define FX struct fixture *fx = *state

static uint64_t dropped(struct fixture *fx, memio_drop_reason r)
{
    memio_tunnel_stats st;
    memio_tunnel_stats_get(fx->t, &st);
    return st.udp_dropped[r];
}

/* D31: a valid IPv6/UDP datagram reaches the receive descriptor. */
static void test_valid_ipv6_datagram_is_delivered(void **state)
{
    FX;
    uint8_t pkt[128];
    char got[16];
    size_t n = udp6(pkt, sizeof(pkt), REMOTE6, 4000, LOCAL6, 5000, "hello6");
    assert_int_equal(memio_write(fx->sys, fx->fd, pkt, n), (ssize_t)n);
    assert_int_equal(memio_read(fx->sys, fx->rx, got, sizeof(got)), 6);
    assert_memory_equal(got, "hello6", 6);
    /* and recvfrom names the sender */
    {
        struct sockaddr_in6 from, want = addr6(REMOTE6, 4000);
        socklen_t flen = sizeof(from);
        assert_int_equal(memio_write(fx->sys, fx->fd, pkt, n), (ssize_t)n);
        assert_int_equal(memio_recvfrom(fx->sys, fx->rx, got, sizeof(got),
                                        (struct sockaddr *)&from, &flen), 6);
        assert_int_equal(from.sin6_port, want.sin6_port);
        assert_memory_equal(&from.sin6_addr, &want.sin6_addr, 16);
    }
}

/* D32, D33: IPv6 requires a UDP checksum; zero or wrong is dropped, counted. */
static void test_zero_or_wrong_ipv6_udp_checksum_is_dropped(void **state)
{
    FX;
    uint8_t pkt[128];
    char got[16];
    size_t n = udp6(pkt, sizeof(pkt), REMOTE6, 4000, LOCAL6, 5000, "bad");
    pkt[46] = pkt[47] = 0;
    assert_int_equal(memio_write(fx->sys, fx->fd, pkt, n), (ssize_t)n);
    n = udp6(pkt, sizeof(pkt), REMOTE6, 4000, LOCAL6, 5000, "bad");
    pkt[46] ^= 0x33;
    assert_int_equal(memio_write(fx->sys, fx->fd, pkt, n), (ssize_t)n);
    ASSERT_ERR(memio_read(fx->sys, fx->rx, got, sizeof(got)), EAGAIN);
    assert_int_equal(dropped(fx, MEMIO_DROP_UDP_CHECKSUM), 2);
}

/* A hop-by-hop options header before UDP is walked. */
static void test_extension_header_before_udp_is_walked(void **state)
{
    FX;
    uint8_t pkt[128], ext[136];
    char got[16];
    size_t n = udp6(pkt, sizeof(pkt), REMOTE6, 4000, LOCAL6, 5000, "ext");
    /* Insert an 8-byte hop-by-hop header (next header UDP, PadN). */
    memcpy(ext, pkt, 40);
    ext[6] = 0; /* hop-by-hop */
    ext[40] = IPPROTO_UDP;
    ext[41] = 0;
    ext[42] = 1; /* PadN */
    ext[43] = 4;
    memset(ext + 44, 0, 4);
    memcpy(ext + 48, pkt + 40, n - 40);
    ext[4] = 0;
    ext[5] = (uint8_t)(n - 40 + 8);
    assert_int_equal(memio_write(fx->sys, fx->fd, ext, n + 8), (ssize_t)(n + 8));
    assert_int_equal(memio_read(fx->sys, fx->rx, got, sizeof(got)), 3);
}

/* E23 (and E03 for IPv6): send_udp builds the datagram as the kernel sends
 * it: from the tunnel's address, hop limit 64, valid checksum; PI proto
 * 0x86dd on a TUN with PI. */
static void test_send_udp6_builds_kernel_datagram(void **state)
{
    FX;
    struct sockaddr_in6 to = addr6(REMOTE6, 4444);
    struct sockaddr_storage from;
    struct sockaddr_in6 *f = (struct sockaddr_in6 *)&from;
    struct sockaddr_in6 local = addr6(LOCAL6, 0);
    uint8_t buf[256];
    memio_udp6_view v;
    int pi = !(memio_tunnel_flags(fx->t) & IFF_NO_PI);
    ssize_t n;
    assert_int_equal(memio_send_udp(fx->sys, "six!", 4, (struct sockaddr *)&to, sizeof(to), &from),
                     0);
    assert_int_equal(f->sin6_family, AF_INET6);
    assert_memory_equal(&f->sin6_addr, &local.sin6_addr, 16);
    n = memio_read(fx->sys, fx->fd, buf, sizeof(buf));
    assert_int_equal(n, (ssize_t)((pi ? 4 : 0) + 48 + 4));
    if (pi) {
        assert_int_equal(buf[2], 0x86);
        assert_int_equal(buf[3], 0xdd);
    }
    assert_int_equal(memio_packet_parse_udp6(buf + (pi ? 4 : 0), (size_t)n - (pi ? 4 : 0), &v), 0);
    assert_int_equal(v.hop_limit, 64);
    assert_int_equal(v.src.sin6_port, f->sin6_port);
    assert_int_equal(v.dst.sin6_port, to.sin6_port);
    assert_int_equal(v.payload_len, 4);
}

/* On a TAP the frame carries ethertype 0x86dd from the device's MAC. */
static void test_send_udp6_on_tap_is_ethertype_86dd(void **state)
{
    FX;
    struct sockaddr_in6 to = addr6(REMOTE6, 4444);
    uint8_t buf[256], mac[6];
    memio_tunnel_mac(fx->t, mac);
    assert_int_equal(memio_send_udp(fx->sys, "x", 1, (struct sockaddr *)&to, sizeof(to), NULL), 0);
    assert_int_equal(memio_read(fx->sys, fx->fd, buf, sizeof(buf)), 14 + 49);
    assert_memory_equal(buf + 6, mac, 6);
    assert_int_equal(buf[12], 0x86);
    assert_int_equal(buf[13], 0xdd);
}

/* A TAP frame with IPv6 to our MAC reaches the receive descriptor. */
static void test_tap_ipv6_frame_is_delivered(void **state)
{
    FX;
    uint8_t pkt[128], frame[160], mac[6];
    char got[8];
    size_t n = udp6(pkt, sizeof(pkt), REMOTE6, 4000, LOCAL6, 5000, "tap6");
    memio_tunnel_mac(fx->t, mac);
    memio_packet_ether(frame, sizeof(frame), mac, (const uint8_t *)"\x02\0\0\0\0\x02", 0x86dd,
                       pkt, n);
    assert_int_equal(memio_write(fx->sys, fx->fd, frame, n + 14), (ssize_t)(n + 14));
    assert_int_equal(memio_read(fx->sys, fx->rx, got, sizeof(got)), 4);
}

/* On a TUN with PI, an IPv6 packet needs PI proto 0x86dd (F03's mirror). */
static void test_ipv6_with_ipv4_pi_proto_is_dropped(void **state)
{
    FX;
    uint8_t pkt[128], buf[160];
    char got[8];
    size_t n = udp6(pkt, sizeof(pkt), REMOTE6, 4000, LOCAL6, 5000, "pi");
    struct tun_pi pi = {.flags = 0, .proto = htons(0x0800)};
    memcpy(buf, &pi, 4);
    memcpy(buf + 4, pkt, n);
    assert_int_equal(memio_write(fx->sys, fx->fd, buf, n + 4), (ssize_t)(n + 4));
    ASSERT_ERR(memio_read(fx->sys, fx->rx, got, sizeof(got)), EAGAIN);
    assert_int_equal(dropped(fx, MEMIO_DROP_PI_PROTO), 1);
    pi.proto = htons(0x86dd);
    memcpy(buf, &pi, 4);
    assert_int_equal(memio_write(fx->sys, fx->fd, buf, n + 4), (ssize_t)(n + 4));
    assert_int_equal(memio_read(fx->sys, fx->rx, got, sizeof(got)), 2);
}

/* A socket bound to :: takes IPv4 too (bindv6only 0), and conflicts with
 * 0.0.0.0 on the same port. */
static void test_dual_stack_any_receives_ipv4(void **state)
{
    FX;
    struct sockaddr_in6 any6 = addr6("::", 6000);
    struct sockaddr_in any4 = tu_addr("0.0.0.0", 6000);
    uint8_t pkt[128];
    char got[8];
    int rx = memio_receive_udp(fx->sys, fx->fd, (struct sockaddr *)&any6, sizeof(any6));
    size_t n = tu_udp4(pkt, sizeof(pkt), "10.1.0.2", 4000, "10.1.0.1", 6000, "v4", 2);
    assert_true(rx >= 0);
    ASSERT_ERR(memio_receive_udp(fx->sys, fx->fd, (struct sockaddr *)&any4, sizeof(any4)),
               EADDRINUSE);
    assert_int_equal(memio_write(fx->sys, fx->fd, pkt, n), (ssize_t)n);
    assert_int_equal(memio_read(fx->sys, rx, got, sizeof(got)), 2);
    /* recvfrom on a socket bound to :: reports the IPv4 source mapped. */
    {
        struct sockaddr_in6 from;
        socklen_t flen = sizeof(from);
        struct sockaddr_in6 mapped = addr6("::ffff:10.1.0.2", 4000);
        assert_int_equal(memio_write(fx->sys, fx->fd, pkt, n), (ssize_t)n);
        assert_int_equal(memio_recvfrom(fx->sys, rx, got, sizeof(got), (struct sockaddr *)&from,
                                        &flen), 2);
        assert_int_equal(flen, sizeof(from));
        assert_int_equal(from.sin6_family, AF_INET6);
        assert_int_equal(from.sin6_port, mapped.sin6_port);
        assert_memory_equal(&from.sin6_addr, &mapped.sin6_addr, 16);
    }
}

/* Binding an IPv6 address the namespace does not have is EADDRNOTAVAIL;
 * the same address and port twice is EADDRINUSE. */
static void test_ipv6_bind_rules(void **state)
{
    FX;
    struct sockaddr_in6 other = addr6("fd00::99", 7000), same = addr6(LOCAL6, 5000);
    ASSERT_ERR(memio_receive_udp(fx->sys, fx->fd, (struct sockaddr *)&other, sizeof(other)),
               EADDRNOTAVAIL);
    ASSERT_ERR(memio_receive_udp(fx->sys, fx->fd, (struct sockaddr *)&same, sizeof(same)),
               EADDRINUSE);
}

/* Routing by IPv6 prefix; the default source without an IPv6 address is
 * 2001:db8::1; more than 65527 bytes is EMSGSIZE. */
static void test_ipv6_routing_default_source_and_size(void **state)
{
    memio_sys *sys = tu_memory();
    struct sockaddr_in6 to = addr6("2001:db8:1::5", 9), a2 = addr6("2001:db8:1::1", 0);
    struct sockaddr_storage from;
    static char big[65528];
    uint8_t buf[128];
    int fd1 = tu_tun(sys, O_RDWR | O_NONBLOCK, "r1", IFF_TUN | IFF_NO_PI);
    int fd2;
    (void)state;
    assert_int_equal(memio_send_udp(sys, "d", 1, (struct sockaddr *)&to, sizeof(to), &from), 0);
    assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", buf), 1);
    assert_memory_equal(&((struct sockaddr_in6 *)&from)->sin6_addr, buf, 16);
    assert_int_equal(memio_read(sys, fd1, buf, sizeof(buf)), 49);
    fd2 = tu_tun(sys, O_RDWR | O_NONBLOCK, "r2", IFF_TUN | IFF_NO_PI);
    assert_int_equal(memio_tunnel_set_address(memio_tunnel_get(sys, fd2), (struct sockaddr *)&a2,
                                              sizeof(a2), 48),
                     0);
    assert_int_equal(memio_send_udp(sys, "e", 1, (struct sockaddr *)&to, sizeof(to), NULL), 0);
    assert_int_equal(memio_read(sys, fd2, buf, sizeof(buf)), 49);
    to = addr6("fd99::1", 9);
    ASSERT_ERR(memio_send_udp(sys, "f", 1, (struct sockaddr *)&to, sizeof(to), NULL), ENETUNREACH);
    to = addr6("2001:db8:1::5", 9);
    ASSERT_ERR(memio_send_udp(sys, big, sizeof(big), (struct sockaddr *)&to, sizeof(to), NULL),
               EMSGSIZE);
    memio_sys_free(sys);
}

/* M09 for IPv6: with TUN_F_CSUM and a vnet header, csum_start is 40. */
static void test_ipv6_csum_offload_header(void **state)
{
    memio_sys *sys = tu_memory();
    struct sockaddr_in6 to = addr6("fd00::2", 4444);
    static const uint8_t want[10] = {0x01, 0, 0, 0, 0, 0, 40, 0, 6, 0};
    uint8_t buf[128];
    int fd = tu_tun(sys, O_RDWR | O_NONBLOCK, "v6o", IFF_TUN | IFF_NO_PI | IFF_VNET_HDR);
    (void)state;
    assert_int_equal(memio_ioctl(sys, fd, TUNSETOFFLOAD, TUN_F_CSUM), 0);
    assert_int_equal(memio_send_udp(sys, "x", 1, (struct sockaddr *)&to, sizeof(to), NULL), 0);
    assert_int_equal(memio_read(sys, fd, buf, sizeof(buf)), 10 + 49);
    assert_memory_equal(buf, want, 10);
    memio_sys_free(sys);
}

#define T(f, s) cmocka_unit_test_setup_teardown(f, s, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_valid_ipv6_datagram_is_delivered, setup_tun),
        T(test_zero_or_wrong_ipv6_udp_checksum_is_dropped, setup_tun),
        T(test_extension_header_before_udp_is_walked, setup_tun),
        T(test_send_udp6_builds_kernel_datagram, setup_tun),
        T(test_send_udp6_builds_kernel_datagram, setup_tun_pi),
        T(test_ipv6_with_ipv4_pi_proto_is_dropped, setup_tun_pi),
        T(test_send_udp6_on_tap_is_ethertype_86dd, setup_tap),
        T(test_tap_ipv6_frame_is_delivered, setup_tap),
        T(test_dual_stack_any_receives_ipv4, setup_tun),
        T(test_ipv6_bind_rules, setup_tun),
        cmocka_unit_test(test_ipv6_routing_default_source_and_size),
        cmocka_unit_test(test_ipv6_csum_offload_header),
    };
    return cmocka_run_group_tests_name("udp over IPv6", tests, NULL, NULL);
}
