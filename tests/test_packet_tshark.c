/*
 * test_packet_tshark.c — memio's packet builders checked by a dissector
 * nobody here wrote: every kind of frame packet.h builds is written to a
 * pcap file with libpcap and read back by tshark (Wireshark) with IP, UDP
 * and ICMP checksum validation on.  Each test asserts the fields tshark
 * dissected and that it flagged no checksum as bad; a control frame with a
 * wrong UDP checksum must be flagged, so validation cannot be silently off.
 *
 * Without tshark (Debian: apt-get install tshark) the suite says so and
 * exits 77, which CTest counts as skipped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memio/packet.h"

/* The fields asked of tshark, one column each, in this order. */
static const char *const fields[] = {
    "frame.number", "eth.type", "vlan.id", "arp.opcode", "arp.src.proto_ipv4",
    "arp.dst.proto_ipv4", "ip.src", "ip.dst", "ip.ttl", "ip.flags.df", "ip.flags.mf",
    "ip.frag_offset", "ip.checksum.status", "ipv6.src", "ipv6.dst", "ipv6.hlim",
    "udp.srcport", "udp.dstport", "udp.length", "udp.checksum.status", "icmp.type",
    "icmp.ident", "icmp.seq", "icmp.checksum.status", "icmpv6.type", "icmpv6.echo.identifier",
    "icmpv6.echo.sequence_number", "icmpv6.nd.ns.target_address",
    "icmpv6.nd.na.target_address", "icmpv6.opt.linkaddr", "icmpv6.nd.na.flag.s",
    "icmpv6.checksum.status", "data.len", "_ws.expert.severity",
};
#define NFIELDS (sizeof fields / sizeof fields[0])
#define MAXFRAMES 32

static const uint8_t host_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t peer_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static uint8_t frames[MAXFRAMES][2048];
static size_t frame_len[MAXFRAMES];
static int nframes;
/* What tshark said: one line per frame, split into columns. */
static char *table[MAXFRAMES][NFIELDS];
static char *raw_output;

enum {
    F_UDP4 = 0, F_UDP4_VLAN, F_ARP_REQ, F_ARP_REP, F_UDP6, F_UDP6_EXT, F_ICMP4_REQ,
    F_ICMP4_REP, F_ICMP6_REQ, F_ICMP6_REP, F_NS, F_NS_DAD, F_NA, F_FRAG4, F_UDP4_BIG,
    F_UDP6_BIG, F_UDP4_ODD, F_UDP6_FFFF, F_BAD_UDP, F_COUNT
};

static struct in_addr a4(const char *s)
{
    struct in_addr a;
    inet_pton(AF_INET, s, &a);
    return a;
}

static struct in6_addr a6(const char *s)
{
    struct in6_addr a;
    inet_pton(AF_INET6, s, &a);
    return a;
}

static struct sockaddr_in sin4(const char *s, uint16_t port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr = a4(s);
    return sa;
}

static struct sockaddr_in6 sin6(const char *s, uint16_t port)
{
    struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
    sa.sin6_addr = a6(s);
    return sa;
}

/* Wraps the IP packet at ip (n bytes, n >= 0 or the build failed) in an
 * Ethernet frame as frame number idx. */
static int add_ether(int idx, uint16_t type, const uint8_t *ip, ssize_t n)
{
    ssize_t m;
    if (n < 0)
        return -1;
    m = memio_packet_ether(frames[idx], sizeof frames[idx], peer_mac, host_mac, type, ip,
                           (size_t)n);
    if (m < 0)
        return -1;
    frame_len[idx] = (size_t)m;
    return 0;
}

static int build_frames(void)
{
    static uint8_t ip[2048], tmp[2048], big[1400];
    struct sockaddr_in s4 = sin4("10.2.0.1", 35168), d4 = sin4("10.2.0.2", 4444);
    struct sockaddr_in6 s6 = sin6("fd00::1", 35168), d6 = sin6("fd00::2", 4444);
    struct in6_addr ll1 = a6("fe80::1"), ll2 = a6("fe80::2"), un = a6("::");
    struct in6_addr tgt = a6("fe80::abcd:1234");
    uint8_t x100[100], zero2[2] = {0, 0};
    ssize_t n;
    size_t i;
    int rc = 0;

    memset(x100, 'x', sizeof x100);
    for (i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 131 + 7);

    n = memio_packet_udp4(ip, sizeof ip, &s4, &d4, 0x3f74, x100, sizeof x100);
    rc |= add_ether(F_UDP4, 0x0800, ip, n);

    n = memio_packet_udp4(ip, sizeof ip, &s4, &d4, 1, "tagged", 6);
    n = n < 0 ? n : memio_packet_ether_vlan(frames[F_UDP4_VLAN], 2048, peer_mac, host_mac, 42,
                                            0x0800, ip, (size_t)n);
    rc |= n < 0;
    frame_len[F_UDP4_VLAN] = (size_t)n;

    /* G05: the kernel's ARP request; G06: the answer */
    n = memio_packet_arp(ip, sizeof ip, 1, host_mac, a4("10.3.0.1"), NULL, a4("10.3.0.3"));
    n = n < 0 ? n : memio_packet_ether(frames[F_ARP_REQ], 2048, bcast, host_mac, 0x0806, ip, 28);
    rc |= n < 0;
    frame_len[F_ARP_REQ] = (size_t)n;
    n = memio_packet_arp(ip, sizeof ip, 2, peer_mac, a4("10.3.0.3"), host_mac, a4("10.3.0.1"));
    rc |= add_ether(F_ARP_REP, 0x0806, ip, n);

    n = memio_packet_udp6(ip, sizeof ip, &s6, &d6, "sixsix", 6);
    rc |= add_ether(F_UDP6, 0x86dd, ip, n);

    /* UDP behind hop-by-hop and destination options headers */
    n = memio_packet_udp6(tmp, sizeof tmp, &s6, &d6, "extended", 8);
    if (n == 56) {
        static const uint8_t ext[16] = {IPPROTO_DSTOPTS, 0, 1, 4, 0, 0, 0, 0,
                                        IPPROTO_UDP, 0, 1, 4, 0, 0, 0, 0};
        memcpy(ip, tmp, 40);
        memcpy(ip + 40, ext, sizeof ext);
        memcpy(ip + 56, tmp + 40, 16);
        ip[6] = IPPROTO_HOPOPTS;
        ip[4] = 0;
        ip[5] = 32;
        rc |= add_ether(F_UDP6_EXT, 0x86dd, ip, 72);
    } else {
        rc = -1;
    }

    n = memio_packet_icmp4_echo(ip, sizeof ip, a4("10.1.0.2"), a4("10.1.0.1"), 8, 0x1234, 1,
                                "ping", 4);
    rc |= add_ether(F_ICMP4_REQ, 0x0800, ip, n);
    n = memio_packet_icmp4_echo(ip, sizeof ip, a4("10.1.0.1"), a4("10.1.0.2"), 0, 0x1234, 1,
                                "ping", 4);
    rc |= add_ether(F_ICMP4_REP, 0x0800, ip, n);
    n = memio_packet_icmp6_echo(ip, sizeof ip, &s6.sin6_addr, &d6.sin6_addr, 128, 0x4321, 9,
                                "ping6", 5);
    rc |= add_ether(F_ICMP6_REQ, 0x86dd, ip, n);
    n = memio_packet_icmp6_echo(ip, sizeof ip, &d6.sin6_addr, &s6.sin6_addr, 129, 0x4321, 9,
                                "ping6", 5);
    rc |= add_ether(F_ICMP6_REP, 0x86dd, ip, n);

    n = memio_packet_icmp6_ns(ip, sizeof ip, &ll1, &tgt, host_mac);
    rc |= add_ether(F_NS, 0x86dd, ip, n);
    n = memio_packet_icmp6_ns(ip, sizeof ip, &un, &tgt, NULL);
    rc |= add_ether(F_NS_DAD, 0x86dd, ip, n);
    n = memio_packet_icmp6_na(ip, sizeof ip, &tgt, &ll2, &tgt,
                              ntohl(ND_NA_FLAG_SOLICITED | ND_NA_FLAG_OVERRIDE), peer_mac);
    rc |= add_ether(F_NA, 0x86dd, ip, n);

    /* the second fragment of a datagram: MF clear, offset 1480 */
    n = memio_packet_ip4(ip, sizeof ip, a4("10.2.0.1"), a4("10.2.0.2"), IPPROTO_UDP, 64, 77,
                         185, x100, 40);
    rc |= add_ether(F_FRAG4, 0x0800, ip, n);

    /* long enough for the vector checksum */
    n = memio_packet_udp4(ip, sizeof ip, &s4, &d4, 2, big, sizeof big);
    rc |= add_ether(F_UDP4_BIG, 0x0800, ip, n);
    n = memio_packet_udp6(ip, sizeof ip, &s6, &d6, big + 1, sizeof big - 1);
    rc |= add_ether(F_UDP6_BIG, 0x86dd, ip, n);
    n = memio_packet_udp4(ip, sizeof ip, &s4, &d4, 3, "odd", 3);
    rc |= add_ether(F_UDP4_ODD, 0x0800, ip, n);

    /* a checksum that computes to 0, sent as 0xffff */
    n = memio_packet_udp6(ip, sizeof ip, &s6, &d6, zero2, 2);
    if (n == 50) {
        zero2[0] = ip[46];
        zero2[1] = ip[47];
        n = memio_packet_udp6(ip, sizeof ip, &s6, &d6, zero2, 2);
    }
    rc |= add_ether(F_UDP6_FFFF, 0x86dd, ip, n);
    if (n == 50 && (ip[46] != 0xff || ip[47] != 0xff))
        rc = -1;

    /* the control: a UDP checksum off by one bit */
    n = memio_packet_udp4(ip, sizeof ip, &s4, &d4, 4, "wrong", 5);
    if (n > 0)
        ip[27] ^= 1;
    rc |= add_ether(F_BAD_UDP, 0x0800, ip, n);

    nframes = F_COUNT;
    return rc ? -1 : 0;
}

static int write_pcap(const char *path)
{
    pcap_t *p = pcap_open_dead(DLT_EN10MB, 65535);
    pcap_dumper_t *d;
    int i;

    if (!p)
        return -1;
    d = pcap_dump_open(p, path);
    if (!d) {
        fprintf(stderr, "pcap_dump_open: %s\n", pcap_geterr(p));
        pcap_close(p);
        return -1;
    }
    for (i = 0; i < nframes; i++) {
        struct pcap_pkthdr h;
        memset(&h, 0, sizeof h);
        h.ts.tv_sec = 1700000000 + i;
        h.caplen = h.len = (bpf_u_int32)frame_len[i];
        pcap_dump((u_char *)d, &h, frames[i]);
    }
    pcap_dump_close(d);
    pcap_close(p);
    return 0;
}

/* Reads all of f into a new string. */
static char *slurp(FILE *f)
{
    size_t cap = 4096, len = 0, n;
    char *buf = malloc(cap);
    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
    }
    if (buf)
        buf[len] = '\0';
    return buf;
}

static int tshark_present(void)
{
    return system("command -v tshark >/dev/null 2>&1") == 0;
}

/* Runs tshark over path with checksum validation on and splits its
 * output into table. */
static int run_tshark(const char *path)
{
    char cmd[4096];
    size_t off;
    unsigned i;
    FILE *f;
    char *line, *save = NULL;
    int row = 0, status;

    off = (size_t)snprintf(cmd, sizeof cmd,
                           "tshark -n -r '%s' -o ip.check_checksum:TRUE "
                           "-o udp.check_checksum:TRUE -T fields -E separator=/t "
                           "-E occurrence=f -E aggregator=,",
                           path);
    for (i = 0; i < NFIELDS; i++)
        off += (size_t)snprintf(cmd + off, sizeof cmd - off, " -e %s", fields[i]);
    snprintf(cmd + off, sizeof cmd - off, " 2>/dev/null");
    f = popen(cmd, "r");
    if (!f)
        return -1;
    raw_output = slurp(f);
    status = pclose(f);
    if (!raw_output || status != 0) {
        fprintf(stderr, "tshark failed (status %d): %s\n", status, cmd);
        return -1;
    }
    for (line = strtok_r(raw_output, "\n", &save); line && row < MAXFRAMES;
         line = strtok_r(NULL, "\n", &save), row++) {
        char *col = line;
        for (i = 0; i < NFIELDS; i++) {
            char *tab = strchr(col, '\t');
            table[row][i] = col;
            if (!tab) {
                for (i++; i < NFIELDS; i++)
                    table[row][i] = "";
                break;
            }
            *tab = '\0';
            col = tab + 1;
        }
    }
    if (row != nframes) {
        fprintf(stderr, "tshark printed %d frames, expected %d\n", row, nframes);
        return -1;
    }
    return 0;
}

static int setup(void **state)
{
    char path[] = "/tmp/memio-tshark-XXXXXX";
    int fd = mkstemp(path), rc;
    (void)state;
    if (fd < 0)
        return -1;
    close(fd);
    rc = build_frames() < 0 || write_pcap(path) < 0 || run_tshark(path) < 0 ? -1 : 0;
    if (getenv("MEMIO_KEEP_PCAP"))
        fprintf(stderr, "pcap kept: %s\n", path);
    else
        unlink(path);
    return rc;
}

static int teardown(void **state)
{
    (void)state;
    free(raw_output);
    return 0;
}

static const char *field(int frame, const char *name)
{
    unsigned i;
    for (i = 0; i < NFIELDS; i++)
        if (strcmp(fields[i], name) == 0)
            return table[frame][i];
    fail_msg("no such field %s", name);
    return NULL;
}

/* Asserts name=value pairs for frame: expect(F_X, "ip.ttl", "64", ..., NULL). */
static void expect(int frame, ...)
{
    va_list ap;
    const char *name;
    va_start(ap, frame);
    while ((name = va_arg(ap, const char *)) != NULL) {
        const char *want = va_arg(ap, const char *);
        const char *got = field(frame, name);
        if (strcmp(got, want) != 0) {
            va_end(ap);
            fail_msg("frame %d: %s is \"%s\", expected \"%s\"", frame + 1, name, got, want);
        }
    }
    va_end(ap);
}

/* No checksum field says Bad (0) or Illegal (4), and no expert info of
 * warning severity or above (Wireshark's "malformed", "bad checksum"). */
static void expect_clean(int frame)
{
    static const char *const st[] = {"ip.checksum.status", "udp.checksum.status",
                                     "icmp.checksum.status", "icmpv6.checksum.status"};
    const char *sev = field(frame, "_ws.expert.severity");
    unsigned i;
    for (i = 0; i < sizeof st / sizeof st[0]; i++) {
        const char *v = field(frame, st[i]);
        if (strcmp(v, "0") == 0 || strcmp(v, "4") == 0)
            fail_msg("frame %d: %s is %s (bad)", frame + 1, st[i], v);
    }
    /* PI_WARN is 0x00600000, PI_ERROR 0x00800000; chat and note are lower. */
    if (*sev && strtoul(sev, NULL, 0) >= 0x00600000u)
        fail_msg("frame %d: expert info of severity %s", frame + 1, sev);
}

static void test_udp4_e03_dissects_with_good_checksums(void **state)
{
    (void)state;
    expect(F_UDP4, "eth.type", "0x0800", "ip.src", "10.2.0.1", "ip.dst", "10.2.0.2", "ip.ttl",
           "64", "ip.flags.df", "1", "ip.checksum.status", "1", "udp.srcport", "35168",
           "udp.dstport", "4444", "udp.length", "108", "udp.checksum.status", "1", "data.len",
           "100", NULL);
    expect_clean(F_UDP4);
}

static void test_vlan_tagged_udp4_dissects(void **state)
{
    (void)state;
    expect(F_UDP4_VLAN, "vlan.id", "42", "ip.checksum.status", "1", "udp.checksum.status", "1",
           "data.len", "6", NULL);
    expect_clean(F_UDP4_VLAN);
}

static void test_arp_request_and_reply_dissect(void **state)
{
    (void)state;
    expect(F_ARP_REQ, "eth.type", "0x0806", "arp.opcode", "1", "arp.src.proto_ipv4", "10.3.0.1",
           "arp.dst.proto_ipv4", "10.3.0.3", NULL);
    expect(F_ARP_REP, "arp.opcode", "2", "arp.src.proto_ipv4", "10.3.0.3",
           "arp.dst.proto_ipv4", "10.3.0.1", NULL);
    expect_clean(F_ARP_REQ);
    expect_clean(F_ARP_REP);
}

static void test_udp6_dissects_with_good_checksum(void **state)
{
    (void)state;
    expect(F_UDP6, "eth.type", "0x86dd", "ipv6.src", "fd00::1", "ipv6.dst", "fd00::2",
           "ipv6.hlim", "64", "udp.srcport", "35168", "udp.dstport", "4444", "udp.length", "14",
           "udp.checksum.status", "1", "data.len", "6", NULL);
    expect_clean(F_UDP6);
}

static void test_udp6_behind_extension_headers_dissects(void **state)
{
    (void)state;
    expect(F_UDP6_EXT, "udp.length", "16", "udp.checksum.status", "1", "data.len", "8", NULL);
    expect_clean(F_UDP6_EXT);
}

static void test_icmp4_echo_request_and_reply_dissect(void **state)
{
    (void)state;
    expect(F_ICMP4_REQ, "icmp.type", "8", "icmp.ident", "4660", "icmp.seq", "1",
           "icmp.checksum.status", "1", "ip.checksum.status", "1", "ip.flags.df", "0", NULL);
    expect(F_ICMP4_REP, "icmp.type", "0", "icmp.ident", "4660", "icmp.seq", "1",
           "icmp.checksum.status", "1", NULL);
    expect_clean(F_ICMP4_REQ);
    expect_clean(F_ICMP4_REP);
}

static void test_icmp6_echo_request_and_reply_dissect(void **state)
{
    (void)state;
    expect(F_ICMP6_REQ, "icmpv6.type", "128", "icmpv6.echo.identifier", "0x4321",
           "icmpv6.echo.sequence_number", "9", "icmpv6.checksum.status", "1", NULL);
    expect(F_ICMP6_REP, "icmpv6.type", "129", "icmpv6.checksum.status", "1", NULL);
    expect_clean(F_ICMP6_REQ);
    expect_clean(F_ICMP6_REP);
}

static void test_neighbour_solicitation_and_advertisement_dissect(void **state)
{
    (void)state;
    expect(F_NS, "icmpv6.type", "135", "ipv6.dst", "ff02::1:ffcd:1234", "ipv6.hlim", "255",
           "icmpv6.nd.ns.target_address", "fe80::abcd:1234", "icmpv6.opt.linkaddr",
           "02:00:00:00:00:01", "icmpv6.checksum.status", "1", NULL);
    expect(F_NS_DAD, "icmpv6.type", "135", "ipv6.src", "::", "icmpv6.opt.linkaddr", "",
           "icmpv6.checksum.status", "1", NULL);
    expect(F_NA, "icmpv6.type", "136", "icmpv6.nd.na.target_address", "fe80::abcd:1234",
           "icmpv6.nd.na.flag.s", "1", "icmpv6.opt.linkaddr", "02:00:00:00:00:02",
           "icmpv6.checksum.status", "1", NULL);
    expect_clean(F_NS);
    expect_clean(F_NS_DAD);
    expect_clean(F_NA);
}

static void test_ipv4_fragment_dissects_as_fragment(void **state)
{
    (void)state;
    expect(F_FRAG4, "ip.flags.mf", "0", "ip.frag_offset", "185" /* 8-byte units */, "ip.checksum.status", "1",
           "udp.srcport", "", NULL);
    /* (an unmatched fragment is only a note, not a warning) */
    expect_clean(F_FRAG4);
}

static void test_long_and_odd_datagrams_have_good_checksums(void **state)
{
    (void)state;
    expect(F_UDP4_BIG, "udp.length", "1408", "udp.checksum.status", "1", NULL);
    expect(F_UDP6_BIG, "udp.length", "1407", "udp.checksum.status", "1", NULL);
    expect(F_UDP4_ODD, "udp.length", "11", "udp.checksum.status", "1", NULL);
    expect(F_UDP6_FFFF, "udp.checksum.status", "1", NULL);
    expect_clean(F_UDP4_BIG);
    expect_clean(F_UDP6_BIG);
    expect_clean(F_UDP4_ODD);
    expect_clean(F_UDP6_FFFF);
}

/* The control: validation really is on. */
static void test_wrong_udp_checksum_is_flagged_bad(void **state)
{
    (void)state;
    expect(F_BAD_UDP, "ip.checksum.status", "1", "udp.checksum.status", "0", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_udp4_e03_dissects_with_good_checksums),
        cmocka_unit_test(test_vlan_tagged_udp4_dissects),
        cmocka_unit_test(test_arp_request_and_reply_dissect),
        cmocka_unit_test(test_udp6_dissects_with_good_checksum),
        cmocka_unit_test(test_udp6_behind_extension_headers_dissects),
        cmocka_unit_test(test_icmp4_echo_request_and_reply_dissect),
        cmocka_unit_test(test_icmp6_echo_request_and_reply_dissect),
        cmocka_unit_test(test_neighbour_solicitation_and_advertisement_dissect),
        cmocka_unit_test(test_ipv4_fragment_dissects_as_fragment),
        cmocka_unit_test(test_long_and_odd_datagrams_have_good_checksums),
        cmocka_unit_test(test_wrong_udp_checksum_is_flagged_bad),
    };
    if (!tshark_present()) {
        printf("test_packet_tshark: SKIPPED: tshark is not installed "
               "(Debian: apt-get install tshark); nothing was checked\n");
        return 77;
    }
    return cmocka_run_group_tests(tests, setup, teardown);
}
