/* callbill.c: real-time billing in the call path; see callbill.h. */
#include "callbill.h"
#include "callbill_int.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/route/route.h"
#include "core/store/ledger.h"

static void commit_fire(void *arg)
{
	struct callbill *cb = arg;
	callbill_flush(cb);
	cb->commit_timer = sy_env_timer_start(cb->env, cb->cfg.commit_every_ns, commit_fire, cb);
}

static enum sy_rc load_tariffs(struct callbill *cb, char *err, size_t errlen)
{
	const struct billing_cfg *s = cb->cfg.billing;
	for (uint32_t i = 0; i < s->tariff_n; i++) {
		struct bill_tariff_opts o = {.err = err, .err_len = errlen};
		enum sy_rc rc = bill_tariff_load_file(cb->env, &cb->tariffs[i], s->tariffs[i].file, &o);
		if (rc != SY_OK)
			return rc;
		cb->tariff_n++;
	}
	return SY_OK;
}

static uint16_t tariff_of(const struct billing_cfg *s, const struct billing_account_cfg *a)
{
	for (uint32_t t = 0; t < s->tariff_n; t++)
		if (strcmp(s->tariffs[t].name, a->tariff) == 0)
			return (uint16_t)t;
	return 0;
}

void callbill_member(const struct billing_account_cfg *a, uint32_t i, char *name, size_t name_len, char *number,
		     size_t number_len)
{
	if (a->count <= 1) {
		snprintf(name, name_len, "%s", a->name);
		snprintf(number, number_len, "%s", a->callers);
		return;
	}
	uint32_t width = 1;
	for (uint32_t x = a->count - 1; x >= 10; x /= 10)
		width++;
	snprintf(name, name_len, "%s-%u", a->name, i);
	if (a->callers[0] != '\0')
		snprintf(number, number_len, "%s%0*u", a->callers, (int)width, i);
	else
		number[0] = '\0';
}

/* One book account per member (callbill_member names it). */
static enum sy_rc add_member(struct callbill *cb, const struct billing_account_cfg *a, uint32_t i, char *err, size_t errlen)
{
	uint32_t idx = cb->acct_n;
	char *name = cb->acct_name[idx], number[BILLING_PATTERN_MAX + 12];
	callbill_member(a, i, name, NAME_MAX_, number, sizeof(number));
	struct bill_account_def d = {
		.name = sy_str_from(name),
		.currency = sy_str_from(a->currency),
		.kind = a->kind,
		.balance_micros = a->balance_micros,
		.credit_limit_micros = a->kind == BILL_POSTPAID ? a->credit_limit_micros : 0,
	};
	enum sy_rc rc = bill_account_add(cb->book, &d);
	if (rc != SY_OK && rc != SY_ERR_STATE) { /* STATE: the ledger already had it */
		snprintf(err, errlen, "%s:%u: cannot add account %s: %s", cb->cfg.billing->source, a->line, name,
			 sy_rc_str(rc));
		return rc;
	}
	if (number[0] != '\0' && route_add(&cb->callers, sy_str_from(number), idx + 1) != SY_OK) {
		snprintf(err, errlen, "%s:%u: bad caller prefix for account %s", cb->cfg.billing->source, a->line, name);
		return SY_ERR_INVAL;
	}
	cb->acct_tariff[idx] = tariff_of(cb->cfg.billing, a);
	cb->acct_n++;
	return SY_OK;
}

static enum sy_rc add_accounts(struct callbill *cb, char *err, size_t errlen)
{
	const struct billing_cfg *s = cb->cfg.billing;
	for (uint32_t k = 0; k < s->account_n; k++) {
		const struct billing_account_cfg *a = &s->accounts[k];
		uint32_t n = a->count > 1 ? a->count : 1;
		cb->grp_first[k] = cb->acct_n;
		for (uint32_t i = 0; i < n; i++) {
			enum sy_rc rc = add_member(cb, a, i, err, errlen);
			if (rc != SY_OK)
				return rc;
		}
	}
	return SY_OK;
}

static uint32_t accounts_total(const struct billing_cfg *s)
{
	uint32_t n = 0;
	for (uint32_t k = 0; k < s->account_n; k++)
		n += s->accounts[k].count > 1 ? s->accounts[k].count : 1;
	return n;
}

static enum sy_rc open_ledger(struct callbill *cb, char *err, size_t errlen)
{
	if (cb->cfg.ledger_path == NULL)
		return SY_OK;
	struct ledger_opts lo = {.batch_max = cb->cfg.ledger_batch_max, .sync_full = cb->cfg.sync_full};
	enum sy_rc rc = ledger_open(cb->env, cb->cfg.ledger_path, &lo, &cb->ledger, err, errlen);
	if (rc != SY_OK)
		return rc;
	struct ledger_recovery rec;
	rc = ledger_recover(cb->ledger, cb->book, &rec);
	if (rc != SY_OK) {
		snprintf(err, errlen, "ledger %s: recovery failed: %s", cb->cfg.ledger_path, ledger_errmsg(cb->ledger));
		return rc;
	}
	if (rec.resv_reconciled > 0)
		SY_LOG(cb->env, SY_LOG_WARN, "ledger: reconciled %llu open reservations after a restart",
		       (unsigned long long)rec.resv_reconciled);
	return SY_OK;
}

enum sy_rc callbill_create(const struct callbill_cfg *cfg, struct callbill **out, char *err, size_t errlen)
{
	*out = NULL;
	const struct billing_cfg *s = cfg->billing;
	int voice = -1; /* accounts that own caller numbers pay for calls */
	for (uint32_t k = 0; k < s->account_n && voice < 0; k++)
		if (s->accounts[k].callers[0] != '\0')
			voice = (int)k;
	if (voice < 0 && s->tariff_n == 0)
		return SY_OK;
	if (s->tariff_n == 0) {
		snprintf(err, errlen, "%s:%u: [account %s] owns callers but there is no [tariff] to rate their calls",
			 s->source, s->accounts[voice].line, s->accounts[voice].name);
		return SY_ERR_INVAL;
	}
	struct callbill *cb = calloc(1, sizeof(*cb));
	uint32_t n = accounts_total(s);
	enum sy_rc rc = SY_ERR_NOMEM;
	if (cb == NULL)
		return rc;
	cb->cfg = *cfg;
	cb->env = cfg->env;
	sy_hist_init(&cb->cutoff_late);
	if (cb->cfg.slice_s == 0)
		cb->cfg.slice_s = 60;
	if (cb->cfg.guard_s == 0 || cb->cfg.guard_s >= cb->cfg.slice_s)
		cb->cfg.guard_s = cb->cfg.slice_s / 6;
	if (cb->cfg.commit_every_ns == 0)
		cb->cfg.commit_every_ns = 50 * SY_NS_PER_MS;
	cb->acct_tariff = calloc(n, sizeof(*cb->acct_tariff));
	cb->acct_name = calloc(n, sizeof(*cb->acct_name));
	uint64_t holds = (uint64_t)cfg->calls_max + cfg->sessions_max;
	struct bill_book_opts bo = {.accounts_max = n + 1,
				    .resv_max = holds == 0 ? 65536 : (uint32_t)SY_MIN(holds, UINT32_MAX - 2)};
	if (cb->acct_tariff == NULL || cb->acct_name == NULL || route_trie_init(&cb->callers, n) != SY_OK ||
	    bill_book_new(&bo, &cb->book) != SY_OK)
		goto out_free;
	if ((rc = load_tariffs(cb, err, errlen)) != SY_OK || (rc = open_ledger(cb, err, errlen)) != SY_OK ||
	    (rc = add_accounts(cb, err, errlen)) != SY_OK)
		goto out_free;
	if (cb->ledger != NULL)
		cb->commit_timer = sy_env_timer_start(cb->env, cb->cfg.commit_every_ns, commit_fire, cb);
	*out = cb;
	return SY_OK;
out_free:
	callbill_destroy(cb);
	return rc;
}

void callbill_destroy(struct callbill *cb)
{
	if (cb == NULL)
		return;
	sy_env_timer_cancel(cb->env, cb->commit_timer);
	if (cb->ledger != NULL)
		ledger_close(cb->ledger);
	if (cb->book != NULL)
		bill_book_free(cb->book);
	for (uint32_t i = 0; i < cb->tariff_n; i++)
		bill_tariff_free(&cb->tariffs[i]);
	route_trie_free(&cb->callers);
	free(cb->acct_tariff);
	free(cb->acct_name);
	free(cb);
}

/* The [account] an SMPP system_id bills to: the account of that name, or
 * for a group's member NAME-i (callbill_member) the group NAME, whose
 * tariff every member has. account_n: none. */
static uint32_t sms_account_of(const struct billing_cfg *s, const char *account)
{
	for (uint32_t k = 0; k < s->account_n; k++)
		if (strcmp(s->accounts[k].name, account) == 0)
			return k;
	const char *dash = strrchr(account, '-');
	if (dash == NULL || dash[1] < '0' || dash[1] > '9')
		return s->account_n;
	char *end;
	unsigned long i = strtoul(dash + 1, &end, 10);
	size_t len = (size_t)(dash - account);
	if (*end != '\0' || (dash[1] == '0' && dash[2] != '\0'))
		return s->account_n; /* members are NAME-0, NAME-12: no sign, no leading zero */
	for (uint32_t k = 0; k < s->account_n; k++)
		if (s->accounts[k].count > 1 && i < s->accounts[k].count && strlen(s->accounts[k].name) == len &&
		    memcmp(s->accounts[k].name, account, len) == 0)
			return k;
	return s->account_n;
}

int64_t callbill_rate_sms(void *arg, const char *account, struct sy_str dst, uint64_t wall_ns)
{
	struct callbill *cb = arg;
	const struct billing_cfg *s = cb->cfg.billing;
	uint32_t k = sms_account_of(s, account);
	if (k == s->account_n)
		return 0;
	const struct bill_tariff *t = &cb->tariffs[tariff_of(s, &s->accounts[k])];
	struct bill_rating r;
	if (bill_rate_event(t, BILL_SVC_SMS, dst, wall_ns / SY_NS_PER_S, 1, &r) != SY_OK)
		return 0;
	return r.cost_micros;
}

void callbill_flush(struct callbill *cb)
{
	if (cb != NULL && cb->ledger != NULL && ledger_commit(cb->ledger) != SY_OK)
		SY_LOG_LIMITED(cb->env, &cb->log_ledger, SY_LOG_ERROR, "ledger commit: %s", ledger_errmsg(cb->ledger));
}

static const struct bill_tariff_entry *entry_of(const struct callbill *cb, const struct callbill_call *c)
{
	return bill_tariff_entry(&cb->tariffs[c->tariff], c->tariff_id);
}

static int64_t charge_s(const struct bill_tariff_entry *e, uint64_t s)
{
	uint32_t rated;
	return bill_charge_call(e, (uint32_t)SY_MIN(s * 1000, UINT32_MAX), &rated);
}

static uint32_t covered(const struct bill_tariff_entry *e, int64_t held)
{
	return bill_seconds_covered(held - e->fee_micros, e->rate_micros, e->first_s, e->next_s);
}

static enum sy_rc decline(struct callbill *cb, enum bill_why why, uint16_t *status, const char **reason)
{
	cb->st.declined++;
	if (why == BILL_WHY_FUNDS)
		cb->st.declined_funds++;
	else
		cb->st.declined_unknown++;
	*status = bill_why_sip_status(why);
	*reason = bill_why_str(why);
	return SY_DECLINED;
}

/* The book member that pays: the authenticated account itself, or, for a
 * group, the member that owns the caller number, looked up among that
 * group's own members only (never across all accounts). */
bool callbill__member_of(struct callbill *cb, struct sy_str account, struct sy_str caller, uint32_t *idx, bool *foreign)
{
	const struct billing_cfg *s = cb->cfg.billing;
	*foreign = false;
	for (uint32_t k = 0; k < s->account_n; k++) {
		if (!sy_str_eq(account, sy_str_from(s->accounts[k].name)))
			continue;
		uint32_t first = cb->grp_first[k], n = s->accounts[k].count > 1 ? s->accounts[k].count : 1, idx1;
		size_t len;
		if (n == 1) {
			*idx = first;
			return true;
		}
		if (route_lookup(&cb->callers, caller, &idx1, &len) && idx1 > first && idx1 <= first + n) {
			*idx = idx1 - 1;
			return true;
		}
		*foreign = true;
		return false;
	}
	return false;
}

enum sy_rc callbill_authorize(struct callbill *cb, struct sy_str account, struct sy_str caller, struct sy_str callee,
			      struct sy_str call_id, struct callbill_call *out, uint16_t *status, const char **reason)
{
	memset(out, 0, sizeof(*out));
	uint32_t idx;
	bool foreign;
	if (!callbill__member_of(cb, account, caller, &idx, &foreign)) {
		if (!foreign)
			return decline(cb, BILL_WHY_UNKNOWN, status, reason);
		cb->st.declined++;
		cb->st.declined_caller++;
		*status = 403;
		*reason = "caller number not owned by the account";
		return SY_DECLINED;
	}
	uint32_t idx1 = idx + 1;
	const struct bill_tariff *t = &cb->tariffs[cb->acct_tariff[idx]];
	uint64_t now_s = sy_env_wall_ns(cb->env) / SY_NS_PER_S;
	const struct bill_tariff_entry *e = bill_tariff_lookup(t, BILL_SVC_VOICE, callee, now_s);
	if (e == NULL) {
		cb->st.declined++;
		cb->st.declined_tariff++;
		*status = 403;
		*reason = "no tariff for destination";
		return SY_DECLINED;
	}
	int64_t want = charge_s(e, cb->cfg.slice_s), min = charge_s(e, SY_MAX(e->first_s, 1u));
	enum bill_why why = BILL_WHY_NONE;
	bill_resv_id id = 0;
	enum sy_rc rc = bill_reserve(cb->book, sy_str_from(cb->acct_name[idx]), call_id, want, SY_MIN(min, want), &id,
				     &why);
	if (rc == SY_ERR_FULL) {
		*status = 503;
		*reason = "billing overloaded";
		return SY_DECLINED;
	}
	if (rc != SY_OK && why == BILL_WHY_NONE) {
		/* the account is fine; the ledger (its disk) could not record the
		 * reservation: a temporary failure, not the caller's fault */
		cb->st.declined++;
		cb->st.declined_store++;
		*status = 503;
		*reason = "billing store unavailable";
		return SY_DECLINED;
	}
	if (rc != SY_OK)
		return decline(cb, why == BILL_WHY_NONE ? BILL_WHY_UNKNOWN : why, status, reason);
	struct bill_resv_info ri;
	SY_ASSERT(bill_resv_get(cb->book, id, &ri) == SY_OK);
	out->resv = id;
	out->account = idx1;
	out->tariff = cb->acct_tariff[idx];
	out->tariff_id = bill_tariff_id(t, e);
	out->held = ri.held_micros;
	out->final = ri.held_micros < want;
	cb->st.authorized++;
	return SY_OK;
}

/* Delay from now to the next action: the extension point before the money
 * runs out, or (final) the cut-off itself. */
static uint64_t next_action(const struct callbill *cb, const struct callbill_call *c, uint64_t wall_ns)
{
	if (c->covered_s == UINT32_MAX)
		return UINT64_MAX; /* free destination */
	uint64_t end_ns = c->answer_wall_ns + (uint64_t)c->covered_s * SY_NS_PER_S;
	if (!c->final)
		end_ns -= SY_MIN((uint64_t)cb->cfg.guard_s * SY_NS_PER_S, end_ns - c->answer_wall_ns);
	return end_ns > wall_ns ? end_ns - wall_ns : 0;
}

uint64_t callbill_answered(struct callbill *cb, struct callbill_call *c, uint64_t wall_ns)
{
	SY_ASSERT(c->resv != 0);
	c->answer_wall_ns = wall_ns;
	c->answered = true;
	c->covered_s = covered(entry_of(cb, c), c->held);
	return next_action(cb, c, wall_ns);
}

uint64_t callbill_tick(struct callbill *cb, struct callbill_call *c, uint64_t wall_ns)
{
	const struct bill_tariff_entry *e = entry_of(cb, c);
	if (c->final)
		return 0; /* the cut-off is due */
	uint64_t talk_s = (wall_ns - c->answer_wall_ns) / SY_NS_PER_S;
	int64_t need = charge_s(e, (uint64_t)c->covered_s + cb->cfg.slice_s) - c->held;
	int64_t granted = 0;
	enum bill_why why;
	enum sy_rc rc = bill_extend(cb->book, c->resv, need > 0 ? need : 0, SY_MIN(charge_s(e, talk_s), c->held),
				    &granted, &why);
	cb->st.extends++;
	c->held += granted;
	c->covered_s = covered(e, c->held);
	if (rc != SY_OK || granted < need)
		c->final = true; /* the money is out: cut at the last covered second */
	return next_action(cb, c, wall_ns);
}

static int64_t carrier_cost(const struct billing_cfg *s, const char *carrier, uint32_t talk_ms)
{
	uint32_t i = 0;
	while (carrier != NULL && i < s->carrier_n && strcmp(s->carriers[i].name, carrier) != 0)
		i++;
	if (carrier == NULL || i == s->carrier_n || talk_ms == 0)
		return 0;
	/* carriers bill us per second, rounded up */
	int64_t secs = (int64_t)((talk_ms + 999) / 1000);
	return money_mul_div_ceil((int64_t)s->carriers[i].rate_micro_per_min, secs, 60);
}

/* The money-out instant is when the hold can no longer pay the next
 * increment: answer + the seconds it covers. The CDR's end is when the
 * switch really ended the call (the BYEs go out in that same event), so
 * the difference is what the cut-off timer cost the operator. */
static void cutoff_lateness(struct callbill *cb, const struct callbill_call *c, const struct cdr *cdr)
{
	uint64_t out_ns = c->answer_wall_ns + (uint64_t)c->covered_s * SY_NS_PER_S;
	if (cdr->end_ns < out_ns) {
		cb->st.cutoff_early++;
		return;
	}
	uint64_t late = cdr->end_ns - out_ns;
	sy_hist_add(&cb->cutoff_late, late);
	cb->st.cutoff_late_max_ns = SY_MAX(cb->st.cutoff_late_max_ns, late);
}

void callbill_end(struct callbill *cb, struct callbill_call *c, uint32_t talk_ms, const char *carrier, bool cut_off,
		  struct cdr *cdr)
{
	if (c->resv == 0)
		return;
	const struct bill_tariff_entry *e = entry_of(cb, c);
	if (!c->answered || talk_ms == 0) {
		bill_release(cb->book, c->resv);
		c->resv = 0;
		return;
	}
	if (cut_off) {
		/* The switch ends the call on the covered second; a timer late by
		 * a few ms in live must not bill one more increment. The CDR keeps
		 * the real duration: the lateness shows there, and here. */
		talk_ms = (uint32_t)SY_MIN((uint64_t)talk_ms, (uint64_t)c->covered_s * 1000);
		cb->st.cutoffs++;
		int64_t one_more = charge_s(e, (uint64_t)c->covered_s + SY_MAX(e->next_s, 1u)) -
				   charge_s(e, c->covered_s);
		int64_t left = c->held - charge_s(e, c->covered_s);
		if (left < 0 || left >= one_more)
			cb->cutoff_violations++;
		if (cdr != NULL)
			cutoff_lateness(cb, c, cdr);
	}
	uint32_t rated = 0;
	int64_t cost = bill_charge_call(e, talk_ms, &rated), charged = 0;
	bill_commit(cb->book, c->resv, cost, &charged);
	c->resv = 0;
	cb->st.revenue_micros += charged;
	int64_t ccost = carrier_cost(cb->cfg.billing, carrier, talk_ms);
	cb->st.cost_micros += ccost;
	if (cdr != NULL) {
		cdr->cost_micros = charged;
		cdr->tariff_id = c->tariff_id;
		cdr->rated_ms = rated;
	}
}

void callbill_stats(const struct callbill *cb, struct callbill_stats *out)
{
	*out = cb->st;
}

const struct sy_hist *callbill_cutoff_late(const struct callbill *cb)
{
	return &cb->cutoff_late;
}

void callbill_book_check(const struct callbill *cb, struct bill_book_check *out)
{
	bill_book_check(cb->book, out);
}

uint64_t callbill_cutoff_violations(const struct callbill *cb)
{
	return cb->cutoff_violations;
}

bool callbill_conserved(const struct callbill *cb, int64_t *charged, int64_t *decrease)
{
	return bill_conservation_ok(cb->book, charged, decrease);
}

uint32_t callbill_negative_accounts(const struct callbill *cb)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < bill_account_count(cb->book); i++) {
		struct bill_account_info ai;
		bill_account_at(cb->book, i, &ai);
		if (ai.kind == BILL_PREPAID && ai.balance_micros < 0)
			n++;
	}
	return n;
}
