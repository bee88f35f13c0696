/*
 * memio/packet.h — building and parsing the packets tests exchange with a
 * tunnel: Ethernet, IPv4 and UDP, with the internet checksum.
 *
 * Builders write into a caller's buffer and return the length written, or
 * -1 with errno: EFAULT (NULL buffer or argument), ENOBUFS (cap too small),
 * EMSGSIZE (the packet would exceed what its headers can express),
 * EAFNOSUPPORT (an address that is not AF_INET).  Parsers never read
 * outside the buffer they are given.  Nothing here allocates.
 */
#ifndef MEMIO_PACKET_H
#define MEMIO_PACKET_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MEMIO_ETH_ALEN 6
#define MEMIO_ETH_HLEN 14
#define MEMIO_IPV4_HLEN 20
#define MEMIO_UDP_HLEN 8
/* The largest UDP payload in one IPv4 datagram: 65535 - 20 - 8. */
#define MEMIO_UDP4_MAX_PAYLOAD 65507

/* Adds the 16-bit big-endian words of data to a 32-bit one's complement
 * accumulator (an odd last byte is padded with zero).  Start with 0; chain
 * calls over pieces of even length. */
uint32_t memio_csum_add(uint32_t sum, const void *data, size_t len);
/* Folds an accumulator to 16 bits and complements it: the checksum field's
 * value, in host order. */
uint16_t memio_csum_fold(uint32_t sum);
/* The internet checksum (RFC 1071) of data, in host order. */
uint16_t memio_inet_checksum(const void *data, size_t len);

/* Builds an IPv4 header and UDP datagram as the Linux kernel sends one
 * (E03): version 4, IHL 5, TOS 0, the given IP id, DF set, TTL 64, valid
 * header checksum, and a valid UDP checksum (0xffff when it computes to 0).
 * Addresses and ports come from src and dst (network order inside, as in any
 * sockaddr_in).  Returns 28 + len. */
ssize_t memio_packet_udp4(void *buf, size_t cap, const struct sockaddr_in *src,
                          const struct sockaddr_in *dst, uint16_t ip_id,
                          const void *payload, size_t len);

/* Builds an Ethernet II header followed by payload (which may be NULL when
 * len is 0).  ethertype is in host order.  Returns 14 + len. */
ssize_t memio_packet_ether(void *buf, size_t cap, const uint8_t dst[MEMIO_ETH_ALEN],
                           const uint8_t src[MEMIO_ETH_ALEN], uint16_t ethertype,
                           const void *payload, size_t len);

/* A UDP datagram found in an IPv4 packet: addresses, and the payload as a
 * pointer into the parsed buffer. */
typedef struct memio_udp4_view {
    struct sockaddr_in src;
    struct sockaddr_in dst;
    uint8_t ttl;
    uint16_t ip_id;        /* host order */
    uint16_t frag;         /* flags and fragment offset, host order */
    uint16_t udp_checksum; /* host order, as found */
    const uint8_t *payload;
    size_t payload_len;
} memio_udp4_view;

/* Parses an IPv4 packet carrying UDP as a kernel socket's stack would accept
 * it: well-formed header, valid header checksum, total length within the
 * buffer (bytes past it are ignored, D17), not a fragment, UDP length
 * within the IP payload, valid UDP checksum or 0 (D06).  Returns 0 and fills
 * *out, or -1 with errno: EFAULT (NULL), EPROTONOSUPPORT (not IPv4 or not
 * UDP), EBADMSG (malformed or a checksum wrong). */
int memio_packet_parse_udp4(const void *ip, size_t len, memio_udp4_view *out);

/* Parses an Ethernet frame: on success returns 0, stores the ethertype
 * (host order) and a pointer to and length of the payload after the 14-byte
 * header.  -1 with EBADMSG when shorter than 14 bytes, EFAULT for NULL. */
int memio_packet_parse_ether(const void *frame, size_t len, uint16_t *ethertype,
                             const uint8_t **payload, size_t *payload_len);

#ifdef __cplusplus
}
#endif

#endif /* MEMIO_PACKET_H */
