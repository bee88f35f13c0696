/*
 * test_twisted.c — Twisted's tests of the I/O system and the tunnel device
 * (twisted/pair/test/test_tuntap.py: TunnelDeviceTestsMixin,
 * IOSystemTestsMixin, TunnelTests), ported to C and run on both systems.
 *
 * Twisted runs its device tests on its fake for TAP, TAP+PI and TUN, and on
 * real devices for TAP and TAP+PI that an administrator made beforehand.
 * This suite runs all eight for TUN, TUN+PI, TAP and TAP+PI on the memory
 * system and on the os system, the latter in a private network namespace
 * (tests/support/netns.h) with devices it creates itself.  When the
 * namespace cannot be had, every test that needs it is skipped, with the
 * reason printed.
 *
 * Each test names the behaviour; the Twisted test it mirrors is in the
 * comment above it.
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
#include <net/ethernet.h>
#include <net/if.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <memio/device.h>
#include <memio/packet.h>
#include <memio/sys.h>
#include <memio/tunnel.h>

#include "netns.h"

#define TUN_PATH "/dev/net/tun"
#define NO_SUCH_DEVICE "/dev/there-is-no-such-device-ever"
#define TEST_PORT 12345     /* where Twisted's datagrams go */
#define REMOTE_PORT 50000   /* the source port of test_send's datagram */
#define PI_LEN 4            /* sizeof(struct tun_pi) */
#define FRAME_CAP 2048
/* How long the os tests wait for the kernel to deliver one datagram, and
 * how many times test_receive sends before it gives up (UDP promises no
 * delivery, even inside one host). */
#define WAIT_MS 3000
#define RECEIVE_ATTEMPTS 3
#define FRAMES_PER_ATTEMPT 32

enum system_kind { SYS_MEMORY, SYS_OS, SYS_COUNT };
static const char *const system_names[SYS_COUNT] = { "memory", "os" };

/* One of the four device modes: its TUNSETIFF flags, and the names and
 * addresses its device gets.  Each mode has a subnet of its own so that
 * no two os devices ever share a route. */
struct variant {
    const char *label;
    short flags;
    int tap;
    int pi;
    const char *ifname;
    const char *local;  /* the device's own address: the host's side */
    const char *remote; /* the peer that the program plays */
};

enum { V_TUN, V_TUN_PI, V_TAP, V_TAP_PI, V_COUNT };
static const struct variant variants[V_COUNT] = {
    [V_TUN] = { "TUN", IFF_TUN | IFF_NO_PI, 0, 0, "tun-twtest", "172.16.0.1", "172.16.0.2" },
    [V_TUN_PI] = { "TUN+PI", IFF_TUN, 0, 1, "tunpi-twtest", "172.16.1.1", "172.16.1.2" },
    [V_TAP] = { "TAP", IFF_TAP | IFF_NO_PI, 1, 0, "tap-twtest", "172.16.2.1", "172.16.2.2" },
    [V_TAP_PI] = { "TAP+PI", IFF_TAP, 1, 1, "tappi-twtest", "172.16.3.1", "172.16.3.2" },
};

/* The MAC the os TAP tests give the remote address in the neighbour table,
 * so that the kernel sends to it without an ARP exchange. */
static const uint8_t remote_mac[MEMIO_ETH_ALEN] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x02 };

/* What one device test runs on: set up before it, torn down after. */
struct fixture {
    enum system_kind kind;
    const struct variant *v;
    memio_sys *sys;
    int fd; /* the tunnel, O_RDWR|O_NONBLOCK, attached by TUNSETIFF */
};

static struct fixture fixtures[SYS_COUNT][V_COUNT];

/* Whether the os group may use the kernel's device, and why not. */
static int netns_ok;
static char netns_why[256] = "the os group's setup did not run";

static unsigned tests_ran[SYS_COUNT];
static unsigned tests_skipped[SYS_COUNT];

/* --- helpers ----------------------------------------------------------- */

/* Marks the start of a test on `kind`: skips it (counted, with the reason
 * printed) when it needs the namespace and there is none. */
static void begin(enum system_kind kind, int needs_netns)
{
    if (kind == SYS_OS && needs_netns && !netns_ok) {
        tests_skipped[kind]++;
        print_message("[   SKIP   ] no private network namespace: %s\n", netns_why);
        skip();
    }
    tests_ran[kind]++;
}

static struct sockaddr_in addr4(const char *dotted, uint16_t port)
{
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    if (inet_pton(AF_INET, dotted, &sin.sin_addr) != 1)
        fail_msg("bad address literal %s", dotted);
    return sin;
}

/* A payload no earlier run could have sent: Twisted's "hello world:<key>". */
static size_t unique_message(char *buf, size_t cap)
{
    static unsigned counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (size_t)snprintf(buf, cap, "hello world:%ld%09ld-%d-%u", (long)ts.tv_sec,
                            ts.tv_nsec, (int)getpid(), ++counter);
}

static long elapsed_ms(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/* Twisted's _invalidFileDescriptor: a descriptor obtained by opening the
 * device and closing it again.  A memory system never reuses descriptors;
 * on os the number stays free as long as this single-threaded test opens
 * nothing, which the F_GETFD probe confirms. */
static int closed_descriptor(memio_sys *sys)
{
    int fd = memio_open(sys, TUN_PATH, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(memio_close(sys, fd), 0);
    errno = 0;
    assert_int_equal(memio_fcntl(sys, fd, F_GETFD), -1);
    assert_int_equal(errno, EBADF);
    return fd;
}

/* Builds what the program writes in test_send: an IPv4/UDP datagram from
 * REMOTE:50000 to LOCAL:12345, in an Ethernet frame to the broadcast MAC
 * from 00:00:00:00:00:00 on a TAP (as Twisted's TapHelper does: G10 says
 * the kernel delivers it), behind a PI header (flags 0, proto IPv4) when
 * PI is on.  Returns the frame's length. */
static size_t build_inbound_frame(const struct variant *v, uint8_t *buf, size_t cap,
                                  const void *payload, size_t len)
{
    static const uint8_t bcast[MEMIO_ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    static const uint8_t zero[MEMIO_ETH_ALEN] = { 0 };
    uint8_t ip[FRAME_CAP];
    struct sockaddr_in src = addr4(v->remote, REMOTE_PORT);
    struct sockaddr_in dst = addr4(v->local, TEST_PORT);
    size_t off = 0;
    ssize_t n;

    n = memio_packet_udp4(ip, sizeof ip, &src, &dst, 0x1234, payload, len);
    assert_true(n > 0);
    if (v->pi) {
        struct tun_pi pi = { .flags = 0, .proto = htons(ETHERTYPE_IP) };
        assert_true(cap >= PI_LEN);
        memcpy(buf, &pi, PI_LEN);
        off = PI_LEN;
    }
    if (v->tap) {
        ssize_t m = memio_packet_ether(buf + off, cap - off, bcast, zero, ETHERTYPE_IP, ip,
                                       (size_t)n);
        assert_true(m > 0);
        return off + (size_t)m;
    }
    assert_true(cap - off >= (size_t)n);
    memcpy(buf + off, ip, (size_t)n);
    return off + (size_t)n;
}

/* Parses a frame read from the tunnel as Twisted's helper parsers do: PI
 * header off when PI is on (its bytes go to *pi), Ethernet header off on a
 * TAP, then IPv4 and UDP.  Returns 0 and fills *out, or -1 for any frame
 * that is not a valid IPv4/UDP datagram (other traffic: skip it). */
static int parse_outbound_frame(const struct variant *v, const uint8_t *frame, size_t len,
                                struct tun_pi *pi, memio_udp4_view *out)
{
    const uint8_t *ip = frame;
    size_t iplen = len;

    if (v->pi) {
        if (iplen < PI_LEN)
            return -1;
        memcpy(pi, ip, PI_LEN);
        ip += PI_LEN;
        iplen -= PI_LEN;
    }
    if (v->tap) {
        uint16_t type;
        if (memio_packet_parse_ether(ip, iplen, &type, &ip, &iplen) != 0 ||
            type != ETHERTYPE_IP)
            return -1;
    }
    return memio_packet_parse_udp4(ip, iplen, out);
}

/* --- fixtures ---------------------------------------------------------- */

/* TUNSETIFF on f->fd with the variant's flags and name. */
static int attach(struct fixture *f, char name_out[IFNAMSIZ])
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", f->v->ifname);
    ifr.ifr_flags = f->v->flags;
    if (memio_ioctl(f->sys, f->fd, TUNSETIFF, &ifr) != 0) {
        print_error("TUNSETIFF %s on %s: %s\n", f->v->ifname, system_names[f->kind],
                    strerror(errno));
        return -1;
    }
    memcpy(name_out, ifr.ifr_name, IFNAMSIZ);
    return 0;
}

/* Twisted's TunnelDeviceTestsMixin.setUp for the memory system: a new system
 * with /dev/net/tun registered, the device opened non-blocking and attached,
 * and (as `ip addr add` on os) the local address given to its kernel side,
 * so that send_udp leaves from it on both systems. */
static int setup_memory(struct fixture *f)
{
    char name[IFNAMSIZ];
    struct sockaddr_in local = addr4(f->v->local, 0);
    memio_tunnel *t;

    f->sys = memio_sys_memory();
    if (!f->sys || memio_register_tun(f->sys) != 0) {
        print_error("memory system: %s\n", strerror(errno));
        return -1;
    }
    f->fd = memio_open(f->sys, TUN_PATH, O_RDWR | O_NONBLOCK);
    if (f->fd < 0) {
        print_error("open %s on memory: %s\n", TUN_PATH, strerror(errno));
        return -1;
    }
    if (attach(f, name) != 0)
        return -1;
    t = memio_tunnel_get(f->sys, f->fd);
    if (!t || memio_tunnel_set_address(t, (const struct sockaddr *)&local, sizeof local,
                                       24) != 0) {
        print_error("memory tunnel address: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

/* The same on the os system, inside the namespace: the device is created,
 * its IPv6 switched off before it is up (K01/K02 traffic would otherwise
 * reach our reads), given LOCAL/24, brought up, and on a TAP told REMOTE's
 * MAC so that the kernel sends without ARP (neighbours are flushed while a
 * link is down, so this comes after up). */
static int setup_os(struct fixture *f)
{
    char name[IFNAMSIZ];

    f->sys = memio_sys_os();
    if (!netns_ok)
        return 0; /* the test skips */
    f->fd = memio_open(f->sys, TUN_PATH, O_RDWR | O_NONBLOCK);
    if (f->fd < 0) {
        print_error("open %s on os: %s\n", TUN_PATH, strerror(errno));
        return -1;
    }
    if (attach(f, name) != 0)
        return -1;
    if (memio_test_netns_disable_ipv6(name) != 0 ||
        memio_test_netns_set_addr4(name, f->v->local, 24) != 0 ||
        memio_test_netns_set_up(name, 1) != 0 ||
        (f->v->tap && memio_test_netns_add_neigh4(name, f->v->remote, remote_mac) != 0)) {
        print_error("configuring %s: %s\n", name, strerror(errno));
        return -1;
    }
    return 0;
}

static int setup_device(void **state)
{
    struct fixture *f = *state;
    f->fd = -1;
    f->sys = NULL;
    return f->kind == SYS_MEMORY ? setup_memory(f) : setup_os(f);
}

/* Closing the last descriptor of a non-persistent device deletes it, on
 * both systems. */
static int teardown_device(void **state)
{
    struct fixture *f = *state;
    if (f->sys && f->fd >= 0)
        memio_close(f->sys, f->fd);
    if (f->kind == SYS_MEMORY)
        memio_sys_free(f->sys);
    f->sys = NULL;
    f->fd = -1;
    return 0;
}

static int setup_os_group(void **state)
{
    (void)state;
    netns_ok = memio_test_netns_enter(netns_why, sizeof netns_why) == 0;
    if (!netns_ok)
        print_message("[   SKIP   ] os device tests: %s\n", netns_why);
    return 0;
}

/* --- TunnelDeviceTestsMixin -------------------------------------------- */

/* Twisted: test_interface (the system provides _IInputOutputSystem).  In C,
 * the system's table is complete: it says which system it is, and every
 * memio_* call does its job on it, none failing with ENOSYS. */
static void test_every_call_works_on_the_system(void **state)
{
    struct fixture *f = *state;
    const struct variant *v = f->v;
    struct sockaddr_in local = addr4(v->local, TEST_PORT);
    struct sockaddr_in remote = addr4(v->remote, TEST_PORT);
    struct sockaddr_storage from;
    uint8_t frame[FRAME_CAP], buf[FRAME_CAP];
    char msg[64];
    size_t msglen, framelen;
    struct ifreq ifr;
    struct iovec iov[2];
    struct pollfd pfd;
    int flags, rfd;

    begin(f->kind, 1);
    assert_int_equal(memio_sys_is_memory(f->sys) != 0, f->kind == SYS_MEMORY);

    flags = memio_fcntl(f->sys, f->fd, F_GETFL);
    assert_true(flags >= 0);
    assert_int_equal(flags & O_ACCMODE, O_RDWR);
    assert_true(flags & O_NONBLOCK);

    memset(&ifr, 0, sizeof ifr);
    assert_int_equal(memio_ioctl(f->sys, f->fd, TUNGETIFF, &ifr), 0);
    assert_string_equal(ifr.ifr_name, v->ifname);
    /* Only the mode bits: TUNGETIFF's 0x1000 is IFF_NOFILTER, not
     * IFF_NO_PI, and is set with PI on too (semantics note 1, B01). */
    assert_int_equal(ifr.ifr_flags & (IFF_TUN | IFF_TAP), v->flags & (IFF_TUN | IFF_TAP));

    pfd = (struct pollfd){ .fd = f->fd, .events = POLLIN | POLLOUT };
    assert_int_equal(memio_poll(f->sys, &pfd, 1, 0), 1);
    assert_int_equal(pfd.revents, POLLOUT); /* writable, nothing to read yet */

    /* Nothing was sent: an IPv4-only device is silent (K03/K04). */
    errno = 0;
    assert_int_equal(memio_read(f->sys, f->fd, buf, sizeof buf), -1);
    assert_int_equal(errno, EAGAIN);
    iov[0] = (struct iovec){ buf, 10 };
    iov[1] = (struct iovec){ buf + 10, sizeof buf - 10 };
    errno = 0;
    assert_int_equal(memio_readv(f->sys, f->fd, iov, 2), -1);
    assert_int_equal(errno, EAGAIN);

    /* write and writev one datagram each to a receive descriptor. */
    rfd = memio_receive_udp(f->sys, f->fd, (const struct sockaddr *)&local, sizeof local);
    assert_true(rfd >= 0);
    msglen = unique_message(msg, sizeof msg);
    framelen = build_inbound_frame(v, frame, sizeof frame, msg, msglen);
    assert_int_equal(memio_write(f->sys, f->fd, frame, framelen), (ssize_t)framelen);
    iov[0] = (struct iovec){ frame, 7 };
    iov[1] = (struct iovec){ frame + 7, framelen - 7 };
    assert_int_equal(memio_writev(f->sys, f->fd, iov, 2), (ssize_t)framelen);
    for (int i = 0; i < 2; i++) {
        pfd = (struct pollfd){ .fd = rfd, .events = POLLIN };
        assert_int_equal(memio_poll(f->sys, &pfd, 1, WAIT_MS), 1);
        assert_int_equal(memio_read(f->sys, rfd, buf, sizeof buf), (ssize_t)msglen);
        assert_memory_equal(buf, msg, msglen);
    }
    assert_int_equal(memio_close(f->sys, rfd), 0);

    assert_int_equal(memio_send_udp(f->sys, msg, msglen, (const struct sockaddr *)&remote,
                                    sizeof remote, &from),
                     0);
    assert_int_equal(from.ss_family, AF_INET);

    /* Freeing the os system does nothing: it is still usable after. */
    if (f->kind == SYS_OS) {
        memio_sys_free(f->sys);
        assert_true(memio_fcntl(f->sys, f->fd, F_GETFL) >= 0);
    }
}

/* Twisted: test_readEBADF */
static void test_read_of_closed_descriptor_is_ebadf(void **state)
{
    struct fixture *f = *state;
    uint8_t buf[1024];
    int fd;

    begin(f->kind, 1);
    fd = closed_descriptor(f->sys);
    errno = 0;
    assert_int_equal(memio_read(f->sys, fd, buf, sizeof buf), -1);
    assert_int_equal(errno, EBADF);
}

/* Twisted: test_writeEBADF */
static void test_write_to_closed_descriptor_is_ebadf(void **state)
{
    struct fixture *f = *state;
    int fd;

    begin(f->kind, 1);
    fd = closed_descriptor(f->sys);
    errno = 0;
    assert_int_equal(memio_write(f->sys, fd, "bytes", 5), -1);
    assert_int_equal(errno, EBADF);
}

/* Twisted: test_closeEBADF */
static void test_close_of_closed_descriptor_is_ebadf(void **state)
{
    struct fixture *f = *state;
    int fd;

    begin(f->kind, 1);
    fd = closed_descriptor(f->sys);
    errno = 0;
    assert_int_equal(memio_close(f->sys, fd), -1);
    assert_int_equal(errno, EBADF);
}

/* Twisted: test_ioctlEBADF */
static void test_ioctl_on_closed_descriptor_is_ebadf(void **state)
{
    struct fixture *f = *state;
    struct ifreq ifr;
    int fd;

    begin(f->kind, 1);
    fd = closed_descriptor(f->sys);
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, "tap0", 4);
    errno = 0;
    assert_int_equal(memio_ioctl(f->sys, fd, TUNSETIFF, &ifr), -1);
    assert_int_equal(errno, EBADF);
}

/* Twisted: test_ioctlEINVAL (request 0xDEADBEEF, argument "garbage") */
static void test_ioctl_with_unknown_request_is_einval(void **state)
{
    struct fixture *f = *state;
    /* 0xDEADBEEF encodes an argument size of 0x1ead bytes (_IOC_SIZE):
     * give that much, so that no checker reads past the buffer. */
    static char garbage[_IOC_SIZE(0xDEADBEEFu) + 1];

    begin(f->kind, 1);
    for (size_t i = 0; i < sizeof garbage; i++)
        garbage[i] = "garbage"[i % 7];
    errno = 0;
    assert_int_equal(memio_ioctl(f->sys, f->fd, 0xDEADBEEFul, garbage), -1);
    assert_int_equal(errno, EINVAL);
}

/* Twisted: test_receive.  A datagram sent to REMOTE:12345 comes out of the
 * tunnel, from the address and port send_udp reported, with the payload
 * sent; with PI on, the header says flags 0 and IPv4 (E15). */
static void test_datagram_sent_to_remote_is_read_from_tunnel(void **state)
{
    struct fixture *f = *state;
    const struct variant *v = f->v;
    struct sockaddr_in to = addr4(v->remote, TEST_PORT);
    struct sockaddr_in local = addr4(v->local, 0);
    struct sockaddr_storage from;
    const struct sockaddr_in *from4 = (const struct sockaddr_in *)&from;
    uint8_t frame[FRAME_CAP];
    char msg[64];
    size_t msglen;
    struct tun_pi pi = { 0, 0 };
    int found = 0, other_frames = 0;

    begin(f->kind, 1);
    for (int attempt = 0; attempt < RECEIVE_ATTEMPTS && !found; attempt++) {
        msglen = unique_message(msg, sizeof msg);
        memset(&from, 0, sizeof from);
        assert_int_equal(memio_send_udp(f->sys, msg, msglen, (const struct sockaddr *)&to,
                                        sizeof to, &from),
                         0);
        assert_int_equal(from.ss_family, AF_INET);
        assert_int_equal(from4->sin_addr.s_addr, local.sin_addr.s_addr);
        assert_int_not_equal(from4->sin_port, 0);

        for (int j = 0; j < FRAMES_PER_ATTEMPT && !found; j++) {
            struct pollfd pfd = { .fd = f->fd, .events = POLLIN };
            memio_udp4_view view;
            ssize_t n;

            if (memio_poll(f->sys, &pfd, 1, WAIT_MS) == 0)
                break; /* lost: send again */
            n = memio_read(f->sys, f->fd, frame, sizeof frame);
            if (n < 0) {
                assert_int_equal(errno, EAGAIN);
                break;
            }
            if (parse_outbound_frame(v, frame, (size_t)n, &pi, &view) == 0 &&
                view.dst.sin_addr.s_addr == to.sin_addr.s_addr &&
                view.dst.sin_port == to.sin_port &&
                view.src.sin_addr.s_addr == from4->sin_addr.s_addr &&
                view.src.sin_port == from4->sin_port && view.payload_len == msglen &&
                memcmp(view.payload, msg, msglen) == 0)
                found = 1;
            else
                other_frames++;
        }
    }
    if (!found)
        fail_msg("never saw the probe datagram on %s/%s (%d other frames)",
                 system_names[f->kind], v->label, other_frames);
    if (v->pi) {
        assert_int_equal(pi.flags, 0);
        assert_int_equal(ntohs(pi.proto), ETHERTYPE_IP);
    }
}

/* Twisted: test_send.  A datagram the program writes to LOCAL:12345 reaches
 * the receive descriptor bound there, payload intact. */
static void test_datagram_written_to_tunnel_reaches_local_socket(void **state)
{
    struct fixture *f = *state;
    struct sockaddr_in at = addr4(f->v->local, TEST_PORT);
    uint8_t frame[FRAME_CAP], buf[FRAME_CAP];
    char msg[64];
    size_t msglen, framelen;
    struct pollfd pfd;
    int rfd;

    begin(f->kind, 1);
    msglen = unique_message(msg, sizeof msg);
    rfd = memio_receive_udp(f->sys, f->fd, (const struct sockaddr *)&at, sizeof at);
    assert_true(rfd >= 0);
    framelen = build_inbound_frame(f->v, frame, sizeof frame, msg, msglen);
    assert_int_equal(memio_write(f->sys, f->fd, frame, framelen), (ssize_t)framelen);

    /* Twisted sets a socket timeout so that a broken run ends; poll's
     * timeout does the same here. */
    pfd = (struct pollfd){ .fd = rfd, .events = POLLIN };
    assert_int_equal(memio_poll(f->sys, &pfd, 1, WAIT_MS), 1);
    assert_int_equal(memio_read(f->sys, rfd, buf, sizeof buf), (ssize_t)msglen);
    assert_memory_equal(buf, msg, msglen);
    assert_int_equal(memio_close(f->sys, rfd), 0);
}

/* --- IOSystemTestsMixin ------------------------------------------------ */

/* Twisted: test_noSuchDevice (MemoryIOSystemTests).  The memory system
 * refuses a path with no registered device with ENOSYS, the seed's
 * documented behaviour. */
static void test_open_of_unregistered_path_is_enosys_on_memory(void **state)
{
    memio_sys *sys;
    (void)state;

    begin(SYS_MEMORY, 0);
    sys = memio_sys_memory();
    assert_non_null(sys);
    assert_int_equal(memio_register_tun(sys), 0);
    errno = 0;
    assert_int_equal(memio_open(sys, NO_SUCH_DEVICE, O_RDWR), -1);
    assert_int_equal(errno, ENOSYS);
    memio_sys_free(sys);
}

/* Twisted: test_noSuchDevice (RealIOSystemTests).  Needs no namespace: it
 * only opens a path that does not exist. */
static void test_open_of_missing_path_is_enoent_on_os(void **state)
{
    (void)state;

    begin(SYS_OS, 0);
    errno = 0;
    assert_int_equal(memio_open(memio_sys_os(), NO_SUCH_DEVICE, O_RDWR), -1);
    assert_int_equal(errno, ENOENT);
}

/* --- TunnelTests ------------------------------------------------------- */

struct injector {
    memio_tunnel *tunnel;
    const uint8_t *frame;
    size_t len;
    int rc;  /* memio_tunnel_inject's result */
    int err; /* and its errno */
};

/* The helper thread of the blocking read test: waits ~50 ms so that the
 * main thread is blocked in its read, injects, and hands back the result
 * (cmocka's assertions stay in the main thread). */
static void *inject_later(void *arg)
{
    struct injector *inj = arg;
    struct timespec delay = { 0, 50 * 1000 * 1000 };
    nanosleep(&delay, NULL);
    errno = 0;
    inj->rc = memio_tunnel_inject(inj->tunnel, inj->frame, inj->len);
    inj->err = errno;
    return NULL;
}

static void on_alarm(int sig)
{
    (void)sig;
}

/* Twisted: TunnelTests.test_blockingRead, which expects NotImplementedError
 * from its fake.  memio implements blocking reads, as the kernel does: a
 * read of an empty tunnel opened without O_NONBLOCK waits, and returns the
 * frame another thread injects.  An alarm bounds the wait: a read that
 * never wakes fails with EINTR after 5 s instead of hanging the suite. */
static void test_blocking_read_returns_frame_injected_later(void **state)
{
    struct sockaddr_in src = addr4("172.16.0.2", REMOTE_PORT);
    struct sockaddr_in dst = addr4("172.16.0.1", TEST_PORT);
    struct injector inj = { 0 };
    struct sigaction sa, old_sa;
    struct timespec start;
    uint8_t frame[128], buf[FRAME_CAP];
    struct ifreq ifr;
    pthread_t thread;
    memio_sys *sys;
    ssize_t n, framelen;
    long waited;
    int fd, read_errno;
    (void)state;

    begin(SYS_MEMORY, 0);
    sys = memio_sys_memory();
    assert_non_null(sys);
    assert_int_equal(memio_register_tun(sys), 0);
    fd = memio_open(sys, TUN_PATH, O_RDWR); /* blocking */
    assert_true(fd >= 0);
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", "tun-blocking");
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    assert_int_equal(memio_ioctl(sys, fd, TUNSETIFF, &ifr), 0);

    framelen = memio_packet_udp4(frame, sizeof frame, &src, &dst, 1, "wake up", 7);
    assert_true(framelen > 0);
    inj.tunnel = memio_tunnel_get(sys, fd);
    assert_non_null(inj.tunnel);
    inj.frame = frame;
    inj.len = (size_t)framelen;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm; /* no SA_RESTART: the read gives EINTR */
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGALRM, &sa, &old_sa), 0);

    clock_gettime(CLOCK_MONOTONIC, &start);
    assert_int_equal(pthread_create(&thread, NULL, inject_later, &inj), 0);
    alarm(5);
    n = memio_read(sys, fd, buf, sizeof buf);
    read_errno = errno;
    alarm(0);
    waited = elapsed_ms(&start);
    pthread_join(thread, NULL);
    sigaction(SIGALRM, &old_sa, NULL);

    assert_int_equal(inj.rc, 0);
    if (n < 0)
        fail_msg("blocking read failed: %s", strerror(read_errno));
    assert_int_equal(n, framelen);
    assert_memory_equal(buf, frame, (size_t)framelen);
    assert_true(waited >= 40); /* it did wait for the inject */

    assert_int_equal(memio_close(sys, fd), 0);
    memio_sys_free(sys);
}

/* --- the suite --------------------------------------------------------- */

#define DEVICE_TEST(kind, vi, label, fn) \
    { label "/" #fn, fn, setup_device, teardown_device, &fixtures[kind][vi] }

#define DEVICE_TESTS(kind, vi, label)                                                  \
    DEVICE_TEST(kind, vi, label, test_every_call_works_on_the_system),                 \
    DEVICE_TEST(kind, vi, label, test_read_of_closed_descriptor_is_ebadf),             \
    DEVICE_TEST(kind, vi, label, test_write_to_closed_descriptor_is_ebadf),            \
    DEVICE_TEST(kind, vi, label, test_close_of_closed_descriptor_is_ebadf),            \
    DEVICE_TEST(kind, vi, label, test_ioctl_on_closed_descriptor_is_ebadf),            \
    DEVICE_TEST(kind, vi, label, test_ioctl_with_unknown_request_is_einval),           \
    DEVICE_TEST(kind, vi, label, test_datagram_sent_to_remote_is_read_from_tunnel),    \
    DEVICE_TEST(kind, vi, label, test_datagram_written_to_tunnel_reaches_local_socket)

int main(void)
{
    const struct CMUnitTest memory_tests[] = {
        DEVICE_TESTS(SYS_MEMORY, V_TUN, "memory/TUN"),
        DEVICE_TESTS(SYS_MEMORY, V_TUN_PI, "memory/TUN+PI"),
        DEVICE_TESTS(SYS_MEMORY, V_TAP, "memory/TAP"),
        DEVICE_TESTS(SYS_MEMORY, V_TAP_PI, "memory/TAP+PI"),
        cmocka_unit_test(test_open_of_unregistered_path_is_enosys_on_memory),
        cmocka_unit_test(test_blocking_read_returns_frame_injected_later),
    };
    const struct CMUnitTest os_tests[] = {
        DEVICE_TESTS(SYS_OS, V_TUN, "os/TUN"),
        DEVICE_TESTS(SYS_OS, V_TUN_PI, "os/TUN+PI"),
        DEVICE_TESTS(SYS_OS, V_TAP, "os/TAP"),
        DEVICE_TESTS(SYS_OS, V_TAP_PI, "os/TAP+PI"),
        cmocka_unit_test(test_open_of_missing_path_is_enoent_on_os),
    };
    int failed = 0;

    for (int k = 0; k < SYS_COUNT; k++)
        for (int i = 0; i < V_COUNT; i++)
            fixtures[k][i] = (struct fixture){ (enum system_kind)k, &variants[i], NULL, -1 };

    /* The os group runs first: entering the namespace needs a process with
     * one thread, and the memory group's blocking read test starts one. */
    failed += cmocka_run_group_tests_name("twisted_os", os_tests, setup_os_group, NULL);
    failed += cmocka_run_group_tests_name("twisted_memory", memory_tests, NULL, NULL);

    printf("test_twisted: %u tests ran on memory (%u skipped), %u on os (%u skipped)%s%s\n",
           tests_ran[SYS_MEMORY], tests_skipped[SYS_MEMORY], tests_ran[SYS_OS],
           tests_skipped[SYS_OS], netns_ok ? "" : ": ", netns_ok ? "" : netns_why);
    return failed ? 1 : 0;
}
