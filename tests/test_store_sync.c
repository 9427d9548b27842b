/* test_store_sync.c: the batched store (MDRs here) with sync = full on an
 * env that syncs off the loop (live): the CSV's fdatasync runs on the sync
 * thread while sqlite commits; every row is in both outputs once; when that
 * sync fails the flush writes the CSV again in place and syncs it itself,
 * so no line is doubled or missing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>
#include <ftw.h>
#include <sys/stat.h>

#include "core/live/live.h"
#include "core/store/mdr.h"

static struct sy_env_ops fail_ops;
static struct sy_env fail_env;
static const struct sy_env *real_env;
static uint32_t started, failed, csv_blocking_syncs;
static struct sy_file *csv_f;
static struct {
	sy_file_sync_fn fn;
	void *arg;
} shim;

static void shim_done(void *arg, enum sy_rc rc)
{
	(void)arg;
	failed++;
	shim.fn(shim.arg, SY_ERR_IO); /* the disk said no */
}

static enum sy_rc open_note_csv(void *ctx, const char *path, unsigned flags, struct sy_file **out)
{
	enum sy_rc rc = real_env->ops->file_open(ctx, path, flags, out);
	size_t n = strlen(path);
	if (rc == SY_OK && n >= 8 && strcmp(path + n - 8, "mdrs.csv") == 0)
		csv_f = *out;
	return rc;
}

static enum sy_rc sync_count_csv(void *ctx, struct sy_file *f)
{
	csv_blocking_syncs += f == csv_f;
	return real_env->ops->file_sync(ctx, f);
}

static enum sy_rc counting_start(void *ctx, struct sy_file *f, sy_file_sync_fn fn, void *arg)
{
	started++;
	return real_env->ops->file_sync_start(ctx, f, fn, arg);
}

static enum sy_rc failing_start(void *ctx, struct sy_file *f, sy_file_sync_fn fn, void *arg)
{
	started++;
	shim.fn = fn, shim.arg = arg;
	return real_env->ops->file_sync_start(ctx, f, shim_done, NULL);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static uint64_t csv_lines(const char *dir)
{
	char path[256];
	snprintf(path, sizeof path, "%s/mdrs.csv", dir);
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	uint64_t n = 0;
	int c;
	while ((c = fgetc(fp)) != EOF)
		n += c == '\n';
	fclose(fp);
	return n;
}

static void run(bool fail)
{
	struct sy_live_cfg cfg = {.seed = 1, .log_level = SY_LOG_ERROR};
	struct sy_live *l;
	assert_int_equal(sy_live_create(&cfg, &l), SY_OK);
	real_env = sy_live_env(l);
	fail_ops = *real_env->ops;
	fail_ops.file_sync_start = fail ? failing_start : counting_start;
	fail_ops.file_open = open_note_csv;
	fail_ops.file_sync = sync_count_csv;
	fail_env = *real_env;
	fail_env.ops = &fail_ops;
	started = failed = csv_blocking_syncs = 0;
	char dir[64] = "/tmp/sy_test_store_sync.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char err[MDR_STORE_ERRMSG_MAX];
	struct mdr_store_opts o = {.sync_full = true, .batch_max = 1000, .err = err, .err_len = sizeof err};
	struct mdr_store *s;
	assert_int_equal(mdr_store_open(&fail_env, dir, &o, &s), SY_OK);
	uint64_t id = 1;
	for (int b = 0; b < 5; b++) {
		for (int i = 0; i < 100; i++, id++) {
			struct mdr m = {
			    .id = id, .submit_ns = id, .done_ns = id + 1, .state = SMSQ_DELIVERED, .segments = 1};
			MDR_SET_STR(&m, account, sy_str_from("acct"));
			assert_int_equal(mdr_store_add(s, &m), SY_OK);
		}
		assert_int_equal(mdr_store_flush(s), SY_OK);
	}
	assert_int_equal(started, 5); /* one off-loop CSV sync per flush */
	assert_int_equal(failed, fail ? 5 : 0);
	/* A failed off-loop sync: the flush wrote the CSV again and synced it. */
	assert_int_equal(csv_blocking_syncs, fail ? 5 : 0);
	assert_int_equal(mdr_store_close(s), SY_OK);
	uint64_t rows = 0;
	assert_int_equal(mdr_store_count_rows(sy_live_files(), dir, &rows, err, sizeof err), SY_OK);
	assert_int_equal(rows, 500);
	assert_int_equal(csv_lines(dir), 501); /* the header and each row once */
	sy_live_destroy(l);
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void test_csv_sync_overlaps_sqlite(void **state)
{
	run(false);
}

static void test_csv_sync_failure_rewritten(void **state)
{
	run(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_csv_sync_overlaps_sqlite),
	    cmocka_unit_test(test_csv_sync_failure_rewritten),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
