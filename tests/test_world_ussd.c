/* test_world_ussd.c: [traffic ussd] and [ussd-app NAME] (peers/world_ussd.c):
 * every key read back, the defaults, the node's config built from them and
 * the [ussd-link] they serve (world_ussd_net_cfg), and bad values refused
 * with their exact file:line message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "peers/world.h"

static const char link_accept[] = "[ussd]\n"
				  "listen = 10.0.0.1:2776\n"
				  "timeout_text = Timed out.\n"
				  "[ussd-link op]\n"
				  "mode = accept\n"
				  "system_id = ussdnode\n"
				  "password = Node2026\n"
				  "session_ref = user_message_reference\n"
				  "release_op = 40\n"
				  "[ussd-menu bank]\n"
				  "start = main\n"
				  "screen main = Hi\\n1. Balance\n"
				  "option main 1 = bal\n"
				  "end bal = 10 KES\n";

static struct world *parse(const char *text, char *err, size_t errlen)
{
	struct world *w = NULL;
	enum sy_rc rc = world_parse_buf(text, strlen(text), "u.scn", NULL, 0, &w, err, errlen);
	return rc == SY_OK ? w : NULL;
}

static void test_full(void **state)
{
	char text[4096], err[256] = "";
	snprintf(text, sizeof(text),
		 "%s[traffic ussd]\n"
		 "rate = 12.5\n"
		 "arrivals = even\n"
		 "start = 2s\n"
		 "duration = 30s\n"
		 "sessions = 1000\n"
		 "codes = *123# 70%%, *456# 30%%\n"
		 "paths = *123#: 1 40%%, 2*0722000111*100*1 60%%; 3*1, 1#2, -\n"
		 "think = lognormal 3s 0.5\n"
		 "abandon = 5%%\n"
		 "handset_timeout = 100s\n"
		 "msisdn = +2547XXXXXXXX\n"
		 "handsets = 5000\n"
		 "ussd_link = op\n"
		 "binds = 2\n"
		 "window = 50\n"
		 "link = latency 20ms\n"
		 "[ussd-app wallet]\n"
		 "listen = 10.0.7.1:8080\n"
		 "path = /ussd\n"
		 "menu = bank\n"
		 "latency = lognormal 80ms 0.5\n"
		 "fail = 1%%\n"
		 "outage = 25s for 10s, 50s for 1s\n"
		 "outage_mode = error\n"
		 "link = latency 5ms\n",
		 link_accept);
	struct world *w = parse(text, err, sizeof(err));
	if (w == NULL)
		fail_msg("%s", err);
	const struct world_ussd_traffic *t = &w->ussd.traffic;
	assert_true(t->present);
	assert_int_equal(t->rate_milli, 12500);
	assert_int_equal(t->arrivals, USSD_NET_EVEN);
	assert_int_equal(t->code_n, 2);
	assert_int_equal(t->code_ppm[0], 700000);
	assert_int_equal(t->path_n, 5);
	assert_string_equal(t->paths[1], "2*0722000111*100*1");
	assert_int_equal(t->path_code[1], 0);
	assert_int_equal(t->path_code[2], -1);
	assert_int_equal(t->path_ppm[2], 333334); /* equal shares, the remainder to the first */
	assert_string_equal(t->paths[4], "");	  /* "-": a dial and nothing else */
	assert_int_equal(t->abandon_ppm, 50000);
	assert_true(t->link.set);
	const struct world_ussd_app *a = &w->ussd.apps[0];
	assert_int_equal(w->ussd.app_n, 1);
	assert_string_equal(a->name, "wallet");
	assert_int_equal(a->listen_addr.port, 8080);
	assert_int_equal(a->menu_index, 0);
	assert_int_equal(a->outage_n, 2);
	assert_int_equal(a->outage_start_ns[1], 50 * SY_NS_PER_S);
	assert_int_equal(a->outage_mode, WORLD_USSD_OUTAGE_ERROR);
	assert_int_equal(a->fail_ppm, 10000);

	struct ussd_net_cfg c;
	assert_int_equal(world_ussd_net_cfg(w, &c, err, sizeof(err)), SY_OK);
	assert_int_equal(c.mode, USSD_NET_BIND); /* the link accepts: the node binds */
	assert_string_equal(c.system_id, "ussdnode");
	assert_string_equal(c.password, "Node2026");
	assert_int_equal(c.ref, USSD_REF_USER_MESSAGE_REFERENCE);
	assert_int_equal(c.release_op, 40);
	assert_int_equal(c.stop_ns, 32 * SY_NS_PER_S);
	assert_int_equal(c.code_n, 2);
	/* *123# has its own group; *456# takes the three ungrouped paths */
	assert_int_equal(c.codes[0].path_n, 2);
	assert_int_equal(c.codes[1].path_first, 2);
	assert_int_equal(c.codes[1].path_n, 3);
	assert_string_equal(c.paths[3].inputs, "1#2");
	assert_int_equal(c.fail_text_n, 4);
	assert_string_equal(c.fail_texts[0], "Timed out.");
	assert_string_equal(c.msisdn, "+2547XXXXXXXX");
	world_free(w);
}

static void test_defaults_and_bind_link(void **state)
{
	char err[256] = "";
	const char *text = "[ussd-link gw]\nmode = bind\naddress = 10.0.6.1:2776\nsystem_id = gw\npassword = pw\n"
			   "release_op = 0\n"
			   "[traffic ussd]\nrate = 1\ncodes = *1#\npaths = 1\n";
	struct world *w = parse(text, err, sizeof(err));
	if (w == NULL)
		fail_msg("%s", err);
	const struct world_ussd_traffic *t = &w->ussd.traffic;
	assert_int_equal(t->think.a_ns, 2 * SY_NS_PER_S);
	assert_int_equal(t->handset_timeout_ns, 200 * SY_NS_PER_S);
	assert_int_equal(t->handsets, 100000);
	assert_string_equal(t->msisdn, "2547XXXXXXXX");
	struct ussd_net_cfg c;
	assert_int_equal(world_ussd_net_cfg(w, &c, err, sizeof(err)), SY_OK);
	assert_int_equal(c.mode, USSD_NET_ACCEPT); /* the gateway binds: the node accepts */
	assert_int_equal(c.ref, USSD_REF_ITS_SESSION_INFO);
	assert_int_equal(c.release_op, USSD_NET_RELEASE_END_BIT);
	assert_int_equal(c.fail_text_n, 0); /* no [ussd] in this file */
	world_free(w);
}

static void test_bad(void **state)
{
	static const struct {
		const char *text, *err;
	} bad[] = {
	    {"[traffic ussd]\nrate = 1\ncodes = *1# 60%, *2# 30%\npaths = 1\nsystem_id = a\npassword = b\n",
	     "u.scn:3: weights for 'codes' sum to 90%, not 100%"},
	    {"[traffic ussd]\nrate = 1\ncodes = *1#\npaths = *2#: 1\n",
	     "u.scn:4: 'paths' names code '*2#', not one of 'codes' (give 'codes' first)"},
	    {"[traffic ussd]\nrate = 1\ncodes = *1#\npaths = 1**2\n",
	     "u.scn:4: bad path (inputs joined by *, e.g. 2*0722000111*100*1) '1**2' for 'paths'"},
	    {"[traffic ussd]\nrate = 1\ncodes = *1#\npaths = 1#2#3\n",
	     "u.scn:4: bad path (inputs joined by *, e.g. 2*0722000111*100*1) '1#2#3' for 'paths'"},
	    {"[traffic ussd]\nrate = 1\ncodes = *1#\npaths = 1\n",
	     "u.scn:1: [traffic ussd] needs system_id (no [ussd-link] gives one)"},
	    {"[traffic ussd]\nrate = 1\ncodes = *1#\npaths = 1\nsystem_id = a\n",
	     "u.scn:1: [traffic ussd] needs password (the [ussd-link]'s is hashed, longer than SMPP's 8 characters, "
	     "or missing)"},
	    {"[traffic ussd]\nrate = 1\ncodes = *1#\npaths = 1\nsystem_id = a\npassword = b\nussd_link = x\n",
	     "u.scn:7: [traffic ussd] names unknown [ussd-link x]"},
	    {"[traffic ussd]\nrate = 1\ncodes = *1#\npaths = 1\nsystem_id = a\npassword = b\nmsisdn = 25XX\n"
	     "handsets = 1000\n",
	     "u.scn:1: [traffic ussd] msisdn 25XX has too few X digits for 1000 handsets"},
	    {"[traffic ussd]\nrate = 1\ncodes = *1#\npaths = 1\nsystem_id = a\npassword = b\n"
	     "session_ref = user_message_reference\nrelease_op = 0\n",
	     "u.scn:1: [traffic ussd] user_message_reference has no end bit: give release_op"},
	    {"[traffic ussd]\nrate = 1\ncodes = *1#\npaths = 1\nsystem_id = a\npassword = toolongpw\n",
	     "u.scn:6: 'password' must be 1 to 8 characters (SMPP bounds it)"},
	    {"[traffic ussd]\nrate = 1\ncodes = *1#\npaths = 1\nnode = both\n",
	     "u.scn:5: bad node (bind: the node binds to the gateway; accept: the gateway binds to it) 'both' for "
	     "'node'"},
	    {"[ussd-app a]\nlisten = 10.0.7.1:80\nmenu = nope\n",
	     "u.scn:3: [ussd-app a] names unknown [ussd-menu nope]"},
	    {"[ussd-app a]\nlisten = 10.0.7.1:80\nmenu = m\noutage = 10s\n",
	     "u.scn:4: expected 'outage = START for DURATION[, ...]' (e.g. 30s for 10s)"},
	    {"[ussd-app a]\nlisten = 10.0.7.1\nmenu = m\n",
	     "u.scn:2: bad address (IPv4:PORT of the app's own host, e.g. 10.0.7.1:8080) '10.0.7.1' for 'listen'"},
	    {"[ussd-app a]\nlisten = 10.0.7.1:80\nmenu = m\noutage_mode = crash\n",
	     "u.scn:4: bad outage_mode (hang, refuse or error) 'crash' for 'outage_mode'"},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(bad); i++) {
		char err[512] = "";
		struct world *w = parse(bad[i].text, err, sizeof(err));
		if (w != NULL || strcmp(err, bad[i].err) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, err, bad[i].err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full),
	    cmocka_unit_test(test_defaults_and_bind_link),
	    cmocka_unit_test(test_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
