/*
 * memio/port.h — a TUN/TAP port: the reader and writer an application puts
 * on /dev/net/tun, on any memio_sys (the counterpart of Twisted's
 * twisted.pair.tuntap.TuntapPort).
 *
 * A port opens the device, reads the packets that arrive and hands each to
 * a callback, and writes the packets the application sends.  It does not
 * run an event loop: the caller watches memio_port_fd() with its own
 * (poll, epoll, or memio_poll on a memory system) and calls memio_port_read
 * when the descriptor is readable.
 *
 *     memio_port *p = memio_port_new(sys, "tap%d", MEMIO_PORT_TAP, on_frame, app);
 *     memio_port_start(p);                  // opens, TUNSETIFF; name is now "tap0"
 *     ... when memio_port_fd(p) is readable: memio_port_read(p);
 *     memio_port_write(p, frame, len);
 *     memio_port_free(p);                   // stops it if listening
 *
 * The port owns one read buffer, allocated when it is made: nothing
 * allocates per packet.  A port is not locked: use it from one thread at a
 * time (the memio_sys under it may be shared).  Functions that can fail
 * return -1 with errno, as the system calls do.
 */
#ifndef MEMIO_PORT_H
#define MEMIO_PORT_H

#include <memio/sys.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct memio_port memio_port;

/* The kind of device a port opens.  The values are the kernel's IFF_TUN
 * and IFF_TAP from <linux/if_tun.h>. */
typedef enum memio_port_type {
    MEMIO_PORT_TUN = 0x0001, /* IP packets */
    MEMIO_PORT_TAP = 0x0002  /* Ethernet frames */
} memio_port_type;

/* The defaults of Twisted's TuntapPort: packets are cut to 8192 bytes, and
 * one memio_port_read reads until 256 KiB have arrived. */
#define MEMIO_PORT_DEFAULT_MAX_PACKET 8192
#define MEMIO_PORT_DEFAULT_MAX_THROUGHPUT (256 * 1024)

/* Called by memio_port_read for each packet read, with the port, the packet
 * (in the port's buffer: valid until the callback returns, and cut to the
 * maximum packet size) and the user pointer given to memio_port_new.
 * Returns 0, or -1 (preferably with errno set) when it failed to handle the
 * packet: the port logs that and goes on reading.  The callback may write
 * with memio_port_write and may stop the port (reading then ends). */
typedef int (*memio_port_packet_fn)(memio_port *port, const uint8_t *packet, size_t len,
                                    void *user);

/* Called with listening = 1 once memio_port_start has succeeded and with 0
 * once memio_port_stop has closed the device (Twisted's makeConnection and
 * doStop).  Optional; see memio_port_set_state_fn. */
typedef void (*memio_port_state_fn)(memio_port *port, int listening, void *user);

/* Receives each message the port logs (one line, no newline) and the
 * pointer given to memio_port_set_log. */
typedef void (*memio_port_log_fn)(const char *message, void *user);

/* Makes a port that is not yet listening.
 *   sys        the I/O system; NULL means memio_sys_os() (Twisted's default
 *              of the real system).  Not owned: it must outlive the port.
 *   interface  the name to ask TUNSETIFF for: "tun0", a template such as
 *              "tap%d", or "" for the kernel's choice; copied.  NULL is "".
 *   type       MEMIO_PORT_TUN or MEMIO_PORT_TAP.
 *   on_packet  called for each packet read; must not be NULL.
 *   user       handed to on_packet and the state callback.
 * The handler's name, used in descriptions and logs, starts as "memio_port"
 * (memio_port_set_name).  Returns the port, which the caller frees with
 * memio_port_free; NULL with errno EINVAL (bad type, NULL on_packet, an
 * interface name of IFNAMSIZ bytes or more) or ENOMEM. */
memio_port *memio_port_new(memio_sys *sys, const char *interface, memio_port_type type,
                           memio_port_packet_fn on_packet, void *user);

/* Stops the port if it is listening, then frees it.  NULL is a no-op.
 * Not from inside the port's own packet callback (which may stop the port,
 * and may write, but must leave it allocated until memio_port_read returns). */
void memio_port_free(memio_port *port);

/* Names the handler, as Twisted names a port's protocol by its class: the
 * name appears in memio_port_describe, memio_port_log_prefix and logged
 * failures.  Copied (cut to 63 bytes).  NULL restores "memio_port". */
void memio_port_set_name(memio_port *port, const char *name);

/* Sets the state callback (NULL for none). */
void memio_port_set_state_fn(memio_port *port, memio_port_state_fn fn);

/* Sets where failures are logged: fn receives each message; NULL restores
 * the default, a line on stderr. */
void memio_port_set_log(memio_port *port, memio_port_log_fn fn, void *user);

/* Sets the size packets are cut to when read (Twisted's maxPacketSize; the
 * kernel discards the rest of a longer packet).  Reallocates the port's
 * buffer, so it is not for use from inside the packet callback.  Returns
 * 0, or -1 with EINVAL (0), EBUSY (called from the packet callback) or
 * ENOMEM (the old size stays). */
int memio_port_set_max_packet_size(memio_port *port, size_t size);
size_t memio_port_max_packet_size(const memio_port *port);

/* Sets how many bytes one memio_port_read reads at most before it returns
 * (Twisted's maxThroughput), so one busy device cannot starve the caller's
 * other descriptors.  Returns 0, or -1 with EINVAL for 0. */
int memio_port_set_max_throughput(memio_port *port, size_t bytes);
size_t memio_port_max_throughput(const memio_port *port);

/* Starts listening (Twisted's startListening): opens /dev/net/tun with
 * O_RDWR | O_CLOEXEC | O_NONBLOCK and attaches it with TUNSETIFF, the
 * port's type and IFF_NO_PI, then keeps the name the device got (a
 * template such as "tun%d" becomes "tun0") and calls the state callback.
 * Returns 0, or -1 with the errno of the failed open or ioctl (nothing is
 * left open), or EALREADY when the port is already listening. */
int memio_port_start(memio_port *port);

/* Stops listening (Twisted's stopListening): closes the descriptor and
 * calls the state callback.  Idempotent: a port that is not listening, or
 * never was, is left as it is.  Returns 0; -1 with close's errno when
 * close reported an error (the descriptor is released and the port
 * stopped all the same, as close(2) leaves it on Linux). */
int memio_port_stop(memio_port *port);

/* Nonzero while the port is listening (Twisted's connected). */
int memio_port_is_listening(const memio_port *port);

/* The descriptor to watch for POLLIN, a descriptor of the port's sys;
 * -1 when the port is not listening. */
int memio_port_fd(const memio_port *port);

/* The port's I/O system (memio_sys_os() when made with NULL). */
memio_sys *memio_port_sys(const memio_port *port);

memio_port_type memio_port_get_type(const memio_port *port);

/* The interface name: the one asked for until the port starts, then the
 * one the device got.  Owned by the port; valid until it is freed. */
const char *memio_port_interface(const memio_port *port);

/* Reads when the descriptor is readable (Twisted's doRead): reads packets,
 * each cut to the maximum packet size and handed to the packet callback,
 * until a read fails with EAGAIN, EWOULDBLOCK or EINTR (the descriptor is
 * drained, or a signal wants attention), a read returns 0, or the packets
 * read add up to the maximum throughput.  A callback that returns -1 is
 * logged with the port's description and reading goes on.
 * Returns the number of packets read (0 when there was none), or -1 with
 * the errno of any other read error (packets read before it were handed on
 * already), or EBADF when the port is not listening. */
int memio_port_read(memio_port *port);

/* Writes one packet (an IP packet on a TUN, an Ethernet frame on a TAP),
 * retrying a write that a signal interrupted (EINTR).  Returns the bytes
 * written, or -1 with the write's errno, or EBADF when not listening. */
ssize_t memio_port_write(memio_port *port, const void *packet, size_t len);

/* Writes one packet gathered from iovcnt buffers, as one write (Twisted's
 * writeSequence; a TUN/TAP write is always one packet).  Retries EINTR.
 * Returns as memio_port_write; EINVAL for a bad iovcnt, as writev(2). */
ssize_t memio_port_writev(memio_port *port, const struct iovec *iov, int iovcnt);

/* Describes the port as Twisted's repr does, into buf (always terminated
 * when cap > 0): "<NAME listening on IFF_TUN/tun0>" or
 * "<NAME not listening on IFF_TAP/tap%d>".  Returns the length of the full
 * description, as snprintf does; -1 with EFAULT for NULL port. */
int memio_port_describe(const memio_port *port, char *buf, size_t cap);

/* Twisted's logPrefix: "NAME (IFF_TUN)".  Returns as memio_port_describe. */
int memio_port_log_prefix(const memio_port *port, char *buf, size_t cap);

/* --- the port's host address (Twisted's TunnelAddress) ------------------- */

/* A plain value the caller allocates, copies and compares. */
typedef struct memio_port_address {
    memio_port_type type;
    char name[16]; /* IFNAMSIZ, NUL-terminated */
} memio_port_address;

/* Fills *out with the port's type and interface name (Twisted's getHost).
 * Returns 0, or -1 with EFAULT for NULL. */
int memio_port_host(const memio_port *port, memio_port_address *out);

/* Nonzero when a and b are the same tunnel: same type (TUN or TAP; other
 * flag bits are ignored) and same name.  Zero when either is NULL. */
int memio_port_address_equal(const memio_port_address *a, const memio_port_address *b);

/* "<memio_port_address type=IFF_TUN name=tun0>" into buf; returns as
 * memio_port_describe. */
int memio_port_address_format(const memio_port_address *a, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* MEMIO_PORT_H */
