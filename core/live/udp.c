/* udp.c: datagram sockets of the live backend: non-blocking UDP over IPv4
 * and IPv6, 4 MB socket buffers, batched reads with recvmmsg, batched
 * writes with sendmmsg, and counters that account for every datagram (sent,
 * dropped on send, lost in the kernel's receive queue, received). */
#include "core/live/live_int.h"

#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <unistd.h>

/* Outgoing datagrams waiting for the end of the loop iteration: one
 * sendmmsg for up to LIVE_TX_QUEUE of them instead of one sendto each. */
struct udp_txq {
	uint32_t n;
	struct mmsghdr msg[LIVE_TX_QUEUE];
	struct iovec iov[LIVE_TX_QUEUE];
	struct sockaddr_in6 name[LIVE_TX_QUEUE]; /* large enough for either family */
	uint8_t data[LIVE_TX_QUEUE][LIVE_TX_SLOT];
};

struct sy_dgram {
	struct live_link link;
	struct live_link tx_link; /* in l->tx_pending while txq->n > 0 */
	struct udp_txq *txq;
	struct sy_live *l;
	struct event *ev;
	int fd;
	bool v6;
	bool in_cb;	    /* inside the receive batch: close must not free yet */
	bool dead;	    /* closed by the owner during the batch */
	uint32_t ovfl_seen; /* last SO_RXQ_OVFL value: the kernel's drop count */
	sy_dgram_recv_fn fn;
	void *arg;
	struct sy_addr local;
};

/* As root SO_*BUFFORCE ignores net.core.[rw]mem_max; otherwise the kernel
 * caps the plain option there. 64 KB buffers drop UDP on loopback at a few
 * thousand messages per second, so this matters (see DESIGN.md on SIPp). */
static void udp_sockbuf(struct sy_live *l, int fd)
{
	int v = LIVE_SOCKBUF_BYTES;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) != 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)) != 0)
		live__log(l, SY_LOG_WARN, "udp: SO_RCVBUF %d failed: %s", v, strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) != 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)) != 0)
		live__log(l, SY_LOG_WARN, "udp: SO_SNDBUF %d failed: %s", v, strerror(errno));
}

static void udp_free(struct sy_dgram *s)
{
	free(s->txq);
	free(s);
}

static struct udp_txq *udp_txq_new(void)
{
	struct udp_txq *q = malloc(sizeof(*q));
	if (q == NULL)
		return NULL;
	q->n = 0;
	for (unsigned i = 0; i < LIVE_TX_QUEUE; i++) {
		q->iov[i].iov_base = q->data[i];
		q->msg[i].msg_hdr = (struct msghdr){.msg_name = &q->name[i], .msg_iov = &q->iov[i], .msg_iovlen = 1};
	}
	return q;
}

/* SO_RXQ_OVFL attaches the socket's cumulative drop counter to each read. */
static void udp_note_overflow(struct sy_dgram *s, struct msghdr *h)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c != NULL; c = CMSG_NXTHDR(h, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SO_RXQ_OVFL || c->cmsg_len < CMSG_LEN(4))
			continue;
		uint32_t v;
		memcpy(&v, CMSG_DATA(c), sizeof(v));
		s->l->st.dgram_rx_overflow += (uint32_t)(v - s->ovfl_seen);
		s->ovfl_seen = v;
	}
}

static void udp_deliver(struct sy_dgram *s, int n)
{
	struct sy_live *l = s->l;
	for (int i = 0; i < n && !s->dead; i++) {
		struct msghdr *h = &l->rx_msg[i].msg_hdr;
		size_t len = l->rx_msg[i].msg_len;
		if (h->msg_controllen > 0)
			udp_note_overflow(s, h);
		if (h->msg_flags & MSG_TRUNC || len > LIVE_RX_DGRAM_MAX) {
			l->st.dgram_rx_truncated++;
			continue;
		}
		struct sy_addr from;
		live__addr((const struct sockaddr *)h->msg_name, &from);
		l->st.dgram_rx++;
		l->st.dgram_rx_bytes += len;
		s->fn(s->arg, s, &from, l->rx_iov[i].iov_base, len);
	}
}

static void udp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sy_dgram *s = arg;
	struct sy_live *l = s->l;
	sy_live_time_update(l);
	s->in_cb = true;
	for (unsigned calls = 0; calls < LIVE_RX_CALLS_MAX && !s->dead; calls++) {
		for (unsigned i = 0; i < LIVE_RX_BATCH; i++) {
			l->rx_msg[i].msg_hdr.msg_namelen = sizeof(l->rx_name[i]);
			l->rx_msg[i].msg_hdr.msg_controllen = sizeof(l->rx_ctrl[i]);
			l->rx_msg[i].msg_hdr.msg_flags = 0;
		}
		int n = recvmmsg(fd, l->rx_msg, LIVE_RX_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				live__log(l, SY_LOG_DEBUG, "udp: recvmmsg: %s", strerror(errno));
			break;
		}
		udp_deliver(s, n);
		if (n < LIVE_RX_BATCH)
			break; /* drained: do not pay for a call that returns EAGAIN */
	}
	s->in_cb = false;
	if (s->dead)
		udp_free(s);
}

static enum sy_rc udp_bind(struct sy_dgram *s, const struct sy_addr *local)
{
	struct sockaddr_storage ss;
	socklen_t sl = live__sockaddr(local, s->v6, &ss);
	int one = 1;
	setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(s->fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
	udp_sockbuf(s->l, s->fd);
	if (bind(s->fd, (struct sockaddr *)&ss, sl) != 0) {
		char a[SY_ADDR_STRLEN];
		sy_addr_fmt(local, a, sizeof(a));
		live__log(s->l, SY_LOG_ERROR, "udp: bind %s: %s", a, strerror(errno));
		return SY_ERR_IO;
	}
	sl = sizeof(ss);
	if (getsockname(s->fd, (struct sockaddr *)&ss, &sl) != 0)
		return SY_ERR_IO;
	live__addr((struct sockaddr *)&ss, &s->local);
	return SY_OK;
}

enum sy_rc live__dgram_open(void *ctx, const struct sy_addr *local, sy_dgram_recv_fn fn, void *arg,
			    struct sy_dgram **out)
{
	struct sy_live *l = ctx;
	*out = NULL;
	if (local->family != SY_AF_INET && local->family != SY_AF_INET6)
		return SY_ERR_INVAL;
	struct sy_dgram *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return SY_ERR_NOMEM;
	*s = (struct sy_dgram){.l = l, .fn = fn, .arg = arg, .v6 = local->family == SY_AF_INET6};
	live__link_init(&s->tx_link);
	enum sy_rc rc = SY_ERR_NOMEM;
	s->txq = udp_txq_new();
	if (s->txq == NULL)
		goto out_free;
	rc = SY_ERR_IO;
	s->fd = socket(s->v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		goto out_free;
	rc = udp_bind(s, local);
	if (rc != SY_OK)
		goto out_close;
	rc = SY_ERR_NOMEM;
	s->ev = event_new(l->base, s->fd, EV_READ | EV_PERSIST, udp_read_cb, s);
	if (s->ev == NULL)
		goto out_close;
	if (event_add(s->ev, NULL) != 0)
		goto out_free_ev;
	live__link_add(&l->dgrams, &s->link);
	*out = s;
	return SY_OK;
out_free_ev:
	event_free(s->ev);
out_close:
	close(s->fd);
out_free:
	udp_free(s);
	return rc;
}

/* A send the kernel refused: EAGAIN and ENOBUFS are a full buffer (a drop,
 * as a congested network would do), anything else is an error. */
static enum sy_rc udp_tx_failed(struct sy_live *l, int err)
{
	if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS) {
		l->st.dgram_tx_dropped++;
		return SY_AGAIN;
	}
	l->st.dgram_tx_errors++;
	live__log(l, SY_LOG_DEBUG, "udp: send: %s", strerror(err));
	return err == EMSGSIZE ? SY_ERR_INVAL : SY_ERR_IO;
}

static enum sy_rc udp_sendto(struct sy_dgram *s, const struct sy_addr *to, const void *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = live__sockaddr(to, s->v6, &ss);
	ssize_t n;
	do
		n = sendto(s->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&ss, sl);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return udp_tx_failed(s->l, errno);
	s->l->st.dgram_tx++;
	s->l->st.dgram_tx_bytes += len;
	return SY_OK;
}

/* Hands the queue to the kernel in as few calls as it takes. sendmmsg stops
 * at the first datagram it cannot send and reports only how many went; the
 * next call then fails on that one, which is counted and skipped, so each
 * datagram is tried once, as with sendto. */
static void udp_flush(struct sy_dgram *s)
{
	struct udp_txq *q = s->txq;
	struct sy_live *l = s->l;
	uint32_t i = 0;
	while (i < q->n) {
		int r = sendmmsg(s->fd, &q->msg[i], q->n - i, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r > 0) {
			for (uint32_t k = i; k < i + (uint32_t)r; k++)
				l->st.dgram_tx_bytes += q->iov[k].iov_len;
			l->st.dgram_tx += (uint32_t)r;
			i += (uint32_t)r;
		} else if (r < 0 && errno == EINTR) {
			continue;
		} else {
			(void)udp_tx_failed(l, r < 0 ? errno : EAGAIN);
			i++;
		}
	}
	q->n = 0;
	live__link_del(&s->tx_link);
}

void live__dgram_flush_all(struct sy_live *l)
{
	while (l->tx_pending.next != &l->tx_pending)
		udp_flush(SY_CONTAINER_OF(l->tx_pending.next, struct sy_dgram, tx_link));
}

/* Queues a copy; the loop flushes it at the end of this iteration, or now
 * when the queue is full. A refusal by the kernel then shows only in the
 * counters, which is why SY_AGAIN is no longer returned for queued sends. */
enum sy_rc live__dgram_send(void *ctx, struct sy_dgram *s, const struct sy_addr *to, const void *buf, size_t len)
{
	struct sy_live *l = ctx;
	SY_ASSERT(!s->dead);
	if ((to->family != SY_AF_INET && to->family != SY_AF_INET6) || (to->family == SY_AF_INET6 && !s->v6)) {
		l->st.dgram_tx_errors++;
		return SY_ERR_INVAL;
	}
	struct udp_txq *q = s->txq;
	if (len > LIVE_TX_SLOT) {
		if (q->n > 0)
			udp_flush(s); /* keep the order they were sent in */
		return udp_sendto(s, to, buf, len);
	}
	struct sockaddr_storage ss;
	socklen_t sl = live__sockaddr(to, s->v6, &ss);
	SY_ASSERT(sl <= sizeof(q->name[0]));
	uint32_t i = q->n++;
	memcpy(&q->name[i], &ss, sl);
	q->msg[i].msg_hdr.msg_namelen = sl;
	memcpy(q->data[i], buf, len);
	q->iov[i].iov_len = len;
	if (i == 0)
		live__link_add(&l->tx_pending, &s->tx_link);
	if (q->n == LIVE_TX_QUEUE)
		udp_flush(s);
	return SY_OK;
}

static void udp_close(struct sy_dgram *s)
{
	SY_ASSERT(!s->dead);
	if (s->txq->n > 0)
		udp_flush(s); /* what was sent before close still goes */
	event_free(s->ev);
	close(s->fd);
	live__link_del(&s->link);
	s->dead = true;
	if (!s->in_cb)
		udp_free(s);
}

void live__dgram_close(void *ctx, struct sy_dgram *s)
{
	udp_close(s);
}

void live__dgram_local(void *ctx, struct sy_dgram *s, struct sy_addr *out)
{
	*out = s->local;
}

void live__dgram_close_all(struct sy_live *l)
{
	while (l->dgrams.next != &l->dgrams)
		udp_close(SY_CONTAINER_OF(l->dgrams.next, struct sy_dgram, link));
}
