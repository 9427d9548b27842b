/* uac.c: the calling-side peer population. Each call lives in a pool slot;
 * the Call-ID carries (call number, slot), so a response finds its call in
 * O(1) without a hash table. ACKs and answers to BYE are built from the
 * received message, so late retransmissions are handled after a call is
 * gone. Messages are rebuilt on retransmission instead of kept per call. */
#include "uac.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/pool.h"
#include "core/sip/wire.h"

enum { C_FREE = 0, C_CALLING, C_PROCEEDING, C_CANCELLING, C_UP, C_BYE };

struct uac_call {
	struct uac *u;
	uint64_t call_no;
	uint32_t slot, next_free;
	uint8_t state;
	bool pdd_done, timed_out, hold_set;
	uint8_t to_tag_len, contact_len;
	uint64_t hold_ns; /* drawn at the start when a start hook is set */
	uint64_t invite_ns, pdd_ns, setup_ns, retx_ns;
	int status;
	sy_timer_id t_retx, t_guard;
	char dest[UAC_NUM_MAX], from[UAC_NUM_MAX];
	char to_tag[64];
	char contact[128];
};

struct uac {
	const struct sy_env *env;
	struct uac_cfg cfg;
	struct sy_rng rng;
	struct sy_dgram *sock;
	char host[SY_ADDR_STRLEN];	  /* our sent-by, "ip:port" */
	char target_host[SY_ADDR_STRLEN]; /* the switch, "ip:port" */
	char ip[SY_ADDR_STRLEN];	  /* bare, for SDP */
	uint64_t weight_total;
	struct sy_pool calls; /* slabs taken as concurrency grows, not calls_max up front */
	uint32_t free_head;   /* a freed call's slot, or NO_SLOT: take a fresh one */
	uint64_t call_seq, next_arrival_ns;
	sy_timer_id t_arrival;
	bool started, stopping;
	struct uac_stats st;
	uac_call_done_fn done_fn;
	void *done_arg;
	uac_call_start_fn start_fn;
	void *start_arg;
	char buf[4096];
	char tmp[4][160];
};

#define NO_SLOT UINT32_MAX

static void on_recv(void *arg, struct sy_dgram *sock, const struct sy_addr *from, const uint8_t *buf, size_t len);
static void send_invite(struct uac_call *c);
static void send_bye(struct uac_call *c);

/* ---- creation ---- */

static bool name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
		      ch == '.' || ch == '_'))
			return false;
	}
	return true;
}

static bool cfg_ok(const struct uac_cfg *c)
{
	if (c->cps_milli == 0 || c->calls_max == 0 || c->dest_n == 0 || c->dest_n > UAC_DEST_MAX)
		return false;
	if (!name_ok(c->name) || strlen(c->from_pattern) >= 32)
		return false;
	for (size_t i = 0; i < c->dest_n; i++)
		if (c->dest[i].pattern == NULL || strlen(c->dest[i].pattern) >= 32)
			return false;
	return true;
}

enum sy_rc uac_create(const struct sy_env *env, const struct uac_cfg *cfg, struct uac **out)
{
	struct uac *u = calloc(1, sizeof(*u));
	if (u == NULL)
		return SY_ERR_NOMEM;
	u->env = env;
	u->cfg = *cfg;
	if (u->cfg.name == NULL)
		u->cfg.name = "uac";
	if (u->cfg.from_pattern == NULL)
		u->cfg.from_pattern = "+1555XXXXXXX";
	if (u->cfg.t1_ns == 0)
		u->cfg.t1_ns = 500 * SY_NS_PER_MS;
	enum sy_rc rc = SY_ERR_INVAL;
	if (!cfg_ok(&u->cfg))
		goto out_free;
	for (size_t i = 0; i < u->cfg.dest_n; i++)
		u->weight_total += u->cfg.dest[i].weight_ppm;
	rc = SY_ERR_NOMEM;
	u->free_head = NO_SLOT;
	if (sy_pool_init(&u->calls, sizeof(struct uac_call), u->cfg.calls_max) != SY_OK)
		goto out_free;
	sy_rng_init_split(&u->rng, sy_env_seed(env), "uac", u->cfg.index);
	sy_hist_init(&u->st.pdd);
	sy_hist_init(&u->st.setup);
	rc = sy_env_dgram_open(env, &u->cfg.local, on_recv, u, &u->sock);
	if (rc != SY_OK)
		goto out_free_calls;
	struct sy_addr local;
	sy_env_dgram_local(env, u->sock, &local);
	sy_addr_fmt(&local, u->host, sizeof(u->host));
	sy_addr_fmt_host(&local, u->ip, sizeof(u->ip));
	sy_addr_fmt(&u->cfg.target, u->target_host, sizeof(u->target_host));
	*out = u;
	return SY_OK;
out_free_calls:
	sy_pool_free(&u->calls);
out_free:
	free(u);
	return rc;
}

void uac_on_call_done(struct uac *u, uac_call_done_fn fn, void *arg)
{
	u->done_fn = fn;
	u->done_arg = arg;
}

void uac_on_call_start(struct uac *u, uac_call_start_fn fn, void *arg)
{
	u->start_fn = fn;
	u->start_arg = arg;
}

const struct uac_stats *uac_stats(const struct uac *u)
{
	return &u->st;
}

void uac_destroy(struct uac *u)
{
	if (u == NULL)
		return;
	sy_env_timer_cancel(u->env, u->t_arrival);
	for (uint32_t i = 0; i < sy_pool_used(&u->calls); i++) {
		struct uac_call *c = sy_pool_at(&u->calls, i);
		sy_env_timer_cancel(u->env, c->t_retx);
		sy_env_timer_cancel(u->env, c->t_guard);
	}
	sy_env_dgram_close(u->env, u->sock);
	sy_pool_free(&u->calls);
	free(u);
}

/* ---- sending ---- */

static void send_buf(struct uac *u, const struct sy_addr *to, size_t len)
{
	if (sy_env_dgram_send(u->env, u->sock, to, u->buf, len) != SY_OK)
		SY_LOG(u->env, SY_LOG_DEBUG, "uac %s: send failed", u->cfg.name);
}

static struct sy_str tmp_done(struct uac *u, int i, int w)
{
	SY_ASSERT(w > 0 && (size_t)w < sizeof(u->tmp[i]));
	return (struct sy_str){u->tmp[i], (size_t)w};
}

/* The fields every request of call c shares; they point into u->tmp. */
static void req_base(struct uac_call *c, struct sip_ua_req *r, const char *method, const char *br)
{
	struct uac *u = c->u;
	unsigned long long no = (unsigned long long)c->call_no;
	memset(r, 0, sizeof(*r));
	r->method = sy_str_from(method);
	r->via_host = sy_str_from(u->host);
	r->branch = tmp_done(u, 0, snprintf(u->tmp[0], sizeof(u->tmp[0]), "z9hG4bK-%s-%s%llu", u->cfg.name, br, no));
	r->from = tmp_done(u, 1, snprintf(u->tmp[1], sizeof(u->tmp[1]), "<sip:%s@%s>", c->from, u->host));
	r->from_tag = tmp_done(u, 2, snprintf(u->tmp[2], sizeof(u->tmp[2]), "f%llu", no));
	r->to = tmp_done(u, 3, snprintf(u->tmp[3], sizeof(u->tmp[3]), "<sip:%s@%s>", c->dest, u->target_host));
	r->cseq = 1;
}

static struct sy_str call_id(struct uac_call *c, char *buf, size_t n)
{
	int w = snprintf(buf, n, "%llu-%u@%s", (unsigned long long)c->call_no, c->slot, c->u->cfg.name);
	return (struct sy_str){buf, (size_t)w};
}

static void send_invite(struct uac_call *c)
{
	struct uac *u = c->u;
	struct sip_ua_req r;
	char cid[64], ruri[96], contact[96], sdp[512];
	req_base(c, &r, "INVITE", "i");
	r.call_id = call_id(c, cid, sizeof(cid));
	snprintf(ruri, sizeof(ruri), "sip:%s@%s", c->dest, u->target_host);
	snprintf(contact, sizeof(contact), "sip:%s@%s", c->from, u->host);
	r.ruri = sy_str_from(ruri);
	r.contact = sy_str_from(contact);
	uint16_t port = (uint16_t)(10000 + 2 * (c->call_no % 20000));
	r.body = (struct sy_str){
	    sdp, sip_ua_sdp(sdp, sizeof(sdp), u->ip, u->cfg.local.family == SY_AF_INET6, port, c->call_no)};
	size_t len;
	if (sip_ua_request(&r, u->buf, sizeof(u->buf), &len) == SY_OK)
		send_buf(u, &u->cfg.target, len);
}

/* BYE or CANCEL within call c. */
static void send_in_call(struct uac_call *c, const char *method)
{
	struct uac *u = c->u;
	struct sip_ua_req r;
	char cid[64], ruri[160];
	bool bye = method[0] == 'B';
	req_base(c, &r, method, bye ? "b" : "i");
	r.call_id = call_id(c, cid, sizeof(cid));
	if (bye && c->contact_len > 0)
		snprintf(ruri, sizeof(ruri), "%.*s", (int)c->contact_len, c->contact);
	else
		snprintf(ruri, sizeof(ruri), "sip:%s@%s", c->dest, u->target_host);
	r.ruri = sy_str_from(ruri);
	r.to_tag = bye ? (struct sy_str){c->to_tag, c->to_tag_len} : SY_STR_NULL;
	r.cseq = bye ? 2 : 1;
	size_t len;
	if (sip_ua_request(&r, u->buf, sizeof(u->buf), &len) == SY_OK)
		send_buf(u, &u->cfg.target, len);
}

/* The ACK for an INVITE response, built from the response alone: for a
 * non-2xx it belongs to the INVITE transaction (same branch, R-URI of the
 * INVITE, which our To carries); for a 2xx it is a new transaction to the
 * Contact. call_no comes from the Call-ID, so no call state is needed. */
static void send_ack(struct uac *u, const struct sip_ua_msg *m, uint64_t call_no)
{
	struct sip_ua_req r;
	char br[96];
	memset(&r, 0, sizeof(r));
	bool ok = m->status < 300;
	r.method = SY_STR("ACK");
	r.ruri = ok && m->contact_uri.len ? m->contact_uri : sip_raw_uri_of(m->to);
	r.via_host = sy_str_from(u->host);
	int w = snprintf(br, sizeof(br), "z9hG4bK-%s-a%llu", u->cfg.name, (unsigned long long)call_no);
	r.branch = ok ? (struct sy_str){br, (size_t)w} : m->branch;
	r.from = m->from;
	r.to = m->to;
	r.call_id = m->call_id;
	r.cseq = m->cseq;
	size_t len;
	if (sip_ua_request(&r, u->buf, sizeof(u->buf), &len) == SY_OK) {
		send_buf(u, &u->cfg.target, len);
		u->st.acks++;
	}
}

static void respond(struct uac *u, const struct sip_ua_msg *m, const struct sy_addr *to, int status)
{
	struct sip_ua_resp r;
	char tag[32];
	sip_ua_resp_from_msg(&r, m, status);
	int w = snprintf(tag, sizeof(tag), "u%llu", (unsigned long long)u->call_seq);
	r.to_tag = (struct sy_str){tag, (size_t)w};
	size_t len;
	if (sip_ua_response(&r, u->buf, sizeof(u->buf), &len) == SY_OK)
		send_buf(u, to, len);
}

/* ---- call lifecycle ---- */

static void call_release(struct uac_call *c, bool bye_ok)
{
	struct uac *u = c->u;
	sy_env_timer_cancel(u->env, c->t_retx);
	sy_env_timer_cancel(u->env, c->t_guard);
	c->t_retx = c->t_guard = 0;
	struct uac_call_result res = {
	    .call_no = c->call_no,
	    .status = c->status,
	    .timeout = c->timed_out,
	    .start_ns = c->invite_ns,
	    .pdd_ns = c->pdd_ns,
	    .setup_ns = c->setup_ns,
	    .end_ns = sy_env_now_ns(u->env),
	    .bye_ok = bye_ok,
	};
	c->state = C_FREE;
	c->call_no = 0;
	c->next_free = u->free_head;
	u->free_head = c->slot;
	u->st.active--;
	if (u->done_fn)
		u->done_fn(u->done_arg, &res);
}

static void on_retx(void *arg)
{
	struct uac_call *c = arg;
	struct uac *u = c->u;
	uint64_t t2 = 8 * u->cfg.t1_ns;
	c->t_retx = 0;
	if (c->state == C_CALLING) {
		send_invite(c);
	} else if (c->state == C_BYE) {
		send_bye(c);
	} else if (c->state == C_CANCELLING) {
		send_in_call(c, "CANCEL");
	} else {
		return;
	}
	u->st.retransmits++;
	/* INVITE (timer A) doubles without bound; non-INVITE (timer E) caps at T2. */
	c->retx_ns = c->state == C_CALLING ? 2 * c->retx_ns : SY_MIN(2 * c->retx_ns, t2);
	c->t_retx = sy_env_timer_start(u->env, c->retx_ns, on_retx, c);
}

static void start_retx(struct uac_call *c)
{
	struct uac *u = c->u;
	sy_env_timer_cancel(u->env, c->t_retx);
	sy_env_timer_cancel(u->env, c->t_guard);
	c->retx_ns = u->cfg.t1_ns;
	c->t_retx = sy_env_timer_start(u->env, c->retx_ns, on_retx, c);
	c->t_guard = 0;
}

static void on_guard(void *arg);

static void arm_guard(struct uac_call *c, uint64_t delay_ns)
{
	sy_env_timer_cancel(c->u->env, c->t_guard);
	c->t_guard = sy_env_timer_start(c->u->env, delay_ns, on_guard, c);
}

static void send_bye(struct uac_call *c)
{
	send_in_call(c, "BYE");
}

static void start_bye(struct uac_call *c)
{
	c->state = C_BYE;
	send_bye(c);
	start_retx(c);
	arm_guard(c, 64 * c->u->cfg.t1_ns); /* timer F */
}

static void on_guard(void *arg)
{
	struct uac_call *c = arg;
	struct uac *u = c->u;
	c->t_guard = 0;
	switch (c->state) {
	case C_CALLING: /* timer B: nothing came back */
	case C_CANCELLING:
		c->status = 408;
		c->timed_out = true;
		u->st.timeouts++;
		call_release(c, false);
		break;
	case C_PROCEEDING: /* rang too long: CANCEL it */
		c->state = C_CANCELLING;
		send_in_call(c, "CANCEL");
		start_retx(c);
		arm_guard(c, 64 * u->cfg.t1_ns);
		break;
	case C_UP: /* hold time over */
		if (u->cfg.bye_loss_ppm != 0 && sy_rng_below(&u->rng, 1000000) < u->cfg.bye_loss_ppm) {
			u->st.bye_failed++; /* every copy of the BYE lost: the caller gives up */
			call_release(c, false);
			break;
		}
		start_bye(c);
		break;
	case C_BYE: /* timer F */
		u->st.bye_failed++;
		call_release(c, false);
		break;
	default:
		break;
	}
}

/* ---- arrivals ---- */

static void expand(struct uac *u, const char *pat, char *out, size_t n)
{
	size_t i = 0;
	for (; pat[i] != '\0' && i + 1 < n; i++) {
		char ch = pat[i];
		if (ch == 'X')
			ch = (char)('0' + sy_rng_below(&u->rng, 10));
		else if (ch == 'N')
			ch = (char)('2' + sy_rng_below(&u->rng, 8));
		out[i] = ch;
	}
	out[i] = '\0';
}

static const char *pick_dest(struct uac *u)
{
	if (u->weight_total == 0)
		return u->cfg.dest[0].pattern;
	uint64_t r = sy_rng_below(&u->rng, u->weight_total);
	for (size_t i = 0; i < u->cfg.dest_n; i++) {
		if (r < u->cfg.dest[i].weight_ppm)
			return u->cfg.dest[i].pattern;
		r -= u->cfg.dest[i].weight_ppm;
	}
	return u->cfg.dest[u->cfg.dest_n - 1].pattern;
}

/* The start hook: the hold is drawn now so the hook knows it. */
static void call_hook(struct uac_call *c)
{
	struct uac *u = c->u;
	char cid[64];
	struct uac_call_info ci = {
	    .call_id = call_id(c, cid, sizeof(cid)),
	    .from = c->from,
	    .dest = c->dest,
	    .hold_ns = sy_dist_sample(&u->cfg.hold, &u->rng),
	    .start_ns = c->invite_ns,
	};
	u->start_fn(u->start_arg, &ci);
	c->hold_ns = ci.hold_ns;
	c->from[sizeof(c->from) - 1] = c->dest[sizeof(c->dest) - 1] = '\0';
}

/* A free call: the last one freed (LIFO, as the array's free list was), else
 * a fresh slot; NULL when calls_max are live or no slab can be had. */
static struct uac_call *call_take(struct uac *u)
{
	if (u->free_head != NO_SLOT) {
		struct uac_call *c = sy_pool_at(&u->calls, u->free_head);
		u->free_head = c->next_free;
		return c;
	}
	uint32_t i;
	struct uac_call *c = sy_pool_grow(&u->calls, &i);
	if (c == NULL)
		return NULL;
	c->u = u;
	c->slot = i;
	return c;
}

static void call_start(struct uac *u)
{
	u->st.attempted++;
	u->call_seq++;
	struct uac_call *c = call_take(u);
	if (c == NULL) {
		u->st.attempted--;
		u->st.skipped++;
		return;
	}
	SY_ASSERT(c->state == C_FREE);
	c->call_no = u->call_seq;
	c->pdd_done = c->timed_out = false;
	c->to_tag_len = c->contact_len = 0;
	c->pdd_ns = c->setup_ns = 0;
	c->status = 0;
	c->invite_ns = sy_env_now_ns(u->env);
	expand(u, pick_dest(u), c->dest, sizeof(c->dest));
	expand(u, u->cfg.from_pattern, c->from, sizeof(c->from));
	c->hold_set = u->start_fn != NULL;
	if (c->hold_set)
		call_hook(c);
	c->state = C_CALLING;
	u->st.active++;
	send_invite(c);
	start_retx(c);
	arm_guard(c, 64 * u->cfg.t1_ns); /* timer B */
}

static bool arrivals_over(const struct uac *u)
{
	return u->stopping || (u->cfg.max_calls != 0 && u->st.attempted + u->st.skipped >= u->cfg.max_calls);
}

static void on_arrival(void *arg);

/* Draws the next arrival; false when it falls after stop. */
static bool next_arrival(struct uac *u)
{
	double mean_ns = 1e12 / (double)u->cfg.cps_milli;
	u->next_arrival_ns += (uint64_t)(sy_rng_exp(&u->rng, mean_ns) + 0.5);
	return u->cfg.stop_ns == 0 || u->next_arrival_ns < u->cfg.stop_ns;
}

static void schedule_arrival(struct uac *u)
{
	uint64_t now = sy_env_now_ns(u->env);
	u->t_arrival =
	    sy_env_timer_start(u->env, u->next_arrival_ns > now ? u->next_arrival_ns - now : 0, on_arrival, u);
}

/* Starts the call due now and every one already overdue (a live timer
 * fires late, by its slack or a busy loop), so a burst costs one wakeup and
 * one batch of sends, not one each. In the simulator a timer fires on time:
 * an arrival is never strictly before now, and this starts one call, as
 * before (an arrival at exactly now still waits for its own timer). */
static void on_arrival(void *arg)
{
	struct uac *u = arg;
	uint64_t now = sy_env_now_ns(u->env);
	u->t_arrival = 0;
	do {
		if (arrivals_over(u))
			return;
		call_start(u);
		if (arrivals_over(u) || !next_arrival(u))
			return;
	} while (u->next_arrival_ns < now);
	schedule_arrival(u);
}

void uac_start(struct uac *u)
{
	SY_ASSERT(!u->started);
	u->started = true;
	uint64_t now = sy_env_now_ns(u->env);
	/* Offsets are relative to this moment; keep them absolute from here on. */
	if (u->cfg.stop_ns != 0)
		u->cfg.stop_ns += now;
	u->next_arrival_ns = now + u->cfg.start_ns;
	if (next_arrival(u))
		schedule_arrival(u);
}

void uac_stop_and_hangup(struct uac *u)
{
	u->stopping = true;
	sy_env_timer_cancel(u->env, u->t_arrival);
	u->t_arrival = 0;
	for (uint32_t i = 0; i < sy_pool_used(&u->calls); i++) {
		struct uac_call *c = sy_pool_at(&u->calls, i);
		if (c->state == C_UP)
			start_bye(c);
	}
}

/* ---- receiving ---- */

/* Parses "N-S@name"; the call number is returned even when the call is gone. */
static struct uac_call *find_call(struct uac *u, struct sy_str cid, uint64_t *call_no)
{
	uint64_t s;
	if (!sip_ua_cid_parse(cid, u->cfg.name, call_no, &s))
		return NULL;
	if (s >= sy_pool_used(&u->calls))
		return NULL;
	struct uac_call *c = sy_pool_at(&u->calls, (uint32_t)s);
	if (c->call_no != *call_no || c->state == C_FREE)
		return NULL;
	return c;
}

static void record_pdd(struct uac_call *c)
{
	if (c->pdd_done)
		return;
	c->pdd_done = true;
	c->pdd_ns = sy_env_now_ns(c->u->env) - c->invite_ns;
	sy_hist_add(&c->u->st.pdd, c->pdd_ns);
}

static void copy_slice(char *dst, uint8_t *dst_len, size_t cap, struct sy_str s)
{
	size_t n = SY_MIN(s.len, cap);
	if (n)
		memcpy(dst, s.p, n);
	*dst_len = (uint8_t)n;
}

static void on_answer(struct uac_call *c, const struct sip_ua_msg *m)
{
	struct uac *u = c->u;
	uint64_t now = sy_env_now_ns(u->env);
	record_pdd(c);
	c->status = m->status;
	c->setup_ns = now - c->invite_ns;
	sy_hist_add(&u->st.setup, c->setup_ns);
	u->st.answered++;
	/* Longer values than the slots would not route back; they are cut and
	 * the BYE will fail visibly rather than crash. */
	copy_slice(c->to_tag, &c->to_tag_len, sizeof(c->to_tag), m->to_tag);
	copy_slice(c->contact, &c->contact_len, sizeof(c->contact), m->contact_uri);
	sy_env_timer_cancel(u->env, c->t_retx);
	c->t_retx = 0;
	c->state = C_UP;
	if (u->stopping)
		start_bye(c);
	else
		arm_guard(c, c->hold_set ? c->hold_ns : sy_dist_sample(&u->cfg.hold, &u->rng));
}

static void count_failure(struct uac *u, int status)
{
	static const int codes[UAC_CODE_N] = {404, 408, 480, 486, 487, 500, 503};
	u->st.failed++;
	u->st.failed_class[status / 100]++;
	for (int i = 0; i < UAC_CODE_N; i++)
		if (codes[i] == status)
			u->st.failed_code[i]++;
}

static void on_invite_response(struct uac *u, struct uac_call *c, const struct sip_ua_msg *m, uint64_t call_no)
{
	bool early = c != NULL && (c->state == C_CALLING || c->state == C_PROCEEDING || c->state == C_CANCELLING);
	if (m->status < 200) {
		if (!early)
			return;
		if (c->state == C_CALLING) {
			c->state = C_PROCEEDING;
			sy_env_timer_cancel(u->env, c->t_retx);
			sy_env_timer_cancel(u->env, c->t_guard);
			c->t_retx = c->t_guard = 0;
			if (u->cfg.ring_timeout_ns)
				arm_guard(c, u->cfg.ring_timeout_ns);
		}
		if (m->status == 180 || m->status == 183)
			record_pdd(c);
		return;
	}
	send_ack(u, m, call_no);
	if (!early)
		return; /* a retransmitted final: the ACK above is all it needs */
	if (m->status < 300) {
		on_answer(c, m);
		return;
	}
	record_pdd(c);
	c->status = m->status;
	count_failure(u, m->status);
	call_release(c, false);
}

static void on_response(struct uac *u, const struct sip_ua_msg *m)
{
	uint64_t call_no = 0;
	struct uac_call *c = find_call(u, m->call_id, &call_no);
	if (call_no == 0) {
		u->st.rx_bad++;
		return;
	}
	if (sy_str_ieq(m->cseq_method, SY_STR("INVITE"))) {
		on_invite_response(u, c, m, call_no);
	} else if (sy_str_ieq(m->cseq_method, SY_STR("BYE")) && c != NULL && c->state == C_BYE && m->status >= 200) {
		if (m->status < 300)
			u->st.completed++;
		else
			u->st.bye_failed++;
		call_release(c, m->status < 300);
	} else if (sy_str_ieq(m->cseq_method, SY_STR("CANCEL")) && c != NULL && c->state == C_CANCELLING) {
		sy_env_timer_cancel(u->env, c->t_retx); /* the 487 will follow */
		c->t_retx = 0;
	}
}

static void on_request(struct uac *u, const struct sip_ua_msg *m, const struct sy_addr *from)
{
	if (sy_str_ieq(m->method, SY_STR("ACK")))
		return;
	uint64_t call_no = 0;
	struct uac_call *c = find_call(u, m->call_id, &call_no);
	if (sy_str_ieq(m->method, SY_STR("UPDATE"))) { /* a session refresh */
		respond(u, m, from, c != NULL && c->state == C_UP ? 200 : 481);
		return;
	}
	if (!sy_str_ieq(m->method, SY_STR("BYE"))) {
		respond(u, m, from, 501);
		return;
	}
	/* A BYE for one of our Call-IDs whose call is gone is a retransmission
	 * whose 200 was lost: answer 200 again. */
	respond(u, m, from, call_no != 0 ? 200 : 481);
	if (c == NULL || (c->state != C_UP && c->state != C_BYE))
		return;
	u->st.remote_byes++;
	u->st.completed++;
	call_release(c, true);
}

static void on_recv(void *arg, struct sy_dgram *sock, const struct sy_addr *from, const uint8_t *buf, size_t len)
{
	struct uac *u = arg;
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
