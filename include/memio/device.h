/*
 * memio/device.h — the devices of a memory system, and its permissions.
 *
 * A memory system maps paths to device classes.  memio_open on a registered
 * path creates a file of that class; memio_read/write/ioctl/poll/close on
 * its descriptor call the class.  The library provides memio_tun_device, the
 * in-memory /dev/net/tun; tests may register classes of their own, as the
 * seed's registerSpecialDevice allows.
 */
#ifndef MEMIO_DEVICE_H
#define MEMIO_DEVICE_H

#include <memio/sys.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One open file of a device class: what a descriptor refers to. */
typedef struct memio_file memio_file;

#define MEMIO_DEVICE_CLASS_VERSION 1

/*
 * A device class: a table of callbacks, in the manner of SQLite's
 * sqlite3_io_methods.  Each callback follows the system call convention:
 * it returns what the call returns, or -1 with errno set.
 *
 * Callbacks run with the system's lock held, one at a time per system: they
 * may use the memio_file_* functions below, but must not call memio_read,
 * memio_write or any other function that takes a memio_sys or memio_tunnel.
 * The system has already done what the VFS does before a driver is called:
 * the descriptor is valid, the access mode allows the read or write, the
 * iovec array was checked, FIONBIO/FIOASYNC/FIOCLEX/FIONCLEX were handled.
 *
 * A callback left NULL gives what the kernel gives for a driver without that
 * operation: read/write EINVAL, ioctl ENOTTY, poll "always ready for what was
 * asked" (POLLIN|POLLOUT|POLLRDNORM|POLLWRNORM).
 */
typedef struct memio_device_class {
    int version;      /* MEMIO_DEVICE_CLASS_VERSION */
    const char *name; /* for messages */

    /* A new file was opened with `flags`; set its private data here.
     * Failing with -1 makes memio_open fail with that errno. */
    int (*open)(memio_file *f, int flags);
    /* Reads into the iovec.  A blocking read waits with memio_file_wait. */
    ssize_t (*read)(memio_file *f, const struct iovec *iov, int iovcnt);
    ssize_t (*write)(memio_file *f, const struct iovec *iov, int iovcnt);
    int (*ioctl)(memio_file *f, unsigned long request, void *arg);
    /* The revents the file has now, before masking with `events` (the system
     * masks, and always reports POLLERR, POLLHUP and POLLNVAL). */
    short (*poll)(memio_file *f, short events);
    /* The last descriptor of the file was closed; release private data. */
    void (*close)(memio_file *f);
    /* O_ASYNC was turned on (on != 0) or off, with F_SETFL or FIOASYNC; the
     * flag is already changed.  May be NULL. */
    int (*fasync)(memio_file *f, int on);
} memio_device_class;

/* The in-memory TUN/TAP device, as the kernel's /dev/net/tun. */
extern const memio_device_class memio_tun_device;

/* Registers `cls` at `path` (copied).  Returns 0, or -1 with errno: EINVAL
 * (not a memory system, or cls->version unknown), EFAULT (NULL path or cls),
 * ENAMETOOLONG (path of PATH_MAX bytes or more), EEXIST (path already
 * registered), ENOMEM. */
int memio_register_device(memio_sys *sys, const char *path, const memio_device_class *cls);

/* Registers memio_tun_device at "/dev/net/tun": the usual first line of a
 * test.  Returns as memio_register_device. */
int memio_register_tun(memio_sys *sys);

/* The seed's permission switches: both are granted on a new system.  A
 * denied operation fails with EPERM before anything else is checked (the
 * kernel would say EACCES for a denied open, L11: a documented
 * difference).  No-op on the os system. */
enum { MEMIO_PERM_OPEN = 1, MEMIO_PERM_IOCTL = 2 };
void memio_sys_set_permissions(memio_sys *sys, unsigned perms);

/* The credentials the memory system acts with, apart from the seed's
 * permissions: its effective uid and gid (compared with a persistent
 * device's owner and group, L06-L08) and whether it holds CAP_NET_ADMIN
 * (needed to create a device, L02).  A new system acts with
 * CAP_NET_ADMIN, which passes every owner and group check, so its ids
 * matter only once this call sets them.  No-op on the os system. */
void memio_sys_set_credentials(memio_sys *sys, uid_t euid, gid_t egid, int cap_net_admin);

/* --- for device classes ------------------------------------------------ */

/* The open flags of the file, as F_GETFL reports them. */
int memio_file_flags(const memio_file *f);
/* Who gets SIGIO under O_ASYNC (F_SETOWN's value: a pid, or -pgrp). */
void memio_file_set_owner(memio_file *f, pid_t owner);
/* The file's private data, set by the class's open. */
void *memio_file_data(const memio_file *f);
void memio_file_set_data(memio_file *f, void *data);
/* The system the file belongs to. */
memio_sys *memio_file_sys(const memio_file *f);

/* Waits, with the system's lock released, until something in the system
 * changes (memio_file_notify, a frame injected, a descriptor closed...).
 * Returns 0 when woken (the caller re-checks its condition and may wait
 * again), -1 with EINTR when a signal arrived (a handler installed with
 * SA_RESTART makes the wait go on instead), or -1 with EBADF when the
 * descriptor was closed or the system is being freed meanwhile. */
int memio_file_wait(memio_file *f);

/* Wakes every call waiting in the file's system, so that it re-checks. */
void memio_file_notify(memio_file *f);

#ifdef __cplusplus
}
#endif

#endif /* MEMIO_DEVICE_H */
