/* world.c: the simulated world's extension of the scenario parser (see
 * world.h): the behaviour keys of [carrier] and [smpp-carrier], the network
 * link model, and the parse calls. [traffic] is world_traffic.c, [fault]
 * world_fault.c. */
#include "world.h"

#include <stdio.h>
#include <stdlib.h>

#define FIELD(type, obj, off) ((type *)((char *)(obj) + (off)))

/* "latency 20ms jitter 5ms loss 0.1%"; latency may be a distribution. */
static enum sy_rc link_setting(struct scn_pctx *c, struct world_link *l, const struct scn_key_def *k, struct sy_str tok,
			       struct sy_str arg)
{
	if (sy_str_eq(tok, SY_STR("latency"))) {
		char buf[SCN_VALUE_MAX];
		scn_copy_str(buf, sizeof(buf), arg);
		if (sy_dist_parse(buf, &l->latency, NULL, 0) != SY_OK)
			return scn_bad(c, "latency", arg, k);
	} else if (sy_str_eq(tok, SY_STR("jitter"))) {
		if (sy_duration_parse_str(arg, &l->jitter_ns) != SY_OK)
			return scn_bad(c, "duration", arg, k);
	} else if (sy_str_eq(tok, SY_STR("loss"))) {
		if (!scn_parse_pct(arg, &l->loss_ppm))
			return scn_bad(c, "percentage", arg, k);
	} else {
		return scn_fail(c, "unknown link setting '%.*s' for '%s' (use latency, jitter, loss)", SCN_SV(tok),
				k->name);
	}
	return SY_OK;
}

enum sy_rc world_key_link(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct world_link *l = FIELD(struct world_link, obj, k->off);
	struct sy_str rest = v, tok, arg;
	*l = (struct world_link){.set = true};
	while (scn_next_tok(&rest, &tok, false)) {
		/* The argument runs to the next keyword. */
		struct sy_str look = rest, t2;
		arg = (struct sy_str){rest.p, 0};
		while (scn_next_tok(&look, &t2, false) && !sy_str_eq(t2, SY_STR("latency")) &&
		       !sy_str_eq(t2, SY_STR("jitter")) && !sy_str_eq(t2, SY_STR("loss"))) {
			arg.len = (size_t)(t2.p + t2.len - arg.p);
			rest = look;
		}
		arg = scn_trim(arg);
		if (arg.len == 0)
			return scn_fail(c, "missing value after '%.*s' for '%s'", SCN_SV(tok), k->name);
		enum sy_rc rc = link_setting(c, l, k, tok, arg);
		if (rc != SY_OK)
			return rc;
	}
	return SY_OK;
}

/* ---- [carrier NAME]: how the simulated carrier answers ---- */

/* "70% ring 2s..6s" or "70%". */
static enum sy_rc k_answer(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct world_carrier *ca = obj;
	struct sy_str rest = v, tok;
	scn_next_tok(&rest, &tok, false);
	if (!scn_parse_pct(tok, &ca->answer_ppm))
		return scn_bad(c, "percentage", tok, k);
	ca->ring = sy_dist_fixed(0);
	if (!scn_next_tok(&rest, &tok, false))
		return SY_OK;
	if (!sy_str_eq(tok, SY_STR("ring")) || scn_trim(rest).len == 0)
		return scn_fail(c, "expected '%s = PERCENT ring DISTRIBUTION', got '%.*s'", k->name, SCN_SV(v));
	struct scn_key_def ring = {k->name, NULL, offsetof(struct world_carrier, ring), 0, 0};
	return scn_key_dist(c, ca, &ring, scn_trim(rest));
}

static enum sy_rc reject_shares(struct scn_pctx *c, struct world_carrier *ca, const struct scn_key_def *k, uint32_t sum,
				uint32_t weighted)
{
	if (ca->reject_n > 1 && weighted != ca->reject_n)
		return scn_fail(c, "each status in '%s' needs a share when there are several", k->name);
	if (ca->reject_n > 1 && sum != SCN_PPM) {
		char pct[32];
		scn_fmt_ppm(sum, pct, sizeof(pct));
		return scn_fail(c, "shares for '%s' sum to %s, not 100%%", k->name, pct);
	}
	if (ca->reject_n == 1)
		ca->reject[0].ppm = SCN_PPM;
	return SY_OK;
}

/* "486" or "486 60% 503 40%". */
static enum sy_rc k_reject(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct world_carrier *ca = obj;
	struct sy_str rest = v, tok;
	uint32_t sum = 0, weighted = 0;
	ca->reject_n = 0;
	while (scn_next_tok(&rest, &tok, false)) {
		uint64_t code;
		if (!scn_parse_uint(tok, 699, &code) || code < 400)
			return scn_bad(c, "status", tok, k);
		if (ca->reject_n == WORLD_REJECTS_MAX)
			return scn_fail(c, "too many statuses for '%s' (max %d)", k->name, WORLD_REJECTS_MAX);
		struct world_share *sh = &ca->reject[ca->reject_n++];
		*sh = (struct world_share){(uint16_t)code, SCN_PPM};
		struct sy_str look = rest, w;
		if (scn_next_tok(&look, &w, false) && w.p[w.len - 1] == '%') {
			if (!scn_parse_pct(w, &sh->ppm))
				return scn_bad(c, "percentage", w, k);
			sum += sh->ppm;
			weighted++;
			rest = look;
		}
	}
	return reject_shares(c, ca, k, sum, weighted);
}

#define CAR(f) offsetof(struct world_carrier, f)
static const struct scn_key_def carrier_keys[] = {
    {"answer", k_answer, 0, 0, false},
    {"reject", k_reject, 0, 0, false},
    {"link", world_key_link, CAR(link), 0, false},
    {"noanswer", scn_key_duration, CAR(noanswer_ns), 0, false},
};

static void *carrier_begin(struct scn_pctx *c, void *arg, struct sy_str name)
{
	struct world *w = arg;
	SY_ASSERT(w->carrier_n < SCN_CARRIERS_MAX); /* the node's table refused more */
	struct world_carrier *ca = &w->carriers[w->carrier_n++];
	memset(ca, 0, sizeof(*ca));
	ca->answer_ppm = SCN_PPM;
	ca->ring = sy_dist_fixed(0);
	ca->reject[0] = (struct world_share){486, SCN_PPM};
	ca->reject_n = 1;
	return ca;
}

/* ---- [smpp-carrier NAME]: how the simulated SMSC answers ---- */

/* "98% delay 1s..5s" or "98%". */
static enum sy_rc k_delivery(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct world_smpp_carrier *sc = obj;
	struct sy_str rest = v, tok;
	scn_next_tok(&rest, &tok, false);
	if (!scn_parse_pct(tok, &sc->deliver_ppm))
		return scn_bad(c, "percentage", tok, k);
	if (!scn_next_tok(&rest, &tok, false))
		return SY_OK;
	if (!sy_str_eq(tok, SY_STR("delay")) || scn_trim(rest).len == 0)
		return scn_fail(c, "expected '%s = PERCENT delay DISTRIBUTION', got '%.*s'", k->name, SCN_SV(v));
	struct scn_key_def delay = {k->name, NULL, offsetof(struct world_smpp_carrier, dlr_delay), 0, 0};
	return scn_key_dist(c, sc, &delay, scn_trim(rest));
}

#define SC(f) offsetof(struct world_smpp_carrier, f)
static const struct scn_key_def smpp_carrier_keys[] = {
    {"tps", scn_key_u32, SC(tps), 0, false},	  {"accept", scn_key_pct, SC(accept_ppm), 0, false},
    {"delivery", k_delivery, 0, 0, false},	  {"link", world_key_link, SC(link), 0, false},
    {"dedup", scn_key_bool, SC(dedup), 0, false},
};

static void *smpp_carrier_begin(struct scn_pctx *c, void *arg, struct sy_str name)
{
	struct world *w = arg;
	SY_ASSERT(w->smpp_carrier_n < SCN_SMPP_CARRIERS_MAX); /* the node's table refused more */
	struct world_smpp_carrier *sc = &w->smpp_carriers[w->smpp_carrier_n++];
	memset(sc, 0, sizeof(*sc));
	sc->accept_ppm = SCN_PPM;
	sc->deliver_ppm = SCN_PPM;
	sc->dedup = true;
	sc->dlr_delay = (struct sy_dist){SY_DIST_UNIFORM, SY_NS_PER_S, 5 * SY_NS_PER_S, 0.0};
	return sc;
}

/* ---- the extension ---- */

static const struct scn_ext_keys node_keys[] = {
    {"carrier", carrier_keys, SY_ARRAY_LEN(carrier_keys), carrier_begin},
    {"smpp-carrier", smpp_carrier_keys, SY_ARRAY_LEN(smpp_carrier_keys), smpp_carrier_begin},
};

static enum sy_rc world_finish(struct scn_pctx *c, const struct scn *s, void *arg)
{
	struct world *w = arg;
	enum sy_rc rc = world_fault_check(c, s, w);
	if (rc == SY_OK)
		rc = world_replay_check(c, s, w);
	if (rc == SY_OK)
		rc = world_attack_check(c, s, w);
	if (rc == SY_OK)
		rc = world_ussd_check(c, s, &w->ussd);
	return rc != SY_OK ? rc : world_traffic_check(c, s, w);
}

void world_ext(struct world *w, struct scn_ext *out)
{
	w->secs[0] = world_voice_sec;
	w->secs[1] = world_fault_sec;
	w->secs[2] = world_sms_sec;
	w->secs[3] = world_model_sec;
	w->secs[4] = world_replay_sec;
	w->secs[5] = world_replay_named_sec;
	w->secs[6] = world_attack_sec;
	w->secs[7] = world_ussd_traffic_sec;
	w->secs[8] = world_ussd_app_sec;
	*out = (struct scn_ext){w->secs, SY_ARRAY_LEN(w->secs), node_keys, SY_ARRAY_LEN(node_keys), world_finish, w};
}

void world_init(struct world *w)
{
	memset(w, 0, sizeof(*w));
	strcpy(w->voice.from, "+1555XXXXXXX");
	w->voice.hold = (struct sy_dist){SY_DIST_EXP, 90 * SY_NS_PER_S, 0, 0.0};
	strcpy(w->sms.from, "+1555XXXXXXX");
	w->sms.binds = 1;
	w->sms.window = 10;
	w->sms.length_min = 20;
	w->sms.length_max = 140;
	w->sms.dlr = true;
	w->sms.validity_ns = 24 * 3600 * SY_NS_PER_S;
	world_model_init(&w->model);
	world_ussd_init(&w->ussd);
}

/* [expect] for the tools that do not check it: its lines are kept out of
 * the way, not read. */
static void *skip_begin(struct scn_pctx *c, void *arg, struct sy_str name)
{
	return arg;
}

static enum sy_rc skip_line(struct scn_pctx *c, void *obj, struct sy_str line)
{
	return SY_OK;
}

static const struct scn_sec_def skip_expect_sec = {"expect", NULL, NULL, 0, skip_begin, NULL, skip_line, true};

static bool takes_expect(const struct scn_ext *const *extra, size_t extra_n)
{
	for (size_t e = 0; e < extra_n; e++)
		for (size_t i = 0; i < extra[e]->sec_n; i++)
			if (strcmp(extra[e]->secs[i].kind, "expect") == 0)
				return true;
	return false;
}

/* One parse of a file (path) or a buffer (text): the world's extension, the
 * caller's, and [expect] skipped when none of them takes it. */
static enum sy_rc world_parse(const char *path, const char *text, size_t len, const struct scn_ext *const *extra,
			      size_t extra_n, struct world **out, char *err, size_t errlen)
{
	static int skip_arg;
	const struct scn_ext skip = {&skip_expect_sec, 1, NULL, 0, NULL, &skip_arg};
	const struct scn_ext *exts[SCN_EXTS_MAX];
	struct scn_ext own;
	struct world *w = malloc(sizeof(*w));
	*out = NULL;
	SY_ASSERT(extra_n + 2 <= SCN_EXTS_MAX);
	if (w == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return SY_ERR_NOMEM;
	}
	world_init(w);
	world_ext(w, &own);
	size_t n = 0;
	exts[n++] = &own;
	for (size_t e = 0; e < extra_n; e++)
		exts[n++] = extra[e];
	if (!takes_expect(extra, extra_n))
		exts[n++] = &skip;
	enum sy_rc rc = text != NULL ? scn_parse_buf_ext(text, len, path, exts, n, &w->scn, err, errlen)
				     : scn_parse_file_ext(path, exts, n, &w->scn, err, errlen);
	if (rc != SY_OK) {
		free(w);
		return rc;
	}
	*out = w;
	return SY_OK;
}

enum sy_rc world_parse_buf(const char *text, size_t len, const char *name, const struct scn_ext *const *extra,
			   size_t extra_n, struct world **out, char *err, size_t errlen)
{
	return world_parse(name, text, len, extra, extra_n, out, err, errlen);
}

enum sy_rc world_parse_file(const char *path, const struct scn_ext *const *extra, size_t extra_n, struct world **out,
			    char *err, size_t errlen)
{
	return world_parse(path, NULL, 0, extra, extra_n, out, err, errlen);
}

void world_free(struct world *w)
{
	if (w == NULL)
		return;
	scn_free(w->scn);
	free(w);
}
