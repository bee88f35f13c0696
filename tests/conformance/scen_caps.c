/*
 * scen_caps.c — rows L01-L09: what a process without CAP_NET_ADMIN may do
 * with /dev/net/tun.  The kernel's half drops CAP_NET_ADMIN from the
 * calling thread's effective set (capabilities are per thread) and raises
 * it again from the permitted set afterwards; the memory half says the same
 * with memio_sys_set_credentials.  The devices are made beforehand, with
 * the capability, as `ip tuntap add ... user/group` would.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/if_tun.h>

#include "conf.h"
#include "conf_util.h"

#define NP (IFF_TUN | IFF_NO_PI)

/* Turns CAP_NET_ADMIN in the effective set off or on (it stays permitted). */
static int net_admin(struct conf_ctx *c, int on)
{
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct d[2];

    if (!c->os) {
        memio_sys_set_credentials(c->sys, geteuid(), getegid(), on);
        return 0;
    }
    memset(d, 0, sizeof d);
    if (syscall(SYS_capget, &h, d) != 0)
        return -1;
    if (on)
        d[CAP_NET_ADMIN / 32].effective |= 1u << (CAP_NET_ADMIN % 32);
    else
        d[CAP_NET_ADMIN / 32].effective &= ~(1u << (CAP_NET_ADMIN % 32));
    return (int)syscall(SYS_capset, &h, d);
}

/* A persistent device with no descriptor: owner and group as given (-1
 * for none), made while the capability is held. */
static int persistent_dev(struct conf_ctx *c, const char *name, long owner, long group)
{
    int fd = conf_dev(c, name, NP, NULL);
    if (fd < 0)
        return -1;
    if (memio_ioctl(c->sys, fd, TUNSETPERSIST, 1UL) != 0 ||
        (owner >= 0 && memio_ioctl(c->sys, fd, TUNSETOWNER, (unsigned long)owner) != 0) ||
        (group >= 0 && memio_ioctl(c->sys, fd, TUNSETGROUP, (unsigned long)group) != 0)) {
        conf_rc(c, "setup persist/owner/group", -1);
        return -1;
    }
    conf_close(c, fd);
    return 0;
}

/* Runs the L rows in one scenario each; every one ends with the
 * capability back, whatever happened. */
static void attach_without_cap(struct conf_ctx *c, const char *label, const char *name)
{
    int fd = conf_open(c, O_RDWR | O_NONBLOCK);
    conf_rc(c, label, conf_setiff(c, fd, name, NP, NULL));
}

static void scen_L01(struct conf_ctx *c)
{
    if (net_admin(c, 0) != 0) {
        conf_rc(c, "drop CAP_NET_ADMIN", -1);
        return;
    }
    conf_rc(c, "open", conf_open(c, O_RDWR | O_NONBLOCK) >= 0 ? 0 : -1);
    net_admin(c, 1);
}

static void scen_L02(struct conf_ctx *c)
{
    net_admin(c, 0);
    attach_without_cap(c, "TUNSETIFF new device", "capnew0");
    net_admin(c, 1);
}

/* L03-L05: a persistent device with no owner or group can be attached, its
 * owner changed and its persistence cleared, all without the capability. */
static void scen_L03(struct conf_ctx *c)
{
    int fd;
    if (persistent_dev(c, "capfree0", -1, -1) != 0)
        return;
    net_admin(c, 0);
    fd = conf_open(c, O_RDWR | O_NONBLOCK);
    conf_rc(c, "attach", conf_setiff(c, fd, "capfree0", NP, NULL));
    conf_rc(c, "TUNSETOWNER 4321 (L04)", memio_ioctl(c->sys, fd, TUNSETOWNER, 4321UL));
    conf_rc(c, "TUNSETPERSIST 0 (L05)", memio_ioctl(c->sys, fd, TUNSETPERSIST, 0UL));
    conf_rc(c, "TUNGETDEVNETNS (L09)", memio_ioctl(c->sys, fd, TUNGETDEVNETNS));
    net_admin(c, 1);
    conf_close(c, fd);
    conf_observe(c, "exists after close (L10)", "%d", conf_exists(c, "capfree0"));
}

static void scen_L06(struct conf_ctx *c)
{
    if (persistent_dev(c, "cap1000", 1000, -1) != 0)
        return;
    net_admin(c, 0);
    attach_without_cap(c, "attach, owner 1000", "cap1000");
    net_admin(c, 1);
}

static void scen_L07(struct conf_ctx *c)
{
    if (persistent_dev(c, "capown0", (long)geteuid(), -1) != 0)
        return;
    net_admin(c, 0);
    attach_without_cap(c, "attach, owner is us", "capown0");
    net_admin(c, 1);
}

static void scen_L08(struct conf_ctx *c)
{
    if (persistent_dev(c, "capgrp0", -1, 1000) != 0)
        return;
    net_admin(c, 0);
    attach_without_cap(c, "attach, group 1000", "capgrp0");
    net_admin(c, 1);
}

const struct conf_scenario conf_scen_caps[] = {
    CONF_SCEN(L01, "without CAP_NET_ADMIN: open /dev/net/tun"),
    CONF_SCEN(L02, "without CAP_NET_ADMIN: TUNSETIFF creating a device"),
    CONF_SCEN(L03, "without CAP_NET_ADMIN: attach a persistent device with no owner, change it"),
    CONF_SCEN(L06, "without CAP_NET_ADMIN: attach a persistent device owned by uid 1000"),
    CONF_SCEN(L07, "without CAP_NET_ADMIN: attach a persistent device owned by us"),
    CONF_SCEN(L08, "without CAP_NET_ADMIN: attach a persistent device of group 1000"),
    CONF_END,
};
