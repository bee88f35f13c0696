/*
 * netns.h — a private network namespace for tests that need the kernel's
 * own /dev/net/tun.
 *
 * A suite calls memio_test_netns_enter() once, before it starts any thread;
 * from then on every interface, address, route and neighbour the process
 * creates lives in a namespace that holds only `lo` and dies with the
 * process, so no traffic ever reaches the host's network.  When the
 * namespace cannot be had (not root, no /dev/net/tun, no unshare) the suite
 * skips, with the reason memio_test_netns_enter wrote, never passes.
 *
 * The helpers configure an interface as `ip link`, `ip addr` and
 * `ip neigh` would, with the classic ioctls on an AF_INET datagram socket.
 * Each returns 0, or -1 with errno.
 */
#ifndef MEMIO_TEST_NETNS_H
#define MEMIO_TEST_NETNS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The exit code CTest's SKIP_RETURN_CODE counts as skipped. */
#define MEMIO_TEST_SKIP 77

/* Moves the process into a new, private network namespace, makes sure it
 * holds nothing but `lo`, brings `lo` up, and sets the default for new
 * interfaces to IPv6 disabled (so that the kernel's IPv6 autoconfiguration,
 * K01/K02, does not talk on test devices).  Returns 0 when done.
 *
 * Returns -1, with a human reason in `why` (NUL-terminated, truncated to
 * whylen), when the process is not root, /dev/net/tun is missing, the
 * process already runs several threads (unshare would move only the calling
 * one), unshare(CLONE_NEWNET) fails, or the new namespace is not as
 * expected; the caller then skips (exit MEMIO_TEST_SKIP, or cmocka's skip).
 *
 * Only the first call acts; later calls return what it returned (and copy
 * its reason into `why` again).  Call it before creating threads. */
int memio_test_netns_enter(char *why, size_t whylen);

/* Sets interface `ifname` up (up != 0) or down: `ip link set up/down`. */
int memio_test_netns_set_up(const char *ifname, int up);

/* Gives `ifname` the IPv4 address `addr` (dotted quad) with a prefix of
 * `prefix_len` bits (0..32): `ip addr add addr/prefix_len dev ifname`,
 * which also creates the route to the prefix once the link is up.
 * EINVAL for a malformed address or prefix. */
int memio_test_netns_set_addr4(const char *ifname, const char *addr, int prefix_len);

/* Turns IPv6 on for `ifname` and gives it the IPv6 address `addr` with a
 * prefix of `prefix_len` bits (0..128): `ip addr add addr/len dev ifname`
 * (SIOCSIFADDR on an AF_INET6 socket).  On a TUN (IFF_NOARP) the address
 * is usable at once: addrconf skips duplicate address detection (K01).
 * With IPv6 on, the kernel sends router solicitations on the link (K01):
 * a reader must skip them.  EINVAL for a malformed address or prefix. */
int memio_test_netns_set_addr6(const char *ifname, const char *addr, int prefix_len);

/* Adds a permanent neighbour entry: IPv4 `addr` is at Ethernet address
 * `mac` on `ifname` (`ip neigh replace addr lladdr mac dev ifname nud
 * permanent`), so that the kernel sends to it without asking by ARP.  The
 * interface must be an Ethernet one (a TAP) and up: taking a link down
 * flushes its neighbours, permanent ones too. */
int memio_test_netns_add_neigh4(const char *ifname, const char *addr,
                                const uint8_t mac[6]);

/* Writes 1 to /proc/sys/net/ipv6/conf/<ifname>/disable_ipv6.  Succeeds
 * without doing anything when the kernel has no IPv6; ENODEV when there
 * is no interface `ifname`.  Do it
 * before bringing the interface up, or its first autoconfiguration frames
 * are already queued. */
int memio_test_netns_disable_ipv6(const char *ifname);

#ifdef __cplusplus
}
#endif

#endif /* MEMIO_TEST_NETNS_H */
