/*
 * memio/packet.h — building and parsing the packets tests exchange with a
 * tunnel: Ethernet (802.1Q), ARP, IPv4, IPv6, UDP, ICMP and ICMPv6, with
 * the internet checksum.
 *
 * Builders write into a caller's buffer and return the length written, or
 * -1 with errno: EFAULT (NULL buffer or argument), ENOBUFS (cap too small),
 * EMSGSIZE (the packet would exceed what its headers can express),
 * EAFNOSUPPORT (an address of the wrong family), EINVAL (a type or flag
 * the builder does not make).  Parsers never read
 * outside the buffer they are given.  Nothing here allocates.
 */
#ifndef MEMIO_PACKET_H
#define MEMIO_PACKET_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MEMIO_ETH_ALEN 6
#define MEMIO_ETH_HLEN 14
#define MEMIO_IPV4_HLEN 20
#define MEMIO_UDP_HLEN 8
/* The largest UDP payload in one IPv4 datagram: 65535 - 20 - 8. */
#define MEMIO_UDP4_MAX_PAYLOAD 65507

/* Adds the 16-bit big-endian words of data to a 32-bit one's complement
 * accumulator (an odd last byte is padded with zero).  Start with 0; chain
 * calls over pieces of even length. */
uint32_t memio_csum_add(uint32_t sum, const void *data, size_t len);
/* Folds an accumulator to 16 bits and complements it: the checksum field's
 * value, in host order. */
uint16_t memio_csum_fold(uint32_t sum);
/* The internet checksum (RFC 1071) of data, in host order. */
uint16_t memio_inet_checksum(const void *data, size_t len);

/* Builds an IPv4 header and UDP datagram as the Linux kernel sends one
 * (E03): version 4, IHL 5, TOS 0, the given IP id, DF set, TTL 64, valid
 * header checksum, and a valid UDP checksum (0xffff when it computes to 0).
 * Addresses and ports come from src and dst (network order inside, as in any
 * sockaddr_in).  Returns 28 + len. */
ssize_t memio_packet_udp4(void *buf, size_t cap, const struct sockaddr_in *src,
                          const struct sockaddr_in *dst, uint16_t ip_id,
                          const void *payload, size_t len);

/* Builds an Ethernet II header followed by payload (which may be NULL when
 * len is 0).  ethertype is in host order.  Returns 14 + len. */
ssize_t memio_packet_ether(void *buf, size_t cap, const uint8_t dst[MEMIO_ETH_ALEN],
                           const uint8_t src[MEMIO_ETH_ALEN], uint16_t ethertype,
                           const void *payload, size_t len);

/* A UDP datagram found in an IPv4 packet: addresses, and the payload as a
 * pointer into the parsed buffer. */
typedef struct memio_udp4_view {
    struct sockaddr_in src;
    struct sockaddr_in dst;
    uint8_t ttl;
    uint16_t ip_id;        /* host order */
    uint16_t frag;         /* flags and fragment offset, host order */
    uint16_t udp_checksum; /* host order, as found */
    const uint8_t *payload;
    size_t payload_len;
} memio_udp4_view;

/* Parses an IPv4 packet carrying UDP as a kernel socket's stack would accept
 * it: well-formed header, valid header checksum, total length within the
 * buffer (bytes past it are ignored, D17), not a fragment, UDP length
 * within the IP payload, valid UDP checksum or 0 (D06).  Returns 0 and fills
 * *out, or -1 with errno: EFAULT (NULL), EPROTONOSUPPORT (not IPv4 or not
 * UDP), EBADMSG (malformed or a checksum wrong). */
int memio_packet_parse_udp4(const void *ip, size_t len, memio_udp4_view *out);

/* Parses an Ethernet frame: on success returns 0, stores the ethertype
 * (host order) and a pointer to and length of the payload after the 14-byte
 * header.  -1 with EBADMSG when shorter than 14 bytes, EFAULT for NULL. */
int memio_packet_parse_ether(const void *frame, size_t len, uint16_t *ethertype,
                             const uint8_t **payload, size_t *payload_len);

/* ======================================================================
 * The complete codec: Ethernet (802.1Q), ARP, IPv4, IPv6, UDP, ICMP.
 * ====================================================================== */

#define MEMIO_VLAN_HLEN 4   /* an 802.1Q tag: TPID 0x8100 and TCI */
#define MEMIO_ARP_LEN 28    /* an Ethernet/IPv4 ARP body */
#define MEMIO_IPV6_HLEN 40
#define MEMIO_ICMP_HLEN 8   /* type, code, checksum, and 4 bytes (id/seq) */
/* The largest UDP payload in one IPv6 packet without a jumbogram option:
 * the payload length field (65535) less the UDP header. */
#define MEMIO_UDP6_MAX_PAYLOAD 65527
/* The largest ICMP echo data after the IP header: 65535 - 20 - 8 on IPv4,
 * 65535 - 8 on IPv6. */
#define MEMIO_ICMP4_MAX_DATA 65507
#define MEMIO_ICMP6_MAX_DATA 65527

/* The accumulator of a pseudo-header (RFC 768, RFC 8200 section 8.1) for
 * an upper-layer checksum, in the form memio_csum_add returns: chain it
 * into memio_csum_add over the upper header and data, then
 * memio_csum_fold.  len is the upper-layer length.  Alone,
 * (uint16_t)~memio_csum_fold(sum) is the uncomplemented pseudo-header sum
 * that a CHECKSUM_PARTIAL packet carries in its checksum field (M09).
 * memio_csum_pseudo6 returns 0 with EFAULT for a NULL address. */
uint32_t memio_csum_pseudo4(struct in_addr src, struct in_addr dst, uint8_t proto,
                            uint16_t len);
uint32_t memio_csum_pseudo6(const struct in6_addr *src, const struct in6_addr *dst,
                            uint8_t proto, uint32_t len);

/* ---- builders ---------------------------------------------------------
 * Each writes into buf (cap bytes) and returns the length written, or -1
 * with errno as above; on failure nothing is written.  payload may be NULL
 * when len is 0, and may already sit where the builder puts it (it is
 * moved, not copied over itself).  Addresses are in network order as in
 * any struct in_addr / in6_addr / sockaddr. */

/* Ethernet with an 802.1Q tag: dst, src, 0x8100, tci (PCP, DEI and VLAN
 * id, host order), ethertype (host order), payload.  Returns 18 + len. */
ssize_t memio_packet_ether_vlan(void *buf, size_t cap, const uint8_t dst[MEMIO_ETH_ALEN],
                                const uint8_t src[MEMIO_ETH_ALEN], uint16_t tci,
                                uint16_t ethertype, const void *payload, size_t len);

/* The 28-byte body of an Ethernet/IPv4 ARP packet (RFC 826): hardware
 * type 1, protocol 0x0800, op (ARPOP_REQUEST or ARPOP_REPLY from
 * <net/if_arp.h>, host order), sender and target.  A kernel request has a
 * zero target MAC (G05b); tha may be NULL for that.  Wrap it with
 * memio_packet_ether(..., ETHERTYPE_ARP, ...): the kernel sends it
 * unpadded, 42 bytes (G05).  Returns 28. */
ssize_t memio_packet_arp(void *buf, size_t cap, uint16_t op, const uint8_t sha[MEMIO_ETH_ALEN],
                         struct in_addr spa, const uint8_t tha[MEMIO_ETH_ALEN],
                         struct in_addr tpa);

/* An IPv4 header (IHL 5, TOS 0, valid checksum) before payload: protocol,
 * ttl, id and frag (flags and offset in 8-byte units, e.g. IP_DF or IP_MF |
 * 185, from <netinet/ip.h>) in host order.  The payload is not checked or
 * checksummed: build the upper layer first.  EMSGSIZE past 65535 bytes.
 * Returns 20 + len. */
ssize_t memio_packet_ip4(void *buf, size_t cap, struct in_addr src, struct in_addr dst,
                         uint8_t protocol, uint8_t ttl, uint16_t id, uint16_t frag,
                         const void *payload, size_t len);

/* An IPv6 header (traffic class 0, flow label 0) before payload, with the
 * given next header and hop limit.  EMSGSIZE past a payload length of
 * 65535.  Returns 40 + len. */
ssize_t memio_packet_ip6(void *buf, size_t cap, const struct in6_addr *src,
                         const struct in6_addr *dst, uint8_t next_header, uint8_t hop_limit,
                         const void *payload, size_t len);

/* An IPv6 header and UDP datagram as the Linux kernel sends one: hop
 * limit 64, traffic class and flow label 0, a valid UDP checksum (0xffff
 * when it computes to 0: IPv6 has no "no checksum").  Addresses and ports
 * come from src and dst (AF_INET6; scope id and flow info ignored).
 * EMSGSIZE past MEMIO_UDP6_MAX_PAYLOAD, EAFNOSUPPORT for another family.
 * Returns 48 + len. */
ssize_t memio_packet_udp6(void *buf, size_t cap, const struct sockaddr_in6 *src,
                          const struct sockaddr_in6 *dst, const void *payload, size_t len);

/* IPv4 + ICMP echo: type ICMP_ECHO (8) or ICMP_ECHOREPLY (0) from
 * <netinet/ip_icmp.h>, id and seq in host order, data after them, valid
 * ICMP and IP checksums; the IP header as the kernel's echo reply has it
 * (D24): TTL 64, no DF, IP id 0.  EINVAL for another type.  Returns
 * 28 + len. */
ssize_t memio_packet_icmp4_echo(void *buf, size_t cap, struct in_addr src, struct in_addr dst,
                                uint8_t type, uint16_t id, uint16_t seq, const void *data,
                                size_t len);

/* IPv6 + ICMPv6 echo: type ICMP6_ECHO_REQUEST (128) or ICMP6_ECHO_REPLY
 * (129) from <netinet/icmp6.h>, hop limit 64, valid checksum.  EINVAL for
 * another type.  Returns 48 + len. */
ssize_t memio_packet_icmp6_echo(void *buf, size_t cap, const struct in6_addr *src,
                                const struct in6_addr *dst, uint8_t type, uint16_t id,
                                uint16_t seq, const void *data, size_t len);

/* IPv6 + ICMPv6 neighbour solicitation (RFC 4861 4.3) for target, sent to
 * its solicited-node multicast address ff02::1:ffXX:XXXX with hop limit
 * 255.  lladdr, when not NULL, is added as a source link-layer address
 * option; a duplicate address detection probe has src :: and no option
 * (EINVAL if given both).  Returns 64, or 72 with the option. */
ssize_t memio_packet_icmp6_ns(void *buf, size_t cap, const struct in6_addr *src,
                              const struct in6_addr *target,
                              const uint8_t lladdr[MEMIO_ETH_ALEN]);

/* IPv6 + ICMPv6 neighbour advertisement (RFC 4861 4.4) from src to dst
 * for target, hop limit 255; flags is the host-order top byte set of
 * ND_NA_FLAG_ROUTER / SOLICITED / OVERRIDE as <netinet/icmp6.h> spells
 * them (network order there: pass them through ntohl).  lladdr, when not
 * NULL, becomes a target link-layer address option.  Returns 64, or 72. */
ssize_t memio_packet_icmp6_na(void *buf, size_t cap, const struct in6_addr *src,
                              const struct in6_addr *dst, const struct in6_addr *target,
                              uint32_t flags, const uint8_t lladdr[MEMIO_ETH_ALEN]);

/* ---- the parser ------------------------------------------------------- */

/* What link layer a buffer starts with. */
enum {
    MEMIO_LINK_IP = 0,    /* an IP packet, as a TUN without PI carries it */
    MEMIO_LINK_ETHER = 1, /* an Ethernet frame, as a TAP carries it */
};

/* Why a packet is malformed. */
typedef enum memio_pkt_err {
    MEMIO_PKT_OK = 0,
    MEMIO_PKT_ERR_TRUNCATED,  /* a header or a length field runs past the data */
    MEMIO_PKT_ERR_VERSION,    /* the IP version nibble is not 4 (or 6) */
    MEMIO_PKT_ERR_LENGTH,     /* a length field is impossible (IHL < 5, UDP
                                 length < 8, total length below the header) */
    MEMIO_PKT_ERR_CHECKSUM,   /* a checksum does not verify */
    MEMIO_PKT_ERR_ZERO_CSUM,  /* UDP checksum 0 over IPv6 (D32) */
    MEMIO_PKT_ERR_FORMAT,     /* another field is wrong (an ARP for another
                                 hardware, a hop-by-hop header not first,
                                 an ND option of length 0, ...) */
} memio_pkt_err;

/* The layers, for memio_packet.layers (a bit each) and for err_layer. */
typedef enum memio_pkt_layer {
    MEMIO_LAYER_NONE = 0,
    MEMIO_LAYER_ETHER = 1 << 0,
    MEMIO_LAYER_VLAN = 1 << 1,
    MEMIO_LAYER_ARP = 1 << 2,
    MEMIO_LAYER_IPV4 = 1 << 3,
    MEMIO_LAYER_IPV6 = 1 << 4,
    MEMIO_LAYER_IPV6_EXT = 1 << 5, /* at least one extension header */
    MEMIO_LAYER_FRAGMENT = 1 << 6, /* an IPv4 or IPv6 fragment */
    MEMIO_LAYER_UDP = 1 << 7,
    MEMIO_LAYER_ICMP4 = 1 << 8,
    MEMIO_LAYER_ICMP6 = 1 << 9,
} memio_pkt_layer;

/* One packet taken apart.  Every pointer points into the parsed buffer,
 * which the caller keeps alive; nothing is allocated.  Multi-byte numbers
 * are in host order; addresses are in network order inside their structs.
 * A layer's fields are meaningful only when its bit is in layers. */
typedef struct memio_packet {
    unsigned layers;           /* MEMIO_LAYER_* bits of the layers found */
    memio_pkt_err err;         /* MEMIO_PKT_OK, or why parsing stopped */
    memio_pkt_layer err_layer; /* the layer that is malformed */
    const char *err_reason;    /* a static string, e.g. "header longer than
                                  buffer"; "" when err is MEMIO_PKT_OK */

    struct {
        uint8_t dst[MEMIO_ETH_ALEN];
        uint8_t src[MEMIO_ETH_ALEN];
        uint16_t type;     /* the ethertype after any 802.1Q tag */
        uint16_t vlan_tci; /* the tag's TCI, when MEMIO_LAYER_VLAN */
        size_t hlen;       /* 14, or 18 with a tag */
    } eth;

    struct {
        uint16_t op; /* ARPOP_REQUEST, ARPOP_REPLY, ... */
        uint8_t sha[MEMIO_ETH_ALEN];
        struct in_addr spa;
        uint8_t tha[MEMIO_ETH_ALEN];
        struct in_addr tpa;
    } arp;

    struct {
        struct in_addr src, dst;
        uint8_t tos, ttl, protocol;
        uint16_t id;
        uint16_t frag;      /* flags and offset, as in the header */
        size_t hlen;        /* with options, which are skipped */
        size_t total_len;   /* bytes past it in the buffer are ignored (D17) */
    } ip4;

    struct {
        struct in6_addr src, dst;
        uint8_t tclass, hop_limit;
        uint32_t flow_label;
        uint8_t next_header; /* of the fixed header */
        size_t payload_len;  /* from the header; bytes past it are ignored */
        size_t ext_len;      /* bytes of extension headers walked */
    } ip6;

    /* The upper-layer protocol: the IPv4 protocol, or the IPv6 next header
     * after the extension headers (IPPROTO_NONE for 59). */
    uint8_t proto;
    /* Where the upper layer starts and how long the IP layer says it is. */
    const uint8_t *l4;
    size_t l4_len;

    struct {
        uint32_t id;     /* IPv4: the IP id; IPv6: the fragment header's */
        uint32_t offset; /* in bytes */
        int more;        /* MF / M flag */
    } frag;

    struct {
        uint16_t sport, dport, len, checksum; /* checksum as found */
    } udp;

    struct {
        uint8_t type, code;
        uint16_t checksum;  /* as found */
        uint16_t id, seq;   /* echo request / reply */
        uint32_t na_flags;  /* neighbour advertisement: R, S, O bits of
                               the first word, host order */
        struct in6_addr target; /* neighbour solicitation / advertisement */
        int has_lladdr;         /* a source/target link-layer address option */
        uint8_t lladdr[MEMIO_ETH_ALEN];
    } icmp;

    /* The innermost data: UDP payload, echo data, the IP payload of a
     * fragment or of a protocol not parsed here, or the Ethernet payload of
     * an ethertype not parsed here.  NULL with 0 when there is none. */
    const uint8_t *payload;
    size_t payload_len;
} memio_packet;

/* Takes frame (len bytes, starting with the link layer named by link)
 * apart into *out, layer by layer, verifying every checksum: IPv4 header,
 * UDP (0 accepted on IPv4 as the kernel does, D06; rejected on IPv6,
 * D32), ICMPv4, ICMPv6.  IPv4 options and IPv6 extension headers
 * (hop-by-hop, routing, destination options, fragment, AH) are skipped; a
 * fragment is reported (MEMIO_LAYER_FRAGMENT, out->frag) and its payload
 * not parsed further (an IPv6 atomic fragment, offset 0 and no M flag, is
 * read through, RFC 6946).  A neighbour solicitation or advertisement
 * whose hop limit is not 255 is malformed (the kernel drops it).  Never
 * reads outside [frame, frame + len).
 *
 * Returns 0 when every layer found is well formed (an unknown ethertype or
 * protocol just ends the walk: payload points at it); -1 with errno
 * EBADMSG when one is malformed: out->err, err_layer and err_reason say
 * which and why, and the layers before it stay filled.  -1 with EFAULT for
 * a NULL frame or out, EINVAL for an unknown link. */
int memio_packet_parse(const void *frame, size_t len, int link, memio_packet *out);

/* The name of a layer ("ether", "vlan", "arp", "ipv4", "ipv6",
 * "ipv6-ext", "fragment", "udp", "icmp", "icmpv6"; "none"): a static
 * string. */
const char *memio_packet_layer_name(memio_pkt_layer layer);
/* A static description of an error code ("ok", "truncated", ...). */
const char *memio_packet_err_name(memio_pkt_err err);

/* A UDP datagram found in an IPv6 packet, as memio_udp4_view is for IPv4. */
typedef struct memio_udp6_view {
    struct sockaddr_in6 src;
    struct sockaddr_in6 dst;
    uint8_t hop_limit;
    uint32_t flow_label;   /* host order */
    uint16_t udp_checksum; /* host order, as found */
    const uint8_t *payload;
    size_t payload_len;
} memio_udp6_view;

/* Parses an IPv6 packet carrying UDP as a kernel socket's stack would
 * accept it: version 6, payload length within the buffer (bytes past it
 * ignored), extension headers well formed, not a fragment, UDP length
 * within the payload (0 means "the rest of it", RFC 2675, as the kernel
 * reads it), checksum not 0 (D32) and valid (D33).  Returns 0 and fills
 * *out, or -1 with errno: EFAULT (NULL), EPROTONOSUPPORT (not IPv6 or not
 * UDP), EBADMSG (malformed, a fragment, or a checksum wrong or 0). */
int memio_packet_parse_udp6(const void *ip, size_t len, memio_udp6_view *out);

/* ---- ping --------------------------------------------------------------
 * The test plays a host that pings the program, or checks that the
 * program answers (wireguard-go's tuntest.Ping offers the same). */

/* Builds an echo request from src to dst (both AF_INET, or both AF_INET6;
 * ports ignored) with id, seq and data: an IPv4 + ICMP or IPv6 + ICMPv6
 * packet with valid checksums, as memio_packet_icmp4_echo /
 * memio_packet_icmp6_echo build them.  EAFNOSUPPORT for other or mixed
 * families.  Returns the length. */
ssize_t memio_ping_request(void *buf, size_t cap, const struct sockaddr *src,
                           const struct sockaddr *dst, uint16_t id, uint16_t seq,
                           const void *data, size_t len);

/* Whether ip (an IP packet, len bytes) is the well-formed echo reply to
 * the request memio_ping_request(src, dst, id, seq, data, len) built:
 * from dst to src, same id, seq and data, valid checksums.  Returns 1 if
 * it is, 0 if not (any other packet, malformed or not), -1 with EFAULT
 * for NULL pointers or EAFNOSUPPORT as above. */
int memio_ping_is_reply(const void *ip, size_t len, const struct sockaddr *src,
                        const struct sockaddr *dst, uint16_t id, uint16_t seq,
                        const void *data, size_t data_len);

#ifdef __cplusplus
}
#endif

#endif /* MEMIO_PACKET_H */
