/* serve.c: `switchyard serve CONFIG`: the voice switch on real sockets. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "cmd/serve_nodes.h"
#include "core/api/api.h"
#include "core/conf/node.h"
#include "core/fraud/fraud.h"
#include "core/live/http.h"
#include "core/live/live.h"
#include "core/live/webhook.h"
#include "core/pcap/hep.h"
#include "core/pcap/tap.h"
#include "core/sip/switch.h"
#include "core/smpp/smsc.h"
#include "core/ussd/ussd.h"
#include "peers/world.h"

struct serve {
	struct sy_live *live;
	struct sy_http *http;
	struct api *api;
	const struct sy_env *env; /* the loop's, or the --pcap tap's over it */
	struct pcap_node_tap tap;
	struct vswitch *sw;
	struct smsc *smsc;	    /* with nodes > 1: instance 1, on this loop */
	struct serve_nodes *nodes;  /* [node] nodes > 1: instances 2..N on their threads; NULL: one */
	struct hep_exporter *hep;   /* [node] hep: a sink of the tap */
	struct fraud *fraud;	    /* [fraud] enabled: one for the switch and the SMSC; NULL off */
	fraud_event_fn fraud_alert; /* blocks within [fraud] alert_rate (the webhook); NULL none */
	void *fraud_alert_arg;
	struct sy_webhook *webhook; /* [fraud] alert_url: fraud_alert's POSTs */
	struct ussd *ussd;	    /* [ussd]: the USSD gateway; NULL off */
	sy_timer_id status_timer;
	uint64_t grace_ns; /* [node] shutdown_grace */
};

#define STATUS_EVERY_NS (10 * SY_NS_PER_S)

/* A status line every 10 s so an operator sees the switch is alive. */
static void status_fire(void *arg)
{
	struct serve *s = arg;
	char line[API_LINE_MAX];
	api_status_line(s->api, STATUS_EVERY_NS, line, sizeof(line));
	SY_LOG(s->env, SY_LOG_INFO, "%s", line);
	s->status_timer = sy_env_timer_start(s->env, STATUS_EVERY_NS, status_fire, s);
}

/* [node] nodes > 1: the SMSC as one instance per core (serve_nodes.c).
 * Its streams move between loops, so instance 1 runs on the loop's own env,
 * not through a capture tap; fraud state would be split by instance. */
static int start_cluster(struct serve *s, const struct scn *scn, const struct cmd_opts *o, struct smsc_cfg *c)
{
	char err[600];
	if (s->fraud != NULL || o->pcap != NULL) {
		fprintf(stderr,
			"%s: [node] nodes = %u with %s: serve runs it with one SMSC instance only (use nodes = 1; "
			"docs/operations.md, \"One SMSC per core\")\n",
			scn->file, scn->node.nodes, s->fraud != NULL ? "[fraud]" : "--pcap");
		return -1;
	}
	c->env = sy_live_env(s->live);
	if (serve_nodes_start(s->live, c, scn->node.nodes, c->store_dir, o->verbose ? SY_LOG_DEBUG : SY_LOG_INFO,
			      &s->nodes, &s->smsc, err, sizeof(err)) != 0) {
		fprintf(stderr, "switchyard: SMSC: %s\n", err);
		return -1;
	}
	SY_LOG(s->env, SY_LOG_INFO,
	       "SMPP on tcp:%s, %u upstream carriers, %u SMSC instances (threads; stores in %s "
	       "and %s/node2..)",
	       scn->node.smpp, scn->smpp_carrier_n, scn->node.nodes, c->store_dir, c->store_dir);
	return 0;
}

static int start_smsc(struct serve *s, const struct scn *scn, const struct node_cfg *node, const struct cmd_opts *o,
		      const char *out)
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
	struct smsc_cfg c = {.env = s->env,
			     .listen = scn->node.smpp_addr,
			     .accounts = node->smsc_accounts,
			     .account_n = node->smsc_account_n,
			     .carriers = node->smsc_carriers,
			     .carrier_n = node->smsc_carrier_n,
			     .store_dir = out,
			     .msgs_max = 262144,
			     .commit_interval_ns = scn->node.sms_commit_interval_ns,
			     .rate = s->sw->bill != NULL ? callbill_rate_sms : NULL,
			     .rate_arg = s->sw->bill, /* read-only: every instance rates with it */
			     .guard = node->smsc_guard,
			     .sync_full = node->sync_full,
			     .fraud = s->fraud};
	if (scn->node.nodes > 1)
		return start_cluster(s, scn, o, &c);
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

static void http_request(void *arg, struct api_req *r)
{
	api_handle(arg, r);
}

/* HTTP is a listener like the others: a switch without its API and
 * /metrics is not the one the operator configured, so it is fatal too. */
static int start_http(struct serve *s, const struct scn *scn, const struct node_cfg *node)
{
	struct api_cfg ac = {.sw = s->sw,
			     .smsc = s->smsc,
			     .accounts = node->api_accounts,
			     .account_n = node->api_account_n,
			     .metrics_auth = node->metrics_auth,
			     .metrics_token = node->metrics_token,
			     .seed = sy_env_random_u64(s->env),
			     .process = sy_live_process_stats};
	if (s->hep != NULL)
		ac.tables[ac.table_n++] = (struct api_table){&hep_counters, hep_exporter_stats(s->hep)};
	if (s->nodes != NULL) { /* every instance's SMSC counters summed; POST /sms goes to instance 1 */
		ac.sms_stats = serve_nodes_stats;
		ac.sms_stats_arg = s->nodes;
		ac.tables[ac.table_n++] = (struct api_table){&smsc_node_counters, serve_nodes_node_stats(s->nodes)};
		ac.tables[ac.table_n++] = (struct api_table){&serve_nodes_counters, serve_nodes_counters_of(s->nodes)};
	}
	if (s->fraud != NULL)
		ac.tables[ac.table_n++] = (struct api_table){&fraud_counters, fraud_stats(s->fraud)};
	if (s->webhook != NULL)
		ac.tables[ac.table_n++] = (struct api_table){&webhook_counters, sy_webhook_stats(s->webhook)};
	if (s->ussd != NULL) {
		ac.tables[ac.table_n++] = (struct api_table){&ussd_counters, ussd_stats(s->ussd)};
		const struct ussd_http_stats *hs = ussd_http_stats_of(s->ussd);
		if (hs != NULL) /* only with an HTTP service */
			ac.tables[ac.table_n++] = (struct api_table){&ussd_http_counters, hs};
	}
	if (api_create(&ac, &s->api) != SY_OK) {
		fprintf(stderr, "switchyard: out of memory for the HTTP API\n");
		return -1;
	}
	const struct scn_node *n = &scn->node;
	struct sy_http_limits lim = {.timeout_ns = n->http_timeout_ns,
				     .max_header = n->http_max_header,
				     .max_body = n->http_max_body,
				     .max_conns = n->http_max_conns,
				     .conns_per_source = n->http_conns_per_source,
				     .stats = api_http_stats(s->api),
				     .capture = s->tap.tap}; /* NULL without --pcap and hep */
	if (sy_http_start(s->live, &n->http_addr, &lim, http_request, s->api, &s->http) != SY_OK) {
		fprintf(stderr, "switchyard: cannot listen for HTTP on %s (set [node] http to a free address)\n",
			n->http);
		return -1;
	}
	SY_LOG(s->env, SY_LOG_INFO, "HTTP API and /metrics on http://%s (%u accounts with a token, /metrics %s)",
	       n->http, node->api_account_n, node->metrics_auth ? "needs metrics_token" : "open");
	return 0;
}

/* [node] hep: a HEPv3 copy of every SIP message to the collector. The
 * exporter sends on the live env itself, not the tap's: its packets are
 * not the switch's traffic and must not be copied in turn. */
static int start_hep(struct serve *s, const struct scn *scn, const struct node_cfg *node)
{
	char err[256];
	if (!node->hep.on)
		return 0;
	if (hep_exporter_create(s->tap.inner, &node->hep, &s->hep, err, sizeof(err)) != SY_OK) {
		fprintf(stderr, "switchyard: %s\n", err);
		return -1;
	}
	if (pcap_node_tap_add(&s->tap, hep_exporter_sink(s->hep)) != SY_OK) {
		fprintf(stderr, "switchyard: out of memory for the HEP tap\n");
		return -1;
	}
	SY_LOG(s->tap.inner, SY_LOG_INFO, "HEPv3 copies of SIP to udp:%s (capture id %u%s)", scn->node.hep,
	       node->hep.capture_id, node->hep.auth_key[0] != '\0' ? ", auth key sent in clear" : "");
	return 0;
}

/* SIGHUP: the risk-range file again. New calls use the new table, calls
 * in progress keep theirs; a bad file leaves the old one in force. */
static void fraud_hup(void *arg)
{
	struct serve *s = arg;
	char err[FRAUD_ERR_MAX + 64];
	if (fraud_reload_ranges(s->fraud, err, sizeof(err)) == SY_OK)
		SY_LOG(s->env, SY_LOG_INFO, "fraud: ranges reloaded (reload %" PRIu64 ")",
		       fraud_stats(s->fraud)->ranges_reloads);
	else
		SY_LOG(s->env, SY_LOG_ERROR, "fraud: ranges reload failed, the previous ranges stay: %s", err);
}

/* [fraud] alert_url: each alert POSTed as JSON from the loop, never
 * waited for (core/live/webhook.h). A bad URL or a host that does not
 * resolve is fatal, like a listener that cannot open: the operator asked
 * for alerts. */
static int start_webhook(struct serve *s, const struct node_cfg *node)
{
	char err[512];
	const struct fraud_alert_cfg *a = &node->fraud.alert;
	if (!node->fraud.on || a->url[0] == '\0')
		return 0;
	struct sy_webhook_cfg wc = {.url = a->url, .timeout_ns = a->timeout_ns};
	if (sy_webhook_create(s->live, &wc, &s->webhook, err, sizeof(err)) != SY_OK) {
		fprintf(stderr, "switchyard: fraud: %s\n", err);
		return -1;
	}
	s->fraud_alert = sy_webhook_fraud_alert;
	s->fraud_alert_arg = s->webhook;
	SY_LOG(s->env, SY_LOG_INFO, "fraud alerts to %s (at most %u/s, burst %u)", a->url, a->per_s, a->burst);
	return 0;
}

/* [fraud] enabled: the node's one fraud component, before the switch and
 * the SMSC that consult it; SIGHUP reloads its ranges. */
static int start_fraud(struct serve *s, const struct node_cfg *node)
{
	char err[512];
	if (!node->fraud.on)
		return 0;
	if (fraud_create(s->env, &node->fraud, NULL, s->fraud_alert, s->fraud_alert_arg, &s->fraud, err, sizeof(err)) !=
	    SY_OK) {
		fprintf(stderr, "switchyard: fraud: %s\n", err);
		return -1;
	}
	if (sy_live_on_hup(s->live, fraud_hup, s) != SY_OK) {
		fprintf(stderr, "switchyard: cannot handle SIGHUP\n");
		return -1;
	}
	SY_LOG(s->env, SY_LOG_INFO, "fraud detection on (%s): %u rules, ranges %s",
	       node->fraud.monitor ? "monitor" : "enforce", node->fraud.rule_n,
	       node->fraud.ranges_path[0] != '\0' ? node->fraud.ranges_path : "none");
	return 0;
}

/* [ussd]: the USSD gateway on the loop's env, its UDRs next to the CDRs
 * and MDRs, charged through the node's billing (the tariff's ussd rows)
 * when there are accounts. A listener that cannot open or a config the
 * engine refuses is fatal, like the SMSC's. */
static int start_ussd(struct serve *s, const struct node_cfg *node, const char *out)
{
	char err[512];
	const struct ussd_cfg *c = &node->ussd;
	if (!c->on)
		return 0;
	struct ussd_deps d = {
	    .env = s->env, .cfg = c, .store_dir = out, .bill = s->sw->bill, .sync_full = node->sync_full};
	if (ussd_create(&d, &s->ussd, err, sizeof(err)) != SY_OK || ussd_start(s->ussd, err, sizeof(err)) != SY_OK) {
		fprintf(stderr, "switchyard: USSD: %s\n", err);
		return -1;
	}
	SY_LOG(s->env, SY_LOG_INFO, "USSD gateway: links on tcp:%s, %u links, %u services, %u menus, UDRs in %s",
	       c->listen[0] != '\0' ? c->listen : "(none)", c->link_n, c->service_n, c->menu_n, out);
	return 0;
}

/* The releases and unbinds ussd_stop() wrote go out when the loop runs:
 * it runs in short steps while streams are still closing (each closed
 * stream is freed once its output is flushed), at most a second. */
#define USSD_FLUSH_STEP_NS (20 * SY_NS_PER_MS)
#define USSD_FLUSH_MAX_NS  SY_NS_PER_S

static void ussd_wind_down(struct serve *s)
{
	struct sy_live_stats a, b;
	sy_live_stats(s->live, &a);
	ussd_stop(s->ussd);
	for (uint64_t t = 0; t < USSD_FLUSH_MAX_NS; t += USSD_FLUSH_STEP_NS) {
		sy_live_run_for(s->live, USSD_FLUSH_STEP_NS);
		sy_live_stats(s->live, &b);
		if (b.streams_closed == a.streams_closed && b.stream_tx_bytes == a.stream_tx_bytes)
			break; /* a step with nothing written or closed: done */
		a = b;
	}
	const struct ussd_stats *st = ussd_stats(s->ussd);
	SY_LOG(s->env, SY_LOG_INFO,
	       "USSD stopped: %" PRIu64 " sessions started, %" PRIu64 " completed, %" PRIu64 " released at shutdown",
	       st->started, st->completed, st->shutdown);
}

/* --ready-file: one line per open listener, written after the last one. */
static int write_ready(struct serve *s, const struct scn *scn, const char *path)
{
	char text[64 + 4 * (16 + SCN_ADDR_MAX)]; /* four lines of at most "smpp tcp ADDR\n" */
	int n = snprintf(text, sizeof(text), "pid %ld\nsip udp %s\n", (long)getpid(), scn->node.sip);
	if (s->smsc != NULL)
		n += snprintf(text + n, sizeof(text) - (size_t)n, "smpp tcp %s\n", scn->node.smpp);
	if (s->ussd != NULL && scn->ussd.listen[0] != '\0')
		n += snprintf(text + n, sizeof(text) - (size_t)n, "ussd tcp %s\n", scn->ussd.listen);
	n += snprintf(text + n, sizeof(text) - (size_t)n, "http tcp %s\n", scn->node.http);
	SY_ASSERT(n > 0 && (size_t)n < sizeof(text));
	return sy_live_ready_write(s->live, path, text) == SY_OK ? 0 : -1;
}

/* The BYEs and CANCELs hangup_all sent are retransmitted (Timer E) and
 * answered while the loop runs on: until no transaction is left
 * unfinished, the grace is over, or a second signal says stop now. New
 * INVITEs meanwhile get 503 (b2bua closing). */
static void serve_drain(struct serve *s)
{
	uint64_t t0 = sy_env_now_ns(s->env), end = t0 + s->grace_ns;
	uint64_t pending = b2bua_requests_pending(s->sw->b2bua), first = pending;
	while (pending > 0 && sy_env_now_ns(s->env) < end) {
		sy_live_run_for(s->live, 20 * SY_NS_PER_MS);
		if (sy_live_stopped_by(s->live) != 0) {
			SY_LOG(s->env, SY_LOG_WARN, "second signal: not waiting for %" PRIu64 " transactions", pending);
			return;
		}
		pending = b2bua_requests_pending(s->sw->b2bua);
	}
	if (pending > 0)
		SY_LOG(s->env, SY_LOG_WARN, "shutdown grace over: %" PRIu64 " of %" PRIu64 " transactions unanswered",
		       pending, first);
	else
		SY_LOG(s->env, SY_LOG_INFO, "shutdown: %" PRIu64 " transactions finished in %" PRIu64 " ms", first,
		       (uint64_t)((sy_env_now_ns(s->env) - t0) / SY_NS_PER_MS));
}

/* Runs until SIGINT/SIGTERM, then ends every call and flushes every store. */
static int serve_run(struct serve *s, const struct cmd_opts *o)
{
	s->status_timer = sy_env_timer_start(s->env, STATUS_EVERY_NS, status_fire, s);
	sy_live_run(s->live);
	if (o->ready_file != NULL)
		sy_live_ready_clear(s->live, o->ready_file);
	sy_http_stop(s->http); /* no request may arrive while the calls end */
	s->http = NULL;
	SY_LOG(s->env, SY_LOG_INFO, "stopping (signal %d): ending calls, flushing CDRs", sy_live_stopped_by(s->live));
	sy_env_timer_cancel(s->env, s->status_timer);
	b2bua_hangup_all(s->sw->b2bua);
	serve_drain(s);
	int rc = vswitch_flush(s->sw) == SY_OK ? 0 : 1;
	if (serve_nodes_stop(s->nodes) != 0) /* instances 2..N flush their stores and end */
		rc = 1;
	if (s->smsc != NULL && smsc_flush(s->smsc) != SY_OK)
		rc = 1;
	if (s->ussd != NULL) { /* open sessions released toward their handsets, UDRs flushed */
		ussd_wind_down(s);
		if (ussd_flush(s->ussd) != SY_OK)
			rc = 1;
	}
	char line[API_LINE_MAX];
	api_summary_line(s->api, line, sizeof(line));
	SY_LOG(s->env, SY_LOG_INFO, "%s", line);
	if (s->hep != NULL) { /* the hep table in the report's form: "hep hep.sent 130, ..." */
		struct sy_ctr_out co = {line, sizeof(line), 0, false};
		sy_counters_text(&co, "hep", &hep_counters, hep_exporter_stats(s->hep), sizeof(line));
		SY_LOG(s->env, SY_LOG_INFO, "%.*s", (int)(co.len > 0 ? co.len - 1 : 0), line);
	}
	if (s->fraud != NULL) { /* "fraud fraud.decisions 1200, ..." */
		struct sy_ctr_out co = {line, sizeof(line), 0, false};
		sy_counters_text(&co, "fraud", &fraud_counters, fraud_stats(s->fraud), sizeof(line));
		SY_LOG(s->env, SY_LOG_INFO, "%.*s", (int)(co.len > 0 ? co.len - 1 : 0), line);
	}
	if (s->ussd != NULL) { /* "ussd ussd.started 200, ..." on one line: 40 counters */
		char text[4096];
		struct sy_ctr_out co = {text, sizeof(text), 0, false};
		sy_counters_text(&co, "ussd", &ussd_counters, ussd_stats(s->ussd), sizeof(text));
		SY_LOG(s->env, SY_LOG_INFO, "%.*s", (int)(co.len > 0 ? co.len - 1 : 0), text);
	}
	return rc;
}

/* Every listener and component, in order; -1 (with the reason on stderr)
 * leaves what was started to serve_teardown(). */
static int serve_start(struct serve *s, const struct cmd_opts *o, const struct scn *scn, const struct node_cfg *node,
		       const struct sy_addr *addrs)
{
	char err[512];
	struct sy_live_cfg lc = {.seed = o->seed_set ? o->seed : 0,
				 .log_level = o->verbose ? SY_LOG_DEBUG : SY_LOG_INFO,
				 .trace_path = o->trace};
	if (sy_live_create(&lc, &s->live) != SY_OK) {
		fprintf(stderr, "switchyard: cannot start the event loop\n");
		return -1;
	}
	pcap_node_tap_init(&s->tap, sy_live_env(s->live));
	if (o->pcap != NULL &&
	    pcap_node_tap_pcap(&s->tap, sy_live_files(), o->pcap, sy_live_env(s->live), err, sizeof(err)) != SY_OK) {
		fprintf(stderr, "switchyard: --pcap %s\n", err);
		return -1;
	}
	if (start_hep(s, scn, node) != 0)
		return -1;
	s->env = pcap_node_tap_env(&s->tap); /* one tap for --pcap and hep; none without them */
	sy_live_handle_signals(s->live);
	if (o->ready_file != NULL && sy_live_ready_clear(s->live, o->ready_file) != SY_OK)
		return -1;
	const char *out = o->out ? o->out : scn->node.out[0] ? scn->node.out : "out/serve";
	struct vswitch_cfg vc = {.env = s->env,
				 .sw = &node->sw,
				 .billing = &node->billing,
				 .listen = scn->node.sip_addr,
				 .out_dir = out,
				 .carrier_addrs = addrs,
				 /* the USSD gateway (start_ussd) charges on the same book */
				 .bill_sessions_max = ussd_charged_sessions_max(&node->ussd)};
	if (start_webhook(s, node) != 0 || start_fraud(s, node) != 0)
		return -1;
	vc.fraud = s->fraud;
	if (vswitch_create(&vc, &s->sw, err, sizeof(err)) != SY_OK) {
		fprintf(stderr, "switchyard: %s\n", err);
		return -1;
	}
	SY_LOG(s->env, SY_LOG_INFO, "serving SIP on udp:%s, %u carriers, CDRs in %s (sync = %s)", scn->node.sip,
	       scn->carrier_n, out, node->sync_full ? "full: every commit fsynced" : "normal");
	if (start_smsc(s, scn, node, o, out) != 0 || start_ussd(s, node, out) != 0 || start_http(s, scn, node) != 0)
		return -1;
	if (o->ready_file != NULL && write_ready(s, scn, o->ready_file) != 0)
		return -1;
	return 0;
}

/* The one teardown, whatever serve_start() got to: each step takes NULL.
 * The capture is closed (flushed) after the last component is gone, so it
 * holds the shutdown's BYEs and unbinds; -1 when it could not be written. */
static int serve_teardown(struct serve *s, const char *pcap)
{
	sy_http_stop(s->http);
	api_destroy(s->api);
	(void)serve_nodes_stop(s->nodes); /* a start that failed half-way left them running */
	smsc_destroy(s->smsc);
	serve_nodes_destroy(s->nodes);
	if (s->ussd != NULL)
		ussd_destroy(s->ussd); /* before the switch: it charges through the switch's billing */
	vswitch_destroy(s->sw);
	if (s->fraud != NULL)
		fraud_destroy(s->fraud); /* after both components that consult it */
	sy_webhook_destroy(s->webhook);	 /* after the fraud component that posts to it */
	enum sy_rc rc = pcap_node_tap_close(&s->tap);
	if (rc != SY_OK)
		fprintf(stderr, "switchyard: --pcap %s: %s\n", pcap, sy_env_file_err(rc));
	hep_exporter_destroy(s->hep); /* after the tap: no segment reaches it any more */
	sy_live_destroy(s->live);
	return rc == SY_OK ? 0 : -1;
}

int cmd_serve(const struct cmd_opts *o)
{
	char err[512];
	struct world *w = NULL; /* the simulated world's sections are accepted, not used */
	struct sy_addr addrs[SCN_CARRIERS_MAX];
	struct serve s = {0};
	int rc = 2;
	if (world_parse_file(o->file, NULL, 0, &w, err, sizeof(err)) != SY_OK) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	const struct scn *scn = w->scn;
	struct node_cfg *node = conf_node_new(scn);
	if (node != NULL && getenv("SWITCHYARD_OSIP_POOL_MB") != NULL)
		node->sw.limits.osip_max = 0; /* the environment overrides [node] osip_memory */
	if (node != NULL && check_addresses(scn, addrs) == 0) {
		rc = 1;
		s.grace_ns = scn->node.shutdown_grace_ns;
		if (serve_start(&s, o, scn, node, addrs) == 0)
			rc = serve_run(&s, o);
		if (serve_teardown(&s, o->pcap) != 0 && rc == 0)
			rc = 1;
	}
	free(node);
	world_free(w);
	return rc;
}
