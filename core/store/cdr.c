/* cdr.c: CDR formatting (ISO 8601 from integer ns, RFC 4180 CSV) and the
 * CDR store, a typed wrapper over the batched record store (batch.c).
 * Formatting is by hand from integers so the output does not depend on the
 * process time zone or locale. */
#include "cdr.h"

#include "batch.h"

static const char *const cdr_disp_names[CDR_DISP_COUNT] = {
    [CDR_DISP_NONE] = "NONE",
    [CDR_DISP_ANSWERED] = "ANSWERED",
    [CDR_DISP_BUSY] = "BUSY",
    [CDR_DISP_NO_ANSWER] = "NO_ANSWER",
    [CDR_DISP_FAILED] = "FAILED",
    [CDR_DISP_CANCELLED] = "CANCELLED",
    [CDR_DISP_NO_ROUTE] = "NO_ROUTE",
    [CDR_DISP_TIMEOUT] = "TIMEOUT",
    [CDR_DISP_CONGESTION] = "CONGESTION",
    [CDR_DISP_SESSION_EXPIRED] = "SESSION_EXPIRED",
    [CDR_DISP_BYE_TIMEOUT] = "BYE_TIMEOUT",
};

static const char *const cdr_side_names[CDR_SIDE_COUNT] = {
    [CDR_SIDE_NONE] = "",
    [CDR_SIDE_CALLER] = "caller",
    [CDR_SIDE_CALLEE] = "callee",
    [CDR_SIDE_SYSTEM] = "system",
};

/* Not fraud_action_name(): an allowed call's column stays empty, so a
 * CDR file without fraud reads as before. */
static const char *const cdr_fraud_names[] = {"", "flag", "throttle", "block"};
_Static_assert(SY_ARRAY_LEN(cdr_fraud_names) == FRAUD_ACTION_COUNT && FRAUD_ALLOW == 0 && FRAUD_FLAG == 1 &&
		   FRAUD_THROTTLE == 2 && FRAUD_BLOCK == 3,
	       "one name per enum fraud_action");

const char *cdr_fraud_name(uint8_t action)
{
	return action < FRAUD_ACTION_COUNT ? cdr_fraud_names[action] : "";
}

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

const char cdr_csv_header[] = "id,start,answer,end,duration_ms,pdd_ms,disposition,sip_status,carrier,caller,callee,"
			      "a_call_id,b_call_id,account,hangup,cost_micros,tariff_id,rated_ms,fraud,fraud_reason\n";

size_t cdr_csv_line(const struct cdr *c, char *buf)
{
	char *p = store_csv_put_u64(buf, c->id);
	*p++ = ',';
	p += cdr_fmt_iso8601(c->start_ns, p);
	*p++ = ',';
	if (c->answer_ns != 0)
		p += cdr_fmt_iso8601(c->answer_ns, p);
	*p++ = ',';
	p += cdr_fmt_iso8601(c->end_ns, p);
	*p++ = ',';
	p = store_csv_put_u64(p, c->duration_ms);
	*p++ = ',';
	p = store_csv_put_u64(p, c->pdd_ms);
	*p++ = ',';
	p = store_csv_put_lit(p, cdr_disposition_name(c->disposition));
	*p++ = ',';
	p = store_csv_put_u64(p, c->sip_status);
	*p++ = ',';
	p = STORE_CSV_PUT_STR(p, c, carrier);
	*p++ = ',';
	p = STORE_CSV_PUT_STR(p, c, caller);
	*p++ = ',';
	p = STORE_CSV_PUT_STR(p, c, callee);
	*p++ = ',';
	p = STORE_CSV_PUT_STR(p, c, a_call_id);
	*p++ = ',';
	p = STORE_CSV_PUT_STR(p, c, b_call_id);
	*p++ = ',';
	p = STORE_CSV_PUT_STR(p, c, account);
	*p++ = ',';
	p = store_csv_put_lit(p, cdr_side_name(c->hangup));
	*p++ = ',';
	p = store_csv_put_i64(p, c->cost_micros);
	*p++ = ',';
	p = store_csv_put_u64(p, c->tariff_id);
	*p++ = ',';
	p = store_csv_put_u64(p, c->rated_ms);
	*p++ = ',';
	p = store_csv_put_lit(p, cdr_fraud_name(c->fraud_action));
	*p++ = ',';
	p = STORE_CSV_PUT_STR(p, c, fraud_reason);
	*p++ = '\n';
	SY_ASSERT((size_t)(p - buf) <= CDR_CSV_LINE_MAX);
	return (size_t)(p - buf);
}

/* ---- the store: CDRs as records of the batched store ---- */

/* The schema is the on-disk contract with billing and reporting: change it
 * only with a new schema_version. */
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
				 "account TEXT NOT NULL DEFAULT '',"
				 "hangup TEXT NOT NULL DEFAULT '',"
				 "cost_micros INTEGER NOT NULL DEFAULT 0,"
				 "tariff_id INTEGER NOT NULL DEFAULT 0,"
				 "rated_ms INTEGER NOT NULL DEFAULT 0,"
				 "fraud TEXT NOT NULL DEFAULT '',"
				 "fraud_reason TEXT NOT NULL DEFAULT '');";

/* 1 -> 2: the authenticated account (issue 10); 2 -> 3: the fraud
 * decision (issue 12). */
static const char *const cdr_upgrade[] = {
    "ALTER TABLE cdrs ADD COLUMN account TEXT NOT NULL DEFAULT '';",
    "ALTER TABLE cdrs ADD COLUMN fraud TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE cdrs ADD COLUMN fraud_reason TEXT NOT NULL DEFAULT '';",
};

static const char cdr_insert_sql[] =
    "INSERT INTO cdrs (id,start_ns,answer_ns,end_ns,duration_ms,pdd_ms,disposition,sip_status,carrier,"
    "caller,callee,a_call_id,b_call_id,account,hangup,cost_micros,tariff_id,rated_ms,fraud,fraud_reason) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";

static int cdr_bind(sqlite3_stmt *st, int b, const void *rec)
{
	const struct cdr *c = rec;
	const char *disp = cdr_disposition_name(c->disposition), *side = cdr_side_name(c->hangup);
	int rc = sqlite3_bind_int64(st, b + 1, (sqlite3_int64)c->id);
	rc |= sqlite3_bind_int64(st, b + 2, (sqlite3_int64)c->start_ns);
	rc |= sqlite3_bind_int64(st, b + 3, (sqlite3_int64)c->answer_ns);
	rc |= sqlite3_bind_int64(st, b + 4, (sqlite3_int64)c->end_ns);
	rc |= sqlite3_bind_int64(st, b + 5, c->duration_ms);
	rc |= sqlite3_bind_int64(st, b + 6, c->pdd_ms);
	rc |= sqlite3_bind_text(st, b + 7, disp, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int(st, b + 8, c->sip_status);
	rc |= STORE_BIND_STR(st, b + 9, c, carrier);
	rc |= STORE_BIND_STR(st, b + 10, c, caller);
	rc |= STORE_BIND_STR(st, b + 11, c, callee);
	rc |= STORE_BIND_STR(st, b + 12, c, a_call_id);
	rc |= STORE_BIND_STR(st, b + 13, c, b_call_id);
	rc |= STORE_BIND_STR(st, b + 14, c, account);
	rc |= sqlite3_bind_text(st, b + 15, side, -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int64(st, b + 16, c->cost_micros);
	rc |= sqlite3_bind_int64(st, b + 17, c->tariff_id);
	rc |= sqlite3_bind_int64(st, b + 18, c->rated_ms);
	rc |= sqlite3_bind_text(st, b + 19, cdr_fraud_name(c->fraud_action), -1, SQLITE_STATIC);
	rc |= STORE_BIND_STR(st, b + 20, c, fraud_reason);
	return rc; /* SQLITE_OK is 0, so any failure leaves a bit set */
}

static size_t cdr_csv_line_rec(const void *rec, char *buf)
{
	return cdr_csv_line(rec, buf);
}

static uint64_t cdr_rec_id(const void *rec)
{
	return ((const struct cdr *)rec)->id;
}

static const struct store_batch_def cdr_def = {
    .what = "cdr",
    .file_base = "cdrs",
    .rec_size = sizeof(struct cdr),
    .csv_line_max = CDR_CSV_LINE_MAX,
    .batch_default = CDR_STORE_BATCH_DEFAULT,
    .batch_limit = CDR_STORE_BATCH_MAX,
    .schema_version = 3,
    .create_sql = cdr_schema,
    .upgrade = cdr_upgrade,
    .insert_sql = cdr_insert_sql,
    .csv_header = cdr_csv_header,
    /* Rows go in id order, so the last row holds the largest id; reading it
     * by rowid is O(log n), where max(id) would scan the table. */
    .last_id_sql = "SELECT id FROM cdrs ORDER BY rowid DESC LIMIT 1",
    .rec_id = cdr_rec_id,
    .bind = cdr_bind,
    .csv_line = cdr_csv_line_rec,
};

/* cdr.h promises errmsg strings of this size to callers' buffers. */
_Static_assert(CDR_STORE_ERRMSG_MAX == STORE_BATCH_ERRMSG_MAX, "errmsg sizes differ");

STORE_BATCH_TYPED(cdr, struct cdr, cdr_def);

enum sy_rc cdr_store_count_rows(const struct sy_env *env, const char *dir, uint64_t *rows, char *err, size_t err_len)
{
	return store_batch_count_on_disk(env, &cdr_def, dir, "SELECT count(*) FROM cdrs", rows, err, err_len);
}

uint64_t cdr_store_last_id(const struct cdr_store *s)
{
	return store_batch_last_id(cdr_store_batch(s));
}
