/* world_ussd.c: [traffic ussd] and [ussd-app NAME] of the simulated world
 * (world_ussd.h): the handsets and the operator's USSD node, and the
 * simulated HTTP applications, parsed as part of the world's extension;
 * the checks against the node's [ussd-link] and [ussd-menu] sections; and
 * the node's config for sim and `load`. */
#include "world.h"

#include <stdio.h>

#define FIELD(type, obj, off) ((type *)((char *)(obj) + (off)))

/* ---- values ---- */

static bool code_ok(struct sy_str t)
{
	if (t.len == 0 || t.len >= USSD_CODE_MAX)
		return false;
	for (size_t i = 0; i < t.len; i++)
		if (!((t.p[i] >= '0' && t.p[i] <= '9') || t.p[i] == '*' || t.p[i] == '#'))
			return false;
	return true;
}

/* An input path: inputs of digits, letters and '+', joined by '*', with
 * at most one '#' after the dialled ones; "-" is a dial and nothing else. */
static bool path_ok(struct sy_str t)
{
	if (sy_str_eq(t, SY_STR("-")))
		return true;
	if (t.len == 0 || t.len >= USSD_NET_PATH_MAX || t.p[0] == '*' || t.p[0] == '#')
		return false;
	uint32_t hashes = 0;
	for (size_t i = 0; i < t.len; i++) {
		char ch = t.p[i];
		bool sep = ch == '*' || ch == '#';
		if (sep && (i + 1 == t.len || t.p[i + 1] == '*' || t.p[i + 1] == '#'))
			return false; /* an empty input */
		hashes += ch == '#';
		if (!sep && !(ch >= '0' && ch <= '9') && !(ch >= 'A' && ch <= 'Z') && !(ch >= 'a' && ch <= 'z') &&
		    ch != '+')
			return false;
	}
	return hashes <= 1;
}

/* Weights given for all or none of n entries (equal shares then); they
 * must sum to 100%. */
static enum sy_rc shares(struct scn_pctx *c, const struct scn_key_def *k, uint32_t *ppm, uint32_t n, uint32_t weighted,
			 uint64_t sum)
{
	if (weighted == 0) {
		for (uint32_t i = 0; i < n; i++)
			ppm[i] = SCN_PPM / n + (i == 0 ? SCN_PPM % n : 0);
		return SY_OK;
	}
	if (weighted != n)
		return scn_fail(c, "weights for '%s' must be given for every entry or for none", k->name);
	if (sum != SCN_PPM) {
		char pct[32];
		scn_fmt_ppm((int64_t)sum, pct, sizeof(pct));
		return scn_fail(c, "weights for '%s' sum to %s, not 100%%", k->name, pct);
	}
	return SY_OK;
}

/* ---- [traffic ussd] ---- */

/* "*123# 70% *456# 30%", or codes alone. */
static enum sy_rc k_codes(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct world_ussd_traffic *t = obj;
	struct sy_str tok;
	uint32_t weighted = 0;
	uint64_t sum = 0;
	t->code_n = 0;
	t->codes_line = scn_pctx_line(c);
	while (scn_next_tok(&v, &tok, true)) {
		if (tok.p[tok.len - 1] == '%') {
			if (t->code_n == 0 || weighted == t->code_n || !scn_parse_pct(tok, &t->code_ppm[t->code_n - 1]))
				return scn_bad(c, "weight", tok, k);
			sum += t->code_ppm[t->code_n - 1];
			weighted++;
			continue;
		}
		if (!code_ok(tok))
			return scn_bad(c, "service code (digits, * and #, e.g. *123#)", tok, k);
		if (t->code_n == USSD_NET_CODES_MAX)
			return scn_fail(c, "too many codes for '%s' (max %d)", k->name, USSD_NET_CODES_MAX);
		if (weighted < t->code_n)
			return scn_fail(c, "weights for '%s' must be given for every code or for none", k->name);
		scn_copy_str(t->codes[t->code_n++], USSD_CODE_MAX, tok);
	}
	if (t->code_n == 0)
		return scn_bad(c, "service codes", v, k);
	return shares(c, k, t->code_ppm, t->code_n, weighted, sum);
}

static int code_index(const struct world_ussd_traffic *t, struct sy_str code)
{
	for (uint32_t i = 0; i < t->code_n; i++)
		if (sy_str_eq(code, sy_str_from(t->codes[i])))
			return (int)i;
	return -1;
}

/* One group: "[CODE:] PATH [W%], PATH [W%], ...". */
static enum sy_rc paths_group(struct scn_pctx *c, struct world_ussd_traffic *t, const struct scn_key_def *k,
			      struct sy_str g)
{
	struct sy_str look = g, tok;
	int code = -1;
	if (scn_next_tok(&look, &tok, false) && tok.len > 1 && tok.p[0] == '*' && tok.p[tok.len - 1] == ':') {
		struct sy_str name = {tok.p, tok.len - 1};
		if ((code = code_index(t, name)) < 0)
			return scn_fail(c, "'%s' names code '%.*s', not one of 'codes' (give 'codes' first)", k->name,
					SCN_SV(name));
		g = look;
	}
	uint32_t first = t->path_n, weighted = 0;
	uint64_t sum = 0;
	while (scn_next_tok(&g, &tok, true)) {
		if (tok.p[tok.len - 1] == '%') {
			if (t->path_n == first || weighted == t->path_n - first ||
			    !scn_parse_pct(tok, &t->path_ppm[t->path_n - 1]))
				return scn_bad(c, "weight", tok, k);
			sum += t->path_ppm[t->path_n - 1];
			weighted++;
			continue;
		}
		if (!path_ok(tok))
			return scn_bad(c, "path (inputs joined by *, e.g. 2*0722000111*100*1)", tok, k);
		if (t->path_n == USSD_NET_PATHS_MAX)
			return scn_fail(c, "too many paths for '%s' (max %d)", k->name, USSD_NET_PATHS_MAX);
		scn_copy_str(t->paths[t->path_n], USSD_NET_PATH_MAX, sy_str_eq(tok, SY_STR("-")) ? SY_STR("") : tok);
		t->path_code[t->path_n++] = (int8_t)code;
	}
	if (t->path_n == first)
		return scn_fail(c, "a group of '%s' has no path", k->name);
	return shares(c, k, t->path_ppm + first, t->path_n - first, weighted, sum);
}

/* Groups separated by ';', each for one code or (without "CODE:") for
 * every code that has no group of its own. */
static enum sy_rc k_paths(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct world_ussd_traffic *t = obj;
	t->path_n = 0;
	t->paths_line = scn_pctx_line(c);
	while (v.len > 0) {
		size_t n = 0;
		while (n < v.len && v.p[n] != ';')
			n++;
		struct sy_str g = scn_trim((struct sy_str){v.p, n});
		enum sy_rc rc = g.len ? paths_group(c, t, k, g) : scn_bad(c, "paths", v, k);
		if (rc != SY_OK)
			return rc;
		v = n < v.len ? (struct sy_str){v.p + n + 1, v.len - n - 1} : (struct sy_str){v.p + n, 0};
	}
	return SY_OK;
}

static enum sy_rc k_arrivals(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct world_ussd_traffic *t = obj;
	if (sy_str_eq(v, SY_STR("poisson")))
		t->arrivals = USSD_NET_POISSON;
	else if (sy_str_eq(v, SY_STR("even")))
		t->arrivals = USSD_NET_EVEN;
	else
		return scn_bad(c, "arrivals (poisson or even)", v, k);
	return SY_OK;
}

static enum sy_rc k_msisdn(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct world_ussd_traffic *t = obj;
	size_t i = v.len > 0 && v.p[0] == '+', x = 0;
	bool ok = v.len > i && v.len - i <= SMPP_ADDR_MAX;
	for (; ok && i < v.len; i++) {
		x += v.p[i] == 'X';
		ok = v.p[i] == 'X' || (v.p[i] >= '0' && v.p[i] <= '9');
	}
	if (!ok || x == 0)
		return scn_bad(c, "MSISDN pattern (digits and X, e.g. 2547XXXXXXXX)", v, k);
	scn_copy_str(t->msisdn, sizeof(t->msisdn), v);
	return SY_OK;
}

static enum sy_rc k_node(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct world_ussd_traffic *t = obj;
	if (sy_str_eq(v, SY_STR("bind")))
		t->node_mode = USSD_NET_BIND;
	else if (sy_str_eq(v, SY_STR("accept")))
		t->node_mode = USSD_NET_ACCEPT;
	else
		return scn_bad(c, "node (bind: the node binds to the gateway; accept: the gateway binds to it)", v, k);
	return SY_OK;
}

static enum sy_rc k_ref(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct world_ussd_traffic *t = obj;
	if (sy_str_eq(v, SY_STR("its_session_info")))
		t->ref = USSD_REF_ITS_SESSION_INFO;
	else if (sy_str_eq(v, SY_STR("user_message_reference")))
		t->ref = USSD_REF_USER_MESSAGE_REFERENCE;
	else
		return scn_bad(c, "session_ref (its_session_info or user_message_reference)", v, k);
	return SY_OK;
}

static enum sy_rc k_release_op(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct world_ussd_traffic *t = obj;
	uint64_t x;
	if (!scn_parse_uint(v, 254, &x) || (x != 0 && x < 32))
		return scn_bad(c, "release_op (0: the end bit only, or a vendor value 32 to 254)", v, k);
	t->release_op = (int16_t)x;
	return SY_OK;
}

static enum sy_rc k_link_name(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct world_ussd_traffic *t = obj;
	if (!scn_copy_str(t->ussd_link, sizeof(t->ussd_link), v))
		return scn_bad(c, "[ussd-link] name", v, k);
	t->ussd_link_line = scn_pctx_line(c);
	return SY_OK;
}

static enum sy_rc k_smpp_str(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	size_t max = k->off2 - 1;
	if (v.len == 0 || v.len > max || !scn_copy_str(FIELD(char, obj, k->off), k->off2, v))
		return scn_fail(c, "'%s' must be 1 to %zu characters (SMPP bounds it)", k->name, max);
	return SY_OK;
}

static enum sy_rc k_listen(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct world_ussd_traffic *t = obj;
	if (!scn_copy_str(t->listen, sizeof(t->listen), v) || sy_addr_parse(t->listen, 0, &t->listen_addr) != SY_OK ||
	    t->listen_addr.port == 0)
		return scn_bad(c, "address (IP:PORT)", v, k);
	t->listen_set = true;
	return SY_OK;
}

#define UT(f) offsetof(struct world_ussd_traffic, f)
static const struct scn_key_def traffic_keys[] = {
    {"rate", world_key_rate, UT(rate_milli), 0, true},
    {"arrivals", k_arrivals, 0, 0, false},
    {"start", scn_key_duration, UT(start_ns), 0, false},
    {"duration", scn_key_duration_nz, UT(duration_ns), 0, false},
    {"sessions", scn_key_u64, UT(sessions_max), 0, false},
    {"codes", k_codes, 0, 0, true},
    {"paths", k_paths, 0, 0, true},
    {"think", scn_key_dist, UT(think), 0, false},
    {"abandon", scn_key_pct, UT(abandon_ppm), 0, false},
    {"handset_timeout", scn_key_duration_nz, UT(handset_timeout_ns), 0, false},
    {"msisdn", k_msisdn, 0, 0, false},
    {"handsets", scn_key_u32, UT(handsets), 0, false},
    {"ussd_link", k_link_name, 0, 0, false},
    {"node", k_node, 0, 0, false},
    {"system_id", k_smpp_str, UT(system_id), SMPP_SYSTEM_ID_MAX + 1, false},
    {"password", k_smpp_str, UT(password), SMPP_PASSWORD_MAX + 1, false},
    {"session_ref", k_ref, 0, 0, false},
    {"release_op", k_release_op, 0, 0, false},
    {"binds", scn_key_u32, UT(binds), 0, false},
    {"window", scn_key_u32, UT(window), 0, false},
    {"listen", k_listen, 0, 0, false},
    {"link", world_key_link, UT(link), 0, false},
};

static void *traffic_begin(struct scn_pctx *c, void *arg, struct sy_str name)
{
	struct world *w = arg;
	w->ussd.traffic.present = true;
	w->ussd.traffic.line = scn_pctx_line(c);
	return &w->ussd.traffic;
}

static enum sy_rc traffic_end(struct scn_pctx *c, void *obj)
{
	struct world_ussd_traffic *t = obj;
	if (t->binds > USSD_NET_BINDS_MAX)
		return scn_fail_at(c, t->line, "[traffic ussd] binds must be 1..%d", USSD_NET_BINDS_MAX);
	if (t->handsets == 0)
		return scn_fail_at(c, t->line, "[traffic ussd] handsets must be at least 1");
	uint64_t room = 1;
	for (const char *p = t->msisdn; *p; p++)
		room = *p == 'X' && room < 10000000000ull ? room * 10 : room;
	if (room < t->handsets)
		return scn_fail_at(c, t->line, "[traffic ussd] msisdn %s has too few X digits for %u handsets",
				   t->msisdn, t->handsets);
	return SY_OK;
}

const struct scn_sec_def world_ussd_traffic_sec = {
    "traffic", "ussd", traffic_keys, SY_ARRAY_LEN(traffic_keys), traffic_begin, traffic_end, NULL, false,
};

/* ---- [ussd-app NAME] ---- */

static enum sy_rc k_app_listen(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct world_ussd_app *a = obj;
	if (!scn_copy_str(a->listen, sizeof(a->listen), v) || sy_addr_parse(a->listen, 0, &a->listen_addr) != SY_OK ||
	    a->listen_addr.port == 0 || a->listen_addr.family != SY_AF_INET)
		return scn_bad(c, "address (IPv4:PORT of the app's own host, e.g. 10.0.7.1:8080)", v, k);
	return SY_OK;
}

static enum sy_rc k_app_menu(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct world_ussd_app *a = obj;
	if (!scn_copy_str(a->menu, sizeof(a->menu), v))
		return scn_bad(c, "[ussd-menu] name", v, k);
	a->menu_line = scn_pctx_line(c);
	return SY_OK;
}

/* "30s for 10s" windows, separated by commas. */
static enum sy_rc k_outage(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct world_ussd_app *a = obj;
	struct sy_str at, word, len;
	a->outage_n = 0;
	while (scn_next_tok(&v, &at, true)) {
		if (!scn_next_tok(&v, &word, true) || !sy_str_eq(word, SY_STR("for")) || !scn_next_tok(&v, &len, true))
			return scn_fail(c, "expected '%s = START for DURATION[, ...]' (e.g. 30s for 10s)", k->name);
		if (a->outage_n == WORLD_USSD_OUTAGES_MAX)
			return scn_fail(c, "too many outages for '%s' (max %d)", k->name, WORLD_USSD_OUTAGES_MAX);
		uint32_t i = a->outage_n++;
		if (sy_duration_parse_str(at, &a->outage_start_ns[i]) != SY_OK)
			return scn_bad(c, "duration", at, k);
		if (sy_duration_parse_str(len, &a->outage_ns[i]) != SY_OK || a->outage_ns[i] == 0)
			return scn_bad(c, "duration", len, k);
	}
	return SY_OK;
}

static enum sy_rc k_outage_mode(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct world_ussd_app *a = obj;
	if (sy_str_eq(v, SY_STR("hang")))
		a->outage_mode = WORLD_USSD_OUTAGE_HANG;
	else if (sy_str_eq(v, SY_STR("refuse")))
		a->outage_mode = WORLD_USSD_OUTAGE_REFUSE;
	else if (sy_str_eq(v, SY_STR("error")))
		a->outage_mode = WORLD_USSD_OUTAGE_ERROR;
	else
		return scn_bad(c, "outage_mode (hang, refuse or error)", v, k);
	return SY_OK;
}

static enum sy_rc k_app_path(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct world_ussd_app *a = obj;
	if (v.len == 0 || v.p[0] != '/' || !scn_copy_str(a->path, sizeof(a->path), v))
		return scn_bad(c, "path (/ussd)", v, k);
	return SY_OK;
}

#define UA(f) offsetof(struct world_ussd_app, f)
static const struct scn_key_def app_keys[] = {
    {"listen", k_app_listen, 0, 0, true},
    {"menu", k_app_menu, 0, 0, true},
    {"path", k_app_path, 0, 0, false},
    {"latency", scn_key_dist, UA(latency), 0, false},
    {"fail", scn_key_pct, UA(fail_ppm), 0, false},
    {"outage", k_outage, 0, 0, false},
    {"outage_mode", k_outage_mode, 0, 0, false},
    {"link", world_key_link, UA(link), 0, false},
};

static void *app_begin(struct scn_pctx *c, void *arg, struct sy_str name)
{
	struct world *w = arg;
	if (w->ussd.app_n == WORLD_USSD_APPS_MAX) {
		scn_fail(c, "too many [ussd-app] sections (max %d)", WORLD_USSD_APPS_MAX);
		return NULL;
	}
	struct world_ussd_app *a = &w->ussd.apps[w->ussd.app_n];
	memset(a, 0, sizeof(*a));
	if (!scn_copy_str(a->name, sizeof(a->name), name)) {
		scn_fail(c, "[ussd-app] name too long");
		return NULL;
	}
	for (uint32_t i = 0; i < w->ussd.app_n; i++)
		if (strcmp(w->ussd.apps[i].name, a->name) == 0) {
			scn_fail(c, "duplicate section [ussd-app %s]", a->name);
			return NULL;
		}
	a->line = scn_pctx_line(c);
	a->menu_index = -1;
	a->latency = sy_dist_fixed(0);
	w->ussd.app_n++;
	return a;
}

const struct scn_sec_def world_ussd_app_sec = {
    "ussd-app", "*", app_keys, SY_ARRAY_LEN(app_keys), app_begin, NULL, NULL, true,
};

/* ---- after the whole file ---- */

void world_ussd_init(struct world_ussd *u)
{
	memset(u, 0, sizeof(*u));
	struct world_ussd_traffic *t = &u->traffic;
	t->think = sy_dist_fixed(2 * SY_NS_PER_S);
	t->handset_timeout_ns = 200 * SY_NS_PER_S;
	snprintf(t->msisdn, sizeof(t->msisdn), "2547XXXXXXXX");
	t->handsets = 100000;
	t->node_mode = -1;
	t->ref = -1;
	t->release_op = -1;
}

/* The [ussd-link] the node serves, or -1 (none in the file). */
static int link_of(const struct scn *s, const struct world_ussd_traffic *t)
{
	for (uint32_t i = 0; i < s->ussd.link_n; i++)
		if (t->ussd_link[0] == '\0' || strcmp(s->ussd.links[i].name, t->ussd_link) == 0)
			return (int)i;
	return -1;
}

static enum sy_rc traffic_check(struct scn_pctx *c, const struct scn *s, const struct world_ussd_traffic *t)
{
	int li = link_of(s, t);
	if (t->ussd_link[0] != '\0' && li < 0)
		return scn_fail_at(c, t->ussd_link_line, "[traffic ussd] names unknown [ussd-link %s]", t->ussd_link);
	const struct ussd_link_cfg *l = li >= 0 ? &s->ussd.links[li] : NULL;
	if (t->system_id[0] == '\0' && (l == NULL || l->system_id[0] == '\0' || strlen(l->system_id) > 15))
		return scn_fail_at(c, t->line, "[traffic ussd] needs system_id (no [ussd-link] gives one)");
	bool hashed = l != NULL && l->password[0] == '$';
	if (t->password[0] == '\0' && (l == NULL || hashed || strlen(l->password) > SMPP_PASSWORD_MAX))
		return scn_fail_at(c, t->line,
				   "[traffic ussd] needs password (the [ussd-link]'s is hashed, longer than SMPP's 8 "
				   "characters, or missing)");
	uint32_t expanded = 0;
	for (uint32_t i = 0; i < t->code_n; i++) {
		uint32_t own = 0, shared = 0;
		for (uint32_t k = 0; k < t->path_n; k++) {
			own += t->path_code[k] == (int8_t)i;
			shared += t->path_code[k] < 0;
		}
		if (own + shared == 0)
			return scn_fail_at(c, t->paths_line, "[traffic ussd] code %s has no path", t->codes[i]);
		expanded += own ? own : shared;
	}
	if (expanded > USSD_NET_PATHS_MAX)
		return scn_fail_at(c, t->paths_line, "[traffic ussd] paths for every code exceed %d",
				   USSD_NET_PATHS_MAX);
	int8_t ref = t->ref >= 0 ? t->ref : l != NULL ? (int8_t)l->ref : USSD_REF_ITS_SESSION_INFO;
	int op = t->release_op >= 0 ? t->release_op : l != NULL ? l->release_op : 0x20;
	if (op == 0 && ref == USSD_REF_USER_MESSAGE_REFERENCE)
		return scn_fail_at(c, t->line, "[traffic ussd] user_message_reference has no end bit: give release_op");
	return SY_OK;
}

static enum sy_rc apps_check(struct scn_pctx *c, const struct scn *s, struct world_ussd *u)
{
	for (uint32_t i = 0; i < u->app_n; i++) {
		struct world_ussd_app *a = &u->apps[i];
		for (uint32_t m = 0; m < s->ussd.menu_n; m++)
			if (strcmp(s->ussd.menus[m].name, a->menu) == 0)
				a->menu_index = (int32_t)m;
		if (a->menu_index < 0)
			return scn_fail_at(c, a->menu_line, "[ussd-app %s] names unknown [ussd-menu %s]", a->name,
					   a->menu);
		for (uint32_t k = 0; k < i; k++)
			if (memcmp(u->apps[k].listen_addr.ip, a->listen_addr.ip, 4) == 0)
				return scn_fail_at(c, a->line, "[ussd-app %s] shares its host %s with [ussd-app %s]",
						   a->name, a->listen, u->apps[k].name);
	}
	return SY_OK;
}

enum sy_rc world_ussd_check(struct scn_pctx *c, const struct scn *s, struct world_ussd *u)
{
	if (u->traffic.present) {
		enum sy_rc rc = traffic_check(c, s, &u->traffic);
		if (rc != SY_OK)
			return rc;
	}
	return apps_check(c, s, u);
}

/* ---- the node's config ---- */

/* Every code's paths contiguous: its own group, else the shared ones. */
static void net_paths(const struct world_ussd_traffic *t, struct ussd_net_cfg *o)
{
	for (uint32_t i = 0; i < t->code_n; i++) {
		bool own = false;
		for (uint32_t k = 0; k < t->path_n; k++)
			own |= t->path_code[k] == (int8_t)i;
		struct ussd_net_code *nc = &o->codes[i];
		*nc = (struct ussd_net_code){t->codes[i], t->code_ppm[i], (uint16_t)o->path_n, 0};
		for (uint32_t k = 0; k < t->path_n && o->path_n < USSD_NET_PATHS_MAX; k++)
			if (own ? t->path_code[k] == (int8_t)i : t->path_code[k] < 0) {
				o->paths[o->path_n++] = (struct ussd_net_path){t->paths[k], t->path_ppm[k]};
				nc->path_n++;
			}
	}
	o->code_n = t->code_n;
}

enum sy_rc world_ussd_net_cfg(const struct world *w, struct ussd_net_cfg *out, char *err, size_t errlen)
{
	const struct world_ussd_traffic *t = &w->ussd.traffic;
	if (!t->present) {
		snprintf(err, errlen, "%s: no [traffic ussd]", w->scn->file);
		return SY_ERR_INVAL;
	}
	int li = link_of(w->scn, t);
	const struct ussd_link_cfg *l = li >= 0 ? &w->scn->ussd.links[li] : NULL;
	uint64_t dur = t->duration_ns ? t->duration_ns : w->scn->run.duration_ns;
	*out = (struct ussd_net_cfg){
	    .name = "ussd-node",
	    .mode = t->node_mode >= 0			     ? (enum ussd_net_mode)t->node_mode
		    : l != NULL && l->mode == USSD_LINK_BIND ? USSD_NET_ACCEPT
							     : USSD_NET_BIND,
	    .listen = t->listen_addr,
	    .system_id = t->system_id[0] ? t->system_id : l->system_id,
	    .password = t->password[0] ? t->password : l->password,
	    .binds = t->binds,
	    .window = t->window,
	    .ref = t->ref >= 0 ? (enum ussd_ref_kind)t->ref
		   : l != NULL ? l->ref
			       : USSD_REF_ITS_SESSION_INFO,
	    .rate_milli = t->rate_milli,
	    .arrivals = (enum ussd_net_arrivals)t->arrivals,
	    .start_ns = t->start_ns,
	    .stop_ns = t->start_ns + dur,
	    .sessions_max = t->sessions_max,
	    .think = t->think,
	    .abandon_ppm = t->abandon_ppm,
	    .handset_timeout_ns = t->handset_timeout_ns,
	    .msisdn = t->msisdn,
	    .handsets = t->handsets,
	};
	int op = t->release_op >= 0 ? t->release_op : l != NULL ? l->release_op : 0x20;
	out->release_op = op == 0 ? USSD_NET_RELEASE_END_BIT : (uint8_t)op;
	const struct ussd_cfg *g = &w->scn->ussd;
	if (g->on) { /* the gateway's own release texts, when the scenario has them */
		const char *texts[] = {g->timeout_text, g->error_text, g->busy_text, g->unknown_text};
		for (uint32_t i = 0; i < SY_ARRAY_LEN(texts); i++)
			out->fail_texts[out->fail_text_n++] = texts[i];
	}
	net_paths(t, out);
	return SY_OK;
}
