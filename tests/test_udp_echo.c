/*
 * test_udp_echo.c — the udp-echo example's own test: its code, unchanged
 * (examples/udp-echo.c built with -DUDP_ECHO_NO_MAIN), on a memory system
 * where the test plays the network, and on the kernel's /dev/net/tun in a
 * private network namespace where the kernel's own UDP socket is its peer.
 * Without root (or a namespace) the kernel tests are skipped, and say so.
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
#include <net/ethernet.h>
#include <netinet/if_ether.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memio/memio.h>

#include "netns.h"
#include "testutil.h"
#include "udp-echo.h"

static const uint8_t echo_mac[6] = { 0x02, 0x65, 0x63, 0x68, 0x6f, 0x01 }; /* the default */

static memio_port_type tun_type = MEMIO_PORT_TUN;
static memio_port_type tap_type = MEMIO_PORT_TAP;

struct fixture {
    memio_sys *sys;
    struct udp_echo *echo;
    memio_tunnel *tunnel;
    memio_port_type type;
};

/* udp-echo at 10.0.0.2 on a memory device whose kernel side is 10.0.0.1/24. */
static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct udp_echo_options opt = { 0 };
    struct sockaddr_in host = tu_addr("10.0.0.1", 0);

    assert_non_null(f);
    f->type = *(memio_port_type *)*state;
    f->sys = tu_memory();
    opt.type = f->type;
    inet_pton(AF_INET, "10.0.0.2", &opt.addr);
    f->echo = udp_echo_open(f->sys, &opt);
    assert_non_null(f->echo);
    f->tunnel = memio_tunnel_get(f->sys, udp_echo_fd(f->echo));
    assert_non_null(f->tunnel);
    assert_int_equal(memio_tunnel_set_address(f->tunnel, (struct sockaddr *)&host, sizeof(host), 24),
                     0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    udp_echo_close(f->echo);
    memio_sys_free(f->sys);
    free(f);
    return 0;
}

static int send_to(struct fixture *f, const char *ip, uint16_t port, const char *payload,
                   struct sockaddr_in *from)
{
    struct sockaddr_in to = tu_addr(ip, port);
    struct sockaddr_storage ss;
    int rc = memio_send_udp(f->sys, payload, strlen(payload), (struct sockaddr *)&to,
                            sizeof(to), &ss);

    if (from)
        memcpy(from, &ss, sizeof(*from));
    return rc;
}

/* The IP packet in what the program wrote: past the Ethernet header on a TAP. */
static const uint8_t *ip_of(const struct fixture *f, const uint8_t *frame, size_t *len)
{
    if (f->type == MEMIO_PORT_TUN)
        return frame;
    assert_true(*len >= 14);
    *len -= 14;
    return frame + 14;
}

/* --- on the memory system ------------------------------------------------ */

/* A datagram to the echo port comes back to the socket it came from. */
static void test_echoes_datagram_to_its_sender(void **state)
{
    struct fixture *f = *state;
    struct sockaddr_in from;
    struct udp_echo_counters c;
    char got[64];
    int rx;

    assert_int_equal(send_to(f, "10.0.0.2", 7, "hello, echo", &from), 0);
    rx = memio_receive_udp(f->sys, udp_echo_fd(f->echo), (struct sockaddr *)&from, sizeof(from));
    assert_true(rx >= 0);
    assert_int_equal(memio_fcntl(f->sys, rx, F_SETFL, O_NONBLOCK), 0);
    assert_int_equal(udp_echo_step(f->echo, 0), 1);
    assert_int_equal(memio_read(f->sys, rx, got, sizeof(got)), 11);
    assert_memory_equal(got, "hello, echo", 11);
    udp_echo_counters_get(f->echo, &c);
    assert_int_equal(c.echoed, 1);
    memio_close(f->sys, rx);
}

/* The reply as the kernel would want it: addresses and ports swapped, valid
 * checksums, TTL 64; on a TAP from the program's MAC to the sender's. */
static void test_reply_swaps_addresses_and_ports(void **state)
{
    struct fixture *f = *state;
    struct sockaddr_in from;
    uint8_t frame[256], dev_mac[6];
    ssize_t n;
    size_t len;
    const uint8_t *ip;
    memio_udp4_view v;

    assert_int_equal(send_to(f, "10.0.0.2", 7, "swap", &from), 0);
    assert_int_equal(udp_echo_step(f->echo, 0), 1);
    n = memio_tunnel_take(f->tunnel, frame, sizeof(frame));
    assert_true(n > 0);
    len = (size_t)n;
    ip = ip_of(f, frame, &len);
    assert_int_equal(memio_packet_parse_udp4(ip, len, &v), 0);
    assert_int_equal(v.src.sin_addr.s_addr, inet_addr("10.0.0.2"));
    assert_int_equal(ntohs(v.src.sin_port), 7);
    assert_int_equal(v.dst.sin_addr.s_addr, from.sin_addr.s_addr);
    assert_int_equal(v.dst.sin_port, from.sin_port);
    assert_int_equal(v.ttl, 64);
    assert_int_equal(v.payload_len, 4);
    assert_memory_equal(v.payload, "swap", 4);
    if (f->type == MEMIO_PORT_TAP) {
        memio_tunnel_mac(f->tunnel, dev_mac);
        assert_memory_equal(frame, dev_mac, 6);
        assert_memory_equal(frame + 6, echo_mac, 6);
        assert_int_equal(frame[12] << 8 | frame[13], ETHERTYPE_IP);
    }
}

/* Several datagrams waiting are all answered in one step, in order. */
static void test_echoes_several_in_one_step(void **state)
{
    struct fixture *f = *state;
    const char *msgs[] = { "one", "two", "three" };
    uint8_t frame[256];

    for (int i = 0; i < 3; i++)
        assert_int_equal(send_to(f, "10.0.0.2", 7, msgs[i], NULL), 0);
    assert_int_equal(udp_echo_step(f->echo, 0), 3);
    for (int i = 0; i < 3; i++) {
        ssize_t n = memio_tunnel_take(f->tunnel, frame, sizeof(frame));
        size_t len = (size_t)n;
        const uint8_t *ip;
        memio_udp4_view v;
        assert_true(n > 0);
        ip = ip_of(f, frame, &len);
        assert_int_equal(memio_packet_parse_udp4(ip, len, &v), 0);
        assert_int_equal(v.payload_len, strlen(msgs[i]));
        assert_memory_equal(v.payload, msgs[i], v.payload_len);
    }
}

/* Another port: nothing listens there, nothing is written. */
static void test_other_port_is_not_answered(void **state)
{
    struct fixture *f = *state;
    uint8_t frame[256];
    memio_dispatch_stats st;

    assert_int_equal(send_to(f, "10.0.0.2", 9, "discard", NULL), 0);
    assert_int_equal(udp_echo_step(f->echo, 0), 1);
    assert_int_equal(memio_tunnel_take(f->tunnel, frame, sizeof(frame)), -1);
    assert_int_equal(errno, EAGAIN);
    memio_dispatch_stats_get(udp_echo_dispatch(f->echo), &st);
    assert_int_equal(st.unknown_udp_port, 1);
}

/* Another address on the same link: not ours, not answered. */
static void test_other_address_is_not_answered(void **state)
{
    struct fixture *f = *state;
    uint8_t frame[256];
    struct udp_echo_counters c;

    assert_int_equal(send_to(f, "10.0.0.3", 7, "not you", NULL), 0);
    assert_int_equal(udp_echo_step(f->echo, 0), 1);
    assert_int_equal(memio_tunnel_take(f->tunnel, frame, sizeof(frame)), -1);
    udp_echo_counters_get(f->echo, &c);
    assert_int_equal(c.ignored, 1);
    assert_int_equal(c.echoed, 0);
}

/* Malformed frames are counted and dropped; the next datagram is answered. */
static void test_malformed_frames_are_dropped_and_echo_goes_on(void **state)
{
    struct fixture *f = *state;
    uint8_t junk[40], frame[256];
    memio_dispatch_stats st;
    struct udp_echo_counters c;

    memset(junk, 0, sizeof(junk));
    junk[0] = 0x45; /* IPv4, but nothing else is right */
    if (f->type == MEMIO_PORT_TAP) {
        junk[12] = 0x08;
        junk[14] = 0x45;
    }
    assert_int_equal(memio_tunnel_inject(f->tunnel, junk, sizeof(junk)), 0);
    assert_int_equal(send_to(f, "10.0.0.2", 7, "still here", NULL), 0);
    assert_int_equal(udp_echo_step(f->echo, 0), 2);
    memio_dispatch_stats_get(udp_echo_dispatch(f->echo), &st);
    assert_int_equal(st.malformed_ip, 1);
    udp_echo_counters_get(f->echo, &c);
    assert_int_equal(c.echoed, 1);
    assert_true(memio_tunnel_take(f->tunnel, frame, sizeof(frame)) > 0);
}

/* An ARP request in a TAP frame, who-has `target` from the device. */
static size_t arp_request(struct fixture *f, uint8_t *frame, size_t cap, const char *target)
{
    struct ether_arp req;
    uint8_t dev_mac[6];
    ssize_t n;

    memio_tunnel_mac(f->tunnel, dev_mac);
    memset(&req, 0, sizeof(req));
    req.arp_hrd = htons(ARPHRD_ETHER);
    req.arp_pro = htons(ETHERTYPE_IP);
    req.arp_hln = 6;
    req.arp_pln = 4;
    req.arp_op = htons(ARPOP_REQUEST);
    memcpy(req.arp_sha, dev_mac, 6);
    inet_pton(AF_INET, "10.0.0.1", req.arp_spa);
    inet_pton(AF_INET, target, req.arp_tpa);
    n = memio_packet_ether(frame, cap, (const uint8_t *)"\xff\xff\xff\xff\xff\xff", dev_mac,
                           ETHERTYPE_ARP, &req, sizeof(req));
    assert_true(n > 0);
    return (size_t)n;
}

/* On a TAP the kernel asks by ARP before it sends (G05-G07); udp-echo
 * answers for its own address. */
static void test_tap_answers_arp_for_its_address(void **state)
{
    struct fixture *f = *state;
    uint8_t frame[128], reply[128], dev_mac[6];
    struct ether_arp rep;
    size_t n = arp_request(f, frame, sizeof(frame), "10.0.0.2");
    struct udp_echo_counters c;

    memio_tunnel_mac(f->tunnel, dev_mac);
    assert_int_equal(memio_tunnel_inject(f->tunnel, frame, n), 0);
    assert_int_equal(udp_echo_step(f->echo, 0), 1);
    assert_int_equal(memio_tunnel_take(f->tunnel, reply, sizeof(reply)), 14 + sizeof(rep));
    assert_memory_equal(reply, dev_mac, 6);
    assert_memory_equal(reply + 6, echo_mac, 6);
    assert_int_equal(reply[12] << 8 | reply[13], ETHERTYPE_ARP);
    memcpy(&rep, reply + 14, sizeof(rep));
    assert_int_equal(ntohs(rep.arp_op), ARPOP_REPLY);
    assert_memory_equal(rep.arp_sha, echo_mac, 6);
    assert_memory_equal(rep.arp_spa, "\x0a\x00\x00\x02", 4);
    assert_memory_equal(rep.arp_tha, dev_mac, 6);
    assert_memory_equal(rep.arp_tpa, "\x0a\x00\x00\x01", 4);
    udp_echo_counters_get(f->echo, &c);
    assert_int_equal(c.arp_replies, 1);
}

static void test_tap_ignores_arp_for_other_addresses(void **state)
{
    struct fixture *f = *state;
    uint8_t frame[128], reply[128];
    size_t n = arp_request(f, frame, sizeof(frame), "10.0.0.9");

    assert_int_equal(memio_tunnel_inject(f->tunnel, frame, n), 0);
    assert_int_equal(udp_echo_step(f->echo, 0), 1);
    assert_int_equal(memio_tunnel_take(f->tunnel, reply, sizeof(reply)), -1);
}

/* Nothing waiting: the step times out with 0. */
static void test_step_times_out_when_idle(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(udp_echo_step(f->echo, 0), 0);
}

static void test_open_failure_is_reported(void **state)
{
    memio_sys *sys = tu_memory();
    struct udp_echo_options opt = { .type = MEMIO_PORT_TUN };

    memio_sys_set_permissions(sys, MEMIO_PERM_OPEN);
    errno = 0;
    assert_null(udp_echo_open(sys, &opt));
    assert_int_equal(errno, EPERM);
    memio_sys_free(sys);
}

static void test_command_line_rejects_bad_options(void **state)
{
    memio_sys *sys = tu_memory();
    char *bad_port[] = { "udp-echo", "-p", "0", NULL };
    char *bad_addr[] = { "udp-echo", "-a", "10.0.0", NULL };
    char *bad_mac[] = { "udp-echo", "-m", "02:00:00", NULL };
    char *extra[] = { "udp-echo", "surplus", NULL };
    FILE *saved = stderr;

    stderr = fopen("/dev/null", "w"); /* the usage messages */
    assert_non_null(stderr);
    assert_int_equal(udp_echo_main(sys, 3, bad_port), 2);
    assert_int_equal(udp_echo_main(sys, 3, bad_addr), 2);
    assert_int_equal(udp_echo_main(sys, 3, bad_mac), 2);
    assert_int_equal(udp_echo_main(sys, 2, extra), 2);
    fclose(stderr);
    stderr = saved;
    memio_sys_free(sys);
}

/* --- on the kernel's device, in a private network namespace -------------- */

static char netns_why[256];
static int netns_ok;

/* udp-echo on a kernel TAP or TUN at 10.<n>.0.2, the kernel at 10.<n>.0.1:
 * a kernel UDP socket sends, and gets its datagram back. */
static void test_os_echoes_through_the_kernel(void **state)
{
    memio_port_type type = *(memio_port_type *)*state;
    int tap = type == MEMIO_PORT_TAP;
    const char *ifname = tap ? "tap-echo" : "tun-echo";
    const char *host = tap ? "10.91.0.1" : "10.92.0.1", *peer = tap ? "10.91.0.2" : "10.92.0.2";
    struct udp_echo_options opt = { .type = type, .interface = ifname };
    struct udp_echo *e;
    struct sockaddr_in to, from;
    socklen_t fromlen = sizeof(from);
    char got[64];
    ssize_t n = -1;
    int s;

    if (!netns_ok) {
        print_message("[   SKIP   ] no private network namespace: %s\n", netns_why);
        skip();
    }
    inet_pton(AF_INET, peer, &opt.addr);
    e = udp_echo_open(memio_sys_os(), &opt);
    assert_non_null(e);
    assert_string_equal(udp_echo_interface(e), ifname);
    assert_int_equal(memio_test_netns_set_addr4(ifname, host, 24), 0);
    assert_int_equal(memio_test_netns_set_up(ifname, 1), 0);

    s = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    assert_true(s >= 0);
    to = tu_addr(peer, 7);
    assert_int_equal(sendto(s, "through the kernel", 18, 0, (struct sockaddr *)&to, sizeof(to)),
                     18);
    /* One thread plays both sides: the program steps until the kernel
     * delivers its answer (on a TAP after an ARP exchange). */
    for (int i = 0; i < 50 && n < 0; i++) {
        assert_true(udp_echo_step(e, 100) >= 0);
        n = recvfrom(s, got, sizeof(got), 0, (struct sockaddr *)&from, &fromlen);
    }
    assert_int_equal(n, 18);
    assert_memory_equal(got, "through the kernel", 18);
    assert_int_equal(from.sin_addr.s_addr, to.sin_addr.s_addr);
    assert_int_equal(from.sin_port, htons(7));
    close(s);
    udp_echo_close(e);
}

#define BOTH(fn)                                                                        \
    cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, &tun_type),           \
        cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, &tap_type)

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_echoes_datagram_to_its_sender),
        BOTH(test_reply_swaps_addresses_and_ports),
        BOTH(test_echoes_several_in_one_step),
        BOTH(test_other_port_is_not_answered),
        BOTH(test_other_address_is_not_answered),
        BOTH(test_malformed_frames_are_dropped_and_echo_goes_on),
        BOTH(test_step_times_out_when_idle),
        cmocka_unit_test_prestate_setup_teardown(test_tap_answers_arp_for_its_address, setup,
                                                 teardown, &tap_type),
        cmocka_unit_test_prestate_setup_teardown(test_tap_ignores_arp_for_other_addresses,
                                                 setup, teardown, &tap_type),
        cmocka_unit_test(test_open_failure_is_reported),
        cmocka_unit_test(test_command_line_rejects_bad_options),
        cmocka_unit_test_prestate(test_os_echoes_through_the_kernel, &tun_type),
        cmocka_unit_test_prestate(test_os_echoes_through_the_kernel, &tap_type),
    };

    netns_ok = memio_test_netns_enter(netns_why, sizeof(netns_why)) == 0;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
