/*
 * test_packet.c — the internet checksum against a plain reference, and the
 * Ethernet, IPv4 and UDP builders and parsers against the kernel's
 * behaviour (cases cited from kernel-tun-semantics.md).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "memio/packet.h"

/* ---- reference checksum: the textbook loop, one big-endian word at a time */

static uint32_t ref_sum(uint32_t sum, const uint8_t *p, size_t len)
{
    size_t i;
    for (i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    return sum;
}

static uint16_t ref_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

static uint16_t ref_checksum(const uint8_t *p, size_t len)
{
    return (uint16_t)~ref_fold(ref_sum(0, p, len));
}

/* Deterministic bytes, so a failure is reproducible. */
static void fill_pseudo_random(uint8_t *p, size_t len, uint32_t seed)
{
    uint32_t x = seed ? seed : 1;
    size_t i;
    for (i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)x;
    }
}

/* ---- packet helpers (using the reference, not the code under test) ---- */

static struct sockaddr_in sin4(const char *addr, uint16_t port)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    assert_int_equal(inet_pton(AF_INET, addr, &sa.sin_addr), 1);
    return sa;
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* Recomputes the IPv4 header checksum after a test edits the header. */
static void fix_ip_checksum(uint8_t *ip)
{
    size_t hlen = (size_t)(ip[0] & 0x0f) * 4;
    put16(ip + 10, 0);
    put16(ip + 10, ref_checksum(ip, hlen));
}

/* Recomputes the UDP checksum over the pseudo-header and the UDP length
 * found in the UDP header. */
static void fix_udp_checksum(uint8_t *ip)
{
    size_t hlen = (size_t)(ip[0] & 0x0f) * 4;
    uint8_t *udp = ip + hlen;
    uint16_t ulen = get16(udp + 4);
    uint32_t sum;
    uint16_t c;

    put16(udp + 6, 0);
    sum = ref_sum(0, ip + 12, 8);   /* source and destination */
    sum += IPPROTO_UDP;
    sum += ulen;
    sum = ref_sum(sum, udp, ulen);
    c = (uint16_t)~ref_fold(sum);
    put16(udp + 6, c ? c : 0xffff);
}

/* The kernel's own datagram (E03): 100 bytes 10.2.0.1:35168 -> 10.2.0.2:4444,
 * id 0x3f74.  The case does not record the payload; 100 'x' bytes reproduce
 * its UDP checksum 0xc8cb. */
static ssize_t build_e03(uint8_t *buf, size_t cap)
{
    struct sockaddr_in src = sin4("10.2.0.1", 35168);
    struct sockaddr_in dst = sin4("10.2.0.2", 4444);
    uint8_t payload[100];
    memset(payload, 'x', sizeof payload);
    return memio_packet_udp4(buf, cap, &src, &dst, 0x3f74, payload, sizeof payload);
}

static void expect_parse_error(const uint8_t *p, size_t len, int err)
{
    memio_udp4_view v;
    errno = 0;
    assert_int_equal(memio_packet_parse_udp4(p, len, &v), -1);
    assert_int_equal(errno, err);
}

/* ---- checksum ---- */

static void test_csum_rfc1071_example_is_220d(void **state)
{
    (void)state;
    /* RFC 1071 section 3's bytes.  Words: 0001 + f203 + f4f5 + f6f7
     * = 0x2ddf0; end-around carry 0xddf0 + 0x2 = 0xddf2; complement
     * 0x220d. */
    static const uint8_t data[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
    uint32_t sum = memio_csum_add(0, data, sizeof data);
    assert_int_equal(ref_fold(sum), 0xddf2);
    assert_int_equal(memio_csum_fold(sum), 0x220d);
    assert_int_equal(memio_inet_checksum(data, sizeof data), 0x220d);
}

static void test_csum_odd_length_pads_high_byte(void **state)
{
    (void)state;
    /* 0x12 alone is the word 0x1200: checksum ~0x1200 = 0xedff. */
    static const uint8_t one[] = { 0x12 };
    /* 0001 + f200 = 0xf201: checksum 0x0dfe. */
    static const uint8_t three[] = { 0x00, 0x01, 0xf2 };
    assert_int_equal(memio_inet_checksum(one, sizeof one), 0xedff);
    assert_int_equal(memio_inet_checksum(three, sizeof three), 0x0dfe);
}

static void test_csum_carry_wraps_around(void **state)
{
    (void)state;
    /* ffff + 0001 = 0x10000, end-around carry 0x0001: checksum 0xfffe. */
    static const uint8_t data[] = { 0xff, 0xff, 0x00, 0x01 };
    /* 8 bytes of ff: 4 x ffff = 0x3fffc -> 0xffff: checksum 0. */
    static const uint8_t ones[8] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    assert_int_equal(memio_inet_checksum(data, sizeof data), 0xfffe);
    assert_int_equal(memio_inet_checksum(ones, sizeof ones), 0x0000);
}

static void test_csum_of_zeros_and_empty_is_ffff(void **state)
{
    (void)state;
    static const uint8_t zeros[9];
    assert_int_equal(memio_inet_checksum(zeros, sizeof zeros), 0xffff);
    assert_int_equal(memio_inet_checksum(zeros, 0), 0xffff);
    assert_int_equal(memio_csum_add(0x1234, zeros, 0), 0x1234);
}

static void test_csum_fold_wraps_and_complements(void **state)
{
    (void)state;
    /* 0x1234 + 0x5678 = 0x68ac: complement 0x9753. */
    assert_int_equal(memio_csum_fold(0x12345678), 0x9753);
    /* 0x0001 + 0xfffe = 0xffff: complement 0. */
    assert_int_equal(memio_csum_fold(0x0001fffe), 0x0000);
    /* 0xffff + 0xffff = 0x1fffe -> 0xffff: complement 0. */
    assert_int_equal(memio_csum_fold(0xffffffff), 0x0000);
    assert_int_equal(memio_csum_fold(0), 0xffff);
}

static void test_csum_add_continues_from_initial_sum(void **state)
{
    (void)state;
    static const uint8_t data[] = { 0x00, 0x01 };
    /* 0x1234 + 0x0001 = 0x1235: complement 0xedca. */
    assert_int_equal(memio_csum_fold(memio_csum_add(0x1234, data, sizeof data)), 0xedca);
    /* An unfolded start: 0x0001ffff folds to 0x0001; + 0x0001 = 0x0002. */
    assert_int_equal(memio_csum_fold(memio_csum_add(0x0001ffff, data, sizeof data)),
                     (uint16_t)~0x0002);
}

static void test_csum_matches_reference_all_lengths_at_every_alignment(void **state)
{
    (void)state;
    uint8_t buf[8 + 200];
    size_t off, len;
    fill_pseudo_random(buf, sizeof buf, 12345);
    for (off = 0; off < 8; off++) {
        for (len = 0; len <= 200; len++) {
            const uint8_t *p = buf + off;
            uint16_t want = ref_checksum(p, len);
            assert_int_equal(memio_csum_fold(memio_csum_add(0, p, len)), want);
            assert_int_equal(memio_inet_checksum(p, len), want);
        }
    }
}

static void test_csum_all_ones_carries_at_every_alignment(void **state)
{
    (void)state;
    /* Every 64-bit addition carries: 65535 bytes of 0xff. */
    static uint8_t buf[8 + 65535];
    size_t off, len;
    memset(buf, 0xff, sizeof buf);
    for (off = 0; off < 8; off++) {
        for (len = 0; len <= 200; len++)
            assert_int_equal(memio_inet_checksum(buf + off, len), ref_checksum(buf + off, len));
        assert_int_equal(memio_inet_checksum(buf + off, 65535), ref_checksum(buf + off, 65535));
        assert_int_equal(memio_inet_checksum(buf + off, 65534), ref_checksum(buf + off, 65534));
    }
}

static void test_csum_large_random_buffer_matches_reference(void **state)
{
    (void)state;
    static uint8_t buf[8 + 65535];
    size_t off;
    fill_pseudo_random(buf, sizeof buf, 777);
    for (off = 0; off < 8; off++) {
        assert_int_equal(memio_inet_checksum(buf + off, 65535), ref_checksum(buf + off, 65535));
        assert_int_equal(memio_inet_checksum(buf + off, 1500), ref_checksum(buf + off, 1500));
    }
}

static void test_csum_chained_equals_one_shot_at_every_split(void **state)
{
    (void)state;
    uint8_t buf[8 + 201];
    size_t off, len, split;
    fill_pseudo_random(buf, sizeof buf, 4242);
    for (off = 0; off < 8; off++) {
        for (len = 200; len <= 201; len++) {
            const uint8_t *p = buf + off;
            uint16_t want = ref_checksum(p, len);
            assert_int_equal(memio_inet_checksum(p, len), want);
            for (split = 0; split <= len; split += 2) {
                uint32_t sum = memio_csum_add(0, p, split);
                sum = memio_csum_add(sum, p + split, len - split);
                assert_int_equal(memio_csum_fold(sum), want);
            }
        }
    }
}

static void test_csum_chained_in_many_pieces_equals_one_shot(void **state)
{
    (void)state;
    uint8_t buf[8 + 200];
    size_t off, piece, i;
    fill_pseudo_random(buf, sizeof buf, 99);
    for (off = 0; off < 8; off++) {
        const uint8_t *p = buf + off;
        for (piece = 2; piece <= 40; piece += 2) {
            uint32_t sum = 0;
            for (i = 0; i < 200; i += piece)
                sum = memio_csum_add(sum, p + i, piece < 200 - i ? piece : 200 - i);
            assert_int_equal(memio_csum_fold(sum), ref_checksum(p, 200));
        }
    }
}

static void test_csum_null_data_is_efault(void **state)
{
    (void)state;
    errno = 0;
    assert_int_equal(memio_csum_add(0x42, NULL, 4), 0x42);
    assert_int_equal(errno, EFAULT);
    /* Nothing to read: no pointer needed. */
    assert_int_equal(memio_csum_add(0x42, NULL, 0), 0x42);
}

/* ---- UDP over IPv4: building ---- */

static void test_udp4_matches_kernel_datagram_e03(void **state)
{
    (void)state;
    /* IP header words: 4500 + 0080 + 3f74 + 4000 + 4011 + 0000 + 0a02 + 0001
     * + 0a02 + 0002 = 0x1190c; end-around 0x190d; complement 0xe6f2.
     * UDP: 35168 = 0x8960, 4444 = 0x115c, length 108 = 0x006c; checksum
     * 0xc8cb as E03 read it. */
    static const uint8_t want[28] = {
        0x45, 0x00, 0x00, 0x80, 0x3f, 0x74, 0x40, 0x00, 0x40, 0x11, 0xe6, 0xf2,
        0x0a, 0x02, 0x00, 0x01, 0x0a, 0x02, 0x00, 0x02,
        0x89, 0x60, 0x11, 0x5c, 0x00, 0x6c, 0xc8, 0xcb,
    };
    uint8_t buf[256];
    size_t i;
    assert_int_equal(build_e03(buf, sizeof buf), 128);
    assert_memory_equal(buf, want, sizeof want);
    for (i = 28; i < 128; i++)
        assert_int_equal(buf[i], 'x');
}

static void test_udp4_ip_header_checksums_to_zero(void **state)
{
    (void)state;
    struct sockaddr_in src = sin4("192.0.2.1", 1), dst = sin4("198.51.100.254", 65535);
    uint8_t buf[28 + 300], payload[300];
    size_t len;
    fill_pseudo_random(payload, sizeof payload, 5);
    for (len = 0; len <= sizeof payload; len += 37) {
        assert_int_equal(memio_packet_udp4(buf, sizeof buf, &src, &dst, (uint16_t)len,
                                           payload, len), (ssize_t)(28 + len));
        assert_int_equal(ref_fold(ref_sum(0, buf, 20)), 0xffff);
        assert_int_equal(memio_inet_checksum(buf, 20), 0);
    }
}

static void test_udp4_udp_checksum_verifies(void **state)
{
    (void)state;
    struct sockaddr_in src = sin4("10.1.0.1", 40000), dst = sin4("10.1.0.2", 5000);
    uint8_t buf[28 + 101], payload[101];
    size_t len;
    fill_pseudo_random(payload, sizeof payload, 6);
    for (len = 0; len <= sizeof payload; len++) {
        uint32_t sum;
        assert_int_equal(memio_packet_udp4(buf, sizeof buf, &src, &dst, 1, payload, len),
                         (ssize_t)(28 + len));
        assert_int_not_equal(get16(buf + 26), 0);
        /* pseudo-header + UDP header + payload, field included: ~0 */
        sum = ref_sum(0, buf + 12, 8) + IPPROTO_UDP + (uint32_t)(8 + len);
        sum = ref_sum(sum, buf + 20, 8 + len);
        assert_int_equal(ref_fold(sum), 0xffff);
    }
}

static void test_udp4_checksum_computing_to_zero_is_sent_as_ffff(void **state)
{
    (void)state;
    struct sockaddr_in src = sin4("10.1.0.1", 40000), dst = sin4("10.1.0.2", 5000);
    uint8_t buf[64], payload[2] = { 0, 0 };
    memio_udp4_view v;
    /* With a zero payload word the checksum is c = ~S.  Sending c as the
     * payload word makes the sum S + ~S = 0xffff, whose complement is 0:
     * RFC 768 says to send that as 0xffff. */
    assert_int_equal(memio_packet_udp4(buf, sizeof buf, &src, &dst, 1, payload, 2), 30);
    put16(payload, get16(buf + 26));
    assert_int_equal(memio_packet_udp4(buf, sizeof buf, &src, &dst, 1, payload, 2), 30);
    assert_int_equal(get16(buf + 26), 0xffff);
    assert_int_equal(memio_packet_parse_udp4(buf, 30, &v), 0);
    assert_int_equal(v.udp_checksum, 0xffff);
}

static void test_udp4_round_trip_parses_same_fields(void **state)
{
    (void)state;
    struct sockaddr_in src = sin4("10.2.0.1", 35168), dst = sin4("10.2.0.2", 4444);
    uint8_t buf[28 + 77], payload[77];
    memio_udp4_view v;
    fill_pseudo_random(payload, sizeof payload, 7);
    assert_int_equal(memio_packet_udp4(buf, sizeof buf, &src, &dst, 0xbeef, payload,
                                       sizeof payload), 28 + 77);
    memset(&v, 0xa5, sizeof v);
    assert_int_equal(memio_packet_parse_udp4(buf, sizeof buf, &v), 0);
    assert_int_equal(v.src.sin_family, AF_INET);
    assert_int_equal(v.src.sin_addr.s_addr, src.sin_addr.s_addr);
    assert_int_equal(v.src.sin_port, src.sin_port);
    assert_int_equal(v.dst.sin_family, AF_INET);
    assert_int_equal(v.dst.sin_addr.s_addr, dst.sin_addr.s_addr);
    assert_int_equal(v.dst.sin_port, dst.sin_port);
    assert_int_equal(v.ttl, 64);
    assert_int_equal(v.ip_id, 0xbeef);
    assert_int_equal(v.frag, 0x4000);
    assert_int_equal(v.udp_checksum, get16(buf + 26));
    assert_ptr_equal(v.payload, buf + 28);
    assert_int_equal(v.payload_len, sizeof payload);
    assert_memory_equal(v.payload, payload, sizeof payload);
}

static void test_udp4_kernel_datagram_e03_parses(void **state)
{
    (void)state;
    uint8_t buf[128];
    memio_udp4_view v;
    assert_int_equal(build_e03(buf, sizeof buf), 128);
    assert_int_equal(memio_packet_parse_udp4(buf, sizeof buf, &v), 0);
    assert_int_equal(ntohs(v.src.sin_port), 35168);
    assert_int_equal(ntohs(v.dst.sin_port), 4444);
    assert_int_equal(ntohl(v.src.sin_addr.s_addr), 0x0a020001);
    assert_int_equal(ntohl(v.dst.sin_addr.s_addr), 0x0a020002);
    assert_int_equal(v.ip_id, 0x3f74);
    assert_int_equal(v.frag, 0x4000);
    assert_int_equal(v.udp_checksum, 0xc8cb);
    assert_int_equal(v.payload_len, 100);
}

static void test_udp4_at_odd_address_round_trips(void **state)
{
    (void)state;
    struct sockaddr_in src = sin4("10.0.0.1", 1234), dst = sin4("10.0.0.2", 4321);
    uint8_t storage[8 + 28 + 33], payload[33];
    memio_udp4_view v;
    size_t off;
    fill_pseudo_random(payload, sizeof payload, 8);
    for (off = 0; off < 8; off++) {
        uint8_t *buf = storage + off;
        assert_int_equal(memio_packet_udp4(buf, 28 + 33, &src, &dst, 9, payload, 33), 61);
        assert_int_equal(memio_packet_parse_udp4(buf, 61, &v), 0);
        assert_int_equal(v.payload_len, 33);
        assert_memory_equal(v.payload, payload, 33);
    }
}

static void test_udp4_empty_payload_may_be_null(void **state)
{
    (void)state;
    struct sockaddr_in src = sin4("10.0.0.1", 1), dst = sin4("10.0.0.2", 2);
    uint8_t buf[28];
    memio_udp4_view v;
    assert_int_equal(memio_packet_udp4(buf, sizeof buf, &src, &dst, 0, NULL, 0), 28);
    assert_int_equal(get16(buf + 2), 28);
    assert_int_equal(get16(buf + 24), 8);
    assert_int_equal(memio_packet_parse_udp4(buf, sizeof buf, &v), 0);
    assert_int_equal(v.payload_len, 0);
}

static void test_udp4_payload_already_in_place(void **state)
{
    (void)state;
    struct sockaddr_in src = sin4("10.0.0.1", 1), dst = sin4("10.0.0.2", 2);
    uint8_t buf[28 + 50], want[50];
    memio_udp4_view v;
    fill_pseudo_random(want, sizeof want, 10);
    memcpy(buf + 28, want, sizeof want);
    assert_int_equal(memio_packet_udp4(buf, sizeof buf, &src, &dst, 0, buf + 28, 50), 78);
    assert_int_equal(memio_packet_parse_udp4(buf, sizeof buf, &v), 0);
    assert_memory_equal(v.payload, want, sizeof want);
}

static void test_udp4_max_payload_65507_fits(void **state)
{
    (void)state;
    static uint8_t buf[65535], payload[65507];
    struct sockaddr_in src = sin4("10.0.0.1", 1), dst = sin4("10.0.0.2", 2);
    memio_udp4_view v;
    fill_pseudo_random(payload, sizeof payload, 11);
    assert_int_equal(memio_packet_udp4(buf, sizeof buf, &src, &dst, 0, payload, 65507), 65535);
    assert_int_equal(get16(buf + 2), 65535);
    assert_int_equal(get16(buf + 24), 65515);
    assert_int_equal(memio_packet_parse_udp4(buf, sizeof buf, &v), 0);
    assert_int_equal(v.payload_len, 65507);
}

static void test_udp4_payload_65508_is_emsgsize(void **state)
{
    (void)state;
    static uint8_t buf[70000], payload[65508];
    struct sockaddr_in src = sin4("10.0.0.1", 1), dst = sin4("10.0.0.2", 2);
    errno = 0;
    assert_int_equal(memio_packet_udp4(buf, sizeof buf, &src, &dst, 0, payload, 65508), -1);
    assert_int_equal(errno, EMSGSIZE);
}

static void test_udp4_short_cap_is_enobufs_and_writes_nothing(void **state)
{
    (void)state;
    struct sockaddr_in src = sin4("10.0.0.1", 1), dst = sin4("10.0.0.2", 2);
    uint8_t buf[64], payload[10] = { 1, 2, 3 };
    size_t i;
    memset(buf, 0xaa, sizeof buf);
    errno = 0;
    assert_int_equal(memio_packet_udp4(buf, 37, &src, &dst, 0, payload, 10), -1);
    assert_int_equal(errno, ENOBUFS);
    for (i = 0; i < sizeof buf; i++)
        assert_int_equal(buf[i], 0xaa);
    errno = 0;
    assert_int_equal(memio_packet_udp4(buf, 27, &src, &dst, 0, NULL, 0), -1);
    assert_int_equal(errno, ENOBUFS);
    assert_int_equal(memio_packet_udp4(buf, 38, &src, &dst, 0, payload, 10), 38);
}

static void test_udp4_null_pointers_are_efault(void **state)
{
    (void)state;
    struct sockaddr_in src = sin4("10.0.0.1", 1), dst = sin4("10.0.0.2", 2);
    uint8_t buf[64], payload[4] = { 0 };
    errno = 0;
    assert_int_equal(memio_packet_udp4(NULL, sizeof buf, &src, &dst, 0, payload, 4), -1);
    assert_int_equal(errno, EFAULT);
    errno = 0;
    assert_int_equal(memio_packet_udp4(buf, sizeof buf, NULL, &dst, 0, payload, 4), -1);
    assert_int_equal(errno, EFAULT);
    errno = 0;
    assert_int_equal(memio_packet_udp4(buf, sizeof buf, &src, NULL, 0, payload, 4), -1);
    assert_int_equal(errno, EFAULT);
    errno = 0;
    assert_int_equal(memio_packet_udp4(buf, sizeof buf, &src, &dst, 0, NULL, 4), -1);
    assert_int_equal(errno, EFAULT);
}

static void test_udp4_non_inet_address_is_eafnosupport(void **state)
{
    (void)state;
    struct sockaddr_in src = sin4("10.0.0.1", 1), dst = sin4("10.0.0.2", 2);
    uint8_t buf[64];
    src.sin_family = AF_INET6;
    errno = 0;
    assert_int_equal(memio_packet_udp4(buf, sizeof buf, &src, &dst, 0, NULL, 0), -1);
    assert_int_equal(errno, EAFNOSUPPORT);
    src.sin_family = AF_INET;
    dst.sin_family = AF_UNSPEC;
    errno = 0;
    assert_int_equal(memio_packet_udp4(buf, sizeof buf, &src, &dst, 0, NULL, 0), -1);
    assert_int_equal(errno, EAFNOSUPPORT);
}

/* ---- UDP over IPv4: parsing, as a kernel socket would accept ---- */

static void test_parse_udp4_zero_udp_checksum_accepted(void **state)
{
    (void)state;
    uint8_t buf[128];
    memio_udp4_view v;
    /* D06: checksum 0 means none was computed. */
    build_e03(buf, sizeof buf);
    put16(buf + 26, 0);
    assert_int_equal(memio_packet_parse_udp4(buf, sizeof buf, &v), 0);
    assert_int_equal(v.udp_checksum, 0);
    assert_int_equal(v.payload_len, 100);
}

static void test_parse_udp4_wrong_ip_checksum_is_ebadmsg(void **state)
{
    (void)state;
    uint8_t buf[128];
    build_e03(buf, sizeof buf);    /* D09 */
    buf[11] ^= 0x01;
    expect_parse_error(buf, sizeof buf, EBADMSG);
}

static void test_parse_udp4_wrong_udp_checksum_is_ebadmsg(void **state)
{
    (void)state;
    uint8_t buf[128];
    build_e03(buf, sizeof buf);    /* D08 */
    buf[27] ^= 0x01;
    expect_parse_error(buf, sizeof buf, EBADMSG);
    /* a corrupted payload byte, checksum as sent */
    build_e03(buf, sizeof buf);
    buf[100] ^= 0x40;
    expect_parse_error(buf, sizeof buf, EBADMSG);
}

static void test_parse_udp4_truncated_header_is_ebadmsg(void **state)
{
    (void)state;
    uint8_t buf[128];
    build_e03(buf, sizeof buf);
    expect_parse_error(buf, 0, EBADMSG);
    expect_parse_error(buf, 1, EBADMSG);
    expect_parse_error(buf, 10, EBADMSG);      /* D15 */
    expect_parse_error(buf, 19, EBADMSG);
    expect_parse_error(buf, 27, EBADMSG);      /* UDP header cut */
}

static void test_parse_udp4_total_length_past_buffer_is_ebadmsg(void **state)
{
    (void)state;
    uint8_t buf[128];
    build_e03(buf, sizeof buf);    /* D16: the packet minus its last 2 bytes */
    expect_parse_error(buf, sizeof buf - 2, EBADMSG);
}

static void test_parse_udp4_trailing_bytes_are_ignored(void **state)
{
    (void)state;
    uint8_t buf[128 + 4];
    memio_udp4_view v;
    build_e03(buf, sizeof buf);    /* D17: 4 junk bytes past total length */
    memset(buf + 128, 0xee, 4);
    assert_int_equal(memio_packet_parse_udp4(buf, sizeof buf, &v), 0);
    assert_int_equal(v.payload_len, 100);
    assert_ptr_equal(v.payload, buf + 28);
}

static void test_parse_udp4_fragment_is_ebadmsg(void **state)
{
    (void)state;
    uint8_t buf[128];
    memio_udp4_view v;
    build_e03(buf, sizeof buf);
    put16(buf + 6, 0x2000);        /* MF, first fragment (E08) */
    fix_ip_checksum(buf);
    expect_parse_error(buf, sizeof buf, EBADMSG);
    put16(buf + 6, 0x00b9);        /* last fragment, offset 1480 */
    fix_ip_checksum(buf);
    expect_parse_error(buf, sizeof buf, EBADMSG);
    put16(buf + 6, 0x0000);        /* no DF: still a whole datagram */
    fix_ip_checksum(buf);
    assert_int_equal(memio_packet_parse_udp4(buf, sizeof buf, &v), 0);
    assert_int_equal(v.frag, 0);
}

static void test_parse_udp4_tcp_protocol_is_eprotonosupport(void **state)
{
    (void)state;
    uint8_t buf[128];
    build_e03(buf, sizeof buf);
    buf[9] = IPPROTO_TCP;
    fix_ip_checksum(buf);
    expect_parse_error(buf, sizeof buf, EPROTONOSUPPORT);
}

static void test_parse_udp4_version_6_is_eprotonosupport(void **state)
{
    (void)state;
    uint8_t buf[128];
    build_e03(buf, sizeof buf);
    buf[0] = 0x65;
    fix_ip_checksum(buf);
    expect_parse_error(buf, sizeof buf, EPROTONOSUPPORT);
    buf[0] = 0x60;
    expect_parse_error(buf, 1, EPROTONOSUPPORT);
}

static void test_parse_udp4_bad_ihl_is_ebadmsg(void **state)
{
    (void)state;
    uint8_t buf[128];
    build_e03(buf, sizeof buf);
    buf[0] = 0x44;                 /* IHL 4: shorter than a header */
    fix_ip_checksum(buf);
    expect_parse_error(buf, sizeof buf, EBADMSG);
    build_e03(buf, sizeof buf);
    buf[0] = 0x4f;                 /* IHL 15: 60 bytes, past a 40-byte buffer */
    expect_parse_error(buf, 40, EBADMSG);
}

static void test_parse_udp4_ihl_4_is_ebadmsg_even_if_all_else_fits(void **state)
{
    (void)state;
    /* A 16-byte "header" whose last four bytes (the destination address)
     * double as UDP ports, followed by a valid UDP length and checksum 0:
     * only the IHL is wrong. */
    uint8_t buf[28] = {
        0x44, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00,
        0x0a, 0x00, 0x00, 0x01,
        0x13, 0x88, 0x13, 0x88, 0x00, 0x0c, 0x00, 0x00,
        'a', 'b', 'c', 'd',
    };
    fix_ip_checksum(buf);
    expect_parse_error(buf, sizeof buf, EBADMSG);
}

static void test_parse_udp4_total_length_below_header_is_ebadmsg(void **state)
{
    (void)state;
    uint8_t buf[128];
    build_e03(buf, sizeof buf);
    put16(buf + 2, 19);
    fix_ip_checksum(buf);
    expect_parse_error(buf, sizeof buf, EBADMSG);
}

static void test_parse_udp4_ip_payload_shorter_than_udp_header_is_ebadmsg(void **state)
{
    (void)state;
    uint8_t buf[128], exact[27];
    build_e03(buf, sizeof buf);
    put16(buf + 2, 27);
    fix_ip_checksum(buf);
    expect_parse_error(buf, sizeof buf, EBADMSG);
    /* Total length = buffer = 27: a UDP header read would run past the end
     * (AddressSanitizer watches). */
    memcpy(exact, buf, sizeof exact);
    expect_parse_error(exact, sizeof exact, EBADMSG);
}

static void test_parse_udp4_udp_length_past_ip_payload_is_ebadmsg(void **state)
{
    (void)state;
    uint8_t buf[128];
    build_e03(buf, sizeof buf);
    put16(buf + 24, 109);          /* IP payload is 108 */
    put16(buf + 26, 0);            /* no checksum: only the length is wrong */
    expect_parse_error(buf, sizeof buf, EBADMSG);
}

static void test_parse_udp4_udp_length_below_8_is_ebadmsg(void **state)
{
    (void)state;
    uint8_t buf[128];
    build_e03(buf, sizeof buf);
    put16(buf + 24, 7);
    put16(buf + 26, 0);
    expect_parse_error(buf, sizeof buf, EBADMSG);
}

static void test_parse_udp4_shorter_udp_length_trims_payload(void **state)
{
    (void)state;
    uint8_t buf[128];
    memio_udp4_view v;
    /* udp_rcv trims the datagram to the UDP length; the checksum covers
     * only those bytes. */
    build_e03(buf, sizeof buf);
    put16(buf + 24, 8 + 60);
    fix_udp_checksum(buf);
    assert_int_equal(memio_packet_parse_udp4(buf, sizeof buf, &v), 0);
    assert_int_equal(v.payload_len, 60);
    assert_ptr_equal(v.payload, buf + 28);
}

static void test_parse_udp4_skips_ip_options(void **state)
{
    (void)state;
    struct sockaddr_in src = sin4("10.0.0.1", 1000), dst = sin4("10.0.0.2", 2000);
    uint8_t plain[28 + 9], buf[32 + 9];
    const uint8_t payload[9] = "memio!!!";
    memio_udp4_view v;
    assert_int_equal(memio_packet_udp4(plain, sizeof plain, &src, &dst, 3, payload, 9), 37);
    /* IHL 6: four NOP option bytes between the IP and UDP headers. */
    memcpy(buf, plain, 20);
    memset(buf + 20, 0x01, 4);
    memcpy(buf + 24, plain + 20, 17);
    buf[0] = 0x46;
    put16(buf + 2, sizeof buf);
    fix_ip_checksum(buf);
    assert_int_equal(memio_packet_parse_udp4(buf, sizeof buf, &v), 0);
    assert_int_equal(ntohs(v.dst.sin_port), 2000);
    assert_ptr_equal(v.payload, buf + 32);
    assert_int_equal(v.payload_len, 9);
    assert_memory_equal(v.payload, payload, 9);
    /* an option byte changed, header checksum not: EBADMSG */
    buf[21] = 0x00;
    expect_parse_error(buf, sizeof buf, EBADMSG);
}

static void test_parse_udp4_null_is_efault(void **state)
{
    (void)state;
    uint8_t buf[128];
    memio_udp4_view v;
    build_e03(buf, sizeof buf);
    errno = 0;
    assert_int_equal(memio_packet_parse_udp4(NULL, sizeof buf, &v), -1);
    assert_int_equal(errno, EFAULT);
    errno = 0;
    assert_int_equal(memio_packet_parse_udp4(buf, sizeof buf, NULL), -1);
    assert_int_equal(errno, EFAULT);
}

/* ---- Ethernet ---- */

static const uint8_t mac_a[MEMIO_ETH_ALEN] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t mac_b[MEMIO_ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static void test_ether_round_trip(void **state)
{
    (void)state;
    uint8_t frame[14 + 28], payload[28];
    const uint8_t *got;
    size_t got_len;
    uint16_t type;
    fill_pseudo_random(payload, sizeof payload, 13);
    assert_int_equal(memio_packet_ether(frame, sizeof frame, mac_b, mac_a, 0x0806,
                                        payload, sizeof payload), 42);
    assert_memory_equal(frame, mac_b, 6);
    assert_memory_equal(frame + 6, mac_a, 6);
    assert_int_equal(frame[12], 0x08);
    assert_int_equal(frame[13], 0x06);
    assert_int_equal(memio_packet_parse_ether(frame, sizeof frame, &type, &got, &got_len), 0);
    assert_int_equal(type, 0x0806);
    assert_ptr_equal(got, frame + 14);
    assert_int_equal(got_len, 28);
    assert_memory_equal(got, payload, sizeof payload);
}

static void test_ether_empty_payload_may_be_null(void **state)
{
    (void)state;
    uint8_t frame[14];
    const uint8_t *got;
    size_t got_len = 99;
    uint16_t type;
    assert_int_equal(memio_packet_ether(frame, sizeof frame, mac_a, mac_b, 0x86dd, NULL, 0), 14);
    assert_int_equal(memio_packet_parse_ether(frame, sizeof frame, &type, &got, &got_len), 0);
    assert_int_equal(type, 0x86dd);
    assert_int_equal(got_len, 0);
}

static void test_parse_ether_13_bytes_is_ebadmsg(void **state)
{
    (void)state;
    uint8_t frame[14] = { 0 };
    const uint8_t *got;
    size_t got_len;
    uint16_t type;
    errno = 0;
    assert_int_equal(memio_packet_parse_ether(frame, 13, &type, &got, &got_len), -1);
    assert_int_equal(errno, EBADMSG);
    errno = 0;
    assert_int_equal(memio_packet_parse_ether(frame, 0, &type, &got, &got_len), -1);
    assert_int_equal(errno, EBADMSG);
}

static void test_parse_ether_null_is_efault(void **state)
{
    (void)state;
    uint8_t frame[14] = { 0 };
    const uint8_t *got;
    size_t got_len;
    uint16_t type;
    errno = 0;
    assert_int_equal(memio_packet_parse_ether(NULL, 14, &type, &got, &got_len), -1);
    assert_int_equal(errno, EFAULT);
    errno = 0;
    assert_int_equal(memio_packet_parse_ether(frame, 14, NULL, &got, &got_len), -1);
    assert_int_equal(errno, EFAULT);
    errno = 0;
    assert_int_equal(memio_packet_parse_ether(frame, 14, &type, NULL, &got_len), -1);
    assert_int_equal(errno, EFAULT);
    errno = 0;
    assert_int_equal(memio_packet_parse_ether(frame, 14, &type, &got, NULL), -1);
    assert_int_equal(errno, EFAULT);
}

static void test_ether_short_cap_is_enobufs(void **state)
{
    (void)state;
    uint8_t frame[64], payload[10] = { 0 };
    errno = 0;
    assert_int_equal(memio_packet_ether(frame, 23, mac_a, mac_b, 0x0800, payload, 10), -1);
    assert_int_equal(errno, ENOBUFS);
    errno = 0;
    assert_int_equal(memio_packet_ether(frame, 13, mac_a, mac_b, 0x0800, NULL, 0), -1);
    assert_int_equal(errno, ENOBUFS);
    assert_int_equal(memio_packet_ether(frame, 24, mac_a, mac_b, 0x0800, payload, 10), 24);
}

static void test_ether_null_pointers_are_efault(void **state)
{
    (void)state;
    uint8_t frame[64], payload[10] = { 0 };
    errno = 0;
    assert_int_equal(memio_packet_ether(NULL, 64, mac_a, mac_b, 0x0800, payload, 10), -1);
    assert_int_equal(errno, EFAULT);
    errno = 0;
    assert_int_equal(memio_packet_ether(frame, 64, NULL, mac_b, 0x0800, payload, 10), -1);
    assert_int_equal(errno, EFAULT);
    errno = 0;
    assert_int_equal(memio_packet_ether(frame, 64, mac_a, NULL, 0x0800, payload, 10), -1);
    assert_int_equal(errno, EFAULT);
    errno = 0;
    assert_int_equal(memio_packet_ether(frame, 64, mac_a, mac_b, 0x0800, NULL, 10), -1);
    assert_int_equal(errno, EFAULT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csum_rfc1071_example_is_220d),
        cmocka_unit_test(test_csum_odd_length_pads_high_byte),
        cmocka_unit_test(test_csum_carry_wraps_around),
        cmocka_unit_test(test_csum_of_zeros_and_empty_is_ffff),
        cmocka_unit_test(test_csum_fold_wraps_and_complements),
        cmocka_unit_test(test_csum_add_continues_from_initial_sum),
        cmocka_unit_test(test_csum_matches_reference_all_lengths_at_every_alignment),
        cmocka_unit_test(test_csum_all_ones_carries_at_every_alignment),
        cmocka_unit_test(test_csum_large_random_buffer_matches_reference),
        cmocka_unit_test(test_csum_chained_equals_one_shot_at_every_split),
        cmocka_unit_test(test_csum_chained_in_many_pieces_equals_one_shot),
        cmocka_unit_test(test_csum_null_data_is_efault),
        cmocka_unit_test(test_udp4_matches_kernel_datagram_e03),
        cmocka_unit_test(test_udp4_ip_header_checksums_to_zero),
        cmocka_unit_test(test_udp4_udp_checksum_verifies),
        cmocka_unit_test(test_udp4_checksum_computing_to_zero_is_sent_as_ffff),
        cmocka_unit_test(test_udp4_round_trip_parses_same_fields),
        cmocka_unit_test(test_udp4_kernel_datagram_e03_parses),
        cmocka_unit_test(test_udp4_at_odd_address_round_trips),
        cmocka_unit_test(test_udp4_empty_payload_may_be_null),
        cmocka_unit_test(test_udp4_payload_already_in_place),
        cmocka_unit_test(test_udp4_max_payload_65507_fits),
        cmocka_unit_test(test_udp4_payload_65508_is_emsgsize),
        cmocka_unit_test(test_udp4_short_cap_is_enobufs_and_writes_nothing),
        cmocka_unit_test(test_udp4_null_pointers_are_efault),
        cmocka_unit_test(test_udp4_non_inet_address_is_eafnosupport),
        cmocka_unit_test(test_parse_udp4_zero_udp_checksum_accepted),
        cmocka_unit_test(test_parse_udp4_wrong_ip_checksum_is_ebadmsg),
        cmocka_unit_test(test_parse_udp4_wrong_udp_checksum_is_ebadmsg),
        cmocka_unit_test(test_parse_udp4_truncated_header_is_ebadmsg),
        cmocka_unit_test(test_parse_udp4_total_length_past_buffer_is_ebadmsg),
        cmocka_unit_test(test_parse_udp4_trailing_bytes_are_ignored),
        cmocka_unit_test(test_parse_udp4_fragment_is_ebadmsg),
        cmocka_unit_test(test_parse_udp4_tcp_protocol_is_eprotonosupport),
        cmocka_unit_test(test_parse_udp4_version_6_is_eprotonosupport),
        cmocka_unit_test(test_parse_udp4_bad_ihl_is_ebadmsg),
        cmocka_unit_test(test_parse_udp4_ihl_4_is_ebadmsg_even_if_all_else_fits),
        cmocka_unit_test(test_parse_udp4_total_length_below_header_is_ebadmsg),
        cmocka_unit_test(test_parse_udp4_ip_payload_shorter_than_udp_header_is_ebadmsg),
        cmocka_unit_test(test_parse_udp4_udp_length_past_ip_payload_is_ebadmsg),
        cmocka_unit_test(test_parse_udp4_udp_length_below_8_is_ebadmsg),
        cmocka_unit_test(test_parse_udp4_shorter_udp_length_trims_payload),
        cmocka_unit_test(test_parse_udp4_skips_ip_options),
        cmocka_unit_test(test_parse_udp4_null_is_efault),
        cmocka_unit_test(test_ether_round_trip),
        cmocka_unit_test(test_ether_empty_payload_may_be_null),
        cmocka_unit_test(test_parse_ether_13_bytes_is_ebadmsg),
        cmocka_unit_test(test_parse_ether_null_is_efault),
        cmocka_unit_test(test_ether_short_cap_is_enobufs),
        cmocka_unit_test(test_ether_null_pointers_are_efault),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
