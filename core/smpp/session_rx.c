/* session_rx.c: what the peer sends an SMPP session: framing over on_data
 * chunks with a bounded per-session buffer, bind requests and the other
 * requests, the responses matched to our window, and the stream callbacks
 * (data, close, accept) that feed them. */
#include "core/smpp/session_int.h"

#include <stdlib.h>

/* ---- received requests ---- */

static enum smpp_bind_type bind_type_of(uint32_t cmd)
{
	switch (cmd) {
	case SMPP_BIND_TRANSMITTER:
		return SMPP_BIND_TX;
	case SMPP_BIND_RECEIVER:
		return SMPP_BIND_RX;
	default:
		return SMPP_BIND_TRX;
	}
}

uint32_t smpp_sess__bind_cmd_of(enum smpp_bind_type t)
{
	return t == SMPP_BIND_TX   ? SMPP_BIND_TRANSMITTER
	       : t == SMPP_BIND_RX ? SMPP_BIND_RECEIVER
				   : SMPP_BIND_TRANSCEIVER;
}

/* Whether a request may arrive on a link bound as t (SMPP 3.4 section 2.3):
 * the ESME's submissions need a transmitter, deliveries a receiver. */
static bool bind_allows(enum smpp_bind_type t, uint32_t cmd)
{
	switch (cmd) {
	case SMPP_SUBMIT_SM:
	case SMPP_QUERY_SM:
	case SMPP_CANCEL_SM:
	case SMPP_REPLACE_SM:
		return t != SMPP_BIND_RX;
	case SMPP_DELIVER_SM:
	case SMPP_ALERT_NOTIFICATION:
		return t != SMPP_BIND_TX;
	default:
		return true;
	}
}

/* The bytes of the PDU being handled and what followed it in the same read
 * (a bind handed to another pool takes both). */
struct rx_at {
	const uint8_t *pdu, *rest;
	size_t pdu_len, rest_len;
};

static void sess_on_bind(struct smpp_session *s, const struct smpp_pdu *req, const struct rx_at *at)
{
	struct smpp_pool *p = s->pool;
	uint32_t rcmd = req->command_id | SMPP_RESP_BIT;
	if (!s->is_server || s->state != SMPP_SS_OPEN) {
		p->st.bind_bad_state++;
		smpp_sess__reply_err(s, rcmd, s->is_server ? ESME_RALYBND : ESME_RINVBNDSTS, req->sequence_number);
		return;
	}
	if (p->cfg.ops->handoff != NULL &&
	    p->cfg.ops->handoff(p->cfg.arg, s, req->system_id, at->pdu, at->pdu_len, at->rest, at->rest_len))
		return;
	enum smpp_bind_type type = bind_type_of(req->command_id);
	struct smpp_tbucket *tb = NULL;
	uint32_t status = ESME_RBINDFAIL;
	if (p->cfg.ops->auth != NULL)
		status = p->cfg.ops->auth(p->cfg.arg, s, req->system_id, req->password, type, &tb);
	if (smpp_sess__closed(s))
		return;
	if (status != ESME_ROK) {
		p->st.binds_failed++;
		smpp_sess__reply_err(s, rcmd, status, req->sequence_number);
		/* One stream is not a free guessing channel: the resp goes out
		 * (the close flushes it), then the stream ends. */
		if (p->cfg.bind_fails_max > 0 && ++s->bind_fails >= p->cfg.bind_fails_max) {
			p->st.closed_bind_fails++;
			smpp_sess__end(s, SMPP_CLOSE_BIND_FAILED);
		}
		return;
	}
	SY_ASSERT(req->system_id.len <= SMPP_SYSTEM_ID_MAX);
	if (req->system_id.len > 0)
		memcpy(s->sid, req->system_id.p, req->system_id.len);
	s->sid[req->system_id.len] = '\0';
	s->bind_type = type;
	s->tb = tb;
	s->state = SMPP_SS_BOUND;
	sy_env_timer_cancel(p->env, s->t_bind);
	s->t_bind = 0;
	p->st.binds_ok++;
	smpp_sess__reply_err(s, rcmd, ESME_ROK, req->sequence_number);
	smpp_sess__keepalive_start(s);
	if (p->cfg.ops->on_bound != NULL)
		p->cfg.ops->on_bound(p->cfg.arg, s, ESME_ROK);
}

/* Requests that are the session's own business; false for the owner's. */
static bool sess_on_ctl_req(struct smpp_session *s, const struct smpp_pdu *req, const struct rx_at *at)
{
	uint32_t cmd = req->command_id, seq = req->sequence_number;
	switch (cmd) {
	case SMPP_ENQUIRE_LINK:
		smpp_sess__send_hdr(s, SMPP_ENQUIRE_LINK_RESP, ESME_ROK, seq);
		return true;
	case SMPP_BIND_RECEIVER:
	case SMPP_BIND_TRANSMITTER:
	case SMPP_BIND_TRANSCEIVER:
		sess_on_bind(s, req, at);
		return true;
	case SMPP_UNBIND:
		if (s->state != SMPP_SS_BOUND && s->state != SMPP_SS_UNBINDING) {
			s->pool->st.bind_bad_state++;
			smpp_sess__send_hdr(s, SMPP_UNBIND_RESP, ESME_RINVBNDSTS, seq);
			return true;
		}
		smpp_sess__send_hdr(s, SMPP_UNBIND_RESP, ESME_ROK, seq);
		smpp_sess__end(s, SMPP_CLOSE_PEER_UNBIND);
		return true;
	case SMPP_OUTBIND:
		smpp_sess__send_hdr(s, SMPP_GENERIC_NACK, ESME_RINVCMDID, seq);
		return true;
	default:
		return false;
	}
}

static void sess_on_req(struct smpp_session *s, const struct smpp_pdu *req, const struct rx_at *at)
{
	struct smpp_pool *p = s->pool;
	uint32_t cmd = req->command_id, seq = req->sequence_number, rcmd = cmd | SMPP_RESP_BIT;
	if (sess_on_ctl_req(s, req, at))
		return;
	if (s->state != SMPP_SS_BOUND || !bind_allows(s->bind_type, cmd)) {
		p->st.bind_bad_state++;
		smpp_sess__send_hdr(s, rcmd, ESME_RINVBNDSTS, seq);
		return;
	}
	if (cmd != SMPP_ALERT_NOTIFICATION) {
		bool submit = cmd == SMPP_SUBMIT_SM || cmd == SMPP_DATA_SM;
		if (s->is_server && submit && s->tb != NULL && !smpp_tbucket_take(s->tb, sy_env_now_ns(p->env))) {
			p->st.throttled++;
			smpp_sess__send_hdr(s, rcmd, ESME_RTHROTTLED, seq);
			return;
		}
		if (s->n_in >= p->cfg.in_window) {
			/* The peer ignores our window: tell it to slow down. */
			p->st.in_window_full++;
			smpp_sess__send_hdr(s, rcmd, ESME_RTHROTTLED, seq);
			return;
		}
		uint32_t r = smpp_sess__in_take(s);
		s->in[r] = (struct smpp_in){seq, cmd, SMPP_WIN_NIL};
		smpp_seqix_add(&s->in_ix, seq, r);
		s->n_in++;
	}
	if (p->cfg.ops->on_request != NULL)
		p->cfg.ops->on_request(p->cfg.arg, s, req);
}

/* ---- received responses ---- */

static void sess_on_ctl_resp(struct smpp_session *s, const struct smpp_pdu *resp)
{
	struct smpp_pool *p = s->pool;
	uint32_t ctl = s->ctl_cmd;
	s->ctl_seq = s->ctl_cmd = 0;
	sy_env_timer_cancel(p->env, s->t_ctl);
	s->t_ctl = 0;
	if (ctl == SMPP_UNBIND) {
		smpp_sess__end(s, SMPP_CLOSE_UNBOUND);
		return;
	}
	uint32_t status = resp->command_status;
	if (resp->command_id == SMPP_GENERIC_NACK && status == ESME_ROK)
		status = ESME_RBINDFAIL;
	if (status == ESME_ROK) {
		s->state = SMPP_SS_BOUND;
		p->st.binds_ok++;
		smpp_sess__keepalive_start(s);
	} else {
		p->st.binds_failed++;
	}
	if (p->cfg.ops->on_bound != NULL)
		p->cfg.ops->on_bound(p->cfg.arg, s, status);
	if (status != ESME_ROK)
		smpp_sess__end(s, SMPP_CLOSE_BIND_FAILED);
}

static void sess_on_resp(struct smpp_session *s, const struct smpp_pdu *resp)
{
	struct smpp_pool *p = s->pool;
	uint32_t seq = resp->sequence_number, cmd = resp->command_id;
	bool nack = cmd == SMPP_GENERIC_NACK;
	if (s->ctl_seq != 0 && seq == s->ctl_seq && (nack || cmd == (s->ctl_cmd | SMPP_RESP_BIT))) {
		sess_on_ctl_resp(s, resp);
		return;
	}
	if (s->enq_seq != 0 && seq == s->enq_seq && (nack || cmd == SMPP_ENQUIRE_LINK_RESP)) {
		s->enq_seq = 0;
		sy_env_timer_cancel(p->env, s->t_enq);
		s->t_enq = 0;
		p->st.enquire_answered++;
		return;
	}
	/* Our sequence numbers are unique among what is outstanding. */
	uint32_t r = s->n_out > 0 ? smpp_seqix_find(&s->out_ix, seq) : SMPP_WIN_NIL;
	if (r == SMPP_WIN_NIL || !(nack || cmd == (s->out[r].cmd | SMPP_RESP_BIT))) {
		p->st.stray_resps++;
		return;
	}
	uint64_t tag = s->out[r].tag;
	smpp_sess__out_remove(s, r);
	if (p->cfg.ops->on_response != NULL)
		p->cfg.ops->on_response(p->cfg.arg, s, SMPP_REQ_RESP, seq, tag, resp);
}

/* ---- framing ---- */

static void sess_pdu(struct smpp_session *s, const uint8_t *p, size_t len, const uint8_t *rest, size_t rest_len)
{
	struct smpp_pool *pool = s->pool;
	struct smpp_pdu pdu;
	uint32_t status = ESME_ROK;
	pool->st.rx_pdus++;
	if (smpp_pdu_decode(p, p + len, &pdu, &status) != SY_OK) {
		/* Framing already checked the header, so command_id and the
		 * sequence number are from the wire. */
		pool->st.rx_bad++;
		uint32_t cmd = smpp_sess__get_be32(p + 4), seq = smpp_sess__get_be32(p + 12);
		smpp_sess__reply_err(s, smpp_error_resp_cmd(cmd, status), status, seq);
		return;
	}
	if (smpp_cmd_is_resp(pdu.command_id))
		sess_on_resp(s, &pdu);
	else
		sess_on_req(s, &pdu, &(struct rx_at){p, rest, len, rest_len});
}

/* command_length that cannot be framed (or buffered): the byte stream has
 * lost sync and cannot be recovered, so nack it and hang up. */
static void sess_bad_length(struct smpp_session *s, const uint8_t *p, size_t avail)
{
	s->pool->st.rx_bad++;
	s->pool->st.closed_bad_length++;
	smpp_sess__send_hdr(s, SMPP_GENERIC_NACK, ESME_RINVCMDLEN,
			    avail >= SMPP_HEADER_LEN ? smpp_sess__get_be32(p + 12) : 0);
	smpp_sess__end(s, SMPP_CLOSE_BAD_LENGTH);
}

/* Handles the complete PDUs at the start of [p, p+len) in place; returns the
 * bytes used (len when the session closed). */
static size_t sess_frames(struct smpp_session *s, const uint8_t *p, size_t len)
{
	size_t off = 0;
	while (off < len && !smpp_sess__closed(s)) {
		size_t flen = 0;
		enum sy_rc rc = smpp_frame_len(p + off, len - off, &flen);
		if (rc == SY_ERR_PARSE || flen > s->pool->cfg.inbuf_max) {
			sess_bad_length(s, p + off, len - off);
			return len;
		}
		if (rc == SY_AGAIN)
			break;
		sess_pdu(s, p + off, flen, p + off + flen, len - off - flen);
		off += flen;
	}
	return smpp_sess__closed(s) ? len : off;
}

/* Adds bytes to a buffered partial PDU, up to its end, and handles it once
 * complete. Returns the bytes used. */
static size_t sess_fill(struct smpp_session *s, const uint8_t *buf, size_t len)
{
	size_t used = 0, flen = 0;
	if (s->in_len < 4) {
		used = SY_MIN(4 - s->in_len, len);
		memcpy(s->inbuf + s->in_len, buf, used);
		s->in_len += used;
		if (s->in_len < 4)
			return used;
	}
	enum sy_rc rc = smpp_frame_len(s->inbuf, s->in_len, &flen);
	if (rc == SY_ERR_PARSE || flen > s->pool->cfg.inbuf_max) {
		sess_bad_length(s, s->inbuf, s->in_len);
		return len;
	}
	size_t k = SY_MIN(flen - s->in_len, len - used);
	memcpy(s->inbuf + s->in_len, buf + used, k);
	s->in_len += k;
	used += k;
	if (s->in_len == flen) {
		s->in_len = 0;
		sess_pdu(s, s->inbuf, flen, buf + used, len - used);
	}
	return used;
}

/* Whole PDUs are decoded straight from the chunk; only a PDU split across
 * chunks is copied, into the session's bounded buffer. */
static void sess_feed(struct smpp_session *s, const uint8_t *buf, size_t len)
{
	while (len > 0 && !smpp_sess__closed(s)) {
		if (s->in_len > 0) {
			size_t n = sess_fill(s, buf, len);
			buf += n;
			len -= n;
			continue;
		}
		size_t n = sess_frames(s, buf, len);
		buf += n;
		len -= n;
		if (len > 0 && !smpp_sess__closed(s)) {
			SY_ASSERT(len < s->pool->cfg.inbuf_max); /* sess_frames checked the frame fits */
			memcpy(s->inbuf, buf, len);
			s->in_len = len;
			return;
		}
	}
}

/* ---- stream callbacks ---- */

void smpp_sess__st_on_data(void *arg, struct sy_stream *st, const uint8_t *buf, size_t len)
{
	struct smpp_session *s = arg;
	if (smpp_sess__closed(s))
		return;
	smpp_sess__enter(s);
	s->last_rx_ns = sy_env_now_ns(s->pool->env);
	sess_feed(s, buf, len);
	smpp_sess__leave(s);
}

void smpp_sess__st_on_close(void *arg, struct sy_stream *st, enum sy_rc why)
{
	struct smpp_session *s = arg;
	if (smpp_sess__closed(s))
		return;
	smpp_sess__enter(s);
	s->stream = NULL; /* gone after this callback */
	smpp_sess__end(s, why == SY_OK ? SMPP_CLOSE_PEER : SMPP_CLOSE_IO);
	smpp_sess__leave(s);
}

static void st_on_accept(void *arg, struct sy_stream *st)
{
	struct smpp_pool *p = arg;
	struct smpp_session *s = smpp_sess__alloc(p, true);
	if (s == NULL) {
		sy_env_stream_close(p->env, st);
		return;
	}
	s->stream = st;
	s->state = SMPP_SS_OPEN;
	sy_env_stream_peer(p->env, st, &s->peer);
	if (p->cfg.ops->on_accept != NULL && !p->cfg.ops->on_accept(p->cfg.arg, s)) {
		smpp_session_close(s); /* closes st; no callbacks */
		return;
	}
	sy_env_stream_set_arg(p->env, st, s);
	s->t_bind = sy_env_timer_start(p->env, p->cfg.bind_timeout_ns, smpp_sess__bind_fire, s);
}

enum sy_rc smpp_pool_adopt(struct smpp_pool *p, struct sy_stream *st, const uint8_t *pdu, size_t pdu_len,
			   const uint8_t *rest, size_t rest_len)
{
	struct smpp_session *s = smpp_sess__alloc(p, true);
	if (s == NULL) {
		sy_env_stream_close(p->env, st);
		return SY_ERR_FULL;
	}
	s->stream = st;
	s->state = SMPP_SS_OPEN;
	sy_env_stream_peer(p->env, st, &s->peer);
	if (p->cfg.ops->on_accept != NULL && !p->cfg.ops->on_accept(p->cfg.arg, s)) {
		smpp_session_close(s); /* closes st; no callbacks */
		return SY_ERR_STATE;
	}
	sy_env_stream_set_arg(p->env, st, s);
	s->t_bind = sy_env_timer_start(p->env, p->cfg.bind_timeout_ns, smpp_sess__bind_fire, s);
	/* as if they had just arrived (through the one caller of sess_feed,
	 * which keeps it inlined on the hot path); pinned across both */
	smpp_sess__enter(s);
	smpp_sess__st_on_data(s, st, pdu, pdu_len);
	if (rest_len > 0)
		smpp_sess__st_on_data(s, st, rest, rest_len);
	smpp_sess__leave(s);
	return SY_OK;
}

struct sy_stream *smpp_session_detach(struct smpp_session *s)
{
	SY_ASSERT(s->is_server && s->busy > 0);
	struct sy_stream *st = s->stream;
	s->stream = NULL; /* not closed by the stop below */
	smpp_session_close(s);
	return st;
}

static const struct sy_stream_cbs lsn_cbs = {
    .on_open = st_on_accept,
    .on_data = smpp_sess__st_on_data,
    .on_close = smpp_sess__st_on_close,
};

enum sy_rc smpp_pool_listen(struct smpp_pool *p, const struct sy_addr *local)
{
	SY_ASSERT(p->lsn == NULL);
	return sy_env_stream_listen(p->env, local, &lsn_cbs, p, &p->lsn);
}
