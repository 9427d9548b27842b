/* batch.c: the batched record store (batch.h) shared by the CDR and MDR
 * stores: open both outputs, gather records, flush as one transaction plus
 * one CSV write, resume a half-done flush; and the CSV field formatting. */
#include "batch.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/store/smsq.h"
#include "db.h"
#include "vfs.h"

struct store_batch {
	const struct store_batch_def *def;
	const struct sy_env *env;
	struct store_db *db; /* NULL when sqlite is off */
	char *rows_sql;	     /* insert_sql for STORE_BATCH_ROWS records; NULL: one by one */
	int cols;	     /* parameters of one record */
	struct sy_file *csv; /* NULL when CSV is off */
	uint64_t csv_end;    /* the CSV's size: where the next batch goes */
	bool sync_full;
	uint32_t batch_max;
	uint32_t count;
	unsigned char *batch; /* batch_max records of def->rec_size bytes */
	/* Progress of the current batch, so a retried flush resumes instead of
	 * writing rows twice: sqlite committed, CSV formatted. The CSV batch is
	 * written at csv_end, so a retry overwrites a torn attempt in place. */
	bool db_done;
	bool csv_ready;
	/* sync_full with both outputs: the CSV's fdatasync runs off the loop
	 * (env file_sync_start) while sqlite commits, so the flush waits for
	 * one disk round trip, not two. */
	bool csv_inflight;
	bool csv_durable; /* written and synced by that overlap */
	enum sy_rc csv_sync_rc;
	size_t csv_len;
	char *csv_buf;
	uint64_t last_id;
	struct store_batch_stats st;
	char errmsg[STORE_BATCH_ERRMSG_MAX];
};

/* Every message starts "<what> store: " so an operator knows which store. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static enum sy_rc
store_batch_err(struct store_batch *s, const char *fmt, ...)
{
	int n = snprintf(s->errmsg, sizeof s->errmsg, "%s store: ", s->def->what);
	size_t used = n > 0 && (size_t)n < sizeof s->errmsg ? (size_t)n : 0;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->errmsg + used, sizeof s->errmsg - used, fmt, ap);
	va_end(ap);
	return SY_ERR_IO;
}

static enum sy_rc store_batch_query_u64(struct store_batch *s, const char *path, const char *sql, uint64_t *out)
{
	sqlite3_stmt *st;
	if (store_db_stmt(s->db, sql, &st) != SY_OK)
		return store_batch_err(s, "%s: %s", path, store_db_errmsg(s->db));
	int rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_db_fail(s->db, rc, sql);
		return store_batch_err(s, "%s: %s", path, store_db_errmsg(s->db));
	}
	return SY_OK;
}

/* insert_sql with its parameter group repeated STORE_BATCH_ROWS times, so
 * one step inserts that many records (bound at offsets of cols). Left NULL
 * (records go one by one) when sqlite allows fewer parameters. */
static enum sy_rc store_batch_rows_sql(struct store_batch *s)
{
	const char *one = s->def->insert_sql;
	size_t len = strlen(one);
	for (size_t i = 0; i < len; i++)
		s->cols += one[i] == '?';
	/* The statement must end with its one group "(?,...,?)". */
	size_t group = 2 * (size_t)s->cols + 1;
	SY_ASSERT(s->cols > 0 && len > group && one[len - group] == '(' && one[len - 1] == ')');
	int limit = sqlite3_limit(store_db_handle(s->db), SQLITE_LIMIT_VARIABLE_NUMBER, -1);
	if ((int64_t)s->cols * STORE_BATCH_ROWS > limit)
		return SY_OK;
	size_t cap = len + (STORE_BATCH_ROWS - 1) * (group + 1) + 1;
	char *sql = malloc(cap), *p = sql;
	if (sql == NULL) {
		store_batch_err(s, "out of memory for the insert statement");
		return SY_ERR_NOMEM;
	}
	memcpy(p, one, len);
	p += len;
	for (int r = 1; r < STORE_BATCH_ROWS; r++) {
		*p++ = ',';
		memcpy(p, one + len - group, group);
		p += group;
	}
	*p = '\0';
	SY_ASSERT((size_t)(p - sql) + 1 == cap);
	s->rows_sql = sql;
	return SY_OK;
}

static enum sy_rc store_batch_open_db(struct store_batch *s, const char *path, const struct store_batch_opts *o)
{
	const struct store_batch_def *d = s->def;
	struct store_db_opts dbo = {.sync_full = o->sync_full, .busy_timeout_ms = o->busy_timeout_ms};
	char err[STORE_DB_ERRMSG_MAX + 64];
	enum sy_rc r = store_db_open(s->env, path, &dbo, &s->db, err, sizeof err);
	if (r != SY_OK) {
		store_batch_err(s, "%s", err);
		return r;
	}
	uint64_t version = 0;
	if (store_batch_query_u64(s, path, "PRAGMA user_version", &version) != SY_OK)
		return SY_ERR_IO;
	if (version > (uint64_t)d->schema_version)
		return store_batch_err(s, "%s has schema version %llu, this build knows %d", path,
				       (unsigned long long)version, d->schema_version);
	char set_version[48];
	snprintf(set_version, sizeof set_version, "PRAGMA user_version=%d", d->schema_version);
	for (uint64_t v = version; v != 0 && v < (uint64_t)d->schema_version; v++)
		if (d->upgrade != NULL && d->upgrade[v - 1] != NULL && store_db_exec(s->db, d->upgrade[v - 1]) != SY_OK)
			return store_batch_err(s, "%s: upgrade from schema %llu: %s", path, (unsigned long long)v,
					       store_db_errmsg(s->db));
	if (store_db_exec(s->db, d->create_sql) != SY_OK ||
	    (version != (uint64_t)d->schema_version && store_db_exec(s->db, set_version) != SY_OK))
		return store_batch_err(s, "%s: %s", path, store_db_errmsg(s->db));
	enum sy_rc rr = store_batch_rows_sql(s);
	if (rr != SY_OK || d->last_id_sql == NULL)
		return rr;
	return store_batch_query_u64(s, path, d->last_id_sql, &s->last_id);
}

/* The lead to write before the first record: the header for a new file, a
 * "\n" after a torn last line, else nothing. */
static const char *store_csv_lead(struct store_batch *s, uint64_t size)
{
	if (size == 0)
		return s->def->csv_header;
	/* A crash mid-write can leave a torn last line; end it so the lines
	 * appended now parse on their own. */
	char last = '\n';
	size_t got = 0;
	if (sy_env_file_read(s->env, s->csv, size - 1, &last, 1, &got) != SY_OK || got != 1)
		last = '\n';
	return last == '\n' ? "" : "\n";
}

static enum sy_rc store_batch_open_csv(struct store_batch *s, const char *path)
{
	unsigned mode = SY_FILE_READ | SY_FILE_WRITE | SY_FILE_CREATE;
	enum sy_rc r = sy_env_file_open(s->env, path, mode, &s->csv);
	if (r != SY_OK)
		return store_batch_err(s, "cannot open %s: %s", path, sy_env_file_err(r));
	if ((r = sy_env_file_size(s->env, s->csv, &s->csv_end)) != SY_OK)
		return store_batch_err(s, "size of %s: %s", path, sy_env_file_err(r));
	const char *lead = store_csv_lead(s, s->csv_end);
	size_t len = strlen(lead);
	if ((r = sy_env_file_write(s->env, s->csv, s->csv_end, lead, len)) != SY_OK)
		return store_batch_err(s, "write %s: %s", path, sy_env_file_err(r));
	s->csv_end += len;
	return SY_OK;
}

static enum sy_rc store_batch_paths(struct store_batch *s, const char *dir, char *db_path, char *csv_path)
{
	enum sy_rc r = sy_env_dir_make(s->env, dir);
	if (r != SY_OK) {
		store_batch_err(s, "cannot create directory %s: %s", dir, sy_env_file_err(r));
		return SY_ERR_IO;
	}
	int a = snprintf(db_path, PATH_MAX, "%s/%s.sqlite", dir, s->def->file_base);
	int b = snprintf(csv_path, PATH_MAX, "%s/%s.csv", dir, s->def->file_base);
	if (a < 0 || a >= PATH_MAX || b < 0 || b >= PATH_MAX) {
		store_batch_err(s, "directory path too long");
		return SY_ERR_INVAL;
	}
	return SY_OK;
}

static enum sy_rc store_batch_setup(struct store_batch *s, const char *dir, const struct store_batch_opts *o)
{
	char db_path[PATH_MAX], csv_path[PATH_MAX];
	enum sy_rc r = store_batch_paths(s, dir, db_path, csv_path);
	if (r != SY_OK)
		return r;
	if (!o->no_sqlite && (r = store_batch_open_db(s, db_path, o)) != SY_OK)
		return r;
	if (!o->no_csv && (r = store_batch_open_csv(s, csv_path)) != SY_OK)
		return r;
	s->batch = calloc(s->batch_max, s->def->rec_size);
	s->csv_buf = o->no_csv ? NULL : malloc((size_t)s->batch_max * s->def->csv_line_max);
	if (s->batch == NULL || (!o->no_csv && s->csv_buf == NULL)) {
		store_batch_err(s, "out of memory for a batch of %u", s->batch_max);
		return SY_ERR_NOMEM;
	}
	return SY_OK;
}

static void store_batch_free(struct store_batch *s)
{
	store_db_close(s->db);
	free(s->rows_sql);
	sy_env_file_close(s->env, s->csv);
	free(s->batch);
	free(s->csv_buf);
	free(s);
}

enum sy_rc store_batch_open(const struct sy_env *env, const struct store_batch_def *def, const char *dir,
			    const struct store_batch_opts *o, struct store_batch **out)
{
	SY_ASSERT(env != NULL && def != NULL && dir != NULL && o != NULL && out != NULL);
	SY_ASSERT(def->rec_size > 0 && def->bind != NULL && def->csv_line != NULL);
	SY_ASSERT(def->batch_default > 0 && def->batch_default <= def->batch_limit);
	*out = NULL;
	if (o->err != NULL && o->err_len > 0)
		o->err[0] = '\0';
	struct store_batch *s = calloc(1, sizeof *s);
	if (s == NULL)
		return SY_ERR_NOMEM;
	s->def = def;
	s->env = env;
	s->sync_full = o->sync_full;
	s->batch_max = o->batch_max != 0 ? o->batch_max : def->batch_default;
	enum sy_rc r = SY_ERR_INVAL;
	if (o->batch_max > def->batch_limit) {
		store_batch_err(s, "batch_max %u above %u", o->batch_max, def->batch_limit);
		goto out_free;
	}
	r = store_batch_setup(s, dir, o);
	if (r != SY_OK)
		goto out_free;
	*out = s;
	return SY_OK;
out_free:
	if (o->err != NULL && o->err_len > 0)
		snprintf(o->err, o->err_len, "%s", s->errmsg);
	store_batch_free(s);
	return r;
}

static const void *store_batch_rec(const struct store_batch *s, uint32_t i)
{
	return s->batch + (size_t)i * s->def->rec_size;
}

static void store_batch_csv_format(struct store_batch *s)
{
	if (s->csv_ready)
		return;
	size_t len = 0;
	for (uint32_t i = 0; i < s->count; i++) {
		size_t n = s->def->csv_line(store_batch_rec(s, i), s->csv_buf + len);
		SY_ASSERT(n <= s->def->csv_line_max);
		len += n;
	}
	s->csv_len = len;
	s->csv_ready = true;
}

static void store_batch_csv_synced(void *arg, enum sy_rc rc)
{
	struct store_batch *s = arg;
	s->csv_inflight = false;
	s->csv_sync_rc = rc;
}

/* Writes the CSV batch at csv_end and starts its fdatasync off the loop;
 * nothing is lost when the env cannot (the CSV step writes and syncs). */
static void store_batch_csv_start(struct store_batch *s)
{
	store_batch_csv_format(s);
	if (sy_env_file_write(s->env, s->csv, s->csv_end, s->csv_buf, s->csv_len) != SY_OK)
		return; /* the CSV step writes again and reports it */
	if (sy_env_file_sync_start(s->env, s->csv, store_batch_csv_synced, s) == SY_OK)
		s->csv_inflight = true;
}

/* The overlapped sync's end; durable only when it succeeded. */
static void store_batch_csv_finish(struct store_batch *s, bool db_ok)
{
	if (!s->csv_inflight)
		return;
	sy_env_file_sync_wait(s->env, s->csv);
	SY_ASSERT(!s->csv_inflight);
	s->csv_durable = db_ok && s->csv_sync_rc == SY_OK;
}

/* Inserts records [from, from + rows) with st (rows groups of parameters);
 * returns sqlite's rc, SQLITE_DONE when all went in. */
static int store_batch_insert(struct store_batch *s, sqlite3_stmt *st, uint32_t from, uint32_t rows)
{
	int rc = SQLITE_OK;
	for (uint32_t k = 0; k < rows && rc == SQLITE_OK; k++)
		rc = s->def->bind(st, (int)k * s->cols, store_batch_rec(s, from + k));
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc;
}

static enum sy_rc store_batch_flush_db(struct store_batch *s, bool overlap)
{
	sqlite3_stmt *one, *many = NULL;
	if (store_db_stmt(s->db, s->def->insert_sql, &one) != SY_OK ||
	    (s->rows_sql != NULL && store_db_stmt(s->db, s->rows_sql, &many) != SY_OK) ||
	    store_db_begin(s->db) != SY_OK)
		goto out_fail;
	uint32_t i = 0;
	int rc = SQLITE_DONE;
	for (; many != NULL && s->count - i >= STORE_BATCH_ROWS && rc == SQLITE_DONE; i += STORE_BATCH_ROWS)
		rc = store_batch_insert(s, many, i, STORE_BATCH_ROWS);
	for (; i < s->count && rc == SQLITE_DONE; i++)
		rc = store_batch_insert(s, one, i, 1);
	if (rc != SQLITE_DONE) {
		char what[64];
		snprintf(what, sizeof what, "insert %s", s->def->what);
		store_db_fail(s->db, rc, what);
		goto out_rollback;
	}
	if (overlap)
		store_batch_csv_start(s);
	if (store_db_commit(s->db) != SY_OK) {
		store_batch_csv_finish(s, false); /* a retry writes it again in place */
		goto out_rollback;
	}
	store_batch_csv_finish(s, true);
	return SY_OK;
out_rollback:
	store_db_rollback(s->db);
out_fail:
	return store_batch_err(s, "sqlite: %s", store_db_errmsg(s->db));
}

static enum sy_rc store_batch_flush_csv(struct store_batch *s)
{
	store_batch_csv_format(s);
	enum sy_rc r = SY_OK;
	if (s->csv_durable) { /* written and synced while sqlite committed */
		s->csv_durable = false;
		s->csv_end += s->csv_len;
		return SY_OK;
	}
	r = sy_env_file_write(s->env, s->csv, s->csv_end, s->csv_buf, s->csv_len);
	if (r == SY_OK && s->sync_full)
		r = sy_env_file_sync(s->env, s->csv);
	if (r != SY_OK)
		return store_batch_err(s, "csv write: %s", sy_env_file_err(r));
	s->csv_end += s->csv_len;
	return SY_OK;
}

enum sy_rc store_batch_flush(struct store_batch *s)
{
	SY_ASSERT(s != NULL);
	if (s->count == 0)
		return SY_OK;
	enum sy_rc r = SY_OK;
	if (s->db != NULL && !s->db_done) {
		bool overlap = s->sync_full && s->csv != NULL;
		if ((r = store_batch_flush_db(s, overlap)) != SY_OK)
			goto out_error;
		s->db_done = true;
	}
	if (s->csv != NULL && (r = store_batch_flush_csv(s)) != SY_OK)
		goto out_error;
	s->st.written += s->count;
	s->st.batches++;
	s->count = 0;
	s->db_done = false;
	s->csv_ready = false;
	return SY_OK;
out_error:
	s->st.errors++;
	return r;
}

enum sy_rc store_batch_add(struct store_batch *s, const void *rec)
{
	SY_ASSERT(s != NULL && rec != NULL);
	/* A batch that is full, or half-written by a failed flush, must be
	 * finished before another record joins it: rows already in sqlite are
	 * not inserted again, so a newcomer would be missing from one output. */
	bool busy = s->count == s->batch_max || s->db_done || s->csv_ready;
	if (busy && store_batch_flush(s) != SY_OK)
		return SY_ERR_IO;
	SY_ASSERT(s->count < s->batch_max);
	memcpy(s->batch + (size_t)s->count * s->def->rec_size, rec, s->def->rec_size);
	s->count++;
	if (s->def->rec_id != NULL)
		s->last_id = SY_MAX(s->last_id, s->def->rec_id(rec));
	if (s->count == s->batch_max)
		(void)store_batch_flush(s); /* counted in errors; retried next time */
	return SY_OK;
}

enum sy_rc store_batch_close(struct store_batch *s)
{
	if (s == NULL)
		return SY_OK;
	enum sy_rc r = store_batch_flush(s);
	store_batch_free(s);
	return r;
}

uint64_t store_batch_abandon(struct store_batch *s)
{
	if (s == NULL)
		return 0;
	uint64_t dropped = s->count;
	store_batch_free(s);
	return dropped;
}

enum sy_rc store_batch_count_on_disk(const struct sy_env *env, const struct store_batch_def *def, const char *dir,
				     const char *count_sql, uint64_t *out, char *err, size_t err_len)
{
	char path[PATH_MAX];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	*out = 0;
	int n = snprintf(path, sizeof path, "%s/%s.sqlite", dir, def->file_base);
	if (n < 0 || n >= (int)sizeof path) {
		snprintf(err, err_len, "%s store: directory path too long", def->what);
		return SY_ERR_INVAL;
	}
	if (!sy_env_file_exists(env, path))
		return SY_OK; /* never created: nothing on disk */
	if (store_vfs_open(env, path, SQLITE_OPEN_READONLY, &db, err, err_len) != SY_OK)
		return SY_ERR_IO;
	int rc = sqlite3_prepare_v2(db, count_sql, -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = (uint64_t)sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_OK)
		snprintf(err, err_len, "%s store: read back %s: %s", def->what, path, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	store_vfs_close(db);
	return rc == SQLITE_OK ? SY_OK : SY_ERR_IO;
}

const char *store_batch_errmsg(const struct store_batch *s)
{
	return s->errmsg;
}

void store_batch_stats(const struct store_batch *s, struct store_batch_stats *out)
{
	*out = s->st;
	out->pending = s->count;
}

uint64_t store_batch_last_id(const struct store_batch *s)
{
	return s->last_id;
}

/* ---- CSV and bind helpers ---- */

char *store_csv_put_u64(char *p, uint64_t v)
{
	char tmp[SMSQ_ID_TEXT_MAX];
	size_t n = smsq_id_fmt(v, tmp); /* any uint64, two digits per division */
	memcpy(p, tmp, n);
	return p + n;
}

char *store_csv_put_i64(char *p, int64_t v)
{
	if (v >= 0)
		return store_csv_put_u64(p, (uint64_t)v);
	*p++ = '-';
	/* Negating in unsigned keeps INT64_MIN defined. */
	return store_csv_put_u64(p, (uint64_t)0 - (uint64_t)v);
}

char *store_csv_put_lit(char *p, const char *s)
{
	size_t n = strlen(s);
	memcpy(p, s, n);
	return p + n;
}

/* A byte RFC 4180 wants quoted: no strchr per byte (six fields a record). */
static bool store_csv_special(char c)
{
	return c == ',' || c == '"' || c == '\r' || c == '\n';
}

char *store_csv_put_field(char *p, const char *s, size_t cap)
{
	size_t n = strnlen(s, cap - 1);
	bool quote = false;
	for (size_t i = 0; i < n && !quote; i++) /* never past cap, NUL or not */
		quote = store_csv_special(s[i]);
	if (!quote) {
		memcpy(p, s, n);
		return p + n;
	}
	*p++ = '"';
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			*p++ = '"';
		*p++ = s[i];
	}
	*p++ = '"';
	return p;
}

int store_bind_text(sqlite3_stmt *st, int i, const char *s, size_t cap)
{
	return sqlite3_bind_text(st, i, s, (int)strnlen(s, cap - 1), SQLITE_STATIC);
}
