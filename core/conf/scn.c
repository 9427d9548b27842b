/* scn.c: the node's sections of the scenario / config file (scn.h): [run],
 * [node], [carrier NAME], [account NAME], [tariff NAME], [smpp-carrier
 * NAME]. One table row per section and per key: a new section is a new
 * table, not new parsing code. The engine is parse.c, the value types
 * keys.c; the simulated world and [expect] come as extensions (scn_ext.h). */
#include "core/conf/scn_int.h"
#include "core/sec/secret.h"
#include "core/smpp/pdu.h"

#include <stdio.h>

#define FIELD(type, obj, off) ((type *)((char *)(obj) + (off)))

/* ---- [run] ---- */

#define RUN(f) offsetof(struct scn_run, f)
static const struct scn_key_def run_keys[] = {
    {"duration", scn_key_duration_nz, RUN(duration_ns), 0, false},
    {"seed", scn_key_u64, RUN(seed), 0, false},
    {"drain", scn_key_duration, RUN(drain_ns), 0, false},
    {"epoch", scn_key_epoch, RUN(epoch_ns), 0, false},
    {"calls_max", scn_key_u32, RUN(calls_max), 0, false},
    {"txn_max", scn_key_u32, RUN(txn_max), 0, false},
    {"t1", scn_key_duration_nz, RUN(t1_ns), 0, false},
};

static void *run_begin(struct scn_pctx *c, void *arg, struct sy_str name)
{
	struct scn *s = arg;
	return &s->run;
}

/* ---- [node] ---- */

/* "256MB", "1GB", "512MiB", "65536KB" or bytes: binary units (MB = MiB). */
static enum sy_rc k_bytes(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	static const struct {
		const char *sfx;
		unsigned shift;
	} units[] = {{"KiB", 10}, {"MiB", 20}, {"GiB", 30}, {"KB", 10}, {"MB", 20}, {"GB", 30}, {"B", 0}};
	struct sy_str num = v;
	unsigned shift = 0;
	uint64_t x;
	for (size_t i = 0; i < SY_ARRAY_LEN(units); i++)
		if (scn_ends_with(v, units[i].sfx, &num)) {
			shift = units[i].shift;
			break;
		}
	while (num.len > 0 && num.p[num.len - 1] == ' ')
		num.len--;
	if (!scn_parse_uint(num, (UINT64_C(1) << 40) >> shift, &x) || (x << shift) < (UINT64_C(1) << 20))
		return scn_bad(c, "size of at least 1MB", v, k);
	*FIELD(uint64_t, obj, k->off) = x << shift;
	return SY_OK;
}

/* "90%": a whole percentage, 1 to 100. */
static enum sy_rc k_percent(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	uint32_t ppm;
	if (!scn_parse_pct(v, &ppm) || ppm % 10000 != 0 || ppm == 0)
		return scn_bad(c, "whole percentage from 1% to 100%", v, k);
	*FIELD(uint32_t, obj, k->off) = ppm / 10000;
	return SY_OK;
}

/* Retry-After counts whole seconds (RFC 3261 20.33). */
static enum sy_rc k_seconds(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	uint64_t ns;
	if (sy_duration_parse_str(v, &ns) != SY_OK || ns < SY_NS_PER_S || ns % SY_NS_PER_S != 0 ||
	    ns / SY_NS_PER_S > 86400)
		return scn_bad(c, "whole number of seconds from 1s to 86400s", v, k);
	*FIELD(uint64_t, obj, k->off) = ns;
	return SY_OK;
}

/* "1s..5m": the first failed bind's backoff and its cap. */
static enum sy_rc k_backoff(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct scn_node *n = obj;
	size_t i = 0;
	while (i + 1 < v.len && !(v.p[i] == '.' && v.p[i + 1] == '.'))
		i++;
	uint64_t lo, hi;
	if (i + 2 >= v.len || sy_duration_parse_str((struct sy_str){v.p, i}, &lo) != SY_OK ||
	    sy_duration_parse_str((struct sy_str){v.p + i + 2, v.len - i - 2}, &hi) != SY_OK || lo == 0 || hi < lo ||
	    hi > 86400 * SY_NS_PER_S)
		return scn_bad(c, "range MIN..MAX of durations (1s..5m)", v, k);
	n->smpp_fail_backoff_ns = lo;
	n->smpp_fail_backoff_max_ns = hi;
	return SY_OK;
}

static enum sy_rc k_auth_unknown(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct scn_node *n = obj;
	if (sy_str_eq(v, SY_STR("reject")))
		n->auth_challenge = false;
	else if (sy_str_eq(v, SY_STR("challenge")))
		n->auth_challenge = true;
	else
		return scn_fail(c, "bad value '%.*s' for '%s' (reject or challenge)", SCN_SV(v), k->name);
	return SY_OK;
}

/* "SHA-256 MD5": the digest algorithms offered, most preferred first. */
static enum sy_rc k_auth_algs(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct scn_node *n = obj;
	struct sy_str rest = v, tok;
	n->auth_alg_n = 0;
	while (scn_next_tok(&rest, &tok, true)) {
		uint8_t alg;
		if (sy_str_eq(tok, SY_STR("SHA-256")))
			alg = 1;
		else if (sy_str_eq(tok, SY_STR("MD5")))
			alg = 0;
		else
			return scn_bad(c, "digest algorithm (SHA-256, MD5)", tok, k);
		if (n->auth_alg_n == 2 || (n->auth_alg_n == 1 && n->auth_algs[0] == alg))
			return scn_fail(c, "'%s' lists an algorithm twice", k->name);
		n->auth_algs[n->auth_alg_n++] = alg;
	}
	if (n->auth_alg_n == 0)
		return scn_bad(c, "digest algorithm (SHA-256, MD5)", v, k);
	return SY_OK;
}

/* "200/s burst 400 block 60s" (burst and block optional) or "off". */
static enum sy_rc k_pike(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct sip_pike_cfg *p = FIELD(struct sip_pike_cfg, obj, k->off);
	struct sy_str rest = v, tok, num;
	uint64_t x;
	if (sy_str_eq(v, SY_STR("off"))) {
		p->off = true;
		return SY_OK;
	}
	if (!scn_next_tok(&rest, &tok, false) || !scn_ends_with(tok, "/s", &num) ||
	    !scn_parse_uint(num, 10000000, &x) || x == 0)
		goto bad;
	p->off = false;
	p->rate = (uint32_t)x;
	p->burst = (uint32_t)(2 * x);
	p->block_ns = 0;
	while (scn_next_tok(&rest, &tok, false)) {
		struct sy_str val;
		if (!scn_next_tok(&rest, &val, false))
			goto bad;
		if (sy_str_eq(tok, SY_STR("burst")) && scn_parse_uint(val, 20000000, &x) && x >= p->rate)
			p->burst = (uint32_t)x;
		else if (!sy_str_eq(tok, SY_STR("block")) || sy_duration_parse_str(val, &p->block_ns) != SY_OK ||
			 p->block_ns == 0)
			goto bad;
	}
	return SY_OK;
bad:
	return scn_bad(c, "RATE/s [burst N >= RATE] [block DURATION], or off", v, k);
}

/* "10.0.2.0/24 192.0.2.7 [2001:db8::]/32": sources pike never counts. */
static enum sy_rc k_pike_exempt(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct sip_pike_cfg *p = FIELD(struct sip_pike_cfg, obj, k->off);
	struct sy_str rest = v, tok;
	p->exempt_n = 0;
	while (scn_next_tok(&rest, &tok, true)) {
		if (p->exempt_n == SIP_PIKE_EXEMPT_MAX || sip_net_parse(tok, &p->exempt[p->exempt_n]) != SY_OK)
			return scn_bad(c, "up to 32 addresses or CIDR prefixes (10.0.0.0/8, [2001:db8::]/32)", v, k);
		p->exempt_n++;
	}
	return SY_OK;
}

/* A bearer token as stored: clear text or $sha256$HEX. Not PBKDF2: a
 * token is checked on every request, and a slow hash there is a lever for
 * anyone to burn the node's CPU; tokens are long and random, so a salt and
 * iterations add nothing (secret.h). */
static enum sy_rc k_token(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	char err[96];
	struct sy_secret *t = FIELD(struct sy_secret, obj, k->off);
	if (sy_secret_parse(t, v.p, v.len, err, sizeof(err)) != SY_OK)
		return scn_fail(c, "bad '%s': %s", k->name, err);
	if (t->kind == SY_SECRET_PBKDF2)
		return scn_fail(c, "'%s' takes clear text or $sha256$HEX, not $pbkdf2-sha256$ (checked per request)",
				k->name);
	return SY_OK;
}

static enum sy_rc k_metrics_auth(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct scn_node *n = obj;
	n->metrics_auth_set = true;
	return scn_key_bool(c, obj, k, v);
}

/* "full": each store commit is fsynced before it is acknowledged, and
 * survives a power loss; "normal" (the default): commits survive a crash
 * of the process, a power loss may take the last ones back. */
static enum sy_rc k_sync(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	bool *full = FIELD(bool, obj, k->off);
	if (sy_str_eq(v, SY_STR("full")))
		*full = true;
	else if (sy_str_eq(v, SY_STR("normal")))
		*full = false;
	else
		return scn_bad(c, "sync mode (full or normal)", v, k);
	return SY_OK;
}

static enum sy_rc k_size(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	uint64_t b;
	if (!scn_parse_uint(v, 1u << 30, &b) || b < 256)
		return scn_bad(c, "byte count from 256 to 1073741824", v, k);
	*FIELD(uint32_t, obj, k->off) = (uint32_t)b;
	return SY_OK;
}

/* "HOST:PORT" of a HEP collector (port 9060 when left out): an IP
 * literal, since the node resolves no names. */
static enum sy_rc k_hep(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct scn_node *n = obj;
	if (!scn_copy_str(n->hep, sizeof(n->hep), v) || sy_addr_parse(n->hep, 9060, &n->hep_addr) != SY_OK ||
	    n->hep_addr.port == 0) {
		n->hep[0] = '\0';
		return scn_bad(c, "collector address IP:PORT or [IPv6]:PORT (port 9060 when left out)", v, k);
	}
	return SY_OK;
}

_Static_assert(SCN_NODES_MAX == 16, "k_nodes' message says 16");

/* nodes = N: SMSC instances (docs/operations.md "One SMSC per core"). */
static enum sy_rc k_nodes(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	uint64_t x;
	if (!scn_parse_uint(v, SCN_NODES_MAX, &x) || x == 0)
		return scn_bad(c, "number of SMSC instances (1 to 16)", v, k);
	*FIELD(uint32_t, obj, k->off) = (uint32_t)x;
	return SY_OK;
}

#define NODE(f) offsetof(struct scn_node, f)
static const struct scn_key_def node_keys[] = {
    {"sip_memory", k_bytes, NODE(sip_memory), 0, false},
    {"overload_at", k_percent, NODE(overload_at), 0, false},
    {"overload_lag", scn_key_duration_nz, NODE(overload_lag_ns), 0, false},
    {"retry_after", k_seconds, NODE(retry_after_ns), 0, false},
    {"osip_memory", k_bytes, NODE(osip_memory), 0, false},
    {"pike", k_pike, NODE(pike), 0, false},
    {"pike_exempt", k_pike_exempt, NODE(pike), 0, false},
    {"sip", scn_key_addr, NODE(sip), NODE(sip_addr), false},
    {"out", scn_key_str, NODE(out), SCN_PATH_MAX, false},
    {"name", scn_key_str, NODE(name), SCN_NAME_MAX, false},
    {"invite_timeout", scn_key_duration_nz, NODE(invite_timeout_ns), 0, false},
    {"ring_timeout", scn_key_duration_nz, NODE(ring_timeout_ns), 0, false},
    {"max_call", scn_key_duration_nz, NODE(max_call_ns), 0, false},
    {"shutdown_grace", scn_key_duration, NODE(shutdown_grace_ns), 0, false},
    {"sms_commit_interval", scn_key_duration_nz, NODE(sms_commit_interval_ns), 0, false},
    {"sync", k_sync, NODE(sync_full), 0, false},
    {"nodes", k_nodes, NODE(nodes), 0, false},
    {"session_expires", scn_key_duration, NODE(session_expires_ns), 0, false},
    {"min_se", scn_key_duration_nz, NODE(min_se_ns), 0, false},
    {"smpp", scn_key_addr, NODE(smpp), NODE(smpp_addr), false},
    {"http", scn_key_addr, NODE(http), NODE(http_addr), false},
    {"smpp_bind_timeout", scn_key_duration_nz, NODE(smpp_bind_timeout_ns), 0, false},
    {"smpp_conns_per_source", scn_key_u32, NODE(smpp_conns_per_source), 0, false},
    {"smpp_fail_backoff", k_backoff, 0, 0, false},
    {"realm", scn_key_str, NODE(realm), sizeof(((struct scn_node *)0)->realm), false},
    {"auth_unknown", k_auth_unknown, 0, 0, false},
    {"auth_algorithms", k_auth_algs, 0, 0, false},
    {"nonce_ttl", k_seconds, NODE(nonce_ttl_ns), 0, false},
    {"register_max", k_seconds, NODE(register_max_ns), 0, false},
    {"http_timeout", scn_key_duration_nz, NODE(http_timeout_ns), 0, false},
    {"http_max_header", k_size, NODE(http_max_header), 0, false},
    {"http_max_body", k_size, NODE(http_max_body), 0, false},
    {"http_max_conns", scn_key_u32, NODE(http_max_conns), 0, false},
    {"http_conns_per_source", scn_key_u32, NODE(http_conns_per_source), 0, false},
    {"metrics_auth", k_metrics_auth, NODE(metrics_auth), 0, false},
    {"metrics_token", k_token, NODE(metrics_token), 0, false},
    {"hep", k_hep, 0, 0, false},
    {"hep_id", scn_key_u32, NODE(hep_id), 0, false},
    {"hep_password", scn_key_str, NODE(hep_password), SCN_HEP_TEXT_MAX + 1, false},
    {"hep_node", scn_key_str, NODE(hep_node), SCN_HEP_TEXT_MAX + 1, false},
};

static void *node_begin(struct scn_pctx *c, void *arg, struct sy_str name)
{
	struct scn *s = arg;
	return &s->node;
}

/* ---- named sections: one array each ---- */

/* A new named entry at the end of an array of n entries of size bytes
 * (the name is its first field): refuses duplicates and overflow. */
static void *named_add(struct scn_pctx *c, void *base, uint32_t *n, uint32_t max, size_t size, const char *what,
		       struct sy_str name)
{
	for (uint32_t i = 0; i < *n; i++)
		if (sy_str_eq(name, sy_str_from((const char *)base + i * size))) {
			scn_fail(c, "duplicate section %s", scn_pctx_label(c));
			return NULL;
		}
	if (*n == max) {
		scn_fail(c, "too many %ss (max %u)", what, max);
		return NULL;
	}
	char *e = (char *)base + *n * size;
	memset(e, 0, size);
	if (!scn_copy_str(e, SCN_NAME_MAX, name)) {
		scn_fail(c, "%s name too long '%.*s' (max %d)", what, SCN_SV(name), SCN_NAME_MAX - 1);
		return NULL;
	}
	(*n)++;
	return e;
}

/* ---- [carrier NAME] ---- */

static enum sy_rc k_capacity(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct scn_carrier *ca = obj;
	struct sy_str rest = v, num, unit, extra;
	uint64_t x;
	scn_next_tok(&rest, &num, false);
	bool has_unit = scn_next_tok(&rest, &unit, false);
	if (!scn_parse_uint(num, UINT32_MAX, &x) || scn_next_tok(&rest, &extra, false) ||
	    (has_unit && !sy_str_eq(unit, SY_STR("calls"))))
		return scn_bad(c, "capacity", v, k);
	ca->capacity = (uint32_t)x;
	return SY_OK;
}

/* "0.0100/min": millionths of a currency unit per minute, exactly. */
static enum sy_rc k_rate(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct scn_carrier *ca = obj;
	struct sy_str num = v;
	scn_ends_with(v, "/min", &num);
	if (sy_decimal_parse(num, 6, &ca->rate_micro_per_min) != SY_OK)
		return scn_bad(c, "rate", v, k);
	return SY_OK;
}

#define CAR(f) offsetof(struct scn_carrier, f)
static const struct scn_key_def carrier_keys[] = {
    {"prefixes", scn_key_prefixes, CAR(prefixes), CAR(prefix_n), true},
    {"address", scn_key_addr, CAR(address), CAR(addr), false},
    {"capacity", k_capacity, 0, 0, false},
    {"priority", scn_key_i32, CAR(priority), 0, false},
    {"rate", k_rate, 0, 0, false},
};

static void *carrier_begin(struct scn_pctx *c, void *arg, struct sy_str name)
{
	struct scn *s = arg;
	struct scn_carrier *ca =
	    named_add(c, s->carriers, &s->carrier_n, SCN_CARRIERS_MAX, sizeof(*ca), "carrier", name);
	if (ca != NULL)
		ca->line = scn_pctx_line(c);
	return ca;
}

/* ---- [account NAME] ---- */

/* "1000.00 USD" or "1000.00": exact micro-units; the currency is kept. */
static bool parse_money(struct sy_str v, int64_t *micros, char currency[4])
{
	struct sy_str rest = v, num, cur, extra;
	uint64_t x;
	if (!scn_next_tok(&rest, &num, false) || sy_decimal_parse(num, 6, &x) != SY_OK || x > INT64_MAX)
		return false;
	if (scn_next_tok(&rest, &cur, false)) {
		if (!scn_currency_ok(cur) || scn_next_tok(&rest, &extra, false))
			return false;
		memcpy(currency, cur.p, 3), currency[3] = '\0';
	}
	*micros = (int64_t)x;
	return true;
}

static enum sy_rc k_money(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct scn_account *a = obj;
	char cur[4] = "";
	if (!parse_money(v, FIELD(int64_t, obj, k->off), cur))
		return scn_bad(c, "amount", v, k);
	if (cur[0] != '\0') {
		if (a->currency[0] != '\0' && strcmp(a->currency, cur) != 0)
			return scn_fail(c, "currency %s differs from %s in %s", cur, a->currency, scn_pctx_label(c));
		memcpy(a->currency, cur, 4);
	}
	return SY_OK;
}

static enum sy_rc k_account_type(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct scn_account *a = obj;
	if (sy_str_eq(v, SY_STR("prepaid")))
		a->type = SCN_ACCOUNT_PREPAID;
	else if (sy_str_eq(v, SY_STR("postpaid")))
		a->type = SCN_ACCOUNT_POSTPAID;
	else
		return scn_fail(c, "bad type '%.*s' for '%s' (prepaid or postpaid)", SCN_SV(v), k->name);
	return SY_OK;
}

#define ACC(f) offsetof(struct scn_account, f)
static const struct scn_key_def account_keys[] = {
    {"type", k_account_type, 0, 0, false},
    {"balance", k_money, ACC(balance_micros), 0, false},
    {"credit_limit", k_money, ACC(credit_limit_micros), 0, false},
    {"callers", scn_key_digits, ACC(callers), SCN_PATTERN_MAX, false},
    {"count", scn_key_u32, ACC(count), 0, false},
    {"tariff", scn_key_str, ACC(tariff), SCN_NAME_MAX, false},
    {"password", scn_key_str, ACC(password), SCN_SECRET_MAX, false},
    {"token", k_token, ACC(token), 0, false},
    {"tps", scn_key_u32, ACC(tps), 0, false},
    {"smpp", scn_key_bool, ACC(smpp), 0, false},
    {"binds", scn_key_u32, ACC(binds), 0, false},
};

static void *account_begin(struct scn_pctx *c, void *arg, struct sy_str name)
{
	struct scn *s = arg;
	struct scn_account *a = named_add(c, s->accounts, &s->account_n, SCN_ACCOUNTS_MAX, sizeof(*a), "account", name);
	if (a != NULL)
		a->line = scn_pctx_line(c);
	return a;
}

/* SMPP access is explicit, and never without a password the bind can
 * carry (SMPP 3.4: 8 octets) in a form core/sec/secret.h reads. */
static enum sy_rc account_smpp_check(struct scn_pctx *c, const struct scn_account *a)
{
	struct sy_secret sec;
	char why[128] = "";
	if (!a->smpp)
		return SY_OK;
	/* a group's members bind as NAME-0 .. NAME-(count-1): the longest
	 * must fit SMPP's system_id */
	if (a->count > 1 && snprintf(NULL, 0, "%s-%u", a->name, a->count - 1) > SMPP_SYSTEM_ID_MAX)
		return scn_fail_at(c, a->line, "[account %s] member %s-%u is longer than SMPP's %d-character system_id",
				   a->name, a->name, a->count - 1, SMPP_SYSTEM_ID_MAX);
	if (a->password[0] == '\0')
		return scn_fail_at(c, a->line, "[account %s] smpp = yes needs a non-empty password", a->name);
	if (sy_secret_parse(&sec, a->password, strlen(a->password), why, sizeof(why)) != SY_OK)
		return scn_fail_at(c, a->line, "[account %s] password: %s", a->name, why);
	if (sec.kind == SY_SECRET_PLAIN && strlen(a->password) > SMPP_PASSWORD_MAX)
		return scn_fail_at(c, a->line, "[account %s] password is longer than SMPP's %d characters", a->name,
				   SMPP_PASSWORD_MAX);
	return SY_OK;
}

static enum sy_rc account_end(struct scn_pctx *c, void *obj)
{
	struct scn_account *a = obj;
	if (a->currency[0] == '\0')
		strcpy(a->currency, "USD");
	if (a->count > 1000000)
		return scn_fail_at(c, a->line, "[account %s] count %u is over 1000000", a->name, a->count);
	/* an SMPP group's members are told apart by their system_id */
	if (a->count > 1 && a->callers[0] == '\0' && !a->smpp)
		return scn_fail_at(c, a->line, "[account %s] with count needs 'callers' (the number prefix)", a->name);
	return account_smpp_check(c, a);
}

/* ---- [tariff NAME] ---- */

static const struct scn_key_def tariff_keys[] = {
    {"file", scn_key_file, offsetof(struct scn_tariff, file), 0, true},
};

static void *tariff_begin(struct scn_pctx *c, void *arg, struct sy_str name)
{
	struct scn *s = arg;
	struct scn_tariff *t = named_add(c, s->tariffs, &s->tariff_n, SCN_TARIFFS_MAX, sizeof(*t), "tariff", name);
	if (t != NULL)
		t->line = scn_pctx_line(c);
	return t;
}

/* ---- [smpp-carrier NAME] ---- */

/* "0.0050" or "0.0050/msg": micro-units per message. */
static enum sy_rc k_msg_rate(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct sy_str num = v;
	scn_ends_with(v, "/msg", &num);
	if (sy_decimal_parse(num, 6, FIELD(uint64_t, obj, k->off)) != SY_OK)
		return scn_bad(c, "rate", v, k);
	return SY_OK;
}

#define SC(f) offsetof(struct scn_smpp_carrier, f)
static const struct scn_key_def smpp_carrier_keys[] = {
    {"prefixes", scn_key_prefixes, SC(prefixes), SC(prefix_n), true},
    {"priority", scn_key_i32, SC(priority), 0, false},
    {"address", scn_key_addr, SC(address), SC(addr), false},
    {"system_id", scn_key_str, SC(system_id), 16, false},
    {"password", scn_key_str, SC(password), 9, false},
    {"binds", scn_key_u32, SC(binds), 0, false},
    {"window", scn_key_u32, SC(window), 0, false},
    {"rate", k_msg_rate, SC(rate_micros), 0, false},
};

static void *smpp_carrier_begin(struct scn_pctx *c, void *arg, struct sy_str name)
{
	struct scn *s = arg;
	struct scn_smpp_carrier *sc = named_add(c, s->smpp_carriers, &s->smpp_carrier_n, SCN_SMPP_CARRIERS_MAX,
						sizeof(*sc), "SMPP carrier", name);
	if (sc == NULL)
		return NULL;
	sc->line = scn_pctx_line(c);
	scn_copy_str(sc->system_id, sizeof(sc->system_id), (struct sy_str){name.p, SY_MIN(name.len, 15)});
	strcpy(sc->password, "secret");
	sc->binds = 1;
	sc->window = 100;
	return sc;
}

static enum sy_rc smpp_carrier_end(struct scn_pctx *c, void *obj)
{
	struct scn_smpp_carrier *sc = obj;
	if (sc->binds == 0 || sc->binds > 64)
		return scn_fail_at(c, sc->line, "[smpp-carrier %s] binds must be 1..64", sc->name);
	if (sc->window == 0)
		return scn_fail_at(c, sc->line, "[smpp-carrier %s] window must be at least 1", sc->name);
	return SY_OK;
}

/* ---- [trunk NAME] and [user NAME]: who may send calls ---- */

static enum sy_rc k_trunk_address(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v)
{
	struct scn_trunk *t = obj;
	struct sy_str rest = v, tok;
	t->net_n = 0;
	while (scn_next_tok(&rest, &tok, true)) {
		if (t->net_n == SCN_TRUNK_NETS_MAX)
			return scn_fail(c, "too many addresses for '%s' (max %d)", k->name, SCN_TRUNK_NETS_MAX);
		if (sip_net_parse(tok, &t->nets[t->net_n]) != SY_OK)
			return scn_bad(c, "address or network (10.0.2.1, 192.0.2.0/24, 10.1.1.1:5070, [2001:db8::]/32)",
				       tok, k);
		t->net_n++;
	}
	return SY_OK;
}

#define TRK(f) offsetof(struct scn_trunk, f)
static const struct scn_key_def trunk_keys[] = {
    {"address", k_trunk_address, 0, 0, true},
    {"account", scn_key_str, TRK(account), SCN_NAME_MAX, false},
};

static void *trunk_begin(struct scn_pctx *c, void *arg, struct sy_str name)
{
	struct scn *s = arg;
	struct scn_trunk *t = named_add(c, s->trunks, &s->trunk_n, SCN_TRUNKS_MAX, sizeof(*t), "trunk", name);
	if (t != NULL)
		t->line = scn_pctx_line(c);
	return t;
}

#define USR(f) offsetof(struct scn_user, f)
static const struct scn_key_def user_keys[] = {
    {"password", scn_key_str, USR(password), SCN_PASSWORD_MAX, true},
    {"account", scn_key_str, USR(account), SCN_NAME_MAX, false},
};

static void *user_begin(struct scn_pctx *c, void *arg, struct sy_str name)
{
	struct scn *s = arg;
	struct scn_user *u = named_add(c, s->users, &s->user_n, SCN_USERS_MAX, sizeof(*u), "user", name);
	if (u != NULL)
		u->line = scn_pctx_line(c);
	return u;
}

/* A stored HA1 must be the digest's length in hex. */
static bool ha1_ok(const char *pw)
{
	size_t want = strncmp(pw, "md5:", 4) == 0 ? 32 : strncmp(pw, "sha256:", 7) == 0 ? 64 : 0;
	if (want == 0)
		return true; /* clear text */
	const char *h = strchr(pw, ':') + 1;
	if (strlen(h) != want)
		return false;
	for (; *h != '\0'; h++)
		if (!((*h >= '0' && *h <= '9') || (*h >= 'a' && *h <= 'f') || (*h >= 'A' && *h <= 'F')))
			return false;
	return true;
}

static enum sy_rc user_end(struct scn_pctx *c, void *obj)
{
	struct scn_user *u = obj;
	if (u->password[0] == '\0')
		return scn_fail_at(c, u->line, "[user %s] needs a non-empty password", u->name);
	if (!ha1_ok(u->password))
		return scn_fail_at(c, u->line, "[user %s] password: md5: takes 32 hex digits, sha256: 64", u->name);
	return SY_OK;
}

/* Trunks' and users' accounts name [account] sections. */
static enum sy_rc access_finish(struct scn_pctx *c, const struct scn *s)
{
	for (uint32_t i = 0; i < s->trunk_n; i++) {
		const struct scn_trunk *t = &s->trunks[i];
		if (t->account[0] != '\0' && scn_account_find(s, t->account) < 0)
			return scn_fail_at(c, t->line, "[trunk %s] names unknown account '%s'", t->name, t->account);
	}
	for (uint32_t i = 0; i < s->user_n; i++) {
		const struct scn_user *u = &s->users[i];
		if (u->account[0] != '\0' && scn_account_find(s, u->account) < 0)
			return scn_fail_at(c, u->line, "[user %s] names unknown account '%s'", u->name, u->account);
	}
	return SY_OK;
}

/* ---- the section table ---- */

/* Names that refer to other sections, once the whole file is read. */
static enum sy_rc node_finish(struct scn_pctx *c, const struct scn *s, void *arg)
{
	uint32_t smsc_n = 0; /* the SMSC's accounts, as core/conf/node.c gives them */
	for (uint32_t i = 0; i < s->account_n; i++) {
		const struct scn_account *a = &s->accounts[i];
		smsc_n += a->smpp && a->count > 1 ? SY_MIN(a->count, SCN_SMSC_ACCOUNTS_MAX + 1) : 1;
		if (smsc_n > SCN_SMSC_ACCOUNTS_MAX)
			return scn_fail_at(c, a->line,
					   "[account %s]: over %d SMPP accounts (each member of a group counts)",
					   a->name, SCN_SMSC_ACCOUNTS_MAX);
		bool found = a->tariff[0] == '\0';
		for (uint32_t t = 0; !found && t < s->tariff_n; t++)
			found = strcmp(s->tariffs[t].name, a->tariff) == 0;
		if (!found)
			return scn_fail_at(c, a->line, "[account %s] names unknown tariff '%s'", a->name, a->tariff);
		if (a->count > 1 && a->token.kind != SY_SECRET_NONE)
			return scn_fail_at(c, a->line, "[account %s] with count cannot have an HTTP token", a->name);
	}
	if (s->node.metrics_auth_set && s->node.metrics_auth && s->node.metrics_token.kind == SY_SECRET_NONE)
		return scn_fail(c, "[node] metrics_auth = yes needs metrics_token (the scraper's bearer token)");
	return access_finish(c, s);
}

#define KEYS(t) (t), SY_ARRAY_LEN(t)
static const struct scn_sec_def node_secs[] = {
    {"run", NULL, KEYS(run_keys), run_begin, NULL, NULL, false},
    {"node", NULL, KEYS(node_keys), node_begin, NULL, NULL, false},
    {"carrier", "*", KEYS(carrier_keys), carrier_begin, NULL, NULL, true},
    {"account", "*", KEYS(account_keys), account_begin, account_end, NULL, true},
    {"tariff", "*", KEYS(tariff_keys), tariff_begin, NULL, NULL, true},
    {"smpp-carrier", "*", KEYS(smpp_carrier_keys), smpp_carrier_begin, smpp_carrier_end, NULL, true},
    {"trunk", "*", KEYS(trunk_keys), trunk_begin, NULL, NULL, true},
    {"user", "*", KEYS(user_keys), user_begin, user_end, NULL, true},
};

const struct scn_ext scn_node_ext = {.secs = node_secs, .sec_n = SY_ARRAY_LEN(node_secs), .finish = node_finish};

void scn_defaults(struct scn *s)
{
	s->run.duration_ns = 60 * SY_NS_PER_S;
	s->run.seed = 1;
	s->run.drain_ns = 120 * SY_NS_PER_S;
	s->run.epoch_ns = 1767225600ull * SY_NS_PER_S; /* 2026-01-01T00:00:00Z */
	s->run.t1_ns = 500 * SY_NS_PER_MS;
	strcpy(s->node.sip, "127.0.0.1:5060");
	s->node.invite_timeout_ns = 3 * SY_NS_PER_S;
	s->node.ring_timeout_ns = 120 * SY_NS_PER_S;
	s->node.max_call_ns = 4 * 3600 * SY_NS_PER_S;
	s->node.shutdown_grace_ns = 2 * SY_NS_PER_S;
	s->node.session_expires_ns = 1800 * SY_NS_PER_S;
	s->node.min_se_ns = 90 * SY_NS_PER_S;
	s->node.nonce_ttl_ns = 300 * SY_NS_PER_S;
	s->node.register_max_ns = 3600 * SY_NS_PER_S;
	SY_ASSERT(sy_addr_parse(s->node.sip, 5060, &s->node.sip_addr) == SY_OK);
	strcpy(s->node.smpp, "127.0.0.1:2775");
	SY_ASSERT(sy_addr_parse(s->node.smpp, 2775, &s->node.smpp_addr) == SY_OK);
	strcpy(s->node.http, "127.0.0.1:8080");
	SY_ASSERT(sy_addr_parse(s->node.http, 8080, &s->node.http_addr) == SY_OK);
	s->node.http_timeout_ns = 10 * SY_NS_PER_S;
	s->node.http_max_header = 8192;
	s->node.http_max_body = 65536;
	s->node.http_max_conns = 512;
	s->node.http_conns_per_source = 32;
	s->node.hep_id = 2001;
	ussd_cfg_defaults(&s->ussd);
	fraud_cfg_defaults(&s->fraud);
	s->fraud.on = false; /* until a [fraud] section */
	s->fraud.default_rule = -1;
}

int scn_carrier_find(const struct scn *s, const char *name)
{
	for (uint32_t i = 0; i < s->carrier_n; i++)
		if (strcmp(s->carriers[i].name, name) == 0)
			return (int)i;
	return -1;
}

int scn_smpp_carrier_find(const struct scn *s, const char *name)
{
	for (uint32_t i = 0; i < s->smpp_carrier_n; i++)
		if (strcmp(s->smpp_carriers[i].name, name) == 0)
			return (int)i;
	return -1;
}

int scn_account_find(const struct scn *s, const char *name)
{
	for (uint32_t i = 0; i < s->account_n; i++)
		if (strcmp(s->accounts[i].name, name) == 0)
			return (int)i;
	return -1;
}
