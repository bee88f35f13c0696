/*
 * ring.h — a FIFO of frames whose buffers are reused: the queues toward the
 * program, toward the test, and of a receive descriptor.
 *
 * A slot keeps its buffer after it is dequeued, so a queue in steady state
 * allocates nothing per frame; only a buffer grown past RING_KEEP_MAX is
 * given back, so that one huge write does not pin memory.
 */
#ifndef MEMIO_RING_H
#define MEMIO_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RING_KEEP_MAX (65536 + 256)

struct ring_slot {
    uint8_t *buf;
    size_t cap;
    size_t len;
    uint32_t aux; /* per-frame word for the owner (a receive fd: the charge) */
};

struct ring {
    struct ring_slot *slots;
    uint32_t size;  /* slots allocated */
    uint32_t head;  /* oldest */
    uint32_t count; /* queued */
};

/* The next free slot, with a buffer of at least len bytes, or NULL: errno
 * ENOBUFS when `limit` frames are queued already, ENOMEM.  The slot is queued
 * only by ring_commit. */
struct ring_slot *ring_reserve(struct ring *r, uint32_t limit, size_t len);
void ring_commit(struct ring *r);
/* The oldest frame, or NULL when empty. */
static inline struct ring_slot *ring_front(const struct ring *r)
{
    return r->count ? &r->slots[r->head] : NULL;
}
/* Dequeues the oldest frame. */
void ring_pop(struct ring *r);
/* Keeps the oldest n frames and drops the rest; returns how many it dropped. */
uint32_t ring_truncate(struct ring *r, uint32_t n);
/* Frees all memory; the ring is empty and reusable afterwards. */
void ring_free(struct ring *r);

#endif /* MEMIO_RING_H */
