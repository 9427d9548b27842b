/* esme.c: the SMPP application population. A message is a record with the
 * seed of its text, so parts are rebuilt on every (re)send instead of being
 * kept; each part is a segment record that outlives the message: it holds the
 * id the switch returned until the receipt, then is remembered (for duplicate
 * receipts) until the record is recycled for a new part. */
#include "esme.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/htab.h"
#include "core/rng.h"
#include "core/smpp/session.h"
#include "core/smpp/text.h"

#define NIL UINT32_MAX

enum { S_FREE = 0, S_QUEUED, S_INFLIGHT, S_ACCEPTED, S_DONE };

struct esme_seg {
	struct sy_hnode h; /* in e->ids while ACCEPTED or DONE */
	struct esme *e;
	uint32_t idx, next; /* next: free list, send queue or done FIFO */
	uint32_t msg;	    /* message slot while QUEUED or INFLIGHT */
	uint32_t gen;	    /* bumped on free; part of the send tag */
	uint8_t state, part, throttles;
	bool sent_once;
	uint64_t msg_no, first_sent_ns, last_sent_ns;
	char id[SMPP_MESSAGE_ID_MAX + 1];
};

struct esme_msg {
	uint64_t no, text_seed;
	uint32_t next_free;
	uint16_t chars, ref;
	uint8_t enc, nseg, answered, ok;
	bool sent_any;
	char src[SMPP_ADDR_MAX + 1], dst[SMPP_ADDR_MAX + 1];
};

struct esme_bind {
	struct esme *e;
	struct smpp_session *s; /* NULL while waiting to reconnect */
	bool bound, ever_bound;
	bool broken;	/* a send failed: the session is going away, on_close follows */
	uint32_t fails; /* consecutive failed connects or binds */
	sy_timer_id t_rebind;
};

struct esme {
	const struct sy_env *env;
	struct esme_cfg cfg;
	struct sy_rng rng;
	struct smpp_pool *pool;
	struct esme_bind binds[ESME_BINDS_MAX];
	uint32_t rr;
	struct esme_msg *msgs;
	uint32_t msg_max, msg_free;
	struct esme_seg *segs;
	uint32_t seg_free, q_head, q_tail, r_head, r_tail, done_head, done_tail;
	uint64_t live_segs; /* QUEUED or INFLIGHT */
	struct sy_htab ids;
	uint64_t weight_total, msg_seq, next_arrival_ns;
	sy_timer_id t_arrival;
	sy_timer_id t_pause; /* sending paused after ESME_RTHROTTLED */
	bool started, stopping, unbinding;
	char validity[SMPP_TIME_MAX + 1];
	struct esme_stats st;
	char utf8[ESME_TEXT_CHARS_MAX * 2 + 8];
	uint8_t text[ESME_TEXT_CHARS_MAX * 2 + 8];
	uint8_t sm[SMPP_SM_LEN_MAX];
};

static const struct smpp_sess_ops esme_ops;

/* ---- creation ---- */

static void cfg_defaults(struct esme_cfg *c)
{
	if (c->name == NULL)
		c->name = "esme";
	if (c->password == NULL)
		c->password = "";
	if (c->system_type == NULL)
		c->system_type = "";
	if (c->src_pattern == NULL)
		c->src_pattern = "1555XXXXXXX";
	c->binds = c->binds ? c->binds : 1;
	c->window = c->window ? c->window : 10;
	c->text_len_min = c->text_len_min ? c->text_len_min : 20;
	c->text_len_max = c->text_len_max >= c->text_len_min ? c->text_len_max : c->text_len_min;
	c->queue_max = c->queue_max ? c->queue_max : 1000;
	c->seg_max = c->seg_max ? c->seg_max : 65536;
	c->resp_timeout_ns = c->resp_timeout_ns ? c->resp_timeout_ns : 10 * SY_NS_PER_S;
	c->throttle_backoff_ns = c->throttle_backoff_ns ? c->throttle_backoff_ns : 200 * SY_NS_PER_MS;
	c->throttle_retries_max = c->throttle_retries_max ? c->throttle_retries_max : 50;
	c->rebind_min_ns = c->rebind_min_ns ? c->rebind_min_ns : 500 * SY_NS_PER_MS;
	c->rebind_max_ns = c->rebind_max_ns >= c->rebind_min_ns ? c->rebind_max_ns : 8 * SY_NS_PER_S;
	c->rebind_tries_max = c->rebind_tries_max ? c->rebind_tries_max : 20;
}

static bool cfg_ok(const struct esme_cfg *c)
{
	if (c->system_id == NULL || strlen(c->system_id) == 0 || strlen(c->system_id) > SMPP_SYSTEM_ID_MAX)
		return false;
	if (strlen(c->password) > SMPP_PASSWORD_MAX || strlen(c->system_type) > SMPP_SYSTEM_TYPE_MAX)
		return false;
	if (c->tps_milli == 0 || c->binds > ESME_BINDS_MAX || c->dest_n == 0 || c->dest_n > ESME_DEST_MAX)
		return false;
	if (c->text_len_max > ESME_TEXT_CHARS_MAX || c->ucs2_ppm > 1000000 || strlen(c->src_pattern) > SMPP_ADDR_MAX)
		return false;
	if (c->seg_max < ESME_SEG_MAX || c->validity_s >= 100u * 86400u)
		return false;
	for (size_t i = 0; i < c->dest_n; i++)
		if (c->dest[i].pattern == NULL || strlen(c->dest[i].pattern) > SMPP_ADDR_MAX)
			return false;
	return true;
}

/* Relative validity_period "YYMMDDhhmmss000R" (SMPP 3.4 §7.1.1.2). */
static void validity_fmt(uint32_t s, char out[SMPP_TIME_MAX + 1])
{
	out[0] = '\0';
	if (s == 0)
		return;
	char tmp[48];
	s = SY_MIN(s, 99u * 86400 - 1); /* two digits of days */
	snprintf(tmp, sizeof(tmp), "0000%02u%02u%02u%02u000R", s / 86400, s / 3600 % 24, s / 60 % 60, s % 60);
	memcpy(out, tmp, SMPP_TIME_MAX);
	out[SMPP_TIME_MAX] = '\0';
}

static enum sy_rc pools_alloc(struct esme *e)
{
	e->msg_max = e->cfg.queue_max + e->cfg.binds * e->cfg.window;
	e->msgs = calloc(e->msg_max, sizeof(*e->msgs));
	e->segs = calloc(e->cfg.seg_max, sizeof(*e->segs));
	if (e->msgs == NULL || e->segs == NULL || sy_htab_init(&e->ids, e->cfg.seg_max) != SY_OK)
		return SY_ERR_NOMEM;
	for (uint32_t i = 0; i < e->msg_max; i++)
		e->msgs[i].next_free = i + 1 < e->msg_max ? i + 1 : NIL;
	for (uint32_t i = 0; i < e->cfg.seg_max; i++)
		e->segs[i] =
		    (struct esme_seg){.e = e, .idx = i, .next = i + 1 < e->cfg.seg_max ? i + 1 : NIL, .msg = NIL};
	e->msg_free = e->seg_free = 0;
	e->q_head = e->q_tail = e->r_head = e->r_tail = e->done_head = e->done_tail = NIL;
	return SY_OK;
}

static enum sy_rc pool_make(struct esme *e)
{
	struct smpp_pool_cfg pc = {
	    .env = e->env,
	    .sess_max = 2 * e->cfg.binds,
	    .window = e->cfg.window,
	    .resp_timeout_ns = e->cfg.resp_timeout_ns,
	    .enquire_interval_ns = e->cfg.enquire_interval_ns,
	    .ops = &esme_ops,
	    .arg = e,
	};
	return smpp_pool_create(&pc, &e->pool);
}

enum sy_rc esme_create(const struct sy_env *env, const struct esme_cfg *cfg, struct esme **out)
{
	struct esme *e = calloc(1, sizeof(*e));
	if (e == NULL)
		return SY_ERR_NOMEM;
	e->env = env;
	e->cfg = *cfg;
	cfg_defaults(&e->cfg);
	enum sy_rc rc = SY_ERR_INVAL;
	if (!cfg_ok(&e->cfg))
		goto out_free;
	for (size_t i = 0; i < e->cfg.dest_n; i++)
		e->weight_total += e->cfg.dest[i].weight;
	validity_fmt(e->cfg.validity_s, e->validity);
	sy_rng_init_split(&e->rng, sy_env_seed(env), "esme", e->cfg.index);
	sy_hist_init(&e->st.submit_resp);
	sy_hist_init(&e->st.receipt);
	for (uint32_t i = 0; i < e->cfg.binds; i++)
		e->binds[i].e = e;
	rc = pools_alloc(e);
	if (rc != SY_OK)
		goto out_free;
	rc = pool_make(e);
	if (rc != SY_OK)
		goto out_free;
	*out = e;
	return SY_OK;
out_free:
	sy_htab_free(&e->ids);
	free(e->msgs);
	free(e->segs);
	free(e);
	return rc;
}

void esme_destroy(struct esme *e)
{
	if (e == NULL)
		return;
	sy_env_timer_cancel(e->env, e->t_arrival);
	for (uint32_t i = 0; i < e->cfg.binds; i++)
		sy_env_timer_cancel(e->env, e->binds[i].t_rebind);
	sy_env_timer_cancel(e->env, e->t_pause);
	smpp_pool_destroy(e->pool);
	sy_htab_free(&e->ids);
	free(e->msgs);
	free(e->segs);
	free(e);
}

const struct esme_stats *esme_stats(const struct esme *e)
{
	return &e->st;
}

uint32_t esme_bound(const struct esme *e)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < e->cfg.binds; i++)
		n += e->binds[i].bound;
	return n;
}

uint64_t esme_in_flight(const struct esme *e)
{
	return e->live_segs;
}

uint64_t esme_each_unreceipted(const struct esme *e, esme_id_fn fn, void *arg)
{
	uint64_t n = 0;
	for (uint32_t i = 0; i < e->cfg.seg_max; i++) {
		const struct esme_seg *g = &e->segs[i];
		if (g->state != S_ACCEPTED)
			continue;
		n++;
		if (fn != NULL)
			fn(arg, sy_str_from(g->id), g->msg_no, g->part);
	}
	return n;
}

/* ---- records ---- */

/* Two FIFOs of parts to send: retries (throttled, or cut off by a session
 * drop; kept in their send order) go before new parts. */
static void q_push(struct esme *e, struct esme_seg *g, bool retry)
{
	uint32_t *head = retry ? &e->r_head : &e->q_head, *tail = retry ? &e->r_tail : &e->q_tail;
	g->state = S_QUEUED;
	g->next = NIL;
	if (*head == NIL)
		*head = g->idx;
	else
		e->segs[*tail].next = g->idx;
	*tail = g->idx;
}

static void q_push_front(struct esme *e, struct esme_seg *g)
{
	g->state = S_QUEUED;
	g->next = e->r_head;
	e->r_head = g->idx;
	if (e->r_tail == NIL)
		e->r_tail = g->idx;
}

static struct esme_seg *q_pop(struct esme *e)
{
	bool retry = e->r_head != NIL;
	uint32_t *head = retry ? &e->r_head : &e->q_head, *tail = retry ? &e->r_tail : &e->q_tail;
	if (*head == NIL)
		return NULL;
	struct esme_seg *g = &e->segs[*head];
	*head = g->next;
	if (*head == NIL)
		*tail = NIL;
	g->next = NIL;
	return g;
}

static bool q_empty(const struct esme *e)
{
	return e->q_head == NIL && e->r_head == NIL;
}

static void done_push(struct esme *e, struct esme_seg *g)
{
	g->state = S_DONE;
	g->next = NIL;
	if (e->done_head == NIL)
		e->done_head = g->idx;
	else
		e->segs[e->done_tail].next = g->idx;
	e->done_tail = g->idx;
}

static void seg_free(struct esme *e, struct esme_seg *g)
{
	g->state = S_FREE;
	g->gen++;
	g->msg = NIL;
	g->next = e->seg_free;
	e->seg_free = g->idx;
}

/* A free record, else the oldest remembered one (its receipt came long ago). */
static struct esme_seg *seg_take(struct esme *e)
{
	struct esme_seg *g;
	if (e->seg_free != NIL) {
		g = &e->segs[e->seg_free];
		e->seg_free = g->next;
	} else if (e->done_head != NIL) {
		g = &e->segs[e->done_head];
		e->done_head = g->next;
		if (e->done_head == NIL)
			e->done_tail = NIL;
		sy_htab_remove(&e->ids, &g->h);
		g->gen++;
		e->st.seg_recycled++;
	} else {
		return NULL;
	}
	SY_ASSERT(g->state == S_FREE || g->state == S_DONE);
	g->next = NIL;
	g->throttles = 0;
	g->sent_once = false;
	g->id[0] = '\0';
	return g;
}

static void msg_free(struct esme *e, struct esme_msg *m)
{
	m->next_free = e->msg_free;
	e->msg_free = (uint32_t)(m - e->msgs);
}

/* One part of m got its final answer (accepted or not). */
static void msg_answer(struct esme *e, struct esme_seg *g, bool ok)
{
	SY_ASSERT(g->msg != NIL && e->live_segs > 0);
	struct esme_msg *m = &e->msgs[g->msg];
	g->msg = NIL;
	e->live_segs--;
	m->ok += ok;
	if (++m->answered < m->nseg)
		return;
	if (m->ok == m->nseg)
		e->st.msgs_accepted++;
	else
		e->st.msgs_failed++;
	msg_free(e, m);
}

/* ---- text ---- */

static const char gsm_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,!?";

/* Rebuilds m's text from its seed and encodes it into e->text; returns the
 * octets. GSM text is one septet per octet (as SMPP carries data_coding 0),
 * UCS2 text is Cyrillic (no GSM form, BMP only, so no pair ever splits). */
static size_t text_build(struct esme *e, const struct esme_msg *m)
{
	struct sy_rng r;
	size_t n = 0, len = 0, bad = 0;
	sy_rng_init(&r, m->text_seed);
	for (uint32_t i = 0; i < m->chars; i++) {
		if (m->enc == SMPP_ENC_GSM7) {
			e->utf8[n++] = gsm_chars[sy_rng_below(&r, sizeof(gsm_chars) - 1)];
			continue;
		}
		uint32_t cp = sy_rng_below(&r, 8) == 0 ? 0x20 : 0x430 + (uint32_t)sy_rng_below(&r, 32);
		if (cp < 0x80) {
			e->utf8[n++] = (char)cp;
		} else {
			e->utf8[n++] = (char)(0xC0 | (cp >> 6));
			e->utf8[n++] = (char)(0x80 | (cp & 0x3F));
		}
	}
	struct sy_str u = {e->utf8, n};
	enum sy_rc rc = m->enc == SMPP_ENC_GSM7 ? smpp_gsm_from_utf8(u, e->text, sizeof(e->text), &len, &bad)
						: smpp_ucs2_from_utf8(u, e->text, sizeof(e->text), &len);
	SY_ASSERT(rc == SY_OK && bad == 0);
	return len;
}

static size_t part_octets(enum smpp_text_enc enc)
{
	return enc == SMPP_ENC_GSM7 ? SMPP_GSM_SEG_MULTI : 2 * SMPP_UCS2_SEG_MULTI;
}

static size_t text_units(enum smpp_text_enc enc, size_t octets)
{
	return enc == SMPP_ENC_GSM7 ? octets : octets / 2;
}

/* ---- sending ---- */

static void expand(struct esme *e, const char *pat, char *out, size_t n)
{
	size_t i = 0;
	for (; pat[i] != '\0' && i + 1 < n; i++) {
		char ch = pat[i];
		if (ch == 'X')
			ch = (char)('0' + sy_rng_below(&e->rng, 10));
		else if (ch == 'N')
			ch = (char)('2' + sy_rng_below(&e->rng, 8));
		out[i] = ch;
	}
	out[i] = '\0';
}

static const char *pick_dest(struct esme *e)
{
	if (e->weight_total == 0)
		return e->cfg.dest[0].pattern;
	uint64_t r = sy_rng_below(&e->rng, e->weight_total);
	for (size_t i = 0; i < e->cfg.dest_n; i++) {
		if (r < e->cfg.dest[i].weight)
			return e->cfg.dest[i].pattern;
		r -= e->cfg.dest[i].weight;
	}
	return e->cfg.dest[e->cfg.dest_n - 1].pattern;
}

/* Fills pdu with part g->part of its message; short_message points into e->sm. */
static void submit_build(struct esme *e, const struct esme_seg *g, struct smpp_pdu *pdu)
{
	const struct esme_msg *m = &e->msgs[g->msg];
	size_t len = text_build(e, m), udh = 0;
	smpp_pdu_init(pdu, SMPP_SUBMIT_SM, 0);
	pdu->src = (struct smpp_addr){SMPP_TON_INTERNATIONAL, SMPP_NPI_E164, sy_str_from(m->src)};
	pdu->dst = (struct smpp_addr){SMPP_TON_INTERNATIONAL, SMPP_NPI_E164, sy_str_from(m->dst)};
	pdu->registered_delivery = e->cfg.registered_delivery ? SMPP_REGDLV_SMSC_ALWAYS : SMPP_REGDLV_SMSC_NONE;
	pdu->data_coding = m->enc == SMPP_ENC_UCS2 ? SMPP_DC_UCS2 : SMPP_DC_DEFAULT;
	pdu->validity_period = sy_str_from(e->validity);
	size_t off = 0, n = len;
	if (m->nseg > 1) {
		struct smpp_concat c = {.ref = (uint16_t)(m->ref & 0xFF), .total = m->nseg, .seq = g->part};
		enum sy_rc rc = smpp_udh_build(&c, e->sm, sizeof(e->sm), &udh);
		SY_ASSERT(rc == SY_OK);
		pdu->esm_class = SMPP_ESM_UDHI;
		off = (size_t)(g->part - 1) * part_octets(m->enc);
		n = len - off < part_octets(m->enc) ? len - off : part_octets(m->enc);
	}
	SY_ASSERT(off <= len && udh + n <= sizeof(e->sm));
	memcpy(e->sm + udh, e->text + off, n);
	pdu->short_message = (struct sy_str){(const char *)e->sm, udh + n};
}

static uint64_t seg_tag(const struct esme_seg *g)
{
	return (uint64_t)g->gen << 32 | g->idx;
}

static enum sy_rc seg_send(struct esme *e, struct esme_bind *b, struct esme_seg *g)
{
	struct smpp_pdu pdu;
	submit_build(e, g, &pdu);
	enum sy_rc rc = smpp_session_send(b->s, &pdu, seg_tag(g), NULL);
	if (rc != SY_OK)
		return rc;
	struct esme_msg *m = &e->msgs[g->msg];
	uint64_t now = sy_env_now_ns(e->env);
	g->state = S_INFLIGHT;
	g->last_sent_ns = now;
	if (g->sent_once) {
		e->st.segs_resubmitted++;
	} else {
		g->sent_once = true;
		g->first_sent_ns = now;
		e->st.segs_submitted++;
	}
	if (!m->sent_any) {
		m->sent_any = true;
		e->st.msgs_submitted++;
		e->st.msgs_multipart += m->nseg > 1;
	}
	return SY_OK;
}

static struct esme_bind *bind_ready(struct esme *e)
{
	for (uint32_t k = 0; k < e->cfg.binds; k++) {
		uint32_t i = (e->rr + k) % e->cfg.binds;
		struct esme_bind *b = &e->binds[i];
		if (b->bound && !b->broken && smpp_session_outstanding(b->s) < e->cfg.window) {
			e->rr = (i + 1) % e->cfg.binds;
			return b;
		}
	}
	return NULL;
}

/* Sends queued parts while some bind has a free window slot. */
static void pump(struct esme *e)
{
	struct esme_bind *b;
	while (!q_empty(e) && e->t_pause == 0 && (b = bind_ready(e)) != NULL) {
		struct esme_seg *g = q_pop(e);
		enum sy_rc rc = seg_send(e, b, g);
		if (rc == SY_OK)
			continue;
		/* Not bound any more, or the write failed: the session is going
		 * away and its on_close will follow. */
		SY_ASSERT(rc != SY_ERR_INVAL);
		q_push_front(e, g);
		b->broken = true;
	}
}

/* ---- arrivals ---- */

struct arrival {
	char src[SMPP_ADDR_MAX + 1], dst[SMPP_ADDR_MAX + 1];
	uint64_t text_seed;
	uint32_t chars;
	bool ucs2;
};

/* Every draw happens whether or not the message is then skipped, so the
 * stream (and the texts) do not depend on how the switch keeps up. */
static void arrival_draw(struct esme *e, struct arrival *a)
{
	expand(e, pick_dest(e), a->dst, sizeof(a->dst));
	expand(e, e->cfg.src_pattern, a->src, sizeof(a->src));
	a->ucs2 = sy_rng_chance_ppm(&e->rng, e->cfg.ucs2_ppm);
	a->chars = (uint32_t)sy_rng_range(&e->rng, e->cfg.text_len_min, e->cfg.text_len_max);
	a->text_seed = sy_rng_next(&e->rng);
}

static bool msg_segs_take(struct esme *e, struct esme_msg *m, uint32_t mi)
{
	struct esme_seg *got[ESME_SEG_MAX];
	uint32_t n = 0;
	for (; n < m->nseg; n++) {
		got[n] = seg_take(e);
		if (got[n] == NULL)
			break;
	}
	if (n < m->nseg) {
		while (n > 0)
			seg_free(e, got[--n]);
		return false;
	}
	for (uint32_t i = 0; i < n; i++) {
		got[i]->msg = mi;
		got[i]->msg_no = m->no;
		got[i]->part = (uint8_t)(i + 1);
		q_push(e, got[i], false);
	}
	e->live_segs += n;
	return true;
}

static void msg_arrive(struct esme *e)
{
	struct arrival a;
	arrival_draw(e, &a);
	e->st.arrivals++;
	e->msg_seq++;
	if (e->msg_free == NIL) {
		e->st.skipped++;
		return;
	}
	uint32_t mi = e->msg_free;
	struct esme_msg *m = &e->msgs[mi];
	e->msg_free = m->next_free;
	*m = (struct esme_msg){.no = e->msg_seq, .text_seed = a.text_seed, .chars = (uint16_t)a.chars};
	m->ref = (uint16_t)(e->msg_seq & 0xFF);
	m->enc = a.ucs2 ? SMPP_ENC_UCS2 : SMPP_ENC_GSM7;
	memcpy(m->src, a.src, sizeof(m->src));
	memcpy(m->dst, a.dst, sizeof(m->dst));
	size_t octets = text_build(e, m);
	m->nseg = (uint8_t)smpp_segments_for_units((enum smpp_text_enc)m->enc, text_units(m->enc, octets));
	SY_ASSERT(m->nseg >= 1 && m->nseg <= ESME_SEG_MAX);
	if (!msg_segs_take(e, m, mi)) {
		msg_free(e, m);
		e->st.skipped++;
		return;
	}
	pump(e);
}

static bool arrivals_over(const struct esme *e)
{
	return e->stopping || (e->cfg.max_msgs != 0 && e->st.arrivals >= e->cfg.max_msgs);
}

static void on_arrival(void *arg);

static void schedule_arrival(struct esme *e)
{
	double mean_ns = 1e12 / (double)e->cfg.tps_milli;
	uint64_t now = sy_env_now_ns(e->env);
	e->next_arrival_ns += (uint64_t)(sy_rng_exp(&e->rng, mean_ns) + 0.5);
	if (e->cfg.stop_ns != 0 && e->next_arrival_ns >= e->cfg.stop_ns)
		return;
	uint64_t delay = e->next_arrival_ns > now ? e->next_arrival_ns - now : 0;
	e->t_arrival = sy_env_timer_start(e->env, delay, on_arrival, e);
}

static void on_arrival(void *arg)
{
	struct esme *e = arg;
	e->t_arrival = 0;
	if (arrivals_over(e))
		return;
	msg_arrive(e);
	if (!arrivals_over(e))
		schedule_arrival(e);
}

/* ---- binds ---- */

static void bind_connect(struct esme_bind *b);

static void rebind_fire(void *arg)
{
	struct esme_bind *b = arg;
	b->t_rebind = 0;
	bind_connect(b);
}

/* Exponential backoff, bounded in delay and in consecutive failures. */
static void bind_retry_later(struct esme_bind *b)
{
	struct esme *e = b->e;
	if (e->unbinding)
		return;
	if (++b->fails > e->cfg.rebind_tries_max) {
		e->st.binds_given_up++;
		SY_LOG(e->env, SY_LOG_WARN, "esme %s: bind %u given up", e->cfg.name, (unsigned)(b - e->binds));
		return;
	}
	uint64_t d = e->cfg.rebind_min_ns;
	for (uint32_t i = 1; i < b->fails && d < e->cfg.rebind_max_ns; i++)
		d *= 2;
	b->t_rebind = sy_env_timer_start(e->env, d < e->cfg.rebind_max_ns ? d : e->cfg.rebind_max_ns, rebind_fire, b);
}

static void bind_connect(struct esme_bind *b)
{
	struct esme *e = b->e;
	struct smpp_bind_params bp = {
	    .type = SMPP_BIND_TRX,
	    .system_id = sy_str_from(e->cfg.system_id),
	    .password = sy_str_from(e->cfg.password),
	    .system_type = sy_str_from(e->cfg.system_type),
	};
	if (smpp_session_connect(e->pool, &e->cfg.target, &bp, &b->s) != SY_OK) {
		b->s = NULL;
		e->st.bind_failures++;
		bind_retry_later(b);
		return;
	}
	smpp_session_set_user(b->s, b);
}

void esme_start(struct esme *e)
{
	SY_ASSERT(!e->started);
	e->started = true;
	uint64_t now = sy_env_now_ns(e->env);
	for (uint32_t i = 0; i < e->cfg.binds; i++)
		bind_connect(&e->binds[i]);
	/* Offsets are relative to this moment; keep them absolute from here on. */
	if (e->cfg.stop_ns != 0)
		e->cfg.stop_ns += now;
	e->next_arrival_ns = now + e->cfg.start_ns;
	schedule_arrival(e);
}

void esme_stop(struct esme *e)
{
	e->stopping = true;
	sy_env_timer_cancel(e->env, e->t_arrival);
	e->t_arrival = 0;
}

void esme_unbind(struct esme *e)
{
	esme_stop(e);
	e->unbinding = true;
	for (uint32_t i = 0; i < e->cfg.binds; i++) {
		struct esme_bind *b = &e->binds[i];
		sy_env_timer_cancel(e->env, b->t_rebind);
		b->t_rebind = 0;
		if (b->s == NULL)
			continue;
		if (b->bound && smpp_session_unbind(b->s) == SY_OK)
			continue;
		smpp_session_close(b->s);
		b->s = NULL;
		b->bound = false;
	}
}

/* ---- session callbacks ---- */

static void on_bound(void *arg, struct smpp_session *s, uint32_t status)
{
	struct esme *e = arg;
	struct esme_bind *b = smpp_session_user(s);
	if (status != ESME_ROK)
		return; /* on_close(BIND_FAILED) follows: counted and retried there */
	e->st.binds_ok++;
	e->st.rebinds += b->ever_bound;
	b->ever_bound = b->bound = true;
	b->broken = false;
	b->fails = 0;
	pump(e);
}

static void on_close(void *arg, struct smpp_session *s, enum smpp_close_reason why)
{
	struct esme *e = arg;
	struct esme_bind *b = smpp_session_user(s);
	SY_ASSERT(b != NULL && b->s == s);
	SY_LOG(e->env, SY_LOG_INFO, "esme %s: session closed: %s", e->cfg.name, smpp_close_reason_str(why));
	e->st.session_drops += b->bound;
	e->st.bind_failures += !b->bound;
	b->s = NULL;
	b->bound = false;
	bind_retry_later(b);
}

static void rejected(struct esme *e, struct esme_seg *g, uint32_t status)
{
	e->st.segs_rejected++;
	if (status < 256)
		e->st.rejected_by_status[status]++;
	else
		e->st.rejected_other_status++;
	msg_answer(e, g, false);
	seg_free(e, g);
}

static void pause_fire(void *arg)
{
	struct esme *e = arg;
	e->t_pause = 0;
	pump(e);
}

/* The switch is over our account's rate: the part goes back to the head of
 * the queue and all sending pauses for a while (retrying each part on its
 * own timer would keep the switch saturated and starve unlucky parts). */
static void throttled(struct esme *e, struct esme_seg *g)
{
	e->st.throttled++;
	if (++g->throttles > e->cfg.throttle_retries_max || g->throttles == UINT8_MAX) {
		e->st.throttle_gave_up++;
		rejected(e, g, ESME_RTHROTTLED);
		return;
	}
	q_push(e, g, true);
	if (e->t_pause == 0)
		e->t_pause = sy_env_timer_start(e->env, e->cfg.throttle_backoff_ns, pause_fire, e);
}

static void accepted(struct esme *e, struct esme_seg *g, struct sy_str id)
{
	SY_ASSERT(id.len <= SMPP_MESSAGE_ID_MAX);
	e->st.segs_accepted++;
	if (id.len > 0)
		memcpy(g->id, id.p, id.len);
	g->id[id.len] = '\0';
	sy_htab_insert(&e->ids, &g->h, (struct sy_str){g->id, id.len});
	if (e->cfg.acked_out != NULL)
		fprintf(e->cfg.acked_out, "%s\n", g->id);
	msg_answer(e, g, true);
	if (e->cfg.registered_delivery)
		g->state = S_ACCEPTED;
	else
		done_push(e, g);
}

static void on_response(void *arg, struct smpp_session *s, enum smpp_req_outcome how, uint32_t seq, uint64_t tag,
			const struct smpp_pdu *resp)
{
	struct esme *e = arg;
	uint32_t idx = (uint32_t)tag;
	SY_ASSERT(idx < e->cfg.seg_max);
	struct esme_seg *g = &e->segs[idx];
	SY_ASSERT(g->gen == (uint32_t)(tag >> 32) && g->state == S_INFLIGHT);
	if (how == SMPP_REQ_CLOSED) {
		/* The answer is unknown: send again (a switch with idempotency
		 * keys, or the receipt matching, shows any duplicate). */
		e->st.requeued_closed++;
		q_push(e, g, true);
		return;
	}
	if (how == SMPP_REQ_TIMEOUT) {
		e->st.resp_timeouts++;
		msg_answer(e, g, false);
		seg_free(e, g);
		return;
	}
	sy_hist_add(&e->st.submit_resp, sy_env_now_ns(e->env) - g->last_sent_ns);
	uint32_t status = resp->command_status;
	if (resp->command_id == SMPP_GENERIC_NACK && status == ESME_ROK)
		status = ESME_RSYSERR;
	if (status == ESME_ROK)
		accepted(e, g, resp->message_id);
	else if (status == ESME_RTHROTTLED)
		throttled(e, g);
	else
		rejected(e, g, status);
	pump(e);
}

/* ---- receipts ---- */

/* The id and state from the TLVs, else from the receipt text. */
static bool receipt_fields(const struct smpp_pdu *req, struct sy_str *id, uint8_t *state)
{
	const struct smpp_tlvs *t = &req->tlv;
	bool have_id = (t->present & SMPP_TLV_RECEIPTED_MESSAGE_ID) != 0;
	bool have_state = (t->present & SMPP_TLV_MESSAGE_STATE) != 0;
	*id = have_id ? t->receipted_message_id : SY_STR_NULL;
	*state = have_state ? t->message_state : 0;
	if (have_id && have_state)
		return true;
	struct sy_str text = req->short_message;
	if (text.len == 0 && (t->present & SMPP_TLV_MESSAGE_PAYLOAD))
		text = t->message_payload;
	struct smpp_dlr d;
	if (smpp_dlr_parse(text, &d) != SY_OK)
		return false;
	if (!have_id)
		*id = d.id;
	if (!have_state)
		*state = d.state;
	return id->len > 0;
}

static void receipt_count(struct esme *e, uint8_t state)
{
	if (state == SMPP_STATE_DELIVERED)
		e->st.rcpt_delivered++;
	else if (state == SMPP_STATE_UNDELIVERABLE)
		e->st.rcpt_undeliverable++;
	else if (state == SMPP_STATE_EXPIRED)
		e->st.rcpt_expired++;
	else
		e->st.rcpt_other++;
}

static void receipt(struct esme *e, const struct smpp_pdu *req)
{
	struct sy_str id;
	uint8_t state;
	e->st.receipts++;
	if (!receipt_fields(req, &id, &state)) {
		e->st.rcpt_bad++;
		return;
	}
	struct sy_hnode *h = sy_htab_find(&e->ids, id);
	if (h == NULL) {
		e->st.rcpt_unknown++;
		return;
	}
	struct esme_seg *g = SY_CONTAINER_OF(h, struct esme_seg, h);
	if (state == SMPP_STATE_ENROUTE || state == SMPP_STATE_ACCEPTED) {
		e->st.rcpt_intermediate++;
		return;
	}
	if (g->state == S_DONE) {
		e->st.rcpt_duplicate++;
		return;
	}
	SY_ASSERT(g->state == S_ACCEPTED);
	receipt_count(e, state);
	sy_hist_add(&e->st.receipt, sy_env_now_ns(e->env) - g->first_sent_ns);
	done_push(e, g);
}

static void on_request(void *arg, struct smpp_session *s, const struct smpp_pdu *req)
{
	struct esme *e = arg;
	uint32_t cmd = req->command_id;
	if (cmd == SMPP_ALERT_NOTIFICATION)
		return;
	if (cmd != SMPP_DELIVER_SM) {
		(void)smpp_session_respond(s, req->sequence_number, ESME_RINVCMDID, SY_STR(""));
		return;
	}
	(void)smpp_session_respond(s, req->sequence_number, ESME_ROK, SY_STR(""));
	if ((req->esm_class & SMPP_ESM_TYPE_MASK) == SMPP_ESM_TYPE_DELIVERY_RECEIPT)
		receipt(e, req);
	else
		e->st.mo_received++;
}

static const struct smpp_sess_ops esme_ops = {
    .on_bound = on_bound,
    .on_request = on_request,
    .on_response = on_response,
    .on_close = on_close,
};
