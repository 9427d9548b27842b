/* test_tariff.c: the tariff CSV loader (header names, quoting, directives),
 * increments parsing, longest-prefix lookup, time bands at their
 * boundaries, error messages with file:line, and the batched lookup against
 * the single one on a random tariff. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "core/live/live.h"
#include "core/billing/tariff.h"
#include "core/rng.h"

#define MON	 1704067200ull /* 2024-01-01 00:00:00 UTC, a Monday */
#define DAY	 86400ull
#define HM(h, m) ((uint64_t)(h)*3600 + (uint64_t)(m)*60)

static const struct bill_tariff_entry *must_load(struct bill_tariff *t, const char *text)
{
	char err[BILL_ERR_MAX];
	struct bill_tariff_opts o = {.err = err, .err_len = sizeof err};
	if (bill_tariff_load_mem(t, "t.csv", text, strlen(text), &o) != SY_OK)
		fail_msg("load: %s", err);
	return t->e;
}

static void test_increments(void **state)
{
	static const struct {
		const char *s;
		bool ok;
		uint32_t first, next;
	} cases[] = {
	    {"60/60", true, 60, 60},  {"30/6", true, 30, 6},
	    {"1/1", true, 1, 1},      {"0/1", true, 0, 1},
	    {"60", true, 60, 60},     {"86400/1", true, 86400, 1},
	    {"60/0", false, 0, 0},    {"0", false, 0, 0},
	    {"86401/1", false, 0, 0}, {"/6", false, 0, 0},
	    {"30/", false, 0, 0},     {"30-6", false, 0, 0},
	    {"30/6/1", false, 0, 0},  {"", false, 0, 0},
	    {"a/b", false, 0, 0},     {"99999999999/1", false, 0, 0},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		uint32_t f = 7, n = 7;
		enum sy_rc rc = bill_parse_increments(sy_str_from(cases[i].s), &f, &n);
		if ((rc == SY_OK) != cases[i].ok || (cases[i].ok && (f != cases[i].first || n != cases[i].next)))
			fail_msg("'%s': rc %d %u/%u", cases[i].s, rc, f, n);
	}
}

static void test_load_sample_file(void **state)
{
	struct bill_tariff t;
	char err[BILL_ERR_MAX];
	struct bill_tariff_opts o = {.ccy = "EUR", .err = err, .err_len = sizeof err};
	if (bill_tariff_load_file(sy_live_files(), &t, "tests/data/tariff/sample.csv", &o) != SY_OK)
		fail_msg("%s", err);
	assert_int_equal(t.n, 9);
	assert_string_equal(t.ccy.code, "USD"); /* the file's column wins over the default */
	const struct bill_tariff_entry *e = bill_tariff_entry(&t, 1);
	assert_non_null(e);
	assert_true(sy_str_eq(bill_tariff_desc(&t, e), SY_STR("USA, Canada")));
	assert_true(sy_str_eq(bill_tariff_prefix(&t, e), SY_STR("1")));
	assert_int_equal(e->rate_micros, 10000);
	assert_int_equal(e->first_s, 6);
	assert_int_equal(e->next_s, 6);
	assert_int_equal(e->line, 7);
	e = bill_tariff_entry(&t, 3);
	assert_int_equal(e->fee_micros, 10000);
	assert_string_equal(bill_tariff_band_name(&t, e->band), "peak");
	e = bill_tariff_entry(&t, 6);
	assert_int_equal(e->min_s, 30);
	e = bill_tariff_entry(&t, 9);
	assert_int_equal(e->service, BILL_SVC_USSD);
	assert_int_equal(e->fee_micros, 1000);
	assert_null(bill_tariff_entry(&t, 0));
	assert_null(bill_tariff_entry(&t, 10));
	bill_tariff_free(&t);
	assert_int_equal(bill_tariff_load_file(sy_live_files(), &t, "tests/data/tariff/missing.csv", &o), SY_ERR_IO);
	assert_string_equal(err,
			    "tests/data/tariff/missing.csv: cannot read the tariff file: No such file or directory");
}

static void test_longest_prefix(void **state)
{
	struct bill_tariff t;
	must_load(&t, "prefix,rate,service\n"
		      "1,0.01,\n44,0.02,\n4420,0.03,\n442079,0.04,\n+49,0.05,\n"
		      "44,0.50,sms\n4479,0.60,sms\n");
	static const struct {
		enum bill_service svc;
		const char *number;
		uint32_t id; /* 0: none */
	} cases[] = {
	    {BILL_SVC_VOICE, "+12125550100", 1},
	    {BILL_SVC_VOICE, "12125550100", 1},
	    {BILL_SVC_VOICE, "442079460000", 4},
	    {BILL_SVC_VOICE, "+442071234567", 3},
	    {BILL_SVC_VOICE, "4413", 2},
	    {BILL_SVC_VOICE, "4930", 5},
	    {BILL_SVC_VOICE, "33123", 0},
	    {BILL_SVC_VOICE, "", 0},
	    {BILL_SVC_VOICE, "+", 0},
	    {BILL_SVC_VOICE, "4", 0},
	    {BILL_SVC_VOICE, "44;x", 2},
	    {BILL_SVC_VOICE, "4a42079", 0},
	    {BILL_SVC_VOICE, "442079 1", 4},
	    {BILL_SVC_SMS, "447911123456", 7},
	    {BILL_SVC_SMS, "442079460000", 6},
	    {BILL_SVC_SMS, "12125550100", 0},
	    {BILL_SVC_USSD, "442079460000", 0},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		const struct bill_tariff_entry *e =
		    bill_tariff_lookup(&t, cases[i].svc, sy_str_from(cases[i].number), MON);
		uint32_t id = e ? bill_tariff_id(&t, e) : 0;
		const struct bill_tariff_entry *m;
		struct sy_str num = sy_str_from(cases[i].number);
		uint64_t at = MON;
		bill_tariff_lookup_many(&t, cases[i].svc, &num, &at, 1, &m);
		if (id != cases[i].id || m != e)
			fail_msg("%d '%s': id %u, many %p", cases[i].svc, cases[i].number, id, (const void *)m);
	}
	bill_tariff_free(&t);
}

/* Default bands (no #band lines): peak Mon-Fri 08-20, offpeak the rest of
 * the weekdays, weekend Sat-Sun; and a #tz shift. */
static void test_bands(void **state)
{
	struct bill_tariff t;
	must_load(&t, "prefix,rate,band\n44,0.03,peak\n44,0.02,offpeak\n44,0.01,weekend\n49,0.05,peak\n49,0.04,\n");
	static const struct {
		uint64_t at;
		const char *band;
		int64_t rate_44, rate_49;
	} cases[] = {
	    {MON + HM(0, 0), "offpeak", 20000, 40000},
	    {MON + HM(7, 59) + 59, "offpeak", 20000, 40000},
	    {MON + HM(8, 0), "peak", 30000, 50000},
	    {MON + HM(19, 59) + 59, "peak", 30000, 50000},
	    {MON + HM(20, 0), "offpeak", 20000, 40000},
	    {MON + 4 * DAY + HM(23, 59) + 59, "offpeak", 20000, 40000}, /* Friday night */
	    {MON + 5 * DAY, "weekend", 10000, 40000},			/* Saturday 00:00 */
	    {MON + 6 * DAY + HM(12, 0), "weekend", 10000, 40000},
	    {MON + 6 * DAY + HM(23, 59) + 59, "weekend", 10000, 40000}, /* Sunday 23:59:59 */
	    {MON + 7 * DAY, "offpeak", 20000, 40000},			/* next Monday */
	    {MON + 7 * DAY + HM(8, 0), "peak", 30000, 50000},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		uint8_t b = bill_tariff_band_at(&t, cases[i].at);
		assert_string_equal(bill_tariff_band_name(&t, b), cases[i].band);
		const struct bill_tariff_entry *e = bill_tariff_lookup(&t, BILL_SVC_VOICE, SY_STR("4420"), cases[i].at);
		assert_non_null(e);
		assert_int_equal(e->rate_micros, cases[i].rate_44);
		e = bill_tariff_lookup(&t, BILL_SVC_VOICE, SY_STR("4930"), cases[i].at);
		assert_int_equal(e->rate_micros, cases[i].rate_49); /* any-time row when its band is missing */
	}
	bill_tariff_free(&t);

	/* Custom bands replace the defaults; a gap has no band; #tz +01:00. */
	must_load(&t, "#tz +01:00\n#band day daily 07:00-19:00\n#band late fri-mon 22:00-24:00\n"
		      "prefix,rate,band\n44,0.03,day\n44,0.01,late\n");
	static const struct {
		uint64_t at; /* UTC */
		const char *band;
		bool found;
	} custom[] = {
	    {MON + HM(5, 59), "", false},
	    {MON + HM(6, 0), "day", true}, /* 07:00 local */
	    {MON + HM(17, 59), "day", true},
	    {MON + HM(18, 0), "", false}, /* 19:00 local */
	    {MON + HM(21, 0), "late", true},
	    {MON + DAY + HM(21, 0), "", false}, /* Tuesday */
	    {MON + 4 * DAY + HM(22, 59), "late", true},
	    {MON - HM(2, 30), "late", true}, /* Sun 22:30 local */
	    {MON - HM(0, 30), "", false},    /* Mon 00:30 local */
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(custom); i++) {
		uint8_t b = bill_tariff_band_at(&t, custom[i].at);
		assert_string_equal(bill_tariff_band_name(&t, b), custom[i].band);
		bool found = bill_tariff_lookup(&t, BILL_SVC_VOICE, SY_STR("44"), custom[i].at) != NULL;
		assert_int_equal(found, custom[i].found);
	}
	bill_tariff_free(&t);
}

static void test_formats(void **state)
{
	struct bill_tariff t;
	/* BOM, CRLF, ';' delimiter, quoted fields, unknown columns ignored,
	 * first/next increment columns, trailing empty lines. */
	must_load(&t, "\xEF\xBB\xBF"
		      "Dial Code;Destination;Effective Date;Price;First Increment;Next Increment;Min\r\n"
		      "\"+44\";\"UK \"\"Fixed\"\"; all\";2024-01-01;0.0200;30;6;10s\r\n"
		      "  49 ; Germany ;2024-01-01; 0.0123 ;;;\r\n\r\n\n");
	assert_int_equal(t.n, 2);
	assert_true(sy_str_eq(bill_tariff_desc(&t, &t.e[0]), SY_STR("UK \"Fixed\"; all")));
	assert_true(sy_str_eq(bill_tariff_prefix(&t, &t.e[0]), SY_STR("44")));
	assert_int_equal(t.e[0].first_s, 30);
	assert_int_equal(t.e[0].next_s, 6);
	assert_int_equal(t.e[0].min_s, 10);
	assert_int_equal(t.e[1].rate_micros, 12300);
	assert_int_equal(t.e[1].first_s, 1); /* default 1/1 */
	assert_int_equal(t.e[1].next_s, 1);
	assert_string_equal(t.ccy.code, "USD");
	bill_tariff_free(&t);
	/* An empty tariff loads and matches nothing. */
	must_load(&t, "prefix,rate\n");
	assert_null(bill_tariff_lookup(&t, BILL_SVC_VOICE, SY_STR("44"), MON));
	bill_tariff_free(&t);
}

static void test_errors(void **state)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
	    {"prefix;rate\n44;0.01\n45;0,01x\n", "r.csv:3: bad rate '0,01x'"},
	    {"prefix,description\n", "r.csv:1: header needs a prefix and a rate column (got 'prefix,description')"},
	    {"prefix,rate\n4a4,0.01\n", "r.csv:2: bad prefix '4a4' (want 1 to 31 digits)"},
	    {"prefix,rate\n,0.01\n", "r.csv:2: bad prefix '' (want 1 to 31 digits)"},
	    {"prefix,rate\n44,0.01\n\n44,0.02\n", "r.csv:4: duplicate prefix 44 (first at line 2)"},
	    {"prefix,rate,band\n44,0.01,peak\n44,0.02,PEAK\n",
	     "r.csv:3: duplicate prefix 44 band peak (first at line 2)"},
	    {"prefix,rate,increments\n44,0.01,60/0\n", "r.csv:2: bad increments '60/0' (want e.g. 60/60, 30/6, 1/1)"},
	    {"prefix,rate\n44,-0.01\n", "r.csv:2: bad rate '-0.01'"},
	    {"prefix,rate\n44,\n", "r.csv:2: bad rate ''"},
	    {"prefix,rate\n44,0.0000001\n", "r.csv:2: bad rate '0.0000001'"},
	    {"prefix,rate\n44,1000001\n", "r.csv:2: rate '1000001' above the limit of 1000000"},
	    {"prefix,rate,connection_fee\n44,0.01,x\n", "r.csv:2: bad connection_fee 'x'"},
	    {"prefix,rate,band\n44,0.01,night\n", "r.csv:2: unknown band 'night' (define it with #band)"},
	    {"prefix,rate,service\n44,0.01,fax\n", "r.csv:2: bad service 'fax' (want voice, sms or ussd)"},
	    {"prefix,rate,currency\n44,0.01,USD\n49,0.01,EUR\n", "r.csv:3: currency EUR differs from USD of line 2"},
	    {"prefix,rate,currency\n44,0.01,US\n", "r.csv:2: bad currency 'US' (want 3 letters, ISO 4217)"},
	    {"prefix,rate,minimum\n44,0.01,1.5\n", "r.csv:2: bad minimum '1.5' (want whole seconds)"},
	    {"prefix,rate\n#band x mon 00:00-01:00\n", "r.csv:2: #band must come before the header line"},
	    {"#band a mon 00:00-02:00\n#band b mon 01:00-03:00\nprefix,rate\n",
	     "r.csv:2: band 'b' overlaps another band"},
	    {"#band a mon 10:00-09:00\n", "r.csv:1: bad hours '10:00-09:00' (want HH:MM-HH:MM, start before end)"},
	    {"#band a someday 10:00-11:00\n", "r.csv:1: bad days 'someday' (want e.g. mon-fri, sat,sun, daily)"},
	    {"#band a mon\n", "r.csv:1: want '#band NAME DAYS HH:MM-HH:MM'"},
	    {"#tz +25:00\n", "r.csv:1: want '#tz +HH:MM', '#tz -HH:MM' or '#tz UTC'"},
	    {"prefix,description,rate\n44,\"UK,0.01\n", "r.csv:2: unterminated quote"},
	    {"# only a comment\n", "r.csv:1: no header line (want e.g. prefix,description,rate)"},
	    {"", "r.csv:0: no header line (want e.g. prefix,description,rate)"},
	    {"prefix,code,rate\n", "r.csv:1: column 'code' repeats prefix"},
	    {"prefix,rate,increments,first_increment\n",
	     "r.csv:1: header has both increments and first/next increment columns"},
	    {"prefix,rate\n12345678901234567890123456789012,0.01\n",
	     "r.csv:2: bad prefix '12345678901234567890123456789012' (want 1 to 31 digits)"},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		char err[BILL_ERR_MAX];
		struct bill_tariff_opts o = {.err = err, .err_len = sizeof err};
		struct bill_tariff t;
		enum sy_rc rc = bill_tariff_load_mem(&t, "r.csv", cases[i].text, strlen(cases[i].text), &o);
		if (rc != SY_ERR_PARSE || strcmp(err, cases[i].err) != 0)
			fail_msg("case %zu: rc %d, got \"%s\", want \"%s\"", i, rc, err, cases[i].err);
		assert_null(t.e); /* freed on failure */
	}
}

/* The lockstep lookup agrees with the single one on a random tariff. */
static void test_lookup_many_matches(void **state)
{
	struct sy_rng r;
	sy_rng_init(&r, 7);
	size_t n = 20000, cap = n * 40 + 64;
	char *text = malloc(cap), *o = text;
	/* Distinct prefixes of 2 to 6 digits, many nested in one another
	 * ("17", "1704"...), a fifth of them weekend-only. */
	o += sprintf(o, "prefix,rate,band\n");
	for (size_t i = 0; i < n; i++)
		o += sprintf(o, "%zu,0.%06zu,%s\n", 10 + i * 7, i, i % 5 == 0 ? "weekend" : "");
	struct bill_tariff t;
	char err[BILL_ERR_MAX];
	struct bill_tariff_opts opt = {.err = err, .err_len = sizeof err};
	if (bill_tariff_load_mem(&t, "rand", text, (size_t)(o - text), &opt) != SY_OK)
		fail_msg("%s", err);
	free(text);
	enum { K = 1000 };
	static char nums[K][20];
	struct sy_str s[K];
	uint64_t at[K];
	const struct bill_tariff_entry *many[K];
	for (size_t i = 0; i < K; i++) {
		size_t len = sy_rng_below(&r, 15);
		for (size_t k = 0; k < len; k++)
			nums[i][k] = (char)('0' + sy_rng_below(&r, 10));
		s[i] = (struct sy_str){nums[i], len};
		at[i] = MON + sy_rng_below(&r, 7 * DAY);
	}
	bill_tariff_lookup_many(&t, BILL_SVC_VOICE, s, at, K, many);
	size_t hits = 0;
	for (size_t i = 0; i < K; i++) {
		assert_ptr_equal(many[i], bill_tariff_lookup(&t, BILL_SVC_VOICE, s[i], at[i]));
		hits += many[i] != NULL;
	}
	assert_true(hits > 100); /* the comparison covered real matches */
	bill_tariff_free(&t);
}

/* Mutated tariff files load or fail with a message; never crash. */
static void test_load_mutations(void **state)
{
	FILE *f = fopen("tests/data/tariff/sample.csv", "rb");
	assert_non_null(f);
	static char orig[4096], buf[4096];
	size_t len = fread(orig, 1, sizeof orig, f);
	fclose(f);
	static const char alphabet[] = ",;\"\n#0123456789./-: x";
	uint64_t x = 88172645463325252ull; /* xorshift: the test needs no quality */
	size_t loaded = 0;
	for (int round = 0; round < 500; round++) {
		memcpy(buf, orig, len);
		for (int k = 0; k < 1 + round % 6; k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			buf[x % len] = alphabet[(x >> 32) % (sizeof alphabet - 1)];
		}
		char err[BILL_ERR_MAX];
		struct bill_tariff_opts o = {.err = err, .err_len = sizeof err};
		struct bill_tariff t;
		enum sy_rc rc = bill_tariff_load_mem(&t, "m.csv", buf, len, &o);
		assert_true(rc == SY_OK || (rc == SY_ERR_PARSE && strncmp(err, "m.csv:", 6) == 0));
		if (rc == SY_OK) {
			loaded++;
			(void)bill_tariff_lookup(&t, BILL_SVC_VOICE, SY_STR("442079460000"), MON);
			bill_tariff_free(&t);
		}
	}
	assert_true(loaded > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_increments),
	    cmocka_unit_test(test_load_sample_file),
	    cmocka_unit_test(test_longest_prefix),
	    cmocka_unit_test(test_bands),
	    cmocka_unit_test(test_formats),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_lookup_many_matches),
	    cmocka_unit_test(test_load_mutations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
