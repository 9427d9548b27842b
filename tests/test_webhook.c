/* test_webhook.c: the alert webhook (core/live/webhook.c) against an evhttp
 * receiver in the same loop on 127.0.0.1: URLs parsed and refused, bodies
 * POSTed whole and in order, non-2xx and refused connections counted as
 * failed, a receiver that never answers timed out while the loop runs on,
 * the queue bounded (drops counted, never grown). Every loop is bounded. */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/live/live.h"
#include "core/live/webhook.h"

#define STEP_NS (10 * SY_NS_PER_MS)
#define STEPS	2000 /* 20 s: a safety net only */

enum rx_mode { RX_OK, RX_ERR, RX_HANG };

struct rx {
	struct evhttp *http;
	uint16_t port;
	enum rx_mode mode;
	uint32_t n;
	char bodies[16][WEBHOOK_BODY_MAX + 1];
	char path[16][64], ctype[16][64], host[16][64];
};

static void rx_handle(struct evhttp_request *req, void *arg)
{
	struct rx *r = arg;
	if (r->n < 16) {
		struct evbuffer *in = evhttp_request_get_input_buffer(req);
		size_t len = evbuffer_get_length(in);
		assert_true(len <= WEBHOOK_BODY_MAX);
		evbuffer_copyout(in, r->bodies[r->n], len);
		r->bodies[r->n][len] = '\0';
		const struct evkeyvalq *h = evhttp_request_get_input_headers(req);
		const char *ct = evhttp_find_header(h, "Content-Type"), *host = evhttp_find_header(h, "Host");
		snprintf(r->ctype[r->n], 64, "%s", ct != NULL ? ct : "");
		snprintf(r->host[r->n], 64, "%s", host != NULL ? host : "");
		snprintf(r->path[r->n], 64, "%s", evhttp_request_get_uri(req));
		assert_int_equal(evhttp_request_get_command(req), EVHTTP_REQ_POST);
	}
	r->n++;
	if (r->mode == RX_HANG)
		return; /* never answered: evhttp frees it when the client gives up */
	evhttp_send_reply(req, r->mode == RX_OK ? 200 : 500, r->mode == RX_OK ? "OK" : "Nope", NULL);
}

static void rx_start(struct sy_live *l, struct rx *r, enum rx_mode mode)
{
	memset(r, 0, sizeof(*r));
	r->mode = mode;
	r->http = evhttp_new(sy_live_base(l));
	assert_non_null(r->http);
	evhttp_set_gencb(r->http, rx_handle, r);
	struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(r->http, "127.0.0.1", 0);
	assert_non_null(bs);
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	assert_int_equal(getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sa, &sl), 0);
	r->port = ntohs(sa.sin_port);
}

static struct sy_live *live_new(void)
{
	struct sy_live_cfg cfg = {.seed = 7, .log_level = SY_LOG_ERROR};
	struct sy_live *l = NULL;
	assert_int_equal(sy_live_create(&cfg, &l), SY_OK);
	return l;
}

static struct sy_webhook *hook_new(struct sy_live *l, uint16_t port, const char *path, struct sy_webhook_cfg cfg)
{
	char url[128], err[256] = "";
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
	cfg.url = url;
	struct sy_webhook *w = NULL;
	assert_int_equal(sy_webhook_create(l, &cfg, &w, err, sizeof(err)), SY_OK);
	assert_string_equal(err, "");
	return w;
}

/* Runs the loop until the webhook has nothing left, within STEPS. */
static void run_idle(struct sy_live *l, struct sy_webhook *w)
{
	for (int i = 0; i < STEPS && !sy_webhook_idle(w); i++)
		sy_live_run_for(l, STEP_NS);
	assert_true(sy_webhook_idle(w));
}

static void test_url_parse(void **state)
{
	static const struct {
		const char *url, *host, *path;
		uint16_t port;
	} ok[] = {
	    {"http://127.0.0.1:9000/alerts", "127.0.0.1", "/alerts", 9000},
	    {"http://alerts.example.net/x?y=1", "alerts.example.net", "/x?y=1", 80},
	    {"http://[::1]:81", "::1", "/", 81},
	    {"http://h:65535/", "h", "/", 65535},
	};
	static const char *bad[] = {
	    "",
	    "https://h/",
	    "ftp://h/",
	    "http://",
	    "http://:80/",
	    "http://h:0/",
	    "http://h:65536/",
	    "http://h:8x/",
	    "http://[::1/",
	    "http://u:p@h/",
	    "http://h/a b",
	    "h:80/x",
	};
	char err[256];
	struct sy_webhook_url u;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(sy_webhook_url_parse(ok[i].url, &u, err, sizeof(err)), SY_OK);
		assert_string_equal(u.host, ok[i].host);
		assert_string_equal(u.path, ok[i].path);
		assert_int_equal(u.port, ok[i].port);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(sy_webhook_url_parse(bad[i], &u, err, sizeof(err)), SY_ERR_PARSE);
		assert_non_null(strstr(err, "alert URL"));
	}
}

/* Bodies arrive whole, in order, as JSON POSTs with the URL's path and a
 * Host header naming the URL's host. */
static void test_posts_arrive(void **state)
{
	struct sy_live *l = live_new();
	struct rx r;
	rx_start(l, &r, RX_OK);
	struct sy_webhook *w = hook_new(l, r.port, "/hook?k=1", (struct sy_webhook_cfg){.inflight_max = 1});
	char body[64], host[64];
	for (int i = 0; i < 10; i++) {
		int n = snprintf(body, sizeof(body), "{\"n\":%d}", i);
		assert_true(sy_webhook_post(w, body, (size_t)n));
	}
	run_idle(l, w);
	const struct sy_webhook_stats *st = sy_webhook_stats(w);
	assert_int_equal(st->posted, 10);
	assert_int_equal(st->sent, 10);
	assert_int_equal(st->failed + st->dropped, 0);
	assert_int_equal(r.n, 10);
	snprintf(host, sizeof(host), "127.0.0.1:%u", r.port);
	for (int i = 0; i < 10; i++) {
		snprintf(body, sizeof(body), "{\"n\":%d}", i);
		assert_string_equal(r.bodies[i], body);
		assert_string_equal(r.path[i], "/hook?k=1");
		assert_string_equal(r.ctype[i], "application/json");
		assert_string_equal(r.host[i], host);
	}
	sy_webhook_destroy(w);
	evhttp_free(r.http);
	sy_live_destroy(l);
}

/* A 500 is a failure, and so is a port nobody listens on; neither is
 * retried nor kept. */
static void test_failures_counted(void **state)
{
	struct sy_live *l = live_new();
	struct rx r;
	rx_start(l, &r, RX_ERR);
	struct sy_webhook *w = hook_new(l, r.port, "/", (struct sy_webhook_cfg){0});
	for (int i = 0; i < 3; i++)
		assert_true(sy_webhook_post(w, "{}", 2));
	run_idle(l, w);
	assert_int_equal(sy_webhook_stats(w)->failed, 3);
	assert_int_equal(sy_webhook_stats(w)->sent, 0);
	assert_int_equal(r.n, 3);
	sy_webhook_destroy(w);
	evhttp_free(r.http); /* now nobody listens on r.port */
	w = hook_new(l, r.port, "/", (struct sy_webhook_cfg){.inflight_max = 2});
	for (int i = 0; i < 5; i++)
		assert_true(sy_webhook_post(w, "{}", 2));
	run_idle(l, w);
	assert_int_equal(sy_webhook_stats(w)->failed, 5);
	assert_int_equal(sy_webhook_stats(w)->sent, 0);
	sy_webhook_destroy(w);
	sy_live_destroy(l);
}

static int ticked;

/* The loop is free while the POSTs hang: a timer fires among them. */
static void tick(void *arg)
{
	const struct sy_webhook *w = arg;
	assert_int_equal(sy_webhook_stats(w)->in_flight, 2);
	assert_int_equal(sy_webhook_stats(w)->failed, 0);
	ticked++;
}

/* A receiver that takes the request and never answers: each POST ends at
 * the timeout as failed; meanwhile the loop serves other events, and the
 * queue holds queue_max bodies at most, the rest dropped and counted. */
static void test_hanging_receiver_bounded(void **state)
{
	struct sy_live *l = live_new();
	struct rx r;
	rx_start(l, &r, RX_HANG);
	struct sy_webhook *w =
	    hook_new(l, r.port, "/",
		     (struct sy_webhook_cfg){.timeout_ns = 300 * SY_NS_PER_MS, .queue_max = 4, .inflight_max = 2});
	int posted = 0;
	for (int i = 0; i < 10; i++)
		posted += sy_webhook_post(w, "{\"x\":1}", 7);
	assert_int_equal(posted, 4); /* nothing left the queue yet: the loop has not run */
	assert_int_equal(sy_webhook_stats(w)->dropped, 6);
	sy_env_timer_start(sy_live_env(l), 50 * SY_NS_PER_MS, tick, w);
	run_idle(l, w);
	assert_int_equal(ticked, 1);
	assert_int_equal(ticked, 1);
	const struct sy_webhook_stats *st = sy_webhook_stats(w);
	assert_int_equal(st->posted, 10);
	assert_int_equal(st->failed, 4);
	assert_int_equal(st->sent, 0);
	assert_int_equal(st->dropped, 6);
	assert_int_equal(r.n, 4);
	char big[WEBHOOK_BODY_MAX + 1];
	memset(big, 'x', sizeof(big));
	assert_false(sy_webhook_post(w, big, sizeof(big)));
	assert_int_equal(st->dropped, 7);
	sy_webhook_destroy(w);
	evhttp_free(r.http);
	sy_live_destroy(l);
}

/* Destroyed with POSTs in flight and queued: nothing leaks (ASan), no
 * callback runs afterwards. */
static void test_destroy_in_flight(void **state)
{
	struct sy_live *l = live_new();
	struct rx r;
	rx_start(l, &r, RX_HANG);
	struct sy_webhook *w = hook_new(l, r.port, "/", (struct sy_webhook_cfg){.inflight_max = 1});
	for (int i = 0; i < 3; i++)
		assert_true(sy_webhook_post(w, "{}", 2));
	for (int i = 0; i < STEPS && r.n == 0; i++)
		sy_live_run_for(l, STEP_NS);
	assert_int_equal(r.n, 1);
	assert_int_equal(sy_webhook_stats(w)->in_flight, 1);
	assert_int_equal(sy_webhook_stats(w)->queued, 2);
	sy_webhook_destroy(w);
	sy_live_run_for(l, STEP_NS);
	evhttp_free(r.http);
	sy_live_destroy(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_url_parse),	      cmocka_unit_test(test_posts_arrive),
	    cmocka_unit_test(test_failures_counted),  cmocka_unit_test(test_hanging_receiver_bounded),
	    cmocka_unit_test(test_destroy_in_flight),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
