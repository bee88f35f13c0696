/*
 * differences.c — the deliberate differences between the kernel's device
 * and the memory device that the conformance suite observes, each with its
 * reason; they mirror docs/differences.md.  An entry whose reason starts
 * with "BUG:" is a disagreement the device (or the table) must resolve; it
 * is listed so that the suite stays green meanwhile, and is removed with
 * the fix.
 */
#include "conf.h"

/* docs/differences.md: "a datagram the kernel would drop on its way to the
 * program". */
#define DROP_TOLD                                                                      \
    "the kernel drops the datagram after sendto succeeded (only tx_dropped tells); "  \
    "memio_send_udp fails instead, because the test is not a socket and wants to know " \
    "(docs/differences.md); tx_dropped counts it on both"

#define NO_STACK                                                                    \
    "the kernel's own stack answers (ICMP echo reply, port unreachable); the memory " \
    "device is silent: the far side is the test, not a network stack "              \
    "(docs/differences.md, 'what the kernel's stack says on its own')"

#define NO_ARP                                                                          \
    "the kernel resolves the destination by ARP and addresses the neighbour's MAC; the " \
    "memory device skips ARP and addresses the MAC the program last sent from, or "      \
    "broadcast before it has sent anything (docs/differences.md, 'TAP frames toward the " \
    "program'; X_G07_after_write shows both agree once the program has sent)"

#define NO_FRAGMENTS                                                                   \
    "the kernel's IP output fragments a datagram larger than the MTU; memio_send_udp "  \
    "delivers it as one packet, as built (docs/differences.md, 'memio_send_udp of a "  \
    "datagram larger than the device's MTU')"

#define NO_NETNS                                                                        \
    "the kernel hands out a network namespace fd; a memory system has no namespace to " \
    "give and answers EOPNOTSUPP (docs/differences.md, 'SIOCGSKNS (A22) and TUNGETDEVNETNS (C63)')"

const struct conf_difference conf_differences[] = {
    { "B46", "send", DROP_TOLD " (ENOLINK: no carrier)" },
    { "E12", "send", DROP_TOLD " (ENOLINK: carrier off)" },
    { "I16", "send, no fd attached (I17)",
      DROP_TOLD " (ENOLINK: a persistent device without a descriptor has no carrier, I16)" },
    { "J01", "sends ok", DROP_TOLD " (ENOBUFS once txqueuelen frames are queued)" },
    { "J03", "sends ok", DROP_TOLD " (ENOBUFS once txqueuelen frames are queued)" },
    { "J04", "sends ok", DROP_TOLD " (ENOBUFS: txqueuelen 0)" },
    { "J07", "sends ok", DROP_TOLD " (ENOBUFS once txqueuelen frames are queued)" },
    { "G24", "send", DROP_TOLD " (EPERM: the TX filter refused it; the filter row)" },
    { "G25", "send", DROP_TOLD " (EPERM: the socket filter refused it; the filter row)" },
    { "D24", "read back", NO_STACK },
    { "D25", "read back", NO_STACK },
    { "E08", "*", NO_FRAGMENTS },
    { "G05", "*", NO_ARP },
    { "G07", "eth", NO_ARP },
    { "A22", "SIOCGSKNS", NO_NETNS },
    { "C63", "TUNGETDEVNETNS", NO_NETNS },
    { "D28", "socket",
      "kernels differ: the kernel of kernel-tun-semantics.md delivered a datagram whose "
      "source is the device's own address (D28); this machine's drops it as a martian "
      "source (fib_validate_source finds the address local, accept_local is 0); the "
      "memory device follows the table, both observations are recorded" },
    { NULL, NULL, NULL },
};
