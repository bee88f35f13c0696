/*
 * fuzz_packet.c — libFuzzer target for packet.h's parsers and checksum.
 *
 * The first input byte picks the link layer (bit 0: Ethernet or IP); the
 * rest is the frame, in a buffer of exactly its length (libFuzzer's), so
 * AddressSanitizer catches any read past it.  Besides "no crash, no read
 * out of bounds, no undefined behaviour", it checks the parsers' promises:
 * a parse that fails names an error, a layer and a reason; the views point
 * inside the frame; the checksum implementations agree.
 *
 * Build and run: fuzz/run.sh [SECONDS].
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "memio/packet.h"
#include "packet_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        if (!(cond))                                                                       \
            __builtin_trap();                                                              \
    } while (0)

/* [q, q + n) lies within [p, p + len). */
static int inside(const uint8_t *p, size_t len, const uint8_t *q, size_t n)
{
    if (!q)
        return n == 0;
    return q >= p && (size_t)(q - p) <= len && n <= len - (size_t)(q - p);
}

static void check_parse(const uint8_t *p, size_t len, int link)
{
    memio_packet pk;
    int r = memio_packet_parse(p, len, link, &pk);

    if (r == 0) {
        CHECK(pk.err == MEMIO_PKT_OK);
        CHECK(inside(p, len, pk.payload, pk.payload_len));
        CHECK(inside(p, len, pk.l4, pk.l4_len));
    } else {
        CHECK(pk.err != MEMIO_PKT_OK);
        CHECK(pk.err_reason && pk.err_reason[0]);
        CHECK(strcmp(memio_packet_layer_name(pk.err_layer), "unknown") != 0);
        CHECK(strcmp(memio_packet_err_name(pk.err), "unknown") != 0);
    }
}

static uint16_t fold(uint64_t s)
{
    s = (s >> 32) + (s & 0xffffffffu);
    s = (s >> 32) + (s & 0xffffffffu);
    s = (s >> 16) + (s & 0xffff);
    s = (s >> 16) + (s & 0xffff);
    return (uint16_t)s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    memio_udp4_view v4;
    memio_udp6_view v6;
    const uint8_t *pl;
    uint16_t type;
    size_t n, pl_len;
    const uint8_t *p;
    struct sockaddr_in me4 = {.sin_family = AF_INET}, peer4 = {.sin_family = AF_INET};
    struct sockaddr_in6 me6 = {.sin6_family = AF_INET6}, peer6 = {.sin6_family = AF_INET6};

    if (size < 1)
        return 0;
    p = data + 1;
    n = size - 1;

    check_parse(p, n, data[0] & 1);
    check_parse(p, n, !(data[0] & 1));

    if (memio_packet_parse_udp4(p, n, &v4) == 0)
        CHECK(inside(p, n, v4.payload, v4.payload_len));
    if (memio_packet_parse_udp6(p, n, &v6) == 0)
        CHECK(inside(p, n, v6.payload, v6.payload_len));
    if (memio_packet_parse_ether(p, n, &type, &pl, &pl_len) == 0)
        CHECK(inside(p, n, pl, pl_len));

    /* Replies from the packet's own addresses, when it has them. */
    if (n >= 20) {
        memcpy(&peer4.sin_addr, p + 12, 4);
        memcpy(&me4.sin_addr, p + 16, 4);
        CHECK(memio_ping_is_reply(p, n, (struct sockaddr *)&me4, (struct sockaddr *)&peer4,
                                  0, 0, NULL, 0) >= 0);
    }
    if (n >= 40) {
        memcpy(&peer6.sin6_addr, p + 8, 16);
        memcpy(&me6.sin6_addr, p + 24, 16);
        CHECK(memio_ping_is_reply(p, n, (struct sockaddr *)&me6, (struct sockaddr *)&peer6,
                                  0, 0, NULL, 0) >= 0);
    }

    /* The checksum implementations agree, at every start within 8 bytes. */
    {
        size_t off;
        for (off = 0; off < 8 && off <= n; off++) {
            uint16_t a = fold(packet__csum_portable(0, p + off, n - off));
#if defined(__x86_64__) || defined(__i386__)
            if (__builtin_cpu_supports("avx2"))
                CHECK(fold(packet__csum_avx2(0, p + off, n - off)) == a);
            if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw"))
                CHECK(fold(packet__csum_avx512(0, p + off, n - off)) == a);
#endif
            CHECK(memio_inet_checksum(p + off, n - off) == (uint16_t)~ntohs(a));
        }
    }
    return 0;
}
