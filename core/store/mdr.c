/* mdr.c: MDR formatting (CSV from integers, so no time zone or locale leaks
 * in) and the batching MDR store, built like the CDR store in cdr.c: one
 * sqlite transaction and one CSV write per batch, resumable after a failure. */
#include "mdr.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cdr.h"
#include "db.h"

static char *mdr_put_u64(char *p, uint64_t v)
{
	char tmp[20];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

static char *mdr_put_i64(char *p, int64_t v)
{
	if (v >= 0)
		return mdr_put_u64(p, (uint64_t)v);
	*p++ = '-';
	return mdr_put_u64(p, (uint64_t)0 - (uint64_t)v);
}

/* A string field, quoted per RFC 4180 only when it must be; bounded by the
 * array even if a caller forgot the NUL. */
static char *mdr_put_field(char *p, const char *s, size_t cap)
{
	size_t n = strnlen(s, cap - 1);
	if (strcspn(s, ",\"\r\n") >= n) {
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

#define MDR_PUT_STR(p, m, f) mdr_put_field((p), (m)->f, sizeof((m)->f))

const char mdr_csv_header[] =
    "id,account,from,to,segments,data_coding,submit,done,state,error_code,carrier,upstream_id,cost_micros\n";

size_t mdr_csv_line(const struct mdr *m, char *buf)
{
	char *p = mdr_put_u64(buf, m->id);
	*p++ = ',';
	p = MDR_PUT_STR(p, m, account);
	*p++ = ',';
	p = MDR_PUT_STR(p, m, from);
	*p++ = ',';
	p = MDR_PUT_STR(p, m, to);
	*p++ = ',';
	p = mdr_put_u64(p, m->segments);
	*p++ = ',';
	p = mdr_put_u64(p, m->data_coding);
	*p++ = ',';
	p += cdr_fmt_iso8601(m->submit_ns, p);
	*p++ = ',';
	if (m->done_ns != 0)
		p += cdr_fmt_iso8601(m->done_ns, p);
	*p++ = ',';
	const char *state = smsq_state_name(m->state);
	memcpy(p, state, strlen(state));
	p += strlen(state);
	*p++ = ',';
	p = mdr_put_u64(p, m->error_code);
	*p++ = ',';
	p = MDR_PUT_STR(p, m, carrier);
	*p++ = ',';
	p = MDR_PUT_STR(p, m, upstream_id);
	*p++ = ',';
	p = mdr_put_i64(p, m->cost_micros);
	*p++ = '\n';
	SY_ASSERT((size_t)(p - buf) <= MDR_CSV_LINE_MAX);
	return (size_t)(p - buf);
}

/* ---- the store ---- */

struct mdr_store {
	struct store_db *db; /* NULL when sqlite is off */
	int csv_fd;	     /* -1 when CSV is off */
	bool sync_full;
	uint32_t batch_max;
	uint32_t count;
	struct mdr *batch;
	/* Progress of the current batch, so a retried flush resumes instead of
	 * writing rows twice: sqlite committed, CSV formatted, CSV bytes out. */
	bool db_done;
	bool csv_ready;
	size_t csv_len, csv_off;
	char *csv_buf;
	struct mdr_store_stats st;
	char errmsg[MDR_STORE_ERRMSG_MAX];
};

/* Times are kept as integer ns (exact, sortable); the CSV has the text. */
static const char mdr_schema[] = "CREATE TABLE IF NOT EXISTS mdrs ("
				 "id INTEGER NOT NULL,"
				 "account TEXT NOT NULL DEFAULT '',"
				 "src TEXT NOT NULL DEFAULT '',"
				 "dst TEXT NOT NULL DEFAULT '',"
				 "segments INTEGER NOT NULL DEFAULT 1,"
				 "data_coding INTEGER NOT NULL DEFAULT 0,"
				 "submit_ns INTEGER NOT NULL,"
				 "done_ns INTEGER NOT NULL DEFAULT 0,"
				 "state TEXT NOT NULL,"
				 "error_code INTEGER NOT NULL DEFAULT 0,"
				 "carrier TEXT NOT NULL DEFAULT '',"
				 "upstream_id TEXT NOT NULL DEFAULT '',"
				 "cost_micros INTEGER NOT NULL DEFAULT 0);";

static const char mdr_insert_sql[] = "INSERT INTO mdrs (id,account,src,dst,segments,data_coding,submit_ns,done_ns,"
				     "state,error_code,carrier,upstream_id,cost_micros) "
				     "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)";

#define MDR_SCHEMA_VERSION 1

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static enum sy_rc
mdr_store_err(struct mdr_store *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->errmsg, sizeof s->errmsg, fmt, ap);
	va_end(ap);
	return SY_ERR_IO;
}

/* Writes buf[*off..len) to fd, advancing *off past what the kernel took, so
 * a failed write can be resumed without duplicating bytes. */
static int mdr_write_all(int fd, const char *buf, size_t len, size_t *off)
{
	while (*off < len) {
		ssize_t n = write(fd, buf + *off, len - *off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		if (n == 0)
			return EIO;
		*off += (size_t)n;
	}
	return 0;
}

static enum sy_rc mdr_store_open_db(struct mdr_store *s, const char *path, const struct mdr_store_opts *o)
{
	struct store_db_opts dbo = {.sync_full = o->sync_full, .busy_timeout_ms = o->busy_timeout_ms};
	char err[STORE_DB_ERRMSG_MAX + 64];
	if (store_db_open(path, &dbo, &s->db, err, sizeof err) != SY_OK)
		return mdr_store_err(s, "mdr store: %s", err);
	sqlite3_stmt *st;
	if (store_db_stmt(s->db, "PRAGMA user_version", &st) != SY_OK)
		return mdr_store_err(s, "mdr store: %s", store_db_errmsg(s->db));
	int64_t version = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_reset(st);
	if (version < 0 || version > MDR_SCHEMA_VERSION)
		return mdr_store_err(s, "mdr store: %s: unknown schema version %lld (this build knows %d)", path,
				     (long long)version, MDR_SCHEMA_VERSION);
	if (store_db_exec(s->db, mdr_schema) != SY_OK ||
	    (version == 0 && store_db_exec(s->db, "PRAGMA user_version=1") != SY_OK))
		return mdr_store_err(s, "mdr store: %s: %s", path, store_db_errmsg(s->db));
	return SY_OK;
}

static enum sy_rc mdr_store_open_csv(struct mdr_store *s, const char *path)
{
	s->csv_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (s->csv_fd < 0)
		return mdr_store_err(s, "mdr store: cannot open %s: %s", path, strerror(errno));
	struct stat sb;
	if (fstat(s->csv_fd, &sb) != 0)
		return mdr_store_err(s, "mdr store: stat %s: %s", path, strerror(errno));
	const char *lead = mdr_csv_header;
	if (sb.st_size > 0) {
		/* A crash mid-write can leave a torn last line; end it so the
		 * lines appended now parse on their own. */
		char last = '\n';
		int pfd = open(path, O_RDONLY | O_CLOEXEC);
		if (pfd < 0 || pread(pfd, &last, 1, sb.st_size - 1) != 1)
			last = '\n';
		if (pfd >= 0)
			close(pfd);
		lead = last == '\n' ? "" : "\n";
	}
	size_t off = 0;
	int e = mdr_write_all(s->csv_fd, lead, strlen(lead), &off);
	if (e != 0)
		return mdr_store_err(s, "mdr store: write %s: %s", path, strerror(e));
	return SY_OK;
}

static enum sy_rc mdr_store_setup(struct mdr_store *s, const char *dir, const struct mdr_store_opts *o)
{
	char db_path[PATH_MAX], csv_path[PATH_MAX];
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return mdr_store_err(s, "mdr store: cannot create directory %s: %s", dir, strerror(errno));
	int a = snprintf(db_path, PATH_MAX, "%s/mdrs.sqlite", dir);
	int b = snprintf(csv_path, PATH_MAX, "%s/mdrs.csv", dir);
	if (a < 0 || a >= PATH_MAX || b < 0 || b >= PATH_MAX)
		return mdr_store_err(s, "mdr store: directory path too long"), SY_ERR_INVAL;
	enum sy_rc r;
	if (!o->no_sqlite && (r = mdr_store_open_db(s, db_path, o)) != SY_OK)
		return r;
	if (!o->no_csv && (r = mdr_store_open_csv(s, csv_path)) != SY_OK)
		return r;
	s->batch = calloc(s->batch_max, sizeof *s->batch);
	s->csv_buf = o->no_csv ? NULL : malloc((size_t)s->batch_max * MDR_CSV_LINE_MAX);
	if (s->batch == NULL || (!o->no_csv && s->csv_buf == NULL))
		return mdr_store_err(s, "mdr store: out of memory for a batch of %u", s->batch_max), SY_ERR_NOMEM;
	return SY_OK;
}

static void mdr_store_free(struct mdr_store *s)
{
	store_db_close(s->db);
	if (s->csv_fd >= 0)
		close(s->csv_fd);
	free(s->batch);
	free(s->csv_buf);
	free(s);
}

enum sy_rc mdr_store_open(const char *dir, const struct mdr_store_opts *opts, struct mdr_store **out)
{
	SY_ASSERT(dir != NULL && out != NULL);
	static const struct mdr_store_opts defaults;
	const struct mdr_store_opts *o = opts != NULL ? opts : &defaults;
	*out = NULL;
	if (o->err != NULL && o->err_len > 0)
		o->err[0] = '\0';
	struct mdr_store *s = calloc(1, sizeof *s);
	if (s == NULL)
		return SY_ERR_NOMEM;
	s->csv_fd = -1;
	s->sync_full = o->sync_full;
	s->batch_max = o->batch_max != 0 ? o->batch_max : MDR_STORE_BATCH_DEFAULT;
	enum sy_rc r = SY_ERR_INVAL;
	if (o->batch_max > MDR_STORE_BATCH_MAX) {
		mdr_store_err(s, "mdr store: batch_max %u above %d", o->batch_max, MDR_STORE_BATCH_MAX);
		goto out_free;
	}
	r = mdr_store_setup(s, dir, o);
	if (r != SY_OK)
		goto out_free;
	*out = s;
	return SY_OK;
out_free:
	if (o->err != NULL && o->err_len > 0)
		snprintf(o->err, o->err_len, "%s", s->errmsg);
	mdr_store_free(s);
	return r;
}

/* Text is bound SQLITE_STATIC: the batch entry outlives the step. */
static int mdr_bind_text(sqlite3_stmt *st, int i, const char *s, size_t cap)
{
	return sqlite3_bind_text(st, i, s, (int)strnlen(s, cap - 1), SQLITE_STATIC);
}

#define MDR_BIND_STR(st, i, m, f) mdr_bind_text((st), (i), (m)->f, sizeof((m)->f))

static int mdr_bind(sqlite3_stmt *st, const struct mdr *m)
{
	int rc = sqlite3_bind_int64(st, 1, (sqlite3_int64)m->id);
	rc |= MDR_BIND_STR(st, 2, m, account);
	rc |= MDR_BIND_STR(st, 3, m, from);
	rc |= MDR_BIND_STR(st, 4, m, to);
	rc |= sqlite3_bind_int(st, 5, m->segments);
	rc |= sqlite3_bind_int(st, 6, m->data_coding);
	rc |= sqlite3_bind_int64(st, 7, (sqlite3_int64)m->submit_ns);
	rc |= sqlite3_bind_int64(st, 8, (sqlite3_int64)m->done_ns);
	rc |= sqlite3_bind_text(st, 9, smsq_state_name(m->state), -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int64(st, 10, m->error_code);
	rc |= MDR_BIND_STR(st, 11, m, carrier);
	rc |= MDR_BIND_STR(st, 12, m, upstream_id);
	rc |= sqlite3_bind_int64(st, 13, m->cost_micros);
	return rc; /* SQLITE_OK is 0, so any failure leaves a bit set */
}

static enum sy_rc mdr_store_flush_db(struct mdr_store *s)
{
	sqlite3_stmt *st;
	if (store_db_stmt(s->db, mdr_insert_sql, &st) != SY_OK || store_db_begin(s->db) != SY_OK)
		goto out_fail;
	for (uint32_t i = 0; i < s->count; i++) {
		int rc = mdr_bind(st, &s->batch[i]);
		if (rc == SQLITE_OK)
			rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			store_db_fail(s->db, rc, "insert mdr");
			goto out_rollback;
		}
	}
	if (store_db_commit(s->db) != SY_OK)
		goto out_rollback;
	return SY_OK;
out_rollback:
	store_db_rollback(s->db);
out_fail:
	return mdr_store_err(s, "mdr store: sqlite: %s", store_db_errmsg(s->db));
}

static enum sy_rc mdr_store_flush_csv(struct mdr_store *s)
{
	if (!s->csv_ready) {
		size_t len = 0;
		for (uint32_t i = 0; i < s->count; i++)
			len += mdr_csv_line(&s->batch[i], s->csv_buf + len);
		s->csv_len = len;
		s->csv_off = 0;
		s->csv_ready = true;
	}
	int e = mdr_write_all(s->csv_fd, s->csv_buf, s->csv_len, &s->csv_off);
	if (e == 0 && s->sync_full && fdatasync(s->csv_fd) != 0)
		e = errno;
	if (e != 0)
		return mdr_store_err(s, "mdr store: csv write: %s", strerror(e));
	return SY_OK;
}

enum sy_rc mdr_store_flush(struct mdr_store *s)
{
	SY_ASSERT(s != NULL);
	if (s->count == 0)
		return SY_OK;
	enum sy_rc r = SY_OK;
	if (s->db != NULL && !s->db_done) {
		if ((r = mdr_store_flush_db(s)) != SY_OK)
			goto out_error;
		s->db_done = true;
	}
	if (s->csv_fd >= 0 && (r = mdr_store_flush_csv(s)) != SY_OK)
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

enum sy_rc mdr_store_add(struct mdr_store *s, const struct mdr *m)
{
	SY_ASSERT(s != NULL && m != NULL);
	/* A full or half-written batch is finished before another MDR joins
	 * it, or the newcomer would be missing from the output already done. */
	bool busy = s->count == s->batch_max || s->db_done || s->csv_ready;
	if (busy && mdr_store_flush(s) != SY_OK)
		return SY_ERR_IO;
	SY_ASSERT(s->count < s->batch_max);
	s->batch[s->count++] = *m;
	if (s->count == s->batch_max)
		(void)mdr_store_flush(s); /* counted in errors; retried next time */
	return SY_OK;
}

enum sy_rc mdr_store_close(struct mdr_store *s)
{
	if (s == NULL)
		return SY_OK;
	enum sy_rc r = mdr_store_flush(s);
	mdr_store_free(s);
	return r;
}

const char *mdr_store_errmsg(const struct mdr_store *s)
{
	return s->errmsg;
}

void mdr_store_stats(const struct mdr_store *s, struct mdr_store_stats *out)
{
	*out = s->st;
	out->pending = s->count;
}
