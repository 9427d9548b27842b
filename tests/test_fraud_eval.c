/* test_fraud_eval.c: the simulator's fraud evaluator (sim/fraud_eval.c)
 * on hand-fed labels, decisions and CDRs, every figure computed by hand:
 * the confusion matrix per detector (a teardown known only from its CDR,
 * another attack's unit counted apart, normal units once per detector),
 * the money of each attack (refused, torn down, talked), the first block,
 * SMS units keyed by destination (a throttled message's last decision
 * counts), and the normal ASR against the run with fraud off. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "peers/world.h"
#include "sim/fraud_eval.h"

static const char scenario[] = "[account hotel]\n"
			       "[account app]\n"
			       "smpp = yes\n"
			       "password = secret\n"
			       "[attack irsf]\n"
			       "type = irsf\n"
			       "address = 10.0.5.1\n"
			       "start = 10s\n"
			       "duration = 10s\n"
			       "rate = 5\n"
			       "to = +882XXXXXXXX\n"
			       "[attack leak]\n"
			       "type = compromised\n"
			       "address = 10.0.5.2\n"
			       "duration = 10s\n"
			       "rate = 5\n"
			       "to = +447XXXXXXXXX\n"
			       "[attack pump]\n"
			       "type = sms-pump\n"
			       "account = app\n"
			       "duration = 10s\n"
			       "rate = 5\n"
			       "to = +23276XXXX\n";

/* Voice: 3.00 a minute to +882 in whole minutes; SMS: 0.25 to +23276. */
static const char tariff[] = "Prefix,Description,Rate,Connection Fee,Billing Increment,Minimum,Band,Service,Currency\n"
			     "882,International Networks,3.0000,0,60/60,0,,voice,USD\n"
			     "23276,Premium SMS,0.2500,,,,,sms,USD\n";

struct fx {
	struct world *w;
	struct fraud_eval *e;
	char names[128][64];
	struct expect_value vals[128];
	uint32_t n;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];
	assert_non_null(f);
	assert_int_equal(world_parse_buf(scenario, sizeof(scenario) - 1, "t.scn", NULL, 0, &f->w, err, sizeof(err)),
			 SY_OK);
	assert_int_equal(f->w->attack_n, 3);
	/* no [tariff]: the evaluator rates nothing until the test loads one */
	assert_int_equal(fraud_eval_create(NULL, f->w, &f->e, err, sizeof(err)), SY_OK);
	for (uint32_t i = 0; i < 3; i++) {
		assert_false(f->e->atk[i].tariff_ok);
		assert_int_equal(bill_tariff_load_mem(&f->e->atk[i].tariff, "t.csv", tariff, sizeof(tariff) - 1, NULL),
				 SY_OK);
		f->e->atk[i].tariff_ok = true;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	fraud_eval_destroy(f->e);
	world_free(f->w);
	free(f);
	return 0;
}

static void label(struct fx *f, uint32_t attack, enum attack_item_kind kind, const char *id, const char *callee,
		  uint64_t hold_s)
{
	struct attack_item it = {
	    attack, kind, sy_str_from(id), SY_STR("+4420794000"), sy_str_from(callee), hold_s * SY_NS_PER_S, 0};
	fraud_eval_label(f->e, &it);
}

static void decide(struct fx *f, enum fraud_kind kind, const char *id, const char *callee, enum fraud_action a,
		   enum fraud_detector det, uint32_t fired, uint64_t now_s)
{
	struct fraud_decision d = {.action = a, .verdict = a, .detector = det, .fired = fired};
	struct fraud_event ev = {kind,
				 &d,
				 SY_STR("hotel"),
				 SY_STR("+4420794000"),
				 sy_str_from(callee),
				 kind == FRAUD_KIND_SMS ? SY_STR_NULL : sy_str_from(id),
				 now_s * SY_NS_PER_S,
				 0};
	fraud_eval_on_decision(f->e, &ev);
}

/* A CDR: talk_s 0 = unanswered. */
static void cdr(struct fx *f, const char *id, const char *callee, uint64_t talk_s, enum fraud_action a,
		enum fraud_detector det)
{
	struct cdr c;
	memset(&c, 0, sizeof(c));
	uint64_t epoch = f->w->scn->run.epoch_ns;
	c.start_ns = epoch + 100 * SY_NS_PER_S;
	c.answer_ns = talk_s ? c.start_ns + SY_NS_PER_S : 0;
	c.end_ns = c.start_ns + SY_NS_PER_S + talk_s * SY_NS_PER_S;
	snprintf(c.a_call_id, sizeof(c.a_call_id), "%s", id);
	snprintf(c.callee, sizeof(c.callee), "%s", callee);
	c.fraud_action = (uint8_t)a;
	c.fraud_detector = (uint8_t)det;
	fraud_eval_on_cdr(f->e, &c);
}

static void put(void *arg, const char *name, enum expect_unit unit, int64_t v)
{
	struct fx *f = arg;
	assert_true(f->n < 128);
	snprintf(f->names[f->n], sizeof(f->names[0]), "%s", name);
	f->vals[f->n++] = (struct expect_value){v, unit};
}

static int64_t metric(struct fx *f, const char *name)
{
	for (uint32_t i = 0; i < f->n; i++)
		if (strcmp(f->names[i], name) == 0)
			return f->vals[i].v;
	fail_msg("no metric %s", name);
	return 0;
}

static bool has(struct fx *f, const char *name)
{
	for (uint32_t i = 0; i < f->n; i++)
		if (strcmp(f->names[i], name) == 0)
			return true;
	return false;
}

#define IRSF	 (1u << FRAUD_DET_IRSF)
#define VELOCITY (1u << FRAUD_DET_VELOCITY)
#define SMSPUMP	 (1u << FRAUD_DET_SMS_PUMP)

/* Four IRSF calls, two of the leaked account, four normal calls. */
static void feed_calls(struct fx *f)
{
	label(f, 0, ATTACK_ITEM_CALL, "1-0@atk0", "+88212345678", 600); /* 10 min: 30.00 */
	label(f, 0, ATTACK_ITEM_CALL, "2-1@atk0", "+88212345679", 600); /* 30.00 */
	label(f, 0, ATTACK_ITEM_CALL, "3-2@atk0", "+88212345670", 60);	/* 3.00 */
	label(f, 0, ATTACK_ITEM_CALL, "4-3@atk0", "+88212345671", 300); /* 15.00 */
	label(f, 1, ATTACK_ITEM_CALL, "1-0@atk1", "+447700900001", 60); /* no tariff row: 0 */
	label(f, 1, ATTACK_ITEM_CALL, "2-1@atk1", "+447700900002", 60);
	/* c1 allowed, then torn down by a check (its CDR says so) */
	decide(f, FRAUD_KIND_CALL, "1-0@atk0", "+88212345678", FRAUD_ALLOW, FRAUD_DET_NONE, 0, 11);
	decide(f, FRAUD_KIND_MIDCALL, "", "88212345678", FRAUD_BLOCK, FRAUD_DET_IRSF, IRSF, 131);
	cdr(f, "1-0@atk0", "+88212345678", 120, FRAUD_BLOCK, FRAUD_DET_IRSF); /* 2 min: 6.00 */
	/* c2, c3 refused by IRSF (velocity too on c2); c4 only flagged by velocity, talks 5 min */
	decide(f, FRAUD_KIND_CALL, "2-1@atk0", "+88212345679", FRAUD_BLOCK, FRAUD_DET_IRSF, IRSF | VELOCITY, 12);
	decide(f, FRAUD_KIND_CALL, "3-2@atk0", "+88212345670", FRAUD_BLOCK, FRAUD_DET_IRSF, IRSF, 13);
	decide(f, FRAUD_KIND_CALL, "4-3@atk0", "+88212345671", FRAUD_FLAG, FRAUD_DET_VELOCITY, VELOCITY, 14);
	cdr(f, "2-1@atk0", "+88212345679", 0, FRAUD_BLOCK, FRAUD_DET_IRSF);
	cdr(f, "3-2@atk0", "+88212345670", 0, FRAUD_BLOCK, FRAUD_DET_IRSF);
	cdr(f, "4-3@atk0", "+88212345671", 300, FRAUD_FLAG, FRAUD_DET_VELOCITY);
	decide(f, FRAUD_KIND_CALL, "1-0@atk1", "+447700900001", FRAUD_BLOCK, FRAUD_DET_VELOCITY, VELOCITY, 3);
	decide(f, FRAUD_KIND_CALL, "2-1@atk1", "+447700900002", FRAUD_ALLOW, FRAUD_DET_NONE, 0, 4);
	/* normal: n2 refused by IRSF (its check again later: still one FP), n3 flagged by velocity */
	decide(f, FRAUD_KIND_CALL, "n1", "+15551230001", FRAUD_ALLOW, FRAUD_DET_NONE, 0, 5);
	decide(f, FRAUD_KIND_CALL, "n2", "+88200000001", FRAUD_BLOCK, FRAUD_DET_IRSF, IRSF, 5);
	decide(f, FRAUD_KIND_CALL, "n3", "+15551230003", FRAUD_FLAG, FRAUD_DET_VELOCITY, VELOCITY, 5);
	decide(f, FRAUD_KIND_CALL, "n4", "+15551230004", FRAUD_ALLOW, FRAUD_DET_NONE, 0, 5);
	cdr(f, "n1", "+15551230001", 30, FRAUD_ALLOW, FRAUD_DET_NONE);
	cdr(f, "n2", "+88200000001", 0, FRAUD_BLOCK, FRAUD_DET_IRSF);
	cdr(f, "n3", "+15551230003", 30, FRAUD_FLAG, FRAUD_DET_VELOCITY);
	cdr(f, "n4", "+15551230004", 0, FRAUD_ALLOW, FRAUD_DET_NONE);
}

static void test_confusion(void **state)
{
	struct fx *f = *state;
	feed_calls(f);
	fraud_eval_metrics(f->e, put, f);
	/* IRSF: c1 (by its CDR), c2, c3 caught; c4 missed; n2 a false alarm */
	assert_int_equal(metric(f, "fraud.irsf.tp"), 3);
	assert_int_equal(metric(f, "fraud.irsf.fn"), 1);
	assert_int_equal(metric(f, "fraud.irsf.fp"), 1);
	assert_int_equal(metric(f, "fraud.irsf.tn"), 3);
	assert_int_equal(metric(f, "fraud.irsf.precision"), 750000);
	assert_int_equal(metric(f, "fraud.irsf.recall"), 750000);
	/* velocity: d1 caught, d2 missed, n3 false; its hits on c2 and c4 are another attack's */
	assert_int_equal(metric(f, "fraud.velocity.tp"), 1);
	assert_int_equal(metric(f, "fraud.velocity.fn"), 1);
	assert_int_equal(metric(f, "fraud.velocity.fp"), 1);
	assert_int_equal(metric(f, "fraud.velocity.tn"), 3);
	assert_int_equal(metric(f, "fraud.velocity.other"), 2);
	assert_int_equal(metric(f, "fraud.velocity.precision"), 500000);
	/* no unit of the pump was decided: all missed, nothing positive */
	assert_int_equal(metric(f, "fraud.sms_pump.tp"), 0);
	assert_int_equal(metric(f, "fraud.wangiri.tp") + metric(f, "fraud.wangiri.fp"), 0);
	assert_int_equal(metric(f, "fraud.wangiri.precision"), 0);
	assert_int_equal(f->e->decisions, 10); /* fraud.decisions is the component's counter */
	/* the first block: c2 at 12 s, the attack started at 10 s */
	assert_int_equal(metric(f, "fraud.irsf.first_block"), 2 * SY_NS_PER_S);
	assert_int_equal(metric(f, "fraud.attack.irsf.first_block"), 2 * SY_NS_PER_S);
	assert_int_equal(metric(f, "fraud.velocity.first_block"), 3 * SY_NS_PER_S);
	assert_false(has(f, "fraud.wangiri.first_block"));
}

static void test_money(void **state)
{
	struct fx *f = *state;
	feed_calls(f);
	fraud_eval_metrics(f->e, put, f);
	/* risk 30 + 30 + 3 + 15; stopped: c1's rest 24, c2 30, c3 3; talked: c1 6, c4 15 */
	assert_int_equal(metric(f, "fraud.attack.irsf.money_at_risk"), 78 * 1000000);
	assert_int_equal(metric(f, "fraud.attack.irsf.money_stopped"), 57 * 1000000);
	assert_int_equal(metric(f, "fraud.attack.irsf.money_through"), 21 * 1000000);
	assert_int_equal(metric(f, "fraud.attack.irsf.blocked"), 2);
	assert_int_equal(metric(f, "fraud.attack.irsf.torn_down"), 1);
	assert_int_equal(metric(f, "fraud.attack.irsf.flagged"), 1);
	assert_int_equal(metric(f, "fraud.money_at_risk"), 78 * 1000000);
	assert_int_equal(metric(f, "fraud.money_stopped"), 57 * 1000000 / 78); /* 73.0769% */
	assert_int_equal(metric(f, "fraud.attack.leak.money_at_risk"), 0);
}

static void test_normal_asr(void **state)
{
	struct fx *f = *state;
	feed_calls(f);
	fraud_eval_set_off(f->e, 4, 3);
	fraud_eval_metrics(f->e, put, f);
	assert_int_equal(metric(f, "fraud.normal_calls"), 4);
	assert_int_equal(metric(f, "fraud.normal_asr"), 500000);
	assert_int_equal(metric(f, "fraud.normal_asr_off"), 750000);
	assert_int_equal(metric(f, "fraud.normal_asr_delta"), 250000);
}

static void test_no_off_run(void **state)
{
	struct fx *f = *state;
	feed_calls(f);
	fraud_eval_metrics(f->e, put, f);
	/* without the run with fraud off there is no delta to pass an [expect] */
	assert_false(has(f, "fraud.normal_asr_delta"));
}

static void test_sms(void **state)
{
	struct fx *f = *state;
	label(f, 2, ATTACK_ITEM_SMS, "2327600001", "2327600001", 0);
	label(f, 2, ATTACK_ITEM_SMS, "2327600002", "2327600002", 0);
	label(f, 2, ATTACK_ITEM_SMS, "2327600003", "2327600003", 0);
	decide(f, FRAUD_KIND_SMS, "", "2327600001", FRAUD_ALLOW, FRAUD_DET_NONE, 0, 1);
	decide(f, FRAUD_KIND_SMS, "", "+2327600002", FRAUD_BLOCK, FRAUD_DET_SMS_PUMP, SMSPUMP, 2);
	/* throttled, then let through on its retry: it cost money */
	decide(f, FRAUD_KIND_SMS, "", "2327600003", FRAUD_THROTTLE, FRAUD_DET_SMS_PUMP, SMSPUMP, 3);
	decide(f, FRAUD_KIND_SMS, "", "2327600003", FRAUD_ALLOW, FRAUD_DET_NONE, 0, 4);
	decide(f, FRAUD_KIND_SMS, "", "15550000001", FRAUD_ALLOW, FRAUD_DET_NONE, 0, 4);
	decide(f, FRAUD_KIND_SMS, "", "15550000002", FRAUD_FLAG, FRAUD_DET_SMS_PUMP, SMSPUMP, 4);
	fraud_eval_metrics(f->e, put, f);
	assert_int_equal(metric(f, "fraud.sms_pump.tp"), 2);
	assert_int_equal(metric(f, "fraud.sms_pump.fn"), 1);
	assert_int_equal(metric(f, "fraud.sms_pump.fp"), 1);
	assert_int_equal(metric(f, "fraud.sms_pump.tn"), 1);
	assert_int_equal(metric(f, "fraud.attack.pump.money_at_risk"), 750000);
	assert_int_equal(metric(f, "fraud.attack.pump.money_stopped"), 250000);
	assert_int_equal(metric(f, "fraud.attack.pump.money_through"), 500000);
	assert_int_equal(metric(f, "fraud.attack.pump.blocked"), 1);
	/* calls-only detectors do not count messages */
	assert_int_equal(metric(f, "fraud.irsf.tn"), 0);
}

/* [attack] errors name the file and line. */
static void test_parse_errors(void **state)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
	    {"[attack a]\ntype = irsf2\nduration = 1s\nrate = 1\nto = +1X\n", "t.scn:2: unknown attack type 'irsf2'"},
	    {"[attack a]\ntype = irsf\nduration = 1s\nrate = 1\nto = +1X\n", "t.scn:1: [attack a] needs 'address'"},
	    {"[attack a]\ntype = sms-pump\nduration = 1s\nrate = 1\nto = +1X\n",
	     "t.scn:1: [attack a] type sms-pump needs 'account'"},
	    {"[attack a]\ntype = irsf\naddress = 10.0.5.1:5060\n", "t.scn:3: bad IPv4 address '10.0.5.1:5060'"},
	    {"[attack a]\ntype = wangiri\naddress = 10.0.5.1\nduration = 1s\nrate = 1\nto = +1X\n",
	     "callbacks come from the [traffic voice] callers"},
	    {"[attack a]\ntype = compromised\naddress = 10.0.5.1\nduration = 1s\nrate = 1\nto = +1X\nbaseline = 1\n",
	     "t.scn:1: [attack a] 'baseline' needs 'baseline_to'"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct world *w = NULL;
		char err[256] = "";
		assert_int_not_equal(
		    world_parse_buf(bad[i].text, strlen(bad[i].text), "t.scn", NULL, 0, &w, err, sizeof(err)), SY_OK);
		assert_null(w);
		if (strstr(err, bad[i].want) == NULL)
			fail_msg("case %zu: got '%s', want '%s'", i, err, bad[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_confusion, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_money, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_normal_asr, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_off_run, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sms, setup, teardown),
	    cmocka_unit_test(test_parse_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
