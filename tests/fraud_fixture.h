/* fraud_fixture.h: a fraud component on the test env (virtual time from
 * 0, fixed seed) for the tests of core/fraud/fraud.h: a ranges file
 * written under /tmp, rules and accounts added by name, calls begun and
 * ended in one line, every decision and alert observed. Header-only, for
 * tests/test_fraud_*.c. */
#ifndef SY_TESTS_FRAUD_FIXTURE_H
#define SY_TESTS_FRAUD_FIXTURE_H
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/fraud/fraud.h"
#include "tests/testenv.h"

#define S  SY_NS_PER_S
#define MS SY_NS_PER_MS

struct fx {
	struct testenv te;
	struct fraud_cfg cfg;
	struct fraud *f;
	char path[96];
	/* observed */
	uint64_t decisions, alerts;
	enum fraud_kind last_kind;
	struct fraud_decision last;
	char last_account[64], last_callee[64];
};

static void fx_on_decision(void *arg, const struct fraud_event *ev)
{
	struct fx *x = arg;
	x->decisions++;
	x->last_kind = ev->kind;
	x->last = *ev->d;
	snprintf(x->last_account, sizeof x->last_account, "%.*s", (int)ev->account.len, ev->account.p);
	snprintf(x->last_callee, sizeof x->last_callee, "%.*s", (int)ev->callee.len, ev->callee.p);
}

static void fx_on_alert(void *arg, const struct fraud_event *ev)
{
	struct fx *x = arg;
	x->alerts++;
}

static __attribute__((unused)) void fx_write(struct fx *x, const char *text)
{
	struct sy_file *fl;
	sy_env_file_unlink(&x->te.env, x->path);
	assert_int_equal(sy_env_file_open(&x->te.env, x->path, SY_FILE_WRITE | SY_FILE_CREATE, &fl), SY_OK);
	assert_int_equal(sy_env_file_write(&x->te.env, fl, 0, text, strlen(text)), SY_OK);
	sy_env_file_close(&x->te.env, fl);
}

/* A fixture with the ranges text (NULL: no ranges file). */
static __attribute__((unused)) struct fx *fx_new(const char *ranges)
{
	struct fx *x = calloc(1, sizeof(*x));
	assert_non_null(x);
	testenv_init(&x->te, 7);
	fraud_cfg_defaults(&x->cfg);
	x->cfg.on = true;
	x->cfg.accounts_max = 1000;
	static unsigned seq;
	snprintf(x->path, sizeof x->path, "/tmp/sy-fraud-engine-%d-%u.csv", (int)getpid(), seq++);
	if (ranges != NULL) {
		fx_write(x, ranges);
		snprintf(x->cfg.ranges_path, sizeof x->cfg.ranges_path, "%s", x->path);
	}
	return x;
}

/* A rule with the defaults; "default" becomes the default rule. */
static __attribute__((unused)) struct fraud_rule_cfg *fx_rule(struct fx *x, const char *name)
{
	SY_ASSERT(x->cfg.rule_n < FRAUD_RULES_MAX);
	struct fraud_rule_cfg *r = &x->cfg.rules[x->cfg.rule_n];
	fraud_rule_defaults(r);
	snprintf(r->name, sizeof r->name, "%s", name);
	r->line = 10 + x->cfg.rule_n;
	if (strcmp(name, "default") == 0)
		x->cfg.default_rule = (int32_t)x->cfg.rule_n;
	x->cfg.rule_n++;
	return r;
}

/* An account with a rule (-1: the default) and own prefixes ("" ends). */
static __attribute__((unused)) struct fraud_account_cfg *fx_account(struct fx *x, const char *name, int32_t rule,
								    const char *own1, const char *own2)
{
	struct fraud_account_cfg *a = &x->cfg.accounts[x->cfg.account_n++];
	snprintf(a->name, sizeof a->name, "%s", name);
	a->rule = rule;
	if (own1)
		snprintf(a->own[a->own_n++], sizeof a->own[0], "%s", own1);
	if (own2)
		snprintf(a->own[a->own_n++], sizeof a->own[0], "%s", own2);
	return a;
}

static __attribute__((unused)) void fx_create(struct fx *x)
{
	char err[256];
	if (fraud_create(&x->te.env, &x->cfg, fx_on_decision, fx_on_alert, x, &x->f, err, sizeof err) != SY_OK)
		fail_msg("fraud_create: %s", err);
}

static __attribute__((unused)) void fx_at(struct fx *x, uint64_t t_ns)
{
	testenv_advance_to(&x->te, t_ns);
	assert_int_equal(x->te.now_ns, t_ns);
}

/* Begins a call; returns the applied action. */
static __attribute__((unused)) enum fraud_action fx_call(struct fx *x, const char *account, const char *caller,
							 const char *callee, struct fraud_call *st,
							 struct fraud_decision *d)
{
	struct fraud_call_req rq = {sy_str_from(account), sy_str_from(account), sy_str_from(caller),
				    sy_str_from(callee), SY_STR("call-1")};
	fraud_call_begin(x->f, &rq, st, d);
	return d->action;
}

/* Begins and ends a call at once (unanswered, 20 s ringing, no cost). */
static __attribute__((unused)) enum fraud_action fx_call1(struct fx *x, const char *account, const char *caller,
							  const char *callee, struct fraud_decision *d)
{
	struct fraud_call st;
	fx_call(x, account, caller, callee, &st, d);
	struct fraud_call_end e = {.ring_ns = 20 * S};
	fraud_call_end(x->f, &st, &e);
	return d->action;
}

static __attribute__((unused)) void fx_end(struct fx *x, struct fraud_call *st, uint64_t dur_ns, int64_t cost)
{
	struct fraud_call_end e = {
	    .answered = dur_ns > 0, .ring_ns = 5 * S, .duration_ns = dur_ns, .cost_micros = cost};
	fraud_call_end(x->f, st, &e);
}

static __attribute__((unused)) void fx_free(struct fx *x)
{
	fraud_destroy(x->f);
	sy_env_file_unlink(&x->te.env, x->path);
	testenv_free(&x->te);
	free(x);
}

#define assert_reason(d, text) assert_string_equal((d)->reason, (text))
#endif
