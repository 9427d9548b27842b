/* test_mdr.c: SMS detail records: the exact CSV text of sample rows
 * (quoting, empty done time, negative cost), the store's CSV and sqlite
 * contents, reopen, a failed flush resumed without duplicates, and
 * byte-identical CSV for the same input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/live/live.h"
#include "tests/faultfs.h"
#include "core/store/batch.h"
#include "core/store/mdr.h"

#define T0_NS 1773568800000000000ull /* 2026-03-15T10:00:00Z */

static void gen_mdr(uint32_t i, struct mdr *m)
{
	char buf[64];
	memset(m, 0, sizeof *m);
	m->id = 1000 + i;
	m->submit_ns = T0_NS + (uint64_t)i * SY_NS_PER_MS + 999999; /* sub-ms digits are truncated */
	m->done_ns = m->submit_ns + 1500 * SY_NS_PER_MS;
	m->state = i % 4 == 3 ? SMSQ_UNDELIVERABLE : SMSQ_DELIVERED;
	m->error_code = i % 4 == 3 ? 11 : 0;
	m->segments = (uint16_t)(i % 3 + 1);
	m->data_coding = i % 2 ? 8 : 0;
	MDR_SET_STR(m, account, i % 5 == 0 ? SY_STR("acme,\"x\"") : SY_STR("acme"));
	snprintf(buf, sizeof buf, "4420%07u", i);
	MDR_SET_STR(m, from, sy_str_from(buf));
	snprintf(buf, sizeof buf, "1555%07u", i);
	MDR_SET_STR(m, to, sy_str_from(buf));
	MDR_SET_STR(m, carrier, SY_STR("tier1"));
	snprintf(buf, sizeof buf, "up-%u", i);
	MDR_SET_STR(m, upstream_id, sy_str_from(buf));
	if (i % 4 == 3) { /* flagged by fraud */
		m->fraud_action = FRAUD_FLAG;
		m->fraud_detector = FRAUD_DET_SMS_PUMP;
		MDR_SET_STR(m, fraud_reason, SY_STR("sms_pump.seq: 21 to 1555000,000"));
	}
}

/* Written by hand from gen_mdr's rules, not by running the formatter. */
static const char line_0[] = "1000,\"acme,\"\"x\"\"\",44200000000,15550000000,1,0,2026-03-15T10:00:00.000Z,"
			     "2026-03-15T10:00:01.500Z,DELIVERED,0,tier1,up-0,0,,\n";
static const char line_3[] = "1003,acme,44200000003,15550000003,1,8,2026-03-15T10:00:00.003Z,"
			     "2026-03-15T10:00:01.503Z,UNDELIVERABLE,11,tier1,up-3,0,flag,"
			     "\"sms_pump.seq: 21 to 1555000,000\"\n";

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

static int setup_dir(void **state)
{
	char *tmpl = strdup("/tmp/sy_test_mdr.XXXXXX");
	if (tmpl == NULL || mkdtemp(tmpl) == NULL)
		return -1;
	*state = tmpl;
	return 0;
}

static int teardown_dir(void **state)
{
	nftw(*state, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(*state);
	return 0;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
	b[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return b;
}

static void test_csv_line_text(void **state)
{
	(void)state;
	char buf[MDR_CSV_LINE_MAX];
	struct mdr m;
	gen_mdr(0, &m);
	size_t n = mdr_csv_line(&m, buf);
	assert_int_equal(n, strlen(line_0));
	assert_memory_equal(buf, line_0, n);
	gen_mdr(3, &m);
	n = mdr_csv_line(&m, buf);
	assert_int_equal(n, strlen(line_3));
	assert_memory_equal(buf, line_3, n);
	/* Not final yet (done 0), negative cost, an unknown state value. */
	memset(&m, 0, sizeof m);
	m.id = 7;
	m.submit_ns = 0;
	m.state = SMSQ_STATE_COUNT;
	m.cost_micros = -1500;
	static const char want[] = "7,,,,0,0,1970-01-01T00:00:00.000Z,,?,0,,,-1500,,\n";
	n = mdr_csv_line(&m, buf);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(buf, want, n);
	/* The widest record fits the bound: every field full of quotes. */
	memset(m.account, '"', sizeof m.account - 1);
	memset(m.from, '"', sizeof m.from - 1);
	memset(m.to, '"', sizeof m.to - 1);
	memset(m.carrier, '"', sizeof m.carrier - 1);
	memset(m.upstream_id, '"', sizeof m.upstream_id - 1);
	m.id = UINT64_MAX, m.submit_ns = m.done_ns = UINT64_MAX, m.cost_micros = INT64_MIN;
	m.error_code = UINT32_MAX, m.state = SMSQ_UNDELIVERABLE;
	assert_true(mdr_csv_line(&m, buf) <= MDR_CSV_LINE_MAX);
}

static enum sy_rc write_n(const char *dir, uint32_t n, const struct mdr_store_opts *o)
{
	struct mdr_store *s;
	enum sy_rc r = mdr_store_open(sy_live_files(), dir, o, &s);
	if (r != SY_OK)
		return r;
	for (uint32_t i = 0; i < n; i++) {
		struct mdr m;
		gen_mdr(i, &m);
		if ((r = mdr_store_add(s, &m)) != SY_OK)
			break;
	}
	enum sy_rc c = mdr_store_close(s);
	return r != SY_OK ? r : c;
}

static void test_store_csv_and_sqlite(void **state)
{
	const char *dir = *state;
	struct mdr_store_opts o = {.batch_max = 3};
	assert_int_equal(write_n(dir, 5, &o), SY_OK);
	char path[1024];
	snprintf(path, sizeof path, "%s/mdrs.csv", dir);
	size_t len;
	char *csv = slurp(path, &len);
	assert_true(strncmp(csv, mdr_csv_header, strlen(mdr_csv_header)) == 0);
	assert_non_null(strstr(csv, line_0));
	assert_non_null(strstr(csv, line_3));
	size_t lines = 0;
	for (size_t i = 0; i < len; i++)
		lines += csv[i] == '\n';
	assert_int_equal(lines, 6);
	free(csv);
	/* Reopen appends rows, not a second header. */
	assert_int_equal(write_n(dir, 1, &o), SY_OK);
	csv = slurp(path, &len);
	assert_int_equal(strstr(csv + 1, "id,account") == NULL, true);
	free(csv);

	snprintf(path, sizeof path, "%s/mdrs.sqlite", dir);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_stmt *st;
	assert_int_equal(
	    sqlite3_prepare_v2(
		db,
		"SELECT id,account,src,dst,segments,data_coding,submit_ns,done_ns,state,"
		"error_code,carrier,upstream_id,cost_micros,(SELECT count(*) FROM mdrs),fraud,fraud_reason "
		"FROM mdrs WHERE id=1003",
		-1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	struct mdr m;
	gen_mdr(3, &m);
	assert_int_equal(sqlite3_column_int64(st, 0), 1003);
	assert_string_equal((const char *)sqlite3_column_text(st, 1), "acme");
	assert_string_equal((const char *)sqlite3_column_text(st, 2), "44200000003");
	assert_string_equal((const char *)sqlite3_column_text(st, 3), "15550000003");
	assert_int_equal(sqlite3_column_int(st, 4), 1);
	assert_int_equal(sqlite3_column_int(st, 5), 8);
	assert_int_equal((uint64_t)sqlite3_column_int64(st, 6), m.submit_ns);
	assert_int_equal((uint64_t)sqlite3_column_int64(st, 7), m.done_ns);
	assert_string_equal((const char *)sqlite3_column_text(st, 8), "UNDELIVERABLE");
	assert_int_equal(sqlite3_column_int(st, 9), 11);
	assert_string_equal((const char *)sqlite3_column_text(st, 10), "tier1");
	assert_string_equal((const char *)sqlite3_column_text(st, 11), "up-3");
	assert_int_equal(sqlite3_column_int64(st, 12), 0);
	assert_int_equal(sqlite3_column_int64(st, 13), 6);
	assert_string_equal((const char *)sqlite3_column_text(st, 14), "flag");
	assert_string_equal((const char *)sqlite3_column_text(st, 15), "sms_pump.seq: 21 to 1555000,000");
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* The disk is full: the flush fails, the batch stays; once there is room
 * the flush writes each row exactly once. */
static void test_failed_flush_resumes(void **state)
{
	const char *dir = *state;
	char err[MDR_STORE_ERRMSG_MAX];
	struct mdr_store_opts o = {.busy_timeout_ms = 1, .err = err, .err_len = sizeof err};
	struct mdr_store *s;
	struct faultfs ff;
	faultfs_init(&ff);
	assert_int_equal(mdr_store_open(&ff.env, dir, &o, &s), SY_OK);
	char path[1024];
	snprintf(path, sizeof path, "%s/mdrs.sqlite", dir);
	ff.full = true;
	struct mdr m;
	for (uint32_t i = 0; i < 4; i++) {
		gen_mdr(i, &m);
		assert_int_equal(mdr_store_add(s, &m), SY_OK);
	}
	assert_int_equal(mdr_store_flush(s), SY_ERR_IO);
	assert_non_null(strstr(mdr_store_errmsg(s), "full"));
	struct mdr_store_stats st;
	mdr_store_stats(s, &st);
	assert_int_equal(st.pending, 4);
	assert_int_equal(st.errors, 1);
	ff.full = false;
	assert_int_equal(mdr_store_flush(s), SY_OK);
	mdr_store_stats(s, &st);
	assert_int_equal(st.written, 4);
	assert_int_equal(mdr_store_close(s), SY_OK);
	sqlite3 *other;
	assert_int_equal(sqlite3_open(path, &other), SQLITE_OK);
	sqlite3_stmt *q;
	assert_int_equal(sqlite3_prepare_v2(other, "SELECT count(*), count(DISTINCT id) FROM mdrs", -1, &q, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), 4);
	assert_int_equal(sqlite3_column_int(q, 1), 4);
	sqlite3_finalize(q);
	sqlite3_close(other);
}

/* Batches of 100 and 250 records go in groups of STORE_BATCH_ROWS per
 * statement plus single rows: every row holds its own record, field for
 * field, in order, once. */
static void test_store_rows_in_groups(void **state)
{
	const char *dir = *state;
	struct mdr_store_opts o = {.batch_max = 100};
	enum { N = 250 };
	_Static_assert(100 % STORE_BATCH_ROWS != 0 && N % 100 > STORE_BATCH_ROWS, "groups and single rows both used");
	assert_int_equal(write_n(dir, N, &o), SY_OK);
	char path[1024];
	snprintf(path, sizeof path, "%s/mdrs.sqlite", dir);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT id,account,src,dst,segments,data_coding,submit_ns,done_ns,state,"
					    "error_code,carrier,upstream_id,cost_micros,fraud,fraud_reason "
					    "FROM mdrs ORDER BY rowid",
					    -1, &st, NULL),
			 SQLITE_OK);
	uint32_t i = 0;
	for (; sqlite3_step(st) == SQLITE_ROW; i++) {
		struct mdr m;
		gen_mdr(i, &m);
		assert_int_equal(sqlite3_column_int64(st, 0), m.id);
		assert_string_equal((const char *)sqlite3_column_text(st, 1), m.account);
		assert_string_equal((const char *)sqlite3_column_text(st, 2), m.from);
		assert_string_equal((const char *)sqlite3_column_text(st, 3), m.to);
		assert_int_equal(sqlite3_column_int(st, 4), m.segments);
		assert_int_equal(sqlite3_column_int(st, 5), m.data_coding);
		assert_int_equal((uint64_t)sqlite3_column_int64(st, 6), m.submit_ns);
		assert_int_equal((uint64_t)sqlite3_column_int64(st, 7), m.done_ns);
		assert_string_equal((const char *)sqlite3_column_text(st, 8), smsq_state_name(m.state));
		assert_int_equal(sqlite3_column_int(st, 9), m.error_code);
		assert_string_equal((const char *)sqlite3_column_text(st, 10), m.carrier);
		assert_string_equal((const char *)sqlite3_column_text(st, 11), m.upstream_id);
		assert_int_equal(sqlite3_column_int64(st, 12), m.cost_micros);
		assert_string_equal((const char *)sqlite3_column_text(st, 13), i % 4 == 3 ? "flag" : "");
		assert_string_equal((const char *)sqlite3_column_text(st, 14), m.fraud_reason);
	}
	assert_int_equal(i, N);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* A flush of groups and single rows that the full disk refuses is retried
 * whole: each row once. */
static void test_failed_group_flush_resumes(void **state)
{
	const char *dir = *state;
	struct mdr_store_opts o = {.busy_timeout_ms = 1};
	struct mdr_store *s;
	struct faultfs ff;
	faultfs_init(&ff);
	assert_int_equal(mdr_store_open(&ff.env, dir, &o, &s), SY_OK);
	enum { N = 2 * STORE_BATCH_ROWS + 7 };
	ff.full = true;
	struct mdr m;
	for (uint32_t i = 0; i < N; i++) {
		gen_mdr(i, &m);
		assert_int_equal(mdr_store_add(s, &m), SY_OK);
	}
	assert_int_equal(mdr_store_flush(s), SY_ERR_IO);
	ff.full = false;
	assert_int_equal(mdr_store_flush(s), SY_OK);
	assert_int_equal(mdr_store_close(s), SY_OK);
	char path[1024];
	snprintf(path, sizeof path, "%s/mdrs.sqlite", dir);
	sqlite3 *other;
	assert_int_equal(sqlite3_open(path, &other), SQLITE_OK);
	sqlite3_stmt *q;
	assert_int_equal(
	    sqlite3_prepare_v2(other, "SELECT count(*), count(DISTINCT id), min(id), max(id) FROM mdrs", -1, &q, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), N);
	assert_int_equal(sqlite3_column_int(q, 1), N);
	assert_int_equal(sqlite3_column_int(q, 2), 1000);
	assert_int_equal(sqlite3_column_int(q, 3), 1000 + N - 1);
	sqlite3_finalize(q);
	sqlite3_close(other);
}

static void test_deterministic_csv(void **state)
{
	const char *dir = *state;
	char a[1024], b[1024];
	snprintf(a, sizeof a, "%s/a", dir);
	snprintf(b, sizeof b, "%s/b", dir);
	struct mdr_store_opts oa = {.batch_max = 7}, ob = {.batch_max = 4096, .no_sqlite = true};
	assert_int_equal(write_n(a, 1000, &oa), SY_OK);
	assert_int_equal(write_n(b, 1000, &ob), SY_OK);
	snprintf(a, sizeof a, "%s/a/mdrs.csv", dir);
	snprintf(b, sizeof b, "%s/b/mdrs.csv", dir);
	size_t la, lb;
	char *ca = slurp(a, &la), *cb = slurp(b, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(ca, cb, la);
	free(ca);
	free(cb);
}

static void test_open_errors(void **state)
{
	(void)state;
	char err[MDR_STORE_ERRMSG_MAX];
	struct mdr_store_opts o = {.err = err, .err_len = sizeof err, .batch_max = MDR_STORE_BATCH_MAX + 1};
	struct mdr_store *s = (struct mdr_store *)1;
	assert_int_equal(mdr_store_open(sy_live_files(), "/tmp", &o, &s), SY_ERR_INVAL);
	assert_null(s);
	o.batch_max = 0;
	assert_int_equal(mdr_store_open(sy_live_files(), "/nonexistent-dir/x", &o, &s), SY_ERR_IO);
	assert_non_null(strstr(err, "/nonexistent-dir/x"));
	assert_int_equal(mdr_store_close(NULL), SY_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_csv_line_text),
	    cmocka_unit_test_setup_teardown(test_store_csv_and_sqlite, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_failed_flush_resumes, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_store_rows_in_groups, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_failed_group_flush_resumes, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_deterministic_csv, setup_dir, teardown_dir),
	    cmocka_unit_test(test_open_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
