/* test_cdr.c: CDR formatting (ISO 8601, CSV quoting, string truncation) and
 * the CDR store: sqlite and CSV contents, reopen, lock failure and retry,
 * determinism, and opening on an unwritable path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <unistd.h>

#include "core/live/live.h"
#include "tests/faultfs.h"
#include "core/store/cdr.h"

#define T0_NS 1773568800000000000ull /* 2026-03-15T10:00:00Z */

/* A deterministic CDR for index i: two in three answered, one in five with a
 * carrier name that needs CSV quoting. */
static void gen_cdr(uint32_t i, struct cdr *c)
{
	char buf[64];
	memset(c, 0, sizeof *c);
	c->id = i + 1;
	c->start_ns = T0_NS + (uint64_t)i * SY_NS_PER_MS;
	c->pdd_ms = 100 + i % 50;
	c->hangup = i % 2 ? CDR_SIDE_CALLER : CDR_SIDE_CALLEE;
	CDR_SET_STR(c, carrier, i % 5 == 0 ? SY_STR("Acme, \"Tier1\"") : SY_STR("tier2"));
	snprintf(buf, sizeof buf, "+4420%07u", i);
	CDR_SET_STR(c, caller, sy_str_from(buf));
	snprintf(buf, sizeof buf, "+1555%07u", i);
	CDR_SET_STR(c, callee, sy_str_from(buf));
	snprintf(buf, sizeof buf, "a-%u@sy.example", i);
	CDR_SET_STR(c, a_call_id, sy_str_from(buf));
	snprintf(buf, sizeof buf, "b-%u@carrier", i);
	CDR_SET_STR(c, b_call_id, sy_str_from(buf));
	CDR_SET_STR(c, account, i % 2 ? SY_STR("trunk-a") : SY_STR(""));
	if (i % 3 == 0) {
		c->end_ns = c->start_ns + 2 * SY_NS_PER_S;
		c->disposition = CDR_DISP_BUSY;
		c->sip_status = 486;
		return;
	}
	c->answer_ns = c->start_ns + (i % 7 + 1) * 100 * SY_NS_PER_MS + 123456;
	c->end_ns = c->answer_ns + (i % 120) * SY_NS_PER_S + 250 * SY_NS_PER_MS;
	c->duration_ms = (uint32_t)((c->end_ns - c->answer_ns) / SY_NS_PER_MS);
	c->disposition = CDR_DISP_ANSWERED;
	c->sip_status = 200;
	c->cost_micros = (int64_t)c->duration_ms * 10;
	c->tariff_id = 7;
	c->rated_ms = (c->duration_ms + 999) / 1000 * 1000;
	if (i % 5 == 0) { /* flagged by fraud, with a reason that needs quoting */
		c->fraud_action = FRAUD_FLAG;
		c->fraud_detector = FRAUD_DET_IRSF;
		CDR_SET_STR(c, fraud_reason, SY_STR("irsf.risky_calls: 11 calls, \"premium\""));
	}
}

/* Written by hand from gen_cdr's rules, not by running the formatter. */
static const char line_id6[] = "6,2026-03-15T10:00:00.005Z,2026-03-15T10:00:00.605Z,2026-03-15T10:00:05.855Z,5250,105,"
			       "ANSWERED,200,\"Acme, \"\"Tier1\"\"\",+44200000005,+15550000005,a-5@sy.example,"
			       "b-5@carrier,trunk-a,caller,52500,7,6000,flag,"
			       "\"irsf.risky_calls: 11 calls, \"\"premium\"\"\"\n";
static const char line_id4[] = "4,2026-03-15T10:00:00.003Z,,2026-03-15T10:00:02.003Z,0,103,BUSY,486,tier2,"
			       "+44200000003,+15550000003,a-3@sy.example,b-3@carrier,trunk-a,caller,0,0,0,,\n";

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

static int setup_dir(void **state)
{
	char *tmpl = strdup("/tmp/sy_test_cdr.XXXXXX");
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

static char *path_in(const char *dir, const char *name)
{
	static char buf[4][1024];
	static int k;
	char *p = buf[k++ % 4];
	snprintf(p, sizeof buf[0], "%s/%s", dir, name);
	return p;
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

/* Line k (0 = header) of a CSV without quoted newlines, copied into out. */
static size_t csv_lines(const char *b, size_t len, size_t want, char *out, size_t out_len)
{
	size_t line = 0, start = 0;
	for (size_t i = 0; i < len; i++) {
		if (b[i] != '\n')
			continue;
		if (line == want && out != NULL) {
			size_t n = SY_MIN(i + 1 - start, out_len - 1);
			memcpy(out, b + start, n);
			out[n] = '\0';
		}
		line++;
		start = i + 1;
	}
	return line;
}

static int64_t sql_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void test_iso8601_table(void **state)
{
	(void)state;
	static const struct {
		uint64_t ns;
		const char *want;
	} cases[] = {
	    {0, "1970-01-01T00:00:00.000Z"},
	    {1767225601250000000ull, "2026-01-01T00:00:01.250Z"},
	    {1709210096789000000ull, "2024-02-29T12:34:56.789Z"}, /* leap day */
	    {951868799999999999ull, "2000-02-29T23:59:59.999Z"},  /* 400-year leap, truncated */
	    {4107542400000000000ull, "2100-03-01T00:00:00.000Z"}, /* 2100 is not leap */
	    {1767225599999999999ull, "2025-12-31T23:59:59.999Z"}, /* no rounding into next year */
	    {1999999, "1970-01-01T00:00:00.001Z"},		  /* 1.999999 ms -> .001 */
	    {1250999999, "1970-01-01T00:00:01.250Z"},
	    {UINT64_MAX, "2554-07-21T23:34:33.709Z"},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		char buf[CDR_ISO8601_LEN + 1];
		memset(buf, 'x', sizeof buf);
		assert_int_equal(cdr_fmt_iso8601(cases[i].ns, buf), CDR_ISO8601_LEN);
		assert_string_equal(buf, cases[i].want);
	}
}

static void test_names(void **state)
{
	(void)state;
	static const char *const want[] = {"NONE",	 "ANSWERED",	    "BUSY",	  "NO_ANSWER",
					   "FAILED",	 "CANCELLED",	    "NO_ROUTE",	  "TIMEOUT",
					   "CONGESTION", "SESSION_EXPIRED", "BYE_TIMEOUT"};
	_Static_assert(SY_ARRAY_LEN(want) == CDR_DISP_COUNT, "one name per disposition");
	for (int d = 0; d < CDR_DISP_COUNT; d++)
		assert_string_equal(cdr_disposition_name((enum cdr_disposition)d), want[d]);
	assert_string_equal(cdr_disposition_name((enum cdr_disposition)99), "?");
	assert_string_equal(cdr_side_name(CDR_SIDE_NONE), "");
	assert_string_equal(cdr_side_name(CDR_SIDE_CALLER), "caller");
	assert_string_equal(cdr_side_name(CDR_SIDE_CALLEE), "callee");
	assert_string_equal(cdr_side_name(CDR_SIDE_SYSTEM), "system");
}

static void test_set_str_truncation(void **state)
{
	(void)state;
	static const struct {
		struct sy_str in;
		const char *want; /* into an 8-byte field: at most 7 bytes */
	} cases[] = {
	    {{"short", 5}, "short"},
	    {{"exactly7", 7}, "exactly"},
	    {{"much longer than eight", 22}, "much lo"},
	    {{"abcde\xc3\xa9xyz", 10}, "abcde\xc3\xa9"},		       /* é fits exactly */
	    {{"abcdef\xc3\xa9xyz", 11}, "abcdef"},			       /* é would be split */
	    {{"abcd\xe2\x82\xac\xe2\x82\xac", 10}, "abcd\xe2\x82\xac"},	       /* one € fits */
	    {{"abcde\xe2\x82\xac", 8}, "abcde"},			       /* € would be split */
	    {{"\x80\x80\x80\x80\x80\x80\x80\x80\x80", 9}, "\x80\x80\x80\x80"}, /* not UTF-8: bounded */
	    {{"ab\0cd", 5}, "ab"},					       /* stops at NUL */
	    {{NULL, 0}, ""},
	    {{"", 0}, ""},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		char dst[8];
		memset(dst, 'z', sizeof dst);
		cdr_set_str(dst, sizeof dst, cases[i].in);
		assert_string_equal(dst, cases[i].want);
	}
	struct cdr c;
	char longid[300];
	memset(longid, 'k', sizeof longid);
	CDR_SET_STR(&c, a_call_id, ((struct sy_str){longid, sizeof longid}));
	assert_int_equal(strlen(c.a_call_id), CDR_CALLID_MAX - 1);
}

static void test_csv_line(void **state)
{
	(void)state;
	char buf[CDR_CSV_LINE_MAX];
	struct cdr c;
	gen_cdr(5, &c);
	size_t n = cdr_csv_line(&c, buf);
	assert_int_equal(n, strlen(line_id6));
	assert_memory_equal(buf, line_id6, n);
	gen_cdr(3, &c); /* unanswered: empty answer field */
	n = cdr_csv_line(&c, buf);
	assert_int_equal(n, strlen(line_id4));
	assert_memory_equal(buf, line_id4, n);

	/* Worst case: every string at capacity and all quotes; bounded. */
	memset(&c, 0, sizeof c);
	c.id = UINT64_MAX, c.start_ns = c.answer_ns = c.end_ns = UINT64_MAX;
	c.duration_ms = c.pdd_ms = c.tariff_id = c.rated_ms = UINT32_MAX;
	c.cost_micros = INT64_MIN, c.sip_status = UINT16_MAX;
	memset(c.carrier, '"', sizeof c.carrier); /* no NUL: bounded by the array */
	memset(c.caller, '"', sizeof c.caller);
	memset(c.callee, '"', sizeof c.callee);
	memset(c.a_call_id, '"', sizeof c.a_call_id);
	memset(c.b_call_id, '"', sizeof c.b_call_id);
	n = cdr_csv_line(&c, buf);
	assert_true(n <= CDR_CSV_LINE_MAX);
	assert_int_equal(buf[n - 1], '\n');
	assert_non_null(memmem(buf, n, ",-9223372036854775808,", 22));

	/* A CR or LF inside a field is quoted, not emitted as a bare line break. */
	gen_cdr(1, &c);
	CDR_SET_STR(&c, carrier, SY_STR("a\nb"));
	n = cdr_csv_line(&c, buf);
	assert_non_null(memmem(buf, n, ",\"a\nb\",", 7));
	CDR_SET_STR(&c, carrier, SY_STR("a\rb"));
	n = cdr_csv_line(&c, buf);
	assert_non_null(memmem(buf, n, ",\"a\rb\",", 7));
}

static void write_cdrs(const char *dir, uint32_t from, uint32_t to, const struct cdr_store_opts *o)
{
	struct cdr_store *s = NULL;
	assert_int_equal(cdr_store_open(sy_live_files(), dir, o, &s), SY_OK);
	assert_non_null(s);
	for (uint32_t i = from; i < to; i++) {
		struct cdr c;
		gen_cdr(i, &c);
		assert_int_equal(cdr_store_add(s, &c), SY_OK);
	}
	assert_int_equal(cdr_store_close(s), SY_OK);
}

static void check_row_id6(sqlite3 *db)
{
	sqlite3_stmt *st6;
	assert_int_equal(
	    sqlite3_prepare_v2(db,
			       "SELECT start_ns,answer_ns,end_ns,duration_ms,pdd_ms,disposition,sip_status,"
			       "carrier,caller,callee,a_call_id,b_call_id,hangup,cost_micros,tariff_id,"
			       "rated_ms FROM cdrs WHERE id = 6",
			       -1, &st6, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st6), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int64(st6, 0), T0_NS + 5000000);
	assert_int_equal(sqlite3_column_int64(st6, 1), T0_NS + 605123456);
	assert_int_equal(sqlite3_column_int64(st6, 2), T0_NS + 5855123456);
	assert_int_equal(sqlite3_column_int64(st6, 3), 5250);
	assert_int_equal(sqlite3_column_int64(st6, 4), 105);
	assert_string_equal((const char *)sqlite3_column_text(st6, 5), "ANSWERED");
	assert_int_equal(sqlite3_column_int64(st6, 6), 200);
	assert_string_equal((const char *)sqlite3_column_text(st6, 7), "Acme, \"Tier1\"");
	assert_string_equal((const char *)sqlite3_column_text(st6, 8), "+44200000005");
	assert_string_equal((const char *)sqlite3_column_text(st6, 9), "+15550000005");
	assert_string_equal((const char *)sqlite3_column_text(st6, 10), "a-5@sy.example");
	assert_string_equal((const char *)sqlite3_column_text(st6, 11), "b-5@carrier");
	assert_string_equal((const char *)sqlite3_column_text(st6, 12), "caller");
	assert_int_equal(sqlite3_column_int64(st6, 13), 52500);
	assert_int_equal(sqlite3_column_int64(st6, 14), 7);
	assert_int_equal(sqlite3_column_int64(st6, 15), 6000);
	assert_int_equal(sqlite3_step(st6), SQLITE_DONE); /* ids are unique */
	sqlite3_finalize(st6);
}

/* A schema-1 file (before the account column) is upgraded in place, two
 * steps (account, then the fraud columns): its rows stay, new rows carry
 * the account and the fraud decision. */
static void test_store_upgrade_v1(void **state)
{
	const char *dir = *state;
	sqlite3 *db;
	char *path = path_in(dir, "cdrs.sqlite");
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db,
			 "CREATE TABLE cdrs (id INTEGER NOT NULL, start_ns INTEGER NOT NULL, answer_ns INTEGER "
			 "NOT NULL DEFAULT 0, end_ns INTEGER NOT NULL, duration_ms INTEGER NOT NULL DEFAULT 0, "
			 "pdd_ms INTEGER NOT NULL DEFAULT 0, disposition TEXT NOT NULL, sip_status INTEGER NOT "
			 "NULL DEFAULT 0, carrier TEXT NOT NULL DEFAULT '', caller TEXT NOT NULL DEFAULT '', "
			 "callee TEXT NOT NULL DEFAULT '', a_call_id TEXT NOT NULL DEFAULT '', b_call_id TEXT "
			 "NOT NULL DEFAULT '', hangup TEXT NOT NULL DEFAULT '', cost_micros INTEGER NOT NULL "
			 "DEFAULT 0, tariff_id INTEGER NOT NULL DEFAULT 0, rated_ms INTEGER NOT NULL DEFAULT 0);"
			 "INSERT INTO cdrs (id,start_ns,end_ns,disposition) VALUES (1,1,2,'BUSY');"
			 "PRAGMA user_version=1;",
			 NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	write_cdrs(dir, 1, 6, NULL); /* ids 2..6; id 6 is gen_cdr(5): trunk-a */
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT count(*), sum(account = 'trunk-a'), sum(id = 1 AND account = ''),"
					    " sum(fraud = 'flag' AND fraud_reason LIKE 'irsf.%'), sum(fraud = '')"
					    " FROM cdrs",
					    -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int64(st, 0), 6);
	assert_int_equal(sqlite3_column_int64(st, 1), 3); /* gen_cdr 1, 3, 5 */
	assert_int_equal(sqlite3_column_int64(st, 2), 1);
	assert_int_equal(sqlite3_column_int64(st, 3), 1); /* id 6: gen_cdr(5) */
	assert_int_equal(sqlite3_column_int64(st, 4), 5); /* the old row too */
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int64(st, 0), 3);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void test_store_10k(void **state)
{
	const char *dir = *state;
	struct cdr_store *s = NULL;
	assert_int_equal(cdr_store_open(sy_live_files(), dir, NULL, &s), SY_OK);
	assert_int_equal(cdr_store_last_id(s), 0);
	for (uint32_t i = 0; i < 10000; i++) {
		struct cdr c;
		gen_cdr(i, &c);
		assert_int_equal(cdr_store_add(s, &c), SY_OK);
	}
	struct cdr_store_stats st;
	cdr_store_stats(s, &st);
	assert_int_equal(st.written, 8192); /* two full batches of 4096 */
	assert_int_equal(st.batches, 2);
	assert_int_equal(st.pending, 10000 - 8192);
	assert_int_equal(st.errors, 0);
	assert_int_equal(cdr_store_flush(s), SY_OK);
	cdr_store_stats(s, &st);
	assert_int_equal(st.written, 10000);
	assert_int_equal(st.batches, 3);
	assert_int_equal(st.pending, 0);
	assert_int_equal(cdr_store_flush(s), SY_OK); /* empty: no batch */
	cdr_store_stats(s, &st);
	assert_int_equal(st.batches, 3);
	assert_int_equal(cdr_store_last_id(s), 10000);
	assert_string_equal(cdr_store_errmsg(s), "");
	assert_int_equal(cdr_store_close(s), SY_OK);

	sqlite3 *db;
	assert_int_equal(sqlite3_open(path_in(dir, "cdrs.sqlite"), &db), SQLITE_OK);
	assert_int_equal(sql_int(db, "SELECT count(*) FROM cdrs"), 10000);
	assert_int_equal(sql_int(db, "SELECT count(*) FROM cdrs WHERE answer_ns = 0"), 3334);
	check_row_id6(db);
	sqlite3_stmt *jm;
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &jm, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(jm), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(jm, 0), "wal");
	sqlite3_finalize(jm);
	sqlite3_close(db);

	size_t len;
	char *csv = slurp(path_in(dir, "cdrs.csv"), &len);
	char line[CDR_CSV_LINE_MAX + 1];
	assert_int_equal(csv_lines(csv, len, 0, line, sizeof line), 10001);
	assert_string_equal(line, cdr_csv_header);
	csv_lines(csv, len, 6, line, sizeof line);
	assert_string_equal(line, line_id6);
	csv_lines(csv, len, 4, line, sizeof line);
	assert_string_equal(line, line_id4);
	free(csv);
}

static void test_store_reopen_appends(void **state)
{
	const char *dir = *state;
	write_cdrs(dir, 0, 100, NULL);
	struct cdr_store *s = NULL;
	assert_int_equal(cdr_store_open(sy_live_files(), dir, NULL, &s), SY_OK);
	assert_int_equal(cdr_store_last_id(s), 100); /* a restarted node resumes ids */
	for (uint32_t i = 100; i < 105; i++) {
		struct cdr c;
		gen_cdr(i, &c);
		assert_int_equal(cdr_store_add(s, &c), SY_OK);
	}
	assert_int_equal(cdr_store_close(s), SY_OK);

	sqlite3 *db;
	assert_int_equal(sqlite3_open(path_in(dir, "cdrs.sqlite"), &db), SQLITE_OK);
	assert_int_equal(sql_int(db, "SELECT count(*) FROM cdrs"), 105);
	assert_int_equal(sql_int(db, "SELECT max(id) FROM cdrs"), 105);
	sqlite3_close(db);
	size_t len;
	char *csv = slurp(path_in(dir, "cdrs.csv"), &len);
	assert_int_equal(csv_lines(csv, len, 0, NULL, 0), 106); /* one header */
	assert_null(strstr(csv + strlen(cdr_csv_header), "id,start"));
	free(csv);
}

/* A crash can leave the CSV without its final newline; appending must not
 * glue the next record onto the torn line. */
static void test_store_torn_csv(void **state)
{
	const char *dir = *state;
	write_cdrs(dir, 0, 3, &(struct cdr_store_opts){.no_sqlite = true});
	FILE *f = fopen(path_in(dir, "cdrs.csv"), "ab");
	assert_non_null(f);
	fputs("99,2026-03-15T1", f);
	fclose(f);
	write_cdrs(dir, 3, 4, &(struct cdr_store_opts){.no_sqlite = true});
	size_t len;
	char *csv = slurp(path_in(dir, "cdrs.csv"), &len);
	char line[CDR_CSV_LINE_MAX + 1];
	assert_int_equal(csv_lines(csv, len, 4, line, sizeof line), 6);
	assert_string_equal(line, "99,2026-03-15T1\n");
	csv_lines(csv, len, 5, line, sizeof line);
	assert_string_equal(line, line_id4);
	free(csv);
}

/* Same CDRs, two stores, small batches in one of them: the CSV bytes match. */
static void test_store_deterministic(void **state)
{
	const char *dir = *state;
	char a[256], b[256];
	snprintf(a, sizeof a, "%s/a", dir);
	snprintf(b, sizeof b, "%s/b", dir);
	write_cdrs(a, 0, 3000, NULL);
	write_cdrs(b, 0, 3000, &(struct cdr_store_opts){.no_sqlite = true, .batch_max = 7});
	size_t la, lb;
	char *ca = slurp(path_in(a, "cdrs.csv"), &la), *cb = slurp(path_in(b, "cdrs.csv"), &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(ca, cb, la);
	free(ca);
	free(cb);
	assert_int_equal(access(path_in(b, "cdrs.sqlite"), F_OK), -1); /* sqlite off */
}

static void test_store_unwritable(void **state)
{
	const char *dir = *state;
	FILE *f = fopen(path_in(dir, "plainfile"), "w");
	assert_non_null(f);
	fclose(f);
	char sub[512], err[CDR_STORE_ERRMSG_MAX];
	struct {
		const char *path;
		struct cdr_store_opts o;
		const char *needle;
	} cases[] = {
	    {path_in(dir, "plainfile/sub"), {0}, "cannot create directory"},  /* parent is a file */
	    {path_in(dir, "plainfile"), {0}, "cdrs.sqlite"},		      /* dir is a file */
	    {path_in(dir, "plainfile"), {.no_sqlite = true}, "cdrs.csv"},     /* csv only */
	    {"/nonexistent-sy/deeper/dir", {0}, "No such file or directory"}, /* no parent */
	    {dir, {.batch_max = CDR_STORE_BATCH_MAX + 1}, "batch_max"},	      /* bad option */
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		snprintf(sub, sizeof sub, "%s", cases[i].path);
		cases[i].o.err = err;
		cases[i].o.err_len = sizeof err;
		struct cdr_store *s = (struct cdr_store *)0x1;
		enum sy_rc rc = cdr_store_open(sy_live_files(), sub, &cases[i].o, &s);
		assert_int_not_equal(rc, SY_OK);
		assert_null(s);
		assert_non_null(strstr(err, cases[i].needle));
		assert_non_null(strstr(err, "cdr store"));
	}
	/* Without an error buffer it still fails cleanly. */
	struct cdr_store *s = NULL;
	assert_int_equal(cdr_store_open(sy_live_files(), path_in(dir, "plainfile/x"), NULL, &s), SY_ERR_IO);
	assert_null(s);
	assert_int_equal(cdr_store_close(NULL), SY_OK);
}

/* The disk is full: the flush fails with sqlite's message, the batch is
 * kept, adds to it are refused, and once there is room again the retry
 * writes every CDR once to both outputs. */
static void test_store_full_then_retry(void **state)
{
	const char *dir = *state;
	struct cdr_store_opts o = {.batch_max = 4, .busy_timeout_ms = 1};
	struct cdr_store *s = NULL;
	struct faultfs ff;
	faultfs_init(&ff);
	assert_int_equal(cdr_store_open(&ff.env, dir, &o, &s), SY_OK);
	ff.full = true;

	struct cdr c;
	for (uint32_t i = 0; i < 4; i++) { /* the 4th fills the batch: flush fails */
		gen_cdr(i, &c);
		assert_int_equal(cdr_store_add(s, &c), SY_OK);
	}
	gen_cdr(4, &c);
	assert_int_equal(cdr_store_add(s, &c), SY_ERR_IO); /* full: refused */
	assert_int_equal(cdr_store_flush(s), SY_ERR_IO);
	assert_non_null(strstr(cdr_store_errmsg(s), "full"));
	struct cdr_store_stats st;
	cdr_store_stats(s, &st);
	assert_int_equal(st.errors, 3);
	assert_int_equal(st.pending, 4);
	assert_int_equal(st.written, 0);

	ff.full = false;
	assert_int_equal(cdr_store_add(s, &c), SY_OK); /* flushes the 4, then queues */
	assert_int_equal(cdr_store_close(s), SY_OK);
	sqlite3 *other;
	assert_int_equal(sqlite3_open(path_in(dir, "cdrs.sqlite"), &other), SQLITE_OK);
	assert_int_equal(sql_int(other, "SELECT count(*) FROM cdrs"), 5);
	assert_int_equal(sql_int(other, "SELECT count(DISTINCT id) FROM cdrs"), 5);
	sqlite3_close(other);
	size_t len;
	char *csv = slurp(path_in(dir, "cdrs.csv"), &len);
	assert_int_equal(csv_lines(csv, len, 0, NULL, 0), 6);
	free(csv);
}

/* fsync fails: commits go on into the WAL until the store's next
 * checkpoint fails; from then on it commits nothing (the disk may have
 * dropped pages) until a checkpoint succeeds, and then every CDR is on
 * disk once. */
static void test_store_fsync_fail(void **state)
{
	const char *dir = *state;
	struct cdr_store_opts o = {.batch_max = 8};
	struct cdr_store *s = NULL;
	struct faultfs ff;
	faultfs_init(&ff);
	assert_int_equal(cdr_store_open(&ff.env, dir, &o, &s), SY_OK);
	ff.sync_fail = true;
	struct cdr c;
	uint32_t n = 0;
	enum sy_rc rc = SY_OK;
	for (; n < 4000 && rc == SY_OK; n++) { /* bounded: 256 WAL pages come long before */
		gen_cdr(n, &c);
		assert_int_equal(cdr_store_add(s, &c), SY_OK);
		rc = cdr_store_flush(s);
	}
	assert_int_equal(rc, SY_ERR_IO);
	assert_non_null(strstr(cdr_store_errmsg(s), "checkpoint"));
	assert_true(ff.refused > 0);
	gen_cdr(n, &c);
	assert_int_equal(cdr_store_add(s, &c), SY_OK);	 /* joins the kept batch */
	assert_int_equal(cdr_store_flush(s), SY_ERR_IO); /* still shut */
	struct cdr_store_stats st;
	cdr_store_stats(s, &st);
	assert_int_equal(st.pending, 2);
	ff.sync_fail = false;
	assert_int_equal(cdr_store_flush(s), SY_OK);
	assert_int_equal(cdr_store_close(s), SY_OK);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path_in(dir, "cdrs.sqlite"), &db), SQLITE_OK);
	assert_int_equal(sql_int(db, "SELECT count(*) FROM cdrs"), n + 1);
	assert_int_equal(sql_int(db, "SELECT count(DISTINCT id) FROM cdrs"), n + 1);
	sqlite3_close(db);
}

/* The store's locks are sqlite's own (through the env's file_lock): the
 * sqlite of another process, here a child with the stock unix VFS, is
 * refused while the store is open instead of checkpointing the WAL under
 * it, and reads every row once the store is closed. */
static int other_process_count(const char *path)
{
	pid_t pid = fork();
	if (pid == 0) {
		sqlite3 *db = NULL;
		int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
		sqlite3_stmt *st = NULL;
		if (rc == SQLITE_OK)
			rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM cdrs", -1, &st, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_step(st);
		int code = rc == SQLITE_ROW ? (int)sqlite3_column_int(st, 0) : rc == SQLITE_BUSY ? 200 : 201;
		sqlite3_finalize(st);
		sqlite3_close(db);
		_exit(code);
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void test_store_locked_against_other_process(void **state)
{
	const char *dir = *state;
	struct cdr_store *s = NULL;
	assert_int_equal(cdr_store_open(sy_live_files(), dir, NULL, &s), SY_OK);
	struct cdr c;
	for (uint32_t i = 0; i < 3; i++) {
		gen_cdr(i, &c);
		assert_int_equal(cdr_store_add(s, &c), SY_OK);
	}
	assert_int_equal(cdr_store_flush(s), SY_OK);
	assert_int_equal(other_process_count(path_in(dir, "cdrs.sqlite")), 200); /* SQLITE_BUSY */
	assert_int_equal(cdr_store_close(s), SY_OK);
	assert_int_equal(other_process_count(path_in(dir, "cdrs.sqlite")), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_iso8601_table),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_set_str_truncation),
	    cmocka_unit_test(test_csv_line),
	    cmocka_unit_test_setup_teardown(test_store_10k, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_store_reopen_appends, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_store_torn_csv, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_store_deterministic, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_store_unwritable, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_store_full_then_retry, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_store_fsync_fail, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_store_upgrade_v1, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_store_locked_against_other_process, setup_dir, teardown_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
