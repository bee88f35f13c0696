/*
 * dispatch.c — Ethernet -> IPv4 or IPv6 -> UDP demultiplexing for the
 * frames a port reads, with three handler tables (ethertype, IP protocol,
 * UDP port).
 *
 * Twisted builds this as a chain of protocol objects that the application
 * wires together; here the chain is fixed and the application registers at
 * whichever layers it wants.  Every IPv4 header is copied out of the
 * frame with memcpy after its length was checked: a frame may sit at any
 * address and be any length.  IPv6 goes through memio_packet_parse, which
 * walks the extension headers and checks UDP with the same care.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/ethernet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <stdlib.h>
#include <string.h>

#include "memio/dispatch.h"
#include "memio/packet.h"

#define IP_FRAG_MASK (IP_MF | IP_OFFMASK)

struct handler {
    uint32_t key;
    memio_dispatch_fn fn;
    void *user;
};

struct table {
    struct handler *v;
    size_t len, cap;
};

enum { T_ETHER, T_IP, T_UDP, T_COUNT };

struct memio_dispatch {
    memio_dispatch_link link;
    int busy;            /* depth of memio_dispatch_frame calls: the tables are being walked */
    struct table tables[T_COUNT];
    memio_dispatch_stats stats;
};

/* What calling a layer's handlers came to. */
struct calls {
    int called;
    int failed;
    int err;
    int malformed; /* counted as such, so not as handled */
};

memio_dispatch *memio_dispatch_new(memio_dispatch_link link)
{
    memio_dispatch *d;

    if (link != MEMIO_DISPATCH_ETHERNET && link != MEMIO_DISPATCH_IP) {
        errno = EINVAL;
        return NULL;
    }
    d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->link = link;
    return d;
}

void memio_dispatch_free(memio_dispatch *d)
{
    if (!d)
        return;
    for (int i = 0; i < T_COUNT; i++)
        free(d->tables[i].v);
    free(d);
}

static int add(memio_dispatch *d, int table, uint32_t key, memio_dispatch_fn fn, void *user)
{
    struct table *t;

    if (!d || !fn) {
        errno = EFAULT;
        return -1;
    }
    if (d->busy) {
        errno = EBUSY;
        return -1;
    }
    t = &d->tables[table];
    if (t->len == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        struct handler *v = realloc(t->v, cap * sizeof(*v));
        if (!v) {
            errno = ENOMEM;
            return -1;
        }
        t->v = v;
        t->cap = cap;
    }
    t->v[t->len++] = (struct handler){ .key = key, .fn = fn, .user = user };
    return 0;
}

int memio_dispatch_add_ether(memio_dispatch *d, uint16_t ethertype, memio_dispatch_fn fn,
                             void *user)
{
    return add(d, T_ETHER, ethertype, fn, user);
}

int memio_dispatch_add_ip(memio_dispatch *d, uint8_t proto, memio_dispatch_fn fn, void *user)
{
    return add(d, T_IP, proto, fn, user);
}

int memio_dispatch_add_udp(memio_dispatch *d, uint16_t port, memio_dispatch_fn fn, void *user)
{
    return add(d, T_UDP, port, fn, user);
}

/* Calls every handler of `table` registered for key, in order. */
static void call(memio_dispatch *d, int table, uint32_t key, const memio_dispatch_packet *pkt,
                 const uint8_t *payload, size_t len, struct calls *c)
{
    const struct table *t = &d->tables[table];

    for (size_t i = 0; i < t->len; i++) {
        if (t->v[i].key != key)
            continue;
        c->called++;
        errno = 0;
        if (t->v[i].fn(pkt, payload, len, t->v[i].user) < 0) {
            c->failed++;
            c->err = errno ? errno : ECANCELED;
            d->stats.handler_failures++;
        }
    }
}

/* Reads and checks an IPv4 header as ip_rcv_core does: room for the fixed
 * header, version 4, IHL of at least 5 and within the buffer, a valid
 * header checksum, a total length that covers the header and fits in the
 * buffer.  Fills the IPv4 fields of *pkt; returns 0, or -1 when malformed. */
static int parse_ip4(const uint8_t *p, size_t len, memio_dispatch_packet *pkt)
{
    struct ip h;
    size_t hlen, total;

    if (len < sizeof(h))
        return -1;
    memcpy(&h, p, sizeof(h));
    hlen = (size_t)h.ip_hl * 4;
    if (h.ip_v != 4 || hlen < sizeof(h) || hlen > len)
        return -1;
    if (memio_inet_checksum(p, hlen) != 0)
        return -1;
    total = ntohs(h.ip_len);
    if (total < hlen || total > len)
        return -1;
    pkt->src.sin_family = AF_INET;
    pkt->src.sin_addr = h.ip_src;
    pkt->dst.sin_family = AF_INET;
    pkt->dst.sin_addr = h.ip_dst;
    pkt->ip_proto = h.ip_p;
    pkt->ip_ttl = h.ip_ttl;
    pkt->ip_tos = h.ip_tos;
    pkt->ip_hlen = (uint8_t)hlen;
    pkt->ip_total_len = (uint16_t)total;
    pkt->ip_id = ntohs(h.ip_id);
    pkt->ip_frag = ntohs(h.ip_off);
    pkt->ip_version = 4;
    pkt->layer = MEMIO_DISPATCH_LAYER_IP4;
    return 0;
}

/* The IPv4 and UDP layers, once the link layer said IPv4.  Counts the
 * outcome unless the frame was handled (the caller counts that). */
static void dispatch_ip4(memio_dispatch *d, memio_dispatch_packet *pkt, const uint8_t *ip,
                         size_t len, struct calls *c)
{
    memio_udp4_view udp;

    if (parse_ip4(ip, len, pkt) < 0) {
        d->stats.malformed_ip++;
        c->malformed = 1;
        return;
    }
    call(d, T_IP, pkt->ip_proto, pkt, ip + pkt->ip_hlen, pkt->ip_total_len - pkt->ip_hlen, c);
    if (pkt->ip_frag & IP_FRAG_MASK) {
        d->stats.fragments++;
        if (!c->called)
            d->stats.unknown_ip_proto++;
        return;
    }
    if (pkt->ip_proto != IPPROTO_UDP) {
        if (!c->called)
            d->stats.unknown_ip_proto++;
        return;
    }
    /* The IP header is known good here, so a refusal is the UDP header's. */
    if (memio_packet_parse_udp4(ip, pkt->ip_total_len, &udp) < 0) {
        d->stats.malformed_udp++;
        c->malformed = 1;
        return;
    }
    pkt->src.sin_port = udp.src.sin_port;
    pkt->dst.sin_port = udp.dst.sin_port;
    pkt->layer = MEMIO_DISPATCH_LAYER_UDP;
    call(d, T_UDP, ntohs(udp.dst.sin_port), pkt, udp.payload, udp.payload_len, c);
    if (!c->called)
        d->stats.unknown_udp_port++;
}

/* The IPv6 and UDP layers, once the link layer said IPv6, as
 * dispatch_ip4 is for IPv4.  memio_packet_parse does the checking
 * (ipv6_rcv's lengths, the extension header walk, __udp6_lib_rcv's UDP);
 * a failure it reports past the IP layer that is not UDP's (an ICMPv6
 * checksum, say) is the upper protocol's business, as on IPv4. */
static void dispatch_ip6(memio_dispatch *d, memio_dispatch_packet *pkt, const uint8_t *ip,
                         size_t len, struct calls *c)
{
    memio_packet mp;
    int bad;

    /* Under ethertype 0x86dd the version nibble must still say 6; on a TUN
     * it is what brought the packet here.  memio_packet_parse on
     * MEMIO_LINK_IP would take a version 4 as IPv4. */
    if (len < 1 || ip[0] >> 4 != 6) {
        d->stats.malformed_ip++;
        c->malformed = 1;
        return;
    }
    bad = memio_packet_parse(ip, len, MEMIO_LINK_IP, &mp) < 0;
    if (!(mp.layers & MEMIO_LAYER_IPV6) ||
        (bad && (mp.err_layer == MEMIO_LAYER_IPV6 || mp.err_layer == MEMIO_LAYER_IPV6_EXT ||
                 mp.err_layer == MEMIO_LAYER_NONE))) {
        d->stats.malformed_ip++;
        c->malformed = 1;
        return;
    }
    pkt->ip_version = 6;
    pkt->src6.sin6_family = AF_INET6;
    pkt->src6.sin6_addr = mp.ip6.src;
    pkt->dst6.sin6_family = AF_INET6;
    pkt->dst6.sin6_addr = mp.ip6.dst;
    pkt->ip6_proto = mp.proto;
    pkt->ip6_hop_limit = mp.ip6.hop_limit;
    pkt->ip6_tclass = mp.ip6.tclass;
    pkt->ip6_flow_label = mp.ip6.flow_label;
    pkt->ip6_payload_len = (uint16_t)mp.ip6.payload_len;
    pkt->ip6_ext_len = (uint16_t)mp.ip6.ext_len;
    if (mp.layers & MEMIO_LAYER_FRAGMENT) {
        pkt->ip6_frag = (uint16_t)(mp.frag.offset | (mp.frag.more ? 1u : 0u));
        pkt->ip6_frag_id = mp.frag.id;
    }
    pkt->layer = MEMIO_DISPATCH_LAYER_IP6;
    /* l4 is set once the walk succeeded, and lies within [ip, ip + len]. */
    call(d, T_IP, mp.proto, pkt, mp.l4, mp.l4_len, c);
    if (mp.layers & MEMIO_LAYER_FRAGMENT) {
        d->stats.fragments++;
        if (!c->called)
            d->stats.unknown_ip_proto++;
        return;
    }
    if (mp.proto != IPPROTO_UDP) {
        if (!c->called)
            d->stats.unknown_ip_proto++;
        return;
    }
    /* Short, a length that does not fit, a checksum wrong or 0 (D32, D33). */
    if (bad && mp.err_layer == MEMIO_LAYER_UDP) {
        d->stats.malformed_udp++;
        c->malformed = 1;
        return;
    }
    pkt->src6.sin6_port = htons(mp.udp.sport);
    pkt->dst6.sin6_port = htons(mp.udp.dport);
    pkt->layer = MEMIO_DISPATCH_LAYER_UDP;
    /* Not mp.payload: it is NULL for an empty datagram. */
    call(d, T_UDP, mp.udp.dport, pkt, mp.l4 + MEMIO_UDP_HLEN, mp.payload_len, c);
    if (!c->called)
        d->stats.unknown_udp_port++;
}

int memio_dispatch_frame(memio_dispatch *d, memio_port *port, const void *frame, size_t len)
{
    memio_dispatch_packet pkt;
    struct calls c = { 0, 0, 0, 0 };
    const uint8_t *payload = frame;
    size_t plen = len;

    if (!d || (!frame && len)) {
        errno = EFAULT;
        return -1;
    }
    memset(&pkt, 0, sizeof(pkt));
    pkt.port = port;
    pkt.frame = frame;
    pkt.frame_len = len;
    pkt.layer = MEMIO_DISPATCH_LAYER_LINK;
    d->stats.frames++;
    d->busy++;

    if (d->link == MEMIO_DISPATCH_ETHERNET) {
        if (memio_packet_parse_ether(frame ? frame : "", len, &pkt.ethertype, &payload, &plen) < 0) {
            d->stats.malformed_ether++;
            goto out;
        }
        pkt.has_ether = 1;
        memcpy(pkt.eth_dst, payload - MEMIO_ETH_HLEN, sizeof(pkt.eth_dst));
        memcpy(pkt.eth_src, payload - MEMIO_ETH_HLEN + MEMIO_ETH_ALEN, sizeof(pkt.eth_src));
    } else {
        /* A TUN packet has no link header: its IP version says what it is. */
        unsigned version = len ? payload[0] >> 4 : 0;
        if (version == 4)
            pkt.ethertype = ETHERTYPE_IP;
        else if (version == 6)
            pkt.ethertype = ETHERTYPE_IPV6;
        else {
            d->stats.malformed_ip++;
            goto out;
        }
    }

    call(d, T_ETHER, pkt.ethertype, &pkt, payload, plen, &c);
    if (pkt.ethertype == ETHERTYPE_IP)
        dispatch_ip4(d, &pkt, payload, plen, &c);
    else if (pkt.ethertype == ETHERTYPE_IPV6)
        dispatch_ip6(d, &pkt, payload, plen, &c);
    else if (!c.called)
        d->stats.unknown_ethertype++;
    if (c.called > 0 && !c.malformed)
        d->stats.handled++;
out:
    d->busy--;
    if (c.failed) {
        errno = c.err;
        return -1;
    }
    return c.called;
}

int memio_dispatch_on_packet(memio_port *port, const uint8_t *packet, size_t len, void *dispatch)
{
    int rc = memio_dispatch_frame(dispatch, port, packet, len);
    return rc < 0 ? -1 : 0;
}

void memio_dispatch_stats_get(const memio_dispatch *d, memio_dispatch_stats *st)
{
    if (!d || !st)
        return;
    *st = d->stats;
}
