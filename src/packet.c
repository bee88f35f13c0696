/*
 * packet.c — the internet checksum, and building and parsing the Ethernet,
 * IPv4 and UDP headers of the packets tests exchange with a tunnel.
 *
 * Everything works on the caller's bytes through memcpy: a packet read from
 * a tunnel may sit at any address, and casting it to a header struct would
 * be an unaligned access.  Nothing here allocates.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <net/ethernet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <string.h>

#include "memio/packet.h"
#include "packet_internal.h"

#define UDP4_HLEN (MEMIO_IPV4_HLEN + MEMIO_UDP_HLEN)
#define IP_FLAG_DF 0x4000
#define IP_FLAG_MF 0x2000
#define IP_OFFSET_MASK 0x1fff
#define IP_DEFAULT_TTL 64

/* Folds a 64-bit one's complement accumulator to 16 bits.  A non-zero
 * input never folds to 0, so 0 and 0xffff keep their distinct meanings. */
static uint16_t fold64(uint64_t s)
{
    s = (s >> 32) + (s & 0xffffffffu);
    s = (s >> 32) + (s & 0xffffffffu);
    s = (s >> 16) + (s & 0xffffu);
    s = (s >> 16) + (s & 0xffffu);
    return (uint16_t)s;
}

/* One's complement addition of two 64-bit words: the carry out of the top
 * goes back in at the bottom. */
static inline uint64_t add_carry(uint64_t a, uint64_t b)
{
    a += b;
    return a + (a < b);
}

static inline uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* Sums data as 64-bit words in host byte order.  Because one's complement
 * addition commutes with byte swapping (RFC 1071 section 2(B)), each 16-bit
 * lane of the result, folded, is the sum of the big-endian words as they
 * are stored in memory: converting it with ntohs gives the big-endian sum on
 * any host.  Lanes follow the byte offset from data, not the address, so
 * alignment does not matter. */
static uint64_t sum_native(uint64_t s, const uint8_t *p, size_t len)
{
    while (len >= 32) {
        s = add_carry(s, load64(p));
        s = add_carry(s, load64(p + 8));
        s = add_carry(s, load64(p + 16));
        s = add_carry(s, load64(p + 24));
        p += 32;
        len -= 32;
    }
    while (len >= 8) {
        s = add_carry(s, load64(p));
        p += 8;
        len -= 8;
    }
    if (len > 0) {
        /* The tail, zero-padded to 8 bytes: an odd last byte lands at an
         * even offset and so becomes the high byte of its word. */
        uint8_t tail[8] = { 0 };
        memcpy(tail, p, len);
        s = add_carry(s, load64(tail));
    }
    return s;
}

/* Adds the big-endian 16-bit words of data to sum and returns the new sum,
 * folded to at most 0xffff.  NULL data with a non-zero length is a bad
 * pointer: sum comes back unchanged and errno is EFAULT. */
uint32_t memio_csum_add(uint32_t sum, const void *data, size_t len)
{
    uint64_t s;
    if (len == 0)
        return sum;
    if (!data) {
        errno = EFAULT;
        return sum;
    }
    /* Bring the caller's big-endian sum into the host-order lanes. */
    s = htons(fold64(sum));
    s = sum_native(s, data, len);
    return ntohs(fold64(s));
}

/* Folds sum to 16 bits and complements it. */
uint16_t memio_csum_fold(uint32_t sum)
{
    return (uint16_t)~fold64(sum);
}

/* The RFC 1071 checksum of data, host order. */
uint16_t memio_inet_checksum(const void *data, size_t len)
{
    return memio_csum_fold(memio_csum_add(0, data, len));
}

/* The UDP checksum's accumulator over the IPv4 pseudo-header (RFC 768):
 * source, destination, zero, protocol, UDP length.  saddr and daddr are in
 * network order. */
static uint32_t udp4_pseudo_sum(uint32_t saddr, uint32_t daddr, uint16_t udp_len)
{
    uint8_t ph[12];
    memcpy(ph, &saddr, 4);
    memcpy(ph + 4, &daddr, 4);
    ph[8] = 0;
    ph[9] = IPPROTO_UDP;
    ph[10] = (uint8_t)(udp_len >> 8);
    ph[11] = (uint8_t)udp_len;
    return memio_csum_add(0, ph, sizeof ph);
}

/* Writes an IPv4 header and UDP datagram carrying payload into buf, as the
 * kernel sends one (E03).  payload may already sit at buf + 28. */
ssize_t memio_packet_udp4(void *buf, size_t cap, const struct sockaddr_in *src,
                          const struct sockaddr_in *dst, uint16_t ip_id,
                          const void *payload, size_t len)
{
    struct iphdr ip;
    struct udphdr udp;
    uint8_t *out = buf;
    uint16_t udp_len, sum;
    uint32_t acc;

    if (!buf || !src || !dst || (!payload && len > 0)) {
        errno = EFAULT;
        return -1;
    }
    if (src->sin_family != AF_INET || dst->sin_family != AF_INET) {
        errno = EAFNOSUPPORT;
        return -1;
    }
    if (len > MEMIO_UDP4_MAX_PAYLOAD) {
        errno = EMSGSIZE;
        return -1;
    }
    if (cap < UDP4_HLEN + len) {
        errno = ENOBUFS;
        return -1;
    }
    udp_len = (uint16_t)(MEMIO_UDP_HLEN + len);

    memset(&ip, 0, sizeof ip);
    ip.version = 4;
    ip.ihl = MEMIO_IPV4_HLEN / 4;
    ip.tos = 0;
    ip.tot_len = htons((uint16_t)(UDP4_HLEN + len));
    ip.id = htons(ip_id);
    ip.frag_off = htons(IP_FLAG_DF);
    ip.ttl = IP_DEFAULT_TTL;
    ip.protocol = IPPROTO_UDP;
    ip.saddr = src->sin_addr.s_addr;
    ip.daddr = dst->sin_addr.s_addr;
    ip.check = htons(memio_inet_checksum(&ip, sizeof ip));

    memset(&udp, 0, sizeof udp);
    udp.source = src->sin_port;
    udp.dest = dst->sin_port;
    udp.len = htons(udp_len);
    udp.check = 0;

    if (len > 0)
        memmove(out + UDP4_HLEN, payload, len);

    acc = udp4_pseudo_sum(ip.saddr, ip.daddr, udp_len);
    acc = memio_csum_add(acc, &udp, sizeof udp);
    acc = memio_csum_add(acc, out + UDP4_HLEN, len);
    sum = memio_csum_fold(acc);
    /* 0 in the field means "no checksum" (RFC 768): a sum that computes to
     * 0 is sent as its other one's complement form, 0xffff. */
    udp.check = htons(sum ? sum : 0xffff);

    memcpy(out, &ip, sizeof ip);
    memcpy(out + MEMIO_IPV4_HLEN, &udp, sizeof udp);
    return (ssize_t)(UDP4_HLEN + len);
}

/* Writes an Ethernet II header and payload into buf.  payload may already
 * sit at buf + 14. */
ssize_t memio_packet_ether(void *buf, size_t cap, const uint8_t dst[MEMIO_ETH_ALEN],
                           const uint8_t src[MEMIO_ETH_ALEN], uint16_t ethertype,
                           const void *payload, size_t len)
{
    struct ether_header eh;
    uint8_t *out = buf;

    if (!buf || !dst || !src || (!payload && len > 0)) {
        errno = EFAULT;
        return -1;
    }
    /* Ethernet has no length field; the only limit is the return type. */
    if (len > (size_t)SSIZE_MAX - MEMIO_ETH_HLEN) {
        errno = EMSGSIZE;
        return -1;
    }
    if (cap < MEMIO_ETH_HLEN + len) {
        errno = ENOBUFS;
        return -1;
    }
    memcpy(eh.ether_dhost, dst, MEMIO_ETH_ALEN);
    memcpy(eh.ether_shost, src, MEMIO_ETH_ALEN);
    eh.ether_type = htons(ethertype);
    if (len > 0)
        memmove(out + MEMIO_ETH_HLEN, payload, len);
    memcpy(out, &eh, MEMIO_ETH_HLEN);
    return (ssize_t)(MEMIO_ETH_HLEN + len);
}

/* Checks an IPv4 packet the way ip_rcv_core, ip_local_deliver and udp_rcv
 * do, in their order, and fills *out only when the kernel would hand the
 * datagram to a socket. */
enum packet_udp4_verdict packet__udp4_check(const void *ip, size_t len, bool verify_udp_csum,
                                            memio_udp4_view *out)
{
    const uint8_t *p = ip;
    struct iphdr iph;
    struct udphdr udp;
    size_t hlen, tot, ip_payload, ulen;
    uint16_t frag;

    if (len < 1)
        return U4_IP_HEADER;
    if ((p[0] >> 4) != 4)
        return U4_NOT_IPV4;
    if (len < MEMIO_IPV4_HLEN)
        return U4_IP_HEADER;
    memcpy(&iph, p, sizeof iph);
    hlen = (size_t)iph.ihl * 4;
    if (hlen < MEMIO_IPV4_HLEN || hlen > len)
        return U4_IP_HEADER;
    if (memio_inet_checksum(p, hlen) != 0)
        return U4_IP_CHECKSUM;
    /* Bytes past the total length are link padding: ignored (D17). */
    tot = ntohs(iph.tot_len);
    if (tot < hlen || tot > len)
        return U4_IP_HEADER;
    /* A fragment would wait for reassembly; DF and the reserved bit do not
     * matter (ip_is_fragment tests MF and the offset only). */
    frag = ntohs(iph.frag_off);
    if (frag & (IP_FLAG_MF | IP_OFFSET_MASK))
        return U4_FRAGMENT;
    if (iph.protocol != IPPROTO_UDP)
        return U4_NOT_UDP;

    ip_payload = tot - hlen;
    if (ip_payload < MEMIO_UDP_HLEN)
        return U4_UDP_LENGTH;
    memcpy(&udp, p + hlen, sizeof udp);
    /* udp_rcv: a UDP length past the IP payload is a short packet; a
     * shorter one trims the datagram to it. */
    ulen = ntohs(udp.len);
    if (ulen < MEMIO_UDP_HLEN || ulen > ip_payload)
        return U4_UDP_LENGTH;
    /* A zero checksum means the sender computed none (D06). */
    if (udp.check != 0 && verify_udp_csum) {
        uint32_t acc = udp4_pseudo_sum(iph.saddr, iph.daddr, (uint16_t)ulen);
        acc = memio_csum_add(acc, p + hlen, ulen);
        if (memio_csum_fold(acc) != 0)
            return U4_UDP_CHECKSUM;
    }

    memset(out, 0, sizeof *out);
    out->src.sin_family = AF_INET;
    out->src.sin_port = udp.source;
    out->src.sin_addr.s_addr = iph.saddr;
    out->dst.sin_family = AF_INET;
    out->dst.sin_port = udp.dest;
    out->dst.sin_addr.s_addr = iph.daddr;
    out->ttl = iph.ttl;
    out->ip_id = ntohs(iph.id);
    out->frag = frag;
    out->udp_checksum = ntohs(udp.check);
    out->payload = p + hlen + MEMIO_UDP_HLEN;
    out->payload_len = ulen - MEMIO_UDP_HLEN;
    return U4_OK;
}

/* Splits an Ethernet II frame into its ethertype and payload. */
int memio_packet_parse_udp4(const void *ip, size_t len, memio_udp4_view *out)
{
    memio_udp4_view v;

    if (!ip || !out) {
        errno = EFAULT;
        return -1;
    }
    switch (packet__udp4_check(ip, len, true, &v)) {
    case U4_OK:
        *out = v;
        return 0;
    case U4_NOT_IPV4:
    case U4_NOT_UDP:
        errno = EPROTONOSUPPORT;
        return -1;
    default:
        errno = EBADMSG;
        return -1;
    }
}

int memio_packet_parse_ether(const void *frame, size_t len, uint16_t *ethertype,
                             const uint8_t **payload, size_t *payload_len)
{
    const uint8_t *p = frame;

    if (!frame || !ethertype || !payload || !payload_len) {
        errno = EFAULT;
        return -1;
    }
    if (len < MEMIO_ETH_HLEN) {
        errno = EBADMSG;
        return -1;
    }
    *ethertype = (uint16_t)(p[12] << 8 | p[13]);
    *payload = p + MEMIO_ETH_HLEN;
    *payload_len = len - MEMIO_ETH_HLEN;
    return 0;
}
