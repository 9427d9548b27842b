/* udr.c: UDR formatting (CSV from integers, so no time zone or locale leaks
 * in) and the UDR store, a typed wrapper over the batched record store
 * (batch.c) that the CDR and MDR stores use too. */
#include "udr.h"

#include "batch.h"
#include "cdr.h"

const char udr_csv_header[] = "id,begin,end,duration_ms,link,msisdn,code,outcome,steps,inputs,app_result,app_status,"
			      "account,charge_micros,last_text\n";

size_t udr_csv_line(const struct udr *r, char *buf)
{
	char *p = store_csv_put_u64(buf, r->id);
	*p++ = ',';
	p += cdr_fmt_iso8601(r->begin_ns, p);
	*p++ = ',';
	p += cdr_fmt_iso8601(r->end_ns, p);
	*p++ = ',';
	p = store_csv_put_u64(p, r->end_ns > r->begin_ns ? (r->end_ns - r->begin_ns) / SY_NS_PER_MS : 0);
	*p++ = ',';
	p = STORE_CSV_PUT_STR(p, r, link);
	*p++ = ',';
	p = STORE_CSV_PUT_STR(p, r, msisdn);
	*p++ = ',';
	p = STORE_CSV_PUT_STR(p, r, code);
	*p++ = ',';
	p = store_csv_put_lit(p, ussd_end_name((enum ussd_end)r->end));
	*p++ = ',';
	p = store_csv_put_u64(p, r->steps);
	*p++ = ',';
	p = store_csv_put_u64(p, r->inputs);
	*p++ = ',';
	p = store_csv_put_u64(p, r->app_result);
	*p++ = ',';
	p = store_csv_put_u64(p, r->app_status);
	*p++ = ',';
	p = STORE_CSV_PUT_STR(p, r, account);
	*p++ = ',';
	p = store_csv_put_i64(p, r->charge_micros);
	*p++ = ',';
	p = STORE_CSV_PUT_STR(p, r, last_text);
	*p++ = '\n';
	SY_ASSERT((size_t)(p - buf) <= UDR_CSV_LINE_MAX);
	return (size_t)(p - buf);
}

/* ---- the store: UDRs as records of the batched store ---- */

/* Times are kept as integer ns (exact, sortable); the CSV has the text.
 * One index: a subscriber's sessions in time order, what care and fraud
 * teams ask for. The schema is an on-disk contract: change it only with a
 * new schema_version. */
static const char udr_schema[] = "CREATE TABLE IF NOT EXISTS udrs ("
				 "id INTEGER NOT NULL,"
				 "begin_ns INTEGER NOT NULL,"
				 "end_ns INTEGER NOT NULL,"
				 "link TEXT NOT NULL DEFAULT '',"
				 "msisdn TEXT NOT NULL DEFAULT '',"
				 "code TEXT NOT NULL DEFAULT '',"
				 "outcome TEXT NOT NULL,"
				 "steps INTEGER NOT NULL DEFAULT 0,"
				 "inputs INTEGER NOT NULL DEFAULT 0,"
				 "app_result INTEGER NOT NULL DEFAULT 0,"
				 "app_status INTEGER NOT NULL DEFAULT 0,"
				 "account TEXT NOT NULL DEFAULT '',"
				 "charge_micros INTEGER NOT NULL DEFAULT 0,"
				 "last_text TEXT NOT NULL DEFAULT '');"
				 "CREATE INDEX IF NOT EXISTS udrs_msisdn_begin ON udrs (msisdn, begin_ns);";

static const char udr_insert_sql[] = "INSERT INTO udrs (id,begin_ns,end_ns,link,msisdn,code,outcome,steps,inputs,"
				     "app_result,app_status,account,charge_micros,last_text) "
				     "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)";

static int udr_bind(sqlite3_stmt *st, int b, const void *rec)
{
	const struct udr *r = rec;
	int rc = sqlite3_bind_int64(st, b + 1, (sqlite3_int64)r->id);
	rc |= sqlite3_bind_int64(st, b + 2, (sqlite3_int64)r->begin_ns);
	rc |= sqlite3_bind_int64(st, b + 3, (sqlite3_int64)r->end_ns);
	rc |= STORE_BIND_STR(st, b + 4, r, link);
	rc |= STORE_BIND_STR(st, b + 5, r, msisdn);
	rc |= STORE_BIND_STR(st, b + 6, r, code);
	rc |= sqlite3_bind_text(st, b + 7, ussd_end_name((enum ussd_end)r->end), -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int(st, b + 8, r->steps);
	rc |= sqlite3_bind_int(st, b + 9, r->inputs);
	rc |= sqlite3_bind_int(st, b + 10, r->app_result);
	rc |= sqlite3_bind_int(st, b + 11, r->app_status);
	rc |= STORE_BIND_STR(st, b + 12, r, account);
	rc |= sqlite3_bind_int64(st, b + 13, r->charge_micros);
	rc |= STORE_BIND_STR(st, b + 14, r, last_text);
	return rc; /* SQLITE_OK is 0, so any failure leaves a bit set */
}

static size_t udr_csv_line_rec(const void *rec, char *buf)
{
	return udr_csv_line(rec, buf);
}

static uint64_t udr_rec_id(const void *rec)
{
	return ((const struct udr *)rec)->id;
}

static const struct store_batch_def udr_def = {
    .what = "udr",
    .file_base = "udrs",
    .rec_size = sizeof(struct udr),
    .csv_line_max = UDR_CSV_LINE_MAX,
    .batch_default = UDR_STORE_BATCH_DEFAULT,
    .batch_limit = UDR_STORE_BATCH_MAX,
    .schema_version = 1,
    .create_sql = udr_schema,
    .upgrade = NULL,
    .insert_sql = udr_insert_sql,
    .csv_header = udr_csv_header,
    /* max(id), not the last row's: sessions end out of id order. One scan
     * at open (no index on id: it would cost every insert). */
    .last_id_sql = "SELECT coalesce(max(id), 0) FROM udrs",
    .rec_id = udr_rec_id,
    .bind = udr_bind,
    .csv_line = udr_csv_line_rec,
};

/* udr.h promises errmsg strings of this size to callers' buffers. */
_Static_assert(UDR_STORE_ERRMSG_MAX == STORE_BATCH_ERRMSG_MAX, "errmsg sizes differ");

STORE_BATCH_TYPED(udr, struct udr, udr_def);

enum sy_rc udr_store_count_rows(const struct sy_env *env, const char *dir, uint64_t *rows, char *err, size_t err_len)
{
	return store_batch_count_on_disk(env, &udr_def, dir, "SELECT count(*) FROM udrs", rows, err, err_len);
}

uint64_t udr_store_last_id(const struct udr_store *s)
{
	return store_batch_last_id(udr_store_batch(s));
}
