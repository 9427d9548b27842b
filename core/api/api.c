/* api.c: the routes of the node's HTTP API and their handlers; see api.h.
 * Bodies and status codes are the API's contract (docs/cli.md): JSON for
 * /sms and /health, Prometheus text for /metrics. */
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/billing/callbill.h"
#include "core/json.h"
#include "core/metrics/counters.h"
#include "core/sip/switch.h"

#define API_METRICS_MAX_DEFAULT (256 * 1024)

struct api {
	struct vswitch *sw;
	struct smsc *smsc;
	struct api_sms_ops sms; /* submit NULL: no POST /sms */
	char *page;		/* the /metrics page, rendered per request */
	size_t page_max;
	uint64_t last_attempts; /* at the last status line */
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
	if (a->smsc != NULL)
		sy_counters_prom(&o, &smsc_counters, smsc_stats(a->smsc));
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

static const char *sms_account(struct api *a, struct api_req *r)
{
	const char *auth = r->ops->header(r->ctx, "Authorization");
	if (auth == NULL || strncmp(auth, "Bearer ", 7) != 0)
		return NULL;
	return a->sms.account_by_token(a->sms.ctx, sy_str_from(auth + 7));
}

static void sms_post(struct api *a, struct api_req *r)
{
	const char *account = sms_account(a, r);
	if (account == NULL) {
		reply_json(r, 401, "{\"error\":\"%s\"}\n", "missing or unknown bearer token");
		return;
	}
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
	struct smsc_text_req q = {
	    .account = account, .from = from, .to = to, .text = text, .dlr = true, .done = sms_done, .arg = r};
	rc = a->sms.submit(a->sms.ctx, &q);
	free(scratch); /* the SMSC copied what it keeps */
	if (rc != SY_OK)
		reply_json(r, submit_status(rc), "{\"error\":\"%s\"}\n",
			   rc == SY_DECLINED ? "no route for destination" : sy_rc_str(rc));
}

/* ---- routing ---- */

static const struct api_route routes[] = {
    {"GET", "/metrics", metrics_get},
    {"GET", "/health", health_get},
    {"POST", "/sms", sms_post},
};

static bool route_on(const struct api *a, const struct api_route *rt)
{
	return rt->fn != sms_post || a->sms.submit != NULL;
}

void api_handle(struct api *a, struct api_req *r)
{
	bool path_known = false;
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

/* ---- the SMSC behind POST /sms ---- */

static const char *smsc_token(void *ctx, struct sy_str token)
{
	return smsc_account_by_token(ctx, token);
}

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
	if (cfg->sms != NULL)
		a->sms = *cfg->sms;
	else if (cfg->smsc != NULL)
		a->sms = (struct api_sms_ops){smsc_token, smsc_submit, cfg->smsc};
	SY_ASSERT(a->sms.submit == NULL || a->sms.account_by_token != NULL);
	a->page_max = cfg->metrics_max ? cfg->metrics_max : API_METRICS_MAX_DEFAULT;
	a->page = malloc(a->page_max);
	if (a->page == NULL) {
		free(a);
		return SY_ERR_NOMEM;
	}
	*out = a;
	return SY_OK;
}

void api_destroy(struct api *a)
{
	if (a == NULL)
		return;
	free(a->page);
	free(a);
}
