/* ussd_net_dlg.c: the handsets' dialogues of the simulated USSD node
 * (ussd_net.h): the records (64 bytes each, in slabs), the handset table,
 * the timer wheel that holds every think and no-answer deadline behind one
 * env timer, the arrivals, what a handset sends and how a dialogue ends. */
#include "ussd_net_int.h"

#include <stdio.h>
#include <stdlib.h>

_Static_assert(sizeof(struct un_dlg) == 64, "a dialogue record is 64 bytes: keep it so (bench: 1M open)");

/* ---- tables ---- */

/* The gauge, kept current as the tables grow. */
static void bytes_count(struct ussd_net *n)
{
	n->st.bytes = (uint64_t)n->slab_n * UN_SLAB * sizeof(struct un_dlg) +
		      (uint64_t)n->cfg.handsets * (sizeof(*n->hs_dlg) + sizeof(*n->hs_ref)) +
		      UN_WHEEL * sizeof(*n->wheel);
}

enum sy_rc un__tables_init(struct ussd_net *n)
{
	n->hs_dlg = malloc((size_t)n->cfg.handsets * sizeof(*n->hs_dlg));
	n->hs_ref = calloc(n->cfg.handsets, sizeof(*n->hs_ref));
	n->wheel = malloc(UN_WHEEL * sizeof(*n->wheel));
	if (n->hs_dlg == NULL || n->hs_ref == NULL || n->wheel == NULL)
		return SY_ERR_NOMEM;
	memset(n->hs_dlg, 0xFF, (size_t)n->cfg.handsets * sizeof(*n->hs_dlg));
	memset(n->wheel, 0xFF, UN_WHEEL * sizeof(*n->wheel));
	n->dlg_free = n->q_head = n->q_tail = UN_NIL;
	n->origin_ns = sy_env_now_ns(n->env);
	bytes_count(n);
	return SY_OK;
}

void un__tables_free(struct ussd_net *n)
{
	for (uint32_t i = 0; i < n->slab_n; i++) {
		struct un_dlg *s = n->slabs[i];
		for (uint32_t k = 0; k < UN_SLAB; k++)
			free(s[k].log);
		free(s);
	}
	free(n->hs_dlg);
	free(n->hs_ref);
	free(n->wheel);
}

size_t ussd_net_sess_bytes(void)
{
	return sizeof(struct un_dlg);
}

static bool slab_grow(struct ussd_net *n)
{
	if (n->slab_n == UN_SLABS_MAX)
		return false;
	struct un_dlg *s = calloc(UN_SLAB, sizeof(*s));
	if (s == NULL)
		return false;
	uint32_t base = n->slab_n << UN_SLAB_BITS;
	for (uint32_t k = 0; k < UN_SLAB; k++)
		s[k].q_next = k + 1 < UN_SLAB ? base + k + 1 : n->dlg_free; /* q_next links the free list */
	n->slabs[n->slab_n++] = s;
	n->dlg_free = base;
	bytes_count(n);
	return true;
}

static uint32_t dlg_take(struct ussd_net *n)
{
	if (n->st.open >= n->cfg.open_max || (n->dlg_free == UN_NIL && !slab_grow(n)))
		return UN_NIL;
	uint32_t i = n->dlg_free;
	struct un_dlg *d = un_dlg_at(n, i);
	n->dlg_free = d->q_next;
	uint32_t gen = d->gen;
	*d = (struct un_dlg){.w_prev = UN_NIL, .w_next = UN_NIL, .q_next = UN_NIL, .gen = gen};
	return i;
}

static void dlg_free(struct ussd_net *n, uint32_t i)
{
	struct un_dlg *d = un_dlg_at(n, i);
	SY_ASSERT(d->state != D_FREE && !(d->flags & F_WHEEL) && d->send == SEND_NONE);
	n->hs_dlg[d->handset] = UN_NIL;
	free(d->log);
	d->log = NULL;
	d->state = D_FREE;
	d->gen++;
	d->q_next = n->dlg_free;
	n->dlg_free = i;
	SY_ASSERT(n->st.open > 0);
	n->st.open--;
}

/* ---- handsets ---- */

static void msisdn_fmt(const struct ussd_net *n, uint32_t h, char *out)
{
	memcpy(out, n->msisdn, (size_t)n->msisdn_len + 1);
	for (int k = n->x_n - 1; k >= 0; k--) {
		out[n->x_pos[k]] = (char)('0' + h % 10);
		h /= 10;
	}
}

/* The handset of an MSISDN from the gateway, or UN_NIL. */
static uint32_t msisdn_parse(const struct ussd_net *n, const char *s)
{
	s += s[0] == '+';
	if (strlen(s) != n->msisdn_len)
		return UN_NIL;
	uint64_t h = 0;
	uint32_t x = 0;
	for (uint32_t i = 0; i < n->msisdn_len; i++) {
		if (x < n->x_n && n->x_pos[x] == i) {
			if (s[i] < '0' || s[i] > '9')
				return UN_NIL;
			h = h * 10 + (uint64_t)(s[i] - '0');
			x++;
		} else if (s[i] != n->msisdn[i]) {
			return UN_NIL;
		}
	}
	return h < n->cfg.handsets ? (uint32_t)h : UN_NIL;
}

/* The next idle handset from the cursor, within a bounded search. */
static uint32_t handset_idle(struct ussd_net *n)
{
	for (uint32_t k = 0; k < 64; k++) {
		uint32_t h = n->hs_next;
		n->hs_next = h + 1 < n->cfg.handsets ? h + 1 : 0;
		if (n->hs_dlg[h] == UN_NIL)
			return h;
	}
	return UN_NIL;
}

static uint16_t ref_next(struct ussd_net *n, uint32_t h)
{
	uint16_t r = (uint16_t)(n->hs_ref[h] + 1);
	if (n->cfg.ref == USSD_REF_ITS_SESSION_INFO)
		r &= 0xFF;
	n->hs_ref[h] = r;
	return r;
}

/* ---- the timer wheel ---- */

static void wheel_fire(void *arg);

/* Rounded up: a deadline never fires early. */
static uint64_t tick_of(const struct ussd_net *n, uint64_t at_ns)
{
	return (at_ns - n->origin_ns + n->cfg.tick_ns - 1) / n->cfg.tick_ns;
}

static void wheel_arm(struct ussd_net *n)
{
	if (n->t_wheel != 0 || n->wheel_count == 0)
		return;
	uint64_t at = n->origin_ns + (uint64_t)(n->done_tick + 1) * n->cfg.tick_ns, now = sy_env_now_ns(n->env);
	n->t_wheel = sy_env_timer_start(n->env, at > now ? at - now : 0, wheel_fire, n);
}

static void wheel_add(struct ussd_net *n, uint32_t i, uint64_t delay_ns)
{
	struct un_dlg *d = un_dlg_at(n, i);
	SY_ASSERT(!(d->flags & F_WHEEL));
	uint64_t now = sy_env_now_ns(n->env);
	if (n->wheel_count == 0) /* idle until now: every slot up to now is done */
		n->done_tick = (now - n->origin_ns) / n->cfg.tick_ns;
	uint64_t t = SY_MAX(tick_of(n, now + delay_ns), n->done_tick + 1);
	d->deadline = (uint32_t)t;
	uint32_t *head = &n->wheel[d->deadline & (UN_WHEEL - 1)];
	d->w_prev = UN_NIL;
	d->w_next = *head;
	if (*head != UN_NIL)
		un_dlg_at(n, *head)->w_prev = i;
	*head = i;
	d->flags |= F_WHEEL;
	n->wheel_count++;
	wheel_arm(n);
}

static void wheel_del(struct ussd_net *n, uint32_t i)
{
	struct un_dlg *d = un_dlg_at(n, i);
	if (!(d->flags & F_WHEEL))
		return;
	if (d->w_prev != UN_NIL)
		un_dlg_at(n, d->w_prev)->w_next = d->w_next;
	else
		n->wheel[d->deadline & (UN_WHEEL - 1)] = d->w_next;
	if (d->w_next != UN_NIL)
		un_dlg_at(n, d->w_next)->w_prev = d->w_prev;
	d->flags &= (uint8_t)~F_WHEEL;
	n->wheel_count--;
}

static void deadline(struct ussd_net *n, uint32_t i);

/* Fires every slot up to now, each entry whose deadline is its tick (the
 * others are a lap or more away and stay). */
static void wheel_fire(void *arg)
{
	struct ussd_net *n = arg;
	n->t_wheel = 0;
	uint64_t now_tick = (sy_env_now_ns(n->env) - n->origin_ns) / n->cfg.tick_ns;
	while (n->done_tick < now_tick && n->wheel_count > 0) {
		uint32_t t = (uint32_t)++n->done_tick;
		uint32_t i = n->wheel[t & (UN_WHEEL - 1)];
		while (i != UN_NIL) {
			struct un_dlg *d = un_dlg_at(n, i);
			uint32_t next = d->w_next;
			if (d->deadline == t) {
				wheel_del(n, i);
				deadline(n, i);
			}
			i = next;
		}
	}
	n->done_tick = SY_MAX(n->done_tick, now_tick);
	wheel_arm(n);
}

/* ---- transcripts ---- */

static void log_add(struct ussd_net *n, struct un_dlg *d, bool rx, uint8_t op, bool release, const char *text)
{
	struct un_log *l = d->log;
	if (l == NULL)
		return;
	size_t len = strlen(text);
	if (l->n == USSD_NET_LOG_STEPS || l->len + len + 1 > sizeof(l->text)) {
		l->truncated = true;
		return;
	}
	memcpy(l->text + l->len, text, len + 1);
	l->off[l->n] = (uint16_t)l->len;
	l->steps[l->n++] = (struct ussd_net_log_step){rx, op, release, NULL};
	l->len += (uint32_t)len + 1;
}

static void log_emit(struct ussd_net *n, struct un_dlg *d, enum ussd_net_end why)
{
	struct un_log *l = d->log;
	if (l == NULL || n->on_end == NULL)
		return;
	char msisdn[USSD_MSISDN_MAX];
	msisdn_fmt(n, d->handset, msisdn);
	for (uint32_t k = 0; k < l->n; k++)
		l->steps[k].text = l->text + l->off[k];
	struct ussd_net_session_log out = {
	    .msisdn = msisdn,
	    .code = n->cfg.codes[d->code].code,
	    .path = n->cfg.paths[d->path].inputs ? n->cfg.paths[d->path].inputs : "",
	    .dialled = l->dialled,
	    .ref = d->ref,
	    .end = why,
	    .begin_ns = d->begin_ns,
	    .end_ns = sy_env_now_ns(n->env),
	    .step_n = l->n,
	    .truncated = l->truncated,
	    .steps = l->steps,
	};
	n->on_end(n->on_end_arg, &out);
}

/* ---- sending ---- */

static void dialled_fmt(const struct ussd_net *n, const struct un_dlg *d, char *out, size_t cap)
{
	const char *code = n->cfg.codes[d->code].code;
	const struct un_path *p = &n->paths[d->path];
	size_t len = strlen(code);
	bool hash = len > 0 && code[len - 1] == '#';
	int w = snprintf(out, cap, "%.*s", (int)(len - hash), code);
	for (uint32_t k = 0; k < p->dialled && w > 0 && (size_t)w < cap; k++)
		w += snprintf(out + w, cap - (size_t)w, "*%s", p->text + p->off[k]);
	if (w > 0 && (size_t)w < cap)
		snprintf(out + w, cap - (size_t)w, "#");
}

static uint8_t release_op(const struct ussd_net *n)
{
	return n->codec.release_op ? n->codec.release_op : SMPP_USSD_USSR_CONF; /* else the end bit says it */
}

/* The message d has queued, into n->tx. */
static void msg_build(struct ussd_net *n, struct un_dlg *d, uint8_t what)
{
	struct ussd_msg *m = &n->tx;
	const struct un_path *p = &n->paths[d->path];
	m->ref = d->ref;
	m->seq = d->seq;
	d->seq = (uint8_t)((d->seq + 1) & 0x7F);
	m->release = what == SEND_RELEASE;
	msisdn_fmt(n, d->handset, m->msisdn);
	snprintf(m->code, sizeof(m->code), "%s", n->cfg.codes[d->code].code);
	if (what == SEND_DIAL) {
		m->op = SMPP_USSD_PSSR_IND;
		dialled_fmt(n, d, m->code, sizeof(m->code));
		snprintf(m->text, sizeof(m->text), "%s", m->code);
	} else if (what == SEND_INPUT) {
		m->op = SMPP_USSD_USSR_CONF;
		snprintf(m->text, sizeof(m->text), "%s", p->text + p->off[d->step - 1]);
	} else {
		m->op = release_op(n);
		m->text[0] = '\0';
	}
	m->text_len = strlen(m->text);
}

static uint64_t tag_of(const struct ussd_net *n, uint32_t i)
{
	return (uint64_t)un_dlg_at(n, i)->gen << 32 | i;
}

/* Sends what d has queued on b. A sent release frees the record. */
static enum sy_rc dlg_send_on(struct ussd_net *n, struct un_bind *b, uint32_t i)
{
	struct un_dlg *d = un_dlg_at(n, i);
	uint8_t what = d->send;
	uint8_t seq = d->seq;
	msg_build(n, d, what);
	enum sy_rc rc = un__send_msg(n, b, &n->tx, tag_of(n, i));
	if (rc != SY_OK) {
		d->seq = seq;
		return rc;
	}
	d->send = SEND_NONE;
	if (what == SEND_RELEASE) {
		n->st.releases++;
		dlg_free(n, i);
	}
	return SY_OK;
}

static void q_push(struct ussd_net *n, uint32_t i)
{
	un_dlg_at(n, i)->q_next = UN_NIL;
	if (n->q_head == UN_NIL)
		n->q_head = i;
	else
		un_dlg_at(n, n->q_tail)->q_next = i;
	n->q_tail = i;
}

/* Sends now when nothing waits before it and a window has room; else it
 * waits its turn (the handset's clock runs from now either way). */
static void dlg_send(struct ussd_net *n, uint32_t i, uint8_t what)
{
	struct un_dlg *d = un_dlg_at(n, i);
	SY_ASSERT(d->send == SEND_NONE);
	d->send = what;
	struct un_bind *b = n->q_head == UN_NIL ? un__bind_ready(n) : NULL;
	if (b != NULL && dlg_send_on(n, b, i) == SY_OK)
		return;
	n->st.window_waits++;
	q_push(n, i);
}

static void q_pop(struct ussd_net *n, uint32_t next)
{
	n->q_head = next;
	if (next == UN_NIL)
		n->q_tail = UN_NIL;
}

void un__pump(struct ussd_net *n)
{
	struct un_bind *b;
	while (n->q_head != UN_NIL) {
		uint32_t i = n->q_head;
		struct un_dlg *d = un_dlg_at(n, i);
		uint32_t next = d->q_next; /* a sent release frees d: its link is the free list's then */
		if (d->send == SEND_DROP) {
			q_pop(n, next);
			d->send = SEND_NONE;
			dlg_free(n, i);
			continue;
		}
		if ((b = un__bind_ready(n)) == NULL)
			return;
		if (dlg_send_on(n, b, i) == SY_OK)
			q_pop(n, next);
		/* else b is broken now: the next ready one, or later */
	}
}

/* ---- ends ---- */

/* The dialogue is over for the handset: counted, reported, and freed (or
 * kept until its release goes out). */
static void dlg_end(struct ussd_net *n, uint32_t i, enum ussd_net_end why, bool release)
{
	struct un_dlg *d = un_dlg_at(n, i);
	wheel_del(n, i);
	n->st.ended[why]++;
	if (why == USSD_NET_END_COMPLETED)
		sy_hist_add(&n->st.dialogue, sy_env_now_ns(n->env) - d->begin_ns);
	if (release)
		log_add(n, d, false, release_op(n), true, "");
	log_emit(n, d, why);
	d->state = D_RELEASING;
	if (d->send != SEND_NONE) { /* a message still waits for a window: replaced, or dropped */
		d->send = release ? SEND_RELEASE : SEND_DROP;
		return;
	}
	if (release)
		dlg_send(n, i, SEND_RELEASE); /* the record goes once it is sent */
	else
		dlg_free(n, i);
}

void un__end_all(struct ussd_net *n, enum ussd_net_end why, bool release)
{
	for (uint32_t s = 0; s < n->slab_n; s++)
		for (uint32_t k = 0; k < UN_SLAB; k++) {
			uint32_t i = s << UN_SLAB_BITS | k;
			struct un_dlg *d = un_dlg_at(n, i);
			if (d->state == D_WAIT || d->state == D_THINK)
				dlg_end(n, i, why, release && ussd_net_bound(n) > 0);
		}
	if (ussd_net_bound(n) > 0)
		return;
	/* Nothing can go out: drop what waits for a window (every dialogue
	 * has ended above, so only their releases and drops are left). */
	while (n->q_head != UN_NIL) {
		uint32_t i = n->q_head;
		struct un_dlg *d = un_dlg_at(n, i);
		SY_ASSERT(d->state == D_RELEASING);
		q_pop(n, d->q_next);
		d->send = SEND_NONE;
		dlg_free(n, i);
	}
}

void un__send_failed(struct ussd_net *n, uint64_t tag)
{
	uint32_t i = (uint32_t)tag;
	if ((i >> UN_SLAB_BITS) >= n->slab_n)
		return;
	struct un_dlg *d = un_dlg_at(n, i);
	if (d->gen != (uint32_t)(tag >> 32) || (d->state != D_WAIT && d->state != D_THINK))
		return; /* a release's, or the dialogue ended meanwhile */
	dlg_end(n, i, USSD_NET_END_FAILED, false);
}

/* ---- what the gateway sends ---- */

/* A think or no-answer deadline passed. */
static void deadline(struct ussd_net *n, uint32_t i)
{
	struct un_dlg *d = un_dlg_at(n, i);
	if (d->state == D_WAIT) {
		dlg_end(n, i, USSD_NET_END_NO_ANSWER, true);
		return;
	}
	SY_ASSERT(d->state == D_THINK);
	if (d->flags & F_ABANDON) {
		dlg_end(n, i, USSD_NET_END_ABANDONED, true);
		return;
	}
	const struct un_path *p = &n->paths[d->path];
	log_add(n, d, false, SMPP_USSD_USSR_CONF, false, p->text + p->off[d->step]);
	d->step++;
	d->state = D_WAIT;
	d->sent_ns = sy_env_now_ns(n->env);
	n->st.inputs++;
	wheel_add(n, i, n->cfg.handset_timeout_ns);
	dlg_send(n, i, SEND_INPUT);
}

static void on_screen(struct ussd_net *n, uint32_t i)
{
	struct un_dlg *d = un_dlg_at(n, i);
	n->st.screens++;
	if (d->step >= n->paths[d->path].n) {
		dlg_end(n, i, USSD_NET_END_OVERRUN, true);
		return;
	}
	d->state = D_THINK;
	if (sy_rng_chance_ppm(&n->rng, n->cfg.abandon_ppm))
		d->flags |= F_ABANDON;
	wheel_add(n, i, sy_dist_sample(&n->cfg.think, &n->rng));
}

static bool fail_text(const struct ussd_net *n, const char *text)
{
	for (uint32_t i = 0; i < n->cfg.fail_text_n; i++)
		if (n->cfg.fail_texts[i] != NULL && strcmp(n->cfg.fail_texts[i], text) == 0)
			return true;
	return false;
}

void un__on_msg(struct ussd_net *n, const struct ussd_msg *m)
{
	uint32_t h = msisdn_parse(n, m->msisdn);
	uint32_t i = h == UN_NIL ? UN_NIL : n->hs_dlg[h];
	struct un_dlg *d = i == UN_NIL ? NULL : un_dlg_at(n, i);
	if (d == NULL || d->ref != m->ref || (d->state != D_WAIT && d->state != D_THINK) || d->send != SEND_NONE) {
		n->st.stray++;
		return;
	}
	log_add(n, d, true, m->op, m->release, m->text);
	if (m->op == SMPP_USSD_USSN_REQ && !m->release) {
		n->st.notifications++;
		return;
	}
	bool waited = d->state == D_WAIT;
	if (waited)
		sy_hist_add(&n->st.step, sy_env_now_ns(n->env) - d->sent_ns);
	wheel_del(n, i);
	if (m->op == SMPP_USSD_USSR_REQ && !m->release) {
		on_screen(n, i);
		return;
	}
	n->st.ends++;
	bool whole = waited && d->step >= n->paths[d->path].n && !fail_text(n, m->text);
	dlg_end(n, i, whole ? USSD_NET_END_COMPLETED : USSD_NET_END_EARLY, false);
}

/* ---- arrivals ---- */

static uint32_t pick(struct sy_rng *r, uint64_t total, const uint32_t *weights, size_t stride, uint32_t n)
{
	if (total == 0)
		return 0;
	uint64_t x = sy_rng_below(r, total);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t w = *(const uint32_t *)((const char *)weights + i * stride);
		if (x < w)
			return i;
		x -= w;
	}
	return n - 1;
}

/* A handset dials: every draw happens whether or not it can, so the stream
 * does not depend on how the gateway keeps up. */
static void arrive(struct ussd_net *n)
{
	uint32_t code = pick(&n->rng, n->code_total, &n->cfg.codes[0].weight, sizeof(n->cfg.codes[0]), n->cfg.code_n);
	const struct ussd_net_code *k = &n->cfg.codes[code];
	uint32_t path = k->path_first + pick(&n->rng, n->path_total[code], &n->cfg.paths[k->path_first].weight,
					     sizeof(n->cfg.paths[0]), k->path_n);
	n->st.arrivals++;
	if (ussd_net_bound(n) == 0) {
		n->st.skipped_unbound++;
		return;
	}
	uint32_t h = handset_idle(n), i = h == UN_NIL ? UN_NIL : dlg_take(n);
	if (i == UN_NIL) {
		n->st.skipped_busy++;
		return;
	}
	struct un_dlg *d = un_dlg_at(n, i);
	uint64_t now = sy_env_now_ns(n->env);
	d->handset = h;
	d->code = (uint16_t)code;
	d->path = (uint16_t)path;
	d->ref = ref_next(n, h);
	d->step = n->paths[path].dialled;
	d->state = D_WAIT;
	d->begin_ns = d->sent_ns = now;
	if (n->on_end != NULL && (d->log = calloc(1, sizeof(*d->log))) != NULL) { /* else no transcript */
		dialled_fmt(n, d, d->log->dialled, sizeof(d->log->dialled));
		log_add(n, d, false, SMPP_USSD_PSSR_IND, false, d->log->dialled);
	}
	n->hs_dlg[h] = i;
	n->st.started++;
	n->st.open++;
	n->st.open_peak = SY_MAX(n->st.open_peak, n->st.open);
	wheel_add(n, i, n->cfg.handset_timeout_ns);
	dlg_send(n, i, SEND_DIAL);
}

static bool arrivals_over(const struct ussd_net *n)
{
	return n->stopping || (n->cfg.sessions_max != 0 && n->st.arrivals >= n->cfg.sessions_max);
}

static void on_arrival(void *arg)
{
	struct ussd_net *n = arg;
	n->t_arrival = 0;
	if (arrivals_over(n))
		return;
	arrive(n);
	if (!arrivals_over(n))
		un__schedule_arrival(n);
}

/* Poisson: exponential gaps; even: the k-th arrival at start + k / rate,
 * computed from k so rounding never accumulates. */
void un__schedule_arrival(struct ussd_net *n)
{
	uint64_t now = sy_env_now_ns(n->env);
	if (n->cfg.arrivals == USSD_NET_EVEN) {
		unsigned __int128 off = (unsigned __int128)n->arrival_k * 1000000000000ull / n->cfg.rate_milli;
		n->next_arrival_ns = n->start_ns + (uint64_t)off;
	} else if (n->arrival_k > 0) {
		n->next_arrival_ns += (uint64_t)(sy_rng_exp(&n->rng, 1e12 / (double)n->cfg.rate_milli) + 0.5);
	}
	n->arrival_k++;
	if (n->stop_at_ns != 0 && n->next_arrival_ns >= n->stop_at_ns)
		return;
	uint64_t delay = n->next_arrival_ns > now ? n->next_arrival_ns - now : 0;
	n->t_arrival = sy_env_timer_start(n->env, delay, on_arrival, n);
}
