/*
 * netns.c — the private network namespace of the tests that use the kernel's
 * /dev/net/tun, and the few `ip` commands they need, done with ioctls.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* unshare, CLONE_NEWNET */
#endif
#include "netns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* The outcome of the first memio_test_netns_enter, replayed by later calls. */
static int entered_state; /* 0: not tried, 1: inside, -1: refused */
static char entered_why[256];

/* Writes a formatted reason into the caller's buffer (when it has room)
 * and into entered_why for later calls. */
static int refuse(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(entered_why, sizeof entered_why, fmt, ap);
    va_end(ap);
    if (why && whylen > 0)
        snprintf(why, whylen, "%s", entered_why);
    entered_state = -1;
    return -1;
}

/* The number of threads of this process, from /proc/self/status; -1 when
 * it cannot be read. */
static int thread_count(void)
{
    char line[256];
    int n = -1;
    FILE *f = fopen("/proc/self/status", "re");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "Threads: %d", &n) == 1)
            break;
    }
    fclose(f);
    return n;
}

/* Writes `value` to a /proc/sys file.  0, or -1 with errno. */
static int write_proc(const char *path, const char *value)
{
    size_t len = strlen(value);
    ssize_t n;
    int saved;
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    n = write(fd, value, len);
    saved = errno;
    close(fd);
    if (n < 0) {
        errno = saved;
        return -1;
    }
    if ((size_t)n != len) {
        errno = EIO;
        return -1;
    }
    return 0;
}

/* Copies ifname into ifr_name: EINVAL unless it is a possible interface
 * name (1..15 bytes, no '/', which also keeps /proc paths built from it
 * inside their directory). */
static int set_ifname(struct ifreq *ifr, const char *ifname)
{
    size_t len;
    if (!ifname) {
        errno = EFAULT;
        return -1;
    }
    len = strlen(ifname);
    if (len == 0 || len >= IFNAMSIZ || strchr(ifname, '/') ||
        strcmp(ifname, ".") == 0 || strcmp(ifname, "..") == 0) {
        errno = EINVAL;
        return -1;
    }
    memset(ifr, 0, sizeof *ifr);
    memcpy(ifr->ifr_name, ifname, len);
    return 0;
}

/* Runs one interface ioctl on a throwaway AF_INET datagram socket, the
 * socket the classic SIOC* requests are made on.  0, or -1 with errno. */
static int inet_ioctl(unsigned long request, void *arg)
{
    int rc, saved;
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -1;
    rc = ioctl(s, request, arg);
    saved = errno;
    close(s);
    errno = saved;
    return rc < 0 ? -1 : 0;
}

/* Parses a dotted quad into a sockaddr_in.  0, or -1 with EINVAL. */
static int parse_addr4(const char *addr, struct sockaddr_in *out)
{
    if (!addr) {
        errno = EFAULT;
        return -1;
    }
    memset(out, 0, sizeof *out);
    out->sin_family = AF_INET;
    if (inet_pton(AF_INET, addr, &out->sin_addr) != 1) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

/* Refuses unless the namespace holds exactly one interface, `lo`: a
 * namespace that holds more is not the fresh one this file made, and tests
 * must not put traffic on someone else's interfaces. */
static int check_only_lo(char *why, size_t whylen)
{
    struct if_nameindex *ifs = if_nameindex();
    int count = 0, has_lo = 0;
    char first_other[IFNAMSIZ] = "";
    if (!ifs)
        return refuse(why, whylen, "cannot list interfaces in the new namespace: %s",
                      strerror(errno));
    for (struct if_nameindex *p = ifs; p->if_index != 0; p++) {
        count++;
        if (strcmp(p->if_name, "lo") == 0)
            has_lo = 1;
        else if (!first_other[0])
            snprintf(first_other, sizeof first_other, "%s", p->if_name);
    }
    if_freenameindex(ifs);
    if (count != 1 || !has_lo)
        return refuse(why, whylen,
                      "the new network namespace is not empty (%d interfaces%s%s); "
                      "refusing to run tests in it",
                      count, first_other[0] ? ", e.g. " : "", first_other);
    return 0;
}

int memio_test_netns_enter(char *why, size_t whylen)
{
    int threads;

    if (entered_state != 0) {
        if (entered_state < 0 && why && whylen > 0)
            snprintf(why, whylen, "%s", entered_why);
        return entered_state > 0 ? 0 : -1;
    }
    if (why && whylen > 0)
        why[0] = '\0';

    if (geteuid() != 0)
        return refuse(why, whylen,
                      "not root (euid %u): cannot create a network namespace",
                      (unsigned)geteuid());
    if (access("/dev/net/tun", F_OK) != 0)
        return refuse(why, whylen, "/dev/net/tun is missing: %s", strerror(errno));
    /* unshare(CLONE_NEWNET) moves only the calling thread: any other thread
     * would stay on the host's network, where tests must never send. */
    threads = thread_count();
    if (threads != 1)
        return refuse(why, whylen,
                      threads < 0 ? "cannot count this process's threads"
                                  : "the process already runs %d threads; enter the "
                                    "namespace before starting any",
                      threads);
    if (unshare(CLONE_NEWNET) != 0)
        return refuse(why, whylen, "unshare(CLONE_NEWNET) failed: %s", strerror(errno));

    /* /proc/sys/net follows the net namespace of whoever opens it, so no
     * mount namespace or remount is needed.  New interfaces are born with
     * IPv6 off, so they stay silent (K01/K02 are IPv6 traffic). */
    if (write_proc("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1") != 0 &&
        errno != ENOENT)
        return refuse(why, whylen, "cannot disable IPv6 by default in the namespace: %s",
                      strerror(errno));
    if (check_only_lo(why, whylen) != 0)
        return -1;
    if (memio_test_netns_set_up("lo", 1) != 0)
        return refuse(why, whylen, "cannot bring lo up in the namespace: %s",
                      strerror(errno));
    entered_state = 1;
    return 0;
}

int memio_test_netns_set_up(const char *ifname, int up)
{
    struct ifreq ifr;
    if (set_ifname(&ifr, ifname) != 0)
        return -1;
    if (inet_ioctl(SIOCGIFFLAGS, &ifr) != 0)
        return -1;
    if (up)
        ifr.ifr_flags |= IFF_UP;
    else
        ifr.ifr_flags &= ~IFF_UP;
    return inet_ioctl(SIOCSIFFLAGS, &ifr);
}

int memio_test_netns_set_addr4(const char *ifname, const char *addr, int prefix_len)
{
    struct ifreq ifr;
    struct sockaddr_in sin;
    uint32_t mask;

    if (set_ifname(&ifr, ifname) != 0 || parse_addr4(addr, &sin) != 0)
        return -1;
    if (prefix_len < 0 || prefix_len > 32) {
        errno = EINVAL;
        return -1;
    }
    /* SIOCSIFADDR gives the address its classful mask; SIOCSIFNETMASK then
     * replaces it, and the kernel rebuilds the prefix route. */
    memcpy(&ifr.ifr_addr, &sin, sizeof sin);
    if (inet_ioctl(SIOCSIFADDR, &ifr) != 0)
        return -1;
    mask = prefix_len == 0 ? 0 : 0xffffffffu << (32 - prefix_len);
    sin.sin_addr.s_addr = htonl(mask);
    memcpy(&ifr.ifr_netmask, &sin, sizeof sin);
    return inet_ioctl(SIOCSIFNETMASK, &ifr);
}

/* Waits (up to 3 s) until the IPv6 address is listed and no longer
 * tentative (IFA_F_TENTATIVE 0x40 in /proc/net/if_inet6): even without
 * duplicate address detection, addrconf clears the flag from a work queue,
 * and a tentative address can be neither bound nor chosen as a source. */
static int wait_addr6_ready(const struct in6_addr *a)
{
    char want[33], line[256], hex[40];
    unsigned idx, plen, scope, flags;
    int i, tries;

    for (i = 0; i < 16; i++)
        snprintf(want + 2 * i, 3, "%02x", a->s6_addr[i]);
    for (tries = 0; tries < 300; tries++) {
        FILE *f = fopen("/proc/net/if_inet6", "r");
        int ready = 0;
        if (!f)
            return -1;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "%39s %x %x %x %x", hex, &idx, &plen, &scope, &flags) == 5 &&
                strcmp(hex, want) == 0 && !(flags & 0x40))
                ready = 1;
        fclose(f);
        if (ready)
            return 0;
        usleep(10000);
    }
    errno = ETIMEDOUT;
    return -1;
}

int memio_test_netns_set_addr6(const char *ifname, const char *addr, int prefix_len)
{
    /* <linux/ipv6.h>'s struct in6_ifreq, which glibc does not declare. */
    struct {
        struct in6_addr addr;
        uint32_t prefix_len;
        int ifindex;
    } req;
    struct ifreq ifr;
    char path[64 + IFNAMSIZ];
    int s, rc, err;

    if (set_ifname(&ifr, ifname) != 0)
        return -1;
    if (prefix_len < 0 || prefix_len > 128 || !addr) {
        errno = EINVAL;
        return -1;
    }
    memset(&req, 0, sizeof req);
    if (inet_pton(AF_INET6, addr, &req.addr) != 1) {
        errno = EINVAL;
        return -1;
    }
    snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifr.ifr_name);
    if (write_proc(path, "0") != 0)
        return -1;
    req.prefix_len = (uint32_t)prefix_len;
    req.ifindex = (int)if_nametoindex(ifr.ifr_name);
    if (!req.ifindex)
        return -1;
    s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -1;
    rc = ioctl(s, SIOCSIFADDR, &req);
    err = errno;
    close(s);
    errno = err;
    if (rc != 0)
        return rc;
    return wait_addr6_ready(&req.addr);
}

int memio_test_netns_add_neigh4(const char *ifname, const char *addr,
                                const uint8_t mac[6])
{
    struct arpreq req;
    struct ifreq ifr;
    struct sockaddr_in sin;

    if (set_ifname(&ifr, ifname) != 0 || parse_addr4(addr, &sin) != 0)
        return -1;
    if (!mac) {
        errno = EFAULT;
        return -1;
    }
    memset(&req, 0, sizeof req);
    memcpy(&req.arp_pa, &sin, sizeof sin);
    req.arp_ha.sa_family = ARPHRD_ETHER;
    memcpy(req.arp_ha.sa_data, mac, 6);
    /* ATF_COM: the address is known (no resolution); ATF_PERM: it never
     * ages out. */
    req.arp_flags = ATF_PERM | ATF_COM;
    memcpy(req.arp_dev, ifr.ifr_name, sizeof req.arp_dev);
    return inet_ioctl(SIOCSARP, &req);
}

int memio_test_netns_disable_ipv6(const char *ifname)
{
    struct ifreq ifr;
    char path[64 + IFNAMSIZ];

    if (set_ifname(&ifr, ifname) != 0)
        return -1;
    snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifr.ifr_name);
    if (write_proc(path, "1") == 0)
        return 0;
    if (errno != ENOENT)
        return -1;
    /* ENOENT means no IPv6 in this kernel, or no such interface: only the
     * first is success. */
    if (access("/proc/sys/net/ipv6", F_OK) != 0)
        return 0;
    errno = ENODEV;
    return -1;
}
