/* replay_uac.c: role = callers (replay.h). A copy of a captured dialog is
 * a cursor over its messages: a request the caller sent is sent again after
 * its captured gap (rewritten by replay_rw.c); a final response or a
 * request the callee sent is waited for; provisional responses and the
 * caller's own answers are passed over (the answers go out when the request
 * comes). Like peers/uac.c, the Call-ID carries (copy, slot), so a message
 * finds its copy in O(1), and requests are rebuilt for retransmission
 * rather than kept. */
#include "replay.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/sip/wire.h"

enum { R_FREE = 0, R_STEP, R_WAIT };
enum { W_FINAL = 1, W_REQ };
#define NO_SLOT	 UINT32_MAX
#define NO_TXN	 UINT32_MAX
#define RR_BYTES 384

struct rp_call {
	struct replay_uac *u;
	uint64_t copy;
	uint32_t slot, next_free, dlg, cur;
	uint8_t state, wait_kind;
	bool unexpected, acked2xx;
	uint32_t wait_txn, out_msg, out_txn;
	uint64_t last_at, pending_ns, retx_ns;
	sy_timer_id t_step, t_retx, t_guard;
	uint16_t codes[REPLAY_TXN_MAX];
	bool seen[REPLAY_TXN_MAX];
	uint8_t to_tag_len, contact_len, rr_n;
	uint16_t rr_off[SIP_UA_RR_MAX + 1];
	char to_tag[64];
	char contact[160];
	char rr[RR_BYTES];
};

struct replay_uac {
	const struct sy_env *env;
	struct replay_cfg cfg;
	const struct pcap_flows *f;
	struct sy_dgram *sock;
	struct sy_addr local;
	char host[SY_ADDR_STRLEN], ip[SY_ADDR_STRLEN], target_host[SY_ADDR_STRLEN];
	uint64_t *offs;
	uint64_t total, next, start_ns;
	sy_timer_id t_start;
	struct rp_call *calls;
	uint32_t free_head;
	struct replay_stats st;
	char buf[8192];
};

static void on_recv(void *arg, struct sy_dgram *sock, const struct sy_addr *from, const uint8_t *buf, size_t len);
static void advance(struct rp_call *c);

/* ---- creation ---- */

static uint32_t pool_size(const struct replay_cfg *cfg, const uint64_t *offs, uint64_t total)
{
	if (cfg->calls_max != 0)
		return cfg->calls_max;
	const struct pcap_flows *f = cfg->flows;
	uint64_t longest = 0;
	bool cl;
	for (uint32_t i = 0; i < f->dialog_n; i++)
		longest = SY_MAX(longest, replay_gap(cfg, f->dialogs[i].duration_ns, &cl) * (f->dialogs[i].msg_n + 1));
	uint64_t span = replay_start_at(cfg, offs, total > 0 ? total - 1 : 0) + 1;
	uint64_t life = longest + 64 * cfg->t1_ns + 10 * SY_NS_PER_S;
	/* starts per ns times a life, plus some */
	double est = (double)total * (double)life / (double)span + 64.0;
	return (uint32_t)SY_MIN(SY_MIN(est, (double)total + 1), (double)(1u << 20));
}

enum sy_rc replay_uac_create(const struct sy_env *env, const struct replay_cfg *cfg, struct replay_uac **out)
{
	if (cfg->flows == NULL || cfg->flows->dialog_n == 0)
		return SY_ERR_INVAL;
	struct replay_uac *u = calloc(1, sizeof(*u));
	if (u == NULL)
		return SY_ERR_NOMEM;
	u->env = env;
	u->cfg = *cfg;
	u->f = cfg->flows;
	if (u->cfg.name == NULL)
		u->cfg.name = "rp";
	if (u->cfg.t1_ns == 0)
		u->cfg.t1_ns = 500 * SY_NS_PER_MS;
	enum sy_rc rc = SY_ERR_NOMEM;
	u->offs = calloc(u->f->dialog_n + 1, sizeof(*u->offs));
	if (u->offs == NULL)
		goto out_free;
	replay_offsets(&u->cfg, u->offs);
	u->total = replay_total(&u->cfg);
	u->cfg.calls_max = pool_size(&u->cfg, u->offs, u->total);
	u->calls = calloc(u->cfg.calls_max, sizeof(*u->calls));
	if (u->calls == NULL)
		goto out_free;
	for (uint32_t i = 0; i < u->cfg.calls_max; i++) {
		u->calls[i].u = u;
		u->calls[i].slot = i;
		u->calls[i].next_free = i + 1 < u->cfg.calls_max ? i + 1 : NO_SLOT;
	}
	if ((rc = sy_env_dgram_open(env, &u->cfg.local, on_recv, u, &u->sock)) != SY_OK)
		goto out_free;
	sy_env_dgram_local(env, u->sock, &u->local);
	sy_addr_fmt(&u->local, u->host, sizeof(u->host));
	sy_addr_fmt_host(&u->local, u->ip, sizeof(u->ip));
	sy_addr_fmt(&u->cfg.target, u->target_host, sizeof(u->target_host));
	*out = u;
	return SY_OK;
out_free:
	free(u->calls);
	free(u->offs);
	free(u);
	return rc;
}

const struct replay_stats *replay_uac_stats(const struct replay_uac *u)
{
	return &u->st;
}

bool replay_uac_done(const struct replay_uac *u)
{
	return u->next >= u->total && u->st.active == 0;
}

uint64_t replay_uac_span_ns(const struct replay_uac *u)
{
	return u->cfg.start_ns + replay_start_at(&u->cfg, u->offs, u->total ? u->total - 1 : 0);
}

void replay_uac_destroy(struct replay_uac *u)
{
	if (u == NULL)
		return;
	sy_env_timer_cancel(u->env, u->t_start);
	for (uint32_t i = 0; i < u->cfg.calls_max; i++) {
		sy_env_timer_cancel(u->env, u->calls[i].t_step);
		sy_env_timer_cancel(u->env, u->calls[i].t_retx);
		sy_env_timer_cancel(u->env, u->calls[i].t_guard);
	}
	sy_env_dgram_close(u->env, u->sock);
	free(u->calls);
	free(u->offs);
	free(u);
}

/* ---- the dialog a copy plays ---- */

static const struct pcap_dialog *dlg(const struct rp_call *c)
{
	return &c->u->f->dialogs[c->dlg];
}

static struct sy_str msg_text(const struct pcap_sip *m)
{
	return (struct sy_str){(const char *)m->text, m->len};
}

/* The INVITE transaction with this CSeq: CANCEL and a non-2xx ACK share its branch. */
static uint32_t invite_txn(const struct pcap_dialog *d, uint32_t cseq)
{
	for (uint32_t i = 0; i < d->txn_n; i++)
		if (d->txns[i].cseq == cseq && strcmp(d->txns[i].method, "INVITE") == 0)
			return i;
	return NO_TXN;
}

static uint32_t caller_txn(const struct pcap_dialog *d, uint32_t cseq, struct sy_str method)
{
	for (uint32_t i = 0; i < d->txn_n && i < REPLAY_TXN_MAX; i++)
		if (d->txns[i].from == PCAP_SIDE_CALLER && d->txns[i].cseq == cseq &&
		    sy_str_ieq(method, sy_str_from(d->txns[i].method)))
			return i;
	return NO_TXN;
}

/* ---- sending ---- */

static void send_buf(struct replay_uac *u, size_t len)
{
	if (len == 0 || sy_env_dgram_send(u->env, u->sock, &u->cfg.target, u->buf, len) != SY_OK)
		SY_LOG(u->env, SY_LOG_DEBUG, "replay %s: nothing sent", u->cfg.name);
}

static struct sy_str fmt(char *buf, size_t n, const char *f, ...) __attribute__((format(printf, 3, 4)));
static struct sy_str fmt(char *buf, size_t n, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	int w = vsnprintf(buf, n, f, ap);
	va_end(ap);
	return (struct sy_str){buf, w < 0 ? 0 : SY_MIN((size_t)w, n - 1)};
}

static bool in_dialog(const struct pcap_sip *m)
{
	struct sy_str to;
	return sip_raw_find(msg_text(m), SIP_H_TO, &to) && sip_raw_has_tag(to);
}

/* Builds captured request i of copy c into u->buf. */
static size_t build_req(struct rp_call *c, uint32_t i)
{
	struct replay_uac *u = c->u;
	const struct pcap_dialog *d = dlg(c);
	const struct pcap_sip *m = &d->msgs[i];
	char cid[64], ftag[32], br[96], ruri[256];
	struct sy_str routes[SIP_UA_RR_MAX];
	bool ack = strcmp(m->method, "ACK") == 0, dlg_req = in_dialog(m) && strcmp(m->method, "CANCEL") != 0;
	uint32_t t = strcmp(m->method, "CANCEL") == 0 ? invite_txn(d, m->cseq) : m->txn;
	struct replay_rw rw = {
	    .via_host = sy_str_from(u->host),
	    .branch = fmt(br, sizeof(br), "z9hG4bK-%s-%llu-%u%s", u->cfg.name, (unsigned long long)c->copy,
			  t == NO_TXN ? m->txn : t, ack ? "a" : ""),
	    .call_id = fmt(cid, sizeof(cid), "%llu-%u@%s", (unsigned long long)c->copy, c->slot, u->cfg.name),
	    .from_tag = fmt(ftag, sizeof(ftag), "rf%llu", (unsigned long long)c->copy),
	    .to_tag = dlg_req ? (struct sy_str){c->to_tag, c->to_tag_len} : SY_STR_NULL,
	    .from_host = sy_str_from(u->host),
	    .to_host = sy_str_from(u->target_host),
	    .contact_host = sy_str_from(u->host),
	    .sdp_from = &d->caller,
	    .sdp_to = u->ip,
	    .sdp_ipv6 = u->local.family == SY_AF_INET6,
	};
	struct sip_ua_msg sm;
	if (sip_ua_parse((const char *)m->text, m->len, &sm) != SY_OK)
		return 0;
	if (dlg_req && c->contact_len > 0) {
		rw.ruri = (struct sy_str){c->contact, c->contact_len};
	} else {
		size_t n = replay_rw_uri(sm.ruri, sy_str_from(u->target_host), ruri, sizeof(ruri));
		rw.ruri = n ? (struct sy_str){ruri, n} : sm.ruri;
	}
	if (dlg_req) { /* the route set: Record-Route of the answer, reversed (RFC 3261 12.1.2) */
		for (uint32_t k = 0; k < c->rr_n; k++)
			routes[k] = (struct sy_str){c->rr + c->rr_off[c->rr_n - 1 - k],
						    (size_t)(c->rr_off[c->rr_n - k] - c->rr_off[c->rr_n - 1 - k])};
		rw.routes = routes;
		rw.route_n = c->rr_n;
	}
	return replay_rw_request(msg_text(m), &rw, u->buf, sizeof(u->buf));
}

/* The ACK of a non-2xx final: the INVITE's branch, built from the response
 * (RFC 3261 17.1.1.3). */
static void send_ack_non2xx(struct rp_call *c, const struct sip_ua_msg *m)
{
	struct replay_uac *u = c->u;
	struct sip_ua_req r;
	char ruri[256];
	memset(&r, 0, sizeof(r));
	uint32_t t = invite_txn(dlg(c), m->cseq);
	const struct pcap_sip *inv = NULL;
	for (uint32_t i = 0; i < dlg(c)->msg_n && inv == NULL; i++)
		if (dlg(c)->msgs[i].txn == t && dlg(c)->msgs[i].request)
			inv = &dlg(c)->msgs[i];
	struct sip_ua_msg im;
	if (inv == NULL || sip_ua_parse((const char *)inv->text, inv->len, &im) != SY_OK)
		return;
	size_t n = replay_rw_uri(im.ruri, sy_str_from(u->target_host), ruri, sizeof(ruri));
	r.method = SY_STR("ACK");
	r.ruri = (struct sy_str){ruri, n};
	r.via_host = sy_str_from(u->host);
	r.branch = m->branch;
	r.from = m->from;
	r.to = m->to;
	r.call_id = m->call_id;
	r.cseq = m->cseq;
	size_t len;
	if (n != 0 && sip_ua_request(&r, u->buf, sizeof(u->buf), &len) == SY_OK)
		send_buf(u, len);
}

/* The ACK of a non-2xx final for a copy already gone: from the response alone. */
static void ack_stray(struct replay_uac *u, const struct sip_ua_msg *m)
{
	struct sip_ua_req r = {.method = SY_STR("ACK"),
			       .ruri = sip_raw_uri_of(m->to),
			       .via_host = sy_str_from(u->host),
			       .branch = m->branch,
			       .from = m->from,
			       .to = m->to,
			       .call_id = m->call_id,
			       .cseq = m->cseq};
	size_t len;
	if (sip_ua_request(&r, u->buf, sizeof(u->buf), &len) == SY_OK)
		send_buf(u, len);
}

static void respond(struct replay_uac *u, const struct sip_ua_msg *m, const struct sy_addr *to, int status)
{
	struct sip_ua_resp r;
	sip_ua_resp_from_msg(&r, m, status);
	r.to_tag = SY_STR("rpx");
	size_t len;
	if (sip_ua_response(&r, u->buf, sizeof(u->buf), &len) == SY_OK &&
	    sy_env_dgram_send(u->env, u->sock, to, u->buf, len) != SY_OK)
		SY_LOG(u->env, SY_LOG_DEBUG, "replay %s: answer not sent", u->cfg.name);
}

/* ---- a copy's life ---- */

static void note_divergence(struct replay_uac *u, struct rp_call *c, const char *want, const char *got, bool timeout)
{
	if (u->st.div_n >= REPLAY_DIVERGENCES_MAX)
		return;
	struct replay_divergence *dv = &u->st.div[u->st.div_n++];
	snprintf(dv->call_id, sizeof(dv->call_id), "%s", dlg(c)->call_id);
	dv->copy = c->copy;
	snprintf(dv->want, sizeof(dv->want), "%s", want);
	size_t n = strlen(got);
	const char *why = timeout ? " (timeout)" : "";
	n = SY_MIN(n, sizeof(dv->got) - 1 - strlen(why));
	memcpy(dv->got, got, n);
	snprintf(dv->got + n, sizeof(dv->got) - n, "%s", why);
}

static void finish(struct rp_call *c, bool timeout)
{
	struct replay_uac *u = c->u;
	char want[REPLAY_SEQ_MAX], got[REPLAY_SEQ_MAX];
	replay_seq_fmt(dlg(c), NULL, want, sizeof(want));
	replay_seq_fmt(dlg(c), c->codes, got, sizeof(got));
	bool same = !c->unexpected && strcmp(want, got) == 0;
	if (timeout) {
		u->st.failed++;
	} else {
		u->st.completed++;
		if (same)
			u->st.matching++;
		else
			u->st.divergent++;
	}
	if (timeout || !same)
		note_divergence(u, c, want, got, timeout);
	sy_env_timer_cancel(u->env, c->t_step);
	sy_env_timer_cancel(u->env, c->t_retx);
	sy_env_timer_cancel(u->env, c->t_guard);
	c->t_step = c->t_retx = c->t_guard = 0;
	c->state = R_FREE;
	c->copy = 0;
	c->next_free = u->free_head;
	u->free_head = c->slot;
	u->st.active--;
}

static void on_guard(void *arg)
{
	struct rp_call *c = arg;
	c->t_guard = 0;
	finish(c, true);
}

static void on_retx(void *arg)
{
	struct rp_call *c = arg;
	struct replay_uac *u = c->u;
	c->t_retx = 0;
	if (c->out_msg == NO_TXN)
		return;
	send_buf(u, build_req(c, c->out_msg));
	u->st.retransmits++;
	bool inv = strcmp(dlg(c)->msgs[c->out_msg].method, "INVITE") == 0;
	c->retx_ns = inv ? 2 * c->retx_ns : SY_MIN(2 * c->retx_ns, 8 * u->cfg.t1_ns); /* timer A; timer E */
	c->t_retx = sy_env_timer_start(u->env, c->retx_ns, on_retx, c);
}

static void stop_retx(struct rp_call *c)
{
	sy_env_timer_cancel(c->u->env, c->t_retx);
	c->t_retx = 0;
	c->out_msg = c->out_txn = NO_TXN;
}

static void on_step(void *arg)
{
	struct rp_call *c = arg;
	struct replay_uac *u = c->u;
	const struct pcap_sip *m = &dlg(c)->msgs[c->cur];
	c->t_step = 0;
	send_buf(u, build_req(c, c->cur));
	u->st.requests++;
	if (strcmp(m->method, "ACK") == 0) {
		c->acked2xx = true;
	} else {
		stop_retx(c);
		c->out_msg = c->cur;
		c->out_txn = m->txn;
		c->retx_ns = u->cfg.t1_ns;
		c->t_retx = sy_env_timer_start(u->env, c->retx_ns, on_retx, c);
	}
	c->last_at = m->at_ns;
	c->pending_ns = 0;
	c->cur++;
	advance(c);
}

static uint64_t gap_to(struct rp_call *c, const struct pcap_sip *m)
{
	bool cl;
	uint64_t g = replay_gap(&c->u->cfg, m->at_ns > c->last_at ? m->at_ns - c->last_at : 0, &cl);
	c->u->st.gaps_clamped += cl;
	c->last_at = m->at_ns;
	return g;
}

static void wait_for(struct rp_call *c, uint8_t kind, uint32_t txn, uint64_t gap)
{
	struct replay_uac *u = c->u;
	c->state = R_WAIT;
	c->wait_kind = kind;
	c->wait_txn = txn;
	sy_env_timer_cancel(u->env, c->t_guard);
	c->t_guard = sy_env_timer_start(u->env, c->pending_ns + gap + 64 * u->cfg.t1_ns, on_guard, c);
	c->pending_ns = 0;
}

/* true: the cursor stops at m (a wait or a send was set up). */
static bool step_one(struct rp_call *c, const struct pcap_sip *m)
{
	const struct pcap_dialog *d = dlg(c);
	bool mine = m->txn < REPLAY_TXN_MAX;
	if (m->from == PCAP_SIDE_CALLEE) {
		uint64_t g = gap_to(c, m);
		if (m->request && strcmp(m->method, "ACK") != 0 && mine && !c->seen[m->txn]) {
			wait_for(c, W_REQ, m->txn, g);
			return true;
		}
		if (!m->request && m->code >= 200 && mine && c->codes[m->txn] == 0 &&
		    d->txns[m->txn].from == PCAP_SIDE_CALLER) {
			wait_for(c, W_FINAL, m->txn, g);
			return true;
		}
		c->pending_ns += g; /* provisional, or already here: its time still passes */
		return false;
	}
	if (!m->request)
		return false; /* our answer went out when the request came */
	uint32_t it = invite_txn(d, m->cseq);
	if (strcmp(m->method, "ACK") == 0 && it != NO_TXN && it < REPLAY_TXN_MAX && c->codes[it] >= 300)
		return false; /* sent with the final that asked for it */
	uint64_t g = gap_to(c, m);
	c->state = R_STEP;
	sy_env_timer_cancel(c->u->env, c->t_guard);
	c->t_guard = 0;
	c->t_step = sy_env_timer_start(c->u->env, c->pending_ns + g, on_step, c);
	return true;
}

/* The script is over with an INVITE of the caller's still unanswered (the
 * capture ends while it rings): CANCEL it, so the target does not ring for
 * its whole ring timeout. The 487 finds the copy gone and is ACKed then. */
static void cancel_open(struct rp_call *c)
{
	const struct pcap_dialog *d = dlg(c);
	char inv[4096];
	struct sip_ua_msg m;
	for (uint32_t i = 0; i < d->msg_n; i++) {
		const struct pcap_sip *p = &d->msgs[i];
		if (!p->request || strcmp(p->method, "INVITE") != 0 || p->txn >= REPLAY_TXN_MAX ||
		    c->codes[p->txn] != 0)
			continue;
		size_t n = build_req(c, i);
		if (n == 0 || n > sizeof(inv))
			return;
		memcpy(inv, c->u->buf, n);
		if (sip_ua_parse(inv, n, &m) != SY_OK)
			return;
		struct sip_ua_req r = {.method = SY_STR("CANCEL"),
				       .ruri = m.ruri,
				       .via_host = sy_str_from(c->u->host),
				       .branch = m.branch,
				       .from = m.from,
				       .to = m.to,
				       .call_id = m.call_id,
				       .cseq = m.cseq};
		size_t len;
		if (sip_ua_request(&r, c->u->buf, sizeof(c->u->buf), &len) == SY_OK)
			send_buf(c->u, len);
		return;
	}
}

static void advance(struct rp_call *c)
{
	const struct pcap_dialog *d = dlg(c);
	while (c->cur < d->msg_n) {
		const struct pcap_sip *m = &d->msgs[c->cur];
		if (!m->retrans && step_one(c, m))
			return;
		c->cur++;
	}
	cancel_open(c);
	finish(c, false);
}

static void copy_start(struct replay_uac *u)
{
	uint64_t i = u->next++;
	if (u->free_head == NO_SLOT) {
		u->st.skipped++;
		return;
	}
	struct rp_call *c = &u->calls[u->free_head];
	u->free_head = c->next_free;
	uint32_t slot = c->slot;
	memset(c, 0, sizeof(*c));
	c->u = u;
	c->slot = slot;
	c->copy = i + 1;
	c->dlg = (uint32_t)(i % u->f->dialog_n);
	c->out_msg = c->out_txn = NO_TXN;
	c->last_at = 0;
	u->st.dialogs++;
	u->st.active++;
	advance(c);
}

static void on_start(void *arg)
{
	struct replay_uac *u = arg;
	uint64_t now = sy_env_now_ns(u->env);
	u->t_start = 0;
	while (u->next < u->total && u->start_ns + replay_start_at(&u->cfg, u->offs, u->next) <= now)
		copy_start(u);
	if (u->next >= u->total)
		return;
	uint64_t at = u->start_ns + replay_start_at(&u->cfg, u->offs, u->next);
	u->t_start = sy_env_timer_start(u->env, at - now, on_start, u);
}

void replay_uac_start(struct replay_uac *u)
{
	u->start_ns = sy_env_now_ns(u->env) + u->cfg.start_ns;
	u->t_start = sy_env_timer_start(u->env, u->cfg.start_ns, on_start, u);
}

/* ---- receiving ---- */

/* Parses "COPY-SLOT@name"; the copy number is returned even when it is gone. */
static struct rp_call *find_call(struct replay_uac *u, struct sy_str cid, uint64_t *copy)
{
	uint64_t s;
	if (!sip_ua_cid_parse(cid, u->cfg.name, copy, &s))
		return NULL;
	if (s >= u->cfg.calls_max || u->calls[s].copy != *copy || u->calls[s].state == R_FREE)
		return NULL;
	return &u->calls[s];
}

static void learn(struct rp_call *c, const struct sip_ua_msg *m)
{
	if (m->to_tag.len && (c->to_tag_len == 0 || (m->status >= 200 && m->status < 300))) {
		c->to_tag_len = (uint8_t)SY_MIN(m->to_tag.len, sizeof(c->to_tag));
		memcpy(c->to_tag, m->to_tag.p, c->to_tag_len);
	}
	if (m->status < 200 || m->status >= 300 || !sy_str_ieq(m->cseq_method, SY_STR("INVITE")))
		return; /* the dialog's remote target and route set come from the 2xx */
	if (m->contact_uri.len && m->contact_uri.len <= sizeof(c->contact)) {
		c->contact_len = (uint8_t)m->contact_uri.len;
		memcpy(c->contact, m->contact_uri.p, c->contact_len);
	}
	size_t used = 0;
	c->rr_n = 0;
	for (size_t k = 0; k < m->rr_n && used + m->rr[k].len <= RR_BYTES; k++) {
		c->rr_off[c->rr_n++] = (uint16_t)used;
		memcpy(c->rr + used, m->rr[k].p, m->rr[k].len);
		used += m->rr[k].len;
	}
	c->rr_off[c->rr_n] = (uint16_t)used;
}

/* A final of the class the capture did not have: the dialog cannot follow
 * its script. A 2xx is ACKed and the call hung up at once (fire and
 * forget), so the target is not left holding it. */
static void off_script(struct rp_call *c, const struct sip_ua_msg *m)
{
	struct replay_uac *u = c->u;
	c->unexpected = true;
	if (m->status < 300) {
		struct sip_ua_req r;
		char br[96];
		memset(&r, 0, sizeof(r));
		r.ruri = m->contact_uri.len ? m->contact_uri : sip_raw_uri_of(m->to);
		r.via_host = sy_str_from(u->host);
		r.from = m->from;
		r.to = m->to;
		r.call_id = m->call_id;
		size_t len;
		const char *meth[2] = {"ACK", "BYE"};
		for (int k = 0; k < 2; k++) {
			r.method = sy_str_from(meth[k]);
			r.branch =
			    fmt(br, sizeof(br), "z9hG4bK-%s-%llu-x%d", u->cfg.name, (unsigned long long)c->copy, k);
			r.cseq = m->cseq + (uint32_t)k;
			if (sip_ua_request(&r, u->buf, sizeof(u->buf), &len) == SY_OK)
				send_buf(u, len);
		}
	}
	finish(c, false);
}

static void resend_ack(struct rp_call *c, uint32_t cseq)
{
	const struct pcap_dialog *d = dlg(c);
	for (uint32_t i = 0; i < d->msg_n; i++)
		if (d->msgs[i].request && d->msgs[i].cseq == cseq && strcmp(d->msgs[i].method, "ACK") == 0) {
			send_buf(c->u, build_req(c, i));
			c->u->st.retransmits++;
			return;
		}
}

static void on_final(struct rp_call *c, const struct sip_ua_msg *m, uint32_t t)
{
	const struct pcap_dialog *d = dlg(c);
	bool invite = strcmp(d->txns[t].method, "INVITE") == 0;
	if (c->codes[t] != 0) { /* a retransmitted final */
		if (invite && m->status >= 300)
			send_ack_non2xx(c, m);
		else if (invite && c->acked2xx)
			resend_ack(c, m->cseq); /* our ACK was lost: the target's timer G goes on */
		return;
	}
	c->codes[t] = (uint16_t)m->status;
	if (c->out_txn == t)
		stop_retx(c);
	if (invite && m->status >= 300)
		send_ack_non2xx(c, m);
	uint16_t want = d->txns[t].final_code;
	if (invite && want != 0 && (want < 300) != (m->status < 300)) {
		off_script(c, m);
		return;
	}
	if (c->state == R_WAIT && c->wait_kind == W_FINAL && c->wait_txn == t) {
		c->cur++;
		advance(c);
	}
}

static void on_response(struct replay_uac *u, const struct sip_ua_msg *m)
{
	uint64_t copy = 0;
	struct rp_call *c = find_call(u, m->call_id, &copy);
	if (c == NULL) {
		u->st.rx_bad += copy == 0;
		if (copy != 0 && m->status >= 300 && sy_str_ieq(m->cseq_method, SY_STR("INVITE")))
			ack_stray(u, m); /* the 487 of a CANCEL at the end, or a late final */
		return;
	}
	uint32_t t = caller_txn(dlg(c), m->cseq, m->cseq_method);
	if (t == NO_TXN) {
		u->st.rx_bad++;
		return;
	}
	learn(c, m);
	if (m->status < 200) {
		if (c->out_txn == t)
			stop_retx(c); /* timer A stops at a provisional; the final comes when it comes */
		return;
	}
	on_final(c, m, t);
}

/* A request from the far side: answered with the code the capture's
 * caller gave it. */
static void on_request(struct replay_uac *u, const struct sip_ua_msg *m, const struct sy_addr *from)
{
	if (sy_str_ieq(m->method, SY_STR("ACK")))
		return;
	uint64_t copy = 0;
	struct rp_call *c = find_call(u, m->call_id, &copy);
	if (c == NULL) { /* a retransmission after the end: its answer was lost */
		respond(u, m, from, copy != 0 && sy_str_ieq(m->method, SY_STR("BYE")) ? 200 : 481);
		return;
	}
	const struct pcap_dialog *d = dlg(c);
	uint32_t t = NO_TXN;
	for (uint32_t i = 0; i < d->txn_n && i < REPLAY_TXN_MAX && t == NO_TXN; i++)
		if (d->txns[i].from == PCAP_SIDE_CALLEE && sy_str_ieq(m->method, sy_str_from(d->txns[i].method)) &&
		    !c->seen[i])
			t = i;
	if (t == NO_TXN) {
		c->unexpected = !sy_str_ieq(m->method, SY_STR("BYE")) || c->codes[0] == 0;
		respond(u, m, from, sy_str_ieq(m->method, SY_STR("BYE")) ? 200 : 501);
		return;
	}
	uint16_t code = d->txns[t].final_code ? d->txns[t].final_code : 200;
	respond(u, m, from, code);
	u->st.answered++;
	c->seen[t] = true;
	c->codes[t] = code;
	if (c->state == R_WAIT && c->wait_kind == W_REQ && c->wait_txn == t) {
		c->cur++;
		advance(c);
	}
}

static void on_recv(void *arg, struct sy_dgram *sock, const struct sy_addr *from, const uint8_t *buf, size_t len)
{
	struct replay_uac *u = arg;
	struct sip_ua_msg m;
	if (sip_ua_parse((const char *)buf, len, &m) != SY_OK) {
		u->st.rx_bad++;
		return;
	}
	if (m.is_request)
		on_request(u, &m, from);
	else
		on_response(u, &m);
}
