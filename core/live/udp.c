/* udp.c: datagram sockets of the live backend: non-blocking UDP over IPv4
 * and IPv6, 4 MB socket buffers, batched reads with recvmmsg, and counters
 * that account for every datagram (sent, dropped on send, lost in the
 * kernel's receive queue, received). */
#include "core/live/live_int.h"

#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <unistd.h>

struct sy_dgram {
	struct live_link link;
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
	free(s);
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
	enum sy_rc rc = SY_ERR_IO;
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
	free(s);
	return rc;
}

enum sy_rc live__dgram_send(void *ctx, struct sy_dgram *s, const struct sy_addr *to, const void *buf, size_t len)
{
	struct sy_live *l = ctx;
	SY_ASSERT(!s->dead);
	if ((to->family != SY_AF_INET && to->family != SY_AF_INET6) || (to->family == SY_AF_INET6 && !s->v6)) {
		l->st.dgram_tx_errors++;
		return SY_ERR_INVAL;
	}
	struct sockaddr_storage ss;
	socklen_t sl = live__sockaddr(to, s->v6, &ss);
	ssize_t n;
	do
		n = sendto(s->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&ss, sl);
	while (n < 0 && errno == EINTR);
	if (n >= 0) {
		l->st.dgram_tx++;
		l->st.dgram_tx_bytes += len;
		return SY_OK;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
		l->st.dgram_tx_dropped++;
		return SY_AGAIN;
	}
	l->st.dgram_tx_errors++;
	live__log(l, SY_LOG_DEBUG, "udp: sendto: %s", strerror(errno));
	return errno == EMSGSIZE ? SY_ERR_INVAL : SY_ERR_IO;
}

static void udp_close(struct sy_dgram *s)
{
	SY_ASSERT(!s->dead);
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
