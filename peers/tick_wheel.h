/* tick_wheel.h: things (uint32_t indexes of the owner's records) that wait
 * a delay, rounded up to whole ticks, with one timer for all of them: the
 * simulated carrier's receipts (smsc_peer.c). A pass at a tick hands out
 * every index due by then, tick by tick, each tick's in the order they were
 * added; so many things due at one instant cost one timer event, not one
 * each, and go out as one burst. Not for other modules. */
#ifndef SY_PEERS_TICK_WHEEL_H
#define SY_PEERS_TICK_WHEEL_H

#include "core/env.h"

#define TICKW_SLOTS 8192u /* ticks with a slot of their own (a power of two) */

struct tickw_vec {
	uint32_t *v, n, cap;
};

struct tickw_far {
	struct tickw_far_ent {
		uint32_t idx;
		uint64_t due;
	} * v;
	uint32_t n, cap;
};

/* fire(arg, idx) for each index whose time came; it may add again.
 * prefetch(arg, idx) (may be NULL) is called a few indexes ahead. */
struct tickw {
	const struct sy_env *env;
	uint64_t tick_ns;
	void (*fire)(void *arg, uint32_t idx);
	void (*prefetch)(void *arg, uint32_t idx);
	void *arg;
	struct tickw_vec *slot; /* TICKW_SLOTS, allocated with the first add */
	struct tickw_far far;	/* due at or after tick + TICKW_SLOTS */
	uint64_t far_min;	/* the earliest tick in far */
	uint64_t tick;		/* the next tick to hand out: all before it are done */
	uint64_t n;		/* indexes waiting, far included */
	uint64_t armed;		/* the tick t is set for */
	sy_timer_id t;
	struct tickw_vec spare; /* an emptied slot vector, kept for the next */
};

void tickw_init(struct tickw *w, const struct sy_env *env, uint64_t tick_ns, void (*fire)(void *, uint32_t),
		void (*prefetch)(void *, uint32_t), void *arg);
/* idx waits delay_ns, rounded up to the end of a tick. false when out of
 * memory (nothing changed: the caller keeps a timer of its own for it). */
bool tickw_add(struct tickw *w, uint32_t idx, uint64_t delay_ns);
uint64_t tickw_waiting(const struct tickw *w);
/* Cancels the timer and frees the wheel; the indexes waiting are forgotten. */
void tickw_free(struct tickw *w);

#endif
