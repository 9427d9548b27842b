/* fraud.c: the fraud component's frame (fraud.h): configuration defaults,
 * create and destroy, the ranges reload, the account index, and how a
 * decision is finished (mode, statuses, counters, observers, the alert
 * rate). The detectors are in callerid.c, irsf.c and velocity.c, the entry
 * points in fraud_call.c and fraud_sms.c. */
#include "core/fraud/fraud.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/fraud/fraud_int.h"
#include "core/fraud/mix.h"

static const char *const action_names[FRAUD_ACTION_COUNT] = {"allow", "flag", "throttle", "block"};
static const char *const detector_names[FRAUD_DET_COUNT] = {"none",	"irsf",	    "wangiri",
							    "sms_pump", "velocity", "callerid"};

const char *fraud_action_name(enum fraud_action a)
{
	return (unsigned)a < FRAUD_ACTION_COUNT ? action_names[a] : "?";
}

bool fraud_action_parse(struct sy_str s, enum fraud_action *out)
{
	for (unsigned i = 0; i < FRAUD_ACTION_COUNT; i++)
		if (sy_str_ieq(s, sy_str_from(action_names[i]))) {
			*out = (enum fraud_action)i;
			return true;
		}
	return false;
}

const char *fraud_detector_name(enum fraud_detector d)
{
	return (unsigned)d < FRAUD_DET_COUNT ? detector_names[d] : "?";
}

void fraud_rule_defaults(struct fraud_rule_cfg *r)
{
	memset(r, 0, sizeof(*r));
	r->risk_min = FRAUD_RISK_HIGH;
	r->blocked_class = FRAUD_BLOCK;
	r->premium_action = FRAUD_BLOCK;
}

void fraud_cfg_defaults(struct fraud_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->accounts_max = 100000;
	cfg->bursts_max = FRAUD_BURSTS_DEF;
	cfg->retry_after_s = 60;
	cfg->block_sip = 403;
	cfg->block_smpp = 0x45; /* ESME_RSUBMITFAIL */
	cfg->default_rule = -1;
	struct fraud_wangiri_cfg *w = &cfg->wangiri;
	*w = (struct fraud_wangiri_cfg){.source_digits = 8,
					.short_ns = 5 * SY_NS_PER_S,
					.flood = {30, 60 * SY_NS_PER_S, FRAUD_BLOCK},
					.distinct_min = 20,
					.callback_ns = 24 * 3600 * SY_NS_PER_S,
					.callback = FRAUD_BLOCK,
					.ranges_max = 65536};
	struct fraud_sms_cfg *s = &cfg->sms;
	*s = (struct fraud_sms_cfg){.seq_digits = 3,
				    .seq = {20, 60 * SY_NS_PER_S, FRAUD_BLOCK},
				    .prefix_digits = 5,
				    .surge = {50, 60 * SY_NS_PER_S, FRAUD_BLOCK},
				    .surge_factor_pct = 500,
				    .baseline_steps = 60,
				    .dlr = {50, 3600 * SY_NS_PER_S, FRAUD_FLAG},
				    .dlr_min_pct = 20,
				    .prefixes_max = 65536};
	cfg->alert = (struct fraud_alert_cfg){.per_s = 10, .burst = 20, .timeout_ns = 2 * SY_NS_PER_S};
}

/* ---- create ---- */

/* The largest bucket count <= FRAUD_WIN_BUCKETS that divides the window. */
static enum sy_rc geom_for(struct fraud_fwin_geom *g, const struct fraud_limit *l)
{
	if (l->max == 0)
		return SY_OK;
	for (uint32_t b = FRAUD_WIN_BUCKETS; b >= 1; b--)
		if (l->window_ns > 0 && l->window_ns % b == 0)
			return fraud_fwin_geom_init(g, l->window_ns, b);
	return SY_ERR_INVAL;
}

static const struct fraud_limit *rule_limit(const struct fraud_rule_cfg *r, enum fraud_win w)
{
	switch (w) {
	case FRAUD_W_CALLS:
		return &r->calls;
	case FRAUD_W_SPEND:
		return &r->spend;
	case FRAUD_W_RISKY_CALLS:
		return &r->risky_calls;
	case FRAUD_W_RISKY_SPEND:
		return &r->risky_spend;
	case FRAUD_W_NEW_DEST:
		return &r->new_dest;
	default:
		return &r->sms;
	}
}

static const char *const win_names[FRAUD_W_COUNT] = {"calls", "spend", "risky_calls", "risky_spend", "new_dest", "sms"};

/* Each rule's window geometries; which windows the blob keeps; the two
 * sketches' epochs (the longest window of their kind over the rules). */
static enum sy_rc plan_rules(struct fraud *f, uint64_t *dest_epoch, uint64_t *burst_epoch, char *err, size_t errlen)
{
	bool used[FRAUD_W_COUNT] = {false};
	*dest_epoch = *burst_epoch = 0;
	for (uint32_t i = 0; i < f->cfg.rule_n; i++) {
		const struct fraud_rule_cfg *r = &f->cfg.rules[i];
		for (unsigned w = 0; w < FRAUD_W_COUNT; w++) {
			const struct fraud_limit *l = rule_limit(r, (enum fraud_win)w);
			if (geom_for(&f->rt[i].g[w], l) != SY_OK) {
				snprintf(err, errlen, "fraud-rule %s (line %u): %s: the window must be > 0", r->name,
					 r->line, win_names[w]);
				return SY_ERR_INVAL;
			}
			used[w] |= l->max > 0;
		}
		if (geom_for(&f->rt[i].burst, &r->range_burst) != SY_OK) {
			snprintf(err, errlen, "fraud-rule %s (line %u): range_burst: the window must be > 0", r->name,
				 r->line);
			return SY_ERR_INVAL;
		}
		if (r->new_dest.max > 0 && r->new_dest.window_ns > *dest_epoch)
			*dest_epoch = r->new_dest.window_ns;
		if (r->range_burst.max > 0 && r->range_burst.window_ns > *burst_epoch)
			*burst_epoch = r->range_burst.window_ns;
	}
	uint32_t off = sizeof(struct fraud_acct);
	for (unsigned w = 0; w < FRAUD_W_COUNT; w++)
		if (used[w]) {
			f->win_off[w] = off;
			off += (uint32_t)fraud_fwin_bytes(FRAUD_WIN_BUCKETS);
		}
	f->blob = off;
	return SY_OK;
}

/* The account names, indexed by their key in the tracked table. */
static enum sy_rc index_accounts(struct fraud *f, char *err, size_t errlen)
{
	for (uint32_t i = 0; i < f->cfg.account_n; i++) {
		const struct fraud_account_cfg *a = &f->cfg.accounts[i];
		if (a->rule >= (int32_t)f->cfg.rule_n) {
			snprintf(err, errlen, "account %s: no fraud-rule #%d", a->name, a->rule);
			return SY_ERR_INVAL;
		}
		uint64_t key = fraud_ftab_key(f->accts, sy_str_from(a->name));
		uint32_t s = (uint32_t)key & (FRAUD_ACCT_IDX - 1);
		while (f->idx[s].key != 0 && f->idx[s].key != key)
			s = (s + 1) & (FRAUD_ACCT_IDX - 1);
		f->idx[s] = (struct fraud_acct_idx){key, (int32_t)i}; /* a name listed twice: the last wins */
	}
	return SY_OK;
}

/* Each sketch is sized for a busy node (docs/fraud.md): a never-seen pair
 * reads 0, so "new" is never claimed wrongly; a full sketch reads pairs as
 * seen, so new destinations are under-counted, never over. */
static enum sy_rc make_sketches(struct fraud *f, uint64_t dest_epoch, uint64_t burst_epoch)
{
	enum sy_rc rc = SY_OK;
	if (dest_epoch > 0) {
		struct fraud_cms_cfg c = {3, 1u << 20, dest_epoch, sy_env_random_u64(f->env)};
		rc = fraud_cms_create(&c, &f->dests);
	}
	if (rc == SY_OK && burst_epoch > 0) {
		struct fraud_cms_cfg c = {3, 1u << 16, burst_epoch, sy_env_random_u64(f->env)};
		rc = fraud_cms_create(&c, &f->bdests);
		struct fraud_ftab_cfg t = {f->cfg.bursts_max ? f->cfg.bursts_max : FRAUD_BURSTS_DEF,
					   (uint32_t)fraud_fwin_bytes(FRAUD_WIN_BUCKETS), sy_env_random_u64(f->env)};
		if (rc == SY_OK)
			rc = fraud_ftab_create(&t, &f->bursts);
	}
	return rc;
}

static enum sy_rc load_ranges(struct fraud *f, char *err, size_t errlen)
{
	if (f->cfg.ranges_path[0] == '\0')
		return SY_OK;
	struct fraud_ranges_opts o = {.err = err, .err_len = errlen};
	struct fraud_ranges *t;
	enum sy_rc rc = fraud_ranges_load_file(f->env, f->cfg.ranges_path, &o, &t);
	if (rc == SY_OK)
		fraud_ranges_set_swap(&f->ranges, t);
	return rc;
}

static void count_bytes(struct fraud *f)
{
	size_t b = sizeof(*f) + fraud_ftab_bytes(f->accts);
	if (f->bursts)
		b += fraud_ftab_bytes(f->bursts);
	if (f->dests)
		b += fraud_cms_bytes(f->dests);
	if (f->bdests)
		b += fraud_cms_bytes(f->bdests);
	b += fraud__mod_bytes(f);
	f->bytes_fixed = b;
	const struct fraud_ranges *r = fraud_ranges_set_cur(&f->ranges);
	f->st.bytes = b + (r ? fraud_ranges_bytes(r) : 0);
}

enum sy_rc fraud_create(const struct sy_env *env, const struct fraud_cfg *cfg, fraud_event_fn on_decision,
			fraud_event_fn on_alert, void *arg, struct fraud **out, char *err, size_t errlen)
{
	*out = NULL;
	if (errlen > 0)
		err[0] = '\0';
	SY_ASSERT(cfg->rule_n <= FRAUD_RULES_MAX && cfg->account_n <= FRAUD_ACCOUNTS_MAX);
	if (cfg->default_rule >= (int32_t)cfg->rule_n) {
		snprintf(err, errlen, "fraud: no fraud-rule #%d for the default", cfg->default_rule);
		return SY_ERR_INVAL;
	}
	struct fraud *f = calloc(1, sizeof(*f)); /* large (the config's copy): never on the stack */
	if (f == NULL)
		return SY_ERR_NOMEM;
	f->env = env, f->cfg = *cfg, f->on_decision = on_decision, f->on_alert = on_alert, f->arg = arg;
	uint64_t dest_epoch, burst_epoch;
	enum sy_rc rc = plan_rules(f, &dest_epoch, &burst_epoch, err, errlen);
	if (rc != SY_OK)
		goto out_free;
	struct fraud_ftab_cfg t = {cfg->accounts_max ? cfg->accounts_max : 1, f->blob, sy_env_random_u64(env)};
	if ((rc = fraud_ftab_create(&t, &f->accts)) != SY_OK) {
		snprintf(err, errlen, "fraud: accounts = %llu: %s", (unsigned long long)cfg->accounts_max,
			 sy_rc_str(rc));
		goto out_free;
	}
	if ((rc = index_accounts(f, err, errlen)) != SY_OK)
		goto out_free;
	if ((rc = make_sketches(f, dest_epoch, burst_epoch)) != SY_OK) {
		snprintf(err, errlen, "fraud: sketches: %s", sy_rc_str(rc));
		goto out_free;
	}
	if ((rc = fraud__mod_create(f, err, errlen)) != SY_OK || (rc = load_ranges(f, err, errlen)) != SY_OK)
		goto out_free;
	count_bytes(f);
	*out = f;
	return SY_OK;
out_free:
	fraud_destroy(f);
	return rc;
}

void fraud_destroy(struct fraud *f)
{
	if (f == NULL)
		return;
	fraud_ranges_set_free(&f->ranges);
	fraud_ftab_destroy(f->accts);
	fraud_ftab_destroy(f->bursts);
	fraud_cms_destroy(f->dests);
	fraud_cms_destroy(f->bdests);
	fraud__mod_destroy(f);
	free(f);
}

enum sy_rc fraud_reload_ranges(struct fraud *f, char *err, size_t errlen)
{
	if (errlen > 0)
		err[0] = '\0';
	if (f->cfg.ranges_path[0] == '\0') {
		snprintf(err, errlen, "fraud: no ranges file configured");
		return SY_ERR_INVAL;
	}
	struct fraud_ranges_opts o = {.err = err, .err_len = errlen};
	enum sy_rc rc = fraud_ranges_set_reload(&f->ranges, f->env, f->cfg.ranges_path, &o);
	if (rc == SY_OK)
		f->st.ranges_reloads++;
	else
		f->st.ranges_reload_failed++;
	count_bytes(f);
	return rc;
}

const struct fraud_stats *fraud_stats(const struct fraud *f)
{
	return &f->st;
}

/* ---- shared helpers ---- */

int32_t fraud__rule_of(const struct fraud *f, uint64_t acct_key, const struct fraud_account_cfg **acct)
{
	*acct = NULL;
	if (f->cfg.account_n > 0) {
		uint32_t s = (uint32_t)acct_key & (FRAUD_ACCT_IDX - 1);
		for (; f->idx[s].key != 0; s = (s + 1) & (FRAUD_ACCT_IDX - 1))
			if (f->idx[s].key == acct_key) {
				*acct = &f->cfg.accounts[f->idx[s].acct];
				if ((*acct)->rule >= 0)
					return (*acct)->rule;
				break;
			}
	}
	return f->cfg.default_rule;
}

struct fraud_fwin *fraud__win(const struct fraud *f, struct fraud_acct *a, enum fraud_win w)
{
	SY_ASSERT(f->win_off[w] != 0);
	return (struct fraud_fwin *)((uint8_t *)a + f->win_off[w]);
}

const char *fraud__dur(char *buf, size_t n, uint64_t ns)
{
	if (ns % SY_NS_PER_S == 0)
		snprintf(buf, n, "%llus", (unsigned long long)(ns / SY_NS_PER_S));
	else
		snprintf(buf, n, "%llums", (unsigned long long)(ns / SY_NS_PER_MS));
	return buf;
}

uint64_t fraud__num_key(const struct fraud *f, struct sy_str digits)
{
	return fraud_ftab_key(f->accts, digits);
}

uint64_t fraud__pair(uint64_t a, uint64_t b)
{
	return fraud_mix64(a ^ fraud_mix64(b + 0x9e3779b97f4a7c15ull));
}

void fraud__gauges(struct fraud *f, uint64_t now_ns)
{
	const struct fraud_ftab_stats *t = fraud_ftab_stats(f->accts);
	f->st.accounts_tracked = t->tracked;
	f->st.accounts_evicted = t->evicted;
	if (now_ns >= f->gauge_next_ns) {
		f->st.wangiri_sources = fraud__mod_wangiri_protected(f, now_ns);
		f->gauge_next_ns = now_ns + SY_NS_PER_S;
	}
}

/* ---- decisions ---- */

bool fraud__want(struct fraud_decision *d, enum fraud_detector det, enum fraud_action a)
{
	if (a == FRAUD_ALLOW)
		return false;
	d->fired |= 1u << det;
	if (a > d->verdict || (a == d->verdict && det < d->detector)) {
		d->verdict = a;
		d->detector = det;
		return true;
	}
	return false;
}

void fraud__reason(struct fraud_decision *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->reason, sizeof d->reason, fmt, ap);
	va_end(ap);
}

/* GCRA: one alert per 1/per_s s, with `burst` at once. per_s = 0: none. */
static bool alert_pass(struct fraud *f, uint64_t now_ns)
{
	const struct fraud_alert_cfg *a = &f->cfg.alert;
	if (a->per_s == 0)
		return false;
	uint64_t t = SY_NS_PER_S / a->per_s;
	uint64_t tau = (uint64_t)(a->burst > 1 ? a->burst - 1 : 0) * t;
	if (f->alert_tat_ns > now_ns + tau)
		return false;
	f->alert_tat_ns = (f->alert_tat_ns > now_ns ? f->alert_tat_ns : now_ns) + t;
	return true;
}

void fraud__finish(struct fraud *f, enum fraud_kind kind, struct fraud_decision *d, const struct fraud_event *ev)
{
	if (d->verdict == FRAUD_ALLOW) {
		d->detector = FRAUD_DET_NONE;
		d->reason[0] = '\0';
	}
	d->action = d->verdict;
	if (f->cfg.monitor && d->action > FRAUD_FLAG)
		d->action = FRAUD_FLAG;
	d->sip_status = d->action == FRAUD_BLOCK ? f->cfg.block_sip : d->action == FRAUD_THROTTLE ? 503 : 0;
	d->retry_after_s = d->action == FRAUD_THROTTLE ? (uint16_t)f->cfg.retry_after_s : 0;
	d->smpp_status = d->action == FRAUD_BLOCK ? f->cfg.block_smpp : d->action == FRAUD_THROTTLE ? 0x58 : 0;
	if (kind != FRAUD_KIND_MIDCALL) {
		f->st.decisions++;
		f->st.by_action[d->action]++;
	}
	for (unsigned i = 1; i < FRAUD_DET_COUNT; i++)
		if (d->fired & (1u << i))
			f->st.fired[i]++;
	if (d->verdict == FRAUD_BLOCK)
		f->st.blocked_by[d->detector]++;
	fraud__gauges(f, ev->now_ns);
	if (f->on_decision)
		f->on_decision(f->arg, ev);
	if (d->verdict != FRAUD_BLOCK)
		return;
	if (!alert_pass(f, ev->now_ns)) {
		f->st.alerts_suppressed++;
		return;
	}
	f->st.alerts++;
	if (f->on_alert)
		f->on_alert(f->arg, ev);
}
