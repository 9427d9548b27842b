/* session_owner.c: what the owner of an SMPP session asks of it: connect
 * and bind as a client, send requests within the window, answer the
 * peer's requests, unbind, close. */
#include "core/smpp/session_int.h"

#include <stdlib.h>

/* ---- client side ---- */

static void st_on_open(void *arg, struct sy_stream *st)
{
	struct smpp_session *s = arg;
	struct smpp_pool *p = s->pool;
	if (smpp_sess__closed(s))
		return;
	smpp_sess__enter(s);
	struct smpp_pdu pdu;
	size_t n;
	smpp_pdu_init(&pdu, smpp_sess__bind_cmd_of(s->bp.type), smpp_sess__next_seq(s));
	pdu.system_id = s->bp.system_id;
	pdu.password = s->bp.password;
	pdu.system_type = s->bp.system_type;
	pdu.address_range = s->bp.address_range;
	if (smpp_pdu_encode(&pdu, p->scratch, sizeof(p->scratch), &n) != SY_OK) {
		smpp_sess__end(s, SMPP_CLOSE_BIND_FAILED); /* lengths were checked in connect */
		goto out_leave;
	}
	s->state = SMPP_SS_BINDING;
	s->ctl_seq = pdu.sequence_number;
	s->ctl_cmd = pdu.command_id;
	s->t_ctl = sy_env_timer_start(p->env, p->cfg.resp_timeout_ns, smpp_sess__ctl_fire, s);
	(void)smpp_sess__write(s, p->scratch, n);
out_leave:
	smpp_sess__leave(s);
}

static const struct sy_stream_cbs conn_cbs = {
    .on_open = st_on_open,
    .on_data = smpp_sess__st_on_data,
    .on_close = smpp_sess__st_on_close,
};

static bool copy_str(char *dst, size_t max, struct sy_str src, struct sy_str *out)
{
	if (src.len > max || (src.len > 0 && memchr(src.p, '\0', src.len) != NULL))
		return false;
	if (src.len > 0)
		memcpy(dst, src.p, src.len);
	dst[src.len] = '\0';
	*out = (struct sy_str){dst, src.len};
	return true;
}

static bool bind_params_copy(struct smpp_session *s, const struct smpp_bind_params *bp)
{
	s->bp = *bp;
	return copy_str(s->sid, SMPP_SYSTEM_ID_MAX, bp->system_id, &s->bp.system_id) &&
	       copy_str(s->pwd, SMPP_PASSWORD_MAX, bp->password, &s->bp.password) &&
	       copy_str(s->stype, SMPP_SYSTEM_TYPE_MAX, bp->system_type, &s->bp.system_type) &&
	       copy_str(s->range, SMPP_ADDRESS_RANGE_MAX, bp->address_range.addr, &s->bp.address_range.addr);
}

enum sy_rc smpp_session_connect(struct smpp_pool *p, const struct sy_addr *remote, const struct smpp_bind_params *bp,
				struct smpp_session **out)
{
	SY_ASSERT(p != NULL && remote != NULL && bp != NULL && out != NULL);
	*out = NULL;
	if (bp->type < SMPP_BIND_TX || bp->type > SMPP_BIND_TRX)
		return SY_ERR_INVAL;
	struct smpp_session *s = smpp_sess__alloc(p, false);
	if (s == NULL)
		return SY_ERR_FULL;
	s->state = SMPP_SS_CONNECTING;
	enum sy_rc rc = SY_ERR_INVAL;
	if (!bind_params_copy(s, bp))
		goto out_release;
	s->bind_type = bp->type;
	rc = sy_env_stream_connect(p->env, remote, &conn_cbs, s, &s->stream);
	if (rc != SY_OK)
		goto out_release;
	*out = s;
	return SY_OK;
out_release:
	s->stream = NULL;
	smpp_sess__stop(s);
	smpp_sess__release(s);
	return rc;
}

/* ---- owner calls ---- */

enum sy_rc smpp_session_send(struct smpp_session *s, const struct smpp_pdu *req, uint64_t tag, uint32_t *seq_out)
{
	SY_ASSERT(s != NULL && req != NULL && s->state != SMPP_SS_FREE);
	struct smpp_pool *p = s->pool;
	if (s->state != SMPP_SS_BOUND)
		return SY_ERR_STATE;
	uint32_t cmd = req->command_id;
	bool tracked = cmd != SMPP_ALERT_NOTIFICATION; /* the one request with no response */
	if (smpp_cmd_is_resp(cmd) || !smpp_cmd_known(cmd))
		return SY_ERR_INVAL;
	if (tracked && s->n_out >= p->cfg.window) {
		p->st.window_full++;
		return SY_AGAIN;
	}
	size_t n;
	if (smpp_pdu_encode(req, p->scratch, sizeof(p->scratch), &n) != SY_OK)
		return SY_ERR_INVAL;
	/* The sequence number is ours to allocate: patch it in after encoding
	 * rather than copying the caller's PDU. */
	uint32_t seq = smpp_sess__next_seq(s);
	smpp_sess__put_be32(p->scratch + 12, seq);
	enum sy_rc rc = smpp_sess__write(s, p->scratch, n);
	if (rc != SY_OK)
		return rc;
	if (tracked) {
		uint64_t deadline = sy_env_now_ns(p->env) + p->cfg.resp_timeout_ns;
		uint32_t r = smpp_sess__out_take(s);
		s->out[r] = (struct smpp_out){seq, cmd, deadline, tag, s->out_tail, SMPP_WIN_NIL};
		if (s->out_tail != SMPP_WIN_NIL)
			s->out[s->out_tail].next = r;
		else
			s->out_head = r;
		s->out_tail = r;
		smpp_seqix_add(&s->out_ix, seq, r);
		s->n_out++;
		if (s->t_resp == 0)
			s->t_resp = sy_env_timer_start(p->env, p->cfg.resp_timeout_ns, smpp_sess__resp_fire, s);
	}
	if (seq_out != NULL)
		*seq_out = seq;
	return SY_OK;
}

/* The oldest unanswered request with seq (a peer may repeat one). */
static int sess_in_find(const struct smpp_session *s, uint32_t seq)
{
	uint32_t r = s->n_in > 0 ? smpp_seqix_find(&s->in_ix, seq) : SMPP_WIN_NIL;
	return r == SMPP_WIN_NIL ? -1 : (int)r;
}

static void sess_in_remove(struct smpp_session *s, int i)
{
	smpp_seqix_del(&s->in_ix, (uint32_t)i);
	s->in[i].next_free = s->in_free;
	s->in_free = (uint32_t)i;
	s->n_in--;
}

enum sy_rc smpp_session_respond(struct smpp_session *s, uint32_t seq, uint32_t status, struct sy_str message_id)
{
	SY_ASSERT(s != NULL && s->state != SMPP_SS_FREE);
	struct smpp_pool *p = s->pool;
	if (smpp_sess__closed(s))
		return SY_ERR_STATE;
	int i = sess_in_find(s, seq);
	if (i < 0)
		return SY_ERR_NOTFOUND;
	uint32_t cmd = s->in[i].cmd, rcmd = cmd | SMPP_RESP_BIT;
	size_t n;
	enum sy_rc rc;
	if (cmd == SMPP_SUBMIT_SM || cmd == SMPP_DELIVER_SM || cmd == SMPP_DATA_SM) {
		rc = smpp_encode_msgid_resp(p->scratch, sizeof(p->scratch), &n, rcmd, status, seq, message_id);
	} else if (cmd == SMPP_QUERY_SM && status == ESME_ROK) {
		struct smpp_pdu r;
		smpp_pdu_init(&r, rcmd, seq);
		r.message_id = message_id;
		r.message_state = SMPP_STATE_UNKNOWN;
		rc = smpp_pdu_encode(&r, p->scratch, sizeof(p->scratch), &n);
	} else {
		rc = smpp_encode_header(p->scratch, sizeof(p->scratch), &n, rcmd, status, seq);
	}
	if (rc != SY_OK)
		return SY_ERR_INVAL;
	sess_in_remove(s, i);
	return smpp_sess__write(s, p->scratch, n);
}

enum sy_rc smpp_session_respond_pdu(struct smpp_session *s, const struct smpp_pdu *resp)
{
	SY_ASSERT(s != NULL && resp != NULL && s->state != SMPP_SS_FREE);
	struct smpp_pool *p = s->pool;
	if (smpp_sess__closed(s))
		return SY_ERR_STATE;
	int i = sess_in_find(s, resp->sequence_number);
	if (i < 0)
		return SY_ERR_NOTFOUND;
	if (resp->command_id != (s->in[i].cmd | SMPP_RESP_BIT) && resp->command_id != SMPP_GENERIC_NACK)
		return SY_ERR_INVAL;
	size_t n;
	if (smpp_pdu_encode(resp, p->scratch, sizeof(p->scratch), &n) != SY_OK)
		return SY_ERR_INVAL;
	sess_in_remove(s, i);
	return smpp_sess__write(s, p->scratch, n);
}

enum sy_rc smpp_session_unbind(struct smpp_session *s)
{
	SY_ASSERT(s != NULL && s->state != SMPP_SS_FREE);
	struct smpp_pool *p = s->pool;
	if (s->state != SMPP_SS_BOUND)
		return SY_ERR_STATE;
	uint32_t seq = smpp_sess__next_seq(s);
	s->state = SMPP_SS_UNBINDING;
	s->ctl_seq = seq;
	s->ctl_cmd = SMPP_UNBIND;
	s->t_ctl = sy_env_timer_start(p->env, p->cfg.resp_timeout_ns, smpp_sess__ctl_fire, s);
	smpp_sess__send_hdr(s, SMPP_UNBIND, ESME_ROK, seq);
	return s->broken ? SY_ERR_IO : SY_OK;
}

void smpp_session_close(struct smpp_session *s)
{
	SY_ASSERT(s != NULL && s->state != SMPP_SS_FREE);
	if (!smpp_sess__closed(s))
		smpp_sess__stop(s);
	if (s->n_out > 0)
		smpp_sess__out_reset(s);
	if (s->busy == 0)
		smpp_sess__release(s);
}

void smpp_session_seq_set(struct smpp_session *s, uint32_t next_seq)
{
	SY_ASSERT(next_seq >= 1 && next_seq <= SMPP_SEQ_MAX);
	s->next_seq = next_seq;
}
