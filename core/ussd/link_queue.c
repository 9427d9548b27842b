/* link_queue.c: the FIFO of messages waiting for window space on a link
 * (link_int.h), and its draining. A record is
 *   u16 record length, u8 op, u8 flags (bit 0 release), u16 ref, u8 seq,
 *   u8 msisdn length, u8 code length, u16 text length, then the strings,
 * big-endian, written into a byte ring that wraps. */
#include <stdlib.h>
#include <string.h>

#include "core/ussd/link_int.h"

#define REC_HDR	       11
#define QUEUE_CAP_MIN  4096
#define QUEUE_CAP_KEEP (64 * 1024) /* a buffer this big is freed once empty */

static void ring_write(struct link_queue *q, size_t off, const void *src, size_t n)
{
	size_t at = (q->head + off) % q->cap, first = SY_MIN(n, q->cap - at);
	memcpy(q->buf + at, src, first);
	memcpy(q->buf, (const uint8_t *)src + first, n - first);
}

static void ring_read(const struct link_queue *q, size_t off, void *dst, size_t n)
{
	size_t at = (q->head + off) % q->cap, first = SY_MIN(n, q->cap - at);
	memcpy(dst, q->buf + at, first);
	memcpy((uint8_t *)dst + first, q->buf, n - first);
}

static enum sy_rc queue_grow(struct link_queue *q, size_t need)
{
	size_t cap = q->cap != 0 ? q->cap : QUEUE_CAP_MIN;
	while (cap < q->len + need)
		cap *= 2;
	if (cap == q->cap)
		return SY_OK;
	uint8_t *nb = malloc(cap);
	if (nb == NULL)
		return SY_ERR_FULL; /* memory is the bound here */
	if (q->len > 0)
		ring_read(q, 0, nb, q->len);
	free(q->buf);
	q->buf = nb;
	q->cap = cap;
	q->head = 0;
	return SY_OK;
}

enum sy_rc link__queue_put(struct link_queue *q, const struct ussd_msg *m)
{
	size_t ml = strlen(m->msisdn), cl = strlen(m->code), need = REC_HDR + ml + cl + m->text_len;
	SY_ASSERT(ml < USSD_MSISDN_MAX && cl < USSD_CODE_MAX && m->text_len < USSD_TEXT_UTF8_MAX);
	if (q->len + need > q->cap && queue_grow(q, need) != SY_OK)
		return SY_ERR_FULL;
	uint8_t h[REC_HDR] = {
	    (uint8_t)(need >> 8), (uint8_t)need, m->op,	      m->release ? 1 : 0, (uint8_t)(m->ref >> 8),
	    (uint8_t)m->ref,	  m->seq,	 (uint8_t)ml, (uint8_t)cl,	  (uint8_t)(m->text_len >> 8),
	    (uint8_t)m->text_len};
	ring_write(q, q->len, h, REC_HDR);
	ring_write(q, q->len + REC_HDR, m->msisdn, ml);
	ring_write(q, q->len + REC_HDR + ml, m->code, cl);
	ring_write(q, q->len + REC_HDR + ml + cl, m->text, m->text_len);
	q->len += need;
	q->n++;
	return SY_OK;
}

void link__queue_peek(const struct link_queue *q, struct ussd_msg *m)
{
	uint8_t h[REC_HDR];
	SY_ASSERT(q->n > 0);
	ring_read(q, 0, h, REC_HDR);
	size_t ml = h[7], cl = h[8];
	m->op = h[2];
	m->release = (h[3] & 1) != 0;
	m->ref = (uint16_t)(h[4] << 8 | h[5]);
	m->seq = h[6];
	m->text_len = (size_t)h[9] << 8 | h[10];
	SY_ASSERT(ml < USSD_MSISDN_MAX && cl < USSD_CODE_MAX && m->text_len < USSD_TEXT_UTF8_MAX);
	ring_read(q, REC_HDR, m->msisdn, ml);
	ring_read(q, REC_HDR + ml, m->code, cl);
	ring_read(q, REC_HDR + ml + cl, m->text, m->text_len);
	m->msisdn[ml] = '\0';
	m->code[cl] = '\0';
	m->text[m->text_len] = '\0';
}

void link__queue_pop(struct link_queue *q)
{
	uint8_t h[2];
	SY_ASSERT(q->n > 0);
	ring_read(q, 0, h, 2);
	size_t rec = (size_t)h[0] << 8 | h[1];
	SY_ASSERT(rec >= REC_HDR && rec <= q->len);
	q->head = (q->head + rec) % q->cap;
	q->len -= rec;
	q->n--;
	if (q->n == 0) {
		SY_ASSERT(q->len == 0);
		q->head = 0;
		if (q->cap > QUEUE_CAP_KEEP)
			link__queue_free(q);
	}
}

void link__queue_clear(struct link_queue *q)
{
	q->head = q->len = 0;
	q->n = 0;
	if (q->cap > QUEUE_CAP_KEEP)
		link__queue_free(q);
}

void link__queue_free(struct link_queue *q)
{
	free(q->buf);
	*q = (struct link_queue){0};
}

void link__drain(struct ussd_link *l)
{
	struct ussd_links *ls = l->ls;
	while (l->q.n > 0 && !ls->stopping) {
		struct link_conn *c = link__pick(l);
		if (c == NULL)
			return;
		link__queue_peek(&l->q, &ls->tx);
		enum sy_rc rc = link__send_now(l, c, &ls->tx);
		if (rc == SY_AGAIN)
			return;
		link__queue_pop(&l->q);
		if (rc != SY_OK)
			SY_LOG_LIMITED(ls->c.env, &l->log_lim, SY_LOG_WARN,
				       "ussd: link %s: a queued message was lost: %s", l->cfg->name, sy_rc_str(rc));
	}
}
