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

#include <linux/if_tun.h>
#include <linux/virtio_net.h>

#include "memory.h"

/* The TUNSETIFF flags the kernel stores (TUN_FEATURES in tun.c). */
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

/* The per-tunnel vnet header size: stored on the tunnel because the kernel
 * keeps it per device (TUNSETVNETHDRSZ); 0 when IFF_VNET_HDR is off. */
static int vnet_hdr_len(const struct memio_tunnel *t, const struct tun_file *tf);

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

static bool name_in_use(struct mem_sys *ms, const char *name)
{
    return name_is_lo(name) || find_live(ms, name);
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
static long template_unit(const char *tmpl, size_t plen, const char *suffix,
                          const char *name)
{
    char buf[IFNAMSIZ + 24];
    const char *p;
    long unit = 0;
    size_t slen = strlen(suffix), nlen = strlen(name);

    if (nlen <= plen + slen || strncmp(name, tmpl, plen) != 0 ||
        strcmp(name + nlen - slen, suffix) != 0)
        return -1;
    for (p = name + plen; p < name + nlen - slen; p++) {
        if (*p < '0' || *p > '9' || unit > 100000)
            return -1;
        unit = unit * 10 + (*p - '0');
    }
    /* "tun01" is not what "tun%d" prints for 1. */
    snprintf(buf, sizeof(buf), "%.*s%ld%s", (int)plen, tmpl, unit, suffix);
    return strcmp(buf, name) == 0 ? unit : -1;
}

/* dev_alloc_name: the lowest free unit of a template with exactly one %d
 * (B08, B11-B13, B53).  Writes the name into out (IFNAMSIZ bytes). */
static int alloc_name(struct mem_sys *ms, const char *tmpl, char *out)
{
    enum { UNITS = 32768 }; /* the kernel's bitmap: one page of bits */
    unsigned long used[UNITS / (8 * sizeof(unsigned long))];
    const char *pct = strchr(tmpl, '%');
    const size_t bits = 8 * sizeof(unsigned long);
    struct memio_tunnel *t;
    size_t plen;
    long u;
    int i;

    if (!pct || pct[1] != 'd' || strchr(pct + 2, '%')) {
        errno = EINVAL;
        return -1;
    }
    plen = (size_t)(pct - tmpl);
    memset(used, 0, sizeof(used));
    for (t = ms->live_tunnels; t; t = t->next_live) {
        u = template_unit(tmpl, plen, pct + 2, t->name);
        if (u >= 0 && u < UNITS)
            used[u / bits] |= 1ul << (u % bits);
    }
    u = template_unit(tmpl, plen, pct + 2, "lo");
    if (u >= 0 && u < UNITS)
        used[u / bits] |= 1ul << (u % bits);
    for (i = 0; i < UNITS; i++) {
        char buf[IFNAMSIZ + 16];
        if (used[i / bits] & (1ul << (i % bits)))
            continue;
        snprintf(buf, sizeof(buf), "%.*s%d%s", (int)plen, tmpl, i, pct + 2);
        if (strlen(buf) >= IFNAMSIZ) {
            errno = EINVAL;
            return -1;
        }
        if (name_in_use(ms, buf))
            continue;
        memcpy(out, buf, strlen(buf) + 1);
        return 0;
    }
    errno = ENFILE;
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

static int queue_add(struct memio_tunnel *t, struct tun_file *tf)
{
    if (t->numqueues == t->queues_cap) {
        unsigned cap = t->queues_cap ? t->queues_cap * 2 : 1;
        struct tun_file **q = realloc(t->queues, cap * sizeof(*q));
        if (!q) {
            errno = ENOMEM;
            return -1;
        }
        t->queues = q;
        t->queues_cap = cap;
    }
    t->queues[t->numqueues++] = tf;
    tf->tun = t;
    tf->rcv_shutdown = false;
    return 0;
}

/* tun_attach's checks (B26, B38). */
static int attach_check(const struct memio_tunnel *t)
{
    if (!(t->flags & IFF_MULTI_QUEUE) && t->numqueues == 1) {
        errno = EBUSY;
        return -1;
    }
    if (t->numqueues == TUN_MAX_QUEUES) {
        errno = E2BIG;
        return -1;
    }
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

    for (i = 0; i < t->numqueues; i++) {
        struct tun_file *tf = t->queues[i];
        queue_purge(t, tf);
        ring_free(&tf->rxq);
        tf->tun = NULL;
        /* tun_detach_all: a reader asleep in tun_ring_recv returns EFAULT (I07). */
        tf->rcv_shutdown = true;
    }
    t->numqueues = 0;
    t->exists = false;
    live_unlink(ms, t);
    mem__udp_unlink_all(t);
    free(t->scratch);
    t->scratch = NULL;
    t->scratch_cap = 0;
    mem__wake_all(ms);
}

static void queue_detach(struct mem_sys *ms, struct tun_file *tf)
{
    struct memio_tunnel *t = tf->tun;
    unsigned i;

    if (!t)
        return;
    for (i = 0; i < t->numqueues; i++) {
        if (t->queues[i] == tf) {
            memmove(&t->queues[i], &t->queues[i + 1],
                    (t->numqueues - i - 1) * sizeof(*t->queues));
            t->numqueues--;
            break;
        }
    }
    queue_purge(t, tf);
    ring_free(&tf->rxq);
    tf->tun = NULL;
    if (t->numqueues == 0) {
        if (t->flags & IFF_PERSIST)
            t->carrier = false; /* I16: a persistent device without fds */
        else
            tunnel_destroy(ms, t); /* I15 */
    }
    mem__wake_all(ms);
}

static struct memio_tunnel *tunnel_new(struct mem_sys *ms, unsigned type)
{
    struct memio_tunnel *t = calloc(1, sizeof(*t));
    int idx;

    if (!t) {
        errno = ENOMEM;
        return NULL;
    }
    t->sys = ms;
    t->flags = type;
    idx = ms->next_ifindex++;
    t->ifindex = idx;
    t->up = true; /* a memory device starts up: a documented difference */
    t->carrier = true;
    t->txqueuelen = type == IFF_TAP ? TAP_TXQLEN : TUN_TXQLEN;
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

/* tun_set_iff, in the kernel's order of checks. */
static int tun_set_iff(struct tun_file *tf, struct ifreq *ifr)
{
    struct mem_sys *ms = tf->file->sys;
    unsigned short fl = (unsigned short)ifr->ifr_flags;
    struct memio_tunnel *t;
    char name[IFNAMSIZ];

    /* B42, B43: NAPI_FRAGS needs NAPI and a TAP. */
    if ((fl & IFF_NAPI_FRAGS) &&
        (!(fl & IFF_NAPI) || (fl & TUN_TYPE_MASK) != IFF_TAP)) {
        errno = EINVAL;
        return -1;
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
        if (attach_check(t) < 0 || queue_add(t, tf) < 0)
            return -1;
        /* Flags are re-applied only when the first queue attaches (B35, I18). */
        if (t->numqueues == 1)
            t->flags = (t->flags & ~TUN_FEATURES) | (fl & TUN_FEATURES);
    } else {
        unsigned type;
        const char *tmpl;

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
        t = tunnel_new(ms, type);
        if (!t)
            return -1;
        memcpy(t->name, name, strlen(name) + 1);
        t->flags |= fl & TUN_FEATURES;
        t->open_flags = tf->file->open_flags;
        t->exists = true;
        live_link(ms, t);
        if (queue_add(t, tf) < 0) {
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

static int tun_ioctl_attached(struct tun_file *tf, unsigned int cmd, void *arg);

static int tun_ioctl(memio_file *f, unsigned long request, void *arg)
{
    struct tun_file *tf = memio_file_data(f);
    unsigned int cmd = (unsigned int)request;
    struct ifreq ifr;

    /* TUNSETIFF, TUNSETQUEUE and the socket ioctls (type 0x89) copy the
     * ifreq in before anything else (A18, C55, C73). */
    if (cmd == TUNSETIFF || cmd == TUNSETQUEUE || _IOC_TYPE(cmd) == 0x89) {
        if (get_user(&ifr, arg, sizeof(ifr)) < 0)
            return -1;
    } else {
        memset(&ifr, 0, sizeof(ifr));
    }
    if (cmd == TUNGETFEATURES) { /* A09, A10, C07: answered before attach */
        unsigned int feat = TUN_ADVERTISED;
        return put_user(arg, &feat, sizeof(feat));
    }
    if (cmd == TUNSETQUEUE) {
        /* C56, C57: TUNSETQUEUE needs a multiqueue device. */
        if (tf->tun && !(tf->tun->flags & IFF_MULTI_QUEUE)) {
            errno = EINVAL;
            return -1;
        }
        errno = EINVAL;
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
        /* The requested index is not modelled yet: creation gives the next
         * deterministic one. */
        return 0;
    }
    if (!tf->tun) {
        errno = EBADFD; /* A08, A12-A17, A23, I10 */
        return -1;
    }
    if (cmd == TUNGETIFF) { /* C01-C06 */
        memcpy(ifr.ifr_name, tf->tun->name, IFNAMSIZ);
        /* IFF_NOFILTER (the same bit as IFF_NO_PI) whenever no socket
         * filter is attached: C01-C04, surprise 1. */
        ifr.ifr_flags = (short)(tun_flags(tf->tun) | IFF_NOFILTER);
        return put_user(arg, &ifr, sizeof(ifr));
    }
    if (_IOC_TYPE(cmd) == 0x89) {
        /* Socket ioctls work on the ifreq copied in above; the two the tun
         * fd answers itself copy it back out (C58, C59). */
        if (tun_ioctl_attached(tf, cmd, &ifr) < 0)
            return -1;
        return put_user(arg, &ifr, sizeof(ifr));
    }
    return tun_ioctl_attached(tf, cmd, arg);
}

static int tun_ioctl_attached(struct tun_file *tf, unsigned int cmd, void *arg)
{
    struct memio_tunnel *t = tf->tun;
    unsigned long val = (unsigned long)arg; /* the value-taking requests */
    int v;

    switch (cmd) {
    case TUNSETNOCSUM: /* C21: unimplemented in the driver */
        return 0;
    case TUNSETDEBUG: /* C22 */
        return 0;
    case TUNSETPERSIST: /* C13-C16: the value, not a pointer */
        if (val)
            t->flags |= IFF_PERSIST;
        else
            t->flags &= ~IFF_PERSIST;
        return 0;
    case TUNGETSNDBUF: /* C23, C29 */
        return put_user(arg, &tf->sndbuf, sizeof(tf->sndbuf));
    case TUNSETSNDBUF: /* C24-C28 */
        if (get_user(&v, arg, sizeof(v)) < 0)
            return -1;
        if (v <= 0) {
            errno = EINVAL;
            return -1;
        }
        {
            unsigned i;
            for (i = 0; i < t->numqueues; i++)
                t->queues[i]->sndbuf = v;
        }
        return 0;
    case TUNGETVNETHDRSZ: /* C30 */
        v = VNET_HDR_DEFAULT;
        return put_user(arg, &v, sizeof(v));
    case TUNSETCARRIER: /* C49-C51: a pointer to the value */
        if (get_user(&v, arg, sizeof(v)) < 0)
            return -1;
        t->carrier = v != 0;
        return 0;
    case SIOCGIFHWADDR: { /* C58, C61 */
        struct ifreq *ifr = arg;
        ifr->ifr_hwaddr.sa_family = is_tap(t) ? ARPHRD_ETHER : ARPHRD_NONE;
        memset(ifr->ifr_hwaddr.sa_data, 0, sizeof(ifr->ifr_hwaddr.sa_data));
        if (is_tap(t))
            memcpy(ifr->ifr_hwaddr.sa_data, t->mac, 6);
        return 0;
    }
    case SIOCSIFHWADDR: { /* C59, C60 */
        struct ifreq *ifr = arg;
        const uint8_t *mac = (const uint8_t *)ifr->ifr_hwaddr.sa_data;
        if (ifr->ifr_hwaddr.sa_family != (is_tap(t) ? ARPHRD_ETHER : ARPHRD_NONE)) {
            errno = EINVAL;
            return -1;
        }
        if (!is_tap(t)) {
            errno = EOPNOTSUPP; /* a TUN has no hardware address to set */
            return -1;
        }
        if (mac[0] & 1) {
            errno = EADDRNOTAVAIL;
            return -1;
        }
        memcpy(t->mac, mac, ETH_ALEN);
        return 0;
    }
    default:
        errno = EINVAL; /* C52-C54: never ENOTTY */
        return -1;
    }
}

/* --- the write path (tun_get_user) -------------------------------------- */

/* Where a written frame goes: a receive descriptor, or take's queue. */
static void dispatch(struct memio_tunnel *t, const uint8_t *frame, size_t len,
                     uint16_t pi_proto)
{
    struct ring_slot *slot;

    if (t->socks && mem__udp_dispatch(t, frame, len, pi_proto))
        return;
    slot = ring_reserve(&t->takeq, t->take_cap > UINT32_MAX ? UINT32_MAX : (uint32_t)t->take_cap,
                        len);
    if (!slot) {
        t->stats.take_dropped++;
        return;
    }
    memcpy(slot->buf, frame, len);
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
    struct tun_file *tf = memio_file_data(f);
    struct memio_tunnel *t = tf->tun;
    size_t total = 0, off = 0, len;
    uint16_t pi_proto = 0;
    const uint8_t *frame;
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
        int hl = vnet_hdr_len(t, tf);
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
        /* M13: only the known GSO types pass virtio_net_hdr_to_skb. */
        switch (h.gso_type & ~VIRTIO_NET_HDR_GSO_ECN) {
        case VIRTIO_NET_HDR_GSO_NONE:
        case VIRTIO_NET_HDR_GSO_TCPV4:
        case VIRTIO_NET_HDR_GSO_TCPV6:
        case VIRTIO_NET_HDR_GSO_UDP:
            break;
        default:
            errno = EINVAL;
            return -1;
        }
        if (h.hdr_len > total - off) {
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
    dispatch(t, frame, len, pi_proto);
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

static ssize_t tun_read(memio_file *f, const struct iovec *iov, int iovcnt)
{
    struct tun_file *tf = memio_file_data(f);
    struct memio_tunnel *t = tf->tun;
    struct ring_slot *slot;
    size_t count = 0, total, hdr = 0;
    int i;

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
    while (!(slot = ring_front(&tf->rxq))) {
        if (memio_file_flags(f) & O_NONBLOCK) {
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
        size_t hl = (size_t)vnet_hdr_len(t, tf);
        if (count - hdr < hl) {
            ring_pop(&tf->rxq); /* M08 */
            t->stats.tx_read_lost++;
            errno = EINVAL;
            return -1;
        }
        hdr += hl;
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
        /* M07: no offloads, so an all-zero header (and zero padding up to
         * TUNSETVNETHDRSZ). */
        static const uint8_t zero[64];
        size_t o = has_pi(t) ? sizeof(struct tun_pi) : 0;
        size_t hl = (size_t)vnet_hdr_len(t, tf);
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

static int vnet_hdr_len(const struct memio_tunnel *t, const struct tun_file *tf)
{
    (void)t;
    (void)tf;
    return VNET_HDR_DEFAULT;
}

/* --- poll, open, close ------------------------------------------------ */

static short tun_poll(memio_file *f, short events)
{
    struct tun_file *tf = memio_file_data(f);
    short mask = 0;

    (void)events;
    if (!tf->tun || !tf->tun->exists)
        return POLLERR; /* A11, H09, H10 */
    if (tf->rxq.count)
        mask |= POLLIN | POLLRDNORM; /* H05 */
    if (tf->tun->up)
        mask |= POLLOUT | POLLWRNORM; /* H01, H03: IFF_UP, not carrier (H08) */
    return mask;
}

static int tun_open(memio_file *f, int flags)
{
    struct tun_file *tf = calloc(1, sizeof(*tf));

    (void)flags;
    if (!tf) {
        errno = ENOMEM;
        return -1;
    }
    tf->file = f;
    tf->sndbuf = INT_MAX; /* C23 */
    memio_file_set_data(f, tf);
    return 0;
}

static void tun_close(memio_file *f)
{
    struct tun_file *tf = memio_file_data(f);

    queue_detach(f->sys, tf);
    ring_free(&tf->rxq);
    free(tf);
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
};

/* --- the test side ------------------------------------------------------- */

bool mem__tun_is_file(const memio_file *f)
{
    return f->cls == &memio_tun_device;
}

struct memio_tunnel *mem__tun_of_file(const memio_file *f)
{
    const struct tun_file *tf = memio_file_data(f);
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

/* The accessors read fields fixed at creation (name, flags, ifindex) or
 * single words; they take no lock. */
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
    return t->given_flags;
}

int memio_tunnel_ifindex(const memio_tunnel *t)
{
    return t->ifindex;
}

int memio_tunnel_is_tap(const memio_tunnel *t)
{
    return is_tap(t);
}

int memio_tunnel_exists(const memio_tunnel *t)
{
    struct mem_sys *ms = t->sys;
    int r;

    mem__lock(ms);
    r = t->exists;
    mem__unlock(ms);
    return r;
}

/* Picks the queue a frame goes to.  One queue: that one.  Several (IFF_MULTI_QUEUE):
 * a deterministic hash of the frame's bytes that name its flow keeps each flow on
 * one queue, as the kernel's flow hash does (M01). */
static struct tun_file *select_queue(struct memio_tunnel *t, const uint8_t *fr, size_t len)
{
    uint32_t h = 2166136261u;
    size_t i, start = is_tap(t) ? ETH_HLEN : 0;

    if (t->numqueues == 1)
        return t->queues[0];
    /* The IPv4 protocol (byte 9), addresses and ports (12..23), when present. */
    for (i = start + 9; i < start + 24 && i < len; i++)
        if (i != start + 10 && i != start + 11)
            h = (h ^ fr[i]) * 16777619u;
    return t->queues[h % t->numqueues];
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

struct ring_slot *mem__tun_xmit_reserve(struct memio_tunnel *t, const uint8_t *head,
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

void mem__tun_xmit_commit(struct memio_tunnel *t, struct tun_file *q, struct mem_signal *sig)
{
    ring_commit(&q->rxq);
    mem__wake_all(t->sys);
    if (sig && (q->file->flags & O_ASYNC) && q->file->owner) {
        sig->pid = q->file->owner; /* I05: SIGIO to the owner under O_ASYNC */
        sig->sig = q->file->sig ? q->file->sig : SIGIO;
    }
}

int memio_tunnel_inject(memio_tunnel *t, const void *frame, size_t len)
{
    struct mem_sys *ms = t->sys;
    struct mem_signal sig = {0, 0};
    struct ring_slot *slot;
    struct tun_file *q;
    int r = -1;

    if (memio__bad_ptr(frame)) {
        errno = EFAULT;
        return -1;
    }
    if (!len) {
        errno = EINVAL;
        return -1;
    }
    if (len > INJECT_MAX + (t->flags & IFF_TAP ? ETH_HLEN : 0)) {
        errno = EMSGSIZE;
        return -1;
    }
    mem__lock(ms);
    slot = mem__tun_xmit_reserve(t, frame, len, len, &q);
    if (slot) {
        memcpy(slot->buf, frame, len);
        slot->len = len;
        mem__tun_xmit_commit(t, q, &sig);
        r = 0;
    }
    mem__unlock(ms);
    if (sig.pid)
        mem__send_signals(&sig, 1);
    return r;
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
        memcpy(buf, slot->buf, slot->len);
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

int memio_tunnel_is_up(const memio_tunnel *t)
{
    return t->up;
}

int memio_tunnel_set_carrier(memio_tunnel *t, int on)
{
    WITH_LIVE_TUNNEL(t, t->carrier = on != 0);
}

int memio_tunnel_carrier(const memio_tunnel *t)
{
    return t->carrier;
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
    return t->txqueuelen;
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
    if (mac[0] & 1) {
        errno = EADDRNOTAVAIL; /* C60 */
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
    const struct sockaddr_in *in = (const struct sockaddr_in *)addr;

    if (memio__bad_ptr(addr)) {
        errno = EFAULT;
        return -1;
    }
    if (addr->sa_family != AF_INET) {
        errno = EAFNOSUPPORT;
        return -1;
    }
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
        st->tx_queued += t->queues[i]->rxq.count;
    st->take_queued = t->takeq.count;
    mem__unlock(ms);
}

void mem__tunnels_free(struct mem_sys *ms)
{
    struct memio_tunnel *t, *next;

    for (t = ms->all_tunnels; t; t = next) {
        next = t->next_all;
        ring_free(&t->takeq);
        free(t->queues);
        free(t->scratch);
        free(t);
    }
    ms->all_tunnels = NULL;
    ms->live_tunnels = NULL;
}
