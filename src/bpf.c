/*
 * bpf.c — classic BPF socket filters for the memory device (TUNATTACHFILTER,
 * C08-C12, G25), run as the kernel runs them by libpcap's interpreter.
 *
 * Kept apart from tun.c because <pcap/bpf.h> and the kernel's
 * <linux/filter.h> (which <linux/if_tun.h> includes) define the same
 * macros.  The kernel's struct sock_filter and libpcap's struct bpf_insn
 * have the same layout: u16 code, u8 jt, u8 jf, u32 k.
 */
#include <errno.h>
#include <sys/types.h> /* u_int, u_char: <pcap/bpf.h> needs them first */
#include <pcap/bpf.h>
#include <stdlib.h>
#include <string.h>

#include "memory.h"

struct mem_bpf_prog {
    unsigned n;
    struct bpf_insn insns[];
};

struct mem_bpf_prog *mem__bpf_new(const void *insns, unsigned n)
{
    struct mem_bpf_prog *p;

    /* sk_chk_filter: 1..BPF_MAXINSNS instructions, a valid program. */
    if (n == 0 || n > 4096) {
        errno = EINVAL;
        return NULL;
    }
    p = malloc(sizeof(*p) + n * sizeof(struct bpf_insn));
    if (!p) {
        errno = ENOMEM;
        return NULL;
    }
    p->n = n;
    memcpy(p->insns, insns, n * sizeof(struct bpf_insn));
    if (!bpf_validate(p->insns, (int)n)) {
        free(p);
        errno = EINVAL;
        return NULL;
    }
    return p;
}

void mem__bpf_free(struct mem_bpf_prog *p)
{
    free(p);
}

unsigned mem__bpf_run(const struct mem_bpf_prog *p, const uint8_t *pkt, size_t len)
{
    return bpf_filter(p->insns, pkt, (u_int)len, (u_int)len);
}
