/*
 * test_udp.c — memio_send_udp and memio_receive_udp on the memory system:
 * datagrams built as the kernel builds them (E03), routed to a tunnel, and
 * frames the program writes dispatched at write time to exactly one place:
 * a receive descriptor a kernel socket would match, a counted drop, or
 * memio_tunnel_take's queue (D06-D09, D15-D19, D28, D29, F01-F05,
 * G09-G14, G20-G22).
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
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/if_tun.h>

#include "testutil.h"

#define LOCAL "10.1.0.1"  /* the kernel side: the tunnel's address */
#define REMOTE "10.1.0.2" /* the program's side */

static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t PEER[6] = {0x02, 0, 0, 0, 0, 0x02};

struct fixture {
    memio_sys *sys;
    int fd;
    memio_tunnel *t;
    int rx; /* receive descriptor at LOCAL:5000 */
    int tap, pi;
    uint8_t mac[6];
};

static struct fixture *make(int tap, int pi)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    struct sockaddr_in local = tu_addr(LOCAL, 0), at = tu_addr(LOCAL, 5000);
    int flags = (tap ? IFF_TAP : IFF_TUN) | (pi ? 0 : IFF_NO_PI);

    fx->tap = tap;
    fx->pi = pi;
    fx->sys = tu_memory();
    fx->fd = tu_tun(fx->sys, O_RDWR | O_NONBLOCK, tap ? "udptap0" : "udptun0", flags);
    fx->t = memio_tunnel_get(fx->sys, fx->fd);
    assert_int_equal(memio_tunnel_set_address(fx->t, (struct sockaddr *)&local, sizeof(local), 24),
                     0);
    memio_tunnel_mac(fx->t, fx->mac);
    fx->rx = memio_receive_udp(fx->sys, fx->fd, (struct sockaddr *)&at, sizeof(at));
    assert_true(fx->rx >= 0);
    assert_int_equal(memio_fcntl(fx->sys, fx->rx, F_SETFL, O_NONBLOCK), 0);
    return fx;
}

static int setup_tun(void **state) { *state = make(0, 0); return 0; }
static int setup_tun_pi(void **state) { *state = make(0, 1); return 0; }
static int setup_tap(void **state) { *state = make(1, 0); return 0; }
static int setup_tap_pi(void **state) { *state = make(1, 1); return 0; }

static int teardown(void **state)
{
    struct fixture *fx = *state;
    memio_sys_free(fx->sys);
    free(fx);
    return 0;
}

#define FX struct fixture *fx = *state

/* Writes an IP packet as the device expects it (Ethernet to dst on TAP, PI
 * proto given on a PI tunnel); returns what write returned. */
static ssize_t write_ip(struct fixture *fx, const uint8_t *ip, size_t len, const uint8_t *dst,
                        uint16_t pi_proto)
{
    uint8_t buf[70000];
    size_t n = tu_wrap(buf, sizeof(buf), ip, len, fx->tap, fx->pi, dst ? dst : fx->mac, PEER,
                       pi_proto);
    return memio_write(fx->sys, fx->fd, buf, n);
}

/* A valid IPv4/UDP packet REMOTE:4000 -> LOCAL:port with payload. */
static size_t good(uint8_t *buf, uint16_t port, const char *payload)
{
    return tu_udp4(buf, 2048, REMOTE, 4000, LOCAL, port, payload, strlen(payload));
}

static ssize_t rx_read(struct fixture *fx, char *buf, size_t cap)
{
    return memio_read(fx->sys, fx->rx, buf, cap);
}

static void assert_rx_got(struct fixture *fx, const char *want)
{
    char buf[2048];
    ssize_t n = rx_read(fx, buf, sizeof(buf));
    assert_int_equal(n, (ssize_t)strlen(want));
    assert_memory_equal(buf, want, strlen(want));
}

static void assert_rx_empty(struct fixture *fx)
{
    char buf[16];
    errno = 0;
    assert_int_equal(rx_read(fx, buf, sizeof(buf)), -1);
    assert_int_equal(errno, EAGAIN);
}

static uint64_t dropped(struct fixture *fx, memio_drop_reason r)
{
    memio_tunnel_stats st;
    memio_tunnel_stats_get(fx->t, &st);
    return st.udp_dropped[r];
}

static void assert_take_empty(struct fixture *fx)
{
    uint8_t b[16];
    errno = 0;
    assert_int_equal(memio_tunnel_take(fx->t, b, sizeof(b)), -1);
    assert_int_equal(errno, EAGAIN);
}

/* --- the program writes (receive side) --------------------------------------- */

/* D07, F01, G09: a valid datagram to the receive descriptor's address reaches it, not take. */
static void test_valid_datagram_reaches_receive_fd(void **state)
{
    FX;
    uint8_t ip[2048];
    size_t n = good(ip, 5000, "hello");
    assert_int_equal(write_ip(fx, ip, n, NULL, 0x0800), (ssize_t)(n + (fx->pi ? 4 : 0) +
                                                                   (fx->tap ? 14 : 0)));
    assert_rx_got(fx, "hello");
    assert_take_empty(fx);
}

/* D06: UDP checksum 0 means none on IPv4: delivered. */
static void test_zero_udp_checksum_is_accepted(void **state)
{
    FX;
    uint8_t ip[2048];
    size_t n = good(ip, 5000, "nocsum");
    ip[26] = ip[27] = 0;
    write_ip(fx, ip, n, NULL, 0x0800);
    assert_rx_got(fx, "nocsum");
}

/* D08: a wrong UDP checksum: the write succeeds, the datagram is dropped and counted. */
static void test_wrong_udp_checksum_is_dropped_and_counted(void **state)
{
    FX;
    uint8_t ip[2048];
    size_t n = good(ip, 5000, "bad");
    ip[26] ^= 0x55;
    assert_true(write_ip(fx, ip, n, NULL, 0x0800) > 0);
    assert_rx_empty(fx);
    assert_take_empty(fx);
    assert_int_equal(dropped(fx, MEMIO_DROP_UDP_CHECKSUM), 1);
}

/* D09: a wrong IPv4 header checksum: dropped and counted. */
static void test_wrong_ip_checksum_is_dropped_and_counted(void **state)
{
    FX;
    uint8_t ip[2048];
    size_t n = good(ip, 5000, "bad");
    ip[10] ^= 0x01;
    assert_true(write_ip(fx, ip, n, NULL, 0x0800) > 0);
    assert_rx_empty(fx);
    assert_int_equal(dropped(fx, MEMIO_DROP_IP_CHECKSUM), 1);
}

/* D15: a truncated IPv4 header cannot be addressed: it goes to take, byte for byte. */
static void test_truncated_header_goes_to_take(void **state)
{
    FX;
    uint8_t ip[2048], got[64];
    good(ip, 5000, "x");
    assert_true(write_ip(fx, ip, 10, NULL, 0x0800) > 0);
    assert_rx_empty(fx);
    /* On a TAP the frame is Ethernet + 10 bytes; on a TUN, 10 bytes. */
    assert_int_equal(memio_tunnel_take(fx->t, got, sizeof(got)), fx->tap ? 24 : 10);
    assert_memory_equal(got + (fx->tap ? 14 : 0), ip, 10);
}

/* D16: IP total length beyond the bytes written: dropped and counted. */
static void test_total_length_beyond_bytes_is_dropped(void **state)
{
    FX;
    uint8_t ip[2048];
    size_t n = good(ip, 5000, "cut short");
    assert_true(write_ip(fx, ip, n - 2, NULL, 0x0800) > 0);
    assert_rx_empty(fx);
    assert_int_equal(dropped(fx, MEMIO_DROP_IP_HEADER), 1);
}

/* D17, G20: bytes past the IP total length are trimmed. */
static void test_trailing_bytes_are_trimmed(void **state)
{
    FX;
    uint8_t ip[2048];
    size_t n = good(ip, 5000, "trim");
    memcpy(ip + n, "JUNK", 4);
    write_ip(fx, ip, n + 4, NULL, 0x0800);
    assert_rx_got(fx, "trim");
}

/* D18, D19: no MTU check on input: 3000 and 65535-byte packets are delivered whole. */
static void test_large_datagrams_are_delivered_whole(void **state)
{
    FX;
    static uint8_t ip[65536], payload[65507], got[65536];
    size_t sizes[] = {3000 - 28, 65507};
    size_t i;
    for (i = 0; i < 2; i++) {
        size_t n;
        memset(payload, 'a' + (int)i, sizes[i]);
        n = tu_udp4(ip, sizeof(ip), REMOTE, 4000, LOCAL, 5000, payload, sizes[i]);
        assert_true(write_ip(fx, ip, n, NULL, 0x0800) > 0);
        assert_int_equal(rx_read(fx, (char *)got, sizeof(got)), (ssize_t)sizes[i]);
        assert_memory_equal(got, payload, sizes[i]);
    }
}

/* D28: a datagram whose source is our own address is still delivered. */
static void test_source_equal_to_our_address_is_delivered(void **state)
{
    FX;
    uint8_t ip[2048];
    size_t n = tu_udp4(ip, sizeof(ip), LOCAL, 4000, LOCAL, 5000, "self", 4);
    write_ip(fx, ip, n, NULL, 0x0800);
    assert_rx_got(fx, "self");
}

/* D29: a datagram to the subnet broadcast reaches a descriptor bound to any address. */
static void test_subnet_broadcast_reaches_any_bound_fd(void **state)
{
    FX;
    uint8_t ip[2048];
    struct sockaddr_in any = tu_addr("0.0.0.0", 6000);
    int rx = memio_receive_udp(fx->sys, fx->fd, (struct sockaddr *)&any, sizeof(any));
    char buf[16];
    size_t n = tu_udp4(ip, sizeof(ip), REMOTE, 4000, "10.1.0.255", 6000, "bcast", 5);
    assert_true(rx >= 0);
    write_ip(fx, ip, n, BCAST, 0x0800);
    assert_int_equal(memio_read(fx->sys, rx, buf, sizeof(buf)), 5);
    assert_memory_equal(buf, "bcast", 5);
}

/* Datagrams to other ports or other addresses are not addressed to the fd: take gets them. */
static void test_datagram_to_other_port_goes_to_take(void **state)
{
    FX;
    uint8_t ip[2048], got[2048];
    size_t n = good(ip, 5001, "elsewhere");
    ssize_t w = write_ip(fx, ip, n, NULL, 0x0800);
    assert_rx_empty(fx);
    assert_int_equal(memio_tunnel_take(fx->t, got, sizeof(got)), w - (fx->pi ? 4 : 0));
    assert_memory_equal(got + (fx->tap ? 14 : 0), ip, n);
}

/* F02-F04: on a TUN with PI, a proto other than 0x0800 drops an IPv4 datagram. */
static void test_wrong_pi_proto_drops_ipv4_datagram(void **state)
{
    FX;
    uint8_t ip[2048];
    size_t n = good(ip, 5000, "proto");
    uint16_t protos[] = {0x0000, 0x86dd, 0x0008};
    size_t i;
    for (i = 0; i < 3; i++)
        assert_int_equal(write_ip(fx, ip, n, NULL, protos[i]), (ssize_t)(n + 4));
    assert_rx_empty(fx);
    assert_int_equal(dropped(fx, MEMIO_DROP_PI_PROTO), 3);
}

/* F05: PI flags are ignored on write. */
static void test_pi_flags_ignored_on_write(void **state)
{
    FX;
    uint8_t ip[2048], buf[2048];
    size_t n = good(ip, 5000, "flags");
    struct tun_pi pi = {.flags = 0xffff, .proto = htons(0x0800)};
    memcpy(buf, &pi, 4);
    memcpy(buf + 4, ip, n);
    assert_int_equal(memio_write(fx->sys, fx->fd, buf, n + 4), (ssize_t)(n + 4));
    assert_rx_got(fx, "flags");
}

/* G10, G13, G14: broadcast and multicast destination MACs are accepted, and a
 * frame from our own MAC too. */
static void test_tap_accepts_broadcast_multicast_and_own_source(void **state)
{
    FX;
    static const uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
    uint8_t ip[2048], frame[2048];
    size_t n = good(ip, 5000, "b");
    write_ip(fx, ip, n, BCAST, 0x0800);
    assert_rx_got(fx, "b");
    write_ip(fx, ip, n, mcast, 0x0800);
    assert_rx_got(fx, "b");
    /* G14: source MAC equal to the device's own. */
    memio_packet_ether(frame, sizeof(frame), fx->mac, fx->mac, 0x0800, ip, n);
    assert_int_equal(memio_write(fx->sys, fx->fd, frame, n + 14), (ssize_t)(n + 14));
    assert_rx_got(fx, "b");
}

/* G11, G12: unicast to another MAC, or to 00:00:00:00:00:00, is dropped (PACKET_OTHERHOST). */
static void test_tap_drops_frames_for_other_macs(void **state)
{
    FX;
    static const uint8_t other[6] = {0x02, 0x99, 0, 0, 0, 1}, zero[6] = {0};
    uint8_t ip[2048];
    size_t n = good(ip, 5000, "other");
    assert_true(write_ip(fx, ip, n, other, 0x0800) > 0);
    assert_true(write_ip(fx, ip, n, zero, 0x0800) > 0);
    assert_rx_empty(fx);
    assert_int_equal(dropped(fx, MEMIO_DROP_OTHERHOST), 2);
}

/* G21, G22: other ethertypes and 802.3 length fields are accepted and go to take. */
static void test_tap_other_ethertypes_go_to_take(void **state)
{
    FX;
    uint8_t frame[60], got[64];
    memset(frame, 0, sizeof(frame));
    memcpy(frame, fx->mac, 6);
    memcpy(frame + 6, PEER, 6);
    frame[12] = 0x88;
    frame[13] = 0xb5;
    assert_int_equal(memio_write(fx->sys, fx->fd, frame, 60), 60);
    frame[12] = 0x00;
    frame[13] = 0x30;
    assert_int_equal(memio_write(fx->sys, fx->fd, frame, 60), 60);
    assert_int_equal(memio_tunnel_take(fx->t, got, sizeof(got)), 60);
    assert_int_equal(got[12], 0x88);
    assert_int_equal(memio_tunnel_take(fx->t, got, sizeof(got)), 60);
    assert_int_equal(got[13], 0x30);
}

/* G28, G29: a TAP ignores the PI proto: 0 and 0x86dd still deliver an IPv4 frame. */
static void test_tap_ignores_pi_proto(void **state)
{
    FX;
    uint8_t ip[2048];
    size_t n = good(ip, 5000, "any");
    assert_int_equal(write_ip(fx, ip, n, NULL, 0x0000), (ssize_t)(n + 18));
    assert_rx_got(fx, "any");
    assert_int_equal(write_ip(fx, ip, n, NULL, 0x86dd), (ssize_t)(n + 18));
    assert_rx_got(fx, "any");
}

/* memio_tunnel_classify answers what the kernel would do, without writing. */
static void test_classify_tells_why_kernel_would_drop(void **state)
{
    FX;
    uint8_t ip[2048];
    size_t n = good(ip, 5000, "c");
    assert_int_equal(memio_tunnel_classify(fx->t, ip, n, 0), MEMIO_DROP_NONE);
    ip[26] ^= 1;
    assert_int_equal(memio_tunnel_classify(fx->t, ip, n, 0), MEMIO_DROP_UDP_CHECKSUM);
    ip[26] ^= 1;
    ip[6] = 0x20; /* MF: a fragment */
    ip[10] = ip[11] = 0;
    {
        uint16_t c = htons(memio_inet_checksum(ip, 20));
        memcpy(ip + 10, &c, 2);
    }
    assert_int_equal(memio_tunnel_classify(fx->t, ip, n, 0), MEMIO_DROP_IP_FRAGMENT);
    assert_int_equal(memio_tunnel_classify(fx->t, ip, 3, 0), MEMIO_DROP_IP_HEADER);
    assert_string_equal(memio_drop_reason_name(MEMIO_DROP_UDP_CHECKSUM), "udp checksum");
}

/* A receive descriptor sees only what is written after it was opened; the
 * receive descriptor reads one datagram per read, short reads lose the rest. */
static void test_receive_fd_sees_only_later_datagrams_one_per_read(void **state)
{
    FX;
    uint8_t ip[2048];
    char buf[4];
    struct sockaddr_in at = tu_addr(LOCAL, 7000);
    size_t n = good(ip, 7000, "early");
    int rx;
    write_ip(fx, ip, n, NULL, 0x0800);
    rx = memio_receive_udp(fx->sys, fx->fd, (struct sockaddr *)&at, sizeof(at));
    assert_true(rx >= 0);
    memio_fcntl(fx->sys, rx, F_SETFL, O_NONBLOCK);
    errno = 0;
    assert_int_equal(memio_read(fx->sys, rx, buf, sizeof(buf)), -1);
    assert_int_equal(errno, EAGAIN);
    n = good(ip, 7000, "later1");
    write_ip(fx, ip, n, NULL, 0x0800);
    n = good(ip, 7000, "l2");
    write_ip(fx, ip, n, NULL, 0x0800);
    assert_int_equal(memio_read(fx->sys, rx, buf, sizeof(buf)), 4);
    assert_memory_equal(buf, "late", 4);
    assert_int_equal(memio_read(fx->sys, rx, buf, sizeof(buf)), 2);
    assert_memory_equal(buf, "l2", 2);
}

/* A receive descriptor polls like a socket; write on it is EDESTADDRREQ;
 * FIONREAD gives the next datagram's size; closed, it is EBADF. */
static void test_receive_fd_acts_like_a_bound_socket(void **state)
{
    FX;
    uint8_t ip[2048];
    struct pollfd p = {.fd = fx->rx, .events = POLLIN | POLLOUT};
    int avail = -1;
    size_t n = good(ip, 5000, "sock");
    assert_int_equal(memio_poll(fx->sys, &p, 1, 0), 1);
    assert_int_equal(p.revents, POLLOUT);
    write_ip(fx, ip, n, NULL, 0x0800);
    assert_int_equal(memio_poll(fx->sys, &p, 1, 0), 1);
    assert_int_equal(p.revents, POLLIN | POLLOUT);
    assert_int_equal(memio_ioctl(fx->sys, fx->rx, FIONREAD, &avail), 0);
    assert_int_equal(avail, 4);
    errno = 0;
    assert_int_equal(memio_write(fx->sys, fx->rx, "x", 1), -1);
    assert_int_equal(errno, EDESTADDRREQ);
    assert_int_equal(memio_close(fx->sys, fx->rx), 0);
    errno = 0;
    assert_int_equal(memio_read(fx->sys, fx->rx, ip, 10), -1);
    assert_int_equal(errno, EBADF);
    /* With the descriptor closed the datagram goes to take instead. */
    write_ip(fx, ip, good(ip, 5000, "sock"), NULL, 0x0800);
    assert_true(memio_tunnel_peek_len(fx->t) > 0);
}

/* A receive descriptor's queue is a socket's receive buffer: 256 small
 * datagrams (J06), the rest dropped and counted; the writes all succeed. */
static void test_receive_fd_queue_holds_256_small_datagrams(void **state)
{
    FX;
    uint8_t ip[2048];
    char buf[64];
    size_t n = good(ip, 5000, "0123456789");
    int i, got = 0;
    for (i = 0; i < 300; i++)
        assert_true(write_ip(fx, ip, n, NULL, 0x0800) > 0);
    while (rx_read(fx, buf, sizeof(buf)) == 10)
        got++;
    assert_int_equal(got, 256);
    assert_int_equal(dropped(fx, MEMIO_DROP_RCVBUF), 44);
}

/* memio_recvfrom tells who sent a datagram; a short fromlen gets the
 * address cut and the full length back; a bad `from` takes nothing; a
 * descriptor that is not a receive descriptor is ENOTSOCK. */
static void test_recvfrom_reports_the_source(void **state)
{
    FX;
    uint8_t ip[2048];
    char buf[16];
    struct sockaddr_in from;
    socklen_t flen = sizeof(from);
    size_t n = tu_udp4(ip, sizeof(ip), REMOTE, 4321, LOCAL, 5000, "who", 3);
    write_ip(fx, ip, n, NULL, 0x0800);
    write_ip(fx, ip, n, NULL, 0x0800);
    errno = 0;
    assert_int_equal(memio_recvfrom(fx->sys, fx->rx, buf, sizeof(buf), (struct sockaddr *)8,
                                    &flen), -1);
    assert_int_equal(errno, EFAULT);
    memset(&from, 0, sizeof(from));
    assert_int_equal(memio_recvfrom(fx->sys, fx->rx, buf, sizeof(buf), (struct sockaddr *)&from,
                                    &flen), 3);
    assert_int_equal(flen, sizeof(struct sockaddr_in));
    assert_int_equal(from.sin_family, AF_INET);
    assert_int_equal(ntohs(from.sin_port), 4321);
    assert_int_equal(from.sin_addr.s_addr, inet_addr(REMOTE));
    flen = 4;
    memset(&from, 0, sizeof(from));
    assert_int_equal(memio_recvfrom(fx->sys, fx->rx, buf, sizeof(buf), (struct sockaddr *)&from,
                                    &flen), 3);
    assert_int_equal(flen, sizeof(struct sockaddr_in));
    assert_int_equal(from.sin_family, AF_INET);
    assert_int_equal(from.sin_addr.s_addr, 0); /* cut to 4 bytes */
    errno = 0;
    assert_int_equal(memio_recvfrom(fx->sys, fx->fd, buf, sizeof(buf), NULL, NULL), -1);
    assert_int_equal(errno, ENOTSOCK);
    errno = 0;
    assert_int_equal(memio_recvfrom(fx->sys, fx->rx, buf, sizeof(buf), NULL, NULL), -1);
    assert_int_equal(errno, EAGAIN);
}

/* receive_udp's errors. */
static void test_receive_udp_errors(void **state)
{
    FX;
    struct sockaddr_in at = tu_addr(LOCAL, 5000), zero = tu_addr(LOCAL, 0),
                       foreign = tu_addr("192.168.77.1", 5000), any = tu_addr("0.0.0.0", 5000);
    struct sockaddr_in6 six;
    int fd2 = memio_open(fx->sys, "/dev/net/tun", O_RDWR);
    memset(&six, 0, sizeof(six));
    six.sin6_family = AF_INET6;
#define RX_ERR(fd, a, len, e)                                                               \
    do {                                                                                    \
        errno = 0;                                                                          \
        assert_int_equal(memio_receive_udp(fx->sys, fd, (struct sockaddr *)(a), len), -1);  \
        assert_int_equal(errno, e);                                                         \
    } while (0)
    RX_ERR(fx->fd, &at, sizeof(at), EADDRINUSE);
    RX_ERR(fx->fd, &any, sizeof(any), EADDRINUSE);
    RX_ERR(fx->fd, &zero, sizeof(zero), EINVAL);
    RX_ERR(fx->fd, &foreign, sizeof(foreign), EADDRNOTAVAIL);
    six.sin6_family = AF_UNIX;
    RX_ERR(fx->fd, &six, sizeof(six), EAFNOSUPPORT);
    six.sin6_family = AF_INET6;
    RX_ERR(fx->fd, &six, sizeof(struct sockaddr_in), EINVAL);
    RX_ERR(fx->fd, &at, 4, EINVAL);
    RX_ERR(fx->fd, NULL, sizeof(at), EFAULT);
    RX_ERR(99999, &at, sizeof(at), EBADF);
    RX_ERR(fd2, &at, sizeof(at), EBADFD);
    RX_ERR(fx->rx, &at, sizeof(at), ENOTTY);
#undef RX_ERR
}

/* --- the test sends (send_udp) ------------------------------------------------ */

/* E03: the datagram is built as the kernel builds one: DF, TTL 64, valid
 * checksums, from the tunnel's address and an ephemeral port, to `to`. */
static void test_send_udp_builds_kernel_datagram(void **state)
{
    FX;
    struct sockaddr_in to = tu_addr(REMOTE, 4444);
    struct sockaddr_storage from;
    struct sockaddr_in *f = (struct sockaddr_in *)&from;
    uint8_t buf[2048];
    memio_udp4_view v;
    char payload[100];
    ssize_t n;
    size_t off = (fx->pi ? 4 : 0) + (fx->tap ? 14 : 0);
    memset(payload, 'x', sizeof(payload));
    assert_int_equal(memio_send_udp(fx->sys, payload, sizeof(payload), (struct sockaddr *)&to,
                                    sizeof(to), &from),
                     0);
    assert_int_equal(f->sin_family, AF_INET);
    assert_int_equal(f->sin_addr.s_addr, inet_addr(LOCAL));
    assert_true(ntohs(f->sin_port) >= 32768 && ntohs(f->sin_port) <= 60999);
    n = memio_read(fx->sys, fx->fd, buf, sizeof(buf));
    assert_int_equal(n, (ssize_t)(off + 128));
    if (fx->tap) {
        /* No frame from the program yet: broadcast, from the device's MAC. */
        assert_memory_equal(buf + (fx->pi ? 4 : 0), BCAST, 6);
        assert_memory_equal(buf + (fx->pi ? 4 : 0) + 6, fx->mac, 6);
    }
    assert_int_equal(memio_packet_parse_udp4(buf + off, (size_t)n - off, &v), 0);
    assert_int_equal(v.ttl, 64);
    assert_int_equal(v.frag, 0x4000);
    assert_int_not_equal(v.udp_checksum, 0);
    assert_int_equal(v.src.sin_port, f->sin_port);
    assert_int_equal(v.dst.sin_addr.s_addr, to.sin_addr.s_addr);
    assert_int_equal(v.dst.sin_port, to.sin_port);
    assert_int_equal(v.payload_len, 100);
}

/* On a TAP, once the program has sent a frame, datagrams are addressed to
 * the MAC it sent from. */
static void test_send_udp_on_tap_addresses_program_mac(void **state)
{
    FX;
    struct sockaddr_in to = tu_addr(REMOTE, 4444);
    uint8_t ip[2048], buf[2048];
    write_ip(fx, ip, good(ip, 9, "hi"), BCAST, 0x0800);
    assert_int_equal(memio_send_udp(fx->sys, "x", 1, (struct sockaddr *)&to, sizeof(to), NULL), 0);
    assert_true(memio_read(fx->sys, fx->fd, buf, sizeof(buf)) > 0);
    assert_memory_equal(buf + (fx->pi ? 4 : 0), PEER, 6);
}

/* Routing: the tunnel whose prefix covers `to`; ENETUNREACH otherwise and
 * when its link is down (E11). */
static void test_send_udp_routes_by_prefix(void **state)
{
    FX;
    struct sockaddr_in to = tu_addr(REMOTE, 1), far = tu_addr("10.9.0.2", 1),
                       other_addr = tu_addr("10.9.0.1", 0);
    int fd2 = tu_tun(fx->sys, O_RDWR | O_NONBLOCK, "other0", IFF_TUN | IFF_NO_PI);
    memio_tunnel *t2 = memio_tunnel_get(fx->sys, fd2);
    uint8_t buf[256];
    assert_int_equal(memio_tunnel_set_address(t2, (struct sockaddr *)&other_addr,
                                              sizeof(other_addr), 16),
                     0);
    assert_int_equal(memio_send_udp(fx->sys, "a", 1, (struct sockaddr *)&far, sizeof(far), NULL), 0);
    assert_int_equal(memio_read(fx->sys, fd2, buf, sizeof(buf)), 29);
    assert_int_equal(memio_send_udp(fx->sys, "b", 1, (struct sockaddr *)&to, sizeof(to), NULL), 0);
    assert_true(memio_read(fx->sys, fx->fd, buf, sizeof(buf)) > 0);
    far = tu_addr("172.16.0.1", 1);
    errno = 0;
    assert_int_equal(memio_send_udp(fx->sys, "c", 1, (struct sockaddr *)&far, sizeof(far), NULL), -1);
    assert_int_equal(errno, ENETUNREACH);
    memio_tunnel_set_up(fx->t, 0);
    errno = 0;
    assert_int_equal(memio_send_udp(fx->sys, "d", 1, (struct sockaddr *)&to, sizeof(to), NULL), -1);
    assert_int_equal(errno, ENETUNREACH);
}

/* send_udp's argument errors. */
static void test_send_udp_errors(void **state)
{
    FX;
    struct sockaddr_in to = tu_addr(REMOTE, 1);
    struct sockaddr_in6 six;
    static char big[65508];
    memset(&six, 0, sizeof(six));
    six.sin6_family = AF_INET6;
#define TX_ERR(p, len, a, alen, e)                                                                 \
    do {                                                                                           \
        errno = 0;                                                                                 \
        assert_int_equal(memio_send_udp(fx->sys, p, len, (struct sockaddr *)(a), alen, NULL), -1); \
        assert_int_equal(errno, e);                                                                \
    } while (0)
    TX_ERR("x", 1, NULL, sizeof(to), EFAULT);
    TX_ERR(NULL, 5, &to, sizeof(to), EFAULT);
    TX_ERR("x", 1, &to, 4, EINVAL);
    TX_ERR("x", 1, &six, sizeof(struct sockaddr_in), EINVAL);
    six.sin6_family = AF_UNIX;
    TX_ERR("x", 1, &six, sizeof(six), EAFNOSUPPORT);
    TX_ERR(big, sizeof(big), &to, sizeof(to), EMSGSIZE);
#undef TX_ERR
    assert_int_equal(memio_send_udp(fx->sys, big, 65507, (struct sockaddr *)&to, sizeof(to), NULL), 0);
}

/* Without addresses: the only attached tunnel that is up; none or several is ENETUNREACH. */
static void test_send_udp_without_addresses_needs_exactly_one_tunnel(void **state)
{
    memio_sys *sys = tu_memory();
    struct sockaddr_in to = tu_addr("172.16.2.2", 12345);
    struct sockaddr_storage from;
    uint8_t buf[256];
    int fd;
    (void)state;
    errno = 0;
    assert_int_equal(memio_send_udp(sys, "a", 1, (struct sockaddr *)&to, sizeof(to), NULL), -1);
    assert_int_equal(errno, ENETUNREACH);
    fd = tu_tun(sys, O_RDWR | O_NONBLOCK, "", IFF_TUN | IFF_NO_PI);
    assert_int_equal(memio_send_udp(sys, "a", 1, (struct sockaddr *)&to, sizeof(to), &from), 0);
    /* The documented default source, 192.0.2.1. */
    assert_int_equal(((struct sockaddr_in *)&from)->sin_addr.s_addr, inet_addr("192.0.2.1"));
    assert_int_equal(memio_read(sys, fd, buf, sizeof(buf)), 29);
    tu_tun(sys, O_RDWR | O_NONBLOCK, "", IFF_TUN | IFF_NO_PI);
    errno = 0;
    assert_int_equal(memio_send_udp(sys, "a", 1, (struct sockaddr *)&to, sizeof(to), NULL), -1);
    assert_int_equal(errno, ENETUNREACH);
    /* memio_tunnel_send_udp names the tunnel. */
    assert_int_equal(memio_tunnel_send_udp(memio_tunnel_get(sys, fd), "b", 1,
                                           (struct sockaddr *)&to, sizeof(to), NULL),
                     0);
    assert_int_equal(memio_read(sys, fd, buf, sizeof(buf)), 29);
    memio_sys_free(sys);
}

#define T(f, s) cmocka_unit_test_setup_teardown(f, s, teardown)

int main(void)
{
    const struct CMUnitTest tun[] = {
        T(test_valid_datagram_reaches_receive_fd, setup_tun),
        T(test_zero_udp_checksum_is_accepted, setup_tun),
        T(test_wrong_udp_checksum_is_dropped_and_counted, setup_tun),
        T(test_wrong_ip_checksum_is_dropped_and_counted, setup_tun),
        T(test_truncated_header_goes_to_take, setup_tun),
        T(test_total_length_beyond_bytes_is_dropped, setup_tun),
        T(test_trailing_bytes_are_trimmed, setup_tun),
        T(test_large_datagrams_are_delivered_whole, setup_tun),
        T(test_source_equal_to_our_address_is_delivered, setup_tun),
        T(test_subnet_broadcast_reaches_any_bound_fd, setup_tun),
        T(test_datagram_to_other_port_goes_to_take, setup_tun),
        T(test_classify_tells_why_kernel_would_drop, setup_tun),
        T(test_receive_fd_sees_only_later_datagrams_one_per_read, setup_tun),
        T(test_receive_fd_acts_like_a_bound_socket, setup_tun),
        T(test_receive_fd_queue_holds_256_small_datagrams, setup_tun),
        T(test_receive_udp_errors, setup_tun),
        T(test_recvfrom_reports_the_source, setup_tun),
        T(test_send_udp_builds_kernel_datagram, setup_tun),
        T(test_send_udp_routes_by_prefix, setup_tun),
        T(test_send_udp_errors, setup_tun),
        cmocka_unit_test(test_send_udp_without_addresses_needs_exactly_one_tunnel),
    };
    const struct CMUnitTest tun_pi[] = {
        T(test_valid_datagram_reaches_receive_fd, setup_tun_pi),
        T(test_wrong_pi_proto_drops_ipv4_datagram, setup_tun_pi),
        T(test_pi_flags_ignored_on_write, setup_tun_pi),
        T(test_datagram_to_other_port_goes_to_take, setup_tun_pi),
        T(test_send_udp_builds_kernel_datagram, setup_tun_pi),
    };
    const struct CMUnitTest tap[] = {
        T(test_valid_datagram_reaches_receive_fd, setup_tap),
        T(test_wrong_udp_checksum_is_dropped_and_counted, setup_tap),
        T(test_truncated_header_goes_to_take, setup_tap),
        T(test_trailing_bytes_are_trimmed, setup_tap),
        T(test_tap_accepts_broadcast_multicast_and_own_source, setup_tap),
        T(test_tap_drops_frames_for_other_macs, setup_tap),
        T(test_tap_other_ethertypes_go_to_take, setup_tap),
        T(test_datagram_to_other_port_goes_to_take, setup_tap),
        T(test_send_udp_builds_kernel_datagram, setup_tap),
        T(test_send_udp_on_tap_addresses_program_mac, setup_tap),
    };
    const struct CMUnitTest tap_pi[] = {
        T(test_valid_datagram_reaches_receive_fd, setup_tap_pi),
        T(test_tap_ignores_pi_proto, setup_tap_pi),
        T(test_send_udp_builds_kernel_datagram, setup_tap_pi),
        T(test_send_udp_on_tap_addresses_program_mac, setup_tap_pi),
    };
    int failed = 0;
    failed += cmocka_run_group_tests_name("udp on TUN", tun, NULL, NULL);
    failed += cmocka_run_group_tests_name("udp on TUN+PI", tun_pi, NULL, NULL);
    failed += cmocka_run_group_tests_name("udp on TAP", tap, NULL, NULL);
    failed += cmocka_run_group_tests_name("udp on TAP+PI", tap_pi, NULL, NULL);
    return failed ? 1 : 0;
}
