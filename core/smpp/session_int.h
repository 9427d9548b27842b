/* session_int.h: what the parts of the SMPP session state machine share
 * (session.c: pool, lifecycle, timers, accessors; session_rx.c: what the
 * peer sends; session_owner.c: what the owner asks). Not for other modules. */
#ifndef SY_SMPP_SESSION_INT_H
#define SY_SMPP_SESSION_INT_H

#include "core/smpp/session.h"

#define SMPP_SEQ_MAX 0x7FFFFFFFu

#define SMPP_WIN_NIL UINT32_MAX

/* Our outstanding requests: records from a per-session array of `window`,
 * linked in send order (so deadlines are non-decreasing from the head) and
 * found by sequence number through an index (below). seq comes first: the
 * index reads it at the start of either record kind. */
struct smpp_out {
	uint32_t seq, cmd;
	uint64_t deadline_ns;
	uint64_t tag;
	uint32_t prev, next; /* send order; next is the free-list link while free */
};

/* The peer's requests we have not answered yet. */
struct smpp_in {
	uint32_t seq, cmd;
	uint32_t next_free;
};

/* A sequence number -> record index, open addressing with linear probing
 * and backward-shift deletion, which keeps records under one seq in
 * insertion order: a find returns the oldest, as a scan in arrival order
 * did. The home slot is a multiplicative hash of seq: consecutive numbers
 * taken as they are would fill one run of slots as long as the window, and
 * every delete would walk it. Slots hold record index + 1, 0 when empty;
 * mask + 1 = 2^(32 - shift) is at least twice the records, so the index is
 * never full. */
struct smpp_seqix {
	uint32_t *slot;
	uint32_t mask, shift;
	const uint8_t *recs; /* the records, stride bytes apart, each starting with its seq */
	uint32_t stride;
};
static inline uint32_t smpp_seqix_home(const struct smpp_seqix *x, uint32_t seq)
{
	return (uint32_t)(seq * 0x9E3779B1u) >> x->shift;
}
uint32_t smpp_seqix_find(const struct smpp_seqix *x, uint32_t seq);
void smpp_seqix_add(struct smpp_seqix *x, uint32_t seq, uint32_t rec);
void smpp_seqix_del(struct smpp_seqix *x, uint32_t rec);
void smpp_seqix_clear(struct smpp_seqix *x);

struct smpp_session {
	struct smpp_pool *pool;
	uint32_t idx, gen;
	enum smpp_sess_state state;
	enum smpp_bind_type bind_type;
	bool is_server, broken;
	uint32_t bind_fails; /* server: failed binds on this stream */
	struct sy_addr peer; /* server: where the stream came from */
	uint32_t busy;	     /* depth of env callbacks running for this session */
	struct sy_stream *stream;
	uint32_t next_seq;
	uint64_t last_rx_ns;
	struct smpp_tbucket *tb;
	void *user;

	uint8_t *inbuf;
	size_t in_len;
	struct smpp_out *out;
	struct smpp_seqix out_ix;
	uint32_t n_out, out_head, out_tail, out_free, out_fresh; /* fresh: records never used since reset */
	struct smpp_in *in;
	struct smpp_seqix in_ix;
	uint32_t n_in, in_free, in_fresh;

	uint32_t ctl_seq, ctl_cmd; /* our bind or unbind awaiting its response */
	uint32_t enq_seq;	   /* our enquire_link awaiting its response */
	sy_timer_id t_ctl, t_enq, t_keep, t_resp, t_bind, t_fail;
	enum smpp_close_reason fail_reason;

	struct smpp_bind_params bp; /* client: strings point at the arrays below */
	char sid[SMPP_SYSTEM_ID_MAX + 1], pwd[SMPP_PASSWORD_MAX + 1], stype[SMPP_SYSTEM_TYPE_MAX + 1],
	    range[SMPP_ADDRESS_RANGE_MAX + 1];
	struct smpp_session *next_free;
};

struct smpp_pool {
	struct smpp_pool_cfg cfg;
	const struct sy_env *env;
	char system_id[SMPP_SYSTEM_ID_MAX + 1];
	struct smpp_session *sess;
	uint8_t *inbufs;
	struct smpp_out *outs;
	struct smpp_in *ins;
	uint32_t *ix_slots; /* every session's two indexes */
	uint32_t out_ix_n, in_ix_n;
	struct smpp_session *free_list;
	struct sy_listener *lsn;
	struct smpp_pool_stats st;
	uint8_t scratch[SMPP_PDU_LEN_MAX]; /* encode buffer: the core is single-threaded */
};

static inline void smpp_sess__put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t smpp_sess__get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Shared by the parts; each defined where its section is. */
void smpp_sess__out_reset(struct smpp_session *s);
uint32_t smpp_sess__out_take(struct smpp_session *s);
uint32_t smpp_sess__in_take(struct smpp_session *s);
void smpp_sess__out_remove(struct smpp_session *s, uint32_t r);
void smpp_sess__in_reset(struct smpp_session *s);
uint32_t smpp_sess__bind_cmd_of(enum smpp_bind_type t);
void smpp_sess__bind_fire(void *arg);
void smpp_sess__ctl_fire(void *arg);
void smpp_sess__resp_fire(void *arg);
struct smpp_session *smpp_sess__alloc(struct smpp_pool *p, bool is_server);
bool smpp_sess__closed(const struct smpp_session *s);
void smpp_sess__end(struct smpp_session *s, enum smpp_close_reason why);
void smpp_sess__enter(struct smpp_session *s);
void smpp_sess__keepalive_start(struct smpp_session *s);
void smpp_sess__leave(struct smpp_session *s);
uint32_t smpp_sess__next_seq(struct smpp_session *s);
void smpp_sess__release(struct smpp_session *s);
void smpp_sess__reply_err(struct smpp_session *s, uint32_t resp_cmd, uint32_t status, uint32_t seq);
void smpp_sess__send_hdr(struct smpp_session *s, uint32_t cmd, uint32_t status, uint32_t seq);
void smpp_sess__stop(struct smpp_session *s);
enum sy_rc smpp_sess__write(struct smpp_session *s, const uint8_t *buf, size_t len);
void smpp_sess__st_on_close(void *arg, struct sy_stream *st, enum sy_rc why);
void smpp_sess__st_on_data(void *arg, struct sy_stream *st, const uint8_t *buf, size_t len);

#endif
