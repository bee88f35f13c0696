/*
 * memio/tunnel.h — the test's side of an in-memory TUN/TAP device.
 *
 * A memio_tunnel is the network device that TUNSETIFF created or attached
 * to, shared by every descriptor attached to it.  The test puts frames in
 * (memio_tunnel_inject: what the kernel would transmit, which the program
 * reads), takes what the program wrote (memio_tunnel_take), and does what an
 * administrator or the network does to a kernel device: link up and down,
 * carrier, txqueuelen, deletion, MAC address, an address for routing.
 *
 * Counters follow the kernel's names and directions where the kernel has
 * them: tx_* toward the program (the kernel transmits, the program reads),
 * rx_* from the program (the program writes, the kernel receives).
 *
 * A memio_tunnel pointer stays valid until memio_sys_free, even after the
 * device is gone; calls on a gone device fail with ENODEV.  All functions
 * here are safe to call from any thread.
 */
#ifndef MEMIO_TUNNEL_H
#define MEMIO_TUNNEL_H

#include <memio/sys.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct memio_tunnel memio_tunnel;

/* The tunnel that descriptor `fd` of a memory system is attached to (the
 * seed's getTunnel).  NULL with errno: EINVAL (not a memory system), EBADF
 * (fd not open), ENOTTY (not a tun descriptor), EBADFD (not attached: before
 * TUNSETIFF, or after the device was deleted). */
memio_tunnel *memio_tunnel_get(memio_sys *sys, int fd);

/* The device named `name` in sys (a persistent device may have no
 * descriptor).  NULL with ENODEV when there is none, EINVAL when sys is not
 * a memory system. */
memio_tunnel *memio_tunnel_lookup(memio_sys *sys, const char *name);

/* Flags given to open(2) for the descriptor that created the device. */
int memio_tunnel_open_flags(const memio_tunnel *t);
/* ifr_name given to TUNSETIFF as the kernel read it (at most 15 bytes); a
 * later TUNSETIFF that attaches to the same device rewrites it, so do not
 * read it while another thread may be attaching. */
const char *memio_tunnel_requested_name(const memio_tunnel *t);
/* The name the device got ("tun0" for a "tun%d" template, B01). */
const char *memio_tunnel_name(const memio_tunnel *t);
/* ifr_flags as given to TUNSETIFF, unknown bits too (B47). */
int memio_tunnel_flags(const memio_tunnel *t);
/* The interface index (deterministic: 2, 3, ... in order of creation; lo
 * is 1; never reused, B53). */
int memio_tunnel_ifindex(const memio_tunnel *t);
/* Nonzero for a TAP (Ethernet frames), zero for a TUN (IP packets). */
int memio_tunnel_is_tap(const memio_tunnel *t);
/* Nonzero while the device exists (it is gone after memio_tunnel_delete,
 * or once its last descriptor closed unless it is persistent). */
int memio_tunnel_exists(const memio_tunnel *t);

/* Queues one frame for the code under test to read, as the device carries
 * it: an IP packet on a TUN, an Ethernet frame on a TAP, without PI or
 * virtio-net header (the device adds them when the program reads, E15).
 * Returns 0 when queued.  When the kernel would have dropped it, -1 with
 * errno and the drop counted in tx_dropped: ENOBUFS (the queue holds
 * txqueuelen frames, J01), ENETDOWN (link down), ENOLINK (carrier off, E12;
 * a persistent device without descriptors has its carrier off, I16), ENXIO
 * (carrier on but no descriptor attached, I17), ENODEV (device gone), EPERM (a TAP's
 * TX filter or socket filter dropped it, G24, G25).  Other errors:
 * EFAULT (NULL frame), EINVAL (empty frame), EMSGSIZE (longer than 65535
 * bytes plus the Ethernet header on a TAP). */
int memio_tunnel_inject(memio_tunnel *t, const void *frame, size_t len);

/* Dequeues the oldest frame the program wrote that no receive descriptor
 * took, PI and virtio-net headers removed; returns its length.  -1 with
 * EAGAIN when there is none, EMSGSIZE when cap is too small (the frame stays
 * queued), EFAULT when buf is NULL and cap > 0. */
ssize_t memio_tunnel_take(memio_tunnel *t, void *buf, size_t cap);

/* Like memio_tunnel_inject, onto active queue `queue` (0 .. the number of
 * queues - 1, in the order they attached, detached ones skipped) of a
 * multiqueue device instead of the one the frame's flow selects.  EINVAL
 * when there is no such queue. */
int memio_tunnel_inject_queue(memio_tunnel *t, unsigned queue, const void *frame, size_t len);

/* The number of active queues (attached descriptors not detached with
 * TUNSETQUEUE). */
unsigned memio_tunnel_queue_count(const memio_tunnel *t);

/* TUNSETOFFLOAD's TUN_F_* bits as the program set them (0 by default). */
unsigned memio_tunnel_offload(const memio_tunnel *t);

/* The virtio-net header's size when the device has IFF_VNET_HDR (10, or
 * what TUNSETVNETHDRSZ set), 0 when it has none. */
int memio_tunnel_vnet_hdr_size(const memio_tunnel *t);

/* Length of the frame memio_tunnel_take would return next; -1 with EAGAIN
 * when there is none. */
ssize_t memio_tunnel_peek_len(const memio_tunnel *t);

/* Sends a UDP datagram toward the program through this tunnel, as
 * memio_send_udp does but without routing.  Returns as memio_send_udp. */
int memio_tunnel_send_udp(memio_tunnel *t, const void *payload, size_t len,
                          const struct sockaddr *to, socklen_t tolen,
                          struct sockaddr_storage *from);

/* --- what an administrator or the network does ------------------------- */

/* `ip link set up/down`.  A memory tunnel starts up.  Down: writes fail with
 * EIO (D01), no POLLOUT (H01), injects fail with ENETDOWN; frames already
 * queued stay readable (E10).  Returns 0, or -1 with ENODEV. */
int memio_tunnel_set_up(memio_tunnel *t, int up);
int memio_tunnel_is_up(const memio_tunnel *t);

/* Whether the device is persistent (TUNSETPERSIST, `ip tuntap add`):
 * it then outlives its descriptors (I16). */
int memio_tunnel_is_persistent(const memio_tunnel *t);

/* Carrier on/off, as TUNSETCARRIER does.  Off: injects fail with ENOLINK
 * and count tx_dropped (E12); writes and poll are unaffected (E13, H08). */
int memio_tunnel_set_carrier(memio_tunnel *t, int on);
int memio_tunnel_carrier(const memio_tunnel *t);

/* `ip link set txqueuelen N`: the queue toward the program holds N frames
 * (500 on a TUN, 1000 on a TAP by default, C69/C70); shrinking keeps the
 * oldest N and drops the rest, counted in tx_dropped (J05); 0 drops every
 * frame (J04).  Returns 0, or -1 with ENODEV or ENOMEM. */
int memio_tunnel_set_txqueuelen(memio_tunnel *t, unsigned len);
unsigned memio_tunnel_txqueuelen(const memio_tunnel *t);

/* `ip link del`: the device disappears.  A reader blocked on it returns -1
 * with EFAULT (I07); afterwards its descriptors are detached: read, write
 * and ioctl fail with EBADFD, poll reports POLLERR, and TUNSETIFF may attach
 * them again (I08-I11).  Queued frames are dropped and counted.  Returns 0,
 * or -1 with ENODEV when already gone. */
int memio_tunnel_delete(memio_tunnel *t);

/* The device's MAC address, as SIOCGIFHWADDR on the tun fd reports it (C58).
 * Deterministic by default: 02:6d:69:6f:HH:LL ("mio", then the interface
 * index), a locally administered unicast address (G01).  Setting refuses a
 * multicast address with EADDRNOTAVAIL (C60).  On a TUN the address exists
 * but is not used. */
int memio_tunnel_set_mac(memio_tunnel *t, const uint8_t mac[6]);
void memio_tunnel_mac(const memio_tunnel *t, uint8_t mac[6]);

/* Gives the kernel side of the tunnel an address and prefix, as `ip addr
 * add` does (E03): IPv4 (prefix 0-32) or IPv6 (0-128), one of each.  It
 * becomes the source of memio_send_udp's datagrams of that family, the
 * route for destinations within the prefix, and the address receive
 * descriptors may bind.  EAFNOSUPPORT for other families, EINVAL for a
 * prefix out of range or a short len, ENODEV when the device is gone. */
int memio_tunnel_set_address(memio_tunnel *t, const struct sockaddr *addr,
                             socklen_t len, int prefix_len);

/* The queue toward the test (what the program wrote, awaiting take) holds
 * at most `frames` frames (default 4096); beyond that a written frame is
 * dropped and counted in take_dropped — the program's write still succeeds,
 * as the kernel's does (J06). */
int memio_tunnel_set_take_capacity(memio_tunnel *t, size_t frames);

/* --- what Twisted's tests reach into ------------------------------------ */

/* The next `count` writes on the tunnel fail with `err` before anything
 * else is checked (Twisted's pendingSignals: EINTR). */
void memio_tunnel_fail_writes(memio_tunnel *t, int err, unsigned count);
/* The next `count` reads fail with `err`. */
void memio_tunnel_fail_reads(memio_tunnel *t, int err, unsigned count);
/* What a non-blocking read of an empty queue fails with: EAGAIN (the
 * kernel's, and the default), EWOULDBLOCK, EINTR, or any errno (Twisted's
 * nonBlockingExceptionStyle). */
void memio_tunnel_set_empty_read_errno(memio_tunnel *t, int err);

/* --- accounting --------------------------------------------------------- */

/* Why a frame the program wrote did not reach a receive descriptor that it
 * was addressed to: the drop a kernel socket's stack would make. */
typedef enum memio_drop_reason {
    MEMIO_DROP_NONE = 0,
    MEMIO_DROP_IP_HEADER,   /* bad IPv4 header: version, ihl, total length (D15, D16) */
    MEMIO_DROP_IP_CHECKSUM, /* IPv4 header checksum wrong (D09) */
    MEMIO_DROP_IP_FRAGMENT, /* a fragment: memio does not reassemble (documented difference) */
    MEMIO_DROP_UDP_LENGTH,  /* UDP length field does not fit */
    MEMIO_DROP_UDP_CHECKSUM,/* UDP checksum wrong (D08) */
    MEMIO_DROP_PI_PROTO,    /* TUN PI proto is not IPv4 (F02-F04) */
    MEMIO_DROP_OTHERHOST,   /* TAP: destination MAC not ours, broadcast or multicast (G11, G12) */
    MEMIO_DROP_RCVBUF,      /* the receive descriptor's queue is full */
    MEMIO_DROP_REASON_COUNT
} memio_drop_reason;

/* A short English name for a reason ("udp checksum", ...). */
const char *memio_drop_reason_name(memio_drop_reason r);

typedef struct memio_tunnel_stats {
    /* toward the program */
    uint64_t tx_packets;    /* frames the program read */
    uint64_t tx_bytes;      /* their length, headers excluded */
    uint64_t tx_dropped;    /* injected frames the device dropped (J01, E12, ...) */
    uint64_t tx_read_lost;  /* frames lost by a read (E20: PI buffer < 4; EFAULT) */
    uint64_t tx_queued;     /* frames waiting to be read now */
    /* from the program */
    uint64_t rx_packets;    /* writes the device accepted */
    uint64_t rx_bytes;      /* their length, headers excluded */
    uint64_t rx_dropped;    /* writes refused after the format checks (D01, D03) */
    uint64_t udp_delivered; /* datagrams given to receive descriptors */
    uint64_t udp_dropped[MEMIO_DROP_REASON_COUNT]; /* addressed to one, dropped, by reason */
    uint64_t take_queued;   /* frames waiting for memio_tunnel_take now */
    uint64_t take_dropped;  /* written frames dropped: take's queue was full */
} memio_tunnel_stats;

/* Fills *st with the tunnel's counters.  Works on a gone device too. */
void memio_tunnel_stats_get(const memio_tunnel *t, memio_tunnel_stats *st);

/* What the kernel's stack would do with `frame` if the program wrote it to
 * this tunnel while a UDP socket listened at its destination: MEMIO_DROP_NONE
 * when it would be delivered, else the reason it would be dropped.  Frames
 * that are not UDP over IPv4 give MEMIO_DROP_IP_HEADER.  `frame` is as the
 * device carries it (no PI header; `pi_proto` is the PI proto in network
 * order, or 0 when the tunnel has no PI header). */
memio_drop_reason memio_tunnel_classify(const memio_tunnel *t, const void *frame,
                                        size_t len, uint16_t pi_proto);

#ifdef __cplusplus
}
#endif

#endif /* MEMIO_TUNNEL_H */
