/*
 * test_tun_io.c — the in-memory tun device's data path, held to the kernel's
 * observed behaviour (../shared/kernel-tun-semantics.md): what writes accept
 * and refuse and in which order (D, F, G), what reads return, PI headers
 * included (E, G), poll's revents to the bit (H), the queue toward the
 * program (J), carrier (E12-E14, H08) and the TAP's MAC address (G01).
 *
 * Every test runs on memio_sys_memory() with memio_tun_device registered
 * (tu_memory) and one descriptor attached with TUNSETIFF (tu_tun), opened
 * O_NONBLOCK so that an empty queue answers EAGAIN instead of blocking.
 * Rows whose kernel result is a socket receiving a datagram are checked, as
 * DESIGN.md says, by the frame reaching memio_tunnel_take byte for byte.
 *
 * Each test names the behaviour; the case ids it reproduces are in the
 * comment above it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <memio/memio.h>

#include "testutil.h"

#define TUN_PATH "/dev/net/tun"
#define PI_LEN 4 /* sizeof(struct tun_pi) */
#define BIG_READ 70000 /* the probe's read(70000) */
#define WRITE_CEILING 4750976u /* D23b: the largest write the kernel accepts */

/* poll(all, 0) in the table: the four bits a tun fd can report. */
#define POLL_ALL (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM)

enum {
    MODE_TUN = IFF_TUN | IFF_NO_PI,
    MODE_TUN_PI = IFF_TUN,
    MODE_TAP = IFF_TAP | IFF_NO_PI,
    MODE_TAP_PI = IFF_TAP,
};

/* One memory system with one attached, up device: the test's state. */
struct dev {
    memio_sys *sys;
    int fd;
    memio_tunnel *t;
};

/* Scratch buffers for big reads and frames; the tests run one at a time. */
static uint8_t rbuf[BIG_READ];
static uint8_t wbuf[BIG_READ];

static const uint8_t peer_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
static const uint8_t bcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* --- fixtures and helpers ------------------------------------------------ */

static int dev_setup(void **state, int iff)
{
    struct dev *d = calloc(1, sizeof(*d));

    assert_non_null(d);
    d->sys = tu_memory();
    d->fd = tu_tun(d->sys, O_RDWR | O_NONBLOCK, NULL, iff);
    d->t = memio_tunnel_get(d->sys, d->fd);
    assert_non_null(d->t);
    *state = d;
    return 0;
}

static int setup_tun(void **state) { return dev_setup(state, MODE_TUN); }
static int setup_tun_pi(void **state) { return dev_setup(state, MODE_TUN_PI); }
static int setup_tap(void **state) { return dev_setup(state, MODE_TAP); }
static int setup_tap_pi(void **state) { return dev_setup(state, MODE_TAP_PI); }

/* Frees the system, and with it every descriptor, tunnel and frame. */
static int teardown_dev(void **state)
{
    struct dev *d = *state;

    if (d) {
        memio_sys_free(d->sys);
        free(d);
    }
    return 0;
}

/* A call that must fail with exactly `err`.  errno is read before any other
 * call can touch it. */
#define assert_fails_with(expr, err)                  \
    do {                                              \
        errno = 0;                                    \
        long long r_ = (long long)(expr);             \
        int e_ = errno;                               \
        assert_int_equal(r_, -1);                     \
        assert_int_equal(e_, (err));                  \
    } while (0)

static memio_tunnel_stats stats_of(const memio_tunnel *t)
{
    memio_tunnel_stats st;

    memset(&st, 0xa5, sizeof(st));
    memio_tunnel_stats_get(t, &st);
    return st;
}

/* The next frame take gives is exactly want[0..len). */
static void assert_taken(memio_tunnel *t, const void *want, size_t len)
{
    uint8_t *got = malloc(len + 1);

    assert_non_null(got);
    assert_int_equal(memio_tunnel_take(t, got, len + 1), (ssize_t)len);
    assert_memory_equal(got, want, len);
    free(got);
}

static void assert_nothing_taken(memio_tunnel *t)
{
    uint8_t b[16];

    assert_fails_with(memio_tunnel_take(t, b, sizeof(b)), EAGAIN);
}

/* Nothing was accepted: no rx counters moved and take has nothing. */
static void assert_nothing_accepted(const memio_tunnel *t)
{
    memio_tunnel_stats st = stats_of(t);

    assert_int_equal(st.rx_packets, 0);
    assert_int_equal(st.rx_bytes, 0);
    assert_int_equal(st.take_queued, 0);
}

/* revents of fd for `events`, with memio_poll's count checked too. */
static short poll_one(memio_sys *sys, int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events, .revents = (short)0x7fff};
    int n = memio_poll(sys, &p, 1, 0);

    assert_int_equal(n, p.revents ? 1 : 0);
    return p.revents;
}

/* An IPv4/UDP packet 10.1.0.2:5000 -> 10.1.0.1:4444 (the D section's) with
 * `plen` payload bytes of value `fill`; 28 + plen bytes long. */
static size_t udp_packet(uint8_t *buf, size_t cap, size_t plen, uint8_t fill)
{
    uint8_t payload[2048];

    assert_true(plen <= sizeof(payload));
    memset(payload, fill, plen);
    return tu_udp4(buf, cap, "10.1.0.2", 5000, "10.1.0.1", 4444, payload, plen);
}

/* An Ethernet frame to our peer carrying a UDP packet of `plen` bytes. */
static size_t tap_udp_frame(uint8_t *buf, size_t cap, size_t plen, uint8_t fill)
{
    uint8_t ip[2048];
    size_t n = udp_packet(ip, sizeof(ip), plen, fill);
    ssize_t r = memio_packet_ether(buf, cap, peer_mac, bcast_mac, ETHERTYPE_IP, ip, n);

    assert_int_equal(r, (ssize_t)(14 + n));
    return (size_t)r;
}

/* A PI header as the kernel writes it: flags host-endian, proto network. */
static void pi_bytes(uint8_t out[PI_LEN], uint16_t flags, uint16_t proto)
{
    struct tun_pi pi = {.flags = flags, .proto = htons(proto)};

    memcpy(out, &pi, PI_LEN);
}

/* Injects a UDP packet with plen payload bytes; returns its length. */
static size_t inject_udp(struct dev *d, uint8_t *buf, size_t cap, size_t plen, uint8_t fill)
{
    size_t n = udp_packet(buf, cap, plen, fill);

    assert_int_equal(memio_tunnel_inject(d->t, buf, n), 0);
    return n;
}

/* --- writes: TUN without PI (D) ----------------------------------------- */

/* D01: down, a valid 33-byte IPv4/UDP packet is refused with EIO after the
 * format checks, and the refusal counts rx_dropped. */
static void test_write_on_down_tun_is_eio_after_format_checks(void **state)
{
    struct dev *d = *state;
    uint8_t p[64];
    size_t n = udp_packet(p, sizeof(p), 5, 'a');

    assert_int_equal(n, 33);
    assert_int_equal(memio_tunnel_set_up(d->t, 0), 0);
    assert_fails_with(memio_write(d->sys, d->fd, p, n), EIO);
    assert_int_equal(stats_of(d->t).rx_dropped, 1);
    assert_nothing_accepted(d->t);
    assert_nothing_taken(d->t);
}

/* D02: down, one byte 0x45 passes the version check, then EIO. */
static void test_write_of_byte_0x45_on_down_tun_is_eio(void **state)
{
    struct dev *d = *state;
    uint8_t b = 0x45;

    memio_tunnel_set_up(d->t, 0);
    assert_fails_with(memio_write(d->sys, d->fd, &b, 1), EIO);
    assert_nothing_accepted(d->t);
}

/* D03: down, version nibble 0 is EINVAL: the version check comes before the
 * up check. */
static void test_write_of_version_0_on_down_tun_is_einval_before_up_check(void **state)
{
    struct dev *d = *state;
    uint8_t b = 0x00;

    memio_tunnel_set_up(d->t, 0);
    assert_fails_with(memio_write(d->sys, d->fd, &b, 1), EINVAL);
    assert_nothing_accepted(d->t);
}

/* D04: down, an empty write is EINVAL (nothing to pull), not EIO. */
static void test_write_of_zero_bytes_on_down_tun_is_einval(void **state)
{
    struct dev *d = *state;
    uint8_t b = 0x45;

    memio_tunnel_set_up(d->t, 0);
    assert_fails_with(memio_write(d->sys, d->fd, &b, 0), EINVAL);
    assert_nothing_accepted(d->t);
}

/* D05: down, 20 bytes 0x45 then zeros: EIO. */
static void test_write_of_20_bytes_on_down_tun_is_eio(void **state)
{
    struct dev *d = *state;
    uint8_t p[20] = {0x45};

    memio_tunnel_set_up(d->t, 0);
    assert_fails_with(memio_write(d->sys, d->fd, p, sizeof(p)), EIO);
    assert_nothing_accepted(d->t);
}

/* D05b: down, one byte 0x60 (IPv6 version) passes the format check: EIO. */
static void test_write_of_byte_0x60_on_down_tun_is_eio(void **state)
{
    struct dev *d = *state;
    uint8_t b = 0x60;

    memio_tunnel_set_up(d->t, 0);
    assert_fails_with(memio_write(d->sys, d->fd, &b, 1), EIO);
    assert_nothing_accepted(d->t);
}

/* D05c: down, two bytes 0x45 0x00: EIO. */
static void test_write_of_two_bytes_on_down_tun_is_eio(void **state)
{
    struct dev *d = *state;
    uint8_t p[2] = {0x45, 0x00};

    memio_tunnel_set_up(d->t, 0);
    assert_fails_with(memio_write(d->sys, d->fd, p, sizeof(p)), EIO);
    assert_nothing_accepted(d->t);
}

/* D10: up, an empty write is EINVAL. */
static void test_write_of_zero_bytes_on_up_tun_is_einval(void **state)
{
    struct dev *d = *state;
    uint8_t b = 0x45;

    assert_fails_with(memio_write(d->sys, d->fd, &b, 0), EINVAL);
    assert_nothing_accepted(d->t);
}

/* D11: up, a single byte 0x45 is accepted whole (the kernel's IP drops it
 * later) and reaches take as written. */
static void test_write_of_byte_0x45_on_up_tun_is_accepted(void **state)
{
    struct dev *d = *state;
    uint8_t b = 0x45;
    memio_tunnel_stats st;

    assert_int_equal(memio_write(d->sys, d->fd, &b, 1), 1);
    st = stats_of(d->t);
    assert_int_equal(st.rx_packets, 1);
    assert_int_equal(st.rx_bytes, 1);
    assert_int_equal(st.rx_dropped, 0);
    assert_taken(d->t, &b, 1);
    assert_nothing_taken(d->t);
}

/* D12: up, version nibble 0 is EINVAL. */
static void test_write_of_version_0_on_up_tun_is_einval(void **state)
{
    struct dev *d = *state;
    uint8_t b = 0x00;

    assert_fails_with(memio_write(d->sys, d->fd, &b, 1), EINVAL);
    assert_nothing_accepted(d->t);
}

/* D13: up, four bytes starting 0x50 (version 5) are EINVAL. */
static void test_write_of_version_5_on_up_tun_is_einval(void **state)
{
    struct dev *d = *state;
    uint8_t p[4] = {0x50, 0x00, 0x00, 0x04};

    assert_fails_with(memio_write(d->sys, d->fd, p, sizeof(p)), EINVAL);
    assert_nothing_accepted(d->t);
}

/* D14: up, one byte 0x60 (IPv6) is accepted. */
static void test_write_of_byte_0x60_on_up_tun_is_accepted(void **state)
{
    struct dev *d = *state;
    uint8_t b = 0x60;

    assert_int_equal(memio_write(d->sys, d->fd, &b, 1), 1);
    assert_taken(d->t, &b, 1);
}

/* D01-D11: the kernel counts every write it refuses, EINVAL of the version
 * check included: after D01..D05c down and D10 up, rx_dropped is 8 at D11,
 * whose accepted write adds nothing. */
static void test_rx_dropped_counts_every_refused_write_as_in_d01_to_d11(void **state)
{
    struct dev *d = *state;
    uint8_t p[64], b45 = 0x45, b00 = 0x00, b60 = 0x60, z20[20] = {0x45}, two[2] = {0x45, 0};
    size_t n = udp_packet(p, sizeof(p), 5, 'a');

    memio_tunnel_set_up(d->t, 0);
    assert_fails_with(memio_write(d->sys, d->fd, p, n), EIO);              /* D01 */
    assert_fails_with(memio_write(d->sys, d->fd, &b45, 1), EIO);           /* D02 */
    assert_fails_with(memio_write(d->sys, d->fd, &b00, 1), EINVAL);        /* D03 */
    assert_fails_with(memio_write(d->sys, d->fd, &b45, 0), EINVAL);        /* D04 */
    assert_fails_with(memio_write(d->sys, d->fd, z20, sizeof(z20)), EIO);  /* D05 */
    assert_fails_with(memio_write(d->sys, d->fd, &b60, 1), EIO);           /* D05b */
    assert_fails_with(memio_write(d->sys, d->fd, two, sizeof(two)), EIO);  /* D05c */
    memio_tunnel_set_up(d->t, 1);
    assert_fails_with(memio_write(d->sys, d->fd, &b45, 0), EINVAL);        /* D10 */
    assert_int_equal(memio_write(d->sys, d->fd, &b45, 1), 1);              /* D11 */
    assert_int_equal(stats_of(d->t).rx_dropped, 8);
    assert_int_equal(stats_of(d->t).rx_packets, 1);
}

/* D20: up, 70000 bytes (0x45 then zeros) are accepted: longer than 64 KiB
 * is fine. */
static void test_write_of_70000_bytes_on_up_tun_is_accepted(void **state)
{
    struct dev *d = *state;

    memset(wbuf, 0, sizeof(wbuf));
    wbuf[0] = 0x45;
    assert_int_equal(memio_write(d->sys, d->fd, wbuf, 70000), 70000);
    assert_int_equal(stats_of(d->t).rx_bytes, 70000);
    assert_taken(d->t, wbuf, 70000);
}

/* D21: a valid 128-byte packet padded with zeros to 70000 bytes is accepted
 * and taken whole: trimming to the IP length is the stack's business. */
static void test_write_of_padded_packet_reaches_take_with_its_padding(void **state)
{
    struct dev *d = *state;
    size_t n;

    memset(wbuf, 0, sizeof(wbuf));
    n = udp_packet(wbuf, sizeof(wbuf), 100, 'q');
    assert_int_equal(n, 128);
    assert_int_equal(memio_write(d->sys, d->fd, wbuf, 70000), 70000);
    assert_taken(d->t, wbuf, 70000);
}

/* Writes `len` bytes (0x45 then a pattern) from a malloc'd buffer, expects
 * the whole length back, and the same bytes from take. */
static void write_big_and_take(struct dev *d, size_t len)
{
    uint8_t *p = malloc(len);

    assert_non_null(p);
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)(i * 7u);
    p[0] = 0x45;
    assert_int_equal(memio_write(d->sys, d->fd, p, len), (ssize_t)len);
    assert_int_equal(stats_of(d->t).rx_bytes, len);
    assert_int_equal(memio_tunnel_peek_len(d->t), (ssize_t)len);
    assert_taken(d->t, p, len);
    free(p);
}

/* D22: up, a 1 MiB write is accepted. */
static void test_write_of_one_mib_is_accepted(void **state)
{
    write_big_and_take(*state, 1048576);
}

/* D23: up, a 2 MiB write is accepted. */
static void test_write_of_two_mib_is_accepted(void **state)
{
    write_big_and_take(*state, 2097152);
}

/* D23b: exactly the ceiling, 4,750,976 bytes, is accepted. */
static void test_write_of_exactly_the_ceiling_is_accepted(void **state)
{
    write_big_and_take(*state, WRITE_CEILING);
}

/* D23b: one byte over the ceiling is ENOBUFS, and nothing is accepted. */
static void test_write_one_byte_over_the_ceiling_is_enobufs(void **state)
{
    struct dev *d = *state;
    uint8_t *p = calloc(1, WRITE_CEILING + 1);

    assert_non_null(p);
    p[0] = 0x45;
    assert_fails_with(memio_write(d->sys, d->fd, p, WRITE_CEILING + 1), ENOBUFS);
    free(p);
    assert_nothing_accepted(d->t);
    /* tun_get_user counts a failed allocation in rx_dropped. */
    assert_int_equal(stats_of(d->t).rx_dropped, 1);
    assert_nothing_taken(d->t);
}

/* D30: a writev of a valid packet split in three iovecs returns the whole
 * length and the packet reaches take in one piece. */
static void test_writev_split_in_three_reaches_take_as_one_packet(void **state)
{
    struct dev *d = *state;
    uint8_t p[64];
    size_t n = udp_packet(p, sizeof(p), 6, 'w');
    struct iovec iov[3] = {
        {p, 5},
        {p + 5, 15},
        {p + 20, n - 20},
    };

    assert_int_equal(n, 34);
    assert_int_equal(memio_writev(d->sys, d->fd, iov, 3), 34);
    assert_int_equal(stats_of(d->t).rx_packets, 1);
    assert_taken(d->t, p, n);
    assert_nothing_taken(d->t);
}

/* D34: a link set down again refuses writes with EIO once more; what was
 * written while up stays for take. */
static void test_write_after_link_set_down_again_is_eio(void **state)
{
    struct dev *d = *state;
    uint8_t p[64];
    size_t n = udp_packet(p, sizeof(p), 5, 'x');

    memio_tunnel_set_up(d->t, 0);
    memio_tunnel_set_up(d->t, 1);
    assert_int_equal(memio_write(d->sys, d->fd, p, n), (ssize_t)n);
    memio_tunnel_set_up(d->t, 0);
    assert_fails_with(memio_write(d->sys, d->fd, p, n), EIO);
    assert_int_equal(stats_of(d->t).rx_packets, 1);
    assert_int_equal(stats_of(d->t).rx_dropped, 1);
    assert_taken(d->t, p, n);
    assert_nothing_taken(d->t);
}

/* --- writes: TUN with PI (F) --------------------------------------------- */

/* F06: with PI, a write shorter than the header is EINVAL. */
static void test_pi_write_shorter_than_header_is_einval(void **state)
{
    struct dev *d = *state;
    uint8_t p[3] = {0, 0, 0x08};

    assert_fails_with(memio_write(d->sys, d->fd, p, sizeof(p)), EINVAL);
    assert_nothing_accepted(d->t);
}

/* F07: with PI, the header alone is an empty packet, accepted when up; take
 * gives a frame of length 0. */
static void test_pi_write_of_header_only_is_accepted_as_empty_packet(void **state)
{
    struct dev *d = *state;
    uint8_t p[PI_LEN], got[8];

    pi_bytes(p, 0, ETH_P_IP);
    assert_int_equal(memio_write(d->sys, d->fd, p, PI_LEN), PI_LEN);
    assert_int_equal(stats_of(d->t).rx_packets, 1);
    assert_int_equal(stats_of(d->t).rx_bytes, 0);
    assert_int_equal(memio_tunnel_take(d->t, got, sizeof(got)), 0);
    assert_nothing_taken(d->t);
}

/* F08: with PI, an empty write is EINVAL. */
static void test_pi_write_of_zero_bytes_is_einval(void **state)
{
    struct dev *d = *state;
    uint8_t p[PI_LEN];

    pi_bytes(p, 0, ETH_P_IP);
    assert_fails_with(memio_write(d->sys, d->fd, p, 0), EINVAL);
    assert_nothing_accepted(d->t);
}

/* F09: with PI there is no version-nibble check: proto 0x0800 and 20 bytes
 * whose version is 0 are accepted. */
static void test_pi_write_with_version_0_packet_is_accepted(void **state)
{
    struct dev *d = *state;
    uint8_t p[PI_LEN + 20];

    memset(p, 0, sizeof(p));
    pi_bytes(p, 0, ETH_P_IP);
    p[PI_LEN + 19] = 0xee;
    assert_int_equal(memio_write(d->sys, d->fd, p, sizeof(p)), 24);
    assert_taken(d->t, p + PI_LEN, 20);
}

/* F10: with PI, a writev {tun_pi, packet} returns 34 and take gives the
 * packet without the header. */
static void test_pi_writev_of_header_and_packet_reaches_take_without_header(void **state)
{
    struct dev *d = *state;
    struct tun_pi pi = {.flags = 0, .proto = htons(ETH_P_IP)};
    uint8_t p[64];
    size_t n = udp_packet(p, sizeof(p), 2, 'f');
    struct iovec iov[2] = {{&pi, sizeof(pi)}, {p, n}};

    assert_int_equal(memio_writev(d->sys, d->fd, iov, 2), 34);
    assert_int_equal(stats_of(d->t).rx_bytes, n);
    assert_taken(d->t, p, n);
}

/* F11: with PI, down, the header alone passes the length check: EIO. */
static void test_pi_write_of_header_only_on_down_tun_is_eio(void **state)
{
    struct dev *d = *state;
    uint8_t p[PI_LEN];

    pi_bytes(p, 0, ETH_P_IP);
    memio_tunnel_set_up(d->t, 0);
    assert_fails_with(memio_write(d->sys, d->fd, p, PI_LEN), EIO);
    assert_nothing_accepted(d->t);
}

/* F12: with PI, down, three bytes are EINVAL: the length check precedes the
 * up check. */
static void test_pi_write_shorter_than_header_on_down_tun_is_einval(void **state)
{
    struct dev *d = *state;
    uint8_t p[3] = {0, 0, 0x08};

    memio_tunnel_set_up(d->t, 0);
    assert_fails_with(memio_write(d->sys, d->fd, p, sizeof(p)), EINVAL);
    assert_nothing_accepted(d->t);
}

/* --- writes: TAP (G) ----------------------------------------------------- */

/* G02: TAP, down, 13 bytes (< ETH_HLEN) is EINVAL before the up check. */
static void test_tap_write_of_13_bytes_on_down_link_is_einval(void **state)
{
    struct dev *d = *state;
    uint8_t f[13] = {0};

    memio_tunnel_set_up(d->t, 0);
    assert_fails_with(memio_write(d->sys, d->fd, f, sizeof(f)), EINVAL);
    assert_nothing_accepted(d->t);
}

/* G03: TAP, down, a 14-byte header-only frame is EIO. */
static void test_tap_write_of_header_only_on_down_link_is_eio(void **state)
{
    struct dev *d = *state;
    uint8_t f[14];

    memio_packet_ether(f, sizeof(f), peer_mac, bcast_mac, ETHERTYPE_IP, NULL, 0);
    memio_tunnel_set_up(d->t, 0);
    assert_fails_with(memio_write(d->sys, d->fd, f, sizeof(f)), EIO);
    assert_nothing_accepted(d->t);
}

/* G04: TAP, down, an empty write is EINVAL. */
static void test_tap_write_of_zero_bytes_on_down_link_is_einval(void **state)
{
    struct dev *d = *state;
    uint8_t f[14] = {0};

    memio_tunnel_set_up(d->t, 0);
    assert_fails_with(memio_write(d->sys, d->fd, f, 0), EINVAL);
    assert_nothing_accepted(d->t);
}

/* G15: TAP, up, 13 bytes is EINVAL. */
static void test_tap_write_of_13_bytes_on_up_link_is_einval(void **state)
{
    struct dev *d = *state;
    uint8_t f[13] = {0};

    assert_fails_with(memio_write(d->sys, d->fd, f, sizeof(f)), EINVAL);
    assert_nothing_accepted(d->t);
}

/* G16: TAP, up, a header-only frame is accepted. */
static void test_tap_write_of_header_only_is_accepted(void **state)
{
    struct dev *d = *state;
    uint8_t f[14];

    memio_packet_ether(f, sizeof(f), peer_mac, bcast_mac, ETHERTYPE_IP, NULL, 0);
    assert_int_equal(memio_write(d->sys, d->fd, f, sizeof(f)), 14);
    assert_taken(d->t, f, sizeof(f));
}

/* G17: TAP, up, an empty write is EINVAL. */
static void test_tap_write_of_zero_bytes_on_up_link_is_einval(void **state)
{
    struct dev *d = *state;
    uint8_t f[14] = {0};

    assert_fails_with(memio_write(d->sys, d->fd, f, 0), EINVAL);
    assert_nothing_accepted(d->t);
}

/* G18: TAP, a 1600-byte frame (> MTU + 14) is accepted: no MTU check. */
static void test_tap_write_of_1600_byte_frame_is_accepted(void **state)
{
    struct dev *d = *state;
    size_t n = tap_udp_frame(wbuf, sizeof(wbuf), 1600 - 14 - 28, 'm');

    assert_int_equal(n, 1600);
    assert_int_equal(memio_write(d->sys, d->fd, wbuf, n), 1600);
    assert_taken(d->t, wbuf, n);
}

/* G19: TAP, a 70000-byte frame is accepted. */
static void test_tap_write_of_70000_byte_frame_is_accepted(void **state)
{
    struct dev *d = *state;

    for (size_t i = 0; i < 70000; i++)
        wbuf[i] = (uint8_t)i;
    memio_packet_ether(wbuf, 14, peer_mac, bcast_mac, ETHERTYPE_IP, NULL, 0);
    assert_int_equal(memio_write(d->sys, d->fd, wbuf, 70000), 70000);
    assert_taken(d->t, wbuf, 70000);
}

/* --- TAP with PI (G26-G31) ------------------------------------------------ */

/* G28: TAP+PI ignores the PI proto: proto 0 and a valid frame, 49 bytes,
 * are accepted, and take gives the 45-byte frame. */
static void test_tap_pi_write_with_proto_0_is_accepted(void **state)
{
    struct dev *d = *state;
    uint8_t f[128];
    size_t n = tap_udp_frame(f + PI_LEN, sizeof(f) - PI_LEN, 3, 'g');

    pi_bytes(f, 0, 0);
    assert_int_equal(n + PI_LEN, 49);
    assert_int_equal(memio_write(d->sys, d->fd, f, n + PI_LEN), 49);
    assert_taken(d->t, f + PI_LEN, n);
}

/* G29: TAP+PI, proto 0x86dd in front of an IPv4 frame is accepted too. */
static void test_tap_pi_write_with_proto_86dd_and_ipv4_frame_is_accepted(void **state)
{
    struct dev *d = *state;
    uint8_t f[128];
    size_t n = tap_udp_frame(f + PI_LEN, sizeof(f) - PI_LEN, 3, 'h');

    pi_bytes(f, 0, ETH_P_IPV6);
    assert_int_equal(memio_write(d->sys, d->fd, f, n + PI_LEN), 49);
    assert_taken(d->t, f + PI_LEN, n);
}

/* G30: TAP+PI, 17 bytes (4 + 13) is EINVAL: the PI and Ethernet length
 * checks add up. */
static void test_tap_pi_write_of_17_bytes_is_einval(void **state)
{
    struct dev *d = *state;
    uint8_t f[17] = {0};

    pi_bytes(f, 0, ETH_P_IP);
    assert_fails_with(memio_write(d->sys, d->fd, f, sizeof(f)), EINVAL);
    assert_nothing_accepted(d->t);
}

/* G31: TAP+PI, 18 bytes (4 + a header-only frame) is accepted. */
static void test_tap_pi_write_of_18_bytes_is_accepted(void **state)
{
    struct dev *d = *state;
    uint8_t f[18];

    pi_bytes(f, 0, ETH_P_IP);
    memio_packet_ether(f + PI_LEN, 14, peer_mac, bcast_mac, ETHERTYPE_IP, NULL, 0);
    assert_int_equal(memio_write(d->sys, d->fd, f, sizeof(f)), 18);
    assert_taken(d->t, f + PI_LEN, 14);
}

/* G26: TAP+PI, a kernel-sent IPv4 frame reads as 56 bytes: PI 00 00 08 00
 * (proto = the frame's ethertype), then the 52-byte frame from the device's
 * MAC (broadcast before the program has sent anything: DESIGN.md). */
static void test_tap_pi_read_of_ipv4_frame_has_proto_0800(void **state)
{
    struct dev *d = *state;
    struct sockaddr_in to = tu_addr("10.6.0.2", 4444);
    uint8_t want_pi[PI_LEN], mac[6];
    const char payload[10] = "0123456789";
    memio_udp4_view v;
    uint16_t type;
    const uint8_t *ip;
    size_t iplen;

    assert_int_equal(memio_tunnel_send_udp(d->t, payload, sizeof(payload),
                                           (struct sockaddr *)&to, sizeof(to), NULL),
                     0);
    assert_int_equal(memio_read(d->sys, d->fd, rbuf, BIG_READ), 56);
    pi_bytes(want_pi, 0, ETH_P_IP);
    assert_memory_equal(rbuf, want_pi, PI_LEN);
    assert_int_equal(memio_packet_parse_ether(rbuf + PI_LEN, 52, &type, &ip, &iplen), 0);
    assert_int_equal(type, ETHERTYPE_IP);
    memio_tunnel_mac(d->t, mac);
    assert_memory_equal(rbuf + PI_LEN + 6, mac, 6);
    assert_memory_equal(rbuf + PI_LEN, bcast_mac, 6);
    assert_int_equal(memio_packet_parse_udp4(ip, iplen, &v), 0);
    assert_int_equal(v.payload_len, 10);
    assert_memory_equal(v.payload, payload, 10);
}

/* G27: TAP+PI, an ARP frame (42 bytes) reads as 46 with PI proto 0x0806. */
static void test_tap_pi_read_of_arp_frame_has_proto_0806(void **state)
{
    struct dev *d = *state;
    uint8_t arp[28] = {0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01};
    uint8_t f[64], want_pi[PI_LEN];
    ssize_t n;

    memcpy(arp + 8, peer_mac, 6);
    memcpy(arp + 14, (uint8_t[]){10, 6, 0, 1}, 4);
    memcpy(arp + 24, (uint8_t[]){10, 6, 0, 3}, 4);
    n = memio_packet_ether(f, sizeof(f), bcast_mac, peer_mac, ETHERTYPE_ARP, arp, sizeof(arp));
    assert_int_equal(n, 42);
    assert_int_equal(memio_tunnel_inject(d->t, f, (size_t)n), 0);
    assert_int_equal(memio_read(d->sys, d->fd, rbuf, BIG_READ), 46);
    pi_bytes(want_pi, 0, ETH_P_ARP);
    assert_memory_equal(rbuf, want_pi, PI_LEN);
    assert_memory_equal(rbuf + PI_LEN, f, 42);
}

/* --- the take queue: writes never fail (J06) ----------------------------- */

/* Writes `count` 38-byte packets numbered in their payload; each write must
 * return its full length. */
static void write_numbered(struct dev *d, unsigned count)
{
    uint8_t p[64];

    for (unsigned i = 0; i < count; i++) {
        char num[16];
        size_t n;
        snprintf(num, sizeof(num), "%09u", i);
        n = tu_udp4(p, sizeof(p), "10.1.0.2", 5000, "10.1.0.1", 4444, num, 10);
        if (memio_write(d->sys, d->fd, p, n) != (ssize_t)n)
            fail_msg("write %u of %u failed: %s", i, count, strerror(errno));
    }
}

/* Takes every frame; checks they are packets first..first+n-1 in order. */
static void take_numbered(struct dev *d, unsigned first, unsigned n)
{
    uint8_t p[64];
    memio_udp4_view v;

    for (unsigned i = 0; i < n; i++) {
        char num[16];
        ssize_t len = memio_tunnel_take(d->t, p, sizeof(p));
        assert_int_equal(len, 38);
        assert_int_equal(memio_packet_parse_udp4(p, (size_t)len, &v), 0);
        snprintf(num, sizeof(num), "%09u", first + i);
        assert_memory_equal(v.payload, num, 10);
    }
    assert_nothing_taken(d->t);
}

/* J06: 20000 writes all succeed; take's queue keeps its capacity (4096 by
 * default) of the oldest, and counts the rest in take_dropped. */
static void test_twenty_thousand_writes_never_fail_and_overflow_is_counted(void **state)
{
    struct dev *d = *state;
    memio_tunnel_stats st;

    write_numbered(d, 20000);
    st = stats_of(d->t);
    assert_int_equal(st.rx_packets, 20000);
    assert_int_equal(st.rx_dropped, 0);
    assert_int_equal(st.take_queued, 4096);
    assert_int_equal(st.take_dropped, 20000 - 4096);
    take_numbered(d, 0, 4096);
}

/* J06: take's capacity is settable; 256 (a kernel socket's share in J06)
 * keeps 256 frames and counts 19744 dropped: none lost silently. */
static void test_take_capacity_is_settable_and_excess_is_counted(void **state)
{
    struct dev *d = *state;
    memio_tunnel_stats st;

    assert_int_equal(memio_tunnel_set_take_capacity(d->t, 256), 0);
    write_numbered(d, 20000);
    st = stats_of(d->t);
    assert_int_equal(st.rx_packets, 20000);
    assert_int_equal(st.take_queued, 256);
    assert_int_equal(st.take_dropped, 20000 - 256);
    assert_int_equal(st.take_queued + st.take_dropped, st.rx_packets);
    take_numbered(d, 0, 256);
}

/* --- bad input loses nothing ---------------------------------------------- */

/* A NULL buffer with len > 0 on an attached, up TUN is EFAULT; nothing is
 * accepted or queued. */
static void test_write_of_null_buffer_is_efault_and_accepts_nothing(void **state)
{
    struct dev *d = *state;

    assert_fails_with(memio_write(d->sys, d->fd, NULL, 20), EFAULT);
    assert_nothing_accepted(d->t);
    /* tun_get_user counts a faulting copy of the packet in rx_dropped. */
    assert_int_equal(stats_of(d->t).rx_dropped, 1);
    assert_nothing_taken(d->t);
}

/* take into a buffer one byte too small is EMSGSIZE; the frame stays queued
 * and a big enough buffer gets it. */
static void test_take_into_too_small_buffer_is_emsgsize_and_keeps_frame(void **state)
{
    struct dev *d = *state;
    uint8_t p[64], got[64];
    size_t n = udp_packet(p, sizeof(p), 5, 's');

    assert_int_equal(memio_write(d->sys, d->fd, p, n), (ssize_t)n);
    assert_fails_with(memio_tunnel_take(d->t, got, n - 1), EMSGSIZE);
    assert_int_equal(stats_of(d->t).take_queued, 1);
    assert_int_equal(memio_tunnel_peek_len(d->t), (ssize_t)n);
    assert_taken(d->t, p, n);
    assert_nothing_taken(d->t);
}

/* --- reads (E) ------------------------------------------------------------ */

/* E01: down, nothing queued: a nonblocking read is EAGAIN. */
static void test_read_on_down_tun_with_nothing_queued_is_eagain(void **state)
{
    struct dev *d = *state;

    memio_tunnel_set_up(d->t, 0);
    assert_fails_with(memio_read(d->sys, d->fd, rbuf, 2048), EAGAIN);
}

/* E02: up, nothing queued (the device says nothing on its own, K03): a
 * nonblocking read is EAGAIN. */
static void test_read_on_up_tun_with_nothing_queued_is_eagain(void **state)
{
    struct dev *d = *state;

    assert_fails_with(memio_read(d->sys, d->fd, rbuf, 2048), EAGAIN);
}

/* Checks a 128-byte kernel-built datagram in rbuf: DF set, TTL 64, valid
 * checksums (parse refuses a wrong one), to `to`, from `from`. */
static void assert_kernel_datagram(const struct sockaddr_in *to, const struct sockaddr_in *from,
                                   const void *payload, size_t len)
{
    memio_udp4_view v;

    assert_int_equal(memio_packet_parse_udp4(rbuf, 28 + len, &v), 0);
    assert_int_equal(rbuf[0], 0x45);
    assert_int_equal(v.frag, 0x4000);
    assert_int_equal(v.ttl, 64);
    assert_int_not_equal(v.udp_checksum, 0);
    assert_int_equal(memio_inet_checksum(rbuf, 20), 0);
    assert_int_equal(v.dst.sin_addr.s_addr, to->sin_addr.s_addr);
    assert_int_equal(v.dst.sin_port, to->sin_port);
    assert_int_equal(v.src.sin_addr.s_addr, from->sin_addr.s_addr);
    assert_int_equal(v.src.sin_port, from->sin_port);
    assert_int_equal(v.payload_len, len);
    assert_memory_equal(v.payload, payload, len);
}

/* E03: memio_send_udp's 100-byte datagram reads as 128 bytes as the kernel
 * sends one: DF, TTL 64, valid IP and UDP checksums; from 192.0.2.1 and an
 * ephemeral port when the tunnel has no address. */
static void test_send_udp_datagram_reads_as_kernel_built_ipv4(void **state)
{
    struct dev *d = *state;
    struct sockaddr_in to = tu_addr("10.2.0.2", 4444);
    struct sockaddr_storage from;
    struct sockaddr_in fin;
    uint8_t payload[100];

    for (size_t i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)(i + 1);
    memset(&from, 0, sizeof(from));
    assert_int_equal(memio_send_udp(d->sys, payload, sizeof(payload), (struct sockaddr *)&to,
                                    sizeof(to), &from),
                     0);
    memcpy(&fin, &from, sizeof(fin));
    assert_int_equal(fin.sin_family, AF_INET);
    assert_int_equal(fin.sin_addr.s_addr, htonl(0xc0000201));
    assert_true(ntohs(fin.sin_port) >= 32768);
    assert_int_equal(memio_read(d->sys, d->fd, rbuf, BIG_READ), 128);
    assert_kernel_datagram(&to, &fin, payload, sizeof(payload));
}

/* E03: through a tunnel given 10.2.0.1/24 (`ip addr add`), the datagram
 * leaves from that address, as the table's 10.2.0.1:35168 -> 10.2.0.2. */
static void test_tunnel_send_udp_leaves_from_the_tunnels_address(void **state)
{
    struct dev *d = *state;
    struct sockaddr_in me = tu_addr("10.2.0.1", 0), to = tu_addr("10.2.0.2", 4444);
    struct sockaddr_storage from;
    struct sockaddr_in fin;
    uint8_t payload[100];

    memset(payload, 'e', sizeof(payload));
    assert_int_equal(memio_tunnel_set_address(d->t, (struct sockaddr *)&me, sizeof(me), 24), 0);
    assert_int_equal(memio_tunnel_send_udp(d->t, payload, sizeof(payload),
                                           (struct sockaddr *)&to, sizeof(to), &from),
                     0);
    memcpy(&fin, &from, sizeof(fin));
    assert_int_equal(fin.sin_addr.s_addr, me.sin_addr.s_addr);
    assert_int_equal(memio_read(d->sys, d->fd, rbuf, BIG_READ), 128);
    assert_kernel_datagram(&to, &fin, payload, sizeof(payload));
}

/* E04: a read with a buffer exactly the packet's size returns it whole. */
static void test_read_with_buffer_of_packet_size_returns_it_whole(void **state)
{
    struct dev *d = *state;
    uint8_t p[256];
    size_t n = inject_udp(d, p, sizeof(p), 100, 'r');

    assert_int_equal(memio_read(d->sys, d->fd, rbuf, 128), 128);
    assert_memory_equal(rbuf, p, n);
    assert_int_equal(stats_of(d->t).tx_packets, 1);
    assert_int_equal(stats_of(d->t).tx_bytes, 128);
}

/* E05: a 50-byte read of a 128-byte packet returns 50 and discards the
 * rest: the next read is EAGAIN. */
static void test_short_read_returns_buffer_length_and_discards_rest(void **state)
{
    struct dev *d = *state;
    uint8_t p[256];

    inject_udp(d, p, sizeof(p), 100, 'r');
    memset(rbuf, 0, 64);
    assert_int_equal(memio_read(d->sys, d->fd, rbuf, 50), 50);
    assert_memory_equal(rbuf, p, 50);
    assert_int_equal(rbuf[50], 0);
    assert_fails_with(memio_read(d->sys, d->fd, rbuf, BIG_READ), EAGAIN);
    assert_int_equal(stats_of(d->t).tx_queued, 0);
}

/* E06: read(0) with a packet queued returns 0 and does not consume it. */
static void test_zero_length_read_does_not_consume(void **state)
{
    struct dev *d = *state;
    uint8_t p[256];
    size_t n = inject_udp(d, p, sizeof(p), 100, 'r');

    assert_int_equal(memio_read(d->sys, d->fd, rbuf, 0), 0);
    assert_int_equal(stats_of(d->t).tx_queued, 1);
    assert_int_equal(memio_read(d->sys, d->fd, rbuf, BIG_READ), 128);
    assert_memory_equal(rbuf, p, n);
}

/* E07: a readv {7, 200} gets one 128-byte packet spread over both iovecs;
 * the next read returns the next packet (38 bytes): FIFO. */
static void test_readv_scatters_one_packet_and_keeps_fifo_order(void **state)
{
    struct dev *d = *state;
    uint8_t p1[256], p2[64], a[7], b[200];
    size_t n1 = inject_udp(d, p1, sizeof(p1), 100, '1');
    size_t n2 = inject_udp(d, p2, sizeof(p2), 10, '2');
    struct iovec iov[2] = {{a, sizeof(a)}, {b, sizeof(b)}};

    assert_int_equal(memio_readv(d->sys, d->fd, iov, 2), 128);
    assert_memory_equal(a, p1, 7);
    assert_memory_equal(b, p1 + 7, n1 - 7);
    assert_int_equal(memio_read(d->sys, d->fd, rbuf, BIG_READ), 38);
    assert_memory_equal(rbuf, p2, n2);
}

/* E10: packets queued before the link goes down stay readable; polled
 * while down the fd is 0x1 for POLLIN|POLLOUT and 0x41 for all four bits,
 * never POLLOUT. */
static void test_frames_queued_before_down_stay_readable(void **state)
{
    struct dev *d = *state;
    uint8_t p1[64], p2[64];
    size_t n1 = inject_udp(d, p1, sizeof(p1), 20, 'a');

    inject_udp(d, p2, sizeof(p2), 20, 'b');
    assert_int_equal(memio_tunnel_set_up(d->t, 0), 0);
    assert_int_equal(poll_one(d->sys, d->fd, POLLIN | POLLOUT), 0x1);
    assert_int_equal(poll_one(d->sys, d->fd, POLL_ALL), 0x41);
    assert_int_equal(memio_read(d->sys, d->fd, rbuf, BIG_READ), 48);
    assert_memory_equal(rbuf, p1, n1);
    assert_int_equal(stats_of(d->t).tx_queued, 1);
}

/* E12: carrier off, the kernel drops what it would transmit: inject fails
 * with ENOLINK and counts tx_dropped; nothing becomes readable. */
static void test_inject_with_carrier_off_is_enolink_and_counted(void **state)
{
    struct dev *d = *state;
    uint8_t p[64];
    size_t n = udp_packet(p, sizeof(p), 10, 'c');

    assert_int_equal(memio_tunnel_set_carrier(d->t, 0), 0);
    assert_fails_with(memio_tunnel_inject(d->t, p, n), ENOLINK);
    assert_int_equal(stats_of(d->t).tx_dropped, 1);
    assert_int_equal(stats_of(d->t).tx_queued, 0);
    assert_fails_with(memio_read(d->sys, d->fd, rbuf, BIG_READ), EAGAIN);
}

/* E13: carrier off, writes only check IFF_UP: a 29-byte packet is accepted
 * and reaches take. */
static void test_write_with_carrier_off_is_accepted(void **state)
{
    struct dev *d = *state;
    uint8_t p[64];
    size_t n = udp_packet(p, sizeof(p), 1, 'k');

    memio_tunnel_set_carrier(d->t, 0);
    assert_int_equal(memio_write(d->sys, d->fd, p, n), 29);
    assert_taken(d->t, p, n);
}

/* E14: carrier back on, nothing dropped while off was held back; frames
 * injected afterwards are readable. */
static void test_carrier_back_on_holds_nothing_back(void **state)
{
    struct dev *d = *state;
    uint8_t p[64];
    size_t n = udp_packet(p, sizeof(p), 10, 'c');

    memio_tunnel_set_carrier(d->t, 0);
    assert_fails_with(memio_tunnel_inject(d->t, p, n), ENOLINK);
    assert_int_equal(memio_tunnel_set_carrier(d->t, 1), 0);
    assert_fails_with(memio_read(d->sys, d->fd, rbuf, BIG_READ), EAGAIN);
    assert_int_equal(memio_tunnel_inject(d->t, p, n), 0);
    assert_int_equal(memio_read(d->sys, d->fd, rbuf, BIG_READ), (ssize_t)n);
    assert_memory_equal(rbuf, p, n);
}

/* --- reads with PI (E15-E23) ---------------------------------------------- */

/* E15: with PI, read(70000) of a 128-byte IPv4 packet returns 132: flags 0
 * (host-endian u16) and proto 0x0800 (big-endian), then the packet. */
static void test_pi_read_prefixes_flags_0_and_proto_0800(void **state)
{
    struct dev *d = *state;
    uint8_t p[256], want[PI_LEN];
    size_t n = inject_udp(d, p, sizeof(p), 100, 'p');

    assert_int_equal(memio_read(d->sys, d->fd, rbuf, BIG_READ), 132);
    pi_bytes(want, 0, ETH_P_IP);
    assert_memory_equal(rbuf, want, PI_LEN);
    assert_memory_equal(rbuf, "\x00\x00\x08\x00", PI_LEN); /* flags 0 in either order */
    assert_memory_equal(rbuf + PI_LEN, p, n);
    assert_int_equal(stats_of(d->t).tx_bytes, 128);
}

/* E16: with PI, read(132) (header + packet exactly) has no STRIP flag. */
static void test_pi_read_of_exact_size_has_no_strip_flag(void **state)
{
    struct dev *d = *state;
    uint8_t p[256], want[PI_LEN];
    size_t n = inject_udp(d, p, sizeof(p), 100, 'p');

    assert_int_equal(memio_read(d->sys, d->fd, rbuf, 132), 132);
    pi_bytes(want, 0, ETH_P_IP);
    assert_memory_equal(rbuf, want, PI_LEN);
    assert_memory_equal(rbuf + PI_LEN, p, n);
}

/* A PI read of `len` bytes of a queued 128-byte packet: returns len, the
 * header has TUN_PKT_STRIP, the packet's first len - 4 bytes follow, and
 * the rest is gone. */
static void pi_short_read(struct dev *d, size_t len)
{
    uint8_t p[256], want[PI_LEN];

    inject_udp(d, p, sizeof(p), 100, 'p');
    assert_int_equal(memio_read(d->sys, d->fd, rbuf, len), (ssize_t)len);
    pi_bytes(want, TUN_PKT_STRIP, ETH_P_IP);
    assert_memory_equal(rbuf, want, PI_LEN);
    if (len > PI_LEN)
        assert_memory_equal(rbuf + PI_LEN, p, len - PI_LEN);
    assert_fails_with(memio_read(d->sys, d->fd, rbuf, BIG_READ), EAGAIN);
}

/* E17: with PI, read(131), one byte short: 131, flags TUN_PKT_STRIP. */
static void test_pi_read_one_byte_short_sets_tun_pkt_strip(void **state)
{
    pi_short_read(*state, 131);
}

/* E18: with PI, read(50): 50, flags TUN_PKT_STRIP. */
static void test_pi_read_of_50_bytes_sets_tun_pkt_strip(void **state)
{
    pi_short_read(*state, 50);
}

/* E19: with PI, read(4), the header only: 4, flags TUN_PKT_STRIP. */
static void test_pi_read_of_header_only_sets_strip_and_returns_4(void **state)
{
    pi_short_read(*state, PI_LEN);
}

/* E20: with PI, read(3) < header fails EINVAL and the packet is lost: the
 * next read is EAGAIN, and the loss is counted. */
static void test_pi_read_shorter_than_header_is_einval_and_loses_packet(void **state)
{
    struct dev *d = *state;
    uint8_t p[256];

    inject_udp(d, p, sizeof(p), 100, 'p');
    assert_fails_with(memio_read(d->sys, d->fd, rbuf, 3), EINVAL);
    assert_fails_with(memio_read(d->sys, d->fd, rbuf, BIG_READ), EAGAIN);
    assert_int_equal(stats_of(d->t).tx_read_lost, 1);
    assert_int_equal(stats_of(d->t).tx_queued, 0);
    assert_int_equal(stats_of(d->t).tx_packets, 0);
}

/* E21: with PI, read(0) returns 0 and the packet stays queued. */
static void test_pi_zero_length_read_does_not_consume(void **state)
{
    struct dev *d = *state;
    uint8_t p[256];

    inject_udp(d, p, sizeof(p), 100, 'p');
    assert_int_equal(memio_read(d->sys, d->fd, rbuf, 0), 0);
    assert_int_equal(stats_of(d->t).tx_queued, 1);
    assert_int_equal(memio_read(d->sys, d->fd, rbuf, BIG_READ), 132);
}

/* E22: with PI, readv {struct tun_pi, buf} fills the struct: flags 0, proto
 * 0x0800, and the packet in the buffer. */
static void test_pi_readv_fills_struct_tun_pi_then_packet(void **state)
{
    struct dev *d = *state;
    uint8_t p[256], b[256];
    struct tun_pi pi;
    size_t n = inject_udp(d, p, sizeof(p), 100, 'p');
    struct iovec iov[2] = {{&pi, sizeof(pi)}, {b, sizeof(b)}};

    memset(&pi, 0xff, sizeof(pi));
    assert_int_equal(memio_readv(d->sys, d->fd, iov, 2), 132);
    assert_int_equal(pi.flags, 0);
    assert_int_equal(ntohs(pi.proto), ETH_P_IP);
    assert_memory_equal(b, p, n);
}

/* An IPv6/UDP packet [fd04::1]:5000 -> [fd04::2]:4444 with plen payload
 * bytes and a valid checksum: 48 + plen bytes. */
static size_t ipv6_udp_packet(uint8_t *buf, size_t plen)
{
    static const uint8_t src[16] = {0xfd, 0x04, [15] = 1}, dst[16] = {0xfd, 0x04, [15] = 2};
    const size_t ulen = 8 + plen;
    uint8_t pseudo[40] = {0};
    uint16_t c;

    memset(buf, 0, 40 + ulen);
    buf[0] = 0x60;
    buf[4] = (uint8_t)(ulen >> 8);
    buf[5] = (uint8_t)ulen;
    buf[6] = IPPROTO_UDP;
    buf[7] = 64;
    memcpy(buf + 8, src, 16);
    memcpy(buf + 24, dst, 16);
    buf[40] = 5000 >> 8;
    buf[41] = 5000 & 0xff;
    buf[42] = 4444 >> 8;
    buf[43] = 4444 & 0xff;
    buf[44] = (uint8_t)(ulen >> 8);
    buf[45] = (uint8_t)ulen;
    memset(buf + 48, 'v', plen);
    memcpy(pseudo, src, 16);
    memcpy(pseudo + 16, dst, 16);
    pseudo[34] = (uint8_t)(ulen >> 8);
    pseudo[35] = (uint8_t)ulen;
    pseudo[39] = IPPROTO_UDP;
    c = memio_csum_fold(memio_csum_add(memio_csum_add(0, pseudo, sizeof(pseudo)), buf + 40,
                                       ulen));
    if (!c)
        c = 0xffff; /* zero means "no checksum", refused on IPv6 (D32) */
    buf[46] = (uint8_t)(c >> 8);
    buf[47] = (uint8_t)c;
    return 40 + ulen;
}

/* E23: with PI, a 58-byte IPv6/UDP packet reads as 62 bytes: PI flags 0,
 * proto 0x86dd, then the packet. */
static void test_pi_read_of_ipv6_packet_has_proto_86dd(void **state)
{
    struct dev *d = *state;
    uint8_t p[64], want[PI_LEN];
    size_t n = ipv6_udp_packet(p, 10);

    assert_int_equal(n, 58);
    assert_int_equal(memio_tunnel_inject(d->t, p, n), 0);
    assert_int_equal(memio_read(d->sys, d->fd, rbuf, BIG_READ), 62);
    pi_bytes(want, 0, ETH_P_IPV6);
    assert_memory_equal(rbuf, want, PI_LEN);
    assert_memory_equal(rbuf, "\x00\x00\x86\xdd", PI_LEN);
    assert_memory_equal(rbuf + PI_LEN, p, n);
}

/* --- TAP reads (G08) ------------------------------------------------------ */

/* G08: TAP, a 20-byte read of a 52-byte frame returns 20; the rest is gone. */
static void test_tap_short_read_returns_20_and_discards_rest(void **state)
{
    struct dev *d = *state;
    uint8_t f[128];
    size_t n = tap_udp_frame(f, sizeof(f), 10, 't');

    assert_int_equal(n, 52);
    assert_int_equal(memio_tunnel_inject(d->t, f, n), 0);
    assert_int_equal(memio_read(d->sys, d->fd, rbuf, 20), 20);
    assert_memory_equal(rbuf, f, 20);
    assert_fails_with(memio_read(d->sys, d->fd, rbuf, BIG_READ), EAGAIN);
}

/* --- poll (H) ------------------------------------------------------------- */

/* H01: attached, down, empty: poll(all) is 0x0 — no POLLOUT while down. */
static void test_poll_on_down_empty_tun_is_0x0(void **state)
{
    struct dev *d = *state;

    memio_tunnel_set_up(d->t, 0);
    assert_int_equal(poll_one(d->sys, d->fd, POLL_ALL), 0x0);
}

/* H02: attached, down: poll(events=0) is 0x0. */
static void test_poll_on_down_tun_for_no_events_is_0x0(void **state)
{
    struct dev *d = *state;

    memio_tunnel_set_up(d->t, 0);
    assert_int_equal(poll_one(d->sys, d->fd, 0), 0x0);
}

/* H03: up, empty: poll(all) is POLLOUT|POLLWRNORM = 0x104. */
static void test_poll_on_up_empty_tun_is_0x104(void **state)
{
    struct dev *d = *state;

    assert_int_equal(poll_one(d->sys, d->fd, POLL_ALL), 0x104);
}

/* H04: up, empty: poll(POLLIN) is 0x0. */
static void test_poll_for_pollin_on_up_empty_tun_is_0x0(void **state)
{
    struct dev *d = *state;

    assert_int_equal(poll_one(d->sys, d->fd, POLLIN), 0x0);
}

/* H05: up, one packet queued: poll(all) is 0x145. */
static void test_poll_with_packet_queued_is_0x145(void **state)
{
    struct dev *d = *state;
    uint8_t p[64];

    inject_udp(d, p, sizeof(p), 10, 'h');
    assert_int_equal(poll_one(d->sys, d->fd, POLL_ALL), 0x145);
}

/* H06: up, one packet queued: poll(POLLOUT) is 0x4. */
static void test_poll_for_pollout_with_packet_queued_is_0x4(void **state)
{
    struct dev *d = *state;
    uint8_t p[64];

    inject_udp(d, p, sizeof(p), 10, 'h');
    assert_int_equal(poll_one(d->sys, d->fd, POLLOUT), 0x4);
}

/* H08: up, carrier off: poll(all) is still 0x104. */
static void test_poll_with_carrier_off_is_0x104(void **state)
{
    struct dev *d = *state;

    assert_int_equal(memio_tunnel_set_carrier(d->t, 0), 0);
    assert_int_equal(poll_one(d->sys, d->fd, POLL_ALL), 0x104);
}

/* H09: after the attached device is deleted, poll(all) is POLLERR only,
 * even with a packet queued before. */
static void test_poll_after_device_deleted_is_pollerr_only(void **state)
{
    struct dev *d = *state;
    uint8_t p[64];

    inject_udp(d, p, sizeof(p), 10, 'h');
    assert_int_equal(memio_tunnel_delete(d->t), 0);
    assert_int_equal(poll_one(d->sys, d->fd, POLL_ALL), 0x8);
}

/* H10: an unattached fd polled for no events is POLLERR (0x8). */
static void test_poll_on_unattached_fd_for_no_events_is_pollerr(void **state)
{
    struct dev *d = *state;
    int fd = memio_open(d->sys, TUN_PATH, O_RDWR | O_NONBLOCK);

    assert_true(fd >= 8192);
    assert_int_equal(poll_one(d->sys, fd, 0), 0x8);
    assert_int_equal(memio_close(d->sys, fd), 0);
}

/* --- the queue toward the program (J) ------------------------------------- */

/* Injects `count` packets (or TAP frames) numbered in their payload; the
 * first `keep` must be queued, the rest refused with ENOBUFS. */
static void inject_numbered(struct dev *d, int tap, unsigned count, unsigned keep)
{
    uint8_t p[128];

    for (unsigned i = 0; i < count; i++) {
        char num[16];
        uint8_t ip[64];
        size_t n;
        int r, e;
        snprintf(num, sizeof(num), "%09u", i);
        n = tu_udp4(ip, sizeof(ip), "10.1.0.1", 4444, "10.1.0.2", 5000, num, 10);
        if (tap)
            n = (size_t)memio_packet_ether(p, sizeof(p), peer_mac, bcast_mac, ETHERTYPE_IP,
                                           ip, n);
        else
            memcpy(p, ip, n);
        errno = 0;
        r = memio_tunnel_inject(d->t, p, n);
        e = errno;
        if (i < keep && r != 0)
            fail_msg("inject %u of %u: %d (%s), want 0", i, count, r, strerror(e));
        if (i >= keep && (r != -1 || e != ENOBUFS))
            fail_msg("inject %u of %u: %d (%s), want -1 ENOBUFS", i, count, r, strerror(e));
    }
}

/* Reads every queued frame; checks they are first..first+n-1 in order and
 * that the queue is then empty. */
static void read_numbered(struct dev *d, int tap, unsigned first, unsigned n)
{
    size_t off = tap ? 14 : 0;
    memio_udp4_view v;

    for (unsigned i = 0; i < n; i++) {
        char num[16];
        ssize_t len = memio_read(d->sys, d->fd, rbuf, 2048);
        assert_int_equal(len, (ssize_t)(off + 38));
        assert_int_equal(memio_packet_parse_udp4(rbuf + off, 38, &v), 0);
        snprintf(num, sizeof(num), "%09u", first + i);
        assert_memory_equal(v.payload, num, 10);
    }
    assert_fails_with(memio_read(d->sys, d->fd, rbuf, 2048), EAGAIN);
}

/* J01: a TUN holds exactly 500 frames (C69); of 3000 injected with nobody
 * reading, the other 2500 are tail-dropped, refused with ENOBUFS and
 * counted in tx_dropped; the 500 oldest are read in order. */
static void test_tun_queue_holds_500_and_tail_drops_the_rest(void **state)
{
    struct dev *d = *state;
    memio_tunnel_stats st;

    assert_int_equal(memio_tunnel_txqueuelen(d->t), 500);
    inject_numbered(d, 0, 3000, 500);
    st = stats_of(d->t);
    assert_int_equal(st.tx_dropped, 2500);
    assert_int_equal(st.tx_queued, 500);
    read_numbered(d, 0, 0, 500);
    assert_int_equal(stats_of(d->t).tx_packets, 500);
}

/* J03: txqueuelen 10, 50 frames: 10 are read, 40 dropped. */
static void test_txqueuelen_10_keeps_10_of_50(void **state)
{
    struct dev *d = *state;

    assert_int_equal(memio_tunnel_set_txqueuelen(d->t, 10), 0);
    assert_int_equal(memio_tunnel_txqueuelen(d->t), 10);
    inject_numbered(d, 0, 50, 10);
    assert_int_equal(stats_of(d->t).tx_dropped, 40);
    read_numbered(d, 0, 0, 10);
}

/* J04: txqueuelen 0 drops every frame. */
static void test_txqueuelen_0_drops_every_frame(void **state)
{
    struct dev *d = *state;

    assert_int_equal(memio_tunnel_set_txqueuelen(d->t, 0), 0);
    inject_numbered(d, 0, 5, 0);
    assert_int_equal(stats_of(d->t).tx_dropped, 5);
    read_numbered(d, 0, 0, 0);
}

/* J05: 20 queued (p00..p19), then txqueuelen 500 -> 5: the oldest five,
 * p00..p04, survive; the other 15 are freed and counted. */
static void test_txqueuelen_shrink_keeps_the_oldest_frames(void **state)
{
    struct dev *d = *state;
    uint8_t p[64];
    memio_udp4_view v;

    for (int i = 0; i < 20; i++) {
        char name[4];
        size_t n;
        snprintf(name, sizeof(name), "p%02d", i);
        n = tu_udp4(p, sizeof(p), "10.1.0.1", 4444, "10.1.0.2", 5000, name, 3);
        assert_int_equal(memio_tunnel_inject(d->t, p, n), 0);
    }
    assert_int_equal(memio_tunnel_set_txqueuelen(d->t, 5), 0);
    assert_int_equal(stats_of(d->t).tx_dropped, 15);
    assert_int_equal(stats_of(d->t).tx_queued, 5);
    for (int i = 0; i < 5; i++) {
        char name[4];
        ssize_t len = memio_read(d->sys, d->fd, rbuf, 2048);
        assert_int_equal(len, 31);
        assert_int_equal(memio_packet_parse_udp4(rbuf, (size_t)len, &v), 0);
        snprintf(name, sizeof(name), "p%02d", i);
        assert_memory_equal(v.payload, name, 3);
    }
    assert_fails_with(memio_read(d->sys, d->fd, rbuf, 2048), EAGAIN);
}

/* J07: a TAP holds 1000 frames (C70); of 3000, 2000 are dropped. */
static void test_tap_queue_holds_1000_and_tail_drops_the_rest(void **state)
{
    struct dev *d = *state;

    assert_int_equal(memio_tunnel_txqueuelen(d->t), 1000);
    inject_numbered(d, 1, 3000, 1000);
    assert_int_equal(stats_of(d->t).tx_dropped, 2000);
    assert_int_equal(stats_of(d->t).tx_queued, 1000);
    read_numbered(d, 1, 0, 1000);
}

/* --- the TAP's MAC address (G01, C58) ------------------------------------- */

/* The MAC of the TAP on fd, by SIOCGIFHWADDR on the tun fd (C58), checked
 * against memio_tunnel_mac. */
static void tap_mac(memio_sys *sys, int fd, uint8_t mac[6])
{
    struct ifreq ifr;
    uint8_t m2[6];

    memset(&ifr, 0, sizeof(ifr));
    assert_int_equal(memio_ioctl(sys, fd, SIOCGIFHWADDR, &ifr), 0);
    assert_int_equal(ifr.ifr_hwaddr.sa_family, ARPHRD_ETHER);
    memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
    memio_tunnel_mac(memio_tunnel_get(sys, fd), m2);
    assert_memory_equal(mac, m2, 6);
}

/* G01: a new TAP's MAC is locally administered unicast, differs from its
 * neighbour's, and is the same for the same creation order in two fresh
 * systems (random on the kernel, deterministic in memory). */
static void test_new_tap_mac_is_local_unicast_and_deterministic(void **state)
{
    uint8_t mac[2][2][6];

    (void)state;
    for (int k = 0; k < 2; k++) {
        memio_sys *sys = tu_memory();
        tu_tun(sys, O_RDWR, "tunfirst", MODE_TUN);
        int a = tu_tun(sys, O_RDWR, NULL, MODE_TAP);
        int b = tu_tun(sys, O_RDWR, NULL, MODE_TAP_PI);
        tap_mac(sys, a, mac[k][0]);
        tap_mac(sys, b, mac[k][1]);
        memio_sys_free(sys);
    }
    for (int i = 0; i < 2; i++) {
        assert_int_equal(mac[0][i][0] & 0x03, 0x02); /* local, not multicast */
        assert_memory_equal(mac[0][i], mac[1][i], 6);
    }
    assert_memory_not_equal(mac[0][0], mac[0][1], 6);
}

/* --- the list ------------------------------------------------------------- */

/* --- what Twisted's tests reach into -------------------------------------- */

/* Twisted's pendingSignals: the next writes fail with the errno the test
 * names (EINTR), before any other check; then writes work again and
 * nothing was accepted meanwhile. */
static void test_fail_writes_fails_the_next_writes_then_stops(void **state)
{
    struct dev *d = *state;
    uint8_t p[64];
    size_t n = udp_packet(p, sizeof(p), 5, 'f');

    memio_tunnel_fail_writes(d->t, EINTR, 2);
    assert_fails_with(memio_write(d->sys, d->fd, p, n), EINTR);
    assert_fails_with(memio_write(d->sys, d->fd, "", 0), EINTR);
    assert_nothing_accepted(d->t);
    assert_int_equal(memio_write(d->sys, d->fd, p, n), (ssize_t)n);
}

/* A way to make the next reads fail with any errno; the queued frame is
 * still there afterwards. */
static void test_fail_reads_fails_the_next_reads_and_keeps_frames(void **state)
{
    struct dev *d = *state;
    uint8_t p[64];
    size_t n = udp_packet(p, sizeof(p), 5, 'r');

    assert_int_equal(memio_tunnel_inject(d->t, p, n), 0);
    memio_tunnel_fail_reads(d->t, EIO, 1);
    assert_fails_with(memio_read(d->sys, d->fd, rbuf, sizeof(rbuf)), EIO);
    assert_int_equal(memio_read(d->sys, d->fd, rbuf, sizeof(rbuf)), (ssize_t)n);
}

/* Twisted's nonBlockingExceptionStyle: what an empty non-blocking read
 * fails with (EAGAIN by default, as the kernel's E01). */
static void test_empty_read_errno_is_settable(void **state)
{
    struct dev *d = *state;

    assert_fails_with(memio_read(d->sys, d->fd, rbuf, sizeof(rbuf)), EAGAIN);
    memio_tunnel_set_empty_read_errno(d->t, EWOULDBLOCK);
    assert_fails_with(memio_read(d->sys, d->fd, rbuf, sizeof(rbuf)), EWOULDBLOCK);
    memio_tunnel_set_empty_read_errno(d->t, EINTR);
    assert_fails_with(memio_read(d->sys, d->fd, rbuf, sizeof(rbuf)), EINTR);
}

/* Calls on a gone device fail with ENODEV; its pointer and counters stay. */
static void test_test_side_calls_on_gone_device_are_enodev(void **state)
{
    struct dev *d = *state;
    static const uint8_t mac[6] = {2, 0, 0, 0, 0, 9};
    struct sockaddr_in a = {.sin_family = AF_INET};
    memio_tunnel_stats st;

    assert_int_equal(memio_tunnel_delete(d->t), 0);
    assert_fails_with(memio_tunnel_delete(d->t), ENODEV);
    assert_fails_with(memio_tunnel_inject(d->t, "\x45", 1), ENODEV);
    assert_fails_with(memio_tunnel_set_up(d->t, 0), ENODEV);
    assert_fails_with(memio_tunnel_set_carrier(d->t, 0), ENODEV);
    assert_fails_with(memio_tunnel_set_txqueuelen(d->t, 5), ENODEV);
    assert_fails_with(memio_tunnel_set_mac(d->t, mac), ENODEV);
    assert_fails_with(memio_tunnel_set_address(d->t, (struct sockaddr *)&a, sizeof(a), 24), ENODEV);
    assert_fails_with(memio_tunnel_send_udp(d->t, "x", 1, (struct sockaddr *)&a, sizeof(a), NULL),
                      ENODEV);
    memio_tunnel_stats_get(d->t, &st);
    assert_int_equal(st.tx_dropped, 1); /* the inject on a gone device counts */
    assert_false(memio_tunnel_exists(d->t));
}

/* inject's own argument errors, which count nothing. */
static void test_inject_argument_errors(void **state)
{
    struct dev *d = *state;
    static uint8_t big[65536 + 1];
    memio_tunnel_stats st;

    assert_fails_with(memio_tunnel_inject(d->t, NULL, 20), EFAULT);
    assert_fails_with(memio_tunnel_inject(d->t, big, 0), EINVAL);
    assert_fails_with(memio_tunnel_inject(d->t, big, sizeof(big)), EMSGSIZE);
    memio_tunnel_stats_get(d->t, &st);
    assert_int_equal(st.tx_dropped, 0);
}

#define T_TUN(f) cmocka_unit_test_setup_teardown(f, setup_tun, teardown_dev)
#define T_TUN_PI(f) cmocka_unit_test_setup_teardown(f, setup_tun_pi, teardown_dev)
#define T_TAP(f) cmocka_unit_test_setup_teardown(f, setup_tap, teardown_dev)
#define T_TAP_PI(f) cmocka_unit_test_setup_teardown(f, setup_tap_pi, teardown_dev)

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* writes, TUN */
        T_TUN(test_write_on_down_tun_is_eio_after_format_checks),
        T_TUN(test_write_of_byte_0x45_on_down_tun_is_eio),
        T_TUN(test_write_of_version_0_on_down_tun_is_einval_before_up_check),
        T_TUN(test_write_of_zero_bytes_on_down_tun_is_einval),
        T_TUN(test_write_of_20_bytes_on_down_tun_is_eio),
        T_TUN(test_write_of_byte_0x60_on_down_tun_is_eio),
        T_TUN(test_write_of_two_bytes_on_down_tun_is_eio),
        T_TUN(test_write_of_zero_bytes_on_up_tun_is_einval),
        T_TUN(test_write_of_byte_0x45_on_up_tun_is_accepted),
        T_TUN(test_write_of_version_0_on_up_tun_is_einval),
        T_TUN(test_write_of_version_5_on_up_tun_is_einval),
        T_TUN(test_write_of_byte_0x60_on_up_tun_is_accepted),
        T_TUN(test_rx_dropped_counts_every_refused_write_as_in_d01_to_d11),
        T_TUN(test_write_of_70000_bytes_on_up_tun_is_accepted),
        T_TUN(test_write_of_padded_packet_reaches_take_with_its_padding),
        T_TUN(test_write_of_one_mib_is_accepted),
        T_TUN(test_write_of_two_mib_is_accepted),
        T_TUN(test_write_of_exactly_the_ceiling_is_accepted),
        T_TUN(test_write_one_byte_over_the_ceiling_is_enobufs),
        T_TUN(test_writev_split_in_three_reaches_take_as_one_packet),
        T_TUN(test_write_after_link_set_down_again_is_eio),
        /* writes, TUN with PI */
        T_TUN_PI(test_pi_write_shorter_than_header_is_einval),
        T_TUN_PI(test_pi_write_of_header_only_is_accepted_as_empty_packet),
        T_TUN_PI(test_pi_write_of_zero_bytes_is_einval),
        T_TUN_PI(test_pi_write_with_version_0_packet_is_accepted),
        T_TUN_PI(test_pi_writev_of_header_and_packet_reaches_take_without_header),
        T_TUN_PI(test_pi_write_of_header_only_on_down_tun_is_eio),
        T_TUN_PI(test_pi_write_shorter_than_header_on_down_tun_is_einval),
        /* writes, TAP */
        T_TAP(test_tap_write_of_13_bytes_on_down_link_is_einval),
        T_TAP(test_tap_write_of_header_only_on_down_link_is_eio),
        T_TAP(test_tap_write_of_zero_bytes_on_down_link_is_einval),
        T_TAP(test_tap_write_of_13_bytes_on_up_link_is_einval),
        T_TAP(test_tap_write_of_header_only_is_accepted),
        T_TAP(test_tap_write_of_zero_bytes_on_up_link_is_einval),
        T_TAP(test_tap_write_of_1600_byte_frame_is_accepted),
        T_TAP(test_tap_write_of_70000_byte_frame_is_accepted),
        /* TAP with PI */
        T_TAP_PI(test_tap_pi_write_with_proto_0_is_accepted),
        T_TAP_PI(test_tap_pi_write_with_proto_86dd_and_ipv4_frame_is_accepted),
        T_TAP_PI(test_tap_pi_write_of_17_bytes_is_einval),
        T_TAP_PI(test_tap_pi_write_of_18_bytes_is_accepted),
        T_TAP_PI(test_tap_pi_read_of_ipv4_frame_has_proto_0800),
        T_TAP_PI(test_tap_pi_read_of_arp_frame_has_proto_0806),
        /* take's queue, bad input */
        T_TUN(test_twenty_thousand_writes_never_fail_and_overflow_is_counted),
        T_TUN(test_take_capacity_is_settable_and_excess_is_counted),
        T_TUN(test_write_of_null_buffer_is_efault_and_accepts_nothing),
        T_TUN(test_take_into_too_small_buffer_is_emsgsize_and_keeps_frame),
        /* reads */
        T_TUN(test_read_on_down_tun_with_nothing_queued_is_eagain),
        T_TUN(test_read_on_up_tun_with_nothing_queued_is_eagain),
        T_TUN(test_send_udp_datagram_reads_as_kernel_built_ipv4),
        T_TUN(test_tunnel_send_udp_leaves_from_the_tunnels_address),
        T_TUN(test_read_with_buffer_of_packet_size_returns_it_whole),
        T_TUN(test_short_read_returns_buffer_length_and_discards_rest),
        T_TUN(test_zero_length_read_does_not_consume),
        T_TUN(test_readv_scatters_one_packet_and_keeps_fifo_order),
        T_TUN(test_frames_queued_before_down_stay_readable),
        T_TUN(test_inject_with_carrier_off_is_enolink_and_counted),
        T_TUN(test_write_with_carrier_off_is_accepted),
        T_TUN(test_carrier_back_on_holds_nothing_back),
        /* reads with PI */
        T_TUN_PI(test_pi_read_prefixes_flags_0_and_proto_0800),
        T_TUN_PI(test_pi_read_of_exact_size_has_no_strip_flag),
        T_TUN_PI(test_pi_read_one_byte_short_sets_tun_pkt_strip),
        T_TUN_PI(test_pi_read_of_50_bytes_sets_tun_pkt_strip),
        T_TUN_PI(test_pi_read_of_header_only_sets_strip_and_returns_4),
        T_TUN_PI(test_pi_read_shorter_than_header_is_einval_and_loses_packet),
        T_TUN_PI(test_pi_zero_length_read_does_not_consume),
        T_TUN_PI(test_pi_readv_fills_struct_tun_pi_then_packet),
        T_TUN_PI(test_pi_read_of_ipv6_packet_has_proto_86dd),
        T_TAP(test_tap_short_read_returns_20_and_discards_rest),
        /* poll */
        T_TUN(test_poll_on_down_empty_tun_is_0x0),
        T_TUN(test_poll_on_down_tun_for_no_events_is_0x0),
        T_TUN(test_poll_on_up_empty_tun_is_0x104),
        T_TUN(test_poll_for_pollin_on_up_empty_tun_is_0x0),
        T_TUN(test_poll_with_packet_queued_is_0x145),
        T_TUN(test_poll_for_pollout_with_packet_queued_is_0x4),
        T_TUN(test_poll_with_carrier_off_is_0x104),
        T_TUN(test_poll_after_device_deleted_is_pollerr_only),
        T_TUN(test_poll_on_unattached_fd_for_no_events_is_pollerr),
        /* the queue toward the program */
        T_TUN(test_tun_queue_holds_500_and_tail_drops_the_rest),
        T_TUN(test_txqueuelen_10_keeps_10_of_50),
        T_TUN(test_txqueuelen_0_drops_every_frame),
        T_TUN(test_txqueuelen_shrink_keeps_the_oldest_frames),
        T_TAP(test_tap_queue_holds_1000_and_tail_drops_the_rest),
        /* MAC */
        cmocka_unit_test(test_new_tap_mac_is_local_unicast_and_deterministic),
        T_TUN(test_fail_writes_fails_the_next_writes_then_stops),
        T_TUN(test_fail_reads_fails_the_next_reads_and_keeps_frames),
        T_TUN(test_empty_read_errno_is_settable),
        T_TUN(test_test_side_calls_on_gone_device_are_enodev),
        T_TUN(test_inject_argument_errors),
    };

    return cmocka_run_group_tests_name("tun_io", tests, NULL, NULL);
}
