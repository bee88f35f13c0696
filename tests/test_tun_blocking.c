/*
 * test_tun_blocking.c — blocking reads, O_NONBLOCK toggling, signals, SIGIO,
 * deletion and closing under a reader, memio_sys_free under blocked calls,
 * and many threads on one tunnel, on the memory system.
 *
 * Each test names the behaviour and cites its case in
 * ../shared/kernel-tun-semantics.md (section I mostly) or the DESIGN.md rule
 * it checks.
 *
 * Threads: cmocka's assertions stay in the test's own (main) thread; helper
 * threads hand their results back through struct helper, read after
 * pthread_join.  Helpers start with every signal blocked, so SIGALRM and
 * SIGIO go to the main thread.
 *
 * No timing assertions: when one thread must act while another is blocked,
 * it waits until /proc says that thread sleeps in a read or poll system call
 * (where the memory system waits), bounded, then acts.  Every blocking wait
 * is bounded: a guard timer sends SIGUSR2 (no SA_RESTART) to the main thread
 * after GUARD_S seconds, which interrupts a stuck memio_read or memio_poll,
 * and joins are timed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <memio/device.h>
#include <memio/packet.h>
#include <memio/sys.h>
#include <memio/tunnel.h>

#include "testutil.h"

#define TUN_PATH "/dev/net/tun"
#define KERNEL_O_LARGEFILE 0x8000 /* what F_GETFL shows on x86-64 (A03) */
#define GUARD_S 20                /* hang guard for the main thread */
#define JOIN_S 30                 /* hang guard for joins */
#define BLOCKED_WAIT_MS 3000      /* how long to look for a thread asleep */
#define MAX_HELPERS 6
#define FRAME_CAP 2048
#define PER_THREAD 1000

/* --- signals ------------------------------------------------------------ */

static atomic_int alarms, sigios, usr1s, guard_fires;

static void on_alarm(int sig)
{
    (void)sig;
    atomic_fetch_add(&alarms, 1);
}

static void on_sigio(int sig)
{
    (void)sig;
    atomic_fetch_add(&sigios, 1);
}

static void on_usr1(int sig)
{
    (void)sig;
    atomic_fetch_add(&usr1s, 1);
}

static void on_guard(int sig)
{
    (void)sig;
    atomic_fetch_add(&guard_fires, 1);
}

static int set_handler(int sig, void (*fn)(int), int flags)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = flags;
    return sigaction(sig, &sa, NULL);
}

/* One SIGALRM after ms milliseconds (0 disarms). */
static void alarm_ms(int ms)
{
    struct itimerval it;

    memset(&it, 0, sizeof(it));
    it.it_value.tv_sec = ms / 1000;
    it.it_value.tv_usec = (ms % 1000) * 1000;
    assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
}

static timer_t guard_timer;

/* SIGUSR2 after GUARD_S seconds, then every second: a stuck blocking call
 * in the main thread returns EINTR and the test fails instead of hanging. */
static void guard_arm(bool on)
{
    struct itimerspec its;

    memset(&its, 0, sizeof(its));
    if (on) {
        its.it_value.tv_sec = GUARD_S;
        its.it_interval.tv_sec = 1;
    }
    timer_settime(guard_timer, 0, &its, NULL);
}

/* --- seeing another thread asleep --------------------------------------- */

/* True when thread tid sleeps in a system call the memory system waits in:
 * a read of an eventfd (8 bytes: valgrind's own lock reads a pipe 1 byte at
 * a time), or poll/ppoll. */
static bool asleep_in_wait(pid_t tid)
{
    char path[64], buf[512];
    const char *p;
    long nr, a1, a2, a3;
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    p = strrchr(buf, ')');
    if (!p || p[1] != ' ' || p[2] != 'S')
        return false;

    snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    if (sscanf(buf, "%ld %lx %lx %lx", &nr, &a1, &a2, &a3) != 4)
        return false;
    (void)a1;
    (void)a2;
    if (nr == SYS_read)
        return a3 == 8;
#ifdef SYS_poll
    if (nr == SYS_poll)
        return true;
#endif
    return nr == SYS_ppoll;
}

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits (bounded) until thread tid is asleep in the memory system.  Returns
 * whether it saw it; callers proceed either way (best effort: the wait is a
 * way to order events, never an assertion). */
static bool wait_asleep(pid_t tid)
{
    int64_t end = mono_ms() + BLOCKED_WAIT_MS;

    while (mono_ms() < end) {
        if (asleep_in_wait(tid)) {
            usleep(2000); /* let it settle in the wait */
            return true;
        }
        usleep(1000);
    }
    return false;
}

static void sleep_ms(int ms)
{
    usleep((useconds_t)ms * 1000);
}

/* --- fixture and helper threads ------------------------------------------ */

struct fixture;
struct helper;
typedef void (*helper_fn)(struct helper *h);

struct helper {
    pthread_t th;
    bool started, joined;
    struct fixture *fx;
    helper_fn fn;
    /* inputs */
    memio_sys *sys;
    int fd;
    memio_tunnel *t;
    int id;
    /* outputs */
    atomic_int tid;
    ssize_t r;
    int err;
    short revents;
    bool saw_asleep;
    long ok, errors, retries, dups, disorder;
    uint8_t buf[FRAME_CAP];
};

struct fixture {
    memio_sys *sys;
    pid_t main_tid;
    pthread_t main_th;
    struct helper h[MAX_HELPERS];
    int nh;
};

static void *helper_main(void *arg)
{
    struct helper *h = arg;

    atomic_store(&h->tid, (int)gettid());
    h->fn(h);
    return NULL;
}

/* Starts fn on a new thread with every signal blocked. */
static struct helper *helper_start(struct fixture *fx, helper_fn fn, memio_sys *sys, int fd,
                                   memio_tunnel *t, int id)
{
    struct helper *h;
    sigset_t all, old;
    int64_t end;

    assert_true(fx->nh < MAX_HELPERS);
    h = &fx->h[fx->nh++];
    memset(h, 0, sizeof(*h));
    h->fx = fx;
    h->fn = fn;
    h->sys = sys;
    h->fd = fd;
    h->t = t;
    h->id = id;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    assert_int_equal(pthread_create(&h->th, NULL, helper_main, h), 0);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    h->started = true;
    end = mono_ms() + BLOCKED_WAIT_MS;
    while (!atomic_load(&h->tid) && mono_ms() < end)
        usleep(500);
    return h;
}

static int timed_join(struct helper *h, int seconds)
{
    struct timespec ts;
    int r;

    if (!h->started || h->joined)
        return 0;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += seconds;
    r = pthread_timedjoin_np(h->th, NULL, &ts);
    if (r == 0)
        h->joined = true;
    return r;
}

static void helper_join(struct helper *h)
{
    assert_int_equal(timed_join(h, JOIN_S), 0);
}

/* A blocking read on fd in this thread while helper `fn` acts from another;
 * joins the helper, asserts it succeeded, and returns the read's result
 * with its errno in *err. */
static ssize_t read_beside(struct fixture *fx, helper_fn fn, int fd, memio_tunnel *t, int id,
                           void *buf, size_t len, int *err)
{
    struct helper *h = helper_start(fx, fn, fx->sys, fd, t, id);
    ssize_t r;

    errno = 0;
    r = memio_read(fx->sys, fd, buf, len);
    *err = errno;
    helper_join(h);
    assert_int_equal(h->r, 0);
    return r;
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));

    if (!fx)
        return -1;
    fx->sys = tu_memory();
    fx->main_tid = gettid();
    fx->main_th = pthread_self();
    atomic_store(&alarms, 0);
    atomic_store(&sigios, 0);
    atomic_store(&usr1s, 0);
    atomic_store(&guard_fires, 0);
    if (set_handler(SIGALRM, on_alarm, 0) < 0)
        return -1;
    guard_arm(true);
    *state = fx;
    return 0;
}

/* Frees the system first: that wakes any helper a failed test left blocked
 * in it (EBADF), so the joins below end. */
static int teardown(void **state)
{
    struct fixture *fx = *state;
    bool stuck = false;
    int i;

    alarm_ms(0);
    guard_arm(false);
    if (fx->sys)
        memio_sys_free(fx->sys);
    for (i = 0; i < fx->nh; i++)
        if (timed_join(&fx->h[i], 5) != 0)
            stuck = true;
    set_handler(SIGALRM, on_alarm, 0);
    if (!stuck)
        free(fx); /* a stuck helper may still write into it */
    return 0;
}

/* --- frames ------------------------------------------------------------- */

/* A 32-byte IPv4/UDP packet, as in I04. */
static size_t ping(uint8_t *buf, size_t cap)
{
    return tu_udp4(buf, cap, "10.0.0.1", 1000, "10.0.0.2", 2000, "ping", 4);
}

/* A frame whose payload says who sent it and its sequence number. */
static size_t tagged(uint8_t *buf, size_t cap, uint32_t id, uint32_t seq)
{
    struct sockaddr_in s, d;
    uint32_t pl[2] = {id, seq};
    ssize_t n;

    memset(&s, 0, sizeof(s));
    memset(&d, 0, sizeof(d));
    s.sin_family = d.sin_family = AF_INET;
    s.sin_addr.s_addr = htonl(0x0a000001);
    d.sin_addr.s_addr = htonl(0x0a000002);
    s.sin_port = htons((uint16_t)(1000 + id));
    d.sin_port = htons(2000);
    n = memio_packet_udp4(buf, cap, &s, &d, (uint16_t)seq, pl, sizeof(pl));
    return n < 0 ? 0 : (size_t)n;
}

static bool untag(const uint8_t *buf, ssize_t len, uint32_t *id, uint32_t *seq)
{
    uint32_t pl[2];

    if (len != 28 + (ssize_t)sizeof(pl))
        return false;
    memcpy(pl, buf + 28, sizeof(pl));
    *id = pl[0];
    *seq = pl[1];
    return true;
}

static int tun_fd(struct fixture *fx, int open_flags, const char *name)
{
    return tu_tun(fx->sys, open_flags, name, IFF_TUN | IFF_NO_PI);
}

/* --- helper bodies ------------------------------------------------------ */

/* Waits until the main thread sleeps in the system, then injects a ping. */
static void inject_when_main_asleep(struct helper *h)
{
    uint8_t f[64];
    size_t n = tu_udp4(f, sizeof(f), "10.0.0.1", 1000, "10.0.0.2", 2000, "ping", 4);

    h->saw_asleep = wait_asleep(h->fx->main_tid);
    sleep_ms(50); /* I04: the frame arrives later */
    h->r = memio_tunnel_inject(h->t, f, n);
    h->err = errno;
}

/* I03: waits for the alarm to have interrupted (and restarted) the read,
 * then for the reader to be asleep again, then injects. */
static void inject_after_alarm(struct helper *h)
{
    uint8_t f[64];
    size_t n = tu_udp4(f, sizeof(f), "10.0.0.1", 1000, "10.0.0.2", 2000, "ping", 4);
    int64_t end = mono_ms() + 5000;

    while (!atomic_load(&alarms) && mono_ms() < end)
        usleep(1000);
    h->saw_asleep = wait_asleep(h->fx->main_tid);
    h->r = memio_tunnel_inject(h->t, f, n);
    h->err = errno;
}

/* I03b: sets the link down under a sleeping reader, then, once it sleeps
 * again, sends it SIGALRM. */
static void down_then_alarm(struct helper *h)
{
    h->saw_asleep = wait_asleep(h->fx->main_tid);
    h->r = memio_tunnel_set_up(h->t, 0);
    h->err = errno;
    sleep_ms(20);
    wait_asleep(h->fx->main_tid);
    pthread_kill(h->fx->main_th, SIGALRM);
}

static void delete_when_main_asleep(struct helper *h)
{
    h->saw_asleep = wait_asleep(h->fx->main_tid);
    h->r = memio_tunnel_delete(h->t);
    h->err = errno;
}

static void close_when_main_asleep(struct helper *h)
{
    h->saw_asleep = wait_asleep(h->fx->main_tid);
    h->r = memio_close(h->sys, h->fd);
    h->err = errno;
}

/* Writes a datagram the receive fd does not want, then one it does. */
static void write_udp_when_main_asleep(struct helper *h)
{
    struct sockaddr_in src = tu_addr("10.0.0.1", 4000);
    struct sockaddr_in other = tu_addr("10.0.0.2", 5001);
    struct sockaddr_in dst = tu_addr("10.0.0.2", 5000);
    uint8_t f[128];
    ssize_t n;

    h->saw_asleep = wait_asleep(h->fx->main_tid);
    n = memio_packet_udp4(f, sizeof(f), &src, &other, 1, "elsewhere", 9);
    h->ok += memio_write(h->sys, h->fd, f, (size_t)n) == n;
    sleep_ms(20);
    wait_asleep(h->fx->main_tid);
    n = memio_packet_udp4(f, sizeof(f), &src, &dst, 2, "hello", 5);
    h->r = memio_write(h->sys, h->fd, f, (size_t)n);
    h->err = errno;
}

/* Sets O_NONBLOCK on the sleeping reader's fd, wakes every waiter of the
 * system with an inject into another tunnel (h->id is its fd), then, once
 * the reader sleeps again, injects its frame. */
static void nonblock_then_inject(struct helper *h)
{
    uint8_t f[64];
    size_t n = tu_udp4(f, sizeof(f), "10.0.0.1", 1000, "10.0.0.2", 2000, "ping", 4);
    memio_tunnel *other = memio_tunnel_get(h->sys, h->id);
    int fl;

    h->saw_asleep = wait_asleep(h->fx->main_tid);
    fl = memio_fcntl(h->sys, h->fd, F_GETFL);
    h->ok += memio_fcntl(h->sys, h->fd, F_SETFL, fl | O_NONBLOCK) == 0;
    h->ok += other && memio_tunnel_inject(other, f, n) == 0;
    sleep_ms(20);
    wait_asleep(h->fx->main_tid);
    h->r = memio_tunnel_inject(h->t, f, n);
    h->err = errno;
}

/* Closes fd (h->fd) while the main thread sleeps reading it through
 * another descriptor of the same file, then injects. */
static void close_then_inject(struct helper *h)
{
    uint8_t f[64];
    size_t n = tu_udp4(f, sizeof(f), "10.0.0.1", 1000, "10.0.0.2", 2000, "ping", 4);

    h->saw_asleep = wait_asleep(h->fx->main_tid);
    h->ok += memio_close(h->sys, h->fd) == 0;
    sleep_ms(20);
    wait_asleep(h->fx->main_tid);
    h->r = memio_tunnel_inject(h->t, f, n);
    h->err = errno;
}

static void blocked_read(struct helper *h)
{
    h->r = memio_read(h->sys, h->fd, h->buf, sizeof(h->buf));
    h->err = errno;
}

static void blocked_poll(struct helper *h)
{
    struct pollfd p = {.fd = h->fd, .events = POLLIN};

    h->r = memio_poll(h->sys, &p, 1, -1);
    h->err = errno;
    h->revents = p.revents;
}

/* Writes PER_THREAD tagged frames to the shared tunnel fd. */
static void writer(struct helper *h)
{
    uint8_t f[64];
    uint32_t seq;

    for (seq = 0; seq < PER_THREAD; seq++) {
        size_t n = tagged(f, sizeof(f), (uint32_t)h->id, seq);
        if (memio_write(h->sys, h->fd, f, n) == (ssize_t)n)
            h->ok++;
        else
            h->errors++;
    }
}

/* Injects PER_THREAD tagged frames; retries (and counts) ENOBUFS. */
static void injector(struct helper *h)
{
    uint8_t f[64];
    uint32_t seq;

    for (seq = 0; seq < PER_THREAD; seq++) {
        size_t n = tagged(f, sizeof(f), (uint32_t)h->id, seq);
        for (;;) {
            if (memio_tunnel_inject(h->t, f, n) == 0) {
                h->ok++;
                break;
            }
            if (errno != ENOBUFS) {
                h->errors++;
                break;
            }
            h->retries++;
            sched_yield();
        }
    }
}

/* Reads 2 * PER_THREAD frames from two injectors (ids 0 and 1) on a
 * blocking fd; counts duplicates and frames out of an injector's order. */
static void reader(struct helper *h)
{
    static const int total = 2 * PER_THREAD;
    uint32_t next[2] = {0, 0};
    unsigned char *seen = calloc(2, PER_THREAD);
    int got = 0;

    if (!seen) {
        h->errors++;
        return;
    }
    while (got < total) {
        uint32_t id, seq;
        ssize_t n = memio_read(h->sys, h->fd, h->buf, sizeof(h->buf));
        if (n < 0) {
            h->err = errno;
            h->errors++;
            break;
        }
        got++;
        if (!untag(h->buf, n, &id, &seq) || id > 1 || seq >= PER_THREAD) {
            h->errors++;
            continue;
        }
        if (seen[id * PER_THREAD + seq]++)
            h->dups++;
        if (seq != next[id])
            h->disorder++;
        next[id] = seq + 1;
        h->ok++;
    }
    free(seen);
}

/* --- A02, A03, I01, I06, C66, C67: flags ---------------------------------- */

/* A03: opened O_RDWR|O_NONBLOCK|O_CLOEXEC, F_GETFL is 0x8802 (O_LARGEFILE
 * is reported by the kernel). */
static void test_getfl_after_open_nonblock_cloexec_is_0x8802(void **state)
{
    struct fixture *fx = *state;
    int fd = memio_open(fx->sys, TUN_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC);

    assert_true(fd >= 0);
    assert_int_equal(memio_fcntl(fx->sys, fd, F_GETFL), 0x8802);
}

/* A02: F_GETFD gives FD_CLOEXEC for a descriptor opened O_CLOEXEC. */
static void test_getfd_after_open_cloexec_is_fd_cloexec(void **state)
{
    struct fixture *fx = *state;
    int fd = memio_open(fx->sys, TUN_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC);

    assert_true(fd >= 0);
    assert_int_equal(memio_fcntl(fx->sys, fd, F_GETFD), FD_CLOEXEC);
}

/* I01: F_SETFL with O_NONBLOCK cleared succeeds; F_GETFL is then 0x8002. */
static void test_setfl_clearing_nonblock_gives_getfl_0x8002(void **state)
{
    struct fixture *fx = *state;
    int fd = tun_fd(fx, O_RDWR | O_NONBLOCK | O_CLOEXEC, "bl0");
    int fl = memio_fcntl(fx->sys, fd, F_GETFL);

    assert_int_equal(memio_fcntl(fx->sys, fd, F_SETFL, fl & ~O_NONBLOCK), 0);
    assert_int_equal(memio_fcntl(fx->sys, fd, F_GETFL), 0x8002);
}

/* I06: back to O_NONBLOCK, F_GETFL is 0x8802 and a read of the empty
 * queue fails with EAGAIN instead of blocking. */
static void test_setfl_nonblock_again_makes_empty_read_eagain(void **state)
{
    struct fixture *fx = *state;
    int fd = tun_fd(fx, O_RDWR, "bl0");
    uint8_t buf[FRAME_CAP];
    int fl = memio_fcntl(fx->sys, fd, F_GETFL);

    assert_int_equal(fl, 0x8002);
    assert_int_equal(memio_fcntl(fx->sys, fd, F_SETFL, fl | O_NONBLOCK), 0);
    assert_int_equal(memio_fcntl(fx->sys, fd, F_GETFL), 0x8802);
    errno = 0;
    assert_int_equal(memio_read(fx->sys, fd, buf, sizeof(buf)), -1);
    assert_int_equal(errno, EAGAIN);
}

/* fcntl(2) (DESIGN: POSIX semantics): F_SETFL cannot change the access mode;
 * only O_APPEND, O_ASYNC, O_DIRECT, O_NOATIME and O_NONBLOCK change. */
static void test_setfl_leaves_access_mode_alone(void **state)
{
    struct fixture *fx = *state;
    int fd = tun_fd(fx, O_RDWR, "bl0");

    assert_int_equal(memio_fcntl(fx->sys, fd, F_SETFL, O_RDONLY | O_NONBLOCK), 0);
    assert_int_equal(memio_fcntl(fx->sys, fd, F_GETFL), 0x8802);
}

/* C66: ioctl FIONBIO 0 clears O_NONBLOCK: F_GETFL 0x8002. */
static void test_fionbio_zero_clears_nonblock(void **state)
{
    struct fixture *fx = *state;
    int fd = tun_fd(fx, O_RDWR | O_NONBLOCK, "bl0");
    int zero = 0;

    assert_int_equal(memio_ioctl(fx->sys, fd, FIONBIO, &zero), 0);
    assert_int_equal(memio_fcntl(fx->sys, fd, F_GETFL), 0x8002);
}

/* C67: ioctl FIONBIO 1 sets O_NONBLOCK: F_GETFL 0x8802, empty read EAGAIN. */
static void test_fionbio_one_sets_nonblock(void **state)
{
    struct fixture *fx = *state;
    int fd = tun_fd(fx, O_RDWR, "bl0");
    int one = 1;
    uint8_t buf[FRAME_CAP];

    assert_int_equal(memio_ioctl(fx->sys, fd, FIONBIO, &one), 0);
    assert_int_equal(memio_fcntl(fx->sys, fd, F_GETFL), 0x8802);
    errno = 0;
    assert_int_equal(memio_read(fx->sys, fd, buf, sizeof(buf)), -1);
    assert_int_equal(errno, EAGAIN);
}

/* C66 + I02: after FIONBIO 0 a read of the empty queue really blocks (until
 * SIGALRM interrupts it). */
static void test_fionbio_zero_makes_empty_read_block(void **state)
{
    struct fixture *fx = *state;
    int fd = tun_fd(fx, O_RDWR | O_NONBLOCK, "bl0");
    int zero = 0;
    uint8_t buf[FRAME_CAP];

    assert_int_equal(memio_ioctl(fx->sys, fd, FIONBIO, &zero), 0);
    alarm_ms(100);
    errno = 0;
    assert_int_equal(memio_read(fx->sys, fd, buf, sizeof(buf)), -1);
    assert_int_equal(errno, EINTR);
    assert_int_equal(atomic_load(&alarms), 1);
}

/* --- I02, I03, I03b, I04: blocking reads and signals ---------------------- */

/* I02: a blocking read of an empty tunnel, SIGALRM without SA_RESTART:
 * -1 EINTR. */
static void test_blocking_read_interrupted_by_signal_is_eintr(void **state)
{
    struct fixture *fx = *state;
    int fd = tun_fd(fx, O_RDWR, "bl0");
    uint8_t buf[FRAME_CAP];

    assert_int_equal(set_handler(SIGALRM, on_alarm, 0), 0);
    alarm_ms(100);
    errno = 0;
    assert_int_equal(memio_read(fx->sys, fd, buf, sizeof(buf)), -1);
    assert_int_equal(errno, EINTR);
    assert_int_equal(atomic_load(&alarms), 1);
}

/* I03: under SA_RESTART the read goes on after the alarm and returns the
 * frame another thread injects later. */
static void test_blocking_read_restarted_under_sa_restart_returns_later_frame(void **state)
{
    struct fixture *fx = *state;
    int fd = tun_fd(fx, O_RDWR, "bl0");
    memio_tunnel *t = memio_tunnel_get(fx->sys, fd);
    uint8_t buf[FRAME_CAP], want[64];
    size_t wn = ping(want, sizeof(want));
    struct helper *h;
    ssize_t r;

    assert_non_null(t);
    assert_int_equal(set_handler(SIGALRM, on_alarm, SA_RESTART), 0);
    h = helper_start(fx, inject_after_alarm, fx->sys, fd, t, 0);
    alarm_ms(100);
    r = memio_read(fx->sys, fd, buf, sizeof(buf));
    helper_join(h);
    assert_int_equal(h->r, 0);
    assert_int_equal(r, (ssize_t)wn);
    assert_memory_equal(buf, want, wn);
    assert_int_equal(atomic_load(&alarms), 1);
}

/* I03b: a blocking read on a DOWN device is not woken or failed by the
 * link state; SIGALRM gives EINTR. */
static void test_blocking_read_on_down_device_is_eintr_on_signal(void **state)
{
    struct fixture *fx = *state;
    int fd = tun_fd(fx, O_RDWR, "bl0");
    memio_tunnel *t = memio_tunnel_get(fx->sys, fd);
    uint8_t buf[FRAME_CAP];

    assert_non_null(t);
    assert_int_equal(memio_tunnel_set_up(t, 0), 0);
    alarm_ms(100);
    errno = 0;
    assert_int_equal(memio_read(fx->sys, fd, buf, sizeof(buf)), -1);
    assert_int_equal(errno, EINTR);
    assert_int_equal(atomic_load(&alarms), 1);
}

/* I03b: setting the link down under a sleeping reader does not wake it
 * with an error; it still sleeps until the signal (EINTR). */
static void test_link_down_under_blocked_reader_does_not_end_read(void **state)
{
    struct fixture *fx = *state;
    int fd = tun_fd(fx, O_RDWR, "bl0");
    memio_tunnel *t = memio_tunnel_get(fx->sys, fd);
    uint8_t buf[FRAME_CAP];
    ssize_t r;
    int err;

    assert_non_null(t);
    r = read_beside(fx, down_then_alarm, fd, t, 0, buf, sizeof(buf), &err);
    assert_int_equal(r, -1);
    assert_int_equal(err, EINTR);
    assert_int_equal(atomic_load(&alarms), 1);
    assert_false(memio_tunnel_is_up(t));
}

/* I04: a frame another thread injects while the reader sleeps wakes it:
 * the read returns the frame (32 bytes). */
static void test_inject_from_another_thread_wakes_blocked_reader(void **state)
{
    struct fixture *fx = *state;
    int fd = tun_fd(fx, O_RDWR, "bl0");
    memio_tunnel *t = memio_tunnel_get(fx->sys, fd);
    uint8_t buf[FRAME_CAP], want[64];
    size_t wn = ping(want, sizeof(want));
    struct helper *h;
    ssize_t r;

    assert_non_null(t);
    h = helper_start(fx, inject_when_main_asleep, fx->sys, fd, t, 0);
    r = memio_read(fx->sys, fd, buf, sizeof(buf));
    helper_join(h);
    assert_int_equal(h->r, 0);
    assert_int_equal(r, 32);
    assert_int_equal(wn, 32);
    assert_memory_equal(buf, want, wn);
    assert_int_equal(atomic_load(&guard_fires), 0);
    /* The main thread made the system: it gave the lock's bias up to sleep
     * (docs/internals.md) and goes on through the mutex. */
    assert_int_equal(memio_tunnel_inject(t, want, wn), 0);
    assert_int_equal(memio_read(fx->sys, fd, buf, sizeof(buf)), 32);
}

/* --- I05: SIGIO ------------------------------------------------------------ */

/* Waits (bounded) for a counter the signal handlers bump. */
static int await_count(atomic_int *c, int want)
{
    int64_t end = mono_ms() + 1000;

    while (atomic_load(c) < want && mono_ms() < end)
        usleep(1000);
    return atomic_load(c);
}

/* I05: O_ASYNC + F_SETOWN(getpid()): one injected frame sends one SIGIO. */
static void test_oasync_setown_inject_sends_sigio(void **state)
{
    struct fixture *fx = *state;
    int fd = tun_fd(fx, O_RDWR | O_NONBLOCK, "bl0");
    memio_tunnel *t = memio_tunnel_get(fx->sys, fd);
    uint8_t f[64];
    size_t n = ping(f, sizeof(f));
    int fl = memio_fcntl(fx->sys, fd, F_GETFL);

    assert_non_null(t);
    assert_int_equal(memio_fcntl(fx->sys, fd, F_SETFL, fl | O_ASYNC), 0);
    assert_int_equal(memio_fcntl(fx->sys, fd, F_GETFL), 0x8802 | O_ASYNC);
    assert_int_equal(memio_fcntl(fx->sys, fd, F_SETOWN, getpid()), 0);
    assert_int_equal(memio_fcntl(fx->sys, fd, F_GETOWN), getpid());
    assert_int_equal(atomic_load(&sigios), 0);
    assert_int_equal(memio_tunnel_inject(t, f, n), 0);
    assert_int_equal(await_count(&sigios, 1), 1);
}

/* I05 with F_SETSIG: the notification is the chosen signal, not SIGIO. */
static void test_setsig_changes_the_async_signal(void **state)
{
    struct fixture *fx = *state;
    int fd = tun_fd(fx, O_RDWR | O_NONBLOCK, "bl0");
    memio_tunnel *t = memio_tunnel_get(fx->sys, fd);
    uint8_t f[64];
    size_t n = ping(f, sizeof(f));
    int fl = memio_fcntl(fx->sys, fd, F_GETFL);

    assert_non_null(t);
    assert_int_equal(memio_fcntl(fx->sys, fd, F_SETFL, fl | O_ASYNC), 0);
    assert_int_equal(memio_fcntl(fx->sys, fd, F_SETOWN, getpid()), 0);
    assert_int_equal(memio_fcntl(fx->sys, fd, F_SETSIG, SIGUSR1), 0);
    assert_int_equal(memio_fcntl(fx->sys, fd, F_GETSIG), SIGUSR1);
    assert_int_equal(memio_tunnel_inject(t, f, n), 0);
    assert_int_equal(await_count(&usr1s, 1), 1);
    assert_int_equal(atomic_load(&sigios), 0);
}

/* I05 through the VFS's FIOASYNC (the ioctl twin of F_SETFL O_ASYNC). */
static void test_fioasync_setown_inject_sends_sigio(void **state)
{
    struct fixture *fx = *state;
    int fd = tun_fd(fx, O_RDWR | O_NONBLOCK, "bl0");
    memio_tunnel *t = memio_tunnel_get(fx->sys, fd);
    uint8_t f[64];
    size_t n = ping(f, sizeof(f));
    int one = 1;

    assert_non_null(t);
    assert_int_equal(memio_ioctl(fx->sys, fd, FIOASYNC, &one), 0);
    assert_int_equal(memio_fcntl(fx->sys, fd, F_GETFL), 0x8802 | O_ASYNC);
    assert_int_equal(memio_fcntl(fx->sys, fd, F_SETOWN, getpid()), 0);
    assert_int_equal(memio_tunnel_inject(t, f, n), 0);
    assert_int_equal(await_count(&sigios, 1), 1);
}

/* I05: without O_ASYNC an owner gets no SIGIO. */
static void test_setown_without_oasync_sends_no_sigio(void **state)
{
    struct fixture *fx = *state;
    int fd = tun_fd(fx, O_RDWR | O_NONBLOCK, "bl0");
    memio_tunnel *t = memio_tunnel_get(fx->sys, fd);
    uint8_t f[64];
    size_t n = ping(f, sizeof(f));

    assert_non_null(t);
    assert_int_equal(memio_fcntl(fx->sys, fd, F_SETOWN, getpid()), 0);
    assert_int_equal(memio_tunnel_inject(t, f, n), 0);
    sleep_ms(20);
    assert_int_equal(atomic_load(&sigios), 0);
}

/* I05 as the kernel does it: turning O_ASYNC on makes the process the
 * owner (tun_chr_fasync calls __f_setown(current)), so F_GETOWN is getpid()
 * and an inject sends SIGIO without any F_SETOWN.  Observed on Linux: after
 * F_SETFL O_ASYNC, F_GETOWN 0 -> pid, and one sent packet gave SIGIO 1. */
static void test_oasync_without_setown_makes_process_owner(void **state)
{
    struct fixture *fx = *state;
    int fd = tun_fd(fx, O_RDWR | O_NONBLOCK, "bl0");
    memio_tunnel *t = memio_tunnel_get(fx->sys, fd);
    uint8_t f[64];
    size_t n = ping(f, sizeof(f));
    int fl = memio_fcntl(fx->sys, fd, F_GETFL);

    assert_non_null(t);
    assert_int_equal(memio_fcntl(fx->sys, fd, F_GETOWN), 0);
    assert_int_equal(memio_fcntl(fx->sys, fd, F_SETFL, fl | O_ASYNC), 0);
    assert_int_equal(memio_fcntl(fx->sys, fd, F_GETOWN), getpid());
    assert_int_equal(memio_tunnel_inject(t, f, n), 0);
    assert_int_equal(await_count(&sigios, 1), 1);
}

/* --- I07-I11: the device deleted under a reader ----------------------------- */

/* I07's scenario: a reader sleeps on fd, another thread deletes the device.
 * Returns the fd; *tp the gone tunnel. */
static int delete_under_reader(struct fixture *fx, const char *name, memio_tunnel **tp)
{
    int fd = tun_fd(fx, O_RDWR, name);
    memio_tunnel *t = memio_tunnel_get(fx->sys, fd);
    uint8_t buf[FRAME_CAP];
    ssize_t r;
    int err;

    assert_non_null(t);
    r = read_beside(fx, delete_when_main_asleep, fd, t, 0, buf, sizeof(buf), &err);
    assert_int_equal(r, -1);
    assert_int_equal(err, EFAULT);
    *tp = t;
    return fd;
}

/* I07: another thread deletes the device: the blocked read returns -1
 * EFAULT; the device is gone (exists 0, lookup ENODEV, inject ENODEV). */
static void test_delete_under_blocked_reader_is_efault(void **state)
{
    struct fixture *fx = *state;
    memio_tunnel *t;
    uint8_t f[64];
    size_t n = ping(f, sizeof(f));

    delete_under_reader(fx, "bl0", &t);
    assert_false(memio_tunnel_exists(t));
    errno = 0;
    assert_null(memio_tunnel_lookup(fx->sys, "bl0"));
    assert_int_equal(errno, ENODEV);
    errno = 0;
    assert_int_equal(memio_tunnel_inject(t, f, n), -1);
    assert_int_equal(errno, ENODEV);
}

/* I08: a read on that fd afterwards is -1 EBADFD (it is detached; the fd
 * is blocking, so this would hang if it were not). */
static void test_read_after_delete_is_ebadfd(void **state)
{
    struct fixture *fx = *state;
    memio_tunnel *t;
    int fd = delete_under_reader(fx, "bl0", &t);
    uint8_t buf[FRAME_CAP];

    errno = 0;
    assert_int_equal(memio_read(fx->sys, fd, buf, sizeof(buf)), -1);
    assert_int_equal(errno, EBADFD);
}

/* I09: a write on that fd is -1 EBADFD. */
static void test_write_after_delete_is_ebadfd(void **state)
{
    struct fixture *fx = *state;
    memio_tunnel *t;
    int fd = delete_under_reader(fx, "bl0", &t);
    uint8_t f[64];
    size_t n = ping(f, sizeof(f));

    errno = 0;
    assert_int_equal(memio_write(fx->sys, fd, f, n), -1);
    assert_int_equal(errno, EBADFD);
}

/* I10: TUNGETIFF on that fd is -1 EBADFD. */
static void test_tungetiff_after_delete_is_ebadfd(void **state)
{
    struct fixture *fx = *state;
    memio_tunnel *t;
    int fd = delete_under_reader(fx, "bl0", &t);
    struct ifreq ifr;

    memset(&ifr, 0, sizeof(ifr));
    errno = 0;
    assert_int_equal(memio_ioctl(fx->sys, fd, TUNGETIFF, &ifr), -1);
    assert_int_equal(errno, EBADFD);
}

/* I08-I10 (tunnel.h: "poll reports POLLERR"): poll on that fd gives
 * POLLERR (0x8) and nothing else. */
static void test_poll_after_delete_is_pollerr(void **state)
{
    struct fixture *fx = *state;
    memio_tunnel *t;
    int fd = delete_under_reader(fx, "bl0", &t);
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};

    assert_int_equal(memio_poll(fx->sys, &p, 1, 0), 1);
    assert_int_equal(p.revents, 0x8);
}

/* I11: TUNSETIFF with a new name on that same fd attaches it to a new
 * device, which works: a frame injected there is read there. */
static void test_tunsetiff_after_delete_attaches_new_device(void **state)
{
    struct fixture *fx = *state;
    memio_tunnel *t, *t2;
    int fd = delete_under_reader(fx, "bl0", &t);
    uint8_t f[64], buf[FRAME_CAP];
    size_t n = ping(f, sizeof(f));

    assert_int_equal(tu_setiff(fx->sys, fd, "bl1", IFF_TUN | IFF_NO_PI, NULL), 0);
    t2 = memio_tunnel_lookup(fx->sys, "bl1");
    assert_non_null(t2);
    assert_true(memio_tunnel_exists(t2));
    assert_ptr_equal(memio_tunnel_get(fx->sys, fd), t2);
    assert_string_equal(memio_tunnel_name(t2), "bl1");
    assert_int_equal(memio_tunnel_inject(t2, f, n), 0);
    assert_int_equal(memio_read(fx->sys, fd, buf, sizeof(buf)), (ssize_t)n);
    assert_memory_equal(buf, f, n);
}

/* --- I15, and closing under a reader ----------------------------------------- */

/* I15: closing the only fd with a frame queued destroys the device: gone,
 * lookup ENODEV, and the name is free for a new TUNSETIFF. */
static void test_close_with_frame_queued_destroys_device(void **state)
{
    struct fixture *fx = *state;
    int fd = tun_fd(fx, O_RDWR, "cl1"), fd2;
    memio_tunnel *t = memio_tunnel_get(fx->sys, fd), *t2;
    uint8_t f[64];
    size_t n = ping(f, sizeof(f));

    assert_non_null(t);
    assert_int_equal(memio_tunnel_inject(t, f, n), 0);
    assert_int_equal(memio_close(fx->sys, fd), 0);
    assert_false(memio_tunnel_exists(t));
    errno = 0;
    assert_null(memio_tunnel_lookup(fx->sys, "cl1"));
    assert_int_equal(errno, ENODEV);

    fd2 = tun_fd(fx, O_RDWR, "cl1");
    t2 = memio_tunnel_get(fx->sys, fd2);
    assert_non_null(t2);
    assert_string_equal(memio_tunnel_name(t2), "cl1");
    assert_ptr_equal(memio_tunnel_lookup(fx->sys, "cl1"), t2);
}

/* DESIGN (a documented difference): a blocked read whose descriptor another
 * thread closes returns -1 EBADF; once it returned, the file is released and
 * the device (its only file) is gone, as I13 after the last close. */
static void test_close_under_blocked_reader_is_ebadf(void **state)
{
    struct fixture *fx = *state;
    int fd = tun_fd(fx, O_RDWR, "cl0");
    memio_tunnel *t = memio_tunnel_get(fx->sys, fd);
    uint8_t buf[FRAME_CAP];
    ssize_t r;
    int err;

    assert_non_null(t);
    r = read_beside(fx, close_when_main_asleep, fd, t, 0, buf, sizeof(buf), &err);
    assert_int_equal(r, -1);
    assert_int_equal(err, EBADF);
    assert_false(memio_tunnel_exists(t));
    errno = 0;
    assert_int_equal(memio_read(fx->sys, fd, buf, sizeof(buf)), -1);
    assert_int_equal(errno, EBADF);
}

/* I01/I06 with a reader asleep: the kernel's tun_ring_recv reads
 * O_NONBLOCK once, when the read starts, so setting it from another thread
 * does not end a read already asleep, even when something else in the
 * system wakes it.  Observed on Linux: the blocked read went on and
 * returned the packet sent after F_SETFL. */
static void test_nonblock_set_under_blocked_reader_does_not_end_read(void **state)
{
    struct fixture *fx = *state;
    int fd = tun_fd(fx, O_RDWR, "nb0");
    int other = tun_fd(fx, O_RDWR, "nb1");
    memio_tunnel *t = memio_tunnel_get(fx->sys, fd);
    uint8_t buf[FRAME_CAP], want[64];
    size_t wn = ping(want, sizeof(want));
    struct helper *h;
    ssize_t r;
    int err;

    assert_non_null(t);
    h = helper_start(fx, nonblock_then_inject, fx->sys, fd, t, other);
    errno = 0;
    r = memio_read(fx->sys, fd, buf, sizeof(buf));
    err = errno;
    helper_join(h);
    assert_int_equal(h->ok, 2);
    assert_int_equal(h->r, 0);
    assert_int_equal(err, 0);
    assert_int_equal(r, (ssize_t)wn);
    assert_memory_equal(buf, want, wn);
}

/* I12: a device lives while any descriptor of its file is open: closing
 * the original of a dup leaves it; closing the dup too ends it (I13). */
static void test_device_lives_until_last_dup_closed(void **state)
{
    struct fixture *fx = *state;
    int fd = tun_fd(fx, O_RDWR, "cl0");
    memio_tunnel *t = memio_tunnel_get(fx->sys, fd);
    int dup = memio_fcntl(fx->sys, fd, F_DUPFD, 0);

    assert_non_null(t);
    assert_true(dup >= 0);
    assert_int_equal(memio_close(fx->sys, fd), 0);
    assert_true(memio_tunnel_exists(t));
    assert_int_equal(memio_close(fx->sys, dup), 0);
    assert_false(memio_tunnel_exists(t));
}

/* I12 with a reader: closing the descriptor a read sleeps on, while a dup
 * keeps the file open, does not end the read (the EBADF difference is only
 * for the last descriptor); it returns the frame injected afterwards. */
static void test_close_under_reader_with_dup_open_read_goes_on(void **state)
{
    struct fixture *fx = *state;
    int fd = tun_fd(fx, O_RDWR, "cl0");
    memio_tunnel *t = memio_tunnel_get(fx->sys, fd);
    int dup = memio_fcntl(fx->sys, fd, F_DUPFD, 0);
    uint8_t buf[FRAME_CAP], want[64];
    size_t wn = ping(want, sizeof(want));
    struct helper *h;
    ssize_t r;

    assert_non_null(t);
    assert_true(dup >= 0);
    h = helper_start(fx, close_then_inject, fx->sys, fd, t, 0);
    r = memio_read(fx->sys, fd, buf, sizeof(buf));
    helper_join(h);
    assert_int_equal(h->ok, 1);
    assert_int_equal(h->r, 0);
    assert_int_equal(r, (ssize_t)wn);
    assert_memory_equal(buf, want, wn);
    assert_true(memio_tunnel_exists(t));
}

/* --- memio_sys_free under blocked calls (DESIGN) ----------------------------- */

/* DESIGN: memio_sys_free wakes a thread blocked in memio_read and one in
 * memio_poll (timeout -1); both return -1 EBADF. */
static void test_sys_free_wakes_blocked_read_and_poll_with_ebadf(void **state)
{
    struct fixture *fx = *state;
    memio_sys *sys = fx->sys;
    int fd = tun_fd(fx, O_RDWR, "fr0");
    struct helper *rd, *pl;

    rd = helper_start(fx, blocked_read, sys, fd, NULL, 0);
    pl = helper_start(fx, blocked_poll, sys, fd, NULL, 1);
    assert_true(wait_asleep(atomic_load(&rd->tid)));
    assert_true(wait_asleep(atomic_load(&pl->tid)));
    fx->sys = NULL;
    memio_sys_free(sys);
    helper_join(rd);
    helper_join(pl);
    assert_int_equal(rd->r, -1);
    assert_int_equal(rd->err, EBADF);
    assert_int_equal(pl->r, -1);
    assert_int_equal(pl->err, EBADF);
}

/* A device whose read never finds data and, once its wait fails, lingers
 * 100 ms in the driver (with the system's lock held, as callbacks run)
 * before it leaves: memio_sys_free must not free under it. */
static atomic_int lingering_left;

static ssize_t lingering_read(memio_file *f, const struct iovec *iov, int iovcnt)
{
    int e;

    (void)iov;
    (void)iovcnt;
    while (memio_file_wait(f) == 0)
        ;
    e = errno;
    usleep(100000);
    atomic_store(&lingering_left, 1);
    errno = e;
    return -1;
}

static const memio_device_class lingering_device = {
    .version = MEMIO_DEVICE_CLASS_VERSION,
    .name = "lingering",
    .read = lingering_read,
};

/* DESIGN: memio_sys_free waits for blocked calls to leave before it frees:
 * a driver still finishing its read when woken is done before free
 * returns, and its call returns -1 EBADF. */
static void test_sys_free_waits_for_blocked_call_to_leave(void **state)
{
    struct fixture *fx = *state;
    memio_sys *sys = fx->sys;
    struct helper *rd;
    int fd;

    atomic_store(&lingering_left, 0);
    assert_int_equal(memio_register_device(sys, "/dev/lingering", &lingering_device), 0);
    fd = memio_open(sys, "/dev/lingering", O_RDWR);
    assert_true(fd >= 0);
    rd = helper_start(fx, blocked_read, sys, fd, NULL, 0);
    assert_true(wait_asleep(atomic_load(&rd->tid)));
    fx->sys = NULL;
    memio_sys_free(sys);
    assert_int_equal(atomic_load(&lingering_left), 1);
    helper_join(rd);
    assert_int_equal(rd->r, -1);
    assert_int_equal(rd->err, EBADF);
}

/* --- memio_poll (DESIGN) --------------------------------------------------- */

/* DESIGN: memio_poll with a timeout and nothing ready returns 0 after
 * (roughly, never less than) the timeout. */
static void test_poll_timeout_with_nothing_ready_returns_zero(void **state)
{
    struct fixture *fx = *state;
    int fd = tun_fd(fx, O_RDWR, "po0");
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int64_t t0 = mono_ms(), el;

    assert_int_equal(memio_poll(fx->sys, &p, 1, 100), 0);
    el = mono_ms() - t0;
    assert_int_equal(p.revents, 0);
    assert_true(el >= 95);
    assert_true(el < GUARD_S * 1000);
}

/* DESIGN + H05: memio_poll returns as soon as another thread injects:
 * POLLIN|POLLRDNORM. */
static void test_poll_woken_by_inject_from_another_thread(void **state)
{
    struct fixture *fx = *state;
    int fd = tun_fd(fx, O_RDWR, "po0");
    memio_tunnel *t = memio_tunnel_get(fx->sys, fd);
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDNORM};
    struct helper *h;
    int r;

    assert_non_null(t);
    h = helper_start(fx, inject_when_main_asleep, fx->sys, fd, t, 0);
    r = memio_poll(fx->sys, &p, 1, GUARD_S * 1000);
    helper_join(h);
    assert_int_equal(h->r, 0);
    assert_int_equal(r, 1);
    assert_int_equal(p.revents, POLLIN | POLLRDNORM);
}

/* DESIGN: a signal interrupts memio_poll with EINTR even under SA_RESTART
 * (poll(2) is never restarted). */
static void test_poll_interrupted_by_signal_even_under_sa_restart(void **state)
{
    struct fixture *fx = *state;
    int fd = tun_fd(fx, O_RDWR, "po0");
    struct pollfd p = {.fd = fd, .events = POLLIN};

    assert_int_equal(set_handler(SIGALRM, on_alarm, SA_RESTART), 0);
    alarm_ms(100);
    errno = 0;
    assert_int_equal(memio_poll(fx->sys, &p, 1, -1), -1);
    assert_int_equal(errno, EINTR);
    assert_int_equal(atomic_load(&alarms), 1);
}

/* --- receive descriptors (DESIGN) --------------------------------------------- */

/* DESIGN: a receive descriptor's read blocks until the program writes a
 * matching datagram from another thread; a datagram to another port does
 * not end it and waits for take instead. */
static void test_receive_udp_read_blocks_until_program_writes(void **state)
{
    struct fixture *fx = *state;
    int fd = tun_fd(fx, O_RDWR, "ru0");
    memio_tunnel *t = memio_tunnel_get(fx->sys, fd);
    struct sockaddr_in at = tu_addr("10.0.0.2", 5000);
    uint8_t buf[FRAME_CAP];
    struct helper *h;
    int rfd;
    ssize_t r;

    assert_non_null(t);
    rfd = memio_receive_udp(fx->sys, fd, (struct sockaddr *)&at, sizeof(at));
    assert_true(rfd >= 0);
    h = helper_start(fx, write_udp_when_main_asleep, fx->sys, fd, t, 0);
    r = memio_read(fx->sys, rfd, buf, sizeof(buf));
    helper_join(h);
    assert_int_equal(h->ok, 1);
    assert_int_equal(h->r, 33);
    assert_int_equal(r, 5);
    assert_memory_equal(buf, "hello", 5);
    /* the other datagram waits for the test */
    assert_int_equal(memio_tunnel_take(t, buf, sizeof(buf)), 28 + 9);
    assert_memory_equal(buf + 28, "elsewhere", 9);
}

/* DESIGN: a receive descriptor set non-blocking with memio_fcntl fails an
 * empty read with EAGAIN instead of blocking. */
static void test_receive_udp_nonblocking_empty_read_is_eagain(void **state)
{
    struct fixture *fx = *state;
    int fd = tun_fd(fx, O_RDWR, "ru0");
    struct sockaddr_in at = tu_addr("10.0.0.2", 5000);
    uint8_t buf[FRAME_CAP];
    int rfd, fl;

    rfd = memio_receive_udp(fx->sys, fd, (struct sockaddr *)&at, sizeof(at));
    assert_true(rfd >= 0);
    fl = memio_fcntl(fx->sys, rfd, F_GETFL);
    assert_true(fl >= 0);
    assert_int_equal(memio_fcntl(fx->sys, rfd, F_SETFL, fl | O_NONBLOCK), 0);
    errno = 0;
    assert_int_equal(memio_read(fx->sys, rfd, buf, sizeof(buf)), -1);
    assert_int_equal(errno, EAGAIN);
}

/* --- many threads (DESIGN: safe to use from several threads) ----------------- */

/* Four threads write PER_THREAD frames each to one tunnel fd while the test
 * takes them: every frame taken, none lost, each writer's order kept. */
static void test_four_writers_every_frame_taken_in_order(void **state)
{
    struct fixture *fx = *state;
    int fd = tun_fd(fx, O_RDWR, "mw0");
    memio_tunnel *t = memio_tunnel_get(fx->sys, fd);
    uint32_t next[4] = {0, 0, 0, 0};
    long taken = 0, bad = 0, disorder = 0;
    int64_t end = mono_ms() + GUARD_S * 1000;
    uint8_t buf[FRAME_CAP];
    struct helper *w[4];
    memio_tunnel_stats st;
    int i;

    assert_non_null(t);
    for (i = 0; i < 4; i++)
        w[i] = helper_start(fx, writer, fx->sys, fd, t, i);
    while (taken < 4 * PER_THREAD && mono_ms() < end) {
        uint32_t id, seq;
        ssize_t n = memio_tunnel_take(t, buf, sizeof(buf));
        if (n < 0) {
            if (errno != EAGAIN)
                bad++;
            sched_yield();
            continue;
        }
        taken++;
        if (!untag(buf, n, &id, &seq) || id > 3) {
            bad++;
            continue;
        }
        if (seq != next[id])
            disorder++;
        next[id] = seq + 1;
    }
    for (i = 0; i < 4; i++)
        helper_join(w[i]);
    for (i = 0; i < 4; i++) {
        assert_int_equal(w[i]->ok, PER_THREAD);
        assert_int_equal(w[i]->errors, 0);
    }
    assert_int_equal(taken, 4 * PER_THREAD);
    assert_int_equal(bad, 0);
    assert_int_equal(disorder, 0);
    errno = 0;
    assert_int_equal(memio_tunnel_take(t, buf, sizeof(buf)), -1);
    assert_int_equal(errno, EAGAIN);
    memio_tunnel_stats_get(t, &st);
    assert_int_equal(st.rx_packets, 4 * PER_THREAD);
    assert_int_equal(st.take_dropped, 0);
    assert_int_equal(st.take_queued, 0);
}

/* Two threads inject PER_THREAD frames each into a queue long enough for
 * all, a third reads them on a blocking fd: each read exactly once, each
 * injector's order kept. */
static void test_two_injectors_one_reader_every_frame_read_once(void **state)
{
    struct fixture *fx = *state;
    int fd = tun_fd(fx, O_RDWR, "mi0");
    memio_tunnel *t = memio_tunnel_get(fx->sys, fd);
    struct helper *in0, *in1, *rd;
    memio_tunnel_stats st;

    assert_non_null(t);
    assert_int_equal(memio_tunnel_set_txqueuelen(t, 2 * PER_THREAD), 0);
    rd = helper_start(fx, reader, fx->sys, fd, t, 9);
    in0 = helper_start(fx, injector, fx->sys, fd, t, 0);
    in1 = helper_start(fx, injector, fx->sys, fd, t, 1);
    helper_join(in0);
    helper_join(in1);
    helper_join(rd);
    assert_int_equal(in0->ok + in1->ok, 2 * PER_THREAD);
    assert_int_equal(in0->retries + in1->retries, 0);
    assert_int_equal(in0->errors + in1->errors, 0);
    assert_int_equal(rd->errors, 0);
    assert_int_equal(rd->ok, 2 * PER_THREAD);
    assert_int_equal(rd->dups, 0);
    assert_int_equal(rd->disorder, 0);
    memio_tunnel_stats_get(t, &st);
    assert_int_equal(st.tx_packets, 2 * PER_THREAD);
    assert_int_equal(st.tx_dropped, 0);
    assert_int_equal(st.tx_queued, 0);
}

#define HANDOVER_ROUNDS 200

static atomic_bool maker_injecting;

/* reader, but only once the main thread is injecting, so that its first
 * call (which takes the lock's bias away) lands in the middle of them. */
static void reader_once_maker_injects(struct helper *h)
{
    while (!atomic_load(&maker_injecting))
        sched_yield();
    reader(h);
}

/* The thread that made a system takes its lock without atomic
 * instructions until a second thread comes; the first call from that
 * thread takes the bias away (docs/internals.md).  Here, on a new system
 * each round, the maker injects one injector's frames, starts the reader,
 * and injects the other's flat out while the reader arrives: every frame is
 * still read once and in order (and ThreadSanitizer, which runs this suite
 * in the test command, sees no race; with the handover's fence or wait
 * removed it reports one in every run). */
static void test_lock_handover_mid_stream_on_new_systems(void **state)
{
    struct fixture *fx = *state;
    int round;

    for (round = 0; round < HANDOVER_ROUNDS; round++) {
        memio_sys *sys = tu_memory();
        int fd = tu_tun(sys, O_RDWR, "ho0", IFF_TUN | IFF_NO_PI);
        memio_tunnel *t = memio_tunnel_get(sys, fd);
        struct helper in0 = {.t = t, .id = 0}, in1 = {.t = t, .id = 1}, *rd;

        assert_non_null(t);
        assert_int_equal(memio_tunnel_set_txqueuelen(t, 2 * PER_THREAD), 0);
        injector(&in0); /* on this thread, the system's maker */
        atomic_store(&maker_injecting, false);
        rd = helper_start(fx, reader_once_maker_injects, sys, fd, t, 9);
        atomic_store(&maker_injecting, true);
        injector(&in1);
        helper_join(rd);
        assert_int_equal(in0.ok + in1.ok, 2 * PER_THREAD);
        assert_int_equal(in0.errors + in1.errors, 0);
        assert_int_equal(rd->errors, 0);
        assert_int_equal(rd->ok, 2 * PER_THREAD);
        assert_int_equal(rd->dups, 0);
        assert_int_equal(rd->disorder, 0);
        memio_sys_free(sys);
        fx->nh = 0; /* joined: the slot is free for the next round */
    }
}

/* The same on the default 500-frame queue (C69): the injectors meet a full
 * queue and retry on ENOBUFS (J01); every frame is still read exactly once
 * and each refused inject is counted in tx_dropped. */
static void test_two_injectors_full_queue_retries_counted_as_drops(void **state)
{
    struct fixture *fx = *state;
    int fd = tun_fd(fx, O_RDWR, "mi1");
    memio_tunnel *t = memio_tunnel_get(fx->sys, fd);
    struct helper *in0, *in1, *rd;
    memio_tunnel_stats st;

    assert_non_null(t);
    assert_int_equal(memio_tunnel_txqueuelen(t), 500);
    in0 = helper_start(fx, injector, fx->sys, fd, t, 0);
    in1 = helper_start(fx, injector, fx->sys, fd, t, 1);
    rd = helper_start(fx, reader, fx->sys, fd, t, 9);
    helper_join(in0);
    helper_join(in1);
    helper_join(rd);
    assert_int_equal(in0->ok + in1->ok, 2 * PER_THREAD);
    assert_int_equal(in0->errors + in1->errors, 0);
    assert_int_equal(rd->errors, 0);
    assert_int_equal(rd->ok, 2 * PER_THREAD);
    assert_int_equal(rd->dups, 0);
    assert_int_equal(rd->disorder, 0);
    memio_tunnel_stats_get(t, &st);
    assert_int_equal(st.tx_packets, 2 * PER_THREAD);
    assert_int_equal(st.tx_dropped, (uint64_t)(in0->retries + in1->retries));
}

/* --- group --------------------------------------------------------------- */

static int group_setup(void **state)
{
    struct sigevent sev;

    (void)state;
    if (set_handler(SIGIO, on_sigio, 0) < 0 || set_handler(SIGUSR1, on_usr1, 0) < 0 ||
        set_handler(SIGUSR2, on_guard, 0) < 0 || set_handler(SIGALRM, on_alarm, 0) < 0)
        return -1;
    memset(&sev, 0, sizeof(sev));
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = SIGUSR2;
    return timer_create(CLOCK_MONOTONIC, &sev, &guard_timer);
}

static int group_teardown(void **state)
{
    (void)state;
    timer_delete(guard_timer);
    return 0;
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_getfl_after_open_nonblock_cloexec_is_0x8802),
        T(test_getfd_after_open_cloexec_is_fd_cloexec),
        T(test_setfl_clearing_nonblock_gives_getfl_0x8002),
        T(test_setfl_nonblock_again_makes_empty_read_eagain),
        T(test_setfl_leaves_access_mode_alone),
        T(test_fionbio_zero_clears_nonblock),
        T(test_fionbio_one_sets_nonblock),
        T(test_fionbio_zero_makes_empty_read_block),
        T(test_blocking_read_interrupted_by_signal_is_eintr),
        T(test_blocking_read_restarted_under_sa_restart_returns_later_frame),
        T(test_blocking_read_on_down_device_is_eintr_on_signal),
        T(test_link_down_under_blocked_reader_does_not_end_read),
        T(test_inject_from_another_thread_wakes_blocked_reader),
        T(test_oasync_setown_inject_sends_sigio),
        T(test_setsig_changes_the_async_signal),
        T(test_fioasync_setown_inject_sends_sigio),
        T(test_setown_without_oasync_sends_no_sigio),
        T(test_oasync_without_setown_makes_process_owner),
        T(test_delete_under_blocked_reader_is_efault),
        T(test_read_after_delete_is_ebadfd),
        T(test_write_after_delete_is_ebadfd),
        T(test_tungetiff_after_delete_is_ebadfd),
        T(test_poll_after_delete_is_pollerr),
        T(test_tunsetiff_after_delete_attaches_new_device),
        T(test_close_with_frame_queued_destroys_device),
        T(test_close_under_blocked_reader_is_ebadf),
        T(test_nonblock_set_under_blocked_reader_does_not_end_read),
        T(test_device_lives_until_last_dup_closed),
        T(test_close_under_reader_with_dup_open_read_goes_on),
        T(test_sys_free_wakes_blocked_read_and_poll_with_ebadf),
        T(test_sys_free_waits_for_blocked_call_to_leave),
        T(test_poll_timeout_with_nothing_ready_returns_zero),
        T(test_poll_woken_by_inject_from_another_thread),
        T(test_poll_interrupted_by_signal_even_under_sa_restart),
        T(test_receive_udp_read_blocks_until_program_writes),
        T(test_receive_udp_nonblocking_empty_read_is_eagain),
        T(test_four_writers_every_frame_taken_in_order),
        T(test_two_injectors_one_reader_every_frame_read_once),
        T(test_lock_handover_mid_stream_on_new_systems),
        T(test_two_injectors_full_queue_retries_counted_as_drops),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
