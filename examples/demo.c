/*
 * demo.c — memio in one page: a program's TAP code and its test, side by
 * side.  The "program" half only ever calls memio_open/ioctl/read/write,
 * as it would call open/ioctl/read/write on the real /dev/net/tun; the
 * "test" half drives the other side of the in-memory device.
 *
 * Run it: memio-demo (no root, no kernel device, no network).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/if_tun.h>

#include <memio/memio.h>

static void die(const char *what)
{
    fprintf(stderr, "memio-demo: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void mac_str(const uint8_t *m, char *out)
{
    sprintf(out, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void addr_str(const struct sockaddr_in *a, char *out, size_t len)
{
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
    snprintf(out, len, "%s:%u", ip, ntohs(a->sin_port));
}

/* Describes an Ethernet frame carrying IPv4/UDP, as a newcomer wants to see it. */
static void describe(const char *who, const uint8_t *frame, size_t len)
{
    const uint8_t *ip;
    size_t iplen;
    uint16_t type;
    memio_udp4_view v;
    char dst[18], src[18], a[32], b[32];

    if (memio_packet_parse_ether(frame, len, &type, &ip, &iplen) < 0) {
        printf("  %s: %zu bytes, not an Ethernet frame\n", who, len);
        return;
    }
    mac_str(frame, dst);
    mac_str(frame + 6, src);
    printf("  %s: %zu-byte frame  %s -> %s  type 0x%04x\n", who, len, src, dst, type);
    if (type == 0x0800 && memio_packet_parse_udp4(ip, iplen, &v) == 0) {
        addr_str(&v.src, a, sizeof(a));
        addr_str(&v.dst, b, sizeof(b));
        printf("  %*s  IPv4 UDP %s -> %s  ttl %u  df %s  checksums valid\n", (int)strlen(who),
               "", a, b, v.ttl, (v.frag & 0x4000) ? "yes" : "no");
        printf("  %*s  payload (%zu bytes): \"%.*s\"\n", (int)strlen(who), "", v.payload_len,
               (int)v.payload_len, (const char *)v.payload);
    }
}

int main(void)
{
    memio_sys *sys;
    memio_tunnel *tap;
    struct ifreq ifr;
    struct sockaddr_in host = {.sin_family = AF_INET}, app = {.sin_family = AF_INET};
    struct sockaddr_storage from;
    uint8_t frame[2048], reply[2048], mac[6];
    char s[64];
    ssize_t n;
    int fd, rx;

    printf("memio demo: a TAP device in memory, driven from both sides\n\n");

    /* The test makes an in-memory system and puts /dev/net/tun in it. */
    sys = memio_sys_memory();
    if (!sys || memio_register_tun(sys) < 0)
        die("memory system");
    printf("1. test: memio_sys_memory() + memio_register_tun(): /dev/net/tun exists, in memory\n");

    /* The program opens it exactly as it would open the kernel's. */
    fd = memio_open(sys, "/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        die("open /dev/net/tun");
    memset(&ifr, 0, sizeof(ifr));
    strcpy(ifr.ifr_name, "tap%d");
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    if (memio_ioctl(sys, fd, TUNSETIFF, &ifr) < 0)
        die("TUNSETIFF");
    if (memio_ioctl(sys, fd, SIOCGIFHWADDR, &ifr) < 0)
        die("SIOCGIFHWADDR");
    mac_str((const uint8_t *)ifr.ifr_hwaddr.sa_data, s);
    printf("2. program: open(\"/dev/net/tun\") = fd %d, TUNSETIFF(\"tap%%d\", IFF_TAP|IFF_NO_PI)\n"
           "   -> the device is called \"%s\", MAC %s\n", fd, ifr.ifr_name, s);

    /* The test gives the kernel side an address and sends a datagram to the
     * program's host, 10.0.0.2:7, as a peer on the network would. */
    tap = memio_tunnel_get(sys, fd);
    if (!tap)
        die("memio_tunnel_get");
    host.sin_addr.s_addr = inet_addr("10.0.0.1");
    if (memio_tunnel_set_address(tap, (struct sockaddr *)&host, sizeof(host), 24) < 0)
        die("set address");
    app.sin_addr.s_addr = inet_addr("10.0.0.2");
    app.sin_port = htons(7);
    if (memio_send_udp(sys, "hello, tap", 10, (struct sockaddr *)&app, sizeof(app), &from) < 0)
        die("memio_send_udp");
    addr_str((struct sockaddr_in *)&from, s, sizeof(s));
    printf("3. test: memio_send_udp(\"hello, tap\" -> 10.0.0.2:7) left from %s\n", s);

    /* The program reads one frame, as from the kernel. */
    n = memio_read(sys, fd, frame, sizeof(frame));
    if (n < 0)
        die("read");
    printf("4. program: read(fd) = %zd\n", n);
    describe("read", frame, (size_t)n);

    /* The program answers: an echo, addresses swapped.  The test listens on
     * the kernel side's port first, as a socket bound to 10.0.0.1 would. */
    rx = memio_receive_udp(sys, fd, (struct sockaddr *)&from, sizeof(struct sockaddr_in));
    if (rx < 0)
        die("memio_receive_udp");
    {
        memio_udp4_view v;
        uint8_t dst_mac[6], src_mac[6];
        ssize_t iplen;
        memio_packet_parse_udp4(frame + 14, (size_t)n - 14, &v);
        memcpy(dst_mac, frame + 6, 6); /* back to whoever sent it */
        memio_tunnel_mac(tap, mac);
        memcpy(src_mac, "\x02\x00\x00\x00\x00\x02", 6); /* the program's own MAC */
        (void)mac;
        iplen = memio_packet_udp4(reply + 14, sizeof(reply) - 14, &v.dst, &v.src, 1, "HELLO, TAP",
                                  10);
        memio_packet_ether(reply, 14, dst_mac, src_mac, 0x0800, NULL, 0);
        n = memio_write(sys, fd, reply, (size_t)iplen + 14);
        if (n < 0)
            die("write");
    }
    printf("5. program: write(fd, reply) = %zd\n", n);
    describe("wrote", reply, (size_t)n);

    /* The test receives the payload where a kernel socket would. */
    {
        char got[64];
        ssize_t r = memio_read(sys, rx, got, sizeof(got));
        if (r < 0)
            die("read receive fd");
        addr_str((struct sockaddr_in *)&from, s, sizeof(s));
        printf("6. test: memio_receive_udp(%s) got %zd bytes: \"%.*s\"\n", s, r, (int)r, got);
    }
    {
        memio_tunnel_stats st;
        memio_tunnel_stats_get(tap, &st);
        printf("7. counters: to the program %llu sent, %llu dropped; from it %llu written, "
               "%llu delivered to sockets\n",
               (unsigned long long)st.tx_packets, (unsigned long long)st.tx_dropped,
               (unsigned long long)st.rx_packets, (unsigned long long)st.udp_delivered);
    }
    memio_close(sys, rx);
    memio_close(sys, fd);
    memio_sys_free(sys);
    printf("\ndone: no root, no kernel device, nothing left behind.\n");
    return 0;
}
