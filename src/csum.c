/*
 * csum.c — the internet checksum (RFC 1071) and the pseudo-header sums of
 * UDP and ICMPv6.
 *
 * Every packet memio builds or checks goes through here, so it is fast:
 * the sum is taken in the host's byte order over 64-bit words (portable),
 * 256-bit vectors (AVX2) or 512-bit ones (AVX-512, whose masked loads take
 * the tail too), the best the CPU has, chosen once at run time,
 * and converted to big-endian order once at the end.  This works because
 * one's complement addition commutes with byte swapping (RFC 1071 section
 * 2(B)): the folded sum of the native 16-bit words, byte-swapped, is the
 * sum of the big-endian words as they are stored.  Lanes follow the byte
 * offset from the start of the data, not the address, so alignment never
 * matters, and every load goes through memcpy or an unaligned vector load.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "memio/packet.h"
#include "packet_internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_X86_AVX2 1
#endif

/* Folds a 64-bit one's complement accumulator to 16 bits.  A non-zero
 * input never folds to 0, so 0 and 0xffff keep their distinct meanings. */
static uint16_t fold64(uint64_t s)
{
    s = (s >> 32) + (s & 0xffffffffu);
    s = (s >> 32) + (s & 0xffffffffu);
    s = (s >> 16) + (s & 0xffffu);
    s = (s >> 16) + (s & 0xffffu);
    return (uint16_t)s;
}

/* One's complement addition of two 64-bit words: the carry out of the top
 * goes back in at the bottom (compilers turn this into add + adc). */
static inline uint64_t add_carry(uint64_t a, uint64_t b)
{
    a += b;
    return a + (a < b);
}

static inline uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* The portable sum: 64-bit words with end-around carry, four independent
 * accumulators so the adds do not wait on each other. */
uint64_t packet__csum_portable(uint64_t s, const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t s1 = 0, s2 = 0, s3 = 0;

    while (len >= 64) {
        s = add_carry(s, load64(p));
        s1 = add_carry(s1, load64(p + 8));
        s2 = add_carry(s2, load64(p + 16));
        s3 = add_carry(s3, load64(p + 24));
        s = add_carry(s, load64(p + 32));
        s1 = add_carry(s1, load64(p + 40));
        s2 = add_carry(s2, load64(p + 48));
        s3 = add_carry(s3, load64(p + 56));
        p += 64;
        len -= 64;
    }
    s = add_carry(add_carry(s, s1), add_carry(s2, s3));
    while (len >= 8) {
        s = add_carry(s, load64(p));
        p += 8;
        len -= 8;
    }
    if (len > 0) {
        /* The tail, zero-padded to 8 bytes: an odd last byte lands at an
         * even offset and so becomes the high byte of its word. */
        uint8_t tail[8] = { 0 };
        memcpy(tail, p, len);
        s = add_carry(s, load64(tail));
    }
    return s;
}

#ifdef HAVE_X86_AVX2
/* The AVX2 sum: each 32-byte vector's 16-bit words are split into the low
 * and high halves of its 32-bit lanes and added there, so no carry is ever
 * lost; a lane takes at most 2 * 0xffff per vector, so a block of up to
 * 2^15 vectors per accumulator cannot overflow it.  The lanes are then
 * added into the 64-bit accumulator.  Called only when the CPU has AVX2. */
#define AVX2_BLOCK (1u << 20) /* bytes: 8192 vectors per accumulator */

/* The eight 32-bit lanes of v as four 64-bit sums (even lane + odd lane). */
__attribute__((target("avx2"))) static inline __m256i avx2_widen(__m256i v)
{
    const __m256i lo32 = _mm256_set1_epi64x(0xffffffff);
    return _mm256_add_epi64(_mm256_and_si256(v, lo32), _mm256_srli_epi64(v, 32));
}

/* Adds the four 64-bit lanes of wide into s. */
__attribute__((target("avx2"))) static inline uint64_t avx2_fold_lanes(uint64_t s, __m256i wide)
{
    uint64_t lane[4];

    _mm256_storeu_si256((__m256i *)lane, wide);
    s = add_carry(s, lane[0]);
    s = add_carry(s, lane[1]);
    s = add_carry(s, lane[2]);
    return add_carry(s, lane[3]);
}

__attribute__((target("avx2"))) uint64_t packet__csum_avx2(uint64_t s, const void *data,
                                                           size_t len)
{
    const uint8_t *p = data;
    const __m256i mask = _mm256_set1_epi32(0xffff);
    __m256i wide = _mm256_setzero_si256(); /* four 64-bit lanes: never overflow */

    if (len < 32)
        return packet__csum_portable(s, p, len);
    while (len >= 32) {
        size_t block = len < AVX2_BLOCK ? len : AVX2_BLOCK;
        __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;

        len -= block & ~(size_t)31;
        while (block >= 128) {
            __m256i v0 = _mm256_loadu_si256((const __m256i *)p);
            __m256i v1 = _mm256_loadu_si256((const __m256i *)(p + 32));
            __m256i v2 = _mm256_loadu_si256((const __m256i *)(p + 64));
            __m256i v3 = _mm256_loadu_si256((const __m256i *)(p + 96));
            a0 = _mm256_add_epi32(a0, _mm256_and_si256(v0, mask));
            a1 = _mm256_add_epi32(a1, _mm256_and_si256(v1, mask));
            a2 = _mm256_add_epi32(a2, _mm256_and_si256(v2, mask));
            a3 = _mm256_add_epi32(a3, _mm256_and_si256(v3, mask));
            a0 = _mm256_add_epi32(a0, _mm256_srli_epi32(v0, 16));
            a1 = _mm256_add_epi32(a1, _mm256_srli_epi32(v1, 16));
            a2 = _mm256_add_epi32(a2, _mm256_srli_epi32(v2, 16));
            a3 = _mm256_add_epi32(a3, _mm256_srli_epi32(v3, 16));
            p += 128;
            block -= 128;
        }
        while (block >= 32) {
            __m256i v = _mm256_loadu_si256((const __m256i *)p);
            a0 = _mm256_add_epi32(a0, _mm256_and_si256(v, mask));
            a1 = _mm256_add_epi32(a1, _mm256_srli_epi32(v, 16));
            p += 32;
            block -= 32;
        }
        /* a0 + a1 and a2 + a3 stay below 2^32 per lane: a block of at most
         * 2^20 bytes puts at most 2^14 * 0x1fffe in each pair. */
        wide = _mm256_add_epi64(wide, avx2_widen(_mm256_add_epi32(a0, a1)));
        wide = _mm256_add_epi64(wide, avx2_widen(_mm256_add_epi32(a2, a3)));
    }
    s = avx2_fold_lanes(s, wide);
    return packet__csum_portable(s, p, len);
}
#endif

/* Copies len bytes from src to dst and adds them to the native-order sum,
 * in one pass: what a packet builder needs for its payload, which would
 * otherwise be read twice.  src and dst must not overlap. */
uint64_t packet__csum_copy_portable(uint64_t s, void *dst, const void *src, size_t len)
{
    const uint8_t *p = src;
    uint8_t *d = dst;
    uint64_t s1 = 0;

    while (len >= 16) {
        uint64_t a = load64(p), b = load64(p + 8);
        memcpy(d, &a, 8);
        memcpy(d + 8, &b, 8);
        s = add_carry(s, a);
        s1 = add_carry(s1, b);
        p += 16;
        d += 16;
        len -= 16;
    }
    s = add_carry(s, s1);
    if (len >= 8) {
        uint64_t a = load64(p);
        memcpy(d, &a, 8);
        s = add_carry(s, a);
        p += 8;
        d += 8;
        len -= 8;
    }
    if (len) {
        /* The tail, zero-padded to 8 bytes, as packet__csum_portable's. */
        uint64_t t = 0;
        memcpy(d, p, len);
        memcpy(&t, p, len);
        s = add_carry(s, t);
    }
    return s;
}

#ifdef HAVE_X86_AVX2
__attribute__((target("avx2"))) uint64_t packet__csum_copy_avx2(uint64_t s, void *dst,
                                                                const void *src, size_t len)
{
    const uint8_t *p = src;
    uint8_t *d = dst;
    const __m256i mask = _mm256_set1_epi32(0xffff);
    __m256i wide = _mm256_setzero_si256();

    if (len < 64)
        return packet__csum_copy_portable(s, dst, src, len);
    while (len >= 32) {
        size_t block = len < AVX2_BLOCK ? len : AVX2_BLOCK;
        __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;

        len -= block & ~(size_t)31;
        while (block >= 64) {
            __m256i v0 = _mm256_loadu_si256((const __m256i *)p);
            __m256i v1 = _mm256_loadu_si256((const __m256i *)(p + 32));
            _mm256_storeu_si256((__m256i *)d, v0);
            _mm256_storeu_si256((__m256i *)(d + 32), v1);
            a0 = _mm256_add_epi32(a0, _mm256_and_si256(v0, mask));
            a1 = _mm256_add_epi32(a1, _mm256_srli_epi32(v0, 16));
            a2 = _mm256_add_epi32(a2, _mm256_and_si256(v1, mask));
            a3 = _mm256_add_epi32(a3, _mm256_srli_epi32(v1, 16));
            p += 64;
            d += 64;
            block -= 64;
        }
        if (block >= 32) {
            __m256i v = _mm256_loadu_si256((const __m256i *)p);
            _mm256_storeu_si256((__m256i *)d, v);
            a0 = _mm256_add_epi32(a0, _mm256_and_si256(v, mask));
            a1 = _mm256_add_epi32(a1, _mm256_srli_epi32(v, 16));
            p += 32;
            d += 32;
        }
        wide = _mm256_add_epi64(wide, avx2_widen(_mm256_add_epi32(a0, a1)));
        wide = _mm256_add_epi64(wide, avx2_widen(_mm256_add_epi32(a2, a3)));
    }
    s = avx2_fold_lanes(s, wide);
    return packet__csum_copy_portable(s, d, p, len);
}

/* The AVX-512 sum (AVX512F and AVX512BW): the AVX2 one's lanes, twice as
 * wide.  The last 1 to 63 bytes are one masked load, whose bytes past the
 * end read as zero (and never fault): the zero padding the portable sum
 * gives its tail.  The copy writes them with a masked store, which touches
 * nothing past dst + len. */
#define AVX512_TARGET __attribute__((target("avx512f,avx512bw")))
#define AVX512_BLOCK (1u << 20) /* bytes: as AVX2_BLOCK, the lanes cannot overflow */

AVX512_TARGET static inline __m512i avx512_widen(__m512i v)
{
    const __m512i lo32 = _mm512_set1_epi64(0xffffffff);
    return _mm512_add_epi64(_mm512_and_si512(v, lo32), _mm512_srli_epi64(v, 32));
}

/* Adds v's 16-bit words into the low (a) and high (b) halves' lanes. */
AVX512_TARGET static inline void avx512_add_words(__m512i *a, __m512i *b, __m512i v)
{
    *a = _mm512_add_epi32(*a, _mm512_and_si512(v, _mm512_set1_epi32(0xffff)));
    *b = _mm512_add_epi32(*b, _mm512_srli_epi32(v, 16));
}

AVX512_TARGET static inline __mmask64 avx512_tail_mask(size_t n)
{
    return (__mmask64)((1ull << n) - 1); /* 0 < n < 64 */
}

AVX512_TARGET uint64_t packet__csum_avx512(uint64_t s, const void *data, size_t len)
{
    const uint8_t *p = data;
    __m512i wide = _mm512_setzero_si512(); /* eight 64-bit lanes: never overflow */

    while (len) {
        size_t block = len < AVX512_BLOCK ? len : AVX512_BLOCK;
        __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;

        len -= block;
        while (block >= 128) {
            avx512_add_words(&a0, &a1, _mm512_loadu_si512(p));
            avx512_add_words(&a2, &a3, _mm512_loadu_si512(p + 64));
            p += 128;
            block -= 128;
        }
        if (block >= 64) {
            avx512_add_words(&a0, &a1, _mm512_loadu_si512(p));
            p += 64;
            block -= 64;
        }
        if (block) {
            avx512_add_words(&a2, &a3, _mm512_maskz_loadu_epi8(avx512_tail_mask(block), p));
            p += block;
        }
        wide = _mm512_add_epi64(wide, avx512_widen(_mm512_add_epi32(a0, a1)));
        wide = _mm512_add_epi64(wide, avx512_widen(_mm512_add_epi32(a2, a3)));
    }
    return add_carry(s, (uint64_t)_mm512_reduce_add_epi64(wide));
}

AVX512_TARGET uint64_t packet__csum_copy_avx512(uint64_t s, void *dst, const void *src,
                                                size_t len)
{
    const uint8_t *p = src;
    uint8_t *d = dst;
    __m512i wide = _mm512_setzero_si512();

    while (len) {
        size_t block = len < AVX512_BLOCK ? len : AVX512_BLOCK;
        __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;

        len -= block;
        while (block >= 128) {
            __m512i v0 = _mm512_loadu_si512(p), v1 = _mm512_loadu_si512(p + 64);
            _mm512_storeu_si512(d, v0);
            _mm512_storeu_si512(d + 64, v1);
            avx512_add_words(&a0, &a1, v0);
            avx512_add_words(&a2, &a3, v1);
            p += 128;
            d += 128;
            block -= 128;
        }
        if (block >= 64) {
            __m512i v = _mm512_loadu_si512(p);
            _mm512_storeu_si512(d, v);
            avx512_add_words(&a0, &a1, v);
            p += 64;
            d += 64;
            block -= 64;
        }
        if (block) {
            __mmask64 k = avx512_tail_mask(block);
            __m512i v = _mm512_maskz_loadu_epi8(k, p);
            _mm512_mask_storeu_epi8(d, k, v);
            avx512_add_words(&a2, &a3, v);
            p += block;
            d += block;
        }
        wide = _mm512_add_epi64(wide, avx512_widen(_mm512_add_epi32(a0, a1)));
        wide = _mm512_add_epi64(wide, avx512_widen(_mm512_add_epi32(a2, a3)));
    }
    return add_carry(s, (uint64_t)_mm512_reduce_add_epi64(wide));
}
#endif

typedef uint64_t (*sum_fn)(uint64_t, const void *, size_t);

static uint64_t sum_resolve(uint64_t s, const void *data, size_t len);

/* The implementation in use: resolved on the first call, then fixed.
 * Loaded and stored atomically so that threads racing on the first call
 * are well defined (they all store the same pointer). */
static sum_fn sum_impl = sum_resolve;

/* Picks the fastest implementation this CPU runs.  MEMIO_CSUM=portable or
 * MEMIO_CSUM=avx2 in the environment caps the choice there (for comparing
 * them). */
static sum_fn sum_choose(void)
{
    const char *force = getenv("MEMIO_CSUM");
    if (force && strcmp(force, "portable") == 0)
        return packet__csum_portable;
#ifdef HAVE_X86_AVX2
    __builtin_cpu_init();
    if (!(force && strcmp(force, "avx2") == 0) && __builtin_cpu_supports("avx512f") &&
        __builtin_cpu_supports("avx512bw"))
        return packet__csum_avx512;
    if (__builtin_cpu_supports("avx2"))
        return packet__csum_avx2;
#endif
    return packet__csum_portable;
}

static uint64_t sum_resolve(uint64_t s, const void *data, size_t len)
{
    sum_fn fn = sum_choose();
    __atomic_store_n(&sum_impl, fn, __ATOMIC_RELAXED);
    return fn(s, data, len);
}

/* The implementation in use, resolving it on the first call. */
static sum_fn sum_current(void)
{
    sum_fn fn = __atomic_load_n(&sum_impl, __ATOMIC_RELAXED);

    if (fn == sum_resolve) {
        fn = sum_choose();
        __atomic_store_n(&sum_impl, fn, __ATOMIC_RELAXED);
    }
    return fn;
}

/* The name of the implementation memio_csum_add uses: "avx512", "avx2" or
 * "portable". */
const char *packet__csum_impl_name(void)
{
    sum_fn fn = sum_current();
#ifdef HAVE_X86_AVX2
    if (fn == packet__csum_avx512)
        return "avx512";
    if (fn == packet__csum_avx2)
        return "avx2";
#endif
    return "portable";
}

/* Adds the big-endian 16-bit words of data to sum and returns the new sum,
 * folded to at most 0xffff.  NULL data with a non-zero length is a bad
 * pointer: sum comes back unchanged and errno is EFAULT. */
uint32_t memio_csum_add(uint32_t sum, const void *data, size_t len)
{
    sum_fn fn;
    uint64_t s;

    if (len == 0)
        return sum;
    if (!data) {
        errno = EFAULT;
        return sum;
    }
    /* Bring the caller's big-endian sum into the host-order lanes.  Small
     * pieces (headers) skip the indirect call. */
    s = htons(fold64(sum));
    if (len < 128) {
        s = packet__csum_portable(s, data, len);
    } else {
        fn = __atomic_load_n(&sum_impl, __ATOMIC_RELAXED);
        s = fn(s, data, len);
    }
    return ntohs(fold64(s));
}

uint64_t packet__csum_copy(uint64_t s, void *dst, const void *src, size_t len)
{
    const uint8_t *d = dst, *p = src;

    if (dst != src && d < p + len && p < d + len) {
        /* Overlapping: move first, then sum what landed. */
        memmove(dst, src, len);
        return packet__csum_portable(s, dst, len);
    }
    if (dst == src)
        return packet__csum_portable(s, dst, len);
#ifdef HAVE_X86_AVX2
    {
        sum_fn fn = sum_current();
        if (fn == packet__csum_avx512)
            return packet__csum_copy_avx512(s, dst, src, len);
        if (fn == packet__csum_avx2)
            return packet__csum_copy_avx2(s, dst, src, len);
    }
#endif
    return packet__csum_copy_portable(s, dst, src, len);
}

/* Folds sum to 16 bits and complements it. */
uint16_t memio_csum_fold(uint32_t sum)
{
    return (uint16_t)~fold64(sum);
}

/* The RFC 1071 checksum of data, host order. */
uint16_t memio_inet_checksum(const void *data, size_t len)
{
    return memio_csum_fold(memio_csum_add(0, data, len));
}

/* RFC 768: source, destination, zero, protocol, 16-bit length. */
uint32_t memio_csum_pseudo4(struct in_addr src, struct in_addr dst, uint8_t proto,
                            uint16_t len)
{
    uint8_t ph[12];
    memcpy(ph, &src, 4);
    memcpy(ph + 4, &dst, 4);
    ph[8] = 0;
    ph[9] = proto;
    ph[10] = (uint8_t)(len >> 8);
    ph[11] = (uint8_t)len;
    return memio_csum_add(0, ph, sizeof ph);
}

/* RFC 8200 section 8.1: source, destination, 32-bit length, three zero
 * bytes, next header. */
uint32_t memio_csum_pseudo6(const struct in6_addr *src, const struct in6_addr *dst,
                            uint8_t proto, uint32_t len)
{
    uint8_t ph[40];
    if (!src || !dst) {
        errno = EFAULT;
        return 0;
    }
    memcpy(ph, src, 16);
    memcpy(ph + 16, dst, 16);
    ph[32] = (uint8_t)(len >> 24);
    ph[33] = (uint8_t)(len >> 16);
    ph[34] = (uint8_t)(len >> 8);
    ph[35] = (uint8_t)len;
    ph[36] = ph[37] = ph[38] = 0;
    ph[39] = proto;
    return memio_csum_add(0, ph, sizeof ph);
}
