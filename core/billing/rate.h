/* rate.h: rating: what a call, an SMS or a USSD session costs under a
 * tariff, and batch re-rating of the voice CDR CSV (core/store/cdr.h) at
 * millions of rows per second. Rounding rules are in docs/billing.md. */
#ifndef SY_BILLING_RATE_H
#define SY_BILLING_RATE_H

#include "core/billing/tariff.h"

struct bill_rating {
	int64_t cost_micros; /* in the tariff's currency */
	uint32_t tariff_id;  /* bill_tariff_id(); 0 = no rate found */
	uint32_t rated_ms;   /* billed duration after increments and minimum */
	uint8_t band;	     /* the matched entry's band; BILL_BAND_ANY for any-time */
};

/* The charge of a call of duration_ms on one entry: 0 (and rated 0) when
 * duration_ms is 0 (not connected); otherwise the duration in whole seconds
 * rounded up, then up to the first increment, then up to a multiple of the
 * next increment, then at least the minimum; cost = connection fee +
 * ceil(rate_per_min * billed_s / 60). rated_ms saturates at UINT32_MAX. */
int64_t bill_charge_call(const struct bill_tariff_entry *e, uint32_t duration_ms, uint32_t *rated_ms);

/* Rates a voice call to number answered at answer_epoch_s (the band is the
 * one in force then). SY_ERR_NOTFOUND when no entry applies (out zeroed). */
enum sy_rc bill_rate_call(const struct bill_tariff *t, struct sy_str number, uint64_t answer_epoch_s,
			  uint32_t duration_ms, struct bill_rating *out);

/* Rates n calls at once (bill_tariff_lookup_many): out[i] for calls[i],
 * zeroed when no entry applies. Returns how many were rated. */
struct bill_call {
	struct sy_str number;
	uint64_t answer_epoch_s;
	uint32_t duration_ms;
};
size_t bill_rate_calls(const struct bill_tariff *t, const struct bill_call *calls, size_t n, struct bill_rating *out);

/* Rates count SMS messages (svc SMS) or USSD sessions (svc USSD): connection
 * fee + rate * count; rated_ms is 0. SY_ERR_NOTFOUND as above;
 * SY_ERR_INVAL for count above BILL_EVENTS_MAX or svc VOICE. */
#define BILL_EVENTS_MAX 1000000u
enum sy_rc bill_rate_event(const struct bill_tariff *t, enum bill_service svc, struct sy_str number, uint64_t epoch_s,
			   uint32_t count, struct bill_rating *out);

/* The price of n (>= 1) units (sessions or steps) of a USSD service code
 * on tariff t at epoch_s: the `ussd` row for the code's digits ("*100*2#"
 * -> "1002", longest prefix) gives fee + rate * n; without a row (or t
 * NULL), flat_micros * n; without either (flat_micros 0), -1: no price. 0
 * for n == 0. The gateway charges with it and the money audit re-rates
 * UDRs with it. */
int64_t bill_rate_ussd(const struct bill_tariff *t, struct sy_str code, uint64_t epoch_s, uint32_t n,
		       int64_t flat_micros);

/* ---- batch re-rating of CDR CSV ---- */

struct bill_batch_stats {
	uint64_t rows;	     /* data rows read (bad ones included) */
	uint64_t rated;	     /* rows with a tariff entry */
	uint64_t unrated;    /* rows with no entry: written with cost 0, tariff 0 */
	uint64_t bad;	     /* malformed rows: reported and not written */
	int64_t cost_micros; /* sum of the rated costs */
};

/* Called once per problem with "name:line: message". */
typedef void (*bill_batch_err_fn)(void *arg, const char *msg);

#define BILL_BATCH_BUF	    (4u << 20)	/* read and write buffer, each */
#define BILL_BATCH_LINE_MAX (64u << 10) /* a longer row stops the batch */

/* Reads the CDR CSV from in_f (header = cdr_csv_header) from its start,
 * writes it to out_f from its start, both env files, with cost_micros, tariff_id and rated_ms filled in (the other
 * columns byte for byte), each row rated by bill_rate_call on callee,
 * answer time (start when unanswered) and duration_ms. Bad rows are reported
 * through err (may be NULL) and skipped. Returns SY_OK when the whole input
 * was processed (check stats->bad), SY_ERR_PARSE on a wrong header or an
 * over-long row, SY_ERR_IO on a read/write failure, SY_ERR_NOMEM. */
enum sy_rc bill_rate_csv(const struct bill_tariff *t, const struct sy_env *env, struct sy_file *in_f,
			 const char *in_name, struct sy_file *out_f, bill_batch_err_fn err, void *err_arg,
			 struct bill_batch_stats *stats);

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" (cdr_fmt_iso8601) -> epoch seconds. */
bool bill_parse_iso8601(struct sy_str s, uint64_t *epoch_s);

#endif
