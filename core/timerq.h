/* timerq.h: a timer queue ordered by (deadline, sequence number), with O(1)
 * cancel and O(log n) pop. It is the simulator's event queue and the live
 * backend's timer store: ties break by the per-queue sequence counter, never
 * by address, so the order is the same on every run. */
#ifndef SY_TIMERQ_H
#define SY_TIMERQ_H

#include "env.h"

/* One per timer id. seq is 0 while the slot is free; a queued entry is
 * pending only while its slot still carries the entry's seq, so cancel just
 * frees the slot and the entry is dropped wherever it is met later. */
struct sy_tq_slot {
	uint64_t seq;
	sy_timer_fn fn;
	void *arg;
	uint32_t gen;	    /* bumped on every reuse, so stale ids are harmless */
	uint32_t next_free; /* free-list link */
};

/* The intrusive mode's per-timer record, embedded in the caller's own
 * record (sy_tq_init_intrusive): seq is 0 unless pending, exactly like a
 * slot's, so there is no slot array and no id, and popping hands back the
 * caller's record itself (which says what to run): one memory access per
 * event instead of two. */
struct sy_tq_node {
	uint64_t seq;
};

/* Entries carry their own key so ordering never touches slots[]. */
struct sy_tq_ent {
	uint64_t at_ns;
	uint64_t seq;
	union {
		uint32_t slot;		 /* slot mode */
		struct sy_tq_node *node; /* intrusive mode */
	};
};

struct sy_tq_vec {
	struct sy_tq_ent *v;
	uint32_t n, cap;
};

/* Two levels: a small exact min-heap holds every entry whose bucket
 * (at_ns >> shift) is below base; a ring of buckets holds [base, limit);
 * far holds the rest. A bucket moves into the heap only when the heap is
 * empty, so the heap top is always the global (at_ns, seq) minimum. */
struct sy_tq {
	struct sy_tq_slot *slots;
	struct sy_tq_vec near;
	struct sy_tq_vec *ring;
	struct sy_tq_vec far;
	uint64_t base, limit; /* bucket numbers */
	uint64_t seq;
	uint32_t ring_n; /* entries (live or dead) in ring buckets */
	uint32_t count;	 /* pending entries */
	uint32_t cap;	 /* slots allocated */
	uint32_t cap_max;
	uint32_t free_head;
	/* Emptied bucket buffers kept for the next near-term buckets, so a
	 * consumed bucket never parks its capacity a whole ring turn ahead. */
	struct sy_tq_vec spare[4];
	uint32_t nspare;
	bool intrusive; /* nodes instead of slots: sy_tq_node_* below */
	/* heap[0]: slot of the earliest pending entry, valid while count > 0.
	 * Kept because core/live/live.c reads slots[heap[0]].seq directly;
	 * new code should call sy_tq_peek_seq(). */
	uint32_t heap[1];
};

/* cap_max bounds the pending timers (clamped to 2^30); entries held,
 * cancelled ones included, stay under 2 * cap_max + 4096. Starting more
 * timers than cap_max fails with id 0. */
enum sy_rc sy_tq_init(struct sy_tq *q, uint32_t cap_initial, uint32_t cap_max);
void sy_tq_free(struct sy_tq *q);
/* Returns 0 when the queue is at cap_max (or out of memory). */
sy_timer_id sy_tq_add(struct sy_tq *q, uint64_t at_ns, sy_timer_fn fn, void *arg);
/* Returns true if the timer was pending and is now cancelled. */
bool sy_tq_cancel(struct sy_tq *q, sy_timer_id id);
/* Earliest pending deadline; false when empty. */
bool sy_tq_peek(const struct sy_tq *q, uint64_t *at_ns);
/* Sequence number of the earliest pending entry; false when empty. */
bool sy_tq_peek_seq(const struct sy_tq *q, uint64_t *seq);
/* Removes the earliest entry if its deadline is <= now_ns. */
bool sy_tq_pop(struct sy_tq *q, uint64_t now_ns, uint64_t *at_ns, sy_timer_fn *fn, void **arg);
static inline uint32_t sy_tq_count(const struct sy_tq *q)
{
	return q->count;
}
/* Intrusive mode: the caller owns the nodes, which must stay valid (they may
 * be reused) while the queue lives. cap_max bounds the pending ones. A node
 * is pending while node->seq != 0; sy_tq_count, sy_tq_peek and
 * sy_tq_peek_seq work in both modes; sy_tq_add, sy_tq_cancel, sy_tq_pop and
 * heap[0] only in slot mode. */
enum sy_rc sy_tq_init_intrusive(struct sy_tq *q, uint32_t cap_max);
/* Queues node (which must not be pending) at at_ns; false when full. */
bool sy_tq_node_add(struct sy_tq *q, struct sy_tq_node *node, uint64_t at_ns);
/* True if node was pending and is now cancelled. */
bool sy_tq_node_cancel(struct sy_tq *q, struct sy_tq_node *node);
/* Removes and returns the earliest node if its deadline is <= now_ns. */
struct sy_tq_node *sy_tq_node_pop(struct sy_tq *q, uint64_t now_ns, uint64_t *at_ns);
/* The earliest pending node (NULL when empty), e.g. to prefetch it. */
static inline struct sy_tq_node *sy_tq_node_peek(const struct sy_tq *q)
{
	return q->count > 0 ? q->near.v[0].node : NULL;
}

#endif
