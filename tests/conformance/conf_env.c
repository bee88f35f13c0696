/*
 * conf_env.c — observations, the program's helpers, and the two
 * environments: what an administrator does to a kernel device (netns.h's
 * ioctls, rtnetlink for `ip link del`, /proc/net/dev for counters) and the
 * memio_tunnel_* functions that do it to a memory device.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/ethernet.h>
#include <net/if_arp.h>
#include <netinet/ip6.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "netns.h"

const uint8_t conf_peer_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
const uint8_t conf_bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* --- observations ------------------------------------------------------ */

const char *conf_errname(int err)
{
    static __thread char other[16];
    switch (err) {
#define E(x) case x: return #x
    E(EPERM); E(ENOENT); E(EINTR); E(EIO); E(ENXIO); E(E2BIG); E(EBADF); E(EAGAIN);
    E(ENOMEM); E(EACCES); E(EFAULT); E(EBUSY); E(EEXIST); E(ENODEV); E(EINVAL);
    E(ENOTTY); E(ENOSPC); E(ESPIPE); E(EMSGSIZE); E(ENOSYS); E(EOPNOTSUPP);
    E(EADDRINUSE); E(EADDRNOTAVAIL); E(ENETDOWN); E(ENETUNREACH); E(ENOBUFS);
    E(EBADFD); E(ENOLINK); E(EAFNOSUPPORT); E(EHOSTUNREACH); E(ECONNREFUSED);
    E(EDESTADDRREQ); E(ENOTCONN); E(EPROTONOSUPPORT); E(EBADMSG);
#undef E
    default:
        snprintf(other, sizeof other, "errno%d", err);
        return other;
    }
}

const char *conf_rcstr(char *buf, size_t cap, long rc, int err)
{
    if (rc >= 0)
        snprintf(buf, cap, "%ld", rc);
    else
        snprintf(buf, cap, "%ld %s", rc, conf_errname(err));
    return buf;
}

void conf_observe(struct conf_ctx *c, const char *label, const char *fmt, ...)
{
    va_list ap;
    struct conf_obs *o;
    int saved = errno;

    if (c->nobs >= CONF_MAX_OBS) {
        c->truncated = 1;
        errno = saved;
        return;
    }
    o = &c->obs[c->nobs++];
    snprintf(o->label, sizeof o->label, "%s", label);
    va_start(ap, fmt);
    vsnprintf(o->value, sizeof o->value, fmt, ap);
    va_end(ap);
    errno = saved;
}

void conf_rc(struct conf_ctx *c, const char *label, long rc)
{
    char buf[48];
    int err = errno;
    conf_observe(c, label, "%s", conf_rcstr(buf, sizeof buf, rc, err));
    errno = err;
}

void conf_obs_hex(struct conf_ctx *c, const char *label, const void *p, size_t n)
{
    char hex[160];
    const uint8_t *b = p;
    size_t i;
    for (i = 0; i < n && 2 * i + 2 < sizeof hex; i++)
        snprintf(hex + 2 * i, 3, "%02x", b[i]);
    hex[2 * i] = '\0';
    conf_observe(c, label, "%s", hex);
}

/* --- the program's side ------------------------------------------------ */

static void track_fd(struct conf_ctx *c, int fd)
{
    if (fd >= 0 && c->nfds < CONF_MAX_FDS)
        c->fds[c->nfds++] = fd;
}

void conf_forget(struct conf_ctx *c, int fd)
{
    for (int i = 0; i < c->nfds; i++) {
        if (c->fds[i] == fd) {
            c->fds[i] = c->fds[--c->nfds];
            return;
        }
    }
}

int conf_open(struct conf_ctx *c, int flags)
{
    int fd = memio_open(c->sys, CONF_TUN_PATH, flags);
    track_fd(c, fd);
    return fd;
}

int conf_close(struct conf_ctx *c, int fd)
{
    int rc = memio_close(c->sys, fd);
    int err = errno;
    conf_forget(c, fd);
    errno = err;
    return rc;
}

static void track_name(struct conf_ctx *c, const char *name)
{
    for (int i = 0; i < c->nnames; i++)
        if (strcmp(c->names[i], name) == 0)
            return;
    if (c->nnames < CONF_MAX_NAMES)
        snprintf(c->names[c->nnames++], IFNAMSIZ, "%s", name);
}

int conf_setiff(struct conf_ctx *c, int fd, const char *name, int flags, struct ifreq *out)
{
    struct ifreq ifr;
    int rc, err;

    memset(&ifr, 0, sizeof ifr);
    if (name)
        memcpy(ifr.ifr_name, name, strnlen(name, IFNAMSIZ));
    ifr.ifr_flags = (short)flags;
    rc = memio_ioctl(c->sys, fd, TUNSETIFF, &ifr);
    err = errno;
    if (rc == 0)
        track_name(c, ifr.ifr_name);
    if (out)
        *out = ifr;
    errno = err;
    return rc;
}

int conf_dev(struct conf_ctx *c, const char *name, int flags, char *name_out)
{
    struct ifreq ifr;
    int fd = conf_open(c, O_RDWR | O_NONBLOCK);
    if (fd < 0) {
        conf_rc(c, "setup open", fd);
        return -1;
    }
    if (conf_setiff(c, fd, name, flags, &ifr) != 0) {
        conf_rc(c, "setup TUNSETIFF", -1);
        return -1;
    }
    if (name_out)
        memcpy(name_out, ifr.ifr_name, IFNAMSIZ);
    return fd;
}

int conf_dev_up(struct conf_ctx *c, const char *name, int flags)
{
    int fd = conf_dev(c, name, flags, NULL);
    if (fd >= 0 && conf_link(c, name, 1) != 0) {
        conf_rc(c, "setup link up", -1);
        return -1;
    }
    return fd;
}

int conf_dev_net(struct conf_ctx *c, const char *name, int flags, const char *local,
                 const char *peer)
{
    int fd = conf_dev(c, name, flags, NULL);
    if (fd < 0)
        return -1;
    if (conf_addr(c, name, local, 24) != 0 || conf_link(c, name, 1) != 0) {
        conf_rc(c, "setup addr/up", -1);
        return -1;
    }
    /* Neighbours are flushed while a link is down, so this comes after up. */
    if ((flags & (IFF_TUN | IFF_TAP)) == IFF_TAP && peer &&
        conf_neigh(c, name, peer, conf_peer_mac) != 0) {
        conf_rc(c, "setup neigh", -1);
        return -1;
    }
    return fd;
}

int conf_wait(struct conf_ctx *c, int fd, short events, int timeout_ms)
{
    struct pollfd p = { .fd = fd, .events = events };
    if (memio_poll(c->sys, &p, 1, timeout_ms) <= 0)
        return 0;
    return p.revents;
}

ssize_t conf_read_wait(struct conf_ctx *c, int fd, void *buf, size_t len, int timeout_ms)
{
    conf_wait(c, fd, POLLIN, timeout_ms);
    return memio_read(c->sys, fd, buf, len);
}

/* --- the environment --------------------------------------------------- */

/* The memory tunnel named ifname, or NULL with errno. */
static memio_tunnel *mem_tunnel(struct conf_ctx *c, const char *ifname)
{
    return memio_tunnel_lookup(c->sys, ifname);
}

/* Runs a classic interface ioctl on a throwaway socket. */
static int sock_ioctl(unsigned long req, struct ifreq *ifr)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc, err;
    if (s < 0)
        return -1;
    rc = ioctl(s, req, ifr);
    err = errno;
    close(s);
    errno = err;
    return rc < 0 ? -1 : 0;
}

int conf_link(struct conf_ctx *c, const char *ifname, int up)
{
    memio_tunnel *t;
    if (c->os)
        return memio_test_netns_set_up(ifname, up);
    t = mem_tunnel(c, ifname);
    return t ? memio_tunnel_set_up(t, up) : -1;
}

int conf_addr(struct conf_ctx *c, const char *ifname, const char *addr, int prefix)
{
    struct sockaddr_in sin = { .sin_family = AF_INET };
    memio_tunnel *t;
    if (c->os)
        return memio_test_netns_set_addr4(ifname, addr, prefix);
    t = mem_tunnel(c, ifname);
    if (!t || inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
        return -1;
    return memio_tunnel_set_address(t, (struct sockaddr *)&sin, sizeof sin, prefix);
}

int conf_neigh(struct conf_ctx *c, const char *ifname, const char *addr,
               const uint8_t mac[6])
{
    /* The memory device has no neighbour table: it addresses the MAC the
     * program last sent from (a documented difference). */
    if (c->os)
        return memio_test_netns_add_neigh4(ifname, addr, mac);
    return mem_tunnel(c, ifname) ? 0 : -1;
}

int conf_set_txqlen(struct conf_ctx *c, const char *ifname, unsigned n)
{
    struct ifreq ifr;
    memio_tunnel *t;
    if (c->os) {
        memset(&ifr, 0, sizeof ifr);
        snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
        ifr.ifr_qlen = (int)n;
        return sock_ioctl(SIOCSIFTXQLEN, &ifr);
    }
    t = mem_tunnel(c, ifname);
    return t ? memio_tunnel_set_txqueuelen(t, n) : -1;
}

long conf_txqlen(struct conf_ctx *c, const char *ifname)
{
    struct ifreq ifr;
    memio_tunnel *t;
    if (c->os) {
        memset(&ifr, 0, sizeof ifr);
        snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
        if (sock_ioctl(SIOCGIFTXQLEN, &ifr) != 0)
            return -1;
        return ifr.ifr_qlen;
    }
    t = mem_tunnel(c, ifname);
    return t ? (long)memio_tunnel_txqueuelen(t) : -1;
}

/* `ip link del`: RTM_DELLINK by index over rtnetlink, waiting for the ack. */
static int os_del(const char *ifname)
{
    struct {
        struct nlmsghdr nh;
        struct ifinfomsg ifi;
    } req;
    char ack[512];
    struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
    unsigned idx = if_nametoindex(ifname);
    int s, rc = -1, err = 0;
    ssize_t n;

    if (idx == 0) {
        errno = ENODEV;
        return -1;
    }
    s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (s < 0)
        return -1;
    memset(&req, 0, sizeof req);
    req.nh.nlmsg_len = sizeof req;
    req.nh.nlmsg_type = RTM_DELLINK;
    req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    req.nh.nlmsg_seq = 1;
    req.ifi.ifi_family = AF_UNSPEC;
    req.ifi.ifi_index = (int)idx;
    if (sendto(s, &req, sizeof req, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) {
        err = errno;
        goto out;
    }
    n = recv(s, ack, sizeof ack, 0);
    if (n < (ssize_t)(sizeof(struct nlmsghdr) + sizeof(struct nlmsgerr))) {
        err = n < 0 ? errno : EIO;
        goto out;
    }
    {
        struct nlmsghdr *h = (struct nlmsghdr *)ack;
        struct nlmsgerr *e = NLMSG_DATA(h);
        if (h->nlmsg_type != NLMSG_ERROR) {
            err = EIO;
            goto out;
        }
        if (e->error != 0) {
            err = -e->error;
            goto out;
        }
    }
    rc = 0;
out:
    close(s);
    errno = err;
    return rc;
}

int conf_del(struct conf_ctx *c, const char *ifname)
{
    memio_tunnel *t;
    if (c->os)
        return os_del(ifname);
    t = mem_tunnel(c, ifname);
    return t ? memio_tunnel_delete(t) : -1;
}

int conf_exists(struct conf_ctx *c, const char *ifname)
{
    memio_tunnel *t;
    if (c->os)
        return if_nametoindex(ifname) != 0;
    if (strcmp(ifname, "lo") == 0)
        return 1;
    t = mem_tunnel(c, ifname);
    return t && memio_tunnel_exists(t);
}

int conf_ifindex(struct conf_ctx *c, const char *ifname)
{
    memio_tunnel *t;
    if (c->os) {
        unsigned i = if_nametoindex(ifname);
        return i ? (int)i : -1;
    }
    t = mem_tunnel(c, ifname);
    return t ? memio_tunnel_ifindex(t) : -1;
}

/* /proc/net/dev follows the reading thread's network namespace. */
static int os_stats(const char *ifname, struct conf_stats *st)
{
    char line[512];
    FILE *f = fopen("/proc/net/dev", "re");
    int found = 0;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':'), *name = line;
        unsigned long long v[16];
        if (!colon)
            continue;
        *colon = '\0';
        while (*name == ' ')
            name++;
        if (strcmp(name, ifname) != 0)
            continue;
        if (sscanf(colon + 1,
                   "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu "
                   "%llu %llu",
                   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9],
                   &v[10], &v[11], &v[12], &v[13], &v[14], &v[15]) == 16) {
            st->rx_packets = v[1];
            st->rx_dropped = v[3];
            st->tx_packets = v[9];
            st->tx_dropped = v[11];
            found = 1;
        }
        break;
    }
    fclose(f);
    if (!found) {
        errno = ENODEV;
        return -1;
    }
    return 0;
}

int conf_stats(struct conf_ctx *c, const char *ifname, struct conf_stats *st)
{
    memio_tunnel_stats ms;
    memio_tunnel *t;
    memset(st, 0, sizeof *st);
    if (c->os)
        return os_stats(ifname, st);
    t = mem_tunnel(c, ifname);
    if (!t)
        return -1;
    memio_tunnel_stats_get(t, &ms);
    st->rx_packets = ms.rx_packets;
    st->rx_dropped = ms.rx_dropped;
    st->tx_packets = ms.tx_packets;
    st->tx_dropped = ms.tx_dropped;
    return 0;
}

void conf_settle_carrier(struct conf_ctx *c, const char *ifname, int on)
{
    struct timespec tick = { 0, 20 * 1000 * 1000 };
    if (!c->os)
        return;
    /* IFF_RUNNING follows the operstate, which linkwatch updates up to a
     * second after the carrier changes (E12). */
    for (int i = 0; i < 150; i++) {
        struct ifreq ifr;
        memset(&ifr, 0, sizeof ifr);
        snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
        if (sock_ioctl(SIOCGIFFLAGS, &ifr) != 0)
            return;
        if (!!(ifr.ifr_flags & IFF_RUNNING) == !!on)
            return;
        nanosleep(&tick, NULL);
    }
}

int conf_send(struct conf_ctx *c, const char *dst, uint16_t port, const void *payload,
              size_t len, struct sockaddr_in *from)
{
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
    struct sockaddr_storage ss;
    int rc, err;
    inet_pton(AF_INET, dst, &to.sin_addr);
    memset(&ss, 0, sizeof ss);
    rc = memio_send_udp(c->sys, payload, len, (struct sockaddr *)&to, sizeof to, &ss);
    err = errno;
    if (from)
        memcpy(from, &ss, sizeof *from);
    errno = err;
    return rc;
}

int conf_recv_open(struct conf_ctx *c, int tunfd, const char *addr, uint16_t port)
{
    struct sockaddr_in at = { .sin_family = AF_INET, .sin_port = htons(port) };
    int fd, fl;
    inet_pton(AF_INET, addr, &at.sin_addr);
    fd = memio_receive_udp(c->sys, tunfd, (struct sockaddr *)&at, sizeof at);
    if (fd < 0)
        return -1;
    track_fd(c, fd);
    fl = memio_fcntl(c->sys, fd, F_GETFL);
    memio_fcntl(c->sys, fd, F_SETFL, fl | O_NONBLOCK);
    return fd;
}

void conf_recv_obs(struct conf_ctx *c, const char *label, int rfd, int wait_ms)
{
    uint8_t buf[70000];
    ssize_t n;
    conf_wait(c, rfd, POLLIN, wait_ms);
    n = memio_read(c->sys, rfd, buf, sizeof buf);
    if (n < 0)
        conf_observe(c, label, "nothing");
    else
        conf_observe(c, label, "%zd bytes", n);
}

/* --- packets ----------------------------------------------------------- */

size_t conf_udp4(uint8_t *buf, size_t cap, const char *src, uint16_t sport, const char *dst,
                 uint16_t dport, const void *payload, size_t len)
{
    struct sockaddr_in s = { .sin_family = AF_INET, .sin_port = htons(sport) };
    struct sockaddr_in d = { .sin_family = AF_INET, .sin_port = htons(dport) };
    ssize_t n;
    inet_pton(AF_INET, src, &s.sin_addr);
    inet_pton(AF_INET, dst, &d.sin_addr);
    n = memio_packet_udp4(buf, cap, &s, &d, 0x1234, payload, len);
    return n < 0 ? 0 : (size_t)n;
}

size_t conf_udp6(uint8_t *buf, size_t cap, const char *src, const char *dst, uint16_t sport,
                 uint16_t dport, const void *payload, size_t len, int csum_override,
                 uint16_t csum)
{
    /* Built by memio's own codec, so that the kernel half checks it too:
     * a datagram it builds must reach a real socket (the packets issue's
     * "verified against the real kernel"). */
    struct sockaddr_in6 s = { .sin6_family = AF_INET6, .sin6_port = htons(sport) };
    struct sockaddr_in6 d = { .sin6_family = AF_INET6, .sin6_port = htons(dport) };
    ssize_t n;

    inet_pton(AF_INET6, src, &s.sin6_addr);
    inet_pton(AF_INET6, dst, &d.sin6_addr);
    n = memio_packet_udp6(buf, cap, &s, &d, payload, len);
    if (n < 0)
        return 0;
    if (csum_override) {
        buf[46] = (uint8_t)(csum >> 8);
        buf[47] = (uint8_t)csum;
    }
    return (size_t)n;
}

size_t conf_eth(uint8_t *buf, size_t len, const uint8_t dst[6], const uint8_t src[6],
                uint16_t type)
{
    memmove(buf + 14, buf, len);
    memcpy(buf, dst, 6);
    memcpy(buf + 6, src, 6);
    buf[12] = (uint8_t)(type >> 8);
    buf[13] = (uint8_t)type;
    return len + 14;
}

size_t conf_pi(uint8_t *buf, size_t len, uint16_t flags, uint16_t proto)
{
    struct tun_pi pi = { .flags = flags, .proto = htons(proto) };
    memmove(buf + 4, buf, len);
    memcpy(buf, &pi, 4);
    return len + 4;
}

int conf_mac(struct conf_ctx *c, int fd, uint8_t mac[6])
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    if (memio_ioctl(c->sys, fd, SIOCGIFHWADDR, &ifr) != 0)
        return -1;
    memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
    return 0;
}
