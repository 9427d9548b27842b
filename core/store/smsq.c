/* smsq.c: the durable SMS queue on a segment log (smsq_log.h): a batch of
 * puts and marks in memory; a commit checks each entry against the index of
 * live messages, encodes one record per accepted entry into one buffer and
 * writes it at the tail with one write (one fdatasync with sync_full), then
 * runs the done callbacks in entry order. See smsq.h for the protocol. */
#include "smsq.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cdr.h"
#include "smsq_int.h"

static const char *const smsq_state_names[SMSQ_STATE_COUNT] = {
    [SMSQ_ACCEPTED] = "ACCEPTED",	    [SMSQ_ENROUTE] = "ENROUTE", [SMSQ_DELIVERED] = "DELIVERED",
    [SMSQ_UNDELIVERABLE] = "UNDELIVERABLE", [SMSQ_EXPIRED] = "EXPIRED", [SMSQ_REJECTED] = "REJECTED",
};

const char *smsq_state_name(enum smsq_state s)
{
	return (unsigned)s < SMSQ_STATE_COUNT ? smsq_state_names[s] : "?";
}

void smsq_set_str(char *dst, size_t cap, struct sy_str s)
{
	cdr_set_str(dst, cap, s);
}

/* Two digits per division: an id has 17 digits and is formatted several
 * times a message (the carrier's key, the submit_sm_resp, the receipt). */
static const char smsq_digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

size_t smsq_id_fmt(uint64_t id, char *buf)
{
	char tmp[20];
	size_t at = sizeof tmp; /* digits fill tmp from its end */
	while (id >= 100) {
		const char *d = &smsq_digit_pairs[2 * (id % 100)];
		id /= 100;
		tmp[--at] = d[1];
		tmp[--at] = d[0];
	}
	if (id >= 10) {
		tmp[--at] = smsq_digit_pairs[2 * id + 1];
		tmp[--at] = smsq_digit_pairs[2 * id];
	} else {
		tmp[--at] = (char)('0' + id);
	}
	size_t n = sizeof tmp - at;
	memcpy(buf, tmp + at, n);
	buf[n] = '\0';
	return n;
}

enum sy_rc smsq_id_parse(struct sy_str s, uint64_t *out)
{
	if (s.p == NULL || s.len == 0 || s.len > 19 || s.p[0] == '0')
		return SY_ERR_PARSE;
	uint64_t v = 0;
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return SY_ERR_PARSE;
		v = v * 10 + (uint64_t)(s.p[i] - '0'); /* 19 digits cannot wrap */
	}
	if (v > INT64_MAX)
		return SY_ERR_PARSE;
	*out = v;
	return SY_OK;
}

enum sy_rc smsq__err(struct smsq *q, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(q->errmsg, sizeof q->errmsg, fmt, ap);
	va_end(ap);
	return SY_ERR_IO;
}

bool smsq__buf_reserve(struct smsq_buf *b, size_t more)
{
	if (b->cap - b->len >= more)
		return true;
	size_t cap = b->cap != 0 ? b->cap : 64u << 10;
	while (cap - b->len < more)
		cap *= 2;
	uint8_t *p = realloc(b->p, cap);
	if (p == NULL)
		return false;
	b->p = p;
	b->cap = cap;
	return true;
}

/* ---- the commit ---- */

static enum sy_rc smsq_undo_push(struct smsq *q, uint8_t kind, const struct smsq_live *old)
{
	if (q->undo_n == q->undo_cap) {
		uint32_t cap = q->undo_cap != 0 ? q->undo_cap * 2 : 256;
		struct smsq_undo *u = realloc(q->undo, cap * sizeof *u);
		if (u == NULL)
			return SY_ERR_NOMEM;
		q->undo = u;
		q->undo_cap = cap;
	}
	q->undo[q->undo_n++] = (struct smsq_undo){.kind = kind, .old = *old};
	return SY_OK;
}

/* Puts the index back as it was before the batch, newest change first. */
static void smsq_undo_all(struct smsq *q)
{
	while (q->undo_n > 0) {
		const struct smsq_undo *u = &q->undo[--q->undo_n];
		struct smsq_live *l = smsq__find(q, u->old.id);
		if (u->kind == SMSQ_UNDO_CREATED) {
			free(l->rec);
			smsq__remove(q, u->old.id);
		} else if (u->kind == SMSQ_UNDO_CHANGED) {
			smsq__replace(q, l, &u->old);
		} else {
			smsq__insert(q, &u->old); /* its own slot was freed by the removal */
		}
	}
	q->wbuf.len = 0;
}

/* After a commit: what the batch removed is gone for good. */
static void smsq_undo_forget(struct smsq *q)
{
	for (uint32_t i = 0; i < q->undo_n; i++)
		if (q->undo[i].kind == SMSQ_UNDO_REMOVED)
			free(q->undo[i].old.rec);
	q->undo_n = 0;
}

static enum sy_rc smsq_apply_put(struct smsq *q, struct smsq_entry *e, uint64_t base, uint32_t seg)
{
	if (smsq__find(q, e->id) != NULL) {
		e->rc = SY_ERR_STATE;
		return SY_OK;
	}
	size_t len = smsq_log_put_size(&e->m);
	if (smsq__reserve(q) != SY_OK || !smsq__buf_reserve(&q->wbuf, len))
		return SY_ERR_NOMEM;
	struct smsq_live l = {.id = e->id, .off = base + q->wbuf.len, .seg = seg};
	uint8_t *rec = q->wbuf.p + q->wbuf.len;
	l.rec_len = (uint32_t)smsq_log_put_encode(SMSQ_REC_PUT, &e->m, q->arena + e->body_off, rec);
	q->wbuf.len += l.rec_len;
	smsq__cur_from_msg(&l.cur, &e->m);
	if (q->mem && (l.rec = malloc(l.rec_len)) == NULL)
		return SY_ERR_NOMEM;
	if (l.rec != NULL)
		memcpy(l.rec, rec, l.rec_len);
	if (smsq_undo_push(q, SMSQ_UNDO_CREATED, &l) != SY_OK) {
		free(l.rec);
		return SY_ERR_NOMEM;
	}
	smsq__insert(q, &l);
	e->rc = SY_OK;
	return SY_OK;
}

/* Final states are sticky: only a mark naming the same final state (to
 * clear dlr_pending) may change one. */
static enum sy_rc smsq_apply_mark(struct smsq *q, struct smsq_entry *e)
{
	struct smsq_live *l = smsq__find(q, e->id);
	if (l == NULL || (smsq_state_final(l->cur.state) && e->u.state != l->cur.state)) {
		e->rc = SY_ERR_NOTFOUND;
		return SY_OK;
	}
	if (!smsq__buf_reserve(&q->wbuf, SMSQ_LOG_MARK_MAX))
		return SY_ERR_NOMEM;
	struct smsq_update c = l->cur;
	smsq__cur_apply(&c, &e->u);
	bool gone = smsq__cur_gone(&c);
	if (smsq_undo_push(q, gone ? SMSQ_UNDO_REMOVED : SMSQ_UNDO_CHANGED, l) != SY_OK)
		return SY_ERR_NOMEM;
	q->wbuf.len += smsq_log_mark_encode(e->id, &e->u, q->wbuf.p + q->wbuf.len);
	if (gone)
		smsq__remove(q, e->id); /* an in-memory record is freed once committed */
	else
		l->cur = c;
	e->rc = SY_OK;
	return SY_OK;
}

/* Checks every entry against the index in order (so a batch sees its own
 * earlier entries) and encodes a record for each accepted one. */
static enum sy_rc smsq_apply_batch(struct smsq *q)
{
	q->wbuf.len = 0;
	q->undo_n = 0;
	uint64_t base = q->mem ? 0 : smsq__head(q)->size;
	uint32_t seg = q->mem ? 0 : smsq__head(q)->no;
	for (uint32_t i = 0; i < q->count; i++) {
		struct smsq_entry *e = sy_pool_at(&q->batch, i);
		if (i + 8 < q->count)
			smsq__prefetch_slot(q, ((struct smsq_entry *)sy_pool_at(&q->batch, i + 8))->id);
		if (i + 4 < q->count)
			smsq__prefetch_ent(q, ((struct smsq_entry *)sy_pool_at(&q->batch, i + 4))->id);
		enum sy_rc rc = e->op == SMSQ_OP_PUT ? smsq_apply_put(q, e, base, seg) : smsq_apply_mark(q, e);
		if (rc != SY_OK) {
			smsq_undo_all(q);
			return smsq__err(q, "sms queue: out of memory for a batch of %u", q->count);
		}
	}
	return SY_OK;
}

/* One write at the head; sync_full (not async): one fdatasync. On failure
 * the caller undoes the index; the tail written is cut by the next sync's
 * repair. */
static enum sy_rc smsq_write_batch(struct smsq *q, bool sync_now)
{
	struct smsq_seg *h = smsq__head(q);
	SY_ASSERT(q->ubuf.len == 0 && h->size == q->synced_off);
	if (q->wbuf.len == 0)
		return SY_OK;
	enum sy_rc rc = sy_env_file_write(q->env, h->f, h->size, q->wbuf.p, q->wbuf.len);
	if (rc != SY_OK) {
		q->broken = true;
		return smsq__file_err(q, rc, h->no, "write");
	}
	h->size += q->wbuf.len;
	q->st.bytes += q->wbuf.len;
	struct smsq_buf t = q->ubuf; /* kept until synced, to write again after a failure */
	q->ubuf = q->wbuf;
	q->wbuf = t;
	q->wbuf.len = 0;
	if (sync_now && (rc = smsq__head_sync(q)) != SY_OK) {
		q->ubuf.len = 0; /* the batch is kept and encoded again */
		h->size = q->synced_off;
		return rc;
	}
	return SY_OK;
}

/* Copies the batch's results out and empties it; returns how many. */
static uint32_t smsq_take_reports(struct smsq *q)
{
	uint32_t n = q->count;
	for (uint32_t i = 0; i < n; i++) {
		const struct smsq_entry *e = sy_pool_at(&q->batch, i);
		q->report[i] = (struct smsq_report){.id = e->id, .token = e->token, .op = e->op, .rc = e->rc};
		q->st.puts += e->op == SMSQ_OP_PUT;
		q->st.marks += e->op == SMSQ_OP_MARK;
		q->st.rejected += e->rc != SY_OK;
		if (e->op == SMSQ_OP_PUT && e->rc == SY_OK)
			q->hwm = SY_MAX(q->hwm, e->id);
	}
	q->st.commits++;
	/* Empty the batch before reporting so callbacks can add to it. */
	q->count = 0;
	q->bytes_used = 0;
	return n;
}

static void smsq_deliver(struct smsq *q, uint32_t n)
{
	q->reporting = true;
	for (uint32_t i = 0; i < n; i++) {
		const struct smsq_report *r = &q->report[i];
		q->on_done(q->arg, (enum smsq_op)r->op, r->id, r->token, (enum sy_rc)r->rc);
	}
	q->reporting = false;
}

static void smsq_report_all(struct smsq *q)
{
	smsq_deliver(q, smsq_take_reports(q));
}

/* The held batch is durable: its callbacks run now. */
static void smsq_release_held(struct smsq *q)
{
	uint32_t n = q->held_n;
	q->held_n = 0;
	q->failing = false;
	smsq_deliver(q, n);
}

static void smsq_sync_done(void *arg, enum sy_rc rc)
{
	struct smsq *q = arg;
	struct smsq_seg *h = smsq__head(q);
	SY_ASSERT(q->inflight && h->size == q->sync_to && !q->reporting);
	q->inflight = false;
	if (rc != SY_OK) {
		/* The kernel may have dropped the pages: the retry (the owner's
		 * next commit, smsq_unsynced() says so) cuts and rewrites. */
		q->broken = true;
		q->failing = true;
		q->st.errors++;
		smsq__file_err(q, rc, h->no, "fdatasync");
		return;
	}
	smsq__head_synced(q);
	smsq_release_held(q);
	/* What came in while the disk worked is the next group. */
	if (q->count > 0 && !q->waiting)
		(void)smsq_commit(q); /* a failure is counted and retried by the owner */
}

/* Makes the held batch durable: off the loop when the env can (its
 * callbacks then run from smsq_sync_done), else here. */
static enum sy_rc smsq_sync_held(struct smsq *q)
{
	SY_ASSERT(q->held_n > 0 && !q->inflight);
	bool repaired;
	enum sy_rc rc = smsq__head_repair(q, &repaired);
	if (rc == SY_OK && !q->draining) {
		q->sync_to = smsq__head(q)->size;
		rc = sy_env_file_sync_start(q->env, smsq__head(q)->f, smsq_sync_done, q);
		if (rc == SY_OK) {
			q->inflight = true;
			return SY_OK;
		}
		rc = SY_OK; /* the backend cannot: sync here */
	}
	if (rc == SY_OK)
		rc = smsq__head_sync(q);
	if (rc != SY_OK) {
		q->failing = true;
		q->st.errors++;
		return SY_ERR_IO;
	}
	smsq_release_held(q);
	return SY_OK;
}

enum sy_rc smsq_commit(struct smsq *q)
{
	SY_ASSERT(q != NULL && !q->reporting);
	if (q->inflight)
		return SY_OK; /* the batch waits for the sync in flight, then goes */
	if (q->held_n > 0) {
		/* Its sync failed: again, before anything new. The owner hears
		 * of the failure (SY_ERR_IO, errmsg) while the retry runs. */
		bool failed = q->failing;
		enum sy_rc rc = smsq_sync_held(q);
		return failed && q->held_n > 0 ? SY_ERR_IO : rc;
	}
	if (q->count == 0) {
		enum sy_rc rc = q->mem ? SY_OK : smsq__head_sync(q);
		q->failing = rc != SY_OK;
		q->st.errors += rc != SY_OK;
		return rc;
	}
	if (q->before_commit != NULL && !q->before_commit(q->arg)) {
		q->failing = true;
		q->st.held++;
		smsq__err(q, "sms queue: commit held: what must be durable first is not");
		return SY_ERR_IO;
	}
	enum sy_rc rc = smsq__prepare(q);
	if (rc == SY_OK)
		rc = smsq_apply_batch(q);
	bool hold = q->async && !q->draining;
	if (rc == SY_OK && !q->mem && (rc = smsq_write_batch(q, q->sync_full && !hold)) != SY_OK)
		smsq_undo_all(q);
	if (rc != SY_OK) {
		q->failing = true;
		q->st.errors++;
		return SY_ERR_IO;
	}
	smsq_undo_forget(q);
	smsq__shrink(q);
	if (hold && smsq__head(q)->size != q->synced_off) {
		/* Written; acknowledged once durable. The index has the batch
		 * already, so the next one is checked against it. */
		q->held_n = smsq_take_reports(q);
		return smsq_sync_held(q);
	}
	q->failing = false;
	smsq_report_all(q);
	return SY_OK;
}

bool smsq_unsynced(const struct smsq *q)
{
	return !q->mem && (q->broken || q->held_n > 0 || smsq__head((struct smsq *)q)->size != q->synced_off);
}

enum sy_rc smsq_sync(struct smsq *q)
{
	SY_ASSERT(q != NULL && !q->reporting);
	if (q->mem)
		return SY_OK;
	if (!q->async)
		return smsq__head_sync(q);
	/* Waits for the sync in flight (its callbacks run), then commits what
	 * waited for it with a sync here, so everything appended before the
	 * call is durable and reported when it returns SY_OK. */
	q->waiting = true;
	if (q->inflight)
		sy_env_file_sync_wait(q->env, smsq__head(q)->f);
	q->waiting = false;
	if (q->inflight)
		return smsq__err(q, "sms queue: the sync in flight did not finish"), SY_ERR_IO;
	q->draining = true;
	enum sy_rc rc = q->held_n > 0 ? smsq_sync_held(q) : SY_OK;
	if (rc == SY_OK && q->count > 0)
		rc = smsq_commit(q);
	if (rc == SY_OK)
		rc = smsq__head_sync(q);
	q->draining = false;
	return rc;
}

/* ---- appending ---- */

static enum sy_rc smsq_make_room(struct smsq *q, uint32_t body_len)
{
	/* A nested commit would report entries while their batch is being
	 * reported; the caller sheds the load instead. */
	if (q->count == q->batch_max || q->bytes_max - q->bytes_used < body_len) {
		/* With a sync in flight the commit waits: still full. */
		if (q->reporting || smsq_commit(q) != SY_OK || q->count == q->batch_max ||
		    q->bytes_max - q->bytes_used < body_len)
			return SY_ERR_FULL;
	}
	uint32_t idx;
	if (q->count == sy_pool_used(&q->batch) && sy_pool_grow(&q->batch, &idx) == NULL)
		return SY_ERR_NOMEM;
	return SY_OK;
}

/* The next entry; smsq_make_room() made sure it exists. */
static struct smsq_entry *smsq_append(struct smsq *q)
{
	return sy_pool_at(&q->batch, q->count++);
}

static void smsq_after_append(struct smsq *q)
{
	if (q->count == q->batch_max && !q->reporting)
		(void)smsq_commit(q); /* counted in errors; retried by the next call */
}

enum sy_rc smsq_put(struct smsq *q, const struct smsq_msg *m, uint64_t token)
{
	SY_ASSERT(q != NULL && m != NULL);
	SY_ASSERT(m->id != 0 && m->id <= INT64_MAX && (unsigned)m->state < SMSQ_STATE_COUNT);
	SY_ASSERT(m->body_len == 0 || m->body != NULL);
	if (m->body_len > SMSQ_BODY_MAX)
		return SY_ERR_INVAL;
	enum sy_rc r = smsq_make_room(q, m->body_len);
	if (r != SY_OK)
		return r;
	struct smsq_entry *e = smsq_append(q);
	e->op = SMSQ_OP_PUT;
	e->id = m->id;
	e->token = token;
	e->m = *m;
	e->m.body = NULL; /* the arena copy is used; the caller's buffer may go */
	e->body_off = q->bytes_used;
	if (m->body_len > 0)
		memcpy(q->arena + q->bytes_used, m->body, m->body_len);
	q->bytes_used += m->body_len;
	q->last_id = SY_MAX(q->last_id, m->id);
	smsq_after_append(q);
	return SY_OK;
}

enum sy_rc smsq_mark(struct smsq *q, uint64_t id, const struct smsq_update *u, uint64_t token)
{
	SY_ASSERT(q != NULL && u != NULL);
	SY_ASSERT(id != 0 && id <= INT64_MAX && (unsigned)u->state < SMSQ_STATE_COUNT);
	enum sy_rc r = smsq_make_room(q, 0);
	if (r != SY_OK)
		return r;
	struct smsq_entry *e = smsq_append(q);
	e->op = SMSQ_OP_MARK;
	e->id = id;
	e->token = token;
	e->body_off = 0;
	e->u = *u;
	smsq_after_append(q);
	return SY_OK;
}

/* ---- opening and closing ---- */

static void smsq_free(struct smsq *q)
{
	for (uint32_t i = 0; i < q->seg_n; i++)
		sy_env_file_close(q->env, q->segs[i].f);
	if (q->first_f != NULL)
		sy_env_file_close(q->env, q->first_f);
	for (uint32_t i = 0; q->mem && q->slot != NULL && i <= q->slot_mask; i++)
		if (q->slot[i].idx1 != 0)
			free(q->ent[q->slot[i].idx1 - 1].rec);
	smsq_undo_forget(q);
	free(q->segs);
	free(q->ent);
	free(q->free_ent);
	free(q->slot);
	free(q->undo);
	free(q->wbuf.p);
	free(q->ubuf.p);
	free(q->rbuf);
	sy_pool_free(&q->batch);
	free(q->arena);
	free(q->report);
	free(q);
}

static enum sy_rc smsq_check_opts(struct smsq *q, const char *path, const struct smsq_opts *o)
{
	if (o->on_done == NULL)
		return smsq__err(q, "sms queue: on_done callback missing"), SY_ERR_INVAL;
	if (o->batch_max > SMSQ_BATCH_MAX)
		return smsq__err(q, "sms queue: batch_max %u above %d", o->batch_max, SMSQ_BATCH_MAX), SY_ERR_INVAL;
	if (o->batch_bytes_max != 0 && o->batch_bytes_max < SMSQ_BODY_MAX)
		return smsq__err(q, "sms queue: batch_bytes_max %u below %d", o->batch_bytes_max, SMSQ_BODY_MAX),
		       SY_ERR_INVAL;
	if (o->segment_bytes != 0 && o->segment_bytes < SMSQ_SEGMENT_MIN)
		return smsq__err(q, "sms queue: segment_bytes %u below %u", o->segment_bytes, SMSQ_SEGMENT_MIN),
		       SY_ERR_INVAL;
	if (strlen(path) + 1 > sizeof q->dir)
		return smsq__err(q, "sms queue: path too long: %s", path), SY_ERR_INVAL;
	return SY_OK;
}

static enum sy_rc smsq_alloc(struct smsq *q, const struct smsq_opts *opts)
{
	q->on_done = opts->on_done;
	q->arg = opts->arg;
	q->before_commit = opts->before_commit;
	q->sync_full = opts->sync_full;
	q->async = opts->sync_full && q->env->ops->file_sync_start != NULL;
	q->batch_max = opts->batch_max != 0 ? opts->batch_max : SMSQ_BATCH_DEFAULT;
	q->bytes_max = opts->batch_bytes_max != 0 ? opts->batch_bytes_max : SMSQ_BATCH_BYTES_DEFAULT;
	q->seg_max = opts->segment_bytes != 0 ? opts->segment_bytes : SMSQ_SEGMENT_DEFAULT;
	q->report = calloc(q->batch_max, sizeof *q->report);
	q->arena = malloc(q->bytes_max);
	q->rbuf = malloc(SMSQ_LOG_REC_MAX);
	if (sy_pool_init(&q->batch, sizeof(struct smsq_entry), q->batch_max) != SY_OK || q->report == NULL ||
	    q->arena == NULL || q->rbuf == NULL || smsq__grow_slots(q) != SY_OK) {
		smsq__err(q, "sms queue: out of memory for a batch of %u", q->batch_max);
		return SY_ERR_NOMEM;
	}
	return SY_OK;
}

enum sy_rc smsq_open(const struct sy_env *env, const char *path, const struct smsq_opts *opts, struct smsq **out)
{
	SY_ASSERT(env != NULL && path != NULL && opts != NULL && out != NULL);
	*out = NULL;
	if (opts->err != NULL && opts->err_len > 0)
		opts->err[0] = '\0';
	struct smsq *q = calloc(1, sizeof *q);
	if (q == NULL)
		return SY_ERR_NOMEM;
	q->env = env;
	enum sy_rc r = smsq_check_opts(q, path, opts);
	if (r == SY_OK)
		r = smsq_alloc(q, opts);
	if (r != SY_OK)
		goto out_free;
	snprintf(q->dir, sizeof q->dir, "%s", path);
	q->mem = strcmp(path, ":memory:") == 0;
	q->async = q->async && !q->mem;
	if (!q->mem && (r = smsq__open_log(q)) != SY_OK)
		goto out_free;
	*out = q;
	return SY_OK;
out_free:
	if (opts->err != NULL && opts->err_len > 0)
		snprintf(opts->err, opts->err_len, "%s", q->errmsg);
	smsq_free(q);
	return r;
}

/* ---- reading ---- */

static bool smsq_is_live(const struct smsq_live *l, uint32_t arg)
{
	(void)arg;
	return !smsq_state_final(l->cur.state);
}

static bool smsq_owes_dlr(const struct smsq_live *l, uint32_t arg)
{
	(void)arg;
	return smsq_state_final(l->cur.state) && l->cur.dlr_pending;
}

/* The ids are taken first: a visitor may call smsq_get() (its own buffer)
 * or append to the batch, which leaves the index alone until a commit. */
static enum sy_rc smsq_walk(struct smsq *q, bool (*match)(const struct smsq_live *, uint32_t), smsq_visit_fn fn,
			    void *arg)
{
	SY_ASSERT(q != NULL && fn != NULL);
	uint64_t *ids;
	uint32_t n;
	enum sy_rc r = smsq__collect(q, match, 0, &ids, &n);
	if (r != SY_OK)
		return r;
	uint8_t *buf = malloc(SMSQ_LOG_REC_MAX);
	if (buf == NULL)
		r = smsq__err(q, "sms queue: out of memory");
	for (uint32_t i = 0; i < n && r == SY_OK; i++) {
		const struct smsq_live *l = smsq__find(q, ids[i]);
		struct smsq_msg m;
		if (l == NULL || !match(l, 0))
			continue;
		if ((r = smsq__load(q, l, buf, &m)) == SY_OK)
			r = fn(arg, &m);
	}
	free(buf);
	free(ids);
	return r;
}

enum sy_rc smsq_recover(struct smsq *q, smsq_visit_fn fn, void *arg)
{
	return smsq_walk(q, smsq_is_live, fn, arg);
}

enum sy_rc smsq_recover_dlr(struct smsq *q, smsq_visit_fn fn, void *arg)
{
	return smsq_walk(q, smsq_owes_dlr, fn, arg);
}

enum sy_rc smsq_get(struct smsq *q, uint64_t id, struct smsq_msg *out, uint8_t *body_buf, size_t body_cap)
{
	SY_ASSERT(q != NULL && out != NULL && (body_buf != NULL || body_cap == 0));
	const struct smsq_live *l = id != 0 && id <= INT64_MAX ? smsq__find(q, id) : NULL;
	if (l == NULL)
		return SY_ERR_NOTFOUND;
	enum sy_rc r = smsq__load(q, l, q->rbuf, out);
	if (r != SY_OK)
		return r;
	if (out->body_len > body_cap) {
		r = SY_ERR_FULL;
	} else if (out->body_len > 0) {
		memcpy(body_buf, out->body, out->body_len);
	}
	out->body = r == SY_OK ? body_buf : NULL;
	return r;
}

/* ---- closing and accessors ---- */

enum sy_rc smsq_close(struct smsq *q)
{
	if (q == NULL)
		return SY_OK;
	q->draining = true; /* nothing left in flight */
	enum sy_rc r = SY_OK;
	if (q->inflight || q->held_n > 0)
		r = smsq_sync(q);
	q->draining = true;
	if (r == SY_OK)
		r = smsq_commit(q);
	if (r == SY_OK)
		r = smsq_sync(q);
	smsq_free(q);
	return r;
}

void smsq_abandon(struct smsq *q)
{
	if (q != NULL)
		smsq_free(q);
}

uint64_t smsq_last_id(const struct smsq *q)
{
	return q->last_id;
}

uint32_t smsq_pending(const struct smsq *q)
{
	return q->count;
}

bool smsq_failing(const struct smsq *q)
{
	return q->failing;
}

const char *smsq_errmsg(const struct smsq *q)
{
	return q->errmsg;
}

void smsq_stats(const struct smsq *q, struct smsq_stats *out)
{
	*out = q->st;
	out->pending = q->count;
	out->live = q->live_n;
	out->segments = q->seg_n;
	out->index_bytes = smsq__index_bytes(q);
}
