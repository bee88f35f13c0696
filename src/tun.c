/*
 * tun.c — the in-memory /dev/net/tun, and the test's side of its tunnels.
 *
 * Everything the device does follows drivers/net/tun.c as observed in
 * ../shared/kernel-tun-semantics.md; comments cite the case ids.  The file
 * is laid out as the driver is: attaching (TUNSETIFF), ioctls, the write path
 * (tun_get_user), the read path (tun_do_read/tun_put_user), poll, close;
 * then the test side (memio_tunnel_*).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/if_tun.h>
#include <linux/virtio_net.h>

#include "memory.h"

/* The TUNSETIFF flags the kernel stores (TUN_FEATURES in tun.c). */
#ifndef SIOCGSKNS
#define SIOCGSKNS 0x894C /* <linux/sockios.h>: the socket's network namespace */
#endif
#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif

#define TUN_FEATURES \
    (IFF_NO_PI | IFF_ONE_QUEUE | IFF_VNET_HDR | IFF_MULTI_QUEUE | IFF_NAPI | IFF_NAPI_FRAGS)
/* TUNGETFEATURES: 0x7173 here (A09); IFF_TUN_EXCL is accepted, not advertised. */
#define TUN_ADVERTISED (IFF_TUN | IFF_TAP | IFF_NO_CARRIER | TUN_FEATURES)
/* The largest write the kernel observed here takes (D23b): a 4 MiB linear
 * part plus 17 fragments of 32 KiB; one byte more is ENOBUFS. */
#define TUN_MAX_WRITE 4750976u
#define TUN_MAX_QUEUES 256 /* MAX_TAP_QUEUES (B38) */
#define TUN_TXQLEN 500     /* C69 */
#define TAP_TXQLEN 1000    /* C70: ether_setup resets it for TAP */
#define TAKE_CAP_DEFAULT 4096
#define VNET_HDR_DEFAULT ((int)sizeof(struct virtio_net_hdr)) /* 10, C30 */
/* The largest frame the test may inject: an IP packet's 64 KiB, plus the
 * Ethernet header on a TAP. */
#define INJECT_MAX 65535u

static inline bool is_tap(const struct memio_tunnel *t)
{
    return (t->flags & TUN_TYPE_MASK) == IFF_TAP;
}

static inline bool has_pi(const struct memio_tunnel *t)
{
    return !(t->flags & IFF_NO_PI);
}

/* tun16_to_cpu / cpu_to_tun16: the virtio-net header is little-endian when
 * TUNSETVNETLE says so or the host is (virtio's legacy rule). */
static inline bool vnet_is_le(const struct memio_tunnel *t)
{
    return t->vnet_le || __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;
}

static inline unsigned vnet16(const struct memio_tunnel *t, uint16_t v)
{
    const uint8_t *b = (const uint8_t *)&v;
    return vnet_is_le(t) ? (unsigned)(b[0] | b[1] << 8) : (unsigned)(b[0] << 8 | b[1]);
}

static inline uint16_t cpu_to_vnet16(const struct memio_tunnel *t, unsigned v)
{
    uint8_t b[2];
    uint16_t r;
    if (vnet_is_le(t)) {
        b[0] = (uint8_t)v;
        b[1] = (uint8_t)(v >> 8);
    } else {
        b[0] = (uint8_t)(v >> 8);
        b[1] = (uint8_t)v;
    }
    memcpy(&r, b, 2);
    return r;
}


/* --- the name space -------------------------------------------------- */

static struct memio_tunnel *find_live(struct mem_sys *ms, const char *name)
{
    struct memio_tunnel *t;

    for (t = ms->live_tunnels; t; t = t->next_live)
        if (strncmp(t->name, name, IFNAMSIZ) == 0)
            return t;
    return NULL;
}

/* Every network namespace holds lo (B22, B23). */
static bool name_is_lo(const char *name)
{
    return strcmp(name, "lo") == 0;
}

/* dev_valid_name: non-empty, shorter than IFNAMSIZ, not "." or "..", no
 * '/', ':' or white space (B17-B21). */
static bool dev_valid_name(const char *name)
{
    const char *p;

    if (!*name || strnlen(name, IFNAMSIZ) == IFNAMSIZ)
        return false;
    if (!strcmp(name, ".") || !strcmp(name, ".."))
        return false;
    for (p = name; *p; p++)
        if (*p == '/' || *p == ':' || *p == ' ' || (*p >= '\t' && *p <= '\r'))
            return false;
    return true;
}

/* If `name` is what template `tmpl` (prefix%dsuffix) prints for some unit,
 * returns that unit, else -1. */
/* If `name` is what template `tmpl` (prefix%dsuffix) prints for some unit,
 * returns that unit, else -1.  "tun01" is not what "tun%d" prints for 1. */
static long template_unit(const char *tmpl, size_t plen, const char *suffix, size_t slen,
                          const char *name)
{
    size_t nlen = strnlen(name, IFNAMSIZ), i;
    long unit = 0;

    if (nlen <= plen + slen || memcmp(name, tmpl, plen) != 0 ||
        memcmp(name + nlen - slen, suffix, slen) != 0)
        return -1;
    if (name[plen] == '0' && nlen - slen - plen > 1)
        return -1;
    for (i = plen; i < nlen - slen; i++) {
        if (name[i] < '0' || name[i] > '9' || unit > 100000)
            return -1;
        unit = unit * 10 + (name[i] - '0');
    }
    return unit;
}

/* prefix, decimal unit, suffix into out; false when it would not fit in
 * IFNAMSIZ - 1 bytes. */
static bool format_unit(char *out, const char *tmpl, size_t plen, const char *suffix,
                        size_t slen, unsigned unit)
{
    char digits[12];
    size_t nd = 0, i;

    do {
        digits[nd++] = (char)('0' + unit % 10);
        unit /= 10;
    } while (unit);
    if (plen + nd + slen >= IFNAMSIZ)
        return false;
    memcpy(out, tmpl, plen);
    for (i = 0; i < nd; i++)
        out[plen + i] = digits[nd - 1 - i];
    memcpy(out + plen + nd, suffix, slen);
    out[plen + nd + slen] = '\0';
    return true;
}

/* dev_alloc_name: the lowest free unit of a template with exactly one %d
 * (B08, B11-B13, B53).  Writes the name into out (IFNAMSIZ bytes).  The
 * lowest free unit is at most the number of devices, so the bitmap needs
 * only that many bits (the kernel's is one page: units below 32768). */
static int alloc_name(struct mem_sys *ms, const char *tmpl, char *out)
{
    enum { UNITS = 32768, BITS = 8 * sizeof(unsigned long) };
    unsigned long small[4], *used = small;
    const char *pct = strchr(tmpl, '%'), *suffix;
    struct memio_tunnel *t;
    size_t plen, slen, ndev = 1, words;
    long u;
    unsigned i;

    if (!pct || pct[1] != 'd' || strchr(pct + 2, '%')) {
        errno = EINVAL;
        return -1;
    }
    plen = (size_t)(pct - tmpl);
    suffix = pct + 2;
    slen = strlen(suffix);
    for (t = ms->live_tunnels; t; t = t->next_live)
        ndev++;
    if (ndev > UNITS - 1)
        ndev = UNITS - 1;
    words = (ndev + 1 + BITS - 1) / BITS;
    if (words > sizeof(small) / sizeof(small[0])) {
        used = calloc(words, sizeof(*used));
        if (!used) {
            errno = ENOMEM;
            return -1;
        }
    } else {
        memset(small, 0, sizeof(small));
    }
    for (t = ms->live_tunnels; t; t = t->next_live) {
        u = template_unit(tmpl, plen, suffix, slen, t->name);
        if (u >= 0 && (size_t)u <= ndev)
            used[u / BITS] |= 1ul << (u % BITS);
    }
    u = template_unit(tmpl, plen, suffix, slen, "lo");
    if (u >= 0 && (size_t)u <= ndev)
        used[u / BITS] |= 1ul << (u % BITS);
    for (i = 0; i <= ndev; i++) {
        if (used[i / BITS] & (1ul << (i % BITS)))
            continue;
        if (!format_unit(out, tmpl, plen, suffix, slen, i)) {
            errno = EINVAL;
            break;
        }
        if (used != small)
            free(used);
        return 0;
    }
    if (i > ndev)
        errno = ENFILE;
    if (used != small)
        free(used);
    return -1;
}

static void live_link(struct mem_sys *ms, struct memio_tunnel *t)
{
    t->prev_live = NULL;
    t->next_live = ms->live_tunnels;
    if (ms->live_tunnels)
        ms->live_tunnels->prev_live = t;
    ms->live_tunnels = t;
}

static void live_unlink(struct mem_sys *ms, struct memio_tunnel *t)
{
    if (t->prev_live)
        t->prev_live->next_live = t->next_live;
    else
        ms->live_tunnels = t->next_live;
    if (t->next_live)
        t->next_live->prev_live = t->prev_live;
    t->prev_live = t->next_live = NULL;
}

/* --- attaching ---------------------------------------------------------- */

/* Makes room for one more attached descriptor. */
static int queues_reserve(struct memio_tunnel *t)
{
    unsigned n = t->numqueues + t->numdisabled;

    if (n == t->queues_cap) {
        unsigned cap = t->queues_cap * 2;
        struct tun_file **q =
            realloc(t->queues == t->queue_inline ? NULL : t->queues, cap * sizeof(*q));
        if (!q) {
            errno = ENOMEM;
            return -1;
        }
        if (t->queues == t->queue_inline)
            q[0] = t->queue_inline[0];
        t->queues = q;
        t->queues_cap = cap;
    }
    return 0;
}

static unsigned queue_index(const struct memio_tunnel *t, const struct tun_file *tf)
{
    unsigned i;

    for (i = 0; i < t->numqueues + t->numdisabled; i++)
        if (t->queues[i] == tf)
            return i;
    return ~0u;
}

/* Swaps entries i and j of the queue array. */
static void queue_swap(struct memio_tunnel *t, unsigned i, unsigned j)
{
    struct tun_file *x = t->queues[i];
    t->queues[i] = t->queues[j];
    t->queues[j] = x;
}

/* tun_attach's checks (B26, B38): a single-queue device takes one queue, a
 * multiqueue one 256, detached ones included. */
static int attach_check(const struct memio_tunnel *t, const struct tun_file *tf)
{
    if (!(t->flags & IFF_MULTI_QUEUE) && t->numqueues == 1) {
        errno = EBUSY;
        return -1;
    }
    if (!tf->detached && t->numqueues + t->numdisabled == TUN_MAX_QUEUES) {
        errno = E2BIG;
        return -1;
    }
    return 0;
}

/* tun_attach: tf becomes an active queue of t.  Passing IFF_NOFILTER (the
 * IFF_NO_PI bit) when attaching skips the device's socket filter. */
static int queue_attach(struct memio_tunnel *t, struct tun_file *tf, bool skip_filter)
{
    if (attach_check(t, tf) < 0)
        return -1;
    if (tf->detached) {
        /* Re-enable: move it from the disabled part to the active end. */
        queue_swap(t, queue_index(t, tf), t->numqueues);
        t->numqueues++;
        t->numdisabled--;
        tf->detached = false;
    } else {
        if (queues_reserve(t) < 0)
            return -1;
        /* The first disabled entry moves to the end to make room. */
        t->queues[t->numqueues + t->numdisabled] = t->queues[t->numqueues];
        t->queues[t->numqueues] = tf;
        t->numqueues++;
        tf->sndbuf = tf->sndbuf ? tf->sndbuf : INT_MAX;
    }
    tf->tun = t;
    tf->rcv_shutdown = false;
    tf->filtered = t->filter_attached && !skip_filter;
    return 0;
}

/* Drops what a queue holds toward the program, counting it. */
static void queue_purge(struct memio_tunnel *t, struct tun_file *tf)
{
    t->stats.tx_dropped += ring_truncate(&tf->rxq, 0);
}

/* The device is unregistered: gone from the name space, its queues told. */
static void tunnel_destroy(struct mem_sys *ms, struct memio_tunnel *t)
{
    unsigned i;

    for (i = 0; i < t->numqueues + t->numdisabled; i++) {
        struct tun_file *tf = t->queues[i];
        queue_purge(t, tf);
        ring_free(&tf->rxq);
        tf->tun = NULL;
        tf->detached = false;
        /* tun_detach_all: a reader asleep in tun_ring_recv returns EFAULT (I07). */
        tf->rcv_shutdown = true;
    }
    t->numqueues = t->numdisabled = 0;
    t->exists = false;
    live_unlink(ms, t);
    mem__udp_unlink_all(t);
    free(t->scratch);
    t->scratch = NULL;
    t->scratch_cap = 0;
    mem__bpf_free(t->filter);
    t->filter = NULL;
    t->filter_attached = false;
    mem__wake_all(ms);
}

/* TUNSETQUEUE IFF_DETACH_QUEUE: the queue stays attached to the device but
 * gets no traffic; what it held is dropped (M02, M03). */
static void queue_disable(struct memio_tunnel *t, struct tun_file *tf)
{
    unsigned i = queue_index(t, tf);

    queue_swap(t, i, t->numqueues - 1);
    t->numqueues--;
    t->numdisabled++;
    tf->detached = true;
    queue_purge(t, tf);
}

/* The descriptor's last close (__tun_detach with clean set). */
static void queue_detach(struct mem_sys *ms, struct tun_file *tf)
{
    struct memio_tunnel *t = tf->tun;
    unsigned i;

    if (!t)
        return;
    i = queue_index(t, tf);
    if (tf->detached) {
        t->queues[i] = t->queues[t->numqueues + t->numdisabled - 1];
        t->numdisabled--;
    } else {
        queue_swap(t, i, t->numqueues - 1);
        t->queues[t->numqueues - 1] = t->queues[t->numqueues + t->numdisabled - 1];
        t->numqueues--;
    }
    queue_purge(t, tf);
    ring_free(&tf->rxq);
    tf->tun = NULL;
    tf->detached = false;
    if (t->numqueues == 0 && t->numdisabled == 0) {
        if (t->flags & IFF_PERSIST)
            t->carrier = false; /* I16: a persistent device without fds */
        else
            tunnel_destroy(ms, t); /* I15 */
    }
    mem__wake_all(ms);
}

static bool ifindex_in_use(struct mem_sys *ms, int idx)
{
    struct memio_tunnel *t;

    if (idx == 1)
        return true; /* lo */
    for (t = ms->live_tunnels; t; t = t->next_live)
        if (t->ifindex == idx)
            return true;
    return false;
}

static struct memio_tunnel *tunnel_new(struct mem_sys *ms, unsigned type, int idx)
{
    struct memio_tunnel *t = mem__zalloc(sizeof(*t));

    if (!t) {
        errno = ENOMEM;
        return NULL;
    }
    if (!idx) {
        while (ifindex_in_use(ms, ms->next_ifindex))
            ms->next_ifindex++;
        idx = ms->next_ifindex++;
    }
    t->sys = ms;
    t->flags = type;
    t->ifindex = idx;
    t->queues = t->queue_inline;
    t->queues_cap = 1;
    t->up = true; /* a memory device starts up: a documented difference */
    t->carrier = true;
    t->txqueuelen = type == IFF_TAP ? TAP_TXQLEN : TUN_TXQLEN;
    t->link_type = type == IFF_TAP ? ARPHRD_ETHER : ARPHRD_NONE;
    t->vnet_hdr_sz = VNET_HDR_DEFAULT;
    /* Deterministic, locally administered unicast (G01): 02:6d:69:6f:HH:LL,
     * "mio" and the interface index. */
    t->mac[0] = 0x02;
    t->mac[1] = 0x6d;
    t->mac[2] = 0x69;
    t->mac[3] = 0x6f;
    t->mac[4] = (uint8_t)(idx >> 8);
    t->mac[5] = (uint8_t)idx;
    t->take_cap = TAKE_CAP_DEFAULT;
    t->empty_read_err = EAGAIN;
    t->next_all = ms->all_tunnels;
    ms->all_tunnels = t;
    return t;
}

/* tun_not_capable: an owner or group that is not ours, and no CAP_NET_ADMIN
 * (L03, L06-L08). */
static bool not_capable(const struct mem_sys *ms, const struct memio_tunnel *t)
{
    return ((t->has_owner && t->owner != ms->euid) || (t->has_group && t->group != ms->egid)) &&
           !ms->cap_net_admin;
}

/* tun_set_iff, in the kernel's order of checks. */
static int tun_set_iff(struct tun_file *tf, struct ifreq *ifr)
{
    struct mem_sys *ms = tf->file->sys;
    unsigned short fl = (unsigned short)ifr->ifr_flags;
    struct memio_tunnel *t;
    char name[IFNAMSIZ];

    /* B42, B43: NAPI_FRAGS needs CAP_NET_ADMIN, NAPI and a TAP. */
    if (fl & IFF_NAPI_FRAGS) {
        if (!ms->cap_net_admin) {
            errno = EPERM;
            return -1;
        }
        if (!(fl & IFF_NAPI) || (fl & TUN_TYPE_MASK) != IFF_TAP) {
            errno = EINVAL;
            return -1;
        }
    }
    t = find_live(ms, ifr->ifr_name);
    if (t || name_is_lo(ifr->ifr_name)) {
        if (fl & IFF_TUN_EXCL) { /* B23, B29 */
            errno = EBUSY;
            return -1;
        }
        /* TUN wins when both bits are given (B07); lo is neither (B22). */
        if (!t || !((fl & IFF_TUN) ? (t->flags & IFF_TUN) : (fl & IFF_TAP) && is_tap(t))) {
            errno = EINVAL; /* B27, I19 */
            return -1;
        }
        if (!!(fl & IFF_MULTI_QUEUE) != !!(t->flags & IFF_MULTI_QUEUE)) {
            errno = EINVAL; /* B28, B34 */
            return -1;
        }
        if (not_capable(ms, t)) {
            errno = EPERM; /* L06, L08 */
            return -1;
        }
        if (queue_attach(t, tf, fl & IFF_NOFILTER) < 0)
            return -1;
        /* A multiqueue device's flags are set by its first queue only
         * (B35); any other device takes the new ones (I18). */
        if (!(t->flags & IFF_MULTI_QUEUE) || t->numqueues + t->numdisabled == 1)
            t->flags = (t->flags & ~TUN_FEATURES) | (fl & TUN_FEATURES);
    } else {
        unsigned type;
        const char *tmpl;

        if (!ms->cap_net_admin) {
            errno = EPERM; /* L02: creating a device */
            return -1;
        }
        if (fl & IFF_TUN) {
            type = IFF_TUN;
            tmpl = "tun%d";
        } else if (fl & IFF_TAP) {
            type = IFF_TAP;
            tmpl = "tap%d";
        } else {
            errno = EINVAL; /* B05, B06 */
            return -1;
        }
        if (*ifr->ifr_name)
            tmpl = ifr->ifr_name;
        if (!dev_valid_name(tmpl)) {
            errno = EINVAL;
            return -1;
        }
        if (strchr(tmpl, '%')) {
            if (alloc_name(ms, tmpl, name) < 0)
                return -1;
        } else {
            memcpy(name, tmpl, strlen(tmpl) + 1);
        }
        /* register_netdevice refuses an ifindex in use (B51). */
        if (tf->ifindex_req && ifindex_in_use(ms, tf->ifindex_req)) {
            errno = EBUSY;
            return -1;
        }
        t = tunnel_new(ms, type, tf->ifindex_req);
        if (!t)
            return -1;
        memcpy(t->name, name, strlen(name) + 1);
        t->flags |= fl & TUN_FEATURES;
        t->open_flags = tf->file->open_flags;
        t->exists = true;
        live_link(ms, t);
        if (queue_attach(t, tf, false) < 0) {
            t->exists = false;
            live_unlink(ms, t);
            return -1;
        }
    }
    memcpy(t->requested, ifr->ifr_name, IFNAMSIZ);
    t->given_flags = fl;
    t->carrier = !(fl & IFF_NO_CARRIER); /* B45 */
    /* The kernel copies the whole ifreq back: the name it got, the flags
     * unchanged (B01). */
    memset(ifr->ifr_name, 0, IFNAMSIZ);
    memcpy(ifr->ifr_name, t->name, strlen(t->name));
    mem__wake_all(ms);
    return 0;
}

/* tun_set_queue (C55-C57, M02-M06). */
static int tun_set_queue(struct tun_file *tf, const struct ifreq *ifr)
{
    unsigned short fl = (unsigned short)ifr->ifr_flags;
    struct memio_tunnel *t = tf->tun;

    if (fl & IFF_ATTACH_QUEUE) {
        if (!tf->detached) {
            errno = EINVAL; /* C57 */
            return -1;
        }
        if (not_capable(tf->file->sys, t)) {
            errno = EPERM;
            return -1;
        }
        return queue_attach(t, tf, false);
    }
    if (fl & IFF_DETACH_QUEUE) {
        if (!t || !(t->flags & IFF_MULTI_QUEUE) || tf->detached) {
            errno = EINVAL; /* C56, M04 */
            return -1;
        }
        queue_disable(t, tf);
        return 0;
    }
    errno = EINVAL; /* M06 */
    return -1;
}

/* --- ioctls ---------------------------------------------------------- */

static int put_user(void *arg, const void *v, size_t n)
{
    if (memio__bad_ptr(arg)) {
        errno = EFAULT;
        return -1;
    }
    memcpy(arg, v, n);
    return 0;
}

static int get_user(void *v, const void *arg, size_t n)
{
    if (memio__bad_ptr(arg)) {
        errno = EFAULT;
        return -1;
    }
    memcpy(v, arg, n);
    return 0;
}

/* The flags TUNGETIFF reports (tun_flags). */
static unsigned tun_flags(const struct memio_tunnel *t)
{
    return t->flags & (TUN_FEATURES | IFF_PERSIST | IFF_TUN | IFF_TAP);
}

static int tun_ioctl_attached(struct tun_file *tf, unsigned int cmd, void *arg,
                              struct ifreq *ifr);

static int tun_ioctl(memio_file *f, unsigned long request, void *arg)
{
    struct tun_file *tf = f->data;
    struct mem_sys *ms = f->sys;
    unsigned int cmd = (unsigned int)request;
    struct ifreq ifr;

    /* TUNSETIFF, TUNSETQUEUE and the socket ioctls (type 0x89) but
     * SIOCGSKNS copy the ifreq in before anything else (A18, C55, C73). */
    if (cmd == TUNSETIFF || cmd == TUNSETQUEUE || (_IOC_TYPE(cmd) == 0x89 && cmd != SIOCGSKNS)) {
        if (get_user(&ifr, arg, sizeof(ifr)) < 0)
            return -1;
    } else {
        memset(&ifr, 0, sizeof(ifr));
    }
    if (cmd == TUNGETFEATURES) { /* A09, A10, C07: answered before attach */
        unsigned int feat = TUN_ADVERTISED;
        return put_user(arg, &feat, sizeof(feat));
    }
    if (cmd == TUNSETQUEUE)
        return tun_set_queue(tf, &ifr);
    if (cmd == SIOCGSKNS) {
        /* A22: a descriptor of the network namespace.  A memory system's
         * namespace is no kernel object: a documented difference. */
        errno = ms->cap_net_admin ? EOPNOTSUPP : EPERM;
        return -1;
    }
    if (cmd == TUNSETIFF) {
        if (tf->tun) {
            errno = EEXIST; /* B24, B25 */
            return -1;
        }
        ifr.ifr_name[IFNAMSIZ - 1] = '\0'; /* B15: cut to 15 bytes */
        if (tun_set_iff(tf, &ifr) < 0)
            return -1;
        return put_user(arg, &ifr, sizeof(ifr));
    }
    if (cmd == TUNSETIFINDEX) {
        int idx;
        if (tf->tun) {
            errno = EPERM; /* B50 */
            return -1;
        }
        if (get_user(&idx, arg, sizeof(idx)) < 0)
            return -1;
        if (idx < 0) {
            errno = EINVAL; /* B52 */
            return -1;
        }
        tf->ifindex_req = idx; /* B49 */
        return 0;
    }
    if (!tf->tun) {
        errno = EBADFD; /* A08, A12-A17, A23, I10 */
        return -1;
    }
    return tun_ioctl_attached(tf, cmd, arg, &ifr);
}

/* set_offload: TSO bits count only with TUN_F_CSUM, USO4 only with USO6;
 * any bit left over is EINVAL (C37-C43). */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif
static int set_offload(struct memio_tunnel *t, unsigned long arg)
{
    unsigned long want = arg;

    if (arg & TUN_F_CSUM) {
        arg &= ~(unsigned long)TUN_F_CSUM;
        if (arg & (TUN_F_TSO4 | TUN_F_TSO6))
            arg &= ~(unsigned long)(TUN_F_TSO_ECN | TUN_F_TSO4 | TUN_F_TSO6);
        arg &= ~(unsigned long)TUN_F_UFO;
        if ((arg & TUN_F_USO4) && (arg & TUN_F_USO6))
            arg &= ~(unsigned long)(TUN_F_USO4 | TUN_F_USO6);
    }
    if (arg) {
        errno = EINVAL;
        return -1;
    }
    t->offload = (unsigned)want;
    return 0;
}

/* ether_crc: the CRC-32 of a MAC address, bit-reversed, as the multicast
 * hash of TUNSETTXFILTER uses it (its top 6 bits pick one of 64). */
static uint32_t ether_crc(const uint8_t *mac)
{
    uint32_t crc = 0xffffffffu, r = 0;
    int i, b;

    for (i = 0; i < ETH_ALEN; i++) {
        crc ^= mac[i];
        for (b = 0; b < 8; b++)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
    }
    for (b = 0; b < 32; b++)
        r |= ((crc >> b) & 1u) << (31 - b);
    return r;
}

/* update_filter (C47, C48): the first 8 addresses are an exact filter, more
 * multicast ones are hashed, a unicast one past 8 leaves it disabled.
 * Returns the number of exact entries. */
static int update_txfilter(struct memio_tunnel *t, const void *arg)
{
    struct tun_filter uf;
    const uint8_t *addr;
    unsigned n, nexact;
    uint64_t mask = 0;

    if (get_user(&uf, arg, sizeof(uf)) < 0)
        return -1;
    if (!uf.count) {
        t->txflt_count = 0;
        t->txflt_hash = false;
        return 0;
    }
    addr = (const uint8_t *)arg + sizeof(uf);
    if (memio__bad_ptr(addr)) {
        errno = EFAULT;
        return -1;
    }
    t->txflt_count = 0;
    for (n = 0; n < uf.count && n < 8; n++)
        memcpy(t->txflt_addr[n], addr + n * ETH_ALEN, ETH_ALEN);
    nexact = n;
    for (; n < uf.count; n++) {
        const uint8_t *a = addr + n * ETH_ALEN;
        if (!(a[0] & 1))
            return 0; /* no filter */
        mask |= 1ull << (ether_crc(a) >> 26);
    }
    if (uf.flags & TUN_FLT_ALLMULTI)
        mask = ~0ull;
    t->txflt_mask = mask;
    t->txflt_hash = true;
    t->txflt_count = nexact;
    return (int)nexact;
}

/* check_filter: whether the TX filter lets a frame toward the program (G24). */
static bool txfilter_pass(const struct memio_tunnel *t, const uint8_t *fr, size_t len)
{
    unsigned i;

    if (!t->txflt_count || len < ETH_HLEN)
        return true;
    for (i = 0; i < t->txflt_count; i++)
        if (mem__mac_eq(fr, t->txflt_addr[i]))
            return true;
    if (fr[0] & 1)
        return (t->txflt_mask >> (ether_crc(fr) >> 26)) & 1;
    return false;
}

/* TUNATTACHFILTER: a classic BPF program for every active queue (C09). */
static int attach_filter(struct memio_tunnel *t, const void *arg)
{
    struct sock_fprog fp;
    struct mem_bpf_prog *prog;
    unsigned i;

    if (get_user(&fp, arg, sizeof(fp)) < 0)
        return -1;
    if (fp.len && memio__bad_ptr(fp.filter)) {
        errno = EFAULT;
        return -1;
    }
    prog = mem__bpf_new(fp.filter, fp.len);
    if (!prog)
        return -1;
    mem__bpf_free(t->filter);
    t->filter = prog;
    t->fprog_len = fp.len;
    t->fprog_ptr = fp.filter;
    t->filter_attached = true;
    for (i = 0; i < t->numqueues; i++)
        t->queues[i]->filtered = true;
    return 0;
}

static int tun_ioctl_attached(struct tun_file *tf, unsigned int cmd, void *arg,
                              struct ifreq *ifr)
{
    struct memio_tunnel *t = tf->tun;
    struct mem_sys *ms = tf->file->sys;
    unsigned long val = (unsigned long)arg; /* the value-taking requests */
    unsigned i;
    int v = 0;

    switch (cmd) {
    case TUNGETIFF: /* C01-C06, M02 */
        memcpy(ifr->ifr_name, t->name, IFNAMSIZ);
        ifr->ifr_flags = (short)tun_flags(t);
        if (tf->detached)
            ifr->ifr_flags |= IFF_DETACH_QUEUE;
        /* IFF_NOFILTER (the same bit as IFF_NO_PI) whenever no socket
         * filter is attached to this queue: C01-C04, C09, surprise 1. */
        if (!tf->filtered)
            ifr->ifr_flags |= IFF_NOFILTER;
        return put_user(arg, ifr, sizeof(*ifr));
    case TUNSETNOCSUM: /* C21: unimplemented in the driver */
    case TUNSETDEBUG:  /* C22: the netif message level, nothing to model */
        return 0;
    case TUNSETPERSIST: /* C13-C16: the value, not a pointer */
        if (val)
            t->flags |= IFF_PERSIST;
        else
            t->flags &= ~IFF_PERSIST;
        return 0;
    case TUNSETOWNER: /* C17-C19: (uid_t)-1 is no uid */
        if ((uid_t)val == (uid_t)-1) {
            errno = EINVAL;
            return -1;
        }
        t->owner = (uid_t)val;
        t->has_owner = true;
        return 0;
    case TUNSETGROUP: /* C20 */
        if ((gid_t)val == (gid_t)-1) {
            errno = EINVAL;
            return -1;
        }
        t->group = (gid_t)val;
        t->has_group = true;
        return 0;
    case TUNSETLINK: /* C44, C45: the link type, only while down */
        if (t->up) {
            errno = EBUSY;
            return -1;
        }
        t->link_type = (int)val;
        return 0;
    case TUNSETOFFLOAD: /* C37-C43 */
        return set_offload(t, val);
    case TUNSETTXFILTER: /* C46-C48: TAP only, a positive count back */
        if (!is_tap(t)) {
            errno = EINVAL;
            return -1;
        }
        return update_txfilter(t, arg);
    case SIOCGIFHWADDR: /* C58, C61: the device's type; a TUN has no address */
        memset(&ifr->ifr_hwaddr, 0, sizeof(ifr->ifr_hwaddr));
        ifr->ifr_hwaddr.sa_family = (sa_family_t)t->link_type;
        if (is_tap(t))
            memcpy(ifr->ifr_hwaddr.sa_data, t->mac, ETH_ALEN);
        return put_user(arg, ifr, sizeof(*ifr));
    case SIOCSIFHWADDR: { /* C59, C60: dev_set_mac_address */
        const uint8_t *mac = (const uint8_t *)ifr->ifr_hwaddr.sa_data;
        static const uint8_t zero[ETH_ALEN];
        if (ifr->ifr_hwaddr.sa_family != t->link_type) {
            errno = EINVAL;
            return -1;
        }
        if (!is_tap(t)) {
            errno = EOPNOTSUPP; /* no ndo_set_mac_address on a TUN */
            return -1;
        }
        if ((mac[0] & 1) || !memcmp(mac, zero, ETH_ALEN)) {
            errno = EADDRNOTAVAIL; /* is_valid_ether_addr */
            return -1;
        }
        memcpy(t->mac, mac, ETH_ALEN);
        return 0;
    }
    case TUNGETSNDBUF: /* C23, C29 */
        return put_user(arg, &tf->sndbuf, sizeof(tf->sndbuf));
    case TUNSETSNDBUF: /* C24-C28: every queue's */
        if (get_user(&v, arg, sizeof(v)) < 0)
            return -1;
        if (v <= 0) {
            errno = EINVAL;
            return -1;
        }
        for (i = 0; i < t->numqueues; i++)
            t->queues[i]->sndbuf = v;
        return 0;
    case TUNGETVNETHDRSZ: /* C30 */
        return put_user(arg, &t->vnet_hdr_sz, sizeof(t->vnet_hdr_sz));
    case TUNSETVNETHDRSZ: /* C31-C33: at least 10, no upper bound */
        if (get_user(&v, arg, sizeof(v)) < 0)
            return -1;
        if (v < VNET_HDR_DEFAULT) {
            errno = EINVAL;
            return -1;
        }
        t->vnet_hdr_sz = v;
        return 0;
    case TUNGETVNETLE: /* C34 */
        v = t->vnet_le;
        return put_user(arg, &v, sizeof(v));
    case TUNSETVNETLE: /* C35 */
        if (get_user(&v, arg, sizeof(v)) < 0)
            return -1;
        t->vnet_le = v != 0;
        return 0;
    case TUNGETVNETBE: /* C36: the observed kernel lacks CONFIG_TUN_VNET_CROSS_LE */
    case TUNSETVNETBE:
        errno = EINVAL;
        return -1;
    case TUNATTACHFILTER: /* C08, C09 */
        if (!is_tap(t)) {
            errno = EINVAL;
            return -1;
        }
        return attach_filter(t, arg);
    case TUNDETACHFILTER: /* C11 */
        if (!is_tap(t)) {
            errno = EINVAL;
            return -1;
        }
        for (i = 0; i < t->numqueues; i++)
            t->queues[i]->filtered = false;
        t->filter_attached = false;
        return 0;
    case TUNGETFILTER: { /* C10, C12: the sock_fprog as given, returns 0 */
        struct sock_fprog fp;
        if (!is_tap(t)) {
            errno = EINVAL;
            return -1;
        }
        memset(&fp, 0, sizeof(fp));
        fp.len = t->fprog_len;
        fp.filter = t->fprog_ptr;
        return put_user(arg, &fp, sizeof(fp));
    }
    case TUNSETSTEERINGEBPF: /* C64, C65 */
    case TUNSETFILTEREBPF:
        if (get_user(&v, arg, sizeof(v)) < 0)
            return -1;
        /* Detaching (-1) is fine; a memory system holds no eBPF programs,
         * so any descriptor is "not a socket filter program": EINVAL. */
        if (v == -1)
            return 0;
        errno = EINVAL;
        return -1;
    case TUNSETCARRIER: /* C49-C51: a pointer to the value */
        if (get_user(&v, arg, sizeof(v)) < 0)
            return -1;
        t->carrier = v != 0;
        mem__wake_all(ms);
        return 0;
    case TUNGETDEVNETNS: /* C63, L09: no namespace object in memory */
        errno = ms->cap_net_admin ? EOPNOTSUPP : EPERM;
        return -1;
    default:
        errno = EINVAL; /* C52-C54, C62: never ENOTTY */
        return -1;
    }
}

/* --- the write path (tun_get_user) -------------------------------------- */

/* Where a written frame goes: a receive descriptor, or take's queue. */
static void dispatch(struct memio_tunnel *t, const uint8_t *frame, size_t len,
                     uint16_t pi_proto, bool csum_partial)
{
    struct ring_slot *slot;

    if (t->socks && mem__udp_dispatch(t, frame, len, pi_proto, csum_partial))
        return;
    slot = ring_reserve(&t->takeq, t->take_cap > UINT32_MAX ? UINT32_MAX : (uint32_t)t->take_cap,
                        len);
    if (!slot) {
        t->stats.take_dropped++;
        return;
    }
    mem__copy(slot->buf, frame, len);
    slot->len = len;
    slot->aux = pi_proto;
    ring_commit(&t->takeq);
}

/* Bytes [off, off+len) of the iovec in one piece: in place when one entry
 * holds them all (the usual write), else gathered into the tunnel's scratch
 * buffer, which is kept for the next writev.  NULL with ENOBUFS when the
 * scratch cannot grow. */
static const uint8_t *iov_view(struct memio_tunnel *t, const struct iovec *iov,
                               int iovcnt, size_t off, size_t len)
{
    size_t o = off;
    int i;

    for (i = 0; i < iovcnt; i++) {
        if (o < iov[i].iov_len) {
            if (iov[i].iov_len - o >= len)
                return (const uint8_t *)iov[i].iov_base + o;
            break;
        }
        o -= iov[i].iov_len;
    }
    if (t->scratch_cap < len) {
        uint8_t *b = realloc(t->scratch, len);
        if (!b) {
            errno = ENOBUFS;
            return NULL;
        }
        t->scratch = b;
        t->scratch_cap = len;
    }
    mem__iov_get(iov, iovcnt, off, t->scratch, len);
    return t->scratch;
}

static ssize_t tun_write(memio_file *f, const struct iovec *iov, int iovcnt)
{
    struct tun_file *tf = f->data;
    struct memio_tunnel *t = tf->tun;
    size_t total = 0, off = 0, len;
    uint16_t pi_proto = 0;
    const uint8_t *frame;
    bool csum_partial = false;
    unsigned hdr_len;
    int i;

    if (!t) {
        errno = EBADFD; /* A06, A07, I09 */
        return -1;
    }
    if (t->fail_writes) {
        t->fail_writes--;
        errno = t->fail_write_err;
        return -1;
    }
    for (i = 0; i < iovcnt; i++)
        total += iov[i].iov_len;
    if (has_pi(t)) {
        struct tun_pi pi;
        if (total < sizeof(pi)) {
            errno = EINVAL; /* F06, F08, F12 */
            return -1;
        }
        if (mem__iov_bad(iov, iovcnt)) {
            errno = EFAULT;
            return -1;
        }
        mem__iov_get(iov, iovcnt, 0, &pi, sizeof(pi));
        pi_proto = pi.proto; /* F05: the flags are ignored */
        off = sizeof(pi);
    }
    if (t->flags & IFF_VNET_HDR) {
        int hl = t->vnet_hdr_sz;
        struct virtio_net_hdr h;
        if (total - off < (size_t)hl) {
            errno = EINVAL; /* M11 */
            return -1;
        }
        if (mem__iov_bad(iov, iovcnt)) {
            errno = EFAULT;
            return -1;
        }
        mem__iov_get(iov, iovcnt, off, &h, sizeof(h));
        off += (size_t)hl;
        /* The header's fields are little-endian (TUNSETVNETLE, or a
         * little-endian host) or big-endian otherwise. */
        hdr_len = vnet16(t, h.hdr_len);
        if (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
            unsigned need = vnet16(t, h.csum_start) + vnet16(t, h.csum_offset) + 2u;
            if (need > hdr_len)
                hdr_len = need;
            csum_partial = true;
        }
        if (hdr_len > total - off) {
            errno = EINVAL;
            return -1;
        }
        /* M13: only the known GSO types pass virtio_net_hdr_to_skb. */
        switch (h.gso_type & ~VIRTIO_NET_HDR_GSO_ECN) {
        case VIRTIO_NET_HDR_GSO_NONE:
        case VIRTIO_NET_HDR_GSO_TCPV4:
        case VIRTIO_NET_HDR_GSO_TCPV6:
        case VIRTIO_NET_HDR_GSO_UDP:
        case VIRTIO_NET_HDR_GSO_UDP_L4:
            break;
        default:
            errno = EINVAL;
            return -1;
        }
    }
    len = total - off;
    if (is_tap(t) && len < ETH_HLEN) {
        errno = EINVAL; /* G02, G04, G15, G17, G30 */
        return -1;
    }
    /* A failed allocation (D23b) and a faulting copy of the packet are
     * counted in rx_dropped, as tun_get_user counts them; the PI and vnet
     * header copies above are not. */
    if (len > TUN_MAX_WRITE) {
        t->stats.rx_dropped++;
        errno = ENOBUFS; /* D23b */
        return -1;
    }
    if (len && mem__iov_bad(iov, iovcnt)) {
        t->stats.rx_dropped++;
        errno = EFAULT;
        return -1;
    }
    frame = len ? iov_view(t, iov, iovcnt, off, len) : (const uint8_t *)"";
    if (!frame)
        return -1;
    if (!is_tap(t) && !has_pi(t)) {
        /* TUN without PI: the version nibble names the protocol; anything
         * but 4 or 6 (an empty write too) is refused and counted, even on a
         * down link (D03, D04, D10, D12, D13). */
        unsigned ver = len ? frame[0] >> 4 : 0;
        if (ver != 4 && ver != 6) {
            t->stats.rx_dropped++;
            errno = EINVAL;
            return -1;
        }
        pi_proto = htons(ver == 4 ? ETH_P_IP : ETH_P_IPV6);
    }
    if (!t->up) {
        t->stats.rx_dropped++;
        errno = EIO; /* D01, D02, D05, D34, F11, G03: after the format checks */
        return -1;
    }
    t->stats.rx_packets++;
    t->stats.rx_bytes += len;
    if (is_tap(t)) {
        memcpy(t->peer_mac, frame + ETH_ALEN, ETH_ALEN);
        t->peer_mac_known = true;
        pi_proto = 0; /* G28, G29: a TAP ignores the PI proto */
    }
    dispatch(t, frame, len, pi_proto, csum_partial);
    return (ssize_t)total;
}

/* --- the read path (tun_do_read, tun_put_user) ------------------------- */

/* skb->protocol of a frame the kernel transmits: from the IP version on a
 * TUN, eth_type_trans's answer on a TAP (E15, E23, G26, G27). */
static uint16_t frame_proto(const struct memio_tunnel *t, const uint8_t *fr, size_t len)
{
    if (!is_tap(t)) {
        unsigned ver = len ? fr[0] >> 4 : 0;
        return ver == 4 ? htons(ETH_P_IP) : ver == 6 ? htons(ETH_P_IPV6) : 0;
    }
    if (len >= ETH_HLEN) {
        uint16_t type = (uint16_t)(fr[12] << 8 | fr[13]);
        if (type >= ETH_P_802_3_MIN)
            return htons(type);
        if (len >= ETH_HLEN + 2 && fr[14] == 0xff && fr[15] == 0xff)
            return htons(ETH_P_802_3);
        return htons(ETH_P_802_2);
    }
    return 0;
}

ssize_t mem__tun_read_plain(memio_file *f, void *buf, size_t len)
{
    struct tun_file *tf = f->data;
    struct memio_tunnel *t = tf->tun;
    struct ring_slot *slot;
    size_t total, n;

    if (!t || !ring_count(&tf->rxq) || !len || t->fail_reads ||
        (t->flags & (IFF_NO_PI | IFF_VNET_HDR)) != IFF_NO_PI || memio__bad_ptr(buf))
        return MEM_NOT_PLAIN;
    slot = ring_front(&tf->rxq);
    total = slot->len;
    n = len < total ? len : total; /* E05, G08: what fit; the rest is gone */
    mem__copy(buf, slot->buf, n);
    t->stats.tx_packets++;
    t->stats.tx_bytes += total;
    ring_pop(&tf->rxq);
    return (ssize_t)n;
}

static ssize_t tun_read(memio_file *f, const struct iovec *iov, int iovcnt)
{
    struct tun_file *tf = f->data;
    struct memio_tunnel *t = tf->tun;
    struct ring_slot *slot;
    size_t count = 0, total, hdr = 0;
    int i, nonblock;

    if (!t) {
        errno = EBADFD; /* A04, A05, I08: before any length check */
        return -1;
    }
    if (t->fail_reads) {
        t->fail_reads--;
        errno = t->fail_read_err;
        return -1;
    }
    for (i = 0; i < iovcnt; i++)
        count += iov[i].iov_len;
    if (!count)
        return 0; /* E06, E21: a zero-length read consumes nothing */
    /* O_NONBLOCK counts as it was when the read began: setting it under a
     * sleeping reader does not end the read. */
    nonblock = f->flags & O_NONBLOCK;
    while (!(slot = ring_front(&tf->rxq))) {
        if (nonblock) {
            errno = t->empty_read_err; /* E01, E02 */
            return -1;
        }
        if (memio_file_wait(f) < 0)
            return -1; /* EINTR (I02) or EBADF (closed under us) */
        if (tf->rcv_shutdown) {
            errno = EFAULT; /* I07: deleted while we slept */
            return -1;
        }
        t = tf->tun;
        if (!t) {
            errno = EBADFD;
            return -1;
        }
    }
    total = slot->len;
    if (has_pi(t)) {
        struct tun_pi pi;
        if (count < sizeof(pi)) {
            /* E20: the packet is consumed and lost. */
            ring_pop(&tf->rxq);
            t->stats.tx_read_lost++;
            errno = EINVAL;
            return -1;
        }
        hdr = sizeof(pi);
    }
    if (t->flags & IFF_VNET_HDR) {
        size_t hl = (size_t)t->vnet_hdr_sz;
        if (count - hdr < hl) {
            ring_pop(&tf->rxq); /* M08 */
            t->stats.tx_read_lost++;
            errno = EINVAL;
            return -1;
        }
        hdr += hl;
    }
    if (iovcnt == 1 && !hdr) {
        /* The usual read: one buffer, no headers. */
        size_t n = count < total ? count : total;
        if (memio__bad_ptr(iov[0].iov_base)) {
            ring_pop(&tf->rxq); /* the kernel frees the skb when the copy faults */
            t->stats.tx_read_lost++;
            errno = EFAULT;
            return -1;
        }
        mem__copy(iov[0].iov_base, slot->buf, n);
        t->stats.tx_packets++;
        t->stats.tx_bytes += total;
        ring_pop(&tf->rxq);
        return (ssize_t)n; /* E05, G08: what fit; the rest is gone */
    }
    if (mem__iov_bad(iov, iovcnt)) {
        ring_pop(&tf->rxq); /* the kernel frees the skb when the copy faults */
        t->stats.tx_read_lost++;
        errno = EFAULT;
        return -1;
    }
    total += hdr;
    if (has_pi(t)) {
        struct tun_pi pi;
        /* E15-E19: flags host-endian, TUN_PKT_STRIP when cut short. */
        pi.flags = count < total ? TUN_PKT_STRIP : 0;
        pi.proto = frame_proto(t, slot->buf, slot->len);
        mem__iov_put(iov, iovcnt, 0, &pi, sizeof(pi));
    }
    if (t->flags & IFF_VNET_HDR) {
        /* M07: an all-zero header, but for a datagram whose checksum the
         * device was allowed to leave unfinished (TUN_F_CSUM, M09): then
         * NEEDS_CSUM with where the checksum starts and lies.  Zero padding
         * up to TUNSETVNETHDRSZ. */
        static const uint8_t zero[64];
        struct virtio_net_hdr vh;
        size_t o = has_pi(t) ? sizeof(struct tun_pi) : 0;
        size_t hl = (size_t)t->vnet_hdr_sz - sizeof(vh);
        memset(&vh, 0, sizeof(vh));
        if (slot->aux & SLOT_CSUM_PARTIAL) {
            vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
            size_t l2 = is_tap(t) ? ETH_HLEN : 0;
            unsigned l3 = slot->len > l2 && slot->buf[l2] >> 4 == 6 ? 40u : 20u;
            vh.csum_start = cpu_to_vnet16(t, (unsigned)l2 + l3);
            vh.csum_offset = cpu_to_vnet16(t, 6);
        }
        mem__iov_put(iov, iovcnt, o, &vh, sizeof(vh));
        o += sizeof(vh);
        while (hl) {
            size_t n = hl < sizeof(zero) ? hl : sizeof(zero);
            mem__iov_put(iov, iovcnt, o, zero, n);
            o += n;
            hl -= n;
        }
    }
    mem__iov_put(iov, iovcnt, hdr, slot->buf, count - hdr < slot->len ? count - hdr : slot->len);
    t->stats.tx_packets++;
    t->stats.tx_bytes += slot->len;
    ring_pop(&tf->rxq);
    /* E05, G08: a short read returns what fit and the rest is gone. */
    return (ssize_t)(count < total ? count : total);
}


/* --- poll, open, close ------------------------------------------------ */

static short tun_poll(memio_file *f, short events)
{
    struct tun_file *tf = f->data;
    short mask = 0;

    (void)events;
    if (!tf->tun || !tf->tun->exists)
        return POLLERR; /* A11, H09, H10 */
    if (ring_count(&tf->rxq))
        mask |= POLLIN | POLLRDNORM; /* H05 */
    if (tf->tun->up)
        mask |= POLLOUT | POLLWRNORM; /* H01, H03: IFF_UP, not carrier (H08) */
    return mask;
}

static int tun_open(memio_file *f, int flags)
{
    struct tun_file *tf = (struct tun_file *)(void *)f->priv;

    _Static_assert(sizeof(struct tun_file) <= sizeof(f->priv), "tun_file fits memio_file.priv");
    (void)flags;
    memset(tf, 0, sizeof(*tf));
    tf->file = f;
    tf->sndbuf = INT_MAX; /* C23 */
    memio_file_set_data(f, tf);
    return 0;
}

/* tun_chr_fasync: turning O_ASYNC on makes the calling process the owner
 * that gets SIGIO, whatever F_SETOWN said before. */
static int tun_fasync(memio_file *f, int on)
{
    if (on)
        memio_file_set_owner(f, getpid());
    return 0;
}

static void tun_close(memio_file *f)
{
    struct tun_file *tf = f->data;

    queue_detach(f->sys, tf);
    ring_free(&tf->rxq);
}

const memio_device_class memio_tun_device = {
    .version = MEMIO_DEVICE_CLASS_VERSION,
    .name = "tun",
    .open = tun_open,
    .read = tun_read,
    .write = tun_write,
    .ioctl = tun_ioctl,
    .poll = tun_poll,
    .close = tun_close,
    .fasync = tun_fasync,
};

/* --- the test side ------------------------------------------------------- */

bool mem__tun_is_file(const memio_file *f)
{
    return f->cls == &memio_tun_device;
}

struct memio_tunnel *mem__tun_of_file(const memio_file *f)
{
    const struct tun_file *tf = f->data;
    return tf->tun;
}

memio_tunnel *memio_tunnel_get(memio_sys *sys, int fd)
{
    struct mem_sys *ms;
    memio_file *f;
    memio_tunnel *t = NULL;

    if (!mem__is_memory(sys)) {
        errno = EINVAL;
        return NULL;
    }
    ms = mem_sys_of(sys);
    mem__lock(ms);
    f = mem__file(ms, fd);
    if (!f)
        goto out;
    if (!mem__tun_is_file(f)) {
        errno = ENOTTY;
        goto out;
    }
    t = mem__tun_of_file(f);
    if (!t)
        errno = EBADFD;
out:
    mem__unlock(ms);
    return t;
}

memio_tunnel *memio_tunnel_lookup(memio_sys *sys, const char *name)
{
    struct mem_sys *ms;
    memio_tunnel *t;

    if (!mem__is_memory(sys)) {
        errno = EINVAL;
        return NULL;
    }
    if (memio__bad_ptr(name)) {
        errno = EFAULT;
        return NULL;
    }
    ms = mem_sys_of(sys);
    mem__lock(ms);
    t = find_live(ms, name);
    mem__unlock(ms);
    if (!t)
        errno = ENODEV;
    return t;
}

/* Returns expr, read under the tunnel's system lock. */
#define LOCKED_READ(type, t, expr)          \
    do {                                    \
        struct mem_sys *ms_ = (t)->sys;     \
        type r_;                            \
        mem__lock(ms_);                     \
        r_ = (expr);                        \
        mem__unlock(ms_);                   \
        return r_;                          \
    } while (0)

/* Fields fixed at creation (open flags, name, ifindex, type) are read
 * without the lock; the others take it, since another thread may change
 * them (a re-attach, TUNSETLINK, the test side). */
int memio_tunnel_open_flags(const memio_tunnel *t)
{
    return t->open_flags;
}

const char *memio_tunnel_requested_name(const memio_tunnel *t)
{
    return t->requested;
}

const char *memio_tunnel_name(const memio_tunnel *t)
{
    return t->name;
}

int memio_tunnel_flags(const memio_tunnel *t)
{
    LOCKED_READ(int, t, t->given_flags);
}

int memio_tunnel_ifindex(const memio_tunnel *t)
{
    return t->ifindex;
}

int memio_tunnel_is_tap(const memio_tunnel *t)
{
    LOCKED_READ(int, t, is_tap(t)); /* the type is fixed, but shares t->flags */
}

int memio_tunnel_exists(const memio_tunnel *t)
{
    LOCKED_READ(int, t, t->exists);
}

/* Picks the queue a frame goes to.  One queue: that one.  Several (IFF_MULTI_QUEUE):
 * a deterministic hash of the frame's bytes that name its flow keeps each flow on
 * one queue, as the kernel's flow hash does (M01). */
static struct tun_file *select_queue_hash(struct memio_tunnel *t, const uint8_t *fr, size_t len)
{
    uint32_t h = 2166136261u;
    size_t i, start = is_tap(t) ? ETH_HLEN : 0;

    if (len > start && fr[start] >> 4 == 6) {
        /* IPv6: next header (byte 6), addresses and ports (8..43). */
        for (i = start + 6; i < start + 44 && i < len; i++)
            if (i != start + 7)
                h = (h ^ fr[i]) * 16777619u;
    } else {
        /* IPv4: protocol (byte 9), addresses and ports (12..23). */
        for (i = start + 9; i < start + 24 && i < len; i++)
            if (i != start + 10 && i != start + 11)
                h = (h ^ fr[i]) * 16777619u;
    }
    /* FNV alone keeps the parity of the XOR of its bytes' low bits; mix
     * so that every input bit reaches the bits the modulo uses. */
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return t->queues[h % t->numqueues];
}

static inline struct tun_file *select_queue(struct memio_tunnel *t, const uint8_t *fr,
                                            size_t len)
{
    return t->numqueues == 1 ? t->queues[0] : select_queue_hash(t, fr, len);
}

/* The checks that decide whether the kernel would queue a transmitted frame
 * (tun_net_xmit), in its order; counts a drop. */
static int xmit_check(struct memio_tunnel *t)
{
    int err = 0;

    if (!t->exists)
        err = ENODEV;
    else if (!t->up)
        err = ENETDOWN;
    else if (!t->carrier)
        err = ENOLINK; /* E12 */
    else if (!t->numqueues)
        err = ENXIO; /* I17 */
    if (err) {
        t->stats.tx_dropped++;
        errno = err;
        return -1;
    }
    return 0;
}

static inline struct ring_slot *xmit_reserve(struct memio_tunnel *t, const uint8_t *head,
                                             size_t headlen, size_t len, struct tun_file **q)
{
    struct ring_slot *slot;

    if (xmit_check(t) < 0)
        return NULL;
    *q = select_queue(t, head, headlen);
    slot = ring_reserve(&(*q)->rxq, t->txqueuelen, len);
    if (!slot) {
        t->stats.tx_dropped++; /* J01, J04: tail drop, ENOBUFS */
        return NULL;
    }
    return slot;
}

struct ring_slot *mem__tun_xmit_reserve(struct memio_tunnel *t, const uint8_t *head,
                                        size_t headlen, size_t len, struct tun_file **q)
{
    return xmit_reserve(t, head, headlen, len, q);
}

/* G24: the TX filter; G25: the queue's socket filter, which may also trim
 * the frame (sk_filter_trim_cap).  False when they drop it. */
static bool tap_filters_pass(struct memio_tunnel *t, struct tun_file *q, struct ring_slot *slot)
{
    bool pass = txfilter_pass(t, slot->buf, slot->len);

    if (pass && q->filtered && t->filter) {
        unsigned keep = mem__bpf_run(t->filter, slot->buf, slot->len);
        if (!keep)
            pass = false;
        else if (keep < slot->len)
            slot->len = keep;
    }
    return pass;
}

static inline int xmit_commit(struct memio_tunnel *t, struct tun_file *q,
                              struct ring_slot *slot, struct mem_signal *sig)
{
    if (is_tap(t) && (t->txflt_count || t->filter) && !tap_filters_pass(t, q, slot)) {
        slot->len = 0;
        t->stats.tx_dropped++;
        errno = EPERM;
        return -1;
    }
    ring_commit(&q->rxq);
    mem__wake_all(t->sys);
    if (sig && (q->file->flags & O_ASYNC) && q->file->owner) {
        sig->pid = q->file->owner; /* I05: SIGIO to the owner under O_ASYNC */
        sig->sig = q->file->sig ? q->file->sig : SIGIO;
    }
    return 0;
}

int mem__tun_xmit_commit(struct memio_tunnel *t, struct tun_file *q, struct ring_slot *slot,
                         struct mem_signal *sig)
{
    return xmit_commit(t, q, slot, sig);
}

bool mem__tun_csum_offload(const struct memio_tunnel *t)
{
    return t->offload & TUN_F_CSUM;
}

/* Queues a copy of frame on queue q, or on the queue its flow selects. */
static int inject_locked(struct memio_tunnel *t, const void *frame, size_t len, int queue,
                         struct mem_signal *sig)
{
    struct ring_slot *slot;
    struct tun_file *q;

    /* Under the lock: t->flags is not constant (its type bits are). */
    if (len > INJECT_MAX + (is_tap(t) ? ETH_HLEN : 0)) {
        errno = EMSGSIZE;
        return -1;
    }
    if (queue >= 0 && (unsigned)queue >= t->numqueues && t->exists) {
        errno = EINVAL;
        return -1;
    }
    slot = xmit_reserve(t, frame, len, len, &q);
    if (!slot)
        return -1;
    if (queue >= 0 && q != t->queues[queue]) {
        q = t->queues[queue];
        slot = ring_reserve(&q->rxq, t->txqueuelen, len);
        if (!slot) {
            t->stats.tx_dropped++;
            return -1;
        }
    }
    mem__copy(slot->buf, frame, len);
    slot->len = len;
    slot->aux = 0;
    return xmit_commit(t, q, slot, sig);
}

static int inject_args(const void *frame, size_t len)
{
    if (memio__bad_ptr(frame)) {
        errno = EFAULT;
        return -1;
    }
    if (!len) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

static int inject(memio_tunnel *t, const void *frame, size_t len, int queue)
{
    struct mem_signal sig = {0, 0};
    int r;

    if (inject_args(frame, len) < 0)
        return -1;
    mem__lock(t->sys);
    r = inject_locked(t, frame, len, queue, &sig);
    mem__unlock(t->sys);
    if (sig.pid)
        mem__send_signals(&sig, 1);
    return r;
}

int memio_tunnel_inject(memio_tunnel *t, const void *frame, size_t len)
{
    return inject(t, frame, len, -1);
}

int memio_tunnel_inject_queue(memio_tunnel *t, unsigned queue, const void *frame, size_t len)
{
    if (queue > INT_MAX) {
        errno = EINVAL;
        return -1;
    }
    return inject(t, frame, len, (int)queue);
}

unsigned memio_tunnel_queue_count(const memio_tunnel *t)
{
    LOCKED_READ(unsigned, t, t->numqueues);
}

unsigned memio_tunnel_offload(const memio_tunnel *t)
{
    LOCKED_READ(unsigned, t, t->offload);
}

int memio_tunnel_vnet_hdr_size(const memio_tunnel *t)
{
    LOCKED_READ(int, t, (t->flags & IFF_VNET_HDR) ? t->vnet_hdr_sz : 0);
}

ssize_t memio_tunnel_take(memio_tunnel *t, void *buf, size_t cap)
{
    struct mem_sys *ms = t->sys;
    struct ring_slot *slot;
    ssize_t r = -1;

    mem__lock(ms);
    slot = ring_front(&t->takeq);
    if (!slot) {
        errno = EAGAIN;
    } else if (cap < slot->len) {
        errno = EMSGSIZE;
    } else if (memio__bad_ptr(buf) && slot->len) {
        errno = EFAULT;
    } else {
        mem__copy(buf, slot->buf, slot->len);
        r = (ssize_t)slot->len;
        ring_pop(&t->takeq);
    }
    mem__unlock(ms);
    return r;
}

ssize_t memio_tunnel_peek_len(const memio_tunnel *t)
{
    struct mem_sys *ms = t->sys;
    struct ring_slot *slot;
    ssize_t r = -1;

    mem__lock(ms);
    slot = ring_front(&t->takeq);
    if (slot)
        r = (ssize_t)slot->len;
    else
        errno = EAGAIN;
    mem__unlock(ms);
    return r;
}

/* Runs fn on a live tunnel under the lock; ENODEV when it is gone. */
#define WITH_LIVE_TUNNEL(t, body)           \
    do {                                    \
        struct mem_sys *ms_ = (t)->sys;     \
        int r_ = 0;                         \
        mem__lock(ms_);                     \
        if (!(t)->exists) {                 \
            errno = ENODEV;                 \
            r_ = -1;                        \
        } else {                            \
            body;                           \
        }                                   \
        mem__wake_all(ms_);                 \
        mem__unlock(ms_);                   \
        return r_;                          \
    } while (0)

int memio_tunnel_set_up(memio_tunnel *t, int up)
{
    WITH_LIVE_TUNNEL(t, t->up = up != 0);
}

int memio_tunnel_is_persistent(const memio_tunnel *t)
{
    LOCKED_READ(int, t, (t->flags & IFF_PERSIST) != 0);
}

int memio_tunnel_is_up(const memio_tunnel *t)
{
    LOCKED_READ(int, t, t->up);
}

int memio_tunnel_set_carrier(memio_tunnel *t, int on)
{
    WITH_LIVE_TUNNEL(t, t->carrier = on != 0);
}

int memio_tunnel_carrier(const memio_tunnel *t)
{
    LOCKED_READ(int, t, t->carrier);
}

int memio_tunnel_set_txqueuelen(memio_tunnel *t, unsigned len)
{
    WITH_LIVE_TUNNEL(t, {
        unsigned i;
        t->txqueuelen = len;
        /* J05: tun_queue_resize keeps the oldest queued frames. */
        for (i = 0; i < t->numqueues; i++)
            t->stats.tx_dropped += ring_truncate(&t->queues[i]->rxq, len);
    });
}

unsigned memio_tunnel_txqueuelen(const memio_tunnel *t)
{
    LOCKED_READ(unsigned, t, t->txqueuelen);
}

int memio_tunnel_delete(memio_tunnel *t)
{
    WITH_LIVE_TUNNEL(t, tunnel_destroy(t->sys, t));
}

int memio_tunnel_set_mac(memio_tunnel *t, const uint8_t mac[6])
{
    if (memio__bad_ptr(mac)) {
        errno = EFAULT;
        return -1;
    }
    if ((mac[0] & 1) || !(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5])) {
        errno = EADDRNOTAVAIL; /* C60: is_valid_ether_addr */
        return -1;
    }
    WITH_LIVE_TUNNEL(t, memcpy(t->mac, mac, ETH_ALEN));
}

void memio_tunnel_mac(const memio_tunnel *t, uint8_t mac[6])
{
    struct mem_sys *ms = t->sys;

    mem__lock(ms);
    memcpy(mac, t->mac, ETH_ALEN);
    mem__unlock(ms);
}

int memio_tunnel_set_address(memio_tunnel *t, const struct sockaddr *addr,
                             socklen_t len, int prefix_len)
{
    if (memio__bad_ptr(addr)) {
        errno = EFAULT;
        return -1;
    }
    if (addr->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
        if (len < (socklen_t)sizeof(*in) || prefix_len < 0 || prefix_len > 32) {
            errno = EINVAL;
            return -1;
        }
        WITH_LIVE_TUNNEL(t, {
            t->addr = in->sin_addr;
            t->prefix_len = prefix_len;
            t->has_addr = true;
        });
    }
    if (addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)addr;
        if (len < (socklen_t)sizeof(*in6) || prefix_len < 0 || prefix_len > 128) {
            errno = EINVAL;
            return -1;
        }
        WITH_LIVE_TUNNEL(t, {
            t->addr6 = in6->sin6_addr;
            t->prefix_len6 = prefix_len;
            t->has_addr6 = true;
        });
    }
    errno = EAFNOSUPPORT;
    return -1;
}

int memio_tunnel_set_take_capacity(memio_tunnel *t, size_t frames)
{
    struct mem_sys *ms = t->sys;

    mem__lock(ms);
    t->take_cap = frames;
    t->stats.take_dropped += ring_truncate(&t->takeq, frames > UINT32_MAX ? UINT32_MAX
                                                                         : (uint32_t)frames);
    mem__unlock(ms);
    return 0;
}

void memio_tunnel_fail_writes(memio_tunnel *t, int err, unsigned count)
{
    struct mem_sys *ms = t->sys;

    mem__lock(ms);
    t->fail_write_err = err;
    t->fail_writes = count;
    mem__unlock(ms);
}

void memio_tunnel_fail_reads(memio_tunnel *t, int err, unsigned count)
{
    struct mem_sys *ms = t->sys;

    mem__lock(ms);
    t->fail_read_err = err;
    t->fail_reads = count;
    mem__unlock(ms);
}

void memio_tunnel_set_empty_read_errno(memio_tunnel *t, int err)
{
    struct mem_sys *ms = t->sys;

    mem__lock(ms);
    t->empty_read_err = err;
    mem__unlock(ms);
}

const char *memio_drop_reason_name(memio_drop_reason r)
{
    static const char *const names[MEMIO_DROP_REASON_COUNT] = {
        [MEMIO_DROP_NONE] = "delivered",
        [MEMIO_DROP_IP_HEADER] = "bad ip header",
        [MEMIO_DROP_IP_CHECKSUM] = "ip checksum",
        [MEMIO_DROP_IP_FRAGMENT] = "ip fragment",
        [MEMIO_DROP_UDP_LENGTH] = "bad udp length",
        [MEMIO_DROP_UDP_CHECKSUM] = "udp checksum",
        [MEMIO_DROP_PI_PROTO] = "pi proto not ipv4",
        [MEMIO_DROP_OTHERHOST] = "mac not ours",
        [MEMIO_DROP_RCVBUF] = "receive queue full",
    };
    if ((unsigned)r >= MEMIO_DROP_REASON_COUNT || !names[r])
        return "unknown";
    return names[r];
}

void memio_tunnel_stats_get(const memio_tunnel *t, memio_tunnel_stats *st)
{
    struct mem_sys *ms = t->sys;
    unsigned i;

    mem__lock(ms);
    *st = t->stats;
    st->tx_queued = 0;
    for (i = 0; i < t->numqueues; i++)
        st->tx_queued += ring_count(&t->queues[i]->rxq);
    st->take_queued = ring_count(&t->takeq);
    mem__unlock(ms);
}

void mem__tunnels_free(struct mem_sys *ms)
{
    struct memio_tunnel *t, *next;

    for (t = ms->all_tunnels; t; t = next) {
        next = t->next_all;
        ring_free(&t->takeq);
        if (t->queues != t->queue_inline)
            free(t->queues);
        free(t->scratch);
        free(t);
    }
    ms->all_tunnels = NULL;
    ms->live_tunnels = NULL;
}
