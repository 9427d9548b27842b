/* scn_ussd.c: the USSD gateway's sections of the config file
 * (docs/scenarios.md): [ussd] (the gateway's switches, timeouts, texts and
 * guard), [ussd-link NAME] (an operator's USSD node over SMPP),
 * [ussd-service CODE] (who answers a service code, and its price) and
 * [ussd-menu NAME] (a menu the gateway serves itself). They fill struct
 * scn's ussd_cfg directly, ready for ussd_create; a bad value fails with
 * file:line like every other key.
 *
 * A menu is written one line per screen, end text, option or free-text
 * input, in any order (names may be used before they are declared):
 *   start = main
 *   screen main = Welcome\n1. Balance\n2. Send money
 *   option main 1 = balance
 *   end balance = Your balance is 100.00 KES
 *   input amount = confirm          any input goes to confirm
 *   screen confirm = Send {input} KES?\n1. Yes\n2. No
 * Texts take \n (newline), \\ and \# escapes; a '#' after a blank starts a
 * comment, as everywhere in the file. */
#include "core/conf/scn_int.h"
#include "core/smpp/pdu.h"

#include <stdio.h>

#define FIELD(type, obj, off) ((type *)((char *)(obj) + (off)))

/* ---- values ---- */

/* A text with escapes \n, \\ and \# into dst (cap bytes with the NUL),
 * then checked to fit one USSD string. NULL on success, else why not. */
static const char *text_unescape(char *dst, size_t cap, struct sy_str v)
{
	size_t n = 0;
	for (size_t i = 0; i < v.len; i++) {
		char ch = v.p[i];
		if (ch == '\\') {
			char e = i + 1 < v.len ? v.p[++i] : '\0';
			if (e == 'n')
				ch = '\n';
			else if (e == '\\' || e == '#')
				ch = e;
			else
				return "unknown escape (\\n, \\\\ and \\# are known)";
		}
		if (n + 1 >= cap)
			return "text too long";
		dst[n++] = ch;
	}
	dst[n] = '\0';
	if (!ussd_menu_text_ok(dst))
		return "text is not UTF-8 or is longer than 182 characters (one USSD string)";
	return NULL;
}

/* A USSD text (k->off2: the field's size). */
static enum sy_rc k_text(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	const char *why = text_unescape(FIELD(char, obj, k->off), k->off2, v);
	if (why != NULL)
		return scn_fail(c, "bad text for '%s': %s", k->name, why);
	return SY_OK;
}

/* A count from 1 to k->off2, into a uint32_t. */
static enum sy_rc k_count(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	uint64_t x;
	if (!scn_parse_uint(v, k->off2, &x) || x == 0)
		return scn_fail(c, "bad value '%.*s' for '%s' (1 to %zu)", SCN_SV(v), k->name, k->off2);
	*FIELD(uint32_t, obj, k->off) = (uint32_t)x;
	return SY_OK;
}

/* A count from 0 to k->off2. */
static enum sy_rc k_count0(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	uint64_t x;
	if (!scn_parse_uint(v, k->off2, &x))
		return scn_fail(c, "bad value '%.*s' for '%s' (0 to %zu)", SCN_SV(v), k->name, k->off2);
	*FIELD(uint32_t, obj, k->off) = (uint32_t)x;
	return SY_OK;
}

/* A duration from 1 ms to k->off2 seconds. */
static enum sy_rc k_dur(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	uint64_t ns;
	if (sy_duration_parse_str(v, &ns) != SY_OK || ns < SY_NS_PER_MS || ns > k->off2 * SY_NS_PER_S)
		return scn_fail(c, "bad duration '%.*s' for '%s' (1ms to %zus)", SCN_SV(v), k->name, k->off2);
	*FIELD(uint64_t, obj, k->off) = ns;
	return SY_OK;
}

/* host:port (an IP address and a port) into a string of USSD_ADDR_MAX. */
static enum sy_rc k_hostport(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	char *dst = FIELD(char, obj, k->off);
	struct sy_addr a;
	if (!scn_copy_str(dst, USSD_ADDR_MAX, v) || v.p[v.len - 1] == ']' || sy_addr_parse(dst, 0, &a) != SY_OK ||
	    a.port == 0) {
		dst[0] = '\0';
		return scn_bad(c, "address (IP:PORT, e.g. 127.0.0.1:2776)", v, k);
	}
	return SY_OK;
}

/* ---- [ussd] ---- */

#define UC(f) offsetof(struct ussd_cfg, f)
#define GD(f) offsetof(struct ussd_cfg, guard.f)
static const struct scn_key_def ussd_keys[] = {
    {"enabled", scn_key_bool, UC(on), 0, false},
    {"listen", k_hostport, UC(listen), 0, false},
    {"session_timeout", k_dur, UC(session_timeout_ns), 86400, false},
    {"app_timeout", k_dur, UC(app_timeout_ns), 3600, false},
    {"sessions", k_count, UC(sessions_max), 1u << 24, false},
    {"timeout_text", k_text, UC(timeout_text), USSD_MENU_TEXT_MAX, false},
    {"error_text", k_text, UC(error_text), USSD_MENU_TEXT_MAX, false},
    {"busy_text", k_text, UC(busy_text), USSD_MENU_TEXT_MAX, false},
    {"unknown_text", k_text, UC(unknown_text), USSD_MENU_TEXT_MAX, false},
    {"records", scn_key_bool, UC(records), 0, false},
    {"bind_timeout", k_dur, GD(bind_timeout_ns), 3600, false},
    {"conns_per_source", k_count, GD(conns_per_source), 65536, false},
    {"bind_fails_max", k_count, GD(bind_fails_max), 1000, false},
    {"fail_backoff", k_dur, GD(fail_backoff_ns), 86400, false},
    {"fail_backoff_max", k_dur, GD(fail_backoff_max_ns), 86400, false},
};

static void *ussd_begin(struct scn_pctx *c, void *arg, struct sy_str name)
{
	struct scn *s = arg;
	s->ussd.on = true; /* a [ussd] section turns it on unless it says enabled = no */
	s->ussd.line = scn_pctx_line(c);
	return &s->ussd;
}

static enum sy_rc ussd_end(struct scn_pctx *c, void *obj)
{
	struct ussd_cfg *u = obj;
	if (u->app_timeout_ns >= u->session_timeout_ns)
		return scn_fail_at(c, u->line, "[ussd] app_timeout must be shorter than session_timeout");
	if (u->guard.fail_backoff_max_ns < u->guard.fail_backoff_ns)
		return scn_fail_at(c, u->line, "[ussd] fail_backoff_max must be at least fail_backoff");
	return SY_OK;
}

/* ---- [ussd-link NAME] ---- */

static enum sy_rc k_mode(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct ussd_link_cfg *l = obj;
	if (sy_str_eq(v, SY_STR("accept")))
		l->mode = USSD_LINK_ACCEPT;
	else if (sy_str_eq(v, SY_STR("bind")))
		l->mode = USSD_LINK_BIND;
	else
		return scn_bad(c, "mode (accept or bind)", v, k);
	return SY_OK;
}

static enum sy_rc k_session_ref(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct ussd_link_cfg *l = obj;
	if (sy_str_eq(v, SY_STR("its_session_info")))
		l->ref = USSD_REF_ITS_SESSION_INFO;
	else if (sy_str_eq(v, SY_STR("user_message_reference")))
		l->ref = USSD_REF_USER_MESSAGE_REFERENCE;
	else
		return scn_bad(c, "session_ref (its_session_info or user_message_reference)", v, k);
	return SY_OK;
}

/* 0 (no release operation) or a vendor value 32..255: the standard ones
 * (0..19) mean dialogue steps, never a release. */
static enum sy_rc k_release_op(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct ussd_link_cfg *l = obj;
	uint64_t x;
	if (!scn_parse_uint(v, 255, &x) || (x != 0 && x < 32))
		return scn_bad(c, "release_op (0, or a vendor value 32 to 255)", v, k);
	l->release_op = (uint8_t)x;
	return SY_OK;
}

#define LK(f) offsetof(struct ussd_link_cfg, f)
static const struct scn_key_def link_keys[] = {
    {"mode", k_mode, 0, 0, false},
    {"system_id", scn_key_str, LK(system_id), USSD_SYSTEM_ID_MAX, false},
    {"password", scn_key_str, LK(password), USSD_PASSWORD_MAX, true},
    {"address", k_hostport, LK(address), 0, false},
    {"session_ref", k_session_ref, 0, 0, false},
    {"release_op", k_release_op, 0, 0, false},
    {"binds", k_count, LK(binds), 64, false},
    {"window", k_count, LK(window), 100000, false},
    {"queue", k_count, LK(queue_max), 10000000, false},
};

/* A name for links, services, menus: letters, digits, '-', '_', '.'. */
static bool name_ok(struct sy_str n, size_t cap)
{
	if (n.len == 0 || n.len >= cap)
		return false;
	for (size_t i = 0; i < n.len; i++) {
		char ch = n.p[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
		      ch == '_' || ch == '.'))
			return false;
	}
	return true;
}

static void *link_begin(struct scn_pctx *c, void *arg, struct sy_str name)
{
	struct ussd_cfg *u = &((struct scn *)arg)->ussd;
	for (uint32_t i = 0; i < u->link_n; i++)
		if (sy_str_eq(name, sy_str_from(u->links[i].name))) {
			scn_fail(c, "duplicate section %s", scn_pctx_label(c));
			return NULL;
		}
	if (u->link_n == USSD_LINKS_MAX) {
		scn_fail(c, "too many [ussd-link] sections (max %d)", USSD_LINKS_MAX);
		return NULL;
	}
	if (!name_ok(name, USSD_NAME_MAX)) {
		scn_fail(c, "bad link name '%.*s' (letters, digits, - _ ., at most %d)", SCN_SV(name),
			 USSD_NAME_MAX - 1);
		return NULL;
	}
	struct ussd_link_cfg *l = &u->links[u->link_n++];
	memset(l, 0, sizeof(*l));
	scn_copy_str(l->name, sizeof(l->name), name);
	scn_copy_str(l->system_id, sizeof(l->system_id), (struct sy_str){name.p, SY_MIN(name.len, SMPP_SYSTEM_ID_MAX)});
	l->line = scn_pctx_line(c);
	l->window = 1000;
	l->queue_max = 100000;
	return l;
}

/* The password as the mode needs it: what the node's bind is checked
 * against (clear, $sha256$ or $pbkdf2-sha256$), or what we send (clear,
 * at most SMPP's 8 characters). */
static enum sy_rc link_password_check(struct scn_pctx *c, const struct ussd_link_cfg *l)
{
	struct sy_secret sec;
	char why[96];
	if (sy_secret_parse(&sec, l->password, strlen(l->password), why, sizeof(why)) != SY_OK)
		return scn_fail_at(c, l->line, "[ussd-link %s] password: %s", l->name, why);
	if (l->mode == USSD_LINK_BIND && sec.kind != SY_SECRET_PLAIN)
		return scn_fail_at(c, l->line, "[ussd-link %s] mode = bind sends its password: it must be clear text",
				   l->name);
	if (sec.kind == SY_SECRET_PLAIN && strlen(l->password) > SMPP_PASSWORD_MAX)
		return scn_fail_at(c, l->line, "[ussd-link %s] password is longer than SMPP's %d characters", l->name,
				   SMPP_PASSWORD_MAX);
	return SY_OK;
}

static enum sy_rc link_end(struct scn_pctx *c, void *obj)
{
	struct ussd_link_cfg *l = obj;
	if (l->system_id[0] == '\0' || strlen(l->system_id) > SMPP_SYSTEM_ID_MAX)
		return scn_fail_at(c, l->line, "[ussd-link %s] system_id must be 1 to %d characters", l->name,
				   SMPP_SYSTEM_ID_MAX);
	if (l->mode == USSD_LINK_BIND && l->address[0] == '\0')
		return scn_fail_at(c, l->line, "[ussd-link %s] mode = bind needs 'address' (the node's IP:PORT)",
				   l->name);
	if (l->mode == USSD_LINK_ACCEPT && l->address[0] != '\0')
		return scn_fail_at(c, l->line,
				   "[ussd-link %s] 'address' is for mode = bind (accept links bind to [ussd] listen)",
				   l->name);
	if (l->binds == 0)
		l->binds = l->mode == USSD_LINK_ACCEPT ? 4 : 1;
	return link_password_check(c, l);
}

/* ---- [ussd-service CODE] ---- */

/* "*123#", "*123*4#", "#100#": '*' or '#' first, '#' last, digits and
 * single '*' separators between. */
static bool code_ok(struct sy_str v)
{
	if (v.len < 3 || v.len >= USSD_CODE_MAX || (v.p[0] != '*' && v.p[0] != '#') || v.p[v.len - 1] != '#')
		return false;
	for (size_t i = 1; i + 1 < v.len; i++) {
		bool digit = v.p[i] >= '0' && v.p[i] <= '9';
		if (!digit && !(v.p[i] == '*' && v.p[i - 1] >= '0' && v.p[i - 1] <= '9'))
			return false;
	}
	return v.p[v.len - 2] >= '0' && v.p[v.len - 2] <= '9';
}

static enum sy_rc app_once(struct scn_pctx *c, struct ussd_service_cfg *sv, enum ussd_app_kind kind)
{
	if (sv->kind != 0)
		return scn_fail(c, "[ussd-service %s] takes one of 'menu' and 'url', not both", sv->code);
	sv->kind = kind;
	sv->app_line = scn_pctx_line(c);
	return SY_OK;
}

static enum sy_rc k_menu(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct ussd_service_cfg *sv = obj;
	if (!name_ok(v, USSD_MENU_NAME_MAX))
		return scn_bad(c, "menu name", v, k);
	scn_copy_str(sv->menu_name, sizeof(sv->menu_name), v);
	return app_once(c, sv, USSD_APP_MENU);
}

/* http://HOST:PORT/PATH, HOST an IP address (the client does not resolve
 * names); the port defaults to 80 and the path to "/". */
static bool url_ok(struct sy_str v)
{
	char host[USSD_ADDR_MAX];
	struct sy_addr a;
	if (v.len <= 7 || memcmp(v.p, "http://", 7) != 0 || v.len >= USSD_URL_MAX)
		return false;
	struct sy_str rest = {v.p + 7, v.len - 7};
	const char *slash = memchr(rest.p, '/', rest.len);
	struct sy_str hp = {rest.p, slash ? (size_t)(slash - rest.p) : rest.len};
	for (size_t i = 0; i < v.len; i++)
		if ((unsigned char)v.p[i] <= ' ' || v.p[i] == '#' || (unsigned char)v.p[i] >= 0x7F)
			return false;
	return hp.len > 0 && hp.p[hp.len - 1] != ']' && scn_copy_str(host, sizeof(host), hp) &&
	       sy_addr_parse(host, 80, &a) == SY_OK && a.port != 0;
}

static enum sy_rc k_url(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct ussd_service_cfg *sv = obj;
	if (v.len >= 8 && memcmp(v.p, "https://", 8) == 0)
		return scn_fail(c,
				"'%s': https is not supported; use http:// to the application (or to a local TLS "
				"proxy in front of it)",
				k->name);
	if (!url_ok(v))
		return scn_bad(c, "URL (http://IP:PORT/PATH)", v, k);
	scn_copy_str(sv->url, sizeof(sv->url), v);
	return app_once(c, sv, USSD_APP_HTTP);
}

static enum sy_rc k_charge(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct ussd_service_cfg *sv = obj;
	if (sy_str_eq(v, SY_STR("none")))
		sv->charge = USSD_CHARGE_NONE;
	else if (sy_str_eq(v, SY_STR("session")))
		sv->charge = USSD_CHARGE_SESSION;
	else if (sy_str_eq(v, SY_STR("step")))
		sv->charge = USSD_CHARGE_STEP;
	else
		return scn_bad(c, "charge (none, session or step)", v, k);
	return SY_OK;
}

/* "0.05 USD" or "0.05", as [account] balances are written; the currency
 * is the charged account's, and only checked to be a currency. */
static enum sy_rc k_price(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct ussd_service_cfg *sv = obj;
	struct sy_str rest = v, num, cur, extra;
	uint64_t x;
	if (!scn_next_tok(&rest, &num, false) || sy_decimal_parse(num, 6, &x) != SY_OK || x > INT64_MAX ||
	    (scn_next_tok(&rest, &cur, false) && !scn_currency_ok(cur)) || scn_next_tok(&rest, &extra, false))
		return scn_bad(c, "price (an amount like 0.05 or 0.05 USD)", v, k);
	sv->price_micros = (int64_t)x;
	return SY_OK;
}

#define SV(f) offsetof(struct ussd_service_cfg, f)
static const struct scn_key_def service_keys[] = {
    {"menu", k_menu, 0, 0, false},
    {"url", k_url, 0, 0, false},
    {"timeout", k_dur, SV(timeout_ns), 3600, false},
    {"retries", k_count0, SV(retries), 10, false},
    {"retry_delay", k_dur, SV(retry_delay_ns), 60, false},
    {"in_flight", k_count, SV(in_flight_max), 1000000, false},
    {"charge", k_charge, 0, 0, false},
    {"price", k_price, 0, 0, false},
    {"account", scn_key_str, SV(account), USSD_NAME_MAX, false},
};

static void *service_begin(struct scn_pctx *c, void *arg, struct sy_str name)
{
	struct ussd_cfg *u = &((struct scn *)arg)->ussd;
	if (!code_ok(name)) {
		scn_fail(c, "bad service code '%.*s' (like *123# or *123*4#)", SCN_SV(name));
		return NULL;
	}
	for (uint32_t i = 0; i < u->service_n; i++)
		if (sy_str_eq(name, sy_str_from(u->services[i].code))) {
			scn_fail(c, "duplicate section %s", scn_pctx_label(c));
			return NULL;
		}
	if (u->service_n == USSD_SERVICES_MAX) {
		scn_fail(c, "too many [ussd-service] sections (max %d)", USSD_SERVICES_MAX);
		return NULL;
	}
	struct ussd_service_cfg *sv = &u->services[u->service_n++];
	memset(sv, 0, sizeof(*sv));
	scn_copy_str(sv->code, sizeof(sv->code), name);
	sv->line = scn_pctx_line(c);
	sv->retries = 1;
	sv->retry_delay_ns = 200 * SY_NS_PER_MS;
	sv->in_flight_max = 1000;
	return sv;
}

static enum sy_rc service_end(struct scn_pctx *c, void *obj)
{
	struct ussd_service_cfg *sv = obj;
	if (sv->kind == 0)
		return scn_fail_at(c, sv->line, "[ussd-service %s] needs 'menu' or 'url'", sv->code);
	if (sv->charge == USSD_CHARGE_NONE && sv->price_micros != 0)
		return scn_fail_at(c, sv->line, "[ussd-service %s] has a price but charge = none", sv->code);
	if (sv->account[0] != '\0' && sv->charge == USSD_CHARGE_NONE)
		return scn_fail_at(c, sv->line, "[ussd-service %s] names an account but charges nothing", sv->code);
	return SY_OK;
}

/* ---- [ussd-menu NAME] ---- */

/* While the section is open, start holds MENU_START_FIRST | node when it
 * was taken from the first screen (or end, while there is no screen; an
 * explicit start replaces it), or MENU_START_NONE before any. */
#define MENU_START_NONE	 UINT16_MAX
#define MENU_START_FIRST 0x8000u

/* The node named n: found, or added undeclared (kind 0) with line as the
 * first place it was named. -1 after an error. */
static int32_t node_ref(struct scn_pctx *c, struct ussd_menu_cfg *m, struct sy_str n)
{
	if (!name_ok(n, USSD_MENU_NAME_MAX)) {
		scn_fail(c, "bad screen name '%.*s' (letters, digits, - _ ., at most %d)", SCN_SV(n),
			 USSD_MENU_NAME_MAX - 1);
		return -1;
	}
	for (uint16_t i = 0; i < m->node_n; i++)
		if (sy_str_eq(n, sy_str_from(m->nodes[i].name)))
			return i;
	if (m->node_n == USSD_MENU_NODES_MAX) {
		scn_fail(c, "too many screens in [ussd-menu %s] (max %d)", m->name, USSD_MENU_NODES_MAX);
		return -1;
	}
	struct ussd_menu_node *nd = &m->nodes[m->node_n];
	memset(nd, 0, sizeof(*nd));
	scn_copy_str(nd->name, sizeof(nd->name), n);
	nd->line = scn_pctx_line(c);
	nd->any_next = -1;
	return m->node_n++;
}

/* "screen NAME = TEXT" or "end NAME = TEXT". */
static enum sy_rc menu_declare(struct scn_pctx *c, struct ussd_menu_cfg *m, enum ussd_node_kind kind,
			       struct sy_str name, struct sy_str text)
{
	int32_t i = node_ref(c, m, name);
	if (i < 0)
		return SY_ERR_PARSE;
	struct ussd_menu_node *nd = &m->nodes[i];
	if (nd->kind != 0)
		return scn_fail(c, "'%s' is declared twice in [ussd-menu %s] (first at line %u)", nd->name, m->name,
				nd->line);
	if (kind == USSD_NODE_END && (nd->opt_n > 0 || nd->any_next >= 0))
		return scn_fail(c, "end '%s' cannot have options or input (it ends the dialogue)", nd->name);
	nd->kind = (uint8_t)kind;
	nd->line = scn_pctx_line(c);
	const char *why = text_unescape(nd->text, sizeof(nd->text), text);
	if (why != NULL)
		return scn_fail(c, "bad text for '%s': %s", nd->name, why);
	/* by default the first screen, or the first end when there is none */
	bool taken = m->start != MENU_START_NONE && (m->start & MENU_START_FIRST) &&
		     m->nodes[m->start & ~MENU_START_FIRST].kind == USSD_NODE_END;
	if (m->start == MENU_START_NONE || (taken && kind == USSD_NODE_SCREEN))
		m->start = (uint16_t)(MENU_START_FIRST | (uint32_t)i);
	return SY_OK;
}

/* The screen that options and inputs hang on (not an end). */
static struct ussd_menu_node *menu_screen(struct scn_pctx *c, struct ussd_menu_cfg *m, struct sy_str name)
{
	int32_t i = node_ref(c, m, name);
	if (i < 0)
		return NULL;
	if (m->nodes[i].kind == USSD_NODE_END) {
		scn_fail(c, "end '%s' cannot have options or input (it ends the dialogue)", m->nodes[i].name);
		return NULL;
	}
	return &m->nodes[i];
}

/* "option SCREEN KEY = NEXT". */
static enum sy_rc menu_option(struct scn_pctx *c, struct ussd_menu_cfg *m, struct sy_str screen, struct sy_str key,
			      struct sy_str next)
{
	struct ussd_menu_node *nd = menu_screen(c, m, screen);
	if (nd == NULL)
		return SY_ERR_PARSE;
	if (key.len >= USSD_MENU_KEY_MAX || memchr(key.p, '*', key.len) != NULL)
		return scn_fail(c, "bad option '%.*s' (at most %d characters, no '*')", SCN_SV(key),
				USSD_MENU_KEY_MAX - 1);
	for (uint32_t o = 0; o < nd->opt_n; o++)
		if (sy_str_eq(key, sy_str_from(nd->opt_key[o])))
			return scn_fail(c, "option '%.*s' of '%s' is given twice", SCN_SV(key), nd->name);
	if (nd->opt_n == USSD_MENU_OPTS_MAX)
		return scn_fail(c, "too many options for '%s' (max %d)", nd->name, USSD_MENU_OPTS_MAX);
	int32_t to = node_ref(c, m, next);
	if (to < 0)
		return SY_ERR_PARSE;
	scn_copy_str(nd->opt_key[nd->opt_n], USSD_MENU_KEY_MAX, key);
	nd->opt_next[nd->opt_n++] = (uint16_t)to;
	return SY_OK;
}

/* "input SCREEN = NEXT": any other non-empty input goes to NEXT. */
static enum sy_rc menu_input(struct scn_pctx *c, struct ussd_menu_cfg *m, struct sy_str screen, struct sy_str next)
{
	struct ussd_menu_node *nd = menu_screen(c, m, screen);
	if (nd == NULL)
		return SY_ERR_PARSE;
	if (nd->any_next >= 0)
		return scn_fail(c, "'%s' has two 'input' lines", nd->name);
	int32_t to = node_ref(c, m, next);
	if (to < 0)
		return SY_ERR_PARSE;
	nd->any_next = (int16_t)to;
	return SY_OK;
}

static enum sy_rc menu_start(struct scn_pctx *c, struct ussd_menu_cfg *m, struct sy_str name)
{
	if (m->start != MENU_START_NONE && !(m->start & MENU_START_FIRST))
		return scn_fail(c, "[ussd-menu %s] has two 'start' lines", m->name);
	int32_t i = node_ref(c, m, name);
	if (i < 0)
		return SY_ERR_PARSE;
	m->start = (uint16_t)i;
	return SY_OK;
}

static enum sy_rc menu_key(struct scn_pctx *c, struct ussd_menu_cfg *m, struct sy_str lhs, struct sy_str val)
{
	struct sy_str rest = lhs, key, a = SY_STR_NULL, b = SY_STR_NULL, extra;
	scn_next_tok(&rest, &key, false);
	scn_next_tok(&rest, &a, false);
	scn_next_tok(&rest, &b, false);
	size_t args = (a.len > 0) + (b.len > 0) + scn_next_tok(&rest, &extra, false);
	if (sy_str_eq(key, SY_STR("start")) && args == 0)
		return menu_start(c, m, val);
	if (sy_str_eq(key, SY_STR("invalid")) && args == 0) {
		const char *why = text_unescape(m->invalid_text, sizeof(m->invalid_text), val);
		return why ? scn_fail(c, "bad text for 'invalid': %s", why) : SY_OK;
	}
	if (sy_str_eq(key, SY_STR("screen")) && args == 1)
		return menu_declare(c, m, USSD_NODE_SCREEN, a, val);
	if (sy_str_eq(key, SY_STR("end")) && args == 1)
		return menu_declare(c, m, USSD_NODE_END, a, val);
	if (sy_str_eq(key, SY_STR("option")) && args == 2)
		return menu_option(c, m, a, b, val);
	if (sy_str_eq(key, SY_STR("input")) && args == 1)
		return menu_input(c, m, a, val);
	return scn_fail(c,
			"bad line '%.*s' in [ussd-menu %s] (start = S, screen S = TEXT, end S = TEXT, option S KEY = "
			"S2, input S = S2, invalid = TEXT)",
			SCN_SV(lhs), m->name);
}

static enum sy_rc menu_line(struct scn_pctx *c, void *obj, struct sy_str line)
{
	struct ussd_menu_cfg *m = obj;
	const char *eq = memchr(line.p, '=', line.len);
	if (eq == NULL)
		return scn_fail(c, "expected 'key = value', got '%.*s'", SCN_SV(line));
	struct sy_str lhs = scn_trim((struct sy_str){line.p, (size_t)(eq - line.p)});
	struct sy_str val = scn_trim((struct sy_str){eq + 1, line.len - (size_t)(eq - line.p) - 1});
	if (val.len == 0)
		return scn_fail(c, "empty value for '%.*s'", SCN_SV(lhs));
	if (val.len >= SCN_VALUE_MAX)
		return scn_fail(c, "value too long for '%.*s'", SCN_SV(lhs));
	return menu_key(c, m, lhs, val);
}

static void *menu_begin(struct scn_pctx *c, void *arg, struct sy_str name)
{
	struct ussd_cfg *u = &((struct scn *)arg)->ussd;
	for (uint32_t i = 0; i < u->menu_n; i++)
		if (sy_str_eq(name, sy_str_from(u->menus[i].name))) {
			scn_fail(c, "duplicate section %s", scn_pctx_label(c));
			return NULL;
		}
	if (u->menu_n == USSD_MENUS_MAX) {
		scn_fail(c, "too many [ussd-menu] sections (max %d)", USSD_MENUS_MAX);
		return NULL;
	}
	if (!name_ok(name, USSD_MENU_NAME_MAX)) {
		scn_fail(c, "bad menu name '%.*s' (letters, digits, - _ ., at most %d)", SCN_SV(name),
			 USSD_MENU_NAME_MAX - 1);
		return NULL;
	}
	struct ussd_menu_cfg *m = &u->menus[u->menu_n++];
	memset(m, 0, sizeof(*m));
	scn_copy_str(m->name, sizeof(m->name), name);
	m->line = scn_pctx_line(c);
	m->start = MENU_START_NONE;
	strcpy(m->invalid_text, "Invalid choice.");
	return m;
}

static enum sy_rc menu_end(struct scn_pctx *c, void *obj)
{
	struct ussd_menu_cfg *m = obj;
	char why[160];
	int32_t at;
	if (m->start == MENU_START_NONE)
		return scn_fail_at(c, m->line, "[ussd-menu %s] has no screen or end", m->name);
	m->start &= (uint16_t)~MENU_START_FIRST;
	if (ussd_menu_check_at(m, &at, why, sizeof(why)) != SY_OK)
		return scn_fail_at(c, at >= 0 ? m->nodes[at].line : m->line, "%s", why);
	return SY_OK;
}

/* ---- the whole file ---- */

static int32_t menu_find(const struct ussd_cfg *u, const char *name)
{
	for (uint32_t i = 0; i < u->menu_n; i++)
		if (strcmp(u->menus[i].name, name) == 0)
			return (int32_t)i;
	return -1;
}

/* Services name menus and accounts that may come later in the file. */
static enum sy_rc services_finish(struct scn_pctx *c, const struct scn *s, struct ussd_cfg *u)
{
	for (uint32_t i = 0; i < u->service_n; i++) {
		struct ussd_service_cfg *sv = &u->services[i];
		if (sv->kind == USSD_APP_MENU) {
			int32_t m = menu_find(u, sv->menu_name);
			if (m < 0)
				return scn_fail_at(c, sv->app_line, "[ussd-service %s] names unknown menu '%s'",
						   sv->code, sv->menu_name);
			sv->menu = (uint16_t)m;
		}
		if (sv->account[0] != '\0' && scn_account_find(s, sv->account) < 0)
			return scn_fail_at(c, sv->line, "[ussd-service %s] names unknown account '%s'", sv->code,
					   sv->account);
		/* a charged service needs someone to charge, and a price: its own
		 * or the payer's tariff's ussd row (the engine refuses a payer
		 * whose tariff has none, counted ussd.refused_price) */
		if (sv->charge != USSD_CHARGE_NONE && s->account_n == 0)
			return scn_fail_at(c, sv->line, "[ussd-service %s] charge = %s but no [account] to charge",
					   sv->code, sv->charge == USSD_CHARGE_SESSION ? "session" : "step");
		if (sv->charge != USSD_CHARGE_NONE && sv->price_micros == 0 && s->tariff_n == 0)
			return scn_fail_at(c, sv->line,
					   "[ussd-service %s] charge = %s needs a price, or a [tariff] with a ussd row "
					   "for the code",
					   sv->code, sv->charge == USSD_CHARGE_SESSION ? "session" : "step");
		if (sv->timeout_ns == 0)
			sv->timeout_ns = u->app_timeout_ns;
		if (sv->timeout_ns >= u->session_timeout_ns)
			return scn_fail_at(c, sv->line,
					   "[ussd-service %s] timeout must be shorter than [ussd] "
					   "session_timeout",
					   sv->code);
	}
	return SY_OK;
}

/* Accept-mode links bind to [ussd] listen; each is known by its system_id. */
static enum sy_rc links_finish(struct scn_pctx *c, const struct ussd_cfg *u)
{
	for (uint32_t i = 0; i < u->link_n; i++) {
		const struct ussd_link_cfg *l = &u->links[i];
		if (l->mode != USSD_LINK_ACCEPT)
			continue;
		if (u->listen[0] == '\0')
			return scn_fail_at(c, l->line, "[ussd-link %s] mode = accept needs [ussd] listen", l->name);
		for (uint32_t j = 0; j < i; j++)
			if (u->links[j].mode == USSD_LINK_ACCEPT && strcmp(u->links[j].system_id, l->system_id) == 0)
				return scn_fail_at(c, l->line, "[ussd-link %s] has the system_id of [ussd-link %s]",
						   l->name, u->links[j].name);
	}
	return SY_OK;
}

/* [ussd] listen is a TCP port of its own: not the SMSC's or the API's. */
static enum sy_rc listen_finish(struct scn_pctx *c, const struct scn *s, const struct ussd_cfg *u)
{
	const struct {
		const char *key;
		const struct sy_addr *addr;
	} others[] = {{"smpp", &s->node.smpp_addr}, {"http", &s->node.http_addr}};
	struct sy_addr a;
	char mine[SCN_ADDR_MAX + 8], theirs[SCN_ADDR_MAX + 8];
	if (u->listen[0] == '\0' || sy_addr_parse(u->listen, 0, &a) != SY_OK)
		return SY_OK;
	sy_addr_fmt(&a, mine, sizeof(mine));
	for (size_t i = 0; i < SY_ARRAY_LEN(others); i++) {
		sy_addr_fmt(others[i].addr, theirs, sizeof(theirs));
		if (strcmp(mine, theirs) == 0)
			return scn_fail_at(c, u->line, "[ussd] listen %s is also [node] %s", u->listen, others[i].key);
	}
	return SY_OK;
}

/* Links and menus may stand without [ussd] (a scenario's simulated
 * operator node and applications use them against another gateway);
 * services are the gateway's alone. */
static enum sy_rc ussd_finish(struct scn_pctx *c, const struct scn *cs, void *arg)
{
	struct scn *s = arg;
	struct ussd_cfg *u = &s->ussd;
	if (u->line == 0 && u->service_n > 0)
		return scn_fail_at(c, u->services[0].line, "[ussd-service %s] needs a [ussd] section (the gateway)",
				   u->services[0].code);
	enum sy_rc rc = u->line != 0 ? links_finish(c, u) : SY_OK;
	if (rc == SY_OK)
		rc = listen_finish(c, s, u);
	return rc == SY_OK ? services_finish(c, s, u) : rc;
}

#define KEYS(t) (t), SY_ARRAY_LEN(t)
static const struct scn_sec_def ussd_secs[] = {
    {"ussd", NULL, KEYS(ussd_keys), ussd_begin, ussd_end, NULL, false},
    {"ussd-link", "*", KEYS(link_keys), link_begin, link_end, NULL, true},
    {"ussd-service", "*", KEYS(service_keys), service_begin, service_end, NULL, true},
    {"ussd-menu", "*", NULL, 0, menu_begin, menu_end, menu_line, true},
};

const struct scn_ext scn_ussd_ext = {
    .secs = ussd_secs,
    .sec_n = SY_ARRAY_LEN(ussd_secs),
    .finish = ussd_finish,
};
