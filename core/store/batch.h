/* batch.h: the batched record store under the CDR and MDR stores: fixed-size
 * records gathered in a bounded batch, written per flush as one sqlite
 * transaction (DIR/<base>.sqlite) and one CSV append (DIR/<base>.csv), and
 * resumable after a failed flush without writing any row twice. The typed
 * stores (cdr.h, mdr.h) describe their record with a struct store_batch_def;
 * the helpers at the end are the CSV formatting both records share. */
#ifndef SY_STORE_BATCH_H
#define SY_STORE_BATCH_H

#include <sqlite3.h>

#include "core/env.h"

#define STORE_BATCH_ERRMSG_MAX 320

/* Records per INSERT statement of a flush (the rest of a batch goes one by
 * one): sqlite's per-step cost is paid once per group. */
#define STORE_BATCH_ROWS 32

/* What one kind of record looks like on disk. Static, shared by every store
 * of that kind. */
struct store_batch_def {
	const char *what;	/* "cdr": messages say "cdr store: ...", "insert cdr" */
	const char *file_base;	/* "cdrs": DIR/cdrs.sqlite and DIR/cdrs.csv */
	size_t rec_size;	/* sizeof the record; the batch copies it */
	size_t csv_line_max;	/* csv_line() never writes more */
	uint32_t batch_default; /* batch_max when the options say 0 */
	uint32_t batch_limit;	/* the largest batch_max accepted */
	int schema_version;	/* PRAGMA user_version of a new file; newer files are refused */
	const char *create_sql; /* CREATE TABLE IF NOT EXISTS ... */
	/* upgrade[v - 1] takes a file of schema version v to v + 1 (NULL
	 * entries: nothing to do); the array has schema_version - 1 entries */
	const char *const *upgrade;
	/* One INSERT ... VALUES (?,...,?) of one record, bound per record; the
	 * store also prepares it with STORE_BATCH_ROWS rows of parameters (the
	 * same group repeated) to insert that many records per step. */
	const char *insert_sql;
	const char *csv_header; /* written (with its "\n") only into a new file */
	/* Optional: a query whose one integer is the largest id already stored,
	 * run at open, so a restarted node resumes its id sequence. */
	const char *last_id_sql;
	/* Optional with last_id_sql: a record's id, folded into the last id on add. */
	uint64_t (*rec_id)(const void *rec);
	/* Binds rec to st as parameters base + 1 ... base + n (n the '?'s of
	 * insert_sql); returns SQLITE_OK or any failing sqlite rc. Text may be
	 * bound SQLITE_STATIC: the batch entry outlives the step. */
	int (*bind)(sqlite3_stmt *st, int base, const void *rec);
	/* Formats rec as one CSV line with its "\n"; returns the length. */
	size_t (*csv_line)(const void *rec, char *buf);
};

/* The typed stores' options, field for field (cdr_store_opts, mdr_store_opts). */
struct store_batch_opts {
	bool no_sqlite;
	bool no_csv;
	bool sync_full;		  /* sqlite synchronous=FULL and fdatasync of the CSV */
	uint32_t batch_max;	  /* 0: def->batch_default; at most def->batch_limit */
	uint32_t busy_timeout_ms; /* 0: 5000 */
	char *err;		  /* optional: why store_batch_open() failed */
	size_t err_len;
};

/* The batched store's options from a typed store's (a pointer to a struct
 * with the same field names), as an lvalue to take the address of. */
#define STORE_BATCH_OPTS_OF(o)                                                                                         \
	((struct store_batch_opts){.no_sqlite = (o)->no_sqlite,                                                        \
				   .no_csv = (o)->no_csv,                                                              \
				   .sync_full = (o)->sync_full,                                                        \
				   .batch_max = (o)->batch_max,                                                        \
				   .busy_timeout_ms = (o)->busy_timeout_ms,                                            \
				   .err = (o)->err,                                                                    \
				   .err_len = (o)->err_len})

struct store_batch_stats {
	uint64_t written; /* records durably written (both outputs) */
	uint64_t batches; /* successful flushes that wrote at least one record */
	uint64_t errors;  /* failed flushes (sqlite or CSV) */
	uint64_t pending; /* records in the batch, not yet durable */
};

struct store_batch;

/* Through env's files: creates dir if missing (one level), opens or creates both files (the CSV
 * header only into a new file; a torn last line is ended), and allocates the
 * batch. def must outlive the store. On failure *out is NULL, o->err says
 * why, rc is SY_ERR_IO / SY_ERR_INVAL / SY_ERR_NOMEM. */
enum sy_rc store_batch_open(const struct sy_env *env, const struct store_batch_def *def, const char *dir,
			    const struct store_batch_opts *o, struct store_batch **out);
/* Copies rec into the batch, flushing first a full or half-written batch and
 * after a batch this record fills. SY_ERR_IO: not accepted (backpressure). */
enum sy_rc store_batch_add(struct store_batch *s, const void *rec);
/* One sqlite transaction, then one CSV write; on failure the batch is kept
 * and the next flush resumes where this one stopped. */
enum sy_rc store_batch_flush(struct store_batch *s);
/* Flushes, then frees; returns the flush's rc. s may be NULL. */
enum sy_rc store_batch_close(struct store_batch *s);
/* Frees WITHOUT writing the batch: what kill -9 leaves on disk (rows of an
 * earlier flush stay; a half-written flush stays half-written). Returns the
 * records dropped. For crash simulation and tests. s may be NULL. */
uint64_t store_batch_abandon(struct store_batch *s);
/* Opens DIR/<def->file_base>.sqlite read-only on a connection of its own and
 * runs count_sql (one integer): what a reader finds on disk, independent of
 * any open store's counters. A missing file counts 0. */
enum sy_rc store_batch_count_on_disk(const struct sy_env *env, const struct store_batch_def *def, const char *dir,
				     const char *count_sql, uint64_t *out, char *err, size_t err_len);
const char *store_batch_errmsg(const struct store_batch *s);
void store_batch_stats(const struct store_batch *s, struct store_batch_stats *out);
/* The largest id seen (last_id_sql at open, then rec_id of each add); 0 when
 * the def has neither. */
uint64_t store_batch_last_id(const struct store_batch *s);

/* Defines a typed store's API (cdr.h, mdr.h) over the def `def`, for a
 * prefix P with struct P##_store_opts, struct P##_store_stats and record
 * type REC: P##_store_open, _add, _flush, _close, _abandon, _errmsg and _stats. One
 * generator keeps the typed stores from drifting apart again. struct
 * P##_store is never defined: its pointer is the batched store's under a
 * type of its own, so a CDR store cannot be handed to the MDR functions, and
 * no second allocation wraps the first. */
#define STORE_BATCH_TYPED(P, REC, def)                                                                                 \
	static struct store_batch *P##_store_batch(const struct P##_store *s)                                          \
	{                                                                                                              \
		SY_ASSERT(s != NULL);                                                                                  \
		return (struct store_batch *)s;                                                                        \
	}                                                                                                              \
	enum sy_rc P##_store_open(const struct sy_env *env, const char *dir, const struct P##_store_opts *opts,        \
				  struct P##_store **out)                                                              \
	{                                                                                                              \
		static const struct P##_store_opts defaults;                                                           \
		const struct P##_store_opts *o = opts != NULL ? opts : &defaults;                                      \
		SY_ASSERT(out != NULL);                                                                                \
		struct store_batch *b;                                                                                 \
		enum sy_rc r = store_batch_open(env, &(def), dir, &STORE_BATCH_OPTS_OF(o), &b);                        \
		*out = (struct P##_store *)b;                                                                          \
		return r;                                                                                              \
	}                                                                                                              \
	enum sy_rc P##_store_add(struct P##_store *s, const REC *rec)                                                  \
	{                                                                                                              \
		return store_batch_add(P##_store_batch(s), rec);                                                       \
	}                                                                                                              \
	enum sy_rc P##_store_flush(struct P##_store *s)                                                                \
	{                                                                                                              \
		return store_batch_flush(P##_store_batch(s));                                                          \
	}                                                                                                              \
	enum sy_rc P##_store_close(struct P##_store *s)                                                                \
	{                                                                                                              \
		return store_batch_close((struct store_batch *)s); /* s may be NULL */                                 \
	}                                                                                                              \
	uint64_t P##_store_abandon(struct P##_store *s)                                                                \
	{                                                                                                              \
		return store_batch_abandon((struct store_batch *)s); /* s may be NULL */                               \
	}                                                                                                              \
	const char *P##_store_errmsg(const struct P##_store *s)                                                        \
	{                                                                                                              \
		return store_batch_errmsg(P##_store_batch(s));                                                         \
	}                                                                                                              \
	void P##_store_stats(const struct P##_store *s, struct P##_store_stats *out)                                   \
	{                                                                                                              \
		struct store_batch_stats b;                                                                            \
		store_batch_stats(P##_store_batch(s), &b);                                                             \
		*out = (struct P##_store_stats){                                                                       \
		    .written = b.written, .batches = b.batches, .errors = b.errors, .pending = b.pending};             \
	}                                                                                                              \
	/* A field added to a typed struct but not copied above would be lost. */                                      \
	_Static_assert(sizeof(struct P##_store_opts) == sizeof(struct store_batch_opts) &&                             \
			   sizeof(struct P##_store_stats) == sizeof(struct store_batch_stats),                         \
		       #P " store structs differ from the batched store's")

/* ---- CSV and bind helpers for the typed records ---- */

/* Each writes at p and returns the end; no NUL is added. */
char *store_csv_put_u64(char *p, uint64_t v);
char *store_csv_put_i64(char *p, int64_t v);
char *store_csv_put_lit(char *p, const char *s);
/* A string field from a char array of capacity cap, quoted per RFC 4180
 * only when it holds a comma, quote, CR or LF; bounded by cap even if the
 * NUL is missing. Writes at most 2 * cap bytes. */
char *store_csv_put_field(char *p, const char *s, size_t cap);
#define STORE_CSV_PUT_STR(p, rec, f) store_csv_put_field((p), (rec)->f, sizeof((rec)->f))

/* Binds a char array field as text (SQLITE_STATIC), bounded like the CSV. */
int store_bind_text(sqlite3_stmt *st, int i, const char *s, size_t cap);
#define STORE_BIND_STR(st, i, rec, f) store_bind_text((st), (i), (rec)->f, sizeof((rec)->f))

#endif
