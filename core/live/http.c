/* http.c: evhttp adapted to the API's abstract request (core/api/api.h),
 * with the limits of http.h; see there.
 *
 * libevent 2.1 has no connection cap nor a hook per accepted connection,
 * so connections are tracked through its bufferevent callback: each new
 * connection's bufferevent is noted, and a zero-delay event (which runs
 * before the loop polls again, so before any byte of it is read) looks
 * up its socket, its peer and its evhttp connection, then keeps it (with a
 * close callback and a deadline timer) or frees it at once.
 *
 * Those sockets are libevent's, not the env's, so a tap (--pcap, hep)
 * cannot see them: with limits.capture set, a kept TCP/IP connection's
 * buffers carry callbacks that copy what is read and what is queued to be
 * sent to the tap (capture_*() below). Without it nothing is added. */
#include "http.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "core/htab.h"
#include "core/pcap/tap.h"
#include "core/sec/limit.h"
#include "live.h"
#include "live_int.h"

struct http_req;

/* One kept connection: its evhttp connection, peer and deadline. */
struct http_conn {
	struct sy_hnode node; /* in sy_http.by_evcon, keyed by the evcon pointer's bytes */
	struct sy_http *h;
	struct evhttp_connection *evcon;
	struct bufferevent *bev;
	struct sy_addr from;
	bool per_source;	  /* holds a slot of the per-source cap (IP peers) */
	struct event *deadline;	  /* armed while no request is in the handler's hands */
	struct evbuffer_cb_entry *sniff;
	struct http_req *pending; /* the request in the handler's hands */
	struct http_conn *next_fresh;
	/* Captured (limits.capture, an IP peer): its connection in the tap,
	 * our address, the callbacks on its buffers, and what evhttp queued
	 * since the loop last ran, recorded as one segment (evhttp queues a
	 * response a header line at a time; the socket sends it at once). */
	uint64_t cap_conn;
	struct sy_addr cap_local;
	struct evbuffer_cb_entry *cap_in, *cap_out;
	struct evbuffer *cap_pend;
	struct event *cap_flush;
};

struct sy_http {
	struct sy_live *live;
	const struct sy_env *env;
	struct evhttp *http;
	sy_http_fn fn;
	void *arg;
	struct sy_http_limits lim;
	struct api_http_stats dummy; /* lim.stats when none given */
	struct sy_srclimit *per_source;
	struct sy_htab by_evcon;
	uint32_t open;
	struct http_conn *fresh; /* accepted, not yet looked at */
	struct event *check_ev;
	struct http_req *pending; /* every request in the handler's hands */
};

/* One request in the handler's hands: freed by its reply. Orphaned (req
 * NULL) when the server stopped first. */
struct http_req {
	struct api_req api;
	struct evhttp_request *req;
	struct sy_http *h;
	struct http_conn *conn; /* NULL: the connection is gone */
	struct sy_addr from;
	struct http_req *prev, *next;
};

static const char *reason(int code)
{
	switch (code) {
	case 200: return "OK";
	case 202: return "Accepted";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Payload Too Large";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	default: return "Error";
	}
}

static void send_reply(struct evhttp_request *req, int code, const char *type, const char *body, size_t len)
{
	struct evbuffer *b = evbuffer_new();
	if (b != NULL && len > 0)
		evbuffer_add(b, body, len);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type);
	evhttp_send_reply(req, code, reason(code), b);
	if (b != NULL)
		evbuffer_free(b);
}

/* ---- connections ---- */

static void deadline_arm(struct http_conn *c)
{
	struct timeval tv = {(time_t)(c->h->lim.timeout_ns / SY_NS_PER_S),
			     (suseconds_t)(c->h->lim.timeout_ns % SY_NS_PER_S / 1000)};
	evtimer_add(c->deadline, &tv);
}

/* ---- capture (limits.capture) ---- */

/* The peer's address (for the caps) and, when capturing, ours. */
static void conn_addrs(struct http_conn *c, int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
		live__addr((struct sockaddr *)&ss, &c->from);
	sl = sizeof(ss);
	if (c->h->lim.capture != NULL && c->from.family != 0 && getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		live__addr((struct sockaddr *)&ss, &c->cap_local);
}

static void capture_seg(struct http_conn *c, enum pcap_seg_kind kind, bool from_peer, const void *data, size_t len)
{
	struct pcap_seg s = {.proto = PCAP_PROTO_TCP,
			     .kind = kind,
			     .src = from_peer ? c->from : c->cap_local,
			     .dst = from_peer ? c->cap_local : c->from,
			     .conn = c->cap_conn,
			     .data = data,
			     .len = len};
	pcap_tap_record(c->h->lim.capture, &s);
}

/* The n bytes just appended to b, copied (NULL: out of memory). */
static uint8_t *capture_tail(struct evbuffer *b, size_t n)
{
	size_t len = evbuffer_get_length(b);
	struct evbuffer_ptr pos;
	uint8_t *copy = n <= len ? malloc(n) : NULL;
	if (copy != NULL && (evbuffer_ptr_set(b, &pos, len - n, EVBUFFER_PTR_SET) != 0 ||
			     evbuffer_copyout_from(b, &pos, copy, n) != (ev_ssize_t)n)) {
		free(copy);
		return NULL;
	}
	return copy;
}

/* Bytes read from the peer: recorded as they come (one read, one
 * segment). evhttp only takes bytes out of this buffer. */
static void capture_in(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
	struct http_conn *c = arg;
	uint8_t *copy = info->n_added > 0 ? capture_tail(b, info->n_added) : NULL;
	if (copy != NULL)
		capture_seg(c, PCAP_SEG_DATA, true, copy, info->n_added);
	free(copy);
}

static void capture_flush(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn *c = arg;
	size_t n = evbuffer_get_length(c->cap_pend);
	uint8_t *p = n > 0 ? evbuffer_pullup(c->cap_pend, -1) : NULL;
	if (p != NULL)
		capture_seg(c, PCAP_SEG_DATA, false, p, n);
	evbuffer_drain(c->cap_pend, n);
}

/* Bytes evhttp queued for the peer: kept until the callbacks of this loop
 * pass are done (the socket writes them on a later one), then recorded. */
static void capture_out(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
	struct http_conn *c = arg;
	uint8_t *copy = info->n_added > 0 ? capture_tail(b, info->n_added) : NULL;
	if (copy == NULL)
		return;
	if (evbuffer_get_length(c->cap_pend) == 0)
		event_active(c->cap_flush, EV_TIMEOUT, 0);
	evbuffer_add(c->cap_pend, copy, info->n_added);
	free(copy);
}

/* A kept connection: its handshake, then both directions. */
static void capture_start(struct http_conn *c)
{
	if (c->h->lim.capture == NULL || c->from.family == 0 || c->cap_local.family == 0)
		return;
	c->cap_pend = evbuffer_new();
	c->cap_flush = event_new(sy_live_base(c->h->live), -1, 0, capture_flush, c);
	if (c->cap_pend == NULL || c->cap_flush == NULL) {
		SY_LOG(c->h->env, SY_LOG_WARN, "http: out of memory: a connection left out of the capture");
		return; /* capture_close frees what was made */
	}
	c->cap_conn = pcap_tap_conn_id(c->h->lim.capture);
	capture_seg(c, PCAP_SEG_OPEN, true, NULL, 0);
	c->cap_in = evbuffer_add_cb(bufferevent_get_input(c->bev), capture_in, c);
	c->cap_out = evbuffer_add_cb(bufferevent_get_output(c->bev), capture_out, c);
}

/* The connection is going: what is still queued, then the FIN of the side
 * that closed (the peer, when its FIN is what is left to read). */
static void capture_close(struct http_conn *c)
{
	if (c->cap_conn != 0) {
		char b;
		int fd = bufferevent_getfd(c->bev);
		bool peer = fd >= 0 && recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
		capture_flush(-1, 0, c);
		capture_seg(c, PCAP_SEG_CLOSE, peer, NULL, 0);
		evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->cap_in);
		evbuffer_remove_cb_entry(bufferevent_get_output(c->bev), c->cap_out);
	}
	if (c->cap_flush != NULL)
		event_free(c->cap_flush);
	if (c->cap_pend != NULL)
		evbuffer_free(c->cap_pend);
}

/* A connection over a cap: accepted by the kernel, closed by us at once. */
static void capture_refused(struct http_conn *c)
{
	if (c->h->lim.capture == NULL || c->from.family == 0 || c->cap_local.family == 0)
		return;
	c->cap_conn = pcap_tap_conn_id(c->h->lim.capture);
	capture_seg(c, PCAP_SEG_OPEN, true, NULL, 0);
	capture_seg(c, PCAP_SEG_CLOSE, false, NULL, 0);
}

static struct sy_str conn_key(struct evhttp_connection *const *evcon)
{
	return (struct sy_str){(const char *)evcon, sizeof(*evcon)};
}

/* evhttp frees the connection (peer gone, error, timeout, stop): give back
 * its slots. Runs once per kept connection. */
static void conn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct http_conn *c = arg;
	struct sy_http *h = c->h;
	sy_htab_remove(&h->by_evcon, &c->node);
	if (c->per_source)
		sy_srclimit_conn_close(h->per_source, &c->from);
	h->open--;
	h->lim.stats->conns_open = h->open;
	if (c->pending != NULL)
		c->pending->conn = NULL;
	capture_close(c);
	evbuffer_remove_cb_entry(bufferevent_get_output(c->bev), c->sniff);
	event_free(c->deadline);
	free(c);
}

/* The request did not arrive whole in time (a slowloris sends its header
 * a byte at a time; libevent's own timeout restarts on every byte), or the
 * connection sat idle: close it. No request is in the handler's hands. */
static void conn_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn *c = arg;
	c->h->lim.stats->timeouts++;
	evhttp_connection_free(c->evcon); /* conn_closed frees c */
}

/* Counts the answers libevent's parser gives itself, for requests that
 * never reach the handler: 413 for a body over max_body, 400 for a
 * malformed request or a header over max_header (libevent 2.1 has no 431).
 * A response starts in an empty output buffer; the handler's own are
 * written while its request is still pending. */
static void out_sniff(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
	struct http_conn *c = arg;
	char line[12];
	if (c->pending != NULL || info->orig_size != 0 || info->n_added < 12 || evbuffer_copyout(b, line, 12) != 12 ||
	    memcmp(line, "HTTP/1.", 7) != 0)
		return;
	if (memcmp(line + 8, " 413", 4) == 0)
		c->h->lim.stats->too_large++;
	else if (memcmp(line + 8, " 400", 4) == 0)
		c->h->lim.stats->bad_request++;
}

/* Whether the connection may stay: under the global cap, and under its
 * source's cap. */
static bool conn_admit(struct sy_http *h, struct http_conn *c)
{
	if (h->open >= h->lim.max_conns)
		return false;
	if (c->from.family != 0) { /* unix sockets (tests, fuzz) have no source */
		if (!sy_srclimit_conn_open(h->per_source, &c->from, sy_env_now_ns(h->env)))
			return false;
		c->per_source = true;
	}
	return true;
}

static void conn_keep(struct sy_http *h, struct http_conn *c)
{
	capture_start(c);
	h->open++;
	h->lim.stats->conns_open = h->open;
	sy_htab_insert(&h->by_evcon, &c->node, conn_key(&c->evcon));
	evhttp_connection_set_closecb(c->evcon, conn_closed, c);
	c->sniff = evbuffer_add_cb(bufferevent_get_output(c->bev), out_sniff, c);
	deadline_arm(c);
}

/* The connections accepted since the last look, before any of their bytes
 * is read: keep or close each. */
static void check_fresh(evutil_socket_t fd_unused, short what, void *arg)
{
	struct sy_http *h = arg;
	sy_live_time_update(h->live);
	while (h->fresh != NULL) {
		struct http_conn *c = h->fresh;
		h->fresh = c->next_fresh;
		void *cbarg = NULL;
		bufferevent_getcb(c->bev, NULL, NULL, NULL, &cbarg);
		c->evcon = cbarg; /* evhttp's callback argument is its connection */
		int fd = bufferevent_getfd(c->bev);
		c->deadline = evtimer_new(sy_live_base(h->live), conn_deadline, c);
		h->lim.stats->conns_accepted++;
		if (fd >= 0)
			conn_addrs(c, fd);
		if (c->evcon == NULL || fd < 0 || c->deadline == NULL || !conn_admit(h, c)) {
			h->lim.stats->conns_refused++;
			capture_refused(c);
			if (c->deadline != NULL)
				event_free(c->deadline);
			if (c->evcon != NULL)
				evhttp_connection_free(c->evcon);
			free(c);
			continue;
		}
		conn_keep(h, c);
	}
}

/* evhttp's hook for a new connection's bufferevent: note it for
 * check_fresh(). The socket is set on it after this returns. */
static struct bufferevent *new_bev(struct event_base *base, void *arg)
{
	struct sy_http *h = arg;
	struct bufferevent *bev = bufferevent_socket_new(base, -1, 0);
	struct http_conn *c = calloc(1, sizeof(*c));
	if (bev == NULL || c == NULL) {
		free(c);
		return bev; /* untracked: its requests get 503 (dispatch) */
	}
	c->h = h;
	c->bev = bev;
	c->next_fresh = h->fresh;
	h->fresh = c;
	event_active(h->check_ev, EV_TIMEOUT, 0);
	return bev;
}

static struct http_conn *conn_of(struct sy_http *h, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct sy_hnode *n = evcon != NULL ? sy_htab_find(&h->by_evcon, conn_key(&evcon)) : NULL;
	return n != NULL ? (struct http_conn *)n : NULL;
}

/* ---- requests ---- */

static const char *req_header(void *ctx, const char *name)
{
	struct http_req *r = ctx;
	return evhttp_find_header(evhttp_request_get_input_headers(r->req), name);
}

static void req_add_header(void *ctx, const char *name, const char *value)
{
	struct http_req *r = ctx;
	if (r->req != NULL)
		evhttp_add_header(evhttp_request_get_output_headers(r->req), name, value);
}

static void pending_del(struct sy_http *h, struct http_req *r)
{
	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		h->pending = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
}

static void req_reply(void *ctx, int code, const char *type, const char *body, size_t len)
{
	struct http_req *r = ctx;
	if (r->req != NULL) {
		send_reply(r->req, code, type, body, len);
		pending_del(r->h, r);
	}
	if (r->conn != NULL) {
		r->conn->pending = NULL;
		deadline_arm(r->conn); /* the next request on it, within the timeout */
	}
	free((char *)r->api.body.p);
	free(r);
}

static const struct api_req_ops req_ops = {req_header, req_add_header, req_reply};

static const char *method_name(enum evhttp_cmd_type m)
{
	return m == EVHTTP_REQ_GET ? "GET" : m == EVHTTP_REQ_POST ? "POST" : "OTHER";
}

static void dispatch(struct evhttp_request *req, void *arg)
{
	struct sy_http *h = arg;
	sy_live_time_update(h->live);
	struct http_conn *c = conn_of(h, req);
	const char *uri = evhttp_request_get_uri(req);
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	struct http_req *r = c != NULL ? calloc(1, sizeof(*r)) : NULL;
	char *body = r != NULL ? malloc(len + 1) : NULL;
	if (body == NULL) {
		free(r);
		send_reply(req, 503, "text/plain", "Service Unavailable\n", 20);
		return;
	}
	evbuffer_copyout(in, body, len);
	body[len] = '\0';
	evtimer_del(c->deadline);
	c->pending = r;
	r->req = req;
	r->h = h;
	r->conn = c;
	r->from = c->from;
	r->next = h->pending;
	if (h->pending != NULL)
		h->pending->prev = r;
	h->pending = r;
	r->api = (struct api_req){&req_ops,
				  r,
				  method_name(evhttp_request_get_command(req)),
				  {uri, strcspn(uri, "?#")},
				  {body, len},
				  r->from.family != 0 ? &r->from : NULL,
				  sy_env_now_ns(h->env)};
	h->fn(h->arg, &r->api);
}

/* ---- the server ---- */

static void limits_default(struct sy_http *h, const struct sy_http_limits *lim)
{
	if (lim != NULL)
		h->lim = *lim;
	if (h->lim.timeout_ns == 0)
		h->lim.timeout_ns = 10 * SY_NS_PER_S;
	if (h->lim.max_header == 0)
		h->lim.max_header = 8192;
	if (h->lim.max_body == 0)
		h->lim.max_body = 65536;
	if (h->lim.max_conns == 0)
		h->lim.max_conns = 512;
	if (h->lim.conns_per_source == 0)
		h->lim.conns_per_source = 32;
	if (h->lim.stats == NULL)
		h->lim.stats = &h->dummy;
}

static void http_configure(struct sy_http *h)
{
	/* libevent's own read/write timeout: a peer that stops reading our
	 * answer. One second past the deadline, which closes slow requests. */
	struct timeval tv = {(time_t)(h->lim.timeout_ns / SY_NS_PER_S) + 1, 0};
	evhttp_set_timeout_tv(h->http, &tv);
	evhttp_set_max_headers_size(h->http, h->lim.max_header);
	evhttp_set_max_body_size(h->http, h->lim.max_body);
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
	evhttp_set_bevcb(h->http, new_bev, h);
	evhttp_set_gencb(h->http, dispatch, h);
}

static enum sy_rc http_alloc(struct sy_live *l, const struct sy_http_limits *lim, struct sy_http **out)
{
	struct sy_http *h = calloc(1, sizeof(*h));
	if (h == NULL)
		return SY_ERR_NOMEM;
	*out = h;
	h->live = l;
	h->env = sy_live_env(l);
	limits_default(h, lim);
	struct sy_srclimit_cfg sc = {.conns = h->lim.conns_per_source, .slots = 4096, .seed = sy_env_random_u64(h->env)};
	h->http = evhttp_new(sy_live_base(l));
	h->check_ev = event_new(sy_live_base(l), -1, 0, check_fresh, h);
	if (h->http == NULL || h->check_ev == NULL || sy_srclimit_create(&sc, &h->per_source) != SY_OK ||
	    sy_htab_init_seeded(&h->by_evcon, 2ull * h->lim.max_conns, sy_env_random_u64(h->env)) != SY_OK)
		return SY_ERR_NOMEM;
	http_configure(h);
	return SY_OK;
}

enum sy_rc sy_http_start(struct sy_live *l, const struct sy_addr *addr, const struct sy_http_limits *lim,
			 sy_http_fn fn, void *arg, struct sy_http **out)
{
	char host[64];
	struct sy_http *h = NULL;
	enum sy_rc rc = http_alloc(l, lim, &h);
	if (rc == SY_OK && addr != NULL) {
		sy_addr_fmt_host(addr, host, sizeof(host));
		if (evhttp_bind_socket(h->http, host, addr->port) != 0)
			rc = SY_ERR_IO;
	}
	if (rc != SY_OK) {
		sy_http_stop(h);
		return rc;
	}
	h->fn = fn;
	h->arg = arg;
	*out = h;
	return SY_OK;
}

enum sy_rc sy_http_listen_fd(struct sy_http *h, int fd)
{
	/* evhttp accepts until EAGAIN: a blocking listener would stall the loop. */
	if (evutil_make_socket_nonblocking(fd) != 0 || evhttp_accept_socket(h->http, fd) != 0)
		return SY_ERR_IO;
	return SY_OK;
}

void sy_http_stop(struct sy_http *h)
{
	if (h == NULL)
		return;
	/* Orphan what the handler holds: evhttp_free() frees those requests,
	 * and a store commit may still answer them (serve flushes after this). */
	uint32_t orphans = 0;
	for (struct http_req *r = h->pending; r != NULL; r = r->next, orphans++) {
		r->req = NULL;
		r->conn = NULL;
	}
	h->pending = NULL;
	if (orphans > 0)
		SY_LOG(h->env, SY_LOG_INFO, "http: %u requests in flight at stop: connections closed, answers dropped",
		       orphans);
	while (h->fresh != NULL) { /* evhttp_free() frees their connections */
		struct http_conn *c = h->fresh;
		h->fresh = c->next_fresh;
		free(c);
	}
	if (h->http != NULL)
		evhttp_free(h->http); /* conn_closed() for each kept connection */
	if (h->check_ev != NULL)
		event_free(h->check_ev);
	sy_srclimit_destroy(h->per_source);
	sy_htab_free(&h->by_evcon);
	free(h);
}
