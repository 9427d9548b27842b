/* test_tick_wheel.c: the simulated carrier's receipt wheel (peers/tick_wheel.h)
 * on the simulator's clock: delays rounded up to the tick, a tick's indexes
 * in the order they were added, one timer event per tick, far delays (past
 * the wheel's TICKW_SLOTS ticks) and an index added from a hand-out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "peers/tick_wheel.h"
#include "sim/sim.h"

struct rec {
	struct tickw w;
	const struct sy_env *env;
	uint32_t idx[16];
	uint64_t at[16];
	uint32_t n;
};

static void on_fire(void *arg, uint32_t idx)
{
	struct rec *r = arg;
	assert_true(r->n < 16);
	r->idx[r->n] = idx;
	r->at[r->n++] = sy_env_now_ns(r->env);
	if (idx == 1) /* added from a hand-out, far: 8.5 s > TICKW_SLOTS ms */
		assert_true(tickw_add(&r->w, 4, 8500 * SY_NS_PER_MS));
}

static void test_order_and_ticks(void **state)
{
	(void)state;
	struct sim *sim = sim_create(1, 0);
	assert_non_null(sim);
	struct sim_node *nd = sim_node_add(sim, "n", "10.0.0.1");
	assert_non_null(nd);
	struct rec r = {.env = sim_node_env(nd)};
	tickw_init(&r.w, r.env, SY_NS_PER_MS, on_fire, NULL, &r);
	assert_true(tickw_add(&r.w, 0, 5 * SY_NS_PER_MS));
	assert_true(tickw_add(&r.w, 1, SY_NS_PER_MS / 2));     /* rounds up to 1 ms */
	assert_true(tickw_add(&r.w, 2, 20 * SY_NS_PER_S));     /* far */
	assert_true(tickw_add(&r.w, 3, 4 * SY_NS_PER_MS + 1)); /* the tick of 0, after it */
	assert_int_equal(tickw_waiting(&r.w), 4);
	uint64_t events = sim_run_until(sim, 40 * SY_NS_PER_S);
	assert_int_equal(r.n, 5);
	static const uint32_t idx[] = {1, 0, 3, 4, 2};
	static const uint64_t at[] = {SY_NS_PER_MS, 5 * SY_NS_PER_MS, 5 * SY_NS_PER_MS, 8501 * SY_NS_PER_MS,
				      20 * SY_NS_PER_S};
	for (uint32_t i = 0; i < 5; i++) {
		assert_int_equal(r.idx[i], idx[i]);
		assert_int_equal(r.at[i], at[i]);
	}
	assert_int_equal(events, 4); /* one timer event a tick: 1 ms, 5 ms, 8.501 s, 20 s */
	assert_int_equal(tickw_waiting(&r.w), 0);
	tickw_free(&r.w);
	sim_destroy(sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_order_and_ticks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
