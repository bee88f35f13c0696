/*
 * sys_memory.c — the in-memory system: descriptors, the device registry,
 * permissions, waiting, and the VFS's share of each call (what the kernel
 * checks before a driver is called), then the device class.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "memory.h"

/* The kernel reports O_LARGEFILE in F_GETFL on 64-bit (A03: 0x8802); glibc
 * defines it as 0 there, so use the kernel's value for this architecture. */
#if defined(__aarch64__) || defined(__arm__)
#define KERNEL_O_LARGEFILE 0400000
#elif defined(__powerpc__) || defined(__powerpc64__)
#define KERNEL_O_LARGEFILE 0200000
#else
#define KERNEL_O_LARGEFILE 0100000
#endif

/* F_SETFL may change only these (fs/fcntl.c SETFL_MASK). */
#define SETFL_MASK (O_APPEND | O_ASYNC | O_DIRECT | O_NOATIME | O_NONBLOCK)

static const struct memio_sys_ops mem_ops;

bool mem__is_memory(const memio_sys *sys)
{
    return sys && sys->ops == &mem_ops;
}

int memio_sys_is_memory(const memio_sys *sys)
{
    return mem__is_memory(sys);
}

memio_sys *memio_sys_memory(void)
{
    struct mem_sys *ms = mem__zalloc(sizeof(*ms));

    if (!ms) {
        errno = ENOMEM;
        return NULL;
    }
    ms->base.ops = &mem_ops;
    ms->fds = ms->fds_inline;
    ms->fds_cap = MEM_INLINE_FDS;
    ms->devs = ms->devs_inline;
    ms->devs_cap = MEM_INLINE_DEVS;
    pthread_mutex_init(&ms->lock, NULL);
    pthread_cond_init(&ms->idle, NULL);
    ms->bias_thread = mem__self();
    ms->bias_gone = !mem__bias_possible();
    atomic_init(&ms->bias_on, !ms->bias_gone);
    atomic_init(&ms->bias_busy, false);
    ms->perms = MEMIO_PERM_OPEN | MEMIO_PERM_IOCTL;
    ms->next_ifindex = 2; /* lo is 1, as in every network namespace */
    ms->next_port = 32768; /* the start of Linux's ephemeral range */
    ms->next_ip_id = 1;
    ms->cap_net_admin = true;
    return &ms->base;
}


void memio_sys_set_permissions(memio_sys *sys, unsigned perms)
{
    struct mem_sys *ms;

    if (!mem__is_memory(sys))
        return;
    ms = mem_sys_of(sys);
    mem__lock(ms);
    ms->perms = perms;
    mem__unlock(ms);
}

void memio_sys_set_credentials(memio_sys *sys, uid_t euid, gid_t egid, int cap_net_admin)
{
    struct mem_sys *ms;

    if (!mem__is_memory(sys))
        return;
    ms = mem_sys_of(sys);
    mem__lock(ms);
    ms->euid = euid;
    ms->egid = egid;
    ms->cap_net_admin = cap_net_admin != 0;
    mem__unlock(ms);
}

/* --- descriptors ---------------------------------------------------------- */

/* The file behind fd, or NULL, leaving errno alone. */
static inline memio_file *mem__file_or_null(struct mem_sys *ms, int fd)
{
    size_t i = (size_t)(unsigned)fd - MEM_FD_BASE;

    return fd >= MEM_FD_BASE && i < ms->nfds ? ms->fds[i].file : NULL;
}

memio_file *mem__file(struct mem_sys *ms, int fd)
{
    memio_file *f = mem__file_or_null(ms, fd);

    if (!f)
        errno = EBADF;
    return f;
}

/* Gives fd a new number; numbers only grow, so a stale one stays EBADF. */
static int fd_alloc(struct mem_sys *ms, memio_file *f, bool cloexec)
{
    if (ms->nfds >= (size_t)INT_MAX - MEM_FD_BASE) {
        errno = EMFILE;
        return -1;
    }
    if (ms->nfds == ms->fds_cap) {
        size_t cap = ms->fds_cap * 2;
        struct mem_fd *n = realloc(ms->fds == ms->fds_inline ? NULL : ms->fds, cap * sizeof(*n));
        if (!n) {
            errno = ENOMEM;
            return -1;
        }
        if (ms->fds == ms->fds_inline)
            memcpy(n, ms->fds_inline, sizeof(ms->fds_inline));
        ms->fds = n;
        ms->fds_cap = cap;
    }
    ms->fds[ms->nfds].file = f;
    ms->fds[ms->nfds].cloexec = cloexec;
    f->ndesc++;
    f->refs++;
    return (int)(MEM_FD_BASE + ms->nfds++);
}

static int file_flags_from_open(int flags)
{
    return (flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC)) |
           KERNEL_O_LARGEFILE;
}

int mem__install(struct mem_sys *ms, const memio_device_class *cls, int flags,
                 memio_file **out)
{
    memio_file *f = mem__zalloc(sizeof(*f));
    int fd;

    if (!f) {
        errno = ENOMEM;
        return -1;
    }
    f->sys = ms;
    f->cls = cls;
    f->open_flags = flags;
    f->flags = file_flags_from_open(flags);
    fd = fd_alloc(ms, f, flags & O_CLOEXEC);
    if (fd < 0) {
        free(f);
        return -1;
    }
    *out = f;
    return fd;
}

/* Drops one reference; the last one releases the file through its class. */
static void file_unref(memio_file *f)
{
    if (--f->refs)
        return;
    if (f->cls->close)
        f->cls->close(f);
    free(f);
}

/* Ends a call's hold on a file (taken with refs++ before calling its
 * class), keeping the call's errno; the last reference releases the file,
 * as when another thread closed it meanwhile. */
static inline void file_release(memio_file *f)
{
    if (f->refs > 1) {
        f->refs--;
    } else {
        int e = errno;
        file_unref(f);
        errno = e;
    }
}

/* --- waiting ------------------------------------------------------------- */

void mem__wake_waiters(struct mem_sys *ms)
{
    static const uint64_t one = 1;
    struct mem_waiter *w;

    for (w = ms->active; w; w = w->next) {
        ssize_t r = write(w->efd, &one, sizeof(one));
        (void)r; /* an eventfd at its maximum count is already awake */
    }
}

static struct mem_waiter *waiter_get(struct mem_sys *ms)
{
    struct mem_waiter *w = ms->pool;

    if (w) {
        ms->pool = w->next;
    } else {
        w = calloc(1, sizeof(*w));
        if (!w) {
            errno = ENOMEM;
            return NULL;
        }
        w->efd = eventfd(0, EFD_CLOEXEC);
        if (w->efd < 0) {
            int e = errno;
            free(w);
            errno = e;
            return NULL;
        }
    }
    w->prev = NULL;
    w->next = ms->active;
    if (ms->active)
        ms->active->prev = w;
    ms->active = w;
    return w;
}

static void waiter_put(struct mem_sys *ms, struct mem_waiter *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        ms->active = w->next;
    if (w->next)
        w->next->prev = w->prev;
    w->prev = NULL;
    w->next = ms->pool;
    ms->pool = w;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Sleeping in a kernel call gives signals their kernel meaning for free: a
 * read of the eventfd is interrupted with EINTR (I02), or restarted under
 * SA_RESTART (I03), as the tun driver's own sleep is.  poll(2) is never
 * restarted, as memio_poll must not be; it serves deadlines too.
 */
int mem__wait(struct mem_sys *ms, memio_file *f, int64_t deadline_ms, bool use_read)
{
    return mem__wait_set(ms, f, deadline_ms, use_read, NULL, 0);
}

int mem__wait_set(struct mem_sys *ms, memio_file *f, int64_t deadline_ms, bool use_read,
                  struct pollfd *set, nfds_t nset)
{
    struct mem_waiter *w;
    int r, err = 0;

    if (ms->freeing || (f && f->closed)) {
        errno = EBADF;
        return -1;
    }
    if (!ms->mutex_held) {
        /* Held by bias: only another thread can wake us, so the bias goes.
         * The lock is let go for a moment, so the call counts as blocked
         * meanwhile (memio_sys_free waits for it); whatever changed, the
         * caller checks again (a spurious wake). */
        ms->blocked++;
        mem__hold_mutex(ms);
        if (--ms->blocked == 0 && ms->freeing)
            pthread_cond_broadcast(&ms->idle);
        if (ms->freeing || (f && f->closed)) {
            errno = EBADF;
            return -1;
        }
        return 0;
    }
    w = waiter_get(ms);
    if (!w)
        return -1;
    ms->blocked++;
    mem__unlock(ms);
    if (use_read && deadline_ms < 0 && !set) {
        uint64_t v;
        r = read(w->efd, &v, sizeof(v)) < 0 ? -1 : 0;
    } else {
        struct pollfd one;
        int timeout = -1;
        if (!set) {
            set = &one;
            nset = 1;
        }
        set[0].fd = w->efd;
        set[0].events = POLLIN;
        set[0].revents = 0;
        if (deadline_ms >= 0) {
            int64_t left = deadline_ms - now_ms();
            timeout = left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
        }
        r = poll(set, nset, timeout);
        if (r > 0) {
            if (set[0].revents & POLLIN) {
                uint64_t v;
                ssize_t n = read(w->efd, &v, sizeof(v));
                (void)n;
            }
            r = 0;
        } else if (r == 0) {
            r = 1;
        }
    }
    if (r < 0)
        err = errno;
    mem__lock(ms);
    waiter_put(ms, w);
    if (--ms->blocked == 0 && ms->freeing)
        pthread_cond_broadcast(&ms->idle);
    if (ms->freeing || (f && f->closed)) {
        errno = EBADF;
        return -1;
    }
    if (r < 0) {
        errno = err;
        return -1;
    }
    return r;
}

int memio_file_wait(memio_file *f)
{
    return mem__wait(f->sys, f, -1, true);
}

void memio_file_notify(memio_file *f)
{
    mem__wake_all(f->sys);
}

int memio_file_flags(const memio_file *f)
{
    return f->flags;
}

void memio_file_set_owner(memio_file *f, pid_t owner)
{
    f->owner = owner;
}

/* Changes the file's flags; a change of O_ASYNC goes to the class's
 * fasync, as setfl and FIOASYNC do. */
static int file_set_flags(memio_file *f, int flags)
{
    int was = f->flags & O_ASYNC;

    f->flags = flags;
    if (was != (flags & O_ASYNC) && f->cls->fasync)
        return f->cls->fasync(f, (flags & O_ASYNC) != 0);
    return 0;
}

void *memio_file_data(const memio_file *f)
{
    return f->data;
}

void memio_file_set_data(memio_file *f, void *data)
{
    f->data = data;
}

memio_sys *memio_file_sys(const memio_file *f)
{
    return &f->sys->base;
}

void mem__send_signals(const struct mem_signal *sigs, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (sigs[i].pid > 0)
            kill(sigs[i].pid, sigs[i].sig);
        else if (sigs[i].pid < 0)
            kill(sigs[i].pid, sigs[i].sig); /* a process group, as F_SETOWN -pgrp */
    }
}

/* --- iovecs -------------------------------------------------------------- */

void mem__iov_put(const struct iovec *iov, int iovcnt, size_t off, const void *src,
                  size_t len)
{
    const uint8_t *s = src;
    int i;

    for (i = 0; i < iovcnt && len; i++) {
        size_t n;
        if (off >= iov[i].iov_len) {
            off -= iov[i].iov_len;
            continue;
        }
        n = iov[i].iov_len - off;
        if (n > len)
            n = len;
        memcpy((uint8_t *)iov[i].iov_base + off, s, n);
        s += n;
        len -= n;
        off = 0;
    }
}

void mem__iov_get(const struct iovec *iov, int iovcnt, size_t off, void *dst,
                  size_t len)
{
    uint8_t *d = dst;
    int i;

    for (i = 0; i < iovcnt && len; i++) {
        size_t n;
        if (off >= iov[i].iov_len) {
            off -= iov[i].iov_len;
            continue;
        }
        n = iov[i].iov_len - off;
        if (n > len)
            n = len;
        memcpy(d, (const uint8_t *)iov[i].iov_base + off, n);
        d += n;
        len -= n;
        off = 0;
    }
}

/* import_iovec's checks: a count within 0..UIO_MAXIOV (EINVAL), a readable
 * array (EFAULT), a total that fits ssize_t (EINVAL). */
static int iov_check(const struct iovec *iov, int iovcnt)
{
    size_t total = 0;
    int i;

    if (iovcnt < 0 || iovcnt > IOV_MAX) {
        errno = EINVAL;
        return -1;
    }
    if (iovcnt && memio__bad_ptr(iov)) {
        errno = EFAULT;
        return -1;
    }
    for (i = 0; i < iovcnt; i++) {
        if (iov[i].iov_len > (size_t)SSIZE_MAX - total) {
            errno = EINVAL;
            return -1;
        }
        total += iov[i].iov_len;
    }
    return 0;
}

/* --- the calls ------------------------------------------------------------ */

static int mem_open(memio_sys *sys, const char *path, int flags, mode_t mode)
{
    struct mem_sys *ms = mem_sys_of(sys);
    const memio_device_class *cls = NULL;
    memio_file *f;
    size_t i;
    int fd;

    (void)mode;
    mem__lock(ms);
    if (!(ms->perms & MEMIO_PERM_OPEN)) {
        errno = EPERM;
        goto fail;
    }
    if (memio__bad_ptr(path)) {
        errno = EFAULT;
        goto fail;
    }
    if (strnlen(path, PATH_MAX) >= PATH_MAX) {
        errno = ENAMETOOLONG;
        goto fail;
    }
    for (i = 0; i < ms->ndevs; i++)
        if (strcmp(mem__reg_path(&ms->devs[i]), path) == 0)
            cls = ms->devs[i].cls;
    if (!cls) {
        errno = ENOSYS; /* the seed's documented answer; the kernel: ENOENT */
        goto fail;
    }
    fd = mem__install(ms, cls, flags, &f);
    if (fd < 0)
        goto fail;
    if (cls->open && cls->open(f, f->flags) < 0) {
        int e = errno;
        ms->fds[fd - MEM_FD_BASE].file = NULL;
        f->ndesc = 0;
        f->refs = 0;
        free(f);
        errno = e;
        goto fail;
    }
    mem__unlock(ms);
    return fd;
fail:
    mem__unlock(ms);
    return -1;
}

/* The descriptor's file if it is open for the call's direction (A25, A26:
 * EBADF before the driver), or NULL with errno. */
static inline memio_file *file_for_rw(struct mem_sys *ms, int fd, bool write)
{
    memio_file *f = mem__file(ms, fd);
    int acc;

    if (!f)
        return NULL;
    acc = f->flags & O_ACCMODE;
    if (acc == 3 || acc == (write ? O_RDONLY : O_WRONLY)) {
        errno = EBADF;
        return NULL;
    }
    return f;
}

/* The class's callback, with the file held so that a close meanwhile
 * cannot free it; the lock held. */
static ssize_t file_rw_held(memio_file *f, const struct iovec *iov, int iovcnt, bool write)
{
    ssize_t r;

    if (!(write ? f->cls->write != NULL : f->cls->read != NULL)) {
        errno = EINVAL;
        return -1;
    }
    f->refs++;
    r = write ? f->cls->write(f, iov, iovcnt) : f->cls->read(f, iov, iovcnt);
    file_release(f);
    return r;
}

/* A read or write as the VFS does it: the descriptor, the access mode,
 * for readv and writev the iovec, then the class's callback. */
static ssize_t file_call_rw(struct mem_sys *ms, int fd, const struct iovec *iov, int iovcnt,
                            bool write, bool vector)
{
    memio_file *f;
    ssize_t r = -1;

    mem__lock(ms);
    f = file_for_rw(ms, fd, write);
    if (f && (!vector || iov_check(iov, iovcnt) == 0))
        r = file_rw_held(f, iov, iovcnt, write);
    mem__unlock(ms);
    return r;
}

/* readv and writev: the descriptor and the access mode come before the
 * iovec's checks, as in the VFS (file_call_rw); then the call as read and
 * write make it. */
static ssize_t vector_rw(memio_sys *sys, int fd, const struct iovec *iov, int iovcnt, bool write)
{
    return file_call_rw(mem_sys_of(sys), fd, iov, iovcnt, write, true);
}

static ssize_t mem_readv(memio_sys *sys, int fd, const struct iovec *iov, int iovcnt)
{
    return vector_rw(sys, fd, iov, iovcnt, false);
}

static ssize_t mem_read(memio_sys *sys, int fd, void *buf, size_t len)
{
    struct mem_sys *ms = mem_sys_of(sys);
    struct iovec iov = {.iov_base = buf, .iov_len = len};
    memio_file *f;
    ssize_t r;

    /* read(2) caps a count at MAX_RW_COUNT; anything larger than the
     * address space cannot be a valid buffer.  One buffer is a valid
     * iovec, so readv's checks are skipped. */
    if (len > (size_t)SSIZE_MAX) {
        errno = EFAULT;
        return -1;
    }
    mem__lock(ms);
    f = file_for_rw(ms, fd, false);
    if (!f) {
        r = -1;
    } else {
        /* The usual reads, of a TUN or a receive descriptor with a frame
         * queued, in one short step: they cannot sleep, so need no hold on
         * the file and skip the class's call.  Any other goes on under the
         * same hold of the lock. */
        r = MEM_NOT_PLAIN;
        if (f->cls == &memio_tun_device)
            r = mem__tun_read_plain(f, buf, len);
        else if (f->cls == &mem__udp_class)
            r = mem__udp_read_plain(f, buf, len);
        if (r == MEM_NOT_PLAIN)
            r = file_rw_held(f, &iov, 1, false);
    }
    mem__unlock(ms);
    return r;
}

static ssize_t mem_writev(memio_sys *sys, int fd, const struct iovec *iov, int iovcnt)
{
    return vector_rw(sys, fd, iov, iovcnt, true);
}

static ssize_t mem_write(memio_sys *sys, int fd, const void *buf, size_t len)
{
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    if (len > (size_t)SSIZE_MAX) {
        errno = EFAULT;
        return -1;
    }
    return file_call_rw(mem_sys_of(sys), fd, &iov, 1, true, false);
}

static int mem_close(memio_sys *sys, int fd)
{
    struct mem_sys *ms = mem_sys_of(sys);
    memio_file *f;

    mem__lock(ms);
    f = mem__file(ms, fd);
    if (!f) {
        mem__unlock(ms);
        return -1;
    }
    ms->fds[fd - MEM_FD_BASE].file = NULL;
    if (--f->ndesc == 0) {
        /* A call blocked on the file wakes and returns EBADF: a documented
         * difference, the kernel keeps the file until the call returns. */
        f->closed = true;
        mem__wake_all(ms);
    }
    file_unref(f);
    mem__unlock(ms);
    return 0;
}

/* The ioctls the VFS answers itself, before any driver (fs/ioctl.c):
 * returns 1 when it handled the request (result in *ret). */
static int vfs_ioctl(struct mem_sys *ms, int fd, memio_file *f, unsigned int cmd,
                     void *arg, int *ret)
{
    int v;

    switch (cmd) {
    case FIOCLEX:
    case FIONCLEX:
        ms->fds[fd - MEM_FD_BASE].cloexec = cmd == FIOCLEX;
        *ret = 0;
        return 1;
    case FIONBIO: /* C66, C67 */
    case FIOASYNC:
        if (memio__bad_ptr(arg)) {
            errno = EFAULT;
            *ret = -1;
            return 1;
        }
        memcpy(&v, arg, sizeof(v));
        {
            int bit = cmd == FIONBIO ? O_NONBLOCK : O_ASYNC;
            *ret = file_set_flags(f, v ? f->flags | bit : f->flags & ~bit);
        }
        return 1;
    default:
        return 0;
    }
}

static int mem_ioctl(memio_sys *sys, int fd, unsigned long request, void *arg)
{
    struct mem_sys *ms = mem_sys_of(sys);
    memio_file *f;
    int r = -1;

    mem__lock(ms);
    if (!(ms->perms & MEMIO_PERM_IOCTL)) {
        errno = EPERM;
        goto out;
    }
    f = mem__file(ms, fd);
    if (!f)
        goto out;
    /* The kernel's ioctl takes an unsigned int command. */
    if (vfs_ioctl(ms, fd, f, (unsigned int)request, arg, &r))
        goto out;
    if (!f->cls->ioctl) {
        errno = ENOTTY;
        goto out;
    }
    f->refs++;
    r = f->cls->ioctl(f, (unsigned int)request, arg);
    file_release(f);
out:
    mem__unlock(ms);
    return r;
}

static int mem_fcntl(memio_sys *sys, int fd, int cmd, unsigned long arg)
{
    struct mem_sys *ms = mem_sys_of(sys);
    memio_file *f;
    int r = -1;

    mem__lock(ms);
    f = mem__file(ms, fd);
    if (!f)
        goto out;
    switch (cmd) {
    case F_GETFL:
        r = f->flags;
        break;
    case F_SETFL:
        r = file_set_flags(f, (f->flags & ~SETFL_MASK) | ((int)arg & SETFL_MASK));
        break;
    case F_GETFD:
        r = ms->fds[fd - MEM_FD_BASE].cloexec ? FD_CLOEXEC : 0;
        break;
    case F_SETFD:
        ms->fds[fd - MEM_FD_BASE].cloexec = (arg & FD_CLOEXEC) != 0;
        r = 0;
        break;
    case F_GETOWN:
        r = f->owner;
        break;
    case F_SETOWN:
        f->owner = (pid_t)(int)arg;
        r = 0;
        break;
    case F_GETSIG:
        r = f->sig;
        break;
    case F_SETSIG:
        if ((int)arg < 0 || (int)arg > _NSIG - 1) {
            errno = EINVAL;
            break;
        }
        f->sig = (int)arg;
        r = 0;
        break;
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
        if ((int)arg < 0) {
            errno = EINVAL;
            break;
        }
        /* Memory descriptors only grow, so any new one is >= arg unless arg
         * is beyond them all: then the kernel would give exactly arg, which
         * memio cannot promise; it refuses rather than lie. */
        if ((size_t)(int)arg > MEM_FD_BASE + ms->nfds) {
            errno = EINVAL;
            break;
        }
        r = fd_alloc(ms, f, cmd == F_DUPFD_CLOEXEC);
        break;
    default:
        errno = EINVAL;
        break;
    }
out:
    mem__unlock(ms);
    return r;
}

/* What a file reports to poll before masking; a class without poll is
 * always ready, as the VFS's DEFAULT_POLLMASK. */
static short file_poll(memio_file *f, short events)
{
    if (!f->cls->poll)
        return POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
    return f->cls->poll(f, events);
}

/* poll(2) over the system's own descriptors and, beside them, kernel
 * descriptors (numbers below 8192: a real socket of the program's, a pipe,
 * a timerfd), so that code under test keeps one poll loop: memory
 * descriptors are scanned under the lock, kernel ones asked of the kernel,
 * and a blocking wait sleeps in one poll(2) on the kernel descriptors and
 * the waiter's eventfd together. */
static int mem_poll(memio_sys *sys, struct pollfd *fds, nfds_t nfds, int timeout_ms)
{
    enum { KSTACK = 32 };
    struct mem_sys *ms = mem_sys_of(sys);
    int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    struct pollfd kstack[KSTACK + 1], *kset = kstack;
    nfds_t nk = 0, i, k;
    int r;

    if (nfds > 1024) {
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && nfds > rl.rlim_cur) {
            errno = EINVAL;
            return -1;
        }
    }
    if (nfds && memio__bad_ptr(fds)) {
        errno = EFAULT;
        return -1;
    }
    for (i = 0; i < nfds; i++)
        if (fds[i].fd >= 0 && fds[i].fd < MEM_FD_BASE)
            nk++;
    if (nk > KSTACK) {
        kset = malloc((nk + 1) * sizeof(*kset));
        if (!kset) {
            errno = ENOMEM;
            return -1;
        }
    }
    /* kset[0] is the waiter's eventfd (mem__wait_set); 1.. the kernel's. */
    for (i = 0, k = 1; i < nfds; i++) {
        if (fds[i].fd >= 0 && fds[i].fd < MEM_FD_BASE) {
            kset[k].fd = fds[i].fd;
            kset[k].events = fds[i].events;
            kset[k++].revents = 0;
        }
    }
    mem__lock(ms);
    for (;;) {
        int count = 0;

        if (nk && poll(kset + 1, nk, 0) < 0) {
            r = -1;
            break;
        }
        for (i = 0, k = 1; i < nfds; i++) {
            memio_file *f;
            short mask;

            fds[i].revents = 0;
            if (fds[i].fd < 0)
                continue;
            if (fds[i].fd < MEM_FD_BASE) {
                fds[i].revents = kset[k++].revents;
            } else if (!(f = mem__file(ms, fds[i].fd))) {
                fds[i].revents = POLLNVAL;
            } else {
                mask = file_poll(f, fds[i].events);
                fds[i].revents = mask & (fds[i].events | POLLERR | POLLHUP);
            }
            if (fds[i].revents)
                count++;
        }
        if (count || timeout_ms == 0) {
            r = count;
            break;
        }
        r = mem__wait_set(ms, NULL, deadline, false, nk ? kset : NULL, nk + 1);
        if (r < 0)
            break;
        if (r == 1) {
            r = 0;
            break;
        }
    }
    mem__unlock(ms);
    if (kset != kstack) {
        int e = errno;
        free(kset);
        errno = e;
    }
    return r;
}

/* recvfrom(2): only a receive descriptor is a socket here. */
static ssize_t mem_recvfrom(memio_sys *sys, int fd, void *buf, size_t len, struct sockaddr *from,
                            socklen_t *fromlen)
{
    struct mem_sys *ms = mem_sys_of(sys);
    memio_file *f;
    ssize_t r = -1;

    mem__lock(ms);
    f = mem__file(ms, fd);
    if (!f)
        goto out;
    if (f->cls != &mem__udp_class) {
        errno = ENOTSOCK;
        goto out;
    }
    if (len && memio__bad_ptr(buf)) {
        errno = EFAULT;
        goto out;
    }
    f->refs++;
    r = mem__udp_recvfrom(f, buf, len, from, fromlen);
    file_release(f);
out:
    mem__unlock(ms);
    return r;
}

static void mem_free(memio_sys *sys)
{
    struct mem_sys *ms = mem_sys_of(sys);
    struct mem_waiter *w;
    size_t i;

    mem__lock(ms);
    mem__hold_mutex(ms); /* for the condition variable */
    ms->freeing = true;
    mem__wake_all(ms);
    while (ms->blocked) {
        pthread_cond_wait(&ms->idle, &ms->lock);
        ms->mutex_held = true; /* the holders meanwhile cleared it */
    }
    for (i = 0; i < ms->nfds; i++) {
        memio_file *f = ms->fds[i].file;
        if (!f)
            continue;
        ms->fds[i].file = NULL;
        f->ndesc--;
        file_unref(f);
    }
    mem__tunnels_free(ms);
    mem__unlock(ms);

    while ((w = ms->pool)) {
        ms->pool = w->next;
        close(w->efd);
        free(w);
    }
    for (i = 0; i < ms->ndevs; i++)
        free(ms->devs[i].long_path);
    if (ms->devs != ms->devs_inline)
        free(ms->devs);
    if (ms->fds != ms->fds_inline)
        free(ms->fds);
    pthread_cond_destroy(&ms->idle);
    pthread_mutex_destroy(&ms->lock);
    free(ms);
}

/* --- the registry ------------------------------------------------------- */

int memio_register_device(memio_sys *sys, const char *path, const memio_device_class *cls)
{
    struct mem_sys *ms;
    struct mem_device_reg *n;
    size_t i, len;
    char *copy;

    if (!mem__is_memory(sys)) {
        errno = sys ? EINVAL : EFAULT;
        return -1;
    }
    if (memio__bad_ptr(path) || memio__bad_ptr(cls)) {
        errno = EFAULT;
        return -1;
    }
    if (cls->version != MEMIO_DEVICE_CLASS_VERSION) {
        errno = EINVAL;
        return -1;
    }
    if (strnlen(path, PATH_MAX) >= PATH_MAX) {
        errno = ENAMETOOLONG;
        return -1;
    }
    ms = mem_sys_of(sys);
    mem__lock(ms);
    for (i = 0; i < ms->ndevs; i++) {
        if (strcmp(mem__reg_path(&ms->devs[i]), path) == 0) {
            mem__unlock(ms);
            errno = EEXIST;
            return -1;
        }
    }
    if (ms->ndevs == ms->devs_cap) {
        size_t cap = ms->devs_cap * 2;
        n = realloc(ms->devs == ms->devs_inline ? NULL : ms->devs, cap * sizeof(*n));
        if (!n)
            goto nomem;
        if (ms->devs == ms->devs_inline)
            memcpy(n, ms->devs_inline, sizeof(ms->devs_inline));
        ms->devs = n;
        ms->devs_cap = cap;
    }
    len = strlen(path);
    copy = NULL;
    if (len < sizeof(ms->devs[0].short_path))
        memcpy(ms->devs[ms->ndevs].short_path, path, len + 1);
    else if (!(copy = strdup(path)))
        goto nomem;
    ms->devs[ms->ndevs].long_path = copy;
    ms->devs[ms->ndevs].cls = cls;
    ms->ndevs++;
    mem__unlock(ms);
    return 0;
nomem:
    mem__unlock(ms);
    errno = ENOMEM;
    return -1;
}

int memio_register_tun(memio_sys *sys)
{
    return memio_register_device(sys, "/dev/net/tun", &memio_tun_device);
}

static const struct memio_sys_ops mem_ops = {
    .version = 1,
    .name = "memory",
    .open = mem_open,
    .read = mem_read,
    .write = mem_write,
    .readv = mem_readv,
    .writev = mem_writev,
    .close = mem_close,
    .ioctl = mem_ioctl,
    .fcntl = mem_fcntl,
    .poll = mem_poll,
    .send_udp = mem__send_udp,
    .receive_udp = mem__receive_udp,
    .recvfrom = mem_recvfrom,
    .free = mem_free,
};
