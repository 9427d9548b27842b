/* balance.c: the account book and its reservations: accounts in an array
 * sized at start, reservations in a pool that grows in slabs up to resv_max
 * (core/pool.h: a million allowed costs nothing until they are open), a hash
 * index by account name, a free list of reservation slots with generations,
 * and the available >= 0 invariant asserted after each change. */
#include "balance.h"

#include <stdlib.h>

#include "core/htab.h"
#include "core/pool.h"

struct bill_acct {
	struct sy_hnode node;
	char name[BILL_NAME_MAX];
	char currency[BILL_CURRENCY_MAX];
	uint8_t name_len, currency_len;
	enum bill_kind kind;
	bool suspended;
	uint32_t open;
	int64_t balance, credit_limit, reserved;
	int64_t initial, charged, credited;
};

struct bill_resv {
	uint32_t gen;	    /* bumped on close, so old ids go stale */
	uint32_t next_free; /* slot + 1 of the next free slot; 0 ends the list */
	uint32_t acct;
	bool open;
	uint8_t call_id_len;
	int64_t held, used;
	char call_id[BILL_CALLID_MAX];
};

struct bill_book {
	struct bill_acct *accts;
	uint32_t accts_n, accts_max;
	struct sy_htab index;
	struct sy_pool resv;	      /* struct bill_resv, grown as holds open */
	uint32_t resv_max, free_head; /* recycled slot + 1; 0: none (grow the pool) */
	struct bill_journal journal;
	struct bill_stats st;
};

_Static_assert(BILL_CALLID_MAX <= 256, "call_id_len is a uint8_t");
_Static_assert(BILL_NAME_MAX <= 256 && BILL_CURRENCY_MAX <= 256, "lengths are uint8_t");
_Static_assert(BILL_AMOUNT_MAX <= INT64_MAX / 64, "sums and 60 * amount must fit int64");

static const char *const bill_why_names[BILL_WHY_COUNT] = {
    [BILL_WHY_NONE] = "",
    [BILL_WHY_FUNDS] = "insufficient funds",
    [BILL_WHY_UNKNOWN] = "unknown account",
    [BILL_WHY_SUSPENDED] = "account suspended",
};

const char *bill_why_str(enum bill_why w)
{
	return (unsigned)w < BILL_WHY_COUNT ? bill_why_names[w] : "?";
}

uint16_t bill_why_sip_status(enum bill_why w)
{
	switch (w) {
	case BILL_WHY_FUNDS:
		return 402;
	case BILL_WHY_UNKNOWN:
	case BILL_WHY_SUSPENDED:
		return 403;
	default:
		return 0;
	}
}

static int64_t bill_avail(const struct bill_acct *a)
{
	return a->balance + a->credit_limit - a->reserved;
}

/* The invariant, asserted where it can break: after every change. */
static void bill_acct_check(const struct bill_acct *a)
{
	SY_ASSERT(a->reserved >= 0 && a->credit_limit >= 0);
	SY_ASSERT(bill_avail(a) >= 0);
	SY_ASSERT(a->open > 0 || a->reserved == 0);
}

enum sy_rc bill_book_new(const struct bill_book_opts *opts, struct bill_book **out)
{
	SY_ASSERT(out != NULL);
	*out = NULL;
	uint32_t na = opts != NULL && opts->accounts_max ? opts->accounts_max : 1024;
	uint32_t nr = opts != NULL && opts->resv_max ? opts->resv_max : 65536;
	if (nr >= UINT32_MAX - 1)
		return SY_ERR_INVAL;
	struct bill_book *b = calloc(1, sizeof *b);
	if (b == NULL)
		return SY_ERR_NOMEM;
	b->accts = calloc(na, sizeof *b->accts);
	if (b->accts == NULL || sy_pool_init(&b->resv, sizeof(struct bill_resv), nr) != SY_OK ||
	    sy_htab_init(&b->index, na) != SY_OK) {
		bill_book_free(b);
		return SY_ERR_NOMEM;
	}
	b->accts_max = na;
	b->resv_max = nr;
	*out = b;
	return SY_OK;
}

void bill_book_free(struct bill_book *b)
{
	if (b == NULL)
		return;
	sy_htab_free(&b->index);
	free(b->accts);
	sy_pool_free(&b->resv);
	free(b);
}

void bill_book_set_journal(struct bill_book *b, const struct bill_journal *j)
{
	SY_ASSERT(j == NULL || j->write != NULL);
	b->journal = j != NULL ? *j : (struct bill_journal){0};
}

static enum sy_rc bill_journal(struct bill_book *b, const struct bill_journal_rec *r)
{
	return b->journal.write != NULL ? b->journal.write(b->journal.arg, r) : SY_OK;
}

static struct bill_acct *bill_find(const struct bill_book *b, struct sy_str name)
{
	struct sy_hnode *n = sy_htab_find(&b->index, name);
	return n != NULL ? SY_CONTAINER_OF(n, struct bill_acct, node) : NULL;
}

static bool bill_amount_ok(int64_t v)
{
	return v >= 0 && v <= BILL_AMOUNT_MAX;
}

static bool bill_def_ok(const struct bill_account_def *d)
{
	if (d->name.len == 0 || d->name.len >= BILL_NAME_MAX || d->name.p == NULL)
		return false;
	if (d->currency.len == 0 || d->currency.len >= BILL_CURRENCY_MAX || d->currency.p == NULL)
		return false;
	if (d->kind != BILL_PREPAID && d->kind != BILL_POSTPAID)
		return false;
	if (!bill_amount_ok(d->credit_limit_micros) || (d->kind == BILL_PREPAID && d->credit_limit_micros != 0))
		return false;
	if (d->balance_micros > BILL_AMOUNT_MAX || d->balance_micros < -d->credit_limit_micros)
		return false;
	if (!d->restore)
		return true;
	if (!bill_amount_ok(d->initial_micros < 0 ? -d->initial_micros : d->initial_micros) || d->charged_micros < 0 ||
	    d->credited_micros < 0)
		return false;
	return d->initial_micros + d->credited_micros - d->charged_micros == d->balance_micros;
}

static void bill_acct_fill(struct bill_acct *a, const struct bill_account_def *d)
{
	memcpy(a->name, d->name.p, d->name.len);
	a->name_len = (uint8_t)d->name.len;
	memcpy(a->currency, d->currency.p, d->currency.len);
	a->currency_len = (uint8_t)d->currency.len;
	a->kind = d->kind;
	a->suspended = d->suspended;
	a->balance = d->balance_micros;
	a->credit_limit = d->credit_limit_micros;
	a->initial = d->restore ? d->initial_micros : d->balance_micros;
	a->charged = d->restore ? d->charged_micros : 0;
	a->credited = d->restore ? d->credited_micros : 0;
}

enum sy_rc bill_account_add(struct bill_book *b, const struct bill_account_def *d)
{
	SY_ASSERT(b != NULL && d != NULL);
	if (!bill_def_ok(d))
		return SY_ERR_INVAL;
	if (bill_find(b, d->name) != NULL)
		return SY_ERR_STATE;
	if (b->accts_n == b->accts_max)
		return SY_ERR_FULL;
	struct bill_journal_rec r = {.op = BILL_OP_ACCOUNT, .account = d->name, .def = d};
	enum sy_rc rc = bill_journal(b, &r);
	if (rc != SY_OK)
		return rc;
	struct bill_acct *a = &b->accts[b->accts_n++];
	memset(a, 0, sizeof *a);
	bill_acct_fill(a, d);
	sy_htab_insert(&b->index, &a->node, (struct sy_str){a->name, a->name_len});
	bill_acct_check(a);
	return SY_OK;
}

static void bill_info(const struct bill_acct *a, struct bill_account_info *out)
{
	*out = (struct bill_account_info){
	    .name = {a->name, a->name_len},
	    .currency = {a->currency, a->currency_len},
	    .kind = a->kind,
	    .suspended = a->suspended,
	    .balance_micros = a->balance,
	    .credit_limit_micros = a->credit_limit,
	    .reserved_micros = a->reserved,
	    .available_micros = bill_avail(a),
	    .open_resv = a->open,
	    .initial_micros = a->initial,
	    .charged_micros = a->charged,
	    .credited_micros = a->credited,
	};
}

enum sy_rc bill_account_get(const struct bill_book *b, struct sy_str name, struct bill_account_info *out)
{
	const struct bill_acct *a = bill_find(b, name);
	if (a == NULL)
		return SY_ERR_NOTFOUND;
	bill_info(a, out);
	return SY_OK;
}

uint32_t bill_account_count(const struct bill_book *b)
{
	return b->accts_n;
}

void bill_account_at(const struct bill_book *b, uint32_t i, struct bill_account_info *out)
{
	SY_ASSERT(i < b->accts_n);
	bill_info(&b->accts[i], out);
}

enum sy_rc bill_account_topup(struct bill_book *b, struct sy_str name, int64_t amount_micros, struct sy_str ref)
{
	struct bill_acct *a = bill_find(b, name);
	if (a == NULL)
		return SY_ERR_NOTFOUND;
	if (amount_micros <= 0 || amount_micros > BILL_AMOUNT_MAX || a->balance > BILL_AMOUNT_MAX - amount_micros)
		return SY_ERR_INVAL;
	struct bill_journal_rec r = {
	    .op = BILL_OP_TOPUP, .account = name, .call_id = ref, .amount_micros = amount_micros};
	enum sy_rc rc = bill_journal(b, &r);
	if (rc != SY_OK)
		return rc;
	a->balance += amount_micros;
	a->credited += amount_micros;
	b->st.credited_micros += amount_micros;
	bill_acct_check(a);
	return SY_OK;
}

enum sy_rc bill_account_suspend(struct bill_book *b, struct sy_str name, bool suspended)
{
	struct bill_acct *a = bill_find(b, name);
	if (a == NULL)
		return SY_ERR_NOTFOUND;
	struct bill_journal_rec r = {.op = BILL_OP_SUSPEND, .account = name, .amount_micros = suspended};
	enum sy_rc rc = bill_journal(b, &r);
	if (rc != SY_OK)
		return rc;
	a->suspended = suspended;
	return SY_OK;
}

static enum sy_rc bill_decline(struct bill_book *b, enum bill_why w, enum bill_why *why)
{
	b->st.declined++;
	b->st.declined_why[w]++;
	if (why != NULL)
		*why = w;
	return SY_DECLINED;
}

static struct bill_resv *bill_resv_at(const struct bill_book *b, uint32_t slot)
{
	return sy_pool_at(&b->resv, slot);
}

/* A recycled slot (the last freed) if any, else the next never used: the
 * order of one array threaded onto a free list, so the ids, and the
 * simulator's digests, are those of the preallocated book. NULL: full (or
 * no memory for a new slab). The caller fills it. */
static struct bill_resv *bill_resv_alloc(struct bill_book *b, uint32_t *slot)
{
	if (b->free_head == 0)
		return sy_pool_grow(&b->resv, slot);
	*slot = b->free_head - 1;
	struct bill_resv *r = bill_resv_at(b, *slot);
	SY_ASSERT(!r->open);
	b->free_head = r->next_free;
	r->next_free = 0;
	return r;
}

static void bill_resv_free(struct bill_book *b, uint32_t slot)
{
	struct bill_resv *r = bill_resv_at(b, slot);
	r->open = false;
	r->gen++;
	r->next_free = b->free_head;
	b->free_head = slot + 1;
}

enum sy_rc bill_reserve(struct bill_book *b, struct sy_str account, struct sy_str call_id, int64_t want_micros,
			int64_t min_micros, bill_resv_id *out, enum bill_why *why)
{
	SY_ASSERT(b != NULL && out != NULL);
	*out = 0;
	if (why != NULL)
		*why = BILL_WHY_NONE;
	if (!bill_amount_ok(want_micros) || min_micros < 0 || min_micros > want_micros)
		return SY_ERR_INVAL;
	if (call_id.p == NULL || call_id.len == 0 || call_id.len >= BILL_CALLID_MAX)
		return SY_ERR_INVAL;
	struct bill_acct *a = bill_find(b, account);
	if (a == NULL)
		return bill_decline(b, BILL_WHY_UNKNOWN, why);
	if (a->suspended)
		return bill_decline(b, BILL_WHY_SUSPENDED, why);
	int64_t grant = SY_MIN(want_micros, bill_avail(a));
	if (grant < min_micros)
		return bill_decline(b, BILL_WHY_FUNDS, why);
	if (b->free_head == 0 && sy_pool_used(&b->resv) == b->resv_max) {
		b->st.pool_full++;
		return SY_ERR_FULL;
	}
	struct bill_journal_rec jr = {
	    .op = BILL_OP_OPEN, .account = account, .call_id = call_id, .amount_micros = grant, .held_micros = grant};
	enum sy_rc rc = bill_journal(b, &jr);
	if (rc != SY_OK)
		return rc;
	uint32_t slot;
	struct bill_resv *r = bill_resv_alloc(b, &slot);
	SY_ASSERT(r != NULL); /* no memory for a slab of 256 KB: the process is lost anyway */
	r->open = true;
	r->acct = (uint32_t)(a - b->accts);
	r->held = grant;
	r->used = 0;
	memcpy(r->call_id, call_id.p, call_id.len);
	r->call_id_len = (uint8_t)call_id.len;
	a->reserved += grant;
	a->open++;
	b->st.open++;
	b->st.reserved++;
	bill_acct_check(a);
	*out = (uint64_t)r->gen << 32 | (uint64_t)(slot + 1);
	return SY_OK;
}

static struct bill_resv *bill_resv_lookup(const struct bill_book *b, bill_resv_id id)
{
	uint32_t slot1 = (uint32_t)(id & 0xffffffffu);
	if (slot1 == 0 || slot1 > sy_pool_used(&b->resv))
		return NULL;
	struct bill_resv *r = bill_resv_at(b, slot1 - 1);
	if (!r->open || r->gen != (uint32_t)(id >> 32))
		return NULL;
	return r;
}

static struct bill_journal_rec bill_resv_rec(const struct bill_book *b, const struct bill_resv *r, enum bill_op op)
{
	const struct bill_acct *a = &b->accts[r->acct];
	return (struct bill_journal_rec){.op = op,
					 .account = {a->name, a->name_len},
					 .call_id = {r->call_id, r->call_id_len},
					 .held_micros = r->held,
					 .used_micros = r->used};
}

/* used only grows, and never past what is held: a late timer may report a
 * little more than the hold, but the hold is all the call can be charged
 * for in a crash. */
static int64_t bill_next_used(const struct bill_resv *r, int64_t held, int64_t used)
{
	return SY_MIN(SY_MAX(r->used, used), held);
}

enum sy_rc bill_extend(struct bill_book *b, bill_resv_id id, int64_t amount_micros, int64_t used_micros,
		       int64_t *granted, enum bill_why *why)
{
	if (granted != NULL)
		*granted = 0;
	if (why != NULL)
		*why = BILL_WHY_NONE;
	struct bill_resv *r = bill_resv_lookup(b, id);
	if (r == NULL)
		return SY_ERR_NOTFOUND;
	if (!bill_amount_ok(amount_micros) || used_micros < 0)
		return SY_ERR_INVAL;
	struct bill_acct *a = &b->accts[r->acct];
	enum bill_why w = BILL_WHY_NONE;
	int64_t grant = SY_MIN(amount_micros, bill_avail(a));
	if (a->suspended)
		grant = 0, w = BILL_WHY_SUSPENDED;
	else if (grant < amount_micros)
		w = BILL_WHY_FUNDS;
	/* A hold is bounded by the account's money, so it stays far below
	 * BILL_AMOUNT_MAX * 2 and this sum cannot overflow. */
	struct bill_journal_rec jr = bill_resv_rec(b, r, BILL_OP_EXTEND);
	jr.amount_micros = grant;
	jr.held_micros = r->held + grant;
	jr.used_micros = bill_next_used(r, jr.held_micros, used_micros);
	enum sy_rc rc = bill_journal(b, &jr);
	if (rc != SY_OK)
		return rc;
	r->held = jr.held_micros;
	r->used = jr.used_micros;
	a->reserved += grant;
	b->st.extends++;
	bill_acct_check(a);
	if (granted != NULL)
		*granted = grant;
	if (w == BILL_WHY_NONE)
		return SY_OK;
	b->st.extends_declined++;
	if (why != NULL)
		*why = w;
	return SY_DECLINED;
}

enum sy_rc bill_checkpoint(struct bill_book *b, bill_resv_id id, int64_t used_micros)
{
	struct bill_resv *r = bill_resv_lookup(b, id);
	if (r == NULL)
		return SY_ERR_NOTFOUND;
	if (used_micros < 0)
		return SY_ERR_INVAL;
	struct bill_journal_rec jr = bill_resv_rec(b, r, BILL_OP_CHECKPOINT);
	jr.used_micros = bill_next_used(r, r->held, used_micros);
	enum sy_rc rc = bill_journal(b, &jr);
	if (rc != SY_OK)
		return rc;
	r->used = jr.used_micros;
	return SY_OK;
}

/* Closes r (of the live id): drops its hold from the account, then
 * charges `charge`. */
static void bill_close(struct bill_book *b, bill_resv_id id, struct bill_resv *r, int64_t charge)
{
	struct bill_acct *a = &b->accts[r->acct];
	a->reserved -= r->held;
	a->open--;
	a->balance -= charge;
	a->charged += charge;
	b->st.open--;
	b->st.charged_micros += charge;
	bill_resv_free(b, (uint32_t)(id & 0xffffffffu) - 1);
	bill_acct_check(a);
}

enum sy_rc bill_commit(struct bill_book *b, bill_resv_id id, int64_t charge_micros, int64_t *charged)
{
	if (charged != NULL)
		*charged = 0;
	struct bill_resv *r = bill_resv_lookup(b, id);
	if (r == NULL)
		return SY_ERR_NOTFOUND;
	if (!bill_amount_ok(charge_micros))
		return SY_ERR_INVAL;
	struct bill_acct *a = &b->accts[r->acct];
	/* Above the hold, only what the account has left (after every other
	 * open hold) can be taken: available >= 0 is never traded for revenue. */
	int64_t charge = charge_micros;
	if (charge > r->held)
		charge = r->held + SY_MIN(charge - r->held, bill_avail(a));
	struct bill_journal_rec jr = bill_resv_rec(b, r, BILL_OP_COMMIT);
	jr.amount_micros = charge;
	enum sy_rc rc = bill_journal(b, &jr);
	if (rc == SY_DECLINED) {
		b->st.commits_dup++;
		b->st.released++;
		bill_close(b, id, r, 0);
		return SY_OK;
	}
	if (rc != SY_OK)
		return rc;
	b->st.committed++;
	b->st.shortfall_micros += charge_micros - charge;
	bill_close(b, id, r, charge);
	if (charged != NULL)
		*charged = charge;
	return SY_OK;
}

enum sy_rc bill_release(struct bill_book *b, bill_resv_id id)
{
	struct bill_resv *r = bill_resv_lookup(b, id);
	if (r == NULL)
		return SY_ERR_NOTFOUND;
	struct bill_journal_rec jr = bill_resv_rec(b, r, BILL_OP_RELEASE);
	enum sy_rc rc = bill_journal(b, &jr);
	if (rc != SY_OK)
		return rc;
	b->st.released++;
	bill_close(b, id, r, 0);
	return SY_OK;
}

enum sy_rc bill_resv_get(const struct bill_book *b, bill_resv_id id, struct bill_resv_info *out)
{
	const struct bill_resv *r = bill_resv_lookup(b, id);
	if (r == NULL)
		return SY_ERR_NOTFOUND;
	const struct bill_acct *a = &b->accts[r->acct];
	*out = (struct bill_resv_info){.account = {a->name, a->name_len},
				       .call_id = {r->call_id, r->call_id_len},
				       .held_micros = r->held,
				       .used_micros = r->used};
	return SY_OK;
}

void bill_stats(const struct bill_book *b, struct bill_stats *out)
{
	*out = b->st;
	out->resv_bytes = b->resv.slab_bytes;
}

void bill_book_check(const struct bill_book *b, struct bill_book_check *out)
{
	memset(out, 0, sizeof *out);
	int64_t *held = calloc(b->accts_n ? b->accts_n : 1, sizeof *held);
	uint32_t *open = calloc(b->accts_n ? b->accts_n : 1, sizeof *open);
	SY_ASSERT(held != NULL && open != NULL);
	for (uint32_t i = 0; i < sy_pool_used(&b->resv); i++) {
		const struct bill_resv *r = bill_resv_at(b, i);
		if (r->open) {
			held[r->acct] += r->held;
			open[r->acct]++;
			out->used_over_held += r->used > r->held;
		}
	}
	for (uint32_t i = 0; i < b->accts_n; i++) {
		const struct bill_acct *a = &b->accts[i];
		out->totals_mismatch += a->initial + a->credited - a->charged != a->balance;
		out->holds_mismatch += held[i] != a->reserved || open[i] != a->open;
		out->overdrawn += bill_avail(a) < 0;
		out->charged_micros += a->charged;
		out->decrease_micros += a->initial + a->credited - a->balance;
	}
	free(held);
	free(open);
	out->violations = out->used_over_held + out->holds_mismatch + out->totals_mismatch + out->overdrawn;
}

bool bill_conservation_ok(const struct bill_book *b, int64_t *charged_sum, int64_t *decrease_sum)
{
	struct bill_book_check c;
	bill_book_check(b, &c);
	if (charged_sum != NULL)
		*charged_sum = c.charged_micros;
	if (decrease_sum != NULL)
		*decrease_sum = c.decrease_micros;
	return c.violations == 0 && c.charged_micros == c.decrease_micros;
}

uint32_t bill_seconds_covered(int64_t money_micros, int64_t rate_per_min_micros, uint32_t first_s, uint32_t next_s)
{
	SY_ASSERT(first_s > 0 && next_s > 0);
	if (rate_per_min_micros <= 0)
		return UINT32_MAX;
	if (money_micros <= 0)
		return 0;
	money_micros = SY_MIN(money_micros, BILL_AMOUNT_MAX);
	/* ceil(B * rate / 60) <= money  <=>  B * rate <= 60 * money, for
	 * integers: the largest billable B is floor(60 * money / rate). */
	uint64_t bmax = (uint64_t)(60 * money_micros / rate_per_min_micros);
	if (bmax < first_s)
		return 0;
	uint64_t b = first_s + (bmax - first_s) / next_s * next_s;
	return b > UINT32_MAX ? UINT32_MAX : (uint32_t)b;
}
