/* uas.c: the carrier peer. A call keeps copies of the INVITE headers its
 * responses need (Vias, Record-Routes, From, To, Call-ID, Contact) in a
 * fixed per-call buffer, found by Call-ID through sy_htab. BYEs are answered
 * from the BYE itself; a retransmitted BYE for a call already freed gets 200
 * again if its Call-ID is in a small lossy "recently closed" table, else 481. */
#include "uas.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/htab.h"
#include "core/pool.h"
#include "core/sip/wire.h"

#define UAS_VIA_MAX    8
#define UAS_RR_MAX     4
#define UAS_HDR_BYTES  768   /* most bytes of headers a call keeps */
#define UAS_HDR_INLINE 256   /* of which in the call itself (voice-10k's keep 192-255) */
#define UAS_RECENT     65536 /* recently closed Call-ID hashes, direct-mapped */

enum { S_FREE = 0, S_RINGING, S_NOANSWER, S_ANSWERED, S_CONFIRMED, S_REJECTED };
enum { F_FROM = UAS_VIA_MAX + UAS_RR_MAX, F_TO, F_CID, F_CONTACT, F_N };

struct uas_call {
	struct sy_hnode node; /* keyed by the Call-ID copy in hdr */
	struct uas *s;
	uint32_t slot, next_free;
	uint8_t state, via_n, rr_n;
	uint16_t last_code, final_code;
	uint32_t cseq;
	uint64_t tag_no, retx_ns;
	sy_timer_id t_ring, t_retx, t_guard;
	struct sy_addr peer;
	uint16_t off[F_N], len[F_N];
	uint16_t used;
	char *hdr; /* inl, or a UAS_HDR_BYTES heap block once inl is outgrown */
	char inl[UAS_HDR_INLINE];
};

struct uas {
	const struct sy_env *env;
	struct uas_cfg cfg;
	struct sy_rng rng;
	struct sy_dgram *sock;
	struct sy_addr local;
	char host[SY_ADDR_STRLEN], ip[SY_ADDR_STRLEN];
	struct sy_htab by_cid;
	struct sy_pool calls; /* slabs taken as concurrency grows, not calls_max up front */
	uint32_t free_head;   /* a freed call's slot, or NO_SLOT: take a fresh one */
	uint64_t tag_seq, reject_total;
	uint64_t *recent;
	struct uas_stats st;
	char buf[4096];
	char sdp[512];
	size_t sdp_len;
};

#define NO_SLOT UINT32_MAX

static void on_recv(void *arg, struct sy_dgram *sock, const struct sy_addr *from, const uint8_t *buf, size_t len);

static void hdr_free(struct uas_call *c)
{
	if (c->hdr != c->inl)
		free(c->hdr);
	c->hdr = c->inl;
}

enum sy_rc uas_create(const struct sy_env *env, const struct uas_cfg *cfg, struct uas **out)
{
	struct uas *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return SY_ERR_NOMEM;
	s->env = env;
	s->cfg = *cfg;
	if (s->cfg.name == NULL)
		s->cfg.name = "uas";
	if (s->cfg.t1_ns == 0)
		s->cfg.t1_ns = 500 * SY_NS_PER_MS;
	if (s->cfg.noanswer_timeout_ns == 0)
		s->cfg.noanswer_timeout_ns = 180 * SY_NS_PER_S;
	if (s->cfg.capacity == 0 || s->cfg.capacity > s->cfg.calls_max)
		s->cfg.capacity = s->cfg.calls_max;
	if (s->cfg.reject_n == 0) {
		s->cfg.reject[0] = (struct uas_reject){486, 1000000};
		s->cfg.reject_n = 1;
	}
	enum sy_rc rc = SY_ERR_INVAL;
	if (s->cfg.calls_max == 0 || s->cfg.reject_n > UAS_REJECT_MAX || strlen(s->cfg.name) > 32 ||
	    (uint64_t)s->cfg.answer_ppm + s->cfg.noanswer_ppm > 1000000)
		goto out_free;
	for (size_t i = 0; i < s->cfg.reject_n; i++) {
		if (s->cfg.reject[i].code < 300 || s->cfg.reject[i].code > 699)
			goto out_free;
		s->reject_total += s->cfg.reject[i].share_ppm;
	}
	rc = SY_ERR_NOMEM;
	s->free_head = NO_SLOT;
	s->recent = calloc(UAS_RECENT, sizeof(*s->recent));
	if (sy_pool_init(&s->calls, sizeof(struct uas_call), s->cfg.calls_max) != SY_OK || s->recent == NULL ||
	    sy_htab_init(&s->by_cid, 2ull * s->cfg.calls_max) != SY_OK)
		goto out_free;
	sy_rng_init_split(&s->rng, sy_env_seed(env), "uas", s->cfg.index);
	rc = sy_env_dgram_open(env, &s->cfg.local, on_recv, s, &s->sock);
	if (rc != SY_OK)
		goto out_free_htab;
	sy_env_dgram_local(env, s->sock, &s->local);
	sy_addr_fmt(&s->local, s->host, sizeof(s->host));
	sy_addr_fmt_host(&s->local, s->ip, sizeof(s->ip));
	s->sdp_len = sip_ua_sdp(s->sdp, sizeof(s->sdp), s->ip, s->local.family == SY_AF_INET6, 20000, 1);
	*out = s;
	return SY_OK;
out_free_htab:
	sy_htab_free(&s->by_cid);
out_free:
	sy_pool_free(&s->calls);
	free(s->recent);
	free(s);
	return rc;
}

void uas_start(struct uas *s)
{
	(void)s;
}

void uas_local(const struct uas *s, struct sy_addr *out)
{
	*out = s->local;
}

const struct uas_stats *uas_stats(const struct uas *s)
{
	return &s->st;
}

void uas_destroy(struct uas *s)
{
	if (s == NULL)
		return;
	for (uint32_t i = 0; i < sy_pool_used(&s->calls); i++) {
		struct uas_call *c = sy_pool_at(&s->calls, i);
		sy_env_timer_cancel(s->env, c->t_ring);
		sy_env_timer_cancel(s->env, c->t_retx);
		sy_env_timer_cancel(s->env, c->t_guard);
		if (c->state != S_FREE)
			hdr_free(c);
	}
	sy_env_dgram_close(s->env, s->sock);
	sy_htab_free(&s->by_cid);
	sy_pool_free(&s->calls);
	free(s->recent);
	free(s);
}

/* ---- stored headers ---- */

static bool keep(struct uas_call *c, int f, struct sy_str v)
{
	if (v.len > (size_t)UAS_HDR_BYTES - c->used)
		return false;
	if (c->hdr == c->inl && c->used + v.len > UAS_HDR_INLINE) {
		char *h = malloc(UAS_HDR_BYTES);
		if (h == NULL)
			return false;
		memcpy(h, c->inl, c->used);
		c->hdr = h;
	}
	memcpy(c->hdr + c->used, v.p, v.len);
	c->off[f] = c->used;
	c->len[f] = (uint16_t)v.len;
	c->used = (uint16_t)(c->used + v.len);
	return true;
}

static struct sy_str kept(const struct uas_call *c, int f)
{
	return (struct sy_str){c->hdr + c->off[f], c->len[f]};
}

static bool keep_invite(struct uas_call *c, const struct sip_ua_msg *m)
{
	if (m->via_n > UAS_VIA_MAX || m->rr_n > UAS_RR_MAX)
		return false;
	c->used = 0;
	bool ok = keep(c, F_CID, m->call_id) && keep(c, F_FROM, m->from) && keep(c, F_TO, m->to) &&
		  keep(c, F_CONTACT, m->contact_uri.len ? m->contact_uri : sip_raw_uri_of(m->from));
	for (size_t i = 0; ok && i < m->via_n; i++)
		ok = keep(c, (int)i, m->via[i]);
	for (size_t i = 0; ok && i < m->rr_n; i++)
		ok = keep(c, UAS_VIA_MAX + (int)i, m->rr[i]);
	c->via_n = (uint8_t)m->via_n;
	c->rr_n = (uint8_t)m->rr_n;
	c->cseq = m->cseq;
	return ok;
}

/* ---- sending ---- */

static void send_buf(struct uas *s, const struct sy_addr *to, size_t len)
{
	if (sy_env_dgram_send(s->env, s->sock, to, s->buf, len) != SY_OK)
		SY_LOG(s->env, SY_LOG_DEBUG, "uas %s: send failed", s->cfg.name);
}

/* A response to the INVITE of call c, from the stored headers. */
static void send_invite_resp(struct uas_call *c, int code)
{
	struct uas *s = c->s;
	struct sy_str via[UAS_VIA_MAX], rr[UAS_RR_MAX];
	char tag[48], contact[96];
	struct sip_ua_resp r = {.status = code};
	for (int i = 0; i < c->via_n; i++)
		via[i] = kept(c, i);
	for (int i = 0; i < c->rr_n; i++)
		rr[i] = kept(c, UAS_VIA_MAX + i);
	r.via = via;
	r.via_n = c->via_n;
	r.from = kept(c, F_FROM);
	r.to = kept(c, F_TO);
	r.call_id = kept(c, F_CID);
	r.cseq = c->cseq;
	r.cseq_method = SY_STR("INVITE");
	if (code > 100) { /* 100 Trying carries no tag (RFC 3261 8.2.6.2) */
		int w = snprintf(tag, sizeof(tag), "%s-t%llu", s->cfg.name, (unsigned long long)c->tag_no);
		r.to_tag = (struct sy_str){tag, (size_t)w};
	}
	bool dialog = (code > 100 && code < 200) || (code >= 200 && code < 300);
	if (dialog) {
		int w = snprintf(contact, sizeof(contact), "sip:%s@%s", s->cfg.name, s->host);
		r.contact = (struct sy_str){contact, (size_t)w};
		r.rr = rr;
		r.rr_n = c->rr_n;
	}
	if (code == 200 || code == 183)
		r.body = (struct sy_str){s->sdp, s->sdp_len};
	size_t len;
	if (sip_ua_response(&r, s->buf, sizeof(s->buf), &len) == SY_OK)
		send_buf(s, &c->peer, len);
	c->last_code = (uint16_t)code;
}

/* A stateless response built from the request itself; with_sdp adds our
 * Contact and SDP (a 200 to a re-INVITE, e.g. a session-timer refresh). */
static void respond_ex(struct uas *s, const struct sip_ua_msg *m, const struct sy_addr *to, int code, bool with_sdp)
{
	struct sip_ua_resp r;
	char tag[48], contact[96];
	sip_ua_resp_from_msg(&r, m, code);
	int w = snprintf(tag, sizeof(tag), "%s-s%llu", s->cfg.name, (unsigned long long)++s->tag_seq);
	r.to_tag = (struct sy_str){tag, (size_t)w};
	if (with_sdp) {
		w = snprintf(contact, sizeof(contact), "sip:%s@%s", s->cfg.name, s->host);
		r.contact = (struct sy_str){contact, (size_t)w};
		r.body = (struct sy_str){s->sdp, s->sdp_len};
	}
	size_t len;
	if (sip_ua_response(&r, s->buf, sizeof(s->buf), &len) == SY_OK)
		send_buf(s, to, len);
}

static void respond(struct uas *s, const struct sip_ua_msg *m, const struct sy_addr *to, int code)
{
	respond_ex(s, m, to, code, false);
}

/* Our BYE when the 200 was never ACKed (fire and forget: the call is
 * already lost, this only frees the far side's state). */
static void send_bye(struct uas_call *c)
{
	struct uas *s = c->s;
	char br[80], tag[48];
	struct sip_ua_req r = {.method = SY_STR("BYE"), .cseq = 1};
	int w = snprintf(br, sizeof(br), "z9hG4bK-%s-b%llu", s->cfg.name, (unsigned long long)c->tag_no);
	r.branch = (struct sy_str){br, (size_t)w};
	w = snprintf(tag, sizeof(tag), "%s-t%llu", s->cfg.name, (unsigned long long)c->tag_no);
	r.from_tag = (struct sy_str){tag, (size_t)w};
	r.ruri = kept(c, F_CONTACT);
	r.via_host = sy_str_from(s->host);
	r.from = kept(c, F_TO);
	r.to = kept(c, F_FROM);
	r.call_id = kept(c, F_CID);
	struct sy_str route[UAS_RR_MAX];
	for (int i = 0; i < c->rr_n; i++)
		route[i] = kept(c, UAS_VIA_MAX + i);
	r.route = route;
	r.route_n = c->rr_n;
	size_t len;
	if (sip_ua_request(&r, s->buf, sizeof(s->buf), &len) == SY_OK)
		send_buf(s, &c->peer, len);
}

/* ---- call lifecycle ---- */

static void remember_closed(struct uas *s, struct sy_str cid)
{
	uint64_t h = sy_htab_hash(cid) | 1; /* 0 marks an empty entry */
	s->recent[h & (UAS_RECENT - 1)] = h;
}

static bool recently_closed(const struct uas *s, struct sy_str cid)
{
	uint64_t h = sy_htab_hash(cid) | 1;
	return s->recent[h & (UAS_RECENT - 1)] == h;
}

static void call_free(struct uas_call *c)
{
	struct uas *s = c->s;
	sy_env_timer_cancel(s->env, c->t_ring);
	sy_env_timer_cancel(s->env, c->t_retx);
	sy_env_timer_cancel(s->env, c->t_guard);
	c->t_ring = c->t_retx = c->t_guard = 0;
	remember_closed(s, kept(c, F_CID));
	sy_htab_remove(&s->by_cid, &c->node);
	hdr_free(c);
	c->state = S_FREE;
	c->next_free = s->free_head;
	s->free_head = c->slot;
	s->st.active--;
}

static void on_retx(void *arg)
{
	struct uas_call *c = arg;
	struct uas *s = c->s;
	c->t_retx = 0;
	if (c->state != S_ANSWERED && c->state != S_REJECTED)
		return;
	send_invite_resp(c, c->final_code);
	s->st.retransmits++;
	c->retx_ns = SY_MIN(2 * c->retx_ns, 8 * s->cfg.t1_ns); /* timer G, capped at T2 */
	c->t_retx = sy_env_timer_start(s->env, c->retx_ns, on_retx, c);
}

static void on_guard(void *arg);

static void arm(struct uas_call *c, sy_timer_id *t, uint64_t delay_ns, sy_timer_fn fn)
{
	sy_env_timer_cancel(c->s->env, *t);
	*t = sy_env_timer_start(c->s->env, delay_ns, fn, c);
}

/* Sends the final response and waits for the ACK, retransmitting the
 * response (2xx: RFC 3261 13.3.1.4; non-2xx: timer G) until 64*T1. */
static void send_final(struct uas_call *c, int code)
{
	struct uas *s = c->s;
	c->final_code = (uint16_t)code;
	c->state = code < 300 ? S_ANSWERED : S_REJECTED;
	if (code < 300) {
		s->st.answered++;
	} else {
		s->st.rejected++;
		s->st.rejected_code[code]++;
	}
	send_invite_resp(c, code);
	c->retx_ns = s->cfg.t1_ns;
	arm(c, &c->t_retx, c->retx_ns, on_retx);
	arm(c, &c->t_guard, 64 * s->cfg.t1_ns, on_guard);
}

static void on_guard(void *arg)
{
	struct uas_call *c = arg;
	struct uas *s = c->s;
	c->t_guard = 0;
	if (c->state == S_NOANSWER) {
		send_final(c, 480);
	} else if (c->state == S_ANSWERED) {
		s->st.ack_timeouts++;
		send_bye(c);
		call_free(c);
	} else if (c->state == S_REJECTED) {
		call_free(c); /* timer H: the ACK was lost, nothing more to do */
	}
}

static int pick_reject(struct uas *s)
{
	if (s->reject_total == 0)
		return s->cfg.reject[0].code;
	uint64_t r = sy_rng_below(&s->rng, s->reject_total);
	for (size_t i = 0; i < s->cfg.reject_n; i++) {
		if (r < s->cfg.reject[i].share_ppm)
			return s->cfg.reject[i].code;
		r -= s->cfg.reject[i].share_ppm;
	}
	return s->cfg.reject[s->cfg.reject_n - 1].code;
}

static void on_ring(void *arg)
{
	struct uas_call *c = arg;
	c->t_ring = 0;
	if (c->state == S_RINGING)
		send_final(c, c->final_code);
}

/* Decides the outcome when the INVITE arrives, so the random draws happen
 * in arrival order whatever the ring delays are. */
static void decide(struct uas_call *c)
{
	struct uas *s = c->s;
	uint64_t r = sy_rng_below(&s->rng, 1000000);
	uint64_t ring_ns = sy_dist_sample(&s->cfg.ring, &s->rng);
	if (r < s->cfg.answer_ppm + (uint64_t)s->cfg.noanswer_ppm && r >= s->cfg.answer_ppm) {
		c->state = S_NOANSWER;
		arm(c, &c->t_guard, s->cfg.noanswer_timeout_ns, on_guard);
		return;
	}
	c->final_code = (uint16_t)(r < s->cfg.answer_ppm ? 200 : pick_reject(s));
	c->state = S_RINGING;
	arm(c, &c->t_ring, ring_ns, on_ring);
}

/* A free call: the last one freed (LIFO, as the array's free list was), else
 * a fresh slot; NULL when no slab can be had. The caller has checked that
 * fewer than calls_max are live. */
static struct uas_call *call_take(struct uas *s)
{
	if (s->free_head != NO_SLOT) {
		struct uas_call *c = sy_pool_at(&s->calls, s->free_head);
		s->free_head = c->next_free;
		return c;
	}
	uint32_t i;
	struct uas_call *c = sy_pool_grow(&s->calls, &i);
	if (c == NULL) /* out of memory for a new slab */
		return NULL;
	c->s = s;
	c->slot = i;
	c->hdr = c->inl;
	return c;
}

static void call_put_back(struct uas *s, struct uas_call *c)
{
	hdr_free(c);
	c->next_free = s->free_head;
	s->free_head = c->slot;
}

static void on_new_invite(struct uas *s, const struct sip_ua_msg *m, const struct sy_addr *from)
{
	s->st.invites++;
	struct uas_call *c = NULL;
	if (s->st.active >= s->cfg.capacity || s->st.active >= s->cfg.calls_max || (c = call_take(s)) == NULL) {
		s->st.overload++;
		s->st.rejected++;
		s->st.rejected_code[503]++;
		respond(s, m, from, 503);
		return;
	}
	SY_ASSERT(c->state == S_FREE);
	if (!keep_invite(c, m)) {
		call_put_back(s, c);
		s->st.rx_bad++;
		respond(s, m, from, 500);
		return;
	}
	s->st.active++;
	c->peer = *from;
	c->tag_no = ++s->tag_seq;
	sy_htab_insert(&s->by_cid, &c->node, kept(c, F_CID));
	send_invite_resp(c, 100);
	send_invite_resp(c, s->cfg.early_media ? 183 : 180);
	decide(c);
}

/* ---- receiving ---- */

static struct uas_call *find(struct uas *s, struct sy_str cid)
{
	struct sy_hnode *n = sy_htab_find(&s->by_cid, cid);
	return n ? SY_CONTAINER_OF(n, struct uas_call, node) : NULL;
}

static void on_invite(struct uas *s, const struct sip_ua_msg *m, const struct sy_addr *from)
{
	struct uas_call *c = find(s, m->call_id);
	if (c == NULL) {
		on_new_invite(s, m, from);
	} else if (m->cseq == c->cseq) {
		s->st.invite_retx++;
		send_invite_resp(c, c->last_code); /* absorb: say again what we said last */
	} else {
		respond_ex(s, m, from, 200, true); /* re-INVITE: accept, media unchanged */
	}
}

static void on_cancel(struct uas *s, const struct sip_ua_msg *m, const struct sy_addr *from)
{
	struct uas_call *c = find(s, m->call_id);
	if (c == NULL || m->cseq != c->cseq) {
		respond(s, m, from, 481);
		return;
	}
	respond(s, m, from, 200);
	if (c->state == S_RINGING || c->state == S_NOANSWER) {
		s->st.cancelled++;
		sy_env_timer_cancel(s->env, c->t_ring);
		c->t_ring = 0;
		send_final(c, 487);
	}
}

static void on_ack(struct uas *s, const struct sip_ua_msg *m)
{
	struct uas_call *c = find(s, m->call_id);
	if (c == NULL || m->cseq != c->cseq)
		return; /* an ACK for a 2xx we already saw ACKed, or stray */
	if (c->state == S_ANSWERED) {
		s->st.acks++;
		c->state = S_CONFIRMED;
		sy_env_timer_cancel(s->env, c->t_retx);
		sy_env_timer_cancel(s->env, c->t_guard);
		c->t_retx = c->t_guard = 0;
	} else if (c->state == S_REJECTED) {
		s->st.acks++;
		call_free(c);
	}
}

static void on_bye(struct uas *s, const struct sip_ua_msg *m, const struct sy_addr *from)
{
	struct uas_call *c = find(s, m->call_id);
	if (c != NULL && (c->state == S_ANSWERED || c->state == S_CONFIRMED)) {
		s->st.byes++;
		respond(s, m, from, 200);
		call_free(c);
	} else if (c == NULL && recently_closed(s, m->call_id)) {
		respond(s, m, from, 200); /* our 200 was lost; the BYE came again */
	} else {
		s->st.bye_unknown++;
		respond(s, m, from, 481);
	}
}

static void on_update(struct uas *s, const struct sip_ua_msg *m, const struct sy_addr *from)
{
	struct uas_call *c = find(s, m->call_id);
	respond(s, m, from, c != NULL && (c->state == S_ANSWERED || c->state == S_CONFIRMED) ? 200 : 481);
}

static void on_recv(void *arg, struct sy_dgram *sock, const struct sy_addr *from, const uint8_t *buf, size_t len)
{
	struct uas *s = arg;
	struct sip_ua_msg m;
	if (sip_ua_parse((const char *)buf, len, &m) != SY_OK) {
		s->st.rx_bad++;
		return;
	}
	if (!m.is_request)
		return; /* responses to our rare BYE need no handling */
	if (sy_str_ieq(m.method, SY_STR("INVITE")))
		on_invite(s, &m, from);
	else if (sy_str_ieq(m.method, SY_STR("ACK")))
		on_ack(s, &m);
	else if (sy_str_ieq(m.method, SY_STR("BYE")))
		on_bye(s, &m, from);
	else if (sy_str_ieq(m.method, SY_STR("CANCEL")))
		on_cancel(s, &m, from);
	else if (sy_str_ieq(m.method, SY_STR("OPTIONS")))
		respond(s, &m, from, 200);
	else if (sy_str_ieq(m.method, SY_STR("UPDATE"))) /* a session refresh */
		on_update(s, &m, from);
	else
		respond(s, &m, from, 501);
}
