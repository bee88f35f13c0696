/*
 * udp-echo-demo.c — udp-echo, the real program (udp-echo.c, unchanged,
 * linked without its main), run on an in-memory TAP and then a TUN, with
 * this file playing the network around it.  Lines marked [udp-echo] are the
 * program's own -v output; lines marked [test] are what a test does and
 * sees.
 *
 * Run it: scripts/demo.sh, or build/examples/udp-echo-demo (no root, no
 * kernel device, no network).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/ethernet.h>
#include <netinet/if_ether.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memio/memio.h>

#include "udp-echo.h"

#define PROGRAM_PREFIX "   [udp-echo] "

static void die(const char *what)
{
    fprintf(stderr, "udp-echo-demo: %s: %s\n", what, strerror(errno));
    exit(1);
}

static const char *mac_str(const uint8_t *m, char out[18])
{
    snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    return out;
}

static const char *endpoint_str(const struct sockaddr_in *a, char *out, size_t cap)
{
    char ip[INET_ADDRSTRLEN];

    inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
    snprintf(out, cap, "%s:%u", ip, ntohs(a->sin_port));
    return out;
}

static struct sockaddr_in addr4(const char *ip, uint16_t port)
{
    struct sockaddr_in a;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
}

/* Starts udp-echo on sys as its main would with `--tap|--tun -a 10.0.0.2 -v`,
 * and gives the kernel side of the device 10.0.0.1/24. */
static struct udp_echo *start_program(memio_sys *sys, memio_port_type type, memio_tunnel **tun)
{
    struct udp_echo_options opt = { .type = type, .log = stdout, .log_prefix = PROGRAM_PREFIX };
    struct sockaddr_in host = addr4("10.0.0.1", 0);
    struct udp_echo *e;

    inet_pton(AF_INET, "10.0.0.2", &opt.addr);
    e = udp_echo_open(sys, &opt);
    if (!e)
        die("udp_echo_open");
    *tun = memio_tunnel_get(sys, udp_echo_fd(e));
    if (!*tun || memio_tunnel_set_address(*tun, (struct sockaddr *)&host, sizeof(host), 24) < 0)
        die("memio_tunnel_set_address");
    return e;
}

/* The program's turn: what its main loop does each time round. */
static void program_step(struct udp_echo *e)
{
    int n;

    printf("   [test] udp_echo_step(): one turn of the program's main loop (memio_poll, then "
           "memio_port_read)\n");
    n = udp_echo_step(e, 0);
    if (n < 0)
        die("udp_echo_step");
    printf("   [test] ... it read %d frame%s\n", n, n == 1 ? "" : "s");
}

/* A datagram from the kernel's side to 10.0.0.2:port, and a receive
 * descriptor where the answer would arrive.  Returns that descriptor. */
static int send_datagram(memio_sys *sys, int tunnel_fd, const char *payload, uint16_t port)
{
    struct sockaddr_in to = addr4("10.0.0.2", port), from;
    struct sockaddr_storage ss;
    char a[32], b[32];
    int rx;

    if (memio_send_udp(sys, payload, strlen(payload), (struct sockaddr *)&to, sizeof(to), &ss) <
        0)
        die("memio_send_udp");
    memcpy(&from, &ss, sizeof(from));
    rx = memio_receive_udp(sys, tunnel_fd, (struct sockaddr *)&from, sizeof(from));
    if (rx < 0 || memio_fcntl(sys, rx, F_SETFL, O_NONBLOCK) < 0)
        die("memio_receive_udp");
    printf("   [test] memio_send_udp(\"%s\") %s -> %s, as a kernel socket sends it\n", payload,
           endpoint_str(&from, a, sizeof(a)), endpoint_str(&to, b, sizeof(b)));
    printf("   [test] memio_receive_udp(%s): listening where the answer should arrive\n", a);
    return rx;
}

/* What the receive descriptor got: the echo, or nothing. */
static void show_answer(memio_sys *sys, int rx)
{
    char got[128], ip[INET_ADDRSTRLEN];
    struct sockaddr_in from;
    socklen_t flen = sizeof(from);
    ssize_t n = memio_recvfrom(sys, rx, got, sizeof(got), (struct sockaddr *)&from, &flen);

    if (n < 0)
        printf("   [test] the socket received nothing (%s): no answer, as it should be\n",
               errno == EAGAIN ? "EAGAIN" : strerror(errno));
    else
        printf("   [test] the socket received %zd bytes from %s:%u: \"%.*s\"\n", n,
               inet_ntop(AF_INET, &from.sin_addr, ip, sizeof(ip)), ntohs(from.sin_port), (int)n,
               got);
    memio_close(sys, rx);
}

static void tap_part(memio_sys *sys)
{
    memio_tunnel *tap;
    struct udp_echo *e;
    struct ether_arp req;
    uint8_t frame[128], dev_mac[6];
    char m[18];
    ssize_t n;
    int rx;

    printf("1. udp-echo starts on a TAP: udp_echo_open(--tap -a 10.0.0.2 -p 7), the call its "
           "main makes\n");
    e = start_program(sys, MEMIO_PORT_TAP, &tap);
    memio_tunnel_mac(tap, dev_mac);
    printf("   [test] the kernel's side of %s: 10.0.0.1/24, MAC %s\n\n",
           memio_tunnel_name(tap), mac_str(dev_mac, m));

    printf("2. ARP: a kernel would ask who has 10.0.0.2 before sending to it; memio's device\n"
           "   does not, so the test sends that request itself, to show udp-echo answering\n");
    memset(&req, 0, sizeof(req));
    req.arp_hrd = htons(ARPHRD_ETHER);
    req.arp_pro = htons(ETHERTYPE_IP);
    req.arp_hln = 6;
    req.arp_pln = 4;
    req.arp_op = htons(ARPOP_REQUEST);
    memcpy(req.arp_sha, dev_mac, 6);
    inet_pton(AF_INET, "10.0.0.1", req.arp_spa);
    inet_pton(AF_INET, "10.0.0.2", req.arp_tpa);
    n = memio_packet_ether(frame, sizeof(frame), (const uint8_t *)"\xff\xff\xff\xff\xff\xff",
                           dev_mac, ETHERTYPE_ARP, &req, sizeof(req));
    if (n < 0 || memio_tunnel_inject(tap, frame, (size_t)n) < 0)
        die("inject ARP request");
    printf("   [test] memio_tunnel_inject(): a %zd-byte ARP request, broadcast\n", n);
    program_step(e);
    n = memio_tunnel_take(tap, frame, sizeof(frame));
    if (n < 0)
        die("memio_tunnel_take");
    printf("   [test] memio_tunnel_take(): the %zd-byte ARP reply the program wrote\n\n", n);

    printf("3. a datagram to the echo port\n");
    rx = send_datagram(sys, udp_echo_fd(e), "hello, udp-echo", 7);
    program_step(e);
    show_answer(sys, rx);
    printf("\n");

    printf("4. what the program does not answer: a datagram to port 9, and a truncated frame\n");
    rx = send_datagram(sys, udp_echo_fd(e), "anyone on port 9?", 9);
    /* Broadcast, from the device's own MAC, then the first 6 bytes of an
     * IPv4 header. */
    memset(frame, 0xff, 6);
    memcpy(frame + 6, dev_mac, 6);
    memcpy(frame + 12, "\x08\x00\x45\x00\x00\x54\x00\x00", 8);
    if (memio_tunnel_inject(tap, frame, 20) < 0)
        die("inject truncated frame");
    printf("   [test] memio_tunnel_inject(): a 20-byte broadcast frame, its IPv4 header cut off "
           "after 6 bytes\n");
    program_step(e);
    show_answer(sys, rx);
    {
        memio_dispatch_stats d;
        struct udp_echo_counters c;
        memio_tunnel_stats t;

        memio_dispatch_stats_get(udp_echo_dispatch(e), &d);
        udp_echo_counters_get(e, &c);
        memio_tunnel_stats_get(tap, &t);
        printf("   [test] dispatch counted %llu frames: %llu handled, %llu to a port nobody "
               "listens on, %llu malformed\n",
               (unsigned long long)d.frames, (unsigned long long)d.handled,
               (unsigned long long)d.unknown_udp_port,
               (unsigned long long)(d.malformed_ether + d.malformed_ip + d.malformed_udp));
        printf("   [test] udp-echo echoed %llu, answered %llu ARP request; %s carried %llu "
               "frames to the program, %llu from it, %llu of them to a socket\n\n",
               (unsigned long long)c.echoed, (unsigned long long)c.arp_replies,
               memio_tunnel_name(tap), (unsigned long long)t.tx_packets,
               (unsigned long long)t.rx_packets, (unsigned long long)t.udp_delivered);
    }
    udp_echo_close(e);
}

static void tun_part(memio_sys *sys)
{
    memio_tunnel *tun;
    struct udp_echo *e;
    int rx;

    printf("5. the same program on a TUN: bare IP packets, no Ethernet, no ARP\n");
    e = start_program(sys, MEMIO_PORT_TUN, &tun);
    printf("   [test] the kernel's side of %s: 10.0.0.1/24\n", memio_tunnel_name(tun));
    rx = send_datagram(sys, udp_echo_fd(e), "hello over TUN", 7);
    program_step(e);
    show_answer(sys, rx);
    udp_echo_close(e);
}

int main(void)
{
    memio_sys *sys;

    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("udp-echo on memio: the real program, on in-memory devices, with a test playing "
           "the network\n"
           "(its main runs the same code on /dev/net/tun: README, \"udp-echo on a real "
           "device\")\n\n");
    sys = memio_sys_memory();
    if (!sys || memio_register_tun(sys) < 0)
        die("memory system");
    tap_part(sys);
    tun_part(sys);
    memio_sys_free(sys);
    printf("\ndone: no root, no kernel device, nothing left behind.\n");
    return 0;
}
