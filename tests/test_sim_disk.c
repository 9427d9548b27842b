/* test_sim_disk.c: the simulated disk (sim/disk.c): files pass through,
 * scheduled faults start and end at their virtual times, a full disk
 * refuses writes and new files, a failing one refuses syncs, and a slow
 * one stalls the node that wrote: its later timers fire late by the stall,
 * once per event-loop callback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "sim/sim.h"

#define MS SY_NS_PER_MS
#define SEC SY_NS_PER_S

struct probe {
	struct sim *sim;
	struct sy_env *env;
	char path[64], fresh[64];
	enum sy_rc write_rc, sync_rc, create_rc;
	uint64_t fired_at;
};

static void probe_fn(void *arg)
{
	struct probe *p = arg;
	struct sy_file *f, *g = NULL;
	assert_int_equal(sy_env_file_open(p->env, p->path, SY_FILE_READ | SY_FILE_WRITE | SY_FILE_CREATE, &f), SY_OK);
	p->write_rc = sy_env_file_write(p->env, f, 0, "abc", 3);
	p->sync_rc = sy_env_file_sync(p->env, f);
	sy_env_file_close(p->env, f);
	(void)sy_env_file_unlink(p->env, p->fresh);
	p->create_rc = sy_env_file_open(p->env, p->fresh, SY_FILE_WRITE | SY_FILE_CREATE, &g);
	sy_env_file_close(p->env, g);
}

static void probe_at(struct probe *p, uint64_t t_ns)
{
	sim_at(p->sim, t_ns, probe_fn, p);
	sim_run_until(p->sim, t_ns);
}

static void test_faults_in_time(void **state)
{
	struct probe p = {.sim = sim_create(1, 0)};
	struct sim_node *n = sim_node_add(p.sim, "sw", NULL);
	p.env = sim_node_env(n);
	snprintf(p.path, sizeof p.path, "/tmp/sy-simdisk-%d", (int)getpid());
	snprintf(p.fresh, sizeof p.fresh, "/tmp/sy-simdisk-%d.new", (int)getpid());
	assert_true(sim_disk_fault_at(p.sim, 10 * SEC, 5 * SEC, SIM_DISK_FULL, 0));
	assert_true(sim_disk_fault_at(p.sim, 20 * SEC, 0, SIM_DISK_FSYNC_FAIL, 0));
	probe_at(&p, 5 * SEC);
	assert_int_equal(p.write_rc, SY_OK);
	assert_int_equal(p.sync_rc, SY_OK);
	assert_int_equal(p.create_rc, SY_OK);
	probe_at(&p, 12 * SEC);
	assert_int_equal(p.write_rc, SY_ERR_FULL);
	assert_int_equal(p.sync_rc, SY_OK);
	assert_int_equal(p.create_rc, SY_ERR_FULL);
	probe_at(&p, 16 * SEC); /* the fault ended at 15 s */
	assert_int_equal(p.write_rc, SY_OK);
	assert_int_equal(p.create_rc, SY_OK);
	probe_at(&p, 30 * SEC); /* fsync-fail from 20 s to the end */
	assert_int_equal(p.write_rc, SY_OK);
	assert_int_equal(p.sync_rc, SY_ERR_IO);
	const struct sim_disk_stats *st = sim_disk_stats(p.sim);
	assert_int_equal(st->full_errors, 2);
	assert_int_equal(st->sync_errors, 1);
	unlink(p.path);
	unlink(p.fresh);
	sim_destroy(p.sim);
}

static void fired(void *arg)
{
	struct probe *p = arg;
	p->fired_at = sim_now(p->sim);
}

/* Two writes in one callback stall once; the timer armed after them fires
 * late by the stall. */
static void slow_fn(void *arg)
{
	struct probe *p = arg;
	struct sy_file *f;
	assert_int_equal(sy_env_file_open(p->env, p->path, SY_FILE_WRITE | SY_FILE_CREATE, &f), SY_OK);
	assert_int_equal(sy_env_file_write(p->env, f, 0, "a", 1), SY_OK);
	assert_int_equal(sy_env_file_sync(p->env, f), SY_OK);
	sy_env_file_close(p->env, f);
	sy_env_timer_start(p->env, 10 * MS, fired, p);
}

static void test_slow_stalls_node(void **state)
{
	struct probe p = {.sim = sim_create(1, 0)};
	struct sim_node *n = sim_node_add(p.sim, "sw", NULL);
	p.env = sim_node_env(n);
	snprintf(p.path, sizeof p.path, "/tmp/sy-simdisk-slow-%d", (int)getpid());
	sim_disk_set(p.sim, SIM_DISK_SLOW, 50 * MS);
	sim_at(p.sim, 1 * SEC, slow_fn, &p);
	sim_run_until(p.sim, 2 * SEC);
	assert_int_equal(p.fired_at, 1 * SEC + 50 * MS + 10 * MS);
	assert_int_equal(sim_disk_stats(p.sim)->slow_ops, 1);
	sim_disk_set(p.sim, SIM_DISK_OK, 0);
	sim_at(p.sim, 3 * SEC, slow_fn, &p);
	sim_run_until(p.sim, 4 * SEC);
	assert_int_equal(p.fired_at, 3 * SEC + 10 * MS);
	unlink(p.path);
	sim_destroy(p.sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_faults_in_time),
	    cmocka_unit_test(test_slow_stalls_node),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
