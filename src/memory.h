/*
 * memory.h — the in-memory system's insides, shared by sys_memory.c (the
 * descriptor table, the device registry, waiting), tun.c (the TUN/TAP
 * device and the test side of a tunnel) and udp.c (send_udp, receive_udp).
 *
 * Locking: one lock per system guards everything below (mem__lock, biased
 * toward the thread that made the system).  Device callbacks and the mem__
 * functions run with it held unless they say otherwise; a caller that must
 * wait releases it only inside mem__wait.
 */
#ifndef MEMIO_MEMORY_H
#define MEMIO_MEMORY_H

#include <memio/device.h>
#include <memio/tunnel.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"
#include "sys_internal.h"

#define MEM_FD_BASE 8192

/* One thread blocked in the system: it sleeps reading its eventfd, and a
 * waker writes to it.  Made only when a call first has to block, kept in a
 * pool for the next one (an eventfd costs microseconds to create). */
struct mem_waiter {
    int efd;
    struct mem_waiter *prev, *next; /* the active list, or the pool (next only) */
};

/* An open file description: what a descriptor refers to. */
struct memio_file {
    struct mem_sys *sys;
    const memio_device_class *cls;
    void *data;
    int open_flags; /* as given to open(2) */
    int flags;      /* as F_GETFL reports them */
    pid_t owner;    /* F_SETOWN: who gets SIGIO under O_ASYNC (I05) */
    int sig;        /* F_SETSIG: 0 means SIGIO */
    unsigned ndesc; /* descriptors referring to it */
    unsigned refs;  /* descriptors + calls in progress */
    bool closed;    /* its last descriptor was closed */
    /* Room for a built-in class's per-file state (a TUN's struct
     * tun_file), so that opening one costs a single allocation. */
    _Alignas(max_align_t) unsigned char priv[64];
};

struct mem_fd {
    memio_file *file;
    bool cloexec;
};

struct mem_device_reg {
    char *long_path; /* a heap copy when the path does not fit short_path */
    const memio_device_class *cls;
    char short_path[24];
};

static inline const char *mem__reg_path(const struct mem_device_reg *r)
{
    return r->long_path ? r->long_path : r->short_path;
}

/* What a new system holds without allocating: the usual test has one
 * device path and a few descriptors. */
#define MEM_INLINE_FDS 8
#define MEM_INLINE_DEVS 2

/* A signal to send once the lock is released (SIGIO under O_ASYNC). */
struct mem_signal {
    pid_t pid;
    int sig;
};

struct mem_sys {
    memio_sys base;
    /* The lock (see mem__lock).  bias_thread is constant; bias_busy is
     * written only by that thread; mutex_held only by whoever holds the
     * lock; bias_gone only under the mutex. */
    void *bias_thread;
    atomic_bool bias_on;
    atomic_bool bias_busy;
    bool mutex_held;
    bool bias_gone;
    pthread_mutex_t lock;
    pthread_cond_t idle; /* memio_sys_free waits on it for blocked calls to leave */
    unsigned perms;
    bool freeing;
    /* The credentials the memory system acts with (L01-L08).  euid and
     * egid count only without CAP_NET_ADMIN, which only
     * memio_sys_set_credentials takes away, and it sets them too: so a new
     * system does not read the process's (two system calls, which would
     * double the cost of a fresh system). */
    uid_t euid;
    gid_t egid;
    bool cap_net_admin;

    struct mem_fd *fds; /* index: fd - MEM_FD_BASE; never reused */
    size_t nfds, fds_cap;
    struct mem_fd fds_inline[MEM_INLINE_FDS];

    struct mem_device_reg *devs;
    size_t ndevs, devs_cap;
    struct mem_device_reg devs_inline[MEM_INLINE_DEVS];

    struct mem_waiter *active, *pool;
    unsigned blocked;

    /* The network namespace: every tunnel ever made (for memio_sys_free and
     * for pointers that outlive their device), and the live ones by name. */
    struct memio_tunnel *all_tunnels;
    struct memio_tunnel *live_tunnels;
    int next_ifindex;
    uint16_t next_port;
    uint16_t next_ip_id;
};

static inline struct mem_sys *mem_sys_of(memio_sys *sys)
{
    return (struct mem_sys *)sys;
}

/* Zeroed memory from malloc: unlike calloc, malloc serves small blocks
 * from glibc's per-thread cache, which a fresh device's few objects come
 * back to at each free. */
static inline void *mem__zalloc(size_t size)
{
    void *p = malloc(size);

    if (p)
        memset(p, 0, size);
    return p;
}

/* sys_memory.c */
bool mem__is_memory(const memio_sys *sys);

/*
 * The system lock, biased toward the thread that made the system.
 *
 * A mutex costs two atomic read-modify-writes a call, about 3.5 ns here:
 * half of what an inject and a read cost together.  Most tests drive a
 * system from one thread, so that thread (bias_thread) takes the lock with
 * plain stores: it marks itself busy, and enters if the bias still holds.
 * Every other thread takes the mutex, and the first one takes the bias away
 * for good (mem__lock_slow): it clears bias_on, runs a heavy fence on every
 * thread of the process (membarrier), and waits until the owner is not
 * busy.  The heavy fence pairs with the compiler barrier between the
 * owner's store to bias_busy and its second look at bias_on, as the two
 * halves of Dekker's handshake: either the owner sees the bias gone, or the
 * other thread sees it busy.  The owner gives the bias up itself before it
 * sleeps (mem__hold_mutex), since only another thread can wake it.
 *
 * The thread is named by its thread pointer (glibc's pthread_self), read
 * in one instruction.  A thread that reuses a dead owner's pointer inherits
 * the bias, which is harmless: the dead one holds nothing.
 */
bool mem__bias_possible(void);
void mem__lock_slow(struct mem_sys *ms);
/* With the lock held either way, makes it held as the mutex (for a
 * condition variable, or to sleep).  When it was held by bias it is let go
 * for a moment, so another thread may change the state (or begin
 * memio_sys_free: a caller in the middle of a call counts itself in
 * ms->blocked around this). */
void mem__hold_mutex(struct mem_sys *ms);

static inline void *mem__self(void)
{
#if defined(__x86_64__) || defined(__aarch64__)
    return __builtin_thread_pointer();
#else
    return (void *)(uintptr_t)pthread_self(); /* glibc: the same value, by a call */
#endif
}

static inline void mem__lock(struct mem_sys *ms)
{
    if (ms->bias_thread == mem__self() &&
        atomic_load_explicit(&ms->bias_on, memory_order_relaxed)) {
        atomic_store_explicit(&ms->bias_busy, true, memory_order_relaxed);
        atomic_signal_fence(memory_order_seq_cst);
        if (atomic_load_explicit(&ms->bias_on, memory_order_relaxed))
            return;
        atomic_store_explicit(&ms->bias_busy, false, memory_order_release);
    }
    mem__lock_slow(ms);
}

static inline void mem__unlock(struct mem_sys *ms)
{
    if (ms->mutex_held) {
        ms->mutex_held = false;
        pthread_mutex_unlock(&ms->lock);
    } else {
        atomic_store_explicit(&ms->bias_busy, false, memory_order_release);
    }
}
/* The file behind fd, or NULL with EBADF. */
memio_file *mem__file(struct mem_sys *ms, int fd);
/* Wakes every blocked call; costs nothing when none waits. */
void mem__wake_waiters(struct mem_sys *ms);
static inline void mem__wake_all(struct mem_sys *ms)
{
    if (ms->active)
        mem__wake_waiters(ms);
}
/* Blocks until woken, a signal, the deadline (ms since CLOCK_MONOTONIC's
 * epoch, or -1 for none) or the file's closing (f may be NULL).  Returns 0
 * when woken, 1 at the deadline, -1 with EINTR or EBADF. */
int mem__wait(struct mem_sys *ms, memio_file *f, int64_t deadline_ms, bool use_read);
/* mem__wait that also wakes when a kernel descriptor of set[1..nset-1] is
 * ready; set[0] is filled with the waiter's eventfd. */
int mem__wait_set(struct mem_sys *ms, memio_file *f, int64_t deadline_ms, bool use_read,
                  struct pollfd *set, nfds_t nset);
/* Allocates a new descriptor for a fresh file of class cls; the class's
 * open is NOT called.  Returns the fd or -1 with errno. */
int mem__install(struct mem_sys *ms, const memio_device_class *cls, int flags,
                 memio_file **out);
/* Sends the signals collected while the lock was held. */
void mem__send_signals(const struct mem_signal *sigs, size_t n);
/* Whether any iovec entry with bytes has a pointer into the first page. */
static inline bool mem__iov_bad(const struct iovec *iov, int iovcnt)
{
    int i;

    for (i = 0; i < iovcnt; i++)
        if (iov[i].iov_len && memio__bad_ptr(iov[i].iov_base))
            return true;
    return false;
}
/* Copies len bytes from src into the iovec, starting at offset off. */
void mem__iov_put(const struct iovec *iov, int iovcnt, size_t off, const void *src,
                  size_t len);
/* Copies len bytes from the iovec, starting at offset off, into dst. */
void mem__iov_get(const struct iovec *iov, int iovcnt, size_t off, void *dst,
                  size_t len);

/* tun.c */
void mem__tunnels_free(struct mem_sys *ms);
/* The kernel's transmit path toward the program, in two steps so that a
 * frame can be built in place: reserve checks what tun_net_xmit checks
 * (device, link, carrier, an attached queue, room: each failure counted in
 * tx_dropped, with errno ENODEV, ENETDOWN, ENOLINK, ENXIO, ENOBUFS), picks
 * the queue from the frame's first headlen bytes, and returns a slot of len
 * bytes; the caller fills slot->buf, slot->len and slot->aux, then commits,
 * which runs the TAP's TX filter and socket filter (G24, G25: -1 with EPERM
 * and counted when they drop it; the socket filter may trim it), queues it,
 * wakes readers and names the SIGIO to send once the lock is released. */
struct tun_file;
/* ring_slot.aux of a frame toward the program: its UDP checksum was left
 * unfinished under TUN_F_CSUM (M09, M14). */
#define SLOT_CSUM_PARTIAL 1u
struct ring_slot *mem__tun_xmit_reserve(struct memio_tunnel *t, const uint8_t *head,
                                        size_t headlen, size_t len, struct tun_file **q);
int mem__tun_xmit_commit(struct memio_tunnel *t, struct tun_file *q, struct ring_slot *slot,
                         struct mem_signal *sig);
/* The usual read of a TUN descriptor, which the VFS part tries before the
 * class's read: one buffer, a frame queued, no PI or virtio-net header, no
 * failure armed.  Returns MEM_NOT_PLAIN, having changed nothing, for any
 * other read (tun_read then does it). */
#define MEM_NOT_PLAIN (-2)
ssize_t mem__tun_read_plain(memio_file *f, void *buf, size_t len);
/* Nonzero when the program turned on TUN_F_CSUM with TUNSETOFFLOAD. */
bool mem__tun_csum_offload(const struct memio_tunnel *t);
bool mem__tun_is_file(const memio_file *f);
struct memio_tunnel *mem__tun_of_file(const memio_file *f);

/* One attached descriptor of a tunnel: the kernel's struct tun_file, and
 * its queue of frames toward the program (the kernel's tx_ring). */
struct tun_file {
    memio_file *file;
    struct memio_tunnel *tun; /* NULL before TUNSETIFF and after deletion */
    bool rcv_shutdown;        /* the device was deleted under it (I07) */
    bool detached;            /* TUNSETQUEUE IFF_DETACH_QUEUE (M02-M05) */
    bool filtered;            /* the device's socket filter applies (C09) */
    int sndbuf;               /* TUNGETSNDBUF/TUNSETSNDBUF (C23-C27) */
    int ifindex_req;          /* TUNSETIFINDEX: the next device's ifindex (B49) */
    struct ring rxq;
};

/* A receive descriptor (memio_receive_udp): a bound UDP socket's stand-in. */
struct udp_sock;

struct memio_tunnel {
    struct mem_sys *sys;
    struct memio_tunnel *next_all;              /* every tunnel of the system */
    struct memio_tunnel *prev_live, *next_live; /* the live ones */

    char name[16];
    char requested[16];
    int open_flags; /* open(2) flags of the creating descriptor */
    int given_flags; /* TUNSETIFF's ifr_flags as given (B47) */
    unsigned flags; /* the kernel's tun->flags: type, TUN_FEATURES, IFF_PERSIST */
    int ifindex;
    bool exists, up, carrier;
    unsigned txqueuelen;
    uint8_t mac[6];
    uint8_t peer_mac[6]; /* the source MAC of the program's last frame (TAP) */
    bool peer_mac_known;
    bool has_addr;            /* the kernel side's IPv4 address (E03) */
    struct in_addr addr;
    int prefix_len;
    bool has_addr6;           /* and its IPv6 one (D31) */
    struct in6_addr addr6;
    int prefix_len6;

    /* Attached descriptors: the numqueues active queues first, then the
     * numdisabled ones detached with TUNSETQUEUE. */
    struct tun_file **queues; /* queue_inline until a second queue attaches */
    unsigned numqueues, numdisabled, queues_cap;
    struct tun_file *queue_inline[1];

    int link_type;      /* dev->type: ARPHRD_NONE or ARPHRD_ETHER; TUNSETLINK (C44) */
    int vnet_hdr_sz;    /* 10 unless TUNSETVNETHDRSZ (C30-C33) */
    bool vnet_le;       /* TUNSETVNETLE (C34, C35) */
    unsigned offload;   /* TUNSETOFFLOAD's TUN_F_* bits (C37-C43) */
    bool has_owner, has_group; /* TUNSETOWNER, TUNSETGROUP (C17-C20, L03-L08) */
    uid_t owner;
    gid_t group;
    unsigned txflt_count;      /* TUNSETTXFILTER (C46-C48, G24) */
    uint8_t txflt_addr[8][6];
    uint64_t txflt_mask;
    bool txflt_hash;           /* multicast addresses beyond the exact 8 */
    struct mem_bpf_prog *filter; /* TUNATTACHFILTER (C08-C12, G25) */
    uint16_t fprog_len;        /* as the program gave it, for TUNGETFILTER */
    void *fprog_ptr;
    bool filter_attached;

    struct ring takeq; /* frames the program wrote, for memio_tunnel_take */
    size_t take_cap;
    uint8_t *scratch;  /* a gathered writev, reused */
    size_t scratch_cap;
    struct udp_sock *socks;

    memio_tunnel_stats stats;
    int fail_write_err, fail_read_err, empty_read_err;
    unsigned fail_writes, fail_reads;
};

/* bpf.c: classic BPF, run by libpcap's interpreter. */
struct mem_bpf_prog;
/* Copies and validates n instructions (struct sock_filter); NULL with
 * EINVAL (invalid program) or ENOMEM. */
struct mem_bpf_prog *mem__bpf_new(const void *insns, unsigned n);
void mem__bpf_free(struct mem_bpf_prog *p);
/* What the program returns for the packet: 0 drops it, less than len trims it. */
unsigned mem__bpf_run(const struct mem_bpf_prog *p, const uint8_t *pkt, size_t len);

/* Copies a frame between buffers that do not overlap.  Up to 64 bytes
 * inline, in at most four overlapping 16-byte moves: for a small frame the
 * call to memcpy costs more than the copy (about 1 ns of an inject and a
 * read's 10).  Larger frames go to memcpy. */
static inline void mem__copy(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;

    if (n > 64) {
        memcpy(d, s, n);
    } else if (n >= 16) {
        __builtin_memcpy(d, s, 16);
        __builtin_memcpy(d + n - 16, s + n - 16, 16);
        if (n > 32) {
            __builtin_memcpy(d + 16, s + 16, 16);
            __builtin_memcpy(d + n - 32, s + n - 32, 16);
        }
    } else if (n >= 8) {
        __builtin_memcpy(d, s, 8);
        __builtin_memcpy(d + n - 8, s + n - 8, 8);
    } else if (n >= 4) {
        __builtin_memcpy(d, s, 4);
        __builtin_memcpy(d + n - 4, s + n - 4, 4);
    } else if (n) {
        d[0] = s[0];
        d[n - 1] = s[n - 1];
        d[n / 2] = s[n / 2];
    }
}

/* Whether two MAC addresses are equal: two loads each, where a memcmp
 * call costs several nanoseconds on every frame a TAP writes. */
static inline bool mem__mac_eq(const uint8_t *a, const uint8_t *b)
{
    uint32_t a4, b4;
    uint16_t a2, b2;

    memcpy(&a4, a, 4);
    memcpy(&b4, b, 4);
    memcpy(&a2, a + 4, 2);
    memcpy(&b2, b + 4, 2);
    return a4 == b4 && a2 == b2;
}

/* A TAP (IFF_TAP, not IFF_TUN: a TUN wins when both were asked, B07). */
static inline bool mem__is_tap(const struct memio_tunnel *t)
{
    return (t->flags & 0x3) == 0x2;
}

/* udp.c */
extern const memio_device_class mem__udp_class;
ssize_t mem__udp_recvfrom(memio_file *f, void *buf, size_t len, struct sockaddr *from,
                          socklen_t *fromlen);
/* A receive descriptor's read with a datagram queued, into one good buffer;
 * MEM_NOT_PLAIN, having changed nothing, otherwise (as mem__tun_read_plain). */
ssize_t mem__udp_read_plain(memio_file *f, void *buf, size_t len);
/* Offers a frame the program wrote to the tunnel's receive descriptors.
 * Returns true when it was addressed to one (delivered or dropped, and
 * counted), false when it belongs in take's queue. */
bool mem__udp_dispatch(struct memio_tunnel *t, const uint8_t *frame, size_t len,
                       uint16_t pi_proto, bool csum_partial);
/* The tunnel is going away from under its receive descriptors. */
void mem__udp_unlink_all(struct memio_tunnel *t);
int mem__send_udp(memio_sys *sys, const void *payload, size_t len,
                  const struct sockaddr *to, socklen_t tolen,
                  struct sockaddr_storage *from);
int mem__receive_udp(memio_sys *sys, int tunnel_fd, const struct sockaddr *at,
                     socklen_t atlen);

#endif /* MEMIO_MEMORY_H */
