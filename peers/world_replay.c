/* world_replay.c: [replay] and [replay NAME], a capture played again by
 * the simulated callers or carriers (peers/replay.h; docs/pcap.md,
 * "Replay"; every key in docs/scenarios.md). */
#include "world.h"

#include "replay.h"

#include <stdio.h>

#define RP(f) offsetof(struct world_replay, f)

static enum sy_rc k_role(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct world_replay *r = obj;
	if (sy_str_eq(v, SY_STR("callers")))
		r->role = WORLD_REPLAY_CALLERS;
	else if (sy_str_eq(v, SY_STR("carriers")))
		r->role = WORLD_REPLAY_CARRIERS;
	else
		return scn_fail(c, "bad role '%.*s' for '%s' (use callers or carriers)", SCN_SV(v), k->name);
	return SY_OK;
}

/* "original", "2000/s" (dialogs per second) or "x10" (ten times faster). */
static enum sy_rc k_pace(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct world_replay *r = obj;
	struct sy_str head;
	uint64_t x;
	if (sy_str_eq(v, SY_STR("original"))) {
		r->pace = WORLD_PACE_ORIGINAL;
		return SY_OK;
	}
	if (scn_ends_with(v, "/s", &head) && sy_decimal_parse(scn_trim(head), 3, &x) == SY_OK && x > 0 &&
	    x <= 10000000000ull) {
		r->pace = WORLD_PACE_RATE;
		r->rate_milli = x;
		return SY_OK;
	}
	if (v.len > 1 && (v.p[0] == 'x' || v.p[0] == 'X') &&
	    sy_decimal_parse((struct sy_str){v.p + 1, v.len - 1}, 3, &x) == SY_OK && x > 0 && x <= 1000000000ull) {
		r->pace = WORLD_PACE_FACTOR;
		r->factor_milli = (uint32_t)x;
		return SY_OK;
	}
	return scn_fail(c, "bad pace '%.*s' for '%s' (use original, N/s or xK)", SCN_SV(v), k->name);
}

static enum sy_rc k_key(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct world_replay *r = obj;
	if (sy_str_eq(v, SY_STR("number")))
		r->key_round_robin = false;
	else if (sy_str_eq(v, SY_STR("round-robin")))
		r->key_round_robin = true;
	else
		return scn_fail(c, "bad key '%.*s' for '%s' (use number or round-robin)", SCN_SV(v), k->name);
	return SY_OK;
}

static enum sy_rc k_carrier(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct world_replay *r = obj;
	r->carrier_line = scn_pctx_line(c);
	return scn_key_str(c, obj, k, v);
}

static const struct scn_key_def replay_keys[] = {
    {"pcap", scn_key_file, RP(pcap), 0, true},
    {"role", k_role, 0, 0, false},
    {"pace", k_pace, 0, 0, false},
    {"loop", scn_key_u32, RP(loop), 0, false},
    {"limit", scn_key_u64, RP(limit), 0, false},
    {"max_gap", scn_key_duration_nz, RP(max_gap_ns), 0, false},
    {"start", scn_key_duration, RP(start_ns), 0, false},
    {"key", k_key, 0, 0, false},
    {"filter", scn_key_str, RP(filter), SCN_VALUE_MAX, false},
    {"carrier", k_carrier, RP(carrier), SCN_NAME_MAX, false},
    {"system_id", scn_key_str, RP(system_id), SCN_NAME_MAX, false},
    {"account", scn_key_str, RP(system_id), SCN_NAME_MAX, false},
    {"password", scn_key_str, RP(password), SCN_NAME_MAX, false},
};

static void *replay_begin(struct scn_pctx *c, void *arg, struct sy_str name)
{
	struct world *w = arg;
	if (w->replay_n == WORLD_REPLAYS_MAX) {
		scn_fail(c, "too many [replay] sections (max %d)", WORLD_REPLAYS_MAX);
		return NULL;
	}
	struct world_replay *r = &w->replays[w->replay_n++];
	memset(r, 0, sizeof(*r));
	r->line = scn_pctx_line(c);
	scn_copy_str(r->name, sizeof(r->name), name);
	r->loop = 1;
	r->max_gap_ns = 5 * SY_NS_PER_S;
	return r;
}

const struct scn_sec_def world_replay_sec = {
    "replay", NULL, replay_keys, SY_ARRAY_LEN(replay_keys), replay_begin, NULL, NULL, true,
};
const struct scn_sec_def world_replay_named_sec = {
    "replay", "*", replay_keys, SY_ARRAY_LEN(replay_keys), replay_begin, NULL, NULL, true,
};

enum sy_rc world_replay_check(struct scn_pctx *c, const struct scn *s, const struct world *w)
{
	for (uint32_t i = 0; i < w->replay_n; i++) {
		const struct world_replay *r = &w->replays[i];
		if (r->role == WORLD_REPLAY_CALLERS && r->carrier[0] != '\0')
			return scn_fail_at(c, r->carrier_line, "'carrier' is for role = carriers");
		if (r->carrier[0] == '\0')
			continue;
		uint32_t k = 0;
		while (k < s->carrier_n && strcmp(s->carriers[k].name, r->carrier) != 0)
			k++;
		if (k == s->carrier_n)
			return scn_fail_at(c, r->carrier_line, "no [carrier %s] for this replay", r->carrier);
	}
	return SY_OK;
}

void world_replay_cfg(const struct world_replay *r, struct replay_cfg *out)
{
	memset(out, 0, sizeof(*out));
	out->pace = r->pace == WORLD_PACE_RATE	   ? REPLAY_PACE_RATE
		    : r->pace == WORLD_PACE_FACTOR ? REPLAY_PACE_FACTOR
						   : REPLAY_PACE_ORIGINAL;
	out->rate_milli = r->rate_milli;
	out->factor_milli = r->factor_milli;
	out->loop = r->loop;
	out->limit = r->limit;
	out->max_gap_ns = r->max_gap_ns;
	out->start_ns = r->start_ns;
	out->key = r->key_round_robin ? REPLAY_KEY_ROUND_ROBIN : REPLAY_KEY_NUMBER;
	out->system_id = r->system_id[0] ? r->system_id : NULL;
	out->password = r->system_id[0] ? r->password : NULL;
}
