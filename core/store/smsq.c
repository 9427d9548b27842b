/* smsq.c: the durable SMS queue: a batch of puts and marks in memory, one
 * sqlite transaction per commit (prepared INSERT/UPDATE per entry), then the
 * done callbacks in entry order. See smsq.h for the exactly-once protocol. */
#include "smsq.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cdr.h"
#include "core/pool.h"
#include "db.h"

/* One pending put or mark. The body of a put lives in the batch arena. */
struct smsq_entry {
	uint8_t op;
	uint8_t rc; /* enum sy_rc, set by the transaction */
	uint32_t body_off;
	uint64_t id;
	uint64_t token;
	union {
		struct smsq_msg m;
		struct smsq_update u;
	};
};

/* What the callbacks need, copied out so the batch is free for entries the
 * callbacks add. */
struct smsq_report {
	uint64_t id, token;
	uint8_t op, rc;
};

struct smsq {
	struct store_db *db;
	smsq_done_fn on_done;
	void *arg;
	bool (*before_commit)(void *arg);
	bool failing; /* the last commit did not happen */
	uint32_t batch_max, bytes_max;
	uint32_t count, bytes_used;
	struct sy_pool batch; /* entries 0..count-1; grown to the largest batch yet */
	uint8_t *arena;
	struct smsq_report *report;
	bool reporting; /* inside the done callbacks */
	uint64_t last_id;
	uint64_t hwm_stored; /* last_id as the file has it */
	struct smsq_stats st;
	char errmsg[SMSQ_ERRMSG_MAX];
};

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

size_t smsq_id_fmt(uint64_t id, char *buf)
{
	char tmp[20];
	size_t n = 0;
	do {
		tmp[n++] = (char)('0' + id % 10);
		id /= 10;
	} while (id != 0);
	for (size_t i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
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

/* ---- schema ---- */

/* Columns in the order the INSERT binds and the SELECTs read them. */
#define SMSQ_COLS                                                                                                      \
	"id,system_id,src_ton,src_npi,src,dst_ton,dst_npi,dst,data_coding,esm_class,registered_delivery,"              \
	"submit_ns,expiry_ns,body,seg_ref,seg_total,seg_seq,carrier,state,attempts,next_attempt_ns,"                   \
	"upstream_id,dlr_pending,error_code,done_ns"

/* The table is a queue, not an archive: a row is deleted once its message
 * is final and no receipt is owed (the MDR is the permanent record). So it
 * holds only live messages and owed receipts, recovery's full scan is short,
 * and no index is needed: one would cost 40% of the put rate. */
static const char smsq_schema[] =
    "CREATE TABLE IF NOT EXISTS msgs ("
    "id INTEGER PRIMARY KEY,"
    "system_id TEXT NOT NULL,"
    "src_ton INTEGER NOT NULL, src_npi INTEGER NOT NULL, src TEXT NOT NULL,"
    "dst_ton INTEGER NOT NULL, dst_npi INTEGER NOT NULL, dst TEXT NOT NULL,"
    "data_coding INTEGER NOT NULL, esm_class INTEGER NOT NULL,"
    "registered_delivery INTEGER NOT NULL,"
    "submit_ns INTEGER NOT NULL, expiry_ns INTEGER NOT NULL,"
    "body BLOB NOT NULL,"
    "seg_ref INTEGER NOT NULL, seg_total INTEGER NOT NULL, seg_seq INTEGER NOT NULL,"
    "carrier TEXT NOT NULL, state INTEGER NOT NULL, attempts INTEGER NOT NULL,"
    "next_attempt_ns INTEGER NOT NULL, upstream_id TEXT NOT NULL,"
    "dlr_pending INTEGER NOT NULL, error_code INTEGER NOT NULL, done_ns INTEGER NOT NULL);"
    /* Final rows are deleted, so max(id) can fall below ids already
     * handed out: the highest id ever stored is kept here, per batch. */
    "CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL);";

static const char smsq_hwm_sql[] = "INSERT OR REPLACE INTO meta (k, v) VALUES ('last_id', ?1)";

/* OR IGNORE: a duplicate id is reported to its own token (SY_ERR_STATE)
 * instead of failing, and so blocking, the whole batch. */
static const char smsq_insert_sql[] = "INSERT OR IGNORE INTO msgs (" SMSQ_COLS ") VALUES "
				      "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";

/* A NULL parameter keeps the column. Final states are sticky: only a mark
 * naming the same final state (clearing dlr_pending) may touch them. */
static const char smsq_update_sql[] =
    "UPDATE msgs SET state=?2, attempts=coalesce(?3,attempts), next_attempt_ns=coalesce(?4,next_attempt_ns),"
    "carrier=coalesce(?5,carrier), upstream_id=coalesce(?6,upstream_id), dlr_pending=coalesce(?7,dlr_pending),"
    "error_code=coalesce(?8,error_code), done_ns=coalesce(?9,done_ns) WHERE id=?1 AND (state<2 OR state=?2)";

/* A final mark that leaves no receipt owed removes the row; ?3 is the
 * mark's dlr_pending or NULL when it does not set it. */
static const char smsq_delete_sql[] =
    "DELETE FROM msgs WHERE id=?1 AND (state<2 OR state=?2) AND NOT coalesce(?3,dlr_pending)";

static const char smsq_live_sql[] = "SELECT " SMSQ_COLS " FROM msgs WHERE state<2 ORDER BY id";
static const char smsq_dlr_sql[] = "SELECT " SMSQ_COLS " FROM msgs WHERE state>=2 AND dlr_pending=1 ORDER BY id";
static const char smsq_get_sql[] = "SELECT " SMSQ_COLS " FROM msgs WHERE id=?1";

#define SMSQ_SCHEMA_VERSION 1

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static enum sy_rc
smsq_err(struct smsq *q, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(q->errmsg, sizeof q->errmsg, fmt, ap);
	va_end(ap);
	return SY_ERR_IO;
}

static enum sy_rc smsq_db_err(struct smsq *q)
{
	return smsq_err(q, "sms queue: sqlite: %s", store_db_errmsg(q->db));
}

static enum sy_rc smsq_query_u64(struct smsq *q, const char *sql, uint64_t *out)
{
	sqlite3_stmt *st;
	if (store_db_stmt(q->db, sql, &st) != SY_OK)
		return smsq_db_err(q);
	int rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_db_fail(q->db, rc, sql);
		return smsq_db_err(q);
	}
	return SY_OK;
}

static enum sy_rc smsq_open_db(const struct sy_env *env, struct smsq *q, const char *path, const struct smsq_opts *o)
{
	struct store_db_opts dbo = {.sync_full = o->sync_full, .busy_timeout_ms = o->busy_timeout_ms};
	char err[STORE_DB_ERRMSG_MAX + 64];
	if (store_db_open(env, path, &dbo, &q->db, err, sizeof err) != SY_OK)
		return smsq_err(q, "sms queue: %s", err);
	uint64_t version = 0;
	if (smsq_query_u64(q, "PRAGMA user_version", &version) != SY_OK)
		return SY_ERR_IO;
	if (version > SMSQ_SCHEMA_VERSION)
		return smsq_err(q, "sms queue: %s has schema version %llu, this build knows %d", path,
				(unsigned long long)version, SMSQ_SCHEMA_VERSION);
	/* A bigger page cache keeps the tree's upper levels and the partial
	 * indexes in memory at 100K inserts/s (negative: KiB). */
	if (store_db_exec(q->db, smsq_schema) != SY_OK || store_db_exec(q->db, "PRAGMA cache_size=-16384") != SY_OK ||
	    (version == 0 && store_db_exec(q->db, "PRAGMA user_version=1") != SY_OK))
		return smsq_err(q, "sms queue: %s: %s", path, store_db_errmsg(q->db));
	/* An INTEGER PRIMARY KEY max() is one b-tree descent. */
	uint64_t hwm = 0;
	if (smsq_query_u64(q, "SELECT max(id) FROM msgs", &q->last_id) != SY_OK ||
	    smsq_query_u64(q, "SELECT v FROM meta WHERE k = 'last_id'", &hwm) != SY_OK)
		return SY_ERR_IO;
	q->last_id = SY_MAX(q->last_id, hwm);
	q->hwm_stored = q->last_id;
	return SY_OK;
}

static void smsq_free(struct smsq *q)
{
	store_db_close(q->db);
	sy_pool_free(&q->batch);
	free(q->arena);
	free(q->report);
	free(q);
}

static enum sy_rc smsq_check_opts(struct smsq *q, const struct smsq_opts *o)
{
	if (o->on_done == NULL)
		return smsq_err(q, "sms queue: on_done callback missing"), SY_ERR_INVAL;
	if (o->batch_max > SMSQ_BATCH_MAX)
		return smsq_err(q, "sms queue: batch_max %u above %d", o->batch_max, SMSQ_BATCH_MAX), SY_ERR_INVAL;
	if (o->batch_bytes_max != 0 && o->batch_bytes_max < SMSQ_BODY_MAX)
		return smsq_err(q, "sms queue: batch_bytes_max %u below %d", o->batch_bytes_max, SMSQ_BODY_MAX),
		       SY_ERR_INVAL;
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
	enum sy_rc r = smsq_check_opts(q, opts);
	if (r != SY_OK)
		goto out_free;
	q->on_done = opts->on_done;
	q->arg = opts->arg;
	q->before_commit = opts->before_commit;
	q->batch_max = opts->batch_max != 0 ? opts->batch_max : SMSQ_BATCH_DEFAULT;
	q->bytes_max = opts->batch_bytes_max != 0 ? opts->batch_bytes_max : SMSQ_BATCH_BYTES_DEFAULT;
	q->report = calloc(q->batch_max, sizeof *q->report);
	q->arena = malloc(q->bytes_max);
	if (sy_pool_init(&q->batch, sizeof(struct smsq_entry), q->batch_max) != SY_OK || q->report == NULL ||
	    q->arena == NULL) {
		r = SY_ERR_NOMEM;
		smsq_err(q, "sms queue: out of memory for a batch of %u", q->batch_max);
		goto out_free;
	}
	r = smsq_open_db(env, q, path, opts);
	if (r != SY_OK)
		goto out_free;
	*out = q;
	return SY_OK;
out_free:
	if (opts->err != NULL && opts->err_len > 0)
		snprintf(opts->err, opts->err_len, "%s", q->errmsg);
	smsq_free(q);
	return r;
}

/* ---- the transaction ---- */

/* Text is bound SQLITE_STATIC: the batch entry outlives the step. The
 * length is bounded by the array even if a caller forgot the NUL. */
static int smsq_bind_text(sqlite3_stmt *st, int i, const char *s, size_t cap)
{
	return sqlite3_bind_text(st, i, s, (int)strnlen(s, cap - 1), SQLITE_STATIC);
}

#define SMSQ_BIND_STR(st, i, obj, f) smsq_bind_text((st), (i), (obj)->f, sizeof((obj)->f))

static int smsq_bind_msg(sqlite3_stmt *st, const struct smsq_msg *m, const uint8_t *body)
{
	int rc = sqlite3_bind_int64(st, 1, (sqlite3_int64)m->id);
	rc |= SMSQ_BIND_STR(st, 2, m, system_id);
	rc |= sqlite3_bind_int(st, 3, m->src.ton);
	rc |= sqlite3_bind_int(st, 4, m->src.npi);
	rc |= SMSQ_BIND_STR(st, 5, &m->src, digits);
	rc |= sqlite3_bind_int(st, 6, m->dst.ton);
	rc |= sqlite3_bind_int(st, 7, m->dst.npi);
	rc |= SMSQ_BIND_STR(st, 8, &m->dst, digits);
	rc |= sqlite3_bind_int(st, 9, m->data_coding);
	rc |= sqlite3_bind_int(st, 10, m->esm_class);
	rc |= sqlite3_bind_int(st, 11, m->registered_delivery);
	rc |= sqlite3_bind_int64(st, 12, (sqlite3_int64)m->submit_ns);
	rc |= sqlite3_bind_int64(st, 13, (sqlite3_int64)m->expiry_ns);
	rc |= sqlite3_bind_blob(st, 14, m->body_len ? (const void *)body : "", (int)m->body_len, SQLITE_STATIC);
	rc |= sqlite3_bind_int(st, 15, m->seg_ref);
	rc |= sqlite3_bind_int(st, 16, m->seg_total);
	rc |= sqlite3_bind_int(st, 17, m->seg_seq);
	rc |= SMSQ_BIND_STR(st, 18, m, carrier);
	rc |= sqlite3_bind_int(st, 19, (int)m->state);
	rc |= sqlite3_bind_int64(st, 20, m->attempts);
	rc |= sqlite3_bind_int64(st, 21, (sqlite3_int64)m->next_attempt_ns);
	rc |= SMSQ_BIND_STR(st, 22, m, upstream_id);
	rc |= sqlite3_bind_int(st, 23, m->dlr_pending);
	rc |= sqlite3_bind_int64(st, 24, m->error_code);
	rc |= sqlite3_bind_int64(st, 25, (sqlite3_int64)m->done_ns);
	return rc; /* SQLITE_OK is 0, so any failure leaves a bit set */
}

/* Binds an optional integer: NULL keeps the column (see smsq_update_sql). */
static int smsq_bind_opt(sqlite3_stmt *st, int i, bool set, uint64_t v)
{
	return set ? sqlite3_bind_int64(st, i, (sqlite3_int64)v) : sqlite3_bind_null(st, i);
}

static int smsq_bind_update(sqlite3_stmt *st, uint64_t id, const struct smsq_update *u)
{
	int rc = sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	rc |= sqlite3_bind_int(st, 2, (int)u->state);
	rc |= smsq_bind_opt(st, 3, u->set & SMSQ_SET_ATTEMPTS, u->attempts);
	rc |= smsq_bind_opt(st, 4, u->set & SMSQ_SET_NEXT_ATTEMPT, u->next_attempt_ns);
	rc |= u->set & SMSQ_SET_CARRIER ? SMSQ_BIND_STR(st, 5, u, carrier) : sqlite3_bind_null(st, 5);
	rc |= u->set & SMSQ_SET_UPSTREAM_ID ? SMSQ_BIND_STR(st, 6, u, upstream_id) : sqlite3_bind_null(st, 6);
	rc |= smsq_bind_opt(st, 7, u->set & SMSQ_SET_DLR_PENDING, u->dlr_pending);
	rc |= smsq_bind_opt(st, 8, u->set & SMSQ_SET_ERROR, u->error_code);
	rc |= smsq_bind_opt(st, 9, u->set & SMSQ_SET_DONE, u->done_ns);
	return rc;
}

struct smsq_stmts {
	sqlite3_stmt *ins, *upd, *del;
};

/* Steps a bound statement; *changed says whether it touched a row. */
static int smsq_step(struct smsq *q, sqlite3_stmt *st, int bind_rc, bool *changed)
{
	int rc = bind_rc == SQLITE_OK ? sqlite3_step(st) : bind_rc;
	sqlite3_reset(st);
	*changed = rc == SQLITE_DONE && sqlite3_changes(store_db_handle(q->db)) > 0;
	return rc;
}

/* A mark to a final state with no receipt owed deletes the row; one that
 * does not say whether a receipt is owed tries the delete, then updates. */
static int smsq_step_mark(struct smsq *q, const struct smsq_stmts *s, struct smsq_entry *e)
{
	const struct smsq_update *u = &e->u;
	bool dlr_set = (u->set & SMSQ_SET_DLR_PENDING) != 0;
	bool changed = false;
	int rc;
	if (smsq_state_final(u->state) && !(dlr_set && u->dlr_pending)) {
		int b = sqlite3_bind_int64(s->del, 1, (sqlite3_int64)e->id);
		b |= sqlite3_bind_int(s->del, 2, (int)u->state);
		b |= smsq_bind_opt(s->del, 3, dlr_set, u->dlr_pending);
		if ((rc = smsq_step(q, s->del, b, &changed)) != SQLITE_DONE)
			return rc;
		if (changed || dlr_set) {
			e->rc = changed ? SY_OK : SY_ERR_NOTFOUND;
			return SQLITE_DONE;
		}
	}
	if ((rc = smsq_step(q, s->upd, smsq_bind_update(s->upd, e->id, u), &changed)) != SQLITE_DONE)
		return rc;
	e->rc = changed ? SY_OK : SY_ERR_NOTFOUND;
	return SQLITE_DONE;
}

/* Runs one entry; its rc says whether a row changed. */
static int smsq_step_entry(struct smsq *q, const struct smsq_stmts *s, struct smsq_entry *e)
{
	if (e->op == SMSQ_OP_MARK)
		return smsq_step_mark(q, s, e);
	bool changed = false;
	int rc = smsq_step(q, s->ins, smsq_bind_msg(s->ins, &e->m, q->arena + e->body_off), &changed);
	e->rc = changed ? SY_OK : SY_ERR_STATE;
	return rc;
}

static enum sy_rc smsq_store_hwm(struct smsq *q)
{
	sqlite3_stmt *st;
	if (store_db_stmt(q->db, smsq_hwm_sql, &st) != SY_OK)
		return SY_ERR_IO;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)q->last_id);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_db_fail(q->db, rc, "store the id high-water mark");
		return SY_ERR_IO;
	}
	return SY_OK;
}

static enum sy_rc smsq_write_batch(struct smsq *q)
{
	struct smsq_stmts s;
	if (store_db_stmt(q->db, smsq_insert_sql, &s.ins) != SY_OK ||
	    store_db_stmt(q->db, smsq_update_sql, &s.upd) != SY_OK ||
	    store_db_stmt(q->db, smsq_delete_sql, &s.del) != SY_OK || store_db_begin(q->db) != SY_OK)
		return smsq_db_err(q);
	for (uint32_t i = 0; i < q->count; i++) {
		struct smsq_entry *e = sy_pool_at(&q->batch, i);
		int rc = smsq_step_entry(q, &s, e);
		if (rc != SQLITE_DONE) {
			store_db_fail(q->db, rc, e->op == SMSQ_OP_PUT ? "insert message" : "update message");
			goto out_rollback;
		}
	}
	if (q->last_id > q->hwm_stored && smsq_store_hwm(q) != SY_OK)
		goto out_rollback;
	if (store_db_commit(q->db) != SY_OK)
		goto out_rollback;
	q->hwm_stored = q->last_id;
	return SY_OK;
out_rollback:
	store_db_rollback(q->db);
	return smsq_db_err(q);
}

enum sy_rc smsq_commit(struct smsq *q)
{
	SY_ASSERT(q != NULL && !q->reporting);
	if (q->count == 0)
		return SY_OK;
	if (q->before_commit != NULL && !q->before_commit(q->arg)) {
		q->failing = true;
		q->st.held++;
		smsq_err(q, "sms queue: commit held: what must be durable first is not");
		return SY_ERR_IO;
	}
	if (smsq_write_batch(q) != SY_OK) {
		q->failing = true;
		q->st.errors++;
		return SY_ERR_IO;
	}
	q->failing = false;
	uint32_t n = q->count;
	for (uint32_t i = 0; i < n; i++) {
		const struct smsq_entry *e = sy_pool_at(&q->batch, i);
		q->report[i] = (struct smsq_report){.id = e->id, .token = e->token, .op = e->op, .rc = e->rc};
		q->st.puts += e->op == SMSQ_OP_PUT;
		q->st.marks += e->op == SMSQ_OP_MARK;
		q->st.rejected += e->rc != SY_OK;
	}
	q->st.commits++;
	/* Empty the batch before reporting so callbacks can add to it. */
	q->count = 0;
	q->bytes_used = 0;
	q->reporting = true;
	for (uint32_t i = 0; i < n; i++) {
		const struct smsq_report *r = &q->report[i];
		q->on_done(q->arg, (enum smsq_op)r->op, r->id, r->token, (enum sy_rc)r->rc);
	}
	q->reporting = false;
	return SY_OK;
}

/* ---- appending ---- */

static enum sy_rc smsq_make_room(struct smsq *q, uint32_t body_len)
{
	/* A nested commit would report entries while their batch is being
	 * reported; the caller sheds the load instead. */
	if ((q->count == q->batch_max || q->bytes_max - q->bytes_used < body_len) &&
	    (q->reporting || smsq_commit(q) != SY_OK))
		return SY_ERR_FULL;
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

/* ---- reading ---- */

static void smsq_col_str(sqlite3_stmt *st, int i, char *dst, size_t cap)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	size_t n = s != NULL ? (size_t)sqlite3_column_bytes(st, i) : 0;
	smsq_set_str(dst, cap, (struct sy_str){s, n});
}

#define SMSQ_COL_STR(st, i, obj, f) smsq_col_str((st), (i), (obj)->f, sizeof((obj)->f))

/* Fills m from a row in SMSQ_COLS order; m->body points into the row. */
static void smsq_read_row(sqlite3_stmt *st, struct smsq_msg *m)
{
	memset(m, 0, sizeof *m);
	m->id = (uint64_t)sqlite3_column_int64(st, 0);
	SMSQ_COL_STR(st, 1, m, system_id);
	m->src.ton = (uint8_t)sqlite3_column_int(st, 2);
	m->src.npi = (uint8_t)sqlite3_column_int(st, 3);
	SMSQ_COL_STR(st, 4, &m->src, digits);
	m->dst.ton = (uint8_t)sqlite3_column_int(st, 5);
	m->dst.npi = (uint8_t)sqlite3_column_int(st, 6);
	SMSQ_COL_STR(st, 7, &m->dst, digits);
	m->data_coding = (uint8_t)sqlite3_column_int(st, 8);
	m->esm_class = (uint8_t)sqlite3_column_int(st, 9);
	m->registered_delivery = (uint8_t)sqlite3_column_int(st, 10);
	m->submit_ns = (uint64_t)sqlite3_column_int64(st, 11);
	m->expiry_ns = (uint64_t)sqlite3_column_int64(st, 12);
	m->body = sqlite3_column_blob(st, 13);
	m->body_len = (uint32_t)SY_MIN((int64_t)sqlite3_column_bytes(st, 13), (int64_t)SMSQ_BODY_MAX);
	/* sqlite gives NULL for an empty blob; callers may memcpy(dst, body, 0). */
	static const uint8_t empty[1];
	if (m->body == NULL)
		m->body = empty, m->body_len = 0;
	m->seg_ref = (uint16_t)sqlite3_column_int(st, 14);
	m->seg_total = (uint8_t)sqlite3_column_int(st, 15);
	m->seg_seq = (uint8_t)sqlite3_column_int(st, 16);
	SMSQ_COL_STR(st, 17, m, carrier);
	int state = sqlite3_column_int(st, 18);
	/* A file written by a newer build may hold states we do not know:
	 * treat them as live so nothing acknowledged is dropped. */
	m->state = state >= 0 && state < SMSQ_STATE_COUNT ? (enum smsq_state)state : SMSQ_ACCEPTED;
	m->attempts = (uint32_t)sqlite3_column_int64(st, 19);
	m->next_attempt_ns = (uint64_t)sqlite3_column_int64(st, 20);
	SMSQ_COL_STR(st, 21, m, upstream_id);
	m->dlr_pending = sqlite3_column_int(st, 22) != 0;
	m->error_code = (uint32_t)sqlite3_column_int64(st, 23);
	m->done_ns = (uint64_t)sqlite3_column_int64(st, 24);
}

/* The SELECT is prepared fresh, not cached: a visitor may call smsq_get(),
 * which must not reset a statement we are still stepping. */
static enum sy_rc smsq_walk(struct smsq *q, const char *sql, smsq_visit_fn fn, void *arg)
{
	SY_ASSERT(q != NULL && fn != NULL);
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(store_db_handle(q->db), sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		store_db_fail(q->db, rc, "prepare recovery");
		return smsq_db_err(q);
	}
	enum sy_rc r = SY_OK;
	struct smsq_msg m;
	while (r == SY_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		smsq_read_row(st, &m);
		r = fn(arg, &m);
	}
	if (r == SY_OK && rc != SQLITE_DONE) {
		store_db_fail(q->db, rc, "recovery");
		r = smsq_db_err(q);
	}
	sqlite3_finalize(st);
	return r;
}

enum sy_rc smsq_recover(struct smsq *q, smsq_visit_fn fn, void *arg)
{
	return smsq_walk(q, smsq_live_sql, fn, arg);
}

enum sy_rc smsq_recover_dlr(struct smsq *q, smsq_visit_fn fn, void *arg)
{
	return smsq_walk(q, smsq_dlr_sql, fn, arg);
}

enum sy_rc smsq_get(struct smsq *q, uint64_t id, struct smsq_msg *out, uint8_t *body_buf, size_t body_cap)
{
	SY_ASSERT(q != NULL && out != NULL && (body_buf != NULL || body_cap == 0));
	sqlite3_stmt *st;
	if (id == 0 || id > INT64_MAX)
		return SY_ERR_NOTFOUND;
	if (store_db_stmt(q->db, smsq_get_sql, &st) != SY_OK)
		return smsq_db_err(q);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)id);
	int rc = sqlite3_step(st);
	enum sy_rc r = SY_OK;
	if (rc == SQLITE_ROW) {
		smsq_read_row(st, out);
		if (out->body_len > body_cap) {
			r = SY_ERR_FULL;
		} else if (out->body_len > 0) {
			memcpy(body_buf, out->body, out->body_len);
		}
		out->body = r == SY_OK ? body_buf : NULL;
	} else if (rc == SQLITE_DONE) {
		r = SY_ERR_NOTFOUND;
	} else {
		store_db_fail(q->db, rc, "get message");
		r = smsq_db_err(q);
	}
	sqlite3_reset(st);
	return r;
}

/* ---- closing and accessors ---- */

enum sy_rc smsq_close(struct smsq *q)
{
	if (q == NULL)
		return SY_OK;
	enum sy_rc r = smsq_commit(q);
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
}
