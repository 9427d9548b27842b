/* test_rate.c: the charge arithmetic (tables of duration -> charge for
 * 60/60, 30/6, 1/1, 0/6, minimums, connection fees, zero duration), rating
 * calls and SMS/USSD events on the sample tariff, and batch re-rating of a
 * small CDR CSV against an exact expected file and exact error lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/live/live.h"
#include "core/billing/rate.h"

#define MON 1704067200ull /* 2024-01-01 00:00:00 UTC, a Monday */
#define DAY 86400ull

static void test_charge_tables(void **state)
{
	/* rate micros/min, fee micros, first, next, minimum s */
	static const struct bill_tariff_entry e6060 = {.rate_micros = 20000, .first_s = 60, .next_s = 60};
	static const struct bill_tariff_entry e306 = {
	    .rate_micros = 15000, .fee_micros = 10000, .first_s = 30, .next_s = 6};
	static const struct bill_tariff_entry e11 = {.rate_micros = 10000, .first_s = 1, .next_s = 1};
	static const struct bill_tariff_entry emin = {.rate_micros = 90000, .first_s = 1, .next_s = 1, .min_s = 30};
	static const struct bill_tariff_entry e06 = {.rate_micros = 60000, .first_s = 0, .next_s = 6};
	static const struct bill_tariff_entry e0123 = {.rate_micros = 12300, .first_s = 1, .next_s = 1};
	static const struct {
		const struct bill_tariff_entry *e;
		uint32_t dur_ms, rated_ms;
		int64_t cost;
	} cases[] = {
	    {&e6060, 0, 0, 0}, /* not connected: free, no minimum */
	    {&e6060, 1, 60000, 20000},
	    {&e6060, 60000, 60000, 20000},
	    {&e6060, 60001, 120000, 40000},
	    {&e6060, 119999, 120000, 40000},
	    {&e6060, UINT32_MAX, UINT32_MAX, 1431660000}, /* 4294980 s billed; rated_ms saturates */
	    {&e306, 0, 0, 0},				  /* no connection fee either */
	    {&e306, 1000, 30000, 17500},		  /* fee 10000 + 15000 * 30 / 60 */
	    {&e306, 30000, 30000, 17500},
	    {&e306, 30001, 36000, 19000},
	    {&e306, 36000, 36000, 19000},
	    {&e306, 36001, 42000, 20500},
	    {&e11, 1, 1000, 167}, /* 166.67 micros rounds up */
	    {&e11, 999, 1000, 167},
	    {&e11, 1000, 1000, 167},
	    {&e11, 1001, 2000, 334},
	    {&e11, 59000, 59000, 9834}, /* 9833.33 */
	    {&e11, 60000, 60000, 10000},
	    {&emin, 1000, 30000, 45000},
	    {&emin, 30000, 30000, 45000},
	    {&emin, 30001, 31000, 46500},
	    {&emin, 0, 0, 0},
	    {&e06, 1, 6000, 6000},
	    {&e06, 6000, 6000, 6000},
	    {&e06, 6001, 12000, 12000},
	    {&e0123, 1000, 1000, 205}, /* exact: 12300 / 60 */
	    {&e0123, 7000, 7000, 1435},
	    {&e0123, 61000, 61000, 12505},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		uint32_t rated = 7;
		int64_t cost = bill_charge_call(cases[i].e, cases[i].dur_ms, &rated);
		if (cost != cases[i].cost || rated != cases[i].rated_ms)
			fail_msg("case %zu: %u ms -> cost %lld rated %u", i, cases[i].dur_ms, (long long)cost, rated);
	}
}

static void load_sample(struct bill_tariff *t)
{
	char err[BILL_ERR_MAX];
	struct bill_tariff_opts o = {.err = err, .err_len = sizeof err};
	if (bill_tariff_load_file(sy_live_files(), t, "tests/data/tariff/sample.csv", &o) != SY_OK)
		fail_msg("%s", err);
}

static void test_rate_calls_and_events(void **state)
{
	struct bill_tariff t;
	load_sample(&t);
	static const struct {
		const char *number;
		uint64_t at;
		uint32_t dur_ms;
		enum sy_rc rc;
		int64_t cost;
		uint32_t id, rated_ms;
		const char *band;
	} cases[] = {
	    {"+442079460000", MON + 9 * 3600, 65000, SY_OK, 26500, 3, 66000, "peak"},
	    {"442079460000", MON + 7 * 3600, 65000, SY_OK, 18800, 4, 66000, "offpeak"},
	    {"442079460000", MON + 5 * DAY, 65000, SY_OK, 5500, 5, 66000, "weekend"},
	    {"441234567", MON, 61000, SY_OK, 40000, 2, 120000, ""},
	    {"447911123456", MON, 12345, SY_OK, 45000, 6, 30000, ""},
	    {"12125550100", MON, 0, SY_OK, 0, 1, 0, ""},
	    {"33123456789", MON, 5000, SY_ERR_NOTFOUND, 0, 0, 0, ""},
	};
	struct bill_call calls[SY_ARRAY_LEN(cases)];
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		struct bill_rating r;
		enum sy_rc rc = bill_rate_call(&t, sy_str_from(cases[i].number), cases[i].at, cases[i].dur_ms, &r);
		if (rc != cases[i].rc || r.cost_micros != cases[i].cost || r.tariff_id != cases[i].id ||
		    r.rated_ms != cases[i].rated_ms || strcmp(bill_tariff_band_name(&t, r.band), cases[i].band) != 0)
			fail_msg("case %zu: rc %d cost %lld id %u rated %u", i, rc, (long long)r.cost_micros,
				 r.tariff_id, r.rated_ms);
		calls[i] = (struct bill_call){sy_str_from(cases[i].number), cases[i].at, cases[i].dur_ms};
	}
	struct bill_rating many[SY_ARRAY_LEN(cases)];
	assert_int_equal(bill_rate_calls(&t, calls, SY_ARRAY_LEN(cases), many), SY_ARRAY_LEN(cases) - 1);
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		assert_int_equal(many[i].cost_micros, cases[i].cost);
		assert_int_equal(many[i].tariff_id, cases[i].id);
		assert_int_equal(many[i].rated_ms, cases[i].rated_ms);
	}
	struct bill_rating r;
	assert_int_equal(bill_rate_event(&t, BILL_SVC_SMS, SY_STR("447911123456"), MON, 1, &r), SY_OK);
	assert_int_equal(r.cost_micros, 35000);
	assert_int_equal(r.tariff_id, 8);
	assert_int_equal(bill_rate_event(&t, BILL_SVC_SMS, SY_STR("447911123456"), MON, 3, &r), SY_OK);
	assert_int_equal(r.cost_micros, 105000);
	assert_int_equal(bill_rate_event(&t, BILL_SVC_USSD, SY_STR("44"), MON, 1, &r), SY_OK);
	assert_int_equal(r.cost_micros, 3000); /* fee 0.001 + 0.002 per session */
	assert_int_equal(bill_rate_event(&t, BILL_SVC_USSD, SY_STR("44"), MON, 0, &r), SY_OK);
	assert_int_equal(r.cost_micros, 0);
	assert_int_equal(bill_rate_event(&t, BILL_SVC_SMS, SY_STR("49"), MON, 1, &r), SY_ERR_NOTFOUND);
	assert_int_equal(r.tariff_id, 0);
	assert_int_equal(bill_rate_event(&t, BILL_SVC_VOICE, SY_STR("44"), MON, 1, &r), SY_ERR_INVAL);
	assert_int_equal(bill_rate_event(&t, BILL_SVC_SMS, SY_STR("44"), MON, BILL_EVENTS_MAX + 1, &r), SY_ERR_INVAL);
	bill_tariff_free(&t);
}

static void test_iso8601(void **state)
{
	static const struct {
		const char *s;
		bool ok;
		uint64_t epoch_s;
	} cases[] = {
	    {"1970-01-01T00:00:00.000Z", true, 0},	    {"2024-01-01T00:00:00.000Z", true, MON},
	    {"2024-02-29T23:59:59.999Z", true, 1709251199}, {"2024-01-01T00:00:00Z", false, 0},
	    {"2024-13-01T00:00:00.000Z", false, 0},	    {"2024-01-01 00:00:00.000Z", false, 0},
	    {"1969-12-31T23:59:59.000Z", false, 0},	    {"2024-01-01T24:00:00.000Z", false, 0},
	    {"2024-01-01T00:00:00.00xZ", false, 0},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		uint64_t v = 0;
		bool ok = bill_parse_iso8601(sy_str_from(cases[i].s), &v);
		if (ok != cases[i].ok || (ok && v != cases[i].epoch_s))
			fail_msg("'%s': %d %llu", cases[i].s, ok, (unsigned long long)v);
	}
}

struct errs {
	char text[2048];
	size_t n;
};

static void collect(void *arg, const char *msg)
{
	struct errs *e = arg;
	size_t l = strlen(e->text);
	snprintf(e->text + l, sizeof e->text - l, "%s\n", msg);
	e->n++;
}

static char *slurp(FILE *f, size_t *len)
{
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
	b[n] = '\0';
	*len = (size_t)n;
	return b;
}

/* Rates text (written to a temp file) into another temp file. */
static enum sy_rc rate_text(const struct bill_tariff *t, const char *in_text, size_t in_len, char **out,
			    size_t *out_len, struct errs *e, struct bill_batch_stats *st)
{
	FILE *in = tmpfile(), *o = tmpfile();
	assert_non_null(in);
	assert_non_null(o);
	assert_int_equal(fwrite(in_text, 1, in_len, in), in_len);
	fflush(in);
	rewind(in);
	memset(e, 0, sizeof *e);
	/* The env opens by path: reopen the temporary files through /proc. */
	const struct sy_env *env = sy_live_files();
	char in_path[64], out_path[64];
	snprintf(in_path, sizeof in_path, "/proc/self/fd/%d", fileno(in));
	snprintf(out_path, sizeof out_path, "/proc/self/fd/%d", fileno(o));
	struct sy_file *in_f, *out_f;
	assert_int_equal(sy_env_file_open(env, in_path, SY_FILE_READ, &in_f), SY_OK);
	assert_int_equal(sy_env_file_open(env, out_path, SY_FILE_WRITE, &out_f), SY_OK);
	enum sy_rc rc = bill_rate_csv(t, env, in_f, "cdrs.csv", out_f, collect, e, st);
	sy_env_file_close(env, in_f);
	sy_env_file_close(env, out_f);
	*out = slurp(o, out_len);
	fclose(in);
	fclose(o);
	return rc;
}

static void test_batch_csv(void **state)
{
	struct bill_tariff t;
	load_sample(&t);
	FILE *f = fopen("tests/data/tariff/cdrs.csv", "rb"), *g = fopen("tests/data/tariff/rated.csv", "rb");
	assert_non_null(f);
	assert_non_null(g);
	size_t in_len, want_len, out_len;
	char *in = slurp(f, &in_len), *want = slurp(g, &want_len), *out;
	fclose(f);
	fclose(g);
	struct errs e;
	struct bill_batch_stats st;
	assert_int_equal(rate_text(&t, in, in_len, &out, &out_len, &e, &st), SY_OK);
	assert_int_equal(out_len, want_len);
	assert_memory_equal(out, want, want_len);
	assert_string_equal(e.text, "cdrs.csv:7: bad duration_ms 'abc'\n"
				    "cdrs.csv:10: expected 18 fields, got 17\n"
				    "cdrs.csv:12: bad start '2024-13-01T12:00:00.000Z'\n");
	assert_int_equal(st.rows, 12);
	assert_int_equal(st.rated, 8);
	assert_int_equal(st.unrated, 1);
	assert_int_equal(st.bad, 3);
	assert_int_equal(st.cost_micros, 100805);
	free(out);

	/* Rating the output again changes nothing: the rated columns are
	 * recomputed, everything else is copied. */
	assert_int_equal(rate_text(&t, want, want_len, &out, &out_len, &e, &st), SY_OK);
	assert_int_equal(out_len, want_len);
	assert_memory_equal(out, want, want_len);
	assert_int_equal(e.n, 0);
	free(out);
	free(in);
	free(want);
	bill_tariff_free(&t);
}

/* The current CDR CSV (issue 12: fraud, fraud_reason after the rating
 * columns): rated the same, the fraud columns copied as they are (a CR
 * line end normalised like the rest); a row without them is refused. */
static void test_batch_fraud_columns(void **state)
{
	struct bill_tariff t;
	load_sample(&t);
	static const char in[] =
	    "id,start,answer,end,duration_ms,pdd_ms,disposition,sip_status,carrier,caller,callee,a_call_id,b_call_id,"
	    "account,hangup,cost_micros,tariff_id,rated_ms,fraud,fraud_reason\n"
	    "1,2024-01-01T08:59:58.000Z,2024-01-01T09:00:00.500Z,2024-01-01T09:01:05.500Z,65000,120,ANSWERED,200,"
	    "tier1,+15551230000,+442079460000,a1@x,b1@y,,caller,0,0,0,flag,\"irsf.premium_max: 11m, \"\"x\"\"\"\r\n"
	    "2,2024-01-01T10:00:00.000Z,,2024-01-01T10:00:20.000Z,0,300,NO_ANSWER,480,tier1,+15551230000,12125550100,"
	    "a2@x,b2@y,,system,0,0,0,,\n"
	    "3,2024-01-01T10:00:00.000Z,,2024-01-01T10:00:20.000Z,0,300,NO_ANSWER,480,tier1,+15551230000,12125550100,"
	    "a2@x,b2@y,,system,0,0,0\n";
	static const char want[] =
	    "id,start,answer,end,duration_ms,pdd_ms,disposition,sip_status,carrier,caller,callee,a_call_id,b_call_id,"
	    "account,hangup,cost_micros,tariff_id,rated_ms,fraud,fraud_reason\n"
	    "1,2024-01-01T08:59:58.000Z,2024-01-01T09:00:00.500Z,2024-01-01T09:01:05.500Z,65000,120,ANSWERED,200,"
	    "tier1,+15551230000,+442079460000,a1@x,b1@y,,caller,26500,3,66000,flag,\"irsf.premium_max: 11m, "
	    "\"\"x\"\"\"\n"
	    "2,2024-01-01T10:00:00.000Z,,2024-01-01T10:00:20.000Z,0,300,NO_ANSWER,480,tier1,+15551230000,12125550100,"
	    "a2@x,b2@y,,system,0,1,0,,\n";
	struct errs e;
	struct bill_batch_stats st;
	char *out;
	size_t out_len;
	assert_int_equal(rate_text(&t, in, strlen(in), &out, &out_len, &e, &st), SY_OK);
	assert_int_equal(out_len, strlen(want));
	assert_memory_equal(out, want, out_len);
	assert_string_equal(e.text, "cdrs.csv:4: expected 20 fields, got 18\n");
	assert_int_equal(st.rows, 3);
	assert_int_equal(st.bad, 1);
	free(out);
	bill_tariff_free(&t);
}

static void test_batch_errors(void **state)
{
	struct bill_tariff t;
	load_sample(&t);
	static const struct {
		const char *in;
		enum sy_rc rc;
		const char *err;
	} cases[] = {
	    {"", SY_ERR_PARSE, "cdrs.csv:1: empty file: no CDR CSV header\n"},
	    {"id,start\n1,2\n", SY_ERR_PARSE, "cdrs.csv:1: not a switchyard CDR CSV: the header must be '"},
	    {"id,start,answer,end,duration_ms,pdd_ms,disposition,sip_status,carrier,caller,callee,a_call_id,"
	     "b_call_id,account,hangup,cost_micros,tariff_id,rated_ms\r\n\n1,\"unterminated",
	     SY_OK, "cdrs.csv:3: unterminated quote\n"},
	    {"id,start,answer,end,duration_ms,pdd_ms,disposition,sip_status,carrier,caller,callee,a_call_id,"
	     "b_call_id,account,hangup,cost_micros,tariff_id,rated_ms\n1,2\n",
	     SY_OK, "cdrs.csv:2: expected 18 fields, got 2\n"},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		struct errs e;
		struct bill_batch_stats st;
		char *out;
		size_t out_len;
		enum sy_rc rc = rate_text(&t, cases[i].in, strlen(cases[i].in), &out, &out_len, &e, &st);
		if (rc != cases[i].rc || strncmp(e.text, cases[i].err, strlen(cases[i].err)) != 0)
			fail_msg("case %zu: rc %d err '%s'", i, rc, e.text);
		free(out);
	}
	bill_tariff_free(&t);
}

/* Mutated CDR files never crash the batch path; it either processes them
 * (bad rows reported) or stops on the header. */
static void test_batch_mutations(void **state)
{
	struct bill_tariff t;
	load_sample(&t);
	FILE *f = fopen("tests/data/tariff/cdrs.csv", "rb");
	assert_non_null(f);
	size_t len, out_len;
	char *orig = slurp(f, &len), *buf = malloc(len), *out;
	fclose(f);
	static const char alphabet[] = ",\"\n\r0123456789-:TZ.+a";
	uint64_t x = 88172645463325252ull; /* xorshift: the test needs no quality */
	for (int round = 0; round < 300; round++) {
		memcpy(buf, orig, len);
		for (int k = 0; k < 1 + round % 8; k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			buf[x % len] = alphabet[(x >> 32) % (sizeof alphabet - 1)];
		}
		size_t cut = round % 3 == 0 ? (size_t)(x >> 40) % len : len;
		struct errs e;
		struct bill_batch_stats st;
		enum sy_rc rc = rate_text(&t, buf, cut, &out, &out_len, &e, &st);
		assert_true(rc == SY_OK || rc == SY_ERR_PARSE);
		assert_true(st.rows == st.rated + st.unrated + st.bad);
		free(out);
	}
	free(buf);
	free(orig);
	bill_tariff_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_charge_tables),
	    cmocka_unit_test(test_rate_calls_and_events),
	    cmocka_unit_test(test_iso8601),
	    cmocka_unit_test(test_batch_csv),
	    cmocka_unit_test(test_batch_fraud_columns),
	    cmocka_unit_test(test_batch_errors),
	    cmocka_unit_test(test_batch_mutations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
