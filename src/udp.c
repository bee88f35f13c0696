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

/* A socket's receive buffer, as net.core.rmem_default (212992 bytes).  Each
 * datagram is charged at least 832 bytes of it, which reproduces the 256
 * small datagrams a kernel socket queued in J06; larger ones are charged
 * 768 bytes plus their length, an approximation of the skb's truesize. */
#define UDP_RCVBUF 212992u
#define UDP_MIN_CHARGE 832u
#define UDP_OVERHEAD 768u

/* The source of memio_send_udp's datagrams on a tunnel without an address:
 * 192.0.2.1, from TEST-NET-1 (RFC 5737), which routes nowhere real. */
#define DEFAULT_SOURCE 0xc0000201u
#define EPHEMERAL_LOW 32768 /* net.ipv4.ip_local_port_range */
#define EPHEMERAL_HIGH 60999

struct udp_sock {
    memio_file *file;
    struct memio_tunnel *tun; /* NULL once the tunnel is gone */
    struct udp_sock *next;    /* in tun->socks */
    struct sockaddr_in addr;
    struct ring q;
    size_t rmem;
};

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

/* Whether the kernel side would take dst as its own: the tunnel's address,
 * its subnet's broadcast (D29), the limited broadcast; any address when the
 * test gave the tunnel none. */
static bool dst_is_local(const struct memio_tunnel *t, struct in_addr dst)
{
    uint32_t mask;

    if (!t->has_addr)
        return true;
    mask = prefix_mask(t->prefix_len);
    if (dst.s_addr == t->addr.s_addr || dst.s_addr == INADDR_BROADCAST)
        return true;
    return t->prefix_len < 31 && dst.s_addr == (t->addr.s_addr | ~mask);
}

/* The tunnel a datagram to `to` leaves through: the longest prefix covering
 * it when tunnels have addresses, else the only attached tunnel that is up. */
static struct memio_tunnel *route(struct mem_sys *ms, struct in_addr to)
{
    struct memio_tunnel *t, *best = NULL, *only = NULL;
    bool any_addr = false;
    int candidates = 0;

    for (t = ms->live_tunnels; t; t = t->next_live) {
        if (t->has_addr) {
            uint32_t mask = prefix_mask(t->prefix_len);
            any_addr = true;
            if ((to.s_addr & mask) == (t->addr.s_addr & mask) &&
                (!best || t->prefix_len > best->prefix_len))
                best = t;
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

/* --- send_udp -------------------------------------------------------------- */

static int check_sockaddr_in(const struct sockaddr *sa, socklen_t len)
{
    if (memio__bad_ptr(sa)) {
        errno = EFAULT;
        return -1;
    }
    if (len < (socklen_t)sizeof(sa_family_t)) {
        errno = EINVAL;
        return -1;
    }
    if (sa->sa_family != AF_INET) {
        errno = EAFNOSUPPORT;
        return -1;
    }
    if (len < (socklen_t)sizeof(struct sockaddr_in)) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

int mem__tunnel_send_udp_locked(struct memio_tunnel *t, const void *payload, size_t len,
                                const struct sockaddr_in *to,
                                struct sockaddr_storage *from, struct mem_signal *sig)
{
    struct mem_sys *ms = t->sys;
    struct sockaddr_in src = {.sin_family = AF_INET};
    size_t l2 = memio_tunnel_is_tap(t) ? ETH_HLEN : 0;
    uint8_t head[ETH_HLEN + 28];
    struct ring_slot *slot;
    struct tun_file *q;

    src.sin_addr.s_addr = t->has_addr ? t->addr.s_addr : htonl(DEFAULT_SOURCE);
    src.sin_port = htons(ms->next_port);
    /* The flow key the queue choice hashes: protocol, addresses, ports. */
    memset(head, 0, sizeof(head));
    head[l2 + 9] = IPPROTO_UDP;
    memcpy(head + l2 + 12, &src.sin_addr, 4);
    memcpy(head + l2 + 16, &to->sin_addr, 4);
    memcpy(head + l2 + 20, &src.sin_port, 2);
    memcpy(head + l2 + 22, &to->sin_port, 2);
    slot = mem__tun_xmit_reserve(t, head, sizeof(head), l2 + 28 + len, &q);
    if (!slot)
        return -1;
    if (memio_packet_udp4(slot->buf + l2, slot->cap - l2, &src, to, ms->next_ip_id,
                          payload, len) < 0)
        return -1; /* cannot happen: arguments checked, slot sized */
    if (l2) {
        /* The hosts on the wire are the program: address the MAC it last
         * sent from, or broadcast before it has sent anything.  The kernel
         * would resolve it with ARP first (G05-G07): a documented difference. */
        static const uint8_t bcast[ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
        memio_packet_ether(slot->buf, ETH_HLEN, t->peer_mac_known ? t->peer_mac : bcast,
                           t->mac, ETH_P_IP, NULL, 0);
    }
    slot->len = l2 + 28 + len;
    slot->aux = 0;
    if (mem__tun_csum_offload(t)) {
        /* M09, M14: with TUN_F_CSUM the kernel hands the datagram out with
         * CHECKSUM_PARTIAL: the UDP checksum field holds only the folded
         * pseudo-header sum (not complemented). */
        uint8_t *ip = slot->buf + l2;
        uint8_t pseudo[12];
        uint16_t csum;
        memcpy(pseudo, ip + 12, 8);
        pseudo[8] = 0;
        pseudo[9] = IPPROTO_UDP;
        memcpy(pseudo + 10, ip + 24, 2);
        csum = htons((uint16_t)~memio_csum_fold(memio_csum_add(0, pseudo, sizeof(pseudo))));
        memcpy(ip + 26, &csum, 2);
        slot->aux = SLOT_CSUM_PARTIAL;
    }
    if (mem__tun_xmit_commit(t, q, slot, sig) < 0)
        return -1;
    ms->next_ip_id++;
    ms->next_port = ms->next_port >= EPHEMERAL_HIGH ? EPHEMERAL_LOW : ms->next_port + 1;
    if (from) {
        memset(from, 0, sizeof(*from));
        memcpy(from, &src, sizeof(src));
    }
    return 0;
}

/* Argument checks shared by memio_send_udp and memio_tunnel_send_udp. */
static int send_udp_check(const void *payload, size_t len, const struct sockaddr *to,
                          socklen_t tolen)
{
    if (check_sockaddr_in(to, tolen) < 0)
        return -1;
    if (len && memio__bad_ptr(payload)) {
        errno = EFAULT;
        return -1;
    }
    if (len > MEMIO_UDP4_MAX_PAYLOAD) {
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
    const struct sockaddr_in *in = (const struct sockaddr_in *)to;
    struct mem_signal sig = {0, 0};
    struct memio_tunnel *t;
    int r = -1;

    if (send_udp_check(payload, len, to, tolen) < 0)
        return -1;
    mem__lock(ms);
    t = route(ms, in->sin_addr);
    if (t)
        r = mem__tunnel_send_udp_locked(t, payload, len, in, from, &sig);
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
    int r = -1;

    if (send_udp_check(payload, len, to, tolen) < 0)
        return -1;
    mem__lock(t->sys);
    if (!t->exists)
        errno = ENODEV;
    else
        r = mem__tunnel_send_udp_locked(t, payload, len, (const struct sockaddr_in *)to,
                                        from, &sig);
    mem__unlock(t->sys);
    if (sig.pid)
        mem__send_signals(&sig, 1);
    return r;
}

/* --- what the kernel would accept -------------------------------------- */

static memio_drop_reason reason_of(enum packet_udp4_verdict v)
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

/* The verdict on a frame the program wrote (headers stripped; pi_proto as
 * the device took it: the PI header's on a TUN with PI, the version's on a
 * TUN without, 0 on a TAP), in the kernel's order: eth_type_trans's
 * PACKET_OTHERHOST, the protocol, ip_rcv_core, udp_rcv. */
static memio_drop_reason check_frame(const struct memio_tunnel *t, const uint8_t *fr,
                                     size_t len, uint16_t pi_proto, bool csum_partial,
                                     memio_udp4_view *v)
{
    if (memio_tunnel_is_tap(t)) {
        if (len < ETH_HLEN)
            return MEMIO_DROP_IP_HEADER;
        /* G11, G12: unicast to another MAC is dropped; broadcast and
         * multicast pass (G10, G13). */
        if (!(fr[0] & 1) && memcmp(fr, t->mac, ETH_ALEN) != 0)
            return MEMIO_DROP_OTHERHOST;
        if (fr[12] != 0x08 || fr[13] != 0x00)
            return MEMIO_DROP_IP_HEADER;
        fr += ETH_HLEN;
        len -= ETH_HLEN;
    } else if (pi_proto != htons(ETH_P_IP)) {
        return MEMIO_DROP_PI_PROTO; /* F02-F04: the PI proto is trusted */
    }
    return reason_of(packet__udp4_check(fr, len, !csum_partial, v));
}

memio_drop_reason memio_tunnel_classify(const memio_tunnel *t, const void *frame,
                                        size_t len, uint16_t pi_proto)
{
    const uint8_t *fr = frame;
    memio_udp4_view v;

    if (memio__bad_ptr(frame))
        return MEMIO_DROP_IP_HEADER;
    if (!memio_tunnel_is_tap(t) && !pi_proto)
        pi_proto = len && fr[0] >> 4 == 4 ? htons(ETH_P_IP) : 0;
    return check_frame(t, fr, len, pi_proto, false, &v);
}

/* --- dispatch of written frames ------------------------------------------ */

static struct udp_sock *find_sock(struct memio_tunnel *t, struct in_addr dst, uint16_t port)
{
    struct udp_sock *us;

    for (us = t->socks; us; us = us->next) {
        if (us->addr.sin_port != port)
            continue;
        if (us->addr.sin_addr.s_addr == INADDR_ANY ? dst_is_local(t, dst)
                                                   : us->addr.sin_addr.s_addr == dst.s_addr)
            return us;
    }
    return NULL;
}

bool mem__udp_dispatch(struct memio_tunnel *t, const uint8_t *frame, size_t len,
                       uint16_t pi_proto, bool csum_partial)
{
    const uint8_t *ip = frame;
    size_t iplen = len, ihl;
    struct udp_sock *us;
    struct in_addr dst;
    uint16_t port;
    memio_udp4_view v;
    memio_drop_reason why;
    struct ring_slot *slot;
    uint32_t charge;

    /* Find whom it is addressed to, reading only what is there. */
    if (memio_tunnel_is_tap(t)) {
        if (len < ETH_HLEN || frame[12] != 0x08 || frame[13] != 0x00)
            return false;
        ip += ETH_HLEN;
        iplen -= ETH_HLEN;
    }
    if (iplen < 20 || ip[0] >> 4 != 4 || ip[9] != IPPROTO_UDP)
        return false;
    ihl = (size_t)(ip[0] & 15) * 4;
    if (ihl < 20 || ihl + 4 > iplen)
        return false;
    memcpy(&dst, ip + 16, 4);
    memcpy(&port, ip + ihl + 2, 2);
    us = find_sock(t, dst, port);
    if (!us)
        return false;

    why = check_frame(t, frame, len, pi_proto, csum_partial, &v);
    if (why != MEMIO_DROP_NONE) {
        t->stats.udp_dropped[why]++;
        return true;
    }
    charge = udp_charge(v.payload_len);
    if (us->rmem + charge > UDP_RCVBUF ||
        !(slot = ring_reserve(&us->q, UINT32_MAX, v.payload_len))) {
        t->stats.udp_dropped[MEMIO_DROP_RCVBUF]++;
        return true;
    }
    memcpy(slot->buf, v.payload, v.payload_len);
    slot->len = v.payload_len;
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

static ssize_t udp_read(memio_file *f, const struct iovec *iov, int iovcnt)
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
    if (n && mem__iov_bad(iov, iovcnt)) {
        errno = EFAULT;
        return -1; /* the datagram stays queued */
    }
    mem__iov_put(iov, iovcnt, 0, slot->buf, n);
    us->rmem -= slot->aux;
    /* A datagram is read whole or not at all: the rest of it is gone. */
    ring_pop(&us->q);
    return (ssize_t)n;
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
    if (us->q.count)
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

/* Whether addr may be bound: any address, or one the namespace has. */
static bool addr_bindable(struct mem_sys *ms, struct in_addr a)
{
    struct memio_tunnel *t;
    bool any_addr = false;

    if (a.s_addr == INADDR_ANY)
        return true;
    for (t = ms->live_tunnels; t; t = t->next_live) {
        if (!t->has_addr)
            continue;
        any_addr = true;
        if (t->addr.s_addr == a.s_addr)
            return true;
    }
    return !any_addr;
}

int mem__receive_udp(memio_sys *sys, int tunnel_fd, const struct sockaddr *at,
                     socklen_t atlen)
{
    struct mem_sys *ms = mem_sys_of(sys);
    const struct sockaddr_in *in = (const struct sockaddr_in *)at;
    struct memio_tunnel *t;
    struct udp_sock *us;
    memio_file *f;
    int fd = -1;

    if (check_sockaddr_in(at, atlen) < 0)
        return -1;
    if (in->sin_port == 0) {
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
    if (!addr_bindable(ms, in->sin_addr)) {
        errno = EADDRNOTAVAIL;
        goto out;
    }
    for (us = t->socks; us; us = us->next) {
        if (us->addr.sin_port == in->sin_port &&
            (us->addr.sin_addr.s_addr == in->sin_addr.s_addr ||
             us->addr.sin_addr.s_addr == INADDR_ANY || in->sin_addr.s_addr == INADDR_ANY)) {
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
    us->addr = *in;
    us->next = t->socks;
    t->socks = us;
    memio_file_set_data(f, us);
out:
    mem__unlock(ms);
    return fd;
}
