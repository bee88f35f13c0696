/*
 * memio/dispatch.h — handing the frames a port reads to handlers by
 * ethertype, IP protocol and UDP port (the counterpart of twisted.pair's
 * EthernetProtocol, IPProtocol and RawUDPProtocol).
 *
 * A frame flows Ethernet -> IPv4 or IPv6 -> UDP.  At each layer every handler
 * registered for the frame's value there is called, outer layers first:
 * an IPv4/UDP frame to port 7 reaches the handlers of ethertype 0x0800,
 * then those of IP protocol 17, then those of UDP port 7.  On a TUN there is
 * no Ethernet header: the IP version stands for the ethertype (4: 0x0800,
 * 6: 0x86dd), so the same handlers serve both kinds of device.
 *
 * IPv6 (ethertype 0x86dd, or version 6 on a TUN) takes the same tables:
 * its extension headers (hop-by-hop, routing, destination options, AH) are
 * walked as ipv6_rcv walks them, and the IP protocol handlers are those of
 * the upper-layer protocol after them (17 for UDP, 58 for ICMPv6); UDP
 * port handlers serve UDP over IPv4 and over IPv6 alike, and ip_version
 * tells a handler which it got.  A fragment, IPv4 or IPv6, reaches the IP
 * protocol's handlers but not the UDP ports' (nothing is reassembled); an
 * IPv6 atomic fragment (a fragment header with offset 0 and no M flag) is
 * not a fragment and is read through, as the kernel does (RFC 6946).
 *
 * Malformed frames — short headers, lengths that do not fit, a wrong IPv4
 * header checksum, an IPv6 extension header that runs past the payload or
 * a hop-by-hop header not first, a wrong UDP checksum, or a UDP checksum of
 * 0 over IPv6 (where it is mandatory: the kernel drops it, D32, and a wrong
 * one, D33) — are counted and dropped; nothing is read past the frame.
 * Only UDP is checked beyond the IP layer: an IP protocol handler for 1 or
 * 58 also sees ICMP messages whose checksum is wrong.
 *
 *     memio_dispatch *d = memio_dispatch_new(MEMIO_DISPATCH_ETHERNET);
 *     memio_dispatch_add_udp(d, 7, on_echo, app);
 *     memio_port *p = memio_port_new(sys, "tap%d", MEMIO_PORT_TAP,
 *                                    memio_dispatch_on_packet, d);
 *
 * Registering allocates; dispatching never does.  A dispatcher is not
 * locked: use it from one thread at a time.
 */
#ifndef MEMIO_DISPATCH_H
#define MEMIO_DISPATCH_H

#include <memio/port.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct memio_dispatch memio_dispatch;

/* What the frames handed to a dispatcher start with. */
typedef enum memio_dispatch_link {
    MEMIO_DISPATCH_ETHERNET, /* an Ethernet header: frames read from a TAP */
    MEMIO_DISPATCH_IP        /* the IP header: packets read from a TUN */
} memio_dispatch_link;

/* How far a frame was parsed: which fields of memio_dispatch_packet hold.
 * An IPv4 packet goes LINK, IP4, UDP; an IPv6 one LINK, IP6, UDP.  IP6 was
 * added after UDP, so the numbers are not depths: compare with ==, and at
 * the UDP layer read ip_version for which addresses hold. */
typedef enum memio_dispatch_layer {
    MEMIO_DISPATCH_LAYER_LINK = 1, /* ethertype (and the MACs on Ethernet) */
    MEMIO_DISPATCH_LAYER_IP4 = 2,  /* and the IPv4 fields */
    MEMIO_DISPATCH_LAYER_UDP = 3,  /* and the UDP ports in src and dst (IPv4) or
                                      src6 and dst6 (IPv6) */
    MEMIO_DISPATCH_LAYER_IP6 = 4   /* and the IPv6 fields */
} memio_dispatch_layer;

/* A frame as far as it was parsed, handed to every handler. */
typedef struct memio_dispatch_packet {
    memio_dispatch_layer layer;
    memio_port *port;        /* the port it was read from (memio_dispatch_on_packet), else NULL */
    const uint8_t *frame;    /* the whole frame, as given */
    size_t frame_len;
    /* link */
    int has_ether;           /* nonzero on MEMIO_DISPATCH_ETHERNET */
    uint8_t eth_dst[6];
    uint8_t eth_src[6];
    uint16_t ethertype;      /* host order */
    /* IPv4 (layer >= MEMIO_DISPATCH_LAYER_IP4): addresses in src and dst,
     * with sin_port 0 until the UDP layer fills it in */
    struct sockaddr_in src;
    struct sockaddr_in dst;
    uint8_t ip_proto;
    uint8_t ip_ttl;
    uint8_t ip_tos;
    uint8_t ip_hlen;         /* header length in bytes, options included */
    uint16_t ip_total_len;   /* host order; bytes past it (Ethernet padding) are ignored */
    uint16_t ip_id;          /* host order */
    uint16_t ip_frag;        /* flags and fragment offset, host order */
    /* IP: 4 or 6 from the IP layer on (0 before it).  The IPv4 fields above
     * are all 0 for IPv6, and the IPv6 fields below all 0 for IPv4. */
    int ip_version;
    /* IPv6 (ip_version 6): addresses in src6 and dst6 (AF_INET6, flow info
     * and scope id 0), with sin6_port 0 until the UDP layer fills it in */
    struct sockaddr_in6 src6;
    struct sockaddr_in6 dst6;
    uint8_t ip6_proto;       /* the upper-layer protocol: the next header after
                                the extension headers (the fragment header's
                                next header for a fragment); the key the IP
                                protocol handlers were picked by */
    uint8_t ip6_hop_limit;
    uint8_t ip6_tclass;      /* traffic class */
    uint32_t ip6_flow_label;       /* flow label (20 bits), host order */
    uint16_t ip6_payload_len; /* host order; bytes past 40 + it are ignored */
    uint16_t ip6_ext_len;    /* bytes of extension headers walked (a fragment
                                header included); the IP payload starts at
                                40 + ip6_ext_len */
    uint16_t ip6_frag;       /* a fragment's offset and flags word, host order:
                                offset in bytes & 0xfff8, M flag & 1; 0 when
                                not a fragment (an atomic one included) */
    uint32_t ip6_frag_id;    /* a fragment's identification, host order */
} memio_dispatch_packet;

/* A handler: the packet as parsed, this layer's payload (Ethernet payload
 * for an ethertype handler, IP payload for a protocol handler (on IPv6
 * what follows the extension headers, or the fragment header), UDP payload
 * for a port handler; pointers into the frame, valid during the call) and
 * the user pointer it was registered with.  Returns 0, or -1 (preferably
 * with errno) when it failed; the other handlers still run. */
typedef int (*memio_dispatch_fn)(const memio_dispatch_packet *pkt, const uint8_t *payload,
                                 size_t len, void *user);

/* What happened to the frames.  Every frame lands in exactly one of
 * handled, unknown_* and malformed_*: malformed_* count frames with a bad
 * header at that layer (the handlers of the layers outside it have seen
 * them); of the rest, handled counts those that reached a handler, and
 * unknown_* those that reached none, by the innermost layer parsed. */
typedef struct memio_dispatch_stats {
    uint64_t frames;            /* frames given to memio_dispatch_frame */
    uint64_t handled;           /* reached at least one handler */
    uint64_t unknown_ethertype; /* not IPv4 nor IPv6, and no handler for its ethertype */
    uint64_t unknown_ip_proto;  /* IPv4 or IPv6 but not UDP (or a fragment), no handler */
    uint64_t unknown_udp_port;  /* UDP, no handler for its port nor on its way */
    uint64_t malformed_ether;   /* shorter than an Ethernet header */
    /* Bad IP header, IPv4 or IPv6 (one counter, so that the sum above
     * holds for callers written before IPv6): on a TUN an empty packet or
     * a version neither 4 nor 6; IPv4: length, version, IHL, total
     * length, checksum; IPv6: shorter than 40 bytes, version not 6 under
     * ethertype 0x86dd, payload length past the frame, an extension header
     * past the payload or a hop-by-hop header not first. */
    uint64_t malformed_ip;
    uint64_t malformed_udp;     /* bad UDP header: short, length field, checksum
                                   (wrong, or 0 over IPv6) */
    uint64_t fragments;         /* IPv4 and IPv6 fragments kept from the UDP layer
                                   (also counted above) */
    uint64_t handler_failures;  /* handler calls that returned -1 */
} memio_dispatch_stats;

/* A new dispatcher with no handlers, for frames that start as `link` says.
 * The caller frees it with memio_dispatch_free.  NULL with EINVAL (unknown
 * link) or ENOMEM. */
memio_dispatch *memio_dispatch_new(memio_dispatch_link link);

/* Frees a dispatcher and its handler tables.  NULL is a no-op. */
void memio_dispatch_free(memio_dispatch *d);

/* Registers fn, with user, for frames of ethertype `ethertype` (host
 * order), of IP protocol `proto` (IPv4's protocol, or IPv6's upper-layer
 * next header), or to UDP destination port `port` (host order, over
 * either IP version).  A value may have several handlers: they run in the order they
 * were added.  Returns 0, or -1 with EFAULT (NULL d or fn) or ENOMEM.
 * Not from inside a handler (EBUSY). */
int memio_dispatch_add_ether(memio_dispatch *d, uint16_t ethertype, memio_dispatch_fn fn,
                             void *user);
int memio_dispatch_add_ip(memio_dispatch *d, uint8_t proto, memio_dispatch_fn fn, void *user);
int memio_dispatch_add_udp(memio_dispatch *d, uint16_t port, memio_dispatch_fn fn, void *user);

/* Hands one frame to the handlers that match it and counts the outcome.
 * port is recorded in the packet the handlers see (may be NULL).
 * Returns the number of handlers called (0 when none matched: the frame
 * was dropped as unknown or malformed, see the stats), or -1 when handlers
 * failed (all that matched were still called), with the errno the last of
 * them left (ECANCELED when it left none).  EFAULT for NULL d, or NULL
 * frame with len > 0. */
int memio_dispatch_frame(memio_dispatch *d, memio_port *port, const void *frame, size_t len);

/* A memio_port_packet_fn that dispatches: give it to memio_port_new with
 * the dispatcher as user pointer.  Returns -1 only when a handler failed
 * (so the port logs it); dropped frames are only counted. */
int memio_dispatch_on_packet(memio_port *port, const uint8_t *packet, size_t len, void *dispatch);

/* Copies the counters into *st. */
void memio_dispatch_stats_get(const memio_dispatch *d, memio_dispatch_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* MEMIO_DISPATCH_H */
