/* test_ussd_menu.c: the declared-menu engine (core/ussd/menu.c) on menus
 * built by hand, not by the parser: begin, input (options matched exactly
 * after trimming, free text, invalid input = invalid_text + the screen),
 * walk over whole paths (inputs past an END ignored, "{input}"), texts cut
 * at a UTF-8 boundary, and each error of ussd_menu_check with the node it
 * names. Every expected text is written out by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "core/ussd/menu.h"

static uint16_t add(struct ussd_menu_cfg *m, const char *name, enum ussd_node_kind kind, const char *text)
{
	struct ussd_menu_node *n = &m->nodes[m->node_n];
	memset(n, 0, sizeof(*n));
	snprintf(n->name, sizeof(n->name), "%s", name);
	n->kind = (uint8_t)kind;
	n->any_next = -1;
	snprintf(n->text, sizeof(n->text), "%s", text);
	return m->node_n++;
}

static void opt(struct ussd_menu_cfg *m, uint16_t from, const char *key, uint16_t to)
{
	struct ussd_menu_node *n = &m->nodes[from];
	snprintf(n->opt_key[n->opt_n], USSD_MENU_KEY_MAX, "%s", key);
	n->opt_next[n->opt_n++] = to;
}

/* main: 1 balance (end), 2 amount (free text) -> confirm {input} (1 done,
 * 2 main), 00 help (end), 0 is not 00. */
static void bank(struct ussd_menu_cfg *m)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "bank");
	snprintf(m->invalid_text, sizeof(m->invalid_text), "Invalid choice.");
	uint16_t main_ = add(m, "main", USSD_NODE_SCREEN, "1. Balance\n2. Send");
	uint16_t bal = add(m, "balance", USSD_NODE_END, "Balance: 100 KES");
	uint16_t amount = add(m, "amount", USSD_NODE_SCREEN, "Amount?");
	uint16_t confirm = add(m, "confirm", USSD_NODE_SCREEN, "Send {input} KES? ({input})\n1. Yes\n2. No");
	uint16_t done = add(m, "done", USSD_NODE_END, "Sent {input}.");
	uint16_t help = add(m, "help", USSD_NODE_END, "Call 100.");
	opt(m, main_, "1", bal);
	opt(m, main_, "2", amount);
	opt(m, main_, "00", help);
	m->nodes[amount].any_next = (int16_t)confirm;
	opt(m, confirm, "1", done);
	opt(m, confirm, "2", main_);
	m->start = main_;
}

static void expect(const struct ussd_menu_out *o, bool end, bool invalid, const char *text)
{
	assert_int_equal(o->end, end);
	assert_int_equal(o->invalid, invalid);
	assert_string_equal(o->text, text);
	assert_int_equal(o->len, strlen(text));
}

static void test_begin_and_input(void **state)
{
	static struct ussd_menu_cfg m;
	struct ussd_menu_out o;
	uint16_t node = 99;
	bank(&m);
	ussd_menu_begin(&m, &node, &o);
	assert_int_equal(node, 0);
	expect(&o, false, false, "1. Balance\n2. Send");
	/* "0" is not a prefix match of "00", nor "1 " a different key. */
	ussd_menu_input(&m, &node, SY_STR("0"), &o);
	assert_int_equal(node, 0);
	expect(&o, false, true, "Invalid choice.\n1. Balance\n2. Send");
	ussd_menu_input(&m, &node, SY_STR(""), &o);
	expect(&o, false, true, "Invalid choice.\n1. Balance\n2. Send");
	ussd_menu_input(&m, &node, SY_STR(" 2 \r"), &o);
	assert_int_equal(node, 2);
	expect(&o, false, false, "Amount?");
	/* Free text: any non-empty input, trimmed; an empty one is invalid. */
	ussd_menu_input(&m, &node, SY_STR("  "), &o);
	assert_int_equal(node, 2);
	expect(&o, false, true, "Invalid choice.\nAmount?");
	ussd_menu_input(&m, &node, SY_STR(" 500"), &o);
	assert_int_equal(node, 3);
	expect(&o, false, false, "Send 500 KES? (500)\n1. Yes\n2. No");
	/* Re-shown after an invalid input: the input that led here is gone. */
	ussd_menu_input(&m, &node, SY_STR("3"), &o);
	expect(&o, false, true, "Invalid choice.\nSend  KES? ()\n1. Yes\n2. No");
	ussd_menu_input(&m, &node, SY_STR("2"), &o);
	assert_int_equal(node, 0);
	ussd_menu_input(&m, &node, SY_STR("00"), &o);
	assert_int_equal(node, 5);
	expect(&o, true, false, "Call 100.");
}

static void test_walk(void **state)
{
	static struct ussd_menu_cfg m;
	struct ussd_menu_out o;
	bank(&m);
	static const struct {
		const char *path, *text;
		bool end, invalid;
	} cases[] = {
	    {"", "1. Balance\n2. Send", false, false},
	    {"1", "Balance: 100 KES", true, false},
	    {"1*2*3", "Balance: 100 KES", true, false}, /* past an END: ignored */
	    {"2", "Amount?", false, false},
	    {"2*500", "Send 500 KES? (500)\n1. Yes\n2. No", false, false},
	    {"2*500*1", "Sent 1.", true, false},
	    {"2*500*1*1*1", "Sent 1.", true, false},
	    /* the walk remembers what led to the screen it re-shows */
	    {"2*500*7", "Invalid choice.\nSend 500 KES? (500)\n1. Yes\n2. No", false, true},
	    {"2*500*7*1", "Sent 1.", true, false}, /* an invalid input in the middle stays */
	    {"9*1", "Balance: 100 KES", true, false},
	    {"2**", "Invalid choice.\nAmount?", false, true},
	    {"2*500*2*00", "Call 100.", true, false}, /* back to the start, then on */
	    {" 2 * 12 ", "Send 12 KES? (12)\n1. Yes\n2. No", false, false},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(cases); i++) {
		ussd_menu_walk(&m, sy_str_from(cases[i].path), &o);
		if (strcmp(o.text, cases[i].text) != 0 || o.end != cases[i].end || o.invalid != cases[i].invalid)
			fail_msg("path '%s': got end=%d invalid=%d '%s'", cases[i].path, o.end, o.invalid, o.text);
		assert_int_equal(o.len, strlen(o.text));
	}
}

/* A long free-text input fills the output and is cut before a character
 * that does not fit, never inside one. */
static void test_input_cut_at_utf8(void **state)
{
	static struct ussd_menu_cfg m;
	struct ussd_menu_out o;
	bank(&m);
	char path[700] = "2*x";
	for (size_t i = 3; i + 2 < 600; i += 2)
		memcpy(path + i, "\xc3\xa9", 2); /* U+00E9, two bytes */
	ussd_menu_walk(&m, sy_str_from(path), &o);
	assert_int_equal(o.len, strlen(o.text));
	/* "Send x" is 6 bytes, then whole 2-byte characters only (376 bytes of
	 * the 377 left), then the first byte of " KES?" fills the last one. */
	assert_true(strncmp(o.text, "Send x\xc3\xa9", 8) == 0);
	assert_int_equal(o.len, sizeof(o.text) - 1);
	assert_int_equal((unsigned char)o.text[o.len - 2], 0xa9);
	assert_int_equal(o.text[o.len - 1], ' ');
}

static void check_fails(const struct ussd_menu_cfg *m, int32_t at, const char *want)
{
	char err[256] = "";
	int32_t got = 99;
	assert_int_equal(ussd_menu_check_at(m, &got, err, sizeof(err)), SY_ERR_INVAL);
	if (strcmp(err, want) != 0 || got != at)
		fail_msg("got at=%d '%s', want at=%d '%s'", got, err, at, want);
	assert_int_equal(ussd_menu_check(m, NULL, 0), SY_ERR_INVAL);
}

static void test_check(void **state)
{
	static struct ussd_menu_cfg m;
	char err[256] = "x";
	bank(&m);
	assert_int_equal(ussd_menu_check(&m, err, sizeof(err)), SY_OK);
	m.nodes[4].kind = 0;
	check_fails(&m, 4, "menu 'bank': 'done' is used but never declared (screen or end)");
	bank(&m);
	opt(&m, 1, "1", 0);
	check_fails(&m, 1, "menu 'bank': end 'balance' cannot have options or input");
	bank(&m);
	m.nodes[3].opt_next[1] = 6;
	check_fails(&m, 3, "menu 'bank': screen 'confirm' has a bad option");
	bank(&m);
	m.nodes[2].any_next = 6;
	check_fails(&m, 2, "menu 'bank': screen 'amount' leads out of the menu");
	bank(&m);
	m.nodes[0].opt_n = 2; /* help is no longer reachable */
	check_fails(&m, 5, "menu 'bank': 'help' cannot be reached from the start");
	bank(&m);
	m.nodes[3].opt_next[0] = 2; /* confirm 1 and 2 -> amount: a loop with no way out */
	m.nodes[3].opt_next[1] = 2;
	opt(&m, 0, "4", 4); /* done stays reachable */
	check_fails(&m, 2, "menu 'bank': screen 'amount' never leads to an end");
	bank(&m);
	memset(m.nodes[1].text, 'x', USSD_MENU_CHARS_MAX + 1);
	m.nodes[1].text[USSD_MENU_CHARS_MAX + 1] = '\0';
	check_fails(&m, 1, "menu 'bank': end 'balance' text is empty, not UTF-8 or over 182 characters");
	m.nodes[1].text[USSD_MENU_CHARS_MAX] = '\0'; /* 182: fits */
	assert_int_equal(ussd_menu_check(&m, err, sizeof(err)), SY_OK);
	snprintf(m.nodes[1].text, sizeof(m.nodes[1].text), "bad \xc3(");
	check_fails(&m, 1, "menu 'bank': end 'balance' text is empty, not UTF-8 or over 182 characters");
	bank(&m);
	m.nodes[2].text[0] = '\0';
	check_fails(&m, 2, "menu 'bank': screen 'amount' text is empty, not UTF-8 or over 182 characters");
	bank(&m);
	m.start = 6;
	check_fails(&m, -1, "menu 'bank': start is not one of its screens");
	bank(&m);
	m.node_n = 0;
	check_fails(&m, -1, "menu 'bank' has no screens");
	bank(&m);
	snprintf(m.invalid_text, sizeof(m.invalid_text), "\xff");
	check_fails(&m, -1, "menu 'bank': invalid text is not UTF-8 or too long");
}

/* A menu that is one END: a service that only tells something. */
static void test_single_end(void **state)
{
	static struct ussd_menu_cfg m;
	struct ussd_menu_out o;
	uint16_t node;
	memset(&m, 0, sizeof(m));
	add(&m, "info", USSD_NODE_END, "Your number is registered.");
	assert_int_equal(ussd_menu_check(&m, NULL, 0), SY_OK);
	ussd_menu_begin(&m, &node, &o);
	expect(&o, true, false, "Your number is registered.");
	ussd_menu_walk(&m, SY_STR("1*2"), &o);
	expect(&o, true, false, "Your number is registered.");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_begin_and_input),   cmocka_unit_test(test_walk),
	    cmocka_unit_test(test_input_cut_at_utf8), cmocka_unit_test(test_check),
	    cmocka_unit_test(test_single_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
