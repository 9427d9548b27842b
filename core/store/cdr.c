/* cdr.c: CDR formatting (ISO 8601 from integer ns, RFC 4180 CSV) and the
 * batching CDR store. Formatting is by hand from integers so the output does
 * not depend on the process time zone or locale. */
#include "cdr.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"

static const char *const cdr_disp_names[CDR_DISP_COUNT] = {
    [CDR_DISP_NONE] = "NONE",		[CDR_DISP_ANSWERED] = "ANSWERED", [CDR_DISP_BUSY] = "BUSY",
    [CDR_DISP_NO_ANSWER] = "NO_ANSWER", [CDR_DISP_FAILED] = "FAILED",	  [CDR_DISP_CANCELLED] = "CANCELLED",
    [CDR_DISP_NO_ROUTE] = "NO_ROUTE",	[CDR_DISP_TIMEOUT] = "TIMEOUT",	  [CDR_DISP_CONGESTION] = "CONGESTION",
};

static const char *const cdr_side_names[CDR_SIDE_COUNT] = {
    [CDR_SIDE_NONE] = "",
    [CDR_SIDE_CALLER] = "caller",
    [CDR_SIDE_CALLEE] = "callee",
    [CDR_SIDE_SYSTEM] = "system",
};

const char *cdr_disposition_name(enum cdr_disposition d)
{
	return (unsigned)d < CDR_DISP_COUNT ? cdr_disp_names[d] : "?";
}

const char *cdr_side_name(enum cdr_side s)
{
	return (unsigned)s < CDR_SIDE_COUNT ? cdr_side_names[s] : "?";
}

void cdr_set_str(char *dst, size_t cap, struct sy_str s)
{
	SY_ASSERT(dst != NULL && cap > 0);
	size_t n = s.p != NULL ? s.len : 0;
	const char *nul = n > 0 ? memchr(s.p, '\0', n) : NULL;
	if (nul != NULL)
		n = (size_t)(nul - s.p);
	if (n > cap - 1) {
		n = cap - 1;
		/* If the cut lands inside a character, back off over its
		 * continuation bytes (10xxxxxx) and its lead byte, so a cut never
		 * leaves half a character. At most 3: longer runs are not UTF-8. */
		size_t k = n;
		while (k > 0 && n - k < 3 && ((unsigned char)s.p[k] & 0xC0) == 0x80)
			k--;
		n = k;
	}
	if (n > 0)
		memcpy(dst, s.p, n);
	dst[n] = '\0';
}

void cdr_compute_duration(struct cdr *c)
{
	if (c->answer_ns == 0 || c->end_ns < c->answer_ns) {
		c->duration_ms = 0;
		return;
	}
	uint64_t ms = (c->end_ns - c->answer_ns) / SY_NS_PER_MS;
	c->duration_ms = ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
}

/* Writes v as exactly `width` zero-padded digits. */
static char *cdr_put_digits(char *p, uint64_t v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + width;
}

/* Days since 1970-01-01 -> proleptic Gregorian y/m/d (Howard Hinnant's
 * civil_from_days), exact for every uint64 ns timestamp. */
static void cdr_civil(uint64_t days, uint64_t *y, unsigned *m, unsigned *d)
{
	uint64_t z = days + 719468;
	uint64_t era = z / 146097;
	uint64_t doe = z - era * 146097;
	uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	uint64_t mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

size_t cdr_fmt_iso8601(uint64_t epoch_ns, char *buf)
{
	uint64_t ms_total = epoch_ns / SY_NS_PER_MS;
	uint64_t secs = ms_total / 1000, ms = ms_total % 1000;
	uint64_t days = secs / 86400, sod = secs % 86400;
	uint64_t y;
	unsigned m, d;
	cdr_civil(days, &y, &m, &d);
	char *p = cdr_put_digits(buf, y, 4);
	*p++ = '-';
	p = cdr_put_digits(p, m, 2);
	*p++ = '-';
	p = cdr_put_digits(p, d, 2);
	*p++ = 'T';
	p = cdr_put_digits(p, sod / 3600, 2);
	*p++ = ':';
	p = cdr_put_digits(p, sod / 60 % 60, 2);
	*p++ = ':';
	p = cdr_put_digits(p, sod % 60, 2);
	*p++ = '.';
	p = cdr_put_digits(p, ms, 3);
	*p++ = 'Z';
	*p = '\0';
	SY_ASSERT(p - buf == CDR_ISO8601_LEN);
	return CDR_ISO8601_LEN;
}

static char *cdr_put_u64(char *p, uint64_t v)
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

static char *cdr_put_i64(char *p, int64_t v)
{
	if (v >= 0)
		return cdr_put_u64(p, (uint64_t)v);
	*p++ = '-';
	return cdr_put_u64(p, (uint64_t)0 - (uint64_t)v);
}

/* A string field, quoted per RFC 4180 only when it must be. The length is
 * bounded by the array even if a caller forgot the NUL. */
static char *cdr_put_field(char *p, const char *s, size_t cap)
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

static char *cdr_put_lit(char *p, const char *s)
{
	size_t n = strlen(s);
	memcpy(p, s, n);
	return p + n;
}

const char cdr_csv_header[] = "id,start,answer,end,duration_ms,pdd_ms,disposition,sip_status,carrier,caller,callee,"
			      "a_call_id,b_call_id,hangup,cost_micros,tariff_id,rated_ms\n";

#define CDR_PUT_STR(p, c, f) cdr_put_field((p), (c)->f, sizeof((c)->f))

size_t cdr_csv_line(const struct cdr *c, char *buf)
{
	char *p = cdr_put_u64(buf, c->id);
	*p++ = ',';
	p += cdr_fmt_iso8601(c->start_ns, p);
	*p++ = ',';
	if (c->answer_ns != 0)
		p += cdr_fmt_iso8601(c->answer_ns, p);
	*p++ = ',';
	p += cdr_fmt_iso8601(c->end_ns, p);
	*p++ = ',';
	p = cdr_put_u64(p, c->duration_ms);
	*p++ = ',';
	p = cdr_put_u64(p, c->pdd_ms);
	*p++ = ',';
	p = cdr_put_lit(p, cdr_disposition_name(c->disposition));
	*p++ = ',';
	p = cdr_put_u64(p, c->sip_status);
	*p++ = ',';
	p = CDR_PUT_STR(p, c, carrier);
	*p++ = ',';
	p = CDR_PUT_STR(p, c, caller);
	*p++ = ',';
	p = CDR_PUT_STR(p, c, callee);
	*p++ = ',';
	p = CDR_PUT_STR(p, c, a_call_id);
	*p++ = ',';
	p = CDR_PUT_STR(p, c, b_call_id);
	*p++ = ',';
	p = cdr_put_lit(p, cdr_side_name(c->hangup));
	*p++ = ',';
	p = cdr_put_i64(p, c->cost_micros);
	*p++ = ',';
	p = cdr_put_u64(p, c->tariff_id);
	*p++ = ',';
	p = cdr_put_u64(p, c->rated_ms);
	*p++ = '\n';
	SY_ASSERT((size_t)(p - buf) <= CDR_CSV_LINE_MAX);
	return (size_t)(p - buf);
}

/* ---- the store ---- */

struct cdr_store {
	struct store_db *db; /* NULL when sqlite is off */
	int csv_fd;	     /* -1 when CSV is off */
	bool sync_full;
	uint32_t batch_max;
	uint32_t count;
	struct cdr *batch;
	/* Progress of the current batch, so a retried flush resumes instead of
	 * writing rows twice: sqlite committed, CSV formatted, CSV bytes out. */
	bool db_done;
	bool csv_ready;
	size_t csv_len, csv_off;
	char *csv_buf;
	uint64_t last_id;
	struct cdr_store_stats st;
	char errmsg[CDR_STORE_ERRMSG_MAX];
};

static const char cdr_schema[] = "CREATE TABLE IF NOT EXISTS cdrs ("
				 "id INTEGER NOT NULL,"
				 "start_ns INTEGER NOT NULL,"
				 "answer_ns INTEGER NOT NULL DEFAULT 0,"
				 "end_ns INTEGER NOT NULL,"
				 "duration_ms INTEGER NOT NULL DEFAULT 0,"
				 "pdd_ms INTEGER NOT NULL DEFAULT 0,"
				 "disposition TEXT NOT NULL,"
				 "sip_status INTEGER NOT NULL DEFAULT 0,"
				 "carrier TEXT NOT NULL DEFAULT '',"
				 "caller TEXT NOT NULL DEFAULT '',"
				 "callee TEXT NOT NULL DEFAULT '',"
				 "a_call_id TEXT NOT NULL DEFAULT '',"
				 "b_call_id TEXT NOT NULL DEFAULT '',"
				 "hangup TEXT NOT NULL DEFAULT '',"
				 "cost_micros INTEGER NOT NULL DEFAULT 0,"
				 "tariff_id INTEGER NOT NULL DEFAULT 0,"
				 "rated_ms INTEGER NOT NULL DEFAULT 0);";

static const char cdr_insert_sql[] =
    "INSERT INTO cdrs (id,start_ns,answer_ns,end_ns,duration_ms,pdd_ms,disposition,sip_status,carrier,"
    "caller,callee,a_call_id,b_call_id,hangup,cost_micros,tariff_id,rated_ms) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";

#define CDR_SCHEMA_VERSION 1

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static enum sy_rc
cdr_store_err(struct cdr_store *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->errmsg, sizeof s->errmsg, fmt, ap);
	va_end(ap);
	return SY_ERR_IO;
}

/* Writes buf[*off..len) to fd, advancing *off past what the kernel took, so
 * a failed write can be resumed without duplicating bytes. */
static int cdr_write_all(int fd, const char *buf, size_t len, size_t *off)
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

static enum sy_rc cdr_store_query_u64(struct cdr_store *s, const char *sql, uint64_t *out)
{
	sqlite3_stmt *st;
	if (store_db_stmt(s->db, sql, &st) != SY_OK)
		return cdr_store_err(s, "%s", store_db_errmsg(s->db));
	int rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_db_fail(s->db, rc, sql);
		return cdr_store_err(s, "%s", store_db_errmsg(s->db));
	}
	return SY_OK;
}

static enum sy_rc cdr_store_open_db(struct cdr_store *s, const char *path, const struct cdr_store_opts *o)
{
	struct store_db_opts dbo = {.sync_full = o->sync_full, .busy_timeout_ms = o->busy_timeout_ms};
	char err[STORE_DB_ERRMSG_MAX + 64];
	enum sy_rc r = store_db_open(path, &dbo, &s->db, err, sizeof err);
	if (r != SY_OK) {
		cdr_store_err(s, "cdr store: %s", err);
		return r;
	}
	uint64_t version = 0;
	if (cdr_store_query_u64(s, "PRAGMA user_version", &version) != SY_OK)
		return SY_ERR_IO;
	if (version > CDR_SCHEMA_VERSION)
		return cdr_store_err(s, "cdr store: %s has schema version %llu, this build knows %d", path,
				     (unsigned long long)version, CDR_SCHEMA_VERSION);
	if (store_db_exec(s->db, cdr_schema) != SY_OK ||
	    (version == 0 && store_db_exec(s->db, "PRAGMA user_version=1") != SY_OK))
		return cdr_store_err(s, "cdr store: %s: %s", path, store_db_errmsg(s->db));
	/* Rows go in id order, so the last row holds the largest id; reading
	 * it by rowid is O(log n), where max(id) would scan the table. */
	return cdr_store_query_u64(s, "SELECT id FROM cdrs ORDER BY rowid DESC LIMIT 1", &s->last_id);
}

static enum sy_rc cdr_store_open_csv(struct cdr_store *s, const char *path)
{
	s->csv_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (s->csv_fd < 0)
		return cdr_store_err(s, "cdr store: cannot open %s: %s", path, strerror(errno));
	struct stat sb;
	if (fstat(s->csv_fd, &sb) != 0)
		return cdr_store_err(s, "cdr store: stat %s: %s", path, strerror(errno));
	const char *lead = cdr_csv_header;
	char last = '\n';
	if (sb.st_size > 0) {
		/* A crash mid-write can leave a torn last line; end it so the
		 * lines appended now parse on their own. */
		int pfd = open(path, O_RDONLY | O_CLOEXEC);
		if (pfd < 0 || pread(pfd, &last, 1, sb.st_size - 1) != 1)
			last = '\n';
		if (pfd >= 0)
			close(pfd);
		lead = last == '\n' ? "" : "\n";
	}
	size_t off = 0;
	int e = cdr_write_all(s->csv_fd, lead, strlen(lead), &off);
	if (e != 0)
		return cdr_store_err(s, "cdr store: write %s: %s", path, strerror(e));
	return SY_OK;
}

static enum sy_rc cdr_store_paths(struct cdr_store *s, const char *dir, char *db_path, char *csv_path)
{
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return cdr_store_err(s, "cdr store: cannot create directory %s: %s", dir, strerror(errno));
	int a = snprintf(db_path, PATH_MAX, "%s/cdrs.sqlite", dir);
	int b = snprintf(csv_path, PATH_MAX, "%s/cdrs.csv", dir);
	if (a < 0 || a >= PATH_MAX || b < 0 || b >= PATH_MAX) {
		cdr_store_err(s, "cdr store: directory path too long");
		return SY_ERR_INVAL;
	}
	return SY_OK;
}

static enum sy_rc cdr_store_setup(struct cdr_store *s, const char *dir, const struct cdr_store_opts *o)
{
	char db_path[PATH_MAX], csv_path[PATH_MAX];
	enum sy_rc r = cdr_store_paths(s, dir, db_path, csv_path);
	if (r != SY_OK)
		return r;
	if (!o->no_sqlite && (r = cdr_store_open_db(s, db_path, o)) != SY_OK)
		return r;
	if (!o->no_csv && (r = cdr_store_open_csv(s, csv_path)) != SY_OK)
		return r;
	s->batch = calloc(s->batch_max, sizeof *s->batch);
	s->csv_buf = o->no_csv ? NULL : malloc((size_t)s->batch_max * CDR_CSV_LINE_MAX);
	if (s->batch == NULL || (!o->no_csv && s->csv_buf == NULL)) {
		cdr_store_err(s, "cdr store: out of memory for a batch of %u", s->batch_max);
		return SY_ERR_NOMEM;
	}
	return SY_OK;
}

static void cdr_store_free(struct cdr_store *s)
{
	store_db_close(s->db);
	if (s->csv_fd >= 0)
		close(s->csv_fd);
	free(s->batch);
	free(s->csv_buf);
	free(s);
}

enum sy_rc cdr_store_open(const char *dir, const struct cdr_store_opts *opts, struct cdr_store **out)
{
	SY_ASSERT(dir != NULL && out != NULL);
	static const struct cdr_store_opts defaults;
	const struct cdr_store_opts *o = opts != NULL ? opts : &defaults;
	*out = NULL;
	if (o->err != NULL && o->err_len > 0)
		o->err[0] = '\0';
	struct cdr_store *s = calloc(1, sizeof *s);
	if (s == NULL)
		return SY_ERR_NOMEM;
	s->csv_fd = -1;
	s->sync_full = o->sync_full;
	s->batch_max = o->batch_max != 0 ? o->batch_max : CDR_STORE_BATCH_DEFAULT;
	enum sy_rc r = SY_ERR_INVAL;
	if (o->batch_max > CDR_STORE_BATCH_MAX) {
		cdr_store_err(s, "cdr store: batch_max %u above %d", o->batch_max, CDR_STORE_BATCH_MAX);
		goto out_free;
	}
	r = cdr_store_setup(s, dir, o);
	if (r != SY_OK)
		goto out_free;
	*out = s;
	return SY_OK;
out_free:
	if (o->err != NULL && o->err_len > 0)
		snprintf(o->err, o->err_len, "%s", s->errmsg);
	cdr_store_free(s);
	return r;
}

/* Text is bound SQLITE_STATIC: the batch entry outlives the step. */
static int cdr_bind_text(sqlite3_stmt *st, int i, const char *s, size_t cap)
{
	return sqlite3_bind_text(st, i, s, (int)strnlen(s, cap - 1), SQLITE_STATIC);
}

#define CDR_BIND_STR(st, i, c, f) cdr_bind_text((st), (i), (c)->f, sizeof((c)->f))

static int cdr_bind(sqlite3_stmt *st, const struct cdr *c)
{
	const char *disp = cdr_disposition_name(c->disposition), *side = cdr_side_name(c->hangup);
	int rc = sqlite3_bind_int64(st, 1, (sqlite3_int64)c->id);
	rc |= sqlite3_bind_int64(st, 2, (sqlite3_int64)c->start_ns);
	rc |= sqlite3_bind_int64(st, 3, (sqlite3_int64)c->answer_ns);
	rc |= sqlite3_bind_int64(st, 4, (sqlite3_int64)c->end_ns);
	rc |= sqlite3_bind_int64(st, 5, c->duration_ms);
	rc |= sqlite3_bind_int64(st, 6, c->pdd_ms);
	rc |= sqlite3_bind_text(st, 7, disp, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int(st, 8, c->sip_status);
	rc |= CDR_BIND_STR(st, 9, c, carrier);
	rc |= CDR_BIND_STR(st, 10, c, caller);
	rc |= CDR_BIND_STR(st, 11, c, callee);
	rc |= CDR_BIND_STR(st, 12, c, a_call_id);
	rc |= CDR_BIND_STR(st, 13, c, b_call_id);
	rc |= sqlite3_bind_text(st, 14, side, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int64(st, 15, c->cost_micros);
	rc |= sqlite3_bind_int64(st, 16, c->tariff_id);
	rc |= sqlite3_bind_int64(st, 17, c->rated_ms);
	return rc; /* SQLITE_OK is 0, so any failure leaves a bit set */
}

static enum sy_rc cdr_store_flush_db(struct cdr_store *s)
{
	sqlite3_stmt *st;
	if (store_db_stmt(s->db, cdr_insert_sql, &st) != SY_OK || store_db_begin(s->db) != SY_OK)
		goto out_fail;
	for (uint32_t i = 0; i < s->count; i++) {
		int rc = cdr_bind(st, &s->batch[i]);
		if (rc == SQLITE_OK)
			rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			store_db_fail(s->db, rc, "insert cdr");
			goto out_rollback;
		}
	}
	if (store_db_commit(s->db) != SY_OK)
		goto out_rollback;
	return SY_OK;
out_rollback:
	store_db_rollback(s->db);
out_fail:
	return cdr_store_err(s, "cdr store: sqlite: %s", store_db_errmsg(s->db));
}

static enum sy_rc cdr_store_flush_csv(struct cdr_store *s)
{
	if (!s->csv_ready) {
		size_t len = 0;
		for (uint32_t i = 0; i < s->count; i++)
			len += cdr_csv_line(&s->batch[i], s->csv_buf + len);
		s->csv_len = len;
		s->csv_off = 0;
		s->csv_ready = true;
	}
	int e = cdr_write_all(s->csv_fd, s->csv_buf, s->csv_len, &s->csv_off);
	if (e == 0 && s->sync_full && fdatasync(s->csv_fd) != 0)
		e = errno;
	if (e != 0)
		return cdr_store_err(s, "cdr store: csv write: %s", strerror(e));
	return SY_OK;
}

enum sy_rc cdr_store_flush(struct cdr_store *s)
{
	SY_ASSERT(s != NULL);
	if (s->count == 0)
		return SY_OK;
	enum sy_rc r = SY_OK;
	if (s->db != NULL && !s->db_done) {
		if ((r = cdr_store_flush_db(s)) != SY_OK)
			goto out_error;
		s->db_done = true;
	}
	if (s->csv_fd >= 0 && (r = cdr_store_flush_csv(s)) != SY_OK)
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

enum sy_rc cdr_store_add(struct cdr_store *s, const struct cdr *c)
{
	SY_ASSERT(s != NULL && c != NULL);
	/* A batch that is full, or half-written by a failed flush, must be
	 * finished before another CDR joins it: rows already in sqlite are not
	 * inserted again, so a newcomer would be missing from one output. */
	bool busy = s->count == s->batch_max || s->db_done || s->csv_ready;
	if (busy && cdr_store_flush(s) != SY_OK)
		return SY_ERR_IO;
	SY_ASSERT(s->count < s->batch_max);
	s->batch[s->count++] = *c;
	s->last_id = SY_MAX(s->last_id, c->id);
	if (s->count == s->batch_max)
		(void)cdr_store_flush(s); /* counted in errors; retried next time */
	return SY_OK;
}

enum sy_rc cdr_store_close(struct cdr_store *s)
{
	if (s == NULL)
		return SY_OK;
	enum sy_rc r = cdr_store_flush(s);
	cdr_store_free(s);
	return r;
}

const char *cdr_store_errmsg(const struct cdr_store *s)
{
	return s->errmsg;
}

void cdr_store_stats(const struct cdr_store *s, struct cdr_store_stats *out)
{
	*out = s->st;
	out->pending = s->count;
}

uint64_t cdr_store_last_id(const struct cdr_store *s)
{
	return s->last_id;
}
