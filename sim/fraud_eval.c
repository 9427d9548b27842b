/* fraud_eval.c: the labelled attacks scored against the fraud decisions;
 * see fraud_eval.h. Integer arithmetic only: the figures are part of the
 * run's deterministic report. */
#include "fraud_eval.h"

#include <inttypes.h>
#include <stdlib.h>

#include "core/billing/rate.h"

static const char *const det_names[FRAUD_DET_COUNT] = {"none", "irsf", "wangiri", "sms_pump", "velocity", "callerid"};

const char *fraud_eval_det_name(enum fraud_detector d)
{
	return (size_t)d < FRAUD_DET_COUNT ? det_names[d] : "?";
}

/* The detector meant to catch an attack type. */
static enum fraud_detector det_of(uint8_t type)
{
	switch (type) {
	case WORLD_ATTACK_IRSF:
		return FRAUD_DET_IRSF;
	case WORLD_ATTACK_WANGIRI:
		return FRAUD_DET_WANGIRI;
	case WORLD_ATTACK_SMS_PUMP:
		return FRAUD_DET_SMS_PUMP;
	case WORLD_ATTACK_COMPROMISED:
		return FRAUD_DET_VELOCITY;
	}
	return FRAUD_DET_NONE;
}

/* Whether detector d is consulted on a unit of this kind. */
static bool det_sees(enum fraud_detector d, bool sms)
{
	if (d == FRAUD_DET_IRSF || d == FRAUD_DET_WANGIRI)
		return !sms;
	if (d == FRAUD_DET_SMS_PUMP)
		return sms;
	return d != FRAUD_DET_NONE;
}

/* ---- the label table: open addressing on the id's hash ---- */

static uint64_t id_hash(struct sy_str id)
{
	uint64_t h = sy_hash64(id.p, id.len, 0x9e3779b97f4a7c15ull);
	return h ? h : 1;
}

static struct feval_item *slot_of(struct feval_item *t, uint32_t cap, uint64_t h, struct sy_str id)
{
	for (uint32_t i = (uint32_t)h & (cap - 1);; i = (i + 1) & (cap - 1)) {
		struct feval_item *it = &t[i];
		if (it->hash == 0 || (it->hash == h && strlen(it->id) == id.len && memcmp(it->id, id.p, id.len) == 0))
			return it;
	}
}

static bool grow(struct fraud_eval *e)
{
	uint32_t cap = e->cap ? e->cap * 2 : 4096;
	struct feval_item *t = calloc(cap, sizeof(*t));
	if (t == NULL)
		return false;
	for (uint32_t i = 0; i < e->cap; i++)
		if (e->items[i].hash != 0) {
			struct feval_item *it = &e->items[i];
			*slot_of(t, cap, it->hash, sy_str_from(it->id)) = *it;
		}
	free(e->items);
	e->items = t;
	e->cap = cap;
	return true;
}

static struct feval_item *find(struct fraud_eval *e, struct sy_str id)
{
	if (e->cap == 0 || id.len == 0 || id.len >= FEVAL_ID_MAX)
		return NULL;
	struct feval_item *it = slot_of(e->items, e->cap, id_hash(id), id);
	return it->hash != 0 ? it : NULL;
}

/* A new unit (or the one already under that id). NULL when out of memory
 * or the id does not fit: then the unit goes unlabelled, which the report
 * shows as an attack unit without decisions. */
static struct feval_item *insert(struct fraud_eval *e, struct sy_str id)
{
	if (id.len == 0 || id.len >= FEVAL_ID_MAX || ((e->n + 1) * 2 > e->cap && !grow(e)))
		return NULL;
	uint64_t h = id_hash(id);
	struct feval_item *it = slot_of(e->items, e->cap, h, id);
	if (it->hash == 0) {
		memset(it, 0, sizeof(*it));
		it->hash = h;
		memcpy(it->id, id.p, id.len);
		e->n++;
	}
	return it;
}

/* SMS units are keyed by the destination's digits. */
static struct sy_str digits_of(struct sy_str s)
{
	return s.len > 0 && s.p[0] == '+' ? (struct sy_str){s.p + 1, s.len - 1} : s;
}

/* ---- creation ---- */

static const char *tariff_file(const struct scn *s, const char *account)
{
	int a = account[0] != '\0' ? scn_account_find(s, account) : -1;
	const char *name = a >= 0 ? s->accounts[a].tariff : "";
	for (uint32_t i = 0; i < s->tariff_n && name[0] != '\0'; i++)
		if (strcmp(s->tariffs[i].name, name) == 0)
			return s->tariffs[i].file;
	return s->tariff_n > 0 ? s->tariffs[0].file : NULL;
}

enum sy_rc fraud_eval_create(const struct sy_env *env, const struct world *w, struct fraud_eval **out, char *err,
			     size_t errlen)
{
	struct fraud_eval *e = calloc(1, sizeof(*e));
	if (e == NULL || !grow(e)) {
		free(e);
		return SY_ERR_NOMEM;
	}
	e->w = w;
	e->epoch_ns = w->scn->run.epoch_ns;
	for (int d = 0; d < FRAUD_DET_COUNT; d++)
		e->det[d].first_block_ns = UINT64_MAX;
	for (uint32_t i = 0; i < w->attack_n; i++) {
		struct feval_attack *a = &e->atk[i];
		a->start_ns = w->attacks[i].start_ns;
		a->first_block_ns = a->first_own_block_ns = UINT64_MAX;
		const char *file = tariff_file(w->scn, w->attacks[i].account);
		if (file == NULL)
			continue; /* no tariff: the money is 0, and says so */
		struct bill_tariff_opts o = {.err = err, .err_len = errlen};
		enum sy_rc rc = bill_tariff_load_file(env, &a->tariff, file, &o);
		if (rc != SY_OK) {
			fraud_eval_destroy(e);
			return rc;
		}
		a->tariff_ok = true;
	}
	*out = e;
	return SY_OK;
}

void fraud_eval_destroy(struct fraud_eval *e)
{
	if (e == NULL)
		return;
	for (uint32_t i = 0; i < WORLD_ATTACKS_MAX; i++)
		if (e->atk[i].tariff_ok)
			bill_tariff_free(&e->atk[i].tariff);
	free(e->items);
	free(e);
}

/* ---- labels ---- */

static int64_t rate_call(const struct feval_attack *a, struct sy_str callee, uint64_t at_ns, uint64_t talk_ns,
			 uint64_t epoch_ns)
{
	struct bill_rating r;
	uint64_t ms = talk_ns / SY_NS_PER_MS;
	if (!a->tariff_ok || ms == 0)
		return 0;
	uint64_t epoch_s = (epoch_ns + at_ns) / SY_NS_PER_S;
	if (bill_rate_call(&a->tariff, callee, epoch_s, (uint32_t)SY_MIN(ms, UINT32_MAX), &r) != SY_OK)
		return 0;
	return r.cost_micros;
}

static int64_t rate_sms(const struct feval_attack *a, struct sy_str to, uint64_t at_ns, uint64_t epoch_ns)
{
	struct bill_rating r;
	if (!a->tariff_ok ||
	    bill_rate_event(&a->tariff, BILL_SVC_SMS, to, (epoch_ns + at_ns) / SY_NS_PER_S, 1, &r) != SY_OK)
		return 0;
	return r.cost_micros;
}

void fraud_eval_label(void *arg, const struct attack_item *it)
{
	struct fraud_eval *e = arg;
	struct feval_attack *a = &e->atk[it->attack];
	bool sms = it->kind == ATTACK_ITEM_SMS;
	struct sy_str id = sms ? digits_of(it->id) : it->id;
	a->units++;
	a->flood += it->kind == ATTACK_ITEM_FLOOD;
	a->callbacks += it->kind == ATTACK_ITEM_CALLBACK;
	struct feval_item *u = insert(e, id);
	if (u == NULL)
		return;
	u->attack = (uint8_t)(it->attack + 1);
	u->kind = (uint8_t)it->kind;
	/* A flood call costs us nothing: the money is in the callbacks. */
	if (sms)
		u->risk = rate_sms(a, it->callee, it->at_ns, e->epoch_ns);
	else if (it->kind != ATTACK_ITEM_FLOOD)
		u->risk = rate_call(a, it->callee, it->at_ns, it->hold_ns, e->epoch_ns);
}

/* ---- decisions ---- */

static void note_block(struct fraud_eval *e, const struct feval_item *u, const struct fraud_event *ev)
{
	struct feval_attack *a = &e->atk[u->attack - 1];
	uint64_t after = ev->now_ns > a->start_ns ? ev->now_ns - a->start_ns : 0;
	a->first_block_ns = SY_MIN(a->first_block_ns, after);
	enum fraud_detector own = det_of(e->w->attacks[u->attack - 1].type);
	if (ev->d->detector == own)
		a->first_own_block_ns = SY_MIN(a->first_own_block_ns, after);
}

static void on_attack_unit(struct fraud_eval *e, struct feval_item *u, const struct fraud_event *ev)
{
	const struct fraud_decision *d = ev->d;
	bool refused = d->action == FRAUD_BLOCK || d->action == FRAUD_THROTTLE;
	u->decided = true;
	u->fired |= d->fired;
	if (ev->kind == FRAUD_KIND_MIDCALL)
		u->torn_down |= d->action == FRAUD_BLOCK;
	else if (ev->kind == FRAUD_KIND_CALL)
		u->blocked |= refused;
	else
		u->blocked = refused; /* a throttled message comes again: its last decision counts */
	u->last_action = (uint8_t)SY_MAX(u->last_action, d->action);
	if (d->action == FRAUD_BLOCK)
		note_block(e, u, ev);
}

/* A normal unit a detector fired on counts once per detector: a call's
 * mid-call check adds only what its INVITE decision did not. */
static void on_normal_call(struct fraud_eval *e, const struct fraud_event *ev)
{
	uint32_t fired = ev->d->fired;
	if (ev->kind == FRAUD_KIND_CALL)
		e->normal_calls++;
	if (fired == 0)
		return;
	struct feval_item *u = insert(e, ev->call_id);
	if (u != NULL)
		u->fired |= fired;
}

void fraud_eval_on_decision(void *arg, const struct fraud_event *ev)
{
	struct fraud_eval *e = arg;
	bool sms = ev->kind == FRAUD_KIND_SMS;
	e->decisions += ev->kind != FRAUD_KIND_MIDCALL;
	e->midcall += ev->kind == FRAUD_KIND_MIDCALL;
	if ((size_t)ev->d->action < FRAUD_ACTION_COUNT)
		e->by_action[ev->d->action]++;
	struct feval_item *u = find(e, sms ? digits_of(ev->callee) : ev->call_id);
	if (u != NULL && u->attack != 0) {
		on_attack_unit(e, u, ev);
	} else if (sms) {
		e->normal_sms++;
		for (int d = 1; d < FRAUD_DET_COUNT; d++)
			e->normal_fired_sms[d] += (ev->d->fired >> d) & 1;
	} else {
		on_normal_call(e, ev);
	}
}

/* ---- CDRs ---- */

/* A running call's check carries no Call-ID (fraud_call keeps none): a
 * call torn down by one shows in its CDR (answered, fraud block), which
 * folds the teardown and its detector into the call's unit. */
static void cdr_fraud(struct fraud_eval *e, struct feval_item *u, const struct cdr *c)
{
	bool torn = c->answer_ns != 0 && c->fraud_action == FRAUD_BLOCK;
	if (c->fraud_action < FRAUD_FLAG || c->fraud_detector >= FRAUD_DET_COUNT)
		return;
	if (u == NULL)
		u = insert(e, sy_str_from(c->a_call_id)); /* a normal call: a false positive */
	if (u == NULL)
		return;
	u->fired |= 1u << c->fraud_detector;
	u->torn_down |= torn && u->attack != 0;
}

void fraud_eval_on_cdr(void *arg, const struct cdr *c)
{
	struct fraud_eval *e = arg;
	struct feval_item *u = find(e, sy_str_from(c->a_call_id));
	cdr_fraud(e, u, c);
	if (u == NULL || u->attack == 0) {
		e->normal_cdrs++;
		e->normal_answered += c->answer_ns != 0;
		return;
	}
	u->cdr = true;
	if (c->answer_ns >= e->epoch_ns && c->end_ns > c->answer_ns)
		u->through = rate_call(&e->atk[u->attack - 1], sy_str_from(c->callee), c->answer_ns - e->epoch_ns,
				       c->end_ns - c->answer_ns, e->epoch_ns);
}

void fraud_eval_set_off(struct fraud_eval *e, uint64_t cdrs, uint64_t answered)
{
	e->off_ran = true;
	e->off_cdrs = cdrs;
	e->off_answered = answered;
}

/* ---- scoring ---- */

static void score_unit(struct fraud_eval *e, const struct feval_item *u)
{
	struct feval_attack *a = &e->atk[u->attack - 1];
	enum fraud_detector own = det_of(e->w->attacks[u->attack - 1].type);
	bool sms = u->kind == ATTACK_ITEM_SMS;
	for (int d = 1; d < FRAUD_DET_COUNT; d++) {
		bool hit = (u->fired >> d) & 1;
		if (d == (int)own)
			hit ? e->det[d].tp++ : e->det[d].fn++;
		else if (hit && det_sees((enum fraud_detector)d, sms))
			e->det[d].other++;
	}
	a->decided += u->decided;
	a->blocked += u->blocked;
	a->torn_down += u->torn_down;
	a->flagged += u->decided && !u->blocked && !u->torn_down && u->fired != 0;
	a->risk += u->risk;
	/* What a message that went on costs is its price; a refused one's is
	 * stopped. A call's is what it talked (its CDR, rated); a refused
	 * call's whole planned cost is stopped, a torn down call's the rest. */
	int64_t through = sms ? (u->decided && !u->blocked ? u->risk : 0) : u->through;
	a->through += through;
	if (u->blocked)
		a->stopped += u->risk;
	else if (u->torn_down && u->risk > through)
		a->stopped += u->risk - through;
}

static void score(struct fraud_eval *e)
{
	uint64_t normal_fired_calls[FRAUD_DET_COUNT] = {0};
	if (e->scored)
		return;
	e->scored = true;
	for (uint32_t i = 0; i < e->cap; i++) {
		const struct feval_item *u = &e->items[i];
		if (u->hash == 0)
			continue;
		if (u->attack != 0) {
			score_unit(e, u);
			continue;
		}
		for (int d = 1; d < FRAUD_DET_COUNT; d++)
			normal_fired_calls[d] += (u->fired >> d) & 1;
	}
	for (int d = 1; d < FRAUD_DET_COUNT; d++) {
		struct feval_det *t = &e->det[d];
		bool calls = det_sees((enum fraud_detector)d, false), sms = det_sees((enum fraud_detector)d, true);
		t->fp = (calls ? normal_fired_calls[d] : 0) + (sms ? e->normal_fired_sms[d] : 0);
		uint64_t normal = (calls ? e->normal_calls : 0) + (sms ? e->normal_sms : 0);
		t->tn = normal > t->fp ? normal - t->fp : 0;
	}
	for (uint32_t i = 0; i < e->w->attack_n; i++) {
		enum fraud_detector own = det_of(e->w->attacks[i].type);
		e->det[own].first_block_ns = SY_MIN(e->det[own].first_block_ns, e->atk[i].first_own_block_ns);
	}
}

/* ---- the figures ---- */

static int64_t ppm_of(uint64_t num, uint64_t den)
{
	return den == 0 ? 0 : (int64_t)(num * 1000000u / den);
}

static int64_t money_ppm(int64_t part, int64_t whole)
{
	return whole <= 0 || part <= 0 ? 0 : (int64_t)((__int128)part * 1000000 / whole);
}

struct totals {
	int64_t risk, stopped, through;
};

static struct totals money_totals(const struct fraud_eval *e)
{
	struct totals t = {0, 0, 0};
	for (uint32_t i = 0; i < e->w->attack_n; i++) {
		t.risk += e->atk[i].risk;
		t.stopped += e->atk[i].stopped;
		t.through += e->atk[i].through;
	}
	return t;
}

/* Normal traffic's ASR from the CDRs, in ppm; with fraud off, from that
 * run's. The delta is in ppm of a whole (0.5 points = 5000). */
static int64_t asr_delta(const struct fraud_eval *e)
{
	int64_t on = ppm_of(e->normal_answered, e->normal_cdrs), off = ppm_of(e->off_answered, e->off_cdrs);
	return on > off ? on - off : off - on;
}

static void put_det(const struct fraud_eval *e, int d, feval_put_fn put, void *arg)
{
	const struct feval_det *t = &e->det[d];
	char n[64];
	const char *dn = det_names[d];
#define PUT(what, unit, v) (snprintf(n, sizeof(n), "fraud.%s." what, dn), put(arg, n, unit, (int64_t)(v)))
	PUT("tp", EXPECT_UNIT_COUNT, t->tp);
	PUT("fp", EXPECT_UNIT_COUNT, t->fp);
	PUT("fn", EXPECT_UNIT_COUNT, t->fn);
	PUT("tn", EXPECT_UNIT_COUNT, t->tn);
	PUT("other", EXPECT_UNIT_COUNT, t->other);
	PUT("precision", EXPECT_UNIT_PPM, ppm_of(t->tp, t->tp + t->fp));
	PUT("recall", EXPECT_UNIT_PPM, ppm_of(t->tp, t->tp + t->fn));
	if (t->first_block_ns != UINT64_MAX)
		PUT("first_block", EXPECT_UNIT_NS, t->first_block_ns);
#undef PUT
}

static void put_attack(const struct fraud_eval *e, uint32_t i, feval_put_fn put, void *arg)
{
	const struct feval_attack *a = &e->atk[i];
	char n[96];
	const char *an = e->w->attacks[i].name;
#define PUT(what, unit, v) (snprintf(n, sizeof(n), "fraud.attack.%s." what, an), put(arg, n, unit, (int64_t)(v)))
	PUT("units", EXPECT_UNIT_COUNT, a->units);
	PUT("decided", EXPECT_UNIT_COUNT, a->decided);
	PUT("blocked", EXPECT_UNIT_COUNT, a->blocked);
	PUT("torn_down", EXPECT_UNIT_COUNT, a->torn_down);
	PUT("flagged", EXPECT_UNIT_COUNT, a->flagged);
	PUT("money_at_risk", EXPECT_UNIT_MONEY, a->risk);
	PUT("money_stopped", EXPECT_UNIT_MONEY, a->stopped);
	PUT("money_through", EXPECT_UNIT_MONEY, a->through);
	if (a->first_block_ns != UINT64_MAX)
		PUT("first_block", EXPECT_UNIT_NS, a->first_block_ns);
#undef PUT
}

void fraud_eval_metrics(struct fraud_eval *e, feval_put_fn put, void *arg)
{
	score(e);
	struct totals t = money_totals(e);
	for (int d = 1; d < FRAUD_DET_COUNT; d++)
		put_det(e, d, put, arg);
	for (uint32_t i = 0; i < e->w->attack_n; i++)
		put_attack(e, i, put, arg);
	put(arg, "fraud.money_at_risk", EXPECT_UNIT_MONEY, t.risk);
	put(arg, "fraud.money_stopped_amount", EXPECT_UNIT_MONEY, t.stopped);
	put(arg, "fraud.money_through", EXPECT_UNIT_MONEY, t.through);
	put(arg, "fraud.money_stopped", EXPECT_UNIT_PPM, money_ppm(t.stopped, t.risk));
	put(arg, "fraud.normal_calls", EXPECT_UNIT_COUNT, (int64_t)e->normal_cdrs);
	put(arg, "fraud.normal_asr", EXPECT_UNIT_PPM, ppm_of(e->normal_answered, e->normal_cdrs));
	if (!e->off_ran)
		return; /* without the run with fraud off there is no delta: an [expect] on it fails */
	put(arg, "fraud.normal_asr_off", EXPECT_UNIT_PPM, ppm_of(e->off_answered, e->off_cdrs));
	put(arg, "fraud.normal_asr_delta", EXPECT_UNIT_PPM, asr_delta(e));
}

static void fmt(char *buf, size_t n, enum expect_unit u, int64_t v)
{
	expect_fmt_value((struct expect_value){v, u}, buf, n);
}

static void text_dets(const struct fraud_eval *e, FILE *f)
{
	fprintf(f, "  %-9s %7s %7s %7s %9s %9s %9s %11s %s\n", "detector", "TP", "FP", "FN", "TN", "precision",
		"recall", "first block", "other attacks");
	for (int d = 1; d < FRAUD_DET_COUNT; d++) {
		const struct feval_det *t = &e->det[d];
		char p[24], r[24], fb[24] = "-";
		fmt(p, sizeof(p), EXPECT_UNIT_PPM, ppm_of(t->tp, t->tp + t->fp));
		fmt(r, sizeof(r), EXPECT_UNIT_PPM, ppm_of(t->tp, t->tp + t->fn));
		if (t->first_block_ns != UINT64_MAX)
			fmt(fb, sizeof(fb), EXPECT_UNIT_NS, (int64_t)t->first_block_ns);
		fprintf(f, "  %-9s %7" PRIu64 " %7" PRIu64 " %7" PRIu64 " %9" PRIu64 " %9s %9s %11s %" PRIu64 "\n",
			det_names[d], t->tp, t->fp, t->fn, t->tn, p, r, fb, t->other);
	}
}

static void text_attack(const struct fraud_eval *e, uint32_t i, FILE *f)
{
	const struct world_attack *w = &e->w->attacks[i];
	const struct feval_attack *a = &e->atk[i];
	char m[3][40], fb[24] = "never";
	fmt(m[0], sizeof(m[0]), EXPECT_UNIT_MONEY, a->risk);
	fmt(m[1], sizeof(m[1]), EXPECT_UNIT_MONEY, a->stopped);
	fmt(m[2], sizeof(m[2]), EXPECT_UNIT_MONEY, a->through);
	if (a->first_block_ns != UINT64_MAX)
		fmt(fb, sizeof(fb), EXPECT_UNIT_NS, (int64_t)a->first_block_ns);
	bool sms = w->type == WORLD_ATTACK_SMS_PUMP;
	fprintf(f, "  attack %s (%s): %" PRIu64 " %s", w->name, world_attack_type_name((enum world_attack_type)w->type),
		a->units, sms ? "messages" : "calls");
	if (w->type == WORLD_ATTACK_WANGIRI)
		fprintf(f, " (%" PRIu64 " one-ring, %" PRIu64 " callbacks)", a->flood, a->callbacks);
	fprintf(f, ", decided %" PRIu64 ", blocked %" PRIu64 ", torn down %" PRIu64 ", flagged %" PRIu64 "\n",
		a->decided, a->blocked, a->torn_down, a->flagged);
	fprintf(f, "    money at risk %s, stopped %s, got through %s; first block %s after the start\n", m[0], m[1],
		m[2], fb);
}

void fraud_eval_text(struct fraud_eval *e, FILE *f)
{
	score(e);
	struct totals t = money_totals(e);
	char m[4][40], asr[2][24], delta[24];
	fprintf(f,
		"fraud     decisions %" PRIu64 " (allow %" PRIu64 ", flag %" PRIu64 ", throttle %" PRIu64
		", block %" PRIu64 "), mid-call checks %" PRIu64 "\n",
		e->decisions, e->by_action[FRAUD_ALLOW], e->by_action[FRAUD_FLAG], e->by_action[FRAUD_THROTTLE],
		e->by_action[FRAUD_BLOCK], e->midcall);
	text_dets(e, f);
	for (uint32_t i = 0; i < e->w->attack_n; i++)
		text_attack(e, i, f);
	fmt(m[0], sizeof(m[0]), EXPECT_UNIT_MONEY, t.risk);
	fmt(m[1], sizeof(m[1]), EXPECT_UNIT_MONEY, t.stopped);
	fmt(m[2], sizeof(m[2]), EXPECT_UNIT_MONEY, t.through);
	fmt(m[3], sizeof(m[3]), EXPECT_UNIT_PPM, money_ppm(t.stopped, t.risk));
	fprintf(f, "  money     at risk %s, stopped %s (%s), got through %s\n", m[0], m[1], m[3], m[2]);
	fmt(asr[0], sizeof(asr[0]), EXPECT_UNIT_PPM, ppm_of(e->normal_answered, e->normal_cdrs));
	fprintf(f, "  normal    %" PRIu64 " calls (CDRs), ASR %s", e->normal_cdrs, asr[0]);
	if (e->off_ran) {
		fmt(asr[1], sizeof(asr[1]), EXPECT_UNIT_PPM, ppm_of(e->off_answered, e->off_cdrs));
		fmt(delta, sizeof(delta), EXPECT_UNIT_PPM, asr_delta(e));
		fprintf(f, "; fraud off: %" PRIu64 " calls, ASR %s; delta %s", e->off_cdrs, asr[1], delta);
	}
	fprintf(f, "\n");
}
