/*
 * packet_parse.c — taking a frame apart layer by layer (Ethernet with an
 * 802.1Q tag, ARP, IPv4, IPv6 and its extension headers, UDP, ICMP,
 * ICMPv6), saying which layer is malformed and why; and the ping helper.
 *
 * Every read is bounds-checked against the length the enclosing layer
 * gives, and every multi-byte field is read byte by byte or through
 * memcpy: a frame may sit at any address and be any length.  Nothing here
 * allocates; the result points into the caller's buffer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/ethernet.h>
#include <net/if_arp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/ip_icmp.h>
#include <string.h>

#include "memio/packet.h"
#include "packet_internal.h"

#define IP_FLAG_MF 0x2000
#define IP_OFFSET_MASK 0x1fff
#define ND_MSG_LEN 24    /* type, code, checksum, flags/reserved, target */
#define ND_HOP_LIMIT 255 /* RFC 4861 7.1.1: anything else is dropped */

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Records why parsing stopped; returns -1 with EBADMSG for the caller to
 * pass on. */
static int bad(memio_packet *out, memio_pkt_err err, memio_pkt_layer layer, const char *why)
{
    out->err = err;
    out->err_layer = layer;
    out->err_reason = why;
    errno = EBADMSG;
    return -1;
}

/* Data the walk does not parse further. */
static int rest(memio_packet *out, const uint8_t *p, size_t len)
{
    out->payload = len ? p : NULL;
    out->payload_len = len;
    return 0;
}

/* UDP over IPv4 (ipv6 false) or IPv6: lengths as udp_rcv and
 * __udp6_lib_rcv read them, checksum as they verify it. */
static int parse_udp(memio_packet *out, const uint8_t *l4, size_t len, int ipv6)
{
    size_t ulen;
    uint32_t acc;

    if (len < MEMIO_UDP_HLEN)
        return bad(out, MEMIO_PKT_ERR_TRUNCATED, MEMIO_LAYER_UDP, "header past IP payload");
    out->layers |= MEMIO_LAYER_UDP;
    out->udp.sport = get16(l4);
    out->udp.dport = get16(l4 + 2);
    out->udp.len = get16(l4 + 4);
    out->udp.checksum = get16(l4 + 6);
    ulen = out->udp.len;
    /* IPv6: 0 means the rest of the payload (a jumbogram's, RFC 2675). */
    if (ipv6 && ulen == 0)
        ulen = len;
    if (ulen < MEMIO_UDP_HLEN)
        return bad(out, MEMIO_PKT_ERR_LENGTH, MEMIO_LAYER_UDP, "length below 8");
    if (ulen > len)
        return bad(out, MEMIO_PKT_ERR_TRUNCATED, MEMIO_LAYER_UDP, "length past IP payload");
    if (out->udp.checksum == 0) {
        if (ipv6) /* D32 */
            return bad(out, MEMIO_PKT_ERR_ZERO_CSUM, MEMIO_LAYER_UDP,
                       "checksum 0 over IPv6 (mandatory there)");
        /* IPv4: 0 means none was computed (D06). */
    } else {
        if (ipv6)
            acc = memio_csum_pseudo6(&out->ip6.src, &out->ip6.dst, IPPROTO_UDP,
                                     (uint32_t)ulen);
        else
            acc = memio_csum_pseudo4(out->ip4.src, out->ip4.dst, IPPROTO_UDP,
                                     (uint16_t)ulen);
        if (memio_csum_fold(memio_csum_add(acc, l4, ulen)) != 0)
            return bad(out, MEMIO_PKT_ERR_CHECKSUM, MEMIO_LAYER_UDP, "checksum wrong");
    }
    return rest(out, l4 + MEMIO_UDP_HLEN, ulen - MEMIO_UDP_HLEN);
}

static int parse_icmp4(memio_packet *out, const uint8_t *l4, size_t len)
{
    if (len < MEMIO_ICMP_HLEN)
        return bad(out, MEMIO_PKT_ERR_TRUNCATED, MEMIO_LAYER_ICMP4, "header past IP payload");
    out->layers |= MEMIO_LAYER_ICMP4;
    out->icmp.type = l4[0];
    out->icmp.code = l4[1];
    out->icmp.checksum = get16(l4 + 2);
    if (out->icmp.type == ICMP_ECHO || out->icmp.type == ICMP_ECHOREPLY) {
        out->icmp.id = get16(l4 + 4);
        out->icmp.seq = get16(l4 + 6);
    }
    if (memio_inet_checksum(l4, len) != 0)
        return bad(out, MEMIO_PKT_ERR_CHECKSUM, MEMIO_LAYER_ICMP4, "checksum wrong");
    return rest(out, l4 + MEMIO_ICMP_HLEN, len - MEMIO_ICMP_HLEN);
}

/* The options of a neighbour solicitation or advertisement: each is a
 * type, a length in 8-byte units (0 is invalid, RFC 4861 4.6), a body. */
static int parse_nd_options(memio_packet *out, const uint8_t *opt, size_t len, uint8_t want)
{
    while (len > 0) {
        size_t olen;
        if (len < 2)
            return bad(out, MEMIO_PKT_ERR_TRUNCATED, MEMIO_LAYER_ICMP6, "option past message");
        olen = (size_t)opt[1] * 8;
        if (olen == 0)
            return bad(out, MEMIO_PKT_ERR_FORMAT, MEMIO_LAYER_ICMP6, "option of length 0");
        if (olen > len)
            return bad(out, MEMIO_PKT_ERR_TRUNCATED, MEMIO_LAYER_ICMP6, "option past message");
        if (opt[0] == want && !out->icmp.has_lladdr) {
            out->icmp.has_lladdr = 1;
            memcpy(out->icmp.lladdr, opt + 2, MEMIO_ETH_ALEN);
        }
        opt += olen;
        len -= olen;
    }
    return 0;
}

static int parse_icmp6(memio_packet *out, const uint8_t *l4, size_t len)
{
    uint32_t acc;
    uint8_t type;

    if (len < MEMIO_ICMP_HLEN)
        return bad(out, MEMIO_PKT_ERR_TRUNCATED, MEMIO_LAYER_ICMP6, "header past IP payload");
    out->layers |= MEMIO_LAYER_ICMP6;
    type = out->icmp.type = l4[0];
    out->icmp.code = l4[1];
    out->icmp.checksum = get16(l4 + 2);
    if (type == ICMP6_ECHO_REQUEST || type == ICMP6_ECHO_REPLY) {
        out->icmp.id = get16(l4 + 4);
        out->icmp.seq = get16(l4 + 6);
    }
    acc = memio_csum_pseudo6(&out->ip6.src, &out->ip6.dst, IPPROTO_ICMPV6, (uint32_t)len);
    if (memio_csum_fold(memio_csum_add(acc, l4, len)) != 0)
        return bad(out, MEMIO_PKT_ERR_CHECKSUM, MEMIO_LAYER_ICMP6, "checksum wrong");
    if (type != ND_NEIGHBOR_SOLICIT && type != ND_NEIGHBOR_ADVERT)
        return rest(out, l4 + MEMIO_ICMP_HLEN, len - MEMIO_ICMP_HLEN);

    if (len < ND_MSG_LEN)
        return bad(out, MEMIO_PKT_ERR_TRUNCATED, MEMIO_LAYER_ICMP6,
                   "neighbour message shorter than 24 bytes");
    memcpy(&out->icmp.target, l4 + 8, sizeof out->icmp.target);
    if (type == ND_NEIGHBOR_ADVERT)
        out->icmp.na_flags = get32(l4 + 4) & 0xe0000000u;
    /* ndisc_rcv: a neighbour message from off the link is a forgery. */
    if (out->ip6.hop_limit != ND_HOP_LIMIT)
        return bad(out, MEMIO_PKT_ERR_FORMAT, MEMIO_LAYER_ICMP6,
                   "neighbour discovery with hop limit not 255");
    if (parse_nd_options(out, l4 + ND_MSG_LEN, len - ND_MSG_LEN,
                         type == ND_NEIGHBOR_SOLICIT ? ND_OPT_SOURCE_LINKADDR
                                                     : ND_OPT_TARGET_LINKADDR) < 0)
        return -1;
    return rest(out, l4 + ND_MSG_LEN, len - ND_MSG_LEN);
}

static int parse_ip4(memio_packet *out, const uint8_t *p, size_t len)
{
    size_t hlen, tot;
    uint16_t frag;

    if (len < 1)
        return bad(out, MEMIO_PKT_ERR_TRUNCATED, MEMIO_LAYER_IPV4, "empty packet");
    if ((p[0] >> 4) != 4)
        return bad(out, MEMIO_PKT_ERR_VERSION, MEMIO_LAYER_IPV4, "version not 4");
    if (len < MEMIO_IPV4_HLEN)
        return bad(out, MEMIO_PKT_ERR_TRUNCATED, MEMIO_LAYER_IPV4, "header longer than buffer");
    hlen = (size_t)(p[0] & 0x0f) * 4;
    if (hlen < MEMIO_IPV4_HLEN)
        return bad(out, MEMIO_PKT_ERR_LENGTH, MEMIO_LAYER_IPV4, "IHL below 5");
    if (hlen > len)
        return bad(out, MEMIO_PKT_ERR_TRUNCATED, MEMIO_LAYER_IPV4, "header longer than buffer");
    out->layers |= MEMIO_LAYER_IPV4;
    out->ip4.tos = p[1];
    out->ip4.total_len = tot = get16(p + 2);
    out->ip4.id = get16(p + 4);
    out->ip4.frag = frag = get16(p + 6);
    out->ip4.ttl = p[8];
    out->ip4.protocol = out->proto = p[9];
    memcpy(&out->ip4.src, p + 12, 4);
    memcpy(&out->ip4.dst, p + 16, 4);
    out->ip4.hlen = hlen;
    /* ip_rcv_core's order: checksum (D09), then the total length (D15,
     * D16); bytes past it are link padding (D17). */
    if (memio_inet_checksum(p, hlen) != 0)
        return bad(out, MEMIO_PKT_ERR_CHECKSUM, MEMIO_LAYER_IPV4, "header checksum wrong");
    if (tot < hlen)
        return bad(out, MEMIO_PKT_ERR_LENGTH, MEMIO_LAYER_IPV4,
                   "total length below header length");
    if (tot > len)
        return bad(out, MEMIO_PKT_ERR_TRUNCATED, MEMIO_LAYER_IPV4, "total length past buffer");
    out->l4 = p + hlen;
    out->l4_len = tot - hlen;
    /* A fragment waits for reassembly; its payload is not an upper-layer
     * header (after the first) nor whole (in the first). */
    if (frag & (IP_FLAG_MF | IP_OFFSET_MASK)) {
        out->layers |= MEMIO_LAYER_FRAGMENT;
        out->frag.id = out->ip4.id;
        out->frag.offset = (uint32_t)(frag & IP_OFFSET_MASK) * 8;
        out->frag.more = !!(frag & IP_FLAG_MF);
        return rest(out, out->l4, out->l4_len);
    }
    switch (out->proto) {
    case IPPROTO_UDP:
        return parse_udp(out, out->l4, out->l4_len, 0);
    case IPPROTO_ICMP:
        return parse_icmp4(out, out->l4, out->l4_len);
    default:
        return rest(out, out->l4, out->l4_len);
    }
}

static int parse_ip6(memio_packet *out, const uint8_t *p, size_t len)
{
    size_t tot, l4, frag;
    const char *why;
    uint32_t vtf;
    int r;

    if (len < 1)
        return bad(out, MEMIO_PKT_ERR_TRUNCATED, MEMIO_LAYER_IPV6, "empty packet");
    if ((p[0] >> 4) != 6)
        return bad(out, MEMIO_PKT_ERR_VERSION, MEMIO_LAYER_IPV6, "version not 6");
    if (len < MEMIO_IPV6_HLEN)
        return bad(out, MEMIO_PKT_ERR_TRUNCATED, MEMIO_LAYER_IPV6, "header longer than buffer");
    out->layers |= MEMIO_LAYER_IPV6;
    vtf = get32(p);
    out->ip6.tclass = (uint8_t)(vtf >> 20);
    out->ip6.flow_label = vtf & 0xfffff;
    out->ip6.payload_len = get16(p + 4);
    out->ip6.next_header = p[6];
    out->ip6.hop_limit = p[7];
    memcpy(&out->ip6.src, p + 8, 16);
    memcpy(&out->ip6.dst, p + 24, 16);
    tot = MEMIO_IPV6_HLEN + out->ip6.payload_len;
    if (tot > len)
        return bad(out, MEMIO_PKT_ERR_TRUNCATED, MEMIO_LAYER_IPV6, "payload length past buffer");
    r = packet__ip6_walk(p, tot, &out->proto, &l4, &frag, &why);
    if (r != 0)
        return bad(out, r == -1 ? MEMIO_PKT_ERR_TRUNCATED : MEMIO_PKT_ERR_FORMAT,
                   MEMIO_LAYER_IPV6_EXT, why);
    if (l4 > MEMIO_IPV6_HLEN)
        out->layers |= MEMIO_LAYER_IPV6_EXT;
    out->ip6.ext_len = l4 - MEMIO_IPV6_HLEN;
    out->l4 = p + l4;
    out->l4_len = tot - l4;
    if (frag) {
        uint16_t off_flags = get16(p + frag + 2);
        out->layers |= MEMIO_LAYER_FRAGMENT;
        out->frag.id = get32(p + frag + 4);
        out->frag.offset = off_flags & 0xfff8; /* in 8-byte units, shifted by 3 */
        out->frag.more = off_flags & 1;
        return rest(out, out->l4, out->l4_len);
    }
    switch (out->proto) {
    case IPPROTO_UDP:
        return parse_udp(out, out->l4, out->l4_len, 1);
    case IPPROTO_ICMPV6:
        return parse_icmp6(out, out->l4, out->l4_len);
    case IPPROTO_NONE:
        return rest(out, NULL, 0);
    default:
        return rest(out, out->l4, out->l4_len);
    }
}

/* An Ethernet/IPv4 ARP packet (RFC 826); padding after it is ignored. */
static int parse_arp(memio_packet *out, const uint8_t *p, size_t len)
{
    if (len < 8)
        return bad(out, MEMIO_PKT_ERR_TRUNCATED, MEMIO_LAYER_ARP, "header longer than buffer");
    if (get16(p) != ARPHRD_ETHER || get16(p + 2) != ETHERTYPE_IP || p[4] != MEMIO_ETH_ALEN ||
        p[5] != 4)
        return bad(out, MEMIO_PKT_ERR_FORMAT, MEMIO_LAYER_ARP,
                   "not an Ethernet/IPv4 ARP packet");
    if (len < MEMIO_ARP_LEN)
        return bad(out, MEMIO_PKT_ERR_TRUNCATED, MEMIO_LAYER_ARP, "addresses past buffer");
    out->layers |= MEMIO_LAYER_ARP;
    out->arp.op = get16(p + 6);
    memcpy(out->arp.sha, p + 8, MEMIO_ETH_ALEN);
    memcpy(&out->arp.spa, p + 14, 4);
    memcpy(out->arp.tha, p + 18, MEMIO_ETH_ALEN);
    memcpy(&out->arp.tpa, p + 24, 4);
    return 0;
}

/* An IP packet as a TUN carries it: the version nibble says which. */
static int parse_ip(memio_packet *out, const uint8_t *p, size_t len)
{
    if (len < 1)
        return bad(out, MEMIO_PKT_ERR_TRUNCATED, MEMIO_LAYER_NONE, "empty packet");
    switch (p[0] >> 4) {
    case 4:
        return parse_ip4(out, p, len);
    case 6:
        return parse_ip6(out, p, len);
    default:
        return bad(out, MEMIO_PKT_ERR_VERSION, MEMIO_LAYER_NONE, "IP version neither 4 nor 6");
    }
}

static int parse_ether(memio_packet *out, const uint8_t *p, size_t len)
{
    size_t hlen = MEMIO_ETH_HLEN;
    uint16_t type;

    if (len < MEMIO_ETH_HLEN)
        return bad(out, MEMIO_PKT_ERR_TRUNCATED, MEMIO_LAYER_ETHER,
                   "frame shorter than an Ethernet header");
    out->layers |= MEMIO_LAYER_ETHER;
    memcpy(out->eth.dst, p, MEMIO_ETH_ALEN);
    memcpy(out->eth.src, p + MEMIO_ETH_ALEN, MEMIO_ETH_ALEN);
    type = get16(p + 12);
    if (type == ETHERTYPE_VLAN) {
        if (len < MEMIO_ETH_HLEN + MEMIO_VLAN_HLEN)
            return bad(out, MEMIO_PKT_ERR_TRUNCATED, MEMIO_LAYER_VLAN, "802.1Q tag past frame");
        out->layers |= MEMIO_LAYER_VLAN;
        out->eth.vlan_tci = get16(p + 14);
        type = get16(p + 16);
        hlen += MEMIO_VLAN_HLEN;
    }
    out->eth.type = type;
    out->eth.hlen = hlen;
    p += hlen;
    len -= hlen;
    switch (type) {
    case ETHERTYPE_ARP:
        return parse_arp(out, p, len);
    case ETHERTYPE_IP:
        return parse_ip4(out, p, len);
    case ETHERTYPE_IPV6:
        return parse_ip6(out, p, len);
    default:
        return rest(out, p, len);
    }
}

int memio_packet_parse(const void *frame, size_t len, int link, memio_packet *out)
{
    if (!frame || !out) {
        errno = EFAULT;
        return -1;
    }
    if (link != MEMIO_LINK_IP && link != MEMIO_LINK_ETHER) {
        errno = EINVAL;
        return -1;
    }
    memset(out, 0, sizeof *out);
    out->err_reason = "";
    if (link == MEMIO_LINK_ETHER)
        return parse_ether(out, frame, len);
    return parse_ip(out, frame, len);
}

const char *memio_packet_layer_name(memio_pkt_layer layer)
{
    switch (layer) {
    case MEMIO_LAYER_NONE: return "none";
    case MEMIO_LAYER_ETHER: return "ether";
    case MEMIO_LAYER_VLAN: return "vlan";
    case MEMIO_LAYER_ARP: return "arp";
    case MEMIO_LAYER_IPV4: return "ipv4";
    case MEMIO_LAYER_IPV6: return "ipv6";
    case MEMIO_LAYER_IPV6_EXT: return "ipv6-ext";
    case MEMIO_LAYER_FRAGMENT: return "fragment";
    case MEMIO_LAYER_UDP: return "udp";
    case MEMIO_LAYER_ICMP4: return "icmp";
    case MEMIO_LAYER_ICMP6: return "icmpv6";
    }
    return "unknown";
}

const char *memio_packet_err_name(memio_pkt_err err)
{
    switch (err) {
    case MEMIO_PKT_OK: return "ok";
    case MEMIO_PKT_ERR_TRUNCATED: return "truncated";
    case MEMIO_PKT_ERR_VERSION: return "wrong IP version";
    case MEMIO_PKT_ERR_LENGTH: return "impossible length";
    case MEMIO_PKT_ERR_CHECKSUM: return "bad checksum";
    case MEMIO_PKT_ERR_ZERO_CSUM: return "zero checksum";
    case MEMIO_PKT_ERR_FORMAT: return "bad format";
    }
    return "unknown";
}

/* ---- ping ---- */

/* Checks src and dst: both AF_INET (returns 4) or both AF_INET6 (6); -1
 * with EAFNOSUPPORT otherwise. */
static int ping_family(const struct sockaddr *src, const struct sockaddr *dst)
{
    if (src->sa_family == AF_INET && dst->sa_family == AF_INET)
        return 4;
    if (src->sa_family == AF_INET6 && dst->sa_family == AF_INET6)
        return 6;
    errno = EAFNOSUPPORT;
    return -1;
}

ssize_t memio_ping_request(void *buf, size_t cap, const struct sockaddr *src,
                           const struct sockaddr *dst, uint16_t id, uint16_t seq,
                           const void *data, size_t len)
{
    if (!src || !dst) {
        errno = EFAULT;
        return -1;
    }
    switch (ping_family(src, dst)) {
    case 4:
        return memio_packet_icmp4_echo(buf, cap, ((const struct sockaddr_in *)src)->sin_addr,
                                       ((const struct sockaddr_in *)dst)->sin_addr, ICMP_ECHO,
                                       id, seq, data, len);
    case 6:
        return memio_packet_icmp6_echo(buf, cap, &((const struct sockaddr_in6 *)src)->sin6_addr,
                                       &((const struct sockaddr_in6 *)dst)->sin6_addr,
                                       ICMP6_ECHO_REQUEST, id, seq, data, len);
    default:
        return -1;
    }
}

int memio_ping_is_reply(const void *ip, size_t len, const struct sockaddr *src,
                        const struct sockaddr *dst, uint16_t id, uint16_t seq,
                        const void *data, size_t data_len)
{
    memio_packet pk;
    int fam, saved = errno;

    if (!ip || !src || !dst || (!data && data_len > 0)) {
        errno = EFAULT;
        return -1;
    }
    fam = ping_family(src, dst);
    if (fam < 0)
        return -1;
    if (memio_packet_parse(ip, len, MEMIO_LINK_IP, &pk) < 0) {
        errno = saved; /* not a reply is an answer, not an error */
        return 0;
    }
    if (fam == 4) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)src;
        const struct sockaddr_in *d = (const struct sockaddr_in *)dst;
        if (!(pk.layers & MEMIO_LAYER_ICMP4) || pk.icmp.type != ICMP_ECHOREPLY ||
            pk.ip4.src.s_addr != d->sin_addr.s_addr || pk.ip4.dst.s_addr != s->sin_addr.s_addr)
            return 0;
    } else {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)src;
        const struct sockaddr_in6 *d = (const struct sockaddr_in6 *)dst;
        if (!(pk.layers & MEMIO_LAYER_ICMP6) || pk.icmp.type != ICMP6_ECHO_REPLY ||
            !IN6_ARE_ADDR_EQUAL(&pk.ip6.src, &d->sin6_addr) ||
            !IN6_ARE_ADDR_EQUAL(&pk.ip6.dst, &s->sin6_addr))
            return 0;
    }
    return pk.icmp.code == 0 && pk.icmp.id == id && pk.icmp.seq == seq &&
           pk.payload_len == data_len && (data_len == 0 || memcmp(pk.payload, data, data_len) == 0);
}
