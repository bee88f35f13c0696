/*
 * test_dispatch.c — handing frames to handlers by ethertype, IP protocol
 * and UDP port (memio/dispatch.h), the counterpart of twisted.pair's
 * EthernetProtocol, IPProtocol and RawUDPProtocol: the flow through the
 * layers (IPv4 and IPv6) and the fields each handler sees, unknown values,
 * and malformed frames (truncated headers, wrong lengths, wrong checksums),
 * which are counted and dropped.  Every frame is handed over in a buffer of exactly
 * its length, so that AddressSanitizer sees any read past it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <net/ethernet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memio/memio.h>

#include "testutil.h"

static const uint8_t mac_a[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a };
static const uint8_t mac_b[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0b };

/* What one handler saw. */
struct rec {
    char tag;          /* written to the shared order log when called */
    int fail;          /* return -1 with this errno (0: succeed) */
    int calls;
    memio_dispatch_packet pkt;
    uint8_t payload[2048];
    size_t len;
};

static char order[64];
static size_t order_len;

static int record(const memio_dispatch_packet *pkt, const uint8_t *payload, size_t len,
                  void *user)
{
    struct rec *r = user;

    r->calls++;
    r->pkt = *pkt;
    r->len = len;
    assert_true(len <= sizeof(r->payload));
    memcpy(r->payload, payload, len);
    if (order_len + 1 < sizeof(order))
        order[order_len++] = r->tag;
    order[order_len] = '\0';
    if (r->fail) {
        errno = r->fail;
        return -1;
    }
    return 0;
}

static int setup(void **state)
{
    order_len = 0;
    order[0] = '\0';
    (void)state;
    return 0;
}

/* Hands `frame` to d from a heap buffer of exactly len bytes. */
static int dispatch_exact(memio_dispatch *d, const void *frame, size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    int rc;

    assert_non_null(copy);
    if (len)
        memcpy(copy, frame, len);
    rc = memio_dispatch_frame(d, NULL, len ? copy : NULL, len);
    free(copy);
    return rc;
}

/* An IPv4/UDP packet from 10.0.0.1:5000 to 10.0.0.2:dport. */
static size_t udp_packet(uint8_t *buf, size_t cap, uint16_t dport, const char *payload)
{
    return tu_udp4(buf, cap, "10.0.0.1", 5000, "10.0.0.2", dport, payload, strlen(payload));
}

/* The same in an Ethernet frame from mac_a to mac_b. */
static size_t udp_frame(uint8_t *buf, size_t cap, uint16_t dport, const char *payload)
{
    uint8_t ip[1600];
    size_t n = udp_packet(ip, sizeof(ip), dport, payload);
    ssize_t m = memio_packet_ether(buf, cap, mac_b, mac_a, ETHERTYPE_IP, ip, n);

    assert_true(m > 0);
    return (size_t)m;
}

/* Recomputes the IPv4 header checksum of the header at ip. */
static void fix_ip_checksum(uint8_t *ip)
{
    size_t hlen = (size_t)(ip[0] & 0x0f) * 4;
    uint16_t sum;

    ip[10] = ip[11] = 0;
    sum = htons(memio_inet_checksum(ip, hlen));
    memcpy(ip + 10, &sum, 2);
}

static void stats(memio_dispatch *d, memio_dispatch_stats *st)
{
    uint64_t sum;

    memio_dispatch_stats_get(d, st);
    sum = st->handled + st->unknown_ethertype + st->unknown_ip_proto + st->unknown_udp_port +
          st->malformed_ether + st->malformed_ip + st->malformed_udp;
    assert_int_equal(sum, st->frames); /* every frame lands in exactly one outcome */
}

/* --- the flow ------------------------------------------------------------ */

/* An Ethernet/IPv4/UDP frame reaches the ethertype's, the protocol's and
 * the port's handlers, outer first, each with its layer's payload. */
static void test_ethernet_udp_flows_through_every_layer(void **state)
{
    memio_dispatch *d = memio_dispatch_new(MEMIO_DISPATCH_ETHERNET);
    struct rec eth = { .tag = 'e' }, ip = { .tag = 'i' }, udp = { .tag = 'u' };
    uint8_t frame[256];
    size_t n = udp_frame(frame, sizeof(frame), 7, "hello");
    memio_dispatch_stats st;
    char a[INET_ADDRSTRLEN];

    assert_non_null(d);
    /* registered innermost first: the call order is the layers' */
    assert_int_equal(memio_dispatch_add_udp(d, 7, record, &udp), 0);
    assert_int_equal(memio_dispatch_add_ip(d, IPPROTO_UDP, record, &ip), 0);
    assert_int_equal(memio_dispatch_add_ether(d, ETHERTYPE_IP, record, &eth), 0);
    assert_int_equal(dispatch_exact(d, frame, n), 3);
    assert_string_equal(order, "eiu");

    assert_int_equal(eth.pkt.layer, MEMIO_DISPATCH_LAYER_LINK);
    assert_int_equal(eth.len, n - 14);
    assert_true(eth.pkt.has_ether);
    assert_memory_equal(eth.pkt.eth_dst, mac_b, 6);
    assert_memory_equal(eth.pkt.eth_src, mac_a, 6);
    assert_int_equal(eth.pkt.ethertype, ETHERTYPE_IP);
    assert_int_equal(eth.pkt.frame_len, n);

    assert_int_equal(ip.pkt.layer, MEMIO_DISPATCH_LAYER_IP4);
    assert_int_equal(ip.len, 8 + 5);
    assert_int_equal(ip.pkt.ip_proto, IPPROTO_UDP);
    assert_int_equal(ip.pkt.ip_ttl, 64);
    assert_int_equal(ip.pkt.ip_hlen, 20);
    assert_int_equal(ip.pkt.ip_total_len, 33);
    assert_int_equal(ip.pkt.ip_frag, 0x4000); /* DF */
    assert_int_equal(ip.pkt.src.sin_port, 0);

    assert_int_equal(udp.pkt.layer, MEMIO_DISPATCH_LAYER_UDP);
    assert_int_equal(udp.len, 5);
    assert_memory_equal(udp.payload, "hello", 5);
    inet_ntop(AF_INET, &udp.pkt.src.sin_addr, a, sizeof(a));
    assert_string_equal(a, "10.0.0.1");
    inet_ntop(AF_INET, &udp.pkt.dst.sin_addr, a, sizeof(a));
    assert_string_equal(a, "10.0.0.2");
    assert_int_equal(ntohs(udp.pkt.src.sin_port), 5000);
    assert_int_equal(ntohs(udp.pkt.dst.sin_port), 7);
    assert_int_equal(udp.pkt.src.sin_family, AF_INET);

    stats(d, &st);
    assert_int_equal(st.frames, 1);
    assert_int_equal(st.handled, 1);
    memio_dispatch_free(d);
}

/* On a TUN the IP version stands for the ethertype. */
static void test_ip_link_udp_flows_through_every_layer(void **state)
{
    memio_dispatch *d = memio_dispatch_new(MEMIO_DISPATCH_IP);
    struct rec eth = { .tag = 'e' }, udp = { .tag = 'u' };
    uint8_t pkt[256];
    size_t n = udp_packet(pkt, sizeof(pkt), 53, "query");

    memio_dispatch_add_ether(d, ETHERTYPE_IP, record, &eth);
    memio_dispatch_add_udp(d, 53, record, &udp);
    assert_int_equal(dispatch_exact(d, pkt, n), 2);
    assert_string_equal(order, "eu");
    assert_false(eth.pkt.has_ether);
    assert_int_equal(eth.pkt.ethertype, ETHERTYPE_IP);
    assert_int_equal(eth.len, n);
    assert_int_equal(udp.len, 5);
    assert_memory_equal(udp.payload, "query", 5);
    memio_dispatch_free(d);
}

/* An IPv6 packet on a TUN reaches ethertype 0x86dd's handlers; this one
 * says UDP with a payload length of 0, so there is no UDP header to read
 * (the 8 bytes past it are padding): malformed at the UDP layer.  Before
 * IPv6 was dispatched this was test_ipv6_reaches_only_its_ethertype and
 * counted unknown_ethertype. */
static void test_ipv6_with_empty_payload_is_malformed_udp(void **state)
{
    memio_dispatch *d = memio_dispatch_new(MEMIO_DISPATCH_IP);
    struct rec v6 = { .tag = '6' }, udp = { .tag = 'u' };
    uint8_t pkt[48] = { 0x60 };
    memio_dispatch_stats st;

    pkt[6] = IPPROTO_UDP;
    memio_dispatch_add_udp(d, 7, record, &udp);
    assert_int_equal(dispatch_exact(d, pkt, sizeof(pkt)), 0);
    stats(d, &st);
    assert_int_equal(st.malformed_udp, 1);
    memio_dispatch_add_ether(d, ETHERTYPE_IPV6, record, &v6);
    assert_int_equal(dispatch_exact(d, pkt, sizeof(pkt)), 1);
    assert_int_equal(v6.pkt.ethertype, ETHERTYPE_IPV6);
    assert_int_equal(udp.calls, 0);
    memio_dispatch_free(d);
}

/* Several handlers of one port run in the order they were added. */
static void test_handlers_of_one_value_run_in_order(void **state)
{
    memio_dispatch *d = memio_dispatch_new(MEMIO_DISPATCH_ETHERNET);
    struct rec first = { .tag = '1' }, second = { .tag = '2' }, other = { .tag = 'x' };
    uint8_t frame[256];
    size_t n = udp_frame(frame, sizeof(frame), 9, "x");

    memio_dispatch_add_udp(d, 9, record, &first);
    memio_dispatch_add_udp(d, 10, record, &other);
    memio_dispatch_add_udp(d, 9, record, &second);
    assert_int_equal(dispatch_exact(d, frame, n), 2);
    assert_string_equal(order, "12");
    memio_dispatch_free(d);
}

/* A protocol handler gets the IP payload, without the Ethernet padding a
 * short frame carries past the IP total length. */
static void test_ip_payload_excludes_link_padding(void **state)
{
    memio_dispatch *d = memio_dispatch_new(MEMIO_DISPATCH_ETHERNET);
    struct rec ip = { .tag = 'i' }, udp = { .tag = 'u' };
    uint8_t frame[60];
    size_t n = udp_frame(frame, sizeof(frame), 7, "a");

    assert_int_equal(n, 43);
    memset(frame + n, 0, sizeof(frame) - n); /* padded to the Ethernet minimum */
    memio_dispatch_add_ip(d, IPPROTO_UDP, record, &ip);
    memio_dispatch_add_udp(d, 7, record, &udp);
    assert_int_equal(dispatch_exact(d, frame, sizeof(frame)), 2);
    assert_int_equal(ip.len, 9);
    assert_int_equal(udp.len, 1);
    memio_dispatch_free(d);
}

/* IP options: the UDP header is found after them. */
static void test_udp_after_ip_options(void **state)
{
    memio_dispatch *d = memio_dispatch_new(MEMIO_DISPATCH_IP);
    struct rec ip = { .tag = 'i' }, udp = { .tag = 'u' };
    uint8_t plain[64], pkt[64];
    size_t n = udp_packet(plain, sizeof(plain), 7, "opt");
    uint16_t tot = htons((uint16_t)(n + 4));

    memcpy(pkt, plain, 20);
    memset(pkt + 20, 1, 4); /* four NOP options */
    memcpy(pkt + 24, plain + 20, n - 20);
    pkt[0] = 0x46;
    memcpy(pkt + 2, &tot, 2);
    fix_ip_checksum(pkt);
    memio_dispatch_add_ip(d, IPPROTO_UDP, record, &ip);
    memio_dispatch_add_udp(d, 7, record, &udp);
    assert_int_equal(dispatch_exact(d, pkt, n + 4), 2);
    assert_int_equal(ip.pkt.ip_hlen, 24);
    assert_int_equal(udp.len, 3);
    assert_memory_equal(udp.payload, "opt", 3);
    memio_dispatch_free(d);
}

/* --- unknown values ------------------------------------------------------ */

static void test_unknown_ethertype_is_counted(void **state)
{
    memio_dispatch *d = memio_dispatch_new(MEMIO_DISPATCH_ETHERNET);
    struct rec ip = { .tag = 'i' };
    uint8_t frame[60] = { 0 };
    memio_dispatch_stats st;

    frame[12] = 0x08;
    frame[13] = 0x06; /* ARP */
    memio_dispatch_add_ether(d, ETHERTYPE_IP, record, &ip);
    assert_int_equal(dispatch_exact(d, frame, sizeof(frame)), 0);
    stats(d, &st);
    assert_int_equal(st.unknown_ethertype, 1);
    assert_int_equal(st.handled, 0);
    assert_int_equal(ip.calls, 0);
    memio_dispatch_free(d);
}

static void test_unknown_ip_protocol_is_counted(void **state)
{
    memio_dispatch *d = memio_dispatch_new(MEMIO_DISPATCH_IP);
    struct rec icmp = { .tag = 'c' };
    uint8_t pkt[64];
    size_t n = udp_packet(pkt, sizeof(pkt), 7, "ping");
    memio_dispatch_stats st;

    pkt[9] = IPPROTO_ICMP;
    fix_ip_checksum(pkt);
    assert_int_equal(dispatch_exact(d, pkt, n), 0);
    stats(d, &st);
    assert_int_equal(st.unknown_ip_proto, 1);
    memio_dispatch_add_ip(d, IPPROTO_ICMP, record, &icmp);
    assert_int_equal(dispatch_exact(d, pkt, n), 1);
    assert_int_equal(icmp.len, n - 20);
    assert_int_equal(icmp.pkt.ip_proto, IPPROTO_ICMP);
    stats(d, &st);
    assert_int_equal(st.handled, 1);
    memio_dispatch_free(d);
}

static void test_unknown_udp_port_is_counted(void **state)
{
    memio_dispatch *d = memio_dispatch_new(MEMIO_DISPATCH_ETHERNET);
    struct rec seven = { .tag = '7' };
    uint8_t frame[256];
    size_t n = udp_frame(frame, sizeof(frame), 8, "x");
    memio_dispatch_stats st;

    memio_dispatch_add_udp(d, 7, record, &seven);
    assert_int_equal(dispatch_exact(d, frame, n), 0);
    stats(d, &st);
    assert_int_equal(st.unknown_udp_port, 1);
    assert_int_equal(seven.calls, 0);
    memio_dispatch_free(d);
}

/* A fragment reaches the protocol's handlers, never a port's: there is no
 * reassembly. */
static void test_fragment_skips_the_udp_layer(void **state)
{
    memio_dispatch *d = memio_dispatch_new(MEMIO_DISPATCH_IP);
    struct rec ip = { .tag = 'i' }, udp = { .tag = 'u' };
    uint8_t pkt[64];
    size_t n = udp_packet(pkt, sizeof(pkt), 7, "frag");
    memio_dispatch_stats st;

    pkt[6] = 0x20; /* MF, offset 0 */
    pkt[7] = 0;
    fix_ip_checksum(pkt);
    memio_dispatch_add_udp(d, 7, record, &udp);
    assert_int_equal(dispatch_exact(d, pkt, n), 0);
    memio_dispatch_add_ip(d, IPPROTO_UDP, record, &ip);
    assert_int_equal(dispatch_exact(d, pkt, n), 1);
    assert_int_equal(udp.calls, 0);
    assert_int_equal(ip.pkt.ip_frag, 0x2000);
    stats(d, &st);
    assert_int_equal(st.fragments, 2);
    assert_int_equal(st.unknown_ip_proto, 1);
    assert_int_equal(st.handled, 1);
    memio_dispatch_free(d);
}

/* --- malformed frames ---------------------------------------------------- */

/* A dispatcher with a handler on every layer of the frames the malformed
 * tests build; returns it. */
static memio_dispatch *everything(memio_dispatch_link link, struct rec *e, struct rec *i,
                                  struct rec *u)
{
    memio_dispatch *d = memio_dispatch_new(link);

    assert_non_null(d);
    if (e)
        memio_dispatch_add_ether(d, ETHERTYPE_IP, record, e);
    if (i)
        memio_dispatch_add_ip(d, IPPROTO_UDP, record, i);
    if (u)
        memio_dispatch_add_udp(d, 7, record, u);
    return d;
}

static void test_short_ethernet_header_is_malformed(void **state)
{
    struct rec e = { .tag = 'e' };
    memio_dispatch *d = everything(MEMIO_DISPATCH_ETHERNET, &e, NULL, NULL);
    uint8_t frame[13] = { 0 };
    memio_dispatch_stats st;

    assert_int_equal(dispatch_exact(d, frame, sizeof(frame)), 0);
    assert_int_equal(dispatch_exact(d, NULL, 0), 0);
    stats(d, &st);
    assert_int_equal(st.malformed_ether, 2);
    assert_int_equal(e.calls, 0);
    memio_dispatch_free(d);
}

/* The Ethernet handler still sees the frame; the IP layer counts it. */
static void test_short_ip_header_is_malformed(void **state)
{
    struct rec e = { .tag = 'e' }, i = { .tag = 'i' };
    memio_dispatch *d = everything(MEMIO_DISPATCH_ETHERNET, &e, &i, NULL);
    uint8_t frame[256];
    size_t n = udp_frame(frame, sizeof(frame), 7, "x");
    memio_dispatch_stats st;

    assert_int_equal(dispatch_exact(d, frame, 14 + 19), 1);
    stats(d, &st);
    assert_int_equal(st.malformed_ip, 1);
    assert_int_equal(st.handled, 0);
    assert_int_equal(e.calls, 1);
    assert_int_equal(i.calls, 0);
    (void)n;
    memio_dispatch_free(d);
}

static void test_empty_or_unknown_version_tun_packet_is_malformed(void **state)
{
    memio_dispatch *d = everything(MEMIO_DISPATCH_IP, NULL, NULL, NULL);
    uint8_t pkt[40] = { 0x50 };
    memio_dispatch_stats st;

    assert_int_equal(dispatch_exact(d, NULL, 0), 0);
    assert_int_equal(dispatch_exact(d, pkt, sizeof(pkt)), 0);
    stats(d, &st);
    assert_int_equal(st.malformed_ip, 2);
    memio_dispatch_free(d);
}

/* Each way an IPv4 header can lie about itself, in an 0x0800 frame. */
static void test_bad_ip_headers_are_malformed(void **state)
{
    struct rec i = { .tag = 'i' }, u = { .tag = 'u' };
    memio_dispatch *d = everything(MEMIO_DISPATCH_IP, NULL, &i, &u);
    uint8_t good[64], pkt[64];
    size_t n = udp_packet(good, sizeof(good), 7, "lies");
    memio_dispatch_stats st;
    enum { VERSION, IHL_SMALL, IHL_PAST_END, TOTAL_PAST_END, TOTAL_BELOW_IHL, CHECKSUM, CASES };

    for (int c = 0; c < CASES; c++) {
        uint16_t tot;
        memcpy(pkt, good, n);
        switch (c) {
        case VERSION: pkt[0] = 0x45 | 0x10; break; /* version 5 in an IPv4 frame */
        case IHL_SMALL: pkt[0] = 0x44; break;
        case IHL_PAST_END: pkt[0] = 0x4f; break; /* 60 bytes of header, 32 bytes of packet */
        case TOTAL_PAST_END: tot = htons((uint16_t)(n + 1)); memcpy(pkt + 2, &tot, 2); break;
        case TOTAL_BELOW_IHL: tot = htons(19); memcpy(pkt + 2, &tot, 2); break;
        case CHECKSUM: pkt[8] = 63; break; /* TTL changed, checksum not */
        }
        if (c != CHECKSUM)
            fix_ip_checksum(pkt);
        if (c == VERSION) {
            /* On a TUN the version picks the ethertype; give it an
             * Ethernet frame so that 0x0800 carries a non-4 header. */
            memio_dispatch *de = everything(MEMIO_DISPATCH_ETHERNET, NULL, &i, &u);
            uint8_t frame[128];
            ssize_t m = memio_packet_ether(frame, sizeof(frame), mac_b, mac_a, ETHERTYPE_IP,
                                           pkt, n);
            assert_int_equal(dispatch_exact(de, frame, (size_t)m), 0);
            stats(de, &st);
            assert_int_equal(st.malformed_ip, 1);
            memio_dispatch_free(de);
            continue;
        }
        assert_int_equal(dispatch_exact(d, pkt, n), 0);
    }
    stats(d, &st);
    assert_int_equal(st.malformed_ip, CASES - 1);
    assert_int_equal(i.calls, 0);
    assert_int_equal(u.calls, 0);
    memio_dispatch_free(d);
}

/* Each way a UDP header can be wrong; the protocol's handler has seen the
 * packet, the port's never does. */
static void test_bad_udp_headers_are_malformed(void **state)
{
    struct rec i = { .tag = 'i' }, u = { .tag = 'u' };
    memio_dispatch *d = everything(MEMIO_DISPATCH_IP, NULL, &i, &u);
    uint8_t good[64], pkt[64];
    size_t n = udp_packet(good, sizeof(good), 7, "wrong");
    memio_dispatch_stats st;
    enum { TRUNCATED, LENGTH_PAST_IP, LENGTH_BELOW_HEADER, CHECKSUM, CASES };

    for (int c = 0; c < CASES; c++) {
        size_t len = n;
        uint16_t v;
        memcpy(pkt, good, n);
        switch (c) {
        case TRUNCATED: /* the IP total length ends inside the UDP header */
            len = 24;
            v = htons(24);
            memcpy(pkt + 2, &v, 2);
            fix_ip_checksum(pkt);
            break;
        case LENGTH_PAST_IP: v = htons((uint16_t)(n - 20 + 1)); memcpy(pkt + 24, &v, 2); break;
        case LENGTH_BELOW_HEADER: v = htons(7); memcpy(pkt + 24, &v, 2); break;
        case CHECKSUM: pkt[n - 1] ^= 1; break;
        }
        assert_int_equal(dispatch_exact(d, pkt, len), 1); /* the protocol's handler only */
    }
    stats(d, &st);
    assert_int_equal(st.malformed_udp, CASES);
    assert_int_equal(st.handled, 0);
    assert_int_equal(i.calls, CASES);
    assert_int_equal(u.calls, 0);
    memio_dispatch_free(d);
}

/* A UDP checksum of 0 means none was computed: accepted (D06). */
static void test_udp_checksum_zero_is_accepted(void **state)
{
    struct rec u = { .tag = 'u' };
    memio_dispatch *d = everything(MEMIO_DISPATCH_IP, NULL, NULL, &u);
    uint8_t pkt[64];
    size_t n = udp_packet(pkt, sizeof(pkt), 7, "nosum");

    pkt[26] = pkt[27] = 0;
    assert_int_equal(dispatch_exact(d, pkt, n), 1);
    assert_int_equal(u.len, 5);
    memio_dispatch_free(d);
}

/* Every truncation of a good frame is dropped or handled, never read past
 * its end (ASan watches), and counted exactly once. */
static void test_every_truncation_is_safe(void **state)
{
    struct rec e = { .tag = 'e' }, i = { .tag = 'i' }, u = { .tag = 'u' };
    memio_dispatch *d = everything(MEMIO_DISPATCH_ETHERNET, &e, &i, &u);
    uint8_t frame[256];
    size_t n = udp_frame(frame, sizeof(frame), 7, "truncate me");
    memio_dispatch_stats st;

    for (size_t len = 0; len <= n; len++)
        dispatch_exact(d, frame, len);
    stats(d, &st);
    assert_int_equal(st.frames, n + 1);
    assert_int_equal(st.malformed_ether, 14);
    assert_int_equal(st.handled, 1); /* only the whole frame */
    assert_int_equal(u.calls, 1);
    memio_dispatch_free(d);
}

/* Random bytes, on both links: nothing crashes, everything is counted. */
static void test_random_frames_are_safe(void **state)
{
    struct rec e = { .tag = 'e' }, i = { .tag = 'i' }, u = { .tag = 'u' };
    memio_dispatch *de = everything(MEMIO_DISPATCH_ETHERNET, &e, &i, &u);
    memio_dispatch *dt = everything(MEMIO_DISPATCH_IP, &e, &i, &u);
    uint8_t frame[128];
    uint32_t seed = 12345;
    memio_dispatch_stats st;

    for (int k = 0; k < 20000; k++) {
        size_t len = 0;
        seed = seed * 1103515245u + 12345u;
        len = (seed >> 16) % sizeof(frame);
        for (size_t b = 0; b < len; b++) {
            seed = seed * 1103515245u + 12345u;
            frame[b] = (uint8_t)(seed >> 16);
        }
        if (len > 20 && (k & 1)) { /* often a plausible IPv4 header */
            frame[0] = 0x45;
            frame[14] = 0x45;
            frame[12] = 0x08;
            frame[13] = 0x00;
        }
        dispatch_exact(de, frame, len);
        dispatch_exact(dt, frame, len);
    }
    stats(de, &st);
    assert_int_equal(st.frames, 20000);
    stats(dt, &st);
    assert_int_equal(st.frames, 20000);
    memio_dispatch_free(de);
    memio_dispatch_free(dt);
}

/* --- IPv6 ---------------------------------------------------------------- */

static struct sockaddr_in6 addr6(const char *ip, uint16_t port)
{
    struct sockaddr_in6 a;

    memset(&a, 0, sizeof(a));
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    assert_int_equal(inet_pton(AF_INET6, ip, &a.sin6_addr), 1);
    return a;
}

/* An IPv6/UDP packet from [2001:db8::1]:5000 to [2001:db8::2]:dport. */
static size_t udp6_packet(uint8_t *buf, size_t cap, uint16_t dport, const char *payload)
{
    struct sockaddr_in6 src = addr6("2001:db8::1", 5000), dst = addr6("2001:db8::2", dport);
    ssize_t n = memio_packet_udp6(buf, cap, &src, &dst, payload, strlen(payload));

    assert_true(n > 0);
    return (size_t)n;
}

/* Any IPv6 packet in an Ethernet frame from mac_a to mac_b. */
static size_t ether6(uint8_t *buf, size_t cap, const uint8_t *ip, size_t n)
{
    ssize_t m = memio_packet_ether(buf, cap, mac_b, mac_a, ETHERTYPE_IPV6, ip, n);

    assert_true(m > 0);
    return (size_t)m;
}

/* Puts the extension header ext (extlen bytes, a multiple of 8) of type
 * `type` right after the fixed header of the IPv6 packet pkt (n bytes, room
 * for extlen more): its next header becomes the one the fixed header had,
 * and the payload length grows.  Upper-layer checksums stay valid: the
 * pseudo-header does not see extension headers.  Returns the new length. */
static size_t insert_ext(uint8_t *pkt, size_t n, uint8_t type, const uint8_t *ext, size_t extlen)
{
    uint16_t plen;

    memmove(pkt + 40 + extlen, pkt + 40, n - 40);
    memcpy(pkt + 40, ext, extlen);
    pkt[40] = pkt[6];
    pkt[6] = type;
    memcpy(&plen, pkt + 4, 2);
    plen = htons((uint16_t)(ntohs(plen) + extlen));
    memcpy(pkt + 4, &plen, 2);
    return n + extlen;
}

/* Hop-by-hop options: next header, length 0 (8 bytes), one PadN of 4. */
static const uint8_t hbh_pad[8] = { 0, 0, 1, 4, 0, 0, 0, 0 };

/* An Ethernet/IPv6/UDP frame reaches 0x86dd's, 17's and the port's
 * handlers, with the IPv6 fields filled and the IPv4 ones zero. */
static void test_ipv6_ethernet_udp_flows_through_every_layer(void **state)
{
    memio_dispatch *d = memio_dispatch_new(MEMIO_DISPATCH_ETHERNET);
    struct rec eth = { .tag = 'e' }, ip = { .tag = 'i' }, udp = { .tag = 'u' };
    uint8_t pkt[256], frame[256];
    size_t n = ether6(frame, sizeof(frame), pkt, udp6_packet(pkt, sizeof(pkt), 7, "hello"));
    struct sockaddr_in6 src = addr6("2001:db8::1", 5000), dst = addr6("2001:db8::2", 7);
    memio_dispatch_stats st;

    assert_non_null(d);
    memio_dispatch_add_udp(d, 7, record, &udp);
    memio_dispatch_add_ip(d, IPPROTO_UDP, record, &ip);
    memio_dispatch_add_ether(d, ETHERTYPE_IPV6, record, &eth);
    assert_int_equal(dispatch_exact(d, frame, n), 3);
    assert_string_equal(order, "eiu");

    assert_int_equal(eth.pkt.layer, MEMIO_DISPATCH_LAYER_LINK);
    assert_int_equal(eth.pkt.ethertype, ETHERTYPE_IPV6);
    assert_int_equal(eth.pkt.ip_version, 0);
    assert_int_equal(eth.len, n - 14);

    assert_int_equal(ip.pkt.layer, MEMIO_DISPATCH_LAYER_IP6);
    assert_int_equal(ip.pkt.ip_version, 6);
    assert_int_equal(ip.pkt.ip6_proto, IPPROTO_UDP);
    assert_int_equal(ip.pkt.ip6_hop_limit, 64);
    assert_int_equal(ip.pkt.ip6_payload_len, 8 + 5);
    assert_int_equal(ip.pkt.ip6_ext_len, 0);
    assert_int_equal(ip.pkt.ip6_frag, 0);
    assert_int_equal(ip.pkt.src6.sin6_port, 0);
    assert_int_equal(ip.len, 8 + 5);
    /* the IPv4 fields stay zero */
    assert_int_equal(ip.pkt.src.sin_family, 0);
    assert_int_equal(ip.pkt.dst.sin_addr.s_addr, 0);
    assert_int_equal(ip.pkt.ip_proto, 0);
    assert_int_equal(ip.pkt.ip_ttl, 0);
    assert_int_equal(ip.pkt.ip_total_len, 0);

    assert_int_equal(udp.pkt.layer, MEMIO_DISPATCH_LAYER_UDP);
    assert_int_equal(udp.pkt.ip_version, 6);
    assert_int_equal(udp.len, 5);
    assert_memory_equal(udp.payload, "hello", 5);
    assert_int_equal(udp.pkt.src6.sin6_family, AF_INET6);
    assert_memory_equal(&udp.pkt.src6.sin6_addr, &src.sin6_addr, 16);
    assert_memory_equal(&udp.pkt.dst6.sin6_addr, &dst.sin6_addr, 16);
    assert_int_equal(ntohs(udp.pkt.src6.sin6_port), 5000);
    assert_int_equal(ntohs(udp.pkt.dst6.sin6_port), 7);
    assert_int_equal(udp.pkt.src.sin_port, 0);

    stats(d, &st);
    assert_int_equal(st.handled, 1);
    memio_dispatch_free(d);
}

/* On a TUN, version 6 stands for 0x86dd and goes on to the port; the IPv6
 * fields stay zero for IPv4, whose ip_version is 4.  Ethernet padding past
 * the payload length is not the handlers'. */
static void test_ipv6_tun_udp_flows_and_ipv4_says_version_4(void **state)
{
    memio_dispatch *d = memio_dispatch_new(MEMIO_DISPATCH_IP);
    struct rec eth = { .tag = 'e' }, udp = { .tag = 'u' };
    uint8_t pkt[256];
    size_t n = udp6_packet(pkt, sizeof(pkt), 53, "query");

    memio_dispatch_add_ether(d, ETHERTYPE_IPV6, record, &eth);
    memio_dispatch_add_udp(d, 53, record, &udp);
    memset(pkt + n, 0xee, 6); /* trailing bytes past the payload length */
    assert_int_equal(dispatch_exact(d, pkt, n + 6), 2);
    assert_string_equal(order, "eu");
    assert_false(eth.pkt.has_ether);
    assert_int_equal(eth.len, n + 6);
    assert_int_equal(udp.pkt.ip_version, 6);
    assert_int_equal(udp.len, 5);
    assert_memory_equal(udp.payload, "query", 5);

    n = udp_packet(pkt, sizeof(pkt), 53, "four");
    assert_int_equal(dispatch_exact(d, pkt, n), 1);
    assert_int_equal(udp.pkt.ip_version, 4);
    assert_int_equal(udp.pkt.src6.sin6_family, 0);
    assert_int_equal(udp.pkt.ip6_hop_limit, 0);
    assert_int_equal(udp.pkt.dst6.sin6_port, 0);
    memio_dispatch_free(d);
}

/* ICMPv6 goes to IP protocol 58's handlers with the ICMPv6 message. */
static void test_icmpv6_reaches_its_protocol_handler(void **state)
{
    memio_dispatch *d = memio_dispatch_new(MEMIO_DISPATCH_ETHERNET);
    struct rec icmp = { .tag = 'c' }, udp = { .tag = 'u' };
    struct sockaddr_in6 a = addr6("fe80::1", 0), b = addr6("fe80::2", 0);
    uint8_t pkt[128], frame[160];
    ssize_t m = memio_packet_icmp6_echo(pkt, sizeof(pkt), &a.sin6_addr, &b.sin6_addr, 128, 1, 2,
                                        "ping", 4);
    size_t n;
    memio_dispatch_stats st;

    assert_true(m > 0);
    n = ether6(frame, sizeof(frame), pkt, (size_t)m);
    memio_dispatch_add_udp(d, 7, record, &udp);
    assert_int_equal(dispatch_exact(d, frame, n), 0);
    stats(d, &st);
    assert_int_equal(st.unknown_ip_proto, 1);
    memio_dispatch_add_ip(d, IPPROTO_ICMPV6, record, &icmp);
    assert_int_equal(dispatch_exact(d, frame, n), 1);
    assert_int_equal(icmp.pkt.layer, MEMIO_DISPATCH_LAYER_IP6);
    assert_int_equal(icmp.pkt.ip6_proto, IPPROTO_ICMPV6);
    assert_int_equal(icmp.len, 8 + 4);
    assert_int_equal(icmp.payload[0], 128); /* echo request */
    assert_memory_equal(icmp.payload + 8, "ping", 4);
    assert_int_equal(udp.calls, 0);
    stats(d, &st);
    assert_int_equal(st.handled, 1);
    memio_dispatch_free(d);
}

/* A next header nobody registered is counted, then handled once someone
 * does; its handler gets the IP payload. */
static void test_unknown_ipv6_next_header_is_counted(void **state)
{
    memio_dispatch *d = memio_dispatch_new(MEMIO_DISPATCH_IP);
    struct rec x = { .tag = 'x' };
    struct sockaddr_in6 a = addr6("2001:db8::1", 0), b = addr6("2001:db8::2", 0);
    uint8_t pkt[128];
    ssize_t n = memio_packet_ip6(pkt, sizeof(pkt), &a.sin6_addr, &b.sin6_addr, 253, 9, "exp", 3);
    memio_dispatch_stats st;

    assert_true(n > 0);
    assert_int_equal(dispatch_exact(d, pkt, (size_t)n), 0);
    stats(d, &st);
    assert_int_equal(st.unknown_ip_proto, 1);
    memio_dispatch_add_ip(d, 253, record, &x);
    assert_int_equal(dispatch_exact(d, pkt, (size_t)n), 1);
    assert_int_equal(x.pkt.ip6_proto, 253);
    assert_int_equal(x.pkt.ip6_hop_limit, 9);
    assert_int_equal(x.len, 3);
    assert_memory_equal(x.payload, "exp", 3);
    stats(d, &st);
    assert_int_equal(st.handled, 1);
    assert_int_equal(st.unknown_ip_proto, 1);
    memio_dispatch_free(d);
}

/* IPv6 makes the UDP checksum mandatory: 0 (D32) and a wrong one (D33)
 * are malformed, on both links; the protocol's handler has seen them, the
 * port's never does. */
static void test_ipv6_udp_checksum_zero_or_wrong_is_malformed(void **state)
{
    for (int link = 0; link < 2; link++) {
        memio_dispatch_link l = link ? MEMIO_DISPATCH_ETHERNET : MEMIO_DISPATCH_IP;
        struct rec i = { .tag = 'i' }, u = { .tag = 'u' };
        memio_dispatch *d = everything(l, NULL, &i, &u);
        uint8_t pkt[128], frame[160];
        size_t n = udp6_packet(pkt, sizeof(pkt), 7, "sum");
        memio_dispatch_stats st;

        for (int c = 0; c < 2; c++) {
            uint8_t bad[128];
            memcpy(bad, pkt, n);
            if (c == 0)
                bad[46] = bad[47] = 0;
            else
                bad[n - 1] ^= 1;
            if (link)
                assert_int_equal(dispatch_exact(d, frame, ether6(frame, sizeof(frame), bad, n)), 1);
            else
                assert_int_equal(dispatch_exact(d, bad, n), 1);
        }
        stats(d, &st);
        assert_int_equal(st.malformed_udp, 2);
        assert_int_equal(st.handled, 0);
        assert_int_equal(i.calls, 2);
        assert_int_equal(u.calls, 0);
        /* and the good one goes through */
        if (link)
            assert_int_equal(dispatch_exact(d, frame, ether6(frame, sizeof(frame), pkt, n)), 2);
        else
            assert_int_equal(dispatch_exact(d, pkt, n), 2);
        assert_int_equal(u.calls, 1);
        memio_dispatch_free(d);
    }
}

/* Extension headers are walked to the upper layer: hop-by-hop, then
 * destination options, then UDP. */
static void test_ipv6_extension_headers_are_walked(void **state)
{
    memio_dispatch *d = memio_dispatch_new(MEMIO_DISPATCH_ETHERNET);
    struct rec i = { .tag = 'i' }, u = { .tag = 'u' };
    uint8_t pkt[256], frame[256];
    size_t n = udp6_packet(pkt, sizeof(pkt), 7, "walked");
    memio_dispatch_stats st;

    n = insert_ext(pkt, n, IPPROTO_DSTOPTS, hbh_pad, sizeof(hbh_pad));
    n = insert_ext(pkt, n, IPPROTO_HOPOPTS, hbh_pad, sizeof(hbh_pad));
    assert_int_equal(pkt[6], IPPROTO_HOPOPTS);
    n = ether6(frame, sizeof(frame), pkt, n);
    memio_dispatch_add_ip(d, IPPROTO_UDP, record, &i);
    memio_dispatch_add_udp(d, 7, record, &u);
    assert_int_equal(dispatch_exact(d, frame, n), 2);
    assert_int_equal(i.pkt.ip6_proto, IPPROTO_UDP);
    assert_int_equal(i.pkt.ip6_ext_len, 16);
    assert_int_equal(i.pkt.ip6_payload_len, 16 + 8 + 6);
    assert_int_equal(i.len, 8 + 6);
    assert_int_equal(u.len, 6);
    assert_memory_equal(u.payload, "walked", 6);
    assert_int_equal(ntohs(u.pkt.dst6.sin6_port), 7);
    stats(d, &st);
    assert_int_equal(st.handled, 1);
    memio_dispatch_free(d);
}

/* A fragment header stops at the IP layer: the protocol's handler gets
 * what follows it, the port's nothing, and it counts as a fragment.  An
 * atomic fragment (offset 0, no M) is the whole packet and is read
 * through, as the kernel does (RFC 6946). */
static void test_ipv6_fragment_stops_at_the_ip_layer(void **state)
{
    struct rec i = { .tag = 'i' }, u = { .tag = 'u' };
    memio_dispatch *d = everything(MEMIO_DISPATCH_IP, NULL, &i, &u);
    uint8_t good[128], pkt[128];
    size_t n0 = udp6_packet(good, sizeof(good), 7, "frag"), n;
    const uint8_t first[8] = { 0, 0, 0x00, 0x01, 0x12, 0x34, 0x56, 0x78 }; /* offset 0, M */
    const uint8_t atomic[8] = { 0, 0, 0x00, 0x00, 0x12, 0x34, 0x56, 0x78 };
    memio_dispatch_stats st;

    memcpy(pkt, good, n0);
    n = insert_ext(pkt, n0, IPPROTO_FRAGMENT, first, sizeof(first));
    assert_int_equal(dispatch_exact(d, pkt, n), 1);
    assert_int_equal(u.calls, 0);
    assert_int_equal(i.pkt.layer, MEMIO_DISPATCH_LAYER_IP6);
    assert_int_equal(i.pkt.ip6_proto, IPPROTO_UDP);
    assert_int_equal(i.pkt.ip6_frag, 0x0001);
    assert_int_equal(i.pkt.ip6_frag_id, 0x12345678);
    assert_int_equal(i.pkt.ip6_ext_len, 8);
    assert_int_equal(i.len, 8 + 4);
    stats(d, &st);
    assert_int_equal(st.fragments, 1);
    assert_int_equal(st.handled, 1);

    memcpy(pkt, good, n0);
    n = insert_ext(pkt, n0, IPPROTO_FRAGMENT, atomic, sizeof(atomic));
    assert_int_equal(dispatch_exact(d, pkt, n), 2);
    assert_int_equal(u.calls, 1);
    assert_int_equal(u.pkt.ip6_frag, 0);
    assert_memory_equal(u.payload, "frag", 4);
    stats(d, &st);
    assert_int_equal(st.fragments, 1);
    memio_dispatch_free(d);
}

/* Each way an IPv6 header can be short or lie: the link's handler has
 * seen it, nothing further; all counted as malformed_ip. */
static void test_bad_ipv6_headers_are_malformed(void **state)
{
    struct rec e = { .tag = 'e' }, i = { .tag = 'i' }, u = { .tag = 'u' };
    memio_dispatch *d = memio_dispatch_new(MEMIO_DISPATCH_ETHERNET);
    memio_dispatch *dt = everything(MEMIO_DISPATCH_IP, NULL, &i, &u);
    uint8_t good[128], pkt[160], frame[200];
    size_t n = udp6_packet(good, sizeof(good), 7, "lies");
    memio_dispatch_stats st;
    enum { SHORT, EMPTY, VERSION4, PLEN_PAST_END, EXT_PAST_PAYLOAD, HBH_NOT_FIRST, CASES };

    memio_dispatch_add_ether(d, ETHERTYPE_IPV6, record, &e);
    memio_dispatch_add_ip(d, IPPROTO_UDP, record, &i);
    memio_dispatch_add_udp(d, 7, record, &u);
    for (int c = 0; c < CASES; c++) {
        size_t len = n;
        uint16_t v;
        memcpy(pkt, good, n);
        switch (c) {
        case SHORT: len = 39; break;
        case EMPTY: len = 0; break;
        case VERSION4: pkt[0] = 0x40 | (pkt[0] & 0x0f); break; /* under 0x86dd */
        case PLEN_PAST_END: v = htons((uint16_t)(n - 40 + 1)); memcpy(pkt + 4, &v, 2); break;
        case EXT_PAST_PAYLOAD: /* a hop-by-hop header claiming 16 bytes, 8 there */
            len = insert_ext(pkt, n, IPPROTO_HOPOPTS, hbh_pad, sizeof(hbh_pad));
            pkt[41] = 1;
            v = htons(8);
            memcpy(pkt + 4, &v, 2);
            len = 48;
            break;
        case HBH_NOT_FIRST:
            len = insert_ext(pkt, n, IPPROTO_HOPOPTS, hbh_pad, sizeof(hbh_pad));
            len = insert_ext(pkt, len, IPPROTO_DSTOPTS, hbh_pad, sizeof(hbh_pad));
            break;
        }
        assert_int_equal(dispatch_exact(d, frame, ether6(frame, sizeof(frame), pkt, len)), 1);
        if (c != VERSION4 && c != EMPTY) /* on a TUN those are not IPv6 */
            assert_int_equal(dispatch_exact(dt, pkt, len), 0);
    }
    stats(d, &st);
    assert_int_equal(st.malformed_ip, CASES);
    assert_int_equal(e.calls, CASES);
    stats(dt, &st);
    assert_int_equal(st.malformed_ip, CASES - 2);
    assert_int_equal(i.calls, 0);
    assert_int_equal(u.calls, 0);
    memio_dispatch_free(d);
    memio_dispatch_free(dt);
}

/* Every truncation of good IPv6 frames (plain, and with a hop-by-hop
 * header), on both links, is dropped or handled, never read past its end,
 * and counted exactly once. */
static void test_every_ipv6_truncation_is_safe(void **state)
{
    for (int hbh = 0; hbh < 2; hbh++) {
        struct rec e = { .tag = 'e' }, i = { .tag = 'i' }, u = { .tag = 'u' };
        memio_dispatch *de = memio_dispatch_new(MEMIO_DISPATCH_ETHERNET);
        memio_dispatch *dt = memio_dispatch_new(MEMIO_DISPATCH_IP);
        uint8_t pkt[256], frame[256];
        size_t n = udp6_packet(pkt, sizeof(pkt), 7, "truncate me"), fn;
        memio_dispatch_stats st;

        if (hbh)
            n = insert_ext(pkt, n, IPPROTO_HOPOPTS, hbh_pad, sizeof(hbh_pad));
        fn = ether6(frame, sizeof(frame), pkt, n);
        for (int k = 0; k < 2; k++) {
            memio_dispatch *d = k ? dt : de;
            memio_dispatch_add_ether(d, ETHERTYPE_IPV6, record, &e);
            memio_dispatch_add_ip(d, IPPROTO_UDP, record, &i);
            memio_dispatch_add_udp(d, 7, record, &u);
        }
        for (size_t len = 0; len <= fn; len++)
            dispatch_exact(de, frame, len);
        for (size_t len = 0; len <= n; len++)
            dispatch_exact(dt, pkt, len);
        stats(de, &st);
        assert_int_equal(st.frames, fn + 1);
        assert_int_equal(st.malformed_ether, 14);
        assert_int_equal(st.handled, 1);
        assert_int_equal(st.malformed_ip, n); /* 0 to n - 1 bytes of IPv6 */
        stats(dt, &st);
        assert_int_equal(st.frames, n + 1);
        assert_int_equal(st.handled, 1);
        assert_int_equal(st.malformed_ip, n);
        assert_int_equal(u.calls, 2);
        memio_dispatch_free(de);
        memio_dispatch_free(dt);
    }
}

/* Random bytes behind a plausible IPv6 header, with next headers the walk
 * knows: nothing crashes, everything is counted once. */
static void test_random_ipv6_frames_are_safe(void **state)
{
    struct rec e = { .tag = 'e' }, i = { .tag = 'i' }, u = { .tag = 'u' };
    memio_dispatch *de = memio_dispatch_new(MEMIO_DISPATCH_ETHERNET);
    memio_dispatch *dt = memio_dispatch_new(MEMIO_DISPATCH_IP);
    static const uint8_t nh[] = { 0, 43, 44, 50, 51, 59, 60, IPPROTO_UDP, IPPROTO_ICMPV6 };
    uint8_t frame[160];
    uint32_t seed = 54321;
    memio_dispatch_stats st;

    for (int k = 0; k < 2; k++) {
        memio_dispatch *d = k ? dt : de;
        memio_dispatch_add_ether(d, ETHERTYPE_IPV6, record, &e);
        memio_dispatch_add_ip(d, IPPROTO_UDP, record, &i);
        memio_dispatch_add_ip(d, IPPROTO_ICMPV6, record, &i);
        memio_dispatch_add_udp(d, 7, record, &u);
    }
    for (int k = 0; k < 20000; k++) {
        size_t len;
        seed = seed * 1103515245u + 12345u;
        len = (seed >> 16) % sizeof(frame);
        for (size_t b = 0; b < len; b++) {
            seed = seed * 1103515245u + 12345u;
            frame[b] = (uint8_t)(seed >> 16);
        }
        if (len > 14 + 48) {
            size_t plen = (seed >> 8) % (len - 14 - 40 + 4);
            frame[12] = 0x86;
            frame[13] = 0xdd;
            frame[14] = 0x60;
            frame[14 + 4] = (uint8_t)(plen >> 8);
            frame[14 + 5] = (uint8_t)plen;
            frame[14 + 6] = nh[(seed >> 4) % sizeof(nh)];
            frame[14 + 40] = nh[(seed >> 12) % sizeof(nh)];
            frame[14 + 41] = (uint8_t)((seed >> 20) % 4);
        }
        dispatch_exact(de, frame, len);
        if (len > 14)
            dispatch_exact(dt, frame + 14, len - 14);
    }
    stats(de, &st);
    assert_int_equal(st.frames, 20000);
    stats(dt, &st);
    memio_dispatch_free(de);
    memio_dispatch_free(dt);
}

/* --- failures, arguments, and the port ------------------------------------ */

/* A failing handler makes the call return -1 with its errno; the others
 * still run. */
static void test_failing_handler_is_reported_and_others_run(void **state)
{
    struct rec e = { .tag = 'e', .fail = EPROTO }, u = { .tag = 'u' };
    memio_dispatch *d = everything(MEMIO_DISPATCH_ETHERNET, &e, NULL, &u);
    uint8_t frame[256];
    size_t n = udp_frame(frame, sizeof(frame), 7, "x");
    memio_dispatch_stats st;

    errno = 0;
    assert_int_equal(dispatch_exact(d, frame, n), -1);
    assert_int_equal(errno, EPROTO);
    assert_string_equal(order, "eu");
    stats(d, &st);
    assert_int_equal(st.handler_failures, 1);
    assert_int_equal(st.handled, 1);
    memio_dispatch_free(d);
}

static int add_inside(const memio_dispatch_packet *pkt, const uint8_t *payload, size_t len,
                      void *user)
{
    memio_dispatch *d = user;
    int rc = memio_dispatch_add_udp(d, 1, add_inside, d);

    assert_int_equal(rc, -1);
    assert_int_equal(errno, EBUSY);
    return 0;
}

static void test_bad_arguments(void **state)
{
    memio_dispatch *d;
    uint8_t frame[256];
    size_t n = udp_frame(frame, sizeof(frame), 7, "x");
    memio_dispatch_stats st = { .frames = 99 };

    errno = 0;
    assert_null(memio_dispatch_new((memio_dispatch_link)7));
    assert_int_equal(errno, EINVAL);
    d = memio_dispatch_new(MEMIO_DISPATCH_ETHERNET);
    assert_int_equal(memio_dispatch_add_udp(d, 7, NULL, NULL), -1);
    assert_int_equal(errno, EFAULT);
    assert_int_equal(memio_dispatch_add_udp(NULL, 7, record, NULL), -1);
    assert_int_equal(errno, EFAULT);
    assert_int_equal(memio_dispatch_frame(NULL, NULL, frame, n), -1);
    assert_int_equal(errno, EFAULT);
    assert_int_equal(memio_dispatch_frame(d, NULL, NULL, 5), -1);
    assert_int_equal(errno, EFAULT);
    memio_dispatch_add_udp(d, 7, add_inside, d);
    assert_int_equal(dispatch_exact(d, frame, n), 1);
    memio_dispatch_stats_get(NULL, &st);
    assert_int_equal(st.frames, 99);
    memio_dispatch_free(d);
    memio_dispatch_free(NULL);
}

static char port_log[256];

static void capture_log(const char *message, void *user)
{
    snprintf(port_log, sizeof(port_log), "%s", message);
}

/* From a port on a memory TUN: a datagram sent by the test reaches the
 * port's handler with the address and port it left from; a handler that
 * fails is logged by the port. */
static void test_port_feeds_dispatch(void **state)
{
    memio_sys *sys = tu_memory();
    memio_dispatch *d = memio_dispatch_new(MEMIO_DISPATCH_IP);
    memio_port *p = memio_port_new(sys, "tun%d", MEMIO_PORT_TUN, memio_dispatch_on_packet, d);
    struct rec u = { .tag = 'u' };
    struct sockaddr_in to = tu_addr("10.0.0.2", 7);
    struct sockaddr_storage from;
    const struct sockaddr_in *f4 = (const struct sockaddr_in *)&from;

    assert_non_null(p);
    memio_port_set_log(p, capture_log, NULL);
    memio_dispatch_add_udp(d, 7, record, &u);
    assert_int_equal(memio_port_start(p), 0);
    assert_int_equal(memio_send_udp(sys, "via port", 8, (struct sockaddr *)&to, sizeof(to),
                                    &from), 0);
    assert_int_equal(memio_port_read(p), 1);
    assert_int_equal(u.calls, 1);
    assert_memory_equal(u.payload, "via port", 8);
    assert_ptr_equal(u.pkt.port, p);
    assert_int_equal(u.pkt.src.sin_port, f4->sin_port);
    assert_int_equal(u.pkt.src.sin_addr.s_addr, f4->sin_addr.s_addr);
    assert_int_equal(u.pkt.dst.sin_addr.s_addr, to.sin_addr.s_addr);

    u.fail = EIO;
    assert_int_equal(memio_send_udp(sys, "again", 5, (struct sockaddr *)&to, sizeof(to), NULL),
                     0);
    assert_int_equal(memio_port_read(p), 1);
    assert_string_equal(port_log, "<memio_port listening on IFF_TUN/tun0>: packet handler "
                                  "memio_port failed on a 33-byte packet: Input/output error");
    memio_port_free(p);
    memio_dispatch_free(d);
    memio_sys_free(sys);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_ethernet_udp_flows_through_every_layer, setup),
        cmocka_unit_test_setup(test_ip_link_udp_flows_through_every_layer, setup),
        cmocka_unit_test_setup(test_ipv6_with_empty_payload_is_malformed_udp, setup),
        cmocka_unit_test_setup(test_handlers_of_one_value_run_in_order, setup),
        cmocka_unit_test_setup(test_ip_payload_excludes_link_padding, setup),
        cmocka_unit_test_setup(test_udp_after_ip_options, setup),
        cmocka_unit_test_setup(test_unknown_ethertype_is_counted, setup),
        cmocka_unit_test_setup(test_unknown_ip_protocol_is_counted, setup),
        cmocka_unit_test_setup(test_unknown_udp_port_is_counted, setup),
        cmocka_unit_test_setup(test_fragment_skips_the_udp_layer, setup),
        cmocka_unit_test_setup(test_short_ethernet_header_is_malformed, setup),
        cmocka_unit_test_setup(test_short_ip_header_is_malformed, setup),
        cmocka_unit_test_setup(test_empty_or_unknown_version_tun_packet_is_malformed, setup),
        cmocka_unit_test_setup(test_bad_ip_headers_are_malformed, setup),
        cmocka_unit_test_setup(test_bad_udp_headers_are_malformed, setup),
        cmocka_unit_test_setup(test_udp_checksum_zero_is_accepted, setup),
        cmocka_unit_test_setup(test_every_truncation_is_safe, setup),
        cmocka_unit_test_setup(test_random_frames_are_safe, setup),
        cmocka_unit_test_setup(test_ipv6_ethernet_udp_flows_through_every_layer, setup),
        cmocka_unit_test_setup(test_ipv6_tun_udp_flows_and_ipv4_says_version_4, setup),
        cmocka_unit_test_setup(test_icmpv6_reaches_its_protocol_handler, setup),
        cmocka_unit_test_setup(test_unknown_ipv6_next_header_is_counted, setup),
        cmocka_unit_test_setup(test_ipv6_udp_checksum_zero_or_wrong_is_malformed, setup),
        cmocka_unit_test_setup(test_ipv6_extension_headers_are_walked, setup),
        cmocka_unit_test_setup(test_ipv6_fragment_stops_at_the_ip_layer, setup),
        cmocka_unit_test_setup(test_bad_ipv6_headers_are_malformed, setup),
        cmocka_unit_test_setup(test_every_ipv6_truncation_is_safe, setup),
        cmocka_unit_test_setup(test_random_ipv6_frames_are_safe, setup),
        cmocka_unit_test_setup(test_failing_handler_is_reported_and_others_run, setup),
        cmocka_unit_test_setup(test_bad_arguments, setup),
        cmocka_unit_test_setup(test_port_feeds_dispatch, setup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
