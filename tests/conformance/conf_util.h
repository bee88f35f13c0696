/*
 * conf_util.h — small observation helpers shared by the scenario files.
 */
#ifndef MEMIO_CONF_UTIL_H
#define MEMIO_CONF_UTIL_H

#include "conf.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#define POLL_ALL (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM)

/* Records TUNGETIFF's result and flags (and name) under `label`. */
static inline void obs_getiff(struct conf_ctx *c, const char *label, int fd)
{
    struct ifreq ifr;
    char buf[48];
    int rc;
    memset(&ifr, 0, sizeof ifr);
    rc = memio_ioctl(c->sys, fd, TUNGETIFF, &ifr);
    if (rc != 0)
        conf_observe(c, label, "%s", conf_rcstr(buf, sizeof buf, rc, errno));
    else
        conf_observe(c, label, "0 name=%.16s flags=0x%x", ifr.ifr_name,
                     (unsigned short)ifr.ifr_flags);
}

/* TUNSETIFF with name/flags on fd, recording its result, the name and flags
 * the ifreq came back with, and TUNGETIFF when it attached. */
static inline int obs_setiff(struct conf_ctx *c, int fd, const char *name, int flags)
{
    struct ifreq ifr;
    int rc = conf_setiff(c, fd, name, flags, &ifr);
    conf_rc(c, "TUNSETIFF", rc);
    conf_observe(c, "ifr after", "name=%.16s flags=0x%x", ifr.ifr_name,
                 (unsigned short)ifr.ifr_flags);
    if (rc == 0)
        obs_getiff(c, "TUNGETIFF", fd);
    return rc;
}

/* poll(fd, events, 0): "rc revents=0x..." */
static inline void obs_poll(struct conf_ctx *c, const char *label, int fd, short events)
{
    struct pollfd p = { .fd = fd, .events = events };
    int rc = memio_poll(c->sys, &p, 1, 0);
    if (rc < 0)
        conf_rc(c, label, rc);
    else
        conf_observe(c, label, "%d revents=0x%x", rc, (unsigned)(unsigned short)p.revents);
}

/* A read of up to len bytes: its result. */
static inline ssize_t obs_read(struct conf_ctx *c, const char *label, int fd, void *buf,
                               size_t len)
{
    ssize_t n = memio_read(c->sys, fd, buf, len);
    conf_rc(c, label, n);
    return n;
}

static inline void obs_exists(struct conf_ctx *c, const char *label, const char *name)
{
    conf_observe(c, label, "%s exists=%d", name, conf_exists(c, name));
}

#endif
