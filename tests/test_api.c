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
	char type[64], body[512];
};

static const char *fake_header(void *ctx, const char *name)
{
	struct fake_req *f = ctx;
	return strcmp(name, "Authorization") == 0 ? f->auth : NULL;
}

static void fake_reply(void *ctx, int code, const char *type, const char *body, size_t len)
{
	struct fake_req *f = ctx;
	f->replies++;
	f->code = code;
	snprintf(f->type, sizeof(f->type), "%s", type);
	snprintf(f->body, sizeof(f->body), "%.*s", (int)len, body);
}

static const struct api_req_ops fake_ops = {fake_header, fake_reply};

static void req_init(struct fake_req *f, const char *method, const char *path, const char *auth, const char *body)
{
	memset(f, 0, sizeof(*f));
	f->auth = auth;
	f->api = (struct api_req){&fake_ops, f, method, sy_str_from(path), sy_str_from(body ? body : "")};
}

/* ---- an SMSC that answers as told ---- */

struct fake_smsc {
	enum sy_rc rc; /* what submit returns */
	bool defer;    /* SY_OK: hold the done callback */
	struct smsc_text_req held;
	char to[32];
	int submits;
};

static const char *fake_token(void *ctx, struct sy_str token)
{
	return sy_str_eq(token, SY_STR("tok-1")) ? "shop" : NULL;
}

static enum sy_rc fake_submit(void *ctx, const struct smsc_text_req *q)
{
	struct fake_smsc *m = ctx;
	m->submits++;
	assert_string_equal(q->account, "shop");
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
	struct api *api;
};

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	w->ops = (struct api_sms_ops){fake_token, fake_submit, &w->smsc};
	struct api_cfg c = {.sms = &w->ops};
	assert_int_equal(api_create(&c, &w->api), SY_OK);
	*state = w;
	return 0;
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
	f = call(w, "GET", "/metrics", NULL, NULL);
	assert_int_equal(f->code, 200);
	assert_string_equal(f->type, "text/plain; version=0.0.4");
	assert_string_equal(f->body, ""); /* no component: no counters */
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
	    {"Bearer tok-2", NULL, SY_OK, 401, NULL},
	    {"Basic tok-1", NULL, SY_OK, 401, NULL},
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
	}
	assert_int_equal(w->smsc.submits, 3); /* only the three with a good token and body reached it */
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_routes, setup, teardown),
	    cmocka_unit_test(test_no_sms),
	    cmocka_unit_test_setup_teardown(test_sms_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sms_accepted_now, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sms_accepted_later, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
