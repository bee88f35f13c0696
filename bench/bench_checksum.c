/*
 * bench_checksum.c — the internet checksum's speed: memio's portable and
 * AVX2 sums and the one memio_csum_add picks, beside a plain loop over
 * 16-bit words, in the same run, on buffers from 64 bytes to 64 KiB.
 *
 * Prints GB/s (10^9 bytes per second, best of several repetitions) and the
 * ratio to the plain loop.  Exits non-zero only when an implementation
 * disagrees with the plain loop; nothing passes or fails on a clock.
 *
 *   bench_checksum [-t SECONDS_PER_CELL]
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "memio/packet.h"
#include "packet_internal.h"

/* The textbook loop: one big-endian 16-bit word at a time into 32 bits,
 * folded at the end (good up to 128 KiB without overflow). */
__attribute__((noinline)) static uint16_t plain_checksum(const uint8_t *p, size_t len)
{
    uint32_t sum = 0;
    size_t i;
    for (i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* The checksum from one of the host-order implementations. */
static uint16_t via(uint64_t (*fn)(uint64_t, const void *, size_t), const uint8_t *p,
                    size_t len)
{
    uint64_t s = fn(0, p, len);
    uint32_t f;
    s = (s >> 32) + (s & 0xffffffffu);
    s = (s >> 32) + (s & 0xffffffffu);
    f = (uint32_t)((s >> 16) + (s & 0xffff));
    f = (f >> 16) + (f & 0xffff);
    return (uint16_t)~ntohs((uint16_t)f);
}

static uint16_t run_plain(const uint8_t *p, size_t len)
{
    return plain_checksum(p, len);
}

static uint16_t run_portable(const uint8_t *p, size_t len)
{
    return via(packet__csum_portable, p, len);
}

#if defined(__x86_64__) || defined(__i386__)
static uint16_t run_avx2(const uint8_t *p, size_t len)
{
    return via(packet__csum_avx2, p, len);
}

static uint16_t run_avx512(const uint8_t *p, size_t len)
{
    return via(packet__csum_avx512, p, len);
}
#endif

static uint16_t run_memio(const uint8_t *p, size_t len)
{
    return memio_inet_checksum(p, len);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static volatile uint16_t sink;

/* Best GB/s of 5 repetitions of about secs / 5 each. */
static double measure(uint16_t (*fn)(const uint8_t *, size_t), const uint8_t *buf, size_t len,
                      double secs)
{
    double best = 0;
    size_t iters = 1;
    int rep;

    /* Calibrate: enough iterations for about secs / 5. */
    for (;;) {
        double t0 = now(), dt;
        size_t i;
        for (i = 0; i < iters; i++) {
            __asm__ volatile("" : : "r"(buf) : "memory");
            sink = fn(buf, len);
        }
        dt = now() - t0;
        if (dt > secs / 20 || iters > ((size_t)1 << 40))
            break;
        iters *= 2;
    }
    iters *= 4;
    for (rep = 0; rep < 5; rep++) {
        double t0 = now(), dt, gbs;
        size_t i;
        for (i = 0; i < iters; i++) {
            __asm__ volatile("" : : "r"(buf) : "memory");
            sink = fn(buf, len);
        }
        dt = now() - t0;
        gbs = (double)len * (double)iters / dt / 1e9;
        if (gbs > best)
            best = gbs;
    }
    return best;
}

int main(int argc, char **argv)
{
    static const size_t sizes[] = {64, 576, 1500, 9000, 65536};
    struct impl {
        const char *name;
        uint16_t (*fn)(const uint8_t *, size_t);
    } impls[5];
    int nimpl = 0, i, j, avx2 = 0;
    double secs = 0.5, at1500[5] = {0};
    uint8_t *buf;
    size_t k;

    if (argc == 3 && strcmp(argv[1], "-t") == 0)
        secs = atof(argv[2]);
    else if (argc != 1) {
        fprintf(stderr, "usage: %s [-t SECONDS_PER_CELL]\n", argv[0]);
        return 2;
    }
    impls[nimpl++] = (struct impl){"plain 16-bit loop", run_plain};
    impls[nimpl++] = (struct impl){"memio portable", run_portable};
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) {
        impls[nimpl++] = (struct impl){"memio avx2", run_avx2};
        avx2 = 1;
    }
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw"))
        impls[nimpl++] = (struct impl){"memio avx512", run_avx512};
#endif
    impls[nimpl++] = (struct impl){"memio_inet_checksum", run_memio};

    /* Offset by one byte from the allocation: an odd, unaligned start. */
    buf = malloc(65536 + 64);
    if (!buf)
        return 1;
    for (k = 0; k < 65536 + 64; k++)
        buf[k] = (uint8_t)(k * 2654435761u >> 13);

    /* Every implementation must agree with the plain loop first. */
    for (k = 0; k <= 4096; k++) {
        uint16_t want = plain_checksum(buf + 1, k);
        for (j = 1; j < nimpl; j++) {
            if (impls[j].fn(buf + 1, k) != want) {
                fprintf(stderr, "%s disagrees with the plain loop at length %zu\n",
                        impls[j].name, k);
                return 1;
            }
        }
    }

    printf("internet checksum, GB/s (best of 5), unaligned start; memio_inet_checksum uses %s%s\n",
           packet__csum_impl_name(), avx2 ? "" : " (no AVX2 on this CPU)");
    printf("%-22s", "bytes");
    for (i = 0; i < (int)(sizeof sizes / sizeof sizes[0]); i++)
        printf("%10zu", sizes[i]);
    printf("\n");
    for (j = 0; j < nimpl; j++) {
        printf("%-22s", impls[j].name);
        for (i = 0; i < (int)(sizeof sizes / sizeof sizes[0]); i++) {
            double g = measure(impls[j].fn, buf + 1, sizes[i], secs);
            printf("%10.2f", g);
            fflush(stdout);
            if (sizes[i] == 1500)
                at1500[j] = g;
        }
        printf("\n");
    }
    printf("\nat 1500 bytes:\n");
    for (j = 0; j < nimpl; j++)
        printf("  %-22s %6.2f GB/s  x%.1f the plain loop\n", impls[j].name, at1500[j],
               at1500[j] / at1500[0]);
    free(buf);
    return 0;
}
