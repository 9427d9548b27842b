/* test_conf_fraud.c: the fraud sections of the config file (core/conf/
 * scn_fraud.c): [fraud], [fraud-rule NAME], [account] fraud_class and
 * numbers, every key of a full file read back from struct fraud_cfg, the
 * defaults, fraud off, and a table of bad values with their exact
 * file:line messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "core/conf/node.h"

static struct scn *parse_ok(const char *text)
{
	struct scn *s = NULL;
	char err[SCN_ERR_MAX] = "";
	if (scn_parse_string(text, "f.conf", &s, err, sizeof(err)) != SY_OK)
		fail_msg("unexpected error: %s", err);
	return s;
}

static const char full[] = "[fraud]\n"				      /* 1 */
			   "enabled = yes\n"			      /* 2 */
			   "mode = monitor\n"			      /* 3 */
			   "ranges = risk.csv\n"		      /* 4 */
			   "intl_prefix = 011\n"		      /* 5 */
			   "accounts = 5000\n"			      /* 6 */
			   "retry_after = 30s\n"		      /* 7 */
			   "block_sip = 603\n"			      /* 8 */
			   "block_smpp = 0x58\n"		      /* 9 */
			   "wangiri = yes\n"			      /* 10 */
			   "wangiri_source_digits = 7\n"	      /* 11 */
			   "wangiri_short = 3s\n"		      /* 12 */
			   "wangiri_flood = 40/2m flag\n"	      /* 13 */
			   "wangiri_distinct = 25\n"		      /* 14 */
			   "wangiri_callback = 12h throttle\n"	      /* 15 */
			   "wangiri_ranges = 1000\n"		      /* 16 */
			   "sms_pump = yes\n"			      /* 17 */
			   "sms_seq_digits = 2\n"		      /* 18 */
			   "sms_seq = 15/30s\n"			      /* 19 */
			   "sms_prefix_digits = 6\n"		      /* 20 */
			   "sms_surge = 50/1m flag\n"		      /* 21 */
			   "sms_surge_factor = 400%\n"		      /* 22 */
			   "sms_baseline_steps = 30\n"		      /* 23 */
			   "sms_dlr = 100/10m block\n"		      /* 24 */
			   "sms_dlr_min = 25%\n"		      /* 25 */
			   "sms_prefixes = 2048\n"		      /* 26 */
			   "alert_url = http://127.0.0.1:9000/hook\n" /* 27 */
			   "alert_rate = 5/s burst 9\n"		      /* 28 */
			   "alert_timeout = 500ms\n"		      /* 29 */
			   "bursts = 100\n"			      /* 30 */
			   "[fraud-rule default]\n"		      /* 31 */
			   "calls = 20/s block\n"		      /* 32 */
			   "concurrent = 30 throttle\n"		      /* 33 */
			   "spend = 50 USD/1h flag\n"		      /* 34 */
			   "new_dest = 100/1h flag\n"		      /* 35 */
			   "[fraud-rule wholesale]\n"		      /* 36 */
			   "risk_min = medium\n"		      /* 37 */
			   "risky_calls = 10/10m\n"		      /* 38 */
			   "risky_spend = 2.50/1h flag\n"	      /* 39 */
			   "range_burst = 20/10m block\n"	      /* 40 */
			   "blocked_class = flag\n"		      /* 41 */
			   "premium_max = 10m\n"		      /* 42 */
			   "cli_malformed = flag\n"		      /* 43 */
			   "cli_same = block\n"			      /* 44 */
			   "cli_foreign = throttle\n"		      /* 45 */
			   "sms = 100/1s throttle\n"		      /* 46 */
			   "[account acme]\n"			      /* 47 */
			   "callers = 4420\n"			      /* 48 */
			   "fraud_class = wholesale\n"		      /* 49 */
			   "numbers = +4420 4421, 004422\n"	      /* 50 */
			   "[account plain]\n"			      /* 51 */
			   "[account owned]\n"			      /* 52 */
			   "numbers = +33\n";			      /* 53 */

static void check_fraud_keys(const struct fraud_cfg *f)
{
	assert_true(f->on);
	assert_true(f->monitor);
	assert_string_equal(f->ranges_path, "conf/risk.csv"); /* next to the file */
	assert_int_equal(f->ranges_line, 4);
	assert_string_equal(f->num.intl_prefix, "011");
	assert_int_equal(f->accounts_max, 5000);
	assert_int_equal(f->retry_after_s, 30);
	assert_int_equal(f->block_sip, 603);
	assert_int_equal(f->block_smpp, 0x58);
	assert_true(f->wangiri.on);
	assert_int_equal(f->wangiri.source_digits, 7);
	assert_int_equal(f->wangiri.short_ns, 3 * SY_NS_PER_S);
	assert_int_equal(f->wangiri.flood.max, 40);
	assert_int_equal(f->wangiri.flood.window_ns, 120 * SY_NS_PER_S);
	assert_int_equal(f->wangiri.flood.action, FRAUD_FLAG);
	assert_int_equal(f->wangiri.distinct_min, 25);
	assert_int_equal(f->wangiri.callback_ns, 12 * 3600 * SY_NS_PER_S);
	assert_int_equal(f->wangiri.callback, FRAUD_THROTTLE);
	assert_int_equal(f->wangiri.ranges_max, 1000);
	assert_true(f->sms.on);
	assert_int_equal(f->sms.seq_digits, 2);
	assert_int_equal(f->sms.seq.max, 15);
	assert_int_equal(f->sms.seq.window_ns, 30 * SY_NS_PER_S);
	assert_int_equal(f->sms.seq.action, FRAUD_BLOCK); /* left out: block */
	assert_int_equal(f->sms.prefix_digits, 6);
	assert_int_equal(f->sms.surge.max, 50);
	assert_int_equal(f->sms.surge.window_ns, 60 * SY_NS_PER_S);
	assert_int_equal(f->sms.surge_factor_pct, 400);
	assert_int_equal(f->sms.baseline_steps, 30);
	assert_int_equal(f->sms.dlr.max, 100);
	assert_int_equal(f->sms.dlr.action, FRAUD_BLOCK);
	assert_int_equal(f->sms.dlr_min_pct, 25);
	assert_int_equal(f->sms.prefixes_max, 2048);
	assert_string_equal(f->alert.url, "http://127.0.0.1:9000/hook");
	assert_int_equal(f->alert.per_s, 5);
	assert_int_equal(f->alert.burst, 9);
	assert_int_equal(f->alert.timeout_ns, 500 * SY_NS_PER_MS);
	assert_int_equal(f->bursts_max, 100);
}

static void check_rules(const struct fraud_cfg *f)
{
	assert_int_equal(f->rule_n, 2);
	assert_int_equal(f->default_rule, 0);
	const struct fraud_rule_cfg *d = &f->rules[0], *w = &f->rules[1];
	assert_string_equal(d->name, "default");
	assert_int_equal(d->line, 31);
	assert_int_equal(d->calls.max, 20);
	assert_int_equal(d->calls.window_ns, SY_NS_PER_S); /* "20/s" */
	assert_int_equal(d->calls.action, FRAUD_BLOCK);
	assert_int_equal(d->concurrent.max, 30);
	assert_int_equal(d->concurrent.window_ns, 0);
	assert_int_equal(d->concurrent.action, FRAUD_THROTTLE);
	assert_int_equal(d->spend.max, 50000000); /* micros */
	assert_int_equal(d->spend.window_ns, 3600 * SY_NS_PER_S);
	assert_int_equal(d->spend.action, FRAUD_FLAG);
	assert_int_equal(d->new_dest.max, 100);
	/* what a rule says when it says nothing */
	assert_int_equal(d->risk_min, FRAUD_RISK_HIGH);
	assert_int_equal(d->blocked_class, FRAUD_BLOCK);
	assert_int_equal(d->premium_max_ns, 0);
	assert_int_equal(d->cli_same, FRAUD_ALLOW);
	assert_int_equal(d->risky_calls.max, 0);
	assert_string_equal(w->name, "wholesale");
	assert_int_equal(w->risk_min, FRAUD_RISK_MEDIUM);
	assert_int_equal(w->risky_calls.max, 10);
	assert_int_equal(w->risky_calls.window_ns, 600 * SY_NS_PER_S);
	assert_int_equal(w->risky_spend.max, 2500000);
	assert_int_equal(w->range_burst.max, 20);
	assert_int_equal(w->blocked_class, FRAUD_FLAG);
	assert_int_equal(w->premium_max_ns, 600 * SY_NS_PER_S);
	assert_int_equal(w->premium_action, FRAUD_BLOCK);
	assert_int_equal(w->cli_malformed, FRAUD_FLAG);
	assert_int_equal(w->cli_same, FRAUD_BLOCK);
	assert_int_equal(w->cli_foreign, FRAUD_THROTTLE);
	assert_int_equal(w->sms.max, 100);
	assert_int_equal(w->sms.action, FRAUD_THROTTLE);
}

/* Only accounts with a class or own numbers are listed; the rest take the
 * default rule by name lookup failing. */
static void check_accounts(const struct fraud_cfg *f)
{
	assert_int_equal(f->account_n, 2);
	const struct fraud_account_cfg *a = &f->accounts[0], *o = &f->accounts[1];
	assert_string_equal(a->name, "acme");
	assert_int_equal(a->rule, 1);
	assert_int_equal(a->own_n, 3);
	assert_string_equal(a->own[0], "+4420");
	assert_string_equal(a->own[1], "4421");
	assert_string_equal(a->own[2], "004422");
	assert_string_equal(o->name, "owned");
	assert_int_equal(o->rule, -1);
	assert_int_equal(o->own_n, 1);
}

static void test_full(void **state)
{
	struct scn *s = NULL;
	char err[SCN_ERR_MAX] = "";
	if (scn_parse_string(full, "conf/f.conf", &s, err, sizeof(err)) != SY_OK)
		fail_msg("unexpected error: %s", err);
	check_fraud_keys(&s->fraud);
	check_rules(&s->fraud);
	check_accounts(&s->fraud);
	struct node_cfg *n = conf_node_new(s); /* handed on whole */
	assert_non_null(n);
	assert_memory_equal(&n->fraud, &s->fraud, sizeof(n->fraud));
	free(n);
	scn_free(s);
}

/* No [fraud], or enabled = no: off, whatever else is written; a bare
 * [fraud] is on with the component's defaults. */
static void test_off_and_defaults(void **state)
{
	struct fraud_cfg want;
	fraud_cfg_defaults(&want);
	struct scn *s = parse_ok("[node]\nname = x\n");
	assert_false(s->fraud.on);
	assert_int_equal(s->fraud.rule_n, 0);
	assert_int_equal(s->fraud.default_rule, -1);
	assert_int_equal(s->fraud.account_n, 0);
	scn_free(s);
	s = parse_ok("[fraud]\nenabled = no\nwangiri = yes\n[fraud-rule default]\ncalls = 5/1s\n");
	assert_false(s->fraud.on);
	scn_free(s);
	s = parse_ok("[fraud]\n");
	assert_true(s->fraud.on);
	assert_false(s->fraud.monitor);
	assert_int_equal(s->fraud.accounts_max, want.accounts_max);
	assert_int_equal(s->fraud.retry_after_s, want.retry_after_s);
	assert_int_equal(s->fraud.block_sip, want.block_sip);
	assert_int_equal(s->fraud.block_smpp, want.block_smpp);
	assert_int_equal(s->fraud.wangiri.short_ns, want.wangiri.short_ns);
	assert_int_equal(s->fraud.sms.dlr_min_pct, want.sms.dlr_min_pct);
	assert_int_equal(s->fraud.alert.per_s, want.alert.per_s);
	assert_string_equal(s->fraud.ranges_path, "");
	scn_free(s);
	/* "off" turns a limit off again */
	s = parse_ok("[fraud]\n[fraud-rule r]\ncalls = off\nspend = off\npremium_max = off\n");
	assert_int_equal(s->fraud.rules[0].calls.max, 0);
	assert_int_equal(s->fraud.rules[0].spend.max, 0);
	assert_int_equal(s->fraud.default_rule, -1);
	scn_free(s);
}

static void test_bad(void **state)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
	    {"[fraud]\nmode = loud\n", "f.conf:2: bad mode (enforce or monitor) 'loud' for 'mode'"},
	    {"[fraud]\nenabled = maybe\n", "f.conf:2: bad value 'maybe' for 'enabled' (on or off)"},
	    {"[fraud]\nintl_prefix = 0x\n", "f.conf:2: bad international prefix"},
	    {"[fraud]\nblock_sip = 200\n", "f.conf:2: bad SIP status (400 to 699) '200' for 'block_sip'"},
	    {"[fraud]\nblock_smpp = 0\n", "f.conf:2: bad SMPP command_status (e.g. 0x45; not 0) '0'"},
	    {"[fraud]\nretry_after = 1500ms\n", "f.conf:2: bad whole number of seconds"},
	    {"[fraud]\naccounts = 0\n", "f.conf:2: bad account count"},
	    {"[fraud]\nsms_dlr_min = 120%\n",
	     "f.conf:2: bad value '120%' for 'sms_dlr_min' (a whole percentage, 1% to 100%)"},
	    {"[fraud]\nalert_url = https://x/\n", "f.conf:2: bad webhook URL"},
	    {"[fraud]\nalert_rate = 10/s burst 5\n", "f.conf:2: bad alert rate (N/s [burst M >= N]) '10/s burst 5'"},
	    {"[fraud]\nwangiri_callback = soon\n", "f.conf:2: bad DURATION [ACTION] (e.g. 10m block) 'soon'"},
	    {"[fraud]\n[fraud]\n", "f.conf:2: duplicate section [fraud]"},
	    {"[fraud-rule a]\ncalls = 20\n", "f.conf:2: bad limit (N/WINDOW [ACTION], e.g. 20/1s block; or off) '20'"},
	    {"[fraud-rule a]\ncalls = 20/1s ban\n", "f.conf:2: bad limit (N/WINDOW [ACTION]"},
	    {"[fraud-rule a]\ncalls = 0/1s\n", "f.conf:2: bad limit"},
	    {"[fraud-rule a]\ncalls = 5/1s block extra\n", "f.conf:2: bad limit"},
	    {"[fraud-rule a]\nconcurrent = 30/1s\n", "f.conf:2: bad limit (N [ACTION], e.g. 30 block; or off) '30/1s'"},
	    {"[fraud-rule a]\nspend = 50 US/1h\n", "f.conf:2: bad spend limit"},
	    {"[fraud-rule a]\nspend = 50\n", "f.conf:2: bad spend limit"},
	    {"[fraud-rule a]\nrisk_min = scary\n",
	     "f.conf:2: bad risk class (low, medium, high, premium, blocked) 'scary'"},
	    {"[fraud-rule a]\ncli_same = maybe\n", "f.conf:2: bad action (allow, flag, throttle, block) 'maybe'"},
	    {"[fraud-rule a]\n[fraud-rule a]\n", "f.conf:2: duplicate section [fraud-rule a]"},
	    {"[fraud-rule]\n", "f.conf:1: section [fraud-rule] needs a name"},
	    {"[account a]\nfraud_class = gold\n", "f.conf:2: [account a] names unknown fraud rule 'gold'"},
	    {"[account a]\nnumbers = +44x\n", "f.conf:2: bad number prefixes (up to 16, e.g. +4420 +4421) '+44x'"},
	    {"[account a]\nnumbers = +\n", "f.conf:2: bad number prefixes"},
	    {"[fraud-rule a]\nunknown = 1\n", "f.conf:2: unknown key 'unknown' in [fraud-rule a]"},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		struct scn *s = NULL;
		char err[SCN_ERR_MAX] = "";
		if (scn_parse_string(cases[i].text, "f.conf", &s, err, sizeof(err)) != SY_ERR_PARSE)
			fail_msg("case %zu parsed: %s", i, cases[i].text);
		if (strncmp(err, cases[i].err, strlen(cases[i].err)) != 0)
			fail_msg("case %zu: got '%s', want '%s...'", i, err, cases[i].err);
		assert_null(s);
	}
}

/* More rules than the component takes is an error at the one too many. */
static void test_rule_limit(void **state)
{
	char text[FRAUD_RULES_MAX * 24 + 64], err[SCN_ERR_MAX] = "";
	size_t n = 0;
	for (int i = 0; i <= FRAUD_RULES_MAX; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "[fraud-rule r%d]\n", i);
	struct scn *s = NULL;
	assert_int_equal(scn_parse_string(text, "f.conf", &s, err, sizeof(err)), SY_ERR_PARSE);
	assert_string_equal(err, "f.conf:17: too many [fraud-rule] sections (max 16)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full),
	    cmocka_unit_test(test_off_and_defaults),
	    cmocka_unit_test(test_bad),
	    cmocka_unit_test(test_rule_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
