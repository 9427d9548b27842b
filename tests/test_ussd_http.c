/* test_ussd_http.c: the USSD HTTP application client (core/ussd/http.h)
 * over the simulator's streams against a test HTTP server whose replies
 * are raw bytes the test writes (whole, byte by byte, chunked, never),
 * on virtual time; and its pure parts (http_int.h): URL, form encoding,
 * the response parser fed in pieces, the CON/END rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/ussd/http.h"
#include "core/ussd/http_int.h"
#include "sim/sim.h"

#define SRV_PORT      8080
#define SRV_CONNS_MAX 32
#define SCRIPT_MAX    16
#define RES_MAX	      32

/* ---- a test HTTP server: one scripted reply per request ---- */

/* Script entries: raw reply bytes; HANG: never answer; SHUT: close with no reply. */
#define HANG "hang"
#define SHUT "shut"

struct tsrv_conn {
	struct tsrv *srv;
	struct sy_stream *s;
	bool open;
	char in[8192];
	size_t in_len;
};

struct tsrv {
	const struct sy_env *env;
	struct sy_addr addr;
	struct sy_listener *l;
	const char *script[SCRIPT_MAX];
	uint32_t script_n;
	bool bytewise; /* write replies one byte per write (one on_data each) */
	uint32_t accepts;
	uint32_t requests;
	char last_req[4096];
	struct tsrv_conn conns[SRV_CONNS_MAX];
	uint32_t conn_n;
	struct tsrv_conn *held; /* the connection of the last HANG request */
};

static void ts_open(void *arg, struct sy_stream *s)
{
	struct tsrv *t = arg;
	assert_true(t->conn_n < SRV_CONNS_MAX);
	struct tsrv_conn *c = &t->conns[t->conn_n++];
	*c = (struct tsrv_conn){.srv = t, .s = s, .open = true};
	t->accepts++;
	sy_env_stream_set_arg(t->env, s, c);
}

static void ts_write(struct tsrv *t, struct tsrv_conn *c, const char *bytes)
{
	size_t n = strlen(bytes);
	if (!t->bytewise) {
		assert_int_equal(sy_env_stream_write(t->env, c->s, bytes, n), SY_OK);
		return;
	}
	for (size_t i = 0; i < n; i++)
		assert_int_equal(sy_env_stream_write(t->env, c->s, bytes + i, 1), SY_OK);
}

/* Bytes of one complete request at the front of c->in, or 0. */
static size_t ts_request_len(const struct tsrv_conn *c)
{
	const char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
	if (end == NULL)
		return 0;
	size_t head = (size_t)(end - c->in) + 4;
	const char *cl = memmem(c->in, head, "Content-Length: ", 16);
	size_t body = cl ? strtoul(cl + 16, NULL, 10) : 0;
	return c->in_len >= head + body ? head + body : 0;
}

static void ts_data(void *arg, struct sy_stream *s, const uint8_t *buf, size_t len)
{
	struct tsrv_conn *c = arg;
	struct tsrv *t = c->srv;
	assert_true(c->in_len + len <= sizeof(c->in));
	memcpy(c->in + c->in_len, buf, len);
	c->in_len += len;
	size_t n;
	while (c->open && (n = ts_request_len(c)) > 0) {
		assert_true(n < sizeof(t->last_req));
		memcpy(t->last_req, c->in, n);
		t->last_req[n] = '\0';
		memmove(c->in, c->in + n, c->in_len - n);
		c->in_len -= n;
		const char *r = t->requests < t->script_n ? t->script[t->requests] : HANG;
		t->requests++;
		if (strcmp(r, HANG) == 0) {
			t->held = c;
		} else if (strcmp(r, SHUT) == 0) {
			c->open = false;
			sy_env_stream_close(t->env, c->s);
		} else {
			ts_write(t, c, r);
			/* as a server does after a reply it said was the last */
			if (strstr(r, "Connection: close") != NULL || strncmp(r, "HTTP/1.0", 8) == 0) {
				c->open = false;
				sy_env_stream_close(t->env, c->s);
			}
		}
	}
}

static void ts_close(void *arg, struct sy_stream *s, enum sy_rc why)
{
	struct tsrv_conn *c = arg;
	c->open = false;
}

static const struct sy_stream_cbs ts_cbs = {ts_open, ts_data, ts_close};

static void ts_listen(struct tsrv *t)
{
	assert_int_equal(sy_env_stream_listen(t->env, &t->addr, &ts_cbs, t, &t->l), SY_OK);
}

/* ---- the client's side ---- */

struct result {
	uint64_t token;
	struct ussd_app_reply r;
	char text[USSD_HTTP_BODY_MAX];
	uint64_t at_ns;
};

struct world {
	struct sim *sim;
	struct sim_node *gw, *app;
	struct tsrv srv;
	struct ussd_cfg cfg;
	struct ussd_http *h;
	struct result res[RES_MAX];
	uint32_t res_n;
	bool in_request; /* done must never run inside ussd_http_request() */
};

static void on_done(void *arg, uint64_t token, const struct ussd_app_reply *reply)
{
	struct world *w = arg;
	assert_false(w->in_request);
	assert_true(w->res_n < RES_MAX);
	struct result *r = &w->res[w->res_n++];
	r->token = token;
	r->r = *reply;
	assert_true(reply->text.len < sizeof(r->text));
	if (reply->text.len > 0)
		memcpy(r->text, reply->text.p, reply->text.len);
	r->text[reply->text.len] = '\0';
	r->r.text = (struct sy_str){r->text, reply->text.len};
	r->at_ns = sim_now(w->sim);
}

static void svc_add(struct ussd_cfg *c, const char *url, uint64_t timeout_ns, uint32_t retries, uint32_t in_flight)
{
	struct ussd_service_cfg *s = &c->services[c->service_n++];
	memset(s, 0, sizeof(*s));
	snprintf(s->code, sizeof(s->code), "*123#");
	s->line = 10 + c->service_n;
	s->kind = USSD_APP_HTTP;
	snprintf(s->url, sizeof(s->url), "%s", url);
	s->timeout_ns = timeout_ns;
	s->retries = retries;
	s->retry_delay_ns = 200 * SY_NS_PER_MS;
	s->in_flight_max = in_flight;
}

static struct world *world_new(uint64_t timeout_ns, uint32_t retries, uint32_t in_flight, bool listen)
{
	struct world *w = calloc(1, sizeof(*w));
	w->sim = sim_create(7, 0);
	w->gw = sim_node_add(w->sim, "gw", "10.0.0.1");
	w->app = sim_node_add(w->sim, "app", "10.0.0.2");
	w->srv.env = sim_node_env(w->app);
	w->srv.addr = sim_node_addr(w->app, SRV_PORT);
	if (listen)
		ts_listen(&w->srv);
	ussd_cfg_defaults(&w->cfg);
	svc_add(&w->cfg, "http://10.0.0.2:8080/ussd", timeout_ns, retries, in_flight);
	char err[256] = "";
	assert_int_equal(ussd_http_create(sim_node_env(w->gw), &w->cfg, on_done, w, &w->h, err, sizeof(err)), SY_OK);
	return w;
}

/* Every request accepted is told exactly once, cancelled, or still out. */
static void stats_balanced(const struct ussd_http_stats *st)
{
	assert_int_equal(st->requests, st->ok + st->timeouts + st->connect_failed + st->http_errors + st->bad_replies +
					   st->cancelled + st->in_flight);
}

static void world_free(struct world *w)
{
	stats_balanced(ussd_http_stats(w->h));
	ussd_http_destroy(w->h);
	sy_env_listener_close(w->srv.env, w->srv.l);
	sim_destroy(w->sim);
	free(w);
}

static enum sy_rc ask(struct world *w, uint64_t token, const char *text)
{
	struct ussd_app_req req = {
	    .session_id = token, .code = SY_STR("*123#"), .msisdn = SY_STR("+254700000001"), .text = sy_str_from(text)};
	w->in_request = true;
	enum sy_rc rc = ussd_http_request(w->h, 0, token, &req);
	w->in_request = false;
	return rc;
}

static void run_ms(struct world *w, uint64_t ms)
{
	sim_run_until(w->sim, sim_now(w->sim) + ms * SY_NS_PER_MS);
}

static void script(struct world *w, const char *const *replies, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		w->srv.script[i] = replies[i];
	w->srv.script_n = n;
}

#define R200(body) "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " body
#define CON_MAIN   "HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\nCON Welcome\n1. Balance\n2. Send"
#define END_BAL	   "HTTP/1.1 200 OK\r\nContent-Length: 23\r\n\r\nEND Your balance is 100"
#define STATUS(n)  "HTTP/1.1 " #n " Oops\r\nContent-Length: 4\r\n\r\noops"

/* ---- end to end ---- */

static void test_con_and_request_bytes(void **state)
{
	struct world *w = world_new(3 * SY_NS_PER_S, 1, 10, true);
	static const char *const r[] = {CON_MAIN};
	script(w, r, 1);
	assert_int_equal(ask(w, 77, "1*2 x#"), SY_OK);
	assert_int_equal(w->res_n, 0);
	run_ms(w, 100);
	assert_int_equal(w->res_n, 1);
	assert_int_equal(w->res[0].token, 77);
	assert_int_equal(w->res[0].r.result, USSD_APP_OK);
	assert_int_equal(w->res[0].r.status, 200);
	assert_false(w->res[0].r.end);
	assert_string_equal(w->res[0].text, "Welcome\n1. Balance\n2. Send");
	assert_int_equal(w->res[0].r.attempts, 1);
	static const char want[] = "POST /ussd HTTP/1.1\r\n"
				   "Host: 10.0.0.2:8080\r\n"
				   "User-Agent: switchyard-ussd\r\n"
				   "Accept: text/plain\r\n"
				   "Content-Type: application/x-www-form-urlencoded\r\n"
				   "Content-Length: 74\r\n"
				   "Connection: keep-alive\r\n"
				   "\r\n"
				   "sessionId=77&serviceCode=*123%23&phoneNumber=%2B254700000001&text=1*2+x%23";
	assert_string_equal(w->srv.last_req, want);
	const struct ussd_http_stats *st = ussd_http_stats(w->h);
	assert_int_equal(st->requests, 1);
	assert_int_equal(st->ok, 1);
	assert_int_equal(st->in_flight, 0);
	world_free(w);
}

/* Each reply is right whether it comes in one segment or byte by byte. */
static void run_reply(const char *reply, bool bytewise, enum ussd_app_result want, bool end, const char *text)
{
	struct world *w = world_new(3 * SY_NS_PER_S, 0, 10, true);
	const char *r[] = {reply};
	script(w, r, 1);
	w->srv.bytewise = bytewise;
	assert_int_equal(ask(w, 1, ""), SY_OK);
	run_ms(w, 500);
	assert_int_equal(w->res_n, 1);
	assert_int_equal(w->res[0].r.result, want);
	if (want == USSD_APP_OK) {
		assert_int_equal(w->res[0].r.end, end);
		assert_string_equal(w->res[0].text, text);
	}
	world_free(w);
}

static void test_replies(void **state)
{
	static const struct {
		const char *reply;
		enum ussd_app_result want;
		bool end;
		const char *text;
	} cases[] = {
	    {CON_MAIN, USSD_APP_OK, false, "Welcome\n1. Balance\n2. Send"},
	    {END_BAL, USSD_APP_OK, true, "Your balance is 100"},
	    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nEND \r\n6\r\nThanks\r\n0\r\n\r\n", USSD_APP_OK,
	     true, "Thanks"},
	    {"HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\nCON\r\nA\r\nB\r\nC\r\n", USSD_APP_OK, false, "A\nB\nC"},
	    {"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nEND\nOk", USSD_APP_OK, true, "Ok"},
	    {"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nEND ok", USSD_APP_OK, true,
	     "ok"},
	    {"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nEND to the end", USSD_APP_OK, true, "to the end"},
	    {"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nHello there", USSD_APP_BAD, false, NULL},
	    {"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\ncon abc", USSD_APP_BAD, false, NULL},
	    {"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nEND", USSD_APP_BAD, false, NULL},
	    {"HTTP/1.1 204 No Content\r\n\r\n", USSD_APP_BAD, false, NULL},
	    {"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nEND \xff\xfe", USSD_APP_BAD, false, NULL},
	    {"SMTP ready\r\n\r\n", USSD_APP_BAD, false, NULL},
	    {STATUS(404), USSD_APP_STATUS, false, NULL},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++)
		for (int bw = 0; bw < 2; bw++)
			run_reply(cases[i].reply, bw, cases[i].want, cases[i].end, cases[i].text);
}

static void test_body_too_long(void **state)
{
	static char reply[8192];
	int n =
	    snprintf(reply, sizeof(reply), "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\nCON ", USSD_HTTP_BODY_MAX + 1);
	memset(reply + n, 'x', USSD_HTTP_BODY_MAX - 3);
	reply[n + USSD_HTTP_BODY_MAX - 3] = '\0';
	run_reply(reply, false, USSD_APP_BAD, false, NULL);
}

/* 500 is not retried (the application may have acted); 502 is, once. */
static void test_500_not_retried_502_retried(void **state)
{
	struct world *w = world_new(3 * SY_NS_PER_S, 1, 10, true);
	static const char *const r[] = {STATUS(500), STATUS(502), END_BAL};
	script(w, r, 3);
	assert_int_equal(ask(w, 1, ""), SY_OK);
	run_ms(w, 100);
	assert_int_equal(w->res_n, 1);
	assert_int_equal(w->res[0].r.result, USSD_APP_STATUS);
	assert_int_equal(w->res[0].r.status, 500);
	assert_int_equal(w->res[0].r.attempts, 1);
	assert_int_equal(w->srv.requests, 1);
	uint64_t t0 = sim_now(w->sim);
	assert_int_equal(ask(w, 2, ""), SY_OK);
	run_ms(w, 1000);
	assert_int_equal(w->res_n, 2);
	assert_int_equal(w->res[1].r.result, USSD_APP_OK);
	assert_int_equal(w->res[1].r.attempts, 2);
	assert_string_equal(w->res[1].text, "Your balance is 100");
	/* 1 ms each way, then retry_delay: the retry is 200 ms after the 502 */
	assert_int_equal(w->res[1].at_ns - t0, (2 + 200 + 2) * SY_NS_PER_MS);
	assert_int_equal(ussd_http_stats(w->h)->retries, 1);
	assert_int_equal(ussd_http_stats(w->h)->http_errors, 1);
	/* every attempt on the one keep-alive connection */
	assert_int_equal(w->srv.accepts, 1);
	world_free(w);
}

static void test_503_retries_exhausted(void **state)
{
	struct world *w = world_new(3 * SY_NS_PER_S, 2, 10, true);
	static const char *const r[] = {STATUS(503), STATUS(503), STATUS(503), END_BAL};
	script(w, r, 4);
	assert_int_equal(ask(w, 5, ""), SY_OK);
	run_ms(w, 2000);
	assert_int_equal(w->res_n, 1);
	assert_int_equal(w->res[0].r.result, USSD_APP_STATUS);
	assert_int_equal(w->res[0].r.status, 503);
	assert_int_equal(w->res[0].r.attempts, 3);
	assert_int_equal(w->srv.requests, 3);
	assert_int_equal(ussd_http_stats(w->h)->retries, 2);
	world_free(w);
}

/* No retry that could not finish before the deadline. */
static void test_retry_stops_at_deadline(void **state)
{
	struct world *w = world_new(300 * SY_NS_PER_MS, 5, 10, true);
	static const char *const r[] = {STATUS(504), STATUS(504), END_BAL};
	script(w, r, 3);
	assert_int_equal(ask(w, 5, ""), SY_OK);
	run_ms(w, 2000);
	assert_int_equal(w->res_n, 1);
	assert_int_equal(w->res[0].r.result, USSD_APP_STATUS);
	assert_int_equal(w->res[0].r.status, 504);
	assert_int_equal(w->res[0].r.attempts, 2);
	world_free(w);
}

static void listen_fn(void *arg)
{
	ts_listen(arg);
}

static void test_refused_then_retry(void **state)
{
	struct world *w = world_new(3 * SY_NS_PER_S, 1, 10, false);
	static const char *const r[] = {END_BAL};
	script(w, r, 1);
	/* the application comes up 100 ms in: the first connect is refused */
	sim_at(w->sim, 100 * SY_NS_PER_MS, listen_fn, &w->srv);
	assert_int_equal(ask(w, 9, ""), SY_OK);
	run_ms(w, 1000);
	assert_int_equal(w->res_n, 1);
	assert_int_equal(w->res[0].r.result, USSD_APP_OK);
	assert_int_equal(w->res[0].r.attempts, 2);
	assert_int_equal(ussd_http_stats(w->h)->conns_opened, 2);
	world_free(w);
}

static void test_refused_for_good(void **state)
{
	struct world *w = world_new(3 * SY_NS_PER_S, 2, 10, false);
	assert_int_equal(ask(w, 9, ""), SY_OK);
	run_ms(w, 1000);
	assert_int_equal(w->res_n, 1);
	assert_int_equal(w->res[0].r.result, USSD_APP_CONNECT);
	assert_int_equal(w->res[0].r.attempts, 3);
	assert_int_equal(ussd_http_stats(w->h)->connect_failed, 1);
	world_free(w);
}

/* An address no node owns fails inside connect: reported from a timer. */
static void test_unreachable_host(void **state)
{
	struct world *w = world_new(3 * SY_NS_PER_S, 0, 10, true);
	ussd_http_destroy(w->h);
	struct ussd_cfg cfg;
	ussd_cfg_defaults(&cfg);
	svc_add(&cfg, "http://10.9.9.9/x", SY_NS_PER_S, 0, 10);
	char err[128];
	assert_int_equal(ussd_http_create(sim_node_env(w->gw), &cfg, on_done, w, &w->h, err, sizeof(err)), SY_OK);
	assert_int_equal(ask(w, 3, ""), SY_OK);
	assert_int_equal(w->res_n, 0);
	run_ms(w, 1);
	assert_int_equal(w->res_n, 1);
	assert_int_equal(w->res[0].r.result, USSD_APP_CONNECT);
	world_free(w);
}

static void test_timeout_exact(void **state)
{
	struct world *w = world_new(3 * SY_NS_PER_S, 3, 10, true);
	static const char *const r[] = {HANG};
	script(w, r, 1);
	run_ms(w, 50);
	uint64_t t0 = sim_now(w->sim);
	assert_int_equal(ask(w, 4, ""), SY_OK);
	run_ms(w, 10000);
	assert_int_equal(w->res_n, 1);
	assert_int_equal(w->res[0].r.result, USSD_APP_TIMEOUT);
	assert_int_equal(w->res[0].r.status, 0);
	assert_int_equal(w->res[0].at_ns, t0 + 3 * SY_NS_PER_S);
	/* never retried after a timeout, whatever the retries */
	assert_int_equal(w->res[0].r.attempts, 1);
	assert_int_equal(w->srv.requests, 1);
	const struct ussd_http_stats *st = ussd_http_stats(w->h);
	assert_int_equal(st->timeouts, 1);
	assert_int_equal(st->conns_closed, 1); /* the late reply cannot be told apart: closed */
	assert_int_equal(st->in_flight, 0);
	world_free(w);
}

/* A reply after cancel is read and dropped; the connection carries the next. */
static void test_cancel_in_flight(void **state)
{
	struct world *w = world_new(3 * SY_NS_PER_S, 1, 10, true);
	static const char *const r[] = {HANG, CON_MAIN};
	script(w, r, 2);
	assert_int_equal(ask(w, 11, ""), SY_OK);
	run_ms(w, 50);
	assert_int_equal(w->srv.requests, 1);
	ussd_http_cancel(w->h, 11);
	ussd_http_cancel(w->h, 11); /* twice: harmless */
	ts_write(&w->srv, w->srv.held, END_BAL);
	run_ms(w, 50);
	assert_int_equal(w->res_n, 0);
	const struct ussd_http_stats *st = ussd_http_stats(w->h);
	assert_int_equal(st->cancelled, 1);
	assert_int_equal(st->in_flight, 0);
	/* the token is free again, and the connection is reused */
	assert_int_equal(ask(w, 11, "1"), SY_OK);
	run_ms(w, 50);
	assert_int_equal(w->res_n, 1);
	assert_int_equal(w->res[0].r.result, USSD_APP_OK);
	assert_false(w->res[0].r.end);
	assert_int_equal(st->conns_opened, 1);
	assert_int_equal(st->conns_reused, 1);
	assert_int_equal(w->srv.accepts, 1);
	world_free(w);
}

/* Cancelled while waiting for a retry: nothing is sent again. */
static void test_cancel_in_retry_wait(void **state)
{
	struct world *w = world_new(3 * SY_NS_PER_S, 3, 10, true);
	static const char *const r[] = {STATUS(503), END_BAL};
	script(w, r, 2);
	assert_int_equal(ask(w, 12, ""), SY_OK);
	run_ms(w, 50);
	ussd_http_cancel(w->h, 12);
	run_ms(w, 1000);
	assert_int_equal(w->res_n, 0);
	assert_int_equal(w->srv.requests, 1);
	assert_int_equal(ussd_http_stats(w->h)->in_flight, 0);
	world_free(w);
}

static void test_keepalive_reuse(void **state)
{
	struct world *w = world_new(3 * SY_NS_PER_S, 0, 10, true);
	static const char *const r[] = {CON_MAIN, CON_MAIN, END_BAL};
	script(w, r, 3);
	for (uint64_t i = 0; i < 3; i++) {
		assert_int_equal(ask(w, 20 + i, i == 0 ? "" : "1"), SY_OK);
		run_ms(w, 100);
	}
	assert_int_equal(w->res_n, 3);
	assert_true(w->res[2].r.end);
	const struct ussd_http_stats *st = ussd_http_stats(w->h);
	assert_int_equal(st->conns_opened, 1);
	assert_int_equal(st->conns_reused, 2);
	assert_int_equal(w->srv.accepts, 1);
	/* idle past the keep-alive time: closed, the next request opens one */
	run_ms(w, 5000);
	assert_int_equal(st->conns_closed, 1);
	world_free(w);
}

static void test_connection_close_honoured(void **state)
{
	struct world *w = world_new(3 * SY_NS_PER_S, 0, 10, true);
	static const char *const r[] = {
	    "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 6\r\n\r\nCON hi",
	    "HTTP/1.0 200 OK\r\nContent-Length: 6\r\n\r\nCON hi",
	    CON_MAIN,
	};
	script(w, r, 3);
	for (uint64_t i = 0; i < 3; i++) {
		assert_int_equal(ask(w, 30 + i, ""), SY_OK);
		run_ms(w, 100);
	}
	assert_int_equal(w->res_n, 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(w->res[i].r.result, USSD_APP_OK);
	const struct ussd_http_stats *st = ussd_http_stats(w->h);
	assert_int_equal(st->conns_opened, 3);
	assert_int_equal(st->conns_reused, 0);
	assert_int_equal(w->srv.accepts, 3);
	world_free(w);
}

/* The application closes an idle keep-alive connection as we send on it:
 * sent once more on a new connection, not an error. */
static void test_stale_keepalive_resent(void **state)
{
	struct world *w = world_new(3 * SY_NS_PER_S, 0, 10, true);
	static const char *const r[] = {CON_MAIN, SHUT, END_BAL};
	script(w, r, 3);
	assert_int_equal(ask(w, 40, ""), SY_OK);
	run_ms(w, 100);
	assert_int_equal(ask(w, 41, "1"), SY_OK);
	run_ms(w, 100);
	assert_int_equal(w->res_n, 2);
	assert_int_equal(w->res[1].r.result, USSD_APP_OK);
	assert_true(w->res[1].r.end);
	assert_int_equal(w->res[1].r.attempts, 1);
	assert_int_equal(ussd_http_stats(w->h)->conns_opened, 2);
	world_free(w);
}

/* A fresh connection lost after the request went out: not retried. */
static void test_lost_not_retried(void **state)
{
	struct world *w = world_new(3 * SY_NS_PER_S, 3, 10, true);
	static const char *const r[] = {SHUT, END_BAL};
	script(w, r, 2);
	assert_int_equal(ask(w, 42, ""), SY_OK);
	run_ms(w, 1000);
	assert_int_equal(w->res_n, 1);
	assert_int_equal(w->res[0].r.result, USSD_APP_CONNECT);
	assert_int_equal(w->srv.requests, 1);
	world_free(w);
}

static void test_in_flight_max(void **state)
{
	struct world *w = world_new(3 * SY_NS_PER_S, 0, 2, true);
	static const char *const r[] = {HANG, HANG};
	script(w, r, 2);
	assert_int_equal(ask(w, 50, ""), SY_OK);
	assert_int_equal(ask(w, 51, ""), SY_OK);
	assert_int_equal(ask(w, 52, ""), SY_ERR_FULL);
	const struct ussd_http_stats *st = ussd_http_stats(w->h);
	assert_int_equal(st->overload, 1);
	assert_int_equal(st->in_flight, 2);
	run_ms(w, 50);
	assert_int_equal(w->srv.accepts, 2);
	ussd_http_cancel(w->h, 50); /* still on its connection: the slot stays taken */
	assert_int_equal(ask(w, 53, ""), SY_ERR_FULL);
	run_ms(w, 5000);
	/* both timed out (one cancelled, told nothing); no callback for 52 or 53 */
	assert_int_equal(w->res_n, 1);
	assert_int_equal(w->res[0].token, 51);
	assert_int_equal(w->res[0].r.result, USSD_APP_TIMEOUT);
	assert_int_equal(st->in_flight, 0);
	assert_int_equal(ask(w, 54, ""), SY_OK);
	world_free(w);
}

/* ---- the pure parts ---- */

static void test_url_parse(void **state)
{
	static const struct {
		const char *url;
		bool ok;
		const char *host, *path;
		uint16_t port;
	} cases[] = {
	    {"http://10.0.0.2:8080/ussd", true, "10.0.0.2:8080", "/ussd", 8080},
	    {"http://127.0.0.1/ussd?x=1", true, "127.0.0.1", "/ussd?x=1", 80},
	    {"http://localhost:9000", true, "localhost:9000", "/", 9000},
	    {"http://[::1]:8090/a/b", true, "[::1]:8090", "/a/b", 8090},
	    {"http://localhost?q", true, "localhost", "/?q", 80},
	    {"https://10.0.0.2/ussd", false, NULL, NULL, 0},
	    {"ftp://10.0.0.2/", false, NULL, NULL, 0},
	    {"http://example.com/ussd", false, NULL, NULL, 0},
	    {"http://user@10.0.0.2/", false, NULL, NULL, 0},
	    {"http://10.0.0.2:0/", false, NULL, NULL, 0},
	    {"http://10.0.0.2:70000/", false, NULL, NULL, 0},
	    {"http://10.0.0.2/a b", false, NULL, NULL, 0},
	    {"http://10.0.0.2/a#frag", false, NULL, NULL, 0},
	    {"http:///ussd", false, NULL, NULL, 0},
	    {"", false, NULL, NULL, 0},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		struct ussd_http_url u;
		const char *why = NULL;
		enum sy_rc rc = ussd_http_url_parse(cases[i].url, &u, &why);
		assert_int_equal(rc == SY_OK, cases[i].ok);
		if (!cases[i].ok) {
			assert_non_null(why);
			continue;
		}
		assert_string_equal(u.host, cases[i].host);
		assert_string_equal(u.path, cases[i].path);
		assert_int_equal(u.addr.port, cases[i].port);
	}
}

static void test_create_bad_url(void **state)
{
	struct sim *sim = sim_create(1, 0);
	struct sim_node *n = sim_node_add(sim, "gw", NULL);
	struct ussd_cfg cfg;
	ussd_cfg_defaults(&cfg);
	svc_add(&cfg, "https://10.0.0.2/x", SY_NS_PER_S, 0, 10);
	struct ussd_http *h = (void *)1;
	char err[256] = "";
	assert_int_equal(ussd_http_create(sim_node_env(n), &cfg, on_done, NULL, &h, err, sizeof(err)), SY_ERR_INVAL);
	assert_null(h);
	assert_non_null(strstr(err, "line 11"));
	assert_non_null(strstr(err, "https"));
	sim_destroy(sim);
}

static void test_form_encode(void **state)
{
	char out[64];
	size_t n = ussd_http_form_encode(SY_STR("*123*1#"), out, sizeof(out));
	assert_int_equal(n, 9);
	assert_memory_equal(out, "*123*1%23", n);
	n = ussd_http_form_encode(SY_STR("a b+c&d=e/\xc3\xa9~"), out, sizeof(out));
	assert_memory_equal(out, "a+b%2Bc%26d%3De%2F%C3%A9%7E", n);
	assert_int_equal(ussd_http_form_encode(SY_STR("-._AZaz09"), out, sizeof(out)), 9);
	assert_int_equal(ussd_http_form_encode(SY_STR("###"), out, 8), SIZE_MAX);
	assert_int_equal(ussd_http_form_encode(SY_STR("###"), out, 9), 9);
}

static void test_req_too_long(void **state)
{
	struct ussd_http_url u;
	const char *why;
	assert_int_equal(ussd_http_url_parse("http://10.0.0.2/u", &u, &why), SY_OK);
	static char text[2000];
	memset(text, '#', sizeof(text) - 1);
	struct ussd_app_req r = {1, SY_STR("*1#"), SY_STR("1"), sy_str_from(text)};
	static char buf[USSD_HTTP_REQ_MAX];
	size_t len;
	assert_int_equal(ussd_http_req_build(&u, &r, buf, sizeof(buf), &len), SY_ERR_FULL);
	r.text = SY_STR("1");
	assert_int_equal(ussd_http_req_build(&u, &r, buf, sizeof(buf), &len), SY_OK);
}

/* The same response fed in one piece and in every two-piece split, and
 * byte by byte, parses the same. */
static void test_resp_split_feed(void **state)
{
	static const char *const resps[] = {
	    CON_MAIN,
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nEND \r\n6\r\nThanks\r\n0\r\n\r\n",
	    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n",
	};
	static struct ussd_http_resp a, b;
	for (size_t i = 0; i < SY_ARRAY_LEN(resps); i++) {
		const uint8_t *p = (const uint8_t *)resps[i];
		size_t n = strlen(resps[i]), used;
		ussd_http_resp_init(&a);
		assert_int_equal(ussd_http_resp_feed(&a, p, n, &used), SY_OK);
		assert_int_equal(used, n);
		for (size_t cut = 0; cut <= n; cut++) {
			ussd_http_resp_init(&b);
			enum sy_rc rc = ussd_http_resp_feed(&b, p, cut, &used);
			if (rc == SY_AGAIN)
				rc = ussd_http_resp_feed(&b, p + cut, n - cut, &used);
			assert_int_equal(rc, SY_OK);
			assert_int_equal(b.status, a.status);
			assert_int_equal(b.body_len, a.body_len);
			assert_memory_equal(b.body, a.body, a.body_len);
		}
		ussd_http_resp_init(&b);
		enum sy_rc rc = SY_AGAIN;
		for (size_t k = 0; k < n; k++) {
			assert_int_equal(rc, SY_AGAIN);
			rc = ussd_http_resp_feed(&b, p + k, 1, &used);
		}
		assert_int_equal(rc, SY_OK);
		assert_int_equal(b.status, a.status);
		assert_memory_equal(b.body, a.body, a.body_len);
	}
}

static void test_resp_trailing_bytes(void **state)
{
	static struct ussd_http_resp r;
	static const char two[] = END_BAL "HTTP/1.1 200 OK\r\n";
	size_t used;
	ussd_http_resp_init(&r);
	assert_int_equal(ussd_http_resp_feed(&r, (const uint8_t *)two, strlen(two), &used), SY_OK);
	assert_int_equal(used, strlen(END_BAL));
	assert_true(r.keep_alive);
	/* EOF in the middle of a Content-Length body is not a reply */
	static const char cut[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nEND";
	ussd_http_resp_init(&r);
	assert_int_equal(ussd_http_resp_feed(&r, (const uint8_t *)cut, strlen(cut), &used), SY_AGAIN);
	assert_int_equal(ussd_http_resp_eof(&r), SY_ERR_PARSE);
}

static void test_body_parse(void **state)
{
	static const struct {
		const char *body;
		bool ok, end;
		const char *text;
	} cases[] = {
	    {"CON Hi", true, false, "Hi"},
	    {"END Bye\n", true, true, "Bye"},
	    {"END Bye\r\n\r\n", true, true, "Bye"},
	    {"CON\nA\nB", true, false, "A\nB"},
	    {"CON\r\nA\r\nB", true, false, "A\nB"},
	    {"CON A\r\r\nB\rC\r", true, false, "A\n\nB\nC"}, /* a lone CR is a line end too (fuzz) */
	    {"END ", true, true, ""},
	    {"CON  two spaces", true, false, " two spaces"},
	    {"END", false, false, NULL},
	    {"CONT x", false, false, NULL},
	    {" CON x", false, false, NULL},
	    {"end x", false, false, NULL},
	    {"CON\rx", false, false, NULL},
	    {"", false, false, NULL},
	    {"END \xc0\xaf", false, false, NULL},     /* overlong '/' */
	    {"END \xed\xa0\x80", false, false, NULL}, /* a surrogate */
	    {"END caf\xc3\xa9", true, true, "caf\xc3\xa9"},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		char buf[64];
		size_t n = strlen(cases[i].body);
		memcpy(buf, cases[i].body, n);
		bool end = !cases[i].end;
		struct sy_str text;
		enum sy_rc rc = ussd_http_body_parse(buf, n, &end, &text);
		assert_int_equal(rc == SY_OK, cases[i].ok);
		if (!cases[i].ok)
			continue;
		assert_int_equal(end, cases[i].end);
		assert_int_equal(text.len, strlen(cases[i].text));
		assert_memory_equal(text.p, cases[i].text, text.len);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_url_parse),
	    cmocka_unit_test(test_create_bad_url),
	    cmocka_unit_test(test_form_encode),
	    cmocka_unit_test(test_req_too_long),
	    cmocka_unit_test(test_resp_split_feed),
	    cmocka_unit_test(test_resp_trailing_bytes),
	    cmocka_unit_test(test_body_parse),
	    cmocka_unit_test(test_con_and_request_bytes),
	    cmocka_unit_test(test_replies),
	    cmocka_unit_test(test_body_too_long),
	    cmocka_unit_test(test_500_not_retried_502_retried),
	    cmocka_unit_test(test_503_retries_exhausted),
	    cmocka_unit_test(test_retry_stops_at_deadline),
	    cmocka_unit_test(test_refused_then_retry),
	    cmocka_unit_test(test_refused_for_good),
	    cmocka_unit_test(test_unreachable_host),
	    cmocka_unit_test(test_timeout_exact),
	    cmocka_unit_test(test_cancel_in_flight),
	    cmocka_unit_test(test_cancel_in_retry_wait),
	    cmocka_unit_test(test_keepalive_reuse),
	    cmocka_unit_test(test_connection_close_honoured),
	    cmocka_unit_test(test_stale_keepalive_resent),
	    cmocka_unit_test(test_lost_not_retried),
	    cmocka_unit_test(test_in_flight_max),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
