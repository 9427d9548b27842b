/* test_fraud_ranges.c: the risk ranges (core/fraud/ranges.c) and the number
 * checks (core/fraud/numcheck.c): the example file, longest match over
 * nested prefixes, normalisation, every load error with its file:line,
 * reload swapping generations while a holder keeps the old table, and the
 * caller-ID checks. Files go through the test env's file operations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/fraud/numcheck.h"
#include "core/fraud/ranges.h"
#include "tests/testenv.h"

#define EXAMPLE "docs/examples/fraud-ranges.csv"

const uint16_t *fraud_num_cc_table(size_t digits, size_t *n);

static struct fraud_ranges *must_load(const char *text)
{
	char err[FRAUD_ERR_MAX];
	struct fraud_ranges_opts o = {.err = err, .err_len = sizeof err};
	struct fraud_ranges *t;
	if (fraud_ranges_load_mem("t.csv", text, strlen(text), &o, &t) != SY_OK)
		fail_msg("load: %s", err);
	return t;
}

/* Looks number up and checks class, matched prefix and label. */
static void expect(const struct fraud_ranges *t, const struct fraud_num_cfg *cfg, const char *number,
		   enum fraud_risk risk, const char *prefix, const char *label)
{
	struct fraud_range_hit h;
	bool hit = fraud_ranges_lookup(t, cfg, sy_str_from(number), &h);
	if (hit != (prefix != NULL) || h.risk != risk || !sy_str_eq(h.prefix, sy_str_from(prefix ? prefix : "")) ||
	    (label != NULL && !sy_str_eq(h.label, sy_str_from(label))))
		fail_msg("%s: hit %d risk %s prefix '%.*s' label '%.*s'", number, hit, fraud_risk_name(h.risk),
			 (int)h.prefix.len, h.prefix.p, (int)h.label.len, h.label.p);
}

static void test_example_file(void **state)
{
	struct testenv te;
	testenv_init(&te, 1);
	char err[FRAUD_ERR_MAX] = "";
	struct fraud_ranges_opts o = {.err = err, .err_len = sizeof err};
	struct fraud_ranges *t;
	if (fraud_ranges_load_file(&te.env, EXAMPLE, &o, &t) != SY_OK)
		fail_msg("%s", err);
	assert_int_equal(t->n, 26);
	assert_int_equal(t->dup_n, 0);
	assert_int_equal(t->refs, 1);
	print_message("example: %u prefixes, %u trie nodes, %zu bytes\n", t->n, t->trie.node_n, fraud_ranges_bytes(t));
	expect(t, NULL, "+88212345678", FRAUD_RISK_HIGH, "882", "International Networks");
	expect(t, NULL, "+88234567890", FRAUD_RISK_MEDIUM, "8823", NULL);
	expect(t, NULL, "+88299000111", FRAUD_RISK_NONE, "88299", "carve-out example (own service)");
	expect(t, NULL, "+19005551234", FRAUD_RISK_PREMIUM, "1900", "US premium rate");
	expect(t, NULL, "+12125551234", FRAUD_RISK_NONE, NULL, NULL);
	expect(t, NULL, "+37120000000", FRAUD_RISK_HIGH, "3712", NULL);
	expect(t, NULL, "+37160000000", FRAUD_RISK_MEDIUM, "371", "Latvia");
	expect(t, NULL, "+5371234567", FRAUD_RISK_HIGH, "53", "Cuba");
	expect(t, NULL, "5371234567", FRAUD_RISK_HIGH, "53", "Cuba"); /* without '+' */
	/* The international prefix is stripped only when configured. */
	struct fraud_num_cfg c00 = {0}, c011 = {0};
	assert_int_equal(fraud_num_cfg_set_intl(&c00, SY_STR("00")), SY_OK);
	assert_int_equal(fraud_num_cfg_set_intl(&c011, SY_STR("011")), SY_OK);
	expect(t, NULL, "005371234567", FRAUD_RISK_NONE, NULL, NULL);
	expect(t, &c00, "005371234567", FRAUD_RISK_HIGH, "53", NULL);
	expect(t, &c011, "0115371234567", FRAUD_RISK_HIGH, "53", NULL);
	expect(t, &c00, "+5371234567", FRAUD_RISK_HIGH, "53", NULL); /* '+' first: no 00 expected */
	expect(t, &c00, "+005371234567", FRAUD_RISK_NONE, NULL, NULL);
	fraud_ranges_release(t);
	assert_int_equal(fraud_ranges_load_file(&te.env, "docs/examples/missing.csv", &o, &t), SY_ERR_IO);
	assert_null(t);
	assert_string_equal(err, "docs/examples/missing.csv: cannot read the ranges file: No such file or directory");
	testenv_free(&te);
}

static void test_longest_match(void **state)
{
	/* Nested prefixes in shuffled order, a header, comments, CRLF and
	 * spaces around fields, a label with commas in it. */
	struct fraud_ranges *t = must_load("# nested\r\n"
					   "PREFIX,Class,Label\r\n"
					   "\n"
					   "  +4479 , premium , deep, with, commas \r\n"
					   "4,low\n"
					   "+447,HIGH,mobile\n"
					   "   # indented comment\n"
					   "+44,medium,UK\n"
					   "4479,premium,same class again is fine\n"
					   "447912,none,carve-out\n"
					   "+44791234,blocked");
	assert_int_equal(t->n, 6);
	assert_int_equal(t->dup_n, 1);
	expect(t, NULL, "+4", FRAUD_RISK_LOW, "4", NULL);
	expect(t, NULL, "+49301234", FRAUD_RISK_LOW, "4", "");
	expect(t, NULL, "+442012345678", FRAUD_RISK_MEDIUM, "44", "UK");
	expect(t, NULL, "+447012345678", FRAUD_RISK_HIGH, "447", "mobile");
	expect(t, NULL, "+447900000000", FRAUD_RISK_PREMIUM, "4479", "deep, with, commas");
	expect(t, NULL, "+447912000000", FRAUD_RISK_NONE, "447912", "carve-out");
	expect(t, NULL, "+447912340000", FRAUD_RISK_BLOCKED, "44791234", NULL);
	expect(t, NULL, "+4479123", FRAUD_RISK_NONE, "447912", NULL); /* shorter than the longest prefix */
	expect(t, NULL, "+33123456789", FRAUD_RISK_NONE, NULL, NULL);
	expect(t, NULL, "", FRAUD_RISK_NONE, NULL, NULL);
	expect(t, NULL, "+", FRAUD_RISK_NONE, NULL, NULL);
	/* The walk stops at the first non-digit: check numbers with numcheck. */
	expect(t, NULL, "+447x91234", FRAUD_RISK_HIGH, "447", NULL);
	expect(t, NULL, "+44 7912340000", FRAUD_RISK_MEDIUM, "44", NULL);
	/* Entries keep their file order and lines. */
	assert_true(sy_str_eq(fraud_ranges_prefix(t, 0), SY_STR("4479")));
	assert_int_equal(t->e[0].line, 4);
	assert_int_equal(t->e[5].line, 11);
	assert_true(sy_str_eq(fraud_ranges_label(t, 5), SY_STR("")));
	fraud_ranges_release(t);
	/* No table: nothing matches. */
	expect(NULL, NULL, "+447912340000", FRAUD_RISK_NONE, NULL, NULL);
}

static void test_load_errors(void **state)
{
	static const struct {
		const char *text;
		const char *err;
	} cases[] = {
	    {"+44,high\n+4x4,high\n", "t.csv:2: bad prefix '+4x4' (want digits, with or without a leading +)"},
	    {"+,high\n", "t.csv:1: empty prefix '+' (want digits, with or without a leading +)"},
	    {"# c\n,high\n", "t.csv:2: empty prefix '' (want digits, with or without a leading +)"},
	    {"+44 20,high\n", "t.csv:1: bad prefix '+44 20' (want digits, with or without a leading +)"},
	    {"+44,risky\n", "t.csv:1: unknown class 'risky' (want none, low, medium, high, premium or blocked)"},
	    {"+44,\n", "t.csv:1: unknown class '' (want none, low, medium, high, premium or blocked)"},
	    {"+44\n", "t.csv:1: want 'prefix,class[,label]' (got '+44')"},
	    {"+44,high,UK\n\n+44,premium,UK\n", "t.csv:3: prefix +44 repeats line 1 with another class (premium here, "
						"high there)"},
	    {"1234567890123456,high\n", "t.csv:1: prefix '1234567890123456' is longer than 15 digits"},
	    {"+123456789012345,high\n+1234567890123456,high\n",
	     "t.csv:2: prefix '+1234567890123456' is longer than 15 digits"},
	    {"+44,high,"
	     "12345678901234567890123456789012345678901234567890123456789012345\n",
	     "t.csv:1: label is longer than 64 bytes"},
	    {"+44,high,a\x01z\n", "t.csv:1: control character 0x01 in the label"},
	    {"+1,low\n+2,low\n+3,low\n", "t.csv:3: more than 2 prefixes (max_prefixes)"},
	    {"+1,low\nprefix,class,label\n", "t.csv:2: bad prefix 'prefix' (want digits, with or without a leading +)"},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		char err[FRAUD_ERR_MAX] = "";
		struct fraud_ranges_opts o = {.max_prefixes = 2, .err = err, .err_len = sizeof err};
		struct fraud_ranges *t = (struct fraud_ranges *)1;
		enum sy_rc rc = fraud_ranges_load_mem("t.csv", cases[i].text, strlen(cases[i].text), &o, &t);
		if (rc != SY_ERR_PARSE || t != NULL || strcmp(err, cases[i].err) != 0)
			fail_msg("case %zu: rc %d, err '%s', want '%s'", i, rc, err, cases[i].err);
	}
	/* A line longer than FRAUD_LINE_MAX, then the same length is fine
	 * when it is a comment. */
	char line[FRAUD_LINE_MAX + 40];
	memset(line, 'a', sizeof line);
	memcpy(line, "+44,high,", 9);
	line[sizeof line - 1] = '\0';
	char err[FRAUD_ERR_MAX] = "";
	struct fraud_ranges_opts o = {.err = err, .err_len = sizeof err};
	struct fraud_ranges *t;
	assert_int_equal(fraud_ranges_load_mem("long.csv", line, strlen(line), &o, &t), SY_ERR_PARSE);
	assert_string_equal(err, "long.csv:1: line is longer than 512 bytes");
	line[0] = '#';
	assert_int_equal(fraud_ranges_load_mem("long.csv", line, strlen(line), &o, &t), SY_OK);
	assert_int_equal(t->n, 0);
	fraud_ranges_release(t);
	/* Without opts or err buffer: the same rc, nothing written. */
	assert_int_equal(fraud_ranges_load_mem("x", "+44,x", 5, NULL, &t), SY_ERR_PARSE);
	assert_null(t);
}

static void write_file(struct testenv *te, const char *path, const char *text)
{
	struct sy_file *f;
	sy_env_file_unlink(&te->env, path);
	assert_int_equal(sy_env_file_open(&te->env, path, SY_FILE_WRITE | SY_FILE_CREATE, &f), SY_OK);
	assert_int_equal(sy_env_file_write(&te->env, f, 0, text, strlen(text)), SY_OK);
	sy_env_file_close(&te->env, f);
}

static void test_reload_generations(void **state)
{
	struct testenv te;
	testenv_init(&te, 2);
	char path[64], err[FRAUD_ERR_MAX] = "";
	snprintf(path, sizeof path, "/tmp/sy-fraud-ranges-%d.csv", (int)getpid());
	struct fraud_ranges_opts o = {.err = err, .err_len = sizeof err};
	struct fraud_ranges_set set = {0};
	assert_null(fraud_ranges_set_cur(&set));

	write_file(&te, path, "+882,high,gen1\n");
	assert_int_equal(fraud_ranges_set_reload(&set, &te.env, path, &o), SY_OK);
	assert_int_equal(set.generation, 1);
	/* A call in progress holds generation 1. */
	struct fraud_ranges *held = fraud_ranges_hold(set.cur);
	assert_int_equal(held->refs, 2);
	assert_int_equal(held->generation, 1);

	write_file(&te, path, "+882,low,gen2\n+53,high,Cuba\n");
	assert_int_equal(fraud_ranges_set_reload(&set, &te.env, path, &o), SY_OK);
	assert_int_equal(set.generation, 2);
	assert_ptr_not_equal(set.cur, held);
	assert_int_equal(held->refs, 1); /* the set let go; the holder keeps it */
	expect(held, NULL, "+88212345", FRAUD_RISK_HIGH, "882", "gen1");
	expect(held, NULL, "+5371234567", FRAUD_RISK_NONE, NULL, NULL);
	expect(fraud_ranges_set_cur(&set), NULL, "+88212345", FRAUD_RISK_LOW, "882", "gen2");
	expect(fraud_ranges_set_cur(&set), NULL, "+5371234567", FRAUD_RISK_HIGH, "53", "Cuba");
	assert_int_equal(set.cur->generation, 2);
	fraud_ranges_release(held); /* generation 1 is freed here (ASan checks) */

	/* A bad file keeps generation 2 in force. */
	write_file(&te, path, "+882,low\n+882,high\n");
	assert_int_equal(fraud_ranges_set_reload(&set, &te.env, path, &o), SY_ERR_PARSE);
	char want[FRAUD_ERR_MAX];
	snprintf(want, sizeof want, "%s:2: prefix +882 repeats line 1 with another class (high here, low there)", path);
	assert_string_equal(err, want);
	assert_int_equal(set.generation, 2);
	assert_int_equal(set.reload_failed, 1);
	expect(fraud_ranges_set_cur(&set), NULL, "+88212345", FRAUD_RISK_LOW, "882", "gen2");
	/* So does a missing one. */
	sy_env_file_unlink(&te.env, path);
	assert_int_equal(fraud_ranges_set_reload(&set, &te.env, path, &o), SY_ERR_IO);
	assert_int_equal(set.reload_failed, 2);
	assert_int_equal(set.cur->generation, 2);

	/* A swap of a table loaded in memory, then freeing the set. */
	fraud_ranges_set_swap(&set, must_load("+1900,premium\n"));
	assert_int_equal(set.generation, 3);
	expect(fraud_ranges_set_cur(&set), NULL, "+19005550000", FRAUD_RISK_PREMIUM, "1900", "");
	fraud_ranges_set_free(&set);
	assert_null(set.cur);
	testenv_free(&te);
}

/* Memory per prefix on a synthetic table: 100,000 random 6-9 digit
 * prefixes (the figure docs/fraud.md quotes). */
static void test_memory(void **state)
{
	size_t cap = 100000 * 24, len = 0;
	char *buf = malloc(cap);
	uint64_t x = 88172645463325252ull;
	for (int i = 0; i < 100000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		len +=
		    (size_t)snprintf(buf + len, cap - len, "+%llu,high\n",
				     (unsigned long long)(x % 900000000ull + 100000000ull) / (1 + (x >> 60) % 8 / 3));
	}
	struct fraud_ranges *t = must_load(buf);
	size_t bytes = fraud_ranges_bytes(t);
	print_message("fraud ranges: %u prefixes (%u repeats), %u trie nodes (%.1f per prefix), %zu bytes "
		      "allocated, %.1f bytes per prefix\n",
		      t->n, t->dup_n, t->trie.node_n, (double)t->trie.node_n / t->n, bytes, (double)bytes / t->n);
	assert_true(t->n > 90000);
	assert_true(bytes / t->n < 8 * 44 + 64); /* at most ~one trie node per digit */
	fraud_ranges_release(t);
	free(buf);
}

static void test_numcheck(void **state)
{
	struct fraud_num_cfg c00 = {0};
	assert_int_equal(fraud_num_cfg_set_intl(&c00, SY_STR("00")), SY_OK);
	static const struct {
		const char *num;
		enum fraud_num_verdict v;
		size_t cc;
	} cases[] = {
	    {"+442079460000", FRAUD_NUM_OK, 2},
	    {"442079460000", FRAUD_NUM_OK, 2},
	    {"00442079460000", FRAUD_NUM_OK, 2},
	    {"+12125550123", FRAUD_NUM_OK, 1},
	    {"+79161234567", FRAUD_NUM_OK, 1},
	    {"+6904321", FRAUD_NUM_OK, 3},
	    {"+882161234567", FRAUD_NUM_OK, 3},
	    {"+123456789012345", FRAUD_NUM_TOO_LONG, 1},
	    {"+882123456789012", FRAUD_NUM_OK, 3},
	    {"", FRAUD_NUM_EMPTY, 0},
	    {"+", FRAUD_NUM_EMPTY, 0},
	    {"00", FRAUD_NUM_EMPTY, 0},
	    {"+44 20 7946 0000", FRAUD_NUM_NON_DIGIT, 0},
	    {"+4420794600x0", FRAUD_NUM_NON_DIGIT, 0},
	    {"anonymous", FRAUD_NUM_NON_DIGIT, 0},
	    {"+4420794600001234", FRAUD_NUM_TOO_LONG, 0},
	    {"+44207", FRAUD_NUM_TOO_SHORT, 2},
	    {"+690432", FRAUD_NUM_TOO_SHORT, 3},
	    {"+2", FRAUD_NUM_TOO_SHORT, 0},
	    {"+0441234567", FRAUD_NUM_CC_ZERO, 0},
	    {"000441234567", FRAUD_NUM_CC_ZERO, 0},
	    {"+2891234567", FRAUD_NUM_CC_SPARE, 0},
	    {"+8351234567", FRAUD_NUM_CC_SPARE, 0},
	    {"+6711234567", FRAUD_NUM_CC_SPARE, 0},
	    {"+1212555012", FRAUD_NUM_TOO_SHORT, 1},
	    {"+121255501234", FRAUD_NUM_TOO_LONG, 1},
	    {"+10125550123", FRAUD_NUM_NANP_AREA, 1},
	    {"+11125550123", FRAUD_NUM_NANP_AREA, 1},
	    {"+12120550123", FRAUD_NUM_NANP_EXCHANGE, 1},
	    {"+12121550123", FRAUD_NUM_NANP_EXCHANGE, 1},
	    {"+7916123456", FRAUD_NUM_TOO_SHORT, 1},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		size_t cc = 99;
		enum fraud_num_verdict v = fraud_num_check(&c00, sy_str_from(cases[i].num), &cc);
		if (v != cases[i].v || cc != cases[i].cc)
			fail_msg("'%s': %s cc %zu, want %s cc %zu", cases[i].num, fraud_num_verdict_name(v), cc,
				 fraud_num_verdict_name(cases[i].v), cases[i].cc);
	}
	/* Without the 00 prefix configured, 0044... has country code 0. */
	assert_int_equal(fraud_num_check(NULL, SY_STR("00442079460000"), NULL), FRAUD_NUM_CC_ZERO);
	assert_string_equal(fraud_num_verdict_name(FRAUD_NUM_NANP_EXCHANGE), "nanp_exchange");
	assert_string_equal(fraud_num_verdict_name(FRAUD_NUM_VERDICT_COUNT), "?");
	/* The country code tables are sorted, in range and prefix-free (with
	 * each other and with the one-digit codes 1 and 7). */
	size_t n2, n3;
	const uint16_t *t2 = fraud_num_cc_table(2, &n2), *t3 = fraud_num_cc_table(3, &n3);
	for (size_t i = 0; i < n2; i++) {
		assert_true(t2[i] >= 20 && t2[i] <= 99 && t2[i] / 10 != 1 && t2[i] / 10 != 7);
		assert_true(i == 0 || t2[i - 1] < t2[i]);
	}
	for (size_t i = 0; i < n3; i++) {
		assert_true(t3[i] >= 200 && t3[i] <= 999 && t3[i] / 100 != 1 && t3[i] / 100 != 7);
		assert_true(i == 0 || t3[i - 1] < t3[i]);
		for (size_t k = 0; k < n2; k++)
			if (t3[i] / 10 == t2[k])
				fail_msg("%u starts with the 2-digit code %u", t3[i], t2[k]);
	}
	assert_true(n2 > 40 && n3 > 150);
	/* fraud_num_cfg_set_intl */
	struct fraud_num_cfg c = {0};
	assert_int_equal(fraud_num_cfg_set_intl(&c, SY_STR("00000")), SY_ERR_INVAL);
	assert_int_equal(fraud_num_cfg_set_intl(&c, SY_STR("0+")), SY_ERR_INVAL);
	assert_int_equal(fraud_num_cfg_set_intl(&c, SY_STR("0011")), SY_OK);
	assert_string_equal(c.intl_prefix, "0011");
	assert_int_equal(fraud_num_cfg_set_intl(&c, SY_STR("")), SY_OK);
	assert_string_equal(c.intl_prefix, "");
}

static void test_same_and_owned(void **state)
{
	struct fraud_num_cfg c00 = {0};
	assert_int_equal(fraud_num_cfg_set_intl(&c00, SY_STR("00")), SY_OK);
	assert_true(fraud_num_same(&c00, SY_STR("+442079460000"), SY_STR("00442079460000")));
	assert_true(fraud_num_same(&c00, SY_STR("442079460000"), SY_STR("+442079460000")));
	assert_false(fraud_num_same(NULL, SY_STR("442079460000"), SY_STR("00442079460000")));
	assert_false(fraud_num_same(&c00, SY_STR("+442079460000"), SY_STR("+442079460001")));
	assert_false(fraud_num_same(&c00, SY_STR("+44207946000"), SY_STR("+442079460000")));
	assert_false(fraud_num_same(&c00, SY_STR(""), SY_STR("")));
	assert_false(fraud_num_same(&c00, SY_STR("+"), SY_STR("00")));
	/* An account owning two DID blocks. */
	const struct sy_str own[] = {SY_STR("+44207946"), SY_STR("0033187650"), SY_STR("")};
	assert_true(fraud_num_in_prefixes(&c00, SY_STR("+442079460123"), own, 3));
	assert_true(fraud_num_in_prefixes(&c00, SY_STR("00442079469999"), own, 3));
	assert_true(fraud_num_in_prefixes(&c00, SY_STR("33187650000"), own, 3));
	assert_false(fraud_num_in_prefixes(&c00, SY_STR("+442079450123"), own, 3));
	assert_false(fraud_num_in_prefixes(&c00, SY_STR("+4420794"), own, 3)); /* shorter than the block */
	assert_false(fraud_num_in_prefixes(&c00, SY_STR("+13187650000"), own, 3));
	assert_false(fraud_num_in_prefixes(&c00, SY_STR("+442079460123"), own, 0));
	/* Without 00 configured, 0033... is taken literally: no match. */
	assert_false(fraud_num_in_prefixes(NULL, SY_STR("+33187650000"), own, 3));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_example_file),   cmocka_unit_test(test_longest_match),
	    cmocka_unit_test(test_load_errors),	   cmocka_unit_test(test_reload_generations),
	    cmocka_unit_test(test_memory),	   cmocka_unit_test(test_numcheck),
	    cmocka_unit_test(test_same_and_owned),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
