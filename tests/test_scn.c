/* test_scn.c: the scenario parser (every section and key of a full file, a
 * table of bad inputs with their exact messages) and [expect] evaluation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "core/conf/expect.h"
#include "core/conf/scn.h"

static struct scn *parse_ok(const char *text)
{
	struct scn *s = NULL;
	char err[SCN_ERR_MAX] = "";
	enum sy_rc rc = scn_parse_string(text, "t.scn", &s, err, sizeof(err));
	if (rc != SY_OK)
		fail_msg("unexpected error: %s", err);
	assert_non_null(s);
	return s;
}

static void check_run_node(const struct scn *s)
{
	assert_int_equal(s->run.duration_ns, 90 * SY_NS_PER_S);
	assert_int_equal(s->run.seed, 42);
	assert_int_equal(s->run.drain_ns, 30 * SY_NS_PER_S);
	assert_int_equal(s->run.epoch_ns, 1772368200ull * SY_NS_PER_S); /* 2026-03-01T12:30:00Z */
	assert_int_equal(s->run.calls_max, 50000);
	assert_int_equal(s->run.txn_max, 0);
	assert_int_equal(s->run.t1_ns, 250 * SY_NS_PER_MS);
	assert_string_equal(s->node.sip, "127.0.0.1:5080");
	assert_int_equal(s->node.sip_addr.port, 5080);
	assert_string_equal(s->node.out, "out/cdr");
	assert_string_equal(s->node.name, "edge1");
}

static void check_carriers(const struct scn *s)
{
	assert_int_equal(s->carrier_n, 2);
	const struct scn_carrier *c = &s->carriers[0];
	assert_string_equal(c->name, "tier1");
	assert_int_equal(c->line, 16);
	assert_int_equal(c->prefix_n, 3);
	assert_string_equal(c->prefixes[0], "1");
	assert_string_equal(c->prefixes[1], "44");
	assert_string_equal(c->prefixes[2], "49");
	assert_string_equal(c->address, "10.0.0.2:5060");
	assert_int_equal(c->addr.ip[3], 2);
	assert_int_equal(c->capacity, 2000);
	assert_int_equal(c->priority, 1);
	assert_int_equal(c->answer_ppm, 700000);
	assert_int_equal(c->ring.kind, SY_DIST_UNIFORM);
	assert_int_equal(c->ring.a_ns, 2 * SY_NS_PER_S);
	assert_int_equal(c->ring.b_ns, 6 * SY_NS_PER_S);
	assert_int_equal(c->reject_n, 2);
	assert_int_equal(c->reject[0].code, 486);
	assert_int_equal(c->reject[0].ppm, 600000);
	assert_int_equal(c->reject[1].code, 503);
	assert_int_equal(c->reject[1].ppm, 400000);
	assert_true(c->link.set);
	assert_int_equal(c->link.latency.kind, SY_DIST_FIXED);
	assert_int_equal(c->link.latency.a_ns, 20 * SY_NS_PER_MS);
	assert_int_equal(c->link.jitter_ns, 5 * SY_NS_PER_MS);
	assert_int_equal(c->link.loss_ppm, 1000);
	assert_int_equal(c->rate_micro_per_min, 10000);
	assert_int_equal(c->noanswer_ns, 30 * SY_NS_PER_S);
	c = &s->carriers[1];
	assert_string_equal(c->name, "backup");
	assert_int_equal(c->capacity, 500);
	assert_int_equal(c->priority, 0);
	assert_int_equal(c->answer_ppm, 995000);
	assert_int_equal(c->ring.a_ns, 0);
	assert_int_equal(c->reject_n, 1);
	assert_int_equal(c->reject[0].code, 503);
	assert_int_equal(c->reject[0].ppm, SCN_PPM);
	assert_false(c->link.set);
	assert_string_equal(c->address, "");
	assert_int_equal(scn_carrier_find(s, "backup"), 1);
	assert_int_equal(scn_carrier_find(s, "nope"), -1);
}

static void check_traffic_faults(const struct scn *s)
{
	const struct scn_traffic_voice *v = &s->voice;
	assert_true(v->present);
	assert_int_equal(v->cps_milli, 500);
	assert_int_equal(v->to_n, 2);
	assert_string_equal(v->to[0].pattern, "+1XXXXXXXXXX");
	assert_int_equal(v->to[0].weight_ppm, 700000);
	assert_string_equal(v->to[1].pattern, "+44XXXXXXXXXX");
	assert_int_equal(v->to[1].weight_ppm, 300000);
	assert_string_equal(v->from, "+1555XXXXXXX");
	assert_int_equal(v->hold.kind, SY_DIST_EXP);
	assert_int_equal(v->hold.a_ns, 90 * SY_NS_PER_S);
	assert_int_equal(v->link.latency.kind, SY_DIST_NORMAL);
	assert_int_equal(v->link.latency.b_ns, 5 * SY_NS_PER_MS);
	assert_int_equal(v->link.loss_ppm, 10000);
	assert_int_equal(v->start_ns, 5 * SY_NS_PER_S);
	assert_int_equal(v->duration_ns, 60 * SY_NS_PER_S);
	assert_int_equal(v->calls_max, 1000);
	assert_int_equal(s->fault_n, 1);
	assert_int_equal(s->faults[0].kind, SCN_FAULT_CARRIER_DOWN);
	assert_int_equal(s->faults[0].at_ns, 30 * SY_NS_PER_S);
	assert_int_equal(s->faults[0].duration_ns, 10 * SY_NS_PER_S);
	assert_int_equal(s->faults[0].carrier, 0);
	assert_int_equal(s->faults[0].target_line, 45);
}

static void check_expects(const struct scn *s)
{
	static const struct {
		const char *metric;
		enum scn_op op;
		int64_t value;
		enum scn_unit unit;
	} want[] = {
		{"asr", SCN_OP_GE, 650000, SCN_UNIT_PPM},
		{"pdd.p99", SCN_OP_LE, 200 * (int64_t)SY_NS_PER_MS, SCN_UNIT_NS},
		{"cdr.lost", SCN_OP_EQ, 0, SCN_UNIT_COUNT},
		{"calls.completed", SCN_OP_GT, 1000, SCN_UNIT_COUNT},
		{"pdd.p50", SCN_OP_LT, 1500 * (int64_t)SY_NS_PER_MS, SCN_UNIT_NS},
	};
	assert_int_equal(s->expect_n, SY_ARRAY_LEN(want));
	for (size_t i = 0; i < SY_ARRAY_LEN(want); i++) {
		assert_string_equal(s->expects[i].metric, want[i].metric);
		assert_int_equal(s->expects[i].op, want[i].op);
		assert_int_equal(s->expects[i].value, want[i].value);
		assert_int_equal(s->expects[i].unit, want[i].unit);
		assert_int_equal(s->expects[i].line, 48 + i);
	}
	assert_string_equal(s->expects[3].text, "calls.completed>1000");
}

static void test_full_file(void **state)
{
	struct scn *s = NULL;
	char err[SCN_ERR_MAX] = "";
	enum sy_rc rc = scn_parse_file("tests/data/scn/full.scn", &s, err, sizeof(err));
	if (rc != SY_OK)
		fail_msg("%s", err);
	assert_string_equal(s->file, "tests/data/scn/full.scn");
	check_run_node(s);
	check_carriers(s);
	check_traffic_faults(s);
	check_expects(s);
	scn_free(s);
}

/* An empty file (or only comments) is valid: every default. */
static void test_defaults(void **state)
{
	static const char *texts[] = {"", "# nothing\n\n   # at all\n", "\r\n"};
	for (size_t i = 0; i < SY_ARRAY_LEN(texts); i++) {
		struct scn *s = parse_ok(texts[i]);
		assert_int_equal(s->run.duration_ns, 60 * SY_NS_PER_S);
		assert_int_equal(s->run.seed, 1);
		assert_int_equal(s->run.drain_ns, 120 * SY_NS_PER_S);
		assert_int_equal(s->run.epoch_ns, 1767225600ull * SY_NS_PER_S);
		assert_int_equal(s->run.t1_ns, 500 * SY_NS_PER_MS);
		assert_string_equal(s->node.sip, "127.0.0.1:5060");
		assert_int_equal(s->carrier_n + s->fault_n + s->expect_n, 0);
		assert_false(s->voice.present);
		assert_string_equal(s->voice.from, "+1555XXXXXXX");
		scn_free(s);
	}
}

/* A simulated SMPP carrier deduplicates on our key TLV unless told not to. */
static void test_smpp_carrier_dedup(void **state)
{
	(void)state;
	struct scn *s = parse_ok("[smpp-carrier a]\nprefixes = 1\n\n[smpp-carrier b]\nprefixes = 2\ndedup = no\n");
	assert_int_equal(s->smpp_carrier_n, 2);
	assert_true(s->smpp_carriers[0].dedup);
	assert_false(s->smpp_carriers[1].dedup);
	scn_free(s);
}

static void test_equal_weights(void **state)
{
	struct scn *s = parse_ok("[traffic voice]\ncps=10\nto = +1XXX 44XX 49XX\n");
	assert_int_equal(s->voice.to_n, 3);
	assert_int_equal(s->voice.to[0].weight_ppm, 333334);
	assert_int_equal(s->voice.to[1].weight_ppm, 333333);
	assert_int_equal(s->voice.cps_milli, 10000);
	scn_free(s);
	s = parse_ok("[expect]\npdd.p99 <= 0\nasr != 0\n");
	assert_int_equal(s->expects[0].unit, SCN_UNIT_NS); /* a bare 0 takes the metric's unit */
	assert_int_equal(s->expects[1].unit, SCN_UNIT_PPM);
	scn_free(s);
}

static const struct {
	const char *text, *err;
} bad_cases[] = {
	{"[run]\nduration = 60s\n[bogus]\n", "x.scn:3: unknown section [bogus]"},
	{"[traffic fax]\n", "x.scn:1: unknown section [traffic fax]"},
	{"[traffic sms]\n", "x.scn:1: [traffic sms] needs 'account'"},
	{"[traffic sms]\naccount = app\ntps = 10\nto = +1XXX\n", "x.scn:2: [traffic sms] names unknown account 'app'"},
	{"[account a]\nbalance = 1.0.0 USD\n", "x.scn:2: bad amount '1.0.0 USD' for 'balance'"},
	{"[smpp-carrier a]\nprefixes = 1\ndedup = maybe\n", "x.scn:3: bad value 'maybe' for 'dedup' (on or off)"},
	{"[account a]\ntype = gift\n", "x.scn:2: bad type 'gift' for 'type' (prepaid or postpaid)"},
	{"[account a]\ncount = 10\n", "x.scn:1: [account a] with count needs 'callers' (the number prefix)"},
	{"[account a]\ntariff = t9\n", "x.scn:1: [account a] names unknown tariff 't9'"},
	{"[smpp-carrier s]\nprefixes = 1\nbinds = 0\n", "x.scn:1: [smpp-carrier s] binds must be 1..64"},
	{"[smpp-carrier s]\nprefixes = 1\ndelivery = 90% after 2s\n",
	 "x.scn:3: expected 'delivery = PERCENT delay DISTRIBUTION', got '90% after 2s'"},
	{"[fault]\nat = 1s\nsmpp-carrier = s drop 5s\n", "x.scn:3: [fault] names unknown smpp-carrier 's'"},
	{"[fault]\nat = 1s\nnode = db crash 5s\n", "x.scn:3: [fault] names unknown node 'db' (the switch is 'switch')"},
	{"[expect]\nbilling.revenue >= 10%\n",
	 "x.scn:2: unit mismatch: 'billing.revenue' is an amount, '10%' is a percentage"},
	{"[carrier]\n", "x.scn:1: section [carrier] needs a name"},
	{"[run\n", "x.scn:1: bad section header '[run'"},
	{"[run]\n[run]\n", "x.scn:2: duplicate section [run]"},
	{"duration = 1s\n", "x.scn:1: 'duration = 1s' outside any section"},
	{"\n[traffic voice]\ncps = 5\ncpss = 5\n", "x.scn:4: unknown key 'cpss' in [traffic voice]"},
	{"[traffic voice]\ncps = 1\nto = +1X\n\n\n\nhold = 10x\n", "x.scn:7: bad duration '10x' for 'hold'"},
	{"[run]\nduration 60s\n", "x.scn:2: expected 'key = value', got 'duration 60s'"},
	{"[run]\nseed = 1\nseed = 2\n", "x.scn:3: duplicate key 'seed' in [run]"},
	{"[run]\nseed =\n", "x.scn:2: empty value for 'seed'"},
	{"[run]\nseed = -1\n", "x.scn:2: bad number '-1' for 'seed'"},
	{"[run]\nduration = 0s\n", "x.scn:2: bad duration '0s' for 'duration'"},
	{"[run]\nepoch = 2026-02-30T00:00:00Z\n",
	 "x.scn:2: bad UTC timestamp '2026-02-30T00:00:00Z' for 'epoch'"},
	{"[node]\nsip = nowhere:99999\n", "x.scn:2: bad address 'nowhere:99999' for 'sip'"},
	{"[carrier a]\nprefixes = 1\nanswer = 70 ring 2s\n", "x.scn:3: bad percentage '70' for 'answer'"},
	{"[carrier a]\nprefixes = 1\nanswer = 170%\n", "x.scn:3: bad percentage '170%' for 'answer'"},
	{"[carrier a]\nprefixes = 1\nanswer = 70% rung 2s\n",
	 "x.scn:3: expected 'answer = PERCENT ring DISTRIBUTION', got '70% rung 2s'"},
	{"[carrier a]\nprefixes = 1\nlink = loss 0.1\n", "x.scn:3: bad percentage '0.1' for 'link'"},
	{"[carrier a]\nprefixes = 1\nlink = latency 20ms speed 5\n",
	 "x.scn:3: bad latency '20ms speed 5' for 'link'"},
	{"[carrier a]\nprefixes = 1\nlink = speed 5\n",
	 "x.scn:3: unknown link setting 'speed' for 'link' (use latency, jitter, loss)"},
	{"[carrier a]\nprefixes = 1\nreject = 486 60% 503 30%\n", "x.scn:3: shares for 'reject' sum to 90%, not 100%"},
	{"[carrier a]\nprefixes = 1\nreject = 200\n", "x.scn:3: bad status '200' for 'reject'"},
	{"[carrier a]\nprefixes = 1\nrate = 0.0000001/min\n", "x.scn:3: bad rate '0.0000001/min' for 'rate'"},
	{"[carrier a]\nprefixes = 1\ncapacity = 20 lines\n", "x.scn:3: bad capacity '20 lines' for 'capacity'"},
	{"[carrier a]\nprefixes = 1 4a\n", "x.scn:2: bad prefix '4a' for 'prefixes'"},
	{"[carrier a]\ncapacity = 1\n", "x.scn:1: [carrier a] needs 'prefixes'"},
	{"[carrier a]\nprefixes = 1\n[carrier a]\nprefixes = 2\n", "x.scn:3: duplicate section [carrier a]"},
	{"[traffic voice]\ncps = 1\nto = +1XX 70% +44XX 20%\n", "x.scn:3: weights for 'to' sum to 90%, not 100%"},
	{"[traffic voice]\ncps = 1\nto = +1XX 70% +44XX\n",
	 "x.scn:3: weights for 'to' must be given for every pattern or for none"},
	{"[traffic voice]\ncps = 1\nto = 30% +1XX\n", "x.scn:3: bad weight '30%' for 'to'"},
	{"[traffic voice]\ncps = 1\nto = +1Y\n", "x.scn:3: bad number pattern '+1Y' for 'to'"},
	{"[traffic voice]\ncps = 0\n", "x.scn:2: bad rate '0' for 'cps'"},
	{"[traffic voice]\ncps = 1\n", "x.scn:1: [traffic voice] needs 'to'"},
	{"[carrier tier1]\nprefixes = 1\n[fault]\nat = 3s\n\n\n\n\ncarrier = tier9 down 10s\n",
	 "x.scn:9: [fault] names unknown carrier 'tier9'"},
	{"[fault]\nat = 3s\n", "x.scn:1: [fault] says no fault (e.g. carrier = NAME down 10s)"},
	{"[fault]\ncarrier = a up\n", "x.scn:2: expected 'carrier = NAME down DURATION', got 'a up'"},
	{"[expect]\nasr => 65%\n", "x.scn:2: bad operator '=>' in 'asr => 65%' (use >= <= == != > <)"},
	{"[expect]\nasr = 65%\n", "x.scn:2: bad operator '=' in 'asr = 65%' (use >= <= == != > <)"},
	{"[expect]\nasr <= 200ms\n", "x.scn:2: unit mismatch: 'asr' is a percentage, '200ms' is a duration"},
	{"[expect]\npdd.p99 <= 5\n", "x.scn:2: unit mismatch: 'pdd.p99' is a duration, '5' is a count"},
	{"[expect]\nasr >= 65x\n", "x.scn:2: bad value '65x' in 'asr >= 65x'"},
	{"[expect]\nasr\n", "x.scn:2: expected 'METRIC OP VALUE', got 'asr'"},
	{"[run]\nseed = 1\0\n", NULL}, /* NUL: see test_nul_byte */
};

static void test_bad_inputs(void **state)
{
	for (size_t i = 0; i < SY_ARRAY_LEN(bad_cases); i++) {
		if (bad_cases[i].err == NULL)
			continue;
		struct scn *s = (struct scn *)1;
		char err[SCN_ERR_MAX] = "";
		enum sy_rc rc = scn_parse_string(bad_cases[i].text, "x.scn", &s, err, sizeof(err));
		if (rc != SY_ERR_PARSE || strcmp(err, bad_cases[i].err) != 0)
			fail_msg("case %zu: rc %d, got \"%s\", want \"%s\"", i, rc, err, bad_cases[i].err);
		assert_null(s);
	}
}

static void test_nul_byte(void **state)
{
	static const char text[] = "[run]\nseed = 1\0\n";
	struct scn *s;
	char err[SCN_ERR_MAX];
	assert_int_equal(scn_parse_buf(text, sizeof(text) - 1, "n.scn", &s, err, sizeof(err)), SY_ERR_PARSE);
	assert_string_equal(err, "n.scn:2: NUL byte in the file");
	assert_int_equal(scn_parse_file("tests/data/scn/does-not-exist.scn", &s, err, sizeof(err)), SY_ERR_IO);
	assert_non_null(strstr(err, "does-not-exist.scn: cannot open"));
}

/* Every prefix of a valid file parses or fails cleanly (no crash, no leak). */
static void test_truncations(void **state)
{
	FILE *f = fopen("tests/data/scn/full.scn", "rb");
	assert_non_null(f);
	static char buf[8192];
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	for (size_t len = 0; len <= n; len++) {
		struct scn *s = NULL;
		char err[SCN_ERR_MAX] = "";
		enum sy_rc rc = scn_parse_buf(buf, len, "cut.scn", &s, err, sizeof(err));
		assert_true(rc == SY_OK ? s != NULL : s == NULL && strncmp(err, "cut.scn:", 8) == 0);
		scn_free(s);
	}
}

struct fake_metric {
	const char *name;
	struct expect_value v;
};

static bool fake_lookup(void *ctx, const char *metric, struct expect_value *out)
{
	for (const struct fake_metric *m = ctx; m->name; m++)
		if (strcmp(m->name, metric) == 0) {
			*out = m->v;
			return true;
		}
	return false;
}

static void test_expect_eval(void **state)
{
	struct scn *s = parse_ok("[expect]\nasr >= 65%\npdd.p99 <= 200ms\ncdr.lost == 0\n"
				 "fraud.recall >= 95%\nspeed >= 2\npdd.p50 == 0\n");
	static const struct fake_metric metrics[] = {
		{"asr", {701200, SCN_UNIT_PPM}},
		{"pdd.p99", {231400000, SCN_UNIT_NS}},
		{"cdr.lost", {0, SCN_UNIT_COUNT}},
		{"speed", {15, SCN_UNIT_PPM}},
		{"pdd.p50", {0, SCN_UNIT_NS}},
		{NULL, {0, 0}},
	};
	static const struct {
		bool pass;
		const char *report;
	} want[] = {
		{true, "PASS asr >= 65% (actual 70.12%)"},
		{false, "FAIL pdd.p99 <= 200ms (actual 231.4ms)"},
		{true, "PASS cdr.lost == 0 (actual 0)"},
		{false, "FAIL fraud.recall >= 95% (t.scn:5: unknown metric 'fraud.recall')"},
		{false, "FAIL speed >= 2 (t.scn:6: unit mismatch: 'speed' is a percentage, actual 0.0015%)"},
		{true, "PASS pdd.p50 == 0s (actual 0s)"},
	};
	struct expect_result res[SCN_EXPECTS_MAX];
	assert_int_equal(expect_eval(s, fake_lookup, (void *)metrics, res), 3);
	for (size_t i = 0; i < SY_ARRAY_LEN(want); i++) {
		assert_int_equal(res[i].pass, want[i].pass);
		assert_int_equal(res[i].line, i + 2);
		assert_string_equal(res[i].report, want[i].report);
	}
	assert_false(res[3].found);
	assert_false(res[4].unit_ok);
	assert_string_equal(res[1].text, "pdd.p99 <= 200ms");
	scn_free(s);
}

static void test_fmt_values(void **state)
{
	static const struct {
		struct expect_value v;
		const char *s;
	} cases[] = {
		{{1500000000, SCN_UNIT_NS}, "1.5s"}, {{999, SCN_UNIT_NS}, "999ns"},   {{1000, SCN_UNIT_NS}, "1us"},
		{{1234567, SCN_UNIT_NS}, "1.234ms"}, {{1000000, SCN_UNIT_PPM}, "100%"}, {{1, SCN_UNIT_PPM}, "0.0001%"},
		{{-42, SCN_UNIT_COUNT}, "-42"},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		char buf[64];
		expect_fmt_value(cases[i].v, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_file),   cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_equal_weights), cmocka_unit_test(test_smpp_carrier_dedup), cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_nul_byte),    cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_expect_eval), cmocka_unit_test(test_fmt_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
