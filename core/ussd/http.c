/* http.c: the USSD gateway's HTTP application client (http.h) on the env's
 * streams: per service a pool of keep-alive connections carrying one
 * request at a time, a deadline per request that covers its retries, and
 * retries only where the application cannot have acted (no connection, or
 * 502/503/504). The wire format and the response parser are in
 * http_wire.c. */
#include "core/ussd/http.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/htab.h"
#include "core/pool.h"
#include "core/ussd/http_int.h"

/* An idle keep-alive connection is closed after this, before the usual
 * server-side idle timeouts (node's 5 s), so we rarely send on a
 * connection the application is closing. */
#define HTTP_IDLE_NS	       (4 * SY_NS_PER_S)
#define HTTP_IN_FLIGHT_DEFAULT 1000u

struct http_req;

struct http_conn {
	struct ussd_http *h;
	struct sy_stream *s;	       /* NULL once the backend closed it */
	struct http_req *req;	       /* the request it carries; NULL: idle */
	struct http_conn *prev, *next; /* in its service's idle list; next: the free list */
	uint16_t svc;
	bool live;   /* handed out of the pool */
	bool idle;   /* in the idle list */
	bool opened; /* on_open came: the connect succeeded */
	bool reused; /* carried a reply before */
	sy_timer_id idle_timer;
	struct ussd_http_resp resp;
};

enum http_step { STEP_NONE = 0, STEP_RETRY, STEP_FAIL };

struct http_req {
	struct sy_hnode hn; /* by token, while not cancelled */
	uint64_t token;
	struct ussd_http *h;
	struct http_conn *conn; /* carrying it now */
	struct http_req *next_free;
	uint16_t svc;
	bool live, cancelled;
	bool resent;	      /* sent again after a reused connection closed under it */
	enum http_step step;  /* what step_timer does */
	uint32_t attempts;    /* sends begun (retries + 1) */
	uint64_t deadline_ns; /* the service's timeout from the request */
	sy_timer_id timeout_timer, step_timer;
	enum ussd_app_result fail; /* STEP_FAIL: the failure */
	bool fail_retryable;
	size_t wire_len;
	char wire[USSD_HTTP_REQ_MAX];
};

struct http_svc {
	bool http; /* kind HTTP */
	struct ussd_http_url url;
	uint64_t timeout_ns, retry_delay_ns;
	uint32_t retries, in_flight_max;
	uint32_t in_flight, conns;
	struct http_conn *idle; /* most recently used first */
};

struct ussd_http {
	const struct sy_env *env;
	ussd_app_done_fn done;
	void *arg;
	struct http_svc *svcs;
	uint32_t svc_n;
	struct sy_pool reqs, conns;
	struct http_req *req_free;
	struct http_conn *conn_free;
	struct sy_htab by_token;
	struct ussd_http_stats st;
	char text[USSD_HTTP_BODY_MAX]; /* a reply's text while done runs */
};

static void conn_on_open(void *arg, struct sy_stream *s);
static void conn_on_data(void *arg, struct sy_stream *s, const uint8_t *buf, size_t len);
static void conn_on_close(void *arg, struct sy_stream *s, enum sy_rc why);
static const struct sy_stream_cbs conn_cbs = {conn_on_open, conn_on_data, conn_on_close};

static void req_dispatch(struct http_req *r, bool fresh);
static void req_step_fn(void *arg);

const char *ussd_app_result_name(enum ussd_app_result r)
{
	switch (r) {
	case USSD_APP_OK:
		return "ok";
	case USSD_APP_TIMEOUT:
		return "timeout";
	case USSD_APP_CONNECT:
		return "connect";
	case USSD_APP_STATUS:
		return "http_status";
	case USSD_APP_BAD:
		return "bad";
	case USSD_APP_OVERLOAD:
		return "overload";
	}
	return "unknown";
}

/* ---- connections ---- */

static struct http_conn *conn_alloc(struct ussd_http *h, uint16_t svc)
{
	struct http_conn *c = h->conn_free;
	if (c != NULL) {
		h->conn_free = c->next;
	} else {
		uint32_t idx;
		c = sy_pool_grow(&h->conns, &idx);
		if (c == NULL)
			return NULL;
	}
	memset(c, 0, offsetof(struct http_conn, resp));
	c->h = h;
	c->svc = svc;
	c->live = true;
	ussd_http_resp_init(&c->resp);
	h->svcs[svc].conns++;
	return c;
}

static void idle_unlink(struct http_conn *c)
{
	struct http_svc *v = &c->h->svcs[c->svc];
	if (!c->idle)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		v->idle = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	c->idle = false;
	sy_env_timer_cancel(c->h->env, c->idle_timer);
	c->idle_timer = 0;
}

/* Closes (when still open) and frees; the request on it, if any, must have
 * been detached. */
static void conn_drop(struct http_conn *c)
{
	struct ussd_http *h = c->h;
	SY_ASSERT(c->live && c->req == NULL);
	idle_unlink(c);
	if (c->s != NULL)
		sy_env_stream_close(h->env, c->s);
	c->s = NULL;
	c->live = false;
	h->svcs[c->svc].conns--;
	h->st.conns_closed++;
	c->next = h->conn_free;
	h->conn_free = c;
}

static void conn_idle_fn(void *arg)
{
	struct http_conn *c = arg;
	c->idle_timer = 0;
	conn_drop(c);
}

/* After a complete reply: kept for the next request, or closed. */
static void conn_release(struct http_conn *c, bool keep)
{
	struct http_svc *v = &c->h->svcs[c->svc];
	SY_ASSERT(c->req == NULL && !c->idle);
	if (!keep || c->s == NULL) {
		conn_drop(c);
		return;
	}
	ussd_http_resp_init(&c->resp);
	c->reused = true;
	c->idle = true;
	c->prev = NULL;
	c->next = v->idle;
	if (v->idle)
		v->idle->prev = c;
	v->idle = c;
	c->idle_timer = sy_env_timer_start(c->h->env, HTTP_IDLE_NS, conn_idle_fn, c);
}

/* ---- requests ---- */

static void req_free(struct http_req *r)
{
	struct ussd_http *h = r->h;
	SY_ASSERT(r->live && r->conn == NULL);
	sy_env_timer_cancel(h->env, r->timeout_timer);
	sy_env_timer_cancel(h->env, r->step_timer);
	if (!r->cancelled)
		sy_htab_remove(&h->by_token, &r->hn);
	r->live = false;
	h->svcs[r->svc].in_flight--;
	h->st.in_flight--;
	r->next_free = h->req_free;
	h->req_free = r;
}

static void req_count(struct ussd_http_stats *st, enum ussd_app_result res)
{
	switch (res) {
	case USSD_APP_OK:
		st->ok++;
		break;
	case USSD_APP_TIMEOUT:
		st->timeouts++;
		break;
	case USSD_APP_CONNECT:
		st->connect_failed++;
		break;
	case USSD_APP_STATUS:
		st->http_errors++;
		break;
	case USSD_APP_BAD:
	case USSD_APP_OVERLOAD:
		st->bad_replies++;
		break;
	}
}

/* The request's outcome: counted, freed, and told (unless cancelled). The
 * reply's text is copied first: the connection it came on may carry the
 * next request before done returns. */
static void req_finish(struct http_req *r, enum ussd_app_result res, uint16_t status, bool end, struct sy_str text)
{
	struct ussd_http *h = r->h;
	struct ussd_app_reply rep = {res, status, end, SY_STR_NULL, r->attempts};
	uint64_t token = r->token;
	bool tell = !r->cancelled;
	if (res == USSD_APP_OK) {
		SY_ASSERT(text.len <= sizeof(h->text));
		memmove(h->text, text.p, text.len);
		rep.text = (struct sy_str){h->text, text.len};
	}
	if (tell)
		req_count(&h->st, res);
	req_free(r);
	if (tell)
		h->done(h->arg, token, &rep);
}

/* A failed attempt: again after retry_delay_ns when the application cannot
 * have acted on it, attempts remain and the retry can still finish before
 * the deadline; else the request ends with this failure. */
static void req_failed(struct http_req *r, enum ussd_app_result res, uint16_t status, bool retryable)
{
	struct ussd_http *h = r->h;
	const struct http_svc *v = &h->svcs[r->svc];
	uint64_t now = sy_env_now_ns(h->env);
	if (r->cancelled) {
		req_free(r);
		return;
	}
	if (retryable && r->attempts <= v->retries && now + v->retry_delay_ns < r->deadline_ns) {
		h->st.retries++;
		r->step = STEP_RETRY;
		r->step_timer = sy_env_timer_start(h->env, v->retry_delay_ns, req_step_fn, r);
		return;
	}
	req_finish(r, res, status, false, SY_STR_NULL);
}

static void req_step_fn(void *arg)
{
	struct http_req *r = arg;
	r->step_timer = 0;
	enum http_step step = r->step;
	r->step = STEP_NONE;
	if (step == STEP_RETRY)
		req_dispatch(r, false);
	else
		req_failed(r, r->fail, 0, r->fail_retryable);
}

/* An immediate failure, decided from a timer: done never runs inside
 * ussd_http_request(). */
static void req_fail_later(struct http_req *r, enum ussd_app_result res, bool retryable)
{
	sy_env_timer_cancel(r->h->env, r->step_timer);
	r->step = STEP_FAIL;
	r->fail = res;
	r->fail_retryable = retryable;
	r->step_timer = sy_env_timer_start(r->h->env, 0, req_step_fn, r);
}

static void req_timeout_fn(void *arg)
{
	struct http_req *r = arg;
	r->timeout_timer = 0;
	struct http_conn *c = r->conn;
	if (c != NULL) {
		/* The reply may still come: this connection cannot carry another. */
		c->req = NULL;
		r->conn = NULL;
		conn_drop(c);
	}
	if (r->cancelled) {
		req_free(r);
		return;
	}
	req_finish(r, USSD_APP_TIMEOUT, 0, false, SY_STR_NULL);
}

/* Puts r on c's wire; false when the stream refused it (c is dropped). */
static bool req_send_on(struct http_req *r, struct http_conn *c)
{
	c->req = r;
	r->conn = c;
	if (sy_env_stream_write(r->h->env, c->s, r->wire, r->wire_len) == SY_OK)
		return true;
	c->req = NULL;
	r->conn = NULL;
	conn_drop(c);
	return false;
}

static struct http_conn *conn_take_idle(struct http_svc *v)
{
	struct http_conn *c = v->idle;
	if (c != NULL)
		idle_unlink(c);
	return c;
}

/* Sends r: on an idle connection of its service when there is one (unless
 * fresh), else on a new one (the in-flight bound keeps connections <=
 * in_flight_max). */
static void req_dispatch(struct http_req *r, bool fresh)
{
	struct ussd_http *h = r->h;
	struct http_svc *v = &h->svcs[r->svc];
	struct http_conn *c;
	r->attempts++;
	while (!fresh && (c = conn_take_idle(v)) != NULL) {
		h->st.conns_reused++;
		if (req_send_on(r, c))
			return;
	}
	c = conn_alloc(h, r->svc);
	if (c == NULL) {
		req_fail_later(r, USSD_APP_CONNECT, true);
		return;
	}
	h->st.conns_opened++;
	if (sy_env_stream_connect(h->env, &v->url.addr, &conn_cbs, c, &c->s) != SY_OK) {
		/* no such host, no memory: retried as a refused connect would be */
		c->s = NULL;
		conn_drop(c);
		req_fail_later(r, USSD_APP_CONNECT, true);
		return;
	}
	if (!req_send_on(r, c))
		req_fail_later(r, USSD_APP_CONNECT, true);
}

/* ---- replies ---- */

static bool status_retryable(uint16_t st)
{
	return st == 502 || st == 503 || st == 504;
}

/* A complete reply on c. keep: nothing followed it on the wire. */
static void conn_reply(struct http_conn *c, bool keep)
{
	struct http_req *r = c->req;
	struct ussd_http_resp *resp = &c->resp;
	uint16_t st = resp->status;
	bool end = false;
	struct sy_str text = SY_STR_NULL;
	enum sy_rc brc = SY_ERR_PARSE;
	if (st >= 200 && st < 300)
		brc = ussd_http_body_parse(resp->body, resp->body_len, &end, &text);
	/* text points into c's body: the release below only resets the
	 * parser, and req_finish() copies the text out before done runs (and
	 * before the connection can carry another request). */
	c->req = NULL;
	r->conn = NULL;
	if (r->cancelled) {
		conn_release(c, keep && resp->keep_alive);
		req_free(r);
		return;
	}
	if (st >= 200 && st < 300 && brc == SY_OK) {
		conn_release(c, keep && resp->keep_alive);
		req_finish(r, USSD_APP_OK, st, end, text);
		return;
	}
	conn_release(c, keep && resp->keep_alive);
	if (st >= 200 && st < 300)
		req_finish(r, USSD_APP_BAD, st, false, SY_STR_NULL);
	else
		req_failed(r, USSD_APP_STATUS, st, status_retryable(st));
}

static void conn_on_open(void *arg, struct sy_stream *s)
{
	struct http_conn *c = arg;
	c->opened = true;
}

static void conn_on_data(void *arg, struct sy_stream *s, const uint8_t *buf, size_t len)
{
	struct http_conn *c = arg;
	struct http_req *r = c->req;
	if (r == NULL) {
		/* bytes nobody asked for on an idle connection: out of step */
		conn_drop(c);
		return;
	}
	size_t used;
	enum sy_rc rc = ussd_http_resp_feed(&c->resp, buf, len, &used);
	if (rc == SY_AGAIN)
		return;
	if (rc == SY_OK) {
		conn_reply(c, used == len);
		return;
	}
	uint16_t st = c->resp.status;
	c->req = NULL;
	r->conn = NULL;
	conn_drop(c);
	if (r->cancelled)
		req_free(r);
	else
		req_finish(r, USSD_APP_BAD, st, false, SY_STR_NULL);
}

/* The connection closed under a request: a refused connect is retried; a
 * reused keep-alive connection that closed before any reply byte is the
 * application closing an idle connection as we sent, so the request goes
 * once more on a new one; anything else may have reached the application
 * and is not retried. */
static void conn_lost(struct http_conn *c, struct http_req *r)
{
	bool fresh_fail = !c->opened;
	bool stale = c->opened && c->reused && !c->resp.started && !r->resent;
	bool eof_ok = c->resp.started && ussd_http_resp_eof(&c->resp) == SY_OK;
	if (eof_ok) {
		conn_reply(c, false);
		return;
	}
	uint16_t st = c->resp.status;
	bool started = c->resp.started;
	c->req = NULL;
	r->conn = NULL;
	conn_drop(c);
	if (r->cancelled) {
		req_free(r);
	} else if (stale) {
		r->resent = true;
		r->attempts--; /* the same attempt, on a new connection (the other
				* idle ones may be closing too) */
		req_dispatch(r, true);
	} else if (started) {
		req_finish(r, USSD_APP_BAD, st, false, SY_STR_NULL);
	} else {
		req_failed(r, USSD_APP_CONNECT, 0, fresh_fail);
	}
}

static void conn_on_close(void *arg, struct sy_stream *s, enum sy_rc why)
{
	struct http_conn *c = arg;
	c->s = NULL; /* gone with this callback */
	if (c->req != NULL)
		conn_lost(c, c->req);
	else
		conn_drop(c);
}

/* ---- the API ---- */

static enum sy_rc svc_init(struct http_svc *v, const struct ussd_cfg *cfg, const struct ussd_service_cfg *s, char *err,
			   size_t errlen)
{
	const char *why = NULL;
	memset(v, 0, sizeof(*v));
	if (s->kind != USSD_APP_HTTP)
		return SY_OK;
	if (ussd_http_url_parse(s->url, &v->url, &why) != SY_OK) {
		snprintf(err, errlen, "line %u: [ussd-service %s] url %s: %s", s->line, s->code, s->url, why);
		return SY_ERR_INVAL;
	}
	v->http = true;
	v->timeout_ns = s->timeout_ns ? s->timeout_ns : cfg->app_timeout_ns ? cfg->app_timeout_ns : 5 * SY_NS_PER_S;
	v->retry_delay_ns = s->retry_delay_ns;
	v->retries = s->retries;
	v->in_flight_max = s->in_flight_max ? s->in_flight_max : HTTP_IN_FLIGHT_DEFAULT;
	return SY_OK;
}

enum sy_rc ussd_http_create(const struct sy_env *env, const struct ussd_cfg *cfg, ussd_app_done_fn done, void *arg,
			    struct ussd_http **out, char *err, size_t errlen)
{
	*out = NULL;
	struct ussd_http *h = calloc(1, sizeof(*h));
	if (h == NULL)
		return SY_ERR_NOMEM;
	h->env = env;
	h->done = done;
	h->arg = arg;
	h->svc_n = cfg->service_n;
	h->svcs = calloc(cfg->service_n ? cfg->service_n : 1, sizeof(*h->svcs));
	enum sy_rc rc = h->svcs == NULL ? SY_ERR_NOMEM : SY_OK;
	uint64_t total = 0;
	for (uint32_t i = 0; rc == SY_OK && i < cfg->service_n; i++) {
		rc = svc_init(&h->svcs[i], cfg, &cfg->services[i], err, errlen);
		total += h->svcs[i].in_flight_max;
	}
	/* Every request holds a slot and at most one connection; idle ones are
	 * only kept while fewer are busy, so both pools share the bound. */
	uint32_t max = (uint32_t)SY_MIN(SY_MAX(total, (uint64_t)1), (uint64_t)UINT32_MAX);
	if (rc == SY_OK)
		rc = sy_pool_init(&h->reqs, sizeof(struct http_req), max);
	if (rc == SY_OK)
		rc = sy_pool_init(&h->conns, sizeof(struct http_conn), max);
	if (rc == SY_OK)
		rc = sy_htab_init(&h->by_token, SY_MIN(total, (uint64_t)1 << 20));
	if (rc != SY_OK) {
		ussd_http_destroy(h);
		return rc;
	}
	*out = h;
	return SY_OK;
}

void ussd_http_destroy(struct ussd_http *h)
{
	if (h == NULL)
		return;
	for (uint32_t i = 0; h->conns.slabs != NULL && i < sy_pool_used(&h->conns); i++) {
		struct http_conn *c = sy_pool_at(&h->conns, i);
		if (c->live) {
			sy_env_timer_cancel(h->env, c->idle_timer);
			sy_env_stream_close(h->env, c->s);
		}
	}
	for (uint32_t i = 0; h->reqs.slabs != NULL && i < sy_pool_used(&h->reqs); i++) {
		struct http_req *r = sy_pool_at(&h->reqs, i);
		if (r->live) {
			sy_env_timer_cancel(h->env, r->timeout_timer);
			sy_env_timer_cancel(h->env, r->step_timer);
		}
	}
	sy_pool_free(&h->reqs);
	sy_pool_free(&h->conns);
	sy_htab_free(&h->by_token);
	free(h->svcs);
	free(h);
}

static struct http_req *req_alloc(struct ussd_http *h)
{
	struct http_req *r = h->req_free;
	if (r != NULL) {
		h->req_free = r->next_free;
	} else {
		uint32_t idx;
		r = sy_pool_grow(&h->reqs, &idx);
		if (r == NULL)
			return NULL;
	}
	memset(r, 0, offsetof(struct http_req, wire));
	r->h = h;
	r->live = true;
	return r;
}

static struct http_req *req_find(const struct ussd_http *h, uint64_t token)
{
	struct sy_hnode *n = sy_htab_find(&h->by_token, (struct sy_str){(const char *)&token, sizeof(token)});
	return n ? SY_CONTAINER_OF(n, struct http_req, hn) : NULL;
}

enum sy_rc ussd_http_request(struct ussd_http *h, uint16_t service, uint64_t token, const struct ussd_app_req *req)
{
	SY_ASSERT(service < h->svc_n && h->svcs[service].http);
	SY_ASSERT(req_find(h, token) == NULL); /* one request per token at a time */
	struct http_svc *v = &h->svcs[service];
	struct http_req *r = v->in_flight < v->in_flight_max ? req_alloc(h) : NULL;
	if (r == NULL) {
		h->st.overload++;
		return SY_ERR_FULL;
	}
	r->token = token;
	r->svc = service;
	r->deadline_ns = sy_env_now_ns(h->env) + v->timeout_ns;
	sy_htab_insert(&h->by_token, &r->hn, (struct sy_str){(const char *)&r->token, sizeof(r->token)});
	v->in_flight++;
	h->st.in_flight++;
	h->st.requests++;
	r->timeout_timer = sy_env_timer_start(h->env, v->timeout_ns, req_timeout_fn, r);
	if (ussd_http_req_build(&v->url, req, r->wire, sizeof(r->wire), &r->wire_len) != SY_OK) {
		req_fail_later(r, USSD_APP_BAD, false);
		return SY_OK;
	}
	req_dispatch(r, false);
	return SY_OK;
}

void ussd_http_cancel(struct ussd_http *h, uint64_t token)
{
	struct http_req *r = req_find(h, token);
	if (r == NULL)
		return;
	sy_htab_remove(&h->by_token, &r->hn);
	r->cancelled = true;
	h->st.cancelled++;
	/* On a connection: its reply is read and dropped there (or the
	 * timeout closes it), so the connection can carry the next request.
	 * Waiting for a retry or a failure: nothing more to do. */
	if (r->conn == NULL)
		req_free(r);
}

const struct ussd_http_stats *ussd_http_stats(const struct ussd_http *h)
{
	return &h->st;
}
