/* webhook.c: POSTs JSON documents to one URL over evhttp; see webhook.h.
 *
 * Each of the inflight_max connection slots carries one request at a time
 * (evhttp would otherwise queue requests on a connection without bound).
 * A finished request frees its slot; the next queued body goes out from a
 * zero-delay event, never from inside evhttp's own callback, where the
 * connection is still being reset. */
#include "webhook.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "core/metrics/counters.h"
#include "live.h"

#define WEBHOOK_TIMEOUT_NS   (2 * SY_NS_PER_S)
#define WEBHOOK_QUEUE_MAX    256
#define WEBHOOK_INFLIGHT_MAX 4
#define WEBHOOK_ANSWER_MAX   16384 /* a receiver's answer: headers, body (read and thrown away) */

struct webhook_conn {
	struct sy_webhook *w;
	struct evhttp_connection *evcon;
	bool busy;
};

struct sy_webhook {
	const struct sy_env *env;
	struct event_base *base;
	struct sy_webhook_url url;
	char ip[64]; /* the host resolved at create */
	char host_hdr[WEBHOOK_URL_MAX + 8];
	uint64_t timeout_ns;
	struct webhook_conn *conns;
	uint32_t conn_n;
	char *bodies; /* queue_max slots of WEBHOOK_BODY_MAX bytes, a ring */
	uint16_t *lens;
	uint32_t queue_max, head;
	struct event *pump;
	struct sy_log_limit log_fail;
	struct sy_webhook_stats st;
};

static enum sy_rc url_err(char *err, size_t errlen, const char *url, const char *why)
{
	snprintf(err, errlen, "alert URL '%s': %s", url, why);
	return SY_ERR_PARSE;
}

/* host[:port] of an authority; [v6] keeps its brackets out of host. */
static enum sy_rc url_authority(const char *url, const char *a, size_t n, struct sy_webhook_url *out, char *err,
				size_t errlen)
{
	const char *port = NULL, *host = a, *hend = a + n;
	if (n > 0 && a[0] == '[') {
		const char *rb = memchr(a, ']', n);
		if (rb == NULL)
			return url_err(err, errlen, url, "no ']' after an IPv6 address");
		host = a + 1, hend = rb;
		if (rb + 1 < a + n) {
			if (rb[1] != ':')
				return url_err(err, errlen, url, "junk after ']'");
			port = rb + 2;
		}
	} else {
		const char *c = memchr(a, ':', n);
		if (c != NULL)
			hend = c, port = c + 1;
	}
	if (hend == host || (size_t)(hend - host) >= sizeof(out->host))
		return url_err(err, errlen, url, "no host, or one too long");
	memcpy(out->host, host, (size_t)(hend - host));
	out->host[hend - host] = '\0';
	out->port = 80;
	if (port != NULL) {
		uint32_t v = 0;
		const char *p = port;
		for (; p < a + n && *p >= '0' && *p <= '9' && v <= 65535; p++)
			v = v * 10 + (uint32_t)(*p - '0');
		if (p == port || p != a + n || v == 0 || v > 65535)
			return url_err(err, errlen, url, "the port is not a number from 1 to 65535");
		out->port = (uint16_t)v;
	}
	return SY_OK;
}

enum sy_rc sy_webhook_url_parse(const char *url, struct sy_webhook_url *out, char *err, size_t errlen)
{
	static const char scheme[] = "http://";
	memset(out, 0, sizeof(*out));
	if (strncmp(url, "https://", 8) == 0)
		return url_err(err, errlen, url, "https is not supported (put a local TLS proxy in front)");
	if (strncmp(url, scheme, sizeof(scheme) - 1) != 0)
		return url_err(err, errlen, url, "must start with http://");
	const char *a = url + sizeof(scheme) - 1;
	const char *slash = strchr(a, '/');
	size_t alen = slash != NULL ? (size_t)(slash - a) : strlen(a);
	if (memchr(a, '@', alen) != NULL)
		return url_err(err, errlen, url, "credentials in the URL are not supported");
	enum sy_rc rc = url_authority(url, a, alen, out, err, errlen);
	if (rc != SY_OK)
		return rc;
	const char *path = slash != NULL ? slash : "/";
	if (strlen(path) >= sizeof(out->path))
		return url_err(err, errlen, url, "the path is too long");
	for (const char *p = path; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return url_err(err, errlen, url, "a space or control character in the path");
	strcpy(out->path, path);
	return SY_OK;
}

/* Once, at create: the loop must never wait for a name server. */
static enum sy_rc resolve(struct sy_webhook *w, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
	int e = getaddrinfo(w->url.host, NULL, &hints, &res);
	if (e != 0 || res == NULL) {
		snprintf(err, errlen, "alert URL host '%s': %s", w->url.host, gai_strerror(e));
		return SY_ERR_INVAL;
	}
	e = getnameinfo(res->ai_addr, res->ai_addrlen, w->ip, sizeof(w->ip), NULL, 0, NI_NUMERICHOST);
	freeaddrinfo(res);
	if (e != 0) {
		snprintf(err, errlen, "alert URL host '%s': %s", w->url.host, gai_strerror(e));
		return SY_ERR_INVAL;
	}
	bool v6 = strchr(w->url.host, ':') != NULL;
	snprintf(w->host_hdr, sizeof(w->host_hdr), v6 ? "[%s]:%u" : "%s:%u", w->url.host, w->url.port);
	return SY_OK;
}

static void pump_fire(evutil_socket_t fd, short what, void *arg);

static enum sy_rc conns_open(struct sy_webhook *w)
{
	struct timeval tv = {.tv_sec = (time_t)(w->timeout_ns / SY_NS_PER_S),
			     .tv_usec = (suseconds_t)(w->timeout_ns % SY_NS_PER_S / 1000)};
	for (uint32_t i = 0; i < w->conn_n; i++) {
		struct webhook_conn *c = &w->conns[i];
		c->w = w;
		c->evcon = evhttp_connection_base_new(w->base, NULL, w->ip, w->url.port);
		if (c->evcon == NULL)
			return SY_ERR_NOMEM;
		evhttp_connection_set_timeout_tv(c->evcon, &tv);
		evhttp_connection_set_retries(c->evcon, 0);
		evhttp_connection_set_max_headers_size(c->evcon, WEBHOOK_ANSWER_MAX);
		evhttp_connection_set_max_body_size(c->evcon, WEBHOOK_ANSWER_MAX);
	}
	w->pump = event_new(w->base, -1, 0, pump_fire, w);
	return w->pump != NULL ? SY_OK : SY_ERR_NOMEM;
}

enum sy_rc sy_webhook_create(struct sy_live *l, const struct sy_webhook_cfg *cfg, struct sy_webhook **out, char *err,
			     size_t errlen)
{
	*out = NULL;
	struct sy_webhook *w = calloc(1, sizeof(*w));
	if (w == NULL)
		goto out_nomem;
	w->env = sy_live_env(l);
	w->base = sy_live_base(l);
	w->timeout_ns = cfg->timeout_ns != 0 ? cfg->timeout_ns : WEBHOOK_TIMEOUT_NS;
	w->queue_max = cfg->queue_max != 0 ? cfg->queue_max : WEBHOOK_QUEUE_MAX;
	w->conn_n = cfg->inflight_max != 0 ? cfg->inflight_max : WEBHOOK_INFLIGHT_MAX;
	enum sy_rc rc = sy_webhook_url_parse(cfg->url != NULL ? cfg->url : "", &w->url, err, errlen);
	if (rc == SY_OK)
		rc = resolve(w, err, errlen);
	if (rc != SY_OK) {
		sy_webhook_destroy(w);
		return rc;
	}
	w->conns = calloc(w->conn_n, sizeof(*w->conns));
	w->bodies = malloc((size_t)w->queue_max * WEBHOOK_BODY_MAX);
	w->lens = calloc(w->queue_max, sizeof(*w->lens));
	if (w->conns == NULL || w->bodies == NULL || w->lens == NULL || conns_open(w) != SY_OK)
		goto out_nomem;
	*out = w;
	return SY_OK;
out_nomem:
	sy_webhook_destroy(w);
	snprintf(err, errlen, "out of memory for the alert webhook");
	return SY_ERR_NOMEM;
}

void sy_webhook_destroy(struct sy_webhook *w)
{
	if (w == NULL)
		return;
	for (uint32_t i = 0; w->conns != NULL && i < w->conn_n; i++)
		if (w->conns[i].evcon != NULL)
			evhttp_connection_free(w->conns[i].evcon); /* frees its request, no callback */
	if (w->pump != NULL)
		event_free(w->pump);
	free(w->conns);
	free(w->bodies);
	free(w->lens);
	free(w);
}

static void request_done(struct evhttp_request *req, void *arg)
{
	struct webhook_conn *c = arg;
	struct sy_webhook *w = c->w;
	int code = req != NULL ? evhttp_request_get_response_code(req) : 0;
	c->busy = false;
	w->st.in_flight--;
	if (code >= 200 && code < 300) {
		w->st.sent++;
	} else {
		w->st.failed++;
		SY_LOG_LIMITED(w->env, &w->log_fail, SY_LOG_WARN, "alert webhook http://%s%s: %s", w->host_hdr,
			       w->url.path, code == 0 ? "no answer (refused, reset or timed out)" : "answered non-2xx");
	}
	if (w->st.queued > 0)
		event_active(w->pump, EV_TIMEOUT, 1);
}

/* One body on a free connection; false when evhttp refused it at once. */
static bool conn_send(struct sy_webhook *w, struct webhook_conn *c, const char *body, size_t len)
{
	struct evhttp_request *req = evhttp_request_new(request_done, c);
	if (req == NULL)
		return false;
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", w->host_hdr);
	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "User-Agent", "switchyard");
	if (evbuffer_add(evhttp_request_get_output_buffer(req), body, len) != 0) {
		evhttp_request_free(req);
		return false;
	}
	if (evhttp_make_request(c->evcon, req, EVHTTP_REQ_POST, w->url.path) != 0)
		return false; /* evhttp freed req */
	c->busy = true;
	w->st.in_flight++;
	return true;
}

static struct webhook_conn *conn_free_slot(struct sy_webhook *w)
{
	for (uint32_t i = 0; i < w->conn_n; i++)
		if (!w->conns[i].busy)
			return &w->conns[i];
	return NULL;
}

/* Queued bodies onto free connections, oldest first. */
static void pump_fire(evutil_socket_t fd, short what, void *arg)
{
	struct sy_webhook *w = arg;
	struct webhook_conn *c;
	while (w->st.queued > 0 && (c = conn_free_slot(w)) != NULL) {
		uint32_t i = w->head;
		w->head = (w->head + 1) % w->queue_max;
		w->st.queued--;
		if (!conn_send(w, c, w->bodies + (size_t)i * WEBHOOK_BODY_MAX, w->lens[i]))
			w->st.failed++;
	}
}

bool sy_webhook_post(struct sy_webhook *w, const char *body, size_t len)
{
	w->st.posted++;
	if (len > WEBHOOK_BODY_MAX || w->st.queued >= w->queue_max) {
		w->st.dropped++;
		return false;
	}
	uint32_t i = (uint32_t)((w->head + w->st.queued) % w->queue_max);
	memcpy(w->bodies + (size_t)i * WEBHOOK_BODY_MAX, body, len);
	w->lens[i] = (uint16_t)len;
	w->st.queued++;
	/* Sent from the loop, not from inside the caller (a fraud decision
	 * in the middle of an INVITE): the same order, no reentrancy. */
	event_active(w->pump, EV_TIMEOUT, 1);
	return true;
}

bool sy_webhook_idle(const struct sy_webhook *w)
{
	return w->st.queued == 0 && w->st.in_flight == 0;
}

const struct sy_webhook_stats *sy_webhook_stats(const struct sy_webhook *w)
{
	return &w->st;
}

#define M(f) SY_CTR_AT(struct sy_webhook_stats, f)
/* clang-format off */
static const struct sy_counter c[] = {
    {"switchyard_fraud_webhook_posted_total", NULL, "fraud alerts handed to the webhook", SY_CTR_COUNTER, SY_UNIT_COUNT, M(posted)},
    {"switchyard_fraud_webhook_sent_total", NULL, "fraud alerts POSTed and answered 2xx", SY_CTR_COUNTER, SY_UNIT_COUNT, M(sent)},
    {"switchyard_fraud_webhook_failed_total", NULL, "fraud alert POSTs refused, timed out or answered non-2xx (not retried)", SY_CTR_COUNTER, SY_UNIT_COUNT, M(failed)},
    {"switchyard_fraud_webhook_dropped_total", NULL, "fraud alerts dropped: the webhook's queue was full", SY_CTR_COUNTER, SY_UNIT_COUNT, M(dropped)},
    {"switchyard_fraud_webhook_queued", NULL, "fraud alerts waiting for a connection", SY_CTR_GAUGE, SY_UNIT_COUNT, M(queued)},
    {"switchyard_fraud_webhook_in_flight", NULL, "fraud alert POSTs on the wire", SY_CTR_GAUGE, SY_UNIT_COUNT, M(in_flight)},
};
/* clang-format on */
SY_CTR_TABLE(webhook_counters, "webhook", c);
