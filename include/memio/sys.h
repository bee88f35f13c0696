/*
 * memio/sys.h — the I/O system that code under test is written against.
 *
 * Code that drives a TUN/TAP device calls memio_open/read/write/ioctl/poll on
 * a memio_sys instead of the libc calls of the same names.  Production passes
 * memio_sys_os(), the real system calls; tests pass memio_sys_memory(), an
 * in-memory system whose /dev/net/tun behaves like the kernel's.
 *
 * Every call follows POSIX conventions: on success it returns what the
 * system call returns, on failure -1 with errno set to the errno the Linux
 * kernel gives for the same call.
 *
 * "The seed", in these headers, is Twisted's twisted.pair.testing.
 * MemoryIOSystem, which memio's memory system succeeds: where the seed
 * documented a behaviour the kernel does not decide (ENOSYS for an unknown
 * path, its permission switches), memio keeps it.
 */
#ifndef MEMIO_SYS_H
#define MEMIO_SYS_H

#include <poll.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct memio_sys memio_sys;

/* The real system calls.  Static: never NULL, never freed (memio_sys_free
 * ignores it).  Thread-safe as the system calls are. */
memio_sys *memio_sys_os(void);

/* A new, empty in-memory system: no devices registered (see
 * memio_register_device and memio_register_tun in device.h), both seed
 * permissions granted, descriptors numbered from 8192.  Returns NULL with
 * errno ENOMEM on failure.  The caller owns it and frees it with
 * memio_sys_free.  Safe to use from several threads at once; the thread
 * that made it is fastest while it is the only one calling (no atomic
 * instructions), and the first call from another thread costs a
 * membarrier(2) once, after which every thread takes a mutex.  Not
 * async-signal-safe: do not call it from a signal handler. */
memio_sys *memio_sys_memory(void);

/* Frees a memory system and everything it holds: descriptors, devices,
 * tunnels, queued frames.  Calls blocked in it on other threads are woken
 * and return -1 with EBADF; free waits for them to leave first.  A call that
 * starts after free has begun is undefined behaviour.  No-op for the os
 * system and for NULL. */
void memio_sys_free(memio_sys *sys);

/* Nonzero when sys is a memory system, zero for the os system. */
int memio_sys_is_memory(const memio_sys *sys);

/* open(2).  On a memory system, `path` must name a registered device:
 * an unregistered path fails with ENOSYS (the seed's documented behaviour;
 * the kernel says ENOENT), an open denied by memio_sys_set_permissions with
 * EPERM.  The descriptor returned by a memory system is >= 8192, never
 * reused, and not a kernel descriptor. */
int memio_open(memio_sys *sys, const char *path, int flags, ... /* mode_t mode */);

/* read(2), write(2), readv(2), writev(2), close(2). */
ssize_t memio_read(memio_sys *sys, int fd, void *buf, size_t len);
ssize_t memio_write(memio_sys *sys, int fd, const void *buf, size_t len);
ssize_t memio_readv(memio_sys *sys, int fd, const struct iovec *iov, int iovcnt);
ssize_t memio_writev(memio_sys *sys, int fd, const struct iovec *iov, int iovcnt);
int memio_close(memio_sys *sys, int fd);

/* ioctl(2): `arg` is read as the kernel reads it — a pointer for most
 * requests, a plain value for TUNSETPERSIST, TUNSETOWNER, TUNSETGROUP,
 * TUNSETLINK, TUNSETOFFLOAD, TUNSETNOCSUM and TUNSETDEBUG. */
int memio_ioctl(memio_sys *sys, int fd, unsigned long request, ... /* void *arg */);

/* fcntl(2): F_GETFL, F_SETFL, F_GETFD, F_SETFD, F_GETOWN, F_SETOWN, F_GETSIG,
 * F_SETSIG, F_DUPFD, F_DUPFD_CLOEXEC on a memory system; any other command
 * fails with EINVAL. */
int memio_fcntl(memio_sys *sys, int fd, int cmd, ... /* arg, as fcntl(2) takes it */);

/* poll(2).  A memory system polls its own descriptors (8192 upwards; one it
 * does not hold gets POLLNVAL) and, in the same call, kernel descriptors
 * (below 8192: the program's real sockets, pipes, timers), so that code under
 * test keeps one loop over its tunnel and its sockets; a blocking call wakes
 * for either.  A negative fd is skipped, as poll(2) does.  ENOMEM when more
 * than 32 kernel descriptors need a buffer and none can be had. */
int memio_poll(memio_sys *sys, struct pollfd *fds, nfds_t nfds, int timeout_ms);

/* Sends one UDP datagram toward the code under test.
 *
 * os: from a UDP socket of `to`'s family connected to `to`; `from` (may be
 * NULL) receives the address and port the datagram really left from.
 *
 * memory: builds the datagram as the kernel would send it (IPv4 with DF
 * set, TTL 64; IPv6 with hop limit 64; valid checksums, or the partial
 * checksum of TUN_F_CSUM, M09/M14; semantics case E03) and queues it on a
 * tunnel for the code under test to read.  The tunnel: when any tunnel has
 * an address of `to`'s family (memio_tunnel_set_address), the one whose
 * prefix covers `to` (the longest), and none covering it is ENETUNREACH, as
 * the kernel's routing would be; when none has, the only attached tunnel
 * that is up.  The source is that tunnel's own address, or 192.0.2.1 /
 * 2001:db8::1 when it has none of that family, and an ephemeral port (32768
 * upwards, one per datagram); `from` (may be NULL) receives both.
 *
 * Returns 0 when the datagram is on its way, -1 with errno otherwise:
 * ENETUNREACH (no route: see above, or its link is down, E11), EAFNOSUPPORT
 * (neither IPv4 nor IPv6), EINVAL (tolen too short for the family), EFAULT
 * (NULL `to`, or NULL payload with len > 0), EMSGSIZE (len over 65507 on
 * IPv4, 65527 on IPv6), and the errnos of memio_tunnel_inject when the
 * kernel would have dropped it (ENOBUFS when the queue is full, ...): a
 * kernel socket would not be told, the test is. */
int memio_send_udp(memio_sys *sys, const void *payload, size_t len,
                   const struct sockaddr *to, socklen_t tolen,
                   struct sockaddr_storage *from);

/* Returns a new descriptor of `sys` on which memio_read returns the payload
 * of each UDP datagram that the code under test sends through `tunnel_fd`
 * to `at`, from the moment of this call; memio_close ends it.
 *
 * os: a UDP socket bound to `at` (IPv4 or IPv6); tunnel_fd is not used.
 *
 * memory: the descriptor acts like a UDP socket bound to `at`: it receives
 * what the kernel would deliver to one (valid checksums, or checksum 0 on
 * IPv4, D06; on a TAP, a destination MAC the kernel accepts, G09-G14); one
 * datagram per read, a short read keeps what fits and the rest is gone, a
 * read of 0 bytes takes a datagram; reads block unless O_NONBLOCK is set
 * with memio_fcntl; it polls like a socket (POLLOUT always, POLLIN with a
 * datagram queued); write is EDESTADDRREQ; FIONREAD gives the next
 * datagram's size.  A descriptor bound to :: takes IPv4 too.  Datagrams the
 * kernel would drop are counted in the tunnel's statistics with the reason.
 * `at` may be the unspecified address, an address the test gave a tunnel,
 * or any address while no tunnel has one of that family.  When the device
 * goes away the descriptor stays open and receives nothing more (a
 * blocking read then waits until the descriptor is closed).  Errors: EBADF
 * (tunnel_fd not open), ENOTTY (tunnel_fd is not a tun descriptor), EBADFD
 * (not attached), EFAULT (NULL `at`), EINVAL (port 0, or atlen too short),
 * EAFNOSUPPORT (neither IPv4 nor IPv6), EADDRNOTAVAIL (an address no tunnel
 * has), EADDRINUSE (another receive descriptor of the tunnel holds the same
 * port and an overlapping address). */
int memio_receive_udp(memio_sys *sys, int tunnel_fd,
                      const struct sockaddr *at, socklen_t atlen);

/* recvfrom(2) without flags: the next datagram's payload into buf, and
 * who sent it into `from` (may be NULL; *fromlen in: its size, out: the
 * address's length, the copy cut to fit).  On a memory system `fd` is a
 * receive descriptor (memio_receive_udp; any other descriptor is ENOTSOCK)
 * and the source is the address and port the program wrote in the
 * datagram; a descriptor bound to :: reports an IPv4 source as
 * ::ffff:a.b.c.d.  Blocking, truncation and errors as memio_read on it;
 * EFAULT for a bad `from` or `fromlen` takes no datagram. */
ssize_t memio_recvfrom(memio_sys *sys, int fd, void *buf, size_t len, struct sockaddr *from,
                       socklen_t *fromlen);

#ifdef __cplusplus
}
#endif

#endif /* MEMIO_SYS_H */
