/*
 * scen_state.c — sections H (poll), I (blocking reads, signals, deletion,
 * lifetime, persistence) and J (queue lengths) of kernel-tun-semantics.md.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "conf_util.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>
#include <time.h>

#define DEV "cfs0"
#define LOCAL "10.79.0.1"
#define PEER "10.79.0.2"
#define PORT 4444

#define TUNNP (IFF_TUN | IFF_NO_PI)
#define TAPNP (IFF_TAP | IFF_NO_PI)

static int sdev(struct conf_ctx *c, int flags)
{
    return conf_dev_net(c, DEV, flags, LOCAL, PEER);
}

static int send4(struct conf_ctx *c, size_t len)
{
    static const char pay[64] = "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz";
    return conf_send(c, PEER, PORT, pay, len, NULL);
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static long ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* What a helper thread does after its delay: the network sends a
 * datagram, or the administrator deletes the device. */
struct later {
    struct conf_ctx *c;
    int delay_ms;
    int del; /* 0: send 4 bytes, 1: delete DEV */
    int rc, err;
};

static void *later_main(void *arg)
{
    struct later *l = arg;
    sleep_ms(l->delay_ms);
    errno = 0;
    l->rc = l->del ? conf_del(l->c, DEV) : send4(l->c, 4);
    l->err = errno;
    return NULL;
}

static int alarms;
static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

/* SIGALRM after `ms`, with or without SA_RESTART; old action in *old. */
static void arm(int ms, int restart, struct sigaction *old)
{
    struct sigaction sa;
    struct itimerval it = { { 0, 0 }, { ms / 1000, (ms % 1000) * 1000 } };
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = restart ? SA_RESTART : 0;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, old);
    alarms = 0;
    setitimer(ITIMER_REAL, &it, NULL);
}

static void disarm(const struct sigaction *old)
{
    struct itimerval zero = { { 0, 0 }, { 0, 0 } };
    setitimer(ITIMER_REAL, &zero, NULL);
    sigaction(SIGALRM, old, NULL);
}

/* Makes fd blocking. */
static void blocking(struct conf_ctx *c, int fd)
{
    int fl = memio_fcntl(c->sys, fd, F_GETFL);
    memio_fcntl(c->sys, fd, F_SETFL, fl & ~O_NONBLOCK);
}

/* Whether a call returned when the event it waited for happened: not
 * before it (less a timer's slack), and not long after (a generous bound,
 * so that a loaded machine or a sanitizer does not make it flaky). */
static void obs_elapsed(struct conf_ctx *c, const char *label, long ms, int expect)
{
    conf_observe(c, label, "%s",
                 ms < expect - 20 ? "early" : ms < expect + 2000 ? "as scheduled" : "late");
}

/* --- H ------------------------------------------------------------------ */

static void scen_H01(struct conf_ctx *c)
{
    int fd = conf_dev(c, DEV, TUNNP, NULL);
    conf_link(c, DEV, 0);
    obs_poll(c, "poll(all)", fd, POLL_ALL);
    obs_poll(c, "poll(0) (H02)", fd, 0);
}

static void scen_H03(struct conf_ctx *c)
{
    int fd = sdev(c, TUNNP);
    obs_poll(c, "poll(all)", fd, POLL_ALL);
    obs_poll(c, "poll(IN) (H04)", fd, POLLIN);
}

static void scen_H05(struct conf_ctx *c)
{
    int fd = sdev(c, TUNNP);
    if (fd < 0)
        return;
    send4(c, 4);
    conf_wait(c, fd, POLLIN, 1000);
    obs_poll(c, "poll(all)", fd, POLL_ALL);
    obs_poll(c, "poll(OUT) (H06)", fd, POLLOUT);
}

static void scen_H05_tap(struct conf_ctx *c)
{
    int fd = sdev(c, TAPNP);
    if (fd < 0)
        return;
    obs_poll(c, "poll(all) empty", fd, POLL_ALL);
    send4(c, 4);
    conf_wait(c, fd, POLLIN, 1000);
    obs_poll(c, "poll(all) one queued", fd, POLL_ALL);
}

static void scen_H07(struct conf_ctx *c)
{
    struct later l = { c, 150, 0, 0, 0 };
    struct pollfd p;
    struct timespec t0;
    pthread_t th;
    int fd = sdev(c, TUNNP), rc;
    if (fd < 0)
        return;
    p = (struct pollfd){ .fd = fd, .events = POLLIN };
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_create(&th, NULL, later_main, &l);
    rc = memio_poll(c->sys, &p, 1, 2000);
    obs_elapsed(c, "woke", ms_since(&t0), 150);
    pthread_join(th, NULL);
    conf_observe(c, "poll(IN, 2000)", "%d revents=0x%x", rc, (unsigned)p.revents);
}

static void scen_H10(struct conf_ctx *c)
{
    int fd = conf_open(c, O_RDWR | O_NONBLOCK);
    obs_poll(c, "poll(0)", fd, 0);
}

/* --- I ------------------------------------------------------------------ */

static void scen_I01(struct conf_ctx *c)
{
    int fd = sdev(c, TUNNP), fl;
    char buf[64];
    fl = memio_fcntl(c->sys, fd, F_GETFL);
    conf_rc(c, "F_SETFL ~O_NONBLOCK", memio_fcntl(c->sys, fd, F_SETFL, fl & ~O_NONBLOCK));
    conf_observe(c, "F_GETFL", "0x%x", (unsigned)memio_fcntl(c->sys, fd, F_GETFL));
    conf_rc(c, "F_SETFL O_NONBLOCK (I06)", memio_fcntl(c->sys, fd, F_SETFL, fl));
    conf_observe(c, "F_GETFL (I06)", "0x%x", (unsigned)memio_fcntl(c->sys, fd, F_GETFL));
    obs_read(c, "read empty (I06)", fd, buf, sizeof buf);
}

/* A blocking read with SIGALRM after 200 ms; a datagram after `send_ms`
 * when it is not 0; the link down first when `down`. */
static void signal_read(struct conf_ctx *c, int restart, int send_ms, int down)
{
    struct later l = { c, send_ms, 0, 0, 0 };
    struct sigaction old;
    struct timespec t0;
    pthread_t th;
    char buf[256];
    ssize_t n;
    int err, fd = sdev(c, TUNNP);
    if (fd < 0)
        return;
    if (down)
        conf_link(c, DEV, 0);
    blocking(c, fd);
    if (send_ms)
        pthread_create(&th, NULL, later_main, &l);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    arm(200, restart, &old);
    n = memio_read(c->sys, fd, buf, sizeof buf);
    err = errno;
    disarm(&old);
    if (send_ms)
        pthread_join(th, NULL);
    errno = err;
    conf_rc(c, "blocking read", n);
    obs_elapsed(c, "returned", ms_since(&t0), send_ms ? send_ms : 200);
    conf_observe(c, "alarms", "%d", alarms);
}

static void scen_I02(struct conf_ctx *c) { signal_read(c, 0, 0, 0); }
static void scen_I03(struct conf_ctx *c) { signal_read(c, 1, 600, 0); }
static void scen_I03b(struct conf_ctx *c) { signal_read(c, 0, 0, 1); }

static void scen_I04(struct conf_ctx *c)
{
    struct later l = { c, 150, 0, 0, 0 };
    struct timespec t0;
    pthread_t th;
    char buf[256];
    ssize_t n;
    int fd = sdev(c, TUNNP);
    if (fd < 0)
        return;
    blocking(c, fd);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_create(&th, NULL, later_main, &l);
    n = memio_read(c->sys, fd, buf, sizeof buf);
    pthread_join(th, NULL);
    conf_rc(c, "blocking read", n);
    obs_elapsed(c, "returned", ms_since(&t0), 150);
}

static volatile sig_atomic_t sigios;
static void on_sigio(int sig)
{
    (void)sig;
    sigios++;
}

static void scen_I05(struct conf_ctx *c)
{
    struct sigaction sa, old;
    int fd = sdev(c, TUNNP), fl;
    if (fd < 0)
        return;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigio;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGIO, &sa, &old);
    sigios = 0;
    conf_rc(c, "F_SETOWN", memio_fcntl(c->sys, fd, F_SETOWN, getpid()));
    fl = memio_fcntl(c->sys, fd, F_GETFL);
    conf_rc(c, "F_SETFL O_ASYNC", memio_fcntl(c->sys, fd, F_SETFL, fl | O_ASYNC));
    send4(c, 4);
    conf_wait(c, fd, POLLIN, 1000);
    sleep_ms(20);
    conf_observe(c, "SIGIO count", "%d", (int)sigios);
    memio_fcntl(c->sys, fd, F_SETFL, fl);
    sigaction(SIGIO, &old, NULL);
}

static void scen_I07(struct conf_ctx *c)
{
    struct later l = { c, 200, 1, 0, 0 };
    struct timespec t0;
    struct ifreq ifr;
    pthread_t th;
    char buf[256];
    ssize_t n;
    int err, fd = sdev(c, TUNNP);
    if (fd < 0)
        return;
    blocking(c, fd);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_create(&th, NULL, later_main, &l);
    n = memio_read(c->sys, fd, buf, sizeof buf);
    err = errno;
    pthread_join(th, NULL);
    errno = err;
    conf_rc(c, "blocking read, device deleted", n);
    obs_elapsed(c, "returned", ms_since(&t0), 200);
    conf_observe(c, "delete", "%s", l.rc == 0 ? "0" : conf_errname(l.err));
    memio_fcntl(c->sys, fd, F_SETFL, O_NONBLOCK);
    conf_rc(c, "read again (I08)", memio_read(c->sys, fd, buf, sizeof buf));
    conf_rc(c, "write (I09)", memio_write(c->sys, fd, "\x45", 1));
    memset(&ifr, 0, sizeof ifr);
    conf_rc(c, "TUNGETIFF (I10)", memio_ioctl(c->sys, fd, TUNGETIFF, &ifr));
    obs_poll(c, "poll(all) (H09)", fd, POLL_ALL);
    conf_rc(c, "TUNSETIFF bl1 (I11)", conf_setiff(c, fd, "bl1", TUNNP, NULL));
    obs_exists(c, "bl1", "bl1");
}

/* Not in the table: deletion of a device with nobody reading, queued
 * packets and all. */
static void scen_X_I_delete_idle(struct conf_ctx *c)
{
    char buf[256];
    int fd = sdev(c, TUNNP);
    if (fd < 0)
        return;
    send4(c, 4);
    conf_wait(c, fd, POLLIN, 1000);
    conf_rc(c, "delete", conf_del(c, DEV));
    obs_exists(c, "after delete", DEV);
    conf_rc(c, "read", memio_read(c->sys, fd, buf, sizeof buf));
    obs_poll(c, "poll(all)", fd, POLL_ALL);
    conf_rc(c, "delete again", conf_del(c, DEV));
}

static void scen_I12(struct conf_ctx *c)
{
    int fd = conf_dev(c, DEV, TUNNP, NULL), d;
    d = memio_fcntl(c->sys, fd, F_DUPFD_CLOEXEC, 0);
    conf_observe(c, "dup", "%s", d >= 0 ? "fd>=0" : conf_errname(errno));
    conf_close(c, fd);
    obs_exists(c, "after closing the original", DEV);
    memio_close(c->sys, d);
    obs_exists(c, "after closing the dup (I13)", DEV);
}

static void scen_I15(struct conf_ctx *c)
{
    int fd = sdev(c, TUNNP);
    if (fd < 0)
        return;
    send4(c, 4);
    conf_wait(c, fd, POLLIN, 1000);
    conf_close(c, fd);
    obs_exists(c, "after close with a packet queued", DEV);
}

/* A persistent device left without descriptors: its fd closed. */
static int persistent(struct conf_ctx *c, int flags, int net)
{
    int fd = net ? sdev(c, flags) : conf_dev(c, DEV, flags, NULL);
    if (fd < 0)
        return -1;
    conf_rc(c, "TUNSETPERSIST 1", memio_ioctl(c->sys, fd, TUNSETPERSIST, 1UL));
    conf_close(c, fd);
    obs_exists(c, "after close", DEV);
    return 0;
}

static void scen_I16(struct conf_ctx *c)
{
    struct conf_stats a, b;
    if (persistent(c, TUNNP, 1) != 0)
        return;
    conf_stats(c, DEV, &a);
    conf_rc(c, "send, no fd attached (I17)", send4(c, 1));
    conf_stats(c, DEV, &b);
    conf_observe(c, "tx_dropped delta (I17)", "%llu",
                 (unsigned long long)(b.tx_dropped - a.tx_dropped));
}

static void scen_I18(struct conf_ctx *c)
{
    int fd;
    if (persistent(c, TUNNP, 0) != 0)
        return;
    fd = conf_open(c, O_RDWR | O_NONBLOCK);
    conf_rc(c, "reattach with PI", conf_setiff(c, fd, DEV, IFF_TUN, NULL));
    obs_getiff(c, "TUNGETIFF", fd);
    memio_ioctl(c->sys, fd, TUNSETPERSIST, 0UL);
}

static void scen_I19(struct conf_ctx *c)
{
    if (persistent(c, TUNNP, 0) != 0)
        return;
    conf_rc(c, "reattach as TAP",
            conf_setiff(c, conf_open(c, O_RDWR | O_NONBLOCK), DEV, TAPNP, NULL));
}

static void scen_I20(struct conf_ctx *c)
{
    int fd;
    if (persistent(c, TUNNP, 0) != 0)
        return;
    fd = conf_open(c, O_RDWR | O_NONBLOCK);
    conf_rc(c, "reattach", conf_setiff(c, fd, DEV, TUNNP, NULL));
    conf_rc(c, "TUNSETPERSIST 0", memio_ioctl(c->sys, fd, TUNSETPERSIST, 0UL));
    obs_exists(c, "while attached", DEV);
    conf_close(c, fd);
    obs_exists(c, "after close (I21)", DEV);
}

static void scen_I22(struct conf_ctx *c)
{
    if (persistent(c, TUNNP, 0) != 0)
        return;
    conf_rc(c, "ip link del", conf_del(c, DEV));
    obs_exists(c, "after del", DEV);
}

/* --- J ------------------------------------------------------------------ */

/* `sends` datagrams with nobody reading, then everything read. */
static void flood(struct conf_ctx *c, int flags, int sends, long qlen)
{
    struct conf_stats a, b;
    char buf[256];
    int fd = sdev(c, flags), ok = 0, got = 0;
    if (fd < 0)
        return;
    if (qlen >= 0)
        conf_rc(c, "set txqueuelen", conf_set_txqlen(c, DEV, (unsigned)qlen));
    conf_observe(c, "txqueuelen", "%ld", conf_txqlen(c, DEV));
    conf_stats(c, DEV, &a);
    for (int i = 0; i < sends; i++)
        ok += send4(c, 10) == 0;
    conf_observe(c, "sends ok", "%d", ok);
    conf_wait(c, fd, POLLIN, 200);
    while (memio_read(c->sys, fd, buf, sizeof buf) >= 0)
        got++;
    conf_observe(c, "read", "%d", got);
    conf_stats(c, DEV, &b);
    conf_observe(c, "tx_dropped delta", "%llu", (unsigned long long)(b.tx_dropped - a.tx_dropped));
}

static void scen_J01(struct conf_ctx *c) { flood(c, TUNNP, 3000, -1); }
static void scen_J03(struct conf_ctx *c) { flood(c, TUNNP, 50, 10); }
static void scen_J04(struct conf_ctx *c) { flood(c, TUNNP, 5, 0); }
static void scen_J07(struct conf_ctx *c) { flood(c, TAPNP, 3000, -1); }

static void scen_J05(struct conf_ctx *c)
{
    char buf[256], seen[128] = "";
    int fd = sdev(c, TUNNP);
    if (fd < 0)
        return;
    for (int i = 0; i < 20; i++) {
        char p[4];
        snprintf(p, sizeof p, "p%02d", i);
        conf_send(c, PEER, PORT, p, 3, NULL);
    }
    conf_wait(c, fd, POLLIN, 200);
    conf_rc(c, "txqueuelen 500->5", conf_set_txqlen(c, DEV, 5));
    for (;;) {
        ssize_t n = memio_read(c->sys, fd, buf, sizeof buf);
        if (n < 0)
            break;
        if (n >= 31 && strlen(seen) + 5 < sizeof seen) {
            size_t at = strlen(seen);
            memcpy(seen + at, buf + 28, 3);
            seen[at + 3] = ' ';
            seen[at + 4] = '\0';
        }
    }
    conf_observe(c, "read", "%s", seen);
}

static void scen_J06(struct conf_ctx *c)
{
    uint8_t p[128];
    int fd = sdev(c, TUNNP), rfd, ok = 0, got = 0;
    size_t len;
    if (fd < 0)
        return;
    rfd = conf_recv_open(c, fd, LOCAL, 5000);
    len = conf_udp4(p, sizeof p, PEER, 6000, LOCAL, 5000, "0123456789", 10);
    for (int i = 0; i < 20000; i++)
        ok += memio_write(c->sys, fd, p, len) == (ssize_t)len;
    conf_observe(c, "writes ok", "%d", ok);
    sleep_ms(c->os ? 200 : 0);
    while (memio_read(c->sys, rfd, p, sizeof p) >= 0)
        got++;
    conf_observe(c, "socket queued", "%d", got);
}

const struct conf_scenario conf_scen_state[] = {
    CONF_SCEN(H01, "DOWN, empty: poll(all), poll(0) (H02)"),
    CONF_SCEN(H03, "UP, empty: poll(all), poll(IN) (H04)"),
    CONF_SCEN(H05, "UP, one packet: poll(all), poll(OUT) (H06)"),
    CONF_SCEN(H05_tap, "TAP: poll empty and with one packet"),
    CONF_SCEN(H07, "poll waits for a packet"),
    CONF_SCEN(H10, "unattached: poll(0)"),
    CONF_SCEN(I01, "F_SETFL blocking and back (I06)"),
    CONF_SCEN(I02, "blocking read, SIGALRM: EINTR"),
    CONF_SCEN(I03, "blocking read, SIGALRM with SA_RESTART, packet later"),
    CONF_SCEN(I03b, "blocking read on a DOWN device, SIGALRM"),
    CONF_SCEN(I04, "blocking read, packet at 150 ms"),
    CONF_SCEN(I05, "O_ASYNC + F_SETOWN: SIGIO"),
    CONF_SCEN(I07, "device deleted under a blocked reader (I08-I11, H09)"),
    CONF_SCEN(X_I_delete_idle, "(not in the table) delete a device nobody reads"),
    CONF_SCEN(I12, "dup keeps the device (I13)"),
    CONF_SCEN(I15, "close with a packet queued"),
    CONF_SCEN(I16, "TUNSETPERSIST 1, close; send with no fd (I17)"),
    CONF_SCEN(I18, "reattach persistent with PI"),
    CONF_SCEN(I19, "reattach persistent TUN as TAP"),
    CONF_SCEN(I20, "TUNSETPERSIST 0 while attached (I21)"),
    CONF_SCEN(I22, "ip link del of a persistent detached device"),
    CONF_SCEN(J01, "TUN: 3000 sends, nobody reading"),
    CONF_SCEN(J03, "txqueuelen 10, 50 sends"),
    CONF_SCEN(J04, "txqueuelen 0, 5 sends"),
    CONF_SCEN(J05, "shrink to 5 keeps the oldest"),
    CONF_SCEN(J06, "20000 writes toward a socket nobody reads"),
    CONF_SCEN(J07, "TAP: 3000 sends, nobody reading"),
    CONF_END,
};
