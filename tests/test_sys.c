/*
 * test_sys.c — the I/O system itself: descriptors, the device registry and
 * device classes, the seed's permissions, fcntl, iovec checks, poll, a
 * system made by a thread that exited, and the os system's table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <linux/if_tun.h>

#include "testutil.h"

static int setup(void **state)
{
    *state = tu_memory();
    return 0;
}

static int teardown(void **state)
{
    memio_sys_free(*state);
    return 0;
}

/* --- descriptors ----------------------------------------------------------- */

/* Descriptors start at 8192 and are never reused: a stale one is EBADF. */
static void test_descriptors_start_at_8192_and_are_never_reused(void **state)
{
    memio_sys *sys = *state;
    int a = memio_open(sys, "/dev/net/tun", O_RDWR);
    int b, c;
    assert_int_equal(a, 8192);
    assert_int_equal(memio_close(sys, a), 0);
    b = memio_open(sys, "/dev/net/tun", O_RDWR);
    assert_int_equal(b, 8193);
    ASSERT_ERR(memio_close(sys, a), EBADF);
    ASSERT_ERR(memio_read(sys, a, &c, sizeof(c)), EBADF);
    ASSERT_ERR(memio_write(sys, a, &c, sizeof(c)), EBADF);
    ASSERT_ERR(memio_ioctl(sys, a, TUNGETIFF, NULL), EBADF);
    ASSERT_ERR(memio_fcntl(sys, a, F_GETFL), EBADF);
    /* Numbers the system never gave out: below 8192, negative, far above. */
    ASSERT_ERR(memio_read(sys, 0, &c, sizeof(c)), EBADF);
    ASSERT_ERR(memio_read(sys, -1, &c, sizeof(c)), EBADF);
    ASSERT_ERR(memio_close(sys, INT_MAX), EBADF);
}

/* A stale memory descriptor polls as POLLNVAL, and so does a closed kernel
 * one; a negative one is skipped. */
static void test_poll_reports_pollnval_for_stale_descriptors(void **state)
{
    memio_sys *sys = *state;
    int fd = tu_tun(sys, O_RDWR, "p0", IFF_TUN);
    int stale = memio_open(sys, "/dev/net/tun", O_RDWR);
    int pipefd[2];
    struct pollfd p[4] = {
        {.fd = fd, .events = POLLOUT},
        {.fd = stale, .events = POLLIN},
        {.fd = -1, .events = POLLIN, .revents = 0x7f},
        {.fd = 0, .events = POLLIN},
    };
    assert_int_equal(pipe(pipefd), 0);
    close(pipefd[0]);
    close(pipefd[1]);
    p[3].fd = pipefd[0]; /* closed: the kernel says POLLNVAL */
    memio_close(sys, stale);
    assert_int_equal(memio_poll(sys, p, 4, 0), 3);
    assert_int_equal(p[0].revents, POLLOUT);
    assert_int_equal(p[1].revents, POLLNVAL);
    assert_int_equal(p[2].revents, 0);
    assert_int_equal(p[3].revents, POLLNVAL);
}

/* One poll over a memory tunnel and a kernel pipe: each reports its own
 * readiness, and a blocking poll wakes for either. */
struct poke {
    int fd;
    memio_tunnel *t;
};

static void *poke_later(void *arg)
{
    struct poke *pk = arg;
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    if (pk->t) {
        static const uint8_t pkt[20] = {0x45, 0, 0, 20};
        memio_tunnel_inject(pk->t, pkt, sizeof(pkt));
    } else {
        ssize_t n = write(pk->fd, "x", 1);
        (void)n;
    }
    return NULL;
}

static void test_poll_mixes_memory_and_kernel_descriptors(void **state)
{
    memio_sys *sys = *state;
    int fd = tu_tun(sys, O_RDWR | O_NONBLOCK, "mix0", IFF_TUN | IFF_NO_PI);
    memio_tunnel *t = memio_tunnel_get(sys, fd);
    int pfd[2];
    struct pollfd p[2];
    struct poke pk;
    pthread_t th;
    char c;
    assert_int_equal(pipe(pfd), 0);
    p[0].fd = fd;
    p[0].events = POLLIN;
    p[1].fd = pfd[0];
    p[1].events = POLLIN;
    assert_int_equal(memio_poll(sys, p, 2, 0), 0);
    /* the kernel side wakes a blocked poll */
    pk.fd = pfd[1];
    pk.t = NULL;
    assert_int_equal(pthread_create(&th, NULL, poke_later, &pk), 0);
    assert_int_equal(memio_poll(sys, p, 2, 5000), 1);
    pthread_join(th, NULL);
    assert_int_equal(p[0].revents, 0);
    assert_int_equal(p[1].revents, POLLIN);
    assert_int_equal(read(pfd[0], &c, 1), 1);
    /* and so does the memory side */
    pk.t = t;
    assert_int_equal(pthread_create(&th, NULL, poke_later, &pk), 0);
    assert_int_equal(memio_poll(sys, p, 2, 5000), 1);
    pthread_join(th, NULL);
    assert_int_equal(p[0].revents, POLLIN);
    assert_int_equal(p[1].revents, 0);
    close(pfd[0]);
    close(pfd[1]);
}

/* More kernel descriptors than the poll keeps on its stack (32). */
static void test_poll_over_many_kernel_descriptors(void **state)
{
    memio_sys *sys = *state;
    enum { N = 40 };
    int pipes[N][2], i;
    struct pollfd p[N + 1];
    p[N].fd = tu_tun(sys, O_RDWR | O_NONBLOCK, "many0", IFF_TUN);
    p[N].events = POLLIN;
    for (i = 0; i < N; i++) {
        assert_int_equal(pipe(pipes[i]), 0);
        p[i].fd = pipes[i][0];
        p[i].events = POLLIN;
    }
    assert_int_equal(write(pipes[37][1], "y", 1), 1);
    assert_int_equal(memio_poll(sys, p, N + 1, 1000), 1);
    for (i = 0; i < N; i++)
        assert_int_equal(p[i].revents, i == 37 ? POLLIN : 0);
    assert_int_equal(p[N].revents, 0);
    for (i = 0; i < N; i++) {
        close(pipes[i][0]);
        close(pipes[i][1]);
    }
}

/* poll's own errors: NULL with nfds > 0 is EFAULT; nothing ready and no
 * timeout returns 0; a timeout returns 0 once it passes. */
static void test_poll_errors_and_timeouts(void **state)
{
    memio_sys *sys = *state;
    int fd = tu_tun(sys, O_RDWR, "p1", IFF_TUN);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    ASSERT_ERR(memio_poll(sys, NULL, 1, 0), EFAULT);
    assert_int_equal(memio_poll(sys, NULL, 0, 0), 0);
    assert_int_equal(memio_poll(sys, &p, 1, 0), 0);
    assert_int_equal(memio_poll(sys, &p, 1, 20), 0);
    assert_int_equal(p.revents, 0);
}

/* readv/writev check the iovec as the kernel does: count, array, total. */
static void test_iovec_checks(void **state)
{
    memio_sys *sys = *state;
    int fd = tu_tun(sys, O_RDWR | O_NONBLOCK, "iov0", IFF_TUN | IFF_NO_PI);
    struct iovec big[2] = {{.iov_base = &fd, .iov_len = SSIZE_MAX}, {.iov_base = &fd, .iov_len = 2}};
    ASSERT_ERR(memio_readv(sys, fd, NULL, 1), EFAULT);
    ASSERT_ERR(memio_writev(sys, fd, NULL, 1), EFAULT);
    ASSERT_ERR(memio_readv(sys, fd, big, -1), EINVAL);
    ASSERT_ERR(memio_writev(sys, fd, big, 1025), EINVAL);
    ASSERT_ERR(memio_writev(sys, fd, big, 2), EINVAL);
    /* An empty iovec reads 0 without consuming (E06). */
    assert_int_equal(memio_readv(sys, fd, big, 0), 0);
}

/* --- the registry and device classes -------------------------------------- */

/* test_noSuchDevice's rule, and the registry's errors. */
static void test_registry_rules(void **state)
{
    memio_sys *sys = *state;
    static memio_device_class bad = {.version = 99, .name = "bad"};
    char longpath[PATH_MAX + 1];
    ASSERT_ERR(memio_open(sys, "/dev/net/tap", O_RDWR), ENOSYS);
    ASSERT_ERR(memio_open(sys, NULL, O_RDWR), EFAULT);
    ASSERT_ERR(memio_register_device(sys, "/dev/net/tun", &memio_tun_device), EEXIST);
    ASSERT_ERR(memio_register_device(sys, "/dev/x", &bad), EINVAL);
    ASSERT_ERR(memio_register_device(sys, NULL, &memio_tun_device), EFAULT);
    ASSERT_ERR(memio_register_device(sys, "/dev/x", NULL), EFAULT);
    ASSERT_ERR(memio_register_device(memio_sys_os(), "/dev/x", &memio_tun_device), EINVAL);
    memset(longpath, 'a', PATH_MAX);
    longpath[PATH_MAX] = 0;
    ASSERT_ERR(memio_register_device(sys, longpath, &memio_tun_device), ENAMETOOLONG);
    ASSERT_ERR(memio_open(sys, longpath, O_RDWR), ENAMETOOLONG);
    /* A second path for the same class works. */
    assert_int_equal(memio_register_device(sys, "/dev/tun", &memio_tun_device), 0);
    assert_true(memio_open(sys, "/dev/tun", O_RDWR) >= 0);
}

/* Many paths, short and long, stay registered and open their class. */
static void test_registry_holds_many_paths(void **state)
{
    memio_sys *sys = *state;
    static const char *const paths[] = {"/dev/a", "/dev/b", "/dev/c",
                                        "/dev/a-rather-long-path/for/a/tunnel/device", "/dev/e"};
    size_t i;
    for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        assert_int_equal(memio_register_device(sys, paths[i], &memio_tun_device), 0);
    for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        assert_true(memio_open(sys, paths[i], O_RDWR) >= 0);
    assert_true(memio_open(sys, "/dev/net/tun", O_RDWR) >= 0);
    ASSERT_ERR(memio_register_device(sys, paths[3], &memio_tun_device), EEXIST);
    ASSERT_ERR(memio_open(sys, "/dev/a-rather-long-path", O_RDWR), ENOSYS);
}

/* A new system has nothing registered, as in the seed. */
static void test_new_system_has_no_devices(void **state)
{
    memio_sys *sys = memio_sys_memory();
    (void)state;
    assert_non_null(sys);
    assert_true(memio_sys_is_memory(sys));
    assert_false(memio_sys_is_memory(memio_sys_os()));
    ASSERT_ERR(memio_open(sys, "/dev/net/tun", O_RDWR), ENOSYS);
    memio_sys_free(sys);
}

/* A test's own device class: every call reaches its callbacks, with the
 * system's checks done first. */
struct echo {
    char buf[64];
    size_t len;
    int closed;
};
static struct echo echo_state;

static int echo_open(memio_file *f, int flags)
{
    if ((flags & O_ACCMODE) == O_WRONLY) {
        errno = EACCES;
        return -1;
    }
    memio_file_set_data(f, &echo_state);
    return 0;
}

static ssize_t echo_read(memio_file *f, const struct iovec *iov, int iovcnt)
{
    struct echo *e = memio_file_data(f);
    size_t n = e->len < iov[0].iov_len ? e->len : iov[0].iov_len;
    (void)iovcnt;
    if (!e->len) {
        if (memio_file_flags(f) & O_NONBLOCK) {
            errno = EAGAIN;
            return -1;
        }
    }
    memcpy(iov[0].iov_base, e->buf, n);
    e->len = 0;
    return (ssize_t)n;
}

static ssize_t echo_write(memio_file *f, const struct iovec *iov, int iovcnt)
{
    struct echo *e = memio_file_data(f);
    (void)iovcnt;
    e->len = iov[0].iov_len < sizeof(e->buf) ? iov[0].iov_len : sizeof(e->buf);
    memcpy(e->buf, iov[0].iov_base, e->len);
    memio_file_notify(f);
    return (ssize_t)iov[0].iov_len;
}

static int echo_ioctl(memio_file *f, unsigned long request, void *arg)
{
    (void)f;
    if (request == 42) {
        *(int *)arg = 4242;
        return 0;
    }
    errno = ENOTTY;
    return -1;
}

static short echo_poll(memio_file *f, short events)
{
    struct echo *e = memio_file_data(f);
    (void)events;
    return (short)(POLLOUT | (e->len ? POLLIN : 0));
}

static void echo_close(memio_file *f)
{
    ((struct echo *)memio_file_data(f))->closed++;
}

static const memio_device_class echo_class = {
    .version = MEMIO_DEVICE_CLASS_VERSION,
    .name = "echo",
    .open = echo_open,
    .read = echo_read,
    .write = echo_write,
    .ioctl = echo_ioctl,
    .poll = echo_poll,
    .close = echo_close,
};

static const memio_device_class bare_class = {
    .version = MEMIO_DEVICE_CLASS_VERSION,
    .name = "bare",
};

/* registerSpecialDevice's counterpart: a class of the test's own. */
static void test_custom_device_class_gets_every_call(void **state)
{
    memio_sys *sys = *state;
    char buf[16];
    int v = 0, fd;
    struct pollfd p;
    memset(&echo_state, 0, sizeof(echo_state));
    assert_int_equal(memio_register_device(sys, "/dev/echo", &echo_class), 0);
    ASSERT_ERR(memio_open(sys, "/dev/echo", O_WRONLY), EACCES);
    fd = memio_open(sys, "/dev/echo", O_RDWR | O_NONBLOCK);
    assert_true(fd >= 0);
    p.fd = fd;
    p.events = POLLIN | POLLOUT;
    assert_int_equal(memio_poll(sys, &p, 1, 0), 1);
    assert_int_equal(p.revents, POLLOUT);
    ASSERT_ERR(memio_read(sys, fd, buf, sizeof(buf)), EAGAIN);
    assert_int_equal(memio_write(sys, fd, "ping", 4), 4);
    assert_int_equal(memio_poll(sys, &p, 1, 0), 1);
    assert_int_equal(p.revents, POLLIN | POLLOUT);
    assert_int_equal(memio_read(sys, fd, buf, sizeof(buf)), 4);
    assert_memory_equal(buf, "ping", 4);
    assert_int_equal(memio_ioctl(sys, fd, 42, &v), 0);
    assert_int_equal(v, 4242);
    ASSERT_ERR(memio_ioctl(sys, fd, 43, &v), ENOTTY);
    assert_int_equal(memio_close(sys, fd), 0);
    assert_int_equal(echo_state.closed, 1);
}

/* A class without callbacks answers as a driver without those operations. */
static void test_class_without_callbacks_answers_like_kernel(void **state)
{
    memio_sys *sys = *state;
    char buf[4];
    struct pollfd p;
    int fd;
    assert_int_equal(memio_register_device(sys, "/dev/bare", &bare_class), 0);
    fd = memio_open(sys, "/dev/bare", O_RDWR);
    assert_true(fd >= 0);
    ASSERT_ERR(memio_read(sys, fd, buf, sizeof(buf)), EINVAL);
    ASSERT_ERR(memio_write(sys, fd, buf, sizeof(buf)), EINVAL);
    ASSERT_ERR(memio_ioctl(sys, fd, 1, NULL), ENOTTY);
    p.fd = fd;
    p.events = POLLIN | POLLOUT;
    assert_int_equal(memio_poll(sys, &p, 1, 0), 1);
    assert_int_equal(p.revents, POLLIN | POLLOUT);
    assert_int_equal(memio_close(sys, fd), 0);
}

/* --- permissions ------------------------------------------------------------ */

/* The seed's permissions: a denied open or ioctl is EPERM, checked first. */
static void test_permissions_deny_open_and_ioctl_with_eperm(void **state)
{
    memio_sys *sys = *state;
    int fd = memio_open(sys, "/dev/net/tun", O_RDWR);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TUN;
    memio_sys_set_permissions(sys, MEMIO_PERM_IOCTL);
    ASSERT_ERR(memio_open(sys, "/dev/net/tun", O_RDWR), EPERM);
    ASSERT_ERR(memio_open(sys, "/no/such/device", O_RDWR), EPERM);
    memio_sys_set_permissions(sys, MEMIO_PERM_OPEN);
    ASSERT_ERR(memio_ioctl(sys, fd, TUNSETIFF, &ifr), EPERM);
    ASSERT_ERR(memio_ioctl(sys, 99999, TUNSETIFF, &ifr), EPERM);
    memio_sys_set_permissions(sys, MEMIO_PERM_OPEN | MEMIO_PERM_IOCTL);
    assert_int_equal(memio_ioctl(sys, fd, TUNSETIFF, &ifr), 0);
    /* No-op on the os system. */
    memio_sys_set_permissions(memio_sys_os(), 0);
}

/* --- fcntl ------------------------------------------------------------------ */

/* F_SETFL changes only the flags the kernel lets it change. */
static void test_setfl_changes_only_settable_flags(void **state)
{
    memio_sys *sys = *state;
    int fd = memio_open(sys, "/dev/net/tun", O_RDWR);
    assert_int_equal(memio_fcntl(sys, fd, F_GETFL), 0x8002);
    assert_int_equal(memio_fcntl(sys, fd, F_SETFL, O_NONBLOCK | O_WRONLY | O_APPEND), 0);
    assert_int_equal(memio_fcntl(sys, fd, F_GETFL), 0x8002 | O_NONBLOCK | O_APPEND);
    assert_int_equal(memio_fcntl(sys, fd, F_SETFD, FD_CLOEXEC), 0);
    assert_int_equal(memio_fcntl(sys, fd, F_GETFD), FD_CLOEXEC);
    assert_int_equal(memio_fcntl(sys, fd, F_SETOWN, 1234), 0);
    assert_int_equal(memio_fcntl(sys, fd, F_GETOWN), 1234);
    ASSERT_ERR(memio_fcntl(sys, fd, F_SETSIG, -1), EINVAL);
    ASSERT_ERR(memio_fcntl(sys, fd, 0x7fff), EINVAL);
}

/* I12, I13: F_DUPFD gives a new number for the same file; the device lives
 * until the last descriptor closes. */
static void test_dup_keeps_device_until_last_close(void **state)
{
    memio_sys *sys = *state;
    int fd = tu_tun(sys, O_RDWR, "cl0", IFF_TUN);
    memio_tunnel *t = memio_tunnel_get(sys, fd);
    int dup = memio_fcntl(sys, fd, F_DUPFD_CLOEXEC, 0);
    assert_true(dup > fd);
    assert_int_equal(memio_fcntl(sys, dup, F_GETFD), FD_CLOEXEC);
    assert_ptr_equal(memio_tunnel_get(sys, dup), t);
    assert_int_equal(memio_close(sys, fd), 0);
    assert_true(memio_tunnel_exists(t));
    assert_int_equal(memio_close(sys, dup), 0);
    assert_false(memio_tunnel_exists(t));
    ASSERT_ERR(memio_fcntl(sys, dup, F_DUPFD, 0), EBADF);
}

/* --- the public calls on NULL and on the os system ----------------------- */

static void test_null_system_is_efault_and_free_tolerates_null_and_os(void **state)
{
    char c;
    (void)state;
    ASSERT_ERR(memio_open(NULL, "/dev/net/tun", O_RDWR), EFAULT);
    ASSERT_ERR(memio_read(NULL, 8192, &c, 1), EFAULT);
    ASSERT_ERR(memio_write(NULL, 8192, &c, 1), EFAULT);
    ASSERT_ERR(memio_close(NULL, 8192), EFAULT);
    ASSERT_ERR(memio_ioctl(NULL, 8192, 0), EFAULT);
    ASSERT_ERR(memio_fcntl(NULL, 8192, F_GETFL), EFAULT);
    ASSERT_ERR(memio_poll(NULL, NULL, 0, 0), EFAULT);
    memio_sys_free(NULL);
    memio_sys_free(memio_sys_os());
}

/* The os system is the real calls: a pipe's descriptors work through it. */
static void test_os_system_passes_calls_through(void **state)
{
    memio_sys *os = memio_sys_os();
    int p[2];
    char buf[8];
    struct pollfd pf;
    (void)state;
    assert_int_equal(pipe(p), 0);
    assert_int_equal(memio_write(os, p[1], "abc", 3), 3);
    pf.fd = p[0];
    pf.events = POLLIN;
    assert_int_equal(memio_poll(os, &pf, 1, 1000), 1);
    assert_int_equal(memio_read(os, p[0], buf, sizeof(buf)), 3);
    assert_int_equal(memio_fcntl(os, p[0], F_SETFL, O_NONBLOCK), 0);
    ASSERT_ERR(memio_read(os, p[0], buf, sizeof(buf)), EAGAIN);
    assert_int_equal(memio_close(os, p[0]), 0);
    assert_int_equal(memio_close(os, p[1]), 0);
    ASSERT_ERR(memio_close(os, p[0]), EBADF);
    ASSERT_ERR(memio_open(os, "/dev/there-is-no-such-device-ever", O_RDWR), ENOENT);
    /* recvfrom on a real socket, over loopback only. */
    {
        struct sockaddr_in lo = {.sin_family = AF_INET}, from, mine;
        socklen_t len = sizeof(lo), flen = sizeof(from);
        int a = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        int b = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        lo.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(bind(a, (struct sockaddr *)&lo, sizeof(lo)), 0);
        assert_int_equal(getsockname(a, (struct sockaddr *)&lo, &len), 0);
        assert_int_equal(sendto(b, "os", 2, 0, (struct sockaddr *)&lo, sizeof(lo)), 2);
        len = sizeof(mine);
        assert_int_equal(getsockname(b, (struct sockaddr *)&mine, &len), 0);
        assert_int_equal(memio_recvfrom(os, a, buf, sizeof(buf), (struct sockaddr *)&from, &flen),
                         2);
        assert_int_equal(from.sin_port, mine.sin_port);
        close(a);
        close(b);
    }
    assert_ptr_equal(memio_sys_os(), os);
}

/* --- the lock: biased toward the thread that made the system ------------ */

struct maker {
    memio_sys *sys;
    int fd;
};

static void *make_system(void *arg)
{
    struct maker *m = arg;

    m->sys = tu_memory();
    m->fd = memio_open(m->sys, "/dev/net/tun", O_RDWR | O_NONBLOCK);
    return NULL;
}

/* A system made by a thread that has since exited serves any other. */
static void test_lock_system_made_by_a_thread_that_exited(void **state)
{
    struct maker m = {0};
    struct ifreq ifr;
    pthread_t th;
    uint8_t frame[28] = {0x45}, buf[64];

    (void)state;
    assert_int_equal(pthread_create(&th, NULL, make_system, &m), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_non_null(m.sys);
    assert_true(m.fd >= 8192);
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    assert_int_equal(memio_ioctl(m.sys, m.fd, TUNSETIFF, &ifr), 0);
    assert_int_equal(memio_tunnel_inject(memio_tunnel_get(m.sys, m.fd), frame, sizeof(frame)), 0);
    assert_int_equal(memio_read(m.sys, m.fd, buf, sizeof(buf)), sizeof(frame));
    ASSERT_ERR(memio_read(m.sys, m.fd, buf, sizeof(buf)), EAGAIN);
    memio_sys_free(m.sys);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_descriptors_start_at_8192_and_are_never_reused),
        T(test_poll_reports_pollnval_for_stale_descriptors),
        T(test_poll_mixes_memory_and_kernel_descriptors),
        T(test_poll_over_many_kernel_descriptors),
        T(test_poll_errors_and_timeouts),
        T(test_iovec_checks),
        T(test_registry_rules),
        T(test_registry_holds_many_paths),
        cmocka_unit_test(test_new_system_has_no_devices),
        T(test_custom_device_class_gets_every_call),
        T(test_class_without_callbacks_answers_like_kernel),
        T(test_permissions_deny_open_and_ioctl_with_eperm),
        T(test_setfl_changes_only_settable_flags),
        T(test_dup_keeps_device_until_last_close),
        cmocka_unit_test(test_null_system_is_efault_and_free_tolerates_null_and_os),
        cmocka_unit_test(test_os_system_passes_calls_through),
        cmocka_unit_test(test_lock_system_made_by_a_thread_that_exited),
    };
    return cmocka_run_group_tests_name("memio_sys", tests, NULL, NULL);
}
