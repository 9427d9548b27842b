/* mdr.c: MDR formatting (CSV from integers, so no time zone or locale leaks
 * in) and the MDR store, a typed wrapper over the batched record store
 * (batch.c) that the CDR store uses too. */
#include "mdr.h"

#include "batch.h"
#include "cdr.h"

const char mdr_csv_header[] = "id,account,from,to,segments,data_coding,submit,done,state,error_code,carrier,upstream_"
			      "id,cost_micros,fraud,fraud_reason\n";

size_t mdr_csv_line(const struct mdr *m, char *buf)
{
	char *p = store_csv_put_u64(buf, m->id);
	*p++ = ',';
	p = STORE_CSV_PUT_STR(p, m, account);
	*p++ = ',';
	p = STORE_CSV_PUT_STR(p, m, from);
	*p++ = ',';
	p = STORE_CSV_PUT_STR(p, m, to);
	*p++ = ',';
	p = store_csv_put_u64(p, m->segments);
	*p++ = ',';
	p = store_csv_put_u64(p, m->data_coding);
	*p++ = ',';
	p += cdr_fmt_iso8601(m->submit_ns, p);
	*p++ = ',';
	if (m->done_ns != 0)
		p += cdr_fmt_iso8601(m->done_ns, p);
	*p++ = ',';
	p = store_csv_put_lit(p, smsq_state_name(m->state));
	*p++ = ',';
	p = store_csv_put_u64(p, m->error_code);
	*p++ = ',';
	p = STORE_CSV_PUT_STR(p, m, carrier);
	*p++ = ',';
	p = STORE_CSV_PUT_STR(p, m, upstream_id);
	*p++ = ',';
	p = store_csv_put_i64(p, m->cost_micros);
	*p++ = ',';
	p = store_csv_put_lit(p, cdr_fraud_name(m->fraud_action));
	*p++ = ',';
	p = STORE_CSV_PUT_STR(p, m, fraud_reason);
	*p++ = '\n';
	SY_ASSERT((size_t)(p - buf) <= MDR_CSV_LINE_MAX);
	return (size_t)(p - buf);
}

/* ---- the store: MDRs as records of the batched store ---- */

/* Times are kept as integer ns (exact, sortable); the CSV has the text. The
 * schema is an on-disk contract: change it only with a new schema_version. */
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
				 "cost_micros INTEGER NOT NULL DEFAULT 0,"
				 "fraud TEXT NOT NULL DEFAULT '',"
				 "fraud_reason TEXT NOT NULL DEFAULT '');";

/* 1 -> 2: the fraud decision (issue 12). */
static const char *const mdr_upgrade[] = {
    "ALTER TABLE mdrs ADD COLUMN fraud TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE mdrs ADD COLUMN fraud_reason TEXT NOT NULL DEFAULT '';",
};

static const char mdr_insert_sql[] = "INSERT INTO mdrs (id,account,src,dst,segments,data_coding,submit_ns,done_ns,"
				     "state,error_code,carrier,upstream_id,cost_micros,fraud,fraud_reason) "
				     "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";

static int mdr_bind(sqlite3_stmt *st, int b, const void *rec)
{
	const struct mdr *m = rec;
	int rc = sqlite3_bind_int64(st, b + 1, (sqlite3_int64)m->id);
	rc |= STORE_BIND_STR(st, b + 2, m, account);
	rc |= STORE_BIND_STR(st, b + 3, m, from);
	rc |= STORE_BIND_STR(st, b + 4, m, to);
	rc |= sqlite3_bind_int(st, b + 5, m->segments);
	rc |= sqlite3_bind_int(st, b + 6, m->data_coding);
	rc |= sqlite3_bind_int64(st, b + 7, (sqlite3_int64)m->submit_ns);
	rc |= sqlite3_bind_int64(st, b + 8, (sqlite3_int64)m->done_ns);
	rc |= sqlite3_bind_text(st, b + 9, smsq_state_name(m->state), -1, SQLITE_STATIC);
	rc |= sqlite3_bind_int64(st, b + 10, m->error_code);
	rc |= STORE_BIND_STR(st, b + 11, m, carrier);
	rc |= STORE_BIND_STR(st, b + 12, m, upstream_id);
	rc |= sqlite3_bind_int64(st, b + 13, m->cost_micros);
	rc |= sqlite3_bind_text(st, b + 14, cdr_fraud_name(m->fraud_action), -1, SQLITE_STATIC);
	rc |= STORE_BIND_STR(st, b + 15, m, fraud_reason);
	return rc; /* SQLITE_OK is 0, so any failure leaves a bit set */
}

static size_t mdr_csv_line_rec(const void *rec, char *buf)
{
	return mdr_csv_line(rec, buf);
}

/* No last id: MDR ids are the SMS queue's message ids, which smsq keeps. */
static const struct store_batch_def mdr_def = {
    .what = "mdr",
    .file_base = "mdrs",
    .rec_size = sizeof(struct mdr),
    .csv_line_max = MDR_CSV_LINE_MAX,
    .batch_default = MDR_STORE_BATCH_DEFAULT,
    .batch_limit = MDR_STORE_BATCH_MAX,
    .schema_version = 2,
    .create_sql = mdr_schema,
    .upgrade = mdr_upgrade,
    .insert_sql = mdr_insert_sql,
    .csv_header = mdr_csv_header,
    .bind = mdr_bind,
    .csv_line = mdr_csv_line_rec,
};

/* mdr.h promises errmsg strings of this size to callers' buffers. */
_Static_assert(MDR_STORE_ERRMSG_MAX == STORE_BATCH_ERRMSG_MAX, "errmsg sizes differ");

STORE_BATCH_TYPED(mdr, struct mdr, mdr_def);

enum sy_rc mdr_store_count_rows(const struct sy_env *env, const char *dir, uint64_t *rows, char *err, size_t err_len)
{
	return store_batch_count_on_disk(env, &mdr_def, dir, "SELECT count(*) FROM mdrs", rows, err, err_len);
}
