/*
 * packet_internal.h — the UDP/IPv4 acceptance check behind
 * memio_packet_parse_udp4, with the reason a kernel would drop a datagram,
 * for the memory device's receive descriptors (udp.c).
 */
#ifndef MEMIO_PACKET_INTERNAL_H
#define MEMIO_PACKET_INTERNAL_H

#include <memio/packet.h>
#include <stdbool.h>

enum packet_udp4_verdict {
    U4_OK = 0,
    U4_NOT_IPV4,     /* version nibble not 4 */
    U4_IP_HEADER,    /* too short, IHL < 5, total length wrong (D15, D16) */
    U4_IP_CHECKSUM,  /* D09 */
    U4_FRAGMENT,     /* MF or an offset: the kernel would reassemble */
    U4_NOT_UDP,      /* protocol is not 17 */
    U4_UDP_LENGTH,   /* UDP length < 8 or past the IP payload */
    U4_UDP_CHECKSUM, /* D08 (0 is accepted on IPv4, D06) */
};

/* Checks ip (len bytes, an IPv4 packet) as ip_rcv_core and udp_rcv do, in
 * their order; fills *out only when it returns U4_OK.  verify_udp_csum is
 * false for a datagram the writer marked CHECKSUM_PARTIAL (a virtio-net
 * header with NEEDS_CSUM), whose checksum the kernel trusts.  Pointers must
 * be valid. */
enum packet_udp4_verdict packet__udp4_check(const void *ip, size_t len, bool verify_udp_csum,
                                            memio_udp4_view *out);

#endif
