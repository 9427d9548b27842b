/* test_conf_ussd.c: the USSD sections of the config file (core/conf/
 * scn_ussd.c): [ussd], [ussd-link NAME], [ussd-service CODE] and
 * [ussd-menu NAME]; every key of a full file read back from struct
 * ussd_cfg, the defaults, the example in tests/data (parsed and walked),
 * '#' in codes and texts, and a table of bad values with their exact
 * file:line messages, one or more for each check. */
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

#define PW_HASH "$sha256$30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4"

static const char full[] = "[ussd]\n"					     /* 1 */
			   "enabled = yes\n"				     /* 2 */
			   "listen = 127.0.0.1:2776\n"			     /* 3 */
			   "session_timeout = 120s\n"			     /* 4 */
			   "app_timeout = 4s\n"				     /* 5 */
			   "sessions = 5000\n"				     /* 6 */
			   "timeout_text = Timed out.\\nDial *123# again.\n" /* 7 */
			   "error_text = Down.\n"			     /* 8 */
			   "busy_text = Busy.\n"			     /* 9 */
			   "unknown_text = No such code.\n"		     /* 10 */
			   "records = no\n"				     /* 11 */
			   "bind_timeout = 3s\n"			     /* 12 */
			   "conns_per_source = 8\n"			     /* 13 */
			   "bind_fails_max = 5\n"			     /* 14 */
			   "fail_backoff = 2s\n"			     /* 15 */
			   "fail_backoff_max = 1m\n"			     /* 16 */
			   "[ussd-link node1]\n"			     /* 17 */
			   "mode = accept\n"				     /* 18 */
			   "system_id = ussdnode\n"			     /* 19 */
			   "password = " PW_HASH "\n"			     /* 20 */
			   "session_ref = user_message_reference\n"	     /* 21 */
			   "release_op = 32\n"				     /* 22 */
			   "binds = 2\n"				     /* 23 */
			   "window = 50\n"				     /* 24 */
			   "queue = 200\n"				     /* 25 */
			   "[ussd-link out]\n"				     /* 26 */
			   "mode = bind\n"				     /* 27 */
			   "system_id = gw\n"				     /* 28 */
			   "password = s3cret\n"			     /* 29 */
			   "address = 10.0.0.9:2775\n"			     /* 30 */
			   "release_op = 0\n"				     /* 31 */
			   "[ussd-service *123#]  # a comment\n"	     /* 32 */
			   "menu = tiny\n"				     /* 33 */
			   "charge = step\n"				     /* 34 */
			   "price = 0.05 USD\n"				     /* 35 */
			   "account = acme\n"				     /* 36 */
			   "[ussd-service *456*1#]\n"			     /* 37 */
			   "url = http://127.0.0.1:8090/ussd\n"		     /* 38 */
			   "timeout = 2s\n"				     /* 39 */
			   "retries = 3\n"				     /* 40 */
			   "retry_delay = 50ms\n"			     /* 41 */
			   "in_flight = 20\n"				     /* 42 */
			   "[ussd-menu tiny]\n"				     /* 43 */
			   "invalid = Try again \\# or 0. # a comment\n"     /* 44 */
			   "screen top = Hi\\n1. Info\n"		     /* 45 */
			   "option top 1 = info\n"			     /* 46 */
			   "option top 0 = top\n"			     /* 47 */
			   "end info = Info {input} \\\\o/\n"		     /* 48 */
			   "[account acme]\n"				     /* 49 */
			   "balance = 10.00 USD\n";			     /* 50 */

static void check_ussd_keys(const struct ussd_cfg *u)
{
	assert_true(u->on);
	assert_int_equal(u->line, 1);
	assert_string_equal(u->listen, "127.0.0.1:2776");
	assert_int_equal(u->session_timeout_ns, 120 * SY_NS_PER_S);
	assert_int_equal(u->app_timeout_ns, 4 * SY_NS_PER_S);
	assert_int_equal(u->sessions_max, 5000);
	assert_string_equal(u->timeout_text, "Timed out.\nDial *123# again.");
	assert_string_equal(u->error_text, "Down.");
	assert_string_equal(u->busy_text, "Busy.");
	assert_string_equal(u->unknown_text, "No such code.");
	assert_false(u->records);
	assert_int_equal(u->guard.bind_timeout_ns, 3 * SY_NS_PER_S);
	assert_int_equal(u->guard.conns_per_source, 8);
	assert_int_equal(u->guard.bind_fails_max, 5);
	assert_int_equal(u->guard.fail_backoff_ns, 2 * SY_NS_PER_S);
	assert_int_equal(u->guard.fail_backoff_max_ns, 60 * SY_NS_PER_S);
}

static void check_links(const struct ussd_cfg *u)
{
	assert_int_equal(u->link_n, 2);
	const struct ussd_link_cfg *a = &u->links[0], *b = &u->links[1];
	assert_string_equal(a->name, "node1");
	assert_int_equal(a->line, 17);
	assert_int_equal(a->mode, USSD_LINK_ACCEPT);
	assert_string_equal(a->system_id, "ussdnode");
	assert_string_equal(a->password, PW_HASH);
	assert_int_equal(a->ref, USSD_REF_USER_MESSAGE_REFERENCE);
	assert_int_equal(a->release_op, 32);
	assert_int_equal(a->binds, 2);
	assert_int_equal(a->window, 50);
	assert_int_equal(a->queue_max, 200);
	assert_string_equal(b->name, "out");
	assert_int_equal(b->mode, USSD_LINK_BIND);
	assert_string_equal(b->system_id, "gw");
	assert_string_equal(b->password, "s3cret");
	assert_string_equal(b->address, "10.0.0.9:2775");
	assert_int_equal(b->ref, USSD_REF_ITS_SESSION_INFO);
	assert_int_equal(b->release_op, 0);
	assert_int_equal(b->binds, 1); /* bind mode's default */
	assert_int_equal(b->window, 1000);
	assert_int_equal(b->queue_max, 100000);
}

static void check_services(const struct ussd_cfg *u)
{
	assert_int_equal(u->service_n, 2);
	const struct ussd_service_cfg *m = &u->services[0], *h = &u->services[1];
	assert_string_equal(m->code, "*123#");
	assert_int_equal(m->line, 32);
	assert_int_equal(m->kind, USSD_APP_MENU);
	assert_int_equal(m->menu, 0);
	assert_string_equal(m->menu_name, "tiny");
	assert_int_equal(m->app_line, 33);
	assert_int_equal(m->timeout_ns, 4 * SY_NS_PER_S); /* [ussd] app_timeout */
	assert_int_equal(m->charge, USSD_CHARGE_STEP);
	assert_int_equal(m->price_micros, 50000);
	assert_string_equal(m->account, "acme");
	assert_string_equal(h->code, "*456*1#");
	assert_int_equal(h->kind, USSD_APP_HTTP);
	assert_string_equal(h->url, "http://127.0.0.1:8090/ussd");
	assert_int_equal(h->timeout_ns, 2 * SY_NS_PER_S);
	assert_int_equal(h->retries, 3);
	assert_int_equal(h->retry_delay_ns, 50 * SY_NS_PER_MS);
	assert_int_equal(h->in_flight_max, 20);
	assert_int_equal(h->charge, USSD_CHARGE_NONE);
	assert_int_equal(h->price_micros, 0);
	assert_string_equal(h->account, "");
}

static void check_menu(const struct ussd_cfg *u)
{
	assert_int_equal(u->menu_n, 1);
	const struct ussd_menu_cfg *m = &u->menus[0];
	assert_string_equal(m->name, "tiny");
	assert_int_equal(m->line, 43);
	assert_string_equal(m->invalid_text, "Try again # or 0.");
	assert_int_equal(m->start, 0);
	assert_int_equal(m->node_n, 2);
	const struct ussd_menu_node *top = &m->nodes[0], *info = &m->nodes[1];
	assert_string_equal(top->name, "top");
	assert_int_equal(top->kind, USSD_NODE_SCREEN);
	assert_int_equal(top->line, 45);
	assert_string_equal(top->text, "Hi\n1. Info");
	assert_int_equal(top->opt_n, 2);
	assert_string_equal(top->opt_key[0], "1");
	assert_int_equal(top->opt_next[0], 1);
	assert_string_equal(top->opt_key[1], "0");
	assert_int_equal(top->opt_next[1], 0);
	assert_int_equal(top->any_next, -1);
	assert_string_equal(info->name, "info");
	assert_int_equal(info->kind, USSD_NODE_END);
	assert_int_equal(info->line, 48);
	assert_string_equal(info->text, "Info {input} \\o/");
}

static void test_full(void **state)
{
	struct scn *s = parse_ok(full);
	check_ussd_keys(&s->ussd);
	check_links(&s->ussd);
	check_services(&s->ussd);
	check_menu(&s->ussd);
	/* node.c hands the same struct to the node */
	struct node_cfg *n = calloc(1, sizeof(*n));
	assert_non_null(n);
	conf_node_build(s, n);
	assert_memory_equal(&n->ussd, &s->ussd, sizeof(s->ussd));
	free(n);
	scn_free(s);
}

static void test_defaults(void **state)
{
	struct scn *s = parse_ok("[run]\nduration = 1s\n");
	struct ussd_cfg d;
	ussd_cfg_defaults(&d);
	assert_false(s->ussd.on);
	assert_memory_equal(&s->ussd, &d, sizeof(d));
	scn_free(s);
	s = parse_ok("[ussd]\nenabled = no\n");
	assert_false(s->ussd.on);
	scn_free(s);
	s = parse_ok("[ussd]\n");
	assert_true(s->ussd.on);
	assert_int_equal(s->ussd.session_timeout_ns, 180 * SY_NS_PER_S);
	assert_int_equal(s->ussd.app_timeout_ns, 5 * SY_NS_PER_S);
	assert_int_equal(s->ussd.sessions_max, 1u << 20);
	assert_string_equal(s->ussd.timeout_text, "Session timed out.");
	assert_true(s->ussd.records);
	assert_string_equal(s->ussd.listen, "");
	scn_free(s);
	/* A '#' code in a header, a '#' in a text, a comment after a header. */
	s = parse_ok("[ussd]\n[ussd-service #100#]# hash code\nmenu = m\n[ussd-menu m]\n"
		     "end e = Dial *100# or \\#100#. # comment\n");
	assert_string_equal(s->ussd.services[0].code, "#100#");
	assert_int_equal(s->ussd.services[0].retries, 1);
	assert_int_equal(s->ussd.services[0].retry_delay_ns, 200 * SY_NS_PER_MS);
	assert_int_equal(s->ussd.services[0].in_flight_max, 1000);
	assert_int_equal(s->ussd.menus[0].start, 0);
	assert_string_equal(s->ussd.menus[0].nodes[0].text, "Dial *100# or #100#.");
	assert_string_equal(s->ussd.menus[0].invalid_text, "Invalid choice.");
	scn_free(s);
	/* Links and menus without [ussd]: a scenario's simulated node and
	 * applications against another gateway. The gateway stays off. */
	s = parse_ok("[ussd-link gw]\npassword = x\n[ussd-menu m]\nend e = Hello.\n");
	assert_false(s->ussd.on);
	assert_int_equal(s->ussd.link_n, 1);
	assert_int_equal(s->ussd.menu_n, 1);
	scn_free(s);
}

/* The example the others copy: parses, and its menu walks as designed. */
static void test_example(void **state)
{
	struct scn *s = NULL;
	char err[SCN_ERR_MAX] = "";
	if (scn_parse_file("tests/data/ussd-example.conf", &s, err, sizeof(err)) != SY_OK)
		fail_msg("%s", err);
	const struct ussd_cfg *u = &s->ussd;
	assert_true(u->on);
	assert_int_equal(u->link_n, 1);
	assert_int_equal(u->service_n, 2);
	assert_int_equal(u->services[0].kind, USSD_APP_MENU);
	assert_int_equal(u->services[1].kind, USSD_APP_HTTP);
	assert_int_equal(u->links[0].release_op, 32);
	assert_string_equal(u->timeout_text, "Session timed out. Dial *123# to start again.");
	const struct ussd_menu_cfg *m = &u->menus[u->services[0].menu];
	struct ussd_menu_out o;
	ussd_menu_walk(m, SY_STR(""), &o);
	assert_string_equal(o.text, "Welcome to MyBank\n1. Balance\n2. Send money\n3. Buy airtime");
	ussd_menu_walk(m, SY_STR("1"), &o);
	assert_true(o.end);
	assert_string_equal(o.text, "Your balance is 1,250.00 KES.");
	ussd_menu_walk(m, SY_STR("2*0712345678"), &o);
	assert_string_equal(o.text, "Send to 0712345678. Enter the amount in KES:");
	ussd_menu_walk(m, SY_STR("2*0712345678*500"), &o);
	assert_string_equal(o.text, "Send 500 KES?\n1. Confirm\n2. Cancel");
	ussd_menu_walk(m, SY_STR("2*0712345678*500*1"), &o);
	assert_true(o.end);
	assert_string_equal(o.text, "Done. You will receive an SMS confirmation.");
	ussd_menu_walk(m, SY_STR("2*0712345678*500*2"), &o);
	assert_string_equal(o.text, "Cancelled. Nothing was sent.");
	ussd_menu_walk(m, SY_STR("3*0*3*2"), &o);
	assert_true(o.end);
	assert_string_equal(o.text, "Airtime request received. You will get an SMS.");
	ussd_menu_walk(m, SY_STR("4"), &o);
	assert_true(o.invalid);
	scn_free(s);
}

/* A file with [ussd] and a listen address, then the case's text: the
 * case's line numbers count from 3. */
#define U	 "[ussd]\nlisten = 127.0.0.1:2776\n"
#define X40	 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
#define X200	 X40 X40 X40 X40 X40
#define TOO_LONG "bad text for 'timeout_text': text is not UTF-8 or is longer than 182 characters (one USSD string)"
static const struct {
	const char *text, *err;
} bad_cases[] = {
    /* [ussd] */
    {"[ussd]\nlisten = nowhere\n", "f.conf:2: bad address (IP:PORT, e.g. 127.0.0.1:2776) 'nowhere' for 'listen'"},
    {"[ussd]\nlisten = 127.0.0.1\n", "f.conf:2: bad address (IP:PORT, e.g. 127.0.0.1:2776) '127.0.0.1'"},
    {"[ussd]\nsession_timeout = 0s\n", "f.conf:2: bad duration '0s' for 'session_timeout' (1ms to 86400s)"},
    {"[ussd]\napp_timeout = soon\n", "f.conf:2: bad duration 'soon' for 'app_timeout' (1ms to 3600s)"},
    {"[ussd]\nsessions = 0\n", "f.conf:2: bad value '0' for 'sessions' (1 to 16777216)"},
    {"[ussd]\ntimeout_text = a\\qb\n",
     "f.conf:2: bad text for 'timeout_text': unknown escape (\\n, \\\\ and \\# are known)"},
    {"[ussd]\ntimeout_text = ends with \\\n", "f.conf:2: bad text for 'timeout_text': unknown escape"},
    {"[ussd]\ntimeout_text = " X200 "\n", "f.conf:2: bad text for 'timeout_text': text too long"},
    {"[ussd]\ntimeout_text = " X40 X40 X40 X40 "xxxxxxxxxxxxxxxxxxxxxxx\n", "f.conf:2: " TOO_LONG},
    {"[ussd]\ntimeout_text = \xc3(\n", "f.conf:2: " TOO_LONG},
    {"[ussd]\nrecords = maybe\n", "f.conf:2: bad value 'maybe' for 'records' (on or off)"},
    {"[ussd]\nconns_per_source = 70000\n", "f.conf:2: bad value '70000' for 'conns_per_source' (1 to 65536)"},
    {"[ussd]\nbind_fails_max = 0\n", "f.conf:2: bad value '0' for 'bind_fails_max' (1 to 1000)"},
    {"[ussd]\napp_timeout = 200s\n", "f.conf:1: [ussd] app_timeout must be shorter than session_timeout"},
    {"[ussd]\nfail_backoff = 10s\nfail_backoff_max = 5s\n",
     "f.conf:1: [ussd] fail_backoff_max must be at least fail_backoff"},
    {"[ussd]\n[ussd]\n", "f.conf:2: duplicate section [ussd]"},
    {"[ussd]\nlisten = 127.0.0.1:2775\n", "f.conf:1: [ussd] listen 127.0.0.1:2775 is also [node] smpp"},
    {"[node]\nhttp = 0.0.0.0:9000\n[ussd]\nlisten = 0.0.0.0:9000\n",
     "f.conf:3: [ussd] listen 0.0.0.0:9000 is also [node] http"},
    {"[ussd]\nport = 1\n", "f.conf:2: unknown key 'port' in [ussd]"},
    /* [ussd-link NAME] */
    {U "[ussd-link a]\nmode = both\n", "f.conf:4: bad mode (accept or bind) 'both' for 'mode'"},
    {U "[ussd-link a]\nmode = accept\n", "f.conf:3: [ussd-link a] needs 'password'"},
    {U "[ussd-link a]\nmode = bind\naddress = 10.0.0.1:2775\npassword = " PW_HASH "\n",
     "f.conf:3: [ussd-link a] mode = bind sends its password: it must be clear text"},
    {U "[ussd-link a]\npassword = $pbkdf2-sha256$1$00$00\n", "f.conf:3: [ussd-link a] password: pbkdf2-sha256: "},
    {U "[ussd-link a]\npassword = 123456789\n", "f.conf:3: [ussd-link a] password is longer than SMPP's 8 characters"},
    {U "[ussd-link a]\nmode = bind\npassword = x\n",
     "f.conf:3: [ussd-link a] mode = bind needs 'address' (the node's IP:PORT)"},
    {U "[ussd-link a]\npassword = x\naddress = 10.0.0.1:2775\n",
     "f.conf:3: [ussd-link a] 'address' is for mode = bind (accept links bind to [ussd] listen)"},
    {U "[ussd-link a]\nsession_ref = tcap\n",
     "f.conf:4: bad session_ref (its_session_info or user_message_reference) 'tcap' for 'session_ref'"},
    {U "[ussd-link a]\nrelease_op = 20\n", "f.conf:4: bad release_op (0, or a vendor value 32 to 255) '20'"},
    {U "[ussd-link a]\nrelease_op = 256\n", "f.conf:4: bad release_op (0, or a vendor value 32 to 255) '256'"},
    {U "[ussd-link a]\nbinds = 65\n", "f.conf:4: bad value '65' for 'binds' (1 to 64)"},
    {U "[ussd-link a]\nwindow = 0\n", "f.conf:4: bad value '0' for 'window' (1 to 100000)"},
    {U "[ussd-link a]\nqueue = 10000001\n", "f.conf:4: bad value '10000001' for 'queue' (1 to 10000000)"},
    {U "[ussd-link a]\nsystem_id = abcdefghijklmnop\n", "f.conf:4: value too long for 'system_id' (max 15)"},
    {U "[ussd-link a]\npassword = x\n[ussd-link a]\n", "f.conf:5: duplicate section [ussd-link a]"},
    {U "[ussd-link a/b]\n", "f.conf:3: bad link name 'a/b' (letters, digits, - _ ., at most 31)"},
    {"[ussd]\n[ussd-link a]\npassword = x\n", "f.conf:2: [ussd-link a] mode = accept needs [ussd] listen"},
    {U "[ussd-link a]\npassword = x\nsystem_id = n\n[ussd-link b]\npassword = y\nsystem_id = n\n",
     "f.conf:6: [ussd-link b] has the system_id of [ussd-link a]"},
    {"[ussd-service *1#]\nurl = http://1.2.3.4/\n",
     "f.conf:1: [ussd-service *1#] needs a [ussd] section (the gateway)"},
    /* [ussd-service CODE] */
    {U "[ussd-service 123]\n", "f.conf:3: bad service code '123' (like *123# or *123*4#)"},
    {U "[ussd-service *12**3#]\n", "f.conf:3: bad service code '*12**3#'"},
    {U "[ussd-service *#]\n", "f.conf:3: bad service code '*#'"},
    {U "[ussd-service *123*#]\n", "f.conf:3: bad service code '*123*#'"},
    {U "[ussd-service *1#]\nurl = http://1.2.3.4/\n[ussd-service *1#]\n",
     "f.conf:5: duplicate section [ussd-service *1#]"},
    {U "[ussd-service *1#]\ntimeout = 1s\n", "f.conf:3: [ussd-service *1#] needs 'menu' or 'url'"},
    {U "[ussd-service *1#]\nmenu = m\nurl = http://1.2.3.4/\n",
     "f.conf:5: [ussd-service *1#] takes one of 'menu' and 'url', not both"},
    {U "[ussd-service *1#]\nurl = https://1.2.3.4/\n",
     "f.conf:4: 'url': https is not supported; use http:// to the application"},
    {U "[ussd-service *1#]\nurl = http://app.example/\n",
     "f.conf:4: bad URL (http://IP:PORT/PATH) 'http://app.example/' for 'url'"},
    {U "[ussd-service *1#]\nurl = http://1.2.3.4:99999/\n", "f.conf:4: bad URL"},
    {U "[ussd-service *1#]\nurl = http:///x\n", "f.conf:4: bad URL"},
    {U "[ussd-service *1#]\nmenu = a/b\n", "f.conf:4: bad menu name 'a/b' for 'menu'"},
    {U "[ussd-service *1#]\n\nmenu = nope\n", "f.conf:5: [ussd-service *1#] names unknown menu 'nope'"},
    {U "[ussd-service *1#]\ncharge = always\n", "f.conf:4: bad charge (none, session or step) 'always'"},
    {U "[ussd-service *1#]\nprice = 1.2.3\n", "f.conf:4: bad price (an amount like 0.05 or 0.05 USD) '1.2.3'"},
    {U "[ussd-service *1#]\nprice = 0.05 EURO\n", "f.conf:4: bad price"},
    {U "[ussd-service *1#]\nprice = 0.05 USD extra\n", "f.conf:4: bad price"},
    {U "[ussd-service *1#]\nurl = http://1.2.3.4/\nprice = 0.05\n",
     "f.conf:3: [ussd-service *1#] has a price but charge = none"},
    {U "[ussd-service *1#]\nurl = http://1.2.3.4/\ncharge = session\nprice = 0.05\n",
     "f.conf:3: [ussd-service *1#] charge = session but no [account] to charge"},
    {U "[account a]\ncallers = 2547\n[ussd-service *1#]\nurl = http://1.2.3.4/\ncharge = step\n",
     "f.conf:5: [ussd-service *1#] charge = step needs a price, or a [tariff] with a ussd row for the code"},
    {U "[ussd-service *1#]\nurl = http://1.2.3.4/\naccount = a\n",
     "f.conf:3: [ussd-service *1#] names an account but charges nothing"},
    {U "[ussd-service *1#]\nurl = http://1.2.3.4/\ncharge = step\nprice = 1\naccount = ghost\n",
     "f.conf:3: [ussd-service *1#] names unknown account 'ghost'"},
    {U "session_timeout = 10s\n[ussd-service *1#]\nurl = http://1.2.3.4/\ntimeout = 10s\n",
     "f.conf:4: [ussd-service *1#] timeout must be shorter than [ussd] session_timeout"},
    {U "[ussd-service *1#]\nretries = 11\n", "f.conf:4: bad value '11' for 'retries' (0 to 10)"},
    {U "[ussd-service *1#]\nin_flight = 0\n", "f.conf:4: bad value '0' for 'in_flight' (1 to 1000000)"},
    {U "[ussd-service *1#]\nretry_delay = 2m\n", "f.conf:4: bad duration '2m' for 'retry_delay' (1ms to 60s)"},
    /* [ussd-menu NAME] */
    {U "[ussd-menu m]\nfoo\n", "f.conf:4: expected 'key = value', got 'foo'"},
    {U "[ussd-menu m]\nscreen a =\n", "f.conf:4: empty value for 'screen a'"},
    {U "[ussd-menu m]\ncolour = red\n",
     "f.conf:4: bad line 'colour' in [ussd-menu m] (start = S, screen S = TEXT, end S = TEXT, option S KEY = S2, "
     "input S = S2, invalid = TEXT)"},
    {U "[ussd-menu m]\nscreen a b = x\n", "f.conf:4: bad line 'screen a b' in [ussd-menu m]"},
    {U "[ussd-menu m]\noption a = b\n", "f.conf:4: bad line 'option a' in [ussd-menu m]"},
    {U "[ussd-menu m]\nscreen a = x\nscreen a = y\n",
     "f.conf:5: 'a' is declared twice in [ussd-menu m] (first at line 4)"},
    {U "[ussd-menu m]\nend e = bye\noption e 1 = e\n",
     "f.conf:5: end 'e' cannot have options or input (it ends the dialogue)"},
    {U "[ussd-menu m]\ninput e = e\nend e = bye\n", "f.conf:5: end 'e' cannot have options or input"},
    {U "[ussd-menu m]\nscreen a = x\noption a 1 = e\noption a 1 = e\n", "f.conf:6: option '1' of 'a' is given twice"},
    {U "[ussd-menu m]\noption a 1*2 = e\n", "f.conf:4: bad option '1*2' (at most 7 characters, no '*')"},
    {U "[ussd-menu m]\noption a 12345678 = e\n", "f.conf:4: bad option '12345678'"},
    {U "[ussd-menu m]\nscreen a/b = x\n", "f.conf:4: bad screen name 'a/b' (letters, digits, - _ ., at most 31)"},
    {U "[ussd-menu m]\nstart = a\nstart = b\n", "f.conf:5: [ussd-menu m] has two 'start' lines"},
    {U "[ussd-menu m]\ninput a = b\ninput a = c\n", "f.conf:5: 'a' has two 'input' lines"},
    {U "[ussd-menu m]\nscreen a = x\n\noption a 1 = ghost\n",
     "f.conf:6: menu 'm': 'ghost' is used but never declared (screen or end)"},
    {U "[ussd-menu m]\nscreen a = x\noption a 1 = e\nend e = bye\nend lost = never shown\n",
     "f.conf:7: menu 'm': 'lost' cannot be reached from the start"},
    {U "[ussd-menu m]\nscreen a = x\ninput a = b\nscreen b = y\ninput b = a\n",
     "f.conf:4: menu 'm': screen 'a' never leads to an end"},
    {U "[ussd-menu m]\ninvalid = x\n", "f.conf:3: [ussd-menu m] has no screen or end"},
    {U "[ussd-menu m]\nstart = e\nscreen a = x\n", "f.conf:4: menu 'm': 'e' is used but never declared"},
    {U "[ussd-menu m]\nend e = " X200 "\n", "f.conf:4: bad text for 'e': text too long"},
    {U "[ussd-menu m]\ninvalid = \\x\n", "f.conf:4: bad text for 'invalid': unknown escape"},
    {U "[ussd-menu m]\nend e = x\n[ussd-menu m]\n", "f.conf:5: duplicate section [ussd-menu m]"},
    {U "[ussd-menu m!]\n", "f.conf:3: bad menu name 'm!'"},
    {U "[ussd-menu m]\nscreen a = x\noption a 0 = e\noption a 1 = e\noption a 2 = e\noption a 3 = e\n"
       "option a 4 = e\noption a 5 = e\noption a 6 = e\noption a 7 = e\noption a 8 = e\noption a 9 = e\n"
       "option a 10 = e\n",
     "f.conf:15: too many options for 'a' (max 10)"},
};

static void test_bad(void **state)
{
	for (size_t i = 0; i < SY_ARRAY_LEN(bad_cases); i++) {
		struct scn *s = NULL;
		char err[SCN_ERR_MAX] = "";
		if (scn_parse_string(bad_cases[i].text, "f.conf", &s, err, sizeof(err)) != SY_ERR_PARSE)
			fail_msg("case %zu parsed: %s", i, bad_cases[i].text);
		if (strncmp(err, bad_cases[i].err, strlen(bad_cases[i].err)) != 0)
			fail_msg("case %zu: got '%s', want '%s...'", i, err, bad_cases[i].err);
		assert_null(s);
	}
}

/* More sections than the gateway takes fail at the one too many. */
static void test_limits(void **state)
{
	char *text = malloc(64 * 1024), *p = text;
	assert_non_null(text);
	p += sprintf(p, "[ussd]\n");
	for (int i = 0; i <= USSD_MENUS_MAX; i++)
		p += sprintf(p, "[ussd-menu m%d]\nend e = x\n", i);
	struct scn *s = NULL;
	char err[SCN_ERR_MAX] = "";
	assert_int_equal(scn_parse_string(text, "f.conf", &s, err, sizeof(err)), SY_ERR_PARSE);
	assert_string_equal(err, "f.conf:18: too many [ussd-menu] sections (max 8)");
	p = text + sprintf(text, "[ussd]\n[ussd-menu m]\n");
	for (int i = 0; i < USSD_MENU_NODES_MAX; i++) /* s63 names s64: one too many */
		p += sprintf(p, "screen s%d = x\noption s%d 1 = s%d\n", i, i, i + 1);
	assert_int_equal(scn_parse_string(text, "f.conf", &s, err, sizeof(err)), SY_ERR_PARSE);
	assert_string_equal(err, "f.conf:130: too many screens in [ussd-menu m] (max 64)");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full), cmocka_unit_test(test_defaults), cmocka_unit_test(test_example),
	    cmocka_unit_test(test_bad),	 cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
