/*
 * memio_bench.c — what a packet and a fresh device cost on a memory system,
 * beside the kernel's TUN device and a plain memcpy ring, in one run.
 *
 * Every figure is the median of several repetitions, taken on one CPU
 * (sched_setaffinity).  The kernel half runs in a private network namespace
 * (tests/support/netns.h) and is skipped, with the reason, when the process
 * may not create one.  Packets carry valid IPv4 and UDP checksums, so the
 * kernel verifies one where memio computes or checks one.
 *
 * Nothing here passes or fails on a clock: the program prints figures.  It
 * exits non-zero only when a call it measures fails.
 *
 * Modes:
 *   memio-bench [options]          the table (and --results FILE: key<TAB>ns)
 *   memio-bench --cg KEY -n N      one path, N packets inside
 *                                  memio_bench_cg_loop, for callgrind.sh
 *   memio-bench --list-cg          the keys --cg accepts
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <memio/memio.h>

#include "netns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_FRAME (65536 + 64)
#define MAX_REPS 101

/* Keeps the compiler from proving a copy useless. */
#define CLOBBER() __asm__ __volatile__("" ::: "memory")

/* --- options and results ---------------------------------------------- */

static struct {
    long iterations;   /* packets per repetition */
    int reps;          /* repetitions; the median is printed */
    long fresh;        /* fresh memory devices per repetition */
    long kernel_fresh; /* fresh kernel devices per repetition (~20 ms each) */
    long fd_max;       /* largest descriptor count of the curve */
    int kernel;        /* run the kernel half */
    int cpu;           /* -1: the last CPU we may run on */
    const char *results;
} opt = {200000, 7, 20000, 3, 100000, 1, -1, NULL};

/* One measured row of the table. */
typedef struct row {
    char key[48];       /* "tun/inject+read/46": matches twisted_bench.py */
    double ns;          /* median ns per operation */
    double kernel_ns;   /* the kernel's figure for the same path, 0 if none */
    double ring_ns;     /* the memcpy ring's for the same size, 0 if none */
} row;

static row rows[64];
static int nrows;

/* Exits with a message naming the call that failed: a benchmark whose path
 * breaks must not print a figure for it. */
static void die(const char *what)
{
    fprintf(stderr, "memio-bench: %s: %s\n", what, strerror(errno));
    exit(1);
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Runs fn(arg, n) opt.reps times after one warm-up round and returns the
 * median nanoseconds per operation. */
static double measure(void (*fn)(void *, long), void *arg, long n)
{
    double v[MAX_REPS];
    fn(arg, n / 10 + 1);
    for (int r = 0; r < opt.reps; r++) {
        double t0 = now_ns();
        fn(arg, n);
        v[r] = (now_ns() - t0) / (double)n;
    }
    return median(v, opt.reps);
}

static row *add_row(const char *key, double ns)
{
    row *r = &rows[nrows++];
    snprintf(r->key, sizeof r->key, "%s", key);
    r->ns = ns;
    return r;
}

static row *find_row(const char *key)
{
    for (int i = 0; i < nrows; i++)
        if (strcmp(rows[i].key, key) == 0)
            return &rows[i];
    return NULL;
}

/* --- packets ------------------------------------------------------------ */

static const uint8_t peer_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};

static struct sockaddr_in addr4(const char *ip, uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
}

/* Builds an IPv4/UDP packet of exactly `iplen` bytes (valid checksums) from
 * src:sport to dst:dport into buf; on a TAP, behind an Ethernet header from
 * peer_mac to `dst_mac`.  Returns the frame's length. */
static size_t build_frame(uint8_t *buf, size_t iplen, int tap, const uint8_t dst_mac[6],
                          const char *src, uint16_t sport, const char *dst, uint16_t dport)
{
    static uint8_t payload[MAX_FRAME];
    uint8_t ip[MAX_FRAME];
    struct sockaddr_in s = addr4(src, sport), d = addr4(dst, dport);
    for (size_t i = 0; i < iplen; i++)
        payload[i] = (uint8_t)(i * 7 + 1);
    ssize_t n = memio_packet_udp4(ip, sizeof ip, &s, &d, 1, payload,
                                  iplen - MEMIO_IPV4_HLEN - MEMIO_UDP_HLEN);
    if (n < 0)
        die("memio_packet_udp4");
    if (!tap) {
        memcpy(buf, ip, (size_t)n);
        return (size_t)n;
    }
    n = memio_packet_ether(buf, MAX_FRAME, dst_mac, peer_mac, ETHERTYPE_IP, ip, (size_t)n);
    if (n < 0)
        die("memio_packet_ether");
    return (size_t)n;
}

/* --- the memory system's per-packet paths ------------------------------- */

enum path { P_INJECT_READ, P_SENDUDP_READ, P_WRITE_TAKE, P_WRITE_RECV, P_COUNT };
static const char *const path_name[P_COUNT] = {"inject+read", "send_udp+read", "write+take",
                                               "write+receive_udp"};
static const size_t sizes[2] = {46, 1486};

/* One memory system with one attached, non-blocking tunnel, a non-blocking
 * receive descriptor at 10.0.0.1:5000, and the frames of one path. */
typedef struct mem_ctx {
    memio_sys *sys;
    memio_tunnel *t;
    int fd, rfd, tap;
    enum path path;
    size_t iplen;
    uint8_t in[MAX_FRAME];  /* injected: toward the program */
    size_t in_len;
    uint8_t out[MAX_FRAME]; /* written by the program */
    size_t out_len;
    uint8_t payload[MAX_FRAME];
    size_t payload_len;
    struct sockaddr_in to;  /* send_udp's destination */
    uint8_t buf[MAX_FRAME];
} mem_ctx;

static void mem_open(mem_ctx *c, int tap, enum path p, size_t iplen)
{
    struct ifreq ifr = {.ifr_flags = (short)((tap ? IFF_TAP : IFF_TUN) | IFF_NO_PI)};
    uint8_t mac[6];
    c->tap = tap;
    c->path = p;
    c->iplen = iplen;
    c->sys = memio_sys_memory();
    if (!c->sys || memio_register_tun(c->sys) < 0)
        die("memio_sys_memory");
    c->fd = memio_open(c->sys, "/dev/net/tun", O_RDWR | O_NONBLOCK);
    if (c->fd < 0)
        die("memio_open");
    strcpy(ifr.ifr_name, tap ? "tap%d" : "tun%d");
    if (memio_ioctl(c->sys, c->fd, TUNSETIFF, &ifr) < 0)
        die("TUNSETIFF");
    c->t = memio_tunnel_get(c->sys, c->fd);
    if (!c->t)
        die("memio_tunnel_get");
    memio_tunnel_mac(c->t, mac);
    struct sockaddr_in at = addr4("10.0.0.1", 5000);
    c->rfd = memio_receive_udp(c->sys, c->fd, (struct sockaddr *)&at, sizeof at);
    if (c->rfd < 0 || memio_fcntl(c->sys, c->rfd, F_SETFL, O_NONBLOCK) < 0)
        die("memio_receive_udp");
    /* toward the program: 10.0.0.1:5000 -> 10.0.0.2:4000, from the device's MAC */
    c->in_len = build_frame(c->in, iplen, tap, (const uint8_t[6]){0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
                            "10.0.0.1", 5000, "10.0.0.2", 4000);
    if (tap)
        memcpy(c->in + 6, mac, 6);
    /* from the program: to the receive descriptor, or past it for take */
    c->out_len = build_frame(c->out, iplen, tap, mac, "10.0.0.2", 4000, "10.0.0.1",
                             p == P_WRITE_RECV ? 5000 : 6000);
    c->payload_len = iplen - MEMIO_IPV4_HLEN - MEMIO_UDP_HLEN;
    memset(c->payload, 0x5a, c->payload_len);
    c->to = addr4("10.0.0.2", 4000);
}

static void mem_close(mem_ctx *c)
{
    memio_sys_free(c->sys);
}

/* n packets of c's path.  Each step is one packet in and out, so the queue
 * never grows. */
static void mem_run(void *arg, long n)
{
    mem_ctx *c = arg;
    ssize_t r;
    switch (c->path) {
    case P_INJECT_READ:
        for (long i = 0; i < n; i++) {
            if (memio_tunnel_inject(c->t, c->in, c->in_len) < 0)
                die("memio_tunnel_inject");
            r = memio_read(c->sys, c->fd, c->buf, sizeof c->buf);
            if (r != (ssize_t)c->in_len)
                die("memio_read (inject+read)");
        }
        break;
    case P_SENDUDP_READ:
        for (long i = 0; i < n; i++) {
            if (memio_send_udp(c->sys, c->payload, c->payload_len, (struct sockaddr *)&c->to,
                               sizeof c->to, NULL) < 0)
                die("memio_send_udp");
            r = memio_read(c->sys, c->fd, c->buf, sizeof c->buf);
            if (r != (ssize_t)(c->iplen + (c->tap ? MEMIO_ETH_HLEN : 0)))
                die("memio_read (send_udp+read)");
        }
        break;
    case P_WRITE_TAKE:
        for (long i = 0; i < n; i++) {
            if (memio_write(c->sys, c->fd, c->out, c->out_len) != (ssize_t)c->out_len)
                die("memio_write (write+take)");
            if (memio_tunnel_take(c->t, c->buf, sizeof c->buf) != (ssize_t)c->out_len)
                die("memio_tunnel_take");
        }
        break;
    case P_WRITE_RECV:
        for (long i = 0; i < n; i++) {
            if (memio_write(c->sys, c->fd, c->out, c->out_len) != (ssize_t)c->out_len)
                die("memio_write (write+receive_udp)");
            r = memio_read(c->sys, c->rfd, c->buf, sizeof c->buf);
            if (r != (ssize_t)c->payload_len)
                die("memio_read (receive_udp)");
        }
        break;
    default:
        break;
    }
}

/* A fresh device, as a test that wants its own does it: a new system, the
 * tun device registered, open, TUNSETIFF, close, free. */
static void mem_fresh(void *arg, long n)
{
    int tap = *(int *)arg;
    for (long i = 0; i < n; i++) {
        struct ifreq ifr = {.ifr_flags = (short)((tap ? IFF_TAP : IFF_TUN) | IFF_NO_PI)};
        memio_sys *sys = memio_sys_memory();
        if (!sys || memio_register_tun(sys) < 0)
            die("memio_sys_memory");
        int fd = memio_open(sys, "/dev/net/tun", O_RDWR | O_NONBLOCK);
        if (fd < 0 || memio_ioctl(sys, fd, TUNSETIFF, &ifr) < 0)
            die("fresh TUNSETIFF");
        if (memio_close(sys, fd) < 0)
            die("fresh close");
        memio_sys_free(sys);
    }
}

/* --- the plain memcpy ring ---------------------------------------------- */

#define RING_SLOTS 256
#define RING_SLOT 2048

/* Fixed slots, memcpy in, memcpy out: the floor under any queue of frames. */
typedef struct ring_ctx {
    uint8_t slot[RING_SLOTS][RING_SLOT];
    uint16_t len[RING_SLOTS];
    unsigned head, tail;
    uint8_t in[RING_SLOT], out[RING_SLOT];
    size_t size;
} ring_ctx;

static void ring_run(void *arg, long n)
{
    ring_ctx *r = arg;
    for (long i = 0; i < n; i++) {
        unsigned h = r->head++ % RING_SLOTS;
        memcpy(r->slot[h], r->in, r->size);
        r->len[h] = (uint16_t)r->size;
        CLOBBER();
        unsigned t = r->tail++ % RING_SLOTS;
        memcpy(r->out, r->slot[t], r->len[t]);
        CLOBBER();
    }
}

/* --- the kernel, in a private network namespace -------------------------- */

typedef struct kern_ctx {
    int tun, sock;
    size_t iplen;
    uint8_t frame[MAX_FRAME];
    size_t frame_len;
    uint8_t payload[MAX_FRAME];
    size_t payload_len;
    struct sockaddr_in peer;
    uint8_t buf[MAX_FRAME];
} kern_ctx;

/* Opens a kernel TUN named `name` (IFF_NO_PI), blocking. */
static int kern_tun(const char *name)
{
    struct ifreq ifr = {.ifr_flags = IFF_TUN | IFF_NO_PI};
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -1;
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* The program writes a datagram into the TUN; a UDP socket bound to
 * 10.9.0.1:5000 on the host side receives it (the kernel checks both
 * checksums on the way). */
static void kern_write_recv(void *arg, long n)
{
    kern_ctx *k = arg;
    for (long i = 0; i < n; i++) {
        if (write(k->tun, k->frame, k->frame_len) != (ssize_t)k->frame_len)
            die("kernel write");
        if (recv(k->sock, k->buf, sizeof k->buf, 0) != (ssize_t)k->payload_len)
            die("kernel recv");
    }
}

/* A UDP socket sends to 10.9.0.2, routed through the TUN; the program reads
 * the packet (the kernel computes its checksum). */
static void kern_send_read(void *arg, long n)
{
    kern_ctx *k = arg;
    for (long i = 0; i < n; i++) {
        if (sendto(k->sock, k->payload, k->payload_len, 0, (struct sockaddr *)&k->peer,
                   sizeof k->peer) != (ssize_t)k->payload_len)
            die("kernel sendto");
        if (read(k->tun, k->buf, sizeof k->buf) != (ssize_t)k->iplen)
            die("kernel read");
    }
}

/* A fresh, up kernel device: open, TUNSETIFF, up, close (which waits for
 * the stack to unregister it). */
static void kern_fresh(void *arg, long n)
{
    (void)arg;
    for (long i = 0; i < n; i++) {
        int fd = kern_tun("mbfresh0");
        if (fd < 0)
            die("kernel fresh TUNSETIFF");
        if (memio_test_netns_set_up("mbfresh0", 1) < 0)
            die("kernel fresh up");
        close(fd);
    }
}

/* Measures the kernel's rows; returns 0, or -1 with the reason printed. */
static int run_kernel(void)
{
    char why[256];
    if (!opt.kernel) {
        printf("kernel: skipped (--no-kernel)\n");
        return -1;
    }
    if (memio_test_netns_enter(why, sizeof why) < 0) {
        printf("kernel: skipped: %s\n", why);
        return -1;
    }
    kern_ctx *k = calloc(1, sizeof *k);
    if (!k)
        die("calloc");
    k->tun = kern_tun("mbench0");
    if (k->tun < 0 || memio_test_netns_disable_ipv6("mbench0") < 0 ||
        memio_test_netns_set_addr4("mbench0", "10.9.0.1", 24) < 0 ||
        memio_test_netns_set_up("mbench0", 1) < 0)
        die("kernel TUN set-up");
    k->sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in at = addr4("10.9.0.1", 5000);
    if (k->sock < 0 || bind(k->sock, (struct sockaddr *)&at, sizeof at) < 0)
        die("kernel socket");
    k->peer = addr4("10.9.0.2", 4000);
    for (int s = 0; s < 2; s++) {
        char key[48];
        k->iplen = sizes[s];
        k->frame_len = build_frame(k->frame, sizes[s], 0, NULL, "10.9.0.2", 4000, "10.9.0.1", 5000);
        k->payload_len = sizes[s] - MEMIO_IPV4_HLEN - MEMIO_UDP_HLEN;
        memset(k->payload, 0x5a, k->payload_len);
        snprintf(key, sizeof key, "kernel/write+recv/%zu", sizes[s]);
        add_row(key, measure(kern_write_recv, k, opt.iterations / 4 + 1));
        snprintf(key, sizeof key, "kernel/send+read/%zu", sizes[s]);
        add_row(key, measure(kern_send_read, k, opt.iterations / 4 + 1));
    }
    close(k->sock);
    close(k->tun);
    free(k);
    add_row("kernel/fresh", measure(kern_fresh, NULL, opt.kernel_fresh));
    return 0;
}

/* --- descriptors: constant time at 10^2 .. 10^5 open ----------------------- */

/* The cost of read, write and poll on one descriptor while `count` are
 * open in the same system: count - 1 unattached tun descriptors opened
 * after the measured, attached one. */
static void run_fd_curve(void)
{
    printf("\nDescriptors open in one system: ns per call on one descriptor (median of %d)\n",
           opt.reps);
    printf("%10s %12s %12s %12s\n", "open fds", "read", "write", "poll");
    for (long count = 100; count <= opt.fd_max; count *= 10) {
        mem_ctx *c = calloc(1, sizeof *c);
        if (!c)
            die("calloc");
        mem_open(c, 0, P_INJECT_READ, 46);
        for (long i = 2; i < count; i++) /* the tun fd and rfd count too */
            if (memio_open(c->sys, "/dev/net/tun", O_RDWR) < 0)
                die("memio_open (filler)");
        long n = opt.iterations;
        double v[3][MAX_REPS];
        for (int r = 0; r < opt.reps; r++) {
            /* read: the frames were injected outside the clock */
            double rsum = 0;
            for (long i = 0; i < n; i += 400) {
                long m = n - i < 400 ? n - i : 400;
                for (long j = 0; j < m; j++)
                    if (memio_tunnel_inject(c->t, c->in, c->in_len) < 0)
                        die("inject (curve)");
                double t0 = now_ns();
                for (long j = 0; j < m; j++)
                    if (memio_read(c->sys, c->fd, c->buf, sizeof c->buf) < 0)
                        die("read (curve)");
                rsum += now_ns() - t0;
            }
            v[0][r] = rsum;
            /* write: taken outside the clock */
            double wsum = 0;
            for (long i = 0; i < n; i += 400) {
                long m = n - i < 400 ? n - i : 400;
                double t0 = now_ns();
                for (long j = 0; j < m; j++)
                    if (memio_write(c->sys, c->fd, c->out, c->out_len) < 0)
                        die("write (curve)");
                wsum += now_ns() - t0;
                for (long j = 0; j < m; j++)
                    if (memio_tunnel_take(c->t, c->buf, sizeof c->buf) < 0)
                        die("take (curve)");
            }
            v[1][r] = wsum;
            struct pollfd p = {.fd = c->fd, .events = POLLIN | POLLOUT};
            double t0 = now_ns();
            for (long i = 0; i < n; i++)
                if (memio_poll(c->sys, &p, 1, 0) < 0)
                    die("poll (curve)");
            v[2][r] = now_ns() - t0;
            for (int k = 0; k < 3; k++)
                v[k][r] /= (double)n;
        }
        printf("%10ld %12.1f %12.1f %12.1f\n", count, median(v[0], opt.reps),
               median(v[1], opt.reps), median(v[2], opt.reps));
        mem_close(c);
        free(c);
    }
}

/* --- the table ------------------------------------------------------------- */

static void fmt_ratio(char *out, size_t cap, double num, double den)
{
    if (num <= 0 || den <= 0)
        snprintf(out, cap, "-");
    else
        snprintf(out, cap, "%.2fx", num / den);
}

static void print_table(void)
{
    printf("\nmemio memory system vs the kernel's TUN and a memcpy ring "
           "(median of %d, ns per packet or per device)\n",
           opt.reps);
    printf("%-28s %11s %13s %14s %13s\n", "path", "ns/op", "ops/s", "kernel/memio", "memio/ring");
    for (int i = 0; i < nrows; i++) {
        row *r = &rows[i];
        char k[16], g[16];
        fmt_ratio(k, sizeof k, r->kernel_ns, r->ns);
        fmt_ratio(g, sizeof g, r->ns, r->ring_ns);
        printf("%-28s %11.1f %13.0f %14s %13s\n", r->key, r->ns, 1e9 / r->ns, k, g);
    }
    printf("kernel/memio: how many times faster memio is than the kernel on the same path\n"
           "  (inject+read and send_udp+read vs a UDP socket sending through the TUN to read;\n"
           "   write+take and write+receive_udp vs a write into the TUN to a UDP socket;\n"
           "   TAP rows against the kernel's TUN figures).  memio/ring: how many times the\n"
           "  plain memcpy ring's cost memio's is.\n");
}

static void write_results(void)
{
    if (!opt.results)
        return;
    FILE *f = fopen(opt.results, "w");
    if (!f)
        die(opt.results);
    for (int i = 0; i < nrows; i++)
        fprintf(f, "%s\t%.3f\n", rows[i].key, rows[i].ns);
    fclose(f);
}

/* --- callgrind mode ---------------------------------------------------------- */

/* The workload callgrind.sh counts: callgrind collects only inside this
 * function (--toggle-collect), so set-up and warm-up stay out of it. */
__attribute__((noinline)) void memio_bench_cg_loop(void (*fn)(void *, long), void *arg, long n);
__attribute__((noinline)) void memio_bench_cg_loop(void (*fn)(void *, long), void *arg, long n)
{
    fn(arg, n);
    CLOBBER();
}

static int run_cg(const char *key, long n)
{
    char dev[8], path[32];
    size_t size = 0;
    if (strcmp(key, "tun/fresh") == 0 || strcmp(key, "tap/fresh") == 0) {
        int tap = key[1] == 'a';
        mem_fresh(&tap, 20);
        memio_bench_cg_loop(mem_fresh, &tap, n);
        return 0;
    }
    if (sscanf(key, "%7[^/]/%31[^/]/%zu", dev, path, &size) != 3)
        goto bad;
    if (strcmp(dev, "ring") == 0) {
        ring_ctx *r = calloc(1, sizeof *r);
        if (!r || size > RING_SLOT)
            goto bad;
        r->size = size;
        ring_run(r, 1000);
        memio_bench_cg_loop(ring_run, r, n);
        free(r);
        return 0;
    }
    for (int p = 0; p < P_COUNT; p++) {
        if (strcmp(path, path_name[p]) != 0)
            continue;
        mem_ctx *c = calloc(1, sizeof *c);
        if (!c)
            die("calloc");
        mem_open(c, strcmp(dev, "tap") == 0, (enum path)p, size);
        mem_run(c, 1000);
        memio_bench_cg_loop(mem_run, c, n);
        mem_close(c);
        free(c);
        return 0;
    }
bad:
    fprintf(stderr, "memio-bench: unknown --cg key %s (see --list-cg)\n", key);
    return 2;
}

static void list_cg(void)
{
    for (int tap = 0; tap < 2; tap++)
        for (int p = 0; p < P_COUNT; p++)
            for (int s = 0; s < 2; s++)
                printf("%s/%s/%zu\n", tap ? "tap" : "tun", path_name[p], sizes[s]);
    printf("tun/fresh\ntap/fresh\nring/memcpy/46\nring/memcpy/1486\n");
}

/* --- main --------------------------------------------------------------------- */

/* Pins the process to one CPU so that a repetition does not migrate. */
static void pin(void)
{
    cpu_set_t set;
    int cpu = opt.cpu;
    if (sched_getaffinity(0, sizeof set, &set) < 0)
        die("sched_getaffinity");
    if (cpu < 0)
        for (int i = 0; i < CPU_SETSIZE; i++)
            if (CPU_ISSET(i, &set))
                cpu = i;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) < 0)
        die("sched_setaffinity");
    printf("pinned to CPU %d\n", cpu);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: memio-bench [-n packets] [-r reps] [--fresh N] [--kernel-fresh N]\n"
            "                   [--fd-max N] [--no-kernel] [--cpu N] [--results FILE]\n"
            "       memio-bench --cg KEY [-n packets]     (for callgrind.sh)\n"
            "       memio-bench --list-cg\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *cg = NULL;
    int n_given = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--no-kernel") == 0) {
            opt.kernel = 0;
            continue;
        }
        if (strcmp(a, "--list-cg") == 0) {
            list_cg();
            return 0;
        }
        if (!v)
            usage();
        i++;
        if (strcmp(a, "-n") == 0 || strcmp(a, "--iterations") == 0) {
            opt.iterations = atol(v);
            n_given = 1;
        } else if (strcmp(a, "-r") == 0 || strcmp(a, "--reps") == 0)
            opt.reps = atoi(v);
        else if (strcmp(a, "--fresh") == 0)
            opt.fresh = atol(v);
        else if (strcmp(a, "--kernel-fresh") == 0)
            opt.kernel_fresh = atol(v);
        else if (strcmp(a, "--fd-max") == 0)
            opt.fd_max = atol(v);
        else if (strcmp(a, "--cpu") == 0)
            opt.cpu = atoi(v);
        else if (strcmp(a, "--results") == 0)
            opt.results = v;
        else if (strcmp(a, "--cg") == 0)
            cg = v;
        else
            usage();
    }
    if (cg)
        return run_cg(cg, n_given ? opt.iterations : 10000);
    if (opt.reps < 5 || opt.reps > MAX_REPS || opt.iterations < 1 || opt.fresh < 1 ||
        opt.kernel_fresh < 1) {
        fprintf(stderr, "memio-bench: need reps 5..%d and counts >= 1\n", MAX_REPS);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* The namespace must be entered while the process has one thread. */
    pin();
    int kernel_ok = run_kernel() == 0;

    for (int s = 0; s < 2; s++) {
        char key[48];
        ring_ctx *r = calloc(1, sizeof *r);
        if (!r)
            die("calloc");
        r->size = sizes[s];
        memset(r->in, 0x5a, sizeof r->in);
        snprintf(key, sizeof key, "ring/memcpy/%zu", sizes[s]);
        add_row(key, measure(ring_run, r, opt.iterations * 10));
        free(r);
    }
    for (int tap = 0; tap < 2; tap++) {
        for (int p = 0; p < P_COUNT; p++) {
            for (int s = 0; s < 2; s++) {
                char key[48], kkey[48], rkey[48];
                mem_ctx *c = calloc(1, sizeof *c);
                if (!c)
                    die("calloc");
                mem_open(c, tap, (enum path)p, sizes[s]);
                snprintf(key, sizeof key, "%s/%s/%zu", tap ? "tap" : "tun", path_name[p],
                         sizes[s]);
                row *rw = add_row(key, measure(mem_run, c, opt.iterations));
                mem_close(c);
                free(c);
                snprintf(kkey, sizeof kkey, "kernel/%s/%zu",
                         p <= P_SENDUDP_READ ? "send+read" : "write+recv", sizes[s]);
                snprintf(rkey, sizeof rkey, "ring/memcpy/%zu", sizes[s]);
                row *kr = kernel_ok ? find_row(kkey) : NULL;
                rw->kernel_ns = kr ? kr->ns : 0;
                rw->ring_ns = find_row(rkey)->ns;
            }
        }
        int t = tap;
        row *f = add_row(tap ? "tap/fresh" : "tun/fresh", measure(mem_fresh, &t, opt.fresh));
        row *kf = kernel_ok ? find_row("kernel/fresh") : NULL;
        f->kernel_ns = kf ? kf->ns : 0;
    }
    print_table();
    write_results();
    run_fd_curve();
    return 0;
}
