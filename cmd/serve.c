/* serve.c: `switchyard serve CONFIG`: the voice switch on real sockets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "core/conf/node.h"
#include "core/live/http.h"
#include "core/live/live.h"
#include "core/json.h"
#include "core/sip/switch.h"
#include "core/smpp/smsc.h"
#include "peers/world.h"

struct serve {
	struct sy_live *live;
	struct sy_http *http;
	const struct sy_env *env;
	struct vswitch *sw;
	struct smsc *smsc;
	uint64_t last_attempts;
	sy_timer_id status_timer;
};

#define STATUS_EVERY_NS (10 * SY_NS_PER_S)

/* A status line every 10 s so an operator sees the switch is alive. */
static void status_fire(void *arg)
{
	struct serve *s = arg;
	const struct b2bua_stats *st = b2bua_stats(s->sw->b2bua);
	const struct sip_stack_stats *ss = sip_stack_stats(b2bua_stack(s->sw->b2bua));
	uint64_t d = st->attempts - s->last_attempts;
	s->last_attempts = st->attempts;
	SY_LOG(s->env, SY_LOG_INFO,
	       "status: cps=%.1f active=%llu attempts=%llu answered=%llu failed=%llu cdrs=%llu rx=%llu bad=%llu",
	       (double)d / 10.0, (unsigned long long)st->active, (unsigned long long)st->attempts,
	       (unsigned long long)st->answered, (unsigned long long)st->failed,
	       (unsigned long long)vswitch_cdrs_written(s->sw), (unsigned long long)ss->rx_msgs,
	       (unsigned long long)(ss->rx_bad_dropped + ss->rx_bad_400));
	s->status_timer = sy_env_timer_start(s->env, STATUS_EVERY_NS, status_fire, s);
}

/* GET /metrics: Prometheus text exposition of the switch's counters. */
static void metrics_get(void *arg, struct sy_http_req *r)
{
	struct serve *s = arg;
	const struct b2bua_stats *st = b2bua_stats(s->sw->b2bua);
	const struct sip_stack_stats *ss = sip_stack_stats(b2bua_stack(s->sw->b2bua));
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f == NULL) {
		sy_http_reply(r, 503, "text/plain", "out of memory\n", 14);
		return;
	}
	struct {
		const char *name, *help;
		uint64_t v;
	} c[] = {
		{"switchyard_calls_attempted_total", "calls accepted into the pool", st->attempts},
		{"switchyard_calls_answered_total", "calls answered", st->answered},
		{"switchyard_calls_completed_total", "answered calls ended by BYE", st->completed},
		{"switchyard_calls_failed_total", "calls failed with a final non-2xx", st->failed},
		{"switchyard_calls_no_route_total", "calls refused with 404 (no route)", st->no_route},
		{"switchyard_calls_congestion_total", "calls refused with 503 (no capacity)", st->congestion},
		{"switchyard_calls_failovers_total", "B legs retried on the next carrier", st->failovers},
		{"switchyard_cdrs_written_total", "CDRs durably written", vswitch_cdrs_written(s->sw)},
		{"switchyard_sip_rx_total", "SIP messages received", ss->rx_msgs},
		{"switchyard_sip_tx_total", "SIP messages sent", ss->tx_msgs},
		{"switchyard_sip_retransmits_total", "SIP retransmissions sent", ss->retransmits_sent},
		{"switchyard_sip_malformed_total", "malformed SIP datagrams", ss->rx_bad_dropped + ss->rx_bad_400},
	};
	for (size_t i = 0; i < SY_ARRAY_LEN(c); i++)
		fprintf(f, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", c[i].name, c[i].help, c[i].name, c[i].name,
			(unsigned long long)c[i].v);
	if (s->smsc != NULL) {
		const struct smsc_stats *m = smsc_stats(s->smsc);
		struct {
			const char *name, *help;
			uint64_t v;
		} q[] = {
			{"switchyard_sms_submitted_total", "submit_sm received", m->submitted},
			{"switchyard_sms_accepted_total", "submit_sm answered OK (durable)", m->accepted},
			{"switchyard_sms_rejected_total", "submit_sm answered with an error", m->rejected},
			{"switchyard_sms_throttled_total", "submit_sm answered ESME_RTHROTTLED", m->throttled},
			{"switchyard_sms_delivered_total", "messages delivered (carrier receipt)", m->delivered},
			{"switchyard_sms_undeliverable_total", "messages undeliverable", m->undeliverable},
			{"switchyard_sms_expired_total", "messages expired", m->expired},
			{"switchyard_sms_upstream_retries_total", "upstream submit retries", m->upstream_retries},
			{"switchyard_sms_dlr_sent_total", "receipts acknowledged by applications", m->dlr_sent},
			{"switchyard_sms_http_submitted_total", "messages submitted over POST /sms", m->http_submitted},
		};
		for (size_t i = 0; i < SY_ARRAY_LEN(q); i++)
			fprintf(f, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", q[i].name, q[i].help, q[i].name,
				q[i].name, (unsigned long long)q[i].v);
		fprintf(f, "# HELP switchyard_sms_in_flight messages in memory\n# TYPE switchyard_sms_in_flight gauge\n"
			   "switchyard_sms_in_flight %llu\n",
			(unsigned long long)m->in_flight);
	}
	fprintf(f, "# HELP switchyard_calls_active calls in the pool now\n# TYPE switchyard_calls_active gauge\n"
		   "switchyard_calls_active %llu\n",
		(unsigned long long)st->active);
	fprintf(f, "# HELP switchyard_pdd_seconds post-dial delay\n# TYPE switchyard_pdd_seconds summary\n");
	static const double qs[] = {0.5, 0.9, 0.99};
	for (size_t i = 0; i < SY_ARRAY_LEN(qs); i++)
		fprintf(f, "switchyard_pdd_seconds{quantile=\"%g\"} %.6f\n", qs[i],
			(double)sy_hist_percentile(&st->pdd, qs[i] * 100) / 1e9);
	fprintf(f, "switchyard_pdd_seconds_count %llu\n", (unsigned long long)st->pdd.count);
	fclose(f);
	sy_http_reply(r, 200, "text/plain; version=0.0.4", buf, len);
	free(buf);
}

/* ---- POST /sms: {"from": "...", "to": "...", "text": "..."} with an
 * account's bearer token; 202 with the message id once it is durable. ---- */

static void http_json(struct sy_http_req *r, int code, const char *fmt, const char *arg)
{
	char body[256];
	int n = snprintf(body, sizeof(body), fmt, arg);
	sy_http_reply(r, code, "application/json", body, n > 0 ? (size_t)n : 0);
}

static void sms_done(void *arg, enum sy_rc rc, uint64_t first_id, uint32_t parts)
{
	struct sy_http_req *r = arg;
	char body[128];
	if (rc != SY_OK) {
		http_json(r, 503, "{\"error\":\"%s\"}\n", sy_rc_str(rc));
		return;
	}
	int n = snprintf(body, sizeof(body), "{\"message_id\":\"%llu\",\"parts\":%u}\n",
			 (unsigned long long)first_id, parts);
	sy_http_reply(r, 202, "application/json", body, (size_t)n);
}

static void sms_post(void *arg, struct sy_http_req *r)
{
	struct serve *s = arg;
	const char *auth = sy_http_header(r, "Authorization");
	const char *account = NULL;
	if (auth != NULL && strncmp(auth, "Bearer ", 7) == 0)
		account = smsc_account_by_token(s->smsc, sy_str_from(auth + 7));
	if (account == NULL) {
		http_json(r, 401, "{\"error\":\"%s\"}\n", "missing or unknown bearer token");
		return;
	}
	struct sy_str body = sy_http_body(r), from, to, text;
	char *scratch = malloc(body.len + 1), err[96];
	struct json_obj o;
	if (scratch == NULL) {
		http_json(r, 503, "{\"error\":\"%s\"}\n", "out of memory");
		return;
	}
	enum sy_rc rc = json_parse_flat(body.p, body.len, scratch, body.len + 1, &o, err, sizeof(err));
	if (rc != SY_OK || !json_get_str(&o, "from", &from) || !json_get_str(&o, "to", &to) ||
	    !json_get_str(&o, "text", &text)) {
		free(scratch);
		http_json(r, 400, "{\"error\":\"%s\"}\n", rc != SY_OK ? err : "from, to and text are required strings");
		return;
	}
	struct smsc_text_req q = {.account = account, .from = from, .to = to, .text = text, .dlr = true,
				  .done = sms_done, .arg = r};
	rc = smsc_submit_text(s->smsc, &q);
	free(scratch); /* the SMSC copied what it keeps */
	if (rc != SY_OK)
		http_json(r, rc == SY_DECLINED ? 422 : rc == SY_ERR_FULL ? 503 : 400, "{\"error\":\"%s\"}\n",
			  rc == SY_DECLINED ? "no route for destination" : sy_rc_str(rc));
}

static int start_smsc(struct serve *s, const struct scn *scn, const struct node_cfg *node, const char *out)
{
	if (scn->smpp_carrier_n == 0)
		return 0;
	char err[512];
	for (uint32_t i = 0; i < scn->smpp_carrier_n; i++)
		if (scn->smpp_carriers[i].address[0] == '\0') {
			fprintf(stderr, "%s:%u: [smpp-carrier %s] has no address (serve needs host:port)\n", scn->file,
				scn->smpp_carriers[i].line, scn->smpp_carriers[i].name);
			return -1;
		}
	struct smsc_cfg c = {.env = s->env, .listen = scn->node.smpp_addr, .accounts = node->smsc_accounts,
			     .account_n = node->smsc_account_n, .carriers = node->smsc_carriers,
			     .carrier_n = node->smsc_carrier_n, .store_dir = out, .msgs_max = 262144,
			     .rate = s->sw->bill != NULL ? callbill_rate_sms : NULL, .rate_arg = s->sw->bill};
	if (smsc_create(&c, &s->smsc, err, sizeof(err)) != SY_OK) {
		fprintf(stderr, "switchyard: SMSC: %s\n", err);
		return -1;
	}
	SY_LOG(s->env, SY_LOG_INFO, "SMPP on tcp:%s, %u upstream carriers", scn->node.smpp, scn->smpp_carrier_n);
	return 0;
}

static int check_addresses(const struct scn *scn, struct sy_addr *addrs)
{
	for (uint32_t i = 0; i < scn->carrier_n; i++) {
		const struct scn_carrier *c = &scn->carriers[i];
		if (c->address[0] == '\0') {
			fprintf(stderr, "%s:%u: [carrier %s] has no address (serve needs host:port)\n", scn->file,
				c->line, c->name);
			return -1;
		}
		addrs[i] = c->addr;
	}
	return 0;
}

/* HTTP is a listener like the others: a switch without its API and
 * /metrics is not the one the operator configured, so it is fatal too. */
static int start_http(struct serve *s, const struct scn *scn)
{
	if (sy_http_start(s->live, &scn->node.http_addr, &s->http) != SY_OK) {
		fprintf(stderr, "switchyard: cannot listen for HTTP on %s (set [node] http to a free address)\n",
			scn->node.http);
		return -1;
	}
	sy_http_route(s->http, "GET", "/metrics", metrics_get, s);
	if (s->smsc != NULL)
		sy_http_route(s->http, "POST", "/sms", sms_post, s);
	SY_LOG(s->env, SY_LOG_INFO, "HTTP API and /metrics on http://%s", scn->node.http);
	return 0;
}

/* --ready-file: one line per open listener, written after the last one. */
static int write_ready(struct serve *s, const struct scn *scn, const char *path)
{
	char text[64 + 3 * (16 + SCN_ADDR_MAX)]; /* three lines of at most "smpp tcp ADDR\n" */
	int n = snprintf(text, sizeof(text), "pid %ld\nsip udp %s\n", (long)getpid(), scn->node.sip);
	if (s->smsc != NULL)
		n += snprintf(text + n, sizeof(text) - (size_t)n, "smpp tcp %s\n", scn->node.smpp);
	n += snprintf(text + n, sizeof(text) - (size_t)n, "http tcp %s\n", scn->node.http);
	SY_ASSERT(n > 0 && (size_t)n < sizeof(text));
	return sy_live_ready_write(s->live, path, text) == SY_OK ? 0 : -1;
}

/* Runs until SIGINT/SIGTERM, then ends every call and flushes every store. */
static int serve_run(struct serve *s, const struct cmd_opts *o)
{
	s->status_timer = sy_env_timer_start(s->env, STATUS_EVERY_NS, status_fire, s);
	sy_live_run(s->live);
	if (o->ready_file != NULL)
		sy_live_ready_clear(s->live, o->ready_file);
	sy_http_stop(s->http);
	s->http = NULL;
	SY_LOG(s->env, SY_LOG_INFO, "stopping (signal %d): ending calls, flushing CDRs", sy_live_stopped_by(s->live));
	sy_env_timer_cancel(s->env, s->status_timer);
	b2bua_hangup_all(s->sw->b2bua);
	int rc = vswitch_flush(s->sw) == SY_OK ? 0 : 1;
	if (s->smsc != NULL && smsc_flush(s->smsc) != SY_OK)
		rc = 1;
	const struct b2bua_stats *st = b2bua_stats(s->sw->b2bua);
	SY_LOG(s->env, SY_LOG_INFO, "done: attempts=%llu answered=%llu completed=%llu failed=%llu cdrs=%llu lost=%llu",
	       (unsigned long long)st->attempts, (unsigned long long)st->answered,
	       (unsigned long long)st->completed, (unsigned long long)st->failed,
	       (unsigned long long)vswitch_cdrs_written(s->sw), (unsigned long long)vswitch_cdrs_lost(s->sw));
	return rc;
}

int cmd_serve(const struct cmd_opts *o)
{
	char err[512];
	struct world *w = NULL; /* the simulated world's sections are accepted, not used */
	struct sy_addr addrs[SCN_CARRIERS_MAX];
	struct serve s;
	int rc = 1;
	memset(&s, 0, sizeof(s));
	if (world_parse_file(o->file, NULL, 0, &w, err, sizeof(err)) != SY_OK) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	const struct scn *scn = w->scn;
	struct node_cfg *node = conf_node_new(scn);
	if (node == NULL || check_addresses(scn, addrs) != 0) {
		rc = 2;
		goto out_scn;
	}
	struct sy_live_cfg lc = {.seed = o->seed_set ? o->seed : 0,
				 .log_level = o->verbose ? SY_LOG_DEBUG : SY_LOG_INFO,
				 .trace_path = o->trace};
	if (sy_live_create(&lc, &s.live) != SY_OK) {
		fprintf(stderr, "switchyard: cannot start the event loop\n");
		goto out_scn;
	}
	s.env = sy_live_env(s.live);
	sy_live_handle_signals(s.live);
	if (o->ready_file != NULL && sy_live_ready_clear(s.live, o->ready_file) != SY_OK)
		goto out_live;
	const char *out = o->out ? o->out : scn->node.out[0] ? scn->node.out : "out/serve";
	struct vswitch_cfg vc = {.env = s.env, .sw = &node->sw, .billing = &node->billing, .listen = scn->node.sip_addr, .out_dir = out,
				 .carrier_addrs = addrs};
	if (vswitch_create(&vc, &s.sw, err, sizeof(err)) != SY_OK) {
		fprintf(stderr, "switchyard: %s\n", err);
		goto out_live;
	}
	SY_LOG(s.env, SY_LOG_INFO, "serving SIP on udp:%s, %u carriers, CDRs in %s", scn->node.sip, scn->carrier_n,
	       out);
	if (start_smsc(&s, scn, node, out) != 0 || start_http(&s, scn) != 0)
		goto out_switch;
	if (o->ready_file != NULL && write_ready(&s, scn, o->ready_file) != 0)
		goto out_switch;
	rc = serve_run(&s, o);
out_switch:
	sy_http_stop(s.http);
	smsc_destroy(s.smsc);
	vswitch_destroy(s.sw);
out_live:
	sy_live_destroy(s.live);
out_scn:
	free(node);
	world_free(w);
	return rc;
}
