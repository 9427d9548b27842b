/* attack.c: one [attack NAME] section's traffic; see attack.h. */
#include "attack.h"

#include <stdio.h>
#include <stdlib.h>

/* Call-ID suffixes (uac names): short, and the attack's index, not its
 * name, so any section name works. */
static void uac_name(char *buf, size_t n, const char *what, uint32_t index)
{
	snprintf(buf, n, "%s%u", what, index);
}

static uint64_t mean_life_ns(const struct sy_dist *hold, uint64_t ring_ns)
{
	return sy_dist_mean(hold) * 3 / 2 + ring_ns + 40 * SY_NS_PER_S;
}

/* A caller population of the attack: rate, patterns, the span. */
static void uac_base(const struct attack *k, struct uac_cfg *u, struct sy_addr local, const char *name, uint32_t stream)
{
	const struct world_attack *a = k->a;
	memset(u, 0, sizeof(*u));
	u->name = name;
	u->index = 1000 + 4 * k->cfg.index + stream;
	u->local = local;
	u->target = k->cfg.sip_target;
	u->cps_milli = a->rate_milli;
	u->from_pattern = a->from;
	u->hold = a->hold;
	u->start_ns = a->start_ns;
	u->stop_ns = a->start_ns + a->duration_ns;
	u->t1_ns = k->cfg.t1_ns;
	uint64_t n = a->rate_milli * (mean_life_ns(&a->hold, 10 * SY_NS_PER_S) / SY_NS_PER_MS) / 1000000 + 200;
	u->calls_max = (uint32_t)SY_MIN(n, 1000000u);
}

static void dests_of(const struct world_dest *to, uint32_t n, struct uac_dest *out, struct uac_cfg *u)
{
	for (uint32_t i = 0; i < n; i++) {
		out[i].pattern = to[i].pattern;
		out[i].weight_ppm = to[i].weight_ppm;
	}
	memcpy(u->dest, out, sizeof(out[0]) * n);
	u->dest_n = n;
}

static void label_call(struct attack *k, enum attack_item_kind kind, const struct uac_call_info *ci)
{
	struct attack_item it = {
	    .attack = k->cfg.index,
	    .kind = kind,
	    .id = ci->call_id,
	    .caller = sy_str_from(ci->from),
	    .callee = sy_str_from(ci->dest),
	    .hold_ns = ci->hold_ns,
	    .at_ns = ci->start_ns,
	};
	k->cfg.label(k->cfg.label_arg, &it);
}

static void on_call(void *arg, struct uac_call_info *ci)
{
	struct attack *k = arg;
	label_call(k, ATTACK_ITEM_CALL, ci);
}

/* A flood call rings a subscriber: remembered for a callback. */
static void on_flood(void *arg, struct uac_call_info *ci)
{
	struct attack *k = arg;
	label_call(k, ATTACK_ITEM_FLOOD, ci);
	if (k->ring == NULL)
		return;
	uint32_t at = (k->ring_head + k->ring_len) % ATTACK_FLOOD_RING;
	if (k->ring_len == ATTACK_FLOOD_RING) /* full: the oldest is forgotten */
		k->ring_head = (k->ring_head + 1) % ATTACK_FLOOD_RING;
	else
		k->ring_len++;
	snprintf(k->ring[at][0], UAC_NUM_MAX, "%s", ci->from);
	snprintf(k->ring[at][1], UAC_NUM_MAX, "%s", ci->dest);
}

/* A subscriber calls back the oldest number that rang it and was not
 * called back yet; with none left, a number drawn from the flood's range. */
static void on_callback(void *arg, struct uac_call_info *ci)
{
	struct attack *k = arg;
	if (k->ring_len > 0) {
		snprintf(ci->dest, UAC_NUM_MAX, "%s", k->ring[k->ring_head][0]);
		snprintf(ci->from, UAC_NUM_MAX, "%s", k->ring[k->ring_head][1]);
		k->ring_head = (k->ring_head + 1) % ATTACK_FLOOD_RING;
		k->ring_len--;
	} else {
		k->callbacks_unpaired++;
	}
	label_call(k, ATTACK_ITEM_CALLBACK, ci);
}

static enum sy_rc make_uac(struct attack *k, const struct sy_env *env, struct uac_cfg *u, uac_call_start_fn fn,
			   struct uac **out)
{
	enum sy_rc rc = uac_create(env, u, out);
	if (rc == SY_OK && fn != NULL)
		uac_on_call_start(*out, fn, k);
	return rc;
}

static enum sy_rc calls_create(struct attack *k)
{
	const struct world_attack *a = k->a;
	char *n = k->names[0];
	struct uac_cfg u;
	uac_name(n, sizeof(k->names[0]), "atk", k->cfg.index);
	uac_base(k, &u, k->cfg.local, n, 0);
	dests_of(a->to, a->to_n, k->dests, &u);
	if (a->type == WORLD_ATTACK_WANGIRI)
		u.ring_timeout_ns = a->cancel_ns;
	enum sy_rc rc = make_uac(k, k->cfg.env, &u, a->type == WORLD_ATTACK_WANGIRI ? on_flood : on_call, &k->uac);
	if (rc != SY_OK || a->baseline_milli == 0)
		return rc;
	/* The victim's own traffic: the whole run, unlabelled. */
	n = k->names[1];
	uac_name(n, sizeof(k->names[0]), "base", k->cfg.index);
	uac_base(k, &u, k->cfg.local2, n, 1);
	dests_of(a->baseline_to, a->baseline_to_n, k->base_dests, &u);
	u.cps_milli = a->baseline_milli;
	u.hold = (struct sy_dist){SY_DIST_EXP, 120 * SY_NS_PER_S, 0, 0.0};
	u.start_ns = 0;
	u.stop_ns = k->cfg.run_ns;
	u.calls_max = (uint32_t)(a->baseline_milli * 400 / 1000 + 200);
	return make_uac(k, k->cfg.env, &u, NULL, &k->base);
}

static enum sy_rc callbacks_create(struct attack *k)
{
	const struct world_attack *a = k->a;
	char *n = k->names[2];
	struct uac_cfg u;
	k->ring = calloc(ATTACK_FLOOD_RING, sizeof(*k->ring));
	if (k->ring == NULL)
		return SY_ERR_NOMEM;
	uac_name(n, sizeof(k->names[0]), "cb", k->cfg.index);
	uac_base(k, &u, k->cfg.cb_local, n, 2);
	u.cps_milli = (uint64_t)((double)a->rate_milli * a->callback_ppm / 1e6 + 0.5);
	if (u.cps_milli == 0)
		u.cps_milli = 1;
	u.start_ns = a->start_ns + a->callback_delay_ns;
	u.stop_ns = u.start_ns + a->duration_ns;
	/* Before a flood call is remembered (never, unless the delay is 0),
	 * the callee is drawn from the flood's source range. */
	k->cb_dest[0] = (struct uac_dest){a->from, 1};
	memcpy(u.dest, k->cb_dest, sizeof(k->cb_dest));
	u.dest_n = 1;
	u.from_pattern = a->to[0].pattern;
	return make_uac(k, k->cfg.cb_env, &u, on_callback, &k->cb);
}

/* ---- sms-pump ---- */

static const char *digits(const char *p)
{
	return p[0] == '+' ? p + 1 : p;
}

/* The next number of the walked range: its X digits count up from 0. */
static void on_numbers(void *arg, char *src, char *dst, size_t cap)
{
	struct attack *k = arg;
	uint64_t v = k->sms_seq++;
	size_t n = strlen(k->sms_to);
	snprintf(dst, cap, "%s", k->sms_to);
	for (size_t i = n; i-- > 0 && i + 1 < cap;)
		if (k->sms_to[i] == 'X') {
			dst[i] = (char)('0' + v % 10);
			v /= 10;
		}
	struct attack_item it = {
	    .attack = k->cfg.index,
	    .kind = ATTACK_ITEM_SMS,
	    .id = sy_str_from(dst),
	    .caller = sy_str_from(src),
	    .callee = sy_str_from(dst),
	};
	k->cfg.label(k->cfg.label_arg, &it);
}

/* Through the application's ESME: Poisson arrivals of our own. */
static void on_pump(void *arg);

static void pump_schedule(struct attack *k)
{
	const struct sy_env *env = k->cfg.env;
	uint64_t now = sy_env_now_ns(env);
	k->pump_next_ns += (uint64_t)(sy_rng_exp(&k->rng, 1e12 / (double)k->a->rate_milli) + 0.5);
	if (k->pump_next_ns >= k->pump_stop_ns)
		return;
	k->t_pump = sy_env_timer_start(env, k->pump_next_ns > now ? k->pump_next_ns - now : 0, on_pump, k);
}

static void on_pump(void *arg)
{
	struct attack *k = arg;
	k->t_pump = 0;
	k->pumped++;
	esme_inject(k->cfg.app, on_numbers, k);
	pump_schedule(k);
}

static enum sy_rc pump_create(struct attack *k)
{
	const struct world_attack *a = k->a;
	const struct scn *s = k->cfg.w->scn;
	int acct = scn_account_find(s, a->account);
	struct esme_cfg e;
	SY_ASSERT(acct >= 0); /* world_attack_check */
	snprintf(k->sms_to, sizeof(k->sms_to), "%s", digits(a->to[0].pattern));
	snprintf(k->sms_from, sizeof(k->sms_from), "%s", digits(a->from));
	if (k->cfg.app != NULL) {
		sy_rng_init_split(&k->rng, sy_env_seed(k->cfg.env), "pump", k->cfg.index);
		return SY_OK;
	}
	memset(&e, 0, sizeof(e));
	e.name = "pump";
	e.index = 1000 + k->cfg.index;
	e.target = k->cfg.smpp_target;
	e.system_id = a->account;
	e.password = s->accounts[acct].password;
	e.members = s->accounts[acct].count; /* a group: its members' binds */
	e.binds = a->binds;
	e.window = 10;
	e.tps_milli = a->rate_milli;
	e.dest[0] = (struct esme_dest){k->sms_to, 1};
	e.dest_n = 1;
	e.src_pattern = k->sms_from;
	e.text_len_min = 6; /* a one-time code */
	e.text_len_max = 40;
	e.registered_delivery = true;
	e.validity_s = 3600;
	e.start_ns = a->start_ns;
	e.stop_ns = a->start_ns + a->duration_ns;
	e.queue_max = (uint32_t)SY_MAX(1000u, a->rate_milli / 1000);
	e.seg_max = (uint32_t)SY_MAX(65536u, a->rate_milli / 1000 * 30);
	enum sy_rc rc = esme_create(k->cfg.env, &e, &k->esme);
	if (rc == SY_OK)
		esme_on_numbers(k->esme, on_numbers, k);
	return rc;
}

enum sy_rc attack_create(const struct attack_cfg *cfg, struct attack **out)
{
	struct attack *k = calloc(1, sizeof(*k));
	enum sy_rc rc;
	if (k == NULL)
		return SY_ERR_NOMEM;
	SY_ASSERT(cfg->index < cfg->w->attack_n && cfg->label != NULL);
	k->cfg = *cfg;
	k->a = &cfg->w->attacks[cfg->index];
	if (k->a->type == WORLD_ATTACK_SMS_PUMP) {
		rc = pump_create(k);
	} else {
		rc = calls_create(k);
		if (rc == SY_OK && k->a->type == WORLD_ATTACK_WANGIRI && k->a->callback_ppm != 0)
			rc = callbacks_create(k);
	}
	if (rc != SY_OK) {
		attack_destroy(k);
		return rc;
	}
	*out = k;
	return SY_OK;
}

void attack_start(struct attack *k)
{
	if (k->uac != NULL)
		uac_start(k->uac);
	if (k->base != NULL)
		uac_start(k->base);
	if (k->cb != NULL)
		uac_start(k->cb);
	if (k->esme != NULL)
		esme_start(k->esme);
	if (k->a->type == WORLD_ATTACK_SMS_PUMP && k->cfg.app != NULL) {
		uint64_t now = sy_env_now_ns(k->cfg.env);
		k->pump_next_ns = now + k->a->start_ns;
		k->pump_stop_ns = now + k->a->start_ns + k->a->duration_ns;
		pump_schedule(k);
	}
}

void attack_stop(struct attack *k)
{
	struct uac *u[3] = {k->uac, k->base, k->cb};
	for (int i = 0; i < 3; i++)
		if (u[i] != NULL)
			uac_stop_and_hangup(u[i]);
	if (k->esme != NULL)
		esme_stop(k->esme);
	sy_env_timer_cancel(k->cfg.env, k->t_pump);
	k->t_pump = 0;
}

bool attack_busy(const struct attack *k)
{
	const struct uac *u[3] = {k->uac, k->base, k->cb};
	for (int i = 0; i < 3; i++)
		if (u[i] != NULL && uac_stats(u[i])->active != 0)
			return true;
	return k->esme != NULL && esme_in_flight(k->esme) != 0;
}

uint64_t attack_sent(const struct attack *k)
{
	uint64_t n = 0;
	if (k->uac != NULL)
		n += uac_stats(k->uac)->attempted;
	if (k->cb != NULL)
		n += uac_stats(k->cb)->attempted;
	if (k->esme != NULL)
		n += esme_stats(k->esme)->msgs_submitted;
	return n + k->pumped;
}

void attack_destroy(struct attack *k)
{
	if (k == NULL)
		return;
	uac_destroy(k->uac);
	uac_destroy(k->base);
	uac_destroy(k->cb);
	if (k->esme != NULL)
		esme_destroy(k->esme);
	if (k->t_pump != 0)
		sy_env_timer_cancel(k->cfg.env, k->t_pump);
	free(k->ring);
	free(k);
}
