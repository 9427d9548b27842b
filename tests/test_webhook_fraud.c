/* test_webhook_fraud.c: a fraud alert as the webhook's JSON document
 * (core/live/webhook_fraud.c): every field there and parsed back by the
 * API's strict JSON parser, whatever bytes a peer put in its numbers and
 * Call-ID (quotes, backslashes, control and non-ASCII bytes, 1 KB long). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/fraud/fraud.h"
#include "core/json.h"
#include "core/live/webhook.h"

static struct sy_str S(const char *s) {
	return (struct sy_str){s, strlen(s)};
}

static void
want(const struct json_obj *o, const char *key, const char *v)
{
	struct sy_str got;
	assert_true(json_get_str(o, key, &got));
	assert_int_equal(got.len, strlen(v));
	assert_memory_equal(got.p, v, got.len);
}

static size_t doc(const struct fraud_event *ev, char *buf, struct json_obj *o, char *scratch)
{
	char err[128];
	size_t n = sy_webhook_fraud_json(ev, buf, WEBHOOK_BODY_MAX);
	assert_true(n > 0 && n < WEBHOOK_BODY_MAX);
	assert_int_equal(strlen(buf), n);
	assert_int_equal(json_parse_flat(buf, n, scratch, WEBHOOK_BODY_MAX, o, err, sizeof(err)), SY_OK);
	return n;
}

static void test_block_call(void **state)
{
	struct fraud_decision d = {
	    .action = FRAUD_BLOCK, .verdict = FRAUD_BLOCK, .detector = FRAUD_DET_IRSF, .sip_status = 403};
	snprintf(d.reason, sizeof(d.reason), "irsf.risky_calls: 6 calls in 600s to high +882");
	struct fraud_event ev = {.kind = FRAUD_KIND_CALL,
				 .d = &d,
				 .account = S("acme"),
				 .caller = S("+14155550100"),
				 .callee = S("882160006"),
				 .call_id = S("6-99@127.0.0.1"),
				 .wall_ns = 1796295590123456789ull};
	char buf[WEBHOOK_BODY_MAX], scratch[WEBHOOK_BODY_MAX];
	struct json_obj o;
	doc(&ev, buf, &o, scratch);
	want(&o, "time", "2026-12-03T10:59:50.123Z");
	want(&o, "kind", "call");
	want(&o, "action", "block");
	want(&o, "verdict", "block");
	want(&o, "detector", "irsf");
	want(&o, "reason", d.reason);
	want(&o, "account", "acme");
	want(&o, "caller", "+14155550100");
	want(&o, "callee", "882160006");
	want(&o, "call_id", "6-99@127.0.0.1");
	assert_non_null(strstr(buf, "\"sip_status\":403,\"smpp_status\":0}"));
}

/* monitor mode (applied flag, verdict block), an SMS and a teardown */
static void test_kinds(void **state)
{
	struct fraud_decision d = {
	    .action = FRAUD_FLAG, .verdict = FRAUD_BLOCK, .detector = FRAUD_DET_SMS_PUMP, .smpp_status = 0x45};
	struct fraud_event ev = {.kind = FRAUD_KIND_SMS, .d = &d};
	char buf[WEBHOOK_BODY_MAX], scratch[WEBHOOK_BODY_MAX];
	struct json_obj o;
	doc(&ev, buf, &o, scratch);
	want(&o, "kind", "sms");
	want(&o, "action", "flag");
	want(&o, "verdict", "block");
	want(&o, "detector", "sms_pump");
	want(&o, "call_id", "");
	want(&o, "reason", "");
	assert_non_null(strstr(buf, "\"smpp_status\":69}"));
	ev.kind = FRAUD_KIND_MIDCALL;
	doc(&ev, buf, &o, scratch);
	want(&o, "kind", "midcall");
}

/* A Call-ID that tries to close the string and add a field, bytes that are
 * not UTF-8, control bytes, and 1 KB fields: the document still parses,
 * holds no injected field, and the fields are cut at 128 bytes. */
static void test_hostile_fields(void **state)
{
	static char big[1024];
	memset(big, '\\', sizeof(big));
	struct fraud_decision d = {.action = FRAUD_BLOCK, .verdict = FRAUD_BLOCK, .detector = FRAUD_DET_CALLERID};
	memset(d.reason, '"', sizeof(d.reason) - 1);
	struct fraud_event ev = {.kind = FRAUD_KIND_CALL,
				 .d = &d,
				 .call_id = S("x\",\"action\":\"allow\",\"y\":\"\\"),
				 .caller = S("\x01\x1f\x7f\xc3\xa9\xff\"}"),
				 .account = (struct sy_str){big, sizeof(big)},
				 .callee = (struct sy_str){big, sizeof(big)}};
	char buf[WEBHOOK_BODY_MAX], scratch[WEBHOOK_BODY_MAX];
	struct json_obj o;
	doc(&ev, buf, &o, scratch);
	want(&o, "action", "block");
	want(&o, "call_id", "x\",\"action\":\"allow\",\"y\":\"\\");
	want(&o, "caller", "??????\"}");
	struct sy_str a;
	assert_true(json_get_str(&o, "account", &a));
	assert_int_equal(a.len, 128);
	assert_true(json_get_str(&o, "reason", &a));
	assert_int_equal(a.len, FRAUD_REASON_MAX - 1);
	assert_false(json_get_str(&o, "y", &a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_block_call),
	    cmocka_unit_test(test_kinds),
	    cmocka_unit_test(test_hostile_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
