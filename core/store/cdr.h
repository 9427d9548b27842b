/* cdr.h: call detail records (one per call attempt) and the CDR store that
 * batches them into sqlite (DIR/cdrs.sqlite, table cdrs, WAL) and a CSV file
 * (DIR/cdrs.csv). The record is fixed-size so the B2BUA fills one without
 * malloc; the CSV output is a pure function of the records, so the same calls
 * give a byte-identical file on any machine and in any time zone.
 *
 * Durability: a CDR is durable once the cdr_store_flush() (or the automatic
 * flush of a full batch inside cdr_store_add(), or cdr_store_close()) that
 * contains it has returned SY_OK: committed to sqlite and written to the CSV
 * file descriptor. With the default synchronous=NORMAL that survives a process
 * crash; with opts.sync_full it also survives power loss (fsync per batch).
 * Acknowledgements that promise a CDR exists must wait for that flush. */
#ifndef SY_STORE_CDR_H
#define SY_STORE_CDR_H

#include "core/env.h"
#include "core/fraud/fraud.h"

/* String field capacities, including the terminating NUL. */
#define CDR_CARRIER_MAX 32
#define CDR_NUMBER_MAX	64
#define CDR_CALLID_MAX	128

enum cdr_disposition {
	CDR_DISP_NONE = 0, /* not set: a B2BUA bug, still written as "NONE" */
	CDR_DISP_ANSWERED,
	CDR_DISP_BUSY,
	CDR_DISP_NO_ANSWER,
	CDR_DISP_FAILED,
	CDR_DISP_CANCELLED,
	CDR_DISP_NO_ROUTE,
	CDR_DISP_TIMEOUT,
	CDR_DISP_CONGESTION,
	CDR_DISP_SESSION_EXPIRED, /* answered; a session refresh failed or none came (RFC 4028) */
	CDR_DISP_BYE_TIMEOUT,	  /* answered; the BYE sent to end it got no answer (timer F) */
	CDR_DISP_COUNT
};

enum cdr_side { CDR_SIDE_NONE = 0, CDR_SIDE_CALLER, CDR_SIDE_CALLEE, CDR_SIDE_SYSTEM, CDR_SIDE_COUNT };

/* One call attempt. Zero-initialise, then fill; every field has a meaning at
 * zero. Timestamps are wall-clock ns since the Unix epoch (sy_env_wall_ns). */
struct cdr {
	uint64_t id;	      /* monotonic per node */
	uint64_t start_ns;    /* INVITE received */
	uint64_t answer_ns;   /* 200 OK to the INVITE; 0 when unanswered */
	uint64_t end_ns;      /* BYE, CANCEL or final failure */
	uint32_t duration_ms; /* answer -> end; 0 when unanswered */
	uint32_t pdd_ms;      /* INVITE received -> first 180/183 or final */
	enum cdr_disposition disposition;
	enum cdr_side hangup;
	uint16_t sip_status; /* final status sent to the caller */
	/* Billing, filled by rating later; kept now so the schema is stable. */
	int64_t cost_micros; /* rated cost in millionths of the currency unit */
	uint32_t tariff_id;  /* 0: not rated */
	uint32_t rated_ms;   /* billable duration after rounding rules */
	/* NUL-terminated; fill with cdr_set_str() to truncate safely. */
	char carrier[CDR_CARRIER_MAX];
	char caller[CDR_NUMBER_MAX];
	char callee[CDR_NUMBER_MAX];
	char a_call_id[CDR_CALLID_MAX]; /* caller leg */
	char b_call_id[CDR_CALLID_MAX]; /* carrier leg; "" when none was sent */
	char account[CDR_CARRIER_MAX];	/* the authenticated caller's account ("" = none) */
	/* Fraud (core/fraud/fraud.h): the decision applied to the call; all
	 * zero when fraud detection is off or allowed it. */
	uint8_t fraud_action;		     /* enum fraud_action */
	uint8_t fraud_detector;		     /* enum fraud_detector behind it */
	char fraud_reason[FRAUD_REASON_MAX]; /* "" on allow */
};

/* "ANSWERED", "BUSY", ... ("NONE" for 0, "?" out of range). */
const char *cdr_disposition_name(enum cdr_disposition d);
/* "caller", "callee", "system"; "" for none, "?" out of range. */
const char *cdr_side_name(enum cdr_side s);

/* The CSV/sqlite `fraud` column: "" for allow (and out of range), else
 * "flag", "throttle", "block". Shared with the MDR. */
const char *cdr_fraud_name(uint8_t action);

/* Copies s into dst (capacity cap including the NUL), truncating to cap-1
 * bytes without splitting a UTF-8 sequence; stops at an embedded NUL. */
void cdr_set_str(char *dst, size_t cap, struct sy_str s);
#define CDR_SET_STR(cdr, field, s) cdr_set_str((cdr)->field, sizeof((cdr)->field), (s))

/* duration_ms from answer_ns and end_ns (0 when unanswered or end < answer). */
void cdr_compute_duration(struct cdr *c);

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC) from epoch ns; sub-millisecond digits are
 * truncated, so a time never prints as a later millisecond than it is.
 * buf needs CDR_ISO8601_LEN + 1 bytes; returns CDR_ISO8601_LEN. */
#define CDR_ISO8601_LEN 24
size_t cdr_fmt_iso8601(uint64_t epoch_ns, char *buf);

/* The CSV header line (with its "\n") and one record as a CSV line (with
 * "\n"): RFC 4180 quoting for fields holding a comma, quote, CR or LF; an
 * empty answer field when unanswered. buf must hold CDR_CSV_LINE_MAX bytes;
 * returns the length written (no NUL added). */
#define CDR_CSV_LINE_MAX (512 + 2 * (2 * CDR_CARRIER_MAX + 2 * CDR_NUMBER_MAX + 2 * CDR_CALLID_MAX + FRAUD_REASON_MAX))
extern const char cdr_csv_header[];
size_t cdr_csv_line(const struct cdr *c, char *buf);

/* ---- the store ---- */

#define CDR_STORE_BATCH_DEFAULT 4096
#define CDR_STORE_BATCH_MAX	16384
#define CDR_STORE_ERRMSG_MAX	320

struct cdr_store;

/* Zero-initialised options are the defaults: sqlite and CSV on, batches of
 * CDR_STORE_BATCH_DEFAULT, synchronous=NORMAL. */
struct cdr_store_opts {
	bool no_sqlite;
	bool no_csv;
	bool sync_full;		  /* sqlite synchronous=FULL and fdatasync of the CSV */
	uint32_t batch_max;	  /* 0: default; at most CDR_STORE_BATCH_MAX */
	uint32_t busy_timeout_ms; /* wait for another writer's lock; 0: 5000 */
	char *err;		  /* optional: why cdr_store_open() failed */
	size_t err_len;
};

struct cdr_store_stats {
	uint64_t written; /* CDRs durably written (both outputs) */
	uint64_t batches; /* successful flushes that wrote at least one CDR */
	uint64_t errors;  /* failed flushes (sqlite or CSV) */
	uint64_t pending; /* CDRs in the batch, not yet durable */
};

/* Creates dir if missing (one level), opens or creates DIR/cdrs.sqlite and
 * DIR/cdrs.csv (header written only when the file is new), and allocates the
 * batch. Reopening a dir appends. opts may be NULL. On failure *out is NULL,
 * opts->err says why, rc is SY_ERR_IO / SY_ERR_INVAL / SY_ERR_NOMEM. */
enum sy_rc cdr_store_open(const struct sy_env *env, const char *dir, const struct cdr_store_opts *opts,
			  struct cdr_store **out);

/* Copies c into the batch; when that fills the batch it is flushed. SY_OK:
 * the CDR is accepted (a failed automatic flush is counted in errors and
 * retried by the next add or flush). SY_ERR_IO: the batch was full, or a
 * previous flush failed half-way, and flushing it again failed; the CDR was
 * NOT accepted (backpressure: keep it and retry, or shed load). */
enum sy_rc cdr_store_add(struct cdr_store *s, const struct cdr *c);

/* Writes the batch: one sqlite transaction (a prepared INSERT per CDR), then
 * the CSV lines with one write. On failure the batch is kept and a later
 * flush resumes where this one stopped (no row is written twice). */
enum sy_rc cdr_store_flush(struct cdr_store *s);

/* Flushes, then frees everything; returns the flush's rc (on failure the
 * pending CDRs are lost and the rc says so). s may be NULL. */
enum sy_rc cdr_store_close(struct cdr_store *s);

/* Frees WITHOUT writing the pending batch, as kill -9 would; returns the
 * CDRs dropped. For the simulator's node crash and tests. s may be NULL. */
uint64_t cdr_store_abandon(struct cdr_store *s);

/* Reads DIR/cdrs.sqlite back on its own connection and counts its rows: what
 * is on disk, whatever any open store's counters say. */
enum sy_rc cdr_store_count_rows(const struct sy_env *env, const char *dir, uint64_t *rows, char *err, size_t err_len);

/* The last error ("" when none): the sqlite message or the CSV errno text. */
const char *cdr_store_errmsg(const struct cdr_store *s);
void cdr_store_stats(const struct cdr_store *s, struct cdr_store_stats *out);
/* The largest CDR id seen: max(id) in the sqlite file at open, then every
 * added CDR. Lets a restarted node continue its id sequence. */
uint64_t cdr_store_last_id(const struct cdr_store *s);

#endif
