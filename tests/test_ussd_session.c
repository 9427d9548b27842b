/* test_ussd_session.c: the USSD gateway's session engine (core/ussd/ussd.c,
 * sess.c, sess_dlg.c) on virtual time, without sockets: messages go in
 * through ussd__on_msg as the links would hand them over, what the gateway
 * sends is captured by the tx seam, HTTP applications are answered by the
 * test through the app seam. Menus, HTTP dialogues, releases, timeouts,
 * refusals, link down, charging on a tariff, records, memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/billing/callbill.h"
#include "core/billing/callbill_int.h"
#include "core/conf/node.h"
#include "core/conf/scn.h"
#include "core/store/udr.h"
#include "core/ussd/ussd_int.h"
#include "tests/testenv.h"

#define TX_KEEP		     8
#define END_KEEP	     64
#define APP_KEEP	     16
#define USSD_INPUTS_MAX_TEST 1100

struct fx {
	struct testenv te; /* first: the faulty env's ops find the fx from their ctx */
	/* the gateway's env: the testenv's, with writes that fail on demand */
	struct sy_env fenv;
	struct sy_env_ops fops;
	bool disk_fail;
	struct scn *scn;
	struct node_cfg *node;
	struct callbill *cb;
	struct ussd *u;
	char dir[64], tariff[96], store[96];
	/* what the gateway sent: a count and the last few */
	size_t ntx;
	uint16_t tx_li[TX_KEEP];
	struct ussd_msg tx[TX_KEEP];
	/* records, in end order */
	size_t nend;
	struct udr ends[END_KEEP];
	/* requests to HTTP applications, and cancels */
	size_t napp, ncancel;
	uint64_t app_token[APP_KEEP], cancelled[APP_KEEP];
	uint64_t app_sid[APP_KEEP];
	char app_text[APP_KEEP][USSD_INPUTS_MAX_TEST];
	enum sy_rc app_rc; /* what the seam answers */
};

/* 0.02 a session of *200#; *300#: 0.005 once + 0.01 a step; *500# has no row. */
static const char tariff_csv[] = "Prefix,Description,Rate,Connection Fee,Increments,Minimum,Band,Service,Currency\n"
				 "1,USA,0.0600,0,6/6,0,,voice,USD\n"
				 "200,Balance,0.02,0,,,,ussd,USD\n"
				 "300,Banking,0.01,0.005,,,,ussd,USD\n";

static const char conf_fmt[] =
    "[ussd]\nlisten = 127.0.0.1:2776\nsession_timeout = 180s\nsessions = %u\n\n"
    "[ussd-link op]\nmode = accept\nsystem_id = node\npassword = secret1\n\n"
    "[ussd-link op2]\nmode = accept\nsystem_id = node2\npassword = secret2\n\n"
    "[ussd-service *123#]\nmenu = bank\n\n"
    "[ussd-service *456#]\nurl = http://127.0.0.1:8090/ussd\ntimeout = 3s\n\n"
    "[ussd-service *200#]\nmenu = bank\ncharge = session\nprice = 0.05 USD\n\n"
    "[ussd-service *300#]\nmenu = bank\ncharge = step\nprice = 0.01 USD\n\n"
    "[ussd-service *500#]\nmenu = bank\ncharge = session\nprice = 0.05 USD\n\n"
    "[ussd-service *600#]\nmenu = bank\ncharge = session\nprice = 0.05 USD\naccount = shop\n\n"
    "[ussd-service *700#]\nmenu = bank\ncharge = session\n\n"
    "[ussd-menu bank]\nstart = main\n"
    "screen main = Welcome\\n1. Balance\\n2. Send money\n"
    "option main 1 = balance\noption main 2 = send_to\n"
    "end balance = Your balance is 100.\n"
    "screen send_to = Recipient?\ninput send_to = amount\n"
    "screen amount = Send to {input}. Amount?\ninput amount = confirm\n"
    "screen confirm = Send {input}?\\n1. Yes\\n2. No\n"
    "option confirm 1 = sent\noption confirm 2 = cancelled\n"
    "end sent = Sent.\nend cancelled = Cancelled.\n\n"
    "[tariff retail]\nfile = %s\n\n"
    "[account alice]\ncallers = +2547000\nbalance = 1.00 USD\n\n"
    "[account poor]\ncallers = +2547999\nbalance = 0.01 USD\n\n"
    "[account mid]\ncallers = +2547555\nbalance = 0.03 USD\n\n"
    "[account shop]\nbalance = 2.00 USD\n";

static enum sy_rc tx_capture(void *arg, uint16_t li, const struct ussd_msg *m)
{
	struct fx *f = arg;
	f->tx_li[f->ntx % TX_KEEP] = li;
	f->tx[f->ntx % TX_KEEP] = *m;
	f->ntx++;
	return SY_OK;
}

static const struct ussd_msg *last_tx(struct fx *f)
{
	assert_true(f->ntx > 0);
	return &f->tx[(f->ntx - 1) % TX_KEEP];
}

static void on_end(void *arg, const struct udr *r)
{
	struct fx *f = arg;
	if (f->nend < END_KEEP)
		f->ends[f->nend] = *r;
	f->nend++;
}

static enum sy_rc app_request(void *arg, uint16_t service, uint64_t token, const struct ussd_app_req *req)
{
	struct fx *f = arg;
	if (f->app_rc != SY_OK)
		return f->app_rc;
	size_t i = f->napp++ % APP_KEEP;
	f->app_token[i] = token;
	f->app_sid[i] = req->session_id;
	snprintf(f->app_text[i], sizeof(f->app_text[i]), "%.*s", (int)req->text.len, req->text.p);
	return SY_OK;
}

static void app_cancel(void *arg, uint64_t token)
{
	struct fx *f = arg;
	f->cancelled[f->ncancel++ % APP_KEEP] = token;
}

static enum sy_rc write_faulty(void *ctx, struct sy_file *file, uint64_t off, const void *buf, size_t len)
{
	struct fx *f = ctx;
	if (f->disk_fail)
		return SY_ERR_FULL;
	return f->te.env.ops->file_write(ctx, file, off, buf, len);
}

static struct fx *fx_new(uint32_t sessions_max, bool store)
{
	struct fx *f = calloc(1, sizeof(*f));
	char text[8192], err[256];
	strcpy(f->dir, "/tmp/sy-ussd-sess.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->tariff, sizeof(f->tariff), "%s/t.csv", f->dir);
	snprintf(f->store, sizeof(f->store), "%s/out", f->dir);
	FILE *t = fopen(f->tariff, "w");
	fputs(tariff_csv, t);
	fclose(t);
	snprintf(text, sizeof(text), conf_fmt, sessions_max, f->tariff);
	if (scn_parse_string(text, "ussd.scn", &f->scn, err, sizeof(err)) != SY_OK)
		fail_msg("%s", err);
	testenv_init(&f->te, 7);
	f->fops = *f->te.env.ops;
	f->fops.file_write = write_faulty;
	f->fenv = (struct sy_env){.ops = &f->fops, .ctx = f->te.env.ctx};
	assert_ptr_equal(f->te.env.ctx, &f->te);
	assert_non_null(f->node = conf_node_new(f->scn));
	struct callbill_cfg c = {.env = &f->te.env, .billing = &f->node->billing};
	assert_int_equal(callbill_create(&c, &f->cb, err, sizeof(err)), SY_OK);
	assert_non_null(f->cb);
	struct ussd_deps d = {.env = &f->fenv,
			      .cfg = &f->node->ussd,
			      .store_dir = store ? f->store : NULL,
			      .bill = f->cb,
			      .on_end = on_end,
			      .on_end_arg = f};
	if (ussd_create(&d, &f->u, err, sizeof(err)) != SY_OK)
		fail_msg("ussd_create: %s", err);
	ussd__set_tx(f->u, tx_capture, f);
	struct ussd_app_seam seam = {.request = app_request, .cancel = app_cancel, .arg = f};
	ussd__set_app(f->u, &seam);
	return f;
}

static void fx_free(struct fx *f)
{
	ussd_stop(f->u);
	ussd_destroy(f->u);
	callbill_destroy(f->cb);
	scn_free(f->scn);
	free(f->node);
	testenv_free(&f->te);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
}

/* A message from the node on link li. */
static uint32_t node_msg(struct fx *f, uint16_t li, uint8_t op, const char *msisdn, uint16_t ref, const char *text,
			 bool release)
{
	struct ussd_msg m;
	memset(&m, 0, sizeof(m));
	m.op = op;
	m.release = release;
	m.ref = ref;
	snprintf(m.msisdn, sizeof(m.msisdn), "%s", msisdn);
	snprintf(m.code, sizeof(m.code), "%s", op == SMPP_USSD_PSSR_IND ? text : "");
	snprintf(m.text, sizeof(m.text), "%s", text);
	m.text_len = strlen(m.text);
	return ussd__on_msg(f->u, li, &m);
}

static void dial(struct fx *f, const char *msisdn, uint16_t ref, const char *dialled)
{
	assert_int_equal(node_msg(f, 0, SMPP_USSD_PSSR_IND, msisdn, ref, dialled, false), ESME_ROK);
}

static void answer(struct fx *f, const char *msisdn, uint16_t ref, const char *input)
{
	assert_int_equal(node_msg(f, 0, SMPP_USSD_USSR_CONF, msisdn, ref, input, false), ESME_ROK);
}

static void expect_con(struct fx *f, const char *text)
{
	const struct ussd_msg *m = last_tx(f);
	assert_int_equal(m->op, SMPP_USSD_USSR_REQ);
	assert_false(m->release);
	assert_string_equal(m->text, text);
}

static void expect_end(struct fx *f, const char *text)
{
	const struct ussd_msg *m = last_tx(f);
	assert_int_equal(m->op, SMPP_USSD_PSSR_RESP);
	assert_true(m->release);
	assert_string_equal(m->text, text);
}

static const struct udr *last_end(struct fx *f)
{
	assert_true(f->nend > 0 && f->nend <= END_KEEP);
	return &f->ends[f->nend - 1];
}

static int64_t balance(struct fx *f, const char *account)
{
	struct bill_account_info ai;
	assert_int_equal(bill_account_get(f->cb->book, sy_str_from(account), &ai), SY_OK);
	return ai.balance_micros;
}

/* ---- menus ---- */

static void test_menu_dialogue(void **state)
{
	struct fx *f = fx_new(64, false);
	dial(f, "+254711000001", 5, "*123#");
	expect_con(f, "Welcome\n1. Balance\n2. Send money");
	assert_int_equal(last_tx(f)->ref, 5);
	assert_string_equal(last_tx(f)->msisdn, "+254711000001");
	assert_string_equal(last_tx(f)->code, "*123#");
	answer(f, "+254711000001", 5, "2");
	expect_con(f, "Recipient?");
	answer(f, "+254711000001", 5, "0722000111");
	expect_con(f, "Send to 0722000111. Amount?");
	answer(f, "+254711000001", 5, "100");
	expect_con(f, "Send 100?\n1. Yes\n2. No");
	assert_int_equal(ussd_stats(f->u)->active, 1);
	answer(f, "+254711000001", 5, "1");
	expect_end(f, "Sent.");
	const struct ussd_stats *st = ussd_stats(f->u);
	assert_int_equal(st->active, 0);
	assert_int_equal(st->started, 1);
	assert_int_equal(st->completed, 1);
	assert_int_equal(st->steps, 5);
	assert_int_equal(f->ntx, 5);
	assert_int_equal(testenv_timers_pending(&f->te), 0); /* the timeout timer went with the last session */
	assert_int_equal(f->nend, 1);
	const struct udr *r = last_end(f);
	assert_int_equal(r->end, USSD_END_COMPLETED);
	assert_int_equal(r->steps, 5);
	assert_int_equal(r->inputs, 4);
	assert_string_equal(r->last_text, "Sent.");
	assert_string_equal(r->link, "op");
	assert_string_equal(r->code, "*123#");
	assert_string_equal(r->account, "");
	assert_int_equal(r->charge_micros, 0);
	assert_true(r->id != 0);
	/* after the end, the handset's late answer is a stray */
	answer(f, "+254711000001", 5, "1");
	assert_int_equal(st->stray, 1);
	assert_int_equal(f->ntx, 5);
	fx_free(f);
}

/* "*123*2*0722#" walks the menu from its start with the dialled inputs. */
static void test_menu_dialled_inputs(void **state)
{
	struct fx *f = fx_new(64, false);
	dial(f, "+254711000001", 1, "*123*2*0722#");
	expect_con(f, "Send to 0722. Amount?");
	dial(f, "+254711000002", 1, "*123*1#");
	expect_end(f, "Your balance is 100.");
	assert_int_equal(last_end(f)->steps, 1);
	assert_int_equal(last_end(f)->inputs, 0);
	fx_free(f);
}

static void test_menu_invalid_input(void **state)
{
	struct fx *f = fx_new(64, false);
	dial(f, "+254711000001", 1, "*123#");
	answer(f, "+254711000001", 1, "9");
	const struct ussd_msg *m = last_tx(f);
	assert_int_equal(m->op, SMPP_USSD_USSR_REQ);
	assert_non_null(strstr(m->text, "Invalid choice."));
	assert_non_null(strstr(m->text, "1. Balance")); /* the same screen again */
	answer(f, "+254711000001", 1, "1");
	expect_end(f, "Your balance is 100.");
	assert_int_equal(last_end(f)->steps, 3);
	assert_int_equal(last_end(f)->inputs, 2);
	fx_free(f);
}

static void test_user_release(void **state)
{
	struct fx *f = fx_new(64, false);
	dial(f, "+254711000001", 1, "*123#");
	answer(f, "+254711000001", 1, "2");
	size_t sent = f->ntx;
	assert_int_equal(node_msg(f, 0, 32, "+254711000001", 1, "", true), ESME_ROK);
	assert_int_equal(f->ntx, sent); /* nothing goes back to a handset that left */
	assert_int_equal(ussd_stats(f->u)->user_aborts, 1);
	assert_int_equal(ussd_stats(f->u)->active, 0);
	assert_int_equal(last_end(f)->end, USSD_END_USER_ABORT);
	assert_int_equal(last_end(f)->steps, 2);
	/* a release for no session: stray, answered, nothing sent */
	assert_int_equal(node_msg(f, 0, 32, "+254711000001", 1, "", true), ESME_ROK);
	assert_int_equal(ussd_stats(f->u)->stray, 1);
	assert_int_equal(f->ntx, sent);
	fx_free(f);
}

/* The whole dialogue has session_timeout_ns from its begin, however many
 * steps it took: the release goes out exactly then, not 1 ns before. */
static void test_session_timeout_exact(void **state)
{
	struct fx *f = fx_new(64, false);
	uint64_t t0 = f->te.now_ns;
	dial(f, "+254711000001", 1, "*123#");
	testenv_advance(&f->te, 60 * SY_NS_PER_S);
	dial(f, "+254711000002", 1, "*123#"); /* begins later, times out later */
	answer(f, "+254711000001", 1, "2");
	size_t sent = f->ntx;
	testenv_advance_to(&f->te, t0 + 180 * SY_NS_PER_S - 1);
	assert_int_equal(ussd_stats(f->u)->active, 2);
	assert_int_equal(f->ntx, sent);
	testenv_advance(&f->te, 1);
	assert_int_equal(f->ntx, sent + 1);
	expect_end(f, "Session timed out.");
	assert_string_equal(last_tx(f)->msisdn, "+254711000001");
	assert_int_equal(ussd_stats(f->u)->session_timeouts, 1);
	assert_int_equal(last_end(f)->end, USSD_END_SESSION_TIMEOUT);
	assert_string_equal(last_end(f)->last_text, "Session timed out.");
	assert_int_equal(last_end(f)->end_ns - last_end(f)->begin_ns, 180 * SY_NS_PER_S);
	testenv_advance_to(&f->te, t0 + 240 * SY_NS_PER_S - 1);
	assert_int_equal(ussd_stats(f->u)->active, 1);
	testenv_advance(&f->te, 1);
	assert_int_equal(ussd_stats(f->u)->active, 0);
	assert_int_equal(ussd_stats(f->u)->session_timeouts, 2);
	assert_int_equal(testenv_timers_pending(&f->te), 0); /* no timer left behind */
	fx_free(f);
}

/* ---- HTTP applications (through the app seam) ---- */

static struct ussd_app_reply reply_of(enum ussd_app_result r, uint16_t status, bool end, const char *text)
{
	return (struct ussd_app_reply){.result = r, .status = status, .end = end, .text = sy_str_from(text)};
}

static void test_http_dialogue(void **state)
{
	struct fx *f = fx_new(64, false);
	dial(f, "+254711000001", 3, "*456*1#");
	assert_int_equal(f->napp, 1);
	assert_string_equal(f->app_text[0], "1"); /* the dialled inputs in the first request */
	assert_int_equal(f->ntx, 0);		  /* nothing until the application answers */
	struct ussd_app_reply r = reply_of(USSD_APP_OK, 200, false, "Pick one\n1. A\n2. B");
	ussd__app_done(f->u, f->app_token[0], &r);
	expect_con(f, "Pick one\n1. A\n2. B");
	answer(f, "+254711000001", 3, "2");
	assert_string_equal(f->app_text[1], "1*2");
	/* inputs across several 64-byte chunks come back joined, byte for byte */
	char want[USSD_INPUTS_MAX_TEST] = "1*2";
	r = reply_of(USSD_APP_OK, 200, false, "More?");
	for (int i = 0; i < 6; i++) {
		ussd__app_done(f->u, f->app_token[(f->napp - 1) % APP_KEEP], &r);
		char in[64];
		snprintf(in, sizeof(in), "input-%d-abcdefghijklmnopqrstuvwxyz", i);
		answer(f, "+254711000001", 3, in);
		strcat(want, "*");
		strcat(want, in);
		assert_string_equal(f->app_text[(f->napp - 1) % APP_KEEP], want);
	}
	assert_int_equal(f->app_sid[0], f->app_sid[(f->napp - 1) % APP_KEEP]); /* one sessionId throughout */
	r = reply_of(USSD_APP_OK, 200, true, "Bye");
	ussd__app_done(f->u, f->app_token[(f->napp - 1) % APP_KEEP], &r);
	expect_end(f, "Bye");
	assert_int_equal(last_end(f)->end, USSD_END_COMPLETED);
	assert_int_equal(last_end(f)->steps, 8);
	assert_int_equal(last_end(f)->app_status, 200);
	assert_int_equal(last_end(f)->id, f->app_sid[0]);
	assert_int_equal(ussd_stats(f->u)->app_requests, 8);
	fx_free(f);
}

static void test_http_app_timeout_and_error(void **state)
{
	struct fx *f = fx_new(64, false);
	dial(f, "+254711000001", 1, "*456#");
	assert_string_equal(f->app_text[0], "");
	struct ussd_app_reply r = reply_of(USSD_APP_TIMEOUT, 0, false, "");
	ussd__app_done(f->u, f->app_token[0], &r);
	expect_end(f, "Service unavailable. Try later.");
	assert_int_equal(last_end(f)->end, USSD_END_APP_TIMEOUT);
	assert_int_equal(last_end(f)->app_result, USSD_APP_TIMEOUT);
	assert_int_equal(ussd_stats(f->u)->app_timeouts, 1);

	dial(f, "+254711000002", 1, "*456#");
	r = reply_of(USSD_APP_STATUS, 500, false, "");
	ussd__app_done(f->u, f->app_token[1], &r);
	expect_end(f, "Service unavailable. Try later.");
	assert_int_equal(last_end(f)->end, USSD_END_APP_ERROR);
	assert_int_equal(last_end(f)->app_status, 500);
	assert_int_equal(ussd_stats(f->u)->app_errors, 1);

	/* the application refuses work (in_flight_max): busy, refused */
	f->app_rc = SY_ERR_FULL;
	dial(f, "+254711000003", 1, "*456#");
	expect_end(f, "Service busy. Try later.");
	assert_int_equal(last_end(f)->end, USSD_END_REFUSED);
	assert_int_equal(ussd_stats(f->u)->app_overload, 1);
	assert_int_equal(ussd_stats(f->u)->active, 0);
	fx_free(f);
}

/* An application text longer than one USSD string (182 GSM characters;
 * 80 UCS2 ones) cannot go out: the handset gets the error text, a clean
 * release, and the record says app_error with the reply judged bad. */
static void test_http_text_too_long(void **state)
{
	struct fx *f = fx_new(64, false);
	char gsm[184], ucs2[2 * 81 + 1] = "";
	memset(gsm, 'a', 183);
	gsm[183] = '\0';
	dial(f, "+254711000001", 1, "*456#");
	struct ussd_app_reply r = reply_of(USSD_APP_OK, 200, false, gsm);
	ussd__app_done(f->u, f->app_token[0], &r);
	expect_end(f, "Service unavailable. Try later.");
	assert_int_equal(last_end(f)->end, USSD_END_APP_ERROR);
	assert_int_equal(last_end(f)->app_result, USSD_APP_BAD);
	for (int i = 0; i < 81; i++)
		strcat(ucs2, "\xd0\xb6"); /* Cyrillic zhe has no GSM form: UCS2, 81 units > 80 */
	dial(f, "+254711000002", 1, "*456#");
	r = reply_of(USSD_APP_OK, 200, true, ucs2);
	ussd__app_done(f->u, f->app_token[1], &r);
	expect_end(f, "Service unavailable. Try later.");
	assert_int_equal(last_end(f)->end, USSD_END_APP_ERROR);
	/* exactly 182 GSM characters still fit */
	gsm[182] = '\0';
	dial(f, "+254711000003", 1, "*456#");
	r = reply_of(USSD_APP_OK, 200, true, gsm);
	ussd__app_done(f->u, f->app_token[2], &r);
	expect_end(f, gsm);
	assert_int_equal(last_end(f)->end, USSD_END_COMPLETED);
	assert_int_equal(ussd_stats(f->u)->app_unsendable, 2);
	assert_int_equal(ussd_stats(f->u)->active, 0);
	fx_free(f);
}

/* The handset leaves while the application thinks: the request is
 * cancelled and its late reply changes nothing. */
static void test_http_release_cancels(void **state)
{
	struct fx *f = fx_new(64, false);
	dial(f, "+254711000001", 1, "*456#");
	assert_int_equal(node_msg(f, 0, 32, "+254711000001", 1, "", true), ESME_ROK);
	assert_int_equal(f->ncancel, 1);
	assert_int_equal(f->cancelled[0], f->app_token[0]);
	assert_int_equal(last_end(f)->end, USSD_END_USER_ABORT);
	assert_int_equal(last_end(f)->steps, 0);
	/* a new session may take the same slot: the stale token must not reach it */
	dial(f, "+254711000002", 1, "*456#");
	assert_int_equal(f->napp, 2);
	struct ussd_app_reply r = reply_of(USSD_APP_OK, 200, true, "Late");
	ussd__app_done(f->u, f->app_token[0], &r);
	assert_int_equal(f->ntx, 0);
	assert_int_equal(ussd_stats(f->u)->active, 1);
	fx_free(f);
}

/* ---- refusals, duplicates, links ---- */

static void test_unknown_code(void **state)
{
	struct fx *f = fx_new(64, false);
	dial(f, "+254711000001", 1, "*999#");
	expect_end(f, "Unknown service.");
	assert_int_equal(ussd_stats(f->u)->refused, 1);
	assert_int_equal(ussd_stats(f->u)->refused_unknown, 1);
	assert_int_equal(ussd_stats(f->u)->started, 0);
	assert_int_equal(last_end(f)->end, USSD_END_REFUSED);
	assert_string_equal(last_end(f)->code, "*999#");
	assert_string_equal(last_end(f)->last_text, "Unknown service.");
	/* "*12#" is not a prefix of "*123#" and "*1234#" is not "*123#" */
	dial(f, "+254711000002", 1, "*1234#");
	expect_end(f, "Unknown service.");
	assert_int_equal(ussd_stats(f->u)->active, 0);
	fx_free(f);
}

static void test_sessions_max(void **state)
{
	struct fx *f = fx_new(4, false);
	char num[32];
	for (int i = 0; i < 4; i++) {
		snprintf(num, sizeof(num), "+25471100000%d", i);
		dial(f, num, 1, "*123#");
		expect_con(f, "Welcome\n1. Balance\n2. Send money");
	}
	dial(f, "+254711000009", 1, "*123#");
	expect_end(f, "Service busy. Try later.");
	assert_int_equal(ussd_stats(f->u)->refused_full, 1);
	assert_int_equal(last_end(f)->end, USSD_END_REFUSED);
	assert_int_equal(ussd_stats(f->u)->active, 4);
	answer(f, "+254711000000", 1, "1"); /* one ends: room again */
	dial(f, "+254711000009", 1, "*123#");
	expect_con(f, "Welcome\n1. Balance\n2. Send money");
	assert_int_equal(ussd_stats(f->u)->active, 4);
	fx_free(f);
}

/* A handset redialling with the same reference: the old dialogue is gone. */
static void test_duplicate_key(void **state)
{
	struct fx *f = fx_new(64, false);
	dial(f, "+254711000001", 1, "*123#");
	answer(f, "+254711000001", 1, "2");
	dial(f, "+254711000001", 1, "*123#");
	expect_con(f, "Welcome\n1. Balance\n2. Send money");
	assert_int_equal(ussd_stats(f->u)->active, 1);
	assert_int_equal(ussd_stats(f->u)->network_aborts, 1);
	assert_int_equal(f->nend, 1);
	assert_int_equal(f->ends[0].end, USSD_END_NETWORK_ABORT);
	assert_int_equal(f->ends[0].steps, 2);
	/* the new one is at the start screen */
	answer(f, "+254711000001", 1, "1");
	expect_end(f, "Your balance is 100.");
	/* same subscriber, another reference: two sessions */
	dial(f, "+254711000001", 1, "*123#");
	dial(f, "+254711000001", 2, "*123#");
	assert_int_equal(ussd_stats(f->u)->active, 2);
	fx_free(f);
}

static void test_link_down(void **state)
{
	struct fx *f = fx_new(64, false);
	dial(f, "+254711000001", 1, "*123#");
	assert_int_equal(node_msg(f, 1, SMPP_USSD_PSSR_IND, "+254711000002", 1, "*123#", false), ESME_ROK);
	assert_int_equal(f->tx_li[1], 1); /* answered on its own link */
	dial(f, "+254711000003", 1, "*456#");
	size_t sent = f->ntx;
	ussd__on_link_down(f->u, 0);
	assert_int_equal(f->ntx, sent); /* nothing can be sent */
	assert_int_equal(ussd_stats(f->u)->network_aborts, 2);
	assert_int_equal(ussd_stats(f->u)->active, 1);
	assert_int_equal(f->ncancel, 1); /* the HTTP request of the one waiting */
	assert_int_equal(node_msg(f, 1, SMPP_USSD_USSR_CONF, "+254711000002", 1, "1", false), ESME_ROK);
	expect_end(f, "Your balance is 100.");
	assert_string_equal(last_end(f)->link, "op2");
	fx_free(f);
}

static void test_shutdown_releases(void **state)
{
	struct fx *f = fx_new(64, false);
	dial(f, "+254711000001", 1, "*123#");
	dial(f, "+254711000002", 1, "*456#");
	ussd_stop(f->u);
	assert_int_equal(ussd_stats(f->u)->shutdown, 2);
	assert_int_equal(ussd_stats(f->u)->active, 0);
	expect_end(f, "Service unavailable. Try later.");
	assert_int_equal(last_end(f)->end, USSD_END_SHUTDOWN);
	/* after the stop nothing begins */
	dial(f, "+254711000003", 1, "*123#");
	assert_int_equal(ussd_stats(f->u)->active, 0);
	fx_free(f);
}

/* ---- charging ---- */

/* A charged service whose payer's tariff has no ussd row for the code and
 * that has no flat price of its own: refused with the busy text, never given
 * away, counted refused_price; nothing held, nothing charged. */
static void test_charge_no_price(void **state)
{
	struct fx *f = fx_new(64, false);
	int64_t b0 = balance(f, "alice");
	dial(f, "+254700011111", 1, "*700#");
	expect_end(f, "Service busy. Try later.");
	assert_int_equal(last_end(f)->end, USSD_END_REFUSED);
	assert_int_equal(last_end(f)->charge_micros, 0);
	assert_int_equal(ussd_stats(f->u)->refused_price, 1);
	assert_int_equal(ussd_stats(f->u)->active, 0);
	assert_int_equal(balance(f, "alice"), b0);
	struct bill_account_info ai;
	assert_int_equal(bill_account_get(f->cb->book, SY_STR("alice"), &ai), SY_OK);
	assert_int_equal(ai.reserved_micros, 0);
	fx_free(f);
}

/* charge = session on a tariff row: exactly the row's price, whatever the
 * dialogue's length; a session that got no reply pays nothing. */
static void test_charge_session(void **state)
{
	struct fx *f = fx_new(64, false);
	int64_t b0 = balance(f, "alice");
	dial(f, "+254700011111", 1, "*200#");
	struct bill_account_info ai;
	assert_int_equal(bill_account_get(f->cb->book, SY_STR("alice"), &ai), SY_OK);
	assert_int_equal(ai.reserved_micros, 20000); /* held at the begin */
	answer(f, "+254700011111", 1, "2");
	answer(f, "+254700011111", 1, "0722");
	answer(f, "+254700011111", 1, "5");
	answer(f, "+254700011111", 1, "2");
	expect_end(f, "Cancelled.");
	assert_int_equal(balance(f, "alice"), b0 - 20000);
	assert_int_equal(last_end(f)->charge_micros, 20000);
	assert_string_equal(last_end(f)->account, "alice");
	assert_int_equal(ussd_stats(f->u)->charged_micros, 20000);
	/* no tariff row for *500#: the service's price */
	dial(f, "+254700011111", 1, "*500*1#");
	expect_end(f, "Your balance is 100.");
	assert_int_equal(balance(f, "alice"), b0 - 20000 - 50000);
	/* refused for funds: nothing held, nothing charged, busy text */
	int64_t p0 = balance(f, "poor");
	dial(f, "+254799900000", 1, "*200#");
	expect_end(f, "Service busy. Try later.");
	assert_int_equal(last_end(f)->end, USSD_END_REFUSED);
	assert_int_equal(ussd_stats(f->u)->refused_funds, 1);
	assert_int_equal(balance(f, "poor"), p0);
	assert_int_equal(bill_account_get(f->cb->book, SY_STR("poor"), &ai), SY_OK);
	assert_int_equal(ai.reserved_micros, 0);
	/* a subscriber no account owns */
	dial(f, "+254788800000", 1, "*200#");
	expect_end(f, "Service busy. Try later.");
	assert_int_equal(ussd_stats(f->u)->refused_account, 1);
	/* a service that names its account: that one pays, whoever dials */
	int64_t s0 = balance(f, "shop");
	dial(f, "+254788800000", 1, "*600*1#");
	expect_end(f, "Your balance is 100.");
	assert_string_equal(last_end(f)->account, "shop");
	assert_int_equal(balance(f, "shop"), s0 - 50000);
	/* free service: no account needed */
	dial(f, "+254788800000", 1, "*123*1#");
	expect_end(f, "Your balance is 100.");
	int64_t charged, decrease;
	assert_true(callbill_conserved(f->cb, &charged, &decrease));
	assert_int_equal(charged, 120000);
	fx_free(f);
}

/* charge = step: fee + rate x steps, the hold extended past its first
 * USSD_STEP_HOLD steps; a step the money cannot pay ends the dialogue. */
static void test_charge_step(void **state)
{
	struct fx *f = fx_new(64, false);
	int64_t b0 = balance(f, "alice");
	dial(f, "+254700011111", 1, "*300#");
	answer(f, "+254700011111", 1, "2");
	answer(f, "+254700011111", 1, "0722");
	answer(f, "+254700011111", 1, "5");
	answer(f, "+254700011111", 1, "1"); /* the fifth step: past the first hold */
	expect_end(f, "Sent.");
	assert_int_equal(last_end(f)->steps, 5);
	assert_int_equal(balance(f, "alice"), b0 - (5000 + 5 * 10000));
	assert_int_equal(last_end(f)->charge_micros, 55000);
	/* a user who leaves after two steps pays two */
	dial(f, "+254700011111", 1, "*300#");
	answer(f, "+254700011111", 1, "2");
	assert_int_equal(node_msg(f, 0, 32, "+254700011111", 1, "", true), ESME_ROK);
	assert_int_equal(balance(f, "alice"), b0 - 55000 - 25000);
	/* 0.03: pays steps 1 and 2 (0.025), not the third (0.035) */
	dial(f, "+254755500000", 1, "*300#");
	answer(f, "+254755500000", 1, "2");
	answer(f, "+254755500000", 1, "0722");
	expect_end(f, "Service busy. Try later.");
	assert_int_equal(last_end(f)->end, USSD_END_REFUSED);
	assert_int_equal(last_end(f)->charge_micros, 25000);
	assert_int_equal(balance(f, "mid"), 30000 - 25000);
	/* poor cannot pay the first step */
	dial(f, "+254799900000", 1, "*300#");
	expect_end(f, "Service busy. Try later.");
	assert_int_equal(balance(f, "poor"), 10000);
	assert_int_equal(ussd_stats(f->u)->refused_funds, 2);
	assert_true(callbill_conserved(f->cb, NULL, NULL));
	fx_free(f);
}

/* ---- records, ids, memory ---- */

/* Every session leaves one record, in the store too (flushed on the timer). */
static void test_records_stored(void **state)
{
	struct fx *f = fx_new(64, true);
	dial(f, "+254711000001", 1, "*123*1#");	     /* completed */
	dial(f, "+254711000002", 1, "*999#");	     /* refused */
	dial(f, "+254711000003", 1, "*123#");	     /* times out */
	testenv_advance(&f->te, 100 * SY_NS_PER_MS); /* before the flush: nothing on disk */
	uint64_t rows = 0;
	char err[256];
	assert_int_equal(udr_store_count_rows(&f->te.env, f->store, &rows, err, sizeof(err)), SY_OK);
	assert_int_equal(rows, 0);
	testenv_advance(&f->te, 100 * SY_NS_PER_MS);
	assert_int_equal(udr_store_count_rows(&f->te.env, f->store, &rows, err, sizeof(err)), SY_OK);
	assert_int_equal(rows, 2);
	testenv_advance(&f->te, 180 * SY_NS_PER_S);
	ussd_stop(f->u);
	assert_int_equal(udr_store_count_rows(&f->te.env, f->store, &rows, err, sizeof(err)), SY_OK);
	assert_int_equal(rows, 3);
	assert_int_equal(ussd_stats(f->u)->records, 3);
	assert_int_equal(f->nend, 3);
	assert_int_equal(f->ends[0].end, USSD_END_COMPLETED);
	assert_int_equal(f->ends[1].end, USSD_END_REFUSED);
	assert_int_equal(f->ends[2].end, USSD_END_SESSION_TIMEOUT);
	/* ids: distinct, not consecutive (a keyed permutation), below 2^52 */
	for (int i = 0; i < 3; i++) {
		assert_true(f->ends[i].id != 0 && f->ends[i].id < (1ull << 52));
		for (int j = 0; j < i; j++) {
			assert_true(f->ends[i].id != f->ends[j].id);
			assert_true(f->ends[i].id - f->ends[j].id != 1 && f->ends[j].id - f->ends[i].id != 1);
		}
	}
	fx_free(f);
}

/* A failing disk: sessions go on, the records stay pending and are
 * retried until the disk is back, none lost, none twice. */
static void test_records_disk_fails(void **state)
{
	struct fx *f = fx_new(64, true);
	char err[256], num[32];
	uint64_t rows = 0;
	dial(f, "+254711000001", 1, "*123*1#");
	testenv_advance(&f->te, 200 * SY_NS_PER_MS);
	assert_int_equal(udr_store_count_rows(&f->te.env, f->store, &rows, err, sizeof(err)), SY_OK);
	assert_int_equal(rows, 1);
	f->disk_fail = true;
	for (int i = 2; i <= 5; i++) {
		snprintf(num, sizeof(num), "+25471100000%d", i);
		dial(f, num, 1, "*123*1#");
		expect_end(f, "Your balance is 100.");
	}
	testenv_advance(&f->te, 3 * SY_NS_PER_S); /* the flush and its retries fail */
	assert_int_equal(ussd_stats(f->u)->completed, 5);
	assert_int_equal(ussd_stats(f->u)->records, 5);
	f->disk_fail = false;
	testenv_advance(&f->te, SY_NS_PER_S); /* the next retry goes through */
	assert_int_equal(udr_store_count_rows(&f->te.env, f->store, &rows, err, sizeof(err)), SY_OK);
	assert_int_equal(rows, 5);
	assert_int_equal(testenv_timers_pending(&f->te), 0);
	fx_free(f);
}

/* 100,000 open menu sessions: memory measured at the peak. */
static void test_bytes_per_session(void **state)
{
	struct fx *f = fx_new(200000, false);
	char num[32];
	for (uint32_t i = 0; i < 100000; i++) {
		snprintf(num, sizeof(num), "+2547%08u", i);
		dial(f, num, (uint16_t)i, "*123#");
	}
	const struct ussd_stats *st = ussd_stats(f->u);
	assert_int_equal(st->active, 100000);
	assert_int_equal(st->active_peak, 100000);
	print_message("ussd: %llu sessions, %llu bytes, bytes_per_session %llu\n", (unsigned long long)st->active,
		      (unsigned long long)st->bytes, (unsigned long long)st->bytes_per_session);
	assert_true(st->bytes_per_session > 0 && st->bytes_per_session <= 200);
	assert_true(st->bytes >= 100000ull * sizeof(uint8_t[96]));
	/* every one still answers */
	snprintf(num, sizeof(num), "+2547%08u", 54321u);
	answer(f, num, 54321, "1");
	expect_end(f, "Your balance is 100.");
	testenv_advance(&f->te, 180 * SY_NS_PER_S);
	assert_int_equal(st->active, 0);
	assert_int_equal(st->session_timeouts, 99999);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_menu_dialogue),
	    cmocka_unit_test(test_menu_dialled_inputs),
	    cmocka_unit_test(test_menu_invalid_input),
	    cmocka_unit_test(test_user_release),
	    cmocka_unit_test(test_session_timeout_exact),
	    cmocka_unit_test(test_http_dialogue),
	    cmocka_unit_test(test_http_app_timeout_and_error),
	    cmocka_unit_test(test_http_release_cancels),
	    cmocka_unit_test(test_http_text_too_long),
	    cmocka_unit_test(test_unknown_code),
	    cmocka_unit_test(test_sessions_max),
	    cmocka_unit_test(test_duplicate_key),
	    cmocka_unit_test(test_link_down),
	    cmocka_unit_test(test_shutdown_releases),
	    cmocka_unit_test(test_charge_session),
	    cmocka_unit_test(test_charge_no_price),
	    cmocka_unit_test(test_charge_step),
	    cmocka_unit_test(test_records_stored),
	    cmocka_unit_test(test_records_disk_fails),
	    cmocka_unit_test(test_bytes_per_session),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
