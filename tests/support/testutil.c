/*
 * testutil.c — see testutil.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/if_tun.h>

#include "testutil.h"

memio_sys *tu_memory(void)
{
    memio_sys *sys = memio_sys_memory();
    assert_non_null(sys);
    assert_int_equal(memio_register_tun(sys), 0);
    return sys;
}

int tu_setiff(memio_sys *sys, int fd, const char *name, int iff, struct ifreq *ifr)
{
    struct ifreq local;

    if (!ifr)
        ifr = &local;
    memset(ifr, 0, sizeof(*ifr));
    if (name)
        strncpy(ifr->ifr_name, name, IFNAMSIZ);
    ifr->ifr_flags = (short)iff;
    return memio_ioctl(sys, fd, TUNSETIFF, ifr);
}

int tu_tun(memio_sys *sys, int open_flags, const char *name, int iff)
{
    int fd = memio_open(sys, "/dev/net/tun", open_flags);
    assert_true(fd >= 0);
    assert_int_equal(tu_setiff(sys, fd, name, iff, NULL), 0);
    return fd;
}

struct sockaddr_in tu_addr(const char *ip, uint16_t port)
{
    struct sockaddr_in a;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    assert_int_equal(inet_pton(AF_INET, ip, &a.sin_addr), 1);
    return a;
}

size_t tu_udp4(uint8_t *buf, size_t cap, const char *src, uint16_t sport, const char *dst,
               uint16_t dport, const void *payload, size_t len)
{
    struct sockaddr_in s = tu_addr(src, sport), d = tu_addr(dst, dport);
    ssize_t n = memio_packet_udp4(buf, cap, &s, &d, 0x1234, payload, len);
    assert_true(n > 0);
    return (size_t)n;
}

size_t tu_wrap(uint8_t *buf, size_t cap, const uint8_t *ip, size_t iplen, int tap, int pi,
               const uint8_t dst_mac[6], const uint8_t src_mac[6], uint16_t pi_proto)
{
    size_t off = 0;

    assert_true(cap >= iplen + 18);
    if (pi) {
        struct tun_pi h = {.flags = 0, .proto = htons(pi_proto)};
        memcpy(buf, &h, sizeof(h));
        off += sizeof(h);
    }
    if (tap) {
        assert_int_equal(memio_packet_ether(buf + off, cap - off, dst_mac, src_mac, 0x0800,
                                            NULL, 0),
                         14);
        off += 14;
    }
    memmove(buf + off, ip, iplen);
    return off + iplen;
}

void tu_poison_errno(void)
{
    errno = 12345;
}
