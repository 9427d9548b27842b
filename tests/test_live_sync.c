/* test_live_sync.c: the live backend's asynchronous fdatasync
 * (sy_env_file_sync_start): the callback comes from the loop, never from
 * inside the start, once per sync and in the order the syncs were started;
 * file_sync_wait runs it at once; closing a file with a sync in flight drops
 * its callback; a loopless env (sy_live_files) says SY_AGAIN; destroy with
 * syncs queued neither leaks nor calls back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/live/live.h"

#define SAFETY_NS (20 * SY_NS_PER_S)

struct syncs {
	struct sy_live *l;
	int order[16];
	int n;
	enum sy_rc rc[16];
	int stop_at; /* stop the loop after this many callbacks */
};

struct one {
	struct syncs *s;
	int id;
};

static void on_synced(void *arg, enum sy_rc rc)
{
	struct one *o = arg;
	struct syncs *s = o->s;
	assert_true(s->n < 16);
	s->rc[s->n] = rc;
	s->order[s->n++] = o->id;
	if (s->n == s->stop_at)
		sy_live_stop(s->l);
}

static struct sy_live *live_new(void)
{
	struct sy_live_cfg cfg = {.seed = 42, .log_level = SY_LOG_WARN};
	struct sy_live *l = NULL;
	assert_int_equal(sy_live_create(&cfg, &l), SY_OK);
	return l;
}

static struct sy_file *open_tmp(const struct sy_env *e, char *path, size_t cap, int k)
{
	snprintf(path, cap, "/tmp/sy_test_live_sync.%d.%d", (int)getpid(), k);
	struct sy_file *f;
	assert_int_equal(sy_env_file_open(e, path, SY_FILE_READ | SY_FILE_WRITE | SY_FILE_CREATE, &f), SY_OK);
	assert_int_equal(sy_env_file_write(e, f, 0, "hello", 5), SY_OK);
	return f;
}

static void test_async_sync_from_loop(void **state)
{
	struct sy_live *l = live_new();
	const struct sy_env *e = sy_live_env(l);
	struct syncs s = {.l = l, .stop_at = 3};
	char p[3][96];
	struct sy_file *f[3];
	struct one o[3];
	for (int k = 0; k < 3; k++) {
		f[k] = open_tmp(e, p[k], sizeof p[k], k);
		o[k] = (struct one){&s, k};
		assert_int_equal(sy_env_file_sync_start(e, f[k], on_synced, &o[k]), SY_OK);
	}
	assert_int_equal(s.n, 0); /* never from inside the start */
	assert_int_equal(sy_live_run_for(l, SAFETY_NS), SY_OK);
	assert_int_equal(s.n, 3);
	for (int k = 0; k < 3; k++) {
		assert_int_equal(s.order[k], k); /* one thread, first in first out */
		assert_int_equal(s.rc[k], SY_OK);
	}
	/* Again on the same file: one at a time per file, as many as wanted. */
	s.n = 0, s.stop_at = 1;
	assert_int_equal(sy_env_file_write(e, f[0], 5, " again", 6), SY_OK);
	assert_int_equal(sy_env_file_sync_start(e, f[0], on_synced, &o[0]), SY_OK);
	assert_int_equal(sy_live_run_for(l, SAFETY_NS), SY_OK);
	assert_int_equal(s.n, 1);
	for (int k = 0; k < 3; k++) {
		sy_env_file_close(e, f[k]);
		unlink(p[k]);
	}
	sy_live_destroy(l);
}

/* wait: the callback runs inside it; close: the callback never runs. */
static void test_wait_and_close(void **state)
{
	struct sy_live *l = live_new();
	const struct sy_env *e = sy_live_env(l);
	struct syncs s = {.l = l, .stop_at = 100};
	char p[2][96];
	struct sy_file *a = open_tmp(e, p[0], sizeof p[0], 10), *b = open_tmp(e, p[1], sizeof p[1], 11);
	struct one oa = {&s, 1}, ob = {&s, 2};
	assert_int_equal(sy_env_file_sync_start(e, a, on_synced, &oa), SY_OK);
	assert_int_equal(sy_env_file_sync_start(e, b, on_synced, &ob), SY_OK);
	sy_env_file_sync_wait(e, a);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.order[0], 1);
	sy_env_file_sync_wait(e, a); /* nothing in flight: nothing to do */
	assert_int_equal(s.n, 1);
	sy_env_file_close(e, b); /* b's callback is dropped */
	assert_int_equal(sy_live_run_for(l, 200 * SY_NS_PER_MS), SY_OK);
	assert_int_equal(s.n, 1);
	/* Destroy with a sync queued: the thread finishes it, no callback,
	 * nothing left behind (the ASan build checks the leak); the file is
	 * closed after (the same file code, without the loop). */
	assert_int_equal(sy_env_file_sync_start(e, a, on_synced, &oa), SY_OK);
	sy_live_destroy(l);
	assert_int_equal(s.n, 1);
	sy_env_file_close(sy_live_files(), a);
	unlink(p[0]);
	unlink(p[1]);
}

static void test_loopless_env_says_again(void **state)
{
	const struct sy_env *e = sy_live_files();
	char p[96];
	struct sy_file *f = open_tmp(e, p, sizeof p, 20);
	struct syncs s = {0};
	struct one o = {&s, 0};
	assert_int_equal(sy_env_file_sync_start(e, f, on_synced, &o), SY_AGAIN);
	sy_env_file_sync_wait(e, f);
	assert_int_equal(s.n, 0);
	sy_env_file_close(e, f);
	unlink(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_async_sync_from_loop),
	    cmocka_unit_test(test_wait_and_close),
	    cmocka_unit_test(test_loopless_env_says_again),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
