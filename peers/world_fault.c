/* world_fault.c: [fault] sections of the simulated world (world.h). One
 * section per fault: `at = 30s` and one key naming the kind. A new kind is
 * an enum value, a key row below and its target check in world_fault_check. */
#include "world.h"

#include <stdio.h>

struct fault_kind_def {
	const char *verb; /* "NAME VERB DURATION" */
	enum world_fault_kind kind;
};

/* "NAME down 10s" (carrier), "NAME drop 5s" (SMPP binds cut) or
 * "NAME crash 5s" (node killed). */
static enum sy_rc fault_verb(struct scn_pctx *c, struct world_fault *f, const struct scn_key_def *k, struct sy_str v,
			     const struct fault_kind_def *d)
{
	struct sy_str rest = v, name, word, dur, extra;
	bool ok = scn_next_tok(&rest, &name, false) && scn_next_tok(&rest, &word, false) &&
		  sy_str_eq(word, sy_str_from(d->verb)) && scn_next_tok(&rest, &dur, false) &&
		  !scn_next_tok(&rest, &extra, false);
	if (!ok)
		return scn_fail(c, "expected '%s = NAME %s DURATION', got '%.*s'", k->name, d->verb, SCN_SV(v));
	if (f->kind != WORLD_FAULT_NONE)
		return scn_fail(c, "[fault] has more than one fault; use one section per fault");
	if (sy_duration_parse_str(dur, &f->duration_ns) != SY_OK)
		return scn_bad(c, "duration", dur, k);
	if (!scn_copy_str(f->target, SCN_NAME_MAX, name))
		return scn_bad(c, d->kind == WORLD_FAULT_CARRIER_DOWN ? "carrier name" : "name", name, k);
	f->kind = d->kind;
	f->target_line = scn_pctx_line(c);
	return SY_OK;
}

static enum sy_rc k_fault_carrier(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	static const struct fault_kind_def d = {"down", WORLD_FAULT_CARRIER_DOWN};
	return fault_verb(c, obj, k, v, &d);
}

static enum sy_rc k_fault_smpp(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	static const struct fault_kind_def d = {"drop", WORLD_FAULT_SMPP_DROP};
	return fault_verb(c, obj, k, v, &d);
}

/* "at 30s" or "for 10s" inside a disk fault's value: false if tok is
 * neither; a bad or repeated duration is an error. */
static enum sy_rc disk_when(struct scn_pctx *c, struct world_fault *f, struct sy_str *rest, struct sy_str word,
			    bool *taken)
{
	bool at = sy_str_eq(word, SY_STR("at")), dur = sy_str_eq(word, SY_STR("for"));
	struct sy_str t;
	*taken = at || dur;
	if (!*taken)
		return SY_OK;
	uint64_t v = 0;
	if (!scn_next_tok(rest, &t, false) || sy_duration_parse_str(t, &v) != SY_OK || (dur && v == 0))
		return scn_fail(c, "'%.*s' needs a duration after it%s", SCN_SV(word), dur ? " (above 0)" : "");
	if (at ? f->at_set : f->duration_ns != 0)
		return scn_fail(c, "'%.*s' given twice", SCN_SV(word));
	if (at)
		f->at_ns = v, f->at_set = true;
	else
		f->duration_ns = v;
	return SY_OK;
}

/* "slow 50ms", "full", "fsync-fail", each followed by "at 30s" (or an
 * `at =` line) and "for 10s" (none: to the end) in any order; a bare
 * duration after the kind is "for" (`full 10s`). */
/* "switch crash 5s" or "switch power-loss 5s" (killed, and its unsynced
 * writes dropped), then optional "at 30s". */
static enum sy_rc k_fault_node(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	static const struct fault_kind_def crash = {"crash", WORLD_FAULT_NODE_CRASH};
	static const struct fault_kind_def power = {"power-loss", WORLD_FAULT_NODE_POWER_LOSS};
	struct world_fault *f = obj;
	struct sy_str rest = v, name, verb, dur, tok;
	bool ok = scn_next_tok(&rest, &name, false) && scn_next_tok(&rest, &verb, false);
	const struct fault_kind_def *d = ok && sy_str_eq(verb, SY_STR("power-loss")) ? &power : &crash;
	ok = ok && sy_str_eq(verb, sy_str_from(d->verb)) && scn_next_tok(&rest, &dur, false);
	struct sy_str head = {v.p, ok ? (size_t)(dur.p + dur.len - v.p) : v.len};
	if (ok && scn_next_tok(&rest, &tok, false)) {
		bool at = sy_str_eq(tok, SY_STR("at"));
		if (at && disk_when(c, f, &rest, tok, &at) != SY_OK)
			return SY_ERR_PARSE;
		ok = at && !scn_next_tok(&rest, &tok, false);
	}
	if (!ok)
		return scn_fail(c, "expected '%s = NAME crash|power-loss DURATION [at TIME]', got '%.*s'", k->name,
				SCN_SV(v));
	return fault_verb(c, f, k, head, d);
}

static enum sy_rc k_fault_disk(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct world_fault *f = obj;
	struct sy_str rest = v, kind, tok;
	static const enum world_fault_kind kinds[] = {WORLD_FAULT_DISK_SLOW, WORLD_FAULT_DISK_FULL,
						      WORLD_FAULT_DISK_FSYNC_FAIL};
	static const char *const names[] = {"slow", "full", "fsync-fail"};
	uint32_t i = 0;
	bool ok = scn_next_tok(&rest, &kind, false);
	while (ok && i < 3 && !sy_str_eq(kind, sy_str_from(names[i])))
		i++;
	ok = ok && i < 3;
	if (ok && kinds[i] == WORLD_FAULT_DISK_SLOW)
		ok = scn_next_tok(&rest, &tok, false) && sy_duration_parse_str(tok, &f->latency_ns) == SY_OK &&
		     f->latency_ns > 0;
	while (ok && scn_next_tok(&rest, &tok, false)) {
		bool taken;
		if (disk_when(c, f, &rest, tok, &taken) != SY_OK)
			return SY_ERR_PARSE;
		if (!taken)
			ok = f->duration_ns == 0 && sy_duration_parse_str(tok, &f->duration_ns) == SY_OK &&
			     f->duration_ns > 0;
	}
	if (!ok)
		return scn_fail(c, "expected '%s = slow LATENCY', 'full' or 'fsync-fail', then optional 'at TIME' "
				   "and 'for DURATION', got '%.*s'",
				k->name, SCN_SV(v));
	if (f->kind != WORLD_FAULT_NONE)
		return scn_fail(c, "[fault] has more than one fault; use one section per fault");
	f->kind = kinds[i];
	return SY_OK;
}

/* `at = 30s`: when the fault starts. */
static enum sy_rc k_fault_at(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct world_fault *f = obj;
	if (f->at_set)
		return scn_fail(c, "the fault's start is given twice (an 'at' line and 'at' in the value)");
	f->at_set = true;
	return scn_key_duration(c, obj, k, v);
}

static const struct scn_key_def fault_keys[] = {
    {"at", k_fault_at, offsetof(struct world_fault, at_ns), 0, false},
    {"carrier", k_fault_carrier, 0, 0, false},
    {"smpp-carrier", k_fault_smpp, 0, 0, false},
    {"node", k_fault_node, 0, 0, false},
    {"disk", k_fault_disk, 0, 0, false},
};

static void *fault_begin(struct scn_pctx *c, void *arg, struct sy_str name)
{
	struct world *w = arg;
	if (w->fault_n == WORLD_FAULTS_MAX) {
		scn_fail(c, "too many [fault] sections (max %d)", WORLD_FAULTS_MAX);
		return NULL;
	}
	struct world_fault *f = &w->faults[w->fault_n++];
	memset(f, 0, sizeof(*f));
	f->line = scn_pctx_line(c);
	f->carrier = -1;
	return f;
}

static enum sy_rc fault_end(struct scn_pctx *c, void *obj)
{
	struct world_fault *f = obj;
	if (f->kind == WORLD_FAULT_NONE)
		return scn_fail_at(c, f->line, "[fault] says no fault (e.g. carrier = NAME down 10s)");
	if (!f->at_set)
		return scn_fail_at(c, f->line, "[fault] needs 'at' (when it starts: 'at = 20s', or 'disk = full at 20s')");
	return SY_OK;
}

const struct scn_sec_def world_fault_sec = {
    "fault", NULL, fault_keys, SY_ARRAY_LEN(fault_keys), fault_begin, fault_end, NULL, true,
};

/* Targets name other sections: resolved once the whole file is read. */
enum sy_rc world_fault_check(struct scn_pctx *c, const struct scn *s, struct world *w)
{
	for (uint32_t i = 0; i < w->fault_n; i++) {
		struct world_fault *f = &w->faults[i];
		if (f->kind == WORLD_FAULT_CARRIER_DOWN) {
			f->carrier = scn_carrier_find(s, f->target);
			if (f->carrier < 0)
				return scn_fail_at(c, f->target_line, "[fault] names unknown carrier '%s'", f->target);
		} else if (f->kind == WORLD_FAULT_SMPP_DROP) {
			f->carrier = scn_smpp_carrier_find(s, f->target);
			if (f->carrier < 0)
				return scn_fail_at(c, f->target_line, "[fault] names unknown smpp-carrier '%s'",
						   f->target);
		} else if (f->kind == WORLD_FAULT_NODE_CRASH || f->kind == WORLD_FAULT_NODE_POWER_LOSS) {
			/* "switch" (with nodes = N: every SMSC instance, one process),
			 * or "switch-K": the K-th instance alone (carrier = K - 1) */
			uint32_t n = s->node.nodes > 1 ? s->node.nodes : 1, k = 2;
			char want[SCN_NAME_MAX];
			for (; k <= n; k++) {
				snprintf(want, sizeof(want), "switch-%u", k);
				if (strcmp(f->target, want) == 0)
					break;
			}
			if (k <= n)
				f->carrier = (int32_t)k - 1;
			else if (strcmp(f->target, "switch") != 0 && n == 1)
				return scn_fail_at(c, f->target_line,
						   "[fault] names unknown node '%s' (the switch is 'switch')",
						   f->target);
			else if (strcmp(f->target, "switch") != 0)
				return scn_fail_at(
				    c, f->target_line,
				    "[fault] names unknown node '%s' (the switch is 'switch', its other SMSC "
				    "instances 'switch-2' to 'switch-%u')",
				    f->target, n);
		}
	}
	return SY_OK;
}
