/*
 * udp-echo.h — the UDP echo program's parts, for its main, its test and
 * the demonstration, which all run the same code (udp-echo.c).
 */
#ifndef UDP_ECHO_H
#define UDP_ECHO_H

#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>

#include <memio/memio.h>

#define UDP_ECHO_DEFAULT_PORT 7 /* the echo service */

struct udp_echo_options {
    memio_port_type type;  /* MEMIO_PORT_TAP (as Twisted's pairudp.py) or MEMIO_PORT_TUN */
    const char *interface; /* NULL: "tap%d" or "tun%d" */
    uint16_t port;         /* the UDP port answered; 0: UDP_ECHO_DEFAULT_PORT */
    struct in_addr addr;   /* the program's own IPv4 address, answered for (and on a TAP,
                              for ARP); INADDR_ANY: any unicast destination, no ARP */
    uint8_t mac[6];        /* the program's own MAC on a TAP; all zero: a default */
    FILE *log;             /* when set, every frame read and written is described here */
    const char *log_prefix;/* put before each line of log; NULL: "udp-echo: " */
};

struct udp_echo_counters {
    uint64_t echoed;      /* datagrams answered */
    uint64_t arp_replies; /* ARP requests for our address answered */
    uint64_t ignored;     /* well-formed, but not for us */
    uint64_t write_errors;
};

struct udp_echo; /* opaque */

/* Starts echoing on a new port of `sys`; the caller watches udp_echo_fd
 * and calls udp_echo_step.  Returns the program, freed with udp_echo_close,
 * or NULL with errno (the port's open or TUNSETIFF failure, ENOMEM). */
struct udp_echo *udp_echo_open(memio_sys *sys, const struct udp_echo_options *opt);

/* Waits up to timeout_ms (-1: forever) for the device to be readable with
 * memio_poll, then reads and answers what arrived.  Returns the number of
 * frames read (0 on timeout), or -1 with errno (EINTR when a signal came). */
int udp_echo_step(struct udp_echo *e, int timeout_ms);

int udp_echo_fd(const struct udp_echo *e);
const char *udp_echo_interface(const struct udp_echo *e);
memio_port *udp_echo_port(struct udp_echo *e);
memio_dispatch *udp_echo_dispatch(struct udp_echo *e);
void udp_echo_counters_get(const struct udp_echo *e, struct udp_echo_counters *c);

/* Stops the port and frees everything.  NULL is a no-op. */
void udp_echo_close(struct udp_echo *e);

/* The command line: udp-echo [--tap|--tun] [-i IFNAME] [-p PORT] [-a ADDR]
 * [-m MAC] [-c COUNT] [-v].  Runs on sys until SIGINT/SIGTERM, or until
 * COUNT datagrams were echoed; returns the exit status. */
int udp_echo_main(memio_sys *sys, int argc, char **argv);

#endif /* UDP_ECHO_H */
