/* timerq.c: two-level timer queue (see timerq.h): a 4-ary min-heap of
 * inline (at_ns, seq, slot) entries for the near term, fed bucket by bucket
 * from a ring of unsorted buckets and a far list. Cancel is lazy. */
#include "timerq.h"

#include <stdlib.h>

#define TQ_NONE UINT32_MAX
#ifndef TQ_SHIFT
#define TQ_SHIFT 20 /* bucket width 2^20 ns, about 1 ms: a small heap */
#endif
#ifndef TQ_RING
#define TQ_RING 4096u /* ring spans about 4.3 s; later timers wait in far */
#endif
#define TQ_MASK	       (TQ_RING - 1)
#define TQ_D	       4 /* heap arity */
#define TQ_COMPACT_MIN 4096u
#define TQ_SPARE_AHEAD 64u	  /* buckets this close to base may take a spare buffer */
#define TQ_CAP_MAX     (1u << 30) /* keeps entry counts far from UINT32_MAX */

_Static_assert((TQ_RING & TQ_MASK) == 0, "ring size is a power of two");

static void tq_free_chain(struct sy_tq *q, uint32_t from, uint32_t to)
{
	for (uint32_t i = from; i < to; i++) {
		q->slots[i].seq = 0;
		q->slots[i].gen = 1;
		q->slots[i].next_free = i + 1 < to ? i + 1 : TQ_NONE;
	}
	q->free_head = from;
}

enum sy_rc sy_tq_init(struct sy_tq *q, uint32_t cap_initial, uint32_t cap_max)
{
	memset(q, 0, sizeof(*q));
	if (cap_initial == 0)
		cap_initial = 1024;
	cap_initial = SY_MIN(cap_initial, TQ_CAP_MAX);
	cap_max = SY_MIN(SY_MAX(cap_max, cap_initial), TQ_CAP_MAX);
	q->slots = malloc(sizeof(*q->slots) * cap_initial);
	q->ring = calloc(TQ_RING, sizeof(*q->ring));
	if (q->slots == NULL || q->ring == NULL) {
		free(q->slots);
		free(q->ring);
		return SY_ERR_NOMEM;
	}
	q->cap = cap_initial;
	q->cap_max = cap_max;
	tq_free_chain(q, 0, cap_initial);
	q->heap[0] = TQ_NONE;
	return SY_OK;
}

void sy_tq_free(struct sy_tq *q)
{
	if (q->ring != NULL)
		for (uint32_t i = 0; i < TQ_RING; i++)
			free(q->ring[i].v);
	free(q->ring);
	for (uint32_t i = 0; i < q->nspare; i++)
		free(q->spare[i].v);
	free(q->near.v);
	free(q->far.v);
	free(q->slots);
	memset(q, 0, sizeof(*q));
}

static bool tq_grow(struct sy_tq *q)
{
	if (q->cap >= q->cap_max)
		return false;
	uint32_t ncap = q->cap > q->cap_max / 2 ? q->cap_max : q->cap * 2;
	struct sy_tq_slot *s = realloc(q->slots, sizeof(*s) * ncap);
	if (s == NULL)
		return false;
	q->slots = s;
	tq_free_chain(q, q->cap, ncap);
	q->cap = ncap;
	return true;
}

static bool tq_vec_reserve(struct sy_tq_vec *v, uint32_t need)
{
	if (need <= v->cap)
		return true;
	uint64_t ncap = v->cap ? v->cap : 16;
	while (ncap < need)
		ncap *= 2;
	struct sy_tq_ent *p = realloc(v->v, sizeof(*p) * ncap);
	if (p == NULL)
		return false;
	v->v = p;
	v->cap = (uint32_t)ncap;
	return true;
}

static inline bool tq_vec_push(struct sy_tq_vec *v, const struct sy_tq_ent *e)
{
	if (v->n == v->cap && !tq_vec_reserve(v, v->n + 1))
		return false;
	v->v[v->n++] = *e;
	return true;
}

static inline bool tq_live(const struct sy_tq *q, const struct sy_tq_ent *e)
{
	return q->intrusive ? e->node->seq == e->seq : q->slots[e->slot].seq == e->seq;
}

/* Drops cancelled entries in place; order inside v is not kept. */
static void tq_vec_filter(const struct sy_tq *q, struct sy_tq_vec *v)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < v->n; i++)
		if (tq_live(q, &v->v[i]))
			v->v[n++] = v->v[i];
	v->n = n;
}

/* ---- the near heap: 4-ary, keys inline, unique (seq never repeats) ---- */

static inline bool tq_less(const struct sy_tq_ent *a, const struct sy_tq_ent *b)
{
	return a->at_ns < b->at_ns || (a->at_ns == b->at_ns && a->seq < b->seq);
}

static void tq_sift_up(struct sy_tq_ent *h, uint32_t pos, struct sy_tq_ent e)
{
	while (pos > 0) {
		uint32_t parent = (pos - 1) / TQ_D;
		if (!tq_less(&e, &h[parent]))
			break;
		h[pos] = h[parent];
		pos = parent;
	}
	h[pos] = e;
}

static void tq_sift_down(struct sy_tq_ent *h, uint32_t n, uint32_t pos, struct sy_tq_ent e)
{
	for (;;) {
		uint32_t c = TQ_D * pos + 1, best = c;
		if (c >= n)
			break;
		uint32_t end = SY_MIN(c + TQ_D, n);
		for (uint32_t k = c + 1; k < end; k++)
			if (tq_less(&h[k], &h[best]))
				best = k;
		if (!tq_less(&h[best], &e))
			break;
		h[pos] = h[best];
		pos = best;
	}
	h[pos] = e;
}

static void tq_heapify(struct sy_tq_vec *h)
{
	if (h->n < 2)
		return;
	for (uint32_t i = (h->n - 2) / TQ_D + 1; i-- > 0;)
		tq_sift_down(h->v, h->n, i, h->v[i]);
}

static void tq_heap_pop(struct sy_tq_vec *h)
{
	SY_ASSERT(h->n > 0);
	h->n--;
	if (h->n > 0)
		tq_sift_down(h->v, h->n, 0, h->v[h->n]);
}

/* ---- moving entries toward the heap ---- */

/* The ring is empty: restart it at the earliest live far entry. Buckets are
 * sized first so a failed allocation leaves everything in place; then the
 * whole far list becomes the heap instead (correct, only slower). */
static void tq_refill(struct sy_tq *q)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	tq_vec_filter(q, &q->far);
	for (uint32_t i = 0; i < q->far.n; i++) {
		uint64_t b = q->far.v[i].at_ns >> TQ_SHIFT;
		lo = SY_MIN(lo, b);
		hi = SY_MAX(hi, b);
	}
	SY_ASSERT(q->far.n > 0 && q->near.n == 0 && q->ring_n == 0);
	q->base = lo;
	q->limit = lo + TQ_RING;
	for (uint32_t i = 0; i < q->far.n; i++)
		if ((q->far.v[i].at_ns >> TQ_SHIFT) < q->limit)
			q->ring[(q->far.v[i].at_ns >> TQ_SHIFT) & TQ_MASK].n++;
	bool ok = true;
	for (uint32_t i = 0; i < TQ_RING; i++) {
		ok = tq_vec_reserve(&q->ring[i], q->ring[i].n) && ok;
		q->ring[i].n = 0;
	}
	if (!ok) {
		struct sy_tq_vec t = q->near;
		q->near = q->far;
		q->far = t;
		tq_heapify(&q->near);
		q->base = q->limit = hi + 1;
		return;
	}
	uint32_t m = 0;
	for (uint32_t i = 0; i < q->far.n; i++) {
		uint64_t b = q->far.v[i].at_ns >> TQ_SHIFT;
		if (b < q->limit) {
			struct sy_tq_vec *v = &q->ring[b & TQ_MASK];
			v->v[v->n++] = q->far.v[i];
			q->ring_n++;
		} else {
			q->far.v[m++] = q->far.v[i];
		}
	}
	q->far.n = m;
}

/* An empty buffer leaves the rotation: kept as a spare for a near-term
 * bucket, or freed. Parking it in the consumed bucket's slot instead would
 * keep every slot's peak capacity for good: memory growing with the run
 * (for a whole ring turn), not with what is pending. */
static void tq_spare_put(struct sy_tq *q, struct sy_tq_vec v)
{
	SY_ASSERT(v.n == 0);
	if (v.v == NULL)
		return;
	if (q->nspare < SY_ARRAY_LEN(q->spare))
		q->spare[q->nspare++] = v;
	else
		free(v.v);
}

/* The heap is empty and timers are pending: the next non-empty bucket
 * becomes the heap; the old heap buffer becomes a spare (see above). */
static void tq_advance(struct sy_tq *q)
{
	SY_ASSERT(q->near.n == 0);
	if (q->ring_n == 0) {
		tq_refill(q);
		if (q->near.n > 0)
			return;
	}
	while (q->ring[q->base & TQ_MASK].n == 0)
		q->base++;
	struct sy_tq_vec *b = &q->ring[q->base & TQ_MASK];
	tq_spare_put(q, q->near);
	q->near = *b;
	*b = (struct sy_tq_vec){0};
	q->ring_n -= q->near.n;
	q->base++;
	tq_vec_filter(q, &q->near);
	tq_heapify(&q->near);
}

/* Restores the invariant peek and pop rely on: the heap is empty only when
 * nothing is pending, and its top is pending. */
static void tq_settle(struct sy_tq *q)
{
	for (;;) {
		while (q->near.n > 0 && !tq_live(q, &q->near.v[0]))
			tq_heap_pop(&q->near);
		if (q->near.n > 0 || q->count == 0)
			return;
		tq_advance(q);
	}
}

/* Bounds the memory held by cancelled entries to about the pending ones. */
static void tq_compact(struct sy_tq *q)
{
	tq_vec_filter(q, &q->near);
	tq_heapify(&q->near);
	q->ring_n = 0;
	for (uint32_t i = 0; i < TQ_RING; i++) {
		tq_vec_filter(q, &q->ring[i]);
		if (q->ring[i].n == 0) {
			free(q->ring[i].v);
			q->ring[i] = (struct sy_tq_vec){0};
		}
		q->ring_n += q->ring[i].n;
	}
	tq_vec_filter(q, &q->far);
	tq_settle(q);
}

/* ---- API ---- */

/* Every mutator ends here; see heap[] in timerq.h. */
static inline void tq_note_top(struct sy_tq *q)
{
	if (!q->intrusive)
		q->heap[0] = q->near.n > 0 ? q->near.v[0].slot : TQ_NONE;
}

static void tq_release(struct sy_tq *q, uint32_t slot)
{
	struct sy_tq_slot *s = &q->slots[slot];
	s->seq = 0;
	s->gen++;
	if (s->gen == 0)
		s->gen = 1;
	s->next_free = q->free_head;
	q->free_head = slot;
	q->count--;
}

static bool tq_insert(struct sy_tq *q, const struct sy_tq_ent *e)
{
	uint64_t b = e->at_ns >> TQ_SHIFT;
	if (b < q->base) {
		if (q->near.n == q->near.cap && !tq_vec_reserve(&q->near, q->near.n + 1))
			return false;
		tq_sift_up(q->near.v, q->near.n++, *e);
		return true;
	}
	if (b < q->limit) {
		struct sy_tq_vec *v = &q->ring[b & TQ_MASK];
		if (v->cap == 0 && q->nspare > 0 && b - q->base < TQ_SPARE_AHEAD)
			*v = q->spare[--q->nspare];
		if (!tq_vec_push(v, e))
			return false;
		q->ring_n++;
		return true;
	}
	return tq_vec_push(&q->far, e);
}

/* After an add: compaction or settling, as sy_tq_add does. */
static inline void tq_after_add(struct sy_tq *q)
{
	uint64_t stored = (uint64_t)q->near.n + q->ring_n + q->far.n;
	if (stored - q->count > (uint64_t)q->count + TQ_COMPACT_MIN)
		tq_compact(q);
	else if (q->near.n == 0)
		tq_settle(q);
	tq_note_top(q);
}

sy_timer_id sy_tq_add(struct sy_tq *q, uint64_t at_ns, sy_timer_fn fn, void *arg)
{
	SY_ASSERT(!q->intrusive);
	if (q->free_head == TQ_NONE && !tq_grow(q))
		return 0;
	uint32_t slot = q->free_head;
	struct sy_tq_ent e = {.at_ns = at_ns, .seq = q->seq + 1, .slot = slot};
	if (!tq_insert(q, &e))
		return 0;
	struct sy_tq_slot *s = &q->slots[slot];
	q->free_head = s->next_free;
	q->seq = e.seq;
	s->seq = e.seq;
	s->fn = fn;
	s->arg = arg;
	q->count++;
	tq_after_add(q);
	return ((uint64_t)s->gen << 32) | (uint64_t)(slot + 1);
}

bool sy_tq_cancel(struct sy_tq *q, sy_timer_id id)
{
	if (q->intrusive)
		return false;
	uint32_t slot = (uint32_t)(id & 0xffffffffu);
	if (slot == 0 || slot > q->cap)
		return false;
	slot--;
	struct sy_tq_slot *s = &q->slots[slot];
	if (s->gen != (uint32_t)(id >> 32) || s->seq == 0)
		return false;
	bool top = q->near.n > 0 && q->near.v[0].slot == slot && q->near.v[0].seq == s->seq;
	tq_release(q, slot);
	if (top) {
		tq_settle(q);
		tq_note_top(q);
	}
	return true;
}

bool sy_tq_peek(const struct sy_tq *q, uint64_t *at_ns)
{
	if (q->count == 0)
		return false;
	*at_ns = q->near.v[0].at_ns;
	return true;
}

bool sy_tq_peek_seq(const struct sy_tq *q, uint64_t *seq)
{
	if (q->count == 0)
		return false;
	*seq = q->near.v[0].seq;
	return true;
}

bool sy_tq_pop(struct sy_tq *q, uint64_t now_ns, uint64_t *at_ns, sy_timer_fn *fn, void **arg)
{
	SY_ASSERT(!q->intrusive);
	if (q->count == 0)
		return false;
	const struct sy_tq_ent *top = &q->near.v[0];
	if (top->at_ns > now_ns)
		return false;
	uint32_t slot = top->slot;
	*at_ns = top->at_ns;
	*fn = q->slots[slot].fn;
	*arg = q->slots[slot].arg;
	tq_heap_pop(&q->near);
	tq_release(q, slot);
	tq_settle(q);
	tq_note_top(q);
	return true;
}

/* ---- intrusive mode ---- */

enum sy_rc sy_tq_init_intrusive(struct sy_tq *q, uint32_t cap_max)
{
	memset(q, 0, sizeof(*q));
	q->ring = calloc(TQ_RING, sizeof(*q->ring));
	if (q->ring == NULL)
		return SY_ERR_NOMEM;
	q->intrusive = true;
	q->cap_max = SY_MIN(SY_MAX(cap_max, 1u), TQ_CAP_MAX);
	q->free_head = TQ_NONE;
	q->heap[0] = TQ_NONE;
	return SY_OK;
}

bool sy_tq_node_add(struct sy_tq *q, struct sy_tq_node *node, uint64_t at_ns)
{
	SY_ASSERT(q->intrusive && node->seq == 0);
	if (q->count >= q->cap_max)
		return false;
	struct sy_tq_ent e = {.at_ns = at_ns, .seq = q->seq + 1, .node = node};
	if (!tq_insert(q, &e))
		return false;
	q->seq = e.seq;
	node->seq = e.seq;
	q->count++;
	tq_after_add(q);
	return true;
}

bool sy_tq_node_cancel(struct sy_tq *q, struct sy_tq_node *node)
{
	SY_ASSERT(q->intrusive);
	if (node->seq == 0)
		return false;
	bool top = q->near.n > 0 && q->near.v[0].node == node && q->near.v[0].seq == node->seq;
	node->seq = 0;
	q->count--;
	if (top)
		tq_settle(q);
	return true;
}

struct sy_tq_node *sy_tq_node_pop(struct sy_tq *q, uint64_t now_ns, uint64_t *at_ns)
{
	SY_ASSERT(q->intrusive);
	if (q->count == 0)
		return NULL;
	const struct sy_tq_ent *top = &q->near.v[0];
	if (top->at_ns > now_ns)
		return NULL;
	struct sy_tq_node *node = top->node;
	*at_ns = top->at_ns;
	tq_heap_pop(&q->near);
	node->seq = 0;
	q->count--;
	tq_settle(q);
	return node;
}
