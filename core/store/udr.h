/* udr.h: USSD detail records (UDRs: one per USSD session, however it
 * ended) and their store, the USSD twin of mdr.h on the same batched record
 * store (batch.h): DIR/udrs.sqlite (table udrs, WAL) and DIR/udrs.csv. The
 * record is fixed-size so the gateway fills one without malloc; the CSV is a
 * pure function of the records. A UDR is durable once the flush holding it
 * returned SY_OK; the gateway flushes on a timer (as the CDR writer does)
 * and at stop. */
#ifndef SY_STORE_UDR_H
#define SY_STORE_UDR_H

#include "core/env.h"
#include "core/ussd/ussd.h"

/* A charged session's ledger call id: this prefix and the UDR's id in
 * decimal ("ussd-1071098351790584"); the money audit matches them so. */
#define UDR_CHARGE_REF_PREFIX "ussd-"

#define UDR_TEXT_MAX 96 /* the last text shown (the END text), cut at a UTF-8 boundary, with the NUL */

struct udr {
	uint64_t id;	     /* the session id (the sessionId an HTTP application got) */
	uint64_t begin_ns;   /* wall-clock epoch ns (sy_env_wall_ns): the PSSR indication */
	uint64_t end_ns;     /* the end (release sent or received) */
	uint8_t end;	     /* enum ussd_end */
	uint8_t app_result;  /* enum ussd_app_result of the last application call (0 ok) */
	uint16_t steps;	     /* application replies (CON and END) */
	uint16_t inputs;     /* handset inputs after the first request */
	uint16_t app_status; /* last HTTP status, 0 for menus */
	int64_t charge_micros;
	char link[USSD_NAME_MAX];
	char msisdn[USSD_MSISDN_MAX];
	char code[USSD_CODE_MAX];    /* the service code */
	char account[USSD_NAME_MAX]; /* charged account, "" none */
	char last_text[UDR_TEXT_MAX];
};

#define UDR_CSV_LINE_MAX                                                                                               \
	(256 + 2 * (2 * USSD_NAME_MAX + USSD_MSISDN_MAX + USSD_CODE_MAX + USSD_NAME_MAX + UDR_TEXT_MAX))
extern const char udr_csv_header[];
size_t udr_csv_line(const struct udr *r, char *buf);

#define UDR_STORE_ERRMSG_MAX	320 /* udr_store_errmsg() strings fit */
#define UDR_STORE_BATCH_DEFAULT 4096
#define UDR_STORE_BATCH_MAX	16384

struct udr_store;

struct udr_store_opts {
	bool no_sqlite;
	bool no_csv;
	bool sync_full;
	uint32_t batch_max;
	uint32_t busy_timeout_ms;
	char *err;
	size_t err_len;
};

struct udr_store_stats {
	uint64_t written, batches, errors, pending;
};

enum sy_rc udr_store_open(const struct sy_env *env, const char *dir, const struct udr_store_opts *opts,
			  struct udr_store **out);
/* SY_OK accepted; SY_ERR_IO not accepted (a full batch could not be flushed). */
enum sy_rc udr_store_add(struct udr_store *s, const struct udr *r);
enum sy_rc udr_store_flush(struct udr_store *s);
enum sy_rc udr_store_close(struct udr_store *s);
uint64_t udr_store_abandon(struct udr_store *s);
const char *udr_store_errmsg(const struct udr_store *s);
void udr_store_stats(const struct udr_store *s, struct udr_store_stats *out);
/* The largest id stored at open or added since (0: none), for a gateway
 * whose session ids come from a counter to resume after a restart. */
uint64_t udr_store_last_id(const struct udr_store *s);
enum sy_rc udr_store_count_rows(const struct sy_env *env, const char *dir, uint64_t *rows, char *err, size_t err_len);

#endif
