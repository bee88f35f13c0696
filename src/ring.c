/*
 * ring.c — see ring.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"

/* Grows the slot array, keeping queued frames in order from index 0 and the
 * spare buffers of free slots after them. */
static int ring_grow(struct ring *r, uint32_t want)
{
    struct ring_slot *s = calloc(want, sizeof(*s));
    uint32_t i;

    if (!s) {
        errno = ENOMEM;
        return -1;
    }
    for (i = 0; i < r->size; i++)
        s[i] = r->slots[(r->head + i) % r->size];
    free(r->slots);
    r->slots = s;
    r->size = want;
    r->head = 0;
    return 0;
}

struct ring_slot *ring_reserve(struct ring *r, uint32_t limit, size_t len)
{
    struct ring_slot *slot;

    if (r->count >= limit) {
        errno = ENOBUFS;
        return NULL;
    }
    if (r->count == r->size) {
        uint32_t want = r->size ? r->size * 2 : 8;
        if (want > limit)
            want = limit;
        if (want <= r->size)
            want = r->size + 1;
        if (ring_grow(r, want) < 0)
            return NULL;
    }
    slot = &r->slots[(r->head + r->count) % r->size];
    if (!slot->buf || slot->cap < len) {
        /* Round up so that frames of similar sizes share a buffer. */
        size_t cap = len < 2048 ? 2048 : (len + 1023) & ~(size_t)1023;
        uint8_t *b = realloc(slot->buf, cap);
        if (!b) {
            errno = ENOMEM;
            return NULL;
        }
        slot->buf = b;
        slot->cap = cap;
    }
    slot->len = 0;
    slot->aux = 0;
    return slot;
}

void ring_commit(struct ring *r)
{
    r->count++;
}

void ring_pop(struct ring *r)
{
    struct ring_slot *slot = &r->slots[r->head];

    if (slot->cap > RING_KEEP_MAX) {
        free(slot->buf);
        slot->buf = NULL;
        slot->cap = 0;
    }
    slot->len = 0;
    r->head = (r->head + 1) % r->size;
    r->count--;
}

uint32_t ring_truncate(struct ring *r, uint32_t n)
{
    uint32_t dropped = 0;

    while (r->count > n) {
        struct ring_slot *slot = &r->slots[(r->head + r->count - 1) % r->size];
        if (slot->cap > RING_KEEP_MAX) {
            free(slot->buf);
            slot->buf = NULL;
            slot->cap = 0;
        }
        slot->len = 0;
        r->count--;
        dropped++;
    }
    return dropped;
}

void ring_free(struct ring *r)
{
    uint32_t i;

    for (i = 0; i < r->size; i++)
        free(r->slots[i].buf);
    free(r->slots);
    memset(r, 0, sizeof(*r));
}
