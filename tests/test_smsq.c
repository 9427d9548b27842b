/* test_smsq.c: the durable SMS queue: group commit and the order and rcs of
 * done callbacks, a simulated crash (pending batch dropped) and recovery of
 * exactly the committed live messages with their fields, state rules, commit
 * failure and retry, a 100k round trip, and message id text; the segment
 * log: the record codec, a torn tail cut, corruption refused, compaction
 * bounding the disk, sync counts per mode, a failed fdatasync repaired, and
 * power loss (unsynced bytes dropped) with sync_full and without. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/live/live.h"
#include "tests/faultfs.h"
#include "core/store/smsq.h"
#include "core/store/smsq_log.h"

#define T0_NS 1773568800000000000ull /* 2026-03-15T10:00:00Z */

struct done_rec {
	enum smsq_op op;
	uint64_t id, token;
	enum sy_rc rc;
};

struct tctx {
	char dir[64];
	char path[128];
	struct done_rec *recs;
	uint32_t n, cap;
	struct smsq *q;		/* for re-entrant calls from the callback */
	bool mark_on_put;	/* callback marks each durable put ENROUTE */
	struct smsq_msg *seen;	/* recovery visitor output */
	uint8_t (*bodies)[128]; /* copies of visited bodies (first 128 bytes) */
	uint32_t seen_n, seen_cap;
};

static void on_done(void *arg, enum smsq_op op, uint64_t id, uint64_t token, enum sy_rc rc)
{
	struct tctx *t = arg;
	SY_ASSERT(t->n < t->cap);
	t->recs[t->n++] = (struct done_rec){op, id, token, rc};
	if (t->mark_on_put && op == SMSQ_OP_PUT && rc == SY_OK) {
		struct smsq_update u = {.state = SMSQ_ENROUTE, .set = SMSQ_SET_ATTEMPTS, .attempts = 1};
		SY_ASSERT(smsq_mark(t->q, id, &u, token + 1000000) == SY_OK);
	}
}

static enum sy_rc visit(void *arg, const struct smsq_msg *m)
{
	struct tctx *t = arg;
	SY_ASSERT(t->seen_n < t->seen_cap);
	t->seen[t->seen_n] = *m;
	memset(t->bodies[t->seen_n], 0, sizeof t->bodies[0]);
	memcpy(t->bodies[t->seen_n], m->body, SY_MIN(m->body_len, sizeof t->bodies[0]));
	t->seen[t->seen_n].body = t->bodies[t->seen_n];
	t->seen_n++;
	return SY_OK;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	struct tctx *t = calloc(1, sizeof *t);
	if (t == NULL)
		return -1;
	snprintf(t->dir, sizeof t->dir, "/tmp/sy_test_smsq.XXXXXX");
	if (mkdtemp(t->dir) == NULL)
		return -1;
	snprintf(t->path, sizeof t->path, "%s/q", t->dir);
	t->cap = 300000;
	t->recs = calloc(t->cap, sizeof *t->recs);
	t->seen_cap = 110000;
	t->seen = calloc(t->seen_cap, sizeof *t->seen);
	t->bodies = calloc(t->seen_cap, sizeof *t->bodies);
	*state = t;
	return t->recs && t->seen && t->bodies ? 0 : -1;
}

static int teardown(void **state)
{
	struct tctx *t = *state;
	nftw(t->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(t->recs);
	free(t->seen);
	free(t->bodies);
	free(t);
	return 0;
}

static struct smsq *open_q(struct tctx *t, uint32_t batch_max)
{
	char err[SMSQ_ERRMSG_MAX];
	struct smsq_opts o = {.on_done = on_done, .arg = t, .batch_max = batch_max, .err = err, .err_len = sizeof err};
	struct smsq *q = NULL;
	enum sy_rc r = smsq_open(sy_live_files(), t->path, &o, &q);
	if (r != SY_OK)
		fprintf(stderr, "smsq_open: %s\n", err);
	assert_int_equal(r, SY_OK);
	t->q = q;
	return q;
}

/* A deterministic message for id; body into buf (len varies with id). */
static void gen_msg(uint64_t id, struct smsq_msg *m, uint8_t *buf)
{
	char tmp[32];
	memset(m, 0, sizeof *m);
	m->id = id;
	snprintf(tmp, sizeof tmp, "acct%llu", (unsigned long long)(id % 3));
	SMSQ_SET_STR(m, system_id, sy_str_from(tmp));
	m->src = (struct smsq_addr){.ton = 5, .npi = 0};
	snprintf(m->src.digits, sizeof m->src.digits, "Brand%llu", (unsigned long long)(id % 7));
	m->dst = (struct smsq_addr){.ton = 1, .npi = 1};
	snprintf(m->dst.digits, sizeof m->dst.digits, "4479%08llu", (unsigned long long)id);
	m->data_coding = id % 2 ? 0x08 : 0x00;
	m->esm_class = id % 4 == 0 ? 0x40 : 0;
	m->registered_delivery = (uint8_t)(id % 2);
	m->submit_ns = T0_NS + id * SY_NS_PER_MS;
	m->expiry_ns = m->submit_ns + 3600 * SY_NS_PER_S;
	m->body_len = (uint32_t)(id % 100);
	for (uint32_t i = 0; i < m->body_len; i++)
		buf[i] = (uint8_t)(id * 31 + i); /* binary, with NULs */
	m->body = buf;
	if (id % 4 == 0)
		m->seg_ref = (uint16_t)(id & 0xffff), m->seg_total = 3, m->seg_seq = (uint8_t)(id % 3 + 1);
	/* Live messages put after a restart carry their retry state. */
	m->attempts = (uint32_t)(id % 3);
	m->next_attempt_ns = id % 3 ? m->submit_ns + id : 0;
	if (id % 2 == 0)
		snprintf(m->carrier, sizeof m->carrier, "carrier-%llu", (unsigned long long)(id % 4));
	if (id % 6 == 0)
		snprintf(m->upstream_id, sizeof m->upstream_id, "U%llu", (unsigned long long)id);
	m->dlr_pending = id % 5 == 0;
	m->error_code = (uint32_t)(id % 7);
	m->done_ns = id % 9 == 0 ? m->submit_ns + 1 : 0;
	m->state = id % 11 == 0 ? SMSQ_ENROUTE : SMSQ_ACCEPTED;
}

static void assert_msg_eq(const struct smsq_msg *a, const struct smsq_msg *b)
{
	assert_int_equal(a->id, b->id);
	assert_string_equal(a->system_id, b->system_id);
	assert_int_equal(a->src.ton, b->src.ton);
	assert_int_equal(a->src.npi, b->src.npi);
	assert_string_equal(a->src.digits, b->src.digits);
	assert_int_equal(a->dst.ton, b->dst.ton);
	assert_string_equal(a->dst.digits, b->dst.digits);
	assert_int_equal(a->data_coding, b->data_coding);
	assert_int_equal(a->esm_class, b->esm_class);
	assert_int_equal(a->registered_delivery, b->registered_delivery);
	assert_int_equal(a->submit_ns, b->submit_ns);
	assert_int_equal(a->expiry_ns, b->expiry_ns);
	assert_int_equal(a->body_len, b->body_len);
	if (a->body_len > 0)
		assert_memory_equal(a->body, b->body, SY_MIN(a->body_len, 128));
	assert_int_equal(a->seg_ref, b->seg_ref);
	assert_int_equal(a->seg_total, b->seg_total);
	assert_int_equal(a->seg_seq, b->seg_seq);
	assert_string_equal(a->carrier, b->carrier);
	assert_int_equal(a->state, b->state);
	assert_int_equal(a->attempts, b->attempts);
	assert_int_equal(a->next_attempt_ns, b->next_attempt_ns);
	assert_string_equal(a->upstream_id, b->upstream_id);
	assert_int_equal(a->dlr_pending, b->dlr_pending);
	assert_int_equal(a->error_code, b->error_code);
	assert_int_equal(a->done_ns, b->done_ns);
}

static void put_id(struct smsq *q, uint64_t id, uint64_t token)
{
	struct smsq_msg m;
	uint8_t buf[128];
	gen_msg(id, &m, buf);
	assert_int_equal(smsq_put(q, &m, token), SY_OK);
}

static void test_group_commit_order(void **state)
{
	struct tctx *t = *state;
	struct smsq *q = open_q(t, 8);
	for (uint64_t id = 1; id <= 5; id++)
		put_id(q, id, 100 + id);
	assert_int_equal(t->n, 0); /* nothing durable, nothing reported */
	assert_int_equal(smsq_pending(q), 5);
	assert_int_equal(smsq_commit(q), SY_OK);
	assert_int_equal(t->n, 5);
	for (uint32_t i = 0; i < 5; i++) {
		assert_int_equal(t->recs[i].op, SMSQ_OP_PUT);
		assert_int_equal(t->recs[i].id, i + 1);
		assert_int_equal(t->recs[i].token, 101 + i);
		assert_int_equal(t->recs[i].rc, SY_OK);
	}
	/* 20 more with a batch of 8: full batches commit inside put. */
	for (uint64_t id = 6; id <= 25; id++) {
		put_id(q, id, 100 + id);
		assert_int_equal(t->n, 5 + (id - 5) / 8 * 8);
	}
	assert_int_equal(smsq_pending(q), 4);
	assert_int_equal(smsq_commit(q), SY_OK);
	assert_int_equal(smsq_commit(q), SY_OK); /* empty: nothing happens */
	assert_int_equal(t->n, 25);
	for (uint32_t i = 0; i < 25; i++)
		assert_int_equal(t->recs[i].token, 101 + i);
	struct smsq_stats st;
	smsq_stats(q, &st);
	assert_int_equal(st.puts, 25);
	assert_int_equal(st.commits, 4);
	assert_int_equal(st.errors, 0);
	assert_int_equal(st.pending, 0);
	assert_int_equal(smsq_close(q), SY_OK);
}

static void mark(struct smsq *q, uint64_t id, enum smsq_state s, uint32_t set, uint64_t token)
{
	struct smsq_update u = {.state = s,
				.set = set,
				.attempts = 2,
				.next_attempt_ns = T0_NS + 77,
				.dlr_pending = true,
				.error_code = 0x45,
				.done_ns = T0_NS + 999};
	snprintf(u.carrier, sizeof u.carrier, "tier1");
	snprintf(u.upstream_id, sizeof u.upstream_id, "up-%llu", (unsigned long long)id);
	assert_int_equal(smsq_mark(q, id, &u, token), SY_OK);
}

/* Puts 1..10 and commits them with some marks, then leaves more puts and
 * marks pending and "crashes": only the committed state must come back. */
static void test_crash_recover(void **state)
{
	struct tctx *t = *state;
	struct smsq *q = open_q(t, 0);
	for (uint64_t id = 1; id <= 10; id++)
		put_id(q, id, id);
	mark(q, 3, SMSQ_DELIVERED, SMSQ_SET_DONE, 0); /* row removed: no receipt owed */
	mark(q, 4, SMSQ_ENROUTE, SMSQ_SET_ATTEMPTS | SMSQ_SET_CARRIER | SMSQ_SET_UPSTREAM_ID, 0);
	mark(q, 5, SMSQ_UNDELIVERABLE, SMSQ_SET_DLR_PENDING | SMSQ_SET_ERROR | SMSQ_SET_DONE, 0);
	mark(q, 7, SMSQ_ACCEPTED, SMSQ_SET_ATTEMPTS | SMSQ_SET_NEXT_ATTEMPT, 0); /* retry later */
	assert_int_equal(smsq_commit(q), SY_OK);
	assert_int_equal(t->n, 14);
	for (uint64_t id = 11; id <= 15; id++)
		put_id(q, id, id);
	mark(q, 6, SMSQ_EXPIRED, SMSQ_SET_DLR_PENDING, 0);
	mark(q, 8, SMSQ_ENROUTE, SMSQ_SET_ATTEMPTS, 0);
	smsq_abandon(q); /* kill -9: the pending batch never reached the file */
	assert_int_equal(t->n, 14);

	t->n = 0;
	q = open_q(t, 0);
	assert_int_equal(smsq_last_id(q), 10);
	assert_int_equal(smsq_recover(q, visit, t), SY_OK);
	static const uint64_t want[] = {1, 2, 4, 6, 7, 8, 9, 10};
	assert_int_equal(t->seen_n, SY_ARRAY_LEN(want));
	for (uint32_t i = 0; i < SY_ARRAY_LEN(want); i++) {
		struct smsq_msg m;
		uint8_t buf[128];
		gen_msg(want[i], &m, buf);
		if (want[i] == 4) {
			m.state = SMSQ_ENROUTE, m.attempts = 2;
			snprintf(m.carrier, sizeof m.carrier, "tier1");
			snprintf(m.upstream_id, sizeof m.upstream_id, "up-4");
		}
		if (want[i] == 7)
			m.attempts = 2, m.next_attempt_ns = T0_NS + 77;
		assert_msg_eq(&t->seen[i], &m);
	}
	/* The final message with a receipt owed comes back through the other
	 * walk only, with its final fields. */
	t->seen_n = 0;
	assert_int_equal(smsq_recover_dlr(q, visit, t), SY_OK);
	assert_int_equal(t->seen_n, 1);
	assert_int_equal(t->seen[0].id, 5);
	assert_int_equal(t->seen[0].state, SMSQ_UNDELIVERABLE);
	assert_true(t->seen[0].dlr_pending);
	assert_int_equal(t->seen[0].error_code, 0x45);
	assert_int_equal(t->seen[0].done_ns, T0_NS + 999);
	assert_int_equal(t->n, 0);
	assert_int_equal(smsq_close(q), SY_OK);
}

static void expect_rc(struct tctx *t, uint32_t k, enum smsq_op op, uint64_t id, enum sy_rc rc)
{
	assert_true(k < t->n);
	assert_int_equal(t->recs[k].op, op);
	assert_int_equal(t->recs[k].id, id);
	assert_int_equal(t->recs[k].rc, rc);
}

/* Each step is a batch entry; its expected rc says what the rules allow. */
/* The highest id survives even when every row is final and deleted, so a
 * restarted SMSC never hands out an id a carrier has already seen. */
static void test_id_high_water(void **state)
{
	struct tctx *t = *state;
	struct smsq *q = open_q(t, 0);
	for (uint64_t id = 100; id <= 104; id++)
		put_id(q, id, id);
	assert_int_equal(smsq_commit(q), SY_OK);
	for (uint64_t id = 100; id <= 104; id++)
		mark(q, id, SMSQ_DELIVERED, SMSQ_SET_DONE, 0); /* no receipt owed: rows deleted */
	assert_int_equal(smsq_commit(q), SY_OK);
	assert_int_equal(smsq_close(q), SY_OK);
	q = open_q(t, 0);
	assert_int_equal(smsq_last_id(q), 104);
	put_id(q, 105, 105);
	smsq_abandon(q); /* uncommitted: the mark must not move */
	q = open_q(t, 0);
	assert_int_equal(smsq_last_id(q), 104);
	assert_int_equal(smsq_close(q), SY_OK);
}

static void test_state_rules(void **state)
{
	struct tctx *t = *state;
	struct smsq *q = open_q(t, 0);
	static const struct {
		enum smsq_op op;
		uint64_t id;
		enum smsq_state s;
		uint32_t set;
		enum sy_rc rc;
	} steps[] = {
	    {SMSQ_OP_PUT, 1, 0, 0, SY_OK},
	    {SMSQ_OP_PUT, 1, 0, 0, SY_ERR_STATE}, /* duplicate id in the same batch */
	    {SMSQ_OP_MARK, 2, SMSQ_ENROUTE, 0, SY_ERR_NOTFOUND},
	    {SMSQ_OP_MARK, 2, SMSQ_DELIVERED, SMSQ_SET_DLR_PENDING, SY_ERR_NOTFOUND},
	    {SMSQ_OP_MARK, 2, SMSQ_DELIVERED, 0, SY_ERR_NOTFOUND},
	    {SMSQ_OP_MARK, 1, SMSQ_ENROUTE, SMSQ_SET_ATTEMPTS, SY_OK},
	    {SMSQ_OP_MARK, 1, SMSQ_ACCEPTED, SMSQ_SET_NEXT_ATTEMPT, SY_OK}, /* requeue */
	    {SMSQ_OP_MARK, 1, SMSQ_DELIVERED, SMSQ_SET_DLR_PENDING | SMSQ_SET_DONE, SY_OK},
	    {SMSQ_OP_MARK, 1, SMSQ_EXPIRED, 0, SY_ERR_NOTFOUND}, /* final is sticky */
	    {SMSQ_OP_MARK, 1, SMSQ_ENROUTE, 0, SY_ERR_NOTFOUND},
	    {SMSQ_OP_MARK, 1, SMSQ_DELIVERED, SMSQ_SET_ERROR, SY_OK}, /* same state: allowed */
	};
	uint8_t buf[128];
	for (uint32_t i = 0; i < SY_ARRAY_LEN(steps); i++) {
		if (steps[i].op == SMSQ_OP_PUT) {
			put_id(q, steps[i].id, i);
			continue;
		}
		mark(q, steps[i].id, steps[i].s, steps[i].set, i);
	}
	assert_int_equal(smsq_commit(q), SY_OK);
	assert_int_equal(t->n, SY_ARRAY_LEN(steps));
	for (uint32_t i = 0; i < SY_ARRAY_LEN(steps); i++) {
		expect_rc(t, i, steps[i].op, steps[i].id, steps[i].rc);
		assert_int_equal(t->recs[i].token, i);
	}
	struct smsq_msg m;
	assert_int_equal(smsq_get(q, 1, &m, buf, sizeof buf), SY_OK);
	assert_int_equal(m.state, SMSQ_DELIVERED);
	assert_true(m.dlr_pending);
	assert_int_equal(m.error_code, 0x45);
	assert_int_equal(m.next_attempt_ns, T0_NS + 77);
	/* Receipt acknowledged: the row goes; a put of an existing id across
	 * batches is refused too. */
	struct smsq_update u = {.state = SMSQ_DELIVERED, .set = SMSQ_SET_DLR_PENDING, .dlr_pending = false};
	assert_int_equal(smsq_mark(q, 1, &u, 50), SY_OK);
	assert_int_equal(smsq_mark(q, 1, &u, 51), SY_OK);
	put_id(q, 9, 52);
	put_id(q, 9, 53);
	assert_int_equal(smsq_commit(q), SY_OK);
	expect_rc(t, SY_ARRAY_LEN(steps), SMSQ_OP_MARK, 1, SY_OK);
	expect_rc(t, SY_ARRAY_LEN(steps) + 1, SMSQ_OP_MARK, 1, SY_ERR_NOTFOUND);
	expect_rc(t, SY_ARRAY_LEN(steps) + 3, SMSQ_OP_PUT, 9, SY_ERR_STATE);
	assert_int_equal(smsq_get(q, 1, &m, buf, sizeof buf), SY_ERR_NOTFOUND);
	assert_int_equal(smsq_get(q, 9, &m, buf, 4), SY_ERR_FULL); /* body 9 bytes */
	assert_int_equal(smsq_get(q, 9, &m, buf, sizeof buf), SY_OK);
	assert_int_equal(m.body_len, 9);
	assert_ptr_equal(m.body, buf);
	struct smsq_stats st;
	smsq_stats(q, &st);
	assert_int_equal(st.rejected, 8);
	assert_int_equal(smsq_close(q), SY_OK);
}

/* The callback marks each durable message ENROUTE, as the SMSC will: the
 * marks join the next batch and are reported by the next commit. */
static void test_reentrant_callback(void **state)
{
	struct tctx *t = *state;
	struct smsq *q = open_q(t, 4);
	t->mark_on_put = true;
	/* The 4th put fills the batch and commits it; the callbacks fill the
	 * next batch with 4 marks but may not commit it; the 5th put does. */
	for (uint64_t id = 1; id <= 4; id++)
		put_id(q, id, id);
	assert_int_equal(t->n, 4);
	assert_int_equal(smsq_pending(q), 4);
	put_id(q, 5, 5);
	put_id(q, 6, 6);
	assert_int_equal(t->n, 8);
	assert_int_equal(t->recs[4].op, SMSQ_OP_MARK);
	assert_int_equal(t->recs[4].token, 1000001);
	assert_int_equal(smsq_pending(q), 2);
	assert_int_equal(smsq_commit(q), SY_OK);
	t->mark_on_put = false;
	assert_int_equal(smsq_commit(q), SY_OK);
	uint32_t puts = 0, marks = 0;
	for (uint32_t i = 0; i < t->n; i++) {
		assert_int_equal(t->recs[i].rc, SY_OK);
		puts += t->recs[i].op == SMSQ_OP_PUT;
		marks += t->recs[i].op == SMSQ_OP_MARK;
	}
	assert_int_equal(puts, 6);
	assert_int_equal(marks, 6);
	assert_int_equal(smsq_recover(q, visit, t), SY_OK);
	assert_int_equal(t->seen_n, 6);
	for (uint32_t i = 0; i < 6; i++)
		assert_int_equal(t->seen[i].state, SMSQ_ENROUTE);
	assert_int_equal(smsq_close(q), SY_OK);
}

/* The disk is full: the commit fails, reports nothing and keeps the batch;
 * once there is room, the retry writes it. */
static void test_commit_failure_retry(void **state)
{
	struct tctx *t = *state;
	char err[SMSQ_ERRMSG_MAX];
	struct smsq_opts o = {.on_done = on_done, .arg = t, .busy_timeout_ms = 1, .err = err, .err_len = sizeof err};
	struct smsq *q;
	struct faultfs ff;
	faultfs_init(&ff);
	assert_int_equal(smsq_open(&ff.env, t->path, &o, &q), SY_OK);
	ff.full = true;
	put_id(q, 1, 1);
	put_id(q, 2, 2);
	assert_int_equal(smsq_commit(q), SY_ERR_IO);
	assert_non_null(strstr(smsq_errmsg(q), "full"));
	assert_int_equal(t->n, 0);
	assert_int_equal(smsq_pending(q), 2);
	ff.full = false;
	assert_int_equal(smsq_commit(q), SY_OK);
	assert_int_equal(t->n, 2);
	assert_int_equal(t->recs[0].rc, SY_OK);
	assert_int_equal(t->recs[1].rc, SY_OK); /* not a duplicate: the failed try rolled back */
	struct smsq_stats st;
	smsq_stats(q, &st);
	assert_int_equal(st.errors, 1);
	assert_int_equal(st.commits, 1);
	assert_int_equal(smsq_close(q), SY_OK);
}

/* before_commit says no (the SMSC's MDRs are not durable): nothing is
 * committed or reported, whoever asks for the commit (the owner, a full
 * batch); once it says yes, the kept batch commits whole. */
static bool gate_open;
static uint32_t gate_asked;
static bool gate(void *arg)
{
	gate_asked++;
	return gate_open;
}

static void test_before_commit_holds(void **state)
{
	struct tctx *t = *state;
	char err[SMSQ_ERRMSG_MAX];
	struct smsq_opts o = {
	    .on_done = on_done, .arg = t, .batch_max = 4, .before_commit = gate, .err = err, .err_len = sizeof err};
	struct smsq *q;
	assert_int_equal(smsq_open(sy_live_files(), t->path, &o, &q), SY_OK);
	gate_open = false;
	gate_asked = 0;
	for (uint64_t id = 1; id <= 4; id++) /* the 4th fills the batch: an auto-commit, held */
		put_id(q, id, id);
	assert_int_equal(smsq_commit(q), SY_ERR_IO);
	assert_true(smsq_failing(q));
	assert_true(gate_asked >= 2);
	assert_int_equal(t->n, 0);
	assert_int_equal(smsq_pending(q), 4);
	struct smsq_update u = {.state = SMSQ_DELIVERED, .set = SMSQ_SET_DONE};
	assert_int_equal(smsq_mark(q, 1, &u, 99), SY_ERR_FULL); /* no room while held */
	gate_open = true;
	assert_int_equal(smsq_commit(q), SY_OK);
	assert_false(smsq_failing(q));
	assert_int_equal(t->n, 4);
	struct smsq_stats st;
	smsq_stats(q, &st);
	assert_true(st.held >= 2);
	assert_int_equal(st.commits, 1);
	assert_int_equal(smsq_close(q), SY_OK);
}

static void test_roundtrip_100k(void **state)
{
	struct tctx *t = *state;
	struct smsq *q = open_q(t, 0);
	const uint64_t n = 100000;
	for (uint64_t id = 1; id <= n; id++)
		put_id(q, id, id);
	assert_int_equal(smsq_close(q), SY_OK);
	assert_int_equal(t->n, n);
	for (uint32_t i = 0; i < n; i++)
		assert_true(t->recs[i].token == i + 1 && t->recs[i].rc == SY_OK);
	q = open_q(t, 0);
	assert_int_equal(smsq_last_id(q), n);
	assert_int_equal(smsq_recover(q, visit, t), SY_OK);
	assert_int_equal(t->seen_n, n);
	for (uint32_t i = 0; i < n; i++) {
		struct smsq_msg m;
		uint8_t buf[128];
		gen_msg(i + 1, &m, buf);
		assert_msg_eq(&t->seen[i], &m);
	}
	assert_int_equal(smsq_close(q), SY_OK);
}

static void test_body_limits(void **state)
{
	struct tctx *t = *state;
	char err[SMSQ_ERRMSG_MAX];
	struct smsq_opts o = {
	    .on_done = on_done, .arg = t, .batch_bytes_max = SMSQ_BODY_MAX, .err = err, .err_len = sizeof err};
	struct smsq *q;
	assert_int_equal(smsq_open(sy_live_files(), t->path, &o, &q), SY_OK);
	static uint8_t big[SMSQ_BODY_MAX + 1];
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (uint8_t)(i * 7);
	struct smsq_msg m = {.id = 1, .body = big, .body_len = SMSQ_BODY_MAX + 1};
	assert_int_equal(smsq_put(q, &m, 1), SY_ERR_INVAL);
	m.body_len = 40000;
	assert_int_equal(smsq_put(q, &m, 1), SY_OK);
	m.id = 2, m.body_len = SMSQ_BODY_MAX;
	assert_int_equal(smsq_put(q, &m, 2), SY_OK); /* arena full: the first was committed */
	assert_int_equal(t->n, 1);
	assert_int_equal(smsq_commit(q), SY_OK);
	static uint8_t out[SMSQ_BODY_MAX];
	struct smsq_msg g;
	assert_int_equal(smsq_get(q, 2, &g, out, sizeof out), SY_OK);
	assert_int_equal(g.body_len, SMSQ_BODY_MAX);
	assert_memory_equal(out, big, SMSQ_BODY_MAX);
	assert_int_equal(smsq_close(q), SY_OK);
}

static void test_open_errors(void **state)
{
	struct tctx *t = *state;
	char err[SMSQ_ERRMSG_MAX];
	struct smsq *q = (struct smsq *)1;
	struct smsq_opts o = {.arg = t, .err = err, .err_len = sizeof err};
	assert_int_equal(smsq_open(sy_live_files(), t->path, &o, &q), SY_ERR_INVAL); /* no callback */
	assert_null(q);
	assert_non_null(strstr(err, "on_done"));
	o.on_done = on_done;
	o.batch_max = SMSQ_BATCH_MAX + 1;
	assert_int_equal(smsq_open(sy_live_files(), t->path, &o, &q), SY_ERR_INVAL);
	o.batch_max = 0;
	assert_int_equal(smsq_open(sy_live_files(), "/nonexistent-dir/x/q.sqlite", &o, &q), SY_ERR_IO);
	assert_null(q);
	assert_non_null(strstr(err, "/nonexistent-dir/x/q.sqlite"));
	assert_int_equal(smsq_close(NULL), SY_OK);
}

static void test_id_text(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		enum sy_rc rc;
		uint64_t v;
	} cases[] = {
	    {"1", SY_OK, 1},
	    {"9223372036854775807", SY_OK, INT64_MAX},
	    {"9223372036854775808", SY_ERR_PARSE, 0},
	    {"18446744073709551615", SY_ERR_PARSE, 0},
	    {"0", SY_ERR_PARSE, 0},
	    {"007", SY_ERR_PARSE, 0},
	    {"", SY_ERR_PARSE, 0},
	    {"12a", SY_ERR_PARSE, 0},
	    {"-5", SY_ERR_PARSE, 0},
	    {"+5", SY_ERR_PARSE, 0},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		uint64_t v = 0;
		assert_int_equal(smsq_id_parse(sy_str_from(cases[i].s), &v), cases[i].rc);
		if (cases[i].rc != SY_OK)
			continue;
		assert_int_equal(v, cases[i].v);
		char buf[SMSQ_ID_TEXT_MAX];
		assert_int_equal(smsq_id_fmt(v, buf), strlen(cases[i].s));
		assert_string_equal(buf, cases[i].s);
	}
	/* The formatter against printf: every value below 20,000, each power of
	 * ten and its neighbours, and a spread of 17- to 19-digit ids. */
	for (uint64_t v = 0, p10 = 1, k = 0; k < 20000 + 3 * 19 + 1000; k++) {
		if (k < 20000)
			v = k;
		else if (k < 20000 + 3 * 19) {
			uint64_t j = k - 20000;
			if (j % 3 == 0 && j > 0)
				p10 *= 10;
			v = p10 + j % 3 - 1;
		} else
			v = 10000000000000000ull + (k - 20057) * 9213372036854775ull;
		char buf[SMSQ_ID_TEXT_MAX], want[32];
		snprintf(want, sizeof want, "%llu", (unsigned long long)v);
		assert_int_equal(smsq_id_fmt(v, buf), strlen(want));
		assert_string_equal(buf, want);
	}
	char top[SMSQ_ID_TEXT_MAX];
	assert_int_equal(smsq_id_fmt(UINT64_MAX, top), 20); /* CSV fields use it for any uint64 */
	assert_string_equal(top, "18446744073709551615");
	assert_int_equal(smsq_id_parse(SY_STR_NULL, &(uint64_t){0}), SY_ERR_PARSE);
	assert_string_equal(smsq_state_name(SMSQ_ENROUTE), "ENROUTE");
	assert_string_equal(smsq_state_name(SMSQ_STATE_COUNT), "?");
	assert_false(smsq_state_final(SMSQ_ENROUTE));
	assert_true(smsq_state_final(SMSQ_REJECTED));
}

/* ---- the segment log ---- */

static void test_crc32c(void **state)
{
	(void)state;
	assert_int_equal(smsq_crc32c(0, "123456789", 9), 0xE3069283u); /* the CRC-32C check value */
	assert_int_equal(smsq_crc32c_sw(0, "123456789", 9), 0xE3069283u);
	uint8_t buf[1000];
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	for (size_t n = 0; n < sizeof buf; n += 37) {
		assert_int_equal(smsq_crc32c(0, buf, n), smsq_crc32c_sw(0, buf, n));
		/* Extending a crc equals one pass over both parts. */
		assert_int_equal(smsq_crc32c(smsq_crc32c(0, buf, n / 2), buf + n / 2, n - n / 2),
				 smsq_crc32c_sw(0, buf, n));
	}
}

/* Every record decodes back to what was encoded; every shorter prefix is
 * SY_AGAIN (a torn tail), every flipped byte is refused, fed as one buffer
 * or with the records back to back. */
static void test_log_codec(void **state)
{
	(void)state;
	static uint8_t buf[3 * SMSQ_LOG_PUT_MAX];
	uint8_t body[128];
	struct smsq_msg m;
	gen_msg(30, &m, body);
	size_t n1 = smsq_log_put_encode(SMSQ_REC_PUT, &m, m.body, buf);
	assert_int_equal(n1, smsq_log_put_size(&m));
	struct smsq_update u = {.state = SMSQ_DELIVERED,
				.set = SMSQ_SET_ALL,
				.attempts = 3,
				.next_attempt_ns = 5,
				.dlr_pending = true,
				.error_code = 0x45,
				.done_ns = 77};
	snprintf(u.carrier, sizeof u.carrier, "tier1");
	snprintf(u.upstream_id, sizeof u.upstream_id, "U-1");
	size_t n2 = smsq_log_mark_encode(30, &u, buf + n1);
	assert_true(n2 <= SMSQ_LOG_MARK_MAX);
	struct smsq_rec r;
	assert_int_equal(smsq_log_decode(buf, buf + n1 + n2, &r), SY_OK);
	assert_int_equal(r.type, SMSQ_REC_PUT);
	assert_int_equal(r.len, n1);
	assert_msg_eq(&r.m, &m);
	assert_int_equal(smsq_log_decode(buf + n1, buf + n1 + n2, &r), SY_OK);
	assert_int_equal(r.type, SMSQ_REC_MARK);
	assert_int_equal(r.id, 30);
	struct smsq_msg applied = m;
	smsq_log_apply(&applied, &r.u);
	assert_int_equal(applied.state, SMSQ_DELIVERED);
	assert_string_equal(applied.carrier, "tier1");
	assert_string_equal(applied.upstream_id, "U-1");
	assert_int_equal(applied.error_code, 0x45);
	assert_true(applied.dlr_pending);
	for (size_t cut = 0; cut < n1; cut++)
		assert_int_equal(smsq_log_decode(buf, buf + cut, &r), SY_AGAIN);
	for (size_t i = 0; i < n1 + n2; i++) {
		uint8_t *rec = i < n1 ? buf : buf + n1;
		size_t len = i < n1 ? n1 : n2;
		buf[i] ^= 0x20;
		enum sy_rc rc = smsq_log_decode(rec, rec + len, &r);
		assert_true(rc == SY_ERR_PARSE || rc == SY_AGAIN);
		buf[i] ^= 0x20;
	}
	struct smsq_seg_hdr h = {.version = SMSQ_LOG_VERSION, .seg_no = 7, .last_id = 1234}, g;
	uint8_t hb[SMSQ_LOG_HDR_LEN];
	smsq_log_hdr_encode(&h, hb);
	assert_int_equal(smsq_log_hdr_decode(hb, hb + sizeof hb, &g), SY_OK);
	assert_int_equal(g.seg_no, 7);
	assert_int_equal(g.last_id, 1234);
	assert_int_equal(smsq_log_hdr_decode(hb, hb + sizeof hb - 1, &g), SY_AGAIN);
	hb[20] ^= 1;
	assert_int_equal(smsq_log_hdr_decode(hb, hb + sizeof hb, &g), SY_ERR_PARSE);
}

/* After kill -9 (abandon) the committed messages come back by replay, each
 * readable by id with its body and current state. */
static void test_get_after_recovery(void **state)
{
	struct tctx *t = *state;
	struct smsq *q = open_q(t, 0);
	for (uint64_t id = 1; id <= 50; id++)
		put_id(q, id, id);
	assert_int_equal(smsq_commit(q), SY_OK);
	mark(q, 7, SMSQ_ENROUTE, SMSQ_SET_UPSTREAM_ID | SMSQ_SET_CARRIER, 0);
	mark(q, 8, SMSQ_DELIVERED, SMSQ_SET_DONE, 0);
	assert_int_equal(smsq_commit(q), SY_OK);
	smsq_abandon(q);
	q = open_q(t, 0);
	struct smsq_msg m, want;
	uint8_t buf[128], wbuf[128];
	for (uint64_t id = 1; id <= 50; id++) {
		if (id == 8) {
			assert_int_equal(smsq_get(q, id, &m, buf, sizeof buf), SY_ERR_NOTFOUND);
			continue;
		}
		assert_int_equal(smsq_get(q, id, &m, buf, sizeof buf), SY_OK);
		gen_msg(id, &want, wbuf);
		if (id == 7) {
			want.state = SMSQ_ENROUTE;
			snprintf(want.carrier, sizeof want.carrier, "tier1");
			snprintf(want.upstream_id, sizeof want.upstream_id, "up-7");
		}
		assert_msg_eq(&m, &want);
	}
	struct smsq_stats st;
	smsq_stats(q, &st);
	assert_int_equal(st.live, 49);
	assert_int_equal(st.truncated, 0);
	assert_int_equal(smsq_close(q), SY_OK);
}

static uint64_t file_size(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

static void seg_path(const struct tctx *t, uint32_t no, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/%08u.log", t->path, no);
}

/* A crash in the middle of a write leaves part of a record at the end of
 * the last segment: the open cuts it, keeps everything before it, and the
 * log takes new records where it was cut. */
static void test_torn_tail_cut(void **state)
{
	struct tctx *t = *state;
	struct smsq *q = open_q(t, 0);
	for (uint64_t id = 1; id <= 10; id++)
		put_id(q, id, id);
	assert_int_equal(smsq_commit(q), SY_OK);
	put_id(q, 11, 11);
	assert_int_equal(smsq_commit(q), SY_OK);
	smsq_abandon(q);
	char p[256];
	seg_path(t, 1, p, sizeof p);
	uint64_t size = file_size(p);
	assert_int_equal(truncate(p, (off_t)(size - 5)), 0); /* message 11's record, torn */
	q = open_q(t, 0);
	struct smsq_stats st;
	smsq_stats(q, &st);
	assert_int_equal(st.live, 10);
	assert_true(st.truncated > 0 && st.truncated < size);
	struct smsq_msg m;
	uint8_t buf[128];
	assert_int_equal(smsq_get(q, 11, &m, buf, sizeof buf), SY_ERR_NOTFOUND);
	assert_int_equal(smsq_get(q, 10, &m, buf, sizeof buf), SY_OK);
	put_id(q, 12, 12);
	assert_int_equal(smsq_close(q), SY_OK);
	q = open_q(t, 0);
	smsq_stats(q, &st);
	assert_int_equal(st.live, 11);
	assert_int_equal(st.truncated, 0);
	assert_int_equal(smsq_get(q, 12, &m, buf, sizeof buf), SY_OK);
	assert_int_equal(smsq_close(q), SY_OK);
}

static struct smsq *open_q_opts(struct tctx *t, const struct sy_env *env, uint32_t seg_bytes, bool full, char *err,
				enum sy_rc want)
{
	struct smsq_opts o = {.on_done = on_done,
			      .arg = t,
			      .segment_bytes = seg_bytes,
			      .sync_full = full,
			      .err = err,
			      .err_len = SMSQ_ERRMSG_MAX};
	struct smsq *q = NULL;
	enum sy_rc r = smsq_open(env, t->path, &o, &q);
	if (r != want)
		fprintf(stderr, "smsq_open: %s\n", err);
	assert_int_equal(r, want);
	t->q = q;
	return q;
}

/* The crash came right after a new segment was created, its header not
 * on disk: the open starts that segment again and loses nothing before it. */
static void test_torn_segment_header(void **state)
{
	struct tctx *t = *state;
	char err[SMSQ_ERRMSG_MAX];
	struct smsq *q = open_q_opts(t, sy_live_files(), SMSQ_SEGMENT_MIN, false, err, SY_OK);
	uint64_t id = 1;
	struct smsq_stats st;
	do {
		for (int i = 0; i < 100; i++, id++)
			put_id(q, id, id);
		assert_int_equal(smsq_commit(q), SY_OK);
		smsq_stats(q, &st);
	} while (st.segments < 2);
	/* The batch that made segment 2 was written into it: take it back. */
	smsq_abandon(q);
	char p[256];
	seg_path(t, 2, p, sizeof p);
	assert_int_equal(truncate(p, 10), 0);
	q = open_q_opts(t, sy_live_files(), SMSQ_SEGMENT_MIN, false, err, SY_OK);
	smsq_stats(q, &st);
	assert_int_equal(st.segments, 2);
	assert_int_equal(st.live, id - 1 - 100);
	put_id(q, id, id);
	assert_int_equal(smsq_close(q), SY_OK);
	q = open_q_opts(t, sy_live_files(), SMSQ_SEGMENT_MIN, false, err, SY_OK);
	smsq_stats(q, &st);
	assert_int_equal(st.live, id - 100);
	assert_int_equal(smsq_close(q), SY_OK);
}

/* A backlog of 50,000 drains to 10: the index gives its memory back, and
 * the 10 are still found, by id and by recovery. */
static void test_index_shrinks(void **state)
{
	struct tctx *t = *state;
	struct smsq *q = open_q(t, 0);
	struct smsq_update fin = {.state = SMSQ_DELIVERED, .set = SMSQ_SET_DLR_PENDING, .dlr_pending = false};
	const uint64_t n = 50000;
	for (uint64_t id = 1; id <= n; id++)
		put_id(q, id, id);
	assert_int_equal(smsq_commit(q), SY_OK);
	struct smsq_stats st;
	smsq_stats(q, &st);
	uint64_t peak = st.index_bytes;
	assert_true(peak >= n * 100);
	for (uint64_t id = 1; id <= n; id++)
		if (id % 5000 != 0)
			assert_int_equal(smsq_mark(q, id, &fin, 0), SY_OK);
	assert_int_equal(smsq_commit(q), SY_OK);
	smsq_stats(q, &st);
	assert_int_equal(st.live, 10);
	assert_true(st.index_bytes * 16 <= peak);
	struct smsq_msg m, want;
	uint8_t buf[128], wbuf[128];
	for (uint64_t id = 5000; id <= n; id += 5000) {
		assert_int_equal(smsq_get(q, id, &m, buf, sizeof buf), SY_OK);
		gen_msg(id, &want, wbuf);
		assert_msg_eq(&m, &want);
	}
	assert_int_equal(smsq_get(q, 4999, &m, buf, sizeof buf), SY_ERR_NOTFOUND);
	put_id(q, n + 1, n + 1);
	assert_int_equal(smsq_commit(q), SY_OK);
	assert_int_equal(smsq_recover(q, visit, t), SY_OK);
	assert_int_equal(t->seen_n, 11);
	assert_int_equal(t->seen[10].id, n + 1);
	assert_int_equal(smsq_close(q), SY_OK);
}

/* The index tells ids apart that share their low 32 bits (and so their
 * home slot): each is found, a mark and a removal reach only the one named,
 * and the rest of the cluster stays reachable through the growths. */
static void test_index_same_low_bits(void **state)
{
	struct tctx *t = *state;
	struct smsq *q = open_q(t, 0);
	struct smsq_update fin = {.state = SMSQ_DELIVERED, .set = SMSQ_SET_DLR_PENDING, .dlr_pending = false};
	const uint64_t hi = 1ull << 32;
	for (uint64_t k = 1; k <= 2000; k++)
		for (uint64_t j = 0; j < 3; j++)
			put_id(q, k + j * hi, k + j * hi);
	assert_int_equal(smsq_commit(q), SY_OK);
	struct smsq_stats st;
	smsq_stats(q, &st);
	assert_int_equal(st.live, 6000);
	for (uint64_t k = 1; k <= 2000; k += 2)
		assert_int_equal(smsq_mark(q, k + hi, &fin, 0), SY_OK); /* the middle one of odd k */
	assert_int_equal(smsq_commit(q), SY_OK);
	smsq_stats(q, &st);
	assert_int_equal(st.live, 5000);
	struct smsq_msg m, want;
	uint8_t buf[128], wbuf[128];
	for (uint64_t k = 1; k <= 2000; k++)
		for (uint64_t j = 0; j < 3; j++) {
			uint64_t id = k + j * hi;
			if (j == 1 && k % 2 == 1) {
				assert_int_equal(smsq_get(q, id, &m, buf, sizeof buf), SY_ERR_NOTFOUND);
				continue;
			}
			assert_int_equal(smsq_get(q, id, &m, buf, sizeof buf), SY_OK);
			gen_msg(id, &want, wbuf);
			assert_msg_eq(&m, &want);
		}
	assert_int_equal(smsq_get(q, 2001 + hi, &m, buf, sizeof buf), SY_ERR_NOTFOUND);
	assert_int_equal(smsq_close(q), SY_OK);
}

/* A flipped byte inside a segment that is not the last is corruption, not
 * a crash: the open fails and names the file and the offset. */
static void test_corrupt_refused(void **state)
{
	struct tctx *t = *state;
	char err[SMSQ_ERRMSG_MAX];
	struct smsq *q = open_q_opts(t, sy_live_files(), SMSQ_SEGMENT_MIN, false, err, SY_OK);
	uint64_t id = 1;
	struct smsq_stats st;
	do { /* until a second segment exists; none finishes, so none is compacted */
		for (int i = 0; i < 100; i++, id++)
			put_id(q, id, id);
		assert_int_equal(smsq_commit(q), SY_OK);
		smsq_stats(q, &st);
	} while (st.segments < 2);
	put_id(q, id, id);
	assert_int_equal(smsq_close(q), SY_OK);
	char p[256];
	seg_path(t, 1, p, sizeof p);
	FILE *f = fopen(p, "r+b");
	assert_non_null(f);
	assert_int_equal(fseek(f, 1000, SEEK_SET), 0);
	int c = fgetc(f);
	assert_int_equal(fseek(f, 1000, SEEK_SET), 0);
	fputc(c ^ 0x01, f);
	fclose(f);
	q = open_q_opts(t, sy_live_files(), SMSQ_SEGMENT_MIN, false, err, SY_ERR_IO);
	assert_null(q);
	assert_non_null(strstr(err, "00000001.log"));
	assert_non_null(strstr(err, "corrupt"));
	assert_non_null(strstr(err, "offset"));
}

/* Long traffic through small segments where nearly every message finishes
 * and one in 500 stays live: finished segments are dropped, the live
 * messages copied forward, and the disk stays bounded; after a restart
 * exactly the live messages come back, with their state. */
static void test_compaction_bounds_disk(void **state)
{
	struct tctx *t = *state;
	char err[SMSQ_ERRMSG_MAX];
	struct smsq *q = open_q_opts(t, sy_live_files(), SMSQ_SEGMENT_MIN, false, err, SY_OK);
	const uint64_t n = 60000;
	uint64_t max_bytes = 0, kept = 0;
	/* Finished, no receipt owed (gen_msg owes one for every fifth). */
	struct smsq_update fin = {.state = SMSQ_DELIVERED, .set = SMSQ_SET_DLR_PENDING, .dlr_pending = false};
	for (uint64_t id = 1; id <= n; id++) {
		put_id(q, id, id);
		if (id > 100) { /* messages finish 100 behind */
			uint64_t f = id - 100;
			if (f % 500 == 0)
				mark(q, f, SMSQ_ENROUTE, SMSQ_SET_UPSTREAM_ID, 0), kept++;
			else
				assert_int_equal(smsq_mark(q, f, &fin, 0), SY_OK);
		}
		if (id % 200 == 0) {
			assert_int_equal(smsq_commit(q), SY_OK);
			uint64_t bytes = 0;
			for (uint32_t no = 1; no < 10000; no++) {
				char p[256];
				seg_path(t, no, p, sizeof p);
				bytes += file_size(p);
			}
			max_bytes = SY_MAX(max_bytes, bytes);
		}
	}
	assert_int_equal(smsq_commit(q), SY_OK);
	struct smsq_stats st;
	smsq_stats(q, &st);
	assert_true(st.compactions > 10);
	assert_true(st.copied > 0);
	assert_true(st.segments <= 9);
	/* Written: ~60000 puts and marks, several MB; kept: a few segments. */
	assert_true(st.bytes > 40 * (uint64_t)SMSQ_SEGMENT_MIN);

	assert_true(max_bytes <= 4 * (uint64_t)SMSQ_SEGMENT_MIN);
	smsq_abandon(q);
	t->seen_n = 0;
	q = open_q_opts(t, sy_live_files(), SMSQ_SEGMENT_MIN, false, err, SY_OK);
	assert_int_equal(smsq_recover(q, visit, t), SY_OK);
	assert_int_equal(t->seen_n, kept + 100); /* the pinned ones and the last 100 */
	for (uint32_t i = 0; i < kept; i++) {
		assert_int_equal(t->seen[i].id, (i + 1) * 500);
		assert_int_equal(t->seen[i].state, SMSQ_ENROUTE);
		char up[32];
		snprintf(up, sizeof up, "up-%u", (i + 1) * 500);
		assert_string_equal(t->seen[i].upstream_id, up);
	}
	assert_int_equal(smsq_last_id(q), n);
	assert_int_equal(smsq_close(q), SY_OK);
}

/* sync_full: one fdatasync per commit, before the callbacks. Otherwise the
 * batch is synced by the next commit (or smsq_sync), never left behind. */
static void test_sync_counts(void **state)
{
	struct tctx *t = *state;
	char err[SMSQ_ERRMSG_MAX];
	struct smsq_stats st;
	for (int full = 1; full >= 0; full--) {
		struct smsq *q = open_q_opts(t, sy_live_files(), 0, full, err, SY_OK);
		smsq_stats(q, &st);
		uint64_t s0 = st.syncs;
		for (uint64_t c = 1; c <= 3; c++) {
			put_id(q, full * 100 + c, c);
			assert_int_equal(smsq_commit(q), SY_OK);
			smsq_stats(q, &st);
			/* full: this commit's; normal: the previous commit's */
			assert_int_equal(st.syncs - s0, full ? c : c - 1);
			assert_int_equal(smsq_unsynced(q), !full);
		}
		assert_int_equal(smsq_commit(q), SY_OK); /* empty: syncs what is unsynced */
		smsq_stats(q, &st);
		assert_int_equal(st.syncs - s0, 3);
		assert_false(smsq_unsynced(q));
		assert_int_equal(smsq_sync(q), SY_OK); /* nothing to do */
		assert_int_equal(smsq_commit(q), SY_OK);
		smsq_stats(q, &st);
		assert_int_equal(st.syncs - s0, 3);
		put_id(q, full * 100 + 50, 50);
		assert_int_equal(smsq_commit(q), SY_OK);
		if (!full) {
			assert_true(smsq_unsynced(q));
			assert_int_equal(smsq_sync(q), SY_OK);
			assert_false(smsq_unsynced(q));
		}
		smsq_stats(q, &st);
		assert_int_equal(st.syncs - s0, 4);
		assert_int_equal(smsq_close(q), SY_OK);
	}
}

/* A failed fdatasync: the commit fails and keeps its batch (sync_full), or
 * the previous batch stays unsynced (normal); the retry cuts the file back
 * to what was synced and writes again, so after a restart every message is
 * there exactly once. */
static void test_fsync_failure_repaired(void **state)
{
	struct tctx *t = *state;
	char err[SMSQ_ERRMSG_MAX];
	for (int full = 1; full >= 0; full--) {
		struct faultfs ff;
		faultfs_init(&ff);
		t->n = 0;
		uint64_t base = full ? 1000 : 2000;
		struct smsq *q = open_q_opts(t, &ff.env, 0, full, err, SY_OK);
		put_id(q, base + 1, 1);
		assert_int_equal(smsq_commit(q), SY_OK);
		ff.sync_fail = true;
		put_id(q, base + 2, 2);
		mark(q, base + 1, SMSQ_ENROUTE, SMSQ_SET_ATTEMPTS, 3);
		assert_int_equal(smsq_commit(q), SY_ERR_IO);
		assert_true(smsq_failing(q));
		assert_non_null(strstr(smsq_errmsg(q), "fdatasync"));
		assert_int_equal(t->n, 1);
		assert_int_equal(smsq_commit(q), SY_ERR_IO);
		ff.sync_fail = false;
		assert_int_equal(smsq_commit(q), SY_OK);
		assert_false(smsq_failing(q));
		assert_int_equal(t->n, 3);
		for (uint32_t i = 0; i < 3; i++)
			assert_int_equal(t->recs[i].rc, SY_OK);
		assert_int_equal(smsq_close(q), SY_OK);
		q = open_q_opts(t, sy_live_files(), 0, full, err, SY_OK);
		struct smsq_msg m;
		uint8_t buf[128];
		assert_int_equal(smsq_get(q, base + 1, &m, buf, sizeof buf), SY_OK);
		assert_int_equal(m.state, SMSQ_ENROUTE);
		assert_int_equal(m.attempts, 2);
		assert_int_equal(smsq_get(q, base + 2, &m, buf, sizeof buf), SY_OK);
		struct smsq_stats st;
		smsq_stats(q, &st);
		assert_int_equal(st.live, full ? 2 : 4);
		assert_int_equal(st.truncated, 0);
		assert_int_equal(smsq_close(q), SY_OK);
	}
}

/* ---- power loss: a files env that remembers each file's size at its last
 * fdatasync and, at the "power cut", cuts every file back to it (what a
 * disk cache that loses unsynced appends leaves) ---- */

struct plfile {
	char path[200];
	struct sy_file *h;
	uint64_t synced;
	bool used;
};

static struct plfile pl_files[32];
static struct sy_env_ops pl_ops;
static struct sy_env pl_env;

static struct plfile *pl_by_path(const char *path)
{
	struct plfile *fr = NULL;
	for (size_t i = 0; i < SY_ARRAY_LEN(pl_files); i++) {
		if (pl_files[i].used && strcmp(pl_files[i].path, path) == 0)
			return &pl_files[i];
		if (!pl_files[i].used && fr == NULL)
			fr = &pl_files[i];
	}
	SY_ASSERT(fr != NULL);
	*fr = (struct plfile){.used = true};
	snprintf(fr->path, sizeof fr->path, "%s", path);
	fr->synced = file_size(path); /* what is there at open is durable */
	return fr;
}

static struct plfile *pl_by_handle(struct sy_file *h)
{
	for (size_t i = 0; i < SY_ARRAY_LEN(pl_files); i++)
		if (pl_files[i].used && pl_files[i].h == h)
			return &pl_files[i];
	return NULL;
}

static enum sy_rc pl_open(void *ctx, const char *path, unsigned flags, struct sy_file **out)
{
	enum sy_rc rc = sy_live_files()->ops->file_open(ctx, path, flags, out);
	if (rc == SY_OK)
		pl_by_path(path)->h = *out;
	return rc;
}

static enum sy_rc pl_sync(void *ctx, struct sy_file *h)
{
	enum sy_rc rc = sy_live_files()->ops->file_sync(ctx, h);
	struct plfile *f = pl_by_handle(h);
	if (rc == SY_OK && f != NULL)
		f->synced = file_size(f->path);
	return rc;
}

static enum sy_rc pl_truncate(void *ctx, struct sy_file *h, uint64_t size)
{
	struct plfile *f = pl_by_handle(h);
	if (f != NULL)
		f->synced = SY_MIN(f->synced, size);
	return sy_live_files()->ops->file_truncate(ctx, h, size);
}

static void pl_close(void *ctx, struct sy_file *h)
{
	struct plfile *f = pl_by_handle(h);
	if (f != NULL)
		f->h = NULL;
	sy_live_files()->ops->file_close(ctx, h);
}

static enum sy_rc pl_unlink(void *ctx, const char *path)
{
	for (size_t i = 0; i < SY_ARRAY_LEN(pl_files); i++)
		if (pl_files[i].used && strcmp(pl_files[i].path, path) == 0)
			pl_files[i].used = false;
	return sy_live_files()->ops->file_unlink(ctx, path);
}

static void pl_init(void)
{
	memset(pl_files, 0, sizeof pl_files);
	pl_ops = *sy_live_files()->ops;
	pl_ops.file_open = pl_open;
	pl_ops.file_sync = pl_sync;
	pl_ops.file_truncate = pl_truncate;
	pl_ops.file_close = pl_close;
	pl_ops.file_unlink = pl_unlink;
	pl_env = *sy_live_files();
	pl_env.ops = &pl_ops;
}

/* The process dies with the machine: what was not synced is gone. */
static void pl_power_cut(struct smsq *q)
{
	smsq_abandon(q);
	for (size_t i = 0; i < SY_ARRAY_LEN(pl_files); i++)
		if (pl_files[i].used)
			assert_int_equal(truncate(pl_files[i].path, (off_t)pl_files[i].synced), 0);
	memset(pl_files, 0, sizeof pl_files);
}

/* Commits 20 batches of 50 through small segments (so segments are
 * created and compacted on the way), then the power fails. Returns how
 * many acknowledged puts the restart lost. */
static uint64_t power_loss_run(struct tctx *t, bool full)
{
	char err[SMSQ_ERRMSG_MAX];
	pl_init();
	t->n = 0;
	struct smsq *q = open_q_opts(t, &pl_env, SMSQ_SEGMENT_MIN, full, err, SY_OK);
	uint64_t id = 1;
	for (int b = 0; b < 20; b++) {
		for (int i = 0; i < 50; i++, id++) {
			put_id(q, id, id);
			if (id > 60 && id % 3 != 0)
				mark(q, id - 60, SMSQ_DELIVERED, SMSQ_SET_DONE, 0);
		}
		assert_int_equal(smsq_commit(q), SY_OK);
	}
	put_id(q, id, id); /* never acknowledged */
	pl_power_cut(q);
	q = open_q_opts(t, &pl_env, SMSQ_SEGMENT_MIN, full, err, SY_OK);
	uint64_t lost = 0;
	for (uint32_t i = 0; i < t->n; i++) {
		struct smsq_msg m;
		uint8_t buf[128];
		const struct done_rec *r = &t->recs[i];
		if (r->op == SMSQ_OP_PUT && r->rc == SY_OK && (r->id % 3 == 0 || r->id + 60 >= id) &&
		    smsq_get(q, r->id, &m, buf, sizeof buf) != SY_OK)
			lost++;
	}
	struct smsq_msg m;
	uint8_t buf[128];
	assert_int_equal(smsq_get(q, id, &m, buf, sizeof buf), SY_ERR_NOTFOUND);
	assert_true(smsq_last_id(q) < id);
	assert_int_equal(smsq_close(q), SY_OK);
	return lost;
}

static void test_power_loss_full(void **state)
{
	assert_int_equal(power_loss_run(*state, true), 0);
}

/* sync = normal: the last commit's batch (and only it) may be lost. */
static void test_power_loss_normal(void **state)
{
	uint64_t lost = power_loss_run(*state, false);
	assert_true(lost > 0 && lost <= 50);
}

/* ---- asynchronous sync (sync_full on an env with file_sync_start): the
 * power-loss env above with syncs that complete when the test says ---- */

static struct sy_env_ops as_ops;
static struct sy_env as_env;
static struct {
	struct sy_file *f; /* the sync in flight; NULL: none */
	sy_file_sync_fn fn;
	void *arg;
	uint32_t started;
} as_st;

static enum sy_rc as_sync_start(void *ctx, struct sy_file *f, sy_file_sync_fn fn, void *arg)
{
	SY_ASSERT(as_st.f == NULL);
	as_st.f = f, as_st.fn = fn, as_st.arg = arg;
	as_st.started++;
	return SY_OK;
}

/* Completes the sync in flight: durable (pl_sync) or failed. */
static void as_complete(bool fail)
{
	SY_ASSERT(as_st.f != NULL);
	struct sy_file *f = as_st.f;
	as_st.f = NULL;
	enum sy_rc rc = fail ? SY_ERR_IO : pl_sync(NULL, f);
	as_st.fn(as_st.arg, rc);
}

static void as_sync_wait(void *ctx, struct sy_file *f)
{
	if (as_st.f == f)
		as_complete(false);
}

static void as_close(void *ctx, struct sy_file *f)
{
	if (as_st.f == f)
		as_st.f = NULL; /* dropped, never reported */
	pl_close(ctx, f);
}

static uint64_t as_now_ns(void *ctx)
{
	return T0_NS; /* for the log limiter: an env that syncs off the loop has a clock */
}

static void as_init(void)
{
	pl_init();
	memset(&as_st, 0, sizeof as_st);
	as_ops = pl_ops;
	as_ops.file_sync_start = as_sync_start;
	as_ops.file_sync_wait = as_sync_wait;
	as_ops.file_close = as_close;
	as_ops.now_ns = as_now_ns;
	as_env = pl_env;
	as_env.ops = &as_ops;
}

static bool acked(const struct tctx *t, uint64_t id)
{
	for (uint32_t i = 0; i < t->n; i++)
		if (t->recs[i].op == SMSQ_OP_PUT && t->recs[i].id == id && t->recs[i].rc == SY_OK)
			return true;
	return false;
}

/* A commit writes and hands the fdatasync off: nothing is acknowledged until
 * it completes; the next batch accumulates meanwhile and is committed when
 * it does; a failed sync keeps the acknowledgements back until a retry (cut
 * and rewrite) succeeds; a power cut with a sync in flight loses nothing
 * that was acknowledged. */
static void test_async_sync(void **state)
{
	struct tctx *t = *state;
	char err[SMSQ_ERRMSG_MAX];
	as_init();
	t->n = 0;
	struct smsq *q = open_q_opts(t, &as_env, 0, true, err, SY_OK);
	for (uint64_t id = 1; id <= 10; id++)
		put_id(q, id, id);
	assert_int_equal(smsq_commit(q), SY_OK);
	assert_non_null(as_st.f);
	assert_int_equal(t->n, 0); /* written, not durable: not acknowledged */
	assert_true(smsq_unsynced(q));
	for (uint64_t id = 11; id <= 20; id++)
		put_id(q, id, id);
	assert_int_equal(smsq_commit(q), SY_OK); /* waits for the sync in flight */
	assert_int_equal(smsq_pending(q), 10);
	assert_int_equal(as_st.started, 1);
	as_complete(false);
	assert_int_equal(t->n, 10);
	for (uint64_t id = 1; id <= 10; id++)
		assert_true(acked(t, id));
	/* The completion committed the next group and started its sync. */
	assert_int_equal(smsq_pending(q), 0);
	assert_int_equal(as_st.started, 2);
	assert_non_null(as_st.f);
	as_complete(true);
	assert_int_equal(t->n, 10);
	assert_true(smsq_failing(q));
	assert_true(smsq_unsynced(q));
	assert_non_null(strstr(smsq_errmsg(q), "fdatasync"));
	mark(q, 3, SMSQ_ENROUTE, SMSQ_SET_ATTEMPTS, 0);
	assert_int_equal(smsq_commit(q), SY_ERR_IO); /* the retry (cut, rewrite, sync) runs; the failure is told */
	assert_int_equal(as_st.started, 3);
	assert_int_equal(smsq_pending(q), 1);
	as_complete(false);
	assert_false(smsq_failing(q));
	for (uint64_t id = 11; id <= 20; id++)
		assert_true(acked(t, id));
	as_complete(false); /* the mark, committed by the completion */
	assert_int_equal(t->n, 21);
	/* smsq_sync: waits for the sync in flight and commits what waited. */
	put_id(q, 30, 30);
	assert_int_equal(smsq_commit(q), SY_OK);
	put_id(q, 31, 31);
	assert_int_equal(smsq_sync(q), SY_OK);
	assert_true(acked(t, 30) && acked(t, 31));
	assert_false(smsq_unsynced(q));
	/* Power cut with a sync in flight: its batch was never acknowledged. */
	put_id(q, 40, 40);
	assert_int_equal(smsq_commit(q), SY_OK);
	assert_non_null(as_st.f);
	uint32_t acks = t->n;
	pl_power_cut(q);
	assert_null(as_st.f);
	assert_int_equal(t->n, acks);
	q = open_q_opts(t, &as_env, 0, true, err, SY_OK);
	struct smsq_msg m;
	uint8_t buf[128];
	for (uint32_t i = 0; i < t->n; i++)
		if (t->recs[i].op == SMSQ_OP_PUT)
			assert_int_equal(smsq_get(q, t->recs[i].id, &m, buf, sizeof buf), SY_OK);
	assert_int_equal(smsq_get(q, 3, &m, buf, sizeof buf), SY_OK);
	assert_int_equal(m.state, SMSQ_ENROUTE);
	struct smsq_stats st;
	smsq_stats(q, &st);
	assert_int_equal(st.live, 22);
	assert_int_equal(smsq_close(q), SY_OK);
}

static void test_power_loss_full_async(void **state)
{
	struct tctx *t = *state;
	char err[SMSQ_ERRMSG_MAX];
	as_init();
	t->n = 0;
	struct smsq *q = open_q_opts(t, &as_env, SMSQ_SEGMENT_MIN, true, err, SY_OK);
	uint64_t id = 1;
	for (int b = 0; b < 40; b++) {
		for (int i = 0; i < 50; i++, id++) {
			put_id(q, id, id);
			if (id > 60 && id % 3 != 0)
				mark(q, id - 60, SMSQ_DELIVERED, SMSQ_SET_DONE, 0);
		}
		assert_int_equal(smsq_commit(q), SY_OK);
		if (b % 3 != 2 && as_st.f != NULL)
			as_complete(false); /* every third batch waits for the next */
	}
	assert_non_null(as_st.f);
	pl_power_cut(q);
	as_init();
	q = open_q_opts(t, &as_env, SMSQ_SEGMENT_MIN, true, err, SY_OK);
	uint64_t lost = 0, ok = 0;
	for (uint32_t i = 0; i < t->n; i++) {
		struct smsq_msg m;
		uint8_t buf[128];
		const struct done_rec *r = &t->recs[i];
		if (r->op == SMSQ_OP_PUT && r->rc == SY_OK && (r->id % 3 == 0 || r->id + 60 >= id)) {
			ok++;
			lost += smsq_get(q, r->id, &m, buf, sizeof buf) != SY_OK;
		}
	}
	assert_true(ok > 500);
	assert_int_equal(lost, 0);
	assert_int_equal(smsq_close(q), SY_OK);
}

/* ":memory:": the same rules with no files. */
static void test_memory_mode(void **state)
{
	struct tctx *t = *state;
	char err[SMSQ_ERRMSG_MAX];
	struct smsq_opts o = {.on_done = on_done, .arg = t, .err = err, .err_len = sizeof err};
	struct smsq *q;
	assert_int_equal(smsq_open(sy_live_files(), ":memory:", &o, &q), SY_OK);
	for (uint64_t id = 1; id <= 20; id++)
		put_id(q, id, id);
	put_id(q, 5, 99);
	mark(q, 3, SMSQ_DELIVERED, SMSQ_SET_DONE, 0);
	mark(q, 4, SMSQ_ENROUTE, SMSQ_SET_UPSTREAM_ID, 0);
	assert_int_equal(smsq_commit(q), SY_OK);
	assert_int_equal(t->recs[20].rc, SY_ERR_STATE);
	assert_false(smsq_unsynced(q));
	struct smsq_msg m, want;
	uint8_t buf[128], wbuf[128];
	assert_int_equal(smsq_get(q, 3, &m, buf, sizeof buf), SY_ERR_NOTFOUND);
	assert_int_equal(smsq_get(q, 9, &m, buf, sizeof buf), SY_OK);
	gen_msg(9, &want, wbuf);
	assert_msg_eq(&m, &want);
	assert_int_equal(smsq_recover(q, visit, t), SY_OK);
	assert_int_equal(t->seen_n, 19);
	assert_string_equal(t->seen[2].upstream_id, "up-4");
	assert_int_equal(access(t->path, F_OK), -1); /* nothing on disk */
	assert_int_equal(smsq_close(q), SY_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_group_commit_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_crash_recover, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_id_high_water, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_state_rules, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reentrant_callback, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_commit_failure_retry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_roundtrip_100k, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_body_limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_before_commit_holds, setup, teardown),
	    cmocka_unit_test(test_id_text),
	    cmocka_unit_test(test_crc32c),
	    cmocka_unit_test(test_log_codec),
	    cmocka_unit_test_setup_teardown(test_get_after_recovery, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_torn_tail_cut, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_torn_segment_header, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_index_shrinks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_index_same_low_bits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_corrupt_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_compaction_bounds_disk, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sync_counts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fsync_failure_repaired, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_power_loss_full, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_power_loss_normal, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_memory_mode, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_async_sync, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_power_loss_full_async, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
