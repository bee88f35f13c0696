/*
 * make_corpus.c — writes fuzz/corpus/: one seed per kind of frame the codec
 * knows, built with packet.h's own builders (first byte: the link, 1 for
 * Ethernet, 0 for IP).  Run by fuzz/run.sh --seeds; the output is kept in
 * the repository.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "memio/packet.h"

static const uint8_t mac1[6] = {2, 0, 0, 0, 0, 1}, mac2[6] = {2, 0, 0, 0, 0, 2};

static void put(const char *dir, const char *name, int link, const uint8_t *p, ssize_t n)
{
    char path[512];
    FILE *f;
    uint8_t l = (uint8_t)link;
    if (n < 0) {
        fprintf(stderr, "make_corpus: %s: build failed\n", name);
        return;
    }
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (!f)
        return;
    fwrite(&l, 1, 1, f);
    fwrite(p, 1, (size_t)n, f);
    fclose(f);
}

/* Writes the IP packet both bare and in an Ethernet frame. */
static void both(const char *dir, const char *name, uint16_t type, const uint8_t *ip, ssize_t n)
{
    uint8_t f[2048];
    char en[256];
    put(dir, name, 0, ip, n);
    if (n < 0)
        return;
    snprintf(en, sizeof en, "eth-%s", name);
    put(dir, en, 1, f, memio_packet_ether(f, sizeof f, mac1, mac2, type, ip, (size_t)n));
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "fuzz/corpus";
    struct sockaddr_in s4 = {.sin_family = AF_INET, .sin_port = htons(35168)};
    struct sockaddr_in d4 = {.sin_family = AF_INET, .sin_port = htons(4444)};
    struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = htons(5000)};
    struct sockaddr_in6 d6 = {.sin6_family = AF_INET6, .sin6_port = htons(53)};
    struct in6_addr ll1, ll2, un;
    uint8_t ip[2048], tmp[2048], f[2048];
    ssize_t n;

    inet_pton(AF_INET, "10.2.0.1", &s4.sin_addr);
    inet_pton(AF_INET, "10.2.0.2", &d4.sin_addr);
    inet_pton(AF_INET6, "fd00::1", &s6.sin6_addr);
    inet_pton(AF_INET6, "fd00::2", &d6.sin6_addr);
    inet_pton(AF_INET6, "fe80::1", &ll1);
    inet_pton(AF_INET6, "fe80::2", &ll2);
    inet_pton(AF_INET6, "::", &un);

    both(dir, "udp4", 0x0800, ip, memio_packet_udp4(ip, sizeof ip, &s4, &d4, 1, "hello", 5));
    both(dir, "udp6", 0x86dd, ip, memio_packet_udp6(ip, sizeof ip, &s6, &d6, "hello", 5));
    both(dir, "icmp4-echo", 0x0800, ip,
         memio_packet_icmp4_echo(ip, sizeof ip, s4.sin_addr, d4.sin_addr, 8, 1, 2, "ping", 4));
    both(dir, "icmp4-reply", 0x0800, ip,
         memio_packet_icmp4_echo(ip, sizeof ip, d4.sin_addr, s4.sin_addr, 0, 1, 2, "ping", 4));
    both(dir, "icmp6-echo", 0x86dd, ip,
         memio_packet_icmp6_echo(ip, sizeof ip, &s6.sin6_addr, &d6.sin6_addr, 128, 1, 2, "p", 1));
    both(dir, "icmp6-reply", 0x86dd, ip,
         memio_packet_icmp6_echo(ip, sizeof ip, &d6.sin6_addr, &s6.sin6_addr, 129, 1, 2, "p", 1));
    both(dir, "ns", 0x86dd, ip, memio_packet_icmp6_ns(ip, sizeof ip, &ll1, &ll2, mac1));
    both(dir, "ns-dad", 0x86dd, ip, memio_packet_icmp6_ns(ip, sizeof ip, &un, &ll2, NULL));
    both(dir, "na", 0x86dd, ip,
         memio_packet_icmp6_na(ip, sizeof ip, &ll2, &ll1, &ll2, 0x60000000u, mac2));
    both(dir, "frag4", 0x0800, ip,
         memio_packet_ip4(ip, sizeof ip, s4.sin_addr, d4.sin_addr, 17, 64, 9, 0x2000, "12345678", 8));
    /* IPv4 with options */
    n = memio_packet_udp4(tmp, sizeof tmp, &s4, &d4, 1, "opts", 4);
    if (n > 0) {
        memcpy(ip, tmp, 20);
        memcpy(ip + 20, "\x01\x01\x01\x00", 4);
        memcpy(ip + 24, tmp + 20, (size_t)n - 20);
        ip[0] = 0x46;
        ip[3] = (uint8_t)(n + 4);
        ip[10] = ip[11] = 0;
        {
            uint16_t c = memio_inet_checksum(ip, 24);
            ip[10] = (uint8_t)(c >> 8);
            ip[11] = (uint8_t)c;
        }
        both(dir, "udp4-options", 0x0800, ip, n + 4);
    }
    /* IPv6: hop-by-hop, destination options, fragment header, UDP */
    n = memio_packet_udp6(tmp, sizeof tmp, &s6, &d6, "ext", 3);
    if (n > 0) {
        static const uint8_t ext[24] = {60, 0, 1, 4, 0, 0, 0, 0, 44, 0, 1, 4, 0, 0, 0, 0,
                                        17, 0, 0, 1, 0, 0, 0, 7};
        memcpy(ip, tmp, 40);
        memcpy(ip + 40, ext, sizeof ext);
        memcpy(ip + 64, tmp + 40, (size_t)n - 40);
        ip[6] = 0;
        ip[5] = (uint8_t)(n - 40 + 24);
        both(dir, "udp6-ext-frag", 0x86dd, ip, n + 24);
    }
    n = memio_packet_arp(tmp, sizeof tmp, 1, mac1, s4.sin_addr, NULL, d4.sin_addr);
    put(dir, "arp-request", 1, f, memio_packet_ether(f, sizeof f, mac2, mac1, 0x0806, tmp, 28));
    n = memio_packet_udp4(tmp, sizeof tmp, &s4, &d4, 1, "vlan", 4);
    put(dir, "vlan-udp4", 1, f,
        memio_packet_ether_vlan(f, sizeof f, mac2, mac1, 7, 0x0800, tmp, (size_t)n));
    return 0;
}
