/*
 * sys.c — the public memio_* calls: unpack variadic arguments, check the
 * system pointer, and call through the system's table.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>

#include "sys_internal.h"

/* A NULL system is a caller's bad pointer: EFAULT, as for any other. */
#define CHECK_SYS(sys)            \
    do {                          \
        if (!(sys)) {             \
            errno = EFAULT;       \
            return -1;            \
        }                         \
    } while (0)

int memio_open(memio_sys *sys, const char *path, int flags, ...)
{
    mode_t mode = 0;
    CHECK_SYS(sys);
    /* As glibc's open: the mode argument exists only with O_CREAT or
     * O_TMPFILE. */
    if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) {
        va_list ap;
        va_start(ap, flags);
        mode = va_arg(ap, mode_t);
        va_end(ap);
    }
    return sys->ops->open(sys, path, flags, mode);
}

ssize_t memio_read(memio_sys *sys, int fd, void *buf, size_t len)
{
    CHECK_SYS(sys);
    return sys->ops->read(sys, fd, buf, len);
}

ssize_t memio_write(memio_sys *sys, int fd, const void *buf, size_t len)
{
    CHECK_SYS(sys);
    return sys->ops->write(sys, fd, buf, len);
}

ssize_t memio_readv(memio_sys *sys, int fd, const struct iovec *iov, int iovcnt)
{
    CHECK_SYS(sys);
    return sys->ops->readv(sys, fd, iov, iovcnt);
}

ssize_t memio_writev(memio_sys *sys, int fd, const struct iovec *iov, int iovcnt)
{
    CHECK_SYS(sys);
    return sys->ops->writev(sys, fd, iov, iovcnt);
}

int memio_close(memio_sys *sys, int fd)
{
    CHECK_SYS(sys);
    return sys->ops->close(sys, fd);
}

int memio_ioctl(memio_sys *sys, int fd, unsigned long request, ...)
{
    va_list ap;
    void *arg;
    CHECK_SYS(sys);
    /* As glibc's ioctl: the third argument is taken as a pointer-sized
     * word whatever it is, so value-taking requests see the value. */
    va_start(ap, request);
    arg = va_arg(ap, void *);
    va_end(ap);
    return sys->ops->ioctl(sys, fd, request, arg);
}

int memio_fcntl(memio_sys *sys, int fd, int cmd, ...)
{
    va_list ap;
    unsigned long arg;
    CHECK_SYS(sys);
    va_start(ap, cmd);
    arg = va_arg(ap, unsigned long);
    va_end(ap);
    return sys->ops->fcntl(sys, fd, cmd, arg);
}

int memio_poll(memio_sys *sys, struct pollfd *fds, nfds_t nfds, int timeout_ms)
{
    CHECK_SYS(sys);
    return sys->ops->poll(sys, fds, nfds, timeout_ms);
}

int memio_send_udp(memio_sys *sys, const void *payload, size_t len,
                   const struct sockaddr *to, socklen_t tolen,
                   struct sockaddr_storage *from)
{
    CHECK_SYS(sys);
    return sys->ops->send_udp(sys, payload, len, to, tolen, from);
}

int memio_receive_udp(memio_sys *sys, int tunnel_fd, const struct sockaddr *at,
                      socklen_t atlen)
{
    CHECK_SYS(sys);
    return sys->ops->receive_udp(sys, tunnel_fd, at, atlen);
}

ssize_t memio_recvfrom(memio_sys *sys, int fd, void *buf, size_t len, struct sockaddr *from,
                       socklen_t *fromlen)
{
    CHECK_SYS(sys);
    return sys->ops->recvfrom(sys, fd, buf, len, from, fromlen);
}

void memio_sys_free(memio_sys *sys)
{
    if (sys && sys->ops->free)
        sys->ops->free(sys);
}
