/* scn_fraud.c: the fraud sections of the config file (docs/scenarios.md,
 * docs/fraud.md): [fraud] (the component's switches and the global
 * detectors), [fraud-rule NAME] (per-account thresholds, one rule per
 * account class) and two keys of [account NAME] (fraud_class, numbers).
 * They fill struct scn's fraud_cfg directly, ready for fraud_create; a bad
 * value fails with file:line like every other key.
 *
 * Limits are written the way an operator says them:
 *   calls = 20/1s block          more than 20 in any 1 s window -> block
 *   concurrent = 30 block        more than 30 at once
 *   spend = 50 USD/1h flag       more than 50.00 (the account's currency) per hour
 *   premium_max = 10m block      a premium-range call longer than 10 min
 * The action may be left out (block), and `off` turns a limit off. */
#include "core/conf/scn_int.h"

#include <stdio.h>

#define FIELD(type, obj, off) ((type *)((char *)(obj) + (off)))

/* ---- values ---- */

static bool action_of(struct sy_str v, enum fraud_action *out)
{
	static const char *const names[FRAUD_ACTION_COUNT] = {"allow", "flag", "throttle", "block"};
	for (uint32_t i = 0; i < FRAUD_ACTION_COUNT; i++)
		if (sy_str_eq(v, sy_str_from(names[i]))) {
			*out = (enum fraud_action)i;
			return true;
		}
	return false;
}

/* "allow", "flag", "throttle" or "block". */
static enum sy_rc k_action(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	if (!action_of(v, FIELD(enum fraud_action, obj, k->off)))
		return scn_bad(c, "action (allow, flag, throttle, block)", v, k);
	return SY_OK;
}

/* "1s", "10m", or a bare unit ("s", "h") meaning one of it. */
static bool window_of(struct sy_str t, uint64_t *ns)
{
	char one[16];
	if (t.len > 0 && t.len < 8 && !(t.p[0] >= '0' && t.p[0] <= '9')) {
		int n = snprintf(one, sizeof(one), "1%.*s", (int)t.len, t.p);
		t = (struct sy_str){one, (size_t)n};
	}
	return sy_duration_parse_str(t, ns) == SY_OK && *ns >= SY_NS_PER_MS && *ns <= 7 * 86400 * SY_NS_PER_S;
}

/* The optional action after a limit; block when left out. */
static bool limit_action(struct sy_str *rest, struct fraud_limit *l)
{
	struct sy_str tok, extra;
	l->action = FRAUD_BLOCK;
	if (scn_next_tok(rest, &tok, false) && !action_of(tok, &l->action))
		return false;
	return !scn_next_tok(rest, &extra, false);
}

/* "N/WINDOW [ACTION]" (rates), "N [ACTION]" (concurrent: no window), or
 * "off". k->off2 is 1 for the form without a window. */
static enum sy_rc k_limit(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct fraud_limit *l = FIELD(struct fraud_limit, obj, k->off);
	struct sy_str rest = v, tok;
	if (sy_str_eq(v, SY_STR("off"))) {
		*l = (struct fraud_limit){0};
		return SY_OK;
	}
	scn_next_tok(&rest, &tok, false);
	const char *slash = memchr(tok.p, '/', tok.len);
	bool windowed = k->off2 == 0;
	if ((slash != NULL) != windowed)
		goto bad;
	struct sy_str num = windowed ? (struct sy_str){tok.p, (size_t)(slash - tok.p)} : tok;
	if (!scn_parse_uint(num, UINT32_MAX, &l->max) || l->max == 0)
		goto bad;
	l->window_ns = 0;
	if (windowed && !window_of((struct sy_str){slash + 1, tok.len - (size_t)(slash - tok.p) - 1}, &l->window_ns))
		goto bad;
	if (!limit_action(&rest, l))
		goto bad;
	return SY_OK;
bad:
	return scn_bad(c,
		       windowed ? "limit (N/WINDOW [ACTION], e.g. 20/1s block; or off)"
				: "limit (N [ACTION], e.g. 30 block; or off)",
		       v, k);
}

/* "50 USD/1h flag", "50.00/1h": money per window, in micros. The
 * currency, when written, is only read back to the operator: spend is
 * counted in the account's own currency. */
static enum sy_rc k_spend(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct fraud_limit *l = FIELD(struct fraud_limit, obj, k->off);
	struct sy_str rest = v, amount, tok;
	if (sy_str_eq(v, SY_STR("off"))) {
		*l = (struct fraud_limit){0};
		return SY_OK;
	}
	scn_next_tok(&rest, &amount, false);
	const char *slash = memchr(amount.p, '/', amount.len);
	if (slash == NULL) { /* "50 USD/1h": the window follows the currency */
		if (!scn_next_tok(&rest, &tok, false) || tok.len < 5 || tok.p[3] != '/' ||
		    !scn_currency_ok((struct sy_str){tok.p, 3}))
			goto bad;
		slash = tok.p + 3;
	} else {
		tok = amount;
		amount.len = (size_t)(slash - amount.p);
	}
	struct sy_str win = {slash + 1, (size_t)(tok.p + tok.len - slash - 1)};
	if (sy_decimal_parse(amount, 6, &l->max) != SY_OK || l->max == 0 || !window_of(win, &l->window_ns) ||
	    !limit_action(&rest, l))
		goto bad;
	return SY_OK;
bad:
	return scn_bad(c, "spend limit (AMOUNT [CUR]/WINDOW [ACTION], e.g. 50 USD/1h flag; or off)", v, k);
}

/* "10m block": a duration and an optional action (premium_max, callbacks). */
static enum sy_rc k_duration_action(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct sy_str rest = v, tok;
	struct fraud_limit l = {0};
	scn_next_tok(&rest, &tok, false);
	if (!window_of(tok, &l.window_ns) || !limit_action(&rest, &l))
		return scn_bad(c, "DURATION [ACTION] (e.g. 10m block)", v, k);
	*FIELD(uint64_t, obj, k->off) = l.window_ns;
	*FIELD(enum fraud_action, obj, k->off2) = l.action;
	return SY_OK;
}

static enum sy_rc k_premium_max(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct fraud_rule_cfg *r = obj;
	if (sy_str_eq(v, SY_STR("off"))) {
		r->premium_max_ns = 0;
		return SY_OK;
	}
	return k_duration_action(c, obj, k, v);
}

static enum sy_rc k_risk(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	enum fraud_risk r;
	if (!fraud_risk_parse(v, &r) || r == FRAUD_RISK_NONE)
		return scn_bad(c, "risk class (low, medium, high, premium, blocked)", v, k);
	*FIELD(enum fraud_risk, obj, k->off) = r;
	return SY_OK;
}

/* A count from 1 to k->off2, into a uint32_t. */
static enum sy_rc k_count(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	uint64_t x;
	SY_ASSERT(k->off2 <= UINT32_MAX);
	if (!scn_parse_uint(v, k->off2, &x) || x == 0)
		return scn_fail(c, "bad value '%.*s' for '%s' (1 to %zu)", SCN_SV(v), k->name, k->off2);
	*FIELD(uint32_t, obj, k->off) = (uint32_t)x;
	return SY_OK;
}

/* Accounts tracked: 1 to 100,000,000, into a uint64_t. */
static enum sy_rc k_accounts(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct fraud_cfg *f = obj;
	if (!scn_parse_uint(v, 100000000, &f->accounts_max) || f->accounts_max == 0)
		return scn_bad(c, "account count (1 to 100000000)", v, k);
	return SY_OK;
}

/* "500%": a whole percentage from 1% (k->off2: the highest). */
static enum sy_rc k_pct(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct sy_str num;
	uint64_t x;
	if (!scn_ends_with(v, "%", &num) || !scn_parse_uint(num, k->off2, &x) || x == 0)
		return scn_fail(c, "bad value '%.*s' for '%s' (a whole percentage, 1%% to %zu%%)", SCN_SV(v), k->name,
				k->off2);
	*FIELD(uint32_t, obj, k->off) = (uint32_t)x;
	return SY_OK;
}

/* ---- [fraud] ---- */

static enum sy_rc k_mode(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct fraud_cfg *f = obj;
	if (sy_str_eq(v, SY_STR("enforce")))
		f->monitor = false;
	else if (sy_str_eq(v, SY_STR("monitor")))
		f->monitor = true;
	else
		return scn_bad(c, "mode (enforce or monitor)", v, k);
	return SY_OK;
}

static enum sy_rc k_ranges(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct fraud_cfg *f = obj;
	_Static_assert(FRAUD_PATH_MAX >= SCN_PATH_MAX, "a resolved path fits");
	f->ranges_line = scn_pctx_line(c);
	return scn_key_file(c, obj, k, v);
}

static enum sy_rc k_intl(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct fraud_cfg *f = obj;
	if (sy_str_eq(v, SY_STR("none")))
		v = SY_STR("");
	if (fraud_num_cfg_set_intl(&f->num, v) != SY_OK)
		return scn_bad(c, "international prefix (digits, at most 4, e.g. 00 or 011; or none)", v, k);
	return SY_OK;
}

static enum sy_rc k_retry_after(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	uint64_t ns;
	if (sy_duration_parse_str(v, &ns) != SY_OK || ns < SY_NS_PER_S || ns % SY_NS_PER_S != 0 ||
	    ns / SY_NS_PER_S > 86400)
		return scn_bad(c, "whole number of seconds from 1s to 86400s", v, k);
	*FIELD(uint32_t, obj, k->off) = (uint32_t)(ns / SY_NS_PER_S);
	return SY_OK;
}

/* A SIP final status that refuses: 400 to 699. */
static enum sy_rc k_sip_status(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	uint64_t x;
	if (!scn_parse_uint(v, 699, &x) || x < 400)
		return scn_bad(c, "SIP status (400 to 699)", v, k);
	*FIELD(uint16_t, obj, k->off) = (uint16_t)x;
	return SY_OK;
}

/* An SMPP command_status: 0x45 or 69; never 0 (that is success). */
static enum sy_rc k_smpp_status(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	uint64_t x = 0;
	bool ok;
	if (v.len > 2 && v.p[0] == '0' && (v.p[1] == 'x' || v.p[1] == 'X')) {
		ok = v.len <= 10;
		for (size_t i = 2; ok && i < v.len; i++) {
			char ch = (char)(v.p[i] | 0x20);
			ok = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
			x = x * 16 + (uint64_t)(ch <= '9' ? ch - '0' : ch - 'a' + 10);
		}
	} else {
		ok = scn_parse_uint(v, UINT32_MAX, &x);
	}
	if (!ok || x == 0)
		return scn_bad(c, "SMPP command_status (e.g. 0x45; not 0)", v, k);
	*FIELD(uint32_t, obj, k->off) = (uint32_t)x;
	return SY_OK;
}

static enum sy_rc k_alert_url(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct fraud_cfg *f = obj;
	if (v.len < 8 || memcmp(v.p, "http://", 7) != 0 || !scn_copy_str(f->alert.url, sizeof(f->alert.url), v))
		return scn_bad(c, "webhook URL (http://HOST:PORT/PATH, HOST an IP address)", v, k);
	return SY_OK;
}

/* "10/s burst 20" (burst optional: twice the rate). */
static enum sy_rc k_alert_rate(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct fraud_cfg *f = obj;
	struct sy_str rest = v, tok, num, val;
	uint64_t x, burst;
	if (!scn_next_tok(&rest, &tok, false) || !scn_ends_with(tok, "/s", &num) || !scn_parse_uint(num, 100000, &x) ||
	    x == 0)
		goto bad;
	burst = 2 * x;
	if (scn_next_tok(&rest, &tok, false) &&
	    (!sy_str_eq(tok, SY_STR("burst")) || !scn_next_tok(&rest, &val, false) ||
	     !scn_parse_uint(val, 1000000, &burst) || burst < x || scn_next_tok(&rest, &tok, false)))
		goto bad;
	f->alert.per_s = (uint32_t)x;
	f->alert.burst = (uint32_t)burst;
	return SY_OK;
bad:
	return scn_bad(c, "alert rate (N/s [burst M >= N])", v, k);
}

#define FR(f)  offsetof(struct fraud_cfg, f)
#define WG(f)  offsetof(struct fraud_cfg, wangiri.f)
#define SMS(f) offsetof(struct fraud_cfg, sms.f)
static const struct scn_key_def fraud_keys[] = {
    {"enabled", scn_key_bool, FR(on), 0, false},
    {"mode", k_mode, 0, 0, false},
    {"ranges", k_ranges, FR(ranges_path), 0, false},
    {"intl_prefix", k_intl, 0, 0, false},
    {"accounts", k_accounts, 0, 0, false},
    {"bursts", k_count, FR(bursts_max), 1u << 24, false},
    {"retry_after", k_retry_after, FR(retry_after_s), 0, false},
    {"block_sip", k_sip_status, FR(block_sip), 0, false},
    {"block_smpp", k_smpp_status, FR(block_smpp), 0, false},
    {"wangiri", scn_key_bool, WG(on), 0, false},
    {"wangiri_source_digits", k_count, WG(source_digits), FRAUD_NUM_MAX, false},
    {"wangiri_short", scn_key_duration_nz, WG(short_ns), 0, false},
    {"wangiri_flood", k_limit, WG(flood), 0, false},
    {"wangiri_distinct", k_count, WG(distinct_min), 1000000, false},
    {"wangiri_callback", k_duration_action, WG(callback_ns), WG(callback), false},
    {"wangiri_ranges", k_count, WG(ranges_max), 1u << 24, false},
    {"sms_pump", scn_key_bool, SMS(on), 0, false},
    {"sms_seq_digits", k_count, SMS(seq_digits), 6, false},
    {"sms_seq", k_limit, SMS(seq), 0, false},
    {"sms_prefix_digits", k_count, SMS(prefix_digits), FRAUD_NUM_MAX, false},
    {"sms_surge", k_limit, SMS(surge), 0, false},
    {"sms_surge_factor", k_pct, SMS(surge_factor_pct), 100000, false},
    {"sms_baseline_steps", k_count, SMS(baseline_steps), 10000, false},
    {"sms_dlr", k_limit, SMS(dlr), 0, false},
    {"sms_dlr_min", k_pct, SMS(dlr_min_pct), 100, false},
    {"sms_prefixes", k_count, SMS(prefixes_max), 1u << 24, false},
    {"alert_url", k_alert_url, 0, 0, false},
    {"alert_rate", k_alert_rate, 0, 0, false},
    {"alert_timeout", scn_key_duration_nz, FR(alert.timeout_ns), 0, false},
};

static void *fraud_begin(struct scn_pctx *c, void *arg, struct sy_str name)
{
	struct scn *s = arg;
	s->fraud.on = true; /* a [fraud] section turns it on unless it says enabled = no */
	return &s->fraud;
}

/* ---- [fraud-rule NAME] ---- */

#define RL(f) offsetof(struct fraud_rule_cfg, f)
static const struct scn_key_def rule_keys[] = {
    {"calls", k_limit, RL(calls), 0, false},
    {"concurrent", k_limit, RL(concurrent), 1, false},
    {"spend", k_spend, RL(spend), 0, false},
    {"new_dest", k_limit, RL(new_dest), 0, false},
    {"risk_min", k_risk, RL(risk_min), 0, false},
    {"risky_calls", k_limit, RL(risky_calls), 0, false},
    {"risky_spend", k_spend, RL(risky_spend), 0, false},
    {"range_burst", k_limit, RL(range_burst), 0, false},
    {"blocked_class", k_action, RL(blocked_class), 0, false},
    {"premium_max", k_premium_max, RL(premium_max_ns), RL(premium_action), false},
    {"cli_malformed", k_action, RL(cli_malformed), 0, false},
    {"cli_same", k_action, RL(cli_same), 0, false},
    {"cli_foreign", k_action, RL(cli_foreign), 0, false},
    {"sms", k_limit, RL(sms), 0, false},
};

static void *rule_begin(struct scn_pctx *c, void *arg, struct sy_str name)
{
	struct scn *s = arg;
	struct fraud_cfg *f = &s->fraud;
	for (uint32_t i = 0; i < f->rule_n; i++)
		if (sy_str_eq(name, sy_str_from(f->rules[i].name))) {
			scn_fail(c, "duplicate section %s", scn_pctx_label(c));
			return NULL;
		}
	if (f->rule_n == FRAUD_RULES_MAX) {
		scn_fail(c, "too many [fraud-rule] sections (max %d)", FRAUD_RULES_MAX);
		return NULL;
	}
	struct fraud_rule_cfg *r = &f->rules[f->rule_n];
	fraud_rule_defaults(r);
	r->line = scn_pctx_line(c);
	if (!scn_copy_str(r->name, sizeof(r->name), name)) {
		scn_fail(c, "fraud rule name too long '%.*s' (max %d)", SCN_SV(name), FRAUD_NAME_MAX - 1);
		return NULL;
	}
	if (strcmp(r->name, "default") == 0)
		f->default_rule = (int32_t)f->rule_n;
	f->rule_n++;
	return r;
}

/* ---- [account NAME] fraud_class, numbers ---- */

static enum sy_rc k_class(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct scn_fraud_account *a = obj;
	a->class_line = scn_pctx_line(c);
	return scn_key_str(c, obj, k, v);
}

/* "+4420 +4421 0044": the caller prefixes the customer owns. */
static enum sy_rc k_numbers(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct scn_fraud_account *a = obj;
	struct sy_str rest = v, tok;
	a->own_n = 0;
	while (scn_next_tok(&rest, &tok, true)) {
		bool ok = a->own_n < FRAUD_OWN_MAX && tok.len > (tok.p[0] == '+') && tok.len <= FRAUD_NUM_MAX + 1;
		for (size_t i = tok.p[0] == '+'; ok && i < tok.len; i++)
			ok = tok.p[i] >= '0' && tok.p[i] <= '9';
		if (!ok)
			return scn_bad(c, "number prefixes (up to 16, e.g. +4420 +4421)", tok, k);
		scn_copy_str(a->own[a->own_n++], sizeof(a->own[0]), tok);
	}
	return SY_OK;
}

#define FA(f) offsetof(struct scn_fraud_account, f)
static const struct scn_key_def account_keys[] = {
    {"fraud_class", k_class, FA(fraud_class), SCN_NAME_MAX, false},
    {"numbers", k_numbers, 0, 0, false},
};

/* The node's account_begin ran first: this section is the last account. */
static void *account_begin(struct scn_pctx *c, void *arg, struct sy_str name)
{
	struct scn *s = arg;
	SY_ASSERT(s->account_n > 0);
	return &s->fraud_accounts[s->account_n - 1];
}

/* ---- the whole file ---- */

static int32_t rule_find(const struct fraud_cfg *f, const char *name)
{
	for (uint32_t i = 0; i < f->rule_n; i++)
		if (strcmp(f->rules[i].name, name) == 0)
			return (int32_t)i;
	return -1;
}

/* Accounts with a class or own numbers become fraud_cfg.accounts. */
static enum sy_rc fraud_finish(struct scn_pctx *c, const struct scn *cs, void *arg)
{
	struct scn *s = arg;
	struct fraud_cfg *f = &s->fraud;
	_Static_assert(FRAUD_ACCOUNTS_MAX >= SCN_ACCOUNTS_MAX && FRAUD_NAME_MAX >= SCN_NAME_MAX, "every account fits");
	f->account_n = 0;
	for (uint32_t i = 0; i < s->account_n; i++) {
		const struct scn_fraud_account *a = &s->fraud_accounts[i];
		int32_t rule = -1;
		if (a->fraud_class[0] != '\0' && (rule = rule_find(f, a->fraud_class)) < 0)
			return scn_fail_at(c, a->class_line, "[account %s] names unknown fraud rule '%s'",
					   s->accounts[i].name, a->fraud_class);
		if (rule < 0 && a->own_n == 0)
			continue;
		struct fraud_account_cfg *d = &f->accounts[f->account_n++];
		memset(d, 0, sizeof(*d));
		memcpy(d->name, s->accounts[i].name, strlen(s->accounts[i].name) + 1); /* fits: asserted above */
		d->rule = rule;
		memcpy(d->own, a->own, sizeof(d->own));
		d->own_n = a->own_n;
	}
	return SY_OK;
}

#define KEYS(t) (t), SY_ARRAY_LEN(t)
static const struct scn_sec_def fraud_secs[] = {
    {"fraud", NULL, KEYS(fraud_keys), fraud_begin, NULL, NULL, false},
    {"fraud-rule", "*", KEYS(rule_keys), rule_begin, NULL, NULL, true},
};

static const struct scn_ext_keys fraud_more[] = {
    {"account", KEYS(account_keys), account_begin},
};

const struct scn_ext scn_fraud_ext = {
    .secs = fraud_secs,
    .sec_n = SY_ARRAY_LEN(fraud_secs),
    .keys = fraud_more,
    .keys_n = SY_ARRAY_LEN(fraud_more),
    .finish = fraud_finish,
};
