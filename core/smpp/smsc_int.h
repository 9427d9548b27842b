/* smsc_int.h: the SMSC's internal state shared by smsc.c (store, recovery,
 * timers), smsc_esme.c (ESME side, receipts out, HTTP submit) and
 * smsc_up.c (carrier side: binds, routing, retries, receipts in). */
#ifndef SY_SMPP_SMSC_INT_H
#define SY_SMPP_SMSC_INT_H

#include "core/htab.h"
#include "smsc_uidx.h"
#include "core/pool.h"
#include "core/route/route.h"
#include "core/sec/limit.h"
#include "core/sec/secret.h"
#include "core/smpp/session.h"
#include "core/smpp/smsc.h"
#include "core/store/mdr.h"
#include "core/store/smsq.h"

#define SMSC_BINDS_MAX	   16 /* sessions per carrier */
#define SMSC_ACCT_SESS_MAX 32 /* RX/TRX sessions per account that get receipts */
#define SMSC_UKEY_MAX	   (1 + SMSQ_UPSTREAM_ID_MAX)

/* Where a message is in its life. */
enum smsc_phase {
	SMSC_P_FREE = 0,
	SMSC_P_STORING,	   /* put issued, waiting for the commit */
	SMSC_P_QUEUED,	   /* in a carrier FIFO, waiting for window */
	SMSC_P_RETRY,	   /* backoff timer pending (or parked: FIFO full) */
	SMSC_P_SENT,	   /* submit_sm outstanding upstream */
	SMSC_P_ENROUTE,	   /* carrier accepted; waiting for its receipt */
	SMSC_P_FINALIZING, /* final mark issued, waiting for the commit */
	SMSC_P_DLR_WAIT,   /* receipt owed, no ESME session/window yet */
	SMSC_P_DLR_SENT,   /* deliver_sm outstanding to the ESME */
};

/* What a store callback is for (token bits 56..63). */
enum smsc_tok { SMSC_T_IGNORE = 0, SMSC_T_PUT, SMSC_T_FINAL };

struct smsc_msg;
struct smsc_list {
	struct smsc_msg *head, *tail;
	uint32_t n;
};

struct smsc_msg {
	struct smsc_msg *prev, *next; /* one list at a time (free, FIFO, DLR, ready) */
	struct smsc_list *on;	      /* the list it is on, or NULL */
	struct smsc *smsc;
	uint64_t uhash; /* of its key in s->up, while in_htab */
	/* The key under which it waits in s->up: the carrier's index, then
	 * upstream_id's bytes right after it (asserted below), so the text is
	 * kept once. Near the head with the hash and the phase: a receipt's
	 * find and its checks touch the first two lines. */
	uint8_t ukey_carrier;
	char upstream_id[SMSQ_UPSTREAM_ID_MAX];
	bool in_htab, expired, payload, from_http, final_retry;
	bool mdr_owed; /* final, but its MDR not yet taken by the store */
	enum smsc_phase phase;
	uint32_t gen, idx;
	uint64_t id;
	int32_t account; /* index, -1 when the account is gone */
	int32_t carrier; /* index of the carrier it went to, -1 none */
	uint64_t esme_sess;
	uint32_t esme_seq;
	/* The carrier's receipt is answered only once the final state it
	 * brought is durable: a restart before that gets the receipt again. */
	uint64_t rcpt_sess;
	uint32_t rcpt_seq;
	uint32_t http;	/* index + 1 of the HTTP request, 0 none */
	uint64_t rx_ns; /* monotonic: submit_sm received */
	sy_timer_id timer;
	struct smsq_addr src, dst;
	uint8_t data_coding, esm_class, registered_delivery;
	uint16_t seg_ref;
	uint8_t seg_total, seg_seq;
	bool sar;
	uint64_t submit_ns, expiry_ns, done_ns; /* wall */
	uint32_t attempts, error_code;
	uint32_t perm_mask; /* carriers (route positions) that refused for good */
	enum smsq_state final;
	uint8_t route_n;
	uint16_t route[ROUTE_SET_MAX];
	uint32_t body_len;
	uint8_t *big; /* malloc'd when body_len > SMPP_SM_LEN_MAX */
	/* fraud's flag, for the MDR (smsc_fraud.c); the reason malloc'd */
	uint8_t fraud_action, fraud_detector;
	char *fraud_reason;
	uint8_t body[SMPP_SM_LEN_MAX];
};

_Static_assert(offsetof(struct smsc_msg, upstream_id) == offsetof(struct smsc_msg, ukey_carrier) + 1,
	       "the upstream key is ukey_carrier and upstream_id's bytes");

struct smsc_account {
	const struct smsc_account_cfg *cfg;
	struct sy_secret secret; /* parsed cfg->password; NONE when not an SMPP account */
	uint32_t bound;		 /* sessions bound now (cfg->binds caps it) */
	struct smpp_tbucket tb;
	uint64_t rx_sess[SMSC_ACCT_SESS_MAX]; /* bound RX/TRX session ids, 0 free */
	uint32_t rr;
	struct smsc_list dlr; /* receipts waiting for a session or window */
};

struct smsc_bind {
	struct smsc_carrier *c;
	struct smpp_session *s; /* NULL while down */
	bool bound;
	uint64_t backoff_ns;
	sy_timer_id t_reconnect;
};

struct smsc_carrier {
	struct smsc *smsc;
	const struct smsc_carrier_cfg *cfg;
	uint32_t idx;
	struct smsc_bind binds[SMSC_BINDS_MAX];
	uint32_t bind_n, rr;
	struct smsc_list fifo;
};

struct smsc_reasm {
	struct sy_hnode node;
	struct smsc_reasm *prev, *next; /* LRU: head is the oldest */
	uint8_t key[48];
	uint64_t born_ns;
	uint8_t total, seen_n;
	uint8_t seen[32];
	bool used;
};

struct smsc_http {
	smsc_done_fn done;
	void *arg;
	uint32_t remaining, parts;
	uint64_t first_id;
	enum sy_rc rc;
	bool used;
};

struct smsc {
	struct sy_log_limit log_mdr, log_commit; /* store failures: a line per 10 s */
	struct smsc_cfg cfg;
	const struct sy_env *env;
	struct smsc_stats st;
	struct smsq *q;
	struct mdr_store *mdr;
	uint32_t q_batch_max;
	uint64_t q_bytes, q_bytes_max;
	uint64_t next_id;
	uint32_t id_step; /* node_n: instance k's ids are k mod node_n, so the cluster's never meet */
	struct smpp_pool *srv, *cli;
	struct smsc_account *accts;
	uint32_t acct_n;
	struct sy_srclimit *src; /* per-source streams and failed-bind backoff */
	struct sy_secret dummy;	 /* checked for unknown system_ids: the same work */
	struct smsc_carrier *carriers;
	uint32_t carrier_n;
	struct route_table rt;
	struct sy_pool msgs;		   /* grown as messages arrive, up to msgs_max */
	struct smsc_list free_msgs, ready; /* free: recycled messages only */
	uint32_t big_used;
	struct smsc_uidx up; /* upstream key -> msg (its pool index) */
	/* Receipts that came before their submit_sm_resp (a re-send after a
	 * restart is answered with the first id, and the carrier may already
	 * be delivering that id's receipt): kept until the resp names them. */
	struct smsc_early *early;
	struct sy_htab early_h;
	uint32_t early_next;
	struct smsc_reasm *reasm;
	struct smsc_reasm *lru_head, *lru_tail;
	struct sy_htab reasm_h;
	uint32_t reasm_free_pos;
	struct smsc_http *http;
	uint8_t http_ref;
	sy_timer_id t_commit, t_house, t_ready;
	bool q_reported; /* a store callback ran during the last call */
	uint64_t mdr_unflushed;
	bool backlog, backlog_dlr;
	uint64_t backlog_from, backlog_dlr_from, backlog_end;
	struct smsc_node_stats node_st; /* nodes = N (smsc_cluster.c) */
};

/* smsc.c */
void smsc__list_push(struct smsc_list *l, struct smsc_msg *m);
struct smsc_msg *smsc__list_pop(struct smsc_list *l);
void smsc__list_del(struct smsc_msg *m);
struct smsc_msg *smsc__msg_alloc(struct smsc *s);
void smsc__msg_free(struct smsc *s, struct smsc_msg *m);
/* The message in slot idx (from a tag), or NULL when that slot never held one. */
struct smsc_msg *smsc__msg_at(struct smsc *s, uint32_t idx);
uint32_t smsc__msgs_free(const struct smsc *s);
const uint8_t *smsc__body(const struct smsc_msg *m);
enum sy_rc smsc__body_set(struct smsc *s, struct smsc_msg *m, const uint8_t *p, size_t n);
uint64_t smsc__token(const struct smsc_msg *m, enum smsc_tok t);
enum sy_rc smsc__put(struct smsc *s, struct smsc_msg *m);
enum sy_rc smsc__mark(struct smsc *s, uint64_t id, const struct smsq_update *u, uint64_t token);
void smsc__commit_soon(struct smsc *s);
void smsc__timer(struct smsc *s, struct smsc_msg *m, uint64_t deadline_wall_ns, sy_timer_fn fn);
void smsc__ready(struct smsc *s, struct smsc_msg *m);
int32_t smsc__account_find(const struct smsc *s, struct sy_str name);
uint32_t smsc__route(const struct smsc *s, struct sy_str dst, struct smsc_msg *m);
void smsc__fill_qmsg(const struct smsc *s, const struct smsc_msg *m, struct smsq_msg *qm);

/* smsc_bind.c */
enum sy_rc smsc__guard_setup(struct smsc *s, char *err, size_t errlen);
void smsc__guard_free(struct smsc *s);
bool smsc__bind_accept(void *arg, struct smpp_session *ss);
/* smsc_cluster.c (nodes = N) */
bool smsc__bind_handoff(void *arg, struct smpp_session *ss, struct sy_str system_id, const uint8_t *pdu, size_t pdu_len,
			const uint8_t *rest, size_t rest_len);
/* Passes a receipt on to the next instance; sess/seq: the deliver_sm to
 * answer (sess tagged with its instance once it has left it). */
void smsc__forward(struct smsc *s, const struct smsc_carrier *c, struct sy_str id, uint8_t state, uint32_t err,
		   uint32_t hops, uint64_t sess, uint32_t seq);
/* A receipt's session on another instance: its answer goes there. */
#define SMSC_SESS_NODE_SHIFT 24
#define SMSC_SESS_NODE_MASK  (0xFFull << SMSC_SESS_NODE_SHIFT)
void smsc__ack_forward(struct smsc *s, uint64_t sess, uint32_t seq);
uint32_t smsc__bind_auth(void *arg, struct smpp_session *ss, struct sy_str system_id, struct sy_str password,
			 enum smpp_bind_type type, struct smpp_tbucket **tb);
void smsc__bind_closed(struct smsc *s, struct smpp_session *ss, enum smpp_close_reason why);

/* smsc_esme.c */
extern const struct smpp_sess_ops smsc__srv_ops;
void smsc__put_done(struct smsc *s, struct smsc_msg *m, enum sy_rc rc);
void smsc__dlr_send(struct smsc *s, struct smsc_msg *m);
void smsc__dlr_pump(struct smsc *s, struct smsc_account *a);
void smsc__reasm_sweep(struct smsc *s);
void smsc__reasm_free(struct smsc *s);

/* smsc_up.c */
extern const struct smpp_sess_ops smsc__cli_ops;
enum sy_rc smsc__carriers_start(struct smsc *s, char *err, size_t errlen);
void smsc__dispatch(struct smsc *s, struct smsc_msg *m);
void smsc__finalize(struct smsc *s, struct smsc_msg *m, enum smsq_state st, uint32_t err);
/* Answers the carrier's receipt (deliver_sm) held on m, if any. */
void smsc__rcpt_ack(struct smsc *s, struct smsc_msg *m);
void smsc__final_done(struct smsc *s, struct smsc_msg *m, enum sy_rc rc);
void smsc__enroute(struct smsc *s, struct smsc_msg *m);
void smsc__expiry_fire(void *arg);
/* Sets m's upstream key (carrier, uid cut to SMSQ_UPSTREAM_ID_MAX - 1 bytes
 * into upstream_id) and returns it in *key; uid may be m->upstream_id. */
void smsc__ukey(struct smsc_msg *m, uint32_t carrier, struct sy_str uid, struct sy_str *key);
/* The message waiting in s->up under key (of hash h), or NULL. */
struct smsc_msg *smsc__up_find(const struct smsc *s, uint64_t h, struct sy_str key);

#define SMSC_EARLY_MAX 4096
struct smsc_early {
	struct sy_hnode node;
	bool used;
	bool quiet;    /* nodes = N: a copy of a receipt also forwarded (not unknown when dropped) */
	uint8_t state; /* enum smsq_state, final */
	uint32_t err;
	uint64_t sess; /* the receipt's deliver_sm, answered when claimed */
	uint32_t seq;
	uint8_t key[SMSC_UKEY_MAX];
};

/* smsc_fraud.c (only with cfg.fraud): the submit's decision (ESME_ROK, or
 * the status to refuse it with; a flag is kept with m for its MDR), a
 * carrier receipt, and the MDR's fraud fields. */
uint32_t smsc__fraud_submit(struct smsc *s, struct smsc_msg *m, uint32_t segments, struct fraud_decision *d);
void smsc__fraud_receipt(struct smsc *s, const struct smsc_carrier *c, const struct smsc_msg *m, bool delivered);
void smsc__fraud_mdr(const struct smsc_msg *m, struct mdr *r);
void smsc__fraud_keep(struct smsc_msg *m, const struct fraud_decision *d);

#endif
