/* world_attack.c: [attack NAME] sections of the simulated world (world.h):
 * labelled fraud traffic mixed into the normal traffic, one section per
 * attack. The simulator builds each one's callers or applications
 * (peers/attack.c) and scores the switch's fraud decisions against the
 * labels (sim/fraud_eval.c). Keys are in docs/scenarios.md, what each
 * attack looks like in docs/fraud.md. */
#include "world.h"

#include <stdio.h>

#define FIELD(type, obj, off) ((type *)((char *)(obj) + (off)))

static const char *const type_names[WORLD_ATTACK_TYPE_COUNT] = {"none", "irsf", "wangiri", "sms-pump", "compromised"};

const char *world_attack_type_name(enum world_attack_type t)
{
	return (size_t)t < WORLD_ATTACK_TYPE_COUNT ? type_names[t] : "?";
}

static enum sy_rc k_type(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct world_attack *a = obj;
	for (uint8_t i = 1; i < WORLD_ATTACK_TYPE_COUNT; i++)
		if (sy_str_eq(v, sy_str_from(type_names[i]))) {
			a->type = i;
			return SY_OK;
		}
	return scn_fail(c, "unknown attack type '%.*s' for '%s' (use irsf, wangiri, sms-pump, compromised)", SCN_SV(v),
			k->name);
}

/* An IPv4 or IPv6 address without a port: the attacking host. */
static enum sy_rc k_host(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	char buf[SCN_ADDR_MAX];
	struct sy_addr a;
	if (!scn_copy_str(buf, sizeof(buf), v) || sy_addr_parse(buf, 5060, &a) != SY_OK || a.port != 5060 ||
	    strchr(buf, ':') != NULL)
		return scn_bad(c, "IPv4 address", v, k);
	memcpy(FIELD(char, obj, k->off), buf, sizeof(buf));
	return SY_OK;
}

static enum sy_rc k_account(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct world_attack *a = obj;
	if (!scn_copy_str(a->account, SCN_NAME_MAX, v))
		return scn_bad(c, "account name", v, k);
	a->account_line = scn_pctx_line(c);
	return SY_OK;
}

#define ATK(f) offsetof(struct world_attack, f)
static const struct scn_key_def attack_keys[] = {
    {"type", k_type, 0, 0, true},
    {"start", scn_key_duration, ATK(start_ns), 0, false},
    {"duration", scn_key_duration_nz, ATK(duration_ns), 0, true},
    {"rate", world_key_rate, ATK(rate_milli), 0, true},
    {"to", world_key_to, ATK(to), ATK(to_n), true},
    {"from", world_key_pattern, ATK(from), 0, false},
    {"hold", scn_key_dist, ATK(hold), 0, false},
    {"address", k_host, ATK(address), 0, false},
    {"account", k_account, 0, 0, false},
    {"baseline", world_key_rate, ATK(baseline_milli), 0, false},
    {"baseline_to", world_key_to, ATK(baseline_to), ATK(baseline_to_n), false},
    {"cancel", scn_key_duration_nz, ATK(cancel_ns), 0, false},
    {"callbacks", scn_key_pct, ATK(callback_ppm), 0, false},
    {"callback_delay", scn_key_duration, ATK(callback_delay_ns), 0, false},
    {"callback_address", k_host, ATK(callback_address), 0, false},
    {"binds", scn_key_u32, ATK(binds), 0, false},
};

static void *attack_begin(struct scn_pctx *c, void *arg, struct sy_str name)
{
	struct world *w = arg;
	if (w->attack_n == WORLD_ATTACKS_MAX) {
		scn_fail(c, "too many [attack] sections (max %d)", WORLD_ATTACKS_MAX);
		return NULL;
	}
	for (uint32_t i = 0; i < w->attack_n; i++)
		if (sy_str_eq(name, sy_str_from(w->attacks[i].name))) {
			scn_fail(c, "[attack %.*s] is given twice", SCN_SV(name));
			return NULL;
		}
	struct world_attack *a = &w->attacks[w->attack_n++];
	memset(a, 0, sizeof(*a));
	if (!scn_copy_str(a->name, SCN_NAME_MAX, name)) {
		scn_fail(c, "attack name too long '%.*s'", SCN_SV(name));
		return NULL;
	}
	a->line = scn_pctx_line(c);
	strcpy(a->from, "+1555XXXXXXX");
	a->hold = (struct sy_dist){SY_DIST_EXP, 600 * SY_NS_PER_S, 0, 0.0};
	a->cancel_ns = 2 * SY_NS_PER_S;
	a->callback_ppm = 100000;
	a->callback_delay_ns = 30 * SY_NS_PER_S;
	a->binds = 1;
	return a;
}

/* Keys that only one type reads are refused on the others, so a typo in
 * the type does not silently drop half the section. */
static enum sy_rc attack_end(struct scn_pctx *c, void *obj)
{
	struct world_attack *a = obj;
	bool calls = a->type != WORLD_ATTACK_SMS_PUMP;
	if (a->type == WORLD_ATTACK_NONE)
		return scn_fail_at(c, a->line, "[attack %s] needs 'type'", a->name);
	if (a->type == WORLD_ATTACK_SMS_PUMP && a->account[0] == '\0')
		return scn_fail_at(c, a->line, "[attack %s] type sms-pump needs 'account' (the application's)",
				   a->name);
	if (calls && a->address[0] == '\0')
		return scn_fail_at(c, a->line, "[attack %s] needs 'address' (the attacking host, a [trunk] names it)",
				   a->name);
	if (a->baseline_milli != 0 && a->type != WORLD_ATTACK_IRSF && a->type != WORLD_ATTACK_COMPROMISED)
		return scn_fail_at(c, a->line, "[attack %s] 'baseline' is for irsf and compromised", a->name);
	if (a->baseline_milli != 0 && a->baseline_to_n == 0)
		return scn_fail_at(c, a->line, "[attack %s] 'baseline' needs 'baseline_to'", a->name);
	if (a->binds == 0 || a->binds > 64)
		return scn_fail_at(c, a->line, "[attack %s] binds must be 1..64", a->name);
	return SY_OK;
}

const struct scn_sec_def world_attack_sec = {
    "attack", "*", attack_keys, SY_ARRAY_LEN(attack_keys), attack_begin, attack_end, NULL, true,
};

static enum sy_rc attack_check_one(struct scn_pctx *c, const struct scn *s, const struct world *w,
				   const struct world_attack *a)
{
	if (a->account[0] != '\0' && scn_account_find(s, a->account) < 0)
		return scn_fail_at(c, a->account_line, "[attack %s] names unknown account '%s'", a->name, a->account);
	if (a->type == WORLD_ATTACK_SMS_PUMP && !s->accounts[scn_account_find(s, a->account)].smpp)
		return scn_fail_at(c, a->account_line, "[attack %s] account '%s' has no smpp = yes", a->name,
				   a->account);
	if (a->type == WORLD_ATTACK_WANGIRI && a->callback_ppm != 0 && a->callback_address[0] == '\0' &&
	    !w->voice.present)
		return scn_fail_at(c, a->line,
				   "[attack %s] callbacks come from the [traffic voice] callers: add that section or "
				   "'callback_address'",
				   a->name);
	for (uint32_t i = 0; i < w->attack_n && &w->attacks[i] != a; i++)
		if (a->address[0] != '\0' && strcmp(w->attacks[i].address, a->address) == 0)
			return scn_fail_at(c, a->line, "[attack %s] shares address %s with [attack %s]", a->name,
					   a->address, w->attacks[i].name);
	return SY_OK;
}

enum sy_rc world_attack_check(struct scn_pctx *c, const struct scn *s, const struct world *w)
{
	for (uint32_t i = 0; i < w->attack_n; i++) {
		enum sy_rc rc = attack_check_one(c, s, w, &w->attacks[i]);
		if (rc != SY_OK)
			return rc;
	}
	return SY_OK;
}
