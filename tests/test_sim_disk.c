/* test_sim_disk.c: the simulated disk (sim/disk.c): files pass through,
 * scheduled faults start and end at their virtual times, a full disk
 * refuses writes and new files, a failing one refuses syncs, and a slow
 * one stalls the node that wrote: its later timers fire late by the stall,
 * once per event-loop callback. A power cut puts every file of the node
 * back as it was at its last sync (overwrites, truncations, extensions,
 * closed files, files never synced), and costs nothing when not tracked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sim/sim.h"

#define MS  SY_NS_PER_MS
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

/* ---- power loss ---- */

struct pl {
	struct sim *sim;
	struct sim_node *n;
	struct sy_env *env;
	char path[64];
};

static void pl_init(struct pl *p, bool track, const char *tag)
{
	p->sim = sim_create(1, 0);
	sim_disk_track(p->sim, track);
	p->n = sim_node_add(p->sim, "sw", NULL);
	p->env = sim_node_env(p->n);
	snprintf(p->path, sizeof p->path, "/tmp/sy-simdisk-pl-%s-%d", tag, (int)getpid());
	unlink(p->path);
}

static void pl_done(struct pl *p)
{
	unlink(p->path);
	sim_disk_track(p->sim, false);
	sim_destroy(p->sim);
}

static struct sy_file *pl_open(struct pl *p)
{
	struct sy_file *f = NULL;
	assert_int_equal(sy_env_file_open(p->env, p->path, SY_FILE_READ | SY_FILE_WRITE | SY_FILE_CREATE, &f), SY_OK);
	return f;
}

static void pl_write(struct pl *p, struct sy_file *f, uint64_t off, const char *s)
{
	assert_int_equal(sy_env_file_write(p->env, f, off, s, strlen(s)), SY_OK);
}

/* The file's whole content as a string ("<absent>" when there is none). */
static const char *pl_content(const struct pl *p)
{
	static char buf[256];
	FILE *fp = fopen(p->path, "rb");
	if (fp == NULL)
		return "<absent>";
	size_t n = fread(buf, 1, sizeof buf - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	return buf;
}

static void test_power_loss_restores_synced(void **state)
{
	struct pl p;
	pl_init(&p, true, "sync");
	struct sy_file *f = pl_open(&p);
	pl_write(&p, f, 0, "hello world");
	assert_int_equal(sy_env_file_sync(p.env, f), SY_OK);
	pl_write(&p, f, 0, "HELLO");
	pl_write(&p, f, 11, "!!!");
	pl_write(&p, f, 6, "W");
	assert_string_equal(pl_content(&p), "HELLO World!!!");
	sim_node_power_loss(p.n);
	assert_string_equal(pl_content(&p), "hello world");
	const struct sim_disk_stats *st = sim_disk_stats(p.sim);
	assert_int_equal(st->power_losses, 1);
	assert_int_equal(st->power_undone_writes, 3);
	assert_int_equal(st->power_undone_bytes, 9);
	assert_int_equal(st->power_tracked_writes, 4);
	/* after power is back the file goes on from what survived */
	sim_node_power_on(p.n);
	pl_write(&p, f, 0, "J");
	assert_int_equal(sy_env_file_sync(p.env, f), SY_OK);
	sim_node_power_loss(p.n);
	assert_string_equal(pl_content(&p), "Jello world");
	sy_env_file_close(p.env, f);
	pl_done(&p);
}

/* A truncation below the synced size, writes past it, an extension: all undone. */
static void test_power_loss_truncate_extend(void **state)
{
	struct pl p;
	pl_init(&p, true, "trunc");
	struct sy_file *f = pl_open(&p);
	pl_write(&p, f, 0, "abcdefghij");
	assert_int_equal(sy_env_file_sync(p.env, f), SY_OK);
	assert_int_equal(sy_env_file_truncate(p.env, f, 3), SY_OK);
	pl_write(&p, f, 3, "XYZ123456789");
	assert_int_equal(sy_env_file_truncate(p.env, f, 5), SY_OK);
	assert_int_equal(sy_env_file_truncate(p.env, f, 40), SY_OK);
	uint64_t size = 0;
	assert_int_equal(sy_env_file_size(p.env, f, &size), SY_OK);
	assert_int_equal(size, 40);
	sim_node_power_loss(p.n);
	assert_string_equal(pl_content(&p), "abcdefghij");
	sy_env_file_close(p.env, f);
	pl_done(&p);
}

/* A closed file loses its unsynced writes too; appends are undone by the size. */
static void test_power_loss_closed_file(void **state)
{
	struct pl p;
	pl_init(&p, true, "closed");
	struct sy_file *f = NULL;
	assert_int_equal(sy_env_file_open(p.env, p.path, SY_FILE_WRITE | SY_FILE_CREATE | SY_FILE_APPEND, &f), SY_OK);
	pl_write(&p, f, 0, "line1\n");
	assert_int_equal(sy_env_file_sync(p.env, f), SY_OK);
	pl_write(&p, f, 0, "line2\n");
	sy_env_file_close(p.env, f);
	assert_int_equal(sy_env_file_open(p.env, p.path, SY_FILE_WRITE | SY_FILE_APPEND, &f), SY_OK);
	pl_write(&p, f, 0, "line3\n");
	sy_env_file_close(p.env, f);
	assert_string_equal(pl_content(&p), "line1\nline2\nline3\n");
	sim_node_power_loss(p.n);
	assert_string_equal(pl_content(&p), "line1\n");
	assert_int_equal(sim_disk_stats(p.sim)->power_undone_writes, 2);
	pl_done(&p);
}

/* A file created and never synced is gone; one synced once survives. */
static void test_power_loss_never_synced(void **state)
{
	struct pl p;
	struct {
		char path[80];
	} q;
	pl_init(&p, true, "fresh");
	snprintf(q.path, sizeof q.path, "%s.kept", p.path);
	unlink(q.path);
	struct sy_file *f = pl_open(&p), *g = NULL;
	pl_write(&p, f, 0, "never synced");
	sy_env_file_close(p.env, f);
	assert_int_equal(sy_env_file_open(p.env, q.path, SY_FILE_WRITE | SY_FILE_CREATE, &g), SY_OK);
	assert_int_equal(sy_env_file_sync(p.env, g), SY_OK); /* synced empty */
	assert_int_equal(sy_env_file_write(p.env, g, 0, "late", 4), SY_OK);
	sim_node_power_loss(p.n);
	assert_string_equal(pl_content(&p), "<absent>");
	assert_false(sy_env_file_exists(p.env, p.path));
	assert_true(sy_env_file_exists(p.env, q.path));
	uint64_t size = 1;
	assert_int_equal(sy_env_file_size(p.env, g, &size), SY_OK);
	assert_int_equal(size, 0);
	assert_int_equal(sim_disk_stats(p.sim)->power_files_removed, 1);
	sy_env_file_close(p.env, g);
	/* the path is a new file again after power is back */
	sim_node_power_on(p.n);
	f = pl_open(&p);
	pl_write(&p, f, 0, "again");
	assert_int_equal(sy_env_file_sync(p.env, f), SY_OK);
	sy_env_file_close(p.env, f);
	sim_node_power_loss(p.n);
	assert_string_equal(pl_content(&p), "again");
	unlink(q.path);
	pl_done(&p);
}

struct hook_probe {
	struct pl *p;
	struct sy_file *f;
	enum sy_rc write_rc, sync_rc, unlink_rc, create_rc;
	uint64_t crashed_at, restarted_at;
};

/* What a component closing at the cut tries: refused, the disk is gone. */
static void on_crash(void *arg, struct sim_node *n)
{
	struct hook_probe *h = arg;
	char fresh[80];
	struct sy_file *g = NULL;
	h->crashed_at = sim_now(h->p->sim);
	h->write_rc = sy_env_file_write(h->p->env, h->f, 0, "X", 1);
	h->sync_rc = sy_env_file_sync(h->p->env, h->f);
	h->unlink_rc = sy_env_file_unlink(h->p->env, h->p->path);
	snprintf(fresh, sizeof fresh, "%s.new", h->p->path);
	h->create_rc = sy_env_file_open(h->p->env, fresh, SY_FILE_WRITE | SY_FILE_CREATE, &g);
	sy_env_file_close(h->p->env, h->f);
}

static void on_restart(void *arg, struct sim_node *n)
{
	struct hook_probe *h = arg;
	h->restarted_at = sim_now(h->p->sim);
}

static void test_power_loss_at_refuses_dead_writes(void **state)
{
	struct pl p;
	pl_init(&p, true, "hooks");
	struct hook_probe h = {.p = &p, .f = pl_open(&p)};
	pl_write(&p, h.f, 0, "durable");
	assert_int_equal(sy_env_file_sync(p.env, h.f), SY_OK);
	pl_write(&p, h.f, 7, " and not");
	sim_node_set_hooks(p.n, on_crash, on_restart, &h);
	sim_node_power_loss_at(p.n, 2 * SEC, 5 * SEC);
	sim_run_until(p.sim, 10 * SEC);
	assert_int_equal(h.crashed_at, 2 * SEC);
	assert_int_equal(h.restarted_at, 7 * SEC);
	assert_int_equal(h.write_rc, SY_ERR_IO);
	assert_int_equal(h.sync_rc, SY_ERR_IO);
	assert_int_equal(h.unlink_rc, SY_ERR_IO);
	assert_int_equal(h.create_rc, SY_ERR_IO);
	assert_string_equal(pl_content(&p), "durable");
	pl_done(&p);
}

/* Two handles on one path share its state: a sync through either makes
 * both writes durable. An unlinked file is forgotten: the path's new file
 * was never synced and a cut removes it. */
static void test_power_loss_shared_and_unlinked(void **state)
{
	struct pl p;
	pl_init(&p, true, "shared");
	struct sy_file *a = pl_open(&p), *b = pl_open(&p);
	pl_write(&p, a, 0, "one");
	pl_write(&p, b, 3, "two");
	assert_int_equal(sy_env_file_sync(p.env, b), SY_OK);
	pl_write(&p, a, 0, "ONE");
	sim_node_power_loss(p.n);
	assert_string_equal(pl_content(&p), "onetwo");
	sim_node_power_on(p.n);
	sy_env_file_close(p.env, a);
	sy_env_file_close(p.env, b);
	assert_int_equal(sy_env_file_unlink(p.env, p.path), SY_OK);
	a = pl_open(&p);
	pl_write(&p, a, 0, "new");
	sy_env_file_close(p.env, a);
	sim_node_power_loss(p.n);
	assert_string_equal(pl_content(&p), "<absent>");
	pl_done(&p);
}

/* Off: a power loss is a crash only, nothing is remembered or undone. */
static void test_power_loss_untracked(void **state)
{
	struct pl p;
	pl_init(&p, false, "off");
	assert_false(sim_disk_tracking(p.sim));
	struct sy_file *f = pl_open(&p);
	pl_write(&p, f, 0, "kept");
	pl_write(&p, f, 0, "KEPT");
	sim_node_power_loss(p.n);
	assert_string_equal(pl_content(&p), "KEPT");
	const struct sim_disk_stats *st = sim_disk_stats(p.sim);
	assert_int_equal(st->power_losses, 1);
	assert_int_equal(st->power_tracked_writes, 0);
	assert_int_equal(st->power_undone_writes, 0);
	assert_int_equal(st->writes, 2);
	sim_node_power_on(p.n);
	sy_env_file_close(p.env, f);
	pl_done(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_faults_in_time),
	    cmocka_unit_test(test_slow_stalls_node),
	    cmocka_unit_test(test_power_loss_restores_synced),
	    cmocka_unit_test(test_power_loss_truncate_extend),
	    cmocka_unit_test(test_power_loss_closed_file),
	    cmocka_unit_test(test_power_loss_never_synced),
	    cmocka_unit_test(test_power_loss_at_refuses_dead_writes),
	    cmocka_unit_test(test_power_loss_shared_and_unlinked),
	    cmocka_unit_test(test_power_loss_untracked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
