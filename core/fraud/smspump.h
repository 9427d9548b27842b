/* smspump.h: the SMS pumping (artificially inflated traffic) detector, a
 * module of fraud.c with its own state:
 *   seq    an account sending many messages to one block of consecutive
 *          numbers (the number without its last seq_digits digits) within
 *          a window: pumping walks number ranges;
 *   surge  a destination prefix (its first prefix_digits digits) getting far
 *          more messages per step than its own moving baseline (an average
 *          over baseline_steps steps, learned as traffic flows; a prefix
 *          with no history has a baseline of 0, so surge.max is the least
 *          count per step before it can fire); a step that fired is not
 *          learned (an attack never becomes the baseline), and for the
 *          first min(baseline_steps, FRAUD_SMS_WARMUP_STEPS) steps after
 *          its first message the detector only learns (warm-up: the normal
 *          traffic's prefixes find their level before anything is judged);
 *   dlr    a destination prefix whose delivery receipts (over all routes:
 *          the route is not known at submit) say "delivered" for fewer
 *          than dlr_min_pct of at least dlr.max receipts in the window:
 *          pumped numbers rarely exist. The reason names the route with
 *          the lowest ratio to that prefix.
 * The strongest action of the three is returned (on a tie the first of
 * seq, surge, dlr). Numbers given here are normalised (digits, no '+');
 * numbers not longer than seq_digits have no block, numbers shorter than
 * prefix_digits no prefix (those checks skip them). A check whose max is 0
 * is off (its window may then be 0). Deterministic with the given seed.
 *
 * Windows: seq counts in a count-min sketch (depth 4, width the power of
 * two >= prefixes_max) of two epochs of seq.window_ns / 2, so its count
 * covers between half a window and a window (never more than seq.window_ns:
 * a fire means more than seq.max messages within at most that time). The
 * surge step is now / surge.window_ns. The receipts windows are fwins of up
 * to 6 buckets (exact at window / B granularity: an hour in 10 minutes).
 *
 * Memory, fixed at create: the seq sketch 32 x width bytes (2 MiB at
 * 65,536); per tracked prefix a blob of 64 + 4 x baseline_steps + 2 x
 * (16 + 8 B) bytes (defaults 60 steps, B = 6: 432) in an ftab (16 bytes
 * more per slot, 2 slots per prefix at prefixes_max = 65,536: 56 MiB); the
 * (route, prefix) receipts that name the worst route in the dlr reason:
 * prefixes_max / 4 entries of 2 x (16 + 8 B) bytes (4.5 MiB). With the
 * defaults 65.5 MB in all (fraud_smspump_bytes).
 * Cost: submit O(1): a sketch add (4 counters), one ftab get, the step's
 * count, two window sums; a prefix idle for k steps first learns
 * min(k, baseline_steps) zeros. receipt: two ftab gets, four window adds. */
#ifndef SY_FRAUD_SMSPUMP_H
#define SY_FRAUD_SMSPUMP_H
#include "core/fraud/fraud.h"

#define FRAUD_SMS_WARMUP_STEPS 5u
#define FRAUD_SMS_BASELINE_MAX 720u /* steps in the moving baseline (a prefix's blob stays under 4 KiB) */

struct fraud_smspump;

/* Whether create would accept cfg (its on aside); when not, err (may be
 * NULL) says why, naming the config key ("sms_baseline_steps must be 1 to
 * 720"). create returns SY_ERR_INVAL for the same. */
bool fraud_smspump_cfg_check(const struct fraud_sms_cfg *cfg, char *err, size_t errlen);
enum sy_rc fraud_smspump_create(const struct fraud_sms_cfg *cfg, uint64_t seed, struct fraud_smspump **out);
void fraud_smspump_destroy(struct fraud_smspump *p);

/* A submit from account (acct_key: fraud.c's key of the account) to `to`:
 * counts it and returns the action (FRAUD_ALLOW or a limit's action), with
 * the reason ("sms_pump.seq: 21 messages in 60s to 4475000000xxx", ...). */
enum fraud_action fraud_smspump_submit(struct fraud_smspump *p, uint64_t acct_key, struct sy_str to, uint64_t now_ns,
				       char *reason, size_t reason_len);

/* A receipt for a message to `to` through carrier. */
void fraud_smspump_receipt(struct fraud_smspump *p, struct sy_str carrier, struct sy_str to, bool delivered,
			   uint64_t now_ns);

size_t fraud_smspump_bytes(const struct fraud_smspump *p);
#endif
