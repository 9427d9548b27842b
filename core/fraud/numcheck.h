/* numcheck.h: number plausibility checks for the fraud detectors (the
 * caller-ID checks of issue 12 and the normalisation the risk ranges use).
 *
 * Pure functions on slices: no allocation, no state, no env. Each costs
 * O(digits) (fraud_num_in_prefixes: O(prefixes * digits)).
 *
 * Limits, on purpose: this is NOT a numbering-plan database. It knows the
 * E.164 length bounds, which country codes ITU-T has assigned (a built-in
 * table, see numcheck.c; spare codes are "unallocatable"), and the NANP (+1)
 * and +7 fixed lengths and NANP's area code and exchange rules (neither
 * starts with 0 or 1). It does not know national number lengths elsewhere,
 * which ranges inside a country are allocated, ported or in service, or
 * national formats (a number must be international: "+CC...", "CC..." or,
 * with an international prefix configured, "00CC..."). */
#ifndef SY_FRAUD_NUMCHECK_H
#define SY_FRAUD_NUMCHECK_H

#include "core/base.h"

#define FRAUD_NUM_MAX	      15 /* E.164: country code + national number */
#define FRAUD_NUM_MIN	      7	 /* shortest real ones: +690 NNNN (Tokelau), +683 NNNN (Niue) */
#define FRAUD_INTL_PREFIX_MAX 4	 /* "00", "011", "0011" */

/* How dialed and presented numbers are normalised before any check or
 * range lookup. A zeroed struct strips a leading '+' only. */
struct fraud_num_cfg {
	/* Digits that stand for '+' at the start of a number ("00" in most of
	 * the world, "011" in NANP); "" = none. Applied only when the number
	 * has no '+'. NUL-terminated digits, at most FRAUD_INTL_PREFIX_MAX. */
	char intl_prefix[FRAUD_INTL_PREFIX_MAX + 1];
};

/* Fills cfg from text ("" or digits, at most FRAUD_INTL_PREFIX_MAX).
 * SY_ERR_INVAL otherwise (cfg unchanged). */
enum sy_rc fraud_num_cfg_set_intl(struct fraud_num_cfg *cfg, struct sy_str intl_prefix);

/* The number without its leading '+' (or, when it has none, without the
 * configured international prefix): a slice of the input, so it lives as
 * long as the input does. Nothing else is removed or checked. cfg may be
 * NULL (= zeroed). */
struct sy_str fraud_num_norm(const struct fraud_num_cfg *cfg, struct sy_str number);

enum fraud_num_verdict {
	FRAUD_NUM_OK = 0,
	FRAUD_NUM_EMPTY,	 /* nothing left after normalisation */
	FRAUD_NUM_NON_DIGIT,	 /* a byte other than 0-9 after normalisation */
	FRAUD_NUM_TOO_SHORT,	 /* fewer than FRAUD_NUM_MIN digits (or the country's fixed length) */
	FRAUD_NUM_TOO_LONG,	 /* more than FRAUD_NUM_MAX digits (or the country's fixed length) */
	FRAUD_NUM_CC_ZERO,	 /* country code starts with 0: never valid */
	FRAUD_NUM_CC_SPARE,	 /* a country code ITU-T has not assigned */
	FRAUD_NUM_NANP_AREA,	 /* +1 with an area code starting 0 or 1 */
	FRAUD_NUM_NANP_EXCHANGE, /* +1 with an exchange code starting 0 or 1 */
	FRAUD_NUM_VERDICT_COUNT
};

/* A short stable name ("ok", "non_digit", "cc_spare", ...) for CDR reasons
 * and counters. */
const char *fraud_num_verdict_name(enum fraud_num_verdict v);

/* Checks a number after normalisation: malformed (empty, non-digits,
 * length), then unallocatable (country code 0 or spare, +1/+7 length, NANP
 * area code or exchange). The first failing check is returned. cc_len (may
 * be NULL) gets the country code's length (1-3) when one was recognised,
 * else 0. */
enum fraud_num_verdict fraud_num_check(const struct fraud_num_cfg *cfg, struct sy_str number, size_t *cc_len);

/* The length (1-3) of the assigned country code number starts with (digits
 * only, already normalised), or 0 when it starts with none (spare codes,
 * a leading 0, too short, a non-digit). Country codes are prefix-free, so
 * at most one matches. */
size_t fraud_num_cc_len(struct sy_str digits);

/* Caller equals callee: both normalised the same way, then compared byte
 * for byte. Two empty numbers are not equal (nothing was presented). */
bool fraud_num_same(const struct fraud_num_cfg *cfg, struct sy_str a, struct sy_str b);

/* True when number (normalised) starts with one of the n prefixes (each
 * normalised too, so "+4420", "4420" and "004420" with intl_prefix "00"
 * are the same prefix). An empty prefix matches nothing (an account whose
 * list is empty owns no numbers). O(n * digits): meant for the few blocks
 * one customer owns; a long list wants a digit trie (core/route/route.h). */
bool fraud_num_in_prefixes(const struct fraud_num_cfg *cfg, struct sy_str number, const struct sy_str *prefixes,
			   size_t n);

#endif
