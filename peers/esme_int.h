/* esme_int.h: what the two parts of the SMPP application population share
 * (esme.c: creation, binds, session callbacks, receipts; esme_send.c: the
 * records, texts, submit_sm and arrivals). Not for other modules. */
#ifndef SY_PEERS_ESME_INT_H
#define SY_PEERS_ESME_INT_H

#include "esme.h"

#include "core/pool.h"
#include "core/rng.h"
#include "core/smpp/session.h"
#include "core/smpp/text.h"

#define NIL UINT32_MAX

enum { S_FREE = 0, S_QUEUED, S_INFLIGHT, S_ACCEPTED };

/* The switch's id with its NUL fits in here (its decimal ids have 17
 * digits until the year 2286); a longer one (up to SMPP_MESSAGE_ID_MAX) is
 * on the heap and id holds the pointer. A segment record lives while its
 * part is queued, in flight or waiting for its receipt; then only its id
 * stays, in the done window (struct esme_done). */
#define ESME_ID_INLINE 19

struct esme_seg {
	uint64_t msg_no, first_sent_ns, last_sent_ns;
	uint32_t idx, next; /* next: free list or send queue */
	uint32_t msg;	    /* message slot while QUEUED or INFLIGHT */
	uint32_t gen;	    /* bumped on free; part of the send tag */
	uint8_t state, part, throttles;
	bool sent_once, id_heap;
	char id[ESME_ID_INLINE];
};
_Static_assert(sizeof(struct esme_seg) == 64, "a segment record is one cache line");

struct esme_msg {
	uint64_t no, text_seed;
	uint32_t idx, next_free;
	uint16_t chars, ref;
	uint8_t enc, nseg, answered, ok;
	bool sent_any;
	char src[SMPP_ADDR_MAX + 1], dst[SMPP_ADDR_MAX + 1];
};

/* The ids of the last cap parts that got their final receipt (or wanted
 * none), to tell a second receipt (a duplicate) from one for an id never
 * issued (unknown): 8 bytes each, as esme__id_value() gives them, in a FIFO
 * ring (the oldest is forgotten when cap are kept, counted in seg_recycled)
 * and an open-addressing set (linear probing, backward-shift deletion; 0 is
 * an empty slot). Both grow by doubling as the run needs them. */
struct esme_done {
	uint64_t *ring, ring_cap, head, n, cap;
	uint64_t *set, mask;
};

/* The parts accepted and waiting for their receipt, by their id's value
 * (esme__id_value): (value, record index) slots, open addressing as above;
 * a value that is a hash is checked against the record's id. */
struct esme_live {
	uint64_t *e, mask, n;
};

struct esme_bind {
	struct esme *e;
	struct smpp_session *s; /* NULL while waiting to reconnect */
	bool bound, ever_bound;
	bool broken;	/* a send failed: the session is going away, on_close follows */
	uint32_t fails; /* consecutive failed connects or binds */
	sy_timer_id t_rebind;
	char system_id[SMPP_SYSTEM_ID_MAX + 1]; /* what this bind binds as (esme_cfg.members) */
};

struct esme {
	const struct sy_env *env;
	struct esme_cfg cfg;
	struct sy_rng rng;
	esme_numbers_fn numbers_fn; /* may be NULL */
	void *numbers_arg;
	struct smpp_pool *pool;
	struct esme_bind binds[ESME_BINDS_MAX];
	uint32_t rr;
	/* Records come from slab pools as the load needs them; the free
	 * lists hold recycled records only (core/pool.h: the same order as
	 * one array threaded onto a free list up front). */
	struct sy_pool msgs;
	uint32_t msg_free;
	struct sy_pool segs;
	uint32_t seg_free, q_head, q_tail, r_head, r_tail;
	uint64_t live_segs; /* QUEUED or INFLIGHT */
	uint64_t ids_heap;  /* segment ids too long for the record */
	struct esme_live live;
	struct esme_done done;
	uint64_t weight_total, msg_seq, next_arrival_ns;
	sy_timer_id t_arrival;
	sy_timer_id t_pause; /* sending paused after ESME_RTHROTTLED */
	bool started, stopping, unbinding;
	char validity[SMPP_TIME_MAX + 1];
	struct esme_stats st;
	uint64_t text_no; /* the message whose text is in text (0: none) */
	size_t text_len;
	uint8_t text[ESME_TEXT_CHARS_MAX * 2 + 8];
	uint8_t sm[SMPP_SM_LEN_MAX];
};

static inline struct esme_seg *esme__seg(const struct esme *e, uint32_t i)
{
	return sy_pool_at(&e->segs, i);
}

/* The id the switch gave g ("" before its submit_sm_resp). */
static inline const char *esme__seg_id(const struct esme_seg *g)
{
	if (!g->id_heap)
		return g->id;
	char *p;
	memcpy(&p, g->id, sizeof(p));
	return p;
}
void esme__seg_id_set(struct esme *e, struct esme_seg *g, struct sy_str id);
void esme__seg_id_clear(struct esme *e, struct esme_seg *g);

static inline struct esme_msg *esme__msg(const struct esme *e, uint32_t i)
{
	return sy_pool_at(&e->msgs, i);
}

/* The characters of GSM texts: each is its own GSM 03.38 code. */
extern const char esme__gsm_chars[];

/* g was accepted with the switch's id (v its esme__id_value). */
void esme__accepted(struct esme *e, struct esme_seg *g, struct sy_str id, uint64_t v);
/* g (its id set, v its esme__id_value) now waits for its receipt;
 * esme__live_find finds it by id and v. */
void esme__seg_accepted(struct esme *e, struct esme_seg *g, uint64_t v);
struct esme_seg *esme__live_find(const struct esme *e, struct sy_str id, uint64_t v);
/* Starts loading the table lines a receipt for the id of value v reads (the
 * live table's and the done window's), so that their cache misses overlap. */
void esme__receipt_prefetch(const struct esme *e, uint64_t v);
/* Starts loading the live table's line where v would be added. */
void esme__live_prefetch(const struct esme *e, uint64_t v);
/* g got its final receipt (or wants none): its id (of value v) goes to the
 * done window and the record is freed. */
void esme__seg_done(struct esme *e, struct esme_seg *g, uint64_t v);
/* A message id as a nonzero 64-bit value: the switch's canonical decimal
 * ids (smsq_id_parse) exactly, other texts as a 63-bit hash with the top
 * bit set (two such texts collide with odds of 2^-63 per pair). */
uint64_t esme__id_value(struct sy_str id);
bool esme__done_has(const struct esme_done *d, uint64_t v);
/* Remembers v (nonzero), forgetting the oldest id when d->cap are kept;
 * each id forgotten (or, out of memory, not remembered) adds 1 to *forgotten. */
void esme__done_add(struct esme_done *d, uint64_t v, uint64_t *forgotten);
void esme__done_free(struct esme_done *d);
void esme__msg_answer(struct esme *e, struct esme_seg *g, bool ok);
void esme__msg_free(struct esme *e, struct esme_msg *m);
void esme__on_close(void *arg, struct smpp_session *s, enum smpp_close_reason why);
void esme__pump(struct esme *e);
void esme__q_push(struct esme *e, struct esme_seg *g, bool retry);
void esme__receipt(struct esme *e, const struct smpp_pdu *req);
void esme__schedule_arrival(struct esme *e);
void esme__seg_free(struct esme *e, struct esme_seg *g);
void esme__throttled(struct esme *e, struct esme_seg *g);

#endif
