/* test_balance.c: the account book: reserve/extend/commit/release arithmetic,
 * declines and their reasons, postpaid credit limits, a seeded randomized run
 * of interleaved reservations on one account checked against a model after
 * every operation, the seconds-covered helper, conservation, and a journal
 * that refuses (memory must not change). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/billing/balance.h"
#include "core/rng.h"

#define U BILL_MICROS_PER_UNIT

static struct bill_book *book_new(uint32_t resv_max)
{
	struct bill_book *b;
	struct bill_book_opts o = {.accounts_max = 16, .resv_max = resv_max};
	assert_int_equal(bill_book_new(&o, &b), SY_OK);
	return b;
}

static void add_acct(struct bill_book *b, const char *name, enum bill_kind k, int64_t bal, int64_t credit)
{
	struct bill_account_def d = {.name = sy_str_from(name),
				     .currency = SY_STR("USD"),
				     .kind = k,
				     .balance_micros = bal,
				     .credit_limit_micros = credit};
	assert_int_equal(bill_account_add(b, &d), SY_OK);
}

static struct bill_account_info info(struct bill_book *b, const char *name)
{
	struct bill_account_info i;
	assert_int_equal(bill_account_get(b, sy_str_from(name), &i), SY_OK);
	return i;
}

static void test_arithmetic(void **state)
{
	(void)state;
	struct bill_book *b = book_new(8);
	add_acct(b, "acme", BILL_PREPAID, 10 * U, 0);
	bill_resv_id r1, r2;
	enum bill_why why;
	assert_int_equal(bill_reserve(b, SY_STR("acme"), SY_STR("c1"), 3 * U, 3 * U, &r1, &why), SY_OK);
	assert_int_equal(why, BILL_WHY_NONE);
	assert_int_equal(info(b, "acme").available_micros, 7 * U);
	assert_int_equal(bill_reserve(b, SY_STR("acme"), SY_STR("c2"), 5 * U, 5 * U, &r2, NULL), SY_OK);
	assert_int_equal(info(b, "acme").available_micros, 2 * U);
	/* Extend asks 3, gets the 2 left: declined with a partial grant. */
	int64_t g = -1;
	assert_int_equal(bill_extend(b, r1, 3 * U, 2 * U, &g, &why), SY_DECLINED);
	assert_int_equal(g, 2 * U);
	assert_int_equal(why, BILL_WHY_FUNDS);
	struct bill_resv_info ri;
	assert_int_equal(bill_resv_get(b, r1, &ri), SY_OK);
	assert_int_equal(ri.held_micros, 5 * U);
	assert_int_equal(ri.used_micros, 2 * U);
	assert_true(sy_str_eq(ri.call_id, SY_STR("c1")));
	assert_int_equal(info(b, "acme").available_micros, 0);
	/* A third call cannot even get a micro. */
	bill_resv_id r3;
	assert_int_equal(bill_reserve(b, SY_STR("acme"), SY_STR("c3"), 1, 1, &r3, &why), SY_DECLINED);
	assert_int_equal(why, BILL_WHY_FUNDS);
	assert_int_equal(r3, 0);
	/* Commit 4.5 of c1's 5 held: 0.5 goes back. */
	int64_t ch = 0;
	assert_int_equal(bill_commit(b, r1, 4500000, &ch), SY_OK);
	assert_int_equal(ch, 4500000);
	struct bill_account_info i = info(b, "acme");
	assert_int_equal(i.balance_micros, 5500000);
	assert_int_equal(i.reserved_micros, 5 * U);
	assert_int_equal(i.available_micros, 500000);
	assert_int_equal(bill_release(b, r2), SY_OK);
	i = info(b, "acme");
	assert_int_equal(i.balance_micros, 5500000);
	assert_int_equal(i.reserved_micros, 0);
	assert_int_equal(i.open_resv, 0);
	/* Stale ids: committed and released handles are refused. */
	assert_int_equal(bill_commit(b, r1, 1, NULL), SY_ERR_NOTFOUND);
	assert_int_equal(bill_release(b, r2), SY_ERR_NOTFOUND);
	assert_int_equal(bill_extend(b, r2, 1, 0, NULL, NULL), SY_ERR_NOTFOUND);
	assert_int_equal(bill_checkpoint(b, 0, 0), SY_ERR_NOTFOUND);
	struct bill_stats st;
	bill_stats(b, &st);
	assert_int_equal(st.reserved, 2);
	assert_int_equal(st.declined, 1);
	assert_int_equal(st.declined_why[BILL_WHY_FUNDS], 1);
	assert_int_equal(st.committed, 1);
	assert_int_equal(st.released, 1);
	assert_int_equal(st.charged_micros, 4500000);
	assert_int_equal(st.open, 0);
	assert_true(bill_conservation_ok(b, NULL, NULL));
	bill_book_free(b);
}

static void test_reserve_min_and_declines(void **state)
{
	(void)state;
	struct bill_book *b = book_new(4);
	add_acct(b, "a", BILL_PREPAID, 100, 0);
	bill_resv_id r;
	enum bill_why why;
	/* want 150, min 80: gets the 100 there is. */
	assert_int_equal(bill_reserve(b, SY_STR("a"), SY_STR("x"), 150, 80, &r, &why), SY_OK);
	struct bill_resv_info ri;
	assert_int_equal(bill_resv_get(b, r, &ri), SY_OK);
	assert_int_equal(ri.held_micros, 100);
	assert_int_equal(bill_release(b, r), SY_OK);
	assert_int_equal(bill_reserve(b, SY_STR("a"), SY_STR("x"), 150, 101, &r, &why), SY_DECLINED);
	assert_int_equal(why, BILL_WHY_FUNDS);
	assert_int_equal(bill_why_sip_status(why), 402);
	assert_int_equal(bill_reserve(b, SY_STR("nobody"), SY_STR("x"), 1, 1, &r, &why), SY_DECLINED);
	assert_int_equal(why, BILL_WHY_UNKNOWN);
	assert_int_equal(bill_why_sip_status(why), 403);
	assert_string_equal(bill_why_str(why), "unknown account");
	assert_int_equal(bill_account_suspend(b, SY_STR("a"), true), SY_OK);
	assert_int_equal(bill_reserve(b, SY_STR("a"), SY_STR("x"), 1, 1, &r, &why), SY_DECLINED);
	assert_int_equal(why, BILL_WHY_SUSPENDED);
	assert_int_equal(bill_account_suspend(b, SY_STR("a"), false), SY_OK);
	/* Bad arguments are values, not crashes. */
	char longid[BILL_CALLID_MAX + 1];
	memset(longid, 'z', sizeof longid);
	const struct {
		struct sy_str id;
		int64_t want, min;
	} bad[] = {
	    {SY_STR("x"), -1, 0}, {SY_STR("x"), 5, 6},
	    {SY_STR("x"), 5, -1}, {SY_STR("x"), BILL_AMOUNT_MAX + 1, 0},
	    {SY_STR_NULL, 5, 5},  {{longid, BILL_CALLID_MAX}, 5, 5},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(bad); i++)
		assert_int_equal(bill_reserve(b, SY_STR("a"), bad[i].id, bad[i].want, bad[i].min, &r, NULL),
				 SY_ERR_INVAL);
	/* Pool of 4: the fifth open reservation is an overload, not a decline. */
	bill_resv_id ids[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(bill_reserve(b, SY_STR("a"), SY_STR("p"), 1, 1, &ids[i], NULL), SY_OK);
	assert_int_equal(bill_reserve(b, SY_STR("a"), SY_STR("p"), 1, 1, &r, NULL), SY_ERR_FULL);
	assert_int_equal(bill_release(b, ids[2]), SY_OK);
	assert_int_equal(bill_reserve(b, SY_STR("a"), SY_STR("p"), 1, 1, &r, NULL), SY_OK);
	assert_int_not_equal(r, ids[2]); /* same slot, new generation */
	bill_book_free(b);
}

static void test_account_validation(void **state)
{
	(void)state;
	struct bill_book *b = book_new(4);
	const struct bill_account_def bad[] = {
	    {.name = SY_STR(""), .currency = SY_STR("USD"), .kind = BILL_PREPAID},
	    {.name = SY_STR("a"), .currency = SY_STR(""), .kind = BILL_PREPAID},
	    {.name = SY_STR("a"), .currency = SY_STR("USD"), .kind = 0},
	    {.name = SY_STR("a"), .currency = SY_STR("USD"), .kind = BILL_PREPAID, .balance_micros = -1},
	    {.name = SY_STR("a"), .currency = SY_STR("USD"), .kind = BILL_PREPAID, .credit_limit_micros = 5},
	    {.name = SY_STR("a"),
	     .currency = SY_STR("USD"),
	     .kind = BILL_POSTPAID,
	     .balance_micros = -6,
	     .credit_limit_micros = 5},
	    {.name = SY_STR("a"),
	     .currency = SY_STR("USD"),
	     .kind = BILL_PREPAID,
	     .balance_micros = 10,
	     .restore = true,
	     .initial_micros = 10,
	     .charged_micros = 1},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(bad); i++)
		assert_int_equal(bill_account_add(b, &bad[i]), SY_ERR_INVAL);
	add_acct(b, "a", BILL_PREPAID, 0, 0);
	struct bill_account_def dup = {.name = SY_STR("a"), .currency = SY_STR("EUR"), .kind = BILL_PREPAID};
	assert_int_equal(bill_account_add(b, &dup), SY_ERR_STATE);
	assert_int_equal(bill_account_count(b), 1);
	assert_int_equal(bill_account_topup(b, SY_STR("a"), 0, SY_STR("p")), SY_ERR_INVAL);
	assert_int_equal(bill_account_topup(b, SY_STR("zz"), 5, SY_STR("p")), SY_ERR_NOTFOUND);
	bill_book_free(b);
}

static void test_postpaid_credit_limit(void **state)
{
	(void)state;
	struct bill_book *b = book_new(8);
	add_acct(b, "corp", BILL_POSTPAID, 0, 10 * U);
	bill_resv_id r1, r2;
	assert_int_equal(bill_reserve(b, SY_STR("corp"), SY_STR("a"), 6 * U, 6 * U, &r1, NULL), SY_OK);
	enum bill_why why;
	assert_int_equal(bill_reserve(b, SY_STR("corp"), SY_STR("b"), 6 * U, 6 * U, &r2, &why), SY_DECLINED);
	assert_int_equal(why, BILL_WHY_FUNDS);
	assert_int_equal(bill_reserve(b, SY_STR("corp"), SY_STR("b"), 4 * U, 4 * U, &r2, NULL), SY_OK);
	assert_int_equal(bill_commit(b, r1, 6 * U, NULL), SY_OK);
	assert_int_equal(bill_commit(b, r2, 3 * U, NULL), SY_OK);
	struct bill_account_info i = info(b, "corp");
	assert_int_equal(i.balance_micros, -9 * U); /* owes 9 */
	assert_int_equal(i.available_micros, 1 * U);
	/* Commit above the hold takes the excess only up to the limit. */
	assert_int_equal(bill_reserve(b, SY_STR("corp"), SY_STR("c"), 500000, 500000, &r1, NULL), SY_OK);
	int64_t ch;
	assert_int_equal(bill_commit(b, r1, 2 * U, &ch), SY_OK);
	assert_int_equal(ch, 1 * U);
	i = info(b, "corp");
	assert_int_equal(i.balance_micros, -10 * U);
	assert_int_equal(i.available_micros, 0);
	struct bill_stats st;
	bill_stats(b, &st);
	assert_int_equal(st.shortfall_micros, 1 * U);
	/* Paying the bill restores headroom. */
	assert_int_equal(bill_account_topup(b, SY_STR("corp"), 10 * U, SY_STR("invoice-1")), SY_OK);
	assert_int_equal(info(b, "corp").available_micros, 10 * U);
	int64_t c, d;
	assert_true(bill_conservation_ok(b, &c, &d));
	assert_int_equal(c, 10 * U);
	assert_int_equal(d, 10 * U);
	bill_book_free(b);
}

/* ---- randomized interleaving on one account against a model ---- */

#define RND_SLOTS 64

struct model {
	bill_resv_id id[RND_SLOTS];
	int64_t held[RND_SLOTS], used[RND_SLOTS];
	int64_t balance, charged, credited, initial;
};

static int64_t model_reserved(const struct model *m)
{
	int64_t s = 0;
	for (int i = 0; i < RND_SLOTS; i++)
		s += m->id[i] ? m->held[i] : 0;
	return s;
}

static void model_check(struct bill_book *b, const struct model *m, int64_t credit)
{
	struct bill_account_info i = info(b, "one");
	assert_int_equal(i.balance_micros, m->balance);
	assert_int_equal(i.reserved_micros, model_reserved(m));
	assert_true(i.available_micros >= 0);
	assert_true(i.balance_micros >= -credit);
	assert_int_equal(i.available_micros, m->balance + credit - model_reserved(m));
	assert_int_equal(i.charged_micros, m->charged);
	assert_int_equal(i.credited_micros, m->credited);
	for (int k = 0; k < RND_SLOTS; k++) {
		struct bill_resv_info ri;
		if (m->id[k] == 0)
			continue;
		assert_int_equal(bill_resv_get(b, m->id[k], &ri), SY_OK);
		assert_int_equal(ri.held_micros, m->held[k]);
		assert_int_equal(ri.used_micros, m->used[k]);
	}
}

static void rnd_step(struct bill_book *b, struct model *m, struct sy_rng *rng, int64_t credit, int n)
{
	/* A third of the steps open a call in a free slot, the rest act on an
	 * open one, so the account stays under pressure from many holds. */
	bool open_new = sy_rng_below(rng, 3) == 0;
	int s = (int)sy_rng_below(rng, RND_SLOTS);
	for (int k = 0; k < RND_SLOTS && (m->id[s] == 0) != open_new; k++)
		s = (s + 1) % RND_SLOTS;
	int64_t avail = m->balance + credit - model_reserved(m);
	int64_t amt = (int64_t)sy_rng_below(rng, 3 * U);
	if (sy_rng_below(rng, 12) == 0) { /* top-ups keep the run from starving */
		assert_int_equal(bill_account_topup(b, SY_STR("one"), amt + 1, SY_STR("t")), SY_OK);
		m->balance += amt + 1;
		m->credited += amt + 1;
		return;
	}
	if (m->id[s] == 0) {
		char cid[32];
		snprintf(cid, sizeof cid, "call-%d", n);
		enum sy_rc rc = bill_reserve(b, SY_STR("one"), sy_str_from(cid), amt, amt, &m->id[s], NULL);
		assert_int_equal(rc, amt <= avail ? SY_OK : SY_DECLINED);
		m->held[s] = rc == SY_OK ? amt : 0;
		m->used[s] = 0;
		return;
	}
	switch (sy_rng_below(rng, 8)) {
	case 0:
	case 1:
	case 2: { /* extend, with a checkpoint somewhere in the hold */
		int64_t g = -1, want_used = (int64_t)sy_rng_below(rng, (uint64_t)m->held[s] + 1);
		enum sy_rc rc = bill_extend(b, m->id[s], amt, want_used, &g, NULL);
		assert_int_equal(g, SY_MIN(amt, avail));
		assert_int_equal(rc, amt <= avail ? SY_OK : SY_DECLINED);
		m->held[s] += g;
		m->used[s] = SY_MAX(m->used[s], want_used);
		return;
	}
	case 3:
	case 4:
	case 5: { /* commit somewhere around the hold, sometimes above it */
		int64_t want = (int64_t)sy_rng_below(rng, (uint64_t)m->held[s] + U);
		int64_t exp = want <= m->held[s] ? want : m->held[s] + SY_MIN(want - m->held[s], avail);
		int64_t ch = -1;
		assert_int_equal(bill_commit(b, m->id[s], want, &ch), SY_OK);
		assert_int_equal(ch, exp);
		m->balance -= exp;
		m->charged += exp;
		m->id[s] = 0;
		return;
	}
	case 6:
		assert_int_equal(bill_release(b, m->id[s]), SY_OK);
		m->id[s] = 0;
		return;
	default:
		assert_int_equal(bill_checkpoint(b, m->id[s], m->used[s] + 1), SY_OK);
		m->used[s] = SY_MIN(m->used[s] + 1, m->held[s]);
	}
}

static void rnd_run(uint64_t seed, enum bill_kind kind, int64_t credit)
{
	struct bill_book *b = book_new(RND_SLOTS);
	struct model m = {.balance = 20 * U, .initial = 20 * U};
	add_acct(b, "one", kind, m.balance, credit);
	struct sy_rng rng;
	sy_rng_init(&rng, seed);
	for (int n = 0; n < 20000; n++) {
		rnd_step(b, &m, &rng, credit, n);
		model_check(b, &m, credit);
		if (n % 1000 == 0)
			assert_true(bill_conservation_ok(b, NULL, NULL));
	}
	int64_t c, d;
	assert_true(bill_conservation_ok(b, &c, &d));
	assert_int_equal(c, m.charged);
	assert_int_equal(d, m.initial + m.credited - m.balance);
	struct bill_stats st;
	bill_stats(b, &st);
	/* The run must really press the limit, or it proves little. */
	if (st.declined < 1000 || st.extends_declined < 500 || st.committed < 1000)
		fail_msg("seed=%llu: too little pressure: declined %llu, extends declined %llu, committed %llu",
			 (unsigned long long)seed, (unsigned long long)st.declined,
			 (unsigned long long)st.extends_declined, (unsigned long long)st.committed);
	bill_book_free(b);
}

static void test_random_prepaid(void **state)
{
	(void)state;
	const uint64_t seeds[] = {1, 42, 20260315};
	for (size_t i = 0; i < SY_ARRAY_LEN(seeds); i++)
		rnd_run(seeds[i], BILL_PREPAID, 0);
}

static void test_random_postpaid(void **state)
{
	(void)state;
	rnd_run(7, BILL_POSTPAID, 15 * U);
}

/* ---- seconds covered ---- */

/* The cost rule the helper documents, written out independently. */
static int64_t cost_of(uint64_t d, int64_t rate, uint32_t first, uint32_t next)
{
	if (d == 0)
		return 0;
	uint64_t billed = d <= first ? first : first + (d - first + next - 1) / next * next;
	return ((int64_t)billed * rate + 59) / 60;
}

static void test_seconds_covered_table(void **state)
{
	(void)state;
	const struct {
		int64_t money, rate;
		uint32_t first, next, want;
	} t[] = {
	    /* 1.00/min: 1 s costs 16,667 micros (rounded up). */
	    {1 * U, 1 * U, 60, 60, 60},
	    {999999, 1 * U, 60, 60, 0},
	    {1999999, 1 * U, 60, 60, 60},
	    {2 * U, 1 * U, 60, 60, 120},
	    {1 * U, 1 * U, 30, 6, 60},
	    {499999, 1 * U, 30, 6, 0},
	    {500000, 1 * U, 30, 6, 30},
	    {600000, 1 * U, 30, 6, 36},
	    {699999, 1 * U, 30, 6, 36},
	    {700000, 1 * U, 30, 6, 42},
	    {1 * U, 1 * U, 1, 1, 60},
	    {16666, 1 * U, 1, 1, 0},
	    {16667, 1 * U, 1, 1, 1},
	    {33333, 1 * U, 1, 1, 1},
	    {33334, 1 * U, 1, 1, 2},
	    /* 0.0123/min for 1 unit: 4878 s at 1/1 (4878 * 12300 / 60 = 999990). */
	    {1 * U, 12300, 1, 1, 4878},
	    {1 * U, 12300, 60, 60, 4860},
	    {1 * U, 12300, 30, 6, 4878},
	    {0, 1 * U, 1, 1, 0},
	    {-5, 1 * U, 1, 1, 0},
	    {5, 0, 60, 60, UINT32_MAX},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(t); i++) {
		uint32_t s = bill_seconds_covered(t[i].money, t[i].rate, t[i].first, t[i].next);
		if (s != t[i].want)
			fail_msg("row %zu: got %u want %u", i, s, t[i].want);
	}
}

/* For every money value on a grid, the answer is affordable and the next
 * increment is not: the cut-off is within one increment of running out. */
static void test_seconds_covered_property(void **state)
{
	(void)state;
	const int64_t rates[] = {1, 7, 12300, 1 * U, 3333333, 60 * U};
	const uint32_t inc[][2] = {{60, 60}, {30, 6}, {1, 1}, {45, 15}};
	struct sy_rng rng;
	sy_rng_init(&rng, 99);
	for (size_t r = 0; r < SY_ARRAY_LEN(rates); r++)
		for (size_t k = 0; k < SY_ARRAY_LEN(inc); k++)
			for (int n = 0; n < 500; n++) {
				int64_t money = (int64_t)sy_rng_below(&rng, 20 * U);
				uint32_t f = inc[k][0], nx = inc[k][1];
				uint32_t s = bill_seconds_covered(money, rates[r], f, nx);
				assert_true(cost_of(s, rates[r], f, nx) <= money);
				uint64_t more = s == 0 ? f : (uint64_t)s + nx;
				assert_true(cost_of(more, rates[r], f, nx) > money);
				assert_true(s == 0 || s == f || (s - f) % nx == 0);
			}
}

/* ---- a journal that refuses ---- */

struct fake_journal {
	int calls;
	int fail_at; /* the call number that fails, 0: never */
	enum sy_rc fail_rc;
	enum bill_op last;
};

static enum sy_rc fake_write(void *arg, const struct bill_journal_rec *r)
{
	struct fake_journal *f = arg;
	f->calls++;
	f->last = r->op;
	return f->calls == f->fail_at ? f->fail_rc : SY_OK;
}

static void test_journal_refusal(void **state)
{
	(void)state;
	struct bill_book *b = book_new(8);
	struct fake_journal f = {0};
	struct bill_journal j = {fake_write, &f};
	bill_book_set_journal(b, &j);
	add_acct(b, "a", BILL_PREPAID, 10 * U, 0);
	assert_int_equal(f.last, BILL_OP_ACCOUNT);
	bill_resv_id r;
	f.fail_at = f.calls + 1, f.fail_rc = SY_ERR_IO;
	assert_int_equal(bill_reserve(b, SY_STR("a"), SY_STR("c"), U, U, &r, NULL), SY_ERR_IO);
	assert_int_equal(info(b, "a").reserved_micros, 0);
	assert_int_equal(bill_reserve(b, SY_STR("a"), SY_STR("c"), U, U, &r, NULL), SY_OK);
	f.fail_at = f.calls + 1;
	assert_int_equal(bill_extend(b, r, U, 100, NULL, NULL), SY_ERR_IO);
	assert_int_equal(info(b, "a").reserved_micros, U);
	f.fail_at = f.calls + 1;
	assert_int_equal(bill_commit(b, r, U, NULL), SY_ERR_IO);
	assert_int_equal(info(b, "a").balance_micros, 10 * U);
	assert_int_equal(info(b, "a").open_resv, 1);
	/* "Already charged": the hold goes, the money stays. */
	f.fail_at = f.calls + 1, f.fail_rc = SY_DECLINED;
	int64_t ch = -1;
	assert_int_equal(bill_commit(b, r, U, &ch), SY_OK);
	assert_int_equal(ch, 0);
	struct bill_account_info i = info(b, "a");
	assert_int_equal(i.balance_micros, 10 * U);
	assert_int_equal(i.open_resv, 0);
	assert_int_equal(i.reserved_micros, 0);
	struct bill_stats st;
	bill_stats(b, &st);
	assert_int_equal(st.commits_dup, 1);
	assert_true(bill_conservation_ok(b, NULL, NULL));
	bill_book_free(b);
}

/* A book allowed a million holds allocates their slots only as they open
 * (slabs), hands out recycled slots first, and still refuses past the bound. */
static void test_resv_pool_grows(void **state)
{
	(void)state;
	struct bill_book *b = book_new(1000000);
	add_acct(b, "a", BILL_PREPAID, 1000000 * U, 0);
	struct bill_stats st;
	bill_stats(b, &st);
	assert_int_equal(st.resv_bytes, 0);
	static bill_resv_id id[5000];
	char cid[32];
	for (uint32_t i = 0; i < 5000; i++) {
		snprintf(cid, sizeof cid, "c%u", i);
		assert_int_equal(bill_reserve(b, SY_STR("a"), sy_str_from(cid), 1, 1, &id[i], NULL), SY_OK);
		assert_int_equal(id[i] & 0xffffffffu, i + 1); /* fresh slots in index order */
	}
	bill_stats(b, &st);
	assert_true(st.resv_bytes > 0 && st.resv_bytes < 5000u * 256 + 256 * 1024);
	assert_int_equal(bill_release(b, id[17]), SY_OK);
	assert_int_equal(bill_release(b, id[4000]), SY_OK);
	bill_resv_id r;
	assert_int_equal(bill_reserve(b, SY_STR("a"), SY_STR("x1"), 1, 1, &r, NULL), SY_OK);
	assert_int_equal(r & 0xffffffffu, 4001); /* the last freed first */
	assert_int_equal(bill_release(b, id[17]), SY_ERR_NOTFOUND); /* stale */
	assert_true(bill_conservation_ok(b, NULL, NULL));
	bill_book_free(b);
	b = book_new(3);
	add_acct(b, "a", BILL_PREPAID, 10 * U, 0);
	for (uint32_t i = 0; i < 3; i++) {
		snprintf(cid, sizeof cid, "c%u", i);
		assert_int_equal(bill_reserve(b, SY_STR("a"), sy_str_from(cid), 1, 1, &id[i], NULL), SY_OK);
	}
	assert_int_equal(bill_reserve(b, SY_STR("a"), SY_STR("c3"), 1, 1, &r, NULL), SY_ERR_FULL);
	assert_int_equal(bill_release(b, id[1]), SY_OK);
	assert_int_equal(bill_reserve(b, SY_STR("a"), SY_STR("c3"), 1, 1, &r, NULL), SY_OK);
	assert_int_equal(r & 0xffffffffu, 2);
	bill_book_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_arithmetic),
	    cmocka_unit_test(test_reserve_min_and_declines),
	    cmocka_unit_test(test_account_validation),
	    cmocka_unit_test(test_postpaid_credit_limit),
	    cmocka_unit_test(test_random_prepaid),
	    cmocka_unit_test(test_random_postpaid),
	    cmocka_unit_test(test_seconds_covered_table),
	    cmocka_unit_test(test_seconds_covered_property),
	    cmocka_unit_test(test_journal_refusal),
	    cmocka_unit_test(test_resv_pool_grows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
