/*
 * test_alloc.c — the per-packet paths allocate nothing in steady state.
 *
 * malloc, calloc, realloc, free and the aligned allocators are interposed in
 * this executable: each counts, while counting is on, and forwards to
 * glibc's own (__libc_malloc ...).  Each test warms a path up with frames of
 * every size it will see (up to 64 KiB), then counts over 10^5 packets and
 * asserts that none of them allocated or freed.
 *
 * Sanitizers replace malloc themselves, and so does valgrind: the suite then
 * skips (exit 77) and says why, instead of counting someone else's calls.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <memio/memio.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <malloc.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <cmocka.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ALLOC_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define ALLOC_SANITIZED 1
#endif
#endif

#define PACKETS 100000
#define WARMUP 2000
#define MAX_FRAME (65535 + MEMIO_ETH_HLEN)

/* --- the counting allocator ---------------------------------------------- */

/* Left out under a sanitizer: its own malloc must stay the only one. */
#ifndef ALLOC_SANITIZED

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

static atomic_int counting;
static atomic_long n_alloc, n_free;

static void count(atomic_long *c)
{
    if (atomic_load_explicit(&counting, memory_order_relaxed))
        atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

void *malloc(size_t n)
{
    count(&n_alloc);
    return __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
    count(&n_alloc);
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
    count(&n_alloc);
    return __libc_realloc(p, n);
}

void free(void *p)
{
    if (p)
        count(&n_free);
    __libc_free(p);
}

void *memalign(size_t align, size_t n)
{
    count(&n_alloc);
    return __libc_memalign(align, n);
}

void *aligned_alloc(size_t align, size_t n)
{
    count(&n_alloc);
    return __libc_memalign(align, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
    void *p;
    if (align < sizeof(void *) || (align & (align - 1)))
        return EINVAL;
    count(&n_alloc);
    p = __libc_memalign(align, n);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

/* Whether the calls above are the ones the program's malloc reaches: not
 * when valgrind (or a preloaded allocator) replaced them. */
static int interposed(void)
{
    long before = atomic_load(&n_alloc);
    atomic_store(&counting, 1);
    void *volatile p = malloc(24);
    atomic_store(&counting, 0);
    free(p);
    return atomic_load(&n_alloc) != before;
}

/* --- the paths ----------------------------------------------------------- */

enum path { P_INJECT_READ, P_SENDUDP_READ, P_WRITE_TAKE, P_WRITE_RECV };
static const char *const path_name[] = {"inject+read", "send_udp+read", "write+take",
                                        "write+receive_udp"};

/* IP packet sizes the steady state cycles through: frames up to 64 KiB
 * (65535 stands for the largest: on a TAP, 65536 - 14 bytes of IP, so
 * that the Ethernet frame is 64 KiB). */
static const size_t sizes[] = {46, 1486, 576, 9000, 65535, 28, 32768, 1500};
#define NSIZES (sizeof sizes / sizeof sizes[0])

typedef struct ctx {
    memio_sys *sys;
    memio_tunnel *t;
    int fd, rfd, tap;
    uint8_t mac[6];
    uint8_t in[NSIZES][MAX_FRAME];  /* injected, per size */
    size_t in_len[NSIZES];
    uint8_t out[NSIZES][MAX_FRAME]; /* written, per size */
    size_t out_len[NSIZES];
    uint8_t payload[MAX_FRAME];
    uint8_t buf[MAX_FRAME + 64];
} ctx;

static struct sockaddr_in addr4(const char *ip, uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
}

/* An IPv4/UDP packet of iplen bytes (valid checksums), framed for a TAP
 * from 02:00:00:00:00:02 to dst_mac when tap is set. */
static size_t frame(ctx *c, uint8_t *buf, size_t iplen, const uint8_t dst_mac[6],
                    const char *src, uint16_t sport, const char *dst, uint16_t dport)
{
    static const uint8_t peer[6] = {2, 0, 0, 0, 0, 2};
    static uint8_t ip[65536];
    struct sockaddr_in s = addr4(src, sport), d = addr4(dst, dport);
    ssize_t n = memio_packet_udp4(ip, sizeof ip, &s, &d, 7, c->payload, iplen - 28);
    assert_true(n == (ssize_t)iplen);
    if (!c->tap) {
        memcpy(buf, ip, (size_t)n);
        return (size_t)n;
    }
    n = memio_packet_ether(buf, MAX_FRAME, dst_mac, peer, ETHERTYPE_IP, ip, (size_t)n);
    assert_true(n > 0);
    return (size_t)n;
}

/* The IP length of size index s on c's device: frames stay within 64 KiB. */
static size_t ip_len(const ctx *c, size_t s)
{
    size_t max = c->tap ? 65536 - MEMIO_ETH_HLEN : 65535;
    return sizes[s] < max ? sizes[s] : max;
}

static ctx *ctx_new(int tap, enum path p)
{
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    ctx *c = calloc(1, sizeof *c);
    struct ifreq ifr = {.ifr_flags = (short)((tap ? IFF_TAP : IFF_TUN) | IFF_NO_PI)};
    assert_non_null(c);
    c->tap = tap;
    c->sys = memio_sys_memory();
    assert_non_null(c->sys);
    assert_int_equal(memio_register_tun(c->sys), 0);
    c->fd = memio_open(c->sys, "/dev/net/tun", O_RDWR | O_NONBLOCK);
    assert_true(c->fd >= 0);
    int rc = memio_ioctl(c->sys, c->fd, TUNSETIFF, &ifr);
    assert_int_equal(rc, 0);
    c->t = memio_tunnel_get(c->sys, c->fd);
    assert_non_null(c->t);
    memio_tunnel_mac(c->t, c->mac);
    struct sockaddr_in at = addr4("10.0.0.1", 5000);
    c->rfd = memio_receive_udp(c->sys, c->fd, (struct sockaddr *)&at, sizeof at);
    assert_true(c->rfd >= 0);
    assert_int_equal(memio_fcntl(c->sys, c->rfd, F_SETFL, O_NONBLOCK), 0);
    for (size_t i = 0; i < MAX_FRAME; i++)
        c->payload[i] = (uint8_t)(i * 13 + 5);
    for (size_t s = 0; s < NSIZES; s++) {
        c->in_len[s] = frame(c, c->in[s], ip_len(c, s), bcast, "10.0.0.1", 5000, "10.0.0.2", 4000);
        c->out_len[s] = frame(c, c->out[s], ip_len(c, s), c->mac, "10.0.0.2", 4000, "10.0.0.1",
                              p == P_WRITE_RECV ? 5000 : 6000);
    }
    return c;
}

/* One packet of path p at size index s, in and out. */
static void one(ctx *c, enum path p, size_t s)
{
    size_t plen = ip_len(c, s) - 28;
    struct sockaddr_in to = addr4("10.0.0.2", 4000);
    switch (p) {
    case P_INJECT_READ:
        assert_int_equal(memio_tunnel_inject(c->t, c->in[s], c->in_len[s]), 0);
        assert_int_equal(memio_read(c->sys, c->fd, c->buf, sizeof c->buf), c->in_len[s]);
        break;
    case P_SENDUDP_READ:
        assert_int_equal(memio_send_udp(c->sys, c->payload, plen, (struct sockaddr *)&to,
                                        sizeof to, NULL), 0);
        assert_int_equal(memio_read(c->sys, c->fd, c->buf, sizeof c->buf),
                         ip_len(c, s) + (c->tap ? MEMIO_ETH_HLEN : 0));
        break;
    case P_WRITE_TAKE:
        assert_int_equal(memio_write(c->sys, c->fd, c->out[s], c->out_len[s]), c->out_len[s]);
        assert_int_equal(memio_tunnel_take(c->t, c->buf, sizeof c->buf), c->out_len[s]);
        break;
    case P_WRITE_RECV:
        assert_int_equal(memio_write(c->sys, c->fd, c->out[s], c->out_len[s]), c->out_len[s]);
        assert_int_equal(memio_read(c->sys, c->rfd, c->buf, sizeof c->buf), plen);
        break;
    }
}

/* Warms path p up, then counts allocations over PACKETS packets of every
 * size; fails naming the path and the count per packet. */
static void check_path(int tap, enum path p)
{
    ctx *c = ctx_new(tap, p);
    for (long i = 0; i < WARMUP; i++)
        one(c, p, (size_t)i % NSIZES);
    atomic_store(&n_alloc, 0);
    atomic_store(&n_free, 0);
    atomic_store(&counting, 1);
    for (long i = 0; i < PACKETS; i++)
        one(c, p, (size_t)i % NSIZES);
    atomic_store(&counting, 0);
    long a = atomic_load(&n_alloc), f = atomic_load(&n_free);
    memio_sys_free(c->sys);
    free(c);
    if (a || f)
        print_error("%s %s: %ld allocations and %ld frees over %d packets "
                    "(%.3f and %.3f per packet) after warm-up\n",
                    tap ? "tap" : "tun", path_name[p], a, f, PACKETS,
                    (double)a / PACKETS, (double)f / PACKETS);
    assert_int_equal(a, 0);
    assert_int_equal(f, 0);
}

static void test_tun_inject_read_allocates_nothing_per_packet(void **state)
{
    check_path(0, P_INJECT_READ);
}

static void test_tun_send_udp_read_allocates_nothing_per_packet(void **state)
{
    check_path(0, P_SENDUDP_READ);
}

static void test_tun_write_take_allocates_nothing_per_packet(void **state)
{
    check_path(0, P_WRITE_TAKE);
}

static void test_tun_write_receive_udp_allocates_nothing_per_packet(void **state)
{
    check_path(0, P_WRITE_RECV);
}

static void test_tap_inject_read_allocates_nothing_per_packet(void **state)
{
    check_path(1, P_INJECT_READ);
}

static void test_tap_send_udp_read_allocates_nothing_per_packet(void **state)
{
    check_path(1, P_SENDUDP_READ);
}

static void test_tap_write_take_allocates_nothing_per_packet(void **state)
{
    check_path(1, P_WRITE_TAKE);
}

static void test_tap_write_receive_udp_allocates_nothing_per_packet(void **state)
{
    check_path(1, P_WRITE_RECV);
}

#endif /* !ALLOC_SANITIZED */

int main(void)
{
#ifdef ALLOC_SANITIZED
    printf("test_alloc: skipped: built with a sanitizer, which replaces malloc\n");
    return 77;
#else
    if (!interposed()) {
        printf("test_alloc: skipped: malloc is not this executable's (valgrind or a "
               "preloaded allocator replaced it)\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tun_inject_read_allocates_nothing_per_packet),
        cmocka_unit_test(test_tun_send_udp_read_allocates_nothing_per_packet),
        cmocka_unit_test(test_tun_write_take_allocates_nothing_per_packet),
        cmocka_unit_test(test_tun_write_receive_udp_allocates_nothing_per_packet),
        cmocka_unit_test(test_tap_inject_read_allocates_nothing_per_packet),
        cmocka_unit_test(test_tap_send_udp_read_allocates_nothing_per_packet),
        cmocka_unit_test(test_tap_write_take_allocates_nothing_per_packet),
        cmocka_unit_test(test_tap_write_receive_udp_allocates_nothing_per_packet),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
#endif
}
