/* mdr.h: SMS detail records (MDRs, one per message final state) and the MDR
 * store that batches them into sqlite (DIR/mdrs.sqlite, table mdrs, WAL) and
 * a CSV file (DIR/mdrs.csv), the SMS twin of cdr.h. The record is fixed-size
 * so the SMSC fills one without malloc; the CSV is a pure function of the
 * records: the same messages give a byte-identical file on any machine.
 *
 * Durability: an MDR is durable once the mdr_store_flush() (or the automatic
 * flush of a full batch in mdr_store_add(), or mdr_store_close()) holding it
 * returned SY_OK. The SMSC writes the MDR when it marks the message final in
 * the queue (smsq.h); after a crash between the two, the message is recovered
 * as live and reaches its final state, and its MDR, again, so an MDR may
 * repeat across a crash (dedupe on id downstream), never go missing. */
#ifndef SY_STORE_MDR_H
#define SY_STORE_MDR_H

#include "core/env.h"
#include "core/fraud/fraud.h"
#include "core/store/smsq.h"

#define MDR_CARRIER_MAX	    SMSQ_CARRIER_MAX
#define MDR_ACCOUNT_MAX	    SMSQ_SYSTEM_ID_MAX
#define MDR_NUMBER_MAX	    SMSQ_ADDR_MAX
#define MDR_UPSTREAM_ID_MAX SMSQ_UPSTREAM_ID_MAX

/* One message's final state. Zero-initialise, then fill (strings with
 * MDR_SET_STR). Times are wall-clock epoch ns (sy_env_wall_ns). */
struct mdr {
	uint64_t id;	       /* the SMSC message id */
	uint64_t submit_ns;    /* submit_sm accepted */
	uint64_t done_ns;      /* final state reached */
	enum smsq_state state; /* a final state; others are written by name too */
	uint32_t error_code;   /* network or SMPP error; 0 on success */
	uint16_t segments;     /* parts of a concatenated message; 1 for a single */
	uint8_t data_coding;
	int64_t cost_micros;	       /* rated cost in millionths of the currency unit; 0 until rated */
	char account[MDR_ACCOUNT_MAX]; /* system_id */
	char from[MDR_NUMBER_MAX];
	char to[MDR_NUMBER_MAX];
	char carrier[MDR_CARRIER_MAX];
	char upstream_id[MDR_UPSTREAM_ID_MAX];
	/* Fraud (core/fraud/fraud.h): the decision on the submit; zero when off
	 * or allowed. */
	uint8_t fraud_action;		     /* enum fraud_action */
	uint8_t fraud_detector;		     /* enum fraud_detector */
	char fraud_reason[FRAUD_REASON_MAX]; /* "" on allow */
};

#define MDR_SET_STR(m, field, s) smsq_set_str((m)->field, sizeof((m)->field), (s))

/* The CSV header (with "\n") and one record as a CSV line (with "\n"):
 * times as ISO 8601 UTC with milliseconds, an empty done field when 0, RFC
 * 4180 quoting where needed. buf holds MDR_CSV_LINE_MAX bytes; returns the
 * length (no NUL added). */
#define MDR_CSV_LINE_MAX                                                                                               \
	(256 + 2 * (MDR_ACCOUNT_MAX + 2 * MDR_NUMBER_MAX + MDR_CARRIER_MAX + MDR_UPSTREAM_ID_MAX + FRAUD_REASON_MAX))
extern const char mdr_csv_header[];
size_t mdr_csv_line(const struct mdr *m, char *buf);

/* ---- the store ---- */

#define MDR_STORE_BATCH_DEFAULT 4096
#define MDR_STORE_BATCH_MAX	16384
#define MDR_STORE_ERRMSG_MAX	320

struct mdr_store;

/* Zero-initialised options are the defaults: sqlite and CSV on, batches of
 * MDR_STORE_BATCH_DEFAULT, synchronous=NORMAL. */
struct mdr_store_opts {
	bool no_sqlite;
	bool no_csv;
	bool sync_full;		  /* sqlite synchronous=FULL and fdatasync of the CSV */
	uint32_t batch_max;	  /* 0: default; at most MDR_STORE_BATCH_MAX */
	uint32_t busy_timeout_ms; /* 0: 5000 */
	char *err;		  /* optional: why mdr_store_open() failed */
	size_t err_len;
};

struct mdr_store_stats {
	uint64_t written; /* MDRs durably written (both outputs) */
	uint64_t batches; /* successful flushes with at least one MDR */
	uint64_t errors;  /* failed flushes */
	uint64_t pending; /* MDRs in the batch, not yet durable */
};

/* Creates dir if missing (one level), opens or creates DIR/mdrs.sqlite and
 * DIR/mdrs.csv (header only when new); reopening appends. opts may be NULL.
 * On failure *out is NULL and opts->err says why. */
enum sy_rc mdr_store_open(const struct sy_env *env, const char *dir, const struct mdr_store_opts *opts,
			  struct mdr_store **out);
/* Same contract as cdr_store_add(): SY_OK accepted; SY_ERR_IO not accepted
 * because a full or half-written batch could not be flushed. */
enum sy_rc mdr_store_add(struct mdr_store *s, const struct mdr *m);
/* One sqlite transaction, then one CSV write; a failed flush keeps the batch
 * and the next one resumes without writing any row twice. */
enum sy_rc mdr_store_flush(struct mdr_store *s);
/* Flushes and frees; returns the flush's rc. s may be NULL. */
enum sy_rc mdr_store_close(struct mdr_store *s);
/* Frees WITHOUT writing the pending batch, as kill -9 would; returns the
 * MDRs dropped. s may be NULL. */
uint64_t mdr_store_abandon(struct mdr_store *s);
const char *mdr_store_errmsg(const struct mdr_store *s);
void mdr_store_stats(const struct mdr_store *s, struct mdr_store_stats *out);

/* Reads DIR/mdrs.sqlite back on its own connection and counts its rows. */
enum sy_rc mdr_store_count_rows(const struct sy_env *env, const char *dir, uint64_t *rows, char *err, size_t err_len);

#endif
