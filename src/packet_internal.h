/*
 * packet_internal.h — the UDP/IPv4 and UDP/IPv6 acceptance checks behind
 * memio_packet_parse_udp4 and memio_packet_parse_udp6, with the reason a
 * kernel would drop a datagram, for the memory device's receive
 * descriptors (udp.c); and the checksum implementations behind
 * memio_csum_add, for tests and the benchmark.
 */
#ifndef MEMIO_PACKET_INTERNAL_H
#define MEMIO_PACKET_INTERNAL_H

#include <memio/packet.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

enum packet_udp4_verdict {
    U4_OK = 0,
    U4_NOT_IPV4,     /* version nibble not 4 */
    U4_IP_HEADER,    /* too short, IHL < 5, total length wrong (D15, D16) */
    U4_IP_CHECKSUM,  /* D09 */
    U4_FRAGMENT,     /* MF or an offset: the kernel would reassemble */
    U4_NOT_UDP,      /* protocol is not 17 */
    U4_UDP_LENGTH,   /* UDP length < 8 or past the IP payload */
    U4_UDP_CHECKSUM, /* D08 (0 is accepted on IPv4, D06) */
};

/* Checks ip (len bytes, an IPv4 packet) as ip_rcv_core and udp_rcv do, in
 * their order; fills *out only when it returns U4_OK.  verify_udp_csum is
 * false for a datagram the writer marked CHECKSUM_PARTIAL (a virtio-net
 * header with NEEDS_CSUM), whose checksum the kernel trusts.  Pointers must
 * be valid. */
enum packet_udp4_verdict packet__udp4_check(const void *ip, size_t len, bool verify_udp_csum,
                                            memio_udp4_view *out);

enum packet_udp6_verdict {
    U6_OK = 0,
    U6_NOT_IPV6,      /* version nibble not 6 */
    U6_IP_HEADER,     /* shorter than 40 bytes, payload length past the buffer */
    U6_EXT_HEADER,    /* an extension header truncated or misplaced */
    U6_FRAGMENT,      /* a fragment header: the kernel would reassemble */
    U6_NOT_UDP,       /* the upper layer is not 17 */
    U6_UDP_LENGTH,    /* UDP length < 8 or past the IPv6 payload */
    U6_UDP_CSUM_ZERO, /* D32: IPv6 requires a UDP checksum */
    U6_UDP_CHECKSUM,  /* D33 */
};

/* Checks ip (len bytes, an IPv6 packet) as ipv6_rcv, the extension header
 * handlers and __udp6_lib_rcv do, in their order; fills *out only when it
 * returns U6_OK.  A UDP length of 0 stands for the rest of the payload (the
 * kernel's jumbogram reading).  verify_udp_csum is false for a datagram the
 * writer marked CHECKSUM_PARTIAL; a zero checksum is refused either way.
 * Pointers must be valid. */
enum packet_udp6_verdict packet__udp6_check(const void *ip, size_t len, bool verify_udp_csum,
                                            memio_udp6_view *out);

/* Walks the IPv6 extension headers after the fixed header of ip (len bytes,
 * at least 40, already trimmed to the payload length): on success returns
 * 0 and stores the upper-layer protocol and its offset from ip, and the
 * offset of a fragment header (or 0; the walk stops at one, and passes an
 * atomic fragment by).  On failure returns -1 when a header runs past len,
 * -2 when one is misplaced, and *why says what is wrong (a static string). */
int packet__ip6_walk(const uint8_t *ip, size_t len, uint8_t *proto, size_t *l4_off,
                     size_t *frag_off, const char **why);

/* The checksum implementations: each adds data's 16-bit words, in host
 * byte order, to a 64-bit one's complement accumulator.  memio_csum_add
 * uses the fastest the CPU has, chosen once (MEMIO_CSUM=portable or avx2
 * caps the choice).  The _copy ones also copy data to dst, which must not
 * overlap it (packet__csum_copy below takes any buffers). */
uint64_t packet__csum_portable(uint64_t acc, const void *data, size_t len);
uint64_t packet__csum_copy_portable(uint64_t acc, void *dst, const void *src, size_t len);
#if defined(__x86_64__) || defined(__i386__)
/* Only on a CPU with AVX2 (__builtin_cpu_supports("avx2")). */
uint64_t packet__csum_avx2(uint64_t acc, const void *data, size_t len);
uint64_t packet__csum_copy_avx2(uint64_t acc, void *dst, const void *src, size_t len);
/* Only on a CPU with AVX512F and AVX512BW. */
uint64_t packet__csum_avx512(uint64_t acc, const void *data, size_t len);
uint64_t packet__csum_copy_avx512(uint64_t acc, void *dst, const void *src, size_t len);
#endif
/* "avx512", "avx2" or "portable": the one memio_csum_add uses. */
const char *packet__csum_impl_name(void);

/* The checksum in one pass with a copy (csum.c): copies len bytes from src
 * to dst (which may be the same buffer, or overlap) and adds them to s, a
 * sum of 16-bit words in the host's byte order starting at an even offset
 * of the packet; packet__csum_fold_native turns such a sum into the
 * big-endian one's complement sum, host order, ready for memio_csum_fold's
 * complement (0 to 0xffff; ~ of it is the field). */
uint64_t packet__csum_copy(uint64_t s, void *dst, const void *src, size_t len);
/* The native-order sum, as above, of a short header whose length is a
 * multiple of 4: 32-bit words added into 64 bits cannot carry out, and fold
 * as the 16-bit words would. */
static inline uint64_t packet__sum32(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t s = 0;
    size_t i;

    for (i = 0; i < len; i += 4) {
        uint32_t w;
        memcpy(&w, p + i, 4);
        s += w;
    }
    return s;
}
static inline uint16_t packet__csum_fold_native(uint64_t s)
{
    s = (s >> 32) + (s & 0xffffffffu);
    s = (s >> 32) + (s & 0xffffffffu);
    s = (s >> 16) + (s & 0xffffu);
    s = (s >> 16) + (s & 0xffffu);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return __builtin_bswap16((uint16_t)s);
#else
    return (uint16_t)s;
#endif
}

#endif
