/* menu.h: USSD menus declared in the configuration ([ussd-menu NAME]) and
 * served by the gateway itself: a tree (a graph, really: an option may go
 * back to any screen) of screens, each with a text and options, and end
 * texts. Used by the gateway for simple services (one node index per
 * session is all the state), and by the simulated applications, which
 * answer the HTTP convention (the whole input path "1*2*100") statelessly.
 * Pure computation: no env. */
#ifndef SY_USSD_MENU_H
#define SY_USSD_MENU_H

#include "core/base.h"

#define USSD_MENUS_MAX	    8
#define USSD_MENU_NODES_MAX 64	/* screens and end texts per menu */
#define USSD_MENU_OPTS_MAX  10	/* options per screen */
#define USSD_MENU_KEY_MAX   8	/* an option's input ("1", "00"), with the NUL */
#define USSD_MENU_TEXT_MAX  192 /* a screen's UTF-8 text, with the NUL (a USSD string is <= 182 GSM chars) */
#define USSD_MENU_NAME_MAX  32
#define USSD_MENU_CHARS_MAX 182 /* characters in one USSD string (GSM 03.38 7-bit, 160 octets) */

enum ussd_node_kind {
	USSD_NODE_SCREEN = 1, /* shows text and waits for an input (CON) */
	USSD_NODE_END,	      /* shows text and ends the dialogue (END) */
};

struct ussd_menu_node {
	char name[USSD_MENU_NAME_MAX];
	uint32_t line;
	uint8_t kind; /* enum ussd_node_kind */
	uint8_t opt_n;
	/* the input that selects each option, and the node it leads to */
	char opt_key[USSD_MENU_OPTS_MAX][USSD_MENU_KEY_MAX];
	uint16_t opt_next[USSD_MENU_OPTS_MAX];
	/* any input not matching an option leads here (free text: an amount,
	 * a number); -1: none, the input is invalid */
	int16_t any_next;
	/* "{input}" in the text is replaced by the input that led here */
	char text[USSD_MENU_TEXT_MAX];
};

struct ussd_menu_cfg {
	char name[USSD_MENU_NAME_MAX];
	uint32_t line;
	uint16_t start; /* the first screen */
	uint16_t node_n;
	struct ussd_menu_node nodes[USSD_MENU_NODES_MAX];
	/* an invalid input: this text, then the same screen again (default "Invalid choice.") */
	char invalid_text[USSD_MENU_TEXT_MAX];
};

/* What to show: a CON or END text (UTF-8, NUL-terminated). */
struct ussd_menu_out {
	bool end;
	bool invalid; /* the input matched nothing: text is invalid_text + the screen again */
	size_t len;
	char text[USSD_MENU_TEXT_MAX * 2];
};

/* The start screen; *node is set to it. */
void ussd_menu_begin(const struct ussd_menu_cfg *m, uint16_t *node, struct ussd_menu_out *out);
/* One input at *node (a screen): moves *node and renders where it leads.
 * The input is trimmed of blanks and matched exactly against the options,
 * then any non-empty input goes to any_next. An invalid input leaves *node
 * and renders invalid_text, a newline and the screen; "{input}" in that
 * screen shows as nothing (the input that led there is not kept). */
void ussd_menu_input(const struct ussd_menu_cfg *m, uint16_t *node, struct sy_str input, struct ussd_menu_out *out);
/* The whole path from the start ("" = the start screen; "1*2*100": three
 * inputs joined by '*'), as an HTTP application sees it; inputs past an END
 * are ignored, an invalid input in the middle stays on its screen (the
 * output is the last step's). */
void ussd_menu_walk(const struct ussd_menu_cfg *m, struct sy_str path, struct ussd_menu_out *out);
/* Checks a menu built by the parser: start and every opt_next / any_next
 * in range, every screen reachable from start leads to at least one END,
 * texts fit a USSD string. SY_ERR_INVAL with err naming the node. */
enum sy_rc ussd_menu_check(const struct ussd_menu_cfg *m, char *err, size_t errlen);
/* A text fits one USSD string: valid UTF-8, at most USSD_MENU_CHARS_MAX
 * characters. */
bool ussd_menu_text_ok(const char *text);
/* The same, and *at = the index of the node at fault (-1: the menu
 * itself), so the parser can name that node's line. */
enum sy_rc ussd_menu_check_at(const struct ussd_menu_cfg *m, int32_t *at, char *err, size_t errlen);

#endif
