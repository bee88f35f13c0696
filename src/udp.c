/*
 * udp.c — the memory system's stand-ins for the kernel's UDP sockets:
 * memio_send_udp builds the datagram the kernel would send and queues it
 * toward the program; memio_receive_udp makes a descriptor that receives
 * what a bound socket would, from the frames the program writes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/ethernet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "memory.h"
#include "packet_internal.h"

#ifndef ETH_P_IPV6
#define ETH_P_IPV6 0x86DD
#endif

/* A socket's receive buffer, as net.core.rmem_default (212992 bytes).  Each
 * datagram is charged at least 832 bytes of it, which reproduces the 256
 * small datagrams a kernel socket queued in J06; larger ones are charged
 * 768 bytes plus their length, an approximation of the skb's truesize. */
#define UDP_RCVBUF 212992u
/* A queued datagram's slot holds its source first (IP version, port,
 * address), then the payload; slot->len is the payload's length. */
#define SRC_META 20
#define UDP_MIN_CHARGE 832u
#define UDP_OVERHEAD 768u

/* The source of memio_send_udp's datagrams on a tunnel without an address
 * of that family: 192.0.2.1 (TEST-NET-1, RFC 5737) and 2001:db8::1 (the
 * documentation prefix, RFC 3849), which route nowhere real. */
#define DEFAULT_SOURCE 0xc0000201u
static const struct in6_addr DEFAULT_SOURCE6 = {
    .s6_addr = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
#define EPHEMERAL_LOW 32768 /* net.ipv4.ip_local_port_range */
#define EPHEMERAL_HIGH 60999

/* An address and port of either family, as a bound socket holds it. */
struct udp_addr {
    sa_family_t family;
    uint16_t port; /* network order */
    struct in_addr v4;
    struct in6_addr v6;
};

struct udp_sock {
    memio_file *file;
    struct memio_tunnel *tun; /* NULL once the tunnel is gone */
    struct udp_sock *next;    /* in tun->socks */
    struct udp_addr addr;
    struct ring q;
    size_t rmem;
};

static bool addr_is_any(const struct udp_addr *a)
{
    return a->family == AF_INET ? a->v4.s_addr == INADDR_ANY : IN6_IS_ADDR_UNSPECIFIED(&a->v6);
}

static uint32_t udp_charge(size_t len)
{
    size_t c = UDP_OVERHEAD + len;
    return c < UDP_MIN_CHARGE ? UDP_MIN_CHARGE : (uint32_t)c;
}

/* --- routing ------------------------------------------------------------- */

static uint32_t prefix_mask(int prefix_len)
{
    return prefix_len ? htonl(~0u << (32 - prefix_len)) : 0;
}

/* Whether the first `bits` bits of a and b agree. */
static bool prefix_match6(const struct in6_addr *a, const struct in6_addr *b, int bits)
{
    int i;

    for (i = 0; bits > 0; i++, bits -= 8) {
        uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
        if ((a->s6_addr[i] ^ b->s6_addr[i]) & mask)
            return false;
    }
    return true;
}

/* Whether the kernel side would take a datagram to dst as its own: the
 * tunnel's address, its subnet's broadcast (D29), the limited broadcast,
 * an IPv6 multicast group; any address of a family the test gave the
 * tunnel no address of. */
static bool dst_is_local(const struct memio_tunnel *t, const struct udp_addr *dst)
{
    if (dst->family == AF_INET6) {
        if (!t->has_addr6)
            return true;
        return IN6_ARE_ADDR_EQUAL(&dst->v6, &t->addr6) || IN6_IS_ADDR_MULTICAST(&dst->v6);
    }
    if (!t->has_addr)
        return true;
    if (dst->v4.s_addr == t->addr.s_addr || dst->v4.s_addr == INADDR_BROADCAST)
        return true;
    return t->prefix_len < 31 && dst->v4.s_addr == (t->addr.s_addr | ~prefix_mask(t->prefix_len));
}

/* The tunnel a datagram to `to` leaves through: the longest prefix of its
 * family covering it when tunnels have addresses of that family, else the
 * only attached tunnel that is up. */
static struct memio_tunnel *route(struct mem_sys *ms, const struct udp_addr *to)
{
    struct memio_tunnel *t, *best = NULL, *only = NULL;
    bool any_addr = false;
    int best_len = -1, candidates = 0;

    for (t = ms->live_tunnels; t; t = t->next_live) {
        bool has = to->family == AF_INET6 ? t->has_addr6 : t->has_addr;
        if (has) {
            int plen = to->family == AF_INET6 ? t->prefix_len6 : t->prefix_len;
            bool covers = to->family == AF_INET6
                              ? prefix_match6(&to->v6, &t->addr6, plen)
                              : (to->v4.s_addr & prefix_mask(plen)) ==
                                    (t->addr.s_addr & prefix_mask(plen));
            any_addr = true;
            if (covers && plen > best_len) {
                best = t;
                best_len = plen;
            }
        } else if (t->numqueues && t->up) {
            only = t;
            candidates++;
        }
    }
    if (any_addr) {
        /* E11: a down link has no route. */
        if (best && best->up)
            return best;
        errno = ENETUNREACH;
        return NULL;
    }
    if (candidates == 1)
        return only;
    errno = ENETUNREACH;
    return NULL;
}

/* A sockaddr of either family as a udp_addr; EFAULT, EINVAL (too short),
 * EAFNOSUPPORT. */
static int addr_from(const struct sockaddr *sa, socklen_t len, struct udp_addr *out)
{
    memset(out, 0, sizeof(*out));
    if (memio__bad_ptr(sa)) {
        errno = EFAULT;
        return -1;
    }
    if (len < (socklen_t)sizeof(sa_family_t)) {
        errno = EINVAL;
        return -1;
    }
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        if (len < (socklen_t)sizeof(*in)) {
            errno = EINVAL;
            return -1;
        }
        out->family = AF_INET;
        out->port = in->sin_port;
        out->v4 = in->sin_addr;
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        if (len < (socklen_t)sizeof(*in6)) {
            errno = EINVAL;
            return -1;
        }
        out->family = AF_INET6;
        out->port = in6->sin6_port;
        out->v6 = in6->sin6_addr;
        return 0;
    }
    errno = EAFNOSUPPORT;
    return -1;
}

/* --- send_udp -------------------------------------------------------------- */

/* Builds the datagram from `src` to `to` as the kernel's UDP and IP output
 * would (E03; IPv6 with hop limit 64), in a slot toward the program, and
 * queues it.  Returns 0, or -1 with the transmit path's errno. */
static int send_locked(struct memio_tunnel *t, const void *payload, size_t len,
                       const struct udp_addr *to, struct sockaddr_storage *from,
                       struct mem_signal *sig)
{
    struct mem_sys *ms = t->sys;
    size_t l2 = mem__is_tap(t) ? ETH_HLEN : 0;
    bool v6 = to->family == AF_INET6;
    size_t l3 = v6 ? 48 : 28; /* IP and UDP headers */
    uint8_t head[ETH_HLEN + 48];
    union {
        struct sockaddr_in v4;
        struct sockaddr_in6 v6;
    } src, dst;
    struct ring_slot *slot;
    struct tun_file *q;
    uint16_t sport = htons(ms->next_port);
    ssize_t built;

    if (v6) {
        memset(&src.v6, 0, sizeof(src.v6));
        memset(&dst.v6, 0, sizeof(dst.v6));
        src.v6.sin6_family = dst.v6.sin6_family = AF_INET6;
        src.v6.sin6_addr = t->has_addr6 ? t->addr6 : DEFAULT_SOURCE6;
        src.v6.sin6_port = sport;
        dst.v6.sin6_addr = to->v6;
        dst.v6.sin6_port = to->port;
    } else {
        memset(&src.v4, 0, sizeof(src.v4));
        memset(&dst.v4, 0, sizeof(dst.v4));
        src.v4.sin_family = dst.v4.sin_family = AF_INET;
        src.v4.sin_addr.s_addr = t->has_addr ? t->addr.s_addr : htonl(DEFAULT_SOURCE);
        src.v4.sin_port = sport;
        dst.v4.sin_addr = to->v4;
        dst.v4.sin_port = to->port;
    }
    if (t->numqueues > 1) {
        /* The flow key the queue choice hashes: protocol, addresses and
         * ports, at their places in the IP and UDP headers. */
        memset(head, 0, sizeof(head));
        if (v6) {
            head[l2] = 0x60;
            head[l2 + 6] = IPPROTO_UDP;
            memcpy(head + l2 + 8, &src.v6.sin6_addr, 16);
            memcpy(head + l2 + 24, &to->v6, 16);
            memcpy(head + l2 + 40, &sport, 2);
            memcpy(head + l2 + 42, &to->port, 2);
        } else {
            head[l2] = 0x45;
            head[l2 + 9] = IPPROTO_UDP;
            memcpy(head + l2 + 12, &src.v4.sin_addr, 4);
            memcpy(head + l2 + 16, &to->v4, 4);
            memcpy(head + l2 + 20, &sport, 2);
            memcpy(head + l2 + 22, &to->port, 2);
        }
    }
    slot = mem__tun_xmit_reserve(t, head, l2 + l3, l2 + l3 + len, &q);
    if (!slot)
        return -1;
    built = v6 ? memio_packet_udp6(slot->buf + l2, slot->cap - l2, &src.v6, &dst.v6, payload, len)
               : memio_packet_udp4(slot->buf + l2, slot->cap - l2, &src.v4, &dst.v4,
                                   ms->next_ip_id, payload, len);
    if (built < 0)
        return -1; /* cannot happen: arguments checked, slot sized */
    if (l2) {
        /* The hosts on the wire are the program: address the MAC it last
         * sent from, or broadcast before it has sent anything.  The kernel
         * would resolve it with ARP or neighbour discovery first (G05-G07):
         * a documented difference. */
        static const uint8_t bcast[ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
        memio_packet_ether(slot->buf, ETH_HLEN, t->peer_mac_known ? t->peer_mac : bcast,
                           t->mac, v6 ? ETH_P_IPV6 : ETH_P_IP, NULL, 0);
    }
    slot->len = l2 + l3 + len;
    slot->aux = 0;
    if (mem__tun_csum_offload(t)) {
        /* M09, M14: with TUN_F_CSUM the kernel hands the datagram out with
         * CHECKSUM_PARTIAL: the UDP checksum field holds only the folded
         * pseudo-header sum (not complemented). */
        uint8_t *udp = slot->buf + l2 + l3 - 8;
        uint32_t pseudo = v6 ? memio_csum_pseudo6(&src.v6.sin6_addr, &dst.v6.sin6_addr,
                                                  IPPROTO_UDP, (uint32_t)(len + 8))
                             : memio_csum_pseudo4(src.v4.sin_addr, dst.v4.sin_addr, IPPROTO_UDP,
                                                  (uint16_t)(len + 8));
        uint16_t csum = htons((uint16_t)~memio_csum_fold(pseudo));
        memcpy(udp + 6, &csum, 2);
        slot->aux = SLOT_CSUM_PARTIAL;
    }
    if (mem__tun_xmit_commit(t, q, slot, sig) < 0)
        return -1;
    if (!v6)
        ms->next_ip_id++;
    ms->next_port = ms->next_port >= EPHEMERAL_HIGH ? EPHEMERAL_LOW : ms->next_port + 1;
    if (from) {
        memset(from, 0, sizeof(*from));
        memcpy(from, &src, v6 ? sizeof(src.v6) : sizeof(src.v4));
    }
    return 0;
}

/* Argument checks shared by memio_send_udp and memio_tunnel_send_udp. */
static int send_udp_check(const void *payload, size_t len, const struct sockaddr *to,
                          socklen_t tolen, struct udp_addr *dst)
{
    if (addr_from(to, tolen, dst) < 0)
        return -1;
    if (len && memio__bad_ptr(payload)) {
        errno = EFAULT;
        return -1;
    }
    if (len > (dst->family == AF_INET6 ? MEMIO_UDP6_MAX_PAYLOAD : MEMIO_UDP4_MAX_PAYLOAD)) {
        errno = EMSGSIZE;
        return -1;
    }
    return 0;
}

int mem__send_udp(memio_sys *sys, const void *payload, size_t len,
                  const struct sockaddr *to, socklen_t tolen,
                  struct sockaddr_storage *from)
{
    struct mem_sys *ms = mem_sys_of(sys);
    struct mem_signal sig = {0, 0};
    struct memio_tunnel *t;
    struct udp_addr dst;
    int r = -1;

    if (send_udp_check(payload, len, to, tolen, &dst) < 0)
        return -1;
    mem__lock(ms);
    t = route(ms, &dst);
    if (t)
        r = send_locked(t, payload, len, &dst, from, &sig);
    mem__unlock(ms);
    if (sig.pid)
        mem__send_signals(&sig, 1);
    return r;
}

int memio_tunnel_send_udp(memio_tunnel *t, const void *payload, size_t len,
                          const struct sockaddr *to, socklen_t tolen,
                          struct sockaddr_storage *from)
{
    struct mem_signal sig = {0, 0};
    struct udp_addr dst;
    int r = -1;

    if (send_udp_check(payload, len, to, tolen, &dst) < 0)
        return -1;
    mem__lock(t->sys);
    if (!t->exists)
        errno = ENODEV;
    else
        r = send_locked(t, payload, len, &dst, from, &sig);
    mem__unlock(t->sys);
    if (sig.pid)
        mem__send_signals(&sig, 1);
    return r;
}

/* --- what the kernel would accept -------------------------------------- */

static memio_drop_reason reason_of4(enum packet_udp4_verdict v)
{
    switch (v) {
    case U4_OK:
        return MEMIO_DROP_NONE;
    case U4_IP_CHECKSUM:
        return MEMIO_DROP_IP_CHECKSUM;
    case U4_FRAGMENT:
        return MEMIO_DROP_IP_FRAGMENT;
    case U4_UDP_LENGTH:
        return MEMIO_DROP_UDP_LENGTH;
    case U4_UDP_CHECKSUM:
        return MEMIO_DROP_UDP_CHECKSUM;
    default:
        return MEMIO_DROP_IP_HEADER;
    }
}

static memio_drop_reason reason_of6(enum packet_udp6_verdict v)
{
    switch (v) {
    case U6_OK:
        return MEMIO_DROP_NONE;
    case U6_FRAGMENT:
        return MEMIO_DROP_IP_FRAGMENT;
    case U6_UDP_LENGTH:
        return MEMIO_DROP_UDP_LENGTH;
    case U6_UDP_CSUM_ZERO: /* D32 */
    case U6_UDP_CHECKSUM:  /* D33 */
        return MEMIO_DROP_UDP_CHECKSUM;
    default:
        return MEMIO_DROP_IP_HEADER;
    }
}

/* The IP packet inside a frame the program wrote, and its version: after
 * the Ethernet header on a TAP (ethertype 0x0800 or 0x86dd), the frame
 * itself on a TUN.  0 when it is neither IPv4 nor IPv6. */
static int ip_of(const struct memio_tunnel *t, const uint8_t *fr, size_t len,
                 const uint8_t **ip, size_t *iplen)
{
    unsigned ver;

    if (mem__is_tap(t)) {
        uint16_t type;
        if (len < ETH_HLEN)
            return 0;
        type = (uint16_t)(fr[12] << 8 | fr[13]);
        if (type != ETH_P_IP && type != ETH_P_IPV6)
            return 0;
        fr += ETH_HLEN;
        len -= ETH_HLEN;
        if (!len || (fr[0] >> 4) != (type == ETH_P_IP ? 4u : 6u))
            return 0;
    }
    ver = len ? fr[0] >> 4 : 0;
    if (ver != 4 && ver != 6)
        return 0;
    *ip = fr;
    *iplen = len;
    return (int)ver;
}

/* The verdict on a frame the program wrote (headers stripped; pi_proto as
 * the device took it: the PI header's on a TUN with PI, the version's on a
 * TUN without, 0 on a TAP), in the kernel's order: eth_type_trans's
 * PACKET_OTHERHOST, the protocol, ip_rcv_core or ipv6_rcv, udp_rcv.  On
 * MEMIO_DROP_NONE, *payload and *plen give the datagram's payload. */
static memio_drop_reason check_frame(const struct memio_tunnel *t, const uint8_t *fr,
                                     size_t len, uint16_t pi_proto, bool csum_partial,
                                     const uint8_t **payload, size_t *plen)
{
    const uint8_t *ip = NULL;
    size_t iplen = 0;
    int ver = ip_of(t, fr, len, &ip, &iplen);

    if (mem__is_tap(t)) {
        /* G11, G12: unicast to another MAC is dropped; broadcast and
         * multicast pass (G10, G13). */
        if (len >= ETH_HLEN && !(fr[0] & 1) && !mem__mac_eq(fr, t->mac))
            return MEMIO_DROP_OTHERHOST;
    } else if (ver && pi_proto != htons(ver == 4 ? ETH_P_IP : ETH_P_IPV6)) {
        return MEMIO_DROP_PI_PROTO; /* F02-F04: the PI proto is trusted */
    }
    if (ver == 4) {
        memio_udp4_view v;
        memio_drop_reason r = reason_of4(packet__udp4_check(ip, iplen, !csum_partial, &v));
        if (r == MEMIO_DROP_NONE) {
            *payload = v.payload;
            *plen = v.payload_len;
        }
        return r;
    }
    if (ver == 6) {
        memio_udp6_view v;
        memio_drop_reason r = reason_of6(packet__udp6_check(ip, iplen, !csum_partial, &v));
        if (r == MEMIO_DROP_NONE) {
            *payload = v.payload;
            *plen = v.payload_len;
        }
        return r;
    }
    return MEMIO_DROP_IP_HEADER;
}

memio_drop_reason memio_tunnel_classify(const memio_tunnel *t, const void *frame,
                                        size_t len, uint16_t pi_proto)
{
    const uint8_t *fr = frame, *payload;
    size_t plen;

    if (memio__bad_ptr(frame))
        return MEMIO_DROP_IP_HEADER;
    if (!mem__is_tap(t) && !pi_proto && len) {
        unsigned ver = fr[0] >> 4;
        pi_proto = ver == 4 ? htons(ETH_P_IP) : ver == 6 ? htons(ETH_P_IPV6) : 0;
    }
    return check_frame(t, fr, len, pi_proto, false, &payload, &plen);
}

/* --- dispatch of written frames ------------------------------------------ */

/* Where a UDP datagram in ip is addressed, reading only what is there (the
 * datagram may be malformed past that); false when it cannot be told. */
static bool locate_udp(int ver, const uint8_t *ip, size_t iplen, struct udp_addr *dst)
{
    size_t off;

    memset(dst, 0, sizeof(*dst));
    if (ver == 4) {
        if (iplen < 20 || ip[9] != IPPROTO_UDP)
            return false;
        off = (size_t)(ip[0] & 15) * 4;
        if (off < 20 || off + 4 > iplen)
            return false;
        dst->family = AF_INET;
        memcpy(&dst->v4, ip + 16, 4);
    } else {
        uint8_t nh;
        if (iplen < 40)
            return false;
        nh = ip[6];
        off = 40;
        /* Hop-by-hop, routing and destination options come before UDP. */
        while (nh == 0 || nh == 43 || nh == 60) {
            if (off + 8 > iplen)
                return false;
            nh = ip[off];
            off += ((size_t)ip[off + 1] + 1) * 8;
        }
        if (nh != IPPROTO_UDP || off + 4 > iplen)
            return false;
        dst->family = AF_INET6;
        memcpy(&dst->v6, ip + 24, 16);
    }
    memcpy(&dst->port, ip + off + 2, 2);
    return true;
}

/* The receive descriptor a kernel socket's lookup would pick for dst: an
 * exact address, or an unspecified one when dst is the tunnel's own; a
 * socket bound to :: takes IPv4 too (net.ipv6.bindv6only is 0). */
static struct udp_sock *find_sock(struct memio_tunnel *t, const struct udp_addr *dst)
{
    struct udp_sock *us;

    for (us = t->socks; us; us = us->next) {
        const struct udp_addr *a = &us->addr;
        if (a->port != dst->port)
            continue;
        if (addr_is_any(a)) {
            if ((a->family == dst->family || a->family == AF_INET6) && dst_is_local(t, dst))
                return us;
        } else if (a->family == dst->family &&
                   (dst->family == AF_INET ? a->v4.s_addr == dst->v4.s_addr
                                           : IN6_ARE_ADDR_EQUAL(&a->v6, &dst->v6))) {
            return us;
        }
    }
    return NULL;
}

/* Four bytes as the native-order word csum.c's sums add (a, b, c, d in
 * memory order), built in registers: no narrow stores read back wide. */
static inline uint64_t word4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return (uint64_t)a | (uint64_t)b << 8 | (uint64_t)c << 16 | (uint64_t)d << 24;
#else
    return (uint64_t)d | (uint64_t)c << 8 | (uint64_t)b << 16 | (uint64_t)a << 24;
#endif
}

/* The sum a UDP checksum is verified against: the pseudo-header (the
 * addresses, read in place from the IP header; protocol; UDP length) and
 * the UDP header, in the native order of packet__csum_copy. */
static uint64_t udp_head_sum(int ver, const uint8_t *ip, const uint8_t *udp)
{
    uint64_t s = ver == 4 ? packet__sum32(ip + 12, 8) : packet__sum32(ip + 8, 32);

    s += word4(0, IPPROTO_UDP, udp[4], udp[5]);
    return s + packet__sum32(udp, 8);
}

bool mem__udp_dispatch(struct memio_tunnel *t, const uint8_t *frame, size_t len,
                       uint16_t pi_proto, bool csum_partial)
{
    const uint8_t *ip = NULL, *payload = NULL, *udp;
    size_t iplen = 0, plen = 0;
    struct udp_sock *us;
    struct udp_addr dst;
    memio_drop_reason why;
    struct ring_slot *slot;
    uint32_t charge;
    bool verify;
    int ver = ip_of(t, frame, len, &ip, &iplen);

    if (!ver || !locate_udp(ver, ip, iplen, &dst) || !(us = find_sock(t, &dst)))
        return false;
    /* Every check but the UDP checksum's, which is taken below while the
     * payload is copied: one pass over it. */
    why = check_frame(t, frame, len, pi_proto, true, &payload, &plen);
    if (why != MEMIO_DROP_NONE) {
        t->stats.udp_dropped[why]++;
        return true;
    }
    udp = payload - 8;
    /* IPv4's checksum 0 means none (D06); IPv6's 0 was refused above (D32). */
    verify = !csum_partial && (ver == 6 || udp[6] || udp[7]);
    charge = udp_charge(plen);
    slot = us->rmem + charge > UDP_RCVBUF ? NULL
                                          : ring_reserve(&us->q, UINT32_MAX, SRC_META + plen);
    if (!slot) {
        /* The checksum is checked before the receive buffer (D08 before a
         * full socket). */
        bool bad = verify && packet__csum_fold_native(packet__csum_portable(
                                 udp_head_sum(ver, ip, udp), payload, plen)) != 0xffff;
        t->stats.udp_dropped[bad ? MEMIO_DROP_UDP_CHECKSUM : MEMIO_DROP_RCVBUF]++;
        return true;
    }
    if (verify) {
        uint64_t acc =
            packet__csum_copy(udp_head_sum(ver, ip, udp), slot->buf + SRC_META, payload, plen);
        if (packet__csum_fold_native(acc) != 0xffff) {
            t->stats.udp_dropped[MEMIO_DROP_UDP_CHECKSUM]++; /* D08, D33: not queued */
            return true;
        }
    } else {
        memcpy(slot->buf + SRC_META, payload, plen);
    }
    /* Who sent it, for memio_recvfrom: version, port, address. */
    slot->buf[0] = (uint8_t)ver;
    memcpy(slot->buf + 2, udp, 2);
    memcpy(slot->buf + 4, ver == 4 ? ip + 12 : ip + 8, ver == 4 ? 4 : 16);
    slot->len = plen;
    slot->aux = charge;
    ring_commit(&us->q);
    us->rmem += charge;
    t->stats.udp_delivered++;
    mem__wake_all(t->sys);
    return true;
}

void mem__udp_unlink_all(struct memio_tunnel *t)
{
    struct udp_sock *us, *next;

    for (us = t->socks; us; us = next) {
        next = us->next;
        us->tun = NULL;
        us->next = NULL;
    }
    t->socks = NULL;
}

/* --- the receive descriptor ------------------------------------------- */

/* Reads the next datagram into the iovec as recvmsg does, and its source
 * into *src when src is not NULL. */
static ssize_t udp_recv(memio_file *f, const struct iovec *iov, int iovcnt, struct udp_addr *src)
{
    struct udp_sock *us = f->data;
    struct ring_slot *slot;
    size_t count = 0, n;
    int i, nonblock;

    for (i = 0; i < iovcnt; i++)
        count += iov[i].iov_len;
    nonblock = f->flags & O_NONBLOCK; /* as the read began */
    while (!(slot = ring_front(&us->q))) {
        if (nonblock) {
            errno = EAGAIN;
            return -1;
        }
        if (memio_file_wait(f) < 0)
            return -1;
    }
    n = count < slot->len ? count : slot->len;
    if (n && (iovcnt == 1 ? memio__bad_ptr(iov[0].iov_base) : mem__iov_bad(iov, iovcnt))) {
        errno = EFAULT;
        return -1; /* the datagram stays queued */
    }
    if (iovcnt == 1)
        mem__copy(iov[0].iov_base, slot->buf + SRC_META, n);
    else
        mem__iov_put(iov, iovcnt, 0, slot->buf + SRC_META, n);
    if (src) {
        memset(src, 0, sizeof(*src));
        src->family = slot->buf[0] == 6 ? AF_INET6 : AF_INET;
        memcpy(&src->port, slot->buf + 2, 2);
        if (src->family == AF_INET6)
            memcpy(&src->v6, slot->buf + 4, 16);
        else
            memcpy(&src->v4, slot->buf + 4, 4);
    }
    us->rmem -= slot->aux;
    /* A datagram is read whole or not at all: the rest of it is gone. */
    ring_pop(&us->q);
    return (ssize_t)n;
}

ssize_t mem__udp_read_plain(memio_file *f, void *buf, size_t len)
{
    struct udp_sock *us = f->data;
    struct ring_slot *slot = ring_front(&us->q);
    size_t n;

    if (!slot)
        return MEM_NOT_PLAIN;
    n = len < slot->len ? len : slot->len;
    if (n && memio__bad_ptr(buf))
        return MEM_NOT_PLAIN;
    mem__copy(buf, slot->buf + SRC_META, n);
    us->rmem -= slot->aux;
    ring_pop(&us->q); /* read whole or not at all: the rest is gone */
    return (ssize_t)n;
}

static ssize_t udp_read(memio_file *f, const struct iovec *iov, int iovcnt)
{
    return udp_recv(f, iov, iovcnt, NULL);
}

/* recvfrom on a receive descriptor: the payload, and the source as a
 * socket of the descriptor's family reports it (an IPv4 source to a socket
 * bound to :: comes as ::ffff:a.b.c.d).  Locked by the caller. */
ssize_t mem__udp_recvfrom(memio_file *f, void *buf, size_t len, struct sockaddr *from,
                          socklen_t *fromlen)
{
    struct udp_sock *us = f->data;
    struct iovec iov = {.iov_base = buf, .iov_len = len};
    struct udp_addr src;
    union {
        struct sockaddr_in v4;
        struct sockaddr_in6 v6;
    } sa;
    socklen_t salen, have;
    ssize_t n;

    if (from && (memio__bad_ptr(from) || memio__bad_ptr(fromlen))) {
        errno = EFAULT; /* before the datagram is taken: nothing is lost */
        return -1;
    }
    n = udp_recv(f, &iov, 1, &src);
    if (n < 0 || !from)
        return n;
    memset(&sa, 0, sizeof(sa));
    if (us->addr.family == AF_INET6) {
        sa.v6.sin6_family = AF_INET6;
        sa.v6.sin6_port = src.port;
        if (src.family == AF_INET6) {
            sa.v6.sin6_addr = src.v6;
        } else {
            sa.v6.sin6_addr.s6_addr[10] = sa.v6.sin6_addr.s6_addr[11] = 0xff;
            memcpy(&sa.v6.sin6_addr.s6_addr[12], &src.v4, 4);
        }
        salen = sizeof(sa.v6);
    } else {
        sa.v4.sin_family = AF_INET;
        sa.v4.sin_port = src.port;
        sa.v4.sin_addr = src.v4;
        salen = sizeof(sa.v4);
    }
    memcpy(&have, fromlen, sizeof(have));
    /* As the kernel: copy what fits, report the full length. */
    memcpy(from, &sa, have < salen ? have : salen);
    memcpy(fromlen, &salen, sizeof(salen));
    return n;
}

static ssize_t udp_write(memio_file *f, const struct iovec *iov, int iovcnt)
{
    (void)f;
    (void)iov;
    (void)iovcnt;
    errno = EDESTADDRREQ; /* a bound, unconnected UDP socket */
    return -1;
}

static int udp_ioctl(memio_file *f, unsigned long request, void *arg)
{
    struct udp_sock *us = f->data;

    if (request == FIONREAD) {
        struct ring_slot *slot = ring_front(&us->q);
        int n = slot ? (int)slot->len : 0;
        if (memio__bad_ptr(arg)) {
            errno = EFAULT;
            return -1;
        }
        memcpy(arg, &n, sizeof(n));
        return 0;
    }
    errno = ENOTTY;
    return -1;
}

static short udp_poll(memio_file *f, short events)
{
    struct udp_sock *us = f->data;
    short mask = POLLOUT | POLLWRNORM;

    (void)events;
    if (ring_count(&us->q))
        mask |= POLLIN | POLLRDNORM;
    return mask;
}

static void udp_close(memio_file *f)
{
    struct udp_sock *us = f->data;

    if (us->tun) {
        struct udp_sock **pp;
        for (pp = &us->tun->socks; *pp; pp = &(*pp)->next) {
            if (*pp == us) {
                *pp = us->next;
                break;
            }
        }
    }
    ring_free(&us->q);
    free(us);
}

const memio_device_class mem__udp_class = {
    .version = MEMIO_DEVICE_CLASS_VERSION,
    .name = "udp",
    .read = udp_read,
    .write = udp_write,
    .ioctl = udp_ioctl,
    .poll = udp_poll,
    .close = udp_close,
};

/* Whether addr may be bound: the unspecified address, or one the namespace
 * has (any, while the test gave no tunnel an address of that family). */
static bool addr_bindable(struct mem_sys *ms, const struct udp_addr *a)
{
    struct memio_tunnel *t;
    bool any_addr = false;

    if (addr_is_any(a))
        return true;
    for (t = ms->live_tunnels; t; t = t->next_live) {
        if (a->family == AF_INET6) {
            if (!t->has_addr6)
                continue;
            any_addr = true;
            if (IN6_ARE_ADDR_EQUAL(&t->addr6, &a->v6))
                return true;
        } else {
            if (!t->has_addr)
                continue;
            any_addr = true;
            if (t->addr.s_addr == a->v4.s_addr)
                return true;
        }
    }
    return !any_addr;
}

/* inet_csk_get_port's conflict: the same port, and the same address or an
 * unspecified one of a family that covers the other's (:: covers IPv4). */
static bool addr_conflicts(const struct udp_addr *a, const struct udp_addr *b)
{
    if (a->port != b->port)
        return false;
    if (a->family == b->family)
        return addr_is_any(a) || addr_is_any(b) ||
               (a->family == AF_INET ? a->v4.s_addr == b->v4.s_addr
                                     : IN6_ARE_ADDR_EQUAL(&a->v6, &b->v6));
    /* Mixed families: dual-stack :: against any IPv4 address, or 0.0.0.0
     * against ::. */
    return (a->family == AF_INET6 && addr_is_any(a)) || (b->family == AF_INET6 && addr_is_any(b));
}

int mem__receive_udp(memio_sys *sys, int tunnel_fd, const struct sockaddr *at,
                     socklen_t atlen)
{
    struct mem_sys *ms = mem_sys_of(sys);
    struct memio_tunnel *t;
    struct udp_addr addr;
    struct udp_sock *us;
    memio_file *f;
    int fd = -1;

    if (addr_from(at, atlen, &addr) < 0)
        return -1;
    if (addr.port == 0) {
        errno = EINVAL; /* an ephemeral port could not be learnt: refused */
        return -1;
    }
    mem__lock(ms);
    f = mem__file(ms, tunnel_fd);
    if (!f)
        goto out;
    if (!mem__tun_is_file(f)) {
        errno = ENOTTY;
        goto out;
    }
    t = mem__tun_of_file(f);
    if (!t) {
        errno = EBADFD;
        goto out;
    }
    if (!addr_bindable(ms, &addr)) {
        errno = EADDRNOTAVAIL;
        goto out;
    }
    for (us = t->socks; us; us = us->next) {
        if (addr_conflicts(&us->addr, &addr)) {
            errno = EADDRINUSE;
            goto out;
        }
    }
    us = calloc(1, sizeof(*us));
    if (!us) {
        errno = ENOMEM;
        goto out;
    }
    fd = mem__install(ms, &mem__udp_class, O_RDWR, &f);
    if (fd < 0) {
        free(us);
        goto out;
    }
    us->file = f;
    us->tun = t;
    us->addr = addr;
    us->next = t->socks;
    t->socks = us;
    memio_file_set_data(f, us);
out:
    mem__unlock(ms);
    return fd;
}
