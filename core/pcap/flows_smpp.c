/* flows_smpp.c: SMPP PDUs of a capture into binds, one per TCP connection.
 * The ESME is the end that sends what only an ESME sends (a bind, a
 * submit_sm, a deliver_sm_resp); until such a PDU is seen, the sender of
 * the connection's first request is taken for it. */
#include <stdlib.h>
#include <string.h>

#include "core/pcap/flows_int.h"
#include "core/smpp/pdu.h"

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* +1: only an ESME sends this; -1: only an SMSC; 0: either. */
static int esme_hint(uint32_t cmd)
{
	switch (cmd) {
	case SMPP_BIND_RECEIVER:
	case SMPP_BIND_TRANSMITTER:
	case SMPP_BIND_TRANSCEIVER:
	case SMPP_SUBMIT_SM:
	case SMPP_QUERY_SM:
	case SMPP_REPLACE_SM:
	case SMPP_CANCEL_SM:
	case SMPP_DELIVER_SM_RESP:
		return 1;
	case SMPP_BIND_RECEIVER_RESP:
	case SMPP_BIND_TRANSMITTER_RESP:
	case SMPP_BIND_TRANSCEIVER_RESP:
	case SMPP_SUBMIT_SM_RESP:
	case SMPP_QUERY_SM_RESP:
	case SMPP_REPLACE_SM_RESP:
	case SMPP_CANCEL_SM_RESP:
	case SMPP_DELIVER_SM:
	case SMPP_OUTBIND:
	case SMPP_ALERT_NOTIFICATION:
		return -1;
	default:
		return 0;
	}
}

static bool is_bind(uint32_t cmd)
{
	return cmd == SMPP_BIND_RECEIVER || cmd == SMPP_BIND_TRANSMITTER || cmd == SMPP_BIND_TRANSCEIVER;
}

static uint32_t bind_find(struct pcap_flows *f, const struct pcap_msg *m, uint64_t h)
{
	uint32_t pos = 0;
	struct flows_slot *s;
	while ((s = flows_idx_next(&flows_impl(f)->idx, h, &pos)) != NULL) {
		const struct pcap_smpp_bind *b = &f->binds[s->a];
		if (s->kind == FLOWS_K_CONN && ((sy_addr_eq(&b->esme, &m->src) && sy_addr_eq(&b->smsc, &m->dst)) ||
						(sy_addr_eq(&b->esme, &m->dst) && sy_addr_eq(&b->smsc, &m->src))))
			return s->a;
	}
	return UINT32_MAX;
}

static enum sy_rc bind_of(struct pcap_flows *f, const struct pcap_msg *m, uint32_t cmd, uint32_t *out)
{
	struct flows_impl *im = flows_impl(f);
	uint8_t kb[38];
	uint64_t h = flows_hash(FLOWS_K_CONN, 0, flows_conn_key(&m->src, &m->dst, kb));
	uint32_t b = bind_find(f, m, h);
	if (b != UINT32_MAX) {
		*out = b;
		return SY_OK;
	}
	b = f->bind_n;
	if (!flows_grow((void **)&f->binds, &im->bind_cap, b, sizeof(*f->binds)) ||
	    !flows_grow((void **)&im->bnds, &im->bnd_cap, b, sizeof(*im->bnds)) ||
	    !flows_idx_put(&im->idx, h, FLOWS_K_CONN, b, 0))
		return SY_ERR_NOMEM;
	/* A response's sender answered the other end's request. */
	bool sender_esme = esme_hint(cmd) != 0 ? esme_hint(cmd) > 0 : !smpp_cmd_is_resp(cmd);
	f->binds[b] = (struct pcap_smpp_bind){.esme = sender_esme ? m->src : m->dst,
					      .smsc = sender_esme ? m->dst : m->src,
					      .system_id = "",
					      .start_ns = m->ts_ns};
	im->bnds[b] = (struct flows_bind){.esme_known = esme_hint(cmd) != 0, .last_ns = m->ts_ns};
	f->bind_n++;
	*out = b;
	return SY_OK;
}

/* The first PDU that only one side sends settles a guess made earlier. */
static void settle_esme(struct pcap_flows *f, uint32_t b, const struct pcap_msg *m, uint32_t cmd)
{
	struct flows_bind *bl = &flows_impl(f)->bnds[b];
	struct pcap_smpp_bind *bd = &f->binds[b];
	int hint = esme_hint(cmd);
	if (bl->esme_known || hint == 0)
		return;
	bl->esme_known = true;
	if ((hint > 0) == sy_addr_eq(&m->src, &bd->esme))
		return;
	struct sy_addr t = bd->esme;
	bd->esme = bd->smsc;
	bd->smsc = t;
	for (uint32_t i = 0; i < bd->pdu_n; i++)
		bd->pdus[i].from = bd->pdus[i].from == PCAP_SIDE_CALLER ? PCAP_SIDE_CALLEE : PCAP_SIDE_CALLER;
}

static enum sy_rc bind_note(struct pcap_flows *f, struct pcap_smpp_bind *bd, const struct pcap_smpp *p)
{
	switch (p->command_id) {
	case SMPP_SUBMIT_SM:
		bd->submits++;
		break;
	case SMPP_SUBMIT_SM_RESP:
		bd->submit_resps++;
		break;
	case SMPP_DELIVER_SM:
		bd->delivers++;
		break;
	case SMPP_DELIVER_SM_RESP:
		bd->deliver_resps++;
		break;
	default:
		break;
	}
	if (is_bind(p->command_id) && bd->bind_command == 0) {
		struct smpp_pdu pdu;
		uint32_t st;
		bd->bind_command = p->command_id;
		if (smpp_pdu_decode(p->pdu, p->pdu + p->len, &pdu, &st) == SY_OK) {
			bd->system_id = flows_strdup(f, pdu.system_id);
			if (bd->system_id == NULL)
				return SY_ERR_NOMEM;
		}
	} else if (is_bind(p->command_id & ~SMPP_RESP_BIT) && smpp_cmd_is_resp(p->command_id) &&
		   (bd->bind_command | SMPP_RESP_BIT) == p->command_id) {
		bd->bind_status = p->status;
	}
	return SY_OK;
}

static bool no_response(uint32_t cmd)
{
	return cmd == SMPP_OUTBIND || cmd == SMPP_ALERT_NOTIFICATION;
}

static uint64_t seq_hash(uint32_t b, uint32_t seq)
{
	uint8_t k[4] = {(uint8_t)(seq >> 24), (uint8_t)(seq >> 16), (uint8_t)(seq >> 8), (uint8_t)seq};
	return flows_hash(FLOWS_K_SMPP_REQ, b, (struct sy_str){(const char *)k, 4});
}

/* A response answers the other end's open request with its sequence
 * number and command (any command for a generic_nack). */
static enum sy_rc pair_up(struct pcap_flows *f, uint32_t b, uint32_t pi)
{
	struct flows_index *x = &flows_impl(f)->idx;
	struct pcap_smpp_bind *bd = &f->binds[b];
	struct pcap_smpp *p = &bd->pdus[pi];
	uint64_t h = seq_hash(b, p->seq);
	if (!smpp_cmd_is_resp(p->command_id))
		return no_response(p->command_id) || flows_idx_put(x, h, FLOWS_K_SMPP_REQ, b, pi) ? SY_OK
												  : SY_ERR_NOMEM;
	uint32_t pos = 0;
	struct flows_slot *s;
	while ((s = flows_idx_next(x, h, &pos)) != NULL) {
		struct pcap_smpp *q = s->kind == FLOWS_K_SMPP_REQ && s->a == b ? &bd->pdus[s->b] : NULL;
		if (q == NULL || q->seq != p->seq || q->from == p->from || q->pair != UINT32_MAX ||
		    (p->command_id != SMPP_GENERIC_NACK && (q->command_id | SMPP_RESP_BIT) != p->command_id))
			continue;
		q->pair = pi;
		p->pair = s->b;
		break;
	}
	if (p->status != ESME_ROK && p->command_id == SMPP_SUBMIT_SM_RESP)
		bd->submit_errors++;
	if (p->status != ESME_ROK && p->command_id == SMPP_DELIVER_SM_RESP)
		bd->deliver_errors++;
	return SY_OK;
}

static enum sy_rc pdu_new(struct pcap_flows *f, uint32_t b, const struct pcap_msg *m)
{
	struct flows_bind *bl = &flows_impl(f)->bnds[b];
	struct pcap_smpp_bind *bd = &f->binds[b];
	if (!flows_grow((void **)&bd->pdus, &bl->pdu_cap, bd->pdu_n, sizeof(*bd->pdus)))
		return SY_ERR_NOMEM;
	uint8_t *copy = flows_alloc(f, m->len);
	if (copy == NULL)
		return SY_ERR_NOMEM;
	memcpy(copy, m->data, m->len);
	struct pcap_smpp *p = &bd->pdus[bd->pdu_n];
	*p = (struct pcap_smpp){.frame = m->frame,
				.from = sy_addr_eq(&m->src, &bd->esme) ? PCAP_SIDE_CALLER : PCAP_SIDE_CALLEE,
				.command_id = be32(m->data + 4),
				.status = be32(m->data + 8),
				.seq = be32(m->data + 12),
				.pdu = copy,
				.len = m->len,
				.pair = UINT32_MAX};
	flows_step(f, &bl->last_ns, m->ts_ns, m->frame);
	p->at_ns = bl->last_ns - bd->start_ns;
	bd->duration_ns = p->at_ns;
	enum sy_rc rc = bind_note(f, bd, p);
	if (rc == SY_OK)
		rc = pair_up(f, b, bd->pdu_n);
	if (rc == SY_OK)
		bd->pdu_n++;
	return rc;
}

enum sy_rc flows_smpp_add(struct pcap_flows *f, const struct pcap_msg *m)
{
	if (m->len < SMPP_HEADER_LEN || m->len > PCAP_FLOWS_MSG_MAX || be32(m->data) != m->len) {
		if (f->smpp_malformed++ == 0)
			f->first_smpp_malformed_frame = m->frame;
		return SY_OK;
	}
	flows_timing(f, m);
	uint32_t cmd = be32(m->data + 4), b;
	enum sy_rc rc = bind_of(f, m, cmd, &b);
	if (rc != SY_OK)
		return rc;
	settle_esme(f, b, m, cmd);
	rc = pdu_new(f, b, m);
	if (rc != SY_OK)
		return rc;
	f->smpp_pdus++;
	uint32_t s = flows_host(f, &m->src), r = flows_host(f, &m->dst);
	if (s == UINT32_MAX || r == UINT32_MAX)
		return SY_ERR_NOMEM;
	f->hosts[s].sent++;
	f->hosts[r].received++;
	return SY_OK;
}

struct bind_order {
	uint64_t start_ns;
	uint32_t i;
};

static int bind_order_cmp(const void *a, const void *b)
{
	const struct bind_order *x = a, *y = b;
	if (x->start_ns != y->start_ns)
		return x->start_ns < y->start_ns ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Binds by start time, capture order among equals; their requests left
 * without a response counted. */
void flows_smpp_finish(struct pcap_flows *f)
{
	for (uint32_t i = 0; i < f->bind_n; i++) {
		struct pcap_smpp_bind *b = &f->binds[i];
		for (uint32_t k = 0; k < b->pdu_n; k++)
			b->unanswered += !smpp_cmd_is_resp(b->pdus[k].command_id) &&
					 !no_response(b->pdus[k].command_id) && b->pdus[k].pair == UINT32_MAX;
	}
	uint32_t n = f->bind_n;
	if (n < 2)
		return;
	struct bind_order *o = malloc(sizeof(*o) * n);
	struct pcap_smpp_bind *nb = malloc(sizeof(*nb) * n);
	if (o != NULL && nb != NULL) {
		for (uint32_t i = 0; i < n; i++)
			o[i] = (struct bind_order){f->binds[i].start_ns, i};
		qsort(o, n, sizeof(*o), bind_order_cmp);
		for (uint32_t i = 0; i < n; i++)
			nb[i] = f->binds[o[i].i];
		memcpy(f->binds, nb, sizeof(*nb) * n);
	}
	free(o);
	free(nb);
}

void flows_smpp_free(struct pcap_flows *f)
{
	for (uint32_t i = 0; i < f->bind_n; i++)
		free(f->binds[i].pdus);
	free(f->binds);
	free(flows_impl(f)->bnds);
}
