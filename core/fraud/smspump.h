/* smspump.h: the SMS pumping (artificially inflated traffic) detector, a
 * module of fraud.c with its own state:
 *   seq    an account sending many messages to one block of consecutive
 *          numbers (the number without its last seq_digits digits) within
 *          a window: pumping walks number ranges;
 *   surge  a destination prefix (its first prefix_digits digits) getting far
 *          more messages per step than its own moving baseline (an average
 *          over baseline_steps steps, learned as traffic flows; a prefix
 *          with no history has a baseline of 0, so surge.max is the least
 *          count per step before it can fire);
 *   dlr    a route and prefix whose delivery receipts say "delivered" for
 *          fewer than dlr_min_pct of at least dlr.max receipts in the
 *          window: pumped numbers rarely exist.
 * The strongest action of the three is returned. Numbers given here are
 * normalised (digits, no '+'). State in fixed memory (prefixes_max each);
 * deterministic with the given seed. */
#ifndef SY_FRAUD_SMSPUMP_H
#define SY_FRAUD_SMSPUMP_H
#include "core/fraud/fraud.h"

struct fraud_smspump;

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
