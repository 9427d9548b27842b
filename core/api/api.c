/* api.c: the routes of the node's HTTP API and their handlers; see api.h.
 * Bodies and status codes are the API's contract (docs/cli.md): JSON for
 * /sms and /health, Prometheus text for /metrics. */
#include "api.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/billing/callbill.h"
#include "core/json.h"
#include "core/metrics/counters.h"
#include "core/sec/limit.h"
#include "core/sip/switch.h"

#define API_METRICS_MAX_DEFAULT (256 * 1024)

struct api {
	struct vswitch *sw;
	struct smsc *smsc;
	struct api_sms_ops sms; /* submit NULL: no POST /sms */
	const struct smsc_stats *(*sms_stats)(void *arg);
	void *sms_stats_arg;
	struct api_account *accts;
	uint32_t acct_n;
	bool metrics_auth;
	struct sy_secret metrics_token;
	struct sy_srclimit *fails; /* failed tokens per source */
	struct api_http_stats st;
	char *page; /* the /metrics page, rendered per request */
	size_t page_max;
	uint64_t last_attempts; /* at the last status line */
	sy_process_stats_fn process;
	struct api_table tables[API_TABLES_MAX];
	uint32_t table_n;
};

typedef void (*api_fn)(struct api *a, struct api_req *r);

struct api_route {
	const char *method, *path;
	api_fn fn;
};

static void reply(struct api_req *r, int code, const char *type, const char *body, size_t len)
{
	r->ops->reply(r->ctx, code, type, body, len);
}

static void reply_json(struct api_req *r, int code, const char *fmt, const char *arg)
{
	char body[256];
	int n = snprintf(body, sizeof(body), fmt, arg);
	reply(r, code, "application/json", body, n > 0 ? (size_t)n : 0);
}

/* ---- GET /metrics ---- */

enum sy_rc api_metrics(struct api *a, char *buf, size_t cap, size_t *len)
{
	struct sy_ctr_out o = {buf, cap, 0, false};
	const struct smsc_stats *sms = NULL;
	if (a->sms_stats != NULL)
		sms = a->sms_stats(a->sms_stats_arg); /* before the tables: it refreshes the cluster's */
	else if (a->smsc != NULL)
		sms = smsc_stats(a->smsc);
	if (a->sw != NULL) {
		sy_counters_prom(&o, &vswitch_counters, a->sw);
		sy_counters_prom(&o, &vswitch_disk_counters, &a->sw->disk);
		sy_counters_prom(&o, &b2bua_counters, b2bua_stats(a->sw->b2bua));
		sy_counters_prom(&o, &sip_stack_counters, sip_stack_stats(b2bua_stack(a->sw->b2bua)));
		sy_counters_prom(&o, &sip_auth_counters, b2bua_auth_stats(a->sw->b2bua));
		if (a->sw->bill != NULL) {
			struct callbill_stats bs;
			callbill_stats(a->sw->bill, &bs);
			sy_counters_prom(&o, &callbill_counters, &bs);
		}
	}
	if (sms != NULL)
		sy_counters_prom(&o, &smsc_counters, sms);
	sy_counters_prom(&o, &api_http_counters, &a->st);
	for (uint32_t i = 0; i < a->table_n; i++)
		sy_counters_prom(&o, a->tables[i].t, a->tables[i].stats);
	if (a->process != NULL) {
		struct sy_process_stats ps;
		a->process(&ps);
		sy_counters_prom(&o, &process_counters, &ps);
	}
	*len = o.len;
	return o.cut ? SY_ERR_FULL : SY_OK;
}

static void metrics_get(struct api *a, struct api_req *r)
{
	size_t len;
	if (api_metrics(a, a->page, a->page_max, &len) != SY_OK) {
		reply(r, 503, "text/plain", "metrics page too large\n", 23);
		return;
	}
	reply(r, 200, "text/plain; version=0.0.4", a->page, len);
}

/* ---- the status lines serve logs ---- */

void api_status_line(struct api *a, uint64_t interval_ns, char *buf, size_t n)
{
	SY_ASSERT(a->sw != NULL && interval_ns > 0);
	const struct b2bua_stats *st = b2bua_stats(a->sw->b2bua);
	const struct sip_stack_stats *ss = sip_stack_stats(b2bua_stack(a->sw->b2bua));
	uint64_t d = st->attempts - a->last_attempts;
	a->last_attempts = st->attempts;
	snprintf(buf, n,
		 "status: cps=%.1f active=%llu attempts=%llu answered=%llu failed=%llu cdrs=%llu rx=%llu bad=%llu",
		 (double)d * 1e9 / (double)interval_ns, (unsigned long long)st->active,
		 (unsigned long long)st->attempts, (unsigned long long)st->answered, (unsigned long long)st->failed,
		 (unsigned long long)vswitch_cdrs_written(a->sw), (unsigned long long)ss->rx_msgs,
		 (unsigned long long)(ss->rx_bad_dropped + ss->rx_bad_400));
}

void api_summary_line(struct api *a, char *buf, size_t n)
{
	SY_ASSERT(a->sw != NULL);
	const struct b2bua_stats *st = b2bua_stats(a->sw->b2bua);
	snprintf(buf, n, "done: attempts=%llu answered=%llu completed=%llu failed=%llu cdrs=%llu lost=%llu",
		 (unsigned long long)st->attempts, (unsigned long long)st->answered, (unsigned long long)st->completed,
		 (unsigned long long)st->failed, (unsigned long long)vswitch_cdrs_written(a->sw),
		 (unsigned long long)vswitch_cdrs_lost(a->sw));
}

/* ---- GET /health: the process answers, and which services it runs ---- */

static void health_get(struct api *a, struct api_req *r)
{
	char body[128];
	int n = snprintf(body, sizeof(body), "{\"status\":\"ok\",\"sip\":%s,\"smpp\":%s}\n",
			 a->sw != NULL ? "true" : "false", a->smsc != NULL ? "true" : "false");
	reply(r, 200, "application/json", body, (size_t)n);
}

/* ---- POST /sms: {"from": "...", "to": "...", "text": "..."} with an
 * account's bearer token; 202 with the message id once it is durable. ---- */

static void sms_done(void *arg, enum sy_rc rc, uint64_t first_id, uint32_t parts)
{
	struct api_req *r = arg;
	char body[128];
	if (rc != SY_OK) {
		reply_json(r, 503, "{\"error\":\"%s\"}\n", sy_rc_str(rc));
		return;
	}
	int n = snprintf(body, sizeof(body), "{\"message_id\":\"%llu\",\"parts\":%u}\n", (unsigned long long)first_id,
			 parts);
	reply(r, 202, "application/json", body, (size_t)n);
}

/* A refused submit: no route is the client's to fix (422), a full SMSC is
 * temporary (503), anything else is the request's fault (400). */
static int submit_status(enum sy_rc rc)
{
	if (rc == SY_DECLINED)
		return 422;
	return rc == SY_ERR_FULL ? 503 : 400;
}

/* Refused by fraud detection: 403 with the reason (block), or 429 with
 * its Retry-After (throttle). The reason is made JSON-safe: it holds
 * numbers and range labels others wrote. */
static void sms_fraud_reply(struct api *a, struct api_req *r, const struct fraud_decision *fd)
{
	char why[FRAUD_REASON_MAX], secs[16];
	size_t n = 0;
	for (size_t i = 0; i < sizeof(why) - 1 && fd->reason[i] != '\0'; i++)
		if ((unsigned char)fd->reason[i] >= 0x20 && fd->reason[i] != 0x7f)
			why[n++] = fd->reason[i] == '"' || fd->reason[i] == '\\' ? '\'' : fd->reason[i];
	why[n] = '\0';
	if (fd->action == FRAUD_THROTTLE) {
		a->st.throttled++;
		snprintf(secs, sizeof(secs), "%u", fd->retry_after_s > 0 ? fd->retry_after_s : 1);
		r->ops->add_header(r->ctx, "Retry-After", secs);
	}
	reply_json(r, fd->action == FRAUD_THROTTLE ? 429 : 403, "{\"error\":\"fraud: %s\"}\n", why);
}

/* Sent as the token's account (api_handle checked it). A body that names
 * an account must name that one: never another account's traffic. */
static void sms_post(struct api *a, struct api_req *r, const char *account)
{
	struct sy_str body = r->body, from, to, text;
	char *scratch = malloc(body.len + 1), err[96];
	struct json_obj o;
	if (scratch == NULL) {
		reply_json(r, 503, "{\"error\":\"%s\"}\n", "out of memory");
		return;
	}
	enum sy_rc rc = json_parse_flat(body.p, body.len, scratch, body.len + 1, &o, err, sizeof(err));
	if (rc != SY_OK || !json_get_str(&o, "from", &from) || !json_get_str(&o, "to", &to) ||
	    !json_get_str(&o, "text", &text)) {
		free(scratch);
		reply_json(r, 400, "{\"error\":\"%s\"}\n",
			   rc != SY_OK ? err : "from, to and text are required strings");
		return;
	}
	struct sy_str named;
	if (json_get_str(&o, "account", &named) && !sy_str_eq(named, sy_str_from(account))) {
		free(scratch);
		reply_json(r, 403, "{\"error\":\"%s\"}\n", "the token does not belong to that account");
		return;
	}
	struct fraud_decision fd = {.action = FRAUD_ALLOW};
	struct smsc_text_req q = {.account = account,
				  .from = from,
				  .to = to,
				  .text = text,
				  .dlr = true,
				  .done = sms_done,
				  .arg = r,
				  .fraud = &fd};
	rc = a->sms.submit(a->sms.ctx, &q);
	free(scratch); /* the SMSC copied what it keeps */
	if (fd.action == FRAUD_BLOCK || fd.action == FRAUD_THROTTLE) {
		sms_fraud_reply(a, r, &fd);
	} else if (rc == SY_AGAIN) {
		a->st.throttled++;
		r->ops->add_header(r->ctx, "Retry-After", "1");
		reply_json(r, 429, "{\"error\":\"%s\"}\n", "over the account's tps");
	} else if (rc != SY_OK) {
		reply_json(r, submit_status(rc), "{\"error\":\"%s\"}\n",
			   rc == SY_DECLINED ? "no route for destination" : sy_rc_str(rc));
	}
}

/* ---- who is asking: bearer tokens (RFC 6750) ---- */

/* The token of "Authorization: Bearer TOKEN", or len 0. */
static struct sy_str bearer(struct api_req *r)
{
	const char *v = r->ops->header(r->ctx, "Authorization");
	if (v == NULL || strncasecmp(v, "Bearer ", 7) != 0)
		return (struct sy_str){NULL, 0};
	v += 7;
	while (*v == ' ')
		v++;
	size_t n = strlen(v);
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	return (struct sy_str){v, n};
}

/* Whether the token digest h matches s, in constant time. Clear and
 * $sha256$ tokens are both kept as SHA-256 (secret.h), so one digest per
 * request serves every account; PBKDF2 (not accepted by the config for
 * tokens) would take its own slow path. */
static bool token_is(const struct sy_secret *s, const uint8_t h[32], struct sy_str tok)
{
	if (s->kind == SY_SECRET_PLAIN || s->kind == SY_SECRET_SHA256)
		return sy_ct_equal(h, s->hash, 32);
	return s->kind == SY_SECRET_PBKDF2 && sy_secret_check(s, tok.p, tok.len);
}

/* The account the token belongs to, or NULL. Every account is compared,
 * so the time taken says nothing about which one matched. */
static const char *token_account(struct api *a, struct sy_str tok, const uint8_t h[32])
{
	const char *who = NULL;
	for (uint32_t i = 0; i < a->acct_n; i++)
		if (token_is(&a->accts[i].token, h, tok) && who == NULL)
			who = a->accts[i].name;
	return who;
}

/* One answer for a missing and a wrong token, so a prober learns nothing. */
static void unauthorized(struct api *a, struct api_req *r)
{
	a->st.unauthorized++;
	if (r->from != NULL)
		sy_srclimit_fail(a->fails, r->from, r->now_ns, API_FAIL_BACKOFF_NS, API_FAIL_BACKOFF_MAX_NS);
	r->ops->add_header(r->ctx, "WWW-Authenticate", "Bearer realm=\"" API_REALM "\"");
	reply_json(r, 401, "{\"error\":\"%s\"}\n", "missing or unknown bearer token");
}

/* Checks the request's token for route fn: false when it was answered
 * (401, or 429 for a source backing off). *account: POST /sms's account. */
static bool authorize(struct api *a, struct api_req *r, api_fn fn, const char **account);

/* ---- routing ---- */

static void sms_route(struct api *a, struct api_req *r)
{
	const char *account = NULL;
	if (authorize(a, r, sms_route, &account))
		sms_post(a, r, account);
}

static void metrics_route(struct api *a, struct api_req *r)
{
	if (!a->metrics_auth || authorize(a, r, metrics_route, NULL))
		metrics_get(a, r);
}

static bool authorize(struct api *a, struct api_req *r, api_fn fn, const char **account)
{
	if (r->from != NULL && sy_srclimit_blocked(a->fails, r->from, r->now_ns)) {
		a->st.backoff++;
		r->ops->add_header(r->ctx, "Retry-After", "1");
		reply_json(r, 429, "{\"error\":\"%s\"}\n", "too many failed tokens from this address");
		return false;
	}
	struct sy_str tok = bearer(r);
	uint8_t h[32];
	bool ok = tok.len > 0;
	if (ok)
		SHA256((const unsigned char *)tok.p, tok.len, h);
	if (ok && fn == metrics_route)
		ok = token_is(&a->metrics_token, h, tok);
	else if (ok)
		ok = (*account = token_account(a, tok, h)) != NULL;
	if (!ok) {
		unauthorized(a, r);
		return false;
	}
	if (r->from != NULL)
		sy_srclimit_success(a->fails, r->from);
	return true;
}

/* Every route but /health needs a token (GET /metrics: when metrics_auth). */
static const struct api_route routes[] = {
    {"GET", "/metrics", metrics_route},
    {"GET", "/health", health_get},
    {"POST", "/sms", sms_route},
};

static bool route_on(const struct api *a, const struct api_route *rt)
{
	return rt->fn != sms_route || a->sms.submit != NULL;
}

void api_handle(struct api *a, struct api_req *r)
{
	bool path_known = false;
	a->st.requests++;
	for (size_t i = 0; i < SY_ARRAY_LEN(routes); i++) {
		const struct api_route *rt = &routes[i];
		if (!route_on(a, rt) || !sy_str_eq(r->path, sy_str_from(rt->path)))
			continue;
		path_known = true;
		if (strcmp(rt->method, r->method) != 0)
			continue;
		rt->fn(a, r);
		return;
	}
	if (path_known)
		reply(r, 405, "text/plain", "Method Not Allowed\n", 19);
	else
		reply(r, 404, "text/plain", "Not Found\n", 10);
}

struct api_http_stats *api_http_stats(struct api *a)
{
	return &a->st;
}

/* ---- the SMSC behind POST /sms ---- */

static enum sy_rc smsc_submit(void *ctx, const struct smsc_text_req *req)
{
	return smsc_submit_text(ctx, req);
}

enum sy_rc api_create(const struct api_cfg *cfg, struct api **out)
{
	struct api *a = calloc(1, sizeof(*a));
	if (a == NULL)
		return SY_ERR_NOMEM;
	a->sw = cfg->sw;
	a->smsc = cfg->smsc;
	a->sms_stats = cfg->sms_stats;
	a->sms_stats_arg = cfg->sms_stats_arg;
	if (cfg->sms != NULL)
		a->sms = *cfg->sms;
	else if (cfg->smsc != NULL)
		a->sms = (struct api_sms_ops){smsc_submit, cfg->smsc};
	a->metrics_auth = cfg->metrics_auth;
	a->process = cfg->process;
	SY_ASSERT(cfg->table_n <= API_TABLES_MAX);
	memcpy(a->tables, cfg->tables, sizeof(a->tables));
	a->table_n = cfg->table_n;
	a->metrics_token = cfg->metrics_token;
	a->acct_n = cfg->account_n;
	a->page_max = cfg->metrics_max ? cfg->metrics_max : API_METRICS_MAX_DEFAULT;
	a->page = malloc(a->page_max);
	a->accts = calloc(cfg->account_n ? cfg->account_n : 1, sizeof(*a->accts));
	struct sy_srclimit_cfg lc = {.slots = 4096, .seed = cfg->seed};
	if (a->page == NULL || a->accts == NULL || sy_srclimit_create(&lc, &a->fails) != SY_OK) {
		api_destroy(a);
		return SY_ERR_NOMEM;
	}
	if (cfg->account_n > 0)
		memcpy(a->accts, cfg->accounts, cfg->account_n * sizeof(*a->accts));
	*out = a;
	return SY_OK;
}

void api_destroy(struct api *a)
{
	if (a == NULL)
		return;
	sy_srclimit_destroy(a->fails);
	free(a->accts);
	free(a->page);
	free(a);
}
