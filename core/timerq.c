/* timerq.c: indexed binary min-heap keyed by (at_ns, seq); see timerq.h. */
#include "timerq.h"

#include <stdlib.h>

#define TQ_NONE UINT32_MAX

enum sy_rc sy_tq_init(struct sy_tq *q, uint32_t cap_initial, uint32_t cap_max)
{
	memset(q, 0, sizeof(*q));
	if (cap_initial == 0)
		cap_initial = 1024;
	if (cap_max < cap_initial)
		cap_max = cap_initial;
	q->slots = malloc(sizeof(*q->slots) * cap_initial);
	q->heap = malloc(sizeof(*q->heap) * cap_initial);
	if (q->slots == NULL || q->heap == NULL) {
		free(q->slots);
		free(q->heap);
		return SY_ERR_NOMEM;
	}
	q->cap = cap_initial;
	q->cap_max = cap_max;
	for (uint32_t i = 0; i < cap_initial; i++) {
		q->slots[i].heap_idx = TQ_NONE;
		q->slots[i].gen = 1;
		q->slots[i].seq = i + 1 < cap_initial ? i + 1 : TQ_NONE; /* free-list link */
	}
	q->free_head = 0;
	return SY_OK;
}

void sy_tq_free(struct sy_tq *q)
{
	free(q->slots);
	free(q->heap);
	memset(q, 0, sizeof(*q));
}

static bool tq_grow(struct sy_tq *q)
{
	if (q->cap >= q->cap_max)
		return false;
	uint32_t ncap = q->cap * 2 > q->cap_max ? q->cap_max : q->cap * 2;
	struct sy_tq_slot *s = realloc(q->slots, sizeof(*s) * ncap);
	if (s == NULL)
		return false;
	q->slots = s;
	uint32_t *h = realloc(q->heap, sizeof(*h) * ncap);
	if (h == NULL)
		return false;
	q->heap = h;
	for (uint32_t i = q->cap; i < ncap; i++) {
		s[i].heap_idx = TQ_NONE;
		s[i].gen = 1;
		s[i].seq = i + 1 < ncap ? i + 1 : TQ_NONE;
	}
	q->free_head = q->cap;
	q->cap = ncap;
	return true;
}

static inline bool tq_less(const struct sy_tq *q, uint32_t a, uint32_t b)
{
	const struct sy_tq_slot *x = &q->slots[a], *y = &q->slots[b];
	return x->at_ns < y->at_ns || (x->at_ns == y->at_ns && x->seq < y->seq);
}

static inline void tq_place(struct sy_tq *q, uint32_t pos, uint32_t slot)
{
	q->heap[pos] = slot;
	q->slots[slot].heap_idx = pos;
}

static void tq_up(struct sy_tq *q, uint32_t pos)
{
	uint32_t slot = q->heap[pos];
	while (pos > 0) {
		uint32_t parent = (pos - 1) / 2;
		if (!tq_less(q, slot, q->heap[parent]))
			break;
		tq_place(q, pos, q->heap[parent]);
		pos = parent;
	}
	tq_place(q, pos, slot);
}

static void tq_down(struct sy_tq *q, uint32_t pos)
{
	uint32_t slot = q->heap[pos];
	for (;;) {
		uint32_t l = 2 * pos + 1, best = pos, bslot = slot;
		if (l >= q->count)
			break;
		if (tq_less(q, q->heap[l], bslot)) {
			best = l;
			bslot = q->heap[l];
		}
		if (l + 1 < q->count && tq_less(q, q->heap[l + 1], bslot)) {
			best = l + 1;
			bslot = q->heap[l + 1];
		}
		if (best == pos)
			break;
		tq_place(q, pos, bslot);
		pos = best;
	}
	tq_place(q, pos, slot);
}

static void tq_release(struct sy_tq *q, uint32_t slot)
{
	struct sy_tq_slot *s = &q->slots[slot];
	s->heap_idx = TQ_NONE;
	s->gen++;
	if (s->gen == 0)
		s->gen = 1;
	s->seq = q->free_head;
	q->free_head = slot;
}

static void tq_remove_at(struct sy_tq *q, uint32_t pos)
{
	SY_ASSERT(pos < q->count);
	uint32_t slot = q->heap[pos];
	q->count--;
	if (pos != q->count) {
		tq_place(q, pos, q->heap[q->count]);
		if (pos > 0 && tq_less(q, q->heap[pos], q->heap[(pos - 1) / 2]))
			tq_up(q, pos);
		else
			tq_down(q, pos);
	}
	tq_release(q, slot);
}

sy_timer_id sy_tq_add(struct sy_tq *q, uint64_t at_ns, sy_timer_fn fn, void *arg)
{
	if (q->free_head == TQ_NONE && !tq_grow(q))
		return 0;
	uint32_t slot = q->free_head;
	struct sy_tq_slot *s = &q->slots[slot];
	q->free_head = (uint32_t)s->seq;
	s->at_ns = at_ns;
	s->seq = ++q->seq;
	s->fn = fn;
	s->arg = arg;
	tq_place(q, q->count++, slot);
	tq_up(q, q->count - 1);
	return ((uint64_t)s->gen << 32) | (uint64_t)(slot + 1);
}

bool sy_tq_cancel(struct sy_tq *q, sy_timer_id id)
{
	uint32_t slot = (uint32_t)(id & 0xffffffffu);
	if (slot == 0 || slot > q->cap)
		return false;
	slot--;
	struct sy_tq_slot *s = &q->slots[slot];
	if (s->gen != (uint32_t)(id >> 32) || s->heap_idx == TQ_NONE)
		return false;
	tq_remove_at(q, s->heap_idx);
	return true;
}

bool sy_tq_peek(const struct sy_tq *q, uint64_t *at_ns)
{
	if (q->count == 0)
		return false;
	*at_ns = q->slots[q->heap[0]].at_ns;
	return true;
}

bool sy_tq_pop(struct sy_tq *q, uint64_t now_ns, uint64_t *at_ns, sy_timer_fn *fn, void **arg)
{
	if (q->count == 0)
		return false;
	struct sy_tq_slot *s = &q->slots[q->heap[0]];
	if (s->at_ns > now_ns)
		return false;
	*at_ns = s->at_ns;
	*fn = s->fn;
	*arg = s->arg;
	tq_remove_at(q, 0);
	return true;
}
