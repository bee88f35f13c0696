/*
 * sys_os.c — the os system: memio_sys's table filled with the real system
 * calls.
 *
 * Each entry passes its arguments to the system call of the same name and
 * returns what it returns, errno included: the kernel does every check
 * itself (bad descriptors, bad pointers, unknown requests), so this file
 * adds none of its own except where a helper builds a socket address the
 * kernel never sees (send_udp, receive_udp).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "sys_internal.h"

/* open(2) with the mode memio_open unpacked (0 unless O_CREAT/O_TMPFILE). */
static int os_open(memio_sys *sys, const char *path, int flags, mode_t mode)
{
    (void)sys;
    return open(path, flags, mode);
}

/* read(2). */
static ssize_t os_read(memio_sys *sys, int fd, void *buf, size_t len)
{
    (void)sys;
    return read(fd, buf, len);
}

/* write(2). */
static ssize_t os_write(memio_sys *sys, int fd, const void *buf, size_t len)
{
    (void)sys;
    return write(fd, buf, len);
}

/* readv(2). */
static ssize_t os_readv(memio_sys *sys, int fd, const struct iovec *iov, int iovcnt)
{
    (void)sys;
    return readv(fd, iov, iovcnt);
}

/* writev(2). */
static ssize_t os_writev(memio_sys *sys, int fd, const struct iovec *iov, int iovcnt)
{
    (void)sys;
    return writev(fd, iov, iovcnt);
}

/* close(2). */
static int os_close(memio_sys *sys, int fd)
{
    (void)sys;
    return close(fd);
}

/* ioctl(2): arg goes through as the pointer-sized word memio_ioctl took, so
 * value-taking requests (TUNSETPERSIST, ...) see their value. */
static int os_ioctl(memio_sys *sys, int fd, unsigned long request, void *arg)
{
    (void)sys;
    return ioctl(fd, request, arg);
}

/* fcntl(2): the third argument is passed as the word glibc's fcntl reads,
 * whether the command takes an int, a pointer or nothing. */
static int os_fcntl(memio_sys *sys, int fd, int cmd, unsigned long arg)
{
    (void)sys;
    return fcntl(fd, cmd, arg);
}

/* poll(2). */
static int os_poll(memio_sys *sys, struct pollfd *fds, nfds_t nfds, int timeout_ms)
{
    (void)sys;
    return poll(fds, nfds, timeout_ms);
}

/* Closes fd keeping the caller's errno: the cleanup path of a failed call
 * must report what failed, not what close said. */
static void close_keep_errno(int fd)
{
    int saved = errno;
    close(fd);
    errno = saved;
}

/* Checks a caller's socket address as the kernel's move_addr_to_kernel and
 * family check would, before anything is created: EFAULT for NULL (the
 * kernel copies from it), EINVAL when too short to hold a family.  Returns
 * the family, or -1 with errno. */
static int sockaddr_family(const struct sockaddr *sa, socklen_t len)
{
    if (len < (socklen_t)sizeof(sa_family_t)) {
        errno = EINVAL;
        return -1;
    }
    if (memio__bad_ptr(sa)) {
        errno = EFAULT;
        return -1;
    }
    return sa->sa_family;
}

/*
 * send_udp on os: one datagram from a fresh UDP socket of `to`'s family,
 * connected to `to` so that the kernel picks the route and source now and
 * getsockname reports the real source address and port (an unconnected
 * socket would say 0.0.0.0 until it sent).  `from`, when not NULL, gets that
 * address.  Returns 0 once send() accepted the datagram, or -1 with the
 * errno of the call that failed (socket, connect, getsockname, send); the
 * socket is always closed and its close never changes errno.
 */
static int os_send_udp(memio_sys *sys, const void *payload, size_t len,
                       const struct sockaddr *to, socklen_t tolen,
                       struct sockaddr_storage *from)
{
    int family, fd;
    ssize_t n;
    (void)sys;

    family = sockaddr_family(to, tolen);
    if (family < 0)
        return -1;
    fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, to, tolen) < 0)
        goto fail;
    if (from) {
        socklen_t fromlen = sizeof *from;
        if (getsockname(fd, (struct sockaddr *)from, &fromlen) < 0)
            goto fail;
    }
    n = send(fd, payload, len, 0);
    if (n < 0)
        goto fail;
    close(fd);
    return 0;

fail:
    close_keep_errno(fd);
    return -1;
}

/*
 * receive_udp on os: a new UDP socket of `at`'s family, close-on-exec,
 * bound to `at`.  The caller owns the returned descriptor and closes it
 * with memio_close; memio_read on it returns one datagram's payload.
 * tunnel_fd is not used: the kernel routes the datagram to the socket
 * whichever device it came in on.  -1 with errno from socket or bind
 * (EADDRINUSE, EADDRNOTAVAIL, ...), EFAULT for NULL `at`, EINVAL for an
 * address too short to hold a family.
 */
static int os_receive_udp(memio_sys *sys, int tunnel_fd, const struct sockaddr *at,
                           socklen_t atlen)
{
    int family, fd;
    (void)sys;
    (void)tunnel_fd;

    family = sockaddr_family(at, atlen);
    if (family < 0)
        return -1;
    fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (bind(fd, at, atlen) < 0) {
        close_keep_errno(fd);
        return -1;
    }
    return fd;
}

/* The os system is static: there is nothing to free. */
static void os_free(memio_sys *sys)
{
    (void)sys;
}

/* recvfrom(2), with no flags. */
static ssize_t os_recvfrom(memio_sys *sys, int fd, void *buf, size_t len, struct sockaddr *from,
                           socklen_t *fromlen)
{
    (void)sys;
    return recvfrom(fd, buf, len, 0, from, fromlen);
}

static const struct memio_sys_ops os_ops = {
    .version = 1,
    .name = "os",
    .open = os_open,
    .read = os_read,
    .write = os_write,
    .readv = os_readv,
    .writev = os_writev,
    .close = os_close,
    .ioctl = os_ioctl,
    .fcntl = os_fcntl,
    .poll = os_poll,
    .send_udp = os_send_udp,
    .receive_udp = os_receive_udp,
    .recvfrom = os_recvfrom,
    .free = os_free,
};

static struct memio_sys os_sys = { &os_ops };

/* The os system: one static instance, never NULL, never freed; safe from
 * any thread, as the system calls are. */
memio_sys *memio_sys_os(void)
{
    return &os_sys;
}
