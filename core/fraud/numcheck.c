/* numcheck.c: number normalisation and plausibility checks (numcheck.h). */
#include "core/fraud/numcheck.h"

/* ITU-T E.164 assigned country codes (the list of assignments as of the
 * 2020s, including the global services 800, 808, 870, 881-883, 888, 979,
 * 991); codes listed by ITU as spare or withdrawn (28x, 83x, 89x, 671, 684,
 * 384, 388, ...) are absent, so a number starting with one is
 * unallocatable. Kept sorted: binary search. Not authoritative: check the
 * ITU list when a code is assigned or withdrawn. 1 and 7 are the only
 * one-digit codes. */
static const uint16_t cc2[] = {20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 53, 54,
			       55, 56, 57, 58, 60, 61, 62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98};

static const uint16_t cc3[] = {
    211, 212, 213, 216, 218, 220, 221, 222, 223, 224, 225, 226, 227, 228, 229, 230, 231, 232, 233, 234, 235, 236,
    237, 238, 239, 240, 241, 242, 243, 244, 245, 246, 247, 248, 249, 250, 251, 252, 253, 254, 255, 256, 257, 258,
    260, 261, 262, 263, 264, 265, 266, 267, 268, 269, 290, 291, 297, 298, 299, 350, 351, 352, 353, 354, 355, 356,
    357, 358, 359, 370, 371, 372, 373, 374, 375, 376, 377, 378, 379, 380, 381, 382, 383, 385, 386, 387, 389, 420,
    421, 423, 500, 501, 502, 503, 504, 505, 506, 507, 508, 509, 590, 591, 592, 593, 594, 595, 596, 597, 598, 599,
    670, 672, 673, 674, 675, 676, 677, 678, 679, 680, 681, 682, 683, 685, 686, 687, 688, 689, 690, 691, 692, 800,
    808, 850, 852, 853, 855, 856, 870, 880, 881, 882, 883, 886, 888, 960, 961, 962, 963, 964, 965, 966, 967, 968,
    970, 971, 972, 973, 974, 975, 976, 977, 979, 991, 992, 993, 994, 995, 996, 998};

/* Exposed to the unit test through these, so it can check the tables are
 * sorted and prefix-free. */
const uint16_t *fraud_num_cc_table(size_t digits, size_t *n);

const uint16_t *fraud_num_cc_table(size_t digits, size_t *n)
{
	*n = digits == 2 ? SY_ARRAY_LEN(cc2) : digits == 3 ? SY_ARRAY_LEN(cc3) : 0;
	return digits == 2 ? cc2 : digits == 3 ? cc3 : NULL;
}

static bool in_sorted(const uint16_t *a, size_t n, uint16_t v)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (a[mid] == v)
			return true;
		if (a[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

enum sy_rc fraud_num_cfg_set_intl(struct fraud_num_cfg *cfg, struct sy_str intl_prefix)
{
	if (intl_prefix.len > FRAUD_INTL_PREFIX_MAX)
		return SY_ERR_INVAL;
	for (size_t i = 0; i < intl_prefix.len; i++)
		if (!is_digit(intl_prefix.p[i]))
			return SY_ERR_INVAL;
	if (intl_prefix.len > 0)
		memcpy(cfg->intl_prefix, intl_prefix.p, intl_prefix.len);
	cfg->intl_prefix[intl_prefix.len] = '\0';
	return SY_OK;
}

struct sy_str fraud_num_norm(const struct fraud_num_cfg *cfg, struct sy_str number)
{
	if (number.len > 0 && number.p[0] == '+')
		return (struct sy_str){number.p + 1, number.len - 1};
	size_t il = cfg != NULL ? strnlen(cfg->intl_prefix, sizeof cfg->intl_prefix) : 0;
	if (il > 0 && number.len >= il && memcmp(number.p, cfg->intl_prefix, il) == 0)
		return (struct sy_str){number.p + il, number.len - il};
	return number;
}

size_t fraud_num_cc_len(struct sy_str d)
{
	if (d.len < 1 || !is_digit(d.p[0]) || d.p[0] == '0')
		return 0;
	if (d.p[0] == '1' || d.p[0] == '7')
		return 1;
	if (d.len < 2 || !is_digit(d.p[1]))
		return 0;
	uint16_t two = (uint16_t)((d.p[0] - '0') * 10 + (d.p[1] - '0'));
	if (in_sorted(cc2, SY_ARRAY_LEN(cc2), two))
		return 2;
	if (d.len < 3 || !is_digit(d.p[2]))
		return 0;
	uint16_t three = (uint16_t)(two * 10 + (d.p[2] - '0'));
	return in_sorted(cc3, SY_ARRAY_LEN(cc3), three) ? 3 : 0;
}

static const char *const verdict_names[FRAUD_NUM_VERDICT_COUNT] = {
    "ok", "empty", "non_digit", "too_short", "too_long", "cc_zero", "cc_spare", "nanp_area", "nanp_exchange"};

const char *fraud_num_verdict_name(enum fraud_num_verdict v)
{
	return (unsigned)v < FRAUD_NUM_VERDICT_COUNT ? verdict_names[v] : "?";
}

/* +1 (NANP) and +7 numbers have exactly 11 digits: 1 NPA NXX XXXX and
 * 7 + 10 digits. */
static enum fraud_num_verdict check_fixed(struct sy_str d)
{
	if (d.p[0] != '1' && d.p[0] != '7')
		return FRAUD_NUM_OK;
	if (d.len != 11)
		return d.len < 11 ? FRAUD_NUM_TOO_SHORT : FRAUD_NUM_TOO_LONG;
	if (d.p[0] == '1' && (d.p[1] == '0' || d.p[1] == '1'))
		return FRAUD_NUM_NANP_AREA;
	if (d.p[0] == '1' && (d.p[4] == '0' || d.p[4] == '1'))
		return FRAUD_NUM_NANP_EXCHANGE;
	return FRAUD_NUM_OK;
}

enum fraud_num_verdict fraud_num_check(const struct fraud_num_cfg *cfg, struct sy_str number, size_t *cc_len)
{
	struct sy_str d = fraud_num_norm(cfg, number);
	if (cc_len != NULL)
		*cc_len = 0;
	if (d.len == 0)
		return FRAUD_NUM_EMPTY;
	for (size_t i = 0; i < d.len; i++)
		if (!is_digit(d.p[i]))
			return FRAUD_NUM_NON_DIGIT;
	if (d.len > FRAUD_NUM_MAX)
		return FRAUD_NUM_TOO_LONG;
	if (d.p[0] == '0')
		return FRAUD_NUM_CC_ZERO;
	size_t cc = fraud_num_cc_len(d);
	if (cc == 0)
		return d.len < 3 ? FRAUD_NUM_TOO_SHORT : FRAUD_NUM_CC_SPARE;
	if (cc_len != NULL)
		*cc_len = cc;
	if (d.len < FRAUD_NUM_MIN)
		return FRAUD_NUM_TOO_SHORT;
	return check_fixed(d);
}

bool fraud_num_same(const struct fraud_num_cfg *cfg, struct sy_str a, struct sy_str b)
{
	struct sy_str na = fraud_num_norm(cfg, a), nb = fraud_num_norm(cfg, b);
	return na.len > 0 && sy_str_eq(na, nb);
}

bool fraud_num_in_prefixes(const struct fraud_num_cfg *cfg, struct sy_str number, const struct sy_str *prefixes,
			   size_t n)
{
	struct sy_str d = fraud_num_norm(cfg, number);
	for (size_t i = 0; i < n; i++) {
		struct sy_str p = fraud_num_norm(cfg, prefixes[i]);
		if (p.len > 0 && p.len <= d.len && memcmp(d.p, p.p, p.len) == 0)
			return true;
	}
	return false;
}
