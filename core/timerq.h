/* timerq.h: a timer queue ordered by (deadline, sequence number), with O(log n)
 * start and cancel. It is the simulator's event queue and the live backend's
 * timer store: ties break by the per-queue sequence counter, never by
 * address, so the order is the same on every run. */
#ifndef SY_TIMERQ_H
#define SY_TIMERQ_H

#include "env.h"

struct sy_tq_slot {
	uint64_t at_ns;
	uint64_t seq;
	sy_timer_fn fn;
	void *arg;
	uint32_t heap_idx; /* position in heap[], or UINT32_MAX when free */
	uint32_t gen;	   /* bumped on every reuse, so stale ids are harmless */
};

struct sy_tq {
	struct sy_tq_slot *slots;
	uint32_t *heap; /* slot indexes, a binary min-heap */
	uint32_t count; /* entries in heap */
	uint32_t cap;	/* slots allocated */
	uint32_t cap_max;
	uint32_t free_head; /* free list threaded through seq of free slots */
	uint64_t seq;
};

/* cap_max bounds memory: starting more timers than that fails with id 0. */
enum sy_rc sy_tq_init(struct sy_tq *q, uint32_t cap_initial, uint32_t cap_max);
void sy_tq_free(struct sy_tq *q);
/* Returns 0 when the queue is at cap_max. */
sy_timer_id sy_tq_add(struct sy_tq *q, uint64_t at_ns, sy_timer_fn fn, void *arg);
/* Returns true if the timer was pending and is now cancelled. */
bool sy_tq_cancel(struct sy_tq *q, sy_timer_id id);
/* Earliest deadline; false when empty. */
bool sy_tq_peek(const struct sy_tq *q, uint64_t *at_ns);
/* Removes the earliest entry if its deadline is <= now_ns. */
bool sy_tq_pop(struct sy_tq *q, uint64_t now_ns, uint64_t *at_ns, sy_timer_fn *fn, void **arg);
static inline uint32_t sy_tq_count(const struct sy_tq *q)
{
	return q->count;
}

#endif
