/* smspump.c: the SMS pumping detector (smspump.h). Three fixed structures:
 * a count-min sketch of messages per (account, block of consecutive
 * numbers), a table of destination prefixes (per prefix: the current step's
 * count, the ring of learned step counts behind the moving baseline, and
 * the receipts window), and a smaller table of (route, prefix) receipt
 * windows that only names the worst route in the dlr reason. */
#include "core/fraud/smspump.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/fraud/cms.h"
#include "core/fraud/ftab.h"
#include "core/fraud/fwin.h"
#include "core/fraud/mix.h"

#define ROUTE_NAME 16 /* a route's name in the reason, with the NUL */

/* A destination prefix's state; the ring and the two receipt windows
 * follow it in the blob. */
struct sp_prefix {
	uint64_t step;	  /* the step cur counts: now / surge.window_ns */
	uint64_t sum;	  /* of the ring: the learned steps */
	uint32_t cur;	  /* messages in this step (saturating) */
	uint32_t learned; /* steps in the ring, up to baseline_steps */
	uint32_t pos;	  /* the ring's next slot */
	uint8_t fired;	  /* this step crossed its limit: it will not be learned */
	uint8_t started;  /* step is set */
	uint8_t pad[2];
	uint64_t worst_ns; /* when the worst route below was last seen */
	uint32_t worst_n, worst_pct;
	char worst[ROUTE_NAME];
};

struct fraud_smspump {
	struct fraud_sms_cfg cfg;
	uint64_t seed;
	struct fraud_cms *seq;		   /* (account, block) -> messages */
	struct fraud_ftab *prefix;	   /* prefix -> struct sp_prefix + ring + receipts */
	struct fraud_ftab *route;	   /* (route, prefix) -> receipts */
	struct fraud_fwin_geom dlr;	   /* the receipts windows' geometry */
	uint64_t warm_step;		   /* surge fires from this step on; 0 = no message yet */
	size_t ring_off, rcv_off, dlv_off; /* in a prefix's blob */
};

/* The most buckets (<= 6) that divide the window: a receipt leaves its
 * window at most window / B early (10 min of an hour), at 8 B per bucket. */
static uint32_t pick_buckets(uint64_t window_ns)
{
	for (uint32_t b = 6; b > 1; b--)
		if (window_ns % b == 0)
			return b;
	return 1;
}

static size_t round8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

bool fraud_smspump_cfg_check(const struct fraud_sms_cfg *c, char *err, size_t errlen)
{
	bool prefixes = c->surge.max > 0 || c->dlr.max > 0;
	const char *why = NULL;
	if (c->seq.max > 0 && (c->seq_digits < 1 || c->seq_digits >= FRAUD_NUM_MAX))
		why = "sms_seq_digits must be 1 to 14";
	else if (c->seq.max > 0 && c->seq.window_ns < 2)
		why = "sms_seq needs a window";
	else if (c->surge.max > 0 && c->surge.window_ns == 0)
		why = "sms_surge needs a step";
	else if (c->surge.max > 0 && (c->baseline_steps < 1 || c->baseline_steps > FRAUD_SMS_BASELINE_MAX))
		why = "sms_baseline_steps must be 1 to 720";
	else if (c->dlr.max > 0 && c->dlr.window_ns == 0)
		why = "sms_dlr needs a window";
	else if (c->dlr.max > 0 && c->dlr_min_pct > 100)
		why = "sms_dlr_min must be at most 100%";
	else if (prefixes && (c->prefix_digits < 1 || c->prefix_digits > FRAUD_NUM_MAX))
		why = "sms_prefix_digits must be 1 to 15";
	else if (c->prefixes_max < 1 || c->prefixes_max > (1u << 24))
		why = "sms_prefixes must be 1 to 16777216";
	if (why != NULL && err != NULL)
		snprintf(err, errlen, "%s", why);
	return why == NULL;
}

/* An unused window (its check is off) still sizes its structure. */
static uint64_t window_or_1s(uint64_t window_ns)
{
	return window_ns >= 2 ? window_ns : SY_NS_PER_S;
}

static enum sy_rc make_tables(struct fraud_smspump *p)
{
	const struct fraud_sms_cfg *c = &p->cfg;
	uint32_t width = 16;
	while (width < c->prefixes_max && width < (1u << 24))
		width <<= 1;
	struct fraud_cms_cfg cc = {
	    .depth = 4, .width = width, .epoch_ns = window_or_1s(c->seq.window_ns) / 2, .seed = p->seed};
	enum sy_rc rc = fraud_cms_create(&cc, &p->seq);
	if (rc == SY_OK)
		rc = fraud_fwin_geom_init(&p->dlr, window_or_1s(c->dlr.window_ns),
					  pick_buckets(window_or_1s(c->dlr.window_ns)));
	if (rc != SY_OK)
		return rc;
	size_t win = fraud_fwin_bytes(p->dlr.buckets);
	p->ring_off = round8(sizeof(struct sp_prefix));
	size_t steps = c->surge.max > 0 ? c->baseline_steps : 0; /* surge off: no ring */
	p->rcv_off = round8(p->ring_off + steps * sizeof(uint32_t));
	p->dlv_off = p->rcv_off + win;
	struct fraud_ftab_cfg tc = {.keys = c->prefixes_max, .blob = (uint32_t)(p->dlv_off + win), .seed = p->seed};
	rc = fraud_ftab_create(&tc, &p->prefix);
	if (rc != SY_OK)
		return rc;
	tc.keys = c->prefixes_max / 4 < 16 ? 16 : c->prefixes_max / 4;
	tc.blob = (uint32_t)(2 * win);
	tc.seed = fraud_mix64(p->seed ^ 0x726f757465ull);
	return fraud_ftab_create(&tc, &p->route);
}

enum sy_rc fraud_smspump_create(const struct fraud_sms_cfg *cfg, uint64_t seed, struct fraud_smspump **out)
{
	if (cfg->on && !fraud_smspump_cfg_check(cfg, NULL, 0))
		return SY_ERR_INVAL;
	struct fraud_smspump *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return SY_ERR_NOMEM;
	p->cfg = *cfg;
	p->seed = seed;
	if (cfg->on) {
		enum sy_rc rc = make_tables(p);
		if (rc != SY_OK) {
			fraud_smspump_destroy(p);
			return rc;
		}
	}
	*out = p;
	return SY_OK;
}

void fraud_smspump_destroy(struct fraud_smspump *p)
{
	if (p == NULL)
		return;
	fraud_cms_destroy(p->seq);
	fraud_ftab_destroy(p->prefix);
	fraud_ftab_destroy(p->route);
	free(p);
}

static uint32_t *ring_of(const struct fraud_smspump *p, struct sp_prefix *px)
{
	return (uint32_t *)(void *)((uint8_t *)px + p->ring_off);
}

static struct fraud_fwin *rcv_of(const struct fraud_smspump *p, struct sp_prefix *px)
{
	return (struct fraud_fwin *)(void *)((uint8_t *)px + p->rcv_off);
}

static struct fraud_fwin *dlv_of(const struct fraud_smspump *p, struct sp_prefix *px)
{
	return (struct fraud_fwin *)(void *)((uint8_t *)px + p->dlv_off);
}

static uint64_t prefix_key(const struct fraud_smspump *p, struct sy_str to)
{
	return fraud_ftab_key(p->prefix, (struct sy_str){to.p, p->cfg.prefix_digits});
}

/* ---- seq ---- */

static enum fraud_action seq_check(struct fraud_smspump *p, uint64_t acct_key, struct sy_str to, uint64_t now_ns,
				   char *reason, size_t reason_len)
{
	const struct fraud_limit *l = &p->cfg.seq;
	if (l->max == 0 || to.len <= p->cfg.seq_digits)
		return FRAUD_ALLOW;
	size_t block = to.len - p->cfg.seq_digits;
	uint64_t key = fraud_mix64(acct_key ^ sy_hash64(to.p, block, p->seed ^ 0x736571ull));
	uint64_t n = fraud_cms_add(p->seq, key, now_ns, 1);
	if (n <= l->max)
		return FRAUD_ALLOW;
	snprintf(reason, reason_len, "sms_pump.seq: %llu messages in %llus to %.*s%.*s", (unsigned long long)n,
		 (unsigned long long)(l->window_ns / SY_NS_PER_S), (int)block, to.p, (int)p->cfg.seq_digits,
		 "xxxxxxxxxxxxxxx");
	return l->action;
}

/* ---- surge: the baseline learns one value per step that ends: its count,
 * unless the step fired (then nothing: an attack does not teach the
 * baseline that it is normal), and a 0 for every idle step in between.
 * Since a step that fired teaches nothing, a busy prefix first seen above
 * surge.max would fire for ever; so for its first min(baseline_steps,
 * FRAUD_SMS_WARMUP_STEPS) steps (from its first message) the detector only
 * learns: the prefixes of the normal traffic find their level before
 * anything is judged. */

static void learn(const struct fraud_smspump *p, struct sp_prefix *px, uint32_t v)
{
	uint32_t *ring = ring_of(p, px);
	px->sum = px->sum - ring[px->pos] + v;
	ring[px->pos] = v;
	px->pos = px->pos + 1 == p->cfg.baseline_steps ? 0 : px->pos + 1;
	if (px->learned < p->cfg.baseline_steps)
		px->learned++;
}

/* Brings px to step (a step before the current one counts in it). */
static void roll(const struct fraud_smspump *p, struct sp_prefix *px, uint64_t step)
{
	if (!px->started) {
		px->started = 1, px->step = step;
		return;
	}
	if (step <= px->step)
		return;
	if (!px->fired)
		learn(p, px, px->cur);
	uint64_t idle = step - px->step - 1;
	if (idle >= p->cfg.baseline_steps) {
		memset(ring_of(p, px), 0, p->cfg.baseline_steps * sizeof(uint32_t));
		px->sum = 0, px->pos = 0, px->learned = p->cfg.baseline_steps;
	} else {
		for (uint64_t i = 0; i < idle; i++)
			learn(p, px, 0);
	}
	px->step = step, px->cur = 0, px->fired = 0;
}

/* cur > max(surge.max, baseline x factor / 100), baseline = sum / learned
 * (0 with nothing learned), in integers: no rounding, no overflow. */
static bool surging(const struct fraud_sms_cfg *c, const struct sp_prefix *px)
{
	if (px->cur <= c->surge.max)
		return false;
	if (px->learned == 0)
		return true;
	return (unsigned __int128)px->cur * 100u * px->learned > (unsigned __int128)px->sum * c->surge_factor_pct;
}

static enum fraud_action surge_check(struct fraud_smspump *p, struct sp_prefix *px, struct sy_str to, uint64_t now_ns,
				     char *reason, size_t reason_len)
{
	const struct fraud_sms_cfg *c = &p->cfg;
	if (c->surge.max == 0)
		return FRAUD_ALLOW;
	uint64_t step = now_ns / c->surge.window_ns;
	if (p->warm_step == 0)
		p->warm_step =
		    step + (c->baseline_steps < FRAUD_SMS_WARMUP_STEPS ? c->baseline_steps : FRAUD_SMS_WARMUP_STEPS);
	roll(p, px, step);
	px->cur += px->cur < UINT32_MAX;
	if (step < p->warm_step || !surging(c, px))
		return FRAUD_ALLOW;
	px->fired = 1;
	uint64_t base10 = px->learned == 0 ? 0 : px->sum * 10 / px->learned;
	snprintf(reason, reason_len,
		 "sms_pump.surge: %u messages in %llus to %.*s, baseline %llu.%llu (limit x%u.%02u)", px->cur,
		 (unsigned long long)(c->surge.window_ns / SY_NS_PER_S), (int)c->prefix_digits, to.p,
		 (unsigned long long)(base10 / 10), (unsigned long long)(base10 % 10), c->surge_factor_pct / 100,
		 c->surge_factor_pct % 100);
	return c->surge.action;
}

/* ---- dlr ---- */

/* receipts >= dlr.max and delivered < dlr_min_pct % of them. */
static bool dlr_low(const struct fraud_sms_cfg *c, uint64_t receipts, uint64_t delivered)
{
	return c->dlr.max > 0 && receipts >= c->dlr.max &&
	       (unsigned __int128)delivered * 100u < (unsigned __int128)receipts * c->dlr_min_pct;
}

static enum fraud_action dlr_check(struct fraud_smspump *p, struct sp_prefix *px, struct sy_str to, uint64_t now_ns,
				   char *reason, size_t reason_len)
{
	const struct fraud_sms_cfg *c = &p->cfg;
	if (c->dlr.max == 0)
		return FRAUD_ALLOW;
	uint64_t n = fraud_fwin_sum(&p->dlr, rcv_of(p, px), now_ns);
	uint64_t ok = fraud_fwin_sum(&p->dlr, dlv_of(p, px), now_ns);
	if (!dlr_low(c, n, ok))
		return FRAUD_ALLOW;
	int len = snprintf(reason, reason_len, "sms_pump.dlr: %llu%% of %llu receipts delivered in %llus to %.*s",
			   (unsigned long long)(ok * 100 / n), (unsigned long long)n,
			   (unsigned long long)(c->dlr.window_ns / SY_NS_PER_S), (int)c->prefix_digits, to.p);
	bool worst = px->worst[0] != 0 && now_ns - px->worst_ns < c->dlr.window_ns;
	if (worst && len > 0 && (size_t)len < reason_len)
		snprintf(reason + len, reason_len - (size_t)len, " (route %s: %u%% of %u)", px->worst, px->worst_pct,
			 px->worst_n);
	return c->dlr.action;
}

static enum fraud_action stronger(enum fraud_action have, enum fraud_action a, char *reason, const char *r,
				  size_t reason_len)
{
	if (a <= have)
		return have;
	snprintf(reason, reason_len, "%s", r);
	return a;
}

enum fraud_action fraud_smspump_submit(struct fraud_smspump *p, uint64_t acct_key, struct sy_str to, uint64_t now_ns,
				       char *reason, size_t reason_len)
{
	if (!p->cfg.on)
		return FRAUD_ALLOW;
	char r[FRAUD_REASON_MAX];
	enum fraud_action best = FRAUD_ALLOW, a;
	a = seq_check(p, acct_key, to, now_ns, r, sizeof(r));
	best = stronger(best, a, reason, r, reason_len);
	if (to.len < p->cfg.prefix_digits || (p->cfg.surge.max == 0 && p->cfg.dlr.max == 0))
		return best;
	struct sp_prefix *px = fraud_ftab_get(p->prefix, prefix_key(p, to), now_ns, NULL);
	a = surge_check(p, px, to, now_ns, r, sizeof(r));
	best = stronger(best, a, reason, r, reason_len);
	a = dlr_check(p, px, to, now_ns, r, sizeof(r));
	return stronger(best, a, reason, r, reason_len);
}

/* The route's own ratio, kept in the prefix as its worst route when it is
 * that route again, a lower ratio, or the one there is stale. */
static void route_note(struct fraud_smspump *p, struct sp_prefix *px, uint64_t pkey, struct sy_str carrier,
		       bool delivered, uint64_t now_ns)
{
	uint64_t key = fraud_mix64(pkey ^ fraud_ftab_key(p->route, carrier));
	uint8_t *blob = fraud_ftab_get(p->route, key, now_ns, NULL);
	struct fraud_fwin *rcv = (struct fraud_fwin *)(void *)blob;
	struct fraud_fwin *dlv = (struct fraud_fwin *)(void *)(blob + fraud_fwin_bytes(p->dlr.buckets));
	uint64_t n = fraud_fwin_add(&p->dlr, rcv, now_ns, 1);
	uint64_t ok = fraud_fwin_add(&p->dlr, dlv, now_ns, delivered);
	uint32_t pct = (uint32_t)(ok * 100 / n);
	char name[ROUTE_NAME];
	snprintf(name, sizeof(name), "%.*s", (int)(carrier.len < ROUTE_NAME ? carrier.len : ROUTE_NAME - 1), carrier.p);
	bool same = strcmp(name, px->worst) == 0;
	bool stale = px->worst[0] == 0 || now_ns - px->worst_ns >= p->cfg.dlr.window_ns;
	if (!same && !stale && pct >= px->worst_pct)
		return;
	memcpy(px->worst, name, sizeof(name));
	px->worst_ns = now_ns, px->worst_pct = pct;
	px->worst_n = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

void fraud_smspump_receipt(struct fraud_smspump *p, struct sy_str carrier, struct sy_str to, bool delivered,
			   uint64_t now_ns)
{
	if (!p->cfg.on || p->cfg.dlr.max == 0 || to.len < p->cfg.prefix_digits)
		return;
	uint64_t pkey = prefix_key(p, to);
	struct sp_prefix *px = fraud_ftab_get(p->prefix, pkey, now_ns, NULL);
	fraud_fwin_add(&p->dlr, rcv_of(p, px), now_ns, 1);
	fraud_fwin_add(&p->dlr, dlv_of(p, px), now_ns, delivered);
	route_note(p, px, pkey, carrier, delivered, now_ns);
}

size_t fraud_smspump_bytes(const struct fraud_smspump *p)
{
	size_t n = sizeof(*p);
	if (p->cfg.on)
		n += fraud_cms_bytes(p->seq) + fraud_ftab_bytes(p->prefix) + fraud_ftab_bytes(p->route);
	return n;
}
