/* esme_send.c: what the SMPP application population sends: the message and
 * segment records (send queues, done FIFO, recycling), each message's text
 * rebuilt from its seed, the submit_sm of a part and its sending over a
 * bound session, and the arrival process that makes new messages. */
#include "esme_int.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/store/smsq.h"

/* ---- records ---- */

/* Two FIFOs of parts to send: retries (throttled, or cut off by a session
 * drop; kept in their send order) go before new parts. */
void esme__q_push(struct esme *e, struct esme_seg *g, bool retry)
{
	uint32_t *head = retry ? &e->r_head : &e->q_head, *tail = retry ? &e->r_tail : &e->q_tail;
	g->state = S_QUEUED;
	g->next = NIL;
	if (*head == NIL)
		*head = g->idx;
	else
		esme__seg(e, *tail)->next = g->idx;
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
	struct esme_seg *g = esme__seg(e, *head);
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

void esme__seg_free(struct esme *e, struct esme_seg *g)
{
	g->state = S_FREE;
	g->gen++;
	g->msg = NIL;
	g->next = e->seg_free;
	e->seg_free = g->idx;
}

/* A free record (recycled, else a new one); NULL when seg_max are live. */
static struct esme_seg *seg_take(struct esme *e)
{
	struct esme_seg *g;
	uint32_t idx;
	if (e->seg_free != NIL) {
		g = esme__seg(e, e->seg_free);
		e->seg_free = g->next;
	} else if ((g = sy_pool_grow(&e->segs, &idx)) != NULL) {
		g->idx = idx;
		g->msg = NIL;
	} else {
		return NULL;
	}
	SY_ASSERT(g->state == S_FREE);
	g->next = NIL;
	g->throttles = 0;
	g->sent_once = false;
	esme__seg_id_clear(e, g);
	return g;
}

/* ---- the done window (struct esme_done) ---- */

uint64_t esme__id_value(struct sy_str id)
{
	uint64_t v;
	if (smsq_id_parse(id, &v) == SY_OK && v < UINT64_MAX / 2)
		return v + 1;
	return sy_hash64(id.p, id.len, 0x65736D655F696473ull) | 1ull << 63;
}

/* Open-addressing tables of nonzero 64-bit values, words 64-bit words a
 * slot (the value, then what goes with it), linear probing, 0 = empty. */
static inline uint64_t oa_home(uint64_t mask, uint64_t v)
{
	return ((v ^ (v >> 29)) * 0x9E3779B97F4A7C15ull >> 20) & mask;
}

/* The first empty slot on v's probe path (there is one: tables stay under
 * three quarters full). */
static uint64_t *oa_place(uint64_t *e, uint64_t mask, uint32_t words, uint64_t v)
{
	uint64_t i = oa_home(mask, v);
	while (e[i * words] != 0)
		i = (i + 1) & mask;
	return e + i * words;
}

/* Empties slot i and shifts back the entries after it that would otherwise
 * be cut off from their home slot. */
static void oa_del_at(uint64_t *e, uint64_t mask, uint32_t words, uint64_t i)
{
	for (uint64_t j = i;;) {
		j = (j + 1) & mask;
		if (e[j * words] == 0)
			break;
		uint64_t k = oa_home(mask, e[j * words]);
		/* the entry at j may stay if its home k lies cyclically in (i, j] */
		if (i <= j ? i < k && k <= j : i < k || k <= j)
			continue;
		memcpy(e + i * words, e + j * words, words * sizeof(uint64_t));
		i = j;
	}
	memset(e + i * words, 0, words * sizeof(uint64_t));
}

/* Room for one more entry (n now): doubles *e at three quarters full
 * (first 2048 slots); false when out of memory. */
static bool oa_room(uint64_t **e, uint64_t *mask, uint64_t n, uint32_t words)
{
	if (*e != NULL && (n + 1) * 4 <= (*mask + 1) * 3)
		return true;
	uint64_t slots = *e == NULL ? 2048u : 2 * (*mask + 1);
	uint64_t *ne = calloc(slots, words * sizeof(uint64_t));
	if (ne == NULL)
		return false;
	for (uint64_t i = 0; *e != NULL && i <= *mask; i++)
		if ((*e)[i * words] != 0)
			memcpy(oa_place(ne, slots - 1, words, (*e)[i * words]), *e + i * words,
			       words * sizeof(uint64_t));
	free(*e);
	*e = ne;
	*mask = slots - 1;
	return true;
}

bool esme__done_has(const struct esme_done *d, uint64_t v)
{
	if (d->set == NULL)
		return false;
	for (uint64_t i = oa_home(d->mask, v);; i = (i + 1) & d->mask) {
		if (d->set[i] == v)
			return true;
		if (d->set[i] == 0)
			return false;
	}
}

static void set_del(struct esme_done *d, uint64_t v)
{
	uint64_t i = oa_home(d->mask, v);
	while (d->set[i] != v)
		i = (i + 1) & d->mask;
	oa_del_at(d->set, d->mask, 1, i);
}

/* Room for one more id: the ring doubles up to cap, the set doubles at
 * three quarters full. false when out of memory. */
static bool done_room(struct esme_done *d)
{
	if (d->n == d->ring_cap && d->ring_cap < d->cap) {
		uint64_t nc = SY_MIN(SY_MAX(d->ring_cap * 2, 1024u), d->cap);
		uint64_t *r = malloc(nc * sizeof(*r));
		if (r == NULL)
			return false;
		for (uint64_t i = 0; i < d->n; i++)
			r[i] = d->ring[(d->head + i) % d->ring_cap];
		free(d->ring);
		d->ring = r;
		d->ring_cap = nc;
		d->head = 0;
	}
	return oa_room(&d->set, &d->mask, d->n, 1);
}

void esme__done_add(struct esme_done *d, uint64_t v, uint64_t *forgotten)
{
	if (esme__done_has(d, v))
		return; /* the same id twice: a later receipt for it counts as a duplicate */
	if (d->n == d->cap && d->n > 0) {
		set_del(d, d->ring[d->head]);
		d->head = (d->head + 1) % d->ring_cap;
		d->n--;
		(*forgotten)++;
	}
	if (!done_room(d)) {
		(*forgotten)++; /* not remembered: a duplicate of it goes unseen */
		return;
	}
	d->ring[(d->head + d->n) % d->ring_cap] = v;
	d->n++;
	*oa_place(d->set, d->mask, 1, v) = v;
}

void esme__done_free(struct esme_done *d)
{
	free(d->ring);
	free(d->set);
	*d = (struct esme_done){.cap = d->cap};
}

/* ---- parts awaiting their receipt (struct esme_live) ---- */

static bool seg_id_is(const struct esme_seg *g, struct sy_str id)
{
	const char *s = esme__seg_id(g);
	return strncmp(s, id.p, id.len) == 0 && s[id.len] == '\0';
}

void esme__live_prefetch(const struct esme *e, uint64_t v)
{
	if (e->live.e != NULL)
		__builtin_prefetch(e->live.e + 2 * oa_home(e->live.mask, v));
}

void esme__receipt_prefetch(const struct esme *e, uint64_t v)
{
	if (e->live.e != NULL)
		__builtin_prefetch(e->live.e + 2 * oa_home(e->live.mask, v));
	if (e->done.set != NULL)
		__builtin_prefetch(e->done.set + oa_home(e->done.mask, v));
}

struct esme_seg *esme__live_find(const struct esme *e, struct sy_str id, uint64_t v)
{
	const struct esme_live *l = &e->live;
	if (l->e == NULL)
		return NULL;
	for (uint64_t i = oa_home(l->mask, v);; i = (i + 1) & l->mask) {
		const uint64_t *s = l->e + 2 * i;
		if (s[0] == 0)
			return NULL;
		if (s[0] == v) {
			struct esme_seg *g = esme__seg(e, (uint32_t)s[1]);
			/* a canonical id is its value; a hashed one is checked */
			if (!(v >> 63) || seg_id_is(g, id))
				return g;
		}
	}
}

static void live_add(struct esme *e, struct esme_seg *g, uint64_t v)
{
	struct esme_live *l = &e->live;
	bool room = oa_room(&l->e, &l->mask, l->n, 2);
	SY_ASSERT(room || (l->e != NULL && l->n + 2 < l->mask)); /* out of memory: fuller, still correct */
	uint64_t *s = oa_place(l->e, l->mask, 2, v);
	s[0] = v;
	s[1] = g->idx;
	l->n++;
}

static void live_del(struct esme *e, struct esme_seg *g, uint64_t v)
{
	struct esme_live *l = &e->live;
	uint64_t i = oa_home(l->mask, v);
	while (l->e[2 * i] != v || l->e[2 * i + 1] != g->idx)
		i = (i + 1) & l->mask;
	oa_del_at(l->e, l->mask, 2, i);
	l->n--;
}

void esme__seg_accepted(struct esme *e, struct esme_seg *g, uint64_t v)
{
	g->state = S_ACCEPTED;
	live_add(e, g, v);
}

void esme__seg_done(struct esme *e, struct esme_seg *g, uint64_t v)
{
	if (g->state == S_ACCEPTED)
		live_del(e, g, v);
	esme__done_add(&e->done, v, &e->st.seg_recycled);
	esme__seg_id_clear(e, g);
	esme__seg_free(e, g);
}

void esme__seg_id_clear(struct esme *e, struct esme_seg *g)
{
	if (g->id_heap) {
		free((void *)esme__seg_id(g));
		e->ids_heap--;
	}
	g->id_heap = false;
	g->id[0] = '\0';
}

void esme__seg_id_set(struct esme *e, struct esme_seg *g, struct sy_str id)
{
	esme__seg_id_clear(e, g);
	char *dst = g->id;
	if (id.len >= sizeof(g->id)) {
		dst = malloc(id.len + 1);
		SY_ASSERT(dst != NULL);
		memcpy(g->id, &dst, sizeof(dst));
		g->id_heap = true;
		e->ids_heap++;
	}
	if (id.len > 0)
		memcpy(dst, id.p, id.len);
	dst[id.len] = '\0';
}

void esme__msg_free(struct esme *e, struct esme_msg *m)
{
	m->next_free = e->msg_free;
	e->msg_free = m->idx;
}

/* One part of m got its final answer (accepted or not). */
void esme__msg_answer(struct esme *e, struct esme_seg *g, bool ok)
{
	SY_ASSERT(g->msg != NIL && e->live_segs > 0);
	struct esme_msg *m = esme__msg(e, g->msg);
	g->msg = NIL;
	e->live_segs--;
	m->ok += ok;
	if (++m->answered < m->nseg)
		return;
	if (m->ok == m->nseg)
		e->st.msgs_accepted++;
	else
		e->st.msgs_failed++;
	esme__msg_free(e, m);
}

/* ---- text ---- */

const char esme__gsm_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,!?";

/* Small random numbers, several from one 64-bit draw: each is the next
 * base-n digit of the draw read as a fraction in [0, 1) (a multiply; the
 * word keeps the rest). A draw gives at most per digits; a digit is off
 * uniform by at most n / 2^(bits left): 67 over 8 digits, 2e-5; 10 over
 * 16, 6e-4; powers of two whose bits fit in 64 are exact. */
struct digits {
	struct sy_rng *r;
	uint64_t x;
	uint32_t left;
};

static inline uint32_t digit(struct digits *d, uint32_t n, uint32_t per)
{
	if (d->left == 0) {
		d->x = sy_rng_next(d->r);
		d->left = per;
	}
	d->left--;
	unsigned __int128 p = (unsigned __int128)d->x * n;
	d->x = (uint64_t)p;
	return (uint32_t)(p >> 64);
}

/* Rebuilds m's text from its seed, encoded, into e->text; returns the
 * octets. GSM text is one septet per octet (as SMPP carries data_coding 0):
 * esme__gsm_chars are their own GSM 03.38 codes. UCS2 text is Cyrillic (no
 * GSM form, BMP only, so no pair ever splits), big-endian. Both are written
 * straight in their encoding (test_esme_done checks they are what
 * smpp_gsm_from_utf8 and smpp_ucs2_from_utf8 would make), and the text of
 * the last message built is kept: its parts are usually sent right after. */
static size_t text_build(struct esme *e, const struct esme_msg *m)
{
	if (e->text_no == m->no && m->no != 0)
		return e->text_len;
	struct sy_rng r;
	size_t n = 0;
	sy_rng_init(&r, m->text_seed);
	struct digits d = {&r, 0, 0};
	SY_ASSERT(2 * (size_t)m->chars <= sizeof(e->text));
	if (m->enc == SMPP_ENC_GSM7) {
		for (uint32_t i = 0; i < m->chars; i++)
			e->text[n++] = (uint8_t)esme__gsm_chars[digit(&d, sizeof(esme__gsm_chars) - 1, 8)];
	} else {
		/* 3 and 5 bits a character: 12 draws fit a 64-bit word exactly */
		for (uint32_t i = 0; i < m->chars; i++) {
			uint32_t cp = digit(&d, 8, 12) == 0 ? 0x20 : 0x430 + digit(&d, 32, 12);
			e->text[n++] = (uint8_t)(cp >> 8);
			e->text[n++] = (uint8_t)cp;
		}
	}
	e->text_no = m->no;
	e->text_len = n;
	return n;
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

void esme_on_numbers(struct esme *e, esme_numbers_fn fn, void *arg)
{
	e->numbers_fn = fn;
	e->numbers_arg = arg;
}

static void expand(struct esme *e, const char *pat, char *out, size_t n)
{
	struct digits d = {&e->rng, 0, 0};
	size_t i = 0;
	for (; pat[i] != '\0' && i + 1 < n; i++) {
		char ch = pat[i];
		if (ch == 'X')
			ch = (char)('0' + digit(&d, 10, 16));
		else if (ch == 'N')
			ch = (char)('2' + digit(&d, 8, 16));
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
	const struct esme_msg *m = esme__msg(e, g->msg);
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
	struct esme_msg *m = esme__msg(e, g->msg);
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

/* The next bind with a free window slot, round-robin. Parts resent after
 * ESME_RTHROTTLED fill one bind before the next instead: a switch reads
 * what arrives on one connection before the next, so spreading the oldest
 * retries over all binds would always put the same ones behind another
 * bind's burst, where its rate limit refuses them again (starved after
 * throttle_retries_max). Kept together they are read in the order they were
 * refused. */
static struct esme_bind *bind_ready(struct esme *e)
{
	if (e->r_head != NIL && e->cfg.binds > 1) {
		struct esme_bind *b = &e->binds[(e->rr + e->cfg.binds - 1) % e->cfg.binds];
		if (b->bound && !b->broken && smpp_session_outstanding(b->s) < e->cfg.window)
			return b;
	}
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
void esme__pump(struct esme *e)
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
	if (e->numbers_fn != NULL)
		e->numbers_fn(e->numbers_arg, a->src, a->dst, sizeof(a->dst));
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
			esme__seg_free(e, got[--n]);
		return false;
	}
	for (uint32_t i = 0; i < n; i++) {
		got[i]->msg = mi;
		got[i]->msg_no = m->no;
		got[i]->part = (uint8_t)(i + 1);
		esme__q_push(e, got[i], false);
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
	uint32_t mi = e->msg_free;
	struct esme_msg *m;
	if (mi != NIL) {
		m = esme__msg(e, mi);
		e->msg_free = m->next_free;
	} else if ((m = sy_pool_grow(&e->msgs, &mi)) == NULL) {
		e->st.skipped++;
		return;
	}
	*m = (struct esme_msg){.no = e->msg_seq, .text_seed = a.text_seed, .chars = (uint16_t)a.chars, .idx = mi};
	m->ref = (uint16_t)(e->msg_seq & 0xFF);
	m->enc = a.ucs2 ? SMPP_ENC_UCS2 : SMPP_ENC_GSM7;
	memcpy(m->src, a.src, sizeof(m->src));
	memcpy(m->dst, a.dst, sizeof(m->dst));
	size_t octets = text_build(e, m);
	m->nseg = (uint8_t)smpp_segments_for_units((enum smpp_text_enc)m->enc, text_units(m->enc, octets));
	SY_ASSERT(m->nseg >= 1 && m->nseg <= ESME_SEG_MAX);
	if (!msg_segs_take(e, m, mi)) {
		esme__msg_free(e, m);
		e->st.skipped++;
		return;
	}
	esme__pump(e);
}

void esme_inject(struct esme *e, esme_numbers_fn fn, void *arg)
{
	esme_numbers_fn keep = e->numbers_fn;
	void *keep_arg = e->numbers_arg;
	e->numbers_fn = fn;
	e->numbers_arg = arg;
	msg_arrive(e);
	e->numbers_fn = keep;
	e->numbers_arg = keep_arg;
}

static bool arrivals_over(const struct esme *e)
{
	return e->stopping || (e->cfg.max_msgs != 0 && e->st.arrivals >= e->cfg.max_msgs);
}

static void on_arrival(void *arg);

/* Arrivals are drawn at their exact (Poisson) times but made in passes of
 * ESME_ARRIVAL_TICK_NS: the timer is set for the end of the tick the next
 * arrival falls in, and that pass makes every arrival due by then, in order
 * (one timer a tick instead of one an arrival; the same draws, so the same
 * messages). */
#define ESME_ARRIVAL_TICK_NS SY_NS_PER_MS

/* Draws the time of the next arrival; false past stop_ns. */
static bool arrival_next(struct esme *e)
{
	double mean_ns = 1e12 / (double)e->cfg.tps_milli;
	e->next_arrival_ns += (uint64_t)(sy_rng_exp(&e->rng, mean_ns) + 0.5);
	return e->cfg.stop_ns == 0 || e->next_arrival_ns < e->cfg.stop_ns;
}

static void arrival_arm(struct esme *e)
{
	uint64_t now = sy_env_now_ns(e->env);
	uint64_t at = (e->next_arrival_ns + ESME_ARRIVAL_TICK_NS - 1) / ESME_ARRIVAL_TICK_NS * ESME_ARRIVAL_TICK_NS;
	e->t_arrival = sy_env_timer_start(e->env, at > now ? at - now : 0, on_arrival, e);
}

void esme__schedule_arrival(struct esme *e)
{
	if (arrival_next(e))
		arrival_arm(e);
}

static void on_arrival(void *arg)
{
	struct esme *e = arg;
	e->t_arrival = 0;
	uint64_t now = sy_env_now_ns(e->env);
	do {
		if (arrivals_over(e))
			return;
		msg_arrive(e);
		if (arrivals_over(e) || !arrival_next(e))
			return;
	} while (e->next_arrival_ns <= now);
	arrival_arm(e);
}
