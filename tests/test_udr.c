/* test_udr.c: USSD detail records (core/store/udr.c): the exact CSV text of
 * sample rows (quoting a text with a newline, comma and quotes), the
 * store's CSV and sqlite contents and its index, reopen (no second header,
 * the last id resumed), a failed flush resumed without duplicates, and
 * byte-identical CSV for the same input whatever the batch size. */
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
#include "core/store/udr.h"
#include "tests/faultfs.h"

#define T0_NS 1773568800000000000ull /* 2026-03-15T10:00:00Z */

static void gen_udr(uint32_t i, struct udr *r)
{
	static const uint8_t ends[3] = {USSD_END_COMPLETED, USSD_END_USER_ABORT, USSD_END_APP_TIMEOUT};
	memset(r, 0, sizeof *r);
	r->id = 5000 + i;
	r->begin_ns = T0_NS + (uint64_t)i * SY_NS_PER_MS + 999999; /* sub-ms digits are truncated */
	r->end_ns = r->begin_ns + 12345 * SY_NS_PER_MS;
	r->end = ends[i % 3];
	r->app_result = i % 3 == 2 ? 1 : 0; /* USSD_APP_TIMEOUT */
	r->steps = 3;
	r->inputs = 2;
	r->app_status = i % 3 == 2 ? 0 : 200;
	r->charge_micros = i % 2 ? 0 : 50000;
	snprintf(r->link, sizeof r->link, "operator");
	snprintf(r->msisdn, sizeof r->msisdn, "2547%08u", i);
	snprintf(r->code, sizeof r->code, "*123#");
	snprintf(r->account, sizeof r->account, "%s", i % 2 ? "" : "bank");
	snprintf(r->last_text, sizeof r->last_text, "%s", i == 0 ? "Sent.\nThanks, \"bye\"" : "Cancelled.");
}

/* Written by hand from gen_udr's rules, not by running the formatter. */
static const char line_0[] = "5000,2026-03-15T10:00:00.000Z,2026-03-15T10:00:12.345Z,12345,operator,254700000000,"
			     "*123#,completed,3,2,0,200,bank,50000,\"Sent.\nThanks, \"\"bye\"\"\"\n";
static const char line_2[] = "5002,2026-03-15T10:00:00.002Z,2026-03-15T10:00:12.347Z,12345,operator,254700000002,"
			     "*123#,app_timeout,3,2,1,0,bank,50000,Cancelled.\n";

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

static int setup_dir(void **state)
{
	char *tmpl = strdup("/tmp/sy_test_udr.XXXXXX");
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

static size_t count_char(const char *s, size_t len, char c)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += s[i] == c;
	return n;
}

static void test_csv_line_text(void **state)
{
	(void)state;
	char buf[UDR_CSV_LINE_MAX];
	struct udr r;
	gen_udr(0, &r);
	size_t n = udr_csv_line(&r, buf);
	assert_int_equal(n, strlen(line_0));
	assert_memory_equal(buf, line_0, n);
	gen_udr(2, &r);
	n = udr_csv_line(&r, buf);
	assert_int_equal(n, strlen(line_2));
	assert_memory_equal(buf, line_2, n);
	/* Empty fields, an end before the begin (duration 0, never negative),
	 * an unknown end value, a negative charge (a refund). */
	memset(&r, 0, sizeof r);
	r.id = 7;
	r.begin_ns = 2 * SY_NS_PER_S;
	r.end = USSD_END_COUNT;
	r.charge_micros = -1500;
	static const char want[] = "7,1970-01-01T00:00:02.000Z,1970-01-01T00:00:00.000Z,0,,,,unknown,0,0,0,0,,-1500,\n";
	n = udr_csv_line(&r, buf);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(buf, want, n);
	/* The widest record fits the bound: every text full of quotes. */
	memset(r.link, '"', sizeof r.link - 1);
	memset(r.msisdn, '"', sizeof r.msisdn - 1);
	memset(r.code, '"', sizeof r.code - 1);
	memset(r.account, '"', sizeof r.account - 1);
	memset(r.last_text, '"', sizeof r.last_text - 1);
	r.id = UINT64_MAX, r.begin_ns = 0, r.end_ns = UINT64_MAX, r.charge_micros = INT64_MIN;
	r.steps = r.inputs = r.app_status = UINT16_MAX, r.app_result = UINT8_MAX, r.end = USSD_END_SESSION_TIMEOUT;
	assert_true(udr_csv_line(&r, buf) <= UDR_CSV_LINE_MAX);
}

static enum sy_rc write_range(const char *dir, uint32_t from, uint32_t n, const struct udr_store_opts *o,
			      uint64_t *last_id_at_open)
{
	struct udr_store *s;
	enum sy_rc r = udr_store_open(sy_live_files(), dir, o, &s);
	if (r != SY_OK)
		return r;
	if (last_id_at_open != NULL)
		*last_id_at_open = udr_store_last_id(s);
	for (uint32_t i = from; i < from + n; i++) {
		struct udr u;
		gen_udr(i, &u);
		if ((r = udr_store_add(s, &u)) != SY_OK)
			break;
	}
	enum sy_rc c = udr_store_close(s);
	return r != SY_OK ? r : c;
}

static void check_row_2(sqlite3 *db)
{
	sqlite3_stmt *st;
	assert_int_equal(
	    sqlite3_prepare_v2(db,
			       "SELECT id,begin_ns,end_ns,link,msisdn,code,outcome,steps,inputs,app_result,"
			       "app_status,account,charge_micros,last_text FROM udrs WHERE id=5002",
			       -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	struct udr u;
	gen_udr(2, &u);
	assert_int_equal(sqlite3_column_int64(st, 0), 5002);
	assert_int_equal((uint64_t)sqlite3_column_int64(st, 1), u.begin_ns);
	assert_int_equal((uint64_t)sqlite3_column_int64(st, 2), u.end_ns);
	assert_string_equal((const char *)sqlite3_column_text(st, 3), "operator");
	assert_string_equal((const char *)sqlite3_column_text(st, 4), "254700000002");
	assert_string_equal((const char *)sqlite3_column_text(st, 5), "*123#");
	assert_string_equal((const char *)sqlite3_column_text(st, 6), "app_timeout");
	assert_int_equal(sqlite3_column_int(st, 7), 3);
	assert_int_equal(sqlite3_column_int(st, 8), 2);
	assert_int_equal(sqlite3_column_int(st, 9), 1);
	assert_int_equal(sqlite3_column_int(st, 10), 0);
	assert_string_equal((const char *)sqlite3_column_text(st, 11), "bank");
	assert_int_equal(sqlite3_column_int64(st, 12), 50000);
	assert_string_equal((const char *)sqlite3_column_text(st, 13), "Cancelled.");
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

/* A subscriber's sessions by time are read through the index, not a scan. */
static void check_index(sqlite3 *db)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db,
					    "EXPLAIN QUERY PLAN SELECT id FROM udrs WHERE msisdn='254700000002' "
					    "AND begin_ns > 0 ORDER BY begin_ns",
					    -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_non_null(strstr((const char *)sqlite3_column_text(st, 3), "USING INDEX udrs_msisdn_begin"));
	sqlite3_finalize(st);
}

static void test_store_csv_and_sqlite(void **state)
{
	const char *dir = *state;
	struct udr_store_opts o = {.batch_max = 3};
	uint64_t last_id = 1;
	assert_int_equal(write_range(dir, 0, 5, &o, &last_id), SY_OK);
	assert_int_equal(last_id, 0);
	char path[1024];
	snprintf(path, sizeof path, "%s/udrs.csv", dir);
	size_t len;
	char *csv = slurp(path, &len);
	assert_true(strncmp(csv, udr_csv_header, strlen(udr_csv_header)) == 0);
	assert_non_null(strstr(csv, line_0));
	assert_non_null(strstr(csv, line_2));
	assert_int_equal(count_char(csv, len, '\n'), 1 + 5 + 1); /* header, rows, the newline in row 0's text */
	free(csv);
	/* Reopen: rows appended, no second header, the last id resumed. */
	assert_int_equal(write_range(dir, 5, 1, &o, &last_id), SY_OK);
	assert_int_equal(last_id, 5004);
	csv = slurp(path, &len);
	assert_null(strstr(csv + 1, "id,begin"));
	assert_int_equal(count_char(csv, len, '\n'), 1 + 6 + 1);
	free(csv);

	snprintf(path, sizeof path, "%s/udrs.sqlite", dir);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	check_row_2(db);
	check_index(db);
	sqlite3_close(db);
	uint64_t rows = 0;
	char err[UDR_STORE_ERRMSG_MAX];
	assert_int_equal(udr_store_count_rows(sy_live_files(), dir, &rows, err, sizeof err), SY_OK);
	assert_int_equal(rows, 6);
}

/* The largest id, not the last row's: sessions end out of id order. */
static void test_last_id_is_max(void **state)
{
	const char *dir = *state;
	struct udr_store_opts o = {0};
	assert_int_equal(write_range(dir, 7, 1, &o, NULL), SY_OK);
	assert_int_equal(write_range(dir, 3, 1, &o, NULL), SY_OK);
	uint64_t last_id = 0;
	assert_int_equal(write_range(dir, 0, 0, &o, &last_id), SY_OK);
	assert_int_equal(last_id, 5007);
}

/* The disk is full: the flush fails, the batch stays; once there is room
 * the flush writes each row exactly once, in sqlite and in the CSV. */
static void test_failed_flush_resumes(void **state)
{
	const char *dir = *state;
	char err[UDR_STORE_ERRMSG_MAX];
	struct udr_store_opts o = {.busy_timeout_ms = 1, .err = err, .err_len = sizeof err};
	struct udr_store *s;
	struct faultfs ff;
	faultfs_init(&ff);
	assert_int_equal(udr_store_open(&ff.env, dir, &o, &s), SY_OK);
	ff.full = true;
	struct udr u;
	for (uint32_t i = 1; i < 5; i++) {
		gen_udr(i, &u);
		assert_int_equal(udr_store_add(s, &u), SY_OK);
	}
	assert_int_equal(udr_store_flush(s), SY_ERR_IO);
	assert_non_null(strstr(udr_store_errmsg(s), "full"));
	struct udr_store_stats st;
	udr_store_stats(s, &st);
	assert_int_equal(st.pending, 4);
	assert_int_equal(st.errors, 1);
	ff.full = false;
	assert_int_equal(udr_store_flush(s), SY_OK);
	udr_store_stats(s, &st);
	assert_int_equal(st.written, 4);
	assert_int_equal(st.pending, 0);
	assert_int_equal(udr_store_close(s), SY_OK);
	char path[1024];
	snprintf(path, sizeof path, "%s/udrs.sqlite", dir);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_stmt *q;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*), count(DISTINCT id) FROM udrs", -1, &q, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), 4);
	assert_int_equal(sqlite3_column_int(q, 1), 4);
	sqlite3_finalize(q);
	sqlite3_close(db);
	snprintf(path, sizeof path, "%s/udrs.csv", dir);
	size_t len;
	char *csv = slurp(path, &len);
	assert_int_equal(count_char(csv, len, '\n'), 1 + 4);
	free(csv);
}

static void test_deterministic_csv(void **state)
{
	const char *dir = *state;
	char a[1024], b[1024];
	snprintf(a, sizeof a, "%s/a", dir);
	snprintf(b, sizeof b, "%s/b", dir);
	struct udr_store_opts oa = {.batch_max = 7}, ob = {.batch_max = 4096, .no_sqlite = true};
	assert_int_equal(write_range(a, 0, 1000, &oa, NULL), SY_OK);
	assert_int_equal(write_range(b, 0, 1000, &ob, NULL), SY_OK);
	snprintf(a, sizeof a, "%s/a/udrs.csv", dir);
	snprintf(b, sizeof b, "%s/b/udrs.csv", dir);
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
	char err[UDR_STORE_ERRMSG_MAX];
	struct udr_store_opts o = {.err = err, .err_len = sizeof err, .batch_max = UDR_STORE_BATCH_MAX + 1};
	struct udr_store *s = (struct udr_store *)1;
	assert_int_equal(udr_store_open(sy_live_files(), "/tmp", &o, &s), SY_ERR_INVAL);
	assert_null(s);
	o.batch_max = 0;
	assert_int_equal(udr_store_open(sy_live_files(), "/nonexistent-dir/x", &o, &s), SY_ERR_IO);
	assert_non_null(strstr(err, "/nonexistent-dir/x"));
	assert_int_equal(udr_store_close(NULL), SY_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_csv_line_text),
	    cmocka_unit_test_setup_teardown(test_store_csv_and_sqlite, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_last_id_is_max, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_failed_flush_resumes, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_deterministic_csv, setup_dir, teardown_dir),
	    cmocka_unit_test(test_open_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
