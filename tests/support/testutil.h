/*
 * testutil.h — small helpers shared by memio's cmocka suites.  They assert
 * with cmocka, so call them from the test's own thread.
 */
#ifndef MEMIO_TESTUTIL_H
#define MEMIO_TESTUTIL_H

#include <errno.h>
#include <memio/memio.h>
#include <net/if.h>
#include <stdint.h>

/* Asserts that `call` fails with -1 and errno `err`. */
#define ASSERT_ERR(call, err)             \
    do {                                  \
        errno = 0;                        \
        assert_int_equal((call), -1);     \
        assert_int_equal(errno, (err));   \
    } while (0)

/* A new memory system with memio_tun_device at /dev/net/tun. */
memio_sys *tu_memory(void);

/* Opens /dev/net/tun on sys with open_flags and attaches it with TUNSETIFF
 * (name may be NULL for ""); returns the fd (asserting success). */
int tu_tun(memio_sys *sys, int open_flags, const char *name, int iff);

/* Like tu_tun, but returns TUNSETIFF's result and errno instead of
 * asserting; *fd_out receives the descriptor (open must succeed); *ifr
 * receives the ifreq as the kernel left it. */
int tu_setiff(memio_sys *sys, int fd, const char *name, int iff, struct ifreq *ifr);

/* A sockaddr_in from dotted quad and port. */
struct sockaddr_in tu_addr(const char *ip, uint16_t port);

/* Builds an IPv4/UDP packet (valid checksums) into buf; returns its length. */
size_t tu_udp4(uint8_t *buf, size_t cap, const char *src, uint16_t sport, const char *dst,
               uint16_t dport, const void *payload, size_t len);

/* Wraps an IP packet for a device: an Ethernet header (dst, src given; type
 * 0x0800) on a TAP, and a PI header (flags 0, the given proto) in front when
 * pi is set.  Returns the new length; buf must have room. */
size_t tu_wrap(uint8_t *buf, size_t cap, const uint8_t *ip, size_t iplen, int tap, int pi,
               const uint8_t dst_mac[6], const uint8_t src_mac[6], uint16_t pi_proto);

/* Sets errno to a value no call would leave, so a test can see that a call
 * that should not touch errno did not. */
void tu_poison_errno(void);

#endif
