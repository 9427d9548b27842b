/* flows.c: SIP messages of a capture into dialogs, legs and transactions.
 * Each message is scanned with the peers' strict whole-message scan
 * (sip_ua_parse, core/sip/wire_ua.c: any byte string is safe input), copied
 * into the flows' arena, and placed: its dialog by Call-ID, its leg by the
 * address pair that carried it, its transaction by top Via branch (or CSeq
 * for RFC 2543 peers) and CSeq method. SMPP goes to flows_smpp.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pcap/flows_int.h"
#include "core/sip/wire.h"

#define FLOWS_LEG_MAX 32 /* address pairs one Call-ID may cross */

struct pcap_flows *pcap_flows_create(void)
{
	struct pcap_flows *f = calloc(1, sizeof(*f));
	struct flows_impl *im = calloc(1, sizeof(*im));
	if (f == NULL || im == NULL) {
		free(f);
		free(im);
		return NULL;
	}
	f->impl = im;
	return f;
}

static void malformed(struct pcap_flows *f, const struct pcap_msg *m)
{
	if (f->sip_malformed++ == 0)
		f->first_sip_malformed_frame = m->frame;
}

/* The user part of a URI: "sip:alice@h" -> "alice", "tel:+331;x" -> "+331",
 * "sip:h" -> "". */
static struct sy_str uri_user(struct sy_str uri)
{
	const char *p = uri.p, *end = uri.p + uri.len;
	const char *colon = memchr(p, ':', uri.len);
	if (colon == NULL)
		return SY_STR_NULL;
	bool tel = colon - p == 3 && sy_str_ieq((struct sy_str){p, 3}, SY_STR("tel"));
	p = colon + 1;
	const char *q = p;
	while (q < end && *q != '@' && *q != ';' && *q != '?' && *q != '>')
		q++;
	if (q < end && *q == '@')
		return (struct sy_str){p, (size_t)(q - p)};
	return tel ? (struct sy_str){p, (size_t)(q - p)} : SY_STR_NULL;
}

static bool same_ip(const struct sy_addr *a, const struct sy_addr *b)
{
	return a->family == b->family && memcmp(a->ip, b->ip, a->family == SY_AF_INET6 ? 16 : 4) == 0;
}

/* How well src -> dst fits x -> y: -1 when the hosts differ, else the
 * number of ports that match (2: the very same pair). */
static int pair_fit(const struct sy_addr *src, const struct sy_addr *dst, const struct sy_addr *x,
		    const struct sy_addr *y)
{
	if (!same_ip(src, x) || !same_ip(dst, y))
		return -1;
	return (src->port == x->port) + (dst->port == y->port);
}

/* The leg carrying m, and which end of it sent m. Ports may change inside
 * a leg (a TCP connection per direction, an answer from another port), so
 * hosts decide and ports break ties. A new pair is a new leg. */
static enum sy_rc leg_of(struct pcap_flows *f, uint32_t d, const struct pcap_msg *m, bool request, uint8_t *leg,
			 uint8_t *side)
{
	struct pcap_dialog *dg = &f->dialogs[d];
	int best = -1;
	for (uint32_t i = 0; i < dg->leg_n; i++) {
		const struct pcap_sip_leg *l = &dg->legs[i];
		int fwd = pair_fit(&m->src, &m->dst, &l->caller, &l->callee);
		int back = pair_fit(&m->src, &m->dst, &l->callee, &l->caller);
		if (SY_MAX(fwd, back) > best) {
			best = SY_MAX(fwd, back);
			*leg = (uint8_t)i;
			*side = fwd >= back ? PCAP_SIDE_CALLER : PCAP_SIDE_CALLEE;
		}
	}
	if (best >= 0)
		return SY_OK;
	if (dg->leg_n >= FLOWS_LEG_MAX)
		return SY_ERR_FULL;
	if (!flows_grow((void **)&dg->legs, &flows_impl(f)->dlgs[d].leg_cap, dg->leg_n, sizeof(*dg->legs)))
		return SY_ERR_NOMEM;
	/* A leg's caller sent its first request, or got its first response. */
	dg->legs[dg->leg_n] = request ? (struct pcap_sip_leg){.caller = m->src, .callee = m->dst}
				      : (struct pcap_sip_leg){.caller = m->dst, .callee = m->src};
	if (dg->leg_n == 0) {
		dg->caller = dg->legs[0].caller;
		dg->callee = dg->legs[0].callee;
	}
	*leg = (uint8_t)dg->leg_n++;
	*side = request ? PCAP_SIDE_CALLER : PCAP_SIDE_CALLEE;
	return SY_OK;
}

static uint32_t dialog_find(struct pcap_flows *f, struct sy_str call_id, uint64_t h)
{
	uint32_t pos = 0;
	struct flows_slot *s;
	while ((s = flows_idx_next(&flows_impl(f)->idx, h, &pos)) != NULL) {
		const char *c = f->dialogs[s->a].call_id;
		if (s->kind == FLOWS_K_CALL_ID && strlen(c) == call_id.len && memcmp(c, call_id.p, call_id.len) == 0)
			return s->a;
	}
	return UINT32_MAX;
}

/* The names a dialog shows: from its first request, or from a response
 * until a request comes. */
static bool dialog_names(struct pcap_flows *f, struct pcap_dialog *dg, const struct sip_ua_msg *u)
{
	dg->method = flows_strdup(f, u->is_request ? u->method : u->cseq_method);
	dg->to_user = flows_strdup(f, u->is_request ? uri_user(u->ruri) : uri_user(sip_raw_uri_of(u->to)));
	return dg->method != NULL && dg->to_user != NULL;
}

static enum sy_rc dialog_new(struct pcap_flows *f, const struct pcap_msg *m, const struct sip_ua_msg *u, uint64_t h,
			     uint32_t *out)
{
	struct flows_impl *im = flows_impl(f);
	uint32_t d = f->dialog_n;
	if (!flows_grow((void **)&f->dialogs, &im->dialog_cap, d, sizeof(*f->dialogs)) ||
	    !flows_grow((void **)&im->dlgs, &im->dlg_cap, d, sizeof(*im->dlgs)))
		return SY_ERR_NOMEM;
	struct pcap_dialog *dg = &f->dialogs[d];
	*dg = (struct pcap_dialog){.proto = m->proto, .start_ns = m->ts_ns};
	im->dlgs[d] = (struct flows_dlg){.last_ns = m->ts_ns, .has_request = u->is_request};
	dg->call_id = flows_strdup(f, u->call_id);
	dg->from_user = flows_strdup(f, uri_user(sip_raw_uri_of(u->from)));
	dg->from_tag = flows_strdup(f, u->from_tag);
	dg->to_tag = flows_strdup(f, u->to_tag);
	if (dg->call_id == NULL || dg->from_user == NULL || dg->from_tag == NULL || dg->to_tag == NULL ||
	    !dialog_names(f, dg, u) || !flows_idx_put(&im->idx, h, FLOWS_K_CALL_ID, d, 0))
		return SY_ERR_NOMEM;
	f->dialog_n++;
	*out = d;
	return SY_OK;
}

static enum sy_rc dialog_of(struct pcap_flows *f, const struct pcap_msg *m, const struct sip_ua_msg *u, uint32_t *out)
{
	uint64_t h = flows_hash(FLOWS_K_CALL_ID, 0, u->call_id);
	uint32_t d = dialog_find(f, u->call_id, h);
	if (d == UINT32_MAX)
		return dialog_new(f, m, u, h, out);
	struct flows_dlg *dl = &flows_impl(f)->dlgs[d];
	if (u->is_request && !dl->has_request) {
		dl->has_request = true;
		if (!dialog_names(f, &f->dialogs[d], u))
			return SY_ERR_NOMEM;
	}
	*out = d;
	return SY_OK;
}

/* What a transaction is keyed by beside its leg and method. */
static struct sy_str txn_key(const struct sip_ua_msg *u, char *buf, size_t cap)
{
	if (u->branch.len > 7 && memcmp(u->branch.p, "z9hG4bK", 7) == 0)
		return u->branch;
	struct sip_wbuf w;
	sip_w_init(&w, buf, cap);
	sip_w_lit(&w, "#");
	sip_w_u64(&w, u->cseq);
	return (struct sy_str){buf, w.len};
}

static uint64_t txn_hash(uint32_t d, uint8_t leg, const char *method, struct sy_str key)
{
	uint64_t h = flows_hash(FLOWS_K_TXN, d, key);
	return flows_hash(FLOWS_K_TXN, (uint32_t)h ^ ((uint32_t)leg << 24), sy_str_from(method));
}

static uint32_t txn_find(struct pcap_flows *f, uint32_t d, uint8_t leg, const char *method, struct sy_str key)
{
	struct flows_impl *im = flows_impl(f);
	const struct pcap_dialog *dg = &f->dialogs[d];
	uint64_t h = txn_hash(d, leg, method, key);
	uint32_t pos = 0;
	struct flows_slot *s;
	while ((s = flows_idx_next(&im->idx, h, &pos)) != NULL) {
		if (s->kind != FLOWS_K_TXN || s->a != d)
			continue;
		const struct pcap_sip_txn *t = &dg->txns[s->b];
		const char *k = im->dlgs[d].tx[s->b].key;
		if (t->leg == leg && strcmp(t->method, method) == 0 && strlen(k) == key.len &&
		    memcmp(k, key.p, key.len) == 0)
			return s->b;
	}
	return UINT32_MAX;
}

static enum sy_rc txn_new(struct pcap_flows *f, uint32_t d, uint8_t leg, const char *method, struct sy_str key,
			  uint32_t *out)
{
	struct flows_impl *im = flows_impl(f);
	struct flows_dlg *dl = &im->dlgs[d];
	struct pcap_dialog *dg = &f->dialogs[d];
	uint32_t t = dg->txn_n;
	if (!flows_grow((void **)&dg->txns, &dl->txn_cap, t, sizeof(*dg->txns)) ||
	    !flows_grow((void **)&dl->tx, &dl->tx_cap, t, sizeof(*dl->tx)))
		return SY_ERR_NOMEM;
	dl->tx[t] = (struct flows_txn){.key = flows_strdup(f, key), .last_msg = UINT32_MAX};
	if (dl->tx[t].key == NULL || !flows_idx_put(&im->idx, txn_hash(d, leg, method, key), FLOWS_K_TXN, d, t))
		return SY_ERR_NOMEM;
	dg->txns[t] = (struct pcap_sip_txn){.leg = leg, .first_msg = dg->msg_n, .final_msg = UINT32_MAX};
	memcpy(dg->txns[t].method, method, sizeof(dg->txns[t].method));
	dg->txn_n++;
	*out = t;
	return SY_OK;
}

/* The transaction of msg: found, or made. The ACK of a 3xx-6xx shares its
 * INVITE's branch (RFC 3261 17.1.1.3) or, from an RFC 2543 peer, its CSeq,
 * and belongs to it; the ACK of a 2xx is a transaction of its own, even
 * from a UA that reuses the INVITE's branch for it (pcaps/sip_ipv6_udp.pcap
 * does). */
static enum sy_rc txn_of(struct pcap_flows *f, uint32_t d, struct pcap_sip *msg, const struct sip_ua_msg *u,
			 uint32_t *out)
{
	char buf[24];
	struct sy_str key = txn_key(u, buf, sizeof(buf));
	uint32_t t = UINT32_MAX;
	if (msg->request && strcmp(msg->method, "ACK") == 0) {
		t = txn_find(f, d, msg->leg, "INVITE", key);
		if (t != UINT32_MAX && f->dialogs[d].txns[t].final_code < 300)
			t = UINT32_MAX;
	}
	if (t == UINT32_MAX)
		t = txn_find(f, d, msg->leg, msg->method, key);
	enum sy_rc rc = SY_OK;
	if (t == UINT32_MAX)
		rc = txn_new(f, d, msg->leg, msg->method, key, &t);
	if (rc != SY_OK)
		return rc;
	struct pcap_sip_txn *tx = &f->dialogs[d].txns[t];
	if (msg->request && !tx->has_request) {
		tx->has_request = true;
		tx->from = msg->from;
		tx->cseq = msg->cseq;
	} else if (!msg->request && !tx->has_request && tx->msg_n == 0) {
		tx->from = msg->from == PCAP_SIDE_CALLER ? PCAP_SIDE_CALLEE : PCAP_SIDE_CALLER;
		tx->cseq = msg->cseq;
	}
	*out = t;
	return SY_OK;
}

/* A retransmission is the same bytes again in the same transaction: mi
 * is compared with the transaction's earlier messages, newest first. */
static void mark_retrans(struct pcap_flows *f, uint32_t d, uint32_t mi)
{
	struct flows_dlg *dl = &flows_impl(f)->dlgs[d];
	struct pcap_dialog *dg = &f->dialogs[d];
	struct pcap_sip *msg = &dg->msgs[mi];
	struct flows_msg *mx = &dl->mx[mi];
	struct flows_txn *tx = &dl->tx[msg->txn];
	mx->hash = sy_hash64(msg->text, msg->len, 0);
	mx->prev = tx->last_msg;
	tx->last_msg = mi;
	uint32_t o = mx->prev;
	for (uint32_t n = 0; o != UINT32_MAX && n < FLOWS_RETRANS_WINDOW; o = dl->mx[o].prev, n++) {
		const struct pcap_sip *om = &dg->msgs[o];
		if (dl->mx[o].hash == mx->hash && om->len == msg->len && memcmp(om->text, msg->text, msg->len) == 0) {
			msg->retrans = true;
			dg->retrans_n++;
			return;
		}
	}
}

static void txn_count(struct pcap_dialog *dg, uint32_t mi)
{
	const struct pcap_sip *msg = &dg->msgs[mi];
	struct pcap_sip_txn *t = &dg->txns[msg->txn];
	t->msg_n++;
	if (msg->retrans || msg->request)
		return;
	if (msg->code < 200) {
		t->provisional_n++;
	} else if (t->final_code == 0) {
		t->final_code = msg->code;
		t->final_msg = mi;
	}
}

/* The callee's tag: the first To tag of a message going the caller's way,
 * or the From tag of one coming back. */
static enum sy_rc note_tags(struct pcap_flows *f, struct pcap_dialog *dg, const struct sip_ua_msg *u)
{
	if (dg->to_tag[0] != '\0')
		return SY_OK;
	struct sy_str tag = SY_STR_NULL;
	if (sy_str_eq(u->from_tag, sy_str_from(dg->from_tag)))
		tag = u->to_tag;
	else if (sy_str_eq(u->to_tag, sy_str_from(dg->from_tag)))
		tag = u->from_tag;
	if (tag.len == 0)
		return SY_OK;
	dg->to_tag = flows_strdup(f, tag);
	return dg->to_tag != NULL ? SY_OK : SY_ERR_NOMEM;
}

/* The message's record, its time kept from its dialog's start (never
 * going back), and its text copied. */
static enum sy_rc msg_new(struct pcap_flows *f, uint32_t d, const struct pcap_msg *m, const struct sip_ua_msg *u,
			  uint32_t *out)
{
	struct flows_dlg *dl = &flows_impl(f)->dlgs[d];
	struct pcap_dialog *dg = &f->dialogs[d];
	uint32_t mi = dg->msg_n;
	if (!flows_grow((void **)&dg->msgs, &dl->msg_cap, mi, sizeof(*dg->msgs)) ||
	    !flows_grow((void **)&dl->mx, &dl->mx_cap, mi, sizeof(*dl->mx)))
		return SY_ERR_NOMEM;
	struct pcap_sip *msg = &dg->msgs[mi];
	*msg = (struct pcap_sip){.frame = m->frame, .request = u->is_request, .cseq = u->cseq, .len = m->len};
	msg->code = (uint16_t)u->status;
	struct sy_str method = u->is_request ? u->method : u->cseq_method;
	memcpy(msg->method, method.p, SY_MIN(method.len, sizeof(msg->method) - 1));
	uint8_t *text = flows_alloc(f, m->len);
	if (text == NULL)
		return SY_ERR_NOMEM;
	memcpy(text, m->data, m->len);
	msg->text = text;
	if (m->ts_ns < dl->last_ns)
		dg->ts_backwards++;
	uint64_t gap = flows_step(f, &dl->last_ns, m->ts_ns, m->frame); /* SY_MAX evaluates twice */
	dg->max_gap_ns = SY_MAX(dg->max_gap_ns, gap);
	msg->at_ns = dl->last_ns - dg->start_ns;
	dg->duration_ns = msg->at_ns;
	*out = mi;
	return SY_OK;
}

static enum sy_rc hosts_count(struct pcap_flows *f, const struct pcap_msg *m)
{
	uint32_t s = flows_host(f, &m->src), r = flows_host(f, &m->dst);
	if (s == UINT32_MAX || r == UINT32_MAX)
		return SY_ERR_NOMEM;
	f->hosts[s].sent++;
	f->hosts[r].received++;
	return SY_OK;
}

static enum sy_rc sip_place(struct pcap_flows *f, const struct pcap_msg *m, const struct sip_ua_msg *u)
{
	uint32_t d, mi;
	enum sy_rc rc = dialog_of(f, m, u, &d);
	if (rc == SY_OK)
		rc = msg_new(f, d, m, u, &mi);
	if (rc != SY_OK)
		return rc;
	struct pcap_dialog *dg = &f->dialogs[d];
	struct pcap_sip *msg = &dg->msgs[mi];
	rc = leg_of(f, d, m, u->is_request, &msg->leg, &msg->from);
	if (rc == SY_ERR_FULL) { /* a Call-ID over too many address pairs: not signalling */
		malformed(f, m);
		return SY_OK;
	}
	if (rc == SY_OK)
		rc = txn_of(f, d, msg, u, &msg->txn);
	if (rc == SY_OK)
		rc = note_tags(f, dg, u);
	if (rc != SY_OK)
		return rc;
	mark_retrans(f, d, mi);
	dg->msg_n++;
	dg->legs[msg->leg].msg_n++;
	txn_count(dg, mi);
	dg->complete = dg->txns[0].final_code != 0;
	f->sip_msgs++;
	return hosts_count(f, m);
}

static enum sy_rc sip_add(struct pcap_flows *f, const struct pcap_msg *m)
{
	struct sip_ua_msg u;
	if (m->len > PCAP_FLOWS_MSG_MAX || sip_ua_parse((const char *)m->data, m->len, &u) != SY_OK ||
	    u.call_id.len == 0) {
		malformed(f, m);
		return SY_OK;
	}
	flows_timing(f, m);
	return sip_place(f, m, &u);
}

enum sy_rc pcap_flows_add(struct pcap_flows *f, const struct pcap_msg *m)
{
	SY_ASSERT(!flows_impl(f)->finished);
	switch (m->app) {
	case PCAP_APP_SIP:
		return sip_add(f, m);
	case PCAP_APP_SMPP:
		return flows_smpp_add(f, m);
	default:
		return SY_OK; /* the reader counts what it could not name */
	}
}

struct flows_order {
	uint64_t start_ns;
	uint32_t i;
};

static int order_cmp(const void *a, const void *b)
{
	const struct flows_order *x = a, *y = b;
	if (x->start_ns != y->start_ns)
		return x->start_ns < y->start_ns ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Dialogs by start time, capture order among equals: the same as capture
 * order unless stamps went backwards. */
static void dialogs_sort(struct pcap_flows *f)
{
	struct flows_impl *im = flows_impl(f);
	uint32_t n = f->dialog_n;
	if (n < 2)
		return;
	struct flows_order *o = malloc(sizeof(*o) * n);
	struct pcap_dialog *nd = malloc(sizeof(*nd) * n);
	struct flows_dlg *nl = malloc(sizeof(*nl) * n);
	if (o == NULL || nd == NULL || nl == NULL)
		goto out_free; /* left in capture order */
	for (uint32_t i = 0; i < n; i++)
		o[i] = (struct flows_order){f->dialogs[i].start_ns, i};
	qsort(o, n, sizeof(*o), order_cmp);
	for (uint32_t i = 0; i < n; i++) {
		nd[i] = f->dialogs[o[i].i];
		nl[i] = im->dlgs[o[i].i];
	}
	memcpy(f->dialogs, nd, sizeof(*nd) * n);
	memcpy(im->dlgs, nl, sizeof(*nl) * n);
out_free:
	free(o);
	free(nd);
	free(nl);
}

void pcap_flows_finish(struct pcap_flows *f)
{
	struct flows_impl *im = flows_impl(f);
	SY_ASSERT(!im->finished);
	im->finished = true;
	dialogs_sort(f);
	flows_smpp_finish(f);
	/* The index points by position: no lookups after the sort. */
	flows_idx_free(&im->idx);
}

void pcap_flows_free(struct pcap_flows *f)
{
	if (f == NULL)
		return;
	struct flows_impl *im = flows_impl(f);
	for (uint32_t i = 0; i < f->dialog_n; i++) {
		free(f->dialogs[i].msgs);
		free(f->dialogs[i].txns);
		free(f->dialogs[i].legs);
		free(im->dlgs[i].tx);
		free(im->dlgs[i].mx);
	}
	free(f->dialogs);
	free(im->dlgs);
	free(f->hosts);
	flows_smpp_free(f);
	flows_idx_free(&im->idx);
	while (im->arena != NULL) {
		struct flows_chunk *c = im->arena;
		im->arena = c->next;
		free(c);
	}
	free(im);
	free(f);
}
