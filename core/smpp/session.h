/* session.h: the SMPP 3.4 session state machine over the env stream
 * transport, for both ends of a link: the server side (the SMSC accepting
 * ESME binds, with per-account authentication and TPS throttling) and the
 * client side (the SMSC binding to carriers, simulated ESMEs, load).
 * Framing, bind, sequence numbers, a window of outstanding requests with
 * response timeouts, enquire_link keepalive and dead-peer detection, unbind.
 * Sessions come from a pool sized at start; all time comes from the env. */
#ifndef SY_SMPP_SESSION_H
#define SY_SMPP_SESSION_H

#include "core/env.h"
#include "core/smpp/pdu.h"

struct smpp_pool;
struct smpp_session;

enum smpp_bind_type { SMPP_BIND_TX = 1, SMPP_BIND_RX = 2, SMPP_BIND_TRX = 3 };

enum smpp_sess_state {
	SMPP_SS_FREE = 0,   /* in the pool */
	SMPP_SS_CONNECTING, /* client: waiting for the stream to open */
	SMPP_SS_OPEN,	    /* server: accepted, not bound yet */
	SMPP_SS_BINDING,    /* client: bind sent, waiting for bind_resp */
	SMPP_SS_BOUND,
	SMPP_SS_UNBINDING, /* unbind sent, waiting for unbind_resp */
	SMPP_SS_CLOSED,	   /* closed; returned to the pool when the current callback ends */
};

/* Why a session ended (on_close). */
enum smpp_close_reason {
	SMPP_CLOSE_PEER = 1,	 /* the peer closed the stream */
	SMPP_CLOSE_IO,		 /* stream error, refused connect, or a failed write */
	SMPP_CLOSE_UNBOUND,	 /* our unbind completed (or its response timed out) */
	SMPP_CLOSE_PEER_UNBIND,	 /* the peer unbound; we answered unbind_resp */
	SMPP_CLOSE_DEAD_PEER,	 /* no enquire_link_resp within enquire_timeout_ns */
	SMPP_CLOSE_IDLE,	 /* nothing received for idle_intervals_max keepalive intervals */
	SMPP_CLOSE_BAD_LENGTH,	 /* a command_length that cannot be framed: stream lost sync */
	SMPP_CLOSE_BIND_FAILED,	 /* client: bind_resp with an error status */
	SMPP_CLOSE_BIND_TIMEOUT, /* server: no successful bind in time; client: no bind_resp */
};
const char *smpp_close_reason_str(enum smpp_close_reason why);

/* How a request we sent ended (on_response). */
enum smpp_req_outcome {
	SMPP_REQ_RESP = 1, /* a response (or generic_nack) with its sequence number arrived */
	SMPP_REQ_TIMEOUT,  /* no response within resp_timeout_ns; a late one is counted as stray */
	SMPP_REQ_CLOSED,   /* the session ended first (reported just before on_close) */
};

/* A token bucket for one account's TPS, owned by the owner and shared by all
 * the account's sessions. Exact integer arithmetic on env time: one token is
 * SY_NS_PER_S units, refilled at tps units per ns elapsed. tps 0 = no limit. */
struct smpp_tbucket {
	uint64_t tps;
	uint64_t cap_units; /* burst * SY_NS_PER_S */
	uint64_t units;
	uint64_t last_ns;
	uint64_t passed;    /* takes that succeeded */
	uint64_t throttled; /* takes refused (answered ESME_RTHROTTLED) */
};
/* Starts full (burst tokens); burst 0 means one second's worth (tps). */
void smpp_tbucket_init(struct smpp_tbucket *tb, uint32_t tps, uint32_t burst, uint64_t now_ns);
/* Takes one token if there is one; counts passed/throttled. */
bool smpp_tbucket_take(struct smpp_tbucket *tb, uint64_t now_ns);

/* Callbacks into the owner, with the pool's arg. They fire only from env
 * stream callbacks and env timers, never from inside an smpp_* call the
 * owner makes. A PDU given to a callback (its sy_str fields) is valid only
 * during the call: copy what you keep. */
struct smpp_sess_ops {
	/* Server: a stream was accepted (smpp_session_peer() says from where).
	 * false closes it at once, and no on_close follows; true: on_close
	 * comes when it ends (not on smpp_pool_destroy()). Optional. */
	bool (*on_accept)(void *arg, struct smpp_session *s);
	/* Server: checks a bind. Returns ESME_ROK or the bind_resp status
	 * (ESME_RINVPASWD, ESME_RINVSYSID, ESME_RBINDFAIL ...). On ESME_ROK it
	 * may set *tb to the account's token bucket (it must outlive the
	 * session); left NULL, the session is not throttled. Required for
	 * sessions accepted through smpp_pool_listen(). */
	uint32_t (*auth)(void *arg, struct smpp_session *s, struct sy_str system_id, struct sy_str password,
			 enum smpp_bind_type type, struct smpp_tbucket **tb);
	/* Server, optional: a bind arrived on an unbound session, before
	 * auth. true: the owner handed the stream to another pool (with
	 * smpp_session_detach() then smpp_pool_adopt()); this session ends
	 * with no callback. pdu is the bind's bytes, rest what followed it in
	 * the same read (both valid during the call only). */
	bool (*handoff)(void *arg, struct smpp_session *s, struct sy_str system_id, const uint8_t *pdu, size_t pdu_len,
			const uint8_t *rest, size_t rest_len);
	/* Both sides: the bind completed. Client: status is the bind_resp's;
	 * on an error status on_close(SMPP_CLOSE_BIND_FAILED) follows. Server:
	 * called once per successful bind (status ESME_ROK). Optional. */
	void (*on_bound)(void *arg, struct smpp_session *s, uint32_t status);
	/* A request from the peer that the owner must answer (submit_sm,
	 * deliver_sm, data_sm, query_sm, cancel_sm, replace_sm), at once or
	 * later, with smpp_session_respond*() and req->sequence_number.
	 * alert_notification also comes here and has no response. */
	void (*on_request)(void *arg, struct smpp_session *s, const struct smpp_pdu *req);
	/* A request sent with smpp_session_send() ended. resp is the decoded
	 * response for SMPP_REQ_RESP (command_id may be SMPP_GENERIC_NACK),
	 * NULL otherwise. tag is the owner's value given to send(). */
	void (*on_response)(void *arg, struct smpp_session *s, enum smpp_req_outcome how, uint32_t seq, uint64_t tag,
			    const struct smpp_pdu *resp);
	/* The session ended; s and its id are invalid once this returns. Not
	 * called for smpp_session_close(). */
	void (*on_close)(void *arg, struct smpp_session *s, enum smpp_close_reason why);
};

/* Zero fields take the defaults given. */
struct smpp_pool_cfg {
	const struct sy_env *env;
	uint32_t sess_max;	      /* sessions in the pool (default 64) */
	uint32_t window;	      /* our outstanding requests per session (default 10) */
	uint32_t in_window;	      /* peer's unanswered requests per session (default 100) */
	uint32_t inbuf_max;	      /* bytes buffered for one partial PDU (default 16384,
				       * at most SMPP_PDU_LEN_MAX); a longer PDU closes the session */
	uint64_t resp_timeout_ns;     /* default 10 s; also for bind and unbind */
	uint64_t enquire_interval_ns; /* keepalive period once bound (default 30 s) */
	uint64_t enquire_timeout_ns;  /* enquire_link_resp due within (default resp_timeout_ns) */
	uint32_t idle_intervals_max;  /* close when nothing arrives for this many intervals (default 3) */
	uint64_t bind_timeout_ns;     /* server: an accepted stream must bind within (default 10 s) */
	uint32_t bind_fails_max;      /* server: close after this many failed binds on a session (0 = never) */
	bool no_keepalive;	      /* true: never send enquire_link (still answers the peer's) */
	struct sy_str system_id;      /* server: system_id in bind_resp (copied; default "switchyard") */
	const struct smpp_sess_ops *ops;
	void *arg;
};

struct smpp_pool_stats {
	uint64_t sessions_active, sessions_refused;	 /* refused: pool full when a stream was accepted/connected */
	uint64_t rx_pdus, tx_pdus, rx_bad;		 /* rx_bad: PDUs answered with an error by the codec */
	uint64_t binds_ok, binds_failed, bind_bad_state; /* bind_bad_state: ESME_RINVBNDSTS / ESME_RALYBND */
	uint64_t throttled, in_window_full, window_full; /* window_full: sends refused with SY_AGAIN */
	uint64_t resp_timeouts, stray_resps, enquire_sent, enquire_answered, tx_errors;
	uint64_t closed_bad_length, closed_dead_peer, closed_idle;
	uint64_t closed_bind_fails; /* server: closed after bind_fails_max failed binds */
};

enum sy_rc smpp_pool_create(const struct smpp_pool_cfg *cfg, struct smpp_pool **out);
/* Closes every session (no callbacks) and any listener, frees the pool. */
void smpp_pool_destroy(struct smpp_pool *p);
const struct smpp_pool_stats *smpp_pool_stats(const struct smpp_pool *p);
/* Memory the pool allocated at create (sessions, input buffers, windows). */
uint64_t smpp_pool_bytes(const struct smpp_pool *p);

/* Server: accepts streams on local; each becomes an unbound session that
 * must bind within bind_timeout_ns. A full pool closes the new stream. */
enum sy_rc smpp_pool_listen(struct smpp_pool *p, const struct sy_addr *local);

/* Server: takes an open stream another pool accepted (its handoff op):
 * a new unbound session, checked by on_accept, fed pdu then rest as if they
 * had just arrived. The stream's callbacks must be this module's server
 * ones (every pool's are). On SY_ERR_FULL (pool full) or SY_ERR_STATE
 * (on_accept refused) the stream is closed. */
enum sy_rc smpp_pool_adopt(struct smpp_pool *p, struct sy_stream *st, const uint8_t *pdu, size_t pdu_len,
			   const uint8_t *rest, size_t rest_len);
/* Server, from the handoff op only: ends the session with no callback and
 * without closing its stream, which is returned (the caller now owns it). */
struct sy_stream *smpp_session_detach(struct smpp_session *s);

/* Client: what to bind with (strings are copied; bounded by pdu.h maxima). */
struct smpp_bind_params {
	enum smpp_bind_type type;
	struct sy_str system_id, password, system_type;
	struct smpp_addr address_range;
};
/* Connects to remote and binds once the stream opens; the result comes in
 * on_bound / on_close. SY_ERR_FULL when the pool is full, SY_ERR_INVAL for
 * over-long strings, or the env's error for the connect. */
enum sy_rc smpp_session_connect(struct smpp_pool *p, const struct sy_addr *remote, const struct smpp_bind_params *bp,
				struct smpp_session **out);

/* Sends a request (submit_sm, deliver_sm, data_sm, query_sm, ...); its
 * sequence_number is allocated here (1..0x7FFFFFFF, wrapping) and returned
 * in *seq_out. SY_AGAIN when the window is full (queue it and retry after an
 * on_response), SY_ERR_STATE when not bound, SY_ERR_INVAL when it does not
 * encode, SY_ERR_IO when the write fails (the session then closes with
 * SMPP_CLOSE_IO from a timer). */
enum sy_rc smpp_session_send(struct smpp_session *s, const struct smpp_pdu *req, uint64_t tag, uint32_t *seq_out);

/* Answers the peer's request seq (from on_request). message_id is used for
 * submit_sm_resp / deliver_sm_resp / data_sm_resp / query_sm_resp with
 * ESME_ROK. SY_ERR_NOTFOUND when seq is not an unanswered request. */
enum sy_rc smpp_session_respond(struct smpp_session *s, uint32_t seq, uint32_t status, struct sy_str message_id);
/* The same with a full response PDU (query_sm_resp with its fields); its
 * command_id and sequence_number must match the unanswered request. */
enum sy_rc smpp_session_respond_pdu(struct smpp_session *s, const struct smpp_pdu *resp);

/* Sends unbind; the session closes with SMPP_CLOSE_UNBOUND when the
 * unbind_resp arrives or resp_timeout_ns passes. SY_ERR_STATE if not bound. */
enum sy_rc smpp_session_unbind(struct smpp_session *s);
/* Closes now with no callbacks (outstanding requests are not reported). */
void smpp_session_close(struct smpp_session *s);

/* A stable handle for async replies (e.g. after a group commit): find()
 * returns NULL once that session has ended, even if its slot is reused. */
uint64_t smpp_session_id(const struct smpp_session *s);
/* Sets the next sequence number to allocate (1..0x7FFFFFFF): for tests of
 * the wrap, and for a link that resumes numbering. */
void smpp_session_seq_set(struct smpp_session *s, uint32_t next_seq);
struct smpp_session *smpp_session_find(struct smpp_pool *p, uint64_t id);

enum smpp_sess_state smpp_session_state(const struct smpp_session *s);
enum smpp_bind_type smpp_session_bind_type(const struct smpp_session *s);
/* The bound system_id (server: the ESME's; client: the one we bound with). */
struct sy_str smpp_session_system_id(const struct smpp_session *s);
uint32_t smpp_session_outstanding(const struct smpp_session *s);
uint32_t smpp_session_unanswered(const struct smpp_session *s);
void *smpp_session_user(const struct smpp_session *s);
void smpp_session_set_user(struct smpp_session *s, void *user);
struct smpp_pool *smpp_session_pool(const struct smpp_session *s);
/* Server: the address the stream came from (zero for client sessions). */
const struct sy_addr *smpp_session_peer(const struct smpp_session *s);

#endif
