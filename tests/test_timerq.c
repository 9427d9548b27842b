/* test_timerq.c: the timer queue against a reference model (a sorted array
 * plus a model of the slot free list): pop order, ids, count, peek over
 * random operations; ties, stale ids, cap_max, compaction bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/rng.h"
#include "core/timerq.h"

#define MS  1000000ull
#define SEC 1000000000ull

static void fn_a(void *arg)
{
	(void)arg;
}
static void fn_b(void *arg)
{
	(void)arg;
}

static uint64_t stored(const struct sy_tq *q)
{
	return (uint64_t)q->near.n + q->ring_n + q->far.n;
}

/* Entries held (pending or cancelled) stay bounded by the slots; right after
 * an add, by twice the pending ones. */
static void check_bounds(const struct sy_tq *q, bool after_add)
{
	assert_true(stored(q) <= 2ull * q->cap + 4096);
	if (after_add)
		assert_true(stored(q) <= 2ull * q->count + 4096);
	if (q->count > 0) {
		uint64_t seq;
		assert_true(sy_tq_peek_seq(q, &seq));
		assert_int_equal(q->slots[q->heap[0]].seq, seq); /* what core/live reads */
	}
}

/* ---- table-driven cases ---- */

static void test_ties_pop_in_insertion_order(void **state)
{
	static const uint64_t at[] = {5, 5, 3, 5, 3, 0, 7, 3};
	static const int order[] = {5, 2, 4, 7, 0, 1, 3, 6}; /* by (at, insertion) */
	struct sy_tq q;
	assert_int_equal(sy_tq_init(&q, 2, 64), SY_OK);
	for (uintptr_t i = 0; i < 8; i++)
		assert_true(sy_tq_add(&q, at[i], fn_a, (void *)i) != 0);
	uint64_t got_at, peek;
	sy_timer_fn fn;
	void *arg;
	for (int i = 0; i < 8; i++) {
		assert_true(sy_tq_peek(&q, &peek));
		assert_true(sy_tq_pop(&q, 100, &got_at, &fn, &arg));
		assert_int_equal(got_at, at[order[i]]);
		assert_int_equal(peek, got_at);
		assert_int_equal((uintptr_t)arg, order[i]);
		assert_ptr_equal(fn, fn_a);
		assert_int_equal(sy_tq_count(&q), 7 - i);
	}
	assert_false(sy_tq_peek(&q, &peek));
	assert_false(sy_tq_pop(&q, UINT64_MAX, &got_at, &fn, &arg));
	sy_tq_free(&q);
}

static void test_pop_respects_now(void **state)
{
	struct sy_tq q;
	uint64_t at;
	sy_timer_fn fn;
	void *arg;
	assert_int_equal(sy_tq_init(&q, 0, 0), SY_OK);
	assert_false(sy_tq_pop(&q, UINT64_MAX, &at, &fn, &arg));
	assert_true(sy_tq_add(&q, 10 * SEC, fn_b, NULL) != 0);
	assert_false(sy_tq_pop(&q, 10 * SEC - 1, &at, &fn, &arg));
	assert_int_equal(sy_tq_count(&q), 1);
	assert_true(sy_tq_pop(&q, 10 * SEC, &at, &fn, &arg));
	assert_int_equal(at, 10 * SEC);
	assert_ptr_equal(fn, fn_b);
	sy_tq_free(&q);
}

static void test_stale_ids(void **state)
{
	struct sy_tq q;
	uint64_t at;
	sy_timer_fn fn;
	void *arg;
	assert_int_equal(sy_tq_init(&q, 4, 4), SY_OK);
	sy_timer_id a = sy_tq_add(&q, 100, fn_a, NULL);
	assert_int_equal(a, (1ull << 32) | 1); /* gen 1, slot 0 */
	assert_true(sy_tq_cancel(&q, a));
	assert_false(sy_tq_cancel(&q, a)); /* already cancelled */
	sy_timer_id b = sy_tq_add(&q, 50, fn_a, NULL);
	assert_int_equal(b, (2ull << 32) | 1); /* same slot reused, new generation */
	assert_false(sy_tq_cancel(&q, a));     /* stale id after reuse */
	assert_int_equal(sy_tq_count(&q), 1);
	assert_true(sy_tq_pop(&q, 60, &at, &fn, &arg));
	assert_false(sy_tq_cancel(&q, b)); /* already fired */
	static const sy_timer_id junk[] = {0, 1, 5, 0xffffffffull, (1ull << 32) | 5, (7ull << 32) | 2, UINT64_MAX};
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		assert_false(sy_tq_cancel(&q, junk[i]));
	assert_int_equal(sy_tq_count(&q), 0);
	sy_tq_free(&q);
}

static void test_cap_max(void **state)
{
	struct sy_tq q;
	uint64_t at;
	sy_timer_fn fn;
	void *arg;
	sy_timer_id ids[10];
	assert_int_equal(sy_tq_init(&q, 4, 10), SY_OK);
	for (int i = 0; i < 10; i++) {
		ids[i] = sy_tq_add(&q, (uint64_t)(10 - i) * SEC * 100, fn_a, NULL); /* some far */
		assert_int_equal((uint32_t)ids[i], i + 1);			    /* growth 4, 8, 10 */
	}
	assert_int_equal(sy_tq_add(&q, 1, fn_a, NULL), 0);
	assert_int_equal(sy_tq_count(&q), 10);
	assert_true(sy_tq_cancel(&q, ids[3]));
	sy_timer_id again = sy_tq_add(&q, 1, fn_a, NULL);
	assert_int_equal(again, (2ull << 32) | 4);
	assert_int_equal(sy_tq_add(&q, 1, fn_a, NULL), 0);
	assert_true(sy_tq_pop(&q, UINT64_MAX, &at, &fn, &arg));
	assert_int_equal(at, 1);
	assert_true(sy_tq_add(&q, 2, fn_a, NULL) != 0);
	assert_int_equal(sy_tq_count(&q), 10);
	for (int i = 0; i < 10; i++)
		assert_true(sy_tq_pop(&q, UINT64_MAX, &at, &fn, &arg));
	assert_int_equal(sy_tq_count(&q), 0);
	sy_tq_free(&q);
}

static void test_extreme_deadlines(void **state)
{
	static const uint64_t at[] = {UINT64_MAX, 0, UINT64_MAX - 1, 1ull << 63, 3600 * SEC, 0, UINT64_MAX};
	static const int order[] = {1, 5, 4, 3, 2, 0, 6};
	struct sy_tq q;
	uint64_t got;
	sy_timer_fn fn;
	void *arg;
	assert_int_equal(sy_tq_init(&q, 1, 100), SY_OK);
	for (uintptr_t i = 0; i < 7; i++)
		assert_true(sy_tq_add(&q, at[i], fn_a, (void *)i) != 0);
	for (int i = 0; i < 7; i++) {
		assert_true(sy_tq_peek(&q, &got));
		assert_int_equal(got, at[order[i]]);
		assert_true(sy_tq_pop(&q, UINT64_MAX, &got, &fn, &arg));
		assert_int_equal((uintptr_t)arg, order[i]);
	}
	sy_tq_free(&q);
}

/* Far timers started and cancelled while time stands still: memory stays
 * bounded and the near-term order is untouched. */
static void test_cancel_churn_compacts(void **state)
{
	struct sy_tq q;
	uint64_t at;
	sy_timer_fn fn;
	void *arg;
	assert_int_equal(sy_tq_init(&q, 16, 1 << 20), SY_OK);
	assert_true(sy_tq_add(&q, 5 * MS, fn_a, (void *)1) != 0);
	for (uint64_t i = 0; i < 200000; i++) {
		sy_timer_id id = sy_tq_add(&q, 32 * SEC + i % 977 * SEC, fn_a, NULL);
		assert_true(id != 0);
		check_bounds(&q, true);
		if (i % 3 != 0)
			assert_true(sy_tq_cancel(&q, id));
		check_bounds(&q, false);
	}
	assert_int_equal(sy_tq_count(&q), 1 + 200000 / 3 + 1);
	assert_true(sy_tq_pop(&q, 5 * MS, &at, &fn, &arg));
	assert_int_equal((uintptr_t)arg, 1);
	uint64_t last = 0;
	while (sy_tq_pop(&q, UINT64_MAX, &at, &fn, &arg)) {
		assert_true(at >= last);
		last = at;
	}
	assert_int_equal(sy_tq_count(&q), 0);
	sy_tq_free(&q);
}

/* ---- the differential test ---- */

enum { ST_PENDING = 1, ST_DONE };

struct issued {
	sy_timer_id id;
	uint64_t at, seq;
	uint8_t state;
};

struct model {
	struct sy_tq q;
	struct sy_rng rng;
	/* pending (at, seq, tag), sorted descending so the earliest is last */
	struct ref {
		uint64_t at, seq;
		uint32_t tag;
	} * pend;
	uint32_t n;
	struct issued *iss;
	uint32_t niss, iss_max;
	/* the slot allocator: LIFO free list, gens start at 1, grow doubles */
	uint32_t *next, *gen, cap, cap_max, free_head;
	uint64_t seq, now;
};

static bool ref_less(uint64_t at, uint64_t seq, const struct ref *r)
{
	return at < r->at || (at == r->at && seq < r->seq);
}

/* Position of (at, seq) in the descending array: first index whose entry is
 * smaller than the key. */
static uint32_t ref_find(const struct model *m, uint64_t at, uint64_t seq)
{
	uint32_t lo = 0, hi = m->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (ref_less(at, seq, &m->pend[mid]))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void model_chain(struct model *m, uint32_t from, uint32_t to)
{
	for (uint32_t i = from; i < to; i++) {
		m->next[i] = i + 1 < to ? i + 1 : UINT32_MAX;
		m->gen[i] = 1;
	}
	m->free_head = from;
}

static void model_init(struct model *m, uint64_t seed, uint32_t cap_initial, uint32_t cap_max, uint32_t ops)
{
	memset(m, 0, sizeof(*m));
	sy_rng_init(&m->rng, seed);
	assert_int_equal(sy_tq_init(&m->q, cap_initial, cap_max), SY_OK);
	m->pend = calloc(cap_max, sizeof(*m->pend));
	m->iss = calloc(ops, sizeof(*m->iss));
	m->next = calloc(cap_max, sizeof(*m->next));
	m->gen = calloc(cap_max, sizeof(*m->gen));
	assert_true(m->pend && m->iss && m->next && m->gen);
	m->iss_max = ops;
	m->cap = cap_initial;
	m->cap_max = cap_max;
	model_chain(m, 0, cap_initial);
}

static void model_free(struct model *m)
{
	sy_tq_free(&m->q);
	free(m->pend);
	free(m->iss);
	free(m->next);
	free(m->gen);
}

static void model_release(struct model *m, sy_timer_id id)
{
	uint32_t slot = (uint32_t)id - 1;
	m->gen[slot] = m->gen[slot] + 1 ? m->gen[slot] + 1 : 1;
	m->next[slot] = m->free_head;
	m->free_head = slot;
}

/* Deadlines: the past, now, ties with a pending entry, near, 32 s, minutes,
 * hours, and the far end of the clock. */
static uint64_t pick_at(struct model *m)
{
	uint64_t r = sy_rng_below(&m->rng, 100);
	if (r < 3)
		return m->now - sy_rng_below(&m->rng, SY_MIN(m->now, 5 * SEC) + 1);
	if (r < 8)
		return m->now;
	if (r < 20 && m->n > 0)
		return m->pend[sy_rng_below(&m->rng, m->n)].at;
	if (r < 50)
		return m->now + sy_rng_below(&m->rng, 50 * MS);
	if (r < 70)
		return m->now + sy_rng_below(&m->rng, 4 * SEC);
	if (r < 85)
		return m->now + 32 * SEC;
	if (r < 95)
		return m->now + sy_rng_range(&m->rng, 60 * SEC, 600 * SEC);
	if (r < 99)
		return m->now + sy_rng_range(&m->rng, 3600 * SEC, 48 * 3600 * SEC);
	return UINT64_MAX - sy_rng_below(&m->rng, 3);
}

static void op_add(struct model *m)
{
	uint64_t at = pick_at(m);
	sy_timer_fn fn = (m->niss & 1) ? fn_a : fn_b;
	sy_timer_id id = sy_tq_add(&m->q, at, fn, (void *)(uintptr_t)m->niss);
	if (m->free_head == UINT32_MAX) {
		if (m->cap == m->cap_max) {
			assert_int_equal(id, 0);
			return;
		}
		uint32_t ncap = m->cap > m->cap_max / 2 ? m->cap_max : m->cap * 2;
		model_chain(m, m->cap, ncap);
		m->cap = ncap;
	}
	uint32_t slot = m->free_head;
	m->free_head = m->next[slot];
	assert_int_equal(id, (uint64_t)m->gen[slot] << 32 | (slot + 1));
	assert_true(m->niss < m->iss_max);
	struct issued *is = &m->iss[m->niss];
	*is = (struct issued){.id = id, .at = at, .seq = ++m->seq, .state = ST_PENDING};
	uint32_t pos = ref_find(m, at, is->seq);
	memmove(&m->pend[pos + 1], &m->pend[pos], (m->n - pos) * sizeof(*m->pend));
	m->pend[pos] = (struct ref){at, is->seq, m->niss++};
	m->n++;
	assert_int_equal(sy_tq_count(&m->q), m->n);
	check_bounds(&m->q, true);
}

static void op_cancel(struct model *m)
{
	if (m->niss == 0)
		return;
	/* Mostly recent ids (often still pending), sometimes old or junk ones. */
	uint32_t back = (uint32_t)sy_rng_below(&m->rng, sy_rng_below(&m->rng, 4) ? 64 : m->niss);
	struct issued *is = &m->iss[m->niss - 1 - SY_MIN(back, m->niss - 1)];
	if (sy_rng_below(&m->rng, 50) == 0) {
		/* generation 0 is never issued; slots past cap_max never exist */
		assert_false(sy_tq_cancel(&m->q, is->id & 0xffffffffu));
		assert_false(sy_tq_cancel(&m->q, (is->id >> 32 << 32) | (m->cap_max + 1 + sy_rng_below(&m->rng, 9))));
		return;
	}
	bool pending = is->state == ST_PENDING;
	assert_int_equal(sy_tq_cancel(&m->q, is->id), pending);
	if (!pending)
		return;
	uint32_t pos = ref_find(m, is->at, is->seq);
	assert_true(pos < m->n && m->pend[pos].seq == is->seq);
	memmove(&m->pend[pos], &m->pend[pos + 1], (m->n - pos - 1) * sizeof(*m->pend));
	m->n--;
	is->state = ST_DONE;
	model_release(m, is->id);
}

/* Pops everything due at a later now and checks each against the model. */
static void op_advance(struct model *m)
{
	uint64_t r = sy_rng_below(&m->rng, 100), at;
	uint64_t step = r < 70	 ? sy_rng_below(&m->rng, 20 * MS)
			: r < 95 ? sy_rng_below(&m->rng, 3 * SEC)
				 : sy_rng_below(&m->rng, 400 * SEC);
	m->now = m->now + step;
	sy_timer_fn fn;
	void *arg;
	while (sy_tq_pop(&m->q, m->now, &at, &fn, &arg)) {
		assert_true(m->n > 0);
		struct ref *e = &m->pend[m->n - 1];
		assert_true(e->at <= m->now);
		assert_int_equal(at, e->at);
		assert_int_equal((uintptr_t)arg, e->tag);
		assert_ptr_equal(fn, (e->tag & 1) ? fn_a : fn_b);
		struct issued *is = &m->iss[e->tag];
		is->state = ST_DONE;
		model_release(m, is->id);
		m->n--;
	}
	assert_true(m->n == 0 || m->pend[m->n - 1].at > m->now);
}

static void model_check(struct model *m)
{
	uint64_t at;
	assert_int_equal(sy_tq_count(&m->q), m->n);
	assert_int_equal(sy_tq_peek(&m->q, &at), m->n > 0);
	if (m->n > 0)
		assert_int_equal(at, m->pend[m->n - 1].at);
	check_bounds(&m->q, false);
}

static void run_differential(uint64_t seed, uint32_t cap_initial, uint32_t cap_max, uint32_t ops)
{
	struct model m;
	model_init(&m, seed, cap_initial, cap_max, ops);
	for (uint32_t i = 0; i < ops; i++) {
		/* Phases: fill, churn (many cancels), drain. */
		uint32_t phase = i / 20000 % 3;
		uint64_t r = sy_rng_below(&m.rng, 100);
		uint64_t p_add = phase == 0 ? 60 : phase == 1 ? 50 : 30;
		uint64_t p_cancel = phase == 1 ? 45 : 25;
		if (r < p_add)
			op_add(&m);
		else if (r < p_add + p_cancel)
			op_cancel(&m);
		else
			op_advance(&m);
		model_check(&m);
	}
	uint64_t at;
	sy_timer_fn fn;
	void *arg;
	while (m.n > 0) {
		assert_true(sy_tq_pop(&m.q, UINT64_MAX, &at, &fn, &arg));
		assert_int_equal(at, m.pend[m.n - 1].at);
		assert_int_equal((uintptr_t)arg, m.pend[--m.n].tag);
	}
	model_check(&m);
	model_free(&m);
}

/* Entry capacity held by the queue's buffers follows what is pending, not
 * the run's length: a steady 2000 timers, each bucket filled then drained,
 * over 3000 buckets (3 s). Consumed buckets used to keep their buffers in
 * their ring slots, holding 3000 x 2048 entries here. */
static void test_memory_follows_pending(void **state)
{
	(void)state;
	struct sy_tq q;
	assert_int_equal(sy_tq_init(&q, 4096, 1u << 20), SY_OK);
	uint64_t now = 0, at;
	sy_timer_fn fn;
	void *arg;
	for (int step = 0; step < 3000; step++) {
		for (int k = 0; k < 2000; k++)
			assert_true(sy_tq_add(&q, now + 2 * MS + (uint64_t)k, fn_a, NULL) != 0);
		now += MS + MS / 4;
		while (sy_tq_pop(&q, now, &at, &fn, &arg))
			;
	}
	uint64_t held = (uint64_t)q.near.cap + q.far.cap;
	for (uint32_t i = 0; i < 4096; i++)
		held += q.ring[i].cap;
	for (uint32_t i = 0; i < q.nspare; i++)
		held += q.spare[i].cap;
	assert_true(q.count >= 2000 && q.count <= 6000);
	assert_true(held <= 16ull * 4096);
	sy_tq_free(&q);
}

static void test_differential_large(void **state)
{
	run_differential(0x5eed0001, 64, 1u << 20, 200000);
}

/* A small cap_max so adds hit the limit and slots are reused constantly. */
static void test_differential_small_cap(void **state)
{
	run_differential(0x5eed0002, 3, 700, 60000);
}

/* ---- intrusive mode: in lockstep with slot mode ---- */

struct inode {
	struct sy_tq_node qn; /* first: the popped node is the record */
	sy_timer_id id;	      /* the same timer in the slot-mode queue */
	uint32_t i;
};

/* Random adds (ties, near, far), cancels, pops and reuse of nodes applied
 * to both queues: the intrusive one pops the same timers at the same
 * times, counts and peeks the same, and refuses adds past cap_max. */
static void run_lockstep(uint64_t seed, uint32_t nnodes, uint32_t cap_max, uint32_t ops)
{
	struct sy_tq a, b;
	struct sy_rng r;
	sy_rng_init(&r, seed);
	assert_int_equal(sy_tq_init(&a, 16, cap_max), SY_OK);
	assert_int_equal(sy_tq_init_intrusive(&b, cap_max), SY_OK);
	struct inode *nodes = calloc(nnodes, sizeof(*nodes));
	assert_non_null(nodes);
	for (uint32_t i = 0; i < nnodes; i++)
		nodes[i].i = i;
	uint64_t now = 0, at_a, at_b;
	sy_timer_fn fn;
	void *arg;
	for (uint32_t op = 0; op < ops; op++) {
		uint32_t k = (uint32_t)sy_rng_below(&r, 100);
		struct inode *x = &nodes[sy_rng_below(&r, nnodes)];
		if (k < 50 && x->qn.seq == 0) {
			uint64_t d = sy_rng_below(&r, 4) == 0	? sy_rng_below(&r, 10) * 7 * SEC
				     : sy_rng_below(&r, 3) == 0 ? sy_rng_below(&r, 4) * MS
								: sy_rng_below(&r, 50 * MS);
			sy_timer_id id = sy_tq_add(&a, now + d, fn_a, x);
			bool ok = sy_tq_node_add(&b, &x->qn, now + d);
			assert_int_equal(id != 0, ok);
			x->id = id;
		} else if (k < 70) {
			bool was = x->qn.seq != 0;
			assert_int_equal(sy_tq_node_cancel(&b, &x->qn), was);
			assert_int_equal(was ? sy_tq_cancel(&a, x->id) : false, was);
			assert_int_equal(x->qn.seq, 0);
		} else {
			now += sy_rng_below(&r, 20 * MS);
			struct sy_tq_node *qn;
			for (;;) {
				bool pa = sy_tq_pop(&a, now, &at_a, &fn, &arg);
				qn = sy_tq_node_pop(&b, now, &at_b);
				assert_int_equal(pa, qn != NULL);
				if (!pa)
					break;
				assert_ptr_equal(arg, qn);
				assert_int_equal(at_a, at_b);
				assert_int_equal(qn->seq, 0);
			}
		}
		assert_int_equal(sy_tq_count(&a), sy_tq_count(&b));
		uint64_t sa = 0, sb = 0;
		assert_int_equal(sy_tq_peek_seq(&a, &sa), sy_tq_peek_seq(&b, &sb));
		assert_int_equal(sa, sb);
		if (sy_tq_count(&b) > 0) {
			assert_true(sy_tq_peek(&b, &at_b));
			assert_ptr_equal(&nodes[((struct inode *)(void *)sy_tq_node_peek(&b))->i], sy_tq_node_peek(&b));
		}
	}
	while (sy_tq_pop(&a, UINT64_MAX, &at_a, &fn, &arg)) {
		struct sy_tq_node *qn = sy_tq_node_pop(&b, UINT64_MAX, &at_b);
		assert_ptr_equal(arg, qn);
		assert_int_equal(at_a, at_b);
	}
	assert_null(sy_tq_node_pop(&b, UINT64_MAX, &at_b));
	assert_int_equal(sy_tq_count(&b), 0);
	free(nodes);
	sy_tq_free(&a);
	sy_tq_free(&b);
}

static void test_intrusive_lockstep(void **state)
{
	(void)state;
	run_lockstep(0x5eed0003, 50000, 1u << 20, 400000);
}

/* cap_max below the nodes: adds are refused in both modes alike. */
static void test_intrusive_lockstep_small_cap(void **state)
{
	(void)state;
	run_lockstep(0x5eed0004, 2000, 700, 100000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ties_pop_in_insertion_order),
	    cmocka_unit_test(test_pop_respects_now),
	    cmocka_unit_test(test_stale_ids),
	    cmocka_unit_test(test_cap_max),
	    cmocka_unit_test(test_extreme_deadlines),
	    cmocka_unit_test(test_cancel_churn_compacts),
	    cmocka_unit_test(test_memory_follows_pending),
	    cmocka_unit_test(test_differential_large),
	    cmocka_unit_test(test_differential_small_cap),
	    cmocka_unit_test(test_intrusive_lockstep),
	    cmocka_unit_test(test_intrusive_lockstep_small_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
