/* test_ussd_app.c: the simulated USSD HTTP application (peers/ussd_app.h)
 * against the gateway's own HTTP client (core/ussd/http.h) over the
 * simulator's streams: a three-level menu walked statelessly along
 * `text`, latency, failures and the three outage modes on virtual time;
 * and raw HTTP (wrong method, path, form; pipelined requests). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/ussd/http.h"
#include "peers/ussd_app.h"
#include "sim/sim.h"

#define APP_PORT 8090
#define RES_MAX	 256

/* ---- a three-level menu ---- */

static void node_set(struct ussd_menu_cfg *m, uint16_t i, enum ussd_node_kind kind, const char *name, const char *text,
		     int16_t any_next)
{
	struct ussd_menu_node *n = &m->nodes[i];
	snprintf(n->name, sizeof(n->name), "%s", name);
	n->kind = (uint8_t)kind;
	n->any_next = any_next;
	snprintf(n->text, sizeof(n->text), "%s", text);
	if (i >= m->node_n)
		m->node_n = (uint16_t)(i + 1);
}

static void opt_add(struct ussd_menu_cfg *m, uint16_t i, const char *key, uint16_t next)
{
	struct ussd_menu_node *n = &m->nodes[i];
	snprintf(n->opt_key[n->opt_n], sizeof(n->opt_key[0]), "%s", key);
	n->opt_next[n->opt_n++] = next;
}

static void menu_build(struct ussd_menu_cfg *m)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "bank");
	snprintf(m->invalid_text, sizeof(m->invalid_text), "Invalid choice.");
	node_set(m, 0, USSD_NODE_SCREEN, "main", "Welcome\n1. Balance\n2. Send money", -1);
	node_set(m, 1, USSD_NODE_END, "balance", "Your balance is 100.", -1);
	node_set(m, 2, USSD_NODE_SCREEN, "send_to", "Enter the number:", 3);
	node_set(m, 3, USSD_NODE_SCREEN, "amount", "Send to {input}. Amount?", 4);
	node_set(m, 4, USSD_NODE_SCREEN, "confirm", "Send {input}?\n1. Yes\n2. No", -1);
	node_set(m, 5, USSD_NODE_END, "sent", "Sent.", -1);
	node_set(m, 6, USSD_NODE_END, "cancelled", "Cancelled.", -1);
	opt_add(m, 0, "1", 1);
	opt_add(m, 0, "2", 2);
	opt_add(m, 4, "1", 5);
	opt_add(m, 4, "2", 6);
	char err[128];
	assert_int_equal(ussd_menu_check(m, err, sizeof(err)), SY_OK);
}

/* ---- the world: gateway node with the client, app node with the app ---- */

struct result {
	uint64_t token;
	enum ussd_app_result result;
	uint16_t status;
	bool end;
	char text[512];
	uint64_t at_ns;
};

struct world {
	struct sim *sim;
	struct sim_node *gw, *appn;
	struct ussd_menu_cfg menu;
	struct ussd_app *app;
	struct ussd_cfg cfg;
	struct ussd_http *h;
	struct result res[RES_MAX];
	uint32_t res_n;
};

static void on_done(void *arg, uint64_t token, const struct ussd_app_reply *rep)
{
	struct world *w = arg;
	assert_true(w->res_n < RES_MAX);
	struct result *r = &w->res[w->res_n++];
	*r = (struct result){.token = token, .result = rep->result, .status = rep->status, .end = rep->end};
	assert_true(rep->text.len < sizeof(r->text));
	if (rep->text.len > 0)
		memcpy(r->text, rep->text.p, rep->text.len);
	r->at_ns = sim_now(w->sim);
}

static struct world *world_new(struct ussd_app_cfg *ac, uint64_t timeout_ns, uint32_t retries, uint64_t seed)
{
	struct world *w = calloc(1, sizeof(*w));
	w->sim = sim_create(seed, 0);
	w->gw = sim_node_add(w->sim, "gw", "10.0.0.1");
	w->appn = sim_node_add(w->sim, "app", "10.0.0.3");
	menu_build(&w->menu);
	ac->listen = sim_node_addr(w->appn, APP_PORT);
	ac->menu = &w->menu;
	char err[256] = "";
	assert_int_equal(ussd_app_create(sim_node_env(w->appn), ac, &w->app, err, sizeof(err)), SY_OK);
	ussd_app_start(w->app);
	ussd_cfg_defaults(&w->cfg);
	struct ussd_service_cfg *s = &w->cfg.services[w->cfg.service_n++];
	snprintf(s->code, sizeof(s->code), "*123#");
	s->kind = USSD_APP_HTTP;
	snprintf(s->url, sizeof(s->url), "http://10.0.0.3:%u/ussd", APP_PORT);
	s->timeout_ns = timeout_ns;
	s->retries = retries;
	s->retry_delay_ns = 100 * SY_NS_PER_MS;
	s->in_flight_max = 100;
	assert_int_equal(ussd_http_create(sim_node_env(w->gw), &w->cfg, on_done, w, &w->h, err, sizeof(err)), SY_OK);
	return w;
}

static void world_free(struct world *w)
{
	ussd_http_destroy(w->h);
	ussd_app_destroy(w->app);
	sim_destroy(w->sim);
	free(w);
}

static void ask(struct world *w, uint64_t token, const char *text)
{
	struct ussd_app_req req = {
	    .session_id = token, .code = SY_STR("*123#"), .msisdn = SY_STR("254700000001"), .text = sy_str_from(text)};
	assert_int_equal(ussd_http_request(w->h, 0, token, &req), SY_OK);
}

static void run_to(struct world *w, uint64_t t_ns)
{
	sim_run_until(w->sim, t_ns);
}

/* One request, run until it is answered (or 10 s); its result. */
static const struct result *ask_wait(struct world *w, uint64_t token, const char *text)
{
	uint32_t before = w->res_n;
	ask(w, token, text);
	for (int i = 0; i < 1000 && w->res_n == before; i++)
		run_to(w, sim_now(w->sim) + 10 * SY_NS_PER_MS);
	assert_int_equal(w->res_n, before + 1);
	return &w->res[before];
}

/* ---- tests ---- */

static void test_walk_three_levels(void **state)
{
	struct ussd_app_cfg ac = {0};
	struct world *w = world_new(&ac, 5 * SY_NS_PER_S, 0, 1);
	static const struct {
		const char *text;
		bool end;
		const char *screen;
	} steps[] = {
	    {"", false, "Welcome\n1. Balance\n2. Send money"},
	    {"2", false, "Enter the number:"},
	    {"2*0722000111", false, "Send to 0722000111. Amount?"},
	    {"2*0722000111*100", false, "Send 100?\n1. Yes\n2. No"},
	    {"2*0722000111*100*1", true, "Sent."},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(steps); i++) {
		const struct result *r = ask_wait(w, 100, steps[i].text);
		assert_int_equal(r->result, USSD_APP_OK);
		assert_int_equal(r->end, steps[i].end);
		assert_string_equal(r->text, steps[i].screen);
	}
	/* a wrong choice: the invalid text, then the same screen */
	const struct result *r = ask_wait(w, 101, "9");
	assert_false(r->end);
	assert_non_null(strstr(r->text, "Invalid choice."));
	assert_non_null(strstr(r->text, "1. Balance"));
	r = ask_wait(w, 102, "1");
	assert_true(r->end);
	assert_string_equal(r->text, "Your balance is 100.");
	const struct ussd_app_stats *as = ussd_app_stats(w->app);
	assert_int_equal(as->requests, 7);
	assert_int_equal(as->answered, 7);
	assert_int_equal(as->continued, 5);
	assert_int_equal(as->ended, 2);
	assert_int_equal(as->conns, 1);
	const struct ussd_http_stats *hs = ussd_http_stats(w->h);
	assert_int_equal(hs->conns_opened, 1);
	assert_int_equal(hs->conns_reused, 6);
	world_free(w);
}

static void test_latency_virtual_time(void **state)
{
	struct ussd_app_cfg ac = {.latency = sy_dist_fixed(300 * SY_NS_PER_MS)};
	struct world *w = world_new(&ac, 5 * SY_NS_PER_S, 0, 1);
	uint64_t t0 = sim_now(w->sim);
	const struct result *r = ask_wait(w, 1, "");
	/* 1 ms to the app (the request rides with the connect), 300 ms, 1 ms back */
	assert_int_equal(r->at_ns - t0, 302 * SY_NS_PER_MS);
	assert_int_equal(r->result, USSD_APP_OK);
	/* slower than the service's timeout: the gateway gives up first */
	ussd_http_destroy(w->h);
	w->cfg.services[0].timeout_ns = 250 * SY_NS_PER_MS;
	char err[128];
	assert_int_equal(ussd_http_create(sim_node_env(w->gw), &w->cfg, on_done, w, &w->h, err, sizeof(err)), SY_OK);
	t0 = sim_now(w->sim);
	r = ask_wait(w, 2, "");
	assert_int_equal(r->result, USSD_APP_TIMEOUT);
	assert_int_equal(r->at_ns - t0, 250 * SY_NS_PER_MS);
	run_to(w, sim_now(w->sim) + SY_NS_PER_S);
	world_free(w);
}

/* Latency drawn per request from the app's seeded stream: the same seed
 * gives the same reply times, another seed other ones. */
static uint64_t latency_run(uint64_t seed, uint64_t *sum_ns)
{
	struct ussd_app_cfg ac = {0};
	char err[64];
	assert_int_equal(sy_dist_parse("exp 200ms", &ac.latency, err, sizeof(err)), SY_OK);
	struct world *w = world_new(&ac, 5 * SY_NS_PER_S, 0, seed);
	uint64_t h = 0;
	*sum_ns = 0;
	for (uint64_t i = 0; i < 50; i++) {
		uint64_t t0 = sim_now(w->sim);
		const struct result *r = ask_wait(w, i, "1");
		assert_int_equal(r->result, USSD_APP_OK);
		h = h * 31 + (r->at_ns - t0);
		*sum_ns += r->at_ns - t0;
	}
	world_free(w);
	return h;
}

static void test_latency_seeded(void **state)
{
	uint64_t s1, s2, s3;
	uint64_t a = latency_run(5, &s1), b = latency_run(5, &s2), c = latency_run(6, &s3);
	assert_int_equal(a, b);
	assert_int_equal(s1, s2);
	assert_true(a != c);
	/* 50 draws of exp 200ms (+ 2 ms of network each), rounded in 10 ms
	 * steps by ask_wait: far from 0 and from 50 x 2 ms */
	assert_true(s1 > 50 * 20 * SY_NS_PER_MS);
}

static void test_fail_ppm(void **state)
{
	struct ussd_app_cfg ac = {.fail_ppm = 500000};
	struct world *w = world_new(&ac, 5 * SY_NS_PER_S, 0, 3);
	uint32_t ok = 0, failed = 0;
	for (uint64_t i = 0; i < 100; i++) {
		const struct result *r = ask_wait(w, i, "");
		if (r->result == USSD_APP_OK) {
			ok++;
		} else {
			assert_int_equal(r->result, USSD_APP_STATUS);
			assert_int_equal(r->status, 500);
			failed++;
		}
	}
	const struct ussd_app_stats *as = ussd_app_stats(w->app);
	assert_int_equal(as->failed, failed);
	assert_int_equal(as->answered, ok);
	assert_true(ok > 20 && failed > 20);
	world_free(w);
}

static struct world *outage_world(enum ussd_app_outage_mode mode)
{
	struct ussd_app_cfg ac = {.outage_mode = mode, .outage_n = 1};
	ac.outages[0] = (struct ussd_app_outage){.start_ns = SY_NS_PER_S, .duration_ns = 2 * SY_NS_PER_S};
	return world_new(&ac, 500 * SY_NS_PER_MS, 1, 1);
}

static void test_outage_hang(void **state)
{
	struct world *w = outage_world(USSD_APP_OUTAGE_HANG);
	run_to(w, 500 * SY_NS_PER_MS);
	assert_int_equal(ask_wait(w, 1, "")->result, USSD_APP_OK);
	run_to(w, 1500 * SY_NS_PER_MS);
	assert_true(ussd_app_stats(w->app)->down);
	const struct result *r = ask_wait(w, 2, "");
	assert_int_equal(r->result, USSD_APP_TIMEOUT);
	assert_int_equal(r->at_ns, 2000 * SY_NS_PER_MS);
	run_to(w, 3500 * SY_NS_PER_MS);
	assert_false(ussd_app_stats(w->app)->down);
	assert_int_equal(ask_wait(w, 3, "")->result, USSD_APP_OK);
	const struct ussd_app_stats *as = ussd_app_stats(w->app);
	assert_int_equal(as->outages, 1);
	assert_int_equal(as->dropped, 1);
	assert_int_equal(as->requests, 3);
	assert_int_equal(as->answered, 2);
	world_free(w);
}

static void test_outage_refuse(void **state)
{
	struct world *w = outage_world(USSD_APP_OUTAGE_REFUSE);
	run_to(w, 500 * SY_NS_PER_MS);
	assert_int_equal(ask_wait(w, 1, "")->result, USSD_APP_OK);
	run_to(w, 1500 * SY_NS_PER_MS);
	/* the idle keep-alive connection was cut at the outage */
	assert_int_equal(ussd_http_stats(w->h)->conns_closed, 1);
	const struct result *r = ask_wait(w, 2, "");
	assert_int_equal(r->result, USSD_APP_CONNECT);
	run_to(w, 3500 * SY_NS_PER_MS);
	assert_int_equal(ask_wait(w, 3, "")->result, USSD_APP_OK);
	const struct ussd_app_stats *as = ussd_app_stats(w->app);
	assert_int_equal(as->requests, 2);
	assert_int_equal(as->conns, 2);
	assert_int_equal(ussd_http_stats(w->h)->retries, 1);
	world_free(w);
}

static void test_outage_error(void **state)
{
	struct world *w = outage_world(USSD_APP_OUTAGE_ERROR);
	run_to(w, 1500 * SY_NS_PER_MS);
	const struct result *r = ask_wait(w, 2, "");
	assert_int_equal(r->result, USSD_APP_STATUS);
	assert_int_equal(r->status, 503);
	run_to(w, 3500 * SY_NS_PER_MS);
	assert_int_equal(ask_wait(w, 3, "")->result, USSD_APP_OK);
	const struct ussd_app_stats *as = ussd_app_stats(w->app);
	assert_int_equal(as->unavailable, 2); /* the try and its retry */
	assert_int_equal(as->answered, 1);
	world_free(w);
}

/* ---- raw HTTP ---- */

struct raw {
	char in[8192];
	size_t len;
	bool closed;
};

static void raw_data(void *arg, struct sy_stream *s, const uint8_t *buf, size_t len)
{
	struct raw *r = arg;
	assert_true(r->len + len < sizeof(r->in));
	memcpy(r->in + r->len, buf, len);
	r->len += len;
	r->in[r->len] = '\0';
}

static void raw_close(void *arg, struct sy_stream *s, enum sy_rc why)
{
	((struct raw *)arg)->closed = true;
}

static const struct sy_stream_cbs raw_cbs = {NULL, raw_data, raw_close};

static void raw_exchange(struct world *w, const char *req, struct raw *r)
{
	struct sy_stream *s;
	struct sy_addr a = sim_node_addr(w->appn, APP_PORT);
	memset(r, 0, sizeof(*r));
	assert_int_equal(sy_env_stream_connect(sim_node_env(w->gw), &a, &raw_cbs, r, &s), SY_OK);
	assert_int_equal(sy_env_stream_write(sim_node_env(w->gw), s, req, strlen(req)), SY_OK);
	run_to(w, sim_now(w->sim) + 100 * SY_NS_PER_MS);
	if (!r->closed)
		sy_env_stream_close(sim_node_env(w->gw), s);
}

#define FORM "sessionId=1&serviceCode=*123%23&phoneNumber=254700000001&text="

static void test_raw_requests(void **state)
{
	struct ussd_app_cfg ac = {.path = "/ussd"};
	struct world *w = world_new(&ac, 5 * SY_NS_PER_S, 0, 1);
	struct raw r;
	raw_exchange(w, "GET /ussd HTTP/1.1\r\nHost: a\r\n\r\n", &r);
	assert_memory_equal(r.in, "HTTP/1.1 405 ", 13);
	/* the refusal says it closes (it said keep-alive, then closed) */
	assert_non_null(strstr(r.in, "Connection: close\r\n"));
	assert_true(r.closed);
	raw_exchange(w, "POST /other HTTP/1.1\r\nContent-Length: 1\r\n\r\nx", &r);
	assert_memory_equal(r.in, "HTTP/1.1 404 ", 13);
	raw_exchange(w, "POST /ussd HTTP/1.1\r\nContent-Length: 5\r\n\r\ntext=", &r);
	assert_memory_equal(r.in, "HTTP/1.1 400 ", 13);
	raw_exchange(w, "BREW /ussd HTCPCP/1.0\r\n\r\n", &r);
	assert_memory_equal(r.in, "HTTP/1.1 400 ", 13);
	/* two pipelined form POSTs ('+' a space, %2A a star): two replies in order */
	raw_exchange(w,
		     "POST /ussd HTTP/1.1\r\nContent-Length: 69\r\n\r\n" FORM "2%2A07+"
		     "POST /ussd HTTP/1.1\r\nContent-Length: 63\r\nConnection: close\r\n\r\n" FORM "1",
		     &r);
	const char *first = strstr(r.in, "CON Send to 07. Amount?");
	const char *second = strstr(r.in, "END Your balance is 100.");
	assert_non_null(first);
	assert_non_null(second);
	assert_true(first < second);
	assert_true(r.closed);
	const struct ussd_app_stats *as = ussd_app_stats(w->app);
	assert_int_equal(as->bad, 4);
	assert_int_equal(as->answered, 2);
	world_free(w);
}

static void test_create_errors(void **state)
{
	struct sim *sim = sim_create(1, 0);
	struct sim_node *n = sim_node_add(sim, "app", NULL);
	struct ussd_app_cfg ac = {.listen = sim_node_addr(n, APP_PORT)};
	struct ussd_app *a = (void *)1;
	char err[128] = "";
	assert_int_equal(ussd_app_create(sim_node_env(n), &ac, &a, err, sizeof(err)), SY_ERR_INVAL);
	assert_null(a);
	assert_non_null(strstr(err, "menu"));
	sim_destroy(sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_walk_three_levels), cmocka_unit_test(test_latency_virtual_time),
	    cmocka_unit_test(test_latency_seeded),    cmocka_unit_test(test_fail_ppm),
	    cmocka_unit_test(test_outage_hang),	      cmocka_unit_test(test_outage_refuse),
	    cmocka_unit_test(test_outage_error),      cmocka_unit_test(test_raw_requests),
	    cmocka_unit_test(test_create_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
