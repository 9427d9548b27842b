/* tariff.h: destination tariffs loaded from the CSV files carriers exchange
 * (prefix, description, rate, connection fee, increments, minimum, band,
 * service), with longest-prefix lookup over millions of prefixes and weekly
 * time bands (peak/offpeak/weekend). The CSV format is in docs/billing.md.
 *
 * Prefixes live in the route digit trie (core/route/route.h): one trie per
 * tariff, keyed by a service digit followed by the prefix, so voice, SMS and
 * USSD rates share one structure and one longest-match walk. */
#ifndef SY_BILLING_TARIFF_H
#define SY_BILLING_TARIFF_H

#include "core/env.h"
#include "core/billing/money.h"
#include "core/route/route.h"

enum bill_service { BILL_SVC_VOICE = 0, BILL_SVC_SMS, BILL_SVC_USSD, BILL_SVC_COUNT };

/* Band 0 is "any time": an entry without a band. Named bands are 1.. */
#define BILL_BAND_ANY	     0
#define BILL_BANDS_MAX	     8 /* including BILL_BAND_ANY */
#define BILL_BAND_NAME_MAX   16
#define BILL_WEEK_MIN	     (7 * 24 * 60)
#define BILL_PREFIX_MAX	     (ROUTE_DIGITS_MAX - 1) /* one trie digit is the service */
#define BILL_DESC_MAX	     1024
#define BILL_INCREMENT_S_MAX 86400u
#define BILL_MINIMUM_S_MAX   86400u
/* Rates above this are rejected at load, so rate * seconds fits in int64. */
#define BILL_RATE_MAX (1000000ll * MONEY_MICROS_PER_UNIT)
#define BILL_ERR_MAX  320

/* One tariff row. Its id is its index + 1 (the data rows' order in the
 * file), so the same file gives the same ids on every load. */
struct bill_tariff_entry {
	int64_t rate_micros; /* per minute (voice), per message (sms), per session (ussd) */
	int64_t fee_micros;  /* connection fee: once per connected call or event */
	uint32_t first_s;    /* first increment; 0 = none, next increments from 0 */
	uint32_t next_s;     /* each later increment, >= 1 */
	uint32_t min_s;	     /* minimum billed duration of a connected call */
	uint32_t text_off;   /* prefix, then description, in bill_tariff.text */
	uint32_t next_band;  /* index + 1 of another band of this prefix; 0 = none */
	uint32_t line;	     /* line in the source file */
	uint16_t desc_len;
	uint8_t prefix_len;
	uint8_t service; /* enum bill_service */
	uint8_t band;	 /* BILL_BAND_ANY or a named band */
};

struct bill_tariff {
	struct route_trie trie; /* value = entry index of the prefix's first band */
	struct bill_tariff_entry *e;
	uint32_t n, cap;
	char *text; /* prefixes and descriptions, not NUL-separated */
	uint32_t text_len, text_cap;
	struct money_ccy ccy;
	int32_t tz_offset_min; /* bands are in UTC + this offset (no DST) */
	uint8_t band_n;	       /* named bands + 1 */
	char band_name[BILL_BANDS_MAX][BILL_BAND_NAME_MAX];
	uint8_t week[BILL_WEEK_MIN]; /* band per minute of the week, Monday 00:00 first */
};

struct bill_tariff_opts {
	const char *ccy; /* currency when the file names none; NULL = "USD" */
	char *err;	 /* optional: "file:line: message" on failure */
	size_t err_len;
};

/* Parses a tariff CSV held in memory; name is used in error messages.
 * On failure t is left freed and opts->err says where and why:
 * SY_ERR_PARSE for bad content, SY_ERR_NOMEM. opts may be NULL. */
enum sy_rc bill_tariff_load_mem(struct bill_tariff *t, const char *name, const char *buf, size_t len,
				const struct bill_tariff_opts *opts);
#define BILL_TARIFF_FILE_MAX (1ull << 30) /* a larger file is refused */
/* Reads path through env's files and calls bill_tariff_load_mem; SY_ERR_IO
 * when unreadable. */
enum sy_rc bill_tariff_load_file(const struct sy_env *env, struct bill_tariff *t, const char *path,
				 const struct bill_tariff_opts *opts);
void bill_tariff_free(struct bill_tariff *t);

/* The band in force at epoch_s (BILL_BAND_ANY when no band covers it). */
uint8_t bill_tariff_band_at(const struct bill_tariff *t, uint64_t epoch_s);
/* "" for BILL_BAND_ANY, the band's name otherwise. */
const char *bill_tariff_band_name(const struct bill_tariff *t, uint8_t band);

/* The entry for the longest prefix of number (a leading '+' is skipped; the
 * walk stops at the first non-digit) in the band in force at epoch_s, or the
 * prefix's any-time entry. NULL when no prefix matches or the longest prefix
 * has no entry for that band (shorter prefixes are not consulted: the
 * longest match is the destination). */
const struct bill_tariff_entry *bill_tariff_lookup(const struct bill_tariff *t, enum bill_service svc,
						   struct sy_str number, uint64_t epoch_s);

/* The same for n numbers at once (out[i] for numbers[i], epoch_s[i]): the
 * trie walks of BILL_LOOKUP_LANES numbers advance in lockstep with each next
 * node prefetched, so their cache misses overlap instead of queueing. This
 * is the batch path's lookup; results equal bill_tariff_lookup's. */
#define BILL_LOOKUP_LANES 16
void bill_tariff_lookup_many(const struct bill_tariff *t, enum bill_service svc, const struct sy_str *numbers,
			     const uint64_t *epoch_s, size_t n, const struct bill_tariff_entry **out);

static inline uint32_t bill_tariff_id(const struct bill_tariff *t, const struct bill_tariff_entry *e)
{
	return (uint32_t)(e - t->e) + 1;
}
/* The entry with that id, NULL when out of range. */
const struct bill_tariff_entry *bill_tariff_entry(const struct bill_tariff *t, uint32_t id);
struct sy_str bill_tariff_prefix(const struct bill_tariff *t, const struct bill_tariff_entry *e);
struct sy_str bill_tariff_desc(const struct bill_tariff *t, const struct bill_tariff_entry *e);

/* "60/60", "30/6", "1/1", "0/1" or a single "60" (= 60/60). Exposed for tests
 * and other loaders. SY_ERR_PARSE when malformed or out of range. */
enum sy_rc bill_parse_increments(struct sy_str s, uint32_t *first_s, uint32_t *next_s);

#endif
