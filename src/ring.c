/*
 * ring.c — see ring.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"

/* Doubles the slot array, keeping queued frames in order from index 0 and
 * the spare buffers of free slots after them. */
static int ring_grow(struct ring *r)
{
    uint32_t want = r->size ? r->size * 2 : 8, i;
    struct ring_slot *s;

    if (want < r->size) {
        errno = ENOMEM;
        return -1;
    }
    s = calloc(want, sizeof(*s));
    if (!s) {
        errno = ENOMEM;
        return -1;
    }
    for (i = 0; i < r->size; i++)
        s[i] = r->slots[(r->head + i) & (r->size - 1)];
    free(r->slots);
    r->slots = s;
    r->tail -= r->head;
    r->head = 0;
    r->size = want;
    return 0;
}

struct ring_slot *ring_reserve_slow(struct ring *r, size_t len)
{
    struct ring_slot *slot;

    if (ring_count(r) == r->size && ring_grow(r) < 0)
        return NULL;
    slot = &r->slots[r->tail & (r->size - 1)];
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

void ring_slot_shrink(struct ring_slot *slot)
{
    free(slot->buf);
    slot->buf = NULL;
    slot->cap = 0;
}

uint32_t ring_truncate(struct ring *r, uint32_t n)
{
    uint32_t dropped = 0;

    while (ring_count(r) > n) {
        struct ring_slot *slot = &r->slots[(r->tail - 1) & (r->size - 1)];
        if (slot->cap > RING_KEEP_MAX)
            ring_slot_shrink(slot);
        slot->len = 0;
        r->tail--;
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
