/* test_api.c: the HTTP API's routes and handlers (core/api/api.c) through
 * its abstract request, with a fake backend and a fake SMSC: status codes,
 * content types and bodies, exactly one reply per request, and a POST /sms
 * answered only once the SMSC says the message is durable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/api/api.h"

/* ---- a backend that records the one reply ---- */

struct fake_req {
	struct api_req api;
	const char *auth;
	int replies, code;
	char type[64], body[512], www[64], retry[16];
};

static const char *fake_header(void *ctx, const char *name)
{
	struct fake_req *f = ctx;
	return strcmp(name, "Authorization") == 0 ? f->auth : NULL;
}

static void fake_add_header(void *ctx, const char *name, const char *value)
{
	struct fake_req *f = ctx;
	assert_int_equal(f->replies, 0);
	if (strcmp(name, "WWW-Authenticate") == 0)
		snprintf(f->www, sizeof(f->www), "%s", value);
	else if (strcmp(name, "Retry-After") == 0)
		snprintf(f->retry, sizeof(f->retry), "%s", value);
	else
		fail_msg("unexpected header %s", name);
}

static void fake_reply(void *ctx, int code, const char *type, const char *body, size_t len)
{
	struct fake_req *f = ctx;
	f->replies++;
	f->code = code;
	snprintf(f->type, sizeof(f->type), "%s", type);
	snprintf(f->body, sizeof(f->body), "%.*s", (int)len, body);
}

static const struct api_req_ops fake_ops = {fake_header, fake_add_header, fake_reply};

static void req_init(struct fake_req *f, const char *method, const char *path, const char *auth, const char *body)
{
	memset(f, 0, sizeof(*f));
	f->auth = auth;
	f->api = (struct api_req){&fake_ops, f, method, sy_str_from(path), sy_str_from(body ? body : ""), NULL, 0};
}

/* ---- an SMSC that answers as told ---- */

struct fake_smsc {
	enum sy_rc rc; /* what submit returns */
	bool defer;    /* SY_OK: hold the done callback */
	struct smsc_text_req held;
	char to[32], account[32];
	int submits;
};

static enum sy_rc fake_submit(void *ctx, const struct smsc_text_req *q)
{
	struct fake_smsc *m = ctx;
	m->submits++;
	snprintf(m->account, sizeof(m->account), "%s", q->account);
	snprintf(m->to, sizeof(m->to), "%.*s", (int)q->to.len, q->to.p);
	if (m->rc != SY_OK)
		return m->rc;
	if (m->defer)
		m->held = *q;
	else
		q->done(q->arg, SY_OK, 7, 2);
	return SY_OK;
}

struct world {
	struct fake_smsc smsc;
	struct api_sms_ops ops;
	struct api_account accts[2];
	struct api *api;
};

/* SHA-256("tok-v"), as sha256sum prints it. */
#define VIP_HASH "$sha256$5d0316ea078469e8dddfb1706702bf96a45346b2cd124a887f7ea7152f99382f"

static void accounts_init(struct world *w)
{
	char stored[80];
	snprintf(w->accts[0].name, sizeof(w->accts[0].name), "shop");
	assert_int_equal(sy_secret_parse(&w->accts[0].token, "tok-1", 5, NULL, 0), SY_OK);
	snprintf(w->accts[1].name, sizeof(w->accts[1].name), "vip");
	assert_true(sy_secret_format(stored, sizeof(stored), "tok-v", 5, NULL, 0, 0) > 0);
	assert_string_equal(stored, VIP_HASH);
	assert_int_equal(sy_secret_parse(&w->accts[1].token, stored, strlen(stored), NULL, 0), SY_OK);
	assert_int_equal(w->accts[1].token.kind, SY_SECRET_SHA256);
}

static int setup_with(void **state, bool metrics_auth)
{
	struct world *w = calloc(1, sizeof(*w));
	accounts_init(w);
	w->ops = (struct api_sms_ops){fake_submit, &w->smsc};
	struct api_cfg c = {.sms = &w->ops, .accounts = w->accts, .account_n = 2, .metrics_auth = metrics_auth};
	if (metrics_auth)
		assert_int_equal(sy_secret_parse(&c.metrics_token, "scrape", 6, NULL, 0), SY_OK);
	assert_int_equal(api_create(&c, &w->api), SY_OK);
	*state = w;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, false);
}

static int setup_metrics_auth(void **state)
{
	return setup_with(state, true);
}

static int teardown(void **state)
{
	struct world *w = *state;
	api_destroy(w->api);
	free(w);
	return 0;
}

static struct fake_req *call(struct world *w, const char *method, const char *path, const char *auth, const char *body)
{
	static struct fake_req f;
	req_init(&f, method, path, auth, body);
	api_handle(w->api, &f.api);
	return &f;
}

static const char *const msg = "{\"from\":\"+1555\",\"to\":\"+447700900123\",\"text\":\"hi\"}";

static void test_routes(void **state)
{
	struct world *w = *state;
	struct fake_req *f = call(w, "GET", "/nope", NULL, NULL);
	assert_int_equal(f->replies, 1);
	assert_int_equal(f->code, 404);
	assert_string_equal(f->body, "Not Found\n");
	f = call(w, "POST", "/metrics", NULL, NULL);
	assert_int_equal(f->code, 405);
	assert_string_equal(f->type, "text/plain");
	f = call(w, "GET", "/sms", NULL, NULL);
	assert_int_equal(f->code, 405);
	f = call(w, "GET", "/health", NULL, NULL);
	assert_int_equal(f->code, 200);
	assert_string_equal(f->type, "application/json");
	assert_string_equal(f->body, "{\"status\":\"ok\",\"sip\":false,\"smpp\":false}\n");
	f = call(w, "GET", "/metrics", NULL, NULL); /* metrics_auth off: open */
	assert_int_equal(f->code, 200);
	assert_string_equal(f->type, "text/plain; version=0.0.4");
	assert_non_null(strstr(f->body, "switchyard_http_requests_total 5\n")); /* no component: the API's own */
	f = call(w, "GET", "/metricsx", NULL, NULL);
	assert_int_equal(f->code, 404);
}

/* No SMSC: POST /sms is not a route at all. */
static void test_no_sms(void **state)
{
	struct api *a;
	struct api_cfg c = {0};
	assert_int_equal(api_create(&c, &a), SY_OK);
	struct fake_req f;
	req_init(&f, "POST", "/sms", "Bearer tok-1", msg);
	api_handle(a, &f.api);
	assert_int_equal(f.code, 404);
	api_destroy(a);
}

static void test_sms_refused(void **state)
{
	struct world *w = *state;
	static const struct {
		const char *auth, *body;
		enum sy_rc rc;
		int code;
		const char *want;
	} cases[] = {
	    {NULL, NULL, SY_OK, 401, "{\"error\":\"missing or unknown bearer token\"}\n"},
	    {"Bearer tok-2", NULL, SY_OK, 401, "{\"error\":\"missing or unknown bearer token\"}\n"},
	    {"Basic tok-1", NULL, SY_OK, 401, NULL},
	    {"Bearer ", NULL, SY_OK, 401, NULL},
	    {"Bearer tok-12", NULL, SY_OK, 401, NULL},
	    {"Bearer " VIP_HASH, NULL, SY_OK, 401, NULL}, /* the stored form is not the token */
	    {"Bearer tok-1", "{\"from\": ", SY_OK, 400, NULL},
	    {"Bearer tok-1", "{\"from\":\"1\",\"to\":\"44\"}", SY_OK, 400,
	     "{\"error\":\"from, to and text are required strings\"}\n"},
	    {"Bearer tok-1", "{\"from\":\"1\",\"to\":44,\"text\":\"x\"}", SY_OK, 400, NULL},
	    {"Bearer tok-1", NULL, SY_DECLINED, 422, "{\"error\":\"no route for destination\"}\n"},
	    {"Bearer tok-1", NULL, SY_ERR_FULL, 503, NULL},
	    {"Bearer tok-1", NULL, SY_ERR_PARSE, 400, NULL},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		w->smsc.rc = cases[i].rc;
		struct fake_req *f = call(w, "POST", "/sms", cases[i].auth, cases[i].body ? cases[i].body : msg);
		assert_int_equal(f->replies, 1);
		if (f->code != cases[i].code)
			fail_msg("case %zu: %d, want %d (%s)", i, f->code, cases[i].code, f->body);
		assert_string_equal(f->type, "application/json");
		assert_true(strncmp(f->body, "{\"error\":\"", 10) == 0);
		if (cases[i].want != NULL)
			assert_string_equal(f->body, cases[i].want);
		assert_string_equal(f->www, f->code == 401 ? "Bearer realm=\"switchyard\"" : "");
	}
	assert_int_equal(api_http_stats(w->api)->unauthorized, 6);
	assert_int_equal(w->smsc.submits, 3); /* only the three with a good token and body reached it */
	assert_string_equal(w->smsc.account, "shop");
}

static void test_sms_accepted_now(void **state)
{
	struct world *w = *state;
	struct fake_req *f = call(w, "POST", "/sms", "Bearer tok-1", msg);
	assert_int_equal(f->replies, 1);
	assert_int_equal(f->code, 202);
	assert_string_equal(f->body, "{\"message_id\":\"7\",\"parts\":2}\n");
	assert_string_equal(w->smsc.to, "+447700900123");
}

/* 202 only once the SMSC's commit is done; 503 when it failed. */
static void test_sms_accepted_later(void **state)
{
	struct world *w = *state;
	w->smsc.defer = true;
	struct fake_req *f = call(w, "POST", "/sms", "Bearer tok-1", msg);
	assert_int_equal(f->replies, 0);
	w->smsc.held.done(w->smsc.held.arg, SY_OK, 9, 1);
	assert_int_equal(f->replies, 1);
	assert_int_equal(f->code, 202);
	assert_string_equal(f->body, "{\"message_id\":\"9\",\"parts\":1}\n");
	f = call(w, "POST", "/sms", "Bearer tok-1", msg);
	assert_int_equal(f->replies, 0);
	w->smsc.held.done(w->smsc.held.arg, SY_ERR_IO, 0, 0);
	assert_int_equal(f->replies, 1);
	assert_int_equal(f->code, 503);
}

/* The token picks the account: clear and $sha256$-stored alike, and the
 * body cannot name another one. */
static void test_sms_account_is_the_token(void **state)
{
	struct world *w = *state;
	struct fake_req *f = call(w, "POST", "/sms", "Bearer tok-v", msg);
	assert_int_equal(f->code, 202);
	assert_string_equal(w->smsc.account, "vip");
	f = call(w, "POST", "/sms", "bearer  tok-1 ", msg); /* the scheme is case-insensitive */
	assert_int_equal(f->code, 202);
	assert_string_equal(w->smsc.account, "shop");
	f = call(w, "POST", "/sms", "Bearer tok-1",
		 "{\"account\":\"vip\",\"from\":\"1\",\"to\":\"447700900123\",\"text\":\"x\"}");
	assert_int_equal(f->code, 403);
	f = call(w, "POST", "/sms", "Bearer tok-1",
		 "{\"account\":\"shop\",\"from\":\"1\",\"to\":\"447700900123\",\"text\":\"x\"}");
	assert_int_equal(f->code, 202);
	assert_int_equal(w->smsc.submits, 3);
}

static void test_sms_over_tps(void **state)
{
	struct world *w = *state;
	w->smsc.rc = SY_AGAIN;
	struct fake_req *f = call(w, "POST", "/sms", "Bearer tok-1", msg);
	assert_int_equal(f->code, 429);
	assert_string_equal(f->retry, "1");
	assert_int_equal(api_http_stats(w->api)->throttled, 1);
}

static void test_metrics_auth(void **state)
{
	struct world *w = *state;
	struct fake_req *f = call(w, "GET", "/metrics", NULL, NULL);
	assert_int_equal(f->code, 401);
	assert_string_equal(f->www, "Bearer realm=\"switchyard\"");
	f = call(w, "GET", "/metrics", "Bearer tok-1", NULL); /* an account's token is not the scraper's */
	assert_int_equal(f->code, 401);
	f = call(w, "GET", "/metrics", "Bearer scrape", NULL);
	assert_int_equal(f->code, 200);
	assert_non_null(strstr(f->body, "switchyard_http_unauthorized_total 2\n"));
	f = call(w, "GET", "/health", NULL, NULL);
	assert_int_equal(f->code, 200);
}

/* A failed token blocks its source, right token or not, for 1 s, then 2 s;
 * another source is not affected; a success resets the count. */
static void test_backoff(void **state)
{
	struct world *w = *state;
	struct sy_addr a, b;
	assert_int_equal(sy_addr_parse("192.0.2.1:4000", 0, &a), SY_OK);
	assert_int_equal(sy_addr_parse("192.0.2.2:4000", 0, &b), SY_OK);
	const struct {
		const struct sy_addr *from;
		uint64_t at_ms;
		const char *auth;
		int code;
	} steps[] = {
	    {&a, 0, "Bearer nope", 401},   {&a, 500, "Bearer tok-1", 429}, {&b, 500, "Bearer tok-1", 202},
	    {&a, 1000, "Bearer nope", 401}, {&a, 2999, "Bearer tok-1", 429}, {&a, 3000, "Bearer tok-1", 202},
	    {&a, 3000, "Bearer nope", 401}, {&a, 4000, "Bearer tok-1", 202},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(steps); i++) {
		static struct fake_req f;
		req_init(&f, "POST", "/sms", steps[i].auth, msg);
		f.api.from = steps[i].from;
		f.api.now_ns = steps[i].at_ms * SY_NS_PER_MS;
		api_handle(w->api, &f.api);
		if (f.code != steps[i].code)
			fail_msg("step %zu: %d, want %d", i, f.code, steps[i].code);
		assert_string_equal(f.retry, f.code == 429 ? "1" : "");
	}
	assert_int_equal(api_http_stats(w->api)->backoff, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_routes, setup, teardown),
	    cmocka_unit_test(test_no_sms),
	    cmocka_unit_test_setup_teardown(test_sms_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sms_accepted_now, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sms_accepted_later, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sms_account_is_the_token, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sms_over_tps, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_metrics_auth, setup_metrics_auth, teardown),
	    cmocka_unit_test_setup_teardown(test_backoff, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
