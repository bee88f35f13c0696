/*
 * udp-echo.c — answers UDP datagrams on one port with the same payload, on
 * a TAP (as Twisted's pairudp.py example does) or a TUN: a complete
 * userspace network endpoint in one page, built on memio's port and
 * dispatch.
 *
 * On a TAP the program is a host on an Ethernet: it has its own MAC and
 * IPv4 address, answers ARP requests for that address, and echoes datagrams
 * to its port.  On a TUN it sees bare IP packets and echoes the same way.
 *
 * The program calls only memio_* functions on the memio_sys it is given:
 * its main passes memio_sys_os(), the real /dev/net/tun (README: "udp-echo
 * on a real device"); its test and the demonstration pass a memory system
 * and play the network.  Built with -DUDP_ECHO_NO_MAIN it is that code
 * without main, for them to link.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <net/ethernet.h>
#include <netinet/if_ether.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "udp-echo.h"

#define LOG_PAYLOAD_MAX 48

static const uint8_t default_mac[6] = { 0x02, 0x65, 0x63, 0x68, 0x6f, 0x01 }; /* "echo" */

struct udp_echo {
    memio_port *port;
    memio_dispatch *dispatch;
    struct udp_echo_options opt;
    int tap;
    uint16_t ip_id;
    uint8_t *reply; /* one reply at a time, built here: nothing allocates per packet */
    size_t reply_cap;
    struct udp_echo_counters counters;
};

/* --- describing frames, for the log ------------------------------------- */

static void fmt_mac(const uint8_t *m, char out[18])
{
    snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void fmt_endpoint(const struct sockaddr_in *a, char *out, size_t cap)
{
    char ip[INET_ADDRSTRLEN];

    inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
    snprintf(out, cap, "%s:%u", ip, ntohs(a->sin_port));
}

/* Payload as a C string literal, non-printable bytes escaped, cut short. */
static void fmt_payload(const uint8_t *p, size_t len, char *out, size_t cap)
{
    size_t o = 0;

    out[o++] = '"';
    for (size_t i = 0; i < len && i < LOG_PAYLOAD_MAX && o + 6 < cap; i++) {
        if (isprint(p[i]) && p[i] != '"' && p[i] != '\\')
            out[o++] = (char)p[i];
        else
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", p[i]);
    }
    out[o++] = '"';
    out[o] = '\0';
    if (len > LOG_PAYLOAD_MAX)
        snprintf(out + o, cap - o, "...");
}

/* One line: what a frame is, as far as a newcomer wants to know. */
static void log_frame(const struct udp_echo *e, const char *verb, const uint8_t *frame,
                      size_t len)
{
    const uint8_t *ip = frame;
    size_t iplen = len;
    uint16_t type = ETHERTYPE_IP;
    char link[64] = "", what[320];
    memio_udp4_view v;

    if (!e->opt.log)
        return;
    if (e->tap) {
        char dst[18], src[18];
        if (memio_packet_parse_ether(frame, len, &type, &ip, &iplen) < 0) {
            fprintf(e->opt.log, "%s%s %zu-byte frame, too short for Ethernet\n",
                    e->opt.log_prefix, verb, len);
            return;
        }
        fmt_mac(frame + 6, src);
        fmt_mac(frame, dst);
        snprintf(link, sizeof(link), " %s -> %s", src, dst);
    }
    if (type == ETHERTYPE_IP && memio_packet_parse_udp4(ip, iplen, &v) == 0) {
        char a[32], b[32], pl[LOG_PAYLOAD_MAX * 4 + 8];
        fmt_endpoint(&v.src, a, sizeof(a));
        fmt_endpoint(&v.dst, b, sizeof(b));
        fmt_payload(v.payload, v.payload_len, pl, sizeof(pl));
        snprintf(what, sizeof(what), "IPv4 UDP %s -> %s, %zu-byte payload %s", a, b,
                 v.payload_len, pl);
    } else if (type == ETHERTYPE_ARP) {
        snprintf(what, sizeof(what), "ARP");
    } else if (type == ETHERTYPE_IP && iplen < MEMIO_IPV4_HLEN) {
        snprintf(what, sizeof(what), "IPv4, but only %zu bytes: the header is cut short", iplen);
    } else if (type == ETHERTYPE_IP) {
        snprintf(what, sizeof(what), "IPv4, protocol %u%s", ip[9],
                 ip[9] == IPPROTO_UDP ? ", not a valid UDP datagram" : "");
    } else if (!e->tap && iplen && ip[0] >> 4 == 6) {
        snprintf(what, sizeof(what), "IPv6");
    } else {
        snprintf(what, sizeof(what), "ethertype 0x%04x", type);
    }
    fprintf(e->opt.log, "%s%s %zu-byte %s%s: %s\n", e->opt.log_prefix, verb, len,
            e->tap ? "frame" : "packet", link, what);
}

/* --- answering ------------------------------------------------------------ */

static void log_ignored(const struct udp_echo *e, const char *why)
{
    if (e->opt.log)
        fprintf(e->opt.log, "%s  ignored: %s\n", e->opt.log_prefix, why);
}

static int send_reply(struct udp_echo *e, size_t len)
{
    if (memio_port_write(e->port, e->reply, len) < 0) {
        e->counters.write_errors++;
        return -1;
    }
    log_frame(e, "wrote", e->reply, len);
    return 0;
}

/* A TAP receives what is addressed to its MAC, or to everyone: a NIC that
 * is not promiscuous does the same. */
static int for_our_mac(const struct udp_echo *e, const memio_dispatch_packet *pkt)
{
    return !pkt->has_ether || memcmp(pkt->eth_dst, e->opt.mac, 6) == 0 ||
           (pkt->eth_dst[0] & 1);
}

static int for_our_addr(const struct udp_echo *e, struct in_addr dst)
{
    uint32_t a = ntohl(dst.s_addr);

    if (e->opt.addr.s_addr != htonl(INADDR_ANY))
        return dst.s_addr == e->opt.addr.s_addr;
    /* No address of our own: answer any unicast destination, from it. */
    return !IN_MULTICAST(a) && a != INADDR_BROADCAST && a != INADDR_ANY;
}

/* UDP to our port: the same payload back, addresses and ports swapped. */
static int on_udp(const memio_dispatch_packet *pkt, const uint8_t *payload, size_t len,
                  void *user)
{
    struct udp_echo *e = user;
    size_t off = e->tap ? MEMIO_ETH_HLEN : 0;
    ssize_t n;

    if (!for_our_mac(e, pkt) || !for_our_addr(e, pkt->dst.sin_addr)) {
        e->counters.ignored++;
        log_ignored(e, for_our_mac(e, pkt) ? "not our address" : "not our MAC");
        return 0;
    }
    n = memio_packet_udp4(e->reply + off, e->reply_cap - off, &pkt->dst, &pkt->src,
                          e->ip_id++, payload, len);
    if (n < 0)
        return -1;
    if (e->tap)
        memio_packet_ether(e->reply, MEMIO_ETH_HLEN, pkt->eth_src, e->opt.mac, ETHERTYPE_IP, NULL, 0);
    if (send_reply(e, off + (size_t)n) < 0)
        return -1;
    e->counters.echoed++;
    return 0;
}

/* ARP: "who has our address?" gets "it is at our MAC" (RFC 826). */
static int on_arp(const memio_dispatch_packet *pkt, const uint8_t *payload, size_t len,
                  void *user)
{
    struct udp_echo *e = user;
    struct ether_arp req, rep;

    if (len < sizeof(req)) {
        e->counters.ignored++;
        log_ignored(e, "ARP message too short");
        return 0;
    }
    memcpy(&req, payload, sizeof(req));
    if (ntohs(req.arp_hrd) != ARPHRD_ETHER || ntohs(req.arp_pro) != ETHERTYPE_IP ||
        req.arp_hln != 6 || req.arp_pln != 4 || ntohs(req.arp_op) != ARPOP_REQUEST ||
        memcmp(req.arp_tpa, &e->opt.addr.s_addr, 4) != 0) {
        e->counters.ignored++;
        log_ignored(e, "not an ARP request for our address");
        return 0;
    }
    rep = req;
    rep.arp_op = htons(ARPOP_REPLY);
    memcpy(rep.arp_sha, e->opt.mac, 6);
    memcpy(rep.arp_spa, &e->opt.addr.s_addr, 4);
    memcpy(rep.arp_tha, req.arp_sha, 6);
    memcpy(rep.arp_tpa, req.arp_spa, 4);
    if (e->opt.log) {
        char who[INET_ADDRSTRLEN], tell[INET_ADDRSTRLEN], mac[18];
        inet_ntop(AF_INET, req.arp_tpa, who, sizeof(who));
        inet_ntop(AF_INET, req.arp_spa, tell, sizeof(tell));
        fmt_mac(e->opt.mac, mac);
        fprintf(e->opt.log, "%sARP: who has %s? tell %s -> %s is at %s\n", e->opt.log_prefix,
                who, tell, who, mac);
    }
    memio_packet_ether(e->reply, e->reply_cap, pkt->eth_src, e->opt.mac, ETHERTYPE_ARP, &rep,
                       sizeof(rep));
    if (send_reply(e, MEMIO_ETH_HLEN + sizeof(rep)) < 0)
        return -1;
    e->counters.arp_replies++;
    return 0;
}

/* The port's callback: log the frame, then dispatch it. */
static int on_frame(memio_port *port, const uint8_t *frame, size_t len, void *user)
{
    struct udp_echo *e = user;
    memio_dispatch_stats before, after;
    int rc;

    log_frame(e, "read", frame, len);
    memio_dispatch_stats_get(e->dispatch, &before);
    rc = memio_dispatch_frame(e->dispatch, port, frame, len);
    memio_dispatch_stats_get(e->dispatch, &after);
    if (rc == 0 && e->opt.log) {
        const char *why = after.malformed_ether + after.malformed_ip + after.malformed_udp >
                                  before.malformed_ether + before.malformed_ip +
                                          before.malformed_udp
                              ? "malformed"
                              : "nothing listens there";
        fprintf(e->opt.log, "%s  dropped: %s\n", e->opt.log_prefix, why);
    }
    return rc < 0 ? -1 : 0;
}

/* --- the program ---------------------------------------------------------- */

struct udp_echo *udp_echo_open(memio_sys *sys, const struct udp_echo_options *opt)
{
    struct udp_echo *e;
    int saved;

    e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->opt = *opt;
    e->tap = opt->type == MEMIO_PORT_TAP;
    if (!e->opt.interface)
        e->opt.interface = e->tap ? "tap%d" : "tun%d";
    if (!e->opt.port)
        e->opt.port = UDP_ECHO_DEFAULT_PORT;
    if (!e->opt.log_prefix)
        e->opt.log_prefix = "udp-echo: ";
    if (!memcmp(e->opt.mac, "\0\0\0\0\0\0", 6))
        memcpy(e->opt.mac, default_mac, 6);
    e->ip_id = 1;
    e->dispatch = memio_dispatch_new(e->tap ? MEMIO_DISPATCH_ETHERNET : MEMIO_DISPATCH_IP);
    e->port = memio_port_new(sys, e->opt.interface, opt->type, on_frame, e);
    if (!e->dispatch || !e->port)
        goto fail;
    e->reply_cap = memio_port_max_packet_size(e->port);
    e->reply = malloc(e->reply_cap);
    if (!e->reply)
        goto fail;
    memio_port_set_name(e->port, "udp-echo");
    if (memio_dispatch_add_udp(e->dispatch, e->opt.port, on_udp, e) < 0)
        goto fail;
    if (e->tap && e->opt.addr.s_addr != htonl(INADDR_ANY) &&
        memio_dispatch_add_ether(e->dispatch, ETHERTYPE_ARP, on_arp, e) < 0)
        goto fail;
    if (memio_port_start(e->port) < 0)
        goto fail;
    if (e->opt.log) {
        char desc[128], addr[INET_ADDRSTRLEN] = "any address", mac[18];
        memio_port_describe(e->port, desc, sizeof(desc));
        if (e->opt.addr.s_addr != htonl(INADDR_ANY))
            inet_ntop(AF_INET, &e->opt.addr, addr, sizeof(addr));
        fmt_mac(e->opt.mac, mac);
        fprintf(e->opt.log, "%s%s: echoing UDP port %u at %s", e->opt.log_prefix, desc,
                e->opt.port, addr);
        if (e->tap)
            fprintf(e->opt.log, ", MAC %s", mac);
        fprintf(e->opt.log, "\n");
    }
    return e;
fail:
    saved = errno;
    udp_echo_close(e);
    errno = saved;
    return NULL;
}

int udp_echo_step(struct udp_echo *e, int timeout_ms)
{
    struct pollfd pfd = { .fd = memio_port_fd(e->port), .events = POLLIN };
    int n = memio_poll(memio_port_sys(e->port), &pfd, 1, timeout_ms);

    if (n <= 0)
        return n;
    if (pfd.revents & (POLLERR | POLLNVAL)) {
        errno = pfd.revents & POLLNVAL ? EBADF : EIO;
        return -1;
    }
    return memio_port_read(e->port);
}

int udp_echo_fd(const struct udp_echo *e)
{
    return memio_port_fd(e->port);
}

const char *udp_echo_interface(const struct udp_echo *e)
{
    return memio_port_interface(e->port);
}

memio_port *udp_echo_port(struct udp_echo *e)
{
    return e->port;
}

memio_dispatch *udp_echo_dispatch(struct udp_echo *e)
{
    return e->dispatch;
}

void udp_echo_counters_get(const struct udp_echo *e, struct udp_echo_counters *c)
{
    *c = e->counters;
}

void udp_echo_close(struct udp_echo *e)
{
    if (!e)
        return;
    memio_port_free(e->port);
    memio_dispatch_free(e->dispatch);
    free(e->reply);
    free(e);
}

/* --- the command line ----------------------------------------------------- */

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
    unsigned b[6];
    char extra;

    if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &extra) != 6)
        return -1;
    for (int i = 0; i < 6; i++) {
        if (b[i] > 0xff)
            return -1;
        mac[i] = (uint8_t)b[i];
    }
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: udp-echo [--tap|--tun] [-i IFNAME] [-p PORT] [-a ADDR] [-m MAC] [-c COUNT] [-v]\n"
            "  --tap        an Ethernet device (the default); answers ARP for ADDR\n"
            "  --tun        an IP device\n"
            "  -i IFNAME    the device to open or create (default tap%%d / tun%%d)\n"
            "  -p PORT      the UDP port to echo on (default %d)\n"
            "  -a ADDR      the program's own IPv4 address (default: answer any)\n"
            "  -m MAC       the program's own MAC on a TAP (default 02:65:63:68:6f:01)\n"
            "  -c COUNT     exit after echoing COUNT datagrams\n"
            "  -v           describe every frame read and written\n",
            UDP_ECHO_DEFAULT_PORT);
}

int udp_echo_main(memio_sys *sys, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "tap", no_argument, NULL, 'T' }, { "tun", no_argument, NULL, 'U' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 }
    };
    struct udp_echo_options opt = { .type = MEMIO_PORT_TAP };
    struct udp_echo_counters c;
    struct sigaction sa;
    struct udp_echo *e;
    unsigned long count = 0, port;
    char *end;
    int ch;

    optind = 1;
    while ((ch = getopt_long(argc, argv, "i:p:a:m:c:vh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'T': opt.type = MEMIO_PORT_TAP; break;
        case 'U': opt.type = MEMIO_PORT_TUN; break;
        case 'i': opt.interface = optarg; break;
        case 'v': opt.log = stdout; break;
        case 'p':
            port = strtoul(optarg, &end, 10);
            if (*end || port == 0 || port > 65535) {
                fprintf(stderr, "udp-echo: bad port %s\n", optarg);
                return 2;
            }
            opt.port = (uint16_t)port;
            break;
        case 'a':
            if (inet_pton(AF_INET, optarg, &opt.addr) != 1) {
                fprintf(stderr, "udp-echo: bad IPv4 address %s\n", optarg);
                return 2;
            }
            break;
        case 'm':
            if (parse_mac(optarg, opt.mac) < 0) {
                fprintf(stderr, "udp-echo: bad MAC address %s\n", optarg);
                return 2;
            }
            break;
        case 'c':
            count = strtoul(optarg, &end, 10);
            if (*end) {
                fprintf(stderr, "udp-echo: bad count %s\n", optarg);
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    if (opt.log)
        setvbuf(stdout, NULL, _IOLBF, 0);

    e = udp_echo_open(sys, &opt);
    if (!e) {
        fprintf(stderr, "udp-echo: cannot open %s: %s\n",
                opt.interface ? opt.interface : "/dev/net/tun", strerror(errno));
        return 1;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: poll returns EINTR and we leave */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (!opt.log)
        printf("udp-echo: echoing UDP port %u on %s\n",
               opt.port ? opt.port : UDP_ECHO_DEFAULT_PORT, udp_echo_interface(e));
    fflush(stdout);

    for (;;) {
        udp_echo_counters_get(e, &c);
        if (stopping || (count && c.echoed >= count))
            break;
        if (udp_echo_step(e, -1) < 0 && errno != EINTR) {
            fprintf(stderr, "udp-echo: %s: %s\n", udp_echo_interface(e), strerror(errno));
            udp_echo_close(e);
            return 1;
        }
    }
    udp_echo_close(e);
    return 0;
}

#ifndef UDP_ECHO_NO_MAIN
int main(int argc, char **argv)
{
    return udp_echo_main(memio_sys_os(), argc, argv);
}
#endif
