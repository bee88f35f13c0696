/*
 * ring.h — a FIFO of frames whose buffers are reused: the queues toward the
 * program, toward the test, and of a receive descriptor.
 *
 * A slot keeps its buffer after it is dequeued, so a queue in steady state
 * allocates nothing per frame; only a buffer grown past RING_KEEP_MAX (a
 * frame bigger than any IP packet) is given back, so that one huge write does not pin memory.  The slot array's
 * size is a power of two (indexes are masked, never divided); the queue's
 * length limit is the caller's, checked at each reservation.
 */
#ifndef MEMIO_RING_H
#define MEMIO_RING_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A buffer this big is kept: a 64 KiB IP packet in an Ethernet frame with a
 * PI and a virtio-net header, rounded up as ring_reserve_slow rounds. */
#define RING_KEEP_MAX (68 * 1024)

struct ring_slot {
    uint8_t *buf;
    size_t cap;
    size_t len;
    uint32_t aux; /* per-frame word for the owner (a receive fd: the charge) */
};

/* head and tail run freely (masked only to index) and each side moves only
 * its own: a read advances head, a write tail.  A shared count that both
 * sides change would chain every packet's store to the next one's load
 * through memory, twice over. */
struct ring {
    struct ring_slot *slots;
    uint32_t size; /* slots allocated: 0 or a power of two */
    uint32_t head; /* the oldest frame's index */
    uint32_t tail; /* the next free slot's index */
};

/* How many frames are queued. */
static inline uint32_t ring_count(const struct ring *r)
{
    return r->tail - r->head;
}

/* The slow half of ring_reserve: grows the array or the slot's buffer. */
struct ring_slot *ring_reserve_slow(struct ring *r, size_t len);

/* The next free slot, with a buffer of at least len bytes, or NULL: errno
 * ENOBUFS when `limit` frames are queued already, ENOMEM.  The slot is queued
 * only by ring_commit. */
static inline struct ring_slot *ring_reserve(struct ring *r, uint32_t limit, size_t len)
{
    struct ring_slot *slot;
    uint32_t count = ring_count(r);

    if (count >= limit) {
        errno = ENOBUFS;
        return NULL;
    }
    if (count == r->size)
        return ring_reserve_slow(r, len);
    slot = &r->slots[r->tail & (r->size - 1)];
    if (!slot->buf || slot->cap < len)
        return ring_reserve_slow(r, len);
    slot->len = 0;
    slot->aux = 0;
    return slot;
}

static inline void ring_commit(struct ring *r)
{
    r->tail++;
}

/* The oldest frame, or NULL when empty. */
static inline struct ring_slot *ring_front(const struct ring *r)
{
    return r->head != r->tail ? &r->slots[r->head & (r->size - 1)] : NULL;
}

/* Gives back a buffer that grew past RING_KEEP_MAX. */
void ring_slot_shrink(struct ring_slot *slot);

/* Dequeues the oldest frame. */
static inline void ring_pop(struct ring *r)
{
    struct ring_slot *slot = &r->slots[r->head & (r->size - 1)];

    if (slot->cap > RING_KEEP_MAX)
        ring_slot_shrink(slot);
    slot->len = 0;
    r->head++;
}

/* Keeps the oldest n frames and drops the rest; returns how many it dropped. */
uint32_t ring_truncate(struct ring *r, uint32_t n);
/* Frees all memory; the ring is empty and reusable afterwards. */
void ring_free(struct ring *r);

#endif /* MEMIO_RING_H */
