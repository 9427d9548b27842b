/* sess.h: the session engine's state, shared by ussd.c (create, stop,
 * records, charging, timers), sess.c (the session table: slots, the key
 * index, the timeout queue, ids, input chunks) and sess_dlg.c (the dialogue:
 * messages from the nodes, the applications' replies, the ends). Private to
 * core/ussd/. */
#ifndef SY_USSD_SESS_H
#define SY_USSD_SESS_H

#include "core/pool.h"
#include "core/ussd/ussd_int.h"

struct callbill;
struct udr_store;

/* HTTP services keep the inputs so far (the `text` the application gets
 * each time) in chained chunks from a pool; menu services need none. */
#define USSD_CHUNK_BYTES 60
#define USSD_INPUTS_MAX	 1024 /* bytes of inputs joined by '*' per session; more ends it APP_ERROR */
/* charge = step: one hold covers this many steps, extended when used up */
#define USSD_STEP_HOLD 4
/* pending records go to disk this long after the first of a batch */
#define USSD_FLUSH_NS (200 * SY_NS_PER_MS)
/* after a failed flush (disk full, failing): the records stay pending and
 * the flush is tried again this often */
#define USSD_FLUSH_RETRY_NS SY_NS_PER_S

struct ussd_chunk {
	uint32_t next; /* index + 1; 0 = last */
	char b[USSD_CHUNK_BYTES];
};

/* One open dialogue: 96 bytes. Links between slots are index + 1 (0 =
 * none), so a million sessions cost no pointers. */
struct ussd_sess {
	uint64_t id;		/* sessionId: unique, from a keyed permutation */
	uint64_t begin_ns;	/* monotonic: the deadline is begin_ns + session_timeout_ns */
	uint64_t begin_wall_ns; /* for the record */
	uint64_t resv;		/* bill_resv_id of the hold; 0 = none */
	uint32_t hnext;		/* key index chain (the free list while free) */
	uint32_t qprev, qnext;	/* the timeout queue, in begin order */
	uint32_t chunks;	/* HTTP: the inputs so far */
	uint32_t payer;		/* callbill payer; 0 = not charged */
	uint32_t self;		/* this slot's index */
	uint16_t link, ref;
	uint16_t service, node; /* node: MENU services' screen */
	uint16_t steps, inputs;
	uint16_t in_len; /* bytes in chunks */
	uint16_t app_status;
	uint8_t state; /* enum ussd_state */
	uint8_t seq;   /* its_session_info sequence of the last message from the node */
	uint8_t app_result;
	char msisdn[USSD_MSISDN_MAX];
};

struct ussd {
	const struct sy_env *env;
	const struct ussd_cfg *cfg;
	struct ussd_deps deps;
	struct ussd_stats st;
	struct ussd_links *links;
	struct ussd_http *http;
	struct udr_store *store;
	struct callbill *bill;
	struct sy_log_limit log_store;
	ussd_tx_fn tx; /* seam: NULL = ussd_link_send */
	void *tx_arg;
	struct ussd_app_seam app; /* seam: request NULL = the HTTP client */
	bool stopped;

	/* sessions (sess.c) */
	struct sy_pool pool;
	uint32_t free_head;
	uint32_t *buckets; /* key hash -> chain of slots */
	uint32_t bucket_n; /* power of two, grows with the sessions */
	uint64_t hash_seed;
	uint32_t q_head, q_tail; /* the timeout queue: oldest first */
	sy_timer_id q_timer;
	uint64_t q_timer_at;
	bool q_hold; /* ending many sessions at once: arm the timer once, after */
	struct sy_pool chunks;
	uint32_t chunk_free;
	uint64_t id_next;     /* counter fed to the permutation */
	uint64_t id_key[4];   /* permutation round keys */
	uint64_t bytes_fixed; /* the struct and the pools' slab arrays */

	sy_timer_id flush_timer;
};

/* ---- sess.c ---- */
enum sy_rc ussd__sess_init(struct ussd *u);
void ussd__sess_free(struct ussd *u);
/* A new session id (never 0, below 2^52: exact in a double, as JSON tools read it). */
uint64_t ussd__sess_id(struct ussd *u);
struct ussd_sess *ussd__sess_at(const struct ussd *u, uint32_t idx);
uint32_t ussd__sess_idx(const struct ussd *u, const struct ussd_sess *s);
struct ussd_sess *ussd__sess_find(const struct ussd *u, uint16_t li, const char *msisdn, uint16_t ref);
/* A slot with the key set and linked into the index and the timeout queue
 * (begin_ns = now); NULL when sessions_max are open or memory ran out. */
struct ussd_sess *ussd__sess_new(struct ussd *u, uint16_t li, const char *msisdn, uint16_t ref);
/* Unlinks s everywhere, frees its chunks and its slot. */
void ussd__sess_del(struct ussd *u, struct ussd_sess *s);
/* The HTTP token of s (slot and id, so a late reply for a reused slot is seen). */
uint64_t ussd__sess_token(const struct ussd *u, const struct ussd_sess *s);
struct ussd_sess *ussd__sess_by_token(const struct ussd *u, uint64_t token);
/* Appends input to s's inputs ('*' before it unless first). SY_ERR_FULL:
 * over USSD_INPUTS_MAX or the chunk pool is exhausted (nothing appended). */
enum sy_rc ussd__sess_input_add(struct ussd *u, struct ussd_sess *s, struct sy_str input);
/* The inputs joined by '*' into buf (cap > USSD_INPUTS_MAX); returns the length. */
size_t ussd__sess_inputs(const struct ussd *u, const struct ussd_sess *s, char *buf, size_t cap);
/* The oldest open session (the first to time out), or NULL. */
struct ussd_sess *ussd__sess_oldest(const struct ussd *u);
struct ussd_sess *ussd__sess_newer(const struct ussd *u, const struct ussd_sess *s);
/* Memory held by the table (slabs, index, chunks). */
uint64_t ussd__sess_bytes(const struct ussd *u);
/* (Re)arms the timeout timer for the oldest session (ussd.c's fire). */
void ussd__sess_arm(struct ussd *u);

/* ---- sess_dlg.c ---- */
/* s ends: the release (text, when not NULL, as a PSSR response with the end
 * bit), the charge, the record, the on_end hook, the slot freed. */
void ussd__end(struct ussd *u, struct ussd_sess *s, enum ussd_end end, const char *text);
/* The timeout timer fired (sess.c): ends every session past its deadline. */
void ussd__timeouts(void *arg);

/* ---- ussd.c ---- */
enum sy_rc ussd__tx(struct ussd *u, uint16_t li, const struct ussd_msg *m);
/* A record for a session (s) or a refusal (s NULL: the fields from m). */
void ussd__record(struct ussd *u, const struct udr *r);
/* Charging at the begin: SY_OK (or nothing to charge), SY_DECLINED (no
 * account, no funds: refuse). */
enum sy_rc ussd__charge_begin(struct ussd *u, struct ussd_sess *s);
/* Before step n: the hold covers it (extended if needed), or false. */
bool ussd__charge_step(struct ussd *u, struct ussd_sess *s);
/* At the end: commit (steps > 0) or release; returns what was charged. */
int64_t ussd__charge_end(struct ussd *u, struct ussd_sess *s);
void ussd__bytes(struct ussd *u);

#endif
