/*
 * sys_internal.h — the table behind memio_sys.
 *
 * memio_sys is a struct of function pointers, as SQLite's sqlite3_vfs: the os
 * system and the memory system fill the same table, and src/sys.c's public
 * functions only unpack variadic arguments and call through it.  A wrapper
 * (fault injection, capture) is one more table that calls an inner one.
 */
#ifndef MEMIO_SYS_INTERNAL_H
#define MEMIO_SYS_INTERNAL_H

#include <memio/sys.h>
#include <stdint.h>

struct memio_sys_ops {
    int version; /* 1 */
    const char *name;
    int (*open)(memio_sys *sys, const char *path, int flags, mode_t mode);
    ssize_t (*read)(memio_sys *sys, int fd, void *buf, size_t len);
    ssize_t (*write)(memio_sys *sys, int fd, const void *buf, size_t len);
    ssize_t (*readv)(memio_sys *sys, int fd, const struct iovec *iov, int iovcnt);
    ssize_t (*writev)(memio_sys *sys, int fd, const struct iovec *iov, int iovcnt);
    int (*close)(memio_sys *sys, int fd);
    int (*ioctl)(memio_sys *sys, int fd, unsigned long request, void *arg);
    /* arg is the third argument of fcntl(2), read as an unsigned long: an
     * int or a pointer, as glibc's fcntl reads it. */
    int (*fcntl)(memio_sys *sys, int fd, int cmd, unsigned long arg);
    int (*poll)(memio_sys *sys, struct pollfd *fds, nfds_t nfds, int timeout_ms);
    int (*send_udp)(memio_sys *sys, const void *payload, size_t len,
                    const struct sockaddr *to, socklen_t tolen,
                    struct sockaddr_storage *from);
    int (*receive_udp)(memio_sys *sys, int tunnel_fd, const struct sockaddr *at,
                       socklen_t atlen);
    ssize_t (*recvfrom)(memio_sys *sys, int fd, void *buf, size_t len, struct sockaddr *from,
                        socklen_t *fromlen);
    void (*free)(memio_sys *sys);
};

struct memio_sys {
    const struct memio_sys_ops *ops;
};

/* Pointers into the first page are what the kernel's copy_from_user faults
 * on; memio reports EFAULT for them (DESIGN.md: other invalid pointers are
 * undefined behaviour). */
static inline int memio__bad_ptr(const void *p)
{
    return (uintptr_t)p < 4096;
}

#endif /* MEMIO_SYS_INTERNAL_H */
