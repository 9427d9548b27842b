/* b2bua_int.h: the B2BUA's internal call record and helpers shared by
 * b2bua.c (call logic) and b2bua_msg.c (building the messages of each leg).
 * A call keeps only compact dialog state (strings packed in one buffer), no
 * parsed osip messages, so hundreds of thousands of calls fit in memory. */
#ifndef SY_SIP_B2BUA_INT_H
#define SY_SIP_B2BUA_INT_H

#include "b2bua.h"
#include "core/htab.h"
#include "core/pool.h"

#define CALL_BUF	 1400 /* most bytes of strings a call keeps */
#define CALL_BUF_INLINE	 512  /* of which in the call itself (voice-10k's keep 256-511) */
#define B2BUA_ROUTES_MAX 8    /* Route headers kept for the B leg */

/* A slice of call->buf (offsets stay valid when it moves to the heap). */
struct cstr {
	uint16_t off, len;
};

enum call_state {
	CALL_FREE = 0,
	CALL_PROCEEDING, /* B-leg INVITE out, no final response yet */
	CALL_ANSWERED,	 /* 200 relayed to A, waiting for A's ACK */
	CALL_CONFIRMED,	 /* both legs up */
	CALL_CANCELLING, /* A cancelled; waiting for B's final response */
	CALL_ENDING,	 /* ended; waiting for the answers to our BYEs (CDR then) */
};

enum call_leg { LEG_A = 0, LEG_B = 1 };

struct leg_node {
	struct sy_hnode h;
	uint8_t leg;
};

struct call {
	struct leg_node a_node, b_node;
	uint32_t idx;	    /* in the pool, for the free list */
	uint32_t next_free; /* while on the free list */
	enum call_state state;
	struct sip_txn *a_ist; /* the caller's INVITE, until it ends */
	struct sip_txn *b_ict; /* our INVITE to the carrier, until it ends */
	struct sy_addr a_src;  /* where A's INVITE came from: in-dialog requests go there */
	struct sy_addr b_dst;  /* where B-leg requests go */
	uint32_t a_cseq;       /* our CSeq towards A (for BYE) */
	uint32_t b_cseq;       /* our CSeq towards B */
	uint32_t b_invite_cseq;
	struct b2bua *owner;
	int16_t carrier;      /* carrier holding a capacity slot now, or -1 */
	int16_t last_carrier; /* the last carrier tried, for the CDR */
	uint16_t route_ids[B2BUA_ROUTE_MAX];
	uint8_t route_n, route_pos;
	bool relayed_18x;
	bool a_linked, b_linked;
	int max_forwards;
	int final_code;
	enum cdr_disposition disposition;
	enum cdr_side hangup;
	uint64_t t_invite_ns, t_18x_ns, t_answer_ns; /* monotonic */
	uint64_t wall_start_ns, wall_answer_ns;
	sy_timer_id max_timer;	 /* max call duration, once connected */
	sy_timer_id setup_timer; /* invite / ring timeout, while proceeding */
	bool b_provisional;
	bool cut_off; /* ended by billing: the money ran out */
	struct callbill_call bill;
	struct sip_ident who;	/* the authenticated caller: trunk or user, and its account */
	sy_timer_id bill_timer; /* next slice extension, or the cut-off */
	bool answered, got_18x; /* t_answer_ns / t_18x_ns are set (0 is a valid time) */ /* the carrier sent a 1xx */
	uint64_t seq;									 /* call number on this node */
	struct cstr a_call_id, a_from, a_tag, a_contact;
	struct cstr a_local; /* our side of the A dialog: A's To with our tag */
	struct cstr a_rtag;  /* the caller's From tag (the A dialog's remote tag) */
	struct cstr b_ltag;  /* our From tag on the B leg */
	struct cstr b_rtag;  /* the carrier's To tag, once it answered */
	struct cstr b_call_id, b_from, b_to, b_target, b_routes;
	struct cstr caller, callee;
	/* RFC 4028 session timers (b2bua_timer.c) and the end of the call */
	uint32_t a_se_s, b_se_s; /* session interval of each leg; 0 = none */
	uint32_t b_min_se_s;	 /* Min-SE we ask of the carrier */
	bool a_timer;		 /* the caller said Supported: timer */
	bool se_retry;		 /* the carrier's 422 asked for more: retry it */
	bool se_retried;	 /* ...once */
	bool ending;		 /* t_end_ns is set */
	bool billed;		 /* callbill_end done: its results below */
	int64_t bill_cost;
	uint32_t bill_tariff, bill_rated;
	uint8_t byes_pending;
	uint64_t a_fresh_ns, b_fresh_ns; /* last refresh (or answer) of each leg */
	uint64_t t_end_ns;		 /* when the first BYE left: the CDR's end */
	sy_timer_id refresh_timer;
	struct sip_txn *a_upd, *b_upd; /* our refresh UPDATEs in flight */
	struct sip_txn *a_bye, *b_bye; /* our BYEs in flight */
	/* a relayed re-INVITE / UPDATE (b2bua_relay.c) */
	struct sip_txn *rl_st, *rl_ct; /* the originator's, ours on the other leg */
	uint32_t rl_in_cseq, rl_out_cseq;
	uint8_t rl_from; /* enum call_leg of the originator */
	bool rl_invite, rl_offer, rl_wait_ack;
	/* fraud (b2bua_fraud.c): the component's per-call state, the decision
	 * the CDR records (reason in buf), the running call's check */
	struct fraud_call fraud;
	uint8_t fraud_action, fraud_detector;
	bool fraud_teardown; /* ended by a check: our BYEs carry a Reason */
	struct cstr fraud_reason;
	sy_timer_id fraud_timer;
	uint16_t used;
	/* inl, or a CALL_BUF block of the heap once inl is outgrown (call_put):
	 * a pool slot sized for the rare long call would hold 1.4 KB for each
	 * of the 100K+ calls a 10K CPS switch has up. */
	char *buf;
	char inl[CALL_BUF_INLINE];
};

struct b2bua {
	struct b2bua_cfg cfg;
	const struct sy_env *env;
	struct sy_dgram *sock;
	struct sip_stack *stack;
	struct sip_auth *auth; /* who may send new requests; the registrar */
	struct sip_pike *pike; /* NULL: pike = off */
	struct sy_pool calls;  /* grown as calls arrive, up to calls_max */
	uint32_t free_head;    /* recycled calls, LIFO; CALL_NONE: grow the pool */
	struct sy_htab by_call_id;
	uint64_t call_seq;
	uint64_t cdr_seq;
	char host[64];	  /* our host as text, for Contact / Call-ID */
	char contact[96]; /* "<sip:switchyard@host:port>" */
	struct b2bua_stats st;
	uint64_t stray_tokens, stray_at_ns; /* stray 2xx replies' bucket (ns x replies) */
	/* The user of a B-leg INVITE whose call ended before its final
	 * response (shutdown): a 2xx on it is ACKed and BYEd, never relayed. */
	struct call orphan;
	bool closing; /* b2bua_hangup_all ran: new INVITEs get 503 */
};

#define CALL_NONE UINT32_MAX

/* Stray 2xx answered per second, and the burst: a legitimate one is rare
 * (a carrier answering after we gave up), a flood of forged ones must not
 * make us a traffic source. */
#define STRAY_2XX_RATE	20
#define STRAY_2XX_BURST 40

static inline struct sy_str cs(const struct call *c, struct cstr s)
{
	return (struct sy_str){c->buf + s.off, s.len};
}

/* Copies bytes into the call's buffer; false when it does not fit. */
bool call_put(struct call *c, struct cstr *dst, const char *p, size_t len);
/* Copies a NUL-terminated view of a slice into tmp (bounded). */
const char *call_cstr(const struct call *c, struct cstr s, char *tmp, size_t n);

/* b2bua_msg.c: each leg's messages as sip_request values pointing into the
 * call record (valid until the call record changes). */
/* To dst; the Request-URI is target, or sip:CALLEE@dst when target is empty. */
enum sy_rc b2b_b_invite(struct b2bua *b, struct call *c, struct sy_str a_inv, const struct sy_addr *dst,
			struct sy_str target, struct sip_request *rq);
void b2b_b_indialog(struct call *c, const char *method, uint32_t cseq, struct sip_request *rq, struct sy_str *routes);
void b2b_a_bye(struct call *c, struct sip_request *rq);
enum sy_rc b2b_store_a(struct call *c, const struct sip_msg *inv, struct sy_str tag);
enum sy_rc b2b_store_b_dialog(struct call *c, const struct sip_msg *resp);
void b2b_number(const osip_uri_t *u, char *out, size_t n);
void b2b_token(struct b2bua *b, const char *prefix, char *out, size_t n);
void b2b_call_id_token(struct b2bua *b, char *out, size_t n);
/* A branch id: 64 bits from the env's random() (sy_env_random). */
uint64_t b2b_branch(struct b2bua *b);

/* Shared by b2bua.c (pool, CDRs, sending, setup), b2bua_call.c (a new
 * call, its B leg and billing) and b2bua_tu.c (the TU callbacks). */
void b2bua__a_respond(struct b2bua *b, struct call *c, int code, const char *reason, const struct sip_msg *body_from);
void b2bua__a_respond_x(struct b2bua *b, struct call *c, int code, const char *reason, const struct sip_msg *body_from,
			struct sy_str extra);
void b2bua__b_failed(struct b2bua *b, struct call *c, int code, const char *reason);
void b2bua__b_unlink(struct b2bua *b, struct call *c);
struct call *b2bua__call_alloc(struct b2bua *b);
void b2bua__call_fail(struct b2bua *b, struct call *c, int code, const char *reason, enum cdr_disposition d);
struct call *b2bua__call_find(struct b2bua *b, struct sy_str call_id, enum call_leg *leg);
void b2bua__call_free(struct b2bua *b, struct call *c);
void b2bua__cancel_call(struct b2bua *b, struct call *c);
void b2bua__carrier_release(struct b2bua *b, struct call *c);
void b2bua__max_call_fire(void *arg);
/* A REGISTER (b2bua_call.c: authenticated, then the registrar). */
void b2bua__register(struct b2bua *b, struct sip_txn *st, const struct sip_msg *req, const struct sy_addr *from);
void b2bua__new_invite(struct b2bua *b, struct sip_txn *st, const struct sip_msg *req, const struct sy_addr *from);
void b2bua__on_b_response(struct b2bua *b, struct call *c, struct sip_txn *ct, const struct sip_msg *resp);
void b2bua__on_request(void *arg, struct sip_txn *st, const struct sip_msg *req, const struct sy_addr *from);
void b2bua__on_response(void *arg, struct sip_txn *ct, const struct sip_msg *resp);
void b2bua__on_terminated(void *arg, struct sip_txn *t);
void b2bua__on_timeout(void *arg, struct sip_txn *t);
void b2bua__respond_code(struct b2bua *b, struct sip_txn *st, int code, const char *reason);
void b2bua__send_a_bye(struct b2bua *b, struct call *c);
void b2bua__send_b_ack(struct b2bua *b, struct call *c);
void b2bua__send_b_bye(struct b2bua *b, struct call *c);
void b2bua__send_request(struct b2bua *b, const struct sip_request *rq, const struct sy_addr *to, struct sip_txn **out);
void b2bua__setup_fire(void *arg);
void b2bua__setup_timer_set(struct b2bua *b, struct call *c, uint64_t ns);
void b2bua__send_b_bye_x(struct b2bua *b, struct call *c, struct sip_txn **out);
void b2bua__send_a_bye_x(struct b2bua *b, struct call *c, struct sip_txn **out);

/* b2bua_dialog.c: the call an in-dialog request names (Call-ID, both
 * tags, and the source the dialog was made with); NULL when none, with
 * the reason counted in st.dlg_refused and returned in *why. */
struct call *b2bua__dialog_match(struct b2bua *b, const struct sip_msg *req, const struct sy_addr *from,
				 enum call_leg *leg, enum b2bua_refusal *why);

/* A datagram from the carrier the call's B leg was sent to (its IP). */
bool b2bua__from_b_peer(const struct call *c, const struct sy_addr *from);

/* b2bua_timer.c: session timers (RFC 4028) and the end of a call. */
/* BYE to the legs asked, then the CDR when they answer (or time out). */
void b2bua__call_end(struct b2bua *b, struct call *c, bool bye_a, bool bye_b);
/* b2bua.c: the call's charge, once (at its end; the CDR reads it). */
void b2bua__bill_close(struct b2bua *b, struct call *c);
/* The caller's Session-Expires / Min-SE; false: answered 422, call ended. */
bool b2bua__st_check_a(struct b2bua *b, struct call *c, const struct sip_msg *inv);
/* Our B-leg INVITE's extra headers (Allow, and the session timer's). */
void b2bua__st_invite_extra(struct b2bua *b, struct call *c, struct sip_request *rq, char *buf, size_t n);
/* The carrier's 422: true when the INVITE is to be retried with its Min-SE. */
bool b2bua__st_on_422(struct call *c, const struct sip_msg *resp);
/* At answer: the session intervals, our 200's headers, the refresh timer. */
void b2bua__st_answered(struct b2bua *b, struct call *c, const struct sip_msg *resp, char *extra, size_t n,
			struct sy_str *out);
/* A BYE or UPDATE of ours got a response / timed out: true when handled. */
bool b2bua__st_response(struct b2bua *b, struct call *c, struct sip_txn *ct, const struct sip_msg *resp);
bool b2bua__st_timeout(struct b2bua *b, struct call *c, struct sip_txn *t);
/* A refresh (UPDATE or re-INVITE) from the peer on leg was accepted. */
void b2bua__st_refreshed(struct b2bua *b, struct call *c, enum call_leg leg);
/* b2bua_relay.c: re-INVITE and UPDATE relayed between the legs. */
bool b2bua__relay_request(struct b2bua *b, struct call *c, enum call_leg leg, struct sip_txn *st,
			  const struct sip_msg *req);
bool b2bua__relay_response(struct b2bua *b, struct call *c, struct sip_txn *ct, const struct sip_msg *resp);
bool b2bua__relay_ack(struct b2bua *b, struct call *c, enum call_leg leg, const struct sip_msg *ack);
bool b2bua__relay_timeout(struct b2bua *b, struct call *c, struct sip_txn *t);
bool b2bua__relay_terminated(struct call *c, struct sip_txn *t);
void b2bua__relay_detach(struct call *c);
/* b2bua_fraud.c (only with cfg.fraud): the INVITE's decision (false: the
 * call was refused and freed), the answer (schedules the running checks),
 * the end (fraud_call_end, once per call begun), and the Reason header of
 * a refusal or a teardown's BYEs. */
bool b2bua__fraud_begin(struct b2bua *b, struct call *c);
void b2bua__fraud_answered(struct b2bua *b, struct call *c);
void b2bua__fraud_end(struct b2bua *b, struct call *c);
size_t b2bua__fraud_reason_hdr(const struct call *c, int cause, char *buf, size_t n);
/* Detaches the call's BYE and UPDATE transactions (the call is freed). */
void b2bua__st_detach(struct b2bua *b, struct call *c);

#endif
