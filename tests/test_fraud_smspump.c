/* test_fraud_smspump.c: the SMS pumping detector (core/fraud/smspump.h) at
 * hand-computed times: seq blocks and the sketch's two half-window epochs,
 * the surge baseline (warm-up, learning, fired steps not learned, idle
 * steps, overflow), the receipt ratio (too few receipts, the exact
 * percentage, the window), the strongest action, short numbers and a full
 * prefix table. Fixed seed: the same run every time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/fraud/smspump.h"

#define S    SY_NS_PER_S
#define STEP (60 * S)
#define SEED 0x0ddba11cafef00dull

/* seq: more than 5 per account and block of 1,000 in 60 s, block; surge:
 * steps of 60 s, more than 10 and 5x the average of 4 steps, throttle;
 * dlr: under 20% delivered of at least 10 receipts in 600 s, flag. */
static struct fraud_sms_cfg cfg_small(void)
{
	return (struct fraud_sms_cfg){
	    .on = true,
	    .seq_digits = 3,
	    .seq = {.max = 5, .window_ns = 60 * S, .action = FRAUD_BLOCK},
	    .prefix_digits = 5,
	    .surge = {.max = 10, .window_ns = STEP, .action = FRAUD_THROTTLE},
	    .surge_factor_pct = 500,
	    .baseline_steps = 4,
	    .dlr = {.max = 10, .window_ns = 600 * S, .action = FRAUD_FLAG},
	    .dlr_min_pct = 20,
	    .prefixes_max = 64,
	};
}

static struct fraud_smspump *make(const struct fraud_sms_cfg *c)
{
	struct fraud_smspump *p = NULL;
	assert_int_equal(fraud_smspump_create(c, SEED, &p), SY_OK);
	return p;
}

static char why[FRAUD_REASON_MAX];

static enum fraud_action sub(struct fraud_smspump *p, uint64_t acct, const char *to, uint64_t now)
{
	why[0] = 0;
	return fraud_smspump_submit(p, acct, sy_str_from(to), now, why, sizeof(why));
}

/* n messages from acct to the numbers base + i: how many were allowed. */
static unsigned burst(struct fraud_smspump *p, uint64_t acct, uint64_t base, unsigned n, uint64_t now)
{
	char to[24];
	unsigned ok = 0;
	for (unsigned i = 0; i < n; i++) {
		snprintf(to, sizeof(to), "%llu", (unsigned long long)(base + i));
		ok += sub(p, acct, to, now) == FRAUD_ALLOW;
	}
	return ok;
}

static void only(struct fraud_sms_cfg *c, bool seq, bool surge, bool dlr)
{
	c->seq.max = seq ? c->seq.max : 0;
	c->surge.max = surge ? c->surge.max : 0;
	c->dlr.max = dlr ? c->dlr.max : 0;
}

/* Six messages from one account to one block of 1,000: the sixth is over.
 * Another account, or another block, counts apart. */
static void test_seq_block(void **state)
{
	struct fraud_sms_cfg c = cfg_small();
	only(&c, true, false, false);
	struct fraud_smspump *p = make(&c);
	assert_int_equal(burst(p, 1, 4475000000100ull, 5, S), 5);
	assert_int_equal(sub(p, 1, "4475000000999", S), FRAUD_BLOCK);
	assert_string_equal(why, "sms_pump.seq: 6 messages in 60s to 4475000000xxx");
	assert_int_equal(sub(p, 2, "4475000000998", S), FRAUD_ALLOW); /* another account */
	assert_int_equal(sub(p, 1, "4475000001000", S), FRAUD_ALLOW); /* the next block */
	assert_int_equal(sub(p, 1, "447500000100", S), FRAUD_ALLOW);  /* a shorter number: block 447500000 */
	assert_int_equal(sub(p, 1, "4475000000000", S), FRAUD_BLOCK); /* 7 */
	assert_string_equal(why, "sms_pump.seq: 7 messages in 60s to 4475000000xxx");
	/* Numbers of seq_digits digits or fewer have no block. */
	assert_int_equal(burst(p, 1, 100, 50, S), 50);
	fraud_smspump_destroy(p);
}

/* The sketch keeps two epochs of 30 s: a count covers the current epoch
 * and the previous one, between 30 and 60 s. */
static void test_seq_window_edges(void **state)
{
	struct fraud_sms_cfg c = cfg_small();
	only(&c, true, false, false);
	struct {
		uint64_t first, sixth; /* five at first, the sixth at sixth */
		enum fraud_action want;
	} cases[] = {
	    {0, 60 * S - 1, FRAUD_BLOCK},      /* epochs 0 and 1 */
	    {0, 60 * S, FRAUD_ALLOW},	       /* epoch 2: epoch 0 left */
	    {30 * S - 1, 30 * S, FRAUD_BLOCK}, /* 1 ns apart across an epoch's edge */
	    {30 * S - 1, 60 * S, FRAUD_ALLOW}, /* 30 s apart, but two epochs on */
	    {30 * S, 90 * S - 1, FRAUD_BLOCK}, /* epochs 1 and 2 */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fraud_smspump *p = make(&c);
		assert_int_equal(burst(p, 7, 4475000000100ull, 5, cases[i].first), 5);
		assert_int_equal(sub(p, 7, "4475000000200", cases[i].sixth), cases[i].want);
		fraud_smspump_destroy(p);
	}
}

/* Steps 0-3 only learn (warm-up); a steady 20 a step never fires; a 10x
 * step fires above 5 x 20 = 100, and, having fired, is not learned. */
static void test_surge_baseline(void **state)
{
	struct fraud_sms_cfg c = cfg_small();
	only(&c, false, true, false);
	struct fraud_smspump *p = make(&c);
	for (uint64_t k = 0; k < 10; k++)
		assert_int_equal(burst(p, k, 44750000000ull, 20, k * STEP + S), 20);
	assert_int_equal(burst(p, 1, 44750000000ull, 100, 10 * STEP), 100);
	assert_int_equal(sub(p, 1, "44750999999", 10 * STEP + 59 * S), FRAUD_THROTTLE);
	assert_string_equal(why, "sms_pump.surge: 101 messages in 60s to 44750, baseline 20.0 (limit x5.00)");
	assert_int_equal(burst(p, 1, 44750000000ull, 98, 10 * STEP + 59 * S), 0); /* all of the rest */
	/* Step 11: the baseline is still 20 (step 10 not learned). */
	assert_int_equal(burst(p, 1, 44750000000ull, 101, 11 * STEP), 100);
	assert_string_equal(why, "sms_pump.surge: 101 messages in 60s to 44750, baseline 20.0 (limit x5.00)");
	/* A prefix first seen after the warm-up has a baseline of 0: surge.max
	 * (10) is its limit. */
	assert_int_equal(burst(p, 1, 23276000000ull, 11, 11 * STEP), 10);
	assert_string_equal(why, "sms_pump.surge: 11 messages in 60s to 23276, baseline 0.0 (limit x5.00)");
	fraud_smspump_destroy(p);
}

/* During the warm-up nothing fires, even far above surge.max. */
static void test_surge_warmup(void **state)
{
	struct fraud_sms_cfg c = cfg_small();
	only(&c, false, true, false);
	struct fraud_smspump *p = make(&c);
	for (uint64_t k = 0; k < 4; k++)
		assert_int_equal(burst(p, 1, 44750000000ull, 50 + 10 * k, 100 * STEP + k * STEP), 50 + 10 * k);
	/* Step 104: baseline (50 + 60 + 70 + 80) / 4 = 65, limit 325. */
	assert_int_equal(burst(p, 1, 44750000000ull, 326, 104 * STEP), 325);
	assert_string_equal(why, "sms_pump.surge: 326 messages in 60s to 44750, baseline 65.0 (limit x5.00)");
	fraud_smspump_destroy(p);
	/* A long baseline still warms up in FRAUD_SMS_WARMUP_STEPS (5) steps,
	 * then averages over the steps it has learned. */
	c.baseline_steps = 60;
	p = make(&c);
	for (uint64_t k = 0; k < 5; k++)
		assert_int_equal(burst(p, 1, 44750000000ull, 20, k * STEP), 20);
	assert_int_equal(burst(p, 1, 44750000000ull, 101, 5 * STEP), 100);
	assert_string_equal(why, "sms_pump.surge: 101 messages in 60s to 44750, baseline 20.0 (limit x5.00)");
	fraud_smspump_destroy(p);
}

/* Idle steps are learned as 0; idle for baseline_steps or more, the
 * baseline is 0 (a full ring of zeros). */
static void test_surge_idle(void **state)
{
	struct fraud_sms_cfg c = cfg_small();
	only(&c, false, true, false);
	struct fraud_smspump *p = make(&c);
	for (uint64_t k = 0; k < 6; k++)
		burst(p, 1, 44750000000ull, 20, k * STEP);
	/* Steps 6, 7 idle; at 8 the last four are 20, 20, 0, 0: baseline 10, limit 50. */
	assert_int_equal(burst(p, 1, 44750000000ull, 51, 8 * STEP), 50);
	assert_string_equal(why, "sms_pump.surge: 51 messages in 60s to 44750, baseline 10.0 (limit x5.00)");
	/* Step 8 fired: not learned. Idle 9 .. 12 (4 steps) and more: zeros. */
	assert_int_equal(burst(p, 1, 44750000000ull, 11, 20 * STEP), 10);
	assert_string_equal(why, "sms_pump.surge: 11 messages in 60s to 44750, baseline 0.0 (limit x5.00)");
	fraud_smspump_destroy(p);
}

/* A huge factor times the baseline's sum does not wrap into a small limit:
 * 20,000 x 2^27 is 0 modulo 2^32. */
static void test_surge_overflow(void **state)
{
	struct fraud_sms_cfg c = cfg_small();
	only(&c, false, true, false);
	c.surge_factor_pct = 1u << 27;
	struct fraud_smspump *p = make(&c);
	for (uint64_t k = 0; k < 4; k++)
		burst(p, 1, 44750000000ull, 5000, k * STEP);
	/* Baseline 5,000 x 1,342,177: nothing in reach fires. */
	assert_int_equal(burst(p, 1, 44750000000ull, 20000, 4 * STEP), 20000);
	fraud_smspump_destroy(p);
}

static void receipts(struct fraud_smspump *p, const char *carrier, const char *to, unsigned n, unsigned delivered,
		     uint64_t now)
{
	for (unsigned i = 0; i < n; i++)
		fraud_smspump_receipt(p, sy_str_from(carrier), sy_str_from(to), i < delivered, now);
}

/* Too few receipts never fire; at dlr.max receipts, under 20% delivered
 * fires, exactly 20% does not. */
static void test_dlr_ratio(void **state)
{
	struct fraud_sms_cfg c = cfg_small();
	only(&c, false, false, true);
	struct fraud_smspump *p = make(&c);
	receipts(p, "carrier-b", "23276000001", 9, 0, S);
	assert_int_equal(sub(p, 1, "23276000002", 2 * S), FRAUD_ALLOW); /* 0% of 9: too few */
	receipts(p, "carrier-b", "23276000003", 1, 0, 3 * S);
	assert_int_equal(sub(p, 1, "23276000004", 3 * S), FRAUD_FLAG);
	assert_string_equal(why,
			    "sms_pump.dlr: 0% of 10 receipts delivered in 600s to 23276 (route carrier-b: 0% of 10)");
	assert_int_equal(sub(p, 1, "2327", 3 * S), FRAUD_ALLOW); /* shorter than the prefix */
	/* Another prefix: 2 of 10 delivered is 20%, not under it. */
	receipts(p, "carrier-a", "44790000000", 10, 2, 3 * S);
	assert_int_equal(sub(p, 1, "44790000001", 3 * S), FRAUD_ALLOW);
	receipts(p, "carrier-a", "44790000000", 1, 0, 3 * S); /* 2 of 11: 18% */
	assert_int_equal(sub(p, 1, "44790000001", 3 * S), FRAUD_FLAG);
	assert_string_equal(why,
			    "sms_pump.dlr: 18% of 11 receipts delivered in 600s to 44790 (route carrier-a: 18% of 11)");
	fraud_smspump_destroy(p);
}

/* The receipts window: 600 s in 6 buckets of 100 s; receipts at 3 s leave
 * at 600 s, those at 100 s at 700 s. The route named is the one with the
 * lowest ratio, while its last receipt is less than a window old. */
static void test_dlr_window_and_route(void **state)
{
	struct fraud_sms_cfg c = cfg_small();
	only(&c, false, false, true);
	struct fraud_smspump *p = make(&c);
	receipts(p, "carrier-a", "23276000001", 4, 4, 3 * S);
	receipts(p, "carrier-b", "23276000001", 8, 0, 3 * S);
	receipts(p, "carrier-a", "23276000001", 12, 0, 100 * S); /* a: 4 of 16 */
	/* 4 of 24: 16%; carrier-b (0% of 8) is the worst route. */
	assert_int_equal(sub(p, 1, "23276000002", 600 * S - 1), FRAUD_FLAG);
	assert_string_equal(why,
			    "sms_pump.dlr: 16% of 24 receipts delivered in 600s to 23276 (route carrier-b: 0% of 8)");
	/* At 600 s the 12 of 3 s leave: 0 of 12. */
	assert_int_equal(sub(p, 1, "23276000002", 600 * S), FRAUD_FLAG);
	assert_string_equal(why,
			    "sms_pump.dlr: 0% of 12 receipts delivered in 600s to 23276 (route carrier-b: 0% of 8)");
	/* carrier-b's last receipt is a window old at 603 s: no longer named. */
	assert_int_equal(sub(p, 1, "23276000002", 650 * S), FRAUD_FLAG);
	assert_string_equal(why, "sms_pump.dlr: 0% of 12 receipts delivered in 600s to 23276");
	/* At 700 s all have left (699.999 s: not yet). */
	assert_int_equal(sub(p, 1, "23276000002", 700 * S - 1), FRAUD_FLAG);
	assert_int_equal(sub(p, 1, "23276000002", 700 * S), FRAUD_ALLOW);
	fraud_smspump_destroy(p);
}

/* All three at once: the strongest (seq's block) gives the reason; at
 * equal actions the first of seq, surge, dlr. */
static void test_strongest(void **state)
{
	struct fraud_sms_cfg c = cfg_small();
	c.baseline_steps = 1;
	struct fraud_smspump *p = make(&c);
	receipts(p, "carrier-b", "23276000001", 10, 0, 0);
	burst(p, 99, 23276100000ull, 1, 0); /* step 0: warm-up */
	assert_int_equal(burst(p, 1, 23276000100ull, 5, STEP), 0);
	assert_string_equal(why,
			    "sms_pump.dlr: 0% of 10 receipts delivered in 600s to 23276 (route carrier-b: 0% of 10)");
	assert_int_equal(sub(p, 1, "23276000200", STEP), FRAUD_BLOCK);
	assert_string_equal(why, "sms_pump.seq: 6 messages in 60s to 23276000xxx");
	/* surge and dlr both flag: surge, the first, gives the reason. */
	fraud_smspump_destroy(p);
	c = cfg_small();
	c.baseline_steps = 1;
	c.surge.action = FRAUD_FLAG;
	c.seq.max = 0;
	p = make(&c);
	receipts(p, "carrier-b", "23276000001", 10, 0, 0);
	burst(p, 99, 23276100000ull, 1, 0);
	assert_int_equal(burst(p, 1, 23276000100ull, 11, STEP), 0);
	assert_string_equal(why, "sms_pump.surge: 11 messages in 60s to 23276, baseline 1.0 (limit x5.00)");
	fraud_smspump_destroy(p);
}

/* More prefixes than prefixes_max: the least recently touched are
 * forgotten (their receipts with them), memory does not grow. */
static void test_prefix_eviction(void **state)
{
	struct fraud_sms_cfg c = cfg_small();
	only(&c, false, false, true);
	c.prefixes_max = 8;
	struct fraud_smspump *p = make(&c);
	size_t bytes = fraud_smspump_bytes(p);
	receipts(p, "carrier-b", "23276000001", 10, 0, S);
	assert_int_equal(sub(p, 1, "23276000002", S), FRAUD_FLAG);
	char to[24];
	for (unsigned i = 0; i < 300; i++) {
		snprintf(to, sizeof(to), "%05u000000", 30000 + i);
		receipts(p, "carrier-a", to, 1, 1, 2 * S + i);
	}
	assert_int_equal(fraud_smspump_bytes(p), bytes);
	assert_int_equal(sub(p, 1, "23276000002", 3 * S), FRAUD_ALLOW);
	fraud_smspump_destroy(p);
}

static uint64_t rng_next(uint64_t *x)
{
	*x ^= *x >> 12, *x ^= *x << 25, *x ^= *x >> 27;
	return *x * 0x2545f4914f6cdd1dull;
}

/* The engine's defaults (fraud_cfg_defaults): seq 20 / 60 s, surge 50 per
 * 60 s step x5 over 60 steps, dlr under 20% of 50 receipts in 1 h. */
static struct fraud_sms_cfg cfg_defaults(void)
{
	return (struct fraud_sms_cfg){.on = true,
				      .seq_digits = 3,
				      .seq = {20, 60 * S, FRAUD_BLOCK},
				      .prefix_digits = 5,
				      .surge = {50, 60 * S, FRAUD_BLOCK},
				      .surge_factor_pct = 500,
				      .baseline_steps = 60,
				      .dlr = {50, 3600 * S, FRAUD_FLAG},
				      .dlr_min_pct = 20,
				      .prefixes_max = 65536};
}

/* 30 minutes of normal traffic with the defaults: 200 messages a second
 * from 100 accounts to random numbers in 200 prefixes (prefix i weighs
 * 1 / (i + 1): the busiest gets ~2,000 a step), 90% delivered. Nothing
 * fires. Then a pump from one account walks 23276000000 upwards at 5 a
 * second: seq fires at its 21st message, surge at its 51st in a step, dlr
 * at its 50th receipt. */
static void test_normal_traffic_then_pump(void **state)
{
	struct fraud_sms_cfg c = cfg_defaults();
	struct fraud_smspump *p = make(&c);
	uint64_t x = 88172645463325252ull, fired = 0;
	double w[200], wsum = 0;
	for (unsigned i = 0; i < 200; i++)
		wsum += w[i] = 1.0 / (i + 1);
	char to[24];
	for (uint64_t n = 0; n < 200ull * 1800; n++) {
		uint64_t now = n * (S / 200);
		double r = (double)(rng_next(&x) % 1000000) / 1e6 * wsum;
		unsigned i = 0;
		while (i < 199 && r >= w[i])
			r -= w[i++];
		snprintf(to, sizeof(to), "44%03u%06u", 100 + i, (unsigned)(rng_next(&x) % 1000000));
		fired += sub(p, rng_next(&x) % 100, to, now) != FRAUD_ALLOW;
		fraud_smspump_receipt(p, SY_STR("carrier-a"), sy_str_from(to), rng_next(&x) % 10 != 0, now);
	}
	assert_int_equal(fired, 0);
	const uint64_t t0 = 1800 * S;
	unsigned first_block = 0, seq = 0, surge = 0, dlr = 0;
	for (unsigned k = 0; k < 300; k++) {
		uint64_t now = t0 + k * (S / 5);
		snprintf(to, sizeof(to), "23276%06u", k);
		enum fraud_action a = sub(p, 4242, to, now);
		seq += strncmp(why, "sms_pump.seq", 12) == 0;
		surge += strncmp(why, "sms_pump.surge", 14) == 0;
		dlr += strncmp(why, "sms_pump.dlr", 12) == 0;
		if (a == FRAUD_BLOCK && first_block == 0)
			first_block = k + 1;
		fraud_smspump_receipt(p, SY_STR("carrier-p"), sy_str_from(to), false, now);
	}
	/* seq blocks from the 21st (20 to 23276000xxx in 4 s); surge would too
	 * from the 51st, but at equal actions seq, the first, gives the reason;
	 * dlr only flags. */
	assert_int_equal(first_block, 21);
	assert_int_equal(seq, 280);
	assert_int_equal(surge + dlr, 0);
	/* Another account, another block, the same step: surge. */
	assert_int_equal(sub(p, 7, "23276999999", t0 + 60 * S - 1), FRAUD_BLOCK);
	assert_string_equal(why, "sms_pump.surge: 301 messages in 60s to 23276, baseline 0.0 (limit x5.00)");
	/* The next step: 1 message, no surge; 300 receipts, none delivered. */
	assert_int_equal(sub(p, 8, "23276555555", t0 + 61 * S), FRAUD_FLAG);
	assert_string_equal(
	    why, "sms_pump.dlr: 0% of 300 receipts delivered in 3600s to 23276 (route carrier-p: 0% of 300)");
	fraud_smspump_destroy(p);
}

static void test_config(void **state)
{
	struct fraud_smspump *p = NULL;
	struct fraud_sms_cfg c = cfg_small();
	c.baseline_steps = FRAUD_SMS_BASELINE_MAX + 1;
	assert_int_equal(fraud_smspump_create(&c, SEED, &p), SY_ERR_INVAL);
	char err[96] = "";
	assert_false(fraud_smspump_cfg_check(&c, err, sizeof(err)));
	assert_string_equal(err, "sms_baseline_steps must be 1 to 720");
	c.surge.max = 0; /* surge off: its ring is not kept, any length will do */
	c.baseline_steps = 2000;
	assert_true(fraud_smspump_cfg_check(&c, err, sizeof(err)));
	assert_int_equal(fraud_smspump_create(&c, SEED, &p), SY_OK);
	fraud_smspump_destroy(p);
	c = cfg_small();
	c.prefixes_max = (1u << 24) + 1;
	assert_false(fraud_smspump_cfg_check(&c, err, sizeof(err)));
	assert_string_equal(err, "sms_prefixes must be 1 to 16777216");
	c = cfg_small();
	c.baseline_steps = 0;
	assert_int_equal(fraud_smspump_create(&c, SEED, &p), SY_ERR_INVAL);
	c = cfg_small();
	c.dlr_min_pct = 101;
	assert_int_equal(fraud_smspump_create(&c, SEED, &p), SY_ERR_INVAL);
	assert_false(fraud_smspump_cfg_check(&c, err, sizeof(err)));
	assert_string_equal(err, "sms_dlr_min must be at most 100%");
	c = cfg_small();
	c.prefix_digits = 0;
	assert_int_equal(fraud_smspump_create(&c, SEED, &p), SY_ERR_INVAL);
	c = cfg_small();
	c.seq.window_ns = 0;
	assert_int_equal(fraud_smspump_create(&c, SEED, &p), SY_ERR_INVAL);
	assert_false(fraud_smspump_cfg_check(&c, NULL, 0));
	/* Each check off (max 0) may leave its window 0. */
	c = cfg_small();
	only(&c, false, false, false);
	c.seq.window_ns = c.surge.window_ns = c.dlr.window_ns = 0;
	c.baseline_steps = 0;
	assert_int_equal(fraud_smspump_create(&c, SEED, &p), SY_OK);
	assert_int_equal(burst(p, 1, 4475000000100ull, 100, S), 100);
	fraud_smspump_destroy(p);
	/* Off: nothing counted. */
	c = cfg_small();
	c.on = false;
	assert_int_equal(fraud_smspump_create(&c, SEED, &p), SY_OK);
	assert_int_equal(burst(p, 1, 4475000000100ull, 100, 100 * STEP), 100);
	assert_true(fraud_smspump_bytes(p) < 1024);
	fraud_smspump_destroy(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_seq_block),
	    cmocka_unit_test(test_seq_window_edges),
	    cmocka_unit_test(test_surge_baseline),
	    cmocka_unit_test(test_surge_warmup),
	    cmocka_unit_test(test_surge_idle),
	    cmocka_unit_test(test_surge_overflow),
	    cmocka_unit_test(test_dlr_ratio),
	    cmocka_unit_test(test_dlr_window_and_route),
	    cmocka_unit_test(test_strongest),
	    cmocka_unit_test(test_prefix_eviction),
	    cmocka_unit_test(test_normal_traffic_then_pump),
	    cmocka_unit_test(test_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
