/*
 * test_port.c — the TUN/TAP port (memio/port.h), with Twisted's tests of
 * its TuntapPort ported to C (twisted/pair/test/test_tuntap.py):
 * TunnelTestsMixin, run as TunTests and TapTests on the memory system;
 * TuntapPortTests; and TunnelAddressTests / TunnelAddressEqualityTests
 * where they apply to the port's host address value.  Each test names the
 * behaviour; the Twisted test it mirrors is in the comment above it.
 *
 * Where Twisted's expectation rests on a defect of its fake (writes over
 * 1024 bytes failing with ENOBUFS), the test uses an error the kernel gives
 * instead and says so.  The last tests run a port on the kernel's
 * /dev/net/tun in a private network namespace, and skip without one.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <memio/memio.h>

#include "netns.h"
#include "testutil.h"

#define MAX_RECORDED 64
#define HANDLER_NAME "recorder"

static const uint8_t peer_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };

/* The port under test, and what its callbacks saw. */
struct fixture {
    memio_sys *sys;
    memio_port *port;
    memio_port_type type;
    int fail_packets;      /* the packet callback returns -1 (with EPROTO) */
    int stop_in_callback;  /* the packet callback stops the port */
    size_t count;
    size_t len[MAX_RECORDED];
    uint8_t *data[MAX_RECORDED];
    int state_calls;
    int last_state;
    memio_port *state_port;
    int log_calls;
    char last_log[512];
};

static memio_port_type tun_type = MEMIO_PORT_TUN;
static memio_port_type tap_type = MEMIO_PORT_TAP;

static int record_packet(memio_port *port, const uint8_t *packet, size_t len, void *user)
{
    struct fixture *f = user;

    assert_ptr_equal(port, f->port);
    if (f->count < MAX_RECORDED) {
        f->data[f->count] = malloc(len ? len : 1);
        assert_non_null(f->data[f->count]);
        memcpy(f->data[f->count], packet, len);
        f->len[f->count] = len;
    }
    f->count++;
    if (f->stop_in_callback)
        memio_port_stop(port);
    if (f->fail_packets) {
        errno = EPROTO;
        return -1;
    }
    return 0;
}

static void record_state(memio_port *port, int listening, void *user)
{
    struct fixture *f = user;

    f->state_calls++;
    f->last_state = listening;
    f->state_port = port;
}

static void record_log(const char *message, void *user)
{
    struct fixture *f = user;

    f->log_calls++;
    snprintf(f->last_log, sizeof(f->last_log), "%s", message);
}

/* As Twisted's setUp: a memory system with /dev/net/tun, and a port on
 * "tun0" (Twisted uses that name for its TAP tests too). */
static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->type = *(memio_port_type *)*state;
    f->sys = tu_memory();
    f->port = memio_port_new(f->sys, "tun0", f->type, record_packet, f);
    assert_non_null(f->port);
    memio_port_set_name(f->port, HANDLER_NAME);
    memio_port_set_state_fn(f->port, record_state);
    memio_port_set_log(f->port, record_log, f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    memio_port_free(f->port);
    memio_sys_free(f->sys);
    for (size_t i = 0; i < f->count && i < MAX_RECORDED; i++)
        free(f->data[i]);
    free(f);
    return 0;
}

static memio_tunnel *started(struct fixture *f)
{
    memio_tunnel *t;

    assert_int_equal(memio_port_start(f->port), 0);
    t = memio_tunnel_get(f->sys, memio_port_fd(f->port));
    assert_non_null(t);
    return t;
}

/* A packet the device carries: an IPv4/UDP packet on a TUN, the same in an
 * Ethernet frame on a TAP.  Returns its length. */
static size_t device_packet(const struct fixture *f, uint8_t *buf, size_t cap, const char *payload)
{
    uint8_t ip[256];
    size_t n = tu_udp4(ip, sizeof(ip), "10.0.0.2", 7, "10.0.0.1", 40000, payload,
                       strlen(payload));

    if (f->type == MEMIO_PORT_TUN) {
        assert_true(n <= cap);
        memcpy(buf, ip, n);
        return n;
    }
    return tu_wrap(buf, cap, ip, n, 1, 0, peer_mac, peer_mac, 0);
}

static const char *type_name(memio_port_type type)
{
    return type == MEMIO_PORT_TUN ? "IFF_TUN" : "IFF_TAP";
}

/* --- TunnelTestsMixin: starting ------------------------------------------ */

/* Twisted: test_startListeningOpensDevice */
static void test_start_opens_device_nonblocking_cloexec_no_pi(void **state)
{
    struct fixture *f = *state;
    memio_tunnel *t = started(f);
    int fd = memio_port_fd(f->port);

    assert_int_equal(memio_tunnel_open_flags(t), O_RDWR | O_CLOEXEC | O_NONBLOCK);
    assert_string_equal(memio_tunnel_requested_name(t), "tun0");
    assert_string_equal(memio_tunnel_name(t), memio_port_interface(f->port));
    assert_int_equal(memio_tunnel_flags(t), (int)f->type | IFF_NO_PI);
    assert_int_equal(!!memio_tunnel_is_tap(t), f->type == MEMIO_PORT_TAP);
    assert_true(memio_fcntl(f->sys, fd, F_GETFL) & O_NONBLOCK);
    assert_int_equal(memio_fcntl(f->sys, fd, F_GETFD), FD_CLOEXEC);
}

/* Twisted: test_startListeningSetsConnected */
static void test_start_sets_listening(void **state)
{
    struct fixture *f = *state;

    assert_false(memio_port_is_listening(f->port));
    started(f);
    assert_true(memio_port_is_listening(f->port));
}

/* Twisted: test_startListeningConnectsProtocol */
static void test_start_tells_state_callback(void **state)
{
    struct fixture *f = *state;

    started(f);
    assert_int_equal(f->state_calls, 1);
    assert_int_equal(f->last_state, 1);
    assert_ptr_equal(f->state_port, f->port);
}

/* Twisted: test_startListeningStartsReading — the caller's loop watches the
 * port's descriptor: it polls readable once a packet waits. */
static void test_start_gives_pollable_fd(void **state)
{
    struct fixture *f = *state;
    memio_tunnel *t = started(f);
    struct pollfd pfd = { .fd = memio_port_fd(f->port), .events = POLLIN };
    uint8_t pkt[256];

    assert_true(pfd.fd >= 8192);
    assert_int_equal(memio_poll(f->sys, &pfd, 1, 0), 0);
    assert_int_equal(memio_tunnel_inject(t, pkt, device_packet(f, pkt, sizeof(pkt), "x")), 0);
    assert_int_equal(memio_poll(f->sys, &pfd, 1, 0), 1);
    assert_true(pfd.revents & POLLIN);
}

/* Twisted: test_startListeningHandlesOpenFailure */
static void test_start_reports_open_failure(void **state)
{
    struct fixture *f = *state;

    memio_sys_set_permissions(f->sys, MEMIO_PERM_IOCTL);
    errno = 0;
    assert_int_equal(memio_port_start(f->port), -1);
    assert_int_equal(errno, EPERM);
    assert_false(memio_port_is_listening(f->port));
    assert_int_equal(memio_port_fd(f->port), -1);
    assert_int_equal(f->state_calls, 0);
}

/* Twisted: test_startListeningHandlesConfigureFailure — and the descriptor
 * that open gave is closed again. */
static void test_start_reports_ioctl_failure_and_closes(void **state)
{
    struct fixture *f = *state;
    int probe;

    memio_sys_set_permissions(f->sys, MEMIO_PERM_OPEN);
    errno = 0;
    assert_int_equal(memio_port_start(f->port), -1);
    assert_int_equal(errno, EPERM);
    assert_false(memio_port_is_listening(f->port));
    /* Memory descriptors are numbered upwards and never reused: the one the
     * port opened is the one before the next, and it is closed. */
    probe = memio_open(f->sys, "/dev/net/tun", O_RDWR);
    assert_true(probe > 8192);
    assert_int_equal(memio_fcntl(f->sys, probe - 1, F_GETFD), -1);
    assert_int_equal(errno, EBADF);
    memio_close(f->sys, probe);
}

/* --- stopping ------------------------------------------------------------ */

/* Twisted: test_stopListeningStopsReading — the descriptor is closed. */
static void test_stop_closes_fd(void **state)
{
    struct fixture *f = *state;
    int fd;

    started(f);
    fd = memio_port_fd(f->port);
    assert_int_equal(memio_port_stop(f->port), 0);
    assert_int_equal(memio_port_fd(f->port), -1);
    assert_int_equal(memio_fcntl(f->sys, fd, F_GETFD), -1);
    assert_int_equal(errno, EBADF);
}

/* Twisted: test_stopListeningUnsetsConnected */
static void test_stop_unsets_listening(void **state)
{
    struct fixture *f = *state;

    started(f);
    memio_port_stop(f->port);
    assert_false(memio_port_is_listening(f->port));
}

/* Twisted: test_stopListeningStopsProtocol */
static void test_stop_tells_state_callback(void **state)
{
    struct fixture *f = *state;

    started(f);
    memio_port_stop(f->port);
    assert_int_equal(f->state_calls, 2);
    assert_int_equal(f->last_state, 0);
}

/* Twisted: test_stopListeningWhenStopped */
static void test_stop_when_never_started_is_noop(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(memio_port_stop(f->port), 0);
    assert_int_equal(f->state_calls, 0);
    assert_false(memio_port_is_listening(f->port));
}

/* Twisted: test_multipleStopListening */
static void test_stop_twice_is_noop(void **state)
{
    struct fixture *f = *state;

    started(f);
    assert_int_equal(memio_port_stop(f->port), 0);
    assert_int_equal(memio_port_stop(f->port), 0);
    assert_int_equal(f->state_calls, 2);
}

/* Twisted: test_loseConnection — its deprecated alias of stopListening has
 * no C counterpart; what a C caller does instead, free a listening port,
 * stops it. */
static void test_free_stops_listening_port(void **state)
{
    struct fixture *f = *state;
    int fd;

    started(f);
    fd = memio_port_fd(f->port);
    memio_port_free(f->port);
    f->port = NULL;
    assert_int_equal(f->last_state, 0);
    assert_int_equal(memio_fcntl(f->sys, fd, F_GETFD), -1);
    assert_int_equal(errno, EBADF);
}

/* --- reading ------------------------------------------------------------- */

/* Twisted's _stopsReadingTest: a read failing with `err` on an empty
 * device; returns what memio_port_read returned. */
static int read_with_empty_errno(struct fixture *f, int err)
{
    memio_tunnel *t = started(f);

    memio_tunnel_set_empty_read_errno(t, err);
    return memio_port_read(f->port);
}

/* Twisted: test_eagainStopsReading */
static void test_read_stops_at_eagain(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(read_with_empty_errno(f, EAGAIN), 0);
    assert_int_equal(f->count, 0);
}

/* Twisted: test_ewouldblockStopsReading */
static void test_read_stops_at_ewouldblock(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(read_with_empty_errno(f, EWOULDBLOCK), 0);
    assert_int_equal(f->count, 0);
}

/* Twisted: test_eintrblockStopsReading — and a packet that waits stays for
 * the next read. */
static void test_read_stops_at_eintr(void **state)
{
    struct fixture *f = *state;
    memio_tunnel *t = started(f);
    uint8_t pkt[256];
    size_t n = device_packet(f, pkt, sizeof(pkt), "later");

    assert_int_equal(memio_tunnel_inject(t, pkt, n), 0);
    memio_tunnel_fail_reads(t, EINTR, 1);
    assert_int_equal(memio_port_read(f->port), 0);
    assert_int_equal(f->count, 0);
    assert_int_equal(memio_port_read(f->port), 1);
    assert_int_equal(f->len[0], n);
}

/* Twisted: test_eintrblockStopsReading, with the empty device's style */
static void test_read_stops_at_empty_eintr(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(read_with_empty_errno(f, EINTR), 0);
    assert_int_equal(f->count, 0);
}

/* Twisted: test_unhandledReadError */
static void test_read_returns_other_errors(void **state)
{
    struct fixture *f = *state;

    errno = 0;
    assert_int_equal(read_with_empty_errno(f, EIO), -1);
    assert_int_equal(errno, EIO);
    assert_int_equal(f->count, 0);
}

/* Twisted: test_unhandledEnvironmentReadError */
static void test_read_returns_eperm(void **state)
{
    struct fixture *f = *state;
    memio_tunnel *t = started(f);
    uint8_t pkt[256];

    assert_int_equal(memio_tunnel_inject(t, pkt, device_packet(f, pkt, sizeof(pkt), "x")), 0);
    memio_tunnel_fail_reads(t, EPERM, 1);
    errno = 0;
    assert_int_equal(memio_port_read(f->port), -1);
    assert_int_equal(errno, EPERM);
    assert_int_equal(f->count, 0);
}

/* Twisted: test_doReadSmallDatagram */
static void test_read_hands_small_packet_whole(void **state)
{
    struct fixture *f = *state;
    memio_tunnel *t = started(f);
    size_t n = memio_port_max_packet_size(f->port) - 1;
    uint8_t *pkt = malloc(n);

    assert_non_null(pkt);
    memset(pkt, 'x', n);
    assert_int_equal(memio_tunnel_inject(t, pkt, n), 0);
    assert_int_equal(memio_port_read(f->port), 1);
    assert_int_equal(f->count, 1);
    assert_int_equal(f->len[0], n);
    assert_memory_equal(f->data[0], pkt, n);
    free(pkt);
}

/* Twisted: test_doReadLargeDatagram — cut to the maximum packet size, as
 * the kernel's short read cuts it. */
static void test_read_cuts_large_packet(void **state)
{
    struct fixture *f = *state;
    memio_tunnel *t = started(f);
    size_t max = memio_port_max_packet_size(f->port);
    uint8_t *pkt = malloc(max + 1);

    assert_int_equal(max, 8192);
    assert_non_null(pkt);
    memset(pkt, 'x', max);
    pkt[max] = 'y';
    assert_int_equal(memio_tunnel_inject(t, pkt, max + 1), 0);
    assert_int_equal(memio_port_read(f->port), 1);
    assert_int_equal(f->len[0], max);
    assert_memory_equal(f->data[0], pkt, max);
    free(pkt);
}

/* Twisted: test_doReadSeveralDatagrams — up to the throughput budget
 * (256 KiB), and the packet past it stays queued. */
static void test_read_several_until_budget(void **state)
{
    struct fixture *f = *state;
    memio_tunnel *t = started(f);
    size_t max = memio_port_max_packet_size(f->port);
    size_t budget = memio_port_max_throughput(f->port), total = 0, want = 0;
    uint8_t *pkt = malloc(max);
    memio_tunnel_stats st;

    assert_int_equal(budget, 256 * 1024);
    assert_non_null(pkt);
    while (total < budget) {
        memset(pkt, 'a' + (int)(want % 26), max);
        assert_int_equal(memio_tunnel_inject(t, pkt, max), 0);
        total += max;
        want++;
    }
    assert_int_equal(memio_tunnel_inject(t, "excessive datagram, not to be read", 34), 0);
    assert_int_equal(memio_port_read(f->port), (int)want);
    assert_int_equal(f->count, want);
    for (size_t i = 0; i < want; i++) {
        assert_int_equal(f->len[i], max);
        memset(pkt, 'a' + (int)(i % 26), max);
        assert_memory_equal(f->data[i], pkt, max);
    }
    memio_tunnel_stats_get(t, &st);
    assert_int_equal(st.tx_queued, 1);
    free(pkt);
}

/* Twisted: test_datagramReceivedException — logged once per failure, and
 * reading goes on. */
static void test_callback_failure_is_logged_and_reading_goes_on(void **state)
{
    struct fixture *f = *state;
    memio_tunnel *t = started(f);
    uint8_t pkt[256];
    size_t n = device_packet(f, pkt, sizeof(pkt), "ping");

    assert_int_equal(memio_tunnel_inject(t, pkt, n), 0);
    assert_int_equal(memio_tunnel_inject(t, pkt, n), 0);
    f->fail_packets = 1;
    assert_int_equal(memio_port_read(f->port), 2);
    assert_int_equal(f->count, 2);
    assert_int_equal(f->log_calls, 2);
}

/* Twisted: test_datagramReceivedExceptionIdentifiesProtocol */
static void test_callback_failure_log_names_port_and_handler(void **state)
{
    struct fixture *f = *state;
    memio_tunnel *t = started(f);
    uint8_t pkt[256];
    size_t n = device_packet(f, pkt, sizeof(pkt), "ping");
    char want[200];

    assert_int_equal(memio_tunnel_inject(t, pkt, n), 0);
    f->fail_packets = 1;
    memio_port_read(f->port);
    assert_int_equal(f->log_calls, 1);
    snprintf(want, sizeof(want),
             "<" HANDLER_NAME " listening on %s/tun0>: packet handler " HANDLER_NAME
             " failed on a %zu-byte packet: %s",
             type_name(f->type), n, strerror(EPROTO));
    assert_string_equal(f->last_log, want);
}

/* --- writing ------------------------------------------------------------- */

/* Twisted: test_write — a packet the device accepts (Twisted's fake takes
 * any bytes; the kernel wants an IP packet on a TUN, a frame on a TAP). */
static void test_write_sends_one_packet(void **state)
{
    struct fixture *f = *state;
    memio_tunnel *t = started(f);
    uint8_t pkt[256], got[256];
    size_t n = device_packet(f, pkt, sizeof(pkt), "a b c d e f g");

    assert_int_equal(memio_port_write(f->port, pkt, n), (ssize_t)n);
    assert_int_equal(memio_tunnel_take(t, got, sizeof(got)), (ssize_t)n);
    assert_memory_equal(got, pkt, n);
    assert_int_equal(memio_tunnel_take(t, got, sizeof(got)), -1);
}

/* Twisted: test_interruptedWrite */
static void test_write_retries_eintr(void **state)
{
    struct fixture *f = *state;
    memio_tunnel *t = started(f);
    uint8_t pkt[256], got[256];
    size_t n = device_packet(f, pkt, sizeof(pkt), "hello, world");

    memio_tunnel_fail_writes(t, EINTR, 2);
    assert_int_equal(memio_port_write(f->port, pkt, n), (ssize_t)n);
    assert_int_equal(memio_tunnel_take(t, got, sizeof(got)), (ssize_t)n);
    assert_memory_equal(got, pkt, n);
}

/* Twisted: test_unhandledWriteError — Twisted provokes ENOBUFS with a
 * 1025-byte write, a limit of its fake only; here an injected ENOBUFS and
 * the kernel's EIO on a down link (D01). */
static void test_write_returns_other_errors(void **state)
{
    struct fixture *f = *state;
    memio_tunnel *t = started(f);
    uint8_t pkt[256], got[256];
    size_t n = device_packet(f, pkt, sizeof(pkt), "x");

    memio_tunnel_fail_writes(t, ENOBUFS, 1);
    errno = 0;
    assert_int_equal(memio_port_write(f->port, pkt, n), -1);
    assert_int_equal(errno, ENOBUFS);
    assert_int_equal(memio_tunnel_set_up(t, 0), 0);
    errno = 0;
    assert_int_equal(memio_port_write(f->port, pkt, n), -1);
    assert_int_equal(errno, EIO);
    assert_int_equal(memio_tunnel_take(t, got, sizeof(got)), -1);
}

/* Twisted: test_writeSequence */
static void test_writev_sends_one_gathered_packet(void **state)
{
    struct fixture *f = *state;
    memio_tunnel *t = started(f);
    uint8_t pkt[256], got[256];
    size_t n = device_packet(f, pkt, sizeof(pkt), "abcd");
    struct iovec iov[4] = {
        { pkt, 1 }, { pkt + 1, 9 }, { pkt + 10, n - 11 }, { pkt + n - 1, 1 },
    };

    assert_int_equal(memio_port_writev(f->port, iov, 4), (ssize_t)n);
    assert_int_equal(memio_tunnel_take(t, got, sizeof(got)), (ssize_t)n);
    assert_memory_equal(got, pkt, n);
    assert_int_equal(memio_tunnel_take(t, got, sizeof(got)), -1);
}

/* --- describing ---------------------------------------------------------- */

/* Twisted: test_getHost */
static void test_host_is_type_and_device_name(void **state)
{
    struct fixture *f = *state;
    memio_tunnel *t = started(f);
    memio_port_address host, want = { .type = f->type };

    snprintf(want.name, sizeof(want.name), "%s", memio_tunnel_name(t));
    assert_int_equal(memio_port_host(f->port, &host), 0);
    assert_true(memio_port_address_equal(&host, &want));
    assert_int_equal(host.type, f->type);
    assert_string_equal(host.name, "tun0");
}

/* Twisted: test_listeningString */
static void test_describe_listening(void **state)
{
    struct fixture *f = *state;
    memio_tunnel *t = started(f);
    char got[128], want[128];
    int n = memio_port_describe(f->port, got, sizeof(got));

    snprintf(want, sizeof(want), "<" HANDLER_NAME " listening on %s/%s>", type_name(f->type),
             memio_tunnel_name(t));
    assert_string_equal(got, want);
    assert_int_equal(n, (int)strlen(want));
}

/* Twisted: test_unlisteningString */
static void test_describe_not_listening(void **state)
{
    struct fixture *f = *state;
    char got[128], want[128];

    memio_port_describe(f->port, got, sizeof(got));
    snprintf(want, sizeof(want), "<" HANDLER_NAME " not listening on %s/tun0>",
             type_name(f->type));
    assert_string_equal(got, want);
}

/* Twisted: test_logPrefix */
static void test_log_prefix_names_handler_and_type(void **state)
{
    struct fixture *f = *state;
    char got[64], want[64];

    memio_port_log_prefix(f->port, got, sizeof(got));
    snprintf(want, sizeof(want), HANDLER_NAME " (%s)", type_name(f->type));
    assert_string_equal(got, want);
}

/* --- beyond Twisted ------------------------------------------------------ */

/* The kernel may change the name: a template gets the first free number. */
static void test_start_keeps_the_name_the_device_got(void **state)
{
    struct fixture *f = *state;
    memio_port *p = memio_port_new(f->sys, f->type == MEMIO_PORT_TUN ? "tun%d" : "tap%d",
                                   f->type, record_packet, f);
    memio_port_address host;

    assert_non_null(p);
    assert_int_equal(memio_port_start(p), 0);
    assert_string_equal(memio_port_interface(p), f->type == MEMIO_PORT_TUN ? "tun0" : "tap0");
    memio_port_host(p, &host);
    assert_string_equal(host.name, memio_port_interface(p));
    memio_port_free(p);
}

static void test_start_twice_is_ealready(void **state)
{
    struct fixture *f = *state;

    started(f);
    assert_int_equal(memio_port_start(f->port), -1);
    assert_int_equal(errno, EALREADY);
    assert_true(memio_port_is_listening(f->port));
}

static void test_read_and_write_when_not_listening_are_ebadf(void **state)
{
    struct fixture *f = *state;
    struct iovec iov = { (void *)"x", 1 };

    assert_int_equal(memio_port_read(f->port), -1);
    assert_int_equal(errno, EBADF);
    assert_int_equal(memio_port_write(f->port, "x", 1), -1);
    assert_int_equal(errno, EBADF);
    assert_int_equal(memio_port_writev(f->port, &iov, 1), -1);
    assert_int_equal(errno, EBADF);
}

static void test_callback_may_stop_the_port(void **state)
{
    struct fixture *f = *state;
    memio_tunnel *t = started(f);
    uint8_t pkt[256];
    size_t n = device_packet(f, pkt, sizeof(pkt), "stop");

    assert_int_equal(memio_tunnel_inject(t, pkt, n), 0);
    assert_int_equal(memio_tunnel_inject(t, pkt, n), 0);
    f->stop_in_callback = 1;
    assert_int_equal(memio_port_read(f->port), 1);
    assert_false(memio_port_is_listening(f->port));
}

static int resize_in_callback(memio_port *port, const uint8_t *packet, size_t len, void *user)
{
    int *result = user;

    *result = memio_port_set_max_packet_size(port, 100);
    *result = *result < 0 ? errno : 0;
    return 0;
}

static void test_resizing_buffer_in_callback_is_ebusy(void **state)
{
    struct fixture *f = *state;
    int result = -1;
    memio_port *p = memio_port_new(f->sys, "", f->type, resize_in_callback, &result);
    uint8_t pkt[256];

    assert_non_null(p);
    assert_int_equal(memio_port_start(p), 0);
    assert_int_equal(memio_tunnel_inject(memio_tunnel_get(f->sys, memio_port_fd(p)), pkt,
                                         device_packet(f, pkt, sizeof(pkt), "x")),
                     0);
    assert_int_equal(memio_port_read(p), 1);
    assert_int_equal(result, EBUSY);
    memio_port_free(p);
}

static void test_smaller_max_packet_and_budget(void **state)
{
    struct fixture *f = *state;
    memio_tunnel *t;
    uint8_t pkt[256];
    size_t n = device_packet(f, pkt, sizeof(pkt), "0123456789");

    assert_int_equal(memio_port_set_max_packet_size(f->port, 20), 0);
    assert_int_equal(memio_port_set_max_throughput(f->port, 30), 0);
    t = started(f);
    for (int i = 0; i < 3; i++)
        assert_int_equal(memio_tunnel_inject(t, pkt, n), 0);
    assert_int_equal(memio_port_read(f->port), 2); /* 20 + 20 >= 30 */
    assert_int_equal(f->len[0], 20);
    assert_memory_equal(f->data[0], pkt, 20);
    assert_int_equal(memio_port_read(f->port), 1);
    assert_int_equal(memio_port_set_max_packet_size(f->port, 0), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(memio_port_set_max_throughput(f->port, 0), -1);
    assert_int_equal(errno, EINVAL);
}

static void test_default_log_and_describe_truncation(void **state)
{
    struct fixture *f = *state;
    char small[8];

    memio_port_set_log(f->port, NULL, NULL); /* back to stderr: must not crash */
    memio_port_set_name(f->port, NULL);
    assert_int_equal(memio_port_describe(f->port, small, sizeof(small)),
                     (int)strlen("<memio_port not listening on IFF_TUN/tun0>"));
    assert_string_equal(small, "<memio_");
    assert_int_equal(memio_port_describe(NULL, small, sizeof(small)), -1);
    assert_int_equal(errno, EFAULT);
}

/* --- TuntapPortTests ----------------------------------------------------- */

/* Twisted: TuntapPortTests.test_interface — a new port answers every
 * question a listening port does, before it starts. */
static void test_new_port_is_a_complete_unstarted_port(void **state)
{
    memio_sys *sys = tu_memory();
    memio_port *p = memio_port_new(sys, "device", MEMIO_PORT_TAP, record_packet, NULL);
    memio_port_address host;

    assert_non_null(p);
    assert_false(memio_port_is_listening(p));
    assert_int_equal(memio_port_fd(p), -1);
    assert_string_equal(memio_port_interface(p), "device");
    assert_int_equal(memio_port_get_type(p), MEMIO_PORT_TAP);
    assert_ptr_equal(memio_port_sys(p), sys);
    assert_int_equal(memio_port_max_packet_size(p), MEMIO_PORT_DEFAULT_MAX_PACKET);
    assert_int_equal(memio_port_max_throughput(p), MEMIO_PORT_DEFAULT_MAX_THROUGHPUT);
    assert_int_equal(memio_port_host(p, &host), 0);
    assert_string_equal(host.name, "device");
    memio_port_free(p);
    memio_sys_free(sys);
}

/* Twisted: TuntapPortTests.test_realSystem */
static void test_port_without_system_uses_os(void **state)
{
    memio_port *p = memio_port_new(NULL, "device", MEMIO_PORT_TAP, record_packet, NULL);

    assert_non_null(p);
    assert_ptr_equal(memio_port_sys(p), memio_sys_os());
    memio_port_free(p);
}

static void test_new_rejects_bad_arguments(void **state)
{
    errno = 0;
    assert_null(memio_port_new(NULL, "x", (memio_port_type)3, record_packet, NULL));
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_null(memio_port_new(NULL, "x", MEMIO_PORT_TUN, NULL, NULL));
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_null(memio_port_new(NULL, "sixteen-bytes-xx", MEMIO_PORT_TUN, record_packet, NULL));
    assert_int_equal(errno, EINVAL);
    memio_port_free(NULL);
}

/* --- TunnelAddressTests, TunnelAddressEqualityTests ---------------------- */

/* Twisted: TunnelAddressTests.test_interfaces — the C address is a plain
 * value: a copy is the same address. */
static void test_address_is_a_copyable_value(void **state)
{
    memio_port_address a = { .type = MEMIO_PORT_TAP, .name = "tap0" };
    memio_port_address b = a;

    assert_true(memio_port_address_equal(&a, &b));
}

/* Twisted: TunnelAddressTests.test_indexing — its deprecated tuple access
 * has no C counterpart; the fields hold the type and the name. */
static void test_address_fields_hold_type_and_name(void **state)
{
    memio_port_address a = { .type = MEMIO_PORT_TAP, .name = "tap0" };

    assert_int_equal(a.type, MEMIO_PORT_TAP);
    assert_string_equal(a.name, "tap0");
}

/* Twisted: TunnelAddressTests.test_repr */
static void test_address_formats_type_and_name(void **state)
{
    memio_port_address a = { .type = MEMIO_PORT_TUN, .name = "device" };
    char buf[64];

    assert_int_equal(memio_port_address_format(&a, buf, sizeof(buf)),
                     (int)strlen("<memio_port_address type=IFF_TUN name=device>"));
    assert_string_equal(buf, "<memio_port_address type=IFF_TUN name=device>");
}

static const memio_port_address first = { .type = MEMIO_PORT_TUN, .name = "device" };
/* Twisted builds its second from IFF_TUN | IFF_TUN; in C the type may carry
 * other flag bits, which comparison ignores. */
static const memio_port_address second = { .type = (memio_port_type)(MEMIO_PORT_TUN | IFF_NO_PI),
                                           .name = "device" };
static const memio_port_address varied_type = { .type = MEMIO_PORT_TAP, .name = "tap1" };
static const memio_port_address varied_name = { .type = MEMIO_PORT_TUN, .name = "tun1" };

/* Twisted: test_selfComparesEqual, test_selfNotComparesNotEqual (C has one
 * comparison, so each pair of Twisted tests is one here) */
static void test_address_equals_itself(void **state)
{
    assert_true(memio_port_address_equal(&first, &first));
}

/* Twisted: test_sameAttributesComparesEqual, test_sameAttributesNotComparesNotEqual */
static void test_addresses_with_same_values_are_equal(void **state)
{
    assert_true(memio_port_address_equal(&first, &second));
    assert_true(memio_port_address_equal(&second, &first));
}

/* Twisted: test_differentTypeComparesNotEqual, test_differentTypeNotComparesEqual */
static void test_addresses_of_different_type_differ(void **state)
{
    memio_port_address same_name_tap = { .type = MEMIO_PORT_TAP, .name = "device" };

    assert_false(memio_port_address_equal(&first, &varied_type));
    assert_false(memio_port_address_equal(&first, &same_name_tap));
}

/* Twisted: test_differentNameComparesNotEqual, test_differentNameNotComparesEqual */
static void test_addresses_of_different_name_differ(void **state)
{
    assert_false(memio_port_address_equal(&first, &varied_name));
}

/* Twisted: test_differentClassNotComparesEqual, test_differentClassComparesNotEqual
 * — C's types rule out another class; what is left is no address at all. */
static void test_address_never_equals_null(void **state)
{
    assert_false(memio_port_address_equal(&first, NULL));
    assert_false(memio_port_address_equal(NULL, &first));
    assert_false(memio_port_address_equal(NULL, NULL));
}

/* --- the kernel's /dev/net/tun, in a private network namespace ------------ */

static char netns_why[256];
static int netns_ok;

/* The port on the kernel's device: the name it got, the flags, a packet
 * written and one read back through the kernel's stack is in test_udp_echo;
 * here, starting, describing and stopping. */
static void test_os_port_starts_and_stops(void **state)
{
    memio_port_type type = *(memio_port_type *)*state;
    struct fixture f;
    memio_port *p;
    struct ifreq ifr;
    char desc[64];
    int rc;

    if (!netns_ok) {
        print_message("[   SKIP   ] no private network namespace: %s\n", netns_why);
        skip();
    }
    memset(&f, 0, sizeof(f));
    p = memio_port_new(memio_sys_os(), type == MEMIO_PORT_TUN ? "tun%d" : "tap%d", type,
                       record_packet, &f);
    assert_non_null(p);
    f.port = p;
    assert_int_equal(memio_port_start(p), 0);
    assert_string_equal(memio_port_interface(p), type == MEMIO_PORT_TUN ? "tun0" : "tap0");
    memset(&ifr, 0, sizeof(ifr));
    rc = memio_ioctl(memio_sys_os(), memio_port_fd(p), TUNGETIFF, &ifr);
    assert_int_equal(rc, 0);
    assert_int_equal(ifr.ifr_flags & (IFF_TUN | IFF_TAP | IFF_NO_PI), (int)type | IFF_NO_PI);
    assert_int_equal(memio_fcntl(memio_sys_os(), memio_port_fd(p), F_GETFL) & O_NONBLOCK,
                     O_NONBLOCK);
    /* Nothing is up, so nothing arrives: the read drains at once. */
    assert_int_equal(memio_port_read(p), 0);
    memio_port_describe(p, desc, sizeof(desc));
    assert_string_equal(desc, type == MEMIO_PORT_TUN ? "<memio_port listening on IFF_TUN/tun0>"
                                                     : "<memio_port listening on IFF_TAP/tap0>");
    assert_int_equal(memio_port_stop(p), 0);
    assert_int_equal(memio_port_stop(p), 0);
    memio_port_free(p);
}

#define BOTH(fn)                                                                        \
    cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, &tun_type),           \
        cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, &tap_type)

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* TunnelTestsMixin, as TunTests and TapTests */
        BOTH(test_start_opens_device_nonblocking_cloexec_no_pi),
        BOTH(test_start_sets_listening),
        BOTH(test_start_tells_state_callback),
        BOTH(test_start_gives_pollable_fd),
        BOTH(test_start_reports_open_failure),
        BOTH(test_start_reports_ioctl_failure_and_closes),
        BOTH(test_stop_closes_fd),
        BOTH(test_stop_unsets_listening),
        BOTH(test_stop_tells_state_callback),
        BOTH(test_stop_when_never_started_is_noop),
        BOTH(test_stop_twice_is_noop),
        BOTH(test_free_stops_listening_port),
        BOTH(test_read_stops_at_eagain),
        BOTH(test_read_stops_at_ewouldblock),
        BOTH(test_read_stops_at_eintr),
        BOTH(test_read_stops_at_empty_eintr),
        BOTH(test_read_returns_other_errors),
        BOTH(test_read_returns_eperm),
        BOTH(test_read_hands_small_packet_whole),
        BOTH(test_read_cuts_large_packet),
        BOTH(test_read_several_until_budget),
        BOTH(test_callback_failure_is_logged_and_reading_goes_on),
        BOTH(test_callback_failure_log_names_port_and_handler),
        BOTH(test_write_sends_one_packet),
        BOTH(test_write_retries_eintr),
        BOTH(test_write_returns_other_errors),
        BOTH(test_writev_sends_one_gathered_packet),
        BOTH(test_host_is_type_and_device_name),
        BOTH(test_describe_listening),
        BOTH(test_describe_not_listening),
        BOTH(test_log_prefix_names_handler_and_type),
        /* beyond Twisted */
        BOTH(test_start_keeps_the_name_the_device_got),
        BOTH(test_start_twice_is_ealready),
        BOTH(test_read_and_write_when_not_listening_are_ebadf),
        BOTH(test_callback_may_stop_the_port),
        BOTH(test_resizing_buffer_in_callback_is_ebusy),
        BOTH(test_smaller_max_packet_and_budget),
        cmocka_unit_test_prestate_setup_teardown(test_default_log_and_describe_truncation,
                                                 setup, teardown, &tun_type),
        /* TuntapPortTests */
        cmocka_unit_test(test_new_port_is_a_complete_unstarted_port),
        cmocka_unit_test(test_port_without_system_uses_os),
        cmocka_unit_test(test_new_rejects_bad_arguments),
        /* TunnelAddressTests, TunnelAddressEqualityTests */
        cmocka_unit_test(test_address_is_a_copyable_value),
        cmocka_unit_test(test_address_fields_hold_type_and_name),
        cmocka_unit_test(test_address_formats_type_and_name),
        cmocka_unit_test(test_address_equals_itself),
        cmocka_unit_test(test_addresses_with_same_values_are_equal),
        cmocka_unit_test(test_addresses_of_different_type_differ),
        cmocka_unit_test(test_addresses_of_different_name_differ),
        cmocka_unit_test(test_address_never_equals_null),
        /* the kernel's device */
        cmocka_unit_test_prestate(test_os_port_starts_and_stops, &tun_type),
        cmocka_unit_test_prestate(test_os_port_starts_and_stops, &tap_type),
    };

    netns_ok = memio_test_netns_enter(netns_why, sizeof(netns_why)) == 0;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
