/* replay_uas.c: role = carriers (replay.h). An initial request from the
 * switch picks a captured dialog (by called number, or round-robin) and
 * a cursor walks it from the callee's side: the callee's responses to the
 * initial request and its own requests (a BYE) go out after their captured
 * gaps; the caller's requests (ACK, BYE, CANCEL) and the finals to our
 * requests are waited for; the caller's requests are answered on arrival
 * with the capture's codes. A call keeps a copy of its initial request:
 * every response and in-dialog request is built from it. */
#include "replay.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/htab.h"
#include "core/sip/wire.h"

#define NO_TXN UINT32_MAX

struct rs_call {
	struct sy_hnode node; /* keyed by the Call-ID inside text */
	struct replay_uas *s;
	const struct pcap_dialog *d;
	uint64_t no;
	uint32_t cur, wait_txn;
	int32_t out_msg;   /* our request being retransmitted; -1: none */
	int32_t final_msg; /* the captured final we sent; -1: a 487 of ours */
	uint16_t final;	   /* the final we sent to the initial request */
	bool acked, waiting, timed_out;
	uint64_t last_at, pending_ns, retx_ns;
	sy_timer_id t_step, t_retx, t_guard;
	bool seen[REPLAY_TXN_MAX];
	struct sy_addr peer;
	struct sip_ua_msg inv; /* slices into text */
	size_t len;
	char text[]; /* the initial request as received */
};

struct replay_uas {
	const struct sy_env *env;
	struct replay_cfg cfg;
	struct sy_dgram *sock;
	struct sy_addr local;
	char host[SY_ADDR_STRLEN], ip[SY_ADDR_STRLEN];
	struct sy_htab by_cid;
	uint64_t seq;
	uint32_t rr_next;
	struct replay_stats st;
	char buf[8192];
};

static void on_recv(void *arg, struct sy_dgram *sock, const struct sy_addr *from, const uint8_t *buf, size_t len);
static void advance(struct rs_call *c);

enum sy_rc replay_uas_create(const struct sy_env *env, const struct replay_cfg *cfg, struct replay_uas **out)
{
	if (cfg->flows == NULL || cfg->flows->dialog_n == 0)
		return SY_ERR_INVAL;
	struct replay_uas *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return SY_ERR_NOMEM;
	s->env = env;
	s->cfg = *cfg;
	if (s->cfg.name == NULL)
		s->cfg.name = "rp";
	if (s->cfg.t1_ns == 0)
		s->cfg.t1_ns = 500 * SY_NS_PER_MS;
	enum sy_rc rc = sy_htab_init_seeded(&s->by_cid, 4096, sy_env_random_u64(env));
	if (rc != SY_OK)
		goto out_free;
	if ((rc = sy_env_dgram_open(env, &s->cfg.local, on_recv, s, &s->sock)) != SY_OK)
		goto out_htab;
	sy_env_dgram_local(env, s->sock, &s->local);
	sy_addr_fmt(&s->local, s->host, sizeof(s->host));
	sy_addr_fmt_host(&s->local, s->ip, sizeof(s->ip));
	*out = s;
	return SY_OK;
out_htab:
	sy_htab_free(&s->by_cid);
out_free:
	free(s);
	return rc;
}

void replay_uas_local(const struct replay_uas *s, struct sy_addr *out)
{
	*out = s->local;
}

const struct replay_stats *replay_uas_stats(const struct replay_uas *s)
{
	return &s->st;
}

static void call_free(struct rs_call *c)
{
	struct replay_uas *s = c->s;
	sy_env_timer_cancel(s->env, c->t_step);
	sy_env_timer_cancel(s->env, c->t_retx);
	sy_env_timer_cancel(s->env, c->t_guard);
	sy_htab_remove(&s->by_cid, &c->node);
	s->st.active--;
	free(c);
}

void replay_uas_destroy(struct replay_uas *s)
{
	if (s == NULL)
		return;
	for (uint64_t b = 0; s->by_cid.buckets != NULL && b <= s->by_cid.mask; b++)
		while (s->by_cid.buckets[b] != NULL)
			call_free((struct rs_call *)s->by_cid.buckets[b]);
	sy_env_dgram_close(s->env, s->sock);
	sy_htab_free(&s->by_cid);
	free(s);
}

/* ---- sending ---- */

static void send_to(struct replay_uas *s, const struct sy_addr *to, size_t len)
{
	if (len == 0 || sy_env_dgram_send(s->env, s->sock, to, s->buf, len) != SY_OK)
		SY_LOG(s->env, SY_LOG_DEBUG, "replay %s: nothing sent", s->cfg.name);
}

static struct sy_str our_tag(const struct rs_call *c, char *buf, size_t n)
{
	int w = snprintf(buf, n, "rt%llu", (unsigned long long)c->no);
	return (struct sy_str){buf, (size_t)w};
}

/* Captured response m of the initial transaction, to our copy of the request. */
static size_t build_resp(struct rs_call *c, const struct pcap_sip *m)
{
	struct replay_uas *s = c->s;
	struct sip_ua_resp r;
	char tag[32], contact[160], body[2048];
	sip_ua_resp_from_msg(&r, &c->inv, m->code);
	if (m->code != 100)
		r.to_tag = our_tag(c, tag, sizeof(tag));
	struct sy_str user = sip_raw_uri_of(c->inv.to);
	const char *at = memchr(user.p, '@', user.len);
	size_t ul = at && user.len > 4 ? (size_t)(at - user.p) - 4 : 0;
	if (m->code > 100 && m->code < 300) {
		int w = snprintf(contact, sizeof(contact), "sip:%.*s%s%s", (int)ul, user.p + 4, ul ? "@" : "", s->host);
		r.contact = (struct sy_str){contact, (size_t)w};
	}
	struct sy_str ctype, cbody;
	sip_raw_body((struct sy_str){(const char *)m->text, m->len}, &ctype, &cbody);
	if (cbody.len) {
		size_t n =
		    replay_rw_sdp(cbody, &c->d->callee, s->ip, s->local.family == SY_AF_INET6, body, sizeof(body));
		r.content_type = ctype;
		r.body = n ? (struct sy_str){body, n} : cbody;
	}
	size_t len;
	return sip_ua_response(&r, s->buf, sizeof(s->buf), &len) == SY_OK ? len : 0;
}

/* A request of the callee's (a BYE), inside the dialog the initial request made. */
static size_t build_req(struct rs_call *c, const struct pcap_sip *m)
{
	struct replay_uas *s = c->s;
	struct sip_ua_req r;
	char from[256], to[256], tag[32], br[96];
	struct sy_str fu = sip_raw_uri_of(c->inv.to), tu = sip_raw_uri_of(c->inv.from);
	memset(&r, 0, sizeof(r));
	r.method = sy_str_from(m->method);
	r.ruri = c->inv.contact_uri.len ? c->inv.contact_uri : tu;
	r.via_host = sy_str_from(s->host);
	int w = snprintf(br, sizeof(br), "z9hG4bK-%s-%llu-%u", s->cfg.name, (unsigned long long)c->no, m->txn);
	r.branch = (struct sy_str){br, (size_t)w};
	w = snprintf(from, sizeof(from), "<%.*s>", (int)SY_MIN(fu.len, 250), fu.p);
	r.from = (struct sy_str){from, (size_t)w};
	r.from_tag = our_tag(c, tag, sizeof(tag));
	w = snprintf(to, sizeof(to), "<%.*s>", (int)SY_MIN(tu.len, 250), tu.p);
	r.to = (struct sy_str){to, (size_t)w};
	r.to_tag = c->inv.from_tag;
	r.call_id = c->inv.call_id;
	r.cseq = m->cseq;
	r.route = c->inv.rr; /* the UAS's route set: Record-Route in order */
	r.route_n = c->inv.rr_n;
	size_t len;
	return sip_ua_request(&r, s->buf, sizeof(s->buf), &len) == SY_OK ? len : 0;
}

static void answer(struct replay_uas *s, const struct sip_ua_msg *m, const struct sy_addr *to, int code)
{
	struct sip_ua_resp r;
	sip_ua_resp_from_msg(&r, m, code);
	r.to_tag = SY_STR("rtx");
	size_t len;
	if (sip_ua_response(&r, s->buf, sizeof(s->buf), &len) == SY_OK)
		send_to(s, to, len);
}

/* ---- a call's life ---- */

static void on_guard(void *arg)
{
	struct rs_call *c = arg;
	c->t_guard = 0;
	c->s->st.failed++;
	call_free(c);
}

static void resend_final(struct rs_call *c)
{
	struct pcap_sip own = {.code = c->final};
	send_to(c->s, &c->peer, build_resp(c, c->final_msg >= 0 ? &c->d->msgs[c->final_msg] : &own));
}

static void on_retx(void *arg)
{
	struct rs_call *c = arg;
	struct replay_uas *s = c->s;
	c->t_retx = 0;
	if (c->out_msg >= 0)
		send_to(s, &c->peer, build_req(c, &c->d->msgs[c->out_msg]));
	else if (c->final != 0 && !c->acked)
		resend_final(c); /* timer G */
	else
		return;
	s->st.retransmits++;
	c->retx_ns = SY_MIN(2 * c->retx_ns, 8 * s->cfg.t1_ns);
	c->t_retx = sy_env_timer_start(s->env, c->retx_ns, on_retx, c);
}

static void arm_retx(struct rs_call *c)
{
	sy_env_timer_cancel(c->s->env, c->t_retx);
	c->retx_ns = c->s->cfg.t1_ns;
	c->t_retx = sy_env_timer_start(c->s->env, c->retx_ns, on_retx, c);
}

static void on_step(void *arg)
{
	struct rs_call *c = arg;
	struct replay_uas *s = c->s;
	const struct pcap_sip *m = &c->d->msgs[c->cur];
	c->t_step = 0;
	if (m->request) {
		send_to(s, &c->peer, build_req(c, m));
		s->st.requests++;
		c->out_msg = (int32_t)c->cur;
		arm_retx(c);
	} else if (c->final == 0) {
		send_to(s, &c->peer, build_resp(c, m));
		if (m->code >= 200) {
			c->final = m->code;
			c->final_msg = (int32_t)c->cur; /* the response timer G sends again */
			if (sy_str_ieq(c->inv.method, SY_STR("INVITE")))
				arm_retx(c);
		}
	}
	c->last_at = m->at_ns;
	c->pending_ns = 0;
	c->cur++;
	advance(c);
}

static uint64_t gap_to(struct rs_call *c, const struct pcap_sip *m)
{
	bool cl;
	uint64_t g = replay_gap(&c->s->cfg, m->at_ns > c->last_at ? m->at_ns - c->last_at : 0, &cl);
	c->s->st.gaps_clamped += cl;
	c->last_at = m->at_ns;
	return g;
}

static void wait_here(struct rs_call *c, uint64_t g)
{
	c->waiting = true;
	sy_env_timer_cancel(c->s->env, c->t_guard);
	c->t_guard = sy_env_timer_start(c->s->env, c->pending_ns + g + 64 * c->s->cfg.t1_ns, on_guard, c);
	c->pending_ns = 0;
}

/* true: the cursor stops at m. */
static bool step_one(struct rs_call *c, const struct pcap_sip *m)
{
	uint64_t g = gap_to(c, m);
	bool mine = m->txn < REPLAY_TXN_MAX;
	if (m->from == PCAP_SIDE_CALLER) {
		bool ack = strcmp(m->method, "ACK") == 0;
		if (m->request && (ack ? !c->acked : m->txn != 0 && mine && !c->seen[m->txn])) {
			wait_here(c, g);
			return true;
		}
		if (!m->request && m->code >= 200 && c->out_msg >= 0 && mine && !c->seen[m->txn]) {
			wait_here(c, g);
			return true;
		}
		c->pending_ns += g;
		return false;
	}
	bool ours = m->request || (m->txn == 0 && c->final == 0);
	if (!ours) {
		c->pending_ns += g; /* answered when its request came */
		return false;
	}
	c->waiting = false;
	/* 100 Trying is hop by hop (RFC 3261 17.2.1: within 200 ms): a
	 * switch's INVITE timer must not see the capture's delay of it */
	if (!m->request && m->code == 100)
		g = c->pending_ns = 0;
	c->t_step = sy_env_timer_start(c->s->env, c->pending_ns + g, on_step, c);
	return true;
}

static void advance(struct rs_call *c)
{
	while (c->cur < c->d->msg_n) {
		const struct pcap_sip *m = &c->d->msgs[c->cur];
		if (!m->retrans && step_one(c, m))
			return;
		c->cur++;
	}
	if (c->final == 0 && sy_str_ieq(c->inv.method, SY_STR("INVITE"))) {
		wait_here(c, 0); /* the capture ends while it rings: the caller's CANCEL ends it */
		return;
	}
	c->s->st.completed++;
	call_free(c);
}

/* Continues a call waiting for what just came (txn of the capture). */
static void arrived(struct rs_call *c, uint32_t txn)
{
	if (txn < REPLAY_TXN_MAX)
		c->seen[txn] = true;
	if (!c->waiting)
		return;
	const struct pcap_sip *m = &c->d->msgs[c->cur];
	if (m->txn == txn || (strcmp(m->method, "ACK") == 0 && c->acked)) {
		c->waiting = false;
		c->cur++;
		advance(c);
	}
}

/* ---- the initial request ---- */

static bool user_eq(struct sy_str ruri, const char *want)
{
	struct sy_str u = ruri;
	size_t skip = u.len > 4 && (u.p[3] == ':') ? 4 : u.len > 5 && u.p[4] == ':' ? 5 : 0;
	u = (struct sy_str){u.p + skip, u.len - skip};
	const char *at = memchr(u.p, '@', u.len);
	if (at == NULL)
		return false;
	u.len = (size_t)(at - u.p);
	size_t semi = 0;
	while (semi < u.len && u.p[semi] != ';')
		semi++;
	u.len = semi;
	if (u.len && u.p[0] == '+')
		u = (struct sy_str){u.p + 1, u.len - 1};
	if (want[0] == '+')
		want++;
	return sy_str_eq(u, sy_str_from(want));
}

static const struct pcap_dialog *pick(struct replay_uas *s, const struct sip_ua_msg *m)
{
	const struct pcap_flows *f = s->cfg.flows;
	for (uint32_t n = 0; n < f->dialog_n; n++) {
		uint32_t i = (s->rr_next + n) % f->dialog_n;
		const struct pcap_dialog *d = &f->dialogs[i];
		if (!sy_str_ieq(m->method, sy_str_from(d->method)))
			continue;
		if (s->cfg.key == REPLAY_KEY_ROUND_ROBIN || user_eq(m->ruri, d->to_user)) {
			s->rr_next = i + 1;
			return d;
		}
	}
	return NULL;
}

static void on_initial(struct replay_uas *s, const struct sip_ua_msg *m, const char *buf, size_t len,
		       const struct sy_addr *from)
{
	const struct pcap_dialog *d = pick(s, m);
	if (d == NULL) {
		s->st.unmatched++;
		answer(s, m, from, 404);
		return;
	}
	struct rs_call *c = calloc(1, sizeof(*c) + len);
	if (c == NULL) {
		answer(s, m, from, 503);
		return;
	}
	memcpy(c->text, buf, len);
	c->len = len;
	if (sip_ua_parse(c->text, len, &c->inv) != SY_OK) {
		free(c);
		return;
	}
	c->s = s;
	c->d = d;
	c->no = ++s->seq;
	c->out_msg = -1;
	c->peer = *from;
	c->seen[0] = true;
	sy_htab_insert(&s->by_cid, &c->node, c->inv.call_id);
	s->st.dialogs++;
	s->st.active++;
	c->cur = 1;
	c->last_at = d->msgs[0].at_ns;
	advance(c);
}

/* ---- receiving ---- */

static struct rs_call *find(struct replay_uas *s, struct sy_str cid)
{
	return (struct rs_call *)sy_htab_find(&s->by_cid, cid);
}

/* The capture's transaction of the caller's that this request plays. */
static uint32_t caller_txn(const struct rs_call *c, struct sy_str method)
{
	for (uint32_t i = 1; i < c->d->txn_n && i < REPLAY_TXN_MAX; i++)
		if (c->d->txns[i].from == PCAP_SIDE_CALLER && sy_str_ieq(method, sy_str_from(c->d->txns[i].method)) &&
		    !c->seen[i])
			return i;
	for (uint32_t i = 1; i < c->d->txn_n && i < REPLAY_TXN_MAX; i++)
		if (c->d->txns[i].from == PCAP_SIDE_CALLER && sy_str_ieq(method, sy_str_from(c->d->txns[i].method)))
			return i; /* a retransmission: answered again */
	return NO_TXN;
}

static void on_cancel(struct replay_uas *s, struct rs_call *c, const struct sip_ua_msg *m, const struct sy_addr *from)
{
	answer(s, m, from, 200);
	if (c->final != 0)
		return;
	bool stepping = c->t_step != 0; /* a response of ours was due: it never will be */
	sy_env_timer_cancel(s->env, c->t_step);
	c->t_step = 0;
	c->final = 487;
	c->final_msg = -1;
	resend_final(c);
	arm_retx(c);
	uint32_t t = caller_txn(c, SY_STR("CANCEL"));
	if (!stepping) {
		arrived(c, t);
		return;
	}
	if (t < REPLAY_TXN_MAX)
		c->seen[t] = true;
	c->cur++;
	advance(c);
}

static void on_request(struct replay_uas *s, const struct sip_ua_msg *m, const char *buf, size_t len,
		       const struct sy_addr *from)
{
	struct rs_call *c = find(s, m->call_id);
	if (c == NULL) {
		if (m->to_tag.len == 0 && !sy_str_ieq(m->method, SY_STR("ACK")) &&
		    !sy_str_ieq(m->method, SY_STR("CANCEL")))
			on_initial(s, m, buf, len, from);
		else if (!sy_str_ieq(m->method, SY_STR("ACK")))
			answer(s, m, from, sy_str_ieq(m->method, SY_STR("BYE")) ? 200 : 481);
		return;
	}
	if (m->to_tag.len == 0 && sy_str_ieq(m->method, c->inv.method) && m->cseq == c->inv.cseq)
		return; /* a retransmission of the initial request: our responses follow their plan */
	if (sy_str_ieq(m->method, SY_STR("CANCEL"))) {
		on_cancel(s, c, m, from);
		return;
	}
	if (sy_str_ieq(m->method, SY_STR("ACK"))) {
		bool first = !c->acked;
		c->acked = true;
		sy_env_timer_cancel(s->env, c->t_retx);
		c->t_retx = 0;
		if (first && c->cur >= c->d->msg_n) { /* the ACK of our 487: the end */
			s->st.completed++;
			call_free(c);
		} else if (first) {
			arrived(c, caller_txn(c, SY_STR("ACK")));
		}
		return;
	}
	uint32_t t = caller_txn(c, m->method);
	uint16_t code = t != NO_TXN && c->d->txns[t].final_code ? c->d->txns[t].final_code : 200;
	answer(s, m, from, t == NO_TXN && !sy_str_ieq(m->method, SY_STR("BYE")) ? 501 : code);
	s->st.answered++;
	arrived(c, t);
}

static void on_response(struct replay_uas *s, const struct sip_ua_msg *m)
{
	struct rs_call *c = find(s, m->call_id);
	if (c == NULL || c->out_msg < 0 || m->status < 200) {
		s->st.rx_bad += c == NULL;
		return;
	}
	const struct pcap_sip *req = &c->d->msgs[c->out_msg];
	if (m->cseq != req->cseq || !sy_str_ieq(m->cseq_method, sy_str_from(req->method)))
		return;
	c->out_msg = -1;
	sy_env_timer_cancel(s->env, c->t_retx);
	c->t_retx = 0;
	arrived(c, req->txn);
}

static void on_recv(void *arg, struct sy_dgram *sock, const struct sy_addr *from, const uint8_t *buf, size_t len)
{
	struct replay_uas *s = arg;
	struct sip_ua_msg m;
	if (sip_ua_parse((const char *)buf, len, &m) != SY_OK) {
		s->st.rx_bad++;
		return;
	}
	if (m.is_request)
		on_request(s, &m, (const char *)buf, len, from);
	else
		on_response(s, &m);
}
