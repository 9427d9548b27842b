/* txn.h: the RFC 3261 transaction layer (section 17) over UDP, with every
 * timer (A B D E F G H I J K) driven by env timers, plus the RFC 6026
 * Accepted state (timers L and M) so 2xx retransmissions and their ACKs are
 * handled in one place. Transactions come from a pool grown in slabs up to a
 * memory limit (slots plus the bytes they keep). Overload control sits in
 * front of it: above admit_pct of the limit (or with the event loop
 * lagging) new out-of-dialog requests get 503 with Retry-After, while
 * requests inside a dialog (BYE, ACK, CANCEL, re-INVITE, UPDATE, INFO) use
 * the reserve above it and, when even that is gone, are served statelessly. */
#ifndef SY_SIP_TXN_H
#define SY_SIP_TXN_H

#include "core/metrics/hist.h"
#include "msg.h"
#include "wire.h"

struct sip_stack;
struct sip_txn;

struct sip_timer_cfg {
	uint64_t t1_ns; /* RTT estimate, default 500 ms */
	uint64_t t2_ns; /* max retransmit interval for non-INVITE, default 4 s */
	uint64_t t4_ns; /* max message lifetime in the network, default 5 s */
};

enum sip_txn_kind { SIP_TXN_ICT, SIP_TXN_NICT, SIP_TXN_IST, SIP_TXN_NIST };

enum sip_txn_state {
	SIP_TS_CALLING,	   /* ICT */
	SIP_TS_TRYING,	   /* NICT, NIST */
	SIP_TS_PROCEEDING, /* all */
	SIP_TS_COMPLETED,  /* all */
	SIP_TS_CONFIRMED,  /* IST */
	SIP_TS_ACCEPTED,   /* ICT, IST (RFC 6026) */
	SIP_TS_TERMINATED,
};

/* Callbacks into the transaction user (the B2BUA, a UA). A `struct sip_msg`
 * passed to a callback is valid only during the call. */
struct sip_tu {
	/* A new request. st is its new server transaction, or NULL for an ACK
	 * that matched no transaction (the ACK to a 2xx: the TU finds the
	 * dialog and calls sip_txn_acked()). For CANCEL, st is the CANCEL's
	 * own transaction and sip_txn_cancel_target(st) the INVITE's (or
	 * NULL: the TU answers 481). */
	void (*on_request)(void *arg, struct sip_txn *st, const struct sip_msg *req, const struct sy_addr *from);
	/* A response for client transaction ct; ct is NULL for a 2xx
	 * retransmission that arrives after its transaction ended (the TU
	 * resends its ACK). */
	void (*on_response)(void *arg, struct sip_txn *ct, const struct sip_msg *resp);
	/* Timer B or F fired (client: treat as 408), or timer L/H fired on an
	 * IST that never got its ACK (the TU should end the dialog). */
	void (*on_timeout)(void *arg, struct sip_txn *t);
	/* The transaction is gone; the TU must drop every pointer to it. */
	void (*on_terminated)(void *arg, struct sip_txn *t);
};

/* Why a new out-of-dialog request is refused (counted per reason). */
enum sip_overload {
	SIP_OVL_NONE = 0,
	SIP_OVL_TXN,	/* transactions past admit_pct of txn_max or mem_max */
	SIP_OVL_CALLS,	/* the TU's calls past its threshold */
	SIP_OVL_LAG,	/* the event loop's lag past lag_max_ns */
	SIP_OVL_MEMORY, /* osip's memory pool past admit_pct of its limit */
	SIP_OVL_N,
};

#define SIP_TXN_MEM_DEFAULT	((uint64_t)256 << 20)
#define SIP_ADMIT_PCT_DEFAULT	90
#define SIP_LAG_MAX_DEFAULT	(200 * SY_NS_PER_MS)
#define SIP_RETRY_AFTER_DEFAULT 5 /* seconds */

/* The pool's limits and the overload thresholds in front of them
 * ([node] sip_memory, overload_at, overload_lag, retry_after). */
struct sip_limits {
	uint64_t mem_max;	/* bytes of slots plus kept messages; 0: SIP_TXN_MEM_DEFAULT */
	uint32_t admit_pct;	/* new requests refused above this % of a limit; 0: 90 */
	uint64_t lag_max_ns;	/* ... or with timers this late; 0: 200 ms */
	uint32_t retry_after_s; /* in the 503's Retry-After; 0: 5 */
	uint64_t osip_max;	/* osip's pool limit (process-wide); 0: leave it */
};

struct sip_stack_cfg {
	const struct sy_env *env;
	struct sy_dgram *sock; /* where messages are sent from */
	struct sy_addr local;  /* advertised in Via / Contact */
	uint32_t txn_max;      /* most transactions; 0: as many as mem_max holds */
	struct sip_limits limits;
	struct sip_timer_cfg timers;
	const struct sip_tu *tu;
	void *tu_arg;
	/* The TU reads a server transaction's parsed request only inside
	 * on_request and answers from sip_txn_request_raw (sip_txn_reply): the
	 * parsed request is freed when on_request returns, so a ringing call
	 * holds its INVITE's bytes, not osip's tree of it (at 10K calls/s and
	 * 2 s of ringing, 20K trees of ~5 KB in osip's pool). */
	bool raw_requests;
};

struct sip_stack_stats {
	uint64_t rx_msgs, tx_msgs, rx_bad_dropped, rx_bad_400, retransmits_sent, retransmits_absorbed;
	uint64_t txn_full, timeouts, txn_active;
	/* extensions (h1): responses matching no transaction and dropped,
	 * datagrams the env refused to send. */
	uint64_t rx_stray_responses, tx_errors;
	/* datagrams dropped unparsed because osip's memory pool was at its
	 * limit (core/sip/osip_pool.h): sip.osip_pool_exhausted */
	uint64_t rx_pool_exhausted;
	/* overload (h9): new requests refused with 503 + Retry-After, by
	 * reason (index enum sip_overload); in-dialog requests served with
	 * no transaction because even the reserve was used up; client
	 * non-INVITE requests sent once with no transaction for the same. */
	uint64_t rejected[SIP_OVL_N];
	uint64_t served_stateless, sent_stateless;
	/* issue 10: INVITE refusals sent before any 1xx, answered once per
	 * INVITE copy received and never retransmitted by Timer G. */
	uint64_t finals_once;
	uint64_t txn_lingering; /* gauge: final response done, absorbing retransmissions */
	uint64_t mem_bytes;	/* gauge: slabs plus the bytes transactions keep */
	uint64_t mem_limit;	/* the configured mem_max */
	/* issue 14: the pool's high-water marks and its object cap, for
	 * sip.pool_peak (a planner's "how full did it get") */
	uint64_t txn_peak, mem_peak, txn_cap;
	uint64_t lag_ns;    /* gauge: the latest timer of the 1-2 s before the last one fired */
	struct sy_hist lag; /* every transaction timer's lateness */
};

enum sy_rc sip_stack_create(const struct sip_stack_cfg *cfg, struct sip_stack **out);
void sip_stack_destroy(struct sip_stack *s);
/* Feed one received datagram (from the env dgram callback). Parses once,
 * answers 400 to broken requests, matches transactions (RFC 3261 17.1.3
 * and 17.2.3), absorbs retransmissions, and calls the TU. */
void sip_stack_recv(struct sip_stack *s, const struct sy_addr *from, const uint8_t *buf, size_t len);
const struct sip_stack_stats *sip_stack_stats(const struct sip_stack *s);
const struct sy_addr *sip_stack_local(const struct sip_stack *s);
/* Whether a new out-of-dialog request should be refused now, and why
 * (TXN, LAG or MEMORY; CALLS is the TU's to decide). */
enum sip_overload sip_stack_overload(const struct sip_stack *s);
/* Answers st 503 Service Unavailable with Retry-After and counts why. */
enum sy_rc sip_txn_reject(struct sip_txn *st, enum sip_overload why);
/* The configured admit_pct (for the TU's own thresholds). */
uint32_t sip_stack_admit_pct(const struct sip_stack *s);
/* sizeof one transaction slot (for sizing: docs/operations.md). */
size_t sip_txn_slot_bytes(void);

/* Starts a client transaction for req (INVITE -> ICT, else NICT; never ACK).
 * The caller has already pushed its Via with a fresh branch. Takes ownership
 * of req in every case. */
enum sy_rc sip_txn_client_start(struct sip_stack *s, osip_message_t *req, const struct sy_addr *to, void *user,
				struct sip_txn **out);
/* CANCEL for an ICT (RFC 3261 9.1): sent now if a provisional response has
 * arrived, else as soon as one does; no-op once a final response arrived. */
enum sy_rc sip_txn_client_cancel(struct sip_txn *ict);
/* The TU gives up on an ICT that has had no response (its own setup timer):
 * retransmissions stop and the transaction ends with no further callbacks. */
void sip_txn_abandon(struct sip_txn *ct);
/* Sends a response on a server transaction. Takes ownership of resp. A 2xx
 * on an IST moves it to Accepted: the stack retransmits the 2xx (T1, 2T1 ...
 * capped at T2) until sip_txn_acked() or timer L. */
enum sy_rc sip_txn_respond(struct sip_txn *st, osip_message_t *resp);
/* The fast forms of the three calls above, for a TU that sends at load:
 * the message is written as text (wire.h) instead of an osip_message_t.
 * sip_txn_reply builds the response from the request's own bytes (Vias,
 * From, To, Call-ID, CSeq; RFC 3261 8.2.6) and sends it like
 * sip_txn_respond. sip_txn_client_send and sip_stack_send_request write
 * our Via with branch "z9hG4bK" + 16 hex digits of branch_id; the CANCEL
 * and ACK the stack makes for such an INVITE come from its bytes too.
 * Transactions started this way have no sip_txn_request(). */
enum sy_rc sip_txn_reply(struct sip_txn *st, const struct sip_reply *r);
enum sy_rc sip_txn_client_send(struct sip_stack *s, const struct sip_request *rq, uint64_t branch_id,
			       const struct sy_addr *to, void *user, struct sip_txn **out);
enum sy_rc sip_stack_send_request(struct sip_stack *s, const struct sip_request *rq, uint64_t branch_id,
				  const struct sy_addr *to);
/* The source address of the datagram being received (valid inside a TU
 * callback made from sip_stack_recv; NULL elsewhere): where a response
 * that matched nothing came from. */
const struct sy_addr *sip_stack_rx_source(const struct sip_stack *s);
/* st lives only during on_request (the pool and its reserve were full;
 * only BYE and CANCEL are served so): answer it there or not at all. */
bool sip_txn_stateless(const struct sip_txn *st);
/* The TU matched an ACK to the 2xx sent on st. */
void sip_txn_acked(struct sip_txn *st);
/* Sends a message outside any transaction (an ACK to a 2xx). Takes ownership. */
enum sy_rc sip_stack_send(struct sip_stack *s, osip_message_t *msg, const struct sy_addr *to);
/* Sends a 400/other stateless response to a request that has no transaction. */
enum sy_rc sip_stack_respond_stateless(struct sip_stack *s, const struct sip_msg *req, const struct sy_addr *from,
				       int status, const char *reason);

void *sip_txn_user(const struct sip_txn *t);
void sip_txn_set_user(struct sip_txn *t, void *user);
enum sip_txn_kind sip_txn_kind(const struct sip_txn *t);
enum sip_txn_state sip_txn_state(const struct sip_txn *t);
struct sip_txn *sip_txn_cancel_target(const struct sip_txn *cancel_st);
/* The request that created the transaction (server: as received; client: as
 * sent). Valid until on_terminated. */
const osip_message_t *sip_txn_request(const struct sip_txn *t);
const struct sy_addr *sip_txn_peer(const struct sip_txn *t);
/* A server transaction's request as received, with the RFC 3581 received/
 * rport fix applied to its top Via; valid as long as sip_txn_request(). */
struct sy_str sip_txn_request_raw(const struct sip_txn *t);

/* ---- Semantics the TU relies on (h1) ----
 * Ownership: every osip_message_t handed to sip_txn_client_start,
 * sip_txn_respond and sip_stack_send is owned by the stack from the call
 * on, also when the call fails. Messages given to callbacks are the stack's.
 *
 * sip_txn_request(t) returns the request while the transaction may still
 * need it, and NULL afterwards, because 10K calls/s times 32 s of Completed
 * state cannot hold parsed messages:
 *   server (IST, NIST): from creation until the final response is sent with
 *     sip_txn_respond (if that happens inside on_request, until on_request
 *     returns); with cfg.raw_requests, until on_request returns;
 *   client (ICT, NICT): from sip_txn_client_start until the first final
 *     response has been delivered by on_response (valid during that call).
 * Keep what you need (e.g. the ACK you build for a 2xx) in your own state.
 *
 * Callbacks fire only from sip_stack_recv and from env timers, never from
 * inside a sip_txn_* or sip_stack_* call made by the TU. on_terminated is
 * always the last callback for a transaction and comes only from a timer
 * (Timer B/D/F/H/I/J/K/L/M or the 64*T1 CANCEL guard), so a transaction
 * pointer stays valid across any call the TU makes.
 * ICT: on_response for every 1xx, once for the first 3xx-6xx (the stack
 *   sends the ACK itself and absorbs retransmissions), for the first and
 *   every retransmitted 2xx (Accepted, 32 s); after that 2xx go to
 *   on_response with ct == NULL. After sip_txn_client_cancel, the CANCEL's
 *   own transaction is internal: its responses and timeout are not reported;
 *   if no final response arrives within 64*T1 of the CANCEL, on_timeout.
 * NICT: on_response for each 1xx and once for the final response.
 * IST/NIST: on_request once; retransmissions are absorbed (last response
 *   resent). An ACK matching an IST in Completed/Confirmed is absorbed; any
 *   other ACK goes to on_request with st == NULL.
 * Client transactions are not matched against server ones: a request the
 * node sends to itself gets a server transaction as usual.
 * The stack sends no automatic 100 Trying: the TU answers INVITE with 100
 * (or a final response) itself. A server transaction the TU never answers
 * finally stays in the pool (RFC 3261 has no timer there).
 *
 * Return codes:
 *   sip_txn_client_start  SY_OK; SY_ERR_FULL (pool full, counted in
 *     txn_full; a non-INVITE request is still sent once, counted in
 *     sent_stateless); SY_ERR_INVAL (ACK, no top Via branch with the z9hG4bK
 *     cookie, no CSeq/Call-ID, same branch+method already active, or
 *     osip cannot serialize it).
 *   sip_txn_client_cancel  SY_OK (sent, deferred to the first 1xx, or a
 *     no-op after a final response, or with no slot left the CANCEL sent
 *     once without a transaction); SY_ERR_INVAL (not an ICT).
 *   sip_txn_respond  SY_OK; SY_ERR_STATE (client transaction, or a final
 *     response was already sent); SY_ERR_INVAL (status outside 100-699).
 *
 * Sizing: a transaction slot is 144 bytes (sip_txn_slot_bytes) plus a
 * 4-byte hash bucket; after its final response it keeps only that
 * response's bytes (a BYE's 200 OK: a 272-byte osip block) or nothing.
 * Finished server transactions linger 32 s (Timer J/L/H) and client ones
 * 32 s (D/M) or 5 s (K); a B2BUA call's four average 216 bytes each
 * (tests/test_sip_overload.c, docs/operations.md "Sizing"). The pool grows
 * in slabs up to limits.mem_max (or txn_max), counting slots and kept
 * bytes (stats.mem_bytes).
 *
 * Overload: sip_txn__alloc serves two classes. New out-of-dialog requests
 * are refused statelessly (503 + Retry-After, rejected[SIP_OVL_TXN]) at
 * admit_pct of either limit; requests in a dialog (a To tag, or CANCEL)
 * and client transactions may use the rest. With no slot at all a BYE or
 * CANCEL reaches on_request with a transaction that lives for that call
 * only (sip_txn_stateless, served_stateless): the TU must answer it before
 * returning and keep no pointer to it; a re-INVITE, UPDATE or INFO gets
 * the stateless 503 with Retry-After. */

#endif
