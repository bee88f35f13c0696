/*
 * packet.c — building the Ethernet, ARP, IPv4, IPv6, UDP and ICMP packets
 * tests exchange with a tunnel, and the kernel's acceptance checks for UDP
 * over IPv4 and IPv6.  The checksum is in csum.c, the general parser and
 * the ping helper in packet_parse.c.
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
#include <netinet/icmp6.h>
#include <netinet/if_ether.h>
#include <netinet/ip6.h>
#include <netinet/ip_icmp.h>
#include <netinet/udp.h>
#include <string.h>

#include "memio/packet.h"
#include "packet_internal.h"

#define UDP4_HLEN (MEMIO_IPV4_HLEN + MEMIO_UDP_HLEN)
#define IP_FLAG_DF 0x4000
#define IP_FLAG_MF 0x2000
#define IP_OFFSET_MASK 0x1fff
#define IP_DEFAULT_TTL 64

/* The UDP checksum's accumulator over the IPv4 pseudo-header (RFC 768).
 * saddr and daddr are in network order. */
static uint32_t udp4_pseudo_sum(uint32_t saddr, uint32_t daddr, uint16_t udp_len)
{
    struct in_addr s = {.s_addr = saddr}, d = {.s_addr = daddr};
    return memio_csum_pseudo4(s, d, IPPROTO_UDP, udp_len);
}

/* Writes an IPv4 header and UDP datagram carrying payload into buf, as the
 * kernel sends one (E03).  payload may already sit at buf + 28. */
ssize_t memio_packet_udp4(void *buf, size_t cap, const struct sockaddr_in *src,
                          const struct sockaddr_in *dst, uint16_t ip_id,
                          const void *payload, size_t len)
{
    uint8_t *out = buf;
    uint16_t udp_len, sum;

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
    {
        /* The IPv4 and UDP headers, byte by byte; both checksums summed in
         * the host's byte order (csum.c), the payload while it is copied:
         * one pass over it. */
        uint8_t h[UDP4_HLEN], ph[4];
        uint16_t tot = htons((uint16_t)(UDP4_HLEN + len)), id = htons(ip_id);
        uint16_t ulen = htons(udp_len), c;
        uint64_t acc;

        h[0] = 0x45; /* version 4, IHL 5 */
        h[1] = 0;    /* TOS */
        memcpy(h + 2, &tot, 2);
        memcpy(h + 4, &id, 2);
        h[6] = IP_FLAG_DF >> 8;
        h[7] = 0;
        h[8] = IP_DEFAULT_TTL;
        h[9] = IPPROTO_UDP;
        h[10] = h[11] = 0;
        memcpy(h + 12, &src->sin_addr.s_addr, 4);
        memcpy(h + 16, &dst->sin_addr.s_addr, 4);
        memcpy(h + 20, &src->sin_port, 2);
        memcpy(h + 22, &dst->sin_port, 2);
        memcpy(h + 24, &ulen, 2);
        h[26] = h[27] = 0;
        c = htons((uint16_t)~packet__csum_fold_native(packet__sum32(h, MEMIO_IPV4_HLEN)));
        memcpy(h + 10, &c, 2);
        /* The pseudo-header: the addresses (h + 12), zero, protocol, the UDP
         * length; then the UDP header (h + 20). */
        ph[0] = 0;
        ph[1] = IPPROTO_UDP;
        memcpy(ph + 2, &ulen, 2);
        acc = packet__sum32(h + 12, 8) + packet__sum32(ph, 4) + packet__sum32(h + 20, 8);
        if (len > 0)
            acc = packet__csum_copy(acc, out + UDP4_HLEN, payload, len);
        sum = (uint16_t)~packet__csum_fold_native(acc);
        /* 0 in the field means "no checksum" (RFC 768): a sum that computes
         * to 0 is sent as its other one's complement form, 0xffff. */
        c = htons(sum ? sum : 0xffff);
        memcpy(h + 26, &c, 2);
        memcpy(out, h, sizeof h);
    }
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
    if (packet__csum_fold_native(packet__sum32(p, hlen)) != 0xffff)
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

/* The public face of packet__udp4_check: its verdicts as errno values. */
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

/* Splits an Ethernet II frame into its ethertype and payload. */
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

/* ---- the rest of the codec's builders ---- */

#define IP6_DEFAULT_HOPS 64
#define ND_HOPS 255 /* RFC 4861: ND messages with another hop limit are dropped */
#define UDP6_HLEN (MEMIO_IPV6_HLEN + MEMIO_UDP_HLEN)
#define ND_OPT_LEN 8 /* one link-layer address option for Ethernet */

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* The argument checks every builder starts with: buf, payload present
 * when len says so, the packet within its size limit and within cap. */
static int build_check(const void *buf, size_t cap, const void *payload, size_t len,
                       size_t hlen, size_t max_len)
{
    if (!buf || (!payload && len > 0)) {
        errno = EFAULT;
        return -1;
    }
    if (len > max_len) {
        errno = EMSGSIZE;
        return -1;
    }
    if (cap < hlen || cap - hlen < len) {
        errno = ENOBUFS;
        return -1;
    }
    return 0;
}

/* Writes an IPv4 header for a payload of len bytes at out (room checked). */
static void put_ip4(uint8_t *out, struct in_addr src, struct in_addr dst, uint8_t protocol,
                    uint8_t ttl, uint16_t id, uint16_t frag, size_t len)
{
    struct iphdr ip;
    memset(&ip, 0, sizeof ip);
    ip.version = 4;
    ip.ihl = MEMIO_IPV4_HLEN / 4;
    ip.tot_len = htons((uint16_t)(MEMIO_IPV4_HLEN + len));
    ip.id = htons(id);
    ip.frag_off = htons(frag);
    ip.ttl = ttl;
    ip.protocol = protocol;
    ip.saddr = src.s_addr;
    ip.daddr = dst.s_addr;
    ip.check = htons(memio_inet_checksum(&ip, sizeof ip));
    memcpy(out, &ip, sizeof ip);
}

/* Writes an IPv6 header for a payload of len bytes at out (room checked). */
static void put_ip6(uint8_t *out, const struct in6_addr *src, const struct in6_addr *dst,
                    uint8_t next_header, uint8_t hops, size_t len)
{
    struct ip6_hdr ip;
    memset(&ip, 0, sizeof ip);
    ip.ip6_flow = htonl(6u << 28); /* version 6, traffic class 0, flow 0 */
    ip.ip6_plen = htons((uint16_t)len);
    ip.ip6_nxt = next_header;
    ip.ip6_hlim = hops;
    ip.ip6_src = *src;
    ip.ip6_dst = *dst;
    memcpy(out, &ip, sizeof ip);
}

/* Fills in the checksum field (at csum_at) of the upper-layer message at
 * l4 (len bytes) from the pseudo-header sum.  zero_as_ffff: UDP sends a
 * computed 0 as 0xffff, since 0 means "none" (RFC 768). */
static void put_l4_csum(uint8_t *l4, size_t len, size_t csum_at, uint32_t pseudo,
                        int zero_as_ffff)
{
    uint16_t sum;
    put16(l4 + csum_at, 0);
    sum = memio_csum_fold(memio_csum_add(pseudo, l4, len));
    if (sum == 0 && zero_as_ffff)
        sum = 0xffff;
    put16(l4 + csum_at, sum);
}

ssize_t memio_packet_ether_vlan(void *buf, size_t cap, const uint8_t dst[MEMIO_ETH_ALEN],
                                const uint8_t src[MEMIO_ETH_ALEN], uint16_t tci,
                                uint16_t ethertype, const void *payload, size_t len)
{
    const size_t hlen = MEMIO_ETH_HLEN + MEMIO_VLAN_HLEN;
    uint8_t *out = buf;
    struct ether_header eh;

    if (!dst || !src) {
        errno = EFAULT;
        return -1;
    }
    if (build_check(buf, cap, payload, len, hlen, (size_t)SSIZE_MAX - hlen) < 0)
        return -1;
    if (len > 0)
        memmove(out + hlen, payload, len);
    memcpy(eh.ether_dhost, dst, MEMIO_ETH_ALEN);
    memcpy(eh.ether_shost, src, MEMIO_ETH_ALEN);
    eh.ether_type = htons(ETHERTYPE_VLAN);
    memcpy(out, &eh, MEMIO_ETH_HLEN);
    put16(out + MEMIO_ETH_HLEN, tci);
    put16(out + MEMIO_ETH_HLEN + 2, ethertype);
    return (ssize_t)(hlen + len);
}

ssize_t memio_packet_arp(void *buf, size_t cap, uint16_t op, const uint8_t sha[MEMIO_ETH_ALEN],
                         struct in_addr spa, const uint8_t tha[MEMIO_ETH_ALEN],
                         struct in_addr tpa)
{
    struct ether_arp a;

    if (!buf || !sha) {
        errno = EFAULT;
        return -1;
    }
    if (cap < MEMIO_ARP_LEN) {
        errno = ENOBUFS;
        return -1;
    }
    memset(&a, 0, sizeof a);
    a.arp_hrd = htons(ARPHRD_ETHER);
    a.arp_pro = htons(ETHERTYPE_IP);
    a.arp_hln = MEMIO_ETH_ALEN;
    a.arp_pln = 4;
    a.arp_op = htons(op);
    memcpy(a.arp_sha, sha, MEMIO_ETH_ALEN);
    memcpy(a.arp_spa, &spa, 4);
    if (tha)
        memcpy(a.arp_tha, tha, MEMIO_ETH_ALEN);
    memcpy(a.arp_tpa, &tpa, 4);
    memcpy(buf, &a, MEMIO_ARP_LEN);
    return MEMIO_ARP_LEN;
}

ssize_t memio_packet_ip4(void *buf, size_t cap, struct in_addr src, struct in_addr dst,
                         uint8_t protocol, uint8_t ttl, uint16_t id, uint16_t frag,
                         const void *payload, size_t len)
{
    uint8_t *out = buf;
    if (build_check(buf, cap, payload, len, MEMIO_IPV4_HLEN, 65535 - MEMIO_IPV4_HLEN) < 0)
        return -1;
    if (len > 0)
        memmove(out + MEMIO_IPV4_HLEN, payload, len);
    put_ip4(out, src, dst, protocol, ttl, id, frag, len);
    return (ssize_t)(MEMIO_IPV4_HLEN + len);
}

ssize_t memio_packet_ip6(void *buf, size_t cap, const struct in6_addr *src,
                         const struct in6_addr *dst, uint8_t next_header, uint8_t hop_limit,
                         const void *payload, size_t len)
{
    uint8_t *out = buf;
    if (!src || !dst) {
        errno = EFAULT;
        return -1;
    }
    if (build_check(buf, cap, payload, len, MEMIO_IPV6_HLEN, 65535) < 0)
        return -1;
    if (len > 0)
        memmove(out + MEMIO_IPV6_HLEN, payload, len);
    put_ip6(out, src, dst, next_header, hop_limit, len);
    return (ssize_t)(MEMIO_IPV6_HLEN + len);
}

/* The kernel's IPv6 datagram (udp_v6_send_skb): hop limit 64 by default,
 * full checksum, 0 sent as 0xffff (IPv6 has no "no checksum", D32). */
ssize_t memio_packet_udp6(void *buf, size_t cap, const struct sockaddr_in6 *src,
                          const struct sockaddr_in6 *dst, const void *payload, size_t len)
{
    uint8_t *out = buf;
    uint8_t *l4 = out + MEMIO_IPV6_HLEN;
    struct udphdr udp;
    uint32_t acc;

    if (!buf || !src || !dst || (!payload && len > 0)) {
        errno = EFAULT;
        return -1;
    }
    if (src->sin6_family != AF_INET6 || dst->sin6_family != AF_INET6) {
        errno = EAFNOSUPPORT;
        return -1;
    }
    if (build_check(buf, cap, payload, len, UDP6_HLEN, MEMIO_UDP6_MAX_PAYLOAD) < 0)
        return -1;
    if (len > 0)
        memmove(out + UDP6_HLEN, payload, len);
    put_ip6(out, &src->sin6_addr, &dst->sin6_addr, IPPROTO_UDP, IP6_DEFAULT_HOPS,
            MEMIO_UDP_HLEN + len);
    memset(&udp, 0, sizeof udp);
    udp.source = src->sin6_port;
    udp.dest = dst->sin6_port;
    udp.len = htons((uint16_t)(MEMIO_UDP_HLEN + len));
    memcpy(l4, &udp, sizeof udp);
    acc = memio_csum_pseudo6(&src->sin6_addr, &dst->sin6_addr, IPPROTO_UDP,
                             (uint32_t)(MEMIO_UDP_HLEN + len));
    put_l4_csum(l4, MEMIO_UDP_HLEN + len, offsetof(struct udphdr, check), acc, 1);
    return (ssize_t)(UDP6_HLEN + len);
}

/* Writes the 8-byte echo header (type, code 0, checksum 0, id, seq) and
 * moves data behind it; the caller computes the checksum. */
static void put_echo(uint8_t *l4, uint8_t type, uint16_t id, uint16_t seq, const void *data,
                     size_t len)
{
    if (len > 0)
        memmove(l4 + MEMIO_ICMP_HLEN, data, len);
    l4[0] = type;
    l4[1] = 0;
    put16(l4 + 2, 0);
    put16(l4 + 4, id);
    put16(l4 + 6, seq);
}

ssize_t memio_packet_icmp4_echo(void *buf, size_t cap, struct in_addr src, struct in_addr dst,
                                uint8_t type, uint16_t id, uint16_t seq, const void *data,
                                size_t len)
{
    uint8_t *out = buf;
    uint8_t *l4 = out + MEMIO_IPV4_HLEN;
    const size_t hlen = MEMIO_IPV4_HLEN + MEMIO_ICMP_HLEN;

    if (build_check(buf, cap, data, len, hlen, MEMIO_ICMP4_MAX_DATA) < 0)
        return -1;
    if (type != ICMP_ECHO && type != ICMP_ECHOREPLY) {
        errno = EINVAL;
        return -1;
    }
    put_echo(l4, type, id, seq, data, len);
    /* ICMPv4 has no pseudo-header; a computed 0 stays 0. */
    put_l4_csum(l4, MEMIO_ICMP_HLEN + len, offsetof(struct icmphdr, checksum), 0, 0);
    put_ip4(out, src, dst, IPPROTO_ICMP, IP_DEFAULT_TTL, 0, 0, MEMIO_ICMP_HLEN + len);
    return (ssize_t)(hlen + len);
}

ssize_t memio_packet_icmp6_echo(void *buf, size_t cap, const struct in6_addr *src,
                                const struct in6_addr *dst, uint8_t type, uint16_t id,
                                uint16_t seq, const void *data, size_t len)
{
    uint8_t *out = buf;
    uint8_t *l4 = out + MEMIO_IPV6_HLEN;
    const size_t hlen = MEMIO_IPV6_HLEN + MEMIO_ICMP_HLEN;
    uint32_t acc;

    if (!src || !dst) {
        errno = EFAULT;
        return -1;
    }
    if (build_check(buf, cap, data, len, hlen, MEMIO_ICMP6_MAX_DATA) < 0)
        return -1;
    if (type != ICMP6_ECHO_REQUEST && type != ICMP6_ECHO_REPLY) {
        errno = EINVAL;
        return -1;
    }
    put_echo(l4, type, id, seq, data, len);
    acc = memio_csum_pseudo6(src, dst, IPPROTO_ICMPV6, (uint32_t)(MEMIO_ICMP_HLEN + len));
    put_l4_csum(l4, MEMIO_ICMP_HLEN + len, offsetof(struct icmp6_hdr, icmp6_cksum), acc, 0);
    put_ip6(out, src, dst, IPPROTO_ICMPV6, IP6_DEFAULT_HOPS, MEMIO_ICMP_HLEN + len);
    return (ssize_t)(hlen + len);
}

/* Builds an NS or NA: the 24-byte message (type, code, checksum, first
 * word, target), an optional link-layer address option, the IPv6 header. */
static ssize_t put_nd(void *buf, size_t cap, const struct in6_addr *src,
                      const struct in6_addr *dst, uint8_t type, uint32_t word,
                      const struct in6_addr *target, uint8_t opt_type,
                      const uint8_t lladdr[MEMIO_ETH_ALEN])
{
    uint8_t *out = buf;
    uint8_t *l4 = out + MEMIO_IPV6_HLEN;
    size_t l4_len = sizeof(struct nd_neighbor_solicit) + (lladdr ? ND_OPT_LEN : 0);
    struct nd_neighbor_solicit m; /* an NA has the same layout */
    uint32_t acc;

    if (build_check(buf, cap, NULL, 0, MEMIO_IPV6_HLEN + l4_len, 0) < 0)
        return -1;
    memset(&m, 0, sizeof m);
    m.nd_ns_type = type;
    m.nd_ns_reserved = htonl(word);
    m.nd_ns_target = *target;
    memcpy(l4, &m, sizeof m);
    if (lladdr) {
        uint8_t *opt = l4 + sizeof m;
        opt[0] = opt_type;
        opt[1] = 1; /* in units of 8 bytes */
        memcpy(opt + 2, lladdr, MEMIO_ETH_ALEN);
    }
    acc = memio_csum_pseudo6(src, dst, IPPROTO_ICMPV6, (uint32_t)l4_len);
    put_l4_csum(l4, l4_len, offsetof(struct icmp6_hdr, icmp6_cksum), acc, 0);
    put_ip6(out, src, dst, IPPROTO_ICMPV6, ND_HOPS, l4_len);
    return (ssize_t)(MEMIO_IPV6_HLEN + l4_len);
}

ssize_t memio_packet_icmp6_ns(void *buf, size_t cap, const struct in6_addr *src,
                              const struct in6_addr *target,
                              const uint8_t lladdr[MEMIO_ETH_ALEN])
{
    struct in6_addr snm;

    if (!src || !target) {
        errno = EFAULT;
        return -1;
    }
    /* RFC 4861 7.1.1: a solicitation from the unspecified address (DAD)
     * carries no source link-layer address option. */
    if (lladdr && IN6_IS_ADDR_UNSPECIFIED(src)) {
        errno = EINVAL;
        return -1;
    }
    /* The solicited-node multicast address: ff02::1:ff and the target's
     * low 24 bits (RFC 4291 2.7.1). */
    memset(&snm, 0, sizeof snm);
    snm.s6_addr[0] = 0xff;
    snm.s6_addr[1] = 0x02;
    snm.s6_addr[11] = 0x01;
    snm.s6_addr[12] = 0xff;
    memcpy(&snm.s6_addr[13], &target->s6_addr[13], 3);
    return put_nd(buf, cap, src, &snm, ND_NEIGHBOR_SOLICIT, 0, target, ND_OPT_SOURCE_LINKADDR,
                  lladdr);
}

ssize_t memio_packet_icmp6_na(void *buf, size_t cap, const struct in6_addr *src,
                              const struct in6_addr *dst, const struct in6_addr *target,
                              uint32_t flags, const uint8_t lladdr[MEMIO_ETH_ALEN])
{
    if (!src || !dst || !target) {
        errno = EFAULT;
        return -1;
    }
    if (flags & ~(uint32_t)0xe0000000u) {
        errno = EINVAL;
        return -1;
    }
    return put_nd(buf, cap, src, dst, ND_NEIGHBOR_ADVERT, flags, target,
                  ND_OPT_TARGET_LINKADDR, lladdr);
}

/* ---- UDP over IPv6, as a kernel socket would accept it ---- */

int packet__ip6_walk(const uint8_t *ip, size_t len, uint8_t *proto, size_t *l4_off,
                     size_t *frag_off, const char **why)
{
    uint8_t nh = ip[6];
    size_t off = MEMIO_IPV6_HLEN, hl;

    *frag_off = 0;
    for (;;) {
        switch (nh) {
        case IPPROTO_HOPOPTS:
            /* ipv6_rcv parses hop-by-hop options only right after the fixed
             * header; anywhere else the stack refuses it. */
            if (off != MEMIO_IPV6_HLEN) {
                *why = "hop-by-hop header not first";
                return -2;
            }
            /* fall through */
        case IPPROTO_ROUTING:
        case IPPROTO_DSTOPTS:
        case IPPROTO_AH:
            if (len - off < 2) {
                *why = "extension header past payload";
                return -1;
            }
            /* AH counts 4-byte units less 2, the others 8-byte units less 1. */
            hl = nh == IPPROTO_AH ? ((size_t)ip[off + 1] + 2) * 4
                                  : ((size_t)ip[off + 1] + 1) * 8;
            if (len - off < hl) {
                *why = "extension header past payload";
                return -1;
            }
            nh = ip[off];
            off += hl;
            break;
        case IPPROTO_FRAGMENT:
            if (len - off < sizeof(struct ip6_frag)) {
                *why = "fragment header past payload";
                return -1;
            }
            /* An atomic fragment (offset 0, no more) is the whole packet:
             * the kernel reads on past it (RFC 6946). */
            if (((ip[off + 2] << 8 | ip[off + 3]) & 0xfff9) == 0) {
                nh = ip[off];
                off += sizeof(struct ip6_frag);
                break;
            }
            /* What follows belongs to the reassembled packet: stop here. */
            *frag_off = off;
            *proto = ip[off];
            *l4_off = off + sizeof(struct ip6_frag);
            return 0;
        default:
            *proto = nh;
            *l4_off = off;
            return 0;
        }
    }
}

enum packet_udp6_verdict packet__udp6_check(const void *ip, size_t len, bool verify_udp_csum,
                                            memio_udp6_view *out)
{
    const uint8_t *p = ip;
    struct ip6_hdr iph;
    struct udphdr udp;
    size_t tot, l4, frag, ip_payload, ulen;
    uint8_t proto;
    const char *why;

    if (len < 1)
        return U6_IP_HEADER;
    if ((p[0] >> 4) != 6)
        return U6_NOT_IPV6;
    if (len < MEMIO_IPV6_HLEN)
        return U6_IP_HEADER;
    memcpy(&iph, p, sizeof iph);
    /* Bytes past the payload length are link padding: trimmed (ipv6_rcv). */
    tot = MEMIO_IPV6_HLEN + (size_t)ntohs(iph.ip6_plen);
    if (tot > len)
        return U6_IP_HEADER;
    if (packet__ip6_walk(p, tot, &proto, &l4, &frag, &why) != 0)
        return U6_EXT_HEADER;
    if (frag)
        return U6_FRAGMENT;
    if (proto != IPPROTO_UDP)
        return U6_NOT_UDP;
    ip_payload = tot - l4;
    if (ip_payload < MEMIO_UDP_HLEN)
        return U6_UDP_LENGTH;
    memcpy(&udp, p + l4, sizeof udp);
    /* __udp6_lib_rcv: a zero length means the rest of the payload (a
     * jumbogram's); longer than the payload is a short packet. */
    ulen = ntohs(udp.len);
    if (ulen == 0)
        ulen = ip_payload;
    if (ulen < MEMIO_UDP_HLEN || ulen > ip_payload)
        return U6_UDP_LENGTH;
    if (udp.check == 0)
        return U6_UDP_CSUM_ZERO;
    if (verify_udp_csum) {
        uint32_t acc = memio_csum_pseudo6(&iph.ip6_src, &iph.ip6_dst, IPPROTO_UDP,
                                          (uint32_t)ulen);
        acc = memio_csum_add(acc, p + l4, ulen);
        if (memio_csum_fold(acc) != 0)
            return U6_UDP_CHECKSUM;
    }

    memset(out, 0, sizeof *out);
    out->src.sin6_family = AF_INET6;
    out->src.sin6_port = udp.source;
    out->src.sin6_addr = iph.ip6_src;
    out->dst.sin6_family = AF_INET6;
    out->dst.sin6_port = udp.dest;
    out->dst.sin6_addr = iph.ip6_dst;
    out->hop_limit = iph.ip6_hlim;
    out->flow_label = ntohl(iph.ip6_flow) & 0xfffff;
    out->udp_checksum = ntohs(udp.check);
    out->payload = p + l4 + MEMIO_UDP_HLEN;
    out->payload_len = ulen - MEMIO_UDP_HLEN;
    return U6_OK;
}

/* The public face of packet__udp6_check: its verdicts as errno values. */
int memio_packet_parse_udp6(const void *ip, size_t len, memio_udp6_view *out)
{
    memio_udp6_view v;

    if (!ip || !out) {
        errno = EFAULT;
        return -1;
    }
    switch (packet__udp6_check(ip, len, true, &v)) {
    case U6_OK:
        *out = v;
        return 0;
    case U6_NOT_IPV6:
    case U6_NOT_UDP:
        errno = EPROTONOSUPPORT;
        return -1;
    default:
        errno = EBADMSG;
        return -1;
    }
}
