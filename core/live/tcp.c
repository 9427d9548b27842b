/* tcp.c: byte streams of the live backend on libevent bufferevents: listen
 * (evconnlistener), non-blocking connect, TCP_NODELAY, and the on_open /
 * on_data / on_close contract of core/env.h. A stream the owner closes is
 * flushed first and gets no more callbacks. */
#include "core/live/live_int.h"

#include <errno.h>
#include <fcntl.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>

/* Output a peer has not taken yet, at most: past it writes fail with
 * SY_ERR_FULL, an overload signal the owner sees before memory runs out. */
#define LIVE_STREAM_QUEUE_MAX (64u * 1024 * 1024)
/* How long a closed stream may take to flush its output. */
#define LIVE_STREAM_DRAIN_S 10

enum tcp_state {
	TCP_CONNECTING,
	TCP_OPEN,
	TCP_DRAINING, /* closed by the owner, flushing output; no callbacks */
	TCP_CLOSED,   /* on_close is running; freed right after it */
	TCP_MOVED,    /* exported to another loop: freed after the callback */
};

struct sy_stream {
	struct live_link link;
	struct sy_live *l;
	struct bufferevent *bev;
	struct sy_stream_cbs cbs;
	void *arg;
	struct sy_addr peer;
	enum tcp_state state;
	bool in_cb;	/* an owner callback is running: freeing waits for it */
	size_t cur_len; /* the input chunk on_data is handing out (not yet drained) */
};

struct sy_listener {
	struct live_link link;
	struct sy_live *l;
	struct evconnlistener *el;
	struct sy_stream_cbs cbs;
	void *arg;
	struct sy_addr local;
};

static void tcp_free(struct sy_stream *s)
{
	bufferevent_free(s->bev);
	live__link_del(&s->link);
	s->l->st.streams_closed++;
	free(s);
}

static void tcp_nodelay(struct bufferevent *bev)
{
	int one = 1;
	evutil_socket_t fd = bufferevent_getfd(bev);
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Runs after every owner callback: the owner may have closed the stream. */
static void tcp_after_cb(struct sy_stream *s)
{
	s->in_cb = false;
	if (s->state == TCP_CLOSED || s->state == TCP_MOVED ||
	    (s->state == TCP_DRAINING && evbuffer_get_length(bufferevent_get_output(s->bev)) == 0))
		tcp_free(s);
}

static void tcp_read_cb(struct bufferevent *bev, void *arg)
{
	struct sy_stream *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	sy_live_time_update(s->l);
	if (s->state != TCP_OPEN) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	s->in_cb = true;
	/* Hand out each contiguous chunk in place: no copy. */
	while (s->state == TCP_OPEN && evbuffer_get_length(in) > 0) {
		struct evbuffer_iovec v;
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
			break;
		s->l->st.stream_rx_bytes += v.iov_len;
		s->cur_len = v.iov_len;
		s->cbs.on_data(s->arg, s, v.iov_base, v.iov_len);
		s->cur_len = 0;
		evbuffer_drain(in, v.iov_len);
	}
	tcp_after_cb(s);
}

static void tcp_write_cb(struct bufferevent *bev, void *arg)
{
	struct sy_stream *s = arg;
	if (s->state == TCP_DRAINING && !s->in_cb)
		tcp_free(s); /* output flushed: the owner's close is complete */
}

static void tcp_opened(struct sy_stream *s)
{
	s->state = TCP_OPEN;
	s->l->st.streams_opened++;
	tcp_nodelay(s->bev);
	if (s->cbs.on_open == NULL)
		return;
	s->in_cb = true;
	s->cbs.on_open(s->arg, s);
	tcp_after_cb(s);
}

static void tcp_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct sy_stream *s = arg;
	sy_live_time_update(s->l);
	if (what & BEV_EVENT_CONNECTED) {
		if (s->state == TCP_CONNECTING)
			tcp_opened(s);
		return;
	}
	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)))
		return;
	if (s->state == TCP_DRAINING) {
		tcp_free(s); /* the owner is gone; nobody to tell */
		return;
	}
	enum sy_rc why = (what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) ? SY_OK : SY_ERR_IO;
	if (why != SY_OK) {
		char a[SY_ADDR_STRLEN];
		sy_addr_fmt(&s->peer, a, sizeof(a));
		live__log(s->l, SY_LOG_DEBUG, "tcp: %s: %s", a, evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	}
	s->state = TCP_CLOSED;
	s->in_cb = true;
	s->cbs.on_close(s->arg, s, why);
	tcp_after_cb(s);
}

static struct sy_stream *tcp_new(struct sy_live *l, evutil_socket_t fd, const struct sy_stream_cbs *cbs, void *arg)
{
	struct sy_stream *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->bev = bufferevent_socket_new(l->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (s->bev == NULL) {
		free(s);
		return NULL;
	}
	s->l = l;
	s->cbs = *cbs;
	s->arg = arg;
	s->state = TCP_CONNECTING;
	bufferevent_setcb(s->bev, tcp_read_cb, tcp_write_cb, tcp_event_cb, s);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	live__link_add(&l->streams, &s->link);
	return s;
}

static void tcp_accept_cb(struct evconnlistener *el, evutil_socket_t fd, struct sockaddr *sa, int sl, void *arg)
{
	struct sy_listener *ls = arg;
	sy_live_time_update(ls->l);
	struct sy_stream *s = tcp_new(ls->l, fd, &ls->cbs, ls->arg);
	if (s == NULL) {
		evutil_closesocket(fd);
		live__log(ls->l, SY_LOG_WARN, "tcp: accept: out of memory");
		return;
	}
	live__addr(sa, &s->peer);
	tcp_opened(s);
}

static void tcp_accept_error_cb(struct evconnlistener *el, void *arg)
{
	struct sy_listener *ls = arg;
	/* EMFILE and friends: the listener stays up and retries on the next
	 * readiness, so this is worth a warning, not a shutdown. */
	live__log(ls->l, SY_LOG_WARN, "tcp: accept: %s", evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

enum sy_rc live__stream_listen(void *ctx, const struct sy_addr *local, const struct sy_stream_cbs *cbs, void *arg,
			       struct sy_listener **out)
{
	struct sy_live *l = ctx;
	*out = NULL;
	if (local == NULL || (local->family != SY_AF_INET && local->family != SY_AF_INET6) || cbs->on_close == NULL ||
	    cbs->on_data == NULL)
		return SY_ERR_INVAL;
	struct sy_listener *ls = calloc(1, sizeof(*ls));
	if (ls == NULL)
		return SY_ERR_NOMEM;
	*ls = (struct sy_listener){.l = l, .cbs = *cbs, .arg = arg};
	struct sockaddr_storage ss;
	socklen_t sl = live__sockaddr(local, local->family == SY_AF_INET6, &ss);
	unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC;
	ls->el = evconnlistener_new_bind(l->base, tcp_accept_cb, ls, flags, 1024, (struct sockaddr *)&ss, (int)sl);
	if (ls->el == NULL) {
		char a[SY_ADDR_STRLEN];
		sy_addr_fmt(local, a, sizeof(a));
		live__log(l, SY_LOG_ERROR, "tcp: listen %s: %s", a, strerror(errno));
		free(ls);
		return SY_ERR_IO;
	}
	evconnlistener_set_error_cb(ls->el, tcp_accept_error_cb);
	sl = sizeof(ss);
	if (getsockname(evconnlistener_get_fd(ls->el), (struct sockaddr *)&ss, &sl) == 0)
		live__addr((struct sockaddr *)&ss, &ls->local);
	live__link_add(&l->listeners, &ls->link);
	*out = ls;
	return SY_OK;
}

void live__listener_close(void *ctx, struct sy_listener *ls)
{
	evconnlistener_free(ls->el);
	live__link_del(&ls->link);
	free(ls);
}

void sy_live_listener_local(struct sy_live *l, struct sy_listener *ls, struct sy_addr *out)
{
	*out = ls->local;
}

enum sy_rc live__stream_connect(void *ctx, const struct sy_addr *remote, const struct sy_stream_cbs *cbs, void *arg,
				struct sy_stream **out)
{
	struct sy_live *l = ctx;
	*out = NULL;
	if (remote == NULL || (remote->family != SY_AF_INET && remote->family != SY_AF_INET6) ||
	    cbs->on_close == NULL || cbs->on_data == NULL)
		return SY_ERR_INVAL;
	struct sy_stream *s = tcp_new(l, -1, cbs, arg);
	if (s == NULL)
		return SY_ERR_NOMEM;
	s->peer = *remote;
	struct sockaddr_storage ss;
	socklen_t sl = live__sockaddr(remote, remote->family == SY_AF_INET6, &ss);
	/* A refused connect is reported later through the event callback
	 * (libevent defers it), so on_close never runs inside this call. */
	if (bufferevent_socket_connect(s->bev, (struct sockaddr *)&ss, (int)sl) != 0) {
		live__log(l, SY_LOG_DEBUG, "tcp: connect: %s", strerror(errno));
		tcp_free(s);
		return SY_ERR_IO;
	}
	*out = s;
	return SY_OK;
}

enum sy_rc live__stream_write(void *ctx, struct sy_stream *s, const void *buf, size_t len)
{
	if (s->state != TCP_OPEN && s->state != TCP_CONNECTING)
		return SY_ERR_STATE;
	struct evbuffer *o = bufferevent_get_output(s->bev);
	if (evbuffer_get_length(o) + len > LIVE_STREAM_QUEUE_MAX)
		return SY_ERR_FULL;
	if (len == 0)
		return SY_OK;
	if (bufferevent_write(s->bev, buf, len) != 0)
		return SY_ERR_NOMEM;
	s->l->st.stream_tx_bytes += len;
	return SY_OK;
}

void live__stream_set_arg(void *ctx, struct sy_stream *s, void *arg)
{
	s->arg = arg;
}

size_t live__stream_queued(void *ctx, struct sy_stream *s)
{
	return evbuffer_get_length(bufferevent_get_output(s->bev));
}

void live__stream_close(void *ctx, struct sy_stream *s)
{
	SY_ASSERT(s->state != TCP_DRAINING); /* closed twice */
	if (s->state == TCP_CLOSED)
		return; /* inside on_close: it is freed when that returns */
	s->state = TCP_DRAINING;
	bufferevent_disable(s->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(s->bev)) == 0) {
		if (!s->in_cb)
			tcp_free(s); /* else tcp_after_cb() frees it */
		return;
	}
	/* Flush (after the connect completes, if it has not yet), then free;
	 * a peer that never reads is cut off by the write timeout. */
	struct timeval drain = {.tv_sec = LIVE_STREAM_DRAIN_S, .tv_usec = 0};
	bufferevent_set_timeouts(s->bev, NULL, &drain);
}

void live__stream_peer(void *ctx, struct sy_stream *s, struct sy_addr *out)
{
	*out = s->peer;
}

void live__stream_local(void *ctx, struct sy_stream *s, struct sy_addr *out)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	evutil_socket_t fd = bufferevent_getfd(s->bev);
	memset(out, 0, sizeof(*out));
	if (fd >= 0 && getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		live__addr((struct sockaddr *)&ss, out);
}

/* ---- moving a stream to another loop (live.h) ---- */

struct sy_live_moved {
	evutil_socket_t fd; /* -1 once imported */
	struct sy_addr peer;
	struct sy_stream_cbs cbs;
	size_t out_len, in_len;
	uint8_t bytes[]; /* output not yet sent, then input not yet handed out */
};

enum sy_rc sy_live_stream_export(struct sy_live *l, struct sy_stream *s, struct sy_live_moved **out)
{
	SY_ASSERT(s->l == l && s->state == TCP_OPEN && s->in_cb);
	*out = NULL;
	struct evbuffer *in = bufferevent_get_input(s->bev), *o = bufferevent_get_output(s->bev);
	size_t have = evbuffer_get_length(in), skip = SY_MIN(s->cur_len, have);
	size_t in_len = have - skip, out_len = evbuffer_get_length(o);
	struct sy_live_moved *m = malloc(sizeof(*m) + out_len + in_len);
	if (m == NULL)
		return SY_ERR_NOMEM;
	/* The socket outlives this loop's handle on it: a duplicate goes, the
	 * original is closed with the bufferevent. Both events leave this
	 * loop's epoll first (an epoll registration follows the open file, not
	 * the descriptor, so a late one would keep firing here). */
	bufferevent_disable(s->bev, EV_READ | EV_WRITE);
	m->fd = fcntl(bufferevent_getfd(s->bev), F_DUPFD_CLOEXEC, 0);
	if (m->fd < 0) {
		live__log(l, SY_LOG_WARN, "tcp: moving a stream: %s", strerror(errno));
		free(m);
		bufferevent_enable(s->bev, EV_READ | EV_WRITE);
		return SY_ERR_IO;
	}
	m->peer = s->peer;
	m->cbs = s->cbs;
	m->out_len = out_len;
	m->in_len = in_len;
	if (out_len > 0)
		evbuffer_copyout(o, m->bytes, out_len);
	if (in_len > 0) {
		struct evbuffer_ptr at;
		evbuffer_ptr_set(in, &at, skip, EVBUFFER_PTR_SET);
		evbuffer_copyout_from(in, &at, m->bytes + out_len, in_len);
	}
	s->state = TCP_MOVED; /* tcp_after_cb frees it, when this callback returns */
	*out = m;
	return SY_OK;
}

enum sy_rc sy_live_stream_import(struct sy_live *l, struct sy_live_moved *m, void *arg, struct sy_stream **out)
{
	SY_ASSERT(m->fd >= 0);
	*out = NULL;
	struct sy_stream *s = tcp_new(l, m->fd, &m->cbs, arg);
	if (s == NULL)
		return SY_ERR_NOMEM; /* m still holds the socket: sy_live_moved_free closes it */
	m->fd = -1;
	s->peer = m->peer;
	s->state = TCP_OPEN;
	l->st.streams_opened++;
	if (m->out_len > 0 && bufferevent_write(s->bev, m->bytes, m->out_len) != 0) {
		live__stream_close(l, s);
		return SY_ERR_NOMEM;
	}
	*out = s;
	return SY_OK;
}

size_t sy_live_moved_unread(const struct sy_live_moved *m, const uint8_t **buf)
{
	*buf = m->bytes + m->out_len;
	return m->in_len;
}

void sy_live_moved_free(struct sy_live_moved *m)
{
	if (m == NULL)
		return;
	if (m->fd >= 0)
		evutil_closesocket(m->fd);
	free(m);
}

void live__stream_close_all(struct sy_live *l)
{
	while (l->streams.next != &l->streams) {
		struct sy_stream *s = SY_CONTAINER_OF(l->streams.next, struct sy_stream, link);
		bufferevent_free(s->bev);
		live__link_del(&s->link);
		free(s);
	}
	while (l->listeners.next != &l->listeners)
		live__listener_close(l, SY_CONTAINER_OF(l->listeners.next, struct sy_listener, link));
}
