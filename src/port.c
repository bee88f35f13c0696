/*
 * port.c — the TUN/TAP port: open and attach the device, read what arrives
 * into one buffer the port owns and hand it on, write what the application
 * sends.  Behaviour follows Twisted's TuntapPort (twisted/pair/tuntap.py);
 * the device calls go through memio_sys, so the same code runs on the
 * kernel's /dev/net/tun and on a memory system.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/if_tun.h>

#include "memio/port.h"

#define TUN_PATH "/dev/net/tun"
#define DEFAULT_NAME "memio_port"
#define NAME_CAP 64
#define LOG_CAP 256

_Static_assert(MEMIO_PORT_TUN == IFF_TUN, "MEMIO_PORT_TUN is the kernel's IFF_TUN");
_Static_assert(MEMIO_PORT_TAP == IFF_TAP, "MEMIO_PORT_TAP is the kernel's IFF_TAP");
_Static_assert(sizeof(((memio_port_address *)0)->name) == IFNAMSIZ,
               "memio_port_address holds an interface name");

struct memio_port {
    memio_sys *sys;
    memio_port_type type;
    int fd;           /* -1 unless listening */
    int in_callback;  /* the buffer is lent to the packet callback */
    char interface[IFNAMSIZ];
    char name[NAME_CAP];
    memio_port_packet_fn on_packet;
    memio_port_state_fn on_state;
    void *user;
    memio_port_log_fn log;
    void *log_user;
    uint8_t *buf;     /* max_packet bytes: every read lands here */
    size_t max_packet;
    size_t max_throughput;
};

static const char *type_name(memio_port_type type)
{
    return type == MEMIO_PORT_TAP ? "IFF_TAP" : "IFF_TUN";
}

static int valid_type(memio_port_type type)
{
    return type == MEMIO_PORT_TUN || type == MEMIO_PORT_TAP;
}

/* The default log: one line on stderr. */
static void log_stderr(const char *message, void *user)
{
    (void)user;
    fprintf(stderr, "%s\n", message);
}

memio_port *memio_port_new(memio_sys *sys, const char *interface, memio_port_type type,
                           memio_port_packet_fn on_packet, void *user)
{
    memio_port *port;

    if (!interface)
        interface = "";
    if (!valid_type(type) || !on_packet || strlen(interface) >= IFNAMSIZ) {
        errno = EINVAL;
        return NULL;
    }
    port = calloc(1, sizeof(*port));
    if (!port)
        return NULL;
    port->buf = malloc(MEMIO_PORT_DEFAULT_MAX_PACKET);
    if (!port->buf) {
        free(port);
        errno = ENOMEM;
        return NULL;
    }
    port->sys = sys ? sys : memio_sys_os();
    port->type = type;
    port->fd = -1;
    strcpy(port->interface, interface);
    strcpy(port->name, DEFAULT_NAME);
    port->on_packet = on_packet;
    port->user = user;
    port->log = log_stderr;
    port->max_packet = MEMIO_PORT_DEFAULT_MAX_PACKET;
    port->max_throughput = MEMIO_PORT_DEFAULT_MAX_THROUGHPUT;
    return port;
}

void memio_port_free(memio_port *port)
{
    if (!port)
        return;
    memio_port_stop(port);
    free(port->buf);
    free(port);
}

void memio_port_set_name(memio_port *port, const char *name)
{
    if (!port)
        return;
    snprintf(port->name, sizeof(port->name), "%s", name ? name : DEFAULT_NAME);
}

void memio_port_set_state_fn(memio_port *port, memio_port_state_fn fn)
{
    if (port)
        port->on_state = fn;
}

void memio_port_set_log(memio_port *port, memio_port_log_fn fn, void *user)
{
    if (!port)
        return;
    port->log = fn ? fn : log_stderr;
    port->log_user = fn ? user : NULL;
}

int memio_port_set_max_packet_size(memio_port *port, size_t size)
{
    uint8_t *buf;

    if (!port || size == 0) {
        errno = port ? EINVAL : EFAULT;
        return -1;
    }
    if (port->in_callback) {
        errno = EBUSY;
        return -1;
    }
    buf = realloc(port->buf, size);
    if (!buf) {
        errno = ENOMEM;
        return -1;
    }
    port->buf = buf;
    port->max_packet = size;
    return 0;
}

size_t memio_port_max_packet_size(const memio_port *port)
{
    return port ? port->max_packet : 0;
}

int memio_port_set_max_throughput(memio_port *port, size_t bytes)
{
    if (!port || bytes == 0) {
        errno = port ? EINVAL : EFAULT;
        return -1;
    }
    port->max_throughput = bytes;
    return 0;
}

size_t memio_port_max_throughput(const memio_port *port)
{
    return port ? port->max_throughput : 0;
}

int memio_port_start(memio_port *port)
{
    struct ifreq ifr;
    int fd, saved;

    if (!port) {
        errno = EFAULT;
        return -1;
    }
    if (port->fd >= 0) {
        errno = EALREADY;
        return -1;
    }
    fd = memio_open(port->sys, TUN_PATH, O_RDWR | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -1;
    memset(&ifr, 0, sizeof(ifr));
    memcpy(ifr.ifr_name, port->interface, sizeof(ifr.ifr_name));
    ifr.ifr_flags = (short)(port->type | IFF_NO_PI);
    if (memio_ioctl(port->sys, fd, TUNSETIFF, &ifr) < 0) {
        saved = errno;
        memio_close(port->sys, fd);
        errno = saved;
        return -1;
    }
    /* The kernel writes back the name the device got: "tun%d" -> "tun0". */
    memcpy(port->interface, ifr.ifr_name, sizeof(port->interface));
    port->interface[IFNAMSIZ - 1] = '\0';
    port->fd = fd;
    if (port->on_state)
        port->on_state(port, 1, port->user);
    return 0;
}

int memio_port_stop(memio_port *port)
{
    int rc, saved;

    if (!port || port->fd < 0)
        return 0;
    rc = memio_close(port->sys, port->fd);
    saved = errno;
    port->fd = -1;
    if (port->on_state)
        port->on_state(port, 0, port->user);
    errno = saved;
    return rc < 0 ? -1 : 0;
}

int memio_port_is_listening(const memio_port *port)
{
    return port && port->fd >= 0;
}

int memio_port_fd(const memio_port *port)
{
    return port ? port->fd : -1;
}

memio_sys *memio_port_sys(const memio_port *port)
{
    return port ? port->sys : NULL;
}

memio_port_type memio_port_get_type(const memio_port *port)
{
    return port ? port->type : MEMIO_PORT_TUN;
}

const char *memio_port_interface(const memio_port *port)
{
    return port ? port->interface : NULL;
}

/* Logs that the packet callback failed, naming the port; err is the errno
 * the callback left, 0 when it left none. */
static void log_callback_failure(memio_port *port, size_t len, int err)
{
    char desc[NAME_CAP + IFNAMSIZ + 32];
    char msg[LOG_CAP];

    memio_port_describe(port, desc, sizeof(desc));
    if (err)
        snprintf(msg, sizeof(msg), "%s: packet handler %s failed on a %zu-byte packet: %s",
                 desc, port->name, len, strerror(err));
    else
        snprintf(msg, sizeof(msg), "%s: packet handler %s failed on a %zu-byte packet", desc,
                 port->name, len);
    port->log(msg, port->log_user);
}

/* EFAULT for no port, EBADF for a stopped one. */
static int port_check_open(const memio_port *port)
{
    if (!port) {
        errno = EFAULT;
        return -1;
    }
    if (port->fd < 0) {
        errno = EBADF;
        return -1;
    }
    return 0;
}

int memio_port_read(memio_port *port)
{
    size_t total = 0;
    int count = 0;

    if (port_check_open(port) < 0)
        return -1;
    while (total < port->max_throughput) {
        ssize_t n = memio_read(port->sys, port->fd, port->buf, port->max_packet);
        int rc;

        if (n < 0) {
            /* Drained, or a signal wants the caller's attention: come back
             * when the descriptor is readable again. */
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return count;
            return -1;
        }
        if (n == 0) /* a TUN/TAP read never returns 0; another file at EOF does */
            break;
        total += (size_t)n;
        count++;
        port->in_callback = 1;
        errno = 0;
        rc = port->on_packet(port, port->buf, (size_t)n, port->user);
        port->in_callback = 0;
        if (rc < 0)
            log_callback_failure(port, (size_t)n, errno);
        if (port->fd < 0) /* the callback stopped the port */
            break;
    }
    return count;
}

ssize_t memio_port_write(memio_port *port, const void *packet, size_t len)
{
    struct iovec iov = {.iov_base = (void *)packet, .iov_len = len};

    return memio_port_writev(port, &iov, 1);
}

ssize_t memio_port_writev(memio_port *port, const struct iovec *iov, int iovcnt)
{
    ssize_t n;

    if (port_check_open(port) < 0)
        return -1;
    do
        n = memio_writev(port->sys, port->fd, iov, iovcnt);
    while (n < 0 && errno == EINTR);
    return n;
}

int memio_port_describe(const memio_port *port, char *buf, size_t cap)
{
    if (!port || (!buf && cap)) {
        errno = EFAULT;
        return -1;
    }
    return snprintf(buf, cap, "<%s %slistening on %s/%s>", port->name,
                    port->fd >= 0 ? "" : "not ", type_name(port->type), port->interface);
}

int memio_port_log_prefix(const memio_port *port, char *buf, size_t cap)
{
    if (!port || (!buf && cap)) {
        errno = EFAULT;
        return -1;
    }
    return snprintf(buf, cap, "%s (%s)", port->name, type_name(port->type));
}

int memio_port_host(const memio_port *port, memio_port_address *out)
{
    if (!port || !out) {
        errno = EFAULT;
        return -1;
    }
    memset(out, 0, sizeof(*out));
    out->type = port->type;
    memcpy(out->name, port->interface, sizeof(out->name));
    return 0;
}

int memio_port_address_equal(const memio_port_address *a, const memio_port_address *b)
{
    const int mask = MEMIO_PORT_TUN | MEMIO_PORT_TAP;

    if (!a || !b)
        return 0;
    return ((int)a->type & mask) == ((int)b->type & mask) &&
           strncmp(a->name, b->name, sizeof(a->name)) == 0;
}

int memio_port_address_format(const memio_port_address *a, char *buf, size_t cap)
{
    if (!a || (!buf && cap)) {
        errno = EFAULT;
        return -1;
    }
    return snprintf(buf, cap, "<memio_port_address type=%s name=%.*s>",
                    ((int)a->type & MEMIO_PORT_TAP) ? "IFF_TAP" : "IFF_TUN",
                    (int)sizeof(a->name), a->name);
}
