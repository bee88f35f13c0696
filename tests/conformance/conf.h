/*
 * conf.h — the conformance suite: the same scenarios on the kernel's
 * /dev/net/tun (memio_sys_os(), inside a private network namespace) and on
 * the memory device (memio_sys_memory()), their observations compared.
 *
 * A scenario is a function `void scen_X(struct conf_ctx *c)` written once
 * against memio_sys.  It does what the program does with memio_* calls on
 * c->sys, and what the administrator or the network does through the
 * conf_* environment helpers below, which are the only place the two
 * systems differ: on os they are `ip link`, `ip addr`, `ip neigh`, sysfs-like
 * counters and real UDP sockets; on memory the memio_tunnel_* functions.
 *
 * What a scenario learns it records as named observations
 * (conf_observe(c, "write", "-1 EIO")).  The runner compares the two lists
 * label by label; a difference fails unless the table of deliberate
 * differences (differences.c) lists it with its reason.  Values that are
 * random on the kernel (MACs, ifindexes, ports, IP ids) are observed as
 * properties, never raw.
 */
#ifndef MEMIO_CONF_H
#define MEMIO_CONF_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <memio/memio.h>

#define CONF_TUN_PATH "/dev/net/tun"
#define CONF_MAX_OBS 96
#define CONF_MAX_FDS 64
#define CONF_MAX_NAMES 16

/* One named observation. */
struct conf_obs {
    char label[48];
    char value[160];
};

/* The counters the environment can read for an interface; the kernel's
 * names and directions (tx: toward the program, rx: from it). */
struct conf_stats {
    uint64_t rx_packets, rx_dropped, tx_packets, tx_dropped;
};

/* The state of one scenario on one system. */
struct conf_ctx {
    memio_sys *sys;
    int os; /* nonzero on the kernel's side */
    struct conf_obs obs[CONF_MAX_OBS];
    int nobs;
    int truncated;          /* more observations than CONF_MAX_OBS */
    int fds[CONF_MAX_FDS];  /* descriptors to close when the scenario ends */
    int nfds;
    char names[CONF_MAX_NAMES][IFNAMSIZ]; /* devices to delete at the end */
    int nnames;
};

/* --- observations ------------------------------------------------------ */

/* Records `label` = the formatted value. */
void conf_observe(struct conf_ctx *c, const char *label, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Records a system call's result: "N" when rc >= 0, else "-1 ENAME" from
 * errno, which must be the call's (pass the call itself as `rc`). */
void conf_rc(struct conf_ctx *c, const char *label, long rc);
/* "EINVAL" for EINVAL; a number for an errno it does not know. */
const char *conf_errname(int err);
/* Formats rc/errno as conf_rc records it. */
const char *conf_rcstr(char *buf, size_t cap, long rc, int err);

/* --- the program's side (memio calls, descriptors tracked) -------------- */

/* memio_open of /dev/net/tun with `flags`; the descriptor is closed when the
 * scenario ends.  -1 with errno on failure. */
int conf_open(struct conf_ctx *c, int flags);
/* Forgets a descriptor the scenario closed itself (so the end does not
 * close it again; on os the number could have been reused). */
void conf_forget(struct conf_ctx *c, int fd);
/* memio_close and forget. */
int conf_close(struct conf_ctx *c, int fd);
/* TUNSETIFF on fd with name (NULL: "") and flags; the ifreq as the kernel
 * left it in *out when out is not NULL.  The device is deleted when the
 * scenario ends if it still exists.  Returns the ioctl's result. */
int conf_setiff(struct conf_ctx *c, int fd, const char *name, int flags, struct ifreq *out);
/* open(O_RDWR|O_NONBLOCK) + TUNSETIFF; on failure records "setup" and
 * returns -1.  The device's real name goes to name_out when not NULL. */
int conf_dev(struct conf_ctx *c, const char *name, int flags, char *name_out);
/* conf_dev, link up. */
int conf_dev_up(struct conf_ctx *c, const char *name, int flags);
/* conf_dev, IPv4 `local`/24 on it, link up, and on a TAP a static neighbour
 * `peer` at conf_peer_mac: ready for traffic both ways. */
int conf_dev_net(struct conf_ctx *c, const char *name, int flags, const char *local,
                 const char *peer);
/* Polls fd for `events` with timeout; returns revents (0 on timeout). */
int conf_wait(struct conf_ctx *c, int fd, short events, int timeout_ms);
/* Waits up to timeout_ms for fd to be readable, then reads once. */
ssize_t conf_read_wait(struct conf_ctx *c, int fd, void *buf, size_t len, int timeout_ms);

/* --- the administrator's and the network's side (environment) ---------- */

int conf_link(struct conf_ctx *c, const char *ifname, int up);
int conf_addr(struct conf_ctx *c, const char *ifname, const char *addr, int prefix);
int conf_neigh(struct conf_ctx *c, const char *ifname, const char *addr,
               const uint8_t mac[6]);
int conf_set_txqlen(struct conf_ctx *c, const char *ifname, unsigned n);
long conf_txqlen(struct conf_ctx *c, const char *ifname);
/* `ip link del`; 0, or -1 with errno. */
int conf_del(struct conf_ctx *c, const char *ifname);
/* 1 when an interface of that name exists. */
int conf_exists(struct conf_ctx *c, const char *ifname);
/* The interface index, or -1. */
int conf_ifindex(struct conf_ctx *c, const char *ifname);
int conf_stats(struct conf_ctx *c, const char *ifname, struct conf_stats *st);
/* Waits until the kernel has applied a carrier change (linkwatch); no-op
 * in memory. */
void conf_settle_carrier(struct conf_ctx *c, const char *ifname, int on);
/* The kernel transmits one UDP datagram to dst:port (memio_send_udp); its
 * source goes to *from when not NULL.  Returns memio_send_udp's result. */
int conf_send(struct conf_ctx *c, const char *dst, uint16_t port, const void *payload,
              size_t len, struct sockaddr_in *from);
/* A receive descriptor at addr:port (memio_receive_udp), non-blocking,
 * closed when the scenario ends.  -1 with errno. */
int conf_recv_open(struct conf_ctx *c, int tunfd, const char *addr, uint16_t port);
/* Records under `label` what the receive descriptor got within wait_ms:
 * "N bytes" or "nothing". */
void conf_recv_obs(struct conf_ctx *c, const char *label, int rfd, int wait_ms);

/* --- packets ----------------------------------------------------------- */

extern const uint8_t conf_peer_mac[6];  /* 02:00:00:00:00:02 */
extern const uint8_t conf_bcast_mac[6];

/* IPv4/UDP with valid checksums (memio_packet_udp4); returns its length. */
size_t conf_udp4(uint8_t *buf, size_t cap, const char *src, uint16_t sport, const char *dst,
                 uint16_t dport, const void *payload, size_t len);
/* IPv6/UDP, checksum valid, or `csum` when csum_override is set. */
size_t conf_udp6(uint8_t *buf, size_t cap, const char *src, const char *dst, uint16_t sport,
                 uint16_t dport, const void *payload, size_t len, int csum_override,
                 uint16_t csum);
/* Prepends an Ethernet header (type 0x0800 unless given) to buf[0..len) in
 * place; returns the new length. */
size_t conf_eth(uint8_t *buf, size_t len, const uint8_t dst[6], const uint8_t src[6],
                uint16_t type);
/* Prepends a PI header (flags, proto in host order) in place. */
size_t conf_pi(uint8_t *buf, size_t len, uint16_t flags, uint16_t proto);
/* The TAP's own MAC via SIOCGIFHWADDR on its tun fd; 0 or -1. */
int conf_mac(struct conf_ctx *c, int fd, uint8_t mac[6]);
/* "pi=00000800": the first four bytes in hex. */
void conf_obs_hex(struct conf_ctx *c, const char *label, const void *p, size_t n);

/* --- the suite --------------------------------------------------------- */

struct conf_scenario {
    const char *id;   /* the semantics case id, or TW-... for Twisted's tests */
    void (*fn)(struct conf_ctx *c);
    const char *what; /* one line */
    const char *wip;  /* NULL, or the area not yet implemented in memory */
};

/* Each scenario file's table, ended by an entry with a NULL id. */
extern const struct conf_scenario conf_scen_attach[];
extern const struct conf_scenario conf_scen_ioctl[];
extern const struct conf_scenario conf_scen_write[];
extern const struct conf_scenario conf_scen_read[];
extern const struct conf_scenario conf_scen_state[];
extern const struct conf_scenario conf_scen_mq[];
extern const struct conf_scenario conf_scen_ipv6[];
extern const struct conf_scenario conf_scen_caps[];

/* The deliberate differences: (scenario, label) and the reason; a reason
 * that starts with "BUG:" is a known device bug awaiting its fix. */
struct conf_difference {
    const char *id;
    const char *label; /* "*" for every label of the scenario */
    const char *reason;
};
extern const struct conf_difference conf_differences[];

#define CONF_SCEN(id, what) { #id, scen_##id, what, NULL }
#define CONF_WIP(id, what, area) { #id, scen_##id, what, area }
#define CONF_END { NULL, NULL, NULL, NULL }

#endif
