/* tick_wheel.c: see tick_wheel.h. A hashed wheel of TICKW_SLOTS vectors,
 * one per tick of the next TICKW_SLOTS; later ones wait in far (with their
 * tick) until they come in range. */
#include "tick_wheel.h"

#include <stdlib.h>
#include <string.h>

#define MASK (TICKW_SLOTS - 1)

void tickw_init(struct tickw *w, const struct sy_env *env, uint64_t tick_ns, void (*fire)(void *, uint32_t),
		void (*prefetch)(void *, uint32_t), void *arg)
{
	SY_ASSERT(tick_ns > 0 && fire != NULL);
	*w = (struct tickw){.env = env, .tick_ns = tick_ns, .fire = fire, .prefetch = prefetch, .arg = arg};
}

void tickw_free(struct tickw *w)
{
	sy_env_timer_cancel(w->env, w->t);
	for (uint32_t i = 0; w->slot != NULL && i < TICKW_SLOTS; i++)
		free(w->slot[i].v);
	free(w->slot);
	free(w->far.v);
	free(w->spare.v);
	w->slot = NULL;
	w->far = (struct tickw_far){0};
	w->spare = (struct tickw_vec){0};
	w->n = 0;
	w->t = 0;
}

uint64_t tickw_waiting(const struct tickw *w)
{
	return w->n;
}

static bool vec_push(struct tickw_vec *s, uint32_t idx)
{
	if (s->n == s->cap) {
		uint32_t nc = s->cap ? 2 * s->cap : 16;
		uint32_t *v = realloc(s->v, nc * sizeof(*v));
		if (v == NULL)
			return false;
		s->v = v;
		s->cap = nc;
	}
	s->v[s->n++] = idx;
	return true;
}

static bool far_push(struct tickw_far *f, uint32_t idx, uint64_t due)
{
	if (f->n == f->cap) {
		uint32_t nc = f->cap ? 2 * f->cap : 16;
		struct tickw_far_ent *v = realloc(f->v, nc * sizeof(*v));
		if (v == NULL)
			return false;
		f->v = v;
		f->cap = nc;
	}
	f->v[f->n++] = (struct tickw_far_ent){idx, due};
	return true;
}

static void on_tick(void *arg);

/* Sets the timer for tick if nothing earlier is set. */
static void arm(struct tickw *w, uint64_t tick)
{
	if (w->t != 0 && w->armed <= tick)
		return;
	sy_env_timer_cancel(w->env, w->t);
	uint64_t now = sy_env_now_ns(w->env), at = tick * w->tick_ns;
	w->armed = tick;
	w->t = sy_env_timer_start(w->env, at > now ? at - now : 0, on_tick, w);
}

bool tickw_add(struct tickw *w, uint32_t idx, uint64_t delay_ns)
{
	if (w->slot == NULL && (w->slot = calloc(TICKW_SLOTS, sizeof(*w->slot))) == NULL)
		return false;
	uint64_t now = sy_env_now_ns(w->env);
	if (w->n == 0) /* idle: skip the empty ticks */
		w->tick = SY_MAX(w->tick, now / w->tick_ns);
	uint64_t tick = SY_MAX((now + delay_ns + w->tick_ns - 1) / w->tick_ns, w->tick);
	if (tick - w->tick < TICKW_SLOTS) {
		if (!vec_push(&w->slot[tick & MASK], idx))
			return false;
	} else {
		if (!far_push(&w->far, idx, tick))
			return false;
		w->far_min = w->far.n == 1 ? tick : SY_MIN(w->far_min, tick);
	}
	w->n++;
	arm(w, tick);
	return true;
}

static void far_min_set(struct tickw *w)
{
	w->far_min = UINT64_MAX;
	for (uint32_t i = 0; i < w->far.n; i++)
		w->far_min = SY_MIN(w->far_min, w->far.v[i].due);
}

/* Before the tick w->tick is handed out: far indexes that came within range
 * move to their slot (those due by now to this tick's). Out of memory, they
 * stay, and those due are handed out from here. */
static void far_in(struct tickw *w)
{
	struct tickw_far *f = &w->far;
	if (f->n == 0 || w->far_min >= w->tick + TICKW_SLOTS)
		return;
	uint32_t keep = 0;
	for (uint32_t i = 0; i < f->n; i++) {
		struct tickw_far_ent x = f->v[i];
		uint64_t t = SY_MAX(x.due, w->tick);
		if (t < w->tick + TICKW_SLOTS && vec_push(&w->slot[t & MASK], x.idx))
			continue;
		f->v[keep++] = x;
	}
	f->n = keep;
	far_min_set(w);
	while (f->n > 0 && w->far_min <= w->tick) {
		uint32_t i = 0;
		while (f->v[i].due > w->tick)
			i++;
		uint32_t idx = f->v[i].idx;
		memmove(&f->v[i], &f->v[i + 1], (f->n - i - 1) * sizeof(f->v[0]));
		f->n--;
		far_min_set(w);
		w->n--;
		w->fire(w->arg, idx);
	}
}

/* The earliest tick with an index (w->n > 0). */
static uint64_t next_tick(const struct tickw *w)
{
	uint64_t far = w->far.n > 0 ? w->far_min : UINT64_MAX;
	for (uint64_t t = w->tick; t < w->tick + TICKW_SLOTS && t < far; t++)
		if (w->slot[t & MASK].n > 0)
			return t;
	SY_ASSERT(far != UINT64_MAX);
	return far;
}

/* Hands out the indexes of every tick up to now, tick by tick, each tick's
 * in the order they were added; then sets the timer for the next tick with one. */
static void on_tick(void *arg)
{
	struct tickw *w = arg;
	w->t = 0;
	uint64_t now_tick = sy_env_now_ns(w->env) / w->tick_ns;
	while (w->n > 0 && w->tick <= now_tick) {
		far_in(w);
		struct tickw_vec *s = &w->slot[w->tick++ & MASK];
		if (s->n == 0)
			continue;
		/* The slot takes the spare vector: an index added while these
		 * are handed out (TICKW_SLOTS ticks on) lands there. */
		struct tickw_vec run = *s;
		*s = w->spare;
		w->spare = (struct tickw_vec){0};
		w->n -= run.n;
		for (uint32_t i = 0; i < run.n; i++) {
			if (w->prefetch != NULL && i + 4 < run.n)
				w->prefetch(w->arg, run.v[i + 4]);
			w->fire(w->arg, run.v[i]);
		}
		run.n = 0;
		w->spare = run;
	}
	if (w->n > 0)
		arm(w, next_tick(w));
}
