/* world_traffic.c: [traffic voice] (callers over SIP) and [traffic sms]
 * (applications over SMPP) of the simulated world; see world.h. */
#include "world.h"

#include <stdio.h>

#define FIELD(type, obj, off) ((type *)((char *)(obj) + (off)))

static bool pattern_ok(struct sy_str t)
{
	size_t i = t.len > 0 && t.p[0] == '+';
	if (t.len <= i || t.len >= WORLD_PATTERN_MAX)
		return false;
	for (; i < t.len; i++)
		if (!((t.p[i] >= '0' && t.p[i] <= '9') || t.p[i] == 'X'))
			return false;
	return true;
}

enum sy_rc world_key_pattern(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	if (!pattern_ok(v))
		return scn_bad(c, "number pattern", v, k);
	scn_copy_str(FIELD(char, obj, k->off), WORLD_PATTERN_MAX, v);
	return SY_OK;
}

struct dests {
	struct world_dest *to;
	uint32_t to_n;
};

static enum sy_rc to_weights(struct scn_pctx *c, struct dests *t, uint32_t weighted, uint32_t sum,
			     const struct scn_key_def *k)
{
	if (weighted == 0) { /* equal shares; the remainder goes to the first */
		for (uint32_t i = 0; i < t->to_n; i++)
			t->to[i].weight_ppm = SCN_PPM / t->to_n;
		t->to[0].weight_ppm += SCN_PPM % t->to_n;
		return SY_OK;
	}
	if (weighted != t->to_n)
		return scn_fail(c, "weights for '%s' must be given for every pattern or for none", k->name);
	if (sum != SCN_PPM) {
		char pct[32];
		scn_fmt_ppm(sum, pct, sizeof(pct));
		return scn_fail(c, "weights for '%s' sum to %s, not 100%%", k->name, pct);
	}
	return SY_OK;
}

/* "+1XXXXXXXXXX 70% +44XXXXXXXXXX 30%" or patterns without weights; the
 * array is at k->off and its count at k->off2. */
enum sy_rc world_key_to(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct dests dd = {FIELD(struct world_dest, obj, k->off), 0}, *t = &dd;
	uint32_t *to_n = FIELD(uint32_t, obj, k->off2);
	enum sy_rc rc;
	struct sy_str tok;
	uint32_t weighted = 0, sum = 0;
	bool last_weighted = true;
	t->to_n = 0;
	while (scn_next_tok(&v, &tok, false)) {
		if (tok.p[tok.len - 1] == '%') {
			if (t->to_n == 0 || last_weighted || !scn_parse_pct(tok, &t->to[t->to_n - 1].weight_ppm))
				return scn_bad(c, "weight", tok, k);
			sum += t->to[t->to_n - 1].weight_ppm;
			weighted++;
			last_weighted = true;
			continue;
		}
		if (!pattern_ok(tok))
			return scn_bad(c, "number pattern", tok, k);
		if (t->to_n == WORLD_DESTS_MAX)
			return scn_fail(c, "too many patterns for '%s' (max %d)", k->name, WORLD_DESTS_MAX);
		scn_copy_str(t->to[t->to_n].pattern, WORLD_PATTERN_MAX, tok);
		t->to[t->to_n++].weight_ppm = 0;
		last_weighted = false;
	}
	rc = to_weights(c, t, weighted, sum, k);
	*to_n = t->to_n;
	return rc;
}

enum sy_rc world_key_rate(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	uint64_t *cps = FIELD(uint64_t, obj, k->off);
	if (sy_decimal_parse(v, 3, cps) != SY_OK || *cps == 0)
		return scn_bad(c, "rate", v, k);
	return SY_OK;
}

static enum sy_rc k_account_ref(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	if (!scn_copy_str(FIELD(char, obj, k->off), SCN_NAME_MAX, v))
		return scn_bad(c, "account name", v, k);
	*FIELD(uint32_t, obj, k->off2) = scn_pctx_line(c);
	return SY_OK;
}

/* ---- [traffic voice] ---- */

#define VOICE(f) offsetof(struct world_traffic_voice, f)
static const struct scn_key_def voice_keys[] = {
    {"cps", world_key_rate, VOICE(cps_milli), 0, true},
    {"to", world_key_to, VOICE(to), VOICE(to_n), true},
    {"from", world_key_pattern, VOICE(from), 0, false},
    {"hold", scn_key_dist, VOICE(hold), 0, false},
    {"link", world_key_link, VOICE(link), 0, false},
    {"start", scn_key_duration, VOICE(start_ns), 0, false},
    {"duration", scn_key_duration_nz, VOICE(duration_ns), 0, false},
    {"calls", scn_key_u64, VOICE(calls_max), 0, false},
    {"bye_loss", scn_key_pct, VOICE(bye_loss_ppm), 0, false},
    {"account", k_account_ref, VOICE(account), VOICE(account_line), false},
};

static void *voice_begin(struct scn_pctx *c, void *arg, struct sy_str name)
{
	struct world *w = arg;
	w->voice.present = true;
	w->voice.line = scn_pctx_line(c);
	return &w->voice;
}

const struct scn_sec_def world_voice_sec = {
    "traffic", "voice", voice_keys, SY_ARRAY_LEN(voice_keys), voice_begin, NULL, NULL, false,
};

/* ---- [traffic sms] ---- */

/* "20..140" characters, or one number. */
static enum sy_rc k_length(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct world_traffic_sms *t = obj;
	const char *dots = NULL;
	for (size_t i = 0; i + 1 < v.len; i++)
		if (v.p[i] == '.' && v.p[i + 1] == '.')
			dots = v.p + i;
	uint64_t lo, hi;
	bool ok = dots ? scn_parse_uint((struct sy_str){v.p, (size_t)(dots - v.p)}, 10000, &lo) &&
			     scn_parse_uint((struct sy_str){dots + 2, v.len - (size_t)(dots - v.p) - 2}, 10000, &hi)
		       : scn_parse_uint(v, 10000, &lo) && (hi = lo, true);
	if (!ok || lo == 0 || hi < lo)
		return scn_bad(c, "length", v, k);
	t->length_min = (uint32_t)lo;
	t->length_max = (uint32_t)hi;
	return SY_OK;
}

#define SMS(f) offsetof(struct world_traffic_sms, f)
static const struct scn_key_def sms_keys[] = {
    {"account", k_account_ref, SMS(account), SMS(account_line), true},
    {"tps", world_key_rate, SMS(tps_milli), 0, true},
    {"binds", scn_key_u32, SMS(binds), 0, false},
    {"window", scn_key_u32, SMS(window), 0, false},
    {"to", world_key_to, SMS(to), SMS(to_n), true},
    {"from", world_key_pattern, SMS(from), 0, false},
    {"length", k_length, 0, 0, false},
    {"ucs2", scn_key_pct, SMS(ucs2_ppm), 0, false},
    {"dlr", scn_key_bool, SMS(dlr), 0, false},
    {"validity", scn_key_duration_nz, SMS(validity_ns), 0, false},
    {"link", world_key_link, SMS(link), 0, false},
    {"start", scn_key_duration, SMS(start_ns), 0, false},
    {"duration", scn_key_duration_nz, SMS(duration_ns), 0, false},
    {"messages", scn_key_u64, SMS(messages_max), 0, false},
};

static void *sms_begin(struct scn_pctx *c, void *arg, struct sy_str name)
{
	struct world *w = arg;
	w->sms.present = true;
	w->sms.line = scn_pctx_line(c);
	return &w->sms;
}

static enum sy_rc sms_end(struct scn_pctx *c, void *obj)
{
	struct world_traffic_sms *t = obj;
	if (t->binds == 0 || t->binds > 64)
		return scn_fail_at(c, t->line, "[traffic sms] binds must be 1..64");
	if (t->window == 0)
		return scn_fail_at(c, t->line, "[traffic sms] window must be at least 1");
	return SY_OK;
}

const struct scn_sec_def world_sms_sec = {
    "traffic", "sms", sms_keys, SY_ARRAY_LEN(sms_keys), sms_begin, sms_end, NULL, false,
};

enum sy_rc world_traffic_check(struct scn_pctx *c, const struct scn *s, const struct world *w)
{
	if (w->voice.account[0] != '\0' && scn_account_find(s, w->voice.account) < 0)
		return scn_fail_at(c, w->voice.account_line, "[traffic voice] names unknown account '%s'",
				   w->voice.account);
	if (w->sms.present && scn_account_find(s, w->sms.account) < 0)
		return scn_fail_at(c, w->sms.account_line, "[traffic sms] names unknown account '%s'", w->sms.account);
	/* The simulated ESMEs bind over SMPP: without smpp = yes they never could. */
	if (w->sms.present && !s->accounts[scn_account_find(s, w->sms.account)].smpp)
		return scn_fail_at(c, w->sms.account_line, "[traffic sms] account '%s' has no smpp = yes",
				   w->sms.account);
	return SY_OK;
}
