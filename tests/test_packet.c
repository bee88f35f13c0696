/*
 * test_packet.c — the internet checksum (each implementation) against a
 * plain reference, and the Ethernet, ARP, IPv4, IPv6, UDP and ICMP
 * builders and parsers against the kernel's behaviour (cases cited from
 * kernel-tun-semantics.md).  tests/test_packet_tshark.c checks the same
 * builders against Wireshark's dissectors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "memio/packet.h"
#include "../src/packet_internal.h"

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

/* ====================================================================
 * The complete codec: checksum implementations, IPv6/UDP, ARP, ICMP,
 * the layered parser, ping.
 * ==================================================================== */

static struct sockaddr_in6 sin6(const char *addr, uint16_t port)
{
    struct sockaddr_in6 sa;
    memset(&sa, 0, sizeof sa);
    sa.sin6_family = AF_INET6;
    sa.sin6_port = htons(port);
    assert_int_equal(inet_pton(AF_INET6, addr, &sa.sin6_addr), 1);
    return sa;
}

static struct in_addr a4(const char *addr)
{
    struct in_addr a;
    assert_int_equal(inet_pton(AF_INET, addr, &a), 1);
    return a;
}

static struct in6_addr a6(const char *addr)
{
    struct in6_addr a;
    assert_int_equal(inet_pton(AF_INET6, addr, &a), 1);
    return a;
}

/* The reference checksum of an upper layer over IPv6 (RFC 8200 8.1): the
 * folded sum, 0xffff when the field in l4 is right. */
static uint16_t ref_sum6(const uint8_t *ip6, const uint8_t *l4, size_t len, uint8_t proto)
{
    uint32_t sum = ref_sum(0, ip6 + 8, 32);
    sum += (uint32_t)(len >> 16) + (uint32_t)(len & 0xffff) + proto;
    sum = ref_sum(sum, l4, len);
    return ref_fold(sum);
}

/* Folds one of the host-order implementations' 64-bit sums the way
 * memio_csum_add does, into the big-endian checksum. */
static uint16_t native_sum_checksum(uint64_t s)
{
    uint32_t f;
    s = (s >> 32) + (s & 0xffffffffu);
    s = (s >> 32) + (s & 0xffffffffu);
    f = (uint32_t)((s >> 16) + (s & 0xffff));
    f = (f >> 16) + (f & 0xffff);
    return (uint16_t)~ntohs((uint16_t)f);
}

static uint16_t impl_checksum(uint64_t (*fn)(uint64_t, const void *, size_t), const uint8_t *p,
                              size_t len)
{
    return native_sum_checksum(fn(0, p, len));
}

static void check_impl_against_reference(uint64_t (*fn)(uint64_t, const void *, size_t))
{
    static uint8_t buf[1200 + 64];
    size_t len, off;
    fill_pseudo_random(buf, sizeof buf, 77);
    for (off = 0; off < 33; off++)
        for (len = 0; len <= 1200; len += (len < 300 ? 1 : 7))
            assert_int_equal(impl_checksum(fn, buf + off, len), ref_checksum(buf + off, len));
}

static void test_csum_portable_matches_reference(void **state)
{
    (void)state;
    check_impl_against_reference(packet__csum_portable);
}

static void test_csum_avx2_matches_reference_when_cpu_has_it(void **state)
{
    (void)state;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2"))
        skip();
    check_impl_against_reference(packet__csum_avx2);
#else
    skip();
#endif
}

static bool cpu_has_avx512(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
#else
    return false;
#endif
}

static void test_csum_avx512_matches_reference_when_cpu_has_it(void **state)
{
    (void)state;
    if (!cpu_has_avx512())
        skip();
#if defined(__x86_64__) || defined(__i386__)
    check_impl_against_reference(packet__csum_avx512);
#endif
}

typedef uint64_t (*copy_impl)(uint64_t, void *, const void *, size_t);

/* A checksum-and-copy implementation gives the reference sum, copies every
 * byte, and writes nothing past dst + len (the AVX-512 tail is a masked
 * store), at every start and length up to 1200 bytes. */
static void check_copy_impl_against_reference(copy_impl fn)
{
    static uint8_t src[1200 + 64], dst[1200 + 64 + 64];
    size_t len, off;

    fill_pseudo_random(src, sizeof src, 78);
    for (off = 0; off < 33; off++) {
        for (len = 0; len <= 1200; len += (len < 300 ? 1 : 7)) {
            memset(dst, 0xa5, sizeof dst);
            assert_int_equal(native_sum_checksum(fn(0, dst + off, src + off, len)),
                             ref_checksum(src + off, len));
            if (len)
                assert_memory_equal(dst + off, src + off, len);
            assert_int_equal(dst[off + len], 0xa5);
            assert_int_equal(dst[off + len + 63], 0xa5);
            if (off)
                assert_int_equal(dst[off - 1], 0xa5);
        }
    }
}

static void test_csum_copy_portable_matches_reference(void **state)
{
    (void)state;
    check_copy_impl_against_reference(packet__csum_copy_portable);
}

static void test_csum_copy_avx2_matches_reference_when_cpu_has_it(void **state)
{
    (void)state;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2"))
        skip();
    check_copy_impl_against_reference(packet__csum_copy_avx2);
#else
    skip();
#endif
}

static void test_csum_copy_avx512_matches_reference_when_cpu_has_it(void **state)
{
    (void)state;
    if (!cpu_has_avx512())
        skip();
#if defined(__x86_64__) || defined(__i386__)
    check_copy_impl_against_reference(packet__csum_copy_avx512);
#endif
}

/* The reference loop with a 64-bit sum, for buffers past 128 KiB. */
static uint16_t big_ref_checksum(const uint8_t *p, size_t len)
{
    uint64_t sum = 0;
    size_t i;
    for (i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* All-ones data makes every lane carry: past the AVX2 block (1 MiB) too. */
static void test_csum_large_all_ones_and_random_match_reference(void **state)
{
    (void)state;
    size_t n = (3u << 20) + 13, len;
    uint8_t *buf = malloc(n);
    assert_non_null(buf);
    memset(buf, 0xff, n);
    for (len = (1u << 20) - 40; len < n; len += (1u << 20) / 3 + 5) {
        assert_int_equal(memio_inet_checksum(buf + 1, len - 1), big_ref_checksum(buf + 1, len - 1));
        assert_int_equal(impl_checksum(packet__csum_portable, buf, len), big_ref_checksum(buf, len));
    }
    fill_pseudo_random(buf, n, 99);
    assert_int_equal(memio_inet_checksum(buf, n), big_ref_checksum(buf, n));
    assert_int_equal(memio_inet_checksum(buf + 3, n - 3), big_ref_checksum(buf + 3, n - 3));
    free(buf);
}

/* memio_csum_add uses the best the CPU has. */
static void test_csum_impl_is_the_best_the_cpu_has(void **state)
{
    (void)state;
    const char *n = packet__csum_impl_name();
    const char *force = getenv("MEMIO_CSUM");
    if (force)
        skip(); /* MEMIO_CSUM caps the choice */
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (cpu_has_avx512())
        assert_string_equal(n, "avx512");
    else if (__builtin_cpu_supports("avx2"))
        assert_string_equal(n, "avx2");
    else
        assert_string_equal(n, "portable");
#else
    assert_string_equal(n, "portable");
#endif
}

static void test_csum_pseudo6_matches_reference(void **state)
{
    (void)state;
    uint8_t ip[40] = {0};
    struct in6_addr s = a6("fd00::1"), d = a6("2001:db8::ffff:2");
    uint32_t acc;
    uint32_t sum;
    memcpy(ip + 8, &s, 16);
    memcpy(ip + 24, &d, 16);
    acc = memio_csum_pseudo6(&s, &d, IPPROTO_UDP, 0x12345);
    sum = ref_sum(0, ip + 8, 32) + 0x1 + 0x2345 + IPPROTO_UDP;
    assert_int_equal(memio_csum_fold(acc), (uint16_t)~ref_fold(sum));
    acc = memio_csum_pseudo4(a4("10.0.0.1"), a4("10.0.0.2"), IPPROTO_UDP, 9);
    sum = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + IPPROTO_UDP + 9;
    assert_int_equal(memio_csum_fold(acc), (uint16_t)~ref_fold(sum));
}

/* ---- IPv6 / UDP ---- */

static void test_udp6_is_what_the_kernel_sends(void **state)
{
    (void)state;
    struct sockaddr_in6 src = sin6("fd00::1", 35168), dst = sin6("fd00::2", 5000);
    uint8_t buf[48 + 101], payload[101];
    size_t len;
    fill_pseudo_random(payload, sizeof payload, 8);
    for (len = 0; len <= sizeof payload; len++) {
        assert_int_equal(memio_packet_udp6(buf, sizeof buf, &src, &dst, payload, len),
                         (ssize_t)(48 + len));
        assert_int_equal(buf[0], 0x60); /* version 6, class 0 */
        assert_int_equal(buf[1] | buf[2] | buf[3], 0); /* flow label 0 */
        assert_int_equal(get16(buf + 4), 8 + len);
        assert_int_equal(buf[6], IPPROTO_UDP);
        assert_int_equal(buf[7], 64);
        assert_memory_equal(buf + 8, &src.sin6_addr, 16);
        assert_memory_equal(buf + 24, &dst.sin6_addr, 16);
        assert_int_equal(get16(buf + 40), 35168);
        assert_int_equal(get16(buf + 42), 5000);
        assert_int_equal(get16(buf + 44), 8 + len);
        assert_int_not_equal(get16(buf + 46), 0);
        assert_int_equal(ref_sum6(buf, buf + 40, 8 + len, IPPROTO_UDP), 0xffff);
        assert_memory_equal(buf + 48, payload, len);
    }
}

static void test_udp6_checksum_computing_to_zero_is_sent_as_ffff(void **state)
{
    (void)state;
    struct sockaddr_in6 src = sin6("fd00::1", 40000), dst = sin6("fd00::2", 5000);
    uint8_t buf[64], payload[2] = {0, 0};
    memio_udp6_view v;
    assert_int_equal(memio_packet_udp6(buf, sizeof buf, &src, &dst, payload, 2), 50);
    put16(payload, get16(buf + 46));
    assert_int_equal(memio_packet_udp6(buf, sizeof buf, &src, &dst, payload, 2), 50);
    assert_int_equal(get16(buf + 46), 0xffff);
    assert_int_equal(memio_packet_parse_udp6(buf, 50, &v), 0);
    assert_int_equal(v.udp_checksum, 0xffff);
}

static void test_udp6_errors(void **state)
{
    (void)state;
    struct sockaddr_in6 src = sin6("fd00::1", 1), dst = sin6("fd00::2", 2);
    struct sockaddr_in6 bad = dst;
    static uint8_t big[48 + 65528];
    uint8_t buf[64];
    bad.sin6_family = AF_INET;
    memset(buf, 0xaa, sizeof buf);
    errno = 0;
    assert_int_equal(memio_packet_udp6(buf, 47 + 5, &src, &dst, "hello", 5), -1);
    assert_int_equal(errno, ENOBUFS);
    assert_int_equal(buf[0], 0xaa);
    assert_int_equal(memio_packet_udp6(NULL, 64, &src, &dst, "", 0), -1);
    assert_int_equal(errno, EFAULT);
    assert_int_equal(memio_packet_udp6(buf, 64, &src, &dst, NULL, 1), -1);
    assert_int_equal(errno, EFAULT);
    assert_int_equal(memio_packet_udp6(buf, 64, &src, &bad, "", 0), -1);
    assert_int_equal(errno, EAFNOSUPPORT);
    assert_int_equal(memio_packet_udp6(big, sizeof big, &src, &dst, big + 48, 65528), -1);
    assert_int_equal(errno, EMSGSIZE);
    assert_int_equal(memio_packet_udp6(big, sizeof big, &src, &dst, big + 48, 65527),
                     48 + 65527);
}

static void test_parse_udp6_round_trip(void **state)
{
    (void)state;
    struct sockaddr_in6 src = sin6("fd00::2", 5000), dst = sin6("fd00::1", 4444);
    uint8_t buf[128];
    memio_udp6_view v;
    assert_int_equal(memio_packet_udp6(buf, sizeof buf, &src, &dst, "sixsix", 6), 54);
    /* trailing link padding is ignored */
    assert_int_equal(memio_packet_parse_udp6(buf, 60, &v), 0);
    assert_int_equal(v.src.sin6_family, AF_INET6);
    assert_memory_equal(&v.src.sin6_addr, &src.sin6_addr, 16);
    assert_memory_equal(&v.dst.sin6_addr, &dst.sin6_addr, 16);
    assert_int_equal(ntohs(v.src.sin6_port), 5000);
    assert_int_equal(ntohs(v.dst.sin6_port), 4444);
    assert_int_equal(v.hop_limit, 64);
    assert_int_equal(v.payload_len, 6);
    assert_ptr_equal(v.payload, buf + 48);
    assert_memory_equal(v.payload, "sixsix", 6);
}

static void expect_udp6_verdict(const uint8_t *p, size_t len, bool verify,
                                enum packet_udp6_verdict want)
{
    memio_udp6_view v;
    assert_int_equal(packet__udp6_check(p, len, verify, &v), want);
}

/* D32: IPv6 requires a UDP checksum; zero is dropped, even when partial. */
static void test_parse_udp6_zero_checksum_is_rejected_d32(void **state)
{
    (void)state;
    struct sockaddr_in6 src = sin6("fd00::2", 5000), dst = sin6("fd00::1", 4444);
    uint8_t buf[128];
    memio_udp6_view v;
    assert_int_equal(memio_packet_udp6(buf, sizeof buf, &src, &dst, "sixsix", 6), 54);
    put16(buf + 46, 0);
    errno = 0;
    assert_int_equal(memio_packet_parse_udp6(buf, 54, &v), -1);
    assert_int_equal(errno, EBADMSG);
    expect_udp6_verdict(buf, 54, true, U6_UDP_CSUM_ZERO);
    expect_udp6_verdict(buf, 54, false, U6_UDP_CSUM_ZERO);
}

/* D33 */
static void test_parse_udp6_wrong_checksum_is_rejected_d33(void **state)
{
    (void)state;
    struct sockaddr_in6 src = sin6("fd00::2", 5000), dst = sin6("fd00::1", 4444);
    uint8_t buf[128];
    memio_udp6_view v;
    assert_int_equal(memio_packet_udp6(buf, sizeof buf, &src, &dst, "sixsix", 6), 54);
    buf[50] ^= 1;
    errno = 0;
    assert_int_equal(memio_packet_parse_udp6(buf, 54, &v), -1);
    assert_int_equal(errno, EBADMSG);
    expect_udp6_verdict(buf, 54, true, U6_UDP_CHECKSUM);
    expect_udp6_verdict(buf, 54, false, U6_OK); /* CHECKSUM_PARTIAL is trusted */
}

static void test_parse_udp6_lengths_and_protocols(void **state)
{
    (void)state;
    struct sockaddr_in6 src = sin6("fd00::2", 5000), dst = sin6("fd00::1", 4444);
    uint8_t buf[128], ip4[64];
    memio_udp6_view v;
    struct sockaddr_in s4 = sin4("10.0.0.1", 1), d4 = sin4("10.0.0.2", 2);
    assert_int_equal(memio_packet_udp6(buf, sizeof buf, &src, &dst, "sixsix", 6), 54);
    expect_udp6_verdict(buf, 53, true, U6_IP_HEADER); /* payload length past buffer */
    expect_udp6_verdict(buf, 39, true, U6_IP_HEADER);
    expect_udp6_verdict(buf, 0, true, U6_IP_HEADER);
    /* UDP length 0: the rest of the payload (the kernel's jumbogram reading);
     * the checksum covers the field as sent */
    put16(buf + 44, 0);
    put16(buf + 46, 0);
    put16(buf + 46, (uint16_t)~ref_sum6(buf, buf + 40, 14, IPPROTO_UDP));
    expect_udp6_verdict(buf, 54, true, U6_OK);
    put16(buf + 44, 7);
    expect_udp6_verdict(buf, 54, true, U6_UDP_LENGTH);
    put16(buf + 44, 15);
    expect_udp6_verdict(buf, 54, true, U6_UDP_LENGTH);
    put16(buf + 44, 14);
    buf[6] = IPPROTO_TCP;
    expect_udp6_verdict(buf, 54, true, U6_NOT_UDP);
    errno = 0;
    assert_int_equal(memio_packet_parse_udp6(buf, 54, &v), -1);
    assert_int_equal(errno, EPROTONOSUPPORT);
    assert_int_equal(memio_packet_udp4(ip4, sizeof ip4, &s4, &d4, 1, "x", 1), 29);
    expect_udp6_verdict(ip4, 29, true, U6_NOT_IPV6);
    assert_int_equal(memio_packet_parse_udp6(NULL, 54, &v), -1);
    assert_int_equal(errno, EFAULT);
}

/* Builds fd00::2:5000 -> fd00::1:4444 "payload" behind the given
 * extension headers (exts, elen bytes; the first byte of each chain link
 * is patched by the caller); first is the fixed header's next header. */
static size_t build_udp6_with_ext(uint8_t *buf, uint8_t first, const uint8_t *exts, size_t elen)
{
    struct sockaddr_in6 src = sin6("fd00::2", 5000), dst = sin6("fd00::1", 4444);
    uint8_t tmp[256];
    ssize_t n = memio_packet_udp6(tmp, sizeof tmp, &src, &dst, "payload", 7);
    assert_int_equal(n, 55);
    memcpy(buf, tmp, 40);
    memcpy(buf + 40, exts, elen);
    memcpy(buf + 40 + elen, tmp + 40, 15);
    buf[6] = first;
    put16(buf + 4, (uint16_t)(elen + 15));
    return 55 + elen;
}

static void test_parse_udp6_walks_extension_headers(void **state)
{
    (void)state;
    /* hop-by-hop (8 bytes of PadN) -> destination options (16 bytes) -> UDP */
    uint8_t ext[24] = {IPPROTO_DSTOPTS, 0, 1, 4, 0, 0, 0, 0,
                       IPPROTO_UDP, 1, 1, 12, 0};
    uint8_t buf[256];
    size_t n = build_udp6_with_ext(buf, IPPROTO_HOPOPTS, ext, sizeof ext);
    memio_udp6_view v;
    memio_packet pk;
    assert_int_equal(memio_packet_parse_udp6(buf, n, &v), 0);
    assert_int_equal(v.payload_len, 7);
    assert_memory_equal(v.payload, "payload", 7);
    assert_int_equal(memio_packet_parse(buf, n, MEMIO_LINK_IP, &pk), 0);
    assert_true(pk.layers & MEMIO_LAYER_IPV6_EXT);
    assert_int_equal(pk.ip6.ext_len, 24);
    assert_int_equal(pk.ip6.next_header, IPPROTO_HOPOPTS);
    assert_int_equal(pk.proto, IPPROTO_UDP);
    assert_int_equal(pk.udp.dport, 4444);
    /* an extension header past the payload */
    assert_int_equal(memio_packet_parse(buf, 40 + 20, MEMIO_LINK_IP, &pk), -1);
    assert_int_equal(pk.err, MEMIO_PKT_ERR_TRUNCATED);
    /* (the payload length still says 79: so that is an IPv6 truncation) */
    assert_int_equal(pk.err_layer, MEMIO_LAYER_IPV6);
    put16(buf + 4, 20);
    assert_int_equal(memio_packet_parse(buf, 60, MEMIO_LINK_IP, &pk), -1);
    assert_int_equal(pk.err, MEMIO_PKT_ERR_TRUNCATED);
    assert_int_equal(pk.err_layer, MEMIO_LAYER_IPV6_EXT);
    assert_string_equal(pk.err_reason, "extension header past payload");
}

static void test_parse_udp6_hop_by_hop_not_first_is_malformed(void **state)
{
    (void)state;
    uint8_t ext[16] = {IPPROTO_HOPOPTS, 0, 1, 4, 0, 0, 0, 0, IPPROTO_UDP, 0, 1, 4, 0};
    uint8_t buf[256];
    size_t n = build_udp6_with_ext(buf, IPPROTO_DSTOPTS, ext, sizeof ext);
    memio_packet pk;
    expect_udp6_verdict(buf, n, true, U6_EXT_HEADER);
    assert_int_equal(memio_packet_parse(buf, n, MEMIO_LINK_IP, &pk), -1);
    assert_int_equal(pk.err, MEMIO_PKT_ERR_FORMAT);
    assert_int_equal(pk.err_layer, MEMIO_LAYER_IPV6_EXT);
    assert_string_equal(pk.err_reason, "hop-by-hop header not first");
}

static void test_parse_udp6_fragment_is_reported(void **state)
{
    (void)state;
    /* fragment header: next UDP, offset 0, M set, id 0x01020304 */
    uint8_t ext[8] = {IPPROTO_UDP, 0, 0x00, 0x01, 1, 2, 3, 4};
    uint8_t buf[256];
    size_t n = build_udp6_with_ext(buf, IPPROTO_FRAGMENT, ext, sizeof ext);
    memio_packet pk;
    expect_udp6_verdict(buf, n, true, U6_FRAGMENT);
    assert_int_equal(memio_packet_parse(buf, n, MEMIO_LINK_IP, &pk), 0);
    assert_true(pk.layers & MEMIO_LAYER_FRAGMENT);
    assert_false(pk.layers & MEMIO_LAYER_UDP);
    assert_int_equal(pk.frag.id, 0x01020304);
    assert_int_equal(pk.frag.offset, 0);
    assert_int_equal(pk.frag.more, 1);
    assert_int_equal(pk.proto, IPPROTO_UDP);
    assert_int_equal(pk.payload_len, 15);
    /* offset 185 * 8, no M */
    put16(buf + 42, 185 << 3);
    assert_int_equal(memio_packet_parse(buf, n, MEMIO_LINK_IP, &pk), 0);
    assert_int_equal(pk.frag.offset, 1480);
    assert_int_equal(pk.frag.more, 0);
    /* an atomic fragment (offset 0, no M) is the whole packet (RFC 6946) */
    put16(buf + 42, 0);
    expect_udp6_verdict(buf, n, true, U6_OK);
    assert_int_equal(memio_packet_parse(buf, n, MEMIO_LINK_IP, &pk), 0);
    assert_true(pk.layers & MEMIO_LAYER_UDP);
    assert_false(pk.layers & MEMIO_LAYER_FRAGMENT);
}

/* ---- ARP and Ethernet ---- */

/* G05b: the kernel's ARP request, byte for byte. */
static const uint8_t g05b[42] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7a, 0xb7, 0x63, 0xcd, 0x2d, 0x94, 0x08, 0x06,
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x7a, 0xb7, 0x63, 0xcd, 0x2d, 0x94,
    0x0a, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x03, 0x00, 0x03,
};
static const uint8_t g05_mac[6] = {0x7a, 0xb7, 0x63, 0xcd, 0x2d, 0x94};
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static void test_arp_request_matches_kernel_g05b(void **state)
{
    (void)state;
    uint8_t buf[64];
    assert_int_equal(memio_packet_arp(buf + 14, sizeof buf - 14, 1 /* ARPOP_REQUEST */,
                                      g05_mac, a4("10.3.0.1"), NULL, a4("10.3.0.3")), 28);
    assert_int_equal(memio_packet_ether(buf, sizeof buf, bcast, g05_mac, 0x0806, buf + 14, 28),
                     42);
    assert_memory_equal(buf, g05b, sizeof g05b);
}

static void test_parse_arp_request_and_reply(void **state)
{
    (void)state;
    static const uint8_t peer[6] = {2, 0, 0, 0, 0, 3};
    uint8_t buf[60] = {0};
    memio_packet pk;
    assert_int_equal(memio_packet_parse(g05b, sizeof g05b, MEMIO_LINK_ETHER, &pk), 0);
    assert_int_equal(pk.layers, MEMIO_LAYER_ETHER | MEMIO_LAYER_ARP);
    assert_int_equal(pk.eth.type, 0x0806);
    assert_memory_equal(pk.eth.dst, bcast, 6);
    assert_int_equal(pk.arp.op, 1);
    assert_memory_equal(pk.arp.sha, g05_mac, 6);
    assert_int_equal(pk.arp.spa.s_addr, a4("10.3.0.1").s_addr);
    assert_int_equal(pk.arp.tpa.s_addr, a4("10.3.0.3").s_addr);
    /* G06: the reply, padded to 60 bytes as a NIC would */
    assert_int_equal(memio_packet_arp(buf + 14, 46, 2, peer, a4("10.3.0.3"), g05_mac,
                                      a4("10.3.0.1")), 28);
    assert_int_equal(memio_packet_ether(buf, 60, g05_mac, peer, 0x0806, buf + 14, 28), 42);
    assert_int_equal(memio_packet_parse(buf, 60, MEMIO_LINK_ETHER, &pk), 0);
    assert_int_equal(pk.arp.op, 2);
    assert_memory_equal(pk.arp.tha, g05_mac, 6);
    assert_memory_equal(pk.arp.sha, peer, 6);
    /* another hardware type */
    buf[15] = 6;
    assert_int_equal(memio_packet_parse(buf, 60, MEMIO_LINK_ETHER, &pk), -1);
    assert_int_equal(pk.err, MEMIO_PKT_ERR_FORMAT);
    assert_int_equal(pk.err_layer, MEMIO_LAYER_ARP);
    assert_int_equal(memio_packet_arp(buf, 27, 1, peer, a4("1.2.3.4"), NULL, a4("1.2.3.5")), -1);
    assert_int_equal(errno, ENOBUFS);
}

static void test_vlan_tag_is_recognised(void **state)
{
    (void)state;
    static const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
    struct sockaddr_in s = sin4("10.0.0.1", 1000), d = sin4("10.0.0.2", 2000);
    uint8_t buf[128];
    memio_packet pk;
    ssize_t n = memio_packet_udp4(buf + 18, sizeof buf - 18, &s, &d, 7, "tagged", 6);
    assert_int_equal(n, 34);
    assert_int_equal(memio_packet_ether_vlan(buf, sizeof buf, bcast, mac, 0x2000 | 42, 0x0800,
                                             buf + 18, (size_t)n), 52);
    assert_int_equal(get16(buf + 12), 0x8100);
    assert_int_equal(memio_packet_parse(buf, 52, MEMIO_LINK_ETHER, &pk), 0);
    assert_int_equal(pk.layers, MEMIO_LAYER_ETHER | MEMIO_LAYER_VLAN | MEMIO_LAYER_IPV4 |
                                    MEMIO_LAYER_UDP);
    assert_int_equal(pk.eth.vlan_tci, 0x2000 | 42);
    assert_int_equal(pk.eth.type, 0x0800);
    assert_int_equal(pk.eth.hlen, 18);
    assert_int_equal(pk.udp.sport, 1000);
    assert_memory_equal(pk.payload, "tagged", 6);
    assert_int_equal(memio_packet_parse(buf, 17, MEMIO_LINK_ETHER, &pk), -1);
    assert_int_equal(pk.err_layer, MEMIO_LAYER_VLAN);
}

static void test_parse_unknown_ethertype_ends_the_walk(void **state)
{
    (void)state;
    static const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
    uint8_t buf[32];
    memio_packet pk;
    assert_int_equal(memio_packet_ether(buf, sizeof buf, bcast, mac, 0x88cc, "lldp", 4), 18);
    assert_int_equal(memio_packet_parse(buf, 18, MEMIO_LINK_ETHER, &pk), 0);
    assert_int_equal(pk.layers, MEMIO_LAYER_ETHER);
    assert_int_equal(pk.eth.type, 0x88cc);
    assert_ptr_equal(pk.payload, buf + 14);
    assert_int_equal(pk.payload_len, 4);
    assert_int_equal(pk.err, MEMIO_PKT_OK);
    assert_string_equal(pk.err_reason, "");
}

/* ---- the layered parser on IPv4 ---- */

static void test_parse_ipv4_udp_fields(void **state)
{
    (void)state;
    uint8_t buf[256];
    memio_packet pk;
    assert_int_equal(build_e03(buf, sizeof buf), 128);
    assert_int_equal(memio_packet_parse(buf, 128, MEMIO_LINK_IP, &pk), 0);
    assert_int_equal(pk.layers, MEMIO_LAYER_IPV4 | MEMIO_LAYER_UDP);
    assert_int_equal(pk.ip4.src.s_addr, a4("10.2.0.1").s_addr);
    assert_int_equal(pk.ip4.dst.s_addr, a4("10.2.0.2").s_addr);
    assert_int_equal(pk.ip4.ttl, 64);
    assert_int_equal(pk.ip4.id, 0x3f74);
    assert_int_equal(pk.ip4.frag, 0x4000);
    assert_int_equal(pk.ip4.total_len, 128);
    assert_int_equal(pk.ip4.hlen, 20);
    assert_int_equal(pk.proto, IPPROTO_UDP);
    assert_int_equal(pk.udp.sport, 35168);
    assert_int_equal(pk.udp.dport, 4444);
    assert_int_equal(pk.udp.len, 108);
    assert_int_equal(pk.udp.checksum, 0xc8cb);
    assert_ptr_equal(pk.payload, buf + 28);
    assert_int_equal(pk.payload_len, 100);
}

static void expect_malformed(const uint8_t *p, size_t len, int link, memio_pkt_err err,
                             memio_pkt_layer layer, const char *reason)
{
    memio_packet pk;
    errno = 0;
    assert_int_equal(memio_packet_parse(p, len, link, &pk), -1);
    assert_int_equal(errno, EBADMSG);
    assert_int_equal(pk.err, err);
    assert_int_equal(pk.err_layer, layer);
    if (reason)
        assert_string_equal(pk.err_reason, reason);
}

static void test_parse_ipv4_says_which_layer_and_why(void **state)
{
    (void)state;
    uint8_t buf[256];
    assert_int_equal(build_e03(buf, sizeof buf), 128);
    expect_malformed(buf, 19, MEMIO_LINK_IP, MEMIO_PKT_ERR_TRUNCATED, MEMIO_LAYER_IPV4,
                     "header longer than buffer");
    expect_malformed(buf, 127, MEMIO_LINK_IP, MEMIO_PKT_ERR_TRUNCATED, MEMIO_LAYER_IPV4,
                     "total length past buffer");
    expect_malformed(buf, 0, MEMIO_LINK_IP, MEMIO_PKT_ERR_TRUNCATED, MEMIO_LAYER_NONE, NULL);
    buf[28] ^= 0x40; /* D08 */
    expect_malformed(buf, 128, MEMIO_LINK_IP, MEMIO_PKT_ERR_CHECKSUM, MEMIO_LAYER_UDP,
                     "checksum wrong");
    buf[28] ^= 0x40;
    buf[8] = 63; /* D09: TTL changed, checksum not */
    expect_malformed(buf, 128, MEMIO_LINK_IP, MEMIO_PKT_ERR_CHECKSUM, MEMIO_LAYER_IPV4,
                     "header checksum wrong");
    buf[8] = 64;
    buf[0] = 0x44;
    fix_ip_checksum(buf);
    expect_malformed(buf, 128, MEMIO_LINK_IP, MEMIO_PKT_ERR_LENGTH, MEMIO_LAYER_IPV4,
                     "IHL below 5");
    buf[0] = 0x55;
    expect_malformed(buf, 128, MEMIO_LINK_IP, MEMIO_PKT_ERR_VERSION, MEMIO_LAYER_NONE, NULL);
    buf[0] = 0x45;
    put16(buf + 24, 7);
    fix_ip_checksum(buf);
    expect_malformed(buf, 128, MEMIO_LINK_IP, MEMIO_PKT_ERR_LENGTH, MEMIO_LAYER_UDP,
                     "length below 8");
    put16(buf + 24, 109);
    expect_malformed(buf, 128, MEMIO_LINK_IP, MEMIO_PKT_ERR_TRUNCATED, MEMIO_LAYER_UDP,
                     "length past IP payload");
    /* an IPv6 ethertype carrying version 4 */
    {
        static const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
        uint8_t f[200];
        put16(buf + 24, 108);
        assert_int_equal(memio_packet_ether(f, sizeof f, bcast, mac, 0x86dd, buf, 128), 142);
        expect_malformed(f, 142, MEMIO_LINK_ETHER, MEMIO_PKT_ERR_VERSION, MEMIO_LAYER_IPV6,
                         "version not 6");
        expect_malformed(f, 13, MEMIO_LINK_ETHER, MEMIO_PKT_ERR_TRUNCATED, MEMIO_LAYER_ETHER,
                         NULL);
    }
}

static void test_parse_ipv4_zero_udp_checksum_accepted_d06(void **state)
{
    (void)state;
    uint8_t buf[256];
    memio_packet pk;
    assert_int_equal(build_e03(buf, sizeof buf), 128);
    put16(buf + 26, 0);
    assert_int_equal(memio_packet_parse(buf, 128, MEMIO_LINK_IP, &pk), 0);
    assert_int_equal(pk.udp.checksum, 0);
    assert_int_equal(pk.payload_len, 100);
}

static void test_parse_ipv4_fragment_is_reported(void **state)
{
    (void)state;
    uint8_t buf[256];
    memio_packet pk;
    assert_int_equal(build_e03(buf, sizeof buf), 128);
    put16(buf + 6, 0x2000 | 185); /* MF, offset 1480 */
    fix_ip_checksum(buf);
    assert_int_equal(memio_packet_parse(buf, 128, MEMIO_LINK_IP, &pk), 0);
    assert_int_equal(pk.layers, MEMIO_LAYER_IPV4 | MEMIO_LAYER_FRAGMENT);
    assert_int_equal(pk.frag.offset, 1480);
    assert_int_equal(pk.frag.more, 1);
    assert_int_equal(pk.frag.id, 0x3f74);
    assert_ptr_equal(pk.payload, buf + 20);
    assert_int_equal(pk.payload_len, 108);
}

static void test_parse_ipv4_options_are_skipped(void **state)
{
    (void)state;
    uint8_t buf[256], opt[256];
    memio_packet pk;
    assert_int_equal(build_e03(buf, sizeof buf), 128);
    /* 4 bytes of options (NOP x3, EOL) between header and UDP */
    memcpy(opt, buf, 20);
    memcpy(opt + 20, "\x01\x01\x01\x00", 4);
    memcpy(opt + 24, buf + 20, 108);
    opt[0] = 0x46;
    put16(opt + 2, 132);
    fix_ip_checksum(opt);
    assert_int_equal(memio_packet_parse(opt, 132, MEMIO_LINK_IP, &pk), 0);
    assert_int_equal(pk.ip4.hlen, 24);
    assert_int_equal(pk.udp.checksum, 0xc8cb);
    assert_int_equal(pk.payload_len, 100);
}

/* ---- ICMP ---- */

static void test_icmp4_echo_round_trip(void **state)
{
    (void)state;
    uint8_t buf[128];
    memio_packet pk;
    ssize_t n = memio_packet_icmp4_echo(buf, sizeof buf, a4("10.1.0.2"), a4("10.1.0.1"), 8,
                                        0x1234, 7, "pingdata", 8);
    assert_int_equal(n, 36);
    assert_int_equal(get16(buf + 6), 0); /* no DF, as D24's reply */
    assert_int_equal(buf[8], 64);
    assert_int_equal(buf[9], IPPROTO_ICMP);
    assert_int_equal(ref_fold(ref_sum(0, buf + 20, 16)), 0xffff);
    assert_int_equal(memio_packet_parse(buf, 36, MEMIO_LINK_IP, &pk), 0);
    assert_int_equal(pk.layers, MEMIO_LAYER_IPV4 | MEMIO_LAYER_ICMP4);
    assert_int_equal(pk.icmp.type, 8);
    assert_int_equal(pk.icmp.id, 0x1234);
    assert_int_equal(pk.icmp.seq, 7);
    assert_memory_equal(pk.payload, "pingdata", 8);
    buf[30] ^= 1;
    expect_malformed(buf, 36, MEMIO_LINK_IP, MEMIO_PKT_ERR_CHECKSUM, MEMIO_LAYER_ICMP4, NULL);
    errno = 0;
    assert_int_equal(memio_packet_icmp4_echo(buf, sizeof buf, a4("1.1.1.1"), a4("1.1.1.2"), 3,
                                             0, 0, NULL, 0), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(memio_packet_icmp4_echo(buf, 27, a4("1.1.1.1"), a4("1.1.1.2"), 0, 0, 0,
                                             NULL, 0), -1);
    assert_int_equal(errno, ENOBUFS);
}

static void test_icmp6_echo_round_trip(void **state)
{
    (void)state;
    struct in6_addr s = a6("fd00::2"), d = a6("fd00::1");
    uint8_t buf[128];
    memio_packet pk;
    ssize_t n = memio_packet_icmp6_echo(buf, sizeof buf, &s, &d, 128, 99, 3, "v6ping", 6);
    assert_int_equal(n, 54);
    assert_int_equal(buf[6], IPPROTO_ICMPV6);
    assert_int_equal(buf[7], 64);
    assert_int_equal(ref_sum6(buf, buf + 40, 14, IPPROTO_ICMPV6), 0xffff);
    assert_int_equal(memio_packet_parse(buf, 54, MEMIO_LINK_IP, &pk), 0);
    assert_int_equal(pk.layers, MEMIO_LAYER_IPV6 | MEMIO_LAYER_ICMP6);
    assert_int_equal(pk.icmp.type, 128);
    assert_int_equal(pk.icmp.id, 99);
    assert_int_equal(pk.icmp.seq, 3);
    assert_memory_equal(pk.payload, "v6ping", 6);
    buf[40 + 8] ^= 1;
    expect_malformed(buf, 54, MEMIO_LINK_IP, MEMIO_PKT_ERR_CHECKSUM, MEMIO_LAYER_ICMP6, NULL);
    assert_int_equal(memio_packet_icmp6_echo(buf, sizeof buf, &s, &d, 1, 0, 0, NULL, 0), -1);
    assert_int_equal(errno, EINVAL);
}

static void test_icmp6_neighbour_solicitation(void **state)
{
    (void)state;
    static const uint8_t mac[6] = {2, 0, 0, 0, 0, 2};
    struct in6_addr s = a6("fe80::2"), t = a6("fe80::1234:5678"), un = a6("::");
    struct in6_addr snm = a6("ff02::1:ff34:5678");
    uint8_t buf[128];
    memio_packet pk;
    assert_int_equal(memio_packet_icmp6_ns(buf, sizeof buf, &s, &t, mac), 72);
    assert_int_equal(buf[7], 255);
    assert_memory_equal(buf + 24, &snm, 16);
    assert_int_equal(ref_sum6(buf, buf + 40, 32, IPPROTO_ICMPV6), 0xffff);
    assert_int_equal(memio_packet_parse(buf, 72, MEMIO_LINK_IP, &pk), 0);
    assert_int_equal(pk.icmp.type, 135);
    assert_memory_equal(&pk.icmp.target, &t, 16);
    assert_true(pk.icmp.has_lladdr);
    assert_memory_equal(pk.icmp.lladdr, mac, 6);
    /* duplicate address detection: from ::, no option */
    assert_int_equal(memio_packet_icmp6_ns(buf, sizeof buf, &un, &t, NULL), 64);
    assert_int_equal(memio_packet_parse(buf, 64, MEMIO_LINK_IP, &pk), 0);
    assert_false(pk.icmp.has_lladdr);
    errno = 0;
    assert_int_equal(memio_packet_icmp6_ns(buf, sizeof buf, &un, &t, mac), -1);
    assert_int_equal(errno, EINVAL);
    /* forwarded (hop limit 254): the kernel drops it */
    assert_int_equal(memio_packet_icmp6_ns(buf, sizeof buf, &s, &t, mac), 72);
    buf[7] = 254;
    expect_malformed(buf, 72, MEMIO_LINK_IP, MEMIO_PKT_ERR_FORMAT, MEMIO_LAYER_ICMP6,
                     "neighbour discovery with hop limit not 255");
}

static void test_icmp6_neighbour_advertisement(void **state)
{
    (void)state;
    static const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
    struct in6_addr s = a6("fe80::1"), d = a6("fe80::2"), t = a6("fe80::1");
    uint8_t buf[128];
    memio_packet pk;
    uint16_t c;
    assert_int_equal(memio_packet_icmp6_na(buf, sizeof buf, &s, &d, &t, 0x60000000u, mac), 72);
    assert_int_equal(buf[40], 136);
    assert_int_equal(buf[44], 0x60);
    assert_int_equal(memio_packet_parse(buf, 72, MEMIO_LINK_IP, &pk), 0);
    assert_int_equal(pk.icmp.na_flags, 0x60000000u);
    assert_true(pk.icmp.has_lladdr);
    assert_memory_equal(pk.icmp.lladdr, mac, 6);
    /* an option of length 0 (checksum fixed up so that is the only fault) */
    buf[65] = 0;
    put16(buf + 42, 0);
    c = (uint16_t)~ref_sum6(buf, buf + 40, 32, IPPROTO_ICMPV6);
    put16(buf + 42, c);
    expect_malformed(buf, 72, MEMIO_LINK_IP, MEMIO_PKT_ERR_FORMAT, MEMIO_LAYER_ICMP6,
                     "option of length 0");
    errno = 0;
    assert_int_equal(memio_packet_icmp6_na(buf, sizeof buf, &s, &d, &t, 1, NULL), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(memio_packet_icmp6_na(buf, 63, &s, &d, &t, 0, NULL), -1);
    assert_int_equal(errno, ENOBUFS);
}

/* ---- ping ---- */

static void test_ping_v4_request_and_reply(void **state)
{
    (void)state;
    struct sockaddr_in me = sin4("10.1.0.2", 0), peer = sin4("10.1.0.1", 0);
    uint8_t req[128], rep[128];
    memio_packet pk;
    ssize_t n = memio_ping_request(req, sizeof req, (struct sockaddr *)&me,
                                   (struct sockaddr *)&peer, 77, 1, "abc", 3);
    assert_int_equal(n, 31);
    assert_int_equal(memio_packet_parse(req, 31, MEMIO_LINK_IP, &pk), 0);
    assert_int_equal(pk.icmp.type, 8);
    /* the reply the kernel would send (D24) */
    assert_int_equal(memio_packet_icmp4_echo(rep, sizeof rep, peer.sin_addr, me.sin_addr, 0, 77,
                                             1, "abc", 3), 31);
    assert_int_equal(memio_ping_is_reply(rep, 31, (struct sockaddr *)&me,
                                         (struct sockaddr *)&peer, 77, 1, "abc", 3), 1);
    assert_int_equal(memio_ping_is_reply(rep, 31, (struct sockaddr *)&me,
                                         (struct sockaddr *)&peer, 77, 2, "abc", 3), 0);
    assert_int_equal(memio_ping_is_reply(rep, 31, (struct sockaddr *)&me,
                                         (struct sockaddr *)&peer, 77, 1, "abd", 3), 0);
    assert_int_equal(memio_ping_is_reply(rep, 31, (struct sockaddr *)&peer,
                                         (struct sockaddr *)&me, 77, 1, "abc", 3), 0);
    assert_int_equal(memio_ping_is_reply(req, 31, (struct sockaddr *)&me,
                                         (struct sockaddr *)&peer, 77, 1, "abc", 3), 0);
    rep[30] ^= 1; /* a corrupted reply is no reply */
    assert_int_equal(memio_ping_is_reply(rep, 31, (struct sockaddr *)&me,
                                         (struct sockaddr *)&peer, 77, 1, "abc", 3), 0);
    assert_int_equal(memio_ping_is_reply(rep, 10, (struct sockaddr *)&me,
                                         (struct sockaddr *)&peer, 77, 1, "abc", 3), 0);
}

static void test_ping_v6_request_and_reply(void **state)
{
    (void)state;
    struct sockaddr_in6 me = sin6("fd00::2", 0), peer = sin6("fd00::1", 0);
    struct sockaddr_in v4 = sin4("10.0.0.1", 0);
    uint8_t req[128], rep[128];
    ssize_t n = memio_ping_request(req, sizeof req, (struct sockaddr *)&me,
                                   (struct sockaddr *)&peer, 5, 6, NULL, 0);
    assert_int_equal(n, 48);
    assert_int_equal(req[40], 128);
    assert_int_equal(memio_packet_icmp6_echo(rep, sizeof rep, &peer.sin6_addr, &me.sin6_addr,
                                             129, 5, 6, NULL, 0), 48);
    assert_int_equal(memio_ping_is_reply(rep, 48, (struct sockaddr *)&me,
                                         (struct sockaddr *)&peer, 5, 6, NULL, 0), 1);
    assert_int_equal(memio_ping_is_reply(req, 48, (struct sockaddr *)&me,
                                         (struct sockaddr *)&peer, 5, 6, NULL, 0), 0);
    errno = 0;
    assert_int_equal(memio_ping_request(req, sizeof req, (struct sockaddr *)&me,
                                        (struct sockaddr *)&v4, 5, 6, NULL, 0), -1);
    assert_int_equal(errno, EAFNOSUPPORT);
    assert_int_equal(memio_ping_is_reply(rep, 48, (struct sockaddr *)&v4,
                                         (struct sockaddr *)&peer, 5, 6, NULL, 0), -1);
    assert_int_equal(errno, EAFNOSUPPORT);
    assert_int_equal(memio_ping_is_reply(NULL, 48, (struct sockaddr *)&me,
                                         (struct sockaddr *)&peer, 5, 6, NULL, 0), -1);
    assert_int_equal(errno, EFAULT);
}

/* ---- the parser's edges ---- */

static void test_parse_null_and_bad_link(void **state)
{
    (void)state;
    memio_packet pk;
    uint8_t b[1] = {0x45};
    errno = 0;
    assert_int_equal(memio_packet_parse(NULL, 0, MEMIO_LINK_IP, &pk), -1);
    assert_int_equal(errno, EFAULT);
    assert_int_equal(memio_packet_parse(b, 1, MEMIO_LINK_IP, NULL), -1);
    assert_int_equal(errno, EFAULT);
    assert_int_equal(memio_packet_parse(b, 1, 7, &pk), -1);
    assert_int_equal(errno, EINVAL);
    assert_string_equal(memio_packet_layer_name(MEMIO_LAYER_IPV4), "ipv4");
    assert_string_equal(memio_packet_layer_name(MEMIO_LAYER_ICMP6), "icmpv6");
    assert_string_equal(memio_packet_err_name(MEMIO_PKT_ERR_TRUNCATED), "truncated");
}

/* Every prefix of every kind of frame, copied to a buffer of exactly that
 * size (so ASan and valgrind see any read past it), is reported malformed
 * with a reason, or parsed; never read past. */
static void test_parse_every_prefix_stays_in_bounds(void **state)
{
    (void)state;
    static const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
    struct sockaddr_in6 s6 = sin6("fd00::2", 5000), d6 = sin6("fd00::1", 4444);
    struct in6_addr t = a6("fe80::1");
    uint8_t frames[8][160];
    size_t lens[8];
    int k, nf = 0;
    uint8_t ip[128];
    ssize_t n;

    n = build_e03(ip, sizeof ip);
    lens[nf] = (size_t)memio_packet_ether_vlan(frames[nf], 160, bcast, mac, 5, 0x0800, ip,
                                               (size_t)n);
    nf++;
    n = memio_packet_udp6(ip, sizeof ip, &s6, &d6, "abc", 3);
    lens[nf] = (size_t)memio_packet_ether(frames[nf], 160, bcast, mac, 0x86dd, ip, (size_t)n);
    nf++;
    n = memio_packet_icmp6_na(ip, sizeof ip, &t, &d6.sin6_addr, &t, 0x20000000, mac);
    lens[nf] = (size_t)memio_packet_ether(frames[nf], 160, bcast, mac, 0x86dd, ip, (size_t)n);
    nf++;
    n = memio_packet_icmp4_echo(ip, sizeof ip, a4("1.2.3.4"), a4("5.6.7.8"), 8, 1, 2, "x", 1);
    lens[nf] = (size_t)memio_packet_ether(frames[nf], 160, bcast, mac, 0x0800, ip, (size_t)n);
    nf++;
    memcpy(frames[nf], g05b, sizeof g05b);
    lens[nf++] = sizeof g05b;

    for (k = 0; k < nf; k++) {
        size_t len;
        for (len = 0; len <= lens[k]; len++) {
            uint8_t *copy = malloc(len ? len : 1);
            memio_packet pk;
            int r;
            assert_non_null(copy);
            memcpy(copy, frames[k], len);
            r = memio_packet_parse(copy, len, MEMIO_LINK_ETHER, &pk);
            if (len == lens[k]) {
                assert_int_equal(r, 0);
            } else {
                assert_int_equal(r, -1);
                assert_int_not_equal(pk.err, MEMIO_PKT_OK);
                assert_true(pk.err_reason[0] != '\0');
            }
            if (len >= 14) /* the same bytes as an IP packet */
                (void)memio_packet_parse(copy + 14, len - 14, MEMIO_LINK_IP, &pk);
            free(copy);
        }
    }
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
        cmocka_unit_test(test_csum_portable_matches_reference),
        cmocka_unit_test(test_csum_avx2_matches_reference_when_cpu_has_it),
        cmocka_unit_test(test_csum_large_all_ones_and_random_match_reference),
        cmocka_unit_test(test_csum_impl_is_the_best_the_cpu_has),
        cmocka_unit_test(test_csum_avx512_matches_reference_when_cpu_has_it),
        cmocka_unit_test(test_csum_copy_portable_matches_reference),
        cmocka_unit_test(test_csum_copy_avx2_matches_reference_when_cpu_has_it),
        cmocka_unit_test(test_csum_copy_avx512_matches_reference_when_cpu_has_it),
        cmocka_unit_test(test_csum_pseudo6_matches_reference),
        cmocka_unit_test(test_udp6_is_what_the_kernel_sends),
        cmocka_unit_test(test_udp6_checksum_computing_to_zero_is_sent_as_ffff),
        cmocka_unit_test(test_udp6_errors),
        cmocka_unit_test(test_parse_udp6_round_trip),
        cmocka_unit_test(test_parse_udp6_zero_checksum_is_rejected_d32),
        cmocka_unit_test(test_parse_udp6_wrong_checksum_is_rejected_d33),
        cmocka_unit_test(test_parse_udp6_lengths_and_protocols),
        cmocka_unit_test(test_parse_udp6_walks_extension_headers),
        cmocka_unit_test(test_parse_udp6_hop_by_hop_not_first_is_malformed),
        cmocka_unit_test(test_parse_udp6_fragment_is_reported),
        cmocka_unit_test(test_arp_request_matches_kernel_g05b),
        cmocka_unit_test(test_parse_arp_request_and_reply),
        cmocka_unit_test(test_vlan_tag_is_recognised),
        cmocka_unit_test(test_parse_unknown_ethertype_ends_the_walk),
        cmocka_unit_test(test_parse_ipv4_udp_fields),
        cmocka_unit_test(test_parse_ipv4_says_which_layer_and_why),
        cmocka_unit_test(test_parse_ipv4_zero_udp_checksum_accepted_d06),
        cmocka_unit_test(test_parse_ipv4_fragment_is_reported),
        cmocka_unit_test(test_parse_ipv4_options_are_skipped),
        cmocka_unit_test(test_icmp4_echo_round_trip),
        cmocka_unit_test(test_icmp6_echo_round_trip),
        cmocka_unit_test(test_icmp6_neighbour_solicitation),
        cmocka_unit_test(test_icmp6_neighbour_advertisement),
        cmocka_unit_test(test_ping_v4_request_and_reply),
        cmocka_unit_test(test_ping_v6_request_and_reply),
        cmocka_unit_test(test_parse_null_and_bad_link),
        cmocka_unit_test(test_parse_every_prefix_stays_in_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
