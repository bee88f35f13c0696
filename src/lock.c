/*
 * lock.c — the system lock's slow half: the mutex, and taking the bias
 * away from the thread that made the system.  The fast half and the
 * reasoning are in memory.h, above mem__lock.
 */
#include <linux/membarrier.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "memory.h"

static int membarrier(int cmd)
{
    return (int)syscall(SYS_membarrier, cmd, 0, 0);
}

/*
 * Whether this process may use MEMBARRIER_CMD_PRIVATE_EXPEDITED, asked of
 * the kernel once per process: registering costs a system call, which a
 * fresh system must not pay each time.  This is a fact about the process
 * (the kernel keeps the registration until exec, which also resets this
 * variable), not memio state; two threads racing here both register, which
 * is harmless.  Where membarrier is missing or forbidden (an old kernel, a
 * seccomp filter), systems never take the bias and always use the mutex.
 */
static int barrier_state; /* 0 not asked yet, 1 usable, -1 not */

bool mem__bias_possible(void)
{
    int s = __atomic_load_n(&barrier_state, __ATOMIC_RELAXED);

    if (!s) {
        s = membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0 ? 1 : -1;
        __atomic_store_n(&barrier_state, s, __ATOMIC_RELAXED);
    }
    return s > 0;
}

/* A full memory barrier on every running thread of the process: the
 * heavy side of the asymmetric fence whose light side, in mem__lock, is a
 * compiler barrier. */
static void heavy_fence(void)
{
    if (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0)
        return;
    /* The registration was lost (it cannot be, short of exec): register
     * again, or fall back to the slow global barrier, which needs none. */
    if (membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0 &&
        membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0)
        return;
    if (membarrier(MEMBARRIER_CMD_GLOBAL) == 0)
        return;
    /* The kernel took back what it granted; going on could let two threads
     * into the system at once. */
    fputs("memio: membarrier failed after it had worked; cannot hand the "
          "system lock over safely\n",
          stderr);
    abort();
}

void mem__lock_slow(struct mem_sys *ms)
{
    pthread_mutex_lock(&ms->lock);
    if (!ms->bias_gone) {
        /* Take the bias away for good.  After the heavy fence the owner
         * either shows busy (and we wait for it to leave), or its next
         * look at bias_on sees false and it comes to the mutex.  The owner
         * itself, giving the bias up, is not busy and needs neither. */
        atomic_store_explicit(&ms->bias_on, false, memory_order_relaxed);
        if (ms->bias_thread != mem__self()) {
            heavy_fence();
            while (atomic_load_explicit(&ms->bias_busy, memory_order_acquire))
                sched_yield();
        }
        ms->bias_gone = true;
    }
    ms->mutex_held = true;
}

void mem__hold_mutex(struct mem_sys *ms)
{
    if (ms->mutex_held)
        return;
    /* Held by bias: give it up for good, then queue for the mutex like
     * anyone else.  Another thread may get in between. */
    atomic_store_explicit(&ms->bias_on, false, memory_order_relaxed);
    atomic_store_explicit(&ms->bias_busy, false, memory_order_release);
    mem__lock_slow(ms);
}
