/* run_ussd.c: the USSD part of a simulator run. With [ussd] on, the
 * gateway (core/ussd) runs on the switch node beside the SMSC, listening for
 * the operators' USSD nodes on port 2776 and writing its UDRs into the
 * run's folder; the operator's USSD node and its handsets ([traffic ussd],
 * peers/ussd_net.h) are their own host, ussd-node (10.0.6.1); each
 * [ussd-app NAME] (peers/ussd_app.h) is a host of its own at the address it
 * listens on. The report's USSD section and the [expect] figures that
 * compare the two sides (ussd.unreleased, ussd.open_at_end, ...) are here
 * too. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/metrics/counters.h"
#include "core/store/udr.h"
#include "peers/ussd_app.h"
#include "peers/ussd_net.h"
#include "run_int.h"

#define USSD_PORT    2776
#define USSD_NODE_IP "10.0.6.1"

struct sim_ussd {
	struct ussd_cfg cfg; /* the node's, with the sim's addresses */
	struct ussd *gw;
	struct sim_node *net_node;
	struct ussd_net *net;
	struct sim_node *app_nodes[WORLD_USSD_APPS_MAX];
	struct ussd_app *apps[WORLD_USSD_APPS_MAX];
	struct ussd_app_cfg app_cfg[WORLD_USSD_APPS_MAX];
	uint64_t udr_rows;
	bool udr_read, stopped;
	char udr_err[256];
};

/* ---- building ---- */

/* The gateway listens on the switch node; bind-mode links reach the
 * operator's node on its host. */
static void gateway_cfg(struct sim_run *r, struct sim_ussd *u)
{
	u->cfg = r->node->ussd;
	struct sy_addr gw = sim_node_addr(r->sw_node, USSD_PORT), node = sim_node_addr(u->net_node, USSD_PORT);
	sy_addr_fmt(&gw, u->cfg.listen, sizeof(u->cfg.listen));
	for (uint32_t i = 0; i < u->cfg.link_n; i++)
		if (u->cfg.links[i].mode == USSD_LINK_BIND)
			sy_addr_fmt(&node, u->cfg.links[i].address, sizeof(u->cfg.links[i].address));
}

static enum sy_rc gateway_start(struct sim_run *r, struct sim_ussd *u, char *err, size_t errlen)
{
	struct ussd_deps d = {
	    .env = pcap_node_tap_env(&r->sw_tap),
	    .cfg = &u->cfg,
	    .store_dir = r->out_dir,
	    .bill = r->sw != NULL ? r->sw->bill : NULL,
	    .sync_full = r->node->sync_full,
	};
	enum sy_rc rc = ussd_create(&d, &u->gw, err, errlen);
	if (rc == SY_OK && (rc = ussd_start(u->gw, err, errlen)) != SY_OK) {
		ussd_destroy(u->gw);
		u->gw = NULL;
	}
	return rc;
}

static enum sy_rc apps_create(struct sim_run *r, struct sim_ussd *u, char *err, size_t errlen)
{
	const struct world_ussd *wu = &r->world->ussd;
	static const enum ussd_app_outage_mode modes[] = {USSD_APP_OUTAGE_HANG, USSD_APP_OUTAGE_REFUSE,
							  USSD_APP_OUTAGE_ERROR};
	for (uint32_t i = 0; i < wu->app_n; i++) {
		const struct world_ussd_app *a = &wu->apps[i];
		char name[SCN_NAME_MAX + 16], ip[SY_ADDR_STRLEN];
		snprintf(name, sizeof(name), "ussd-app-%s", a->name);
		sy_addr_fmt_host(&a->listen_addr, ip, sizeof(ip));
		if ((u->app_nodes[i] = sim_node_add(r->sim, name, ip)) == NULL) {
			snprintf(err, errlen, "%s:%u: [ussd-app %s]: host %s is taken", r->scn->file, a->line, a->name,
				 ip);
			return SY_ERR_INVAL;
		}
		sim_run__link_both(r->sim, r->sw_node, u->app_nodes[i], &a->link);
		struct ussd_app_cfg *c = &u->app_cfg[i];
		*c = (struct ussd_app_cfg){.name = a->name,
					   .index = i,
					   .listen = a->listen_addr,
					   .menu = &r->node->ussd.menus[a->menu_index],
					   .latency = a->latency,
					   .fail_ppm = a->fail_ppm,
					   .outage_n = a->outage_n,
					   .outage_mode = modes[a->outage_mode]};
		c->path = a->path[0] ? a->path : NULL;
		for (uint32_t k = 0; k < a->outage_n; k++)
			c->outages[k] = (struct ussd_app_outage){a->outage_start_ns[k], a->outage_ns[k]};
		char why[256];
		if (ussd_app_create(sim_node_env(u->app_nodes[i]), c, &u->apps[i], why, sizeof(why)) != SY_OK) {
			snprintf(err, errlen, "%s:%u: cannot simulate [ussd-app %s]: %s", r->scn->file, a->line,
				 a->name, why);
			return SY_ERR_INVAL;
		}
	}
	return SY_OK;
}

static enum sy_rc net_create(struct sim_run *r, struct sim_ussd *u, char *err, size_t errlen)
{
	const struct world_ussd_traffic *t = &r->world->ussd.traffic;
	struct ussd_net_cfg nc;
	char why[256];
	enum sy_rc rc = world_ussd_net_cfg(r->world, &nc, why, sizeof(why));
	if (rc == SY_OK) {
		nc.gateway = sim_node_addr(r->sw_node, USSD_PORT);
		nc.listen = sim_node_addr(u->net_node, USSD_PORT);
		rc = ussd_net_create(sim_node_env(u->net_node), &nc, &u->net, why, sizeof(why));
	}
	if (rc != SY_OK) {
		snprintf(err, errlen, "%s:%u: cannot simulate [traffic ussd]: %s", r->scn->file, t->line, why);
		return rc;
	}
	uint64_t dur = t->duration_ns ? t->duration_ns : r->scn->run.duration_ns;
	r->traffic_end_ns = SY_MAX(r->traffic_end_ns, t->start_ns + dur);
	return SY_OK;
}

enum sy_rc sim_ussd_create(struct sim_run *r, char *err, size_t errlen)
{
	const struct world_ussd *wu = &r->world->ussd;
	if (!r->node->ussd.on && !wu->traffic.present && wu->app_n == 0)
		return SY_OK;
	struct sim_ussd *u = calloc(1, sizeof(*u));
	if (u == NULL)
		return SY_ERR_NOMEM;
	r->ussd = u;
	u->net_node = sim_node_add(r->sim, "ussd-node", USSD_NODE_IP);
	if (u->net_node == NULL)
		return SY_ERR_INVAL;
	sim_run__link_both(r->sim, r->sw_node, u->net_node, &wu->traffic.link);
	gateway_cfg(r, u);
	enum sy_rc rc = apps_create(r, u, err, errlen);
	if (rc == SY_OK && r->node->ussd.on)
		rc = gateway_start(r, u, err, errlen);
	if (rc == SY_OK && wu->traffic.present)
		rc = net_create(r, u, err, errlen);
	return rc;
}

void sim_ussd_start(struct sim_run *r)
{
	struct sim_ussd *u = r->ussd;
	if (u == NULL)
		return;
	for (uint32_t i = 0; i < r->world->ussd.app_n; i++)
		ussd_app_start(u->apps[i]);
	if (u->net != NULL)
		ussd_net_start(u->net);
}

/* ---- the run's end ---- */

bool sim_ussd_idle(const struct sim_run *r)
{
	const struct sim_ussd *u = r->ussd;
	if (u == NULL)
		return true;
	return (u->net == NULL || ussd_net_open(u->net) == 0) && (u->gw == NULL || ussd_stats(u->gw)->active == 0);
}

/* The drain is over: the handsets still in a dialogue release it. */
void sim_ussd_hangup(struct sim_run *r)
{
	struct sim_ussd *u = r->ussd;
	if (u == NULL || u->net == NULL || u->stopped)
		return;
	u->stopped = true;
	ussd_net_stop_all(u->net);
}

/* A crash of the switch node takes the gateway with it: whatever it held
 * is gone (its records not yet flushed too); it comes back empty. */
void sim_ussd_crash(struct sim_run *r)
{
	struct sim_ussd *u = r->ussd;
	if (u == NULL || u->gw == NULL)
		return;
	ussd_destroy(u->gw);
	u->gw = NULL;
}

void sim_ussd_restart(struct sim_run *r)
{
	struct sim_ussd *u = r->ussd;
	char err[256];
	if (u == NULL || !r->node->ussd.on || u->gw != NULL)
		return;
	if (gateway_start(r, u, err, sizeof(err)) != SY_OK)
		SY_LOG(sim_node_env(r->sw_node), SY_LOG_ERROR, "restart: %s", err);
}

void sim_ussd_destroy(struct sim_run *r)
{
	struct sim_ussd *u = r->ussd;
	if (u == NULL)
		return;
	ussd_net_destroy(u->net);
	for (uint32_t i = 0; i < WORLD_USSD_APPS_MAX; i++)
		if (u->apps[i] != NULL)
			ussd_app_destroy(u->apps[i]);
	if (u->gw != NULL)
		ussd_destroy(u->gw);
	free(u);
	r->ussd = NULL;
}

/* ---- the report ---- */

static int64_t sub0(uint64_t a, uint64_t b)
{
	return a > b ? (int64_t)(a - b) : 0;
}

/* Both sides compared. The gateway's early ends (timeouts, application
 * errors, refusals) each sent a release text toward the handset; the
 * handsets' early ends are what arrived. */
static void put_derived(struct sim_ussd *u, sy_ctr_visit_fn put, void *arg)
{
	const struct ussd_stats *g = ussd_stats(u->gw);
	const struct ussd_net_stats *h = u->net != NULL ? ussd_net_stats(u->net) : NULL;
	uint64_t released = g->app_timeouts + g->app_errors + g->session_timeouts + g->refused;
	uint64_t early = h != NULL ? h->ended[USSD_NET_END_EARLY] : 0;
	put(arg, "ussd.released_early", SY_UNIT_COUNT, (int64_t)released);
	put(arg, "ussd.unreleased", SY_UNIT_COUNT,
	    early > released ? (int64_t)(early - released) : sub0(released, early));
	put(arg, "ussd.open_at_end", SY_UNIT_COUNT, (int64_t)(g->active + (h != NULL ? h->open : 0)));
	put(arg, "ussd.udr_rows", SY_UNIT_COUNT, (int64_t)u->udr_rows);
	put(arg, "ussd.udr_missing", SY_UNIT_COUNT, sub0(g->started + g->refused, u->udr_rows));
	if (h == NULL)
		return;
	/* of the dialogues the users saw through and the outage did not catch */
	uint64_t base =
	    h->started - h->ended[USSD_NET_END_ABANDONED] - SY_MIN(h->started, g->app_timeouts + g->app_errors);
	uint64_t done = h->ended[USSD_NET_END_COMPLETED];
	put(arg, "ussd.completion_ratio", SY_UNIT_PPM, base == 0 ? 0 : (int64_t)(done * 1000000u / base));
}

void sim_ussd_flush(struct sim_run *r)
{
	if (r->ussd != NULL && r->ussd->gw != NULL)
		ussd_flush(r->ussd->gw);
}

/* The gateway's and the handsets' tables, and the figures comparing them. */
void sim_ussd_metrics(struct sim_run *r, sy_ctr_visit_fn put, void *arg)
{
	struct sim_ussd *u = r->ussd;
	if (u == NULL)
		return;
	if (u->net != NULL)
		sy_counters_visit(&ussd_net_counters, ussd_net_stats(u->net), put, arg);
	if (u->gw == NULL)
		return;
	ussd_flush(u->gw);
	if (!u->udr_read && r->node->ussd.records &&
	    udr_store_count_rows(sim_world_env(r->sim), r->out_dir, &u->udr_rows, u->udr_err, sizeof(u->udr_err)) !=
		SY_OK)
		fprintf(stderr, "report: %s\n", u->udr_err); /* counted as missing: nothing proven on disk */
	u->udr_read = true;
	sy_counters_visit(&ussd_counters, ussd_stats(u->gw), put, arg);
	const struct ussd_http_stats *hs = ussd_http_stats_of(u->gw); /* NULL: no HTTP service */
	if (hs != NULL)
		sy_counters_visit(&ussd_http_counters, hs, put, arg);
	put_derived(u, put, arg);
}

static void hist_line(FILE *f, const char *label, const struct sy_hist *h)
{
	fprintf(f, "%-10s p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms (%" PRIu64 ")\n", label,
		(double)sy_hist_percentile(h, 50) / 1e6, (double)sy_hist_percentile(h, 90) / 1e6,
		(double)sy_hist_percentile(h, 99) / 1e6, (double)h->max_ns / 1e6, h->count);
}

void sim_ussd_text(const struct sim_run *r, FILE *f)
{
	const struct sim_ussd *u = r->ussd;
	if (u == NULL)
		return;
	if (u->net != NULL) {
		const struct ussd_net_stats *h = ussd_net_stats(u->net);
		const uint64_t *e = h->ended;
		fprintf(f,
			"handsets  started %" PRIu64 ", completed %" PRIu64 ", ended early %" PRIu64
			", abandoned %" PRIu64 ", no answer %" PRIu64 ", overrun %" PRIu64 ", failed %" PRIu64
			", open peak %" PRIu64 "\n",
			h->started, e[USSD_NET_END_COMPLETED], e[USSD_NET_END_EARLY], e[USSD_NET_END_ABANDONED],
			e[USSD_NET_END_NO_ANSWER], e[USSD_NET_END_OVERRUN], e[USSD_NET_END_FAILED], h->open_peak);
		hist_line(f, "ussd step", &h->step);
	}
	if (u->gw == NULL)
		return;
	const struct ussd_stats *g = ussd_stats(u->gw);
	fprintf(f,
		"ussd      started %" PRIu64 ", completed %" PRIu64 ", user aborts %" PRIu64 ", app timeouts %" PRIu64
		", app errors %" PRIu64 ", session timeouts %" PRIu64 ", refused %" PRIu64 ", concurrent peak %" PRIu64
		", %" PRIu64 " bytes/session\n",
		g->started, g->completed, g->user_aborts, g->app_timeouts, g->app_errors, g->session_timeouts,
		g->refused, g->active_peak, g->bytes_per_session);
	fprintf(f, "          UDRs %" PRIu64 " in %s/udrs.sqlite (read back), open at the end %" PRIu64 "\n",
		u->udr_rows, r->out_dir, g->active);
}

/* The gateway's and the handsets' counters for the report's counters
 * block. */
void sim_ussd_counters_text(const struct sim_run *r, struct sy_ctr_out *o)
{
	const struct sim_ussd *u = r->ussd;
	if (u == NULL)
		return;
	if (u->gw != NULL) {
		sy_counters_text(o, "ussd", &ussd_counters, ussd_stats(u->gw), 110);
		if (ussd_http_stats_of(u->gw) != NULL) /* NULL: no HTTP service */
			sy_counters_text(o, "ussd-app", &ussd_http_counters, ussd_http_stats_of(u->gw), 110);
	}
	if (u->net != NULL)
		sy_counters_text(o, "handsets", &ussd_net_counters, ussd_net_stats(u->net), 110);
}

bool sim_run_ussd_figures(const struct sim_run *r, struct sim_run_ussd_figures *out)
{
	const struct sim_ussd *u = r->ussd;
	if (u == NULL || u->gw == NULL)
		return false;
	const struct ussd_stats *g = ussd_stats(u->gw);
	*out = (struct sim_run_ussd_figures){g->active_peak, g->started, g->steps, g->bytes_per_session,
					     u->net != NULL ? ussd_net_stats(u->net)->bytes : 0};
	return true;
}
