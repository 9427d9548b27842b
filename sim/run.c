/* run.c: a scenario run in the simulator; see run.h. */
#include "run.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net.h"
#include "run_int.h"

static const char *const col_names[COL_N] = {"offered",	  "attempts", "answered", "failed",
					     "completed", "active",   "cdrs"};

/* ---- building the world ---- */

static struct sim_link_cfg link_cfg(const struct world_link *l)
{
	struct sim_link_cfg c = sim_link_cfg_default();
	if (l->set) {
		c.latency = l->latency;
		c.jitter_sd_ns = l->jitter_ns;
		c.loss_ppm = l->loss_ppm;
	}
	return c;
}

void sim_run__link_both(struct sim *sim, struct sim_node *a, struct sim_node *b, const struct world_link *l)
{
	struct sim_link_cfg c = link_cfg(l);
	sim_net_link_set(sim_net_link(sim, a, b), &c);
	sim_net_link_set(sim_net_link(sim, b, a), &c);
}

static enum sy_rc make_dir(const char *path, char *err, size_t errlen)
{
	char tmp[SCN_PATH_MAX + 64];
	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
			goto fail;
		*p = '/';
	}
	if (mkdir(tmp, 0755) == 0 || errno == EEXIST)
		return SY_OK;
fail:
	snprintf(err, errlen, "cannot create output folder %s: %s", tmp, strerror(errno));
	return SY_ERR_IO;
}

/* A sim run starts from empty outputs: the CDR store appends otherwise. */
static void clear_outputs(const char *dir);

/* nodes = N: the folders of instances 2..N (OUT/node2/ ...), of any N. */
static void clear_nodes(const char *dir)
{
	char p[SCN_PATH_MAX + 96];
	for (uint32_t k = 2; k <= SCN_NODES_MAX; k++) {
		snprintf(p, sizeof(p), "%s/node%u", dir, k);
		struct stat st;
		if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode))
			continue;
		clear_outputs(p);
		rmdir(p);
	}
}

static void clear_outputs(const char *dir)
{
	static const char *const files[] = {
		"cdrs.sqlite",	"cdrs.sqlite-wal", "cdrs.sqlite-shm", "cdrs.csv",	    "ledger.sqlite",
		"ledger.sqlite-wal", "ledger.sqlite-shm", "smsq.sqlite", "smsq.sqlite-wal", "smsq.sqlite-shm",
		"mdrs.sqlite",	"mdrs.sqlite-wal", "mdrs.sqlite-shm", "mdrs.csv",	    "report.txt",
		"report.json",	"series.csv", "udrs.sqlite", "udrs.sqlite-wal", "udrs.sqlite-shm", "udrs.csv",
	};
	char p[SCN_PATH_MAX + 96];
	for (size_t i = 0; i < SY_ARRAY_LEN(files); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		unlink(p);
	}
	/* The SMS queue's segment log (core/store/smsq.h): its folder. */
	snprintf(p, sizeof(p), "%s/smsq", dir);
	DIR *d = opendir(p);
	for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;) {
		char f[SCN_PATH_MAX + 96 + 256];
		if (e->d_name[0] != '.')
			snprintf(f, sizeof(f), "%s/%s", p, e->d_name), unlink(f);
	}
	if (d != NULL)
		closedir(d), rmdir(p);
}

static enum sy_rc add_carriers(struct sim_run *r, struct sy_addr *addrs, char *err, size_t errlen)
{
	const struct scn *s = r->scn;
	for (uint32_t i = 0; i < s->carrier_n; i++) {
		const struct scn_carrier *c = &s->carriers[i];
		char name[SCN_NAME_MAX + 16], ip[32];
		snprintf(name, sizeof(name), "carrier-%s", c->name);
		snprintf(ip, sizeof(ip), "10.0.1.%u", i + 1);
		r->carrier_nodes[i] = sim_node_add(r->sim, name, ip);
		if (r->carrier_nodes[i] == NULL)
			return SY_ERR_INVAL;
		sim_run__link_both(r->sim, r->sw_node, r->carrier_nodes[i], &r->world->carriers[i].link);
		addrs[i] = sim_node_addr(r->carrier_nodes[i], SIP_PORT);
		struct uas_cfg u;
		scn_peers_uas(r->world, i, addrs[i], r->calls_max, &u);
		int k = sim_replay_carrier(r, i);
		enum sy_rc rc = k >= 0 ? sim_replay_uas(r, i, k, addrs[i])
				       : uas_create(sim_node_env(r->carrier_nodes[i]), &u, &r->uas[i]);
		if (rc != SY_OK) {
			snprintf(err, errlen, "%s:%u: cannot simulate [carrier %s]: %s", s->file, c->line, c->name,
				 sy_rc_str(rc));
			return rc;
		}
	}
	return SY_OK;
}

static enum sy_rc add_callers(struct sim_run *r, char *err, size_t errlen)
{
	const struct scn *s = r->scn;
	const struct world_traffic_voice *v = &r->world->voice;
	r->callers_node = sim_node_add(r->sim, "callers", "10.0.2.1");
	sim_run__link_both(r->sim, r->callers_node, r->sw_node, &v->link);
	uint64_t dur = v->duration_ns ? v->duration_ns : s->run.duration_ns;
	struct uac_cfg u;
	scn_peers_uac(r->world, sim_node_addr(r->callers_node, SIP_PORT), sim_node_addr(r->sw_node, SIP_PORT), r->calls_max,
		      r->dests, &u);
	enum sy_rc rc = uac_create(sim_node_env(r->callers_node), &u, &r->uac);
	if (rc != SY_OK) {
		snprintf(err, errlen, "%s:%u: cannot simulate [traffic voice]: %s", s->file, v->line, sy_rc_str(rc));
		return rc;
	}
	r->traffic_end_ns = v->start_ns + dur;
	return SY_OK;
}

struct drop_ctx {
	struct sim_run *r;
	int32_t carrier;
	uint64_t until_ns;
};

static void sms_drop_fire(void *arg);

static void add_faults(struct sim_run *r)
{
	const struct world *w = r->world;
	for (uint32_t i = 0; i < w->fault_n; i++) {
		const struct world_fault *f = &w->faults[i];
		if (f->kind == WORLD_FAULT_CARRIER_DOWN && f->carrier >= 0) {
			sim_net_down_between(r->sim, r->sw_node, r->carrier_nodes[f->carrier], true, f->at_ns,
					     f->at_ns + f->duration_ns);
		} else if (f->kind == WORLD_FAULT_SMPP_DROP && f->carrier >= 0) {
			struct drop_ctx *d = malloc(sizeof(*d));
			SY_ASSERT(d != NULL);
			*d = (struct drop_ctx){r, f->carrier, f->at_ns + f->duration_ns};
			sim_at(r->sim, f->at_ns, sms_drop_fire, d);
		} else if (f->kind == WORLD_FAULT_NODE_CRASH && f->carrier > 0) {
			sim_node_crash_at(r->smsc_nodes[f->carrier], f->at_ns, f->duration_ns); /* switch-K alone */
		} else if (f->kind == WORLD_FAULT_NODE_POWER_LOSS && f->carrier > 0) {
			sim_node_power_loss_at(r->smsc_nodes[f->carrier], f->at_ns, f->duration_ns);
		} else if (f->kind == WORLD_FAULT_NODE_CRASH) {
			/* the switch's process: with nodes = N, every SMSC instance */
			sim_node_crash_at(r->sw_node, f->at_ns, f->duration_ns);
			for (uint32_t k = 1; k < r->sms_n; k++)
				sim_node_crash_at(r->smsc_nodes[k], f->at_ns, f->duration_ns);
		} else if (f->kind == WORLD_FAULT_NODE_POWER_LOSS) {
			sim_node_power_loss_at(r->sw_node, f->at_ns, f->duration_ns);
			for (uint32_t k = 1; k < r->sms_n; k++)
				sim_node_power_loss_at(r->smsc_nodes[k], f->at_ns, f->duration_ns);
		} else if (f->kind >= WORLD_FAULT_DISK_SLOW && f->kind <= WORLD_FAULT_DISK_FSYNC_FAIL) {
			enum sim_disk_mode m = f->kind == WORLD_FAULT_DISK_SLOW ? SIM_DISK_SLOW
					       : f->kind == WORLD_FAULT_DISK_FULL ? SIM_DISK_FULL
										: SIM_DISK_FSYNC_FAIL;
			SY_ASSERT(sim_disk_fault_at(r->sim, f->at_ns, f->duration_ns, m, f->latency_ns));
		}
	}
}

uint32_t sim_run__power_losses(const struct world *w)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < w->fault_n; i++)
		n += w->faults[i].kind == WORLD_FAULT_NODE_POWER_LOSS;
	return n;
}

static void tick(void *arg);

/* ---- SMS ---- */

static enum sy_rc smsc_start(struct sim_run *r, char *err, size_t errlen)
{
	struct smsc_cfg c;
	sim_nodes_smsc_cfg(r, 0, pcap_node_tap_env(&r->sw_tap), &c);
	return smsc_create(&c, &r->smsc, err, errlen);
}

static enum sy_rc add_sms(struct sim_run *r, char *err, size_t errlen)
{
	const struct scn *s = r->scn;
	const struct world_traffic_sms *t = &r->world->sms;
	for (uint32_t i = 0; i < s->smpp_carrier_n; i++) {
		char name[SCN_NAME_MAX + 8], ip[32];
		snprintf(name, sizeof(name), "smsc-%s", s->smpp_carriers[i].name);
		snprintf(ip, sizeof(ip), "10.0.3.%u", i + 1);
		r->sms_nodes[i] = sim_node_add(r->sim, name, ip);
		if (r->sms_nodes[i] == NULL)
			return SY_ERR_INVAL;
		sim_run__link_both(r->sim, r->sw_node, r->sms_nodes[i], &r->world->smpp_carriers[i].link);
		r->sms_carriers[i] = r->node->smsc_carriers[i];
		r->sms_carriers[i].addr = sim_node_addr(r->sms_nodes[i], SMPP_PORT);
		struct smsc_peer_cfg pc;
		scn_peers_smsc(r->world, i, r->sms_carriers[i].addr, &pc);
		enum sy_rc rc = smsc_peer_create(sim_node_env(r->sms_nodes[i]), &pc, &r->sms_peers[i]);
		if (rc != SY_OK) {
			snprintf(err, errlen, "%s:%u: cannot simulate [smpp-carrier %s]: %s", s->file,
				 s->smpp_carriers[i].line, s->smpp_carriers[i].name, sy_rc_str(rc));
			return rc;
		}
	}
	enum sy_rc rc = smsc_start(r, err, errlen);
	if (rc == SY_OK)
		rc = sim_nodes_add(r, err, errlen); /* nodes = N: instances 2..N */
	if (rc != SY_OK || !t->present)
		return rc;
	r->apps_node = sim_node_add(r->sim, "apps", "10.0.4.1");
	sim_run__link_both(r->sim, r->apps_node, r->sw_node, &t->link);
	sim_nodes_link_apps(r, r->apps_node, &t->link);
	struct esme_cfg ec;
	scn_peers_esme(r->world, sim_node_addr(r->sw_node, SMPP_PORT), r->esme_patterns, &ec);
	if ((rc = esme_create(sim_node_env(r->apps_node), &ec, &r->esme)) != SY_OK) {
		snprintf(err, errlen, "%s:%u: cannot simulate [traffic sms]: %s", s->file, t->line, sy_rc_str(rc));
		return rc;
	}
	uint64_t dur = t->duration_ns ? t->duration_ns : s->run.duration_ns;
	r->sms_traffic_end_ns = t->start_ns + dur;
	r->traffic_end_ns = SY_MAX(r->traffic_end_ns, r->sms_traffic_end_ns);
	return SY_OK;
}

uint64_t sim_run__sms_unreceipted(const struct sim_run *r)
{
	return r->esme != NULL ? esme_each_unreceipted(r->esme, NULL, NULL) : 0;
}

/* ---- the voice switch over the whole run ---- */

/* A counter added to b2bua_stats or sip_stack_stats must be summed below too;
 * the sizes make a forgotten one fail the build. */
_Static_assert(sizeof(struct b2bua_stats) == (24 + B2BUA_REFUSED_N + 4) * 8 + 700 * 4 + 2 * sizeof(struct sy_hist),
	       "b2bua_stats changed: update b2bua_add()");
_Static_assert(sizeof(struct sip_stack_stats) == (12 + SIP_OVL_N + 10) * 8 + sizeof(struct sy_hist),
	       "sip_stack_stats changed: update sip_add()");

_Static_assert(sizeof(struct callbill_stats) == 13 * 8, "callbill_stats changed: update bill_add()");

static void bill_add(struct sim_voice_totals *t, const struct callbill *cb)
{
	struct callbill_stats b;
	callbill_stats(cb, &b);
	if (!t->billed)
		sy_hist_init(&t->bill_cutoff_late);
	t->billed = true;
	t->bill.revenue_micros += b.revenue_micros;
	t->bill.cost_micros += b.cost_micros;
	t->bill.authorized += b.authorized;
	t->bill.declined += b.declined;
	t->bill.declined_funds += b.declined_funds;
	t->bill.declined_unknown += b.declined_unknown;
	t->bill.declined_tariff += b.declined_tariff;
	t->bill.declined_store += b.declined_store;
	t->bill.declined_caller += b.declined_caller;
	t->bill.extends += b.extends;
	t->bill.cutoffs += b.cutoffs;
	t->bill.cutoff_late_max_ns = SY_MAX(t->bill.cutoff_late_max_ns, b.cutoff_late_max_ns);
	t->bill.cutoff_early += b.cutoff_early;
	t->bill_cutoff_violations += callbill_cutoff_violations(cb);
	sy_hist_merge(&t->bill_cutoff_late, callbill_cutoff_late(cb));
}

static void b2bua_add(struct b2bua_stats *t, const struct b2bua_stats *b)
{
	t->invites += b->invites;
	t->attempts += b->attempts;
	t->answered += b->answered;
	t->completed += b->completed;
	t->failed += b->failed;
	t->no_route += b->no_route;
	t->congestion += b->congestion;
	t->cancelled += b->cancelled;
	t->timeouts += b->timeouts;
	t->ring_timeouts += b->ring_timeouts;
	t->failovers += b->failovers;
	t->ack_timeouts += b->ack_timeouts;
	t->cdrs += b->cdrs;
	t->active = b->active; /* a gauge: the instance added last */
	t->active_peak = SY_MAX(t->active_peak, b->active_peak);
	t->stray += b->stray;
	t->stray_2xx += b->stray_2xx;
	t->bill_declined += b->bill_declined;
	t->bill_cutoffs += b->bill_cutoffs;
	t->refreshes += b->refreshes;
	t->session_expired += b->session_expired;
	t->bye_timeouts += b->bye_timeouts;
	t->too_small += b->too_small;
	t->relayed += b->relayed;
	for (int i = 0; i < B2BUA_REFUSED_N; i++)
		t->dlg_refused[i] += b->dlg_refused[i];
	t->stray_2xx_limited += b->stray_2xx_limited;
	t->pike_limited += b->pike_limited;
	t->pike_dropped += b->pike_dropped;
	t->pike_tracked = b->pike_tracked; /* a gauge */
	for (int i = 0; i < 700; i++)
		t->final_by_code[i] += b->final_by_code[i];
	sy_hist_merge(&t->pdd, &b->pdd);
	sy_hist_merge(&t->setup, &b->setup);
}

_Static_assert(sizeof(struct sip_auth_stats) == 11 * 8, "sip_auth_stats changed: update auth_add()");

static void auth_add(struct sip_auth_stats *t, const struct sip_auth_stats *s)
{
	t->by_trunk += s->by_trunk;
	t->by_digest += s->by_digest;
	t->challenged += s->challenged;
	t->rejected += s->rejected;
	t->bad_credentials += s->bad_credentials;
	t->stale += s->stale;
	t->replays += s->replays;
	t->registers += s->registers;
	t->bindings = s->bindings; /* a gauge */
	t->reg_full += s->reg_full;
	t->reg_routed += s->reg_routed;
}

static void sip_add(struct sip_stack_stats *t, const struct sip_stack_stats *s)
{
	t->rx_msgs += s->rx_msgs;
	t->tx_msgs += s->tx_msgs;
	t->rx_bad_dropped += s->rx_bad_dropped;
	t->rx_bad_400 += s->rx_bad_400;
	t->retransmits_sent += s->retransmits_sent;
	t->retransmits_absorbed += s->retransmits_absorbed;
	t->txn_full += s->txn_full;
	t->timeouts += s->timeouts;
	t->txn_active = s->txn_active; /* a gauge */
	t->rx_stray_responses += s->rx_stray_responses;
	t->tx_errors += s->tx_errors;
	t->rx_pool_exhausted += s->rx_pool_exhausted;
	for (int i = 0; i < SIP_OVL_N; i++)
		t->rejected[i] += s->rejected[i];
	t->served_stateless += s->served_stateless;
	t->sent_stateless += s->sent_stateless;
	t->finals_once += s->finals_once;
	t->txn_lingering = s->txn_lingering; /* gauges */
	t->mem_bytes = s->mem_bytes;
	t->mem_limit = s->mem_limit;
	/* peaks over the instances (a crashed switch restarts): the highest */
	t->txn_peak = SY_MAX(t->txn_peak, s->txn_peak);
	t->mem_peak = SY_MAX(t->mem_peak, s->mem_peak);
	t->txn_cap = s->txn_cap;
	t->lag_ns = s->lag_ns;
	sy_hist_merge(&t->lag, &s->lag);
}

void sim_run__voice_add(struct sim_voice_totals *t, const struct vswitch *v)
{
	b2bua_add(&t->b2b, b2bua_stats(v->b2bua));
	sip_add(&t->sip, sip_stack_stats(b2bua_stack(v->b2bua)));
	auth_add(&t->auth, b2bua_auth_stats(v->b2bua));
	for (uint32_t i = 0; i < v->carrier_n; i++) {
		struct b2bua_carrier *c = &t->carriers[i];
		const struct b2bua_carrier *vc = &v->carriers[i];
		memcpy(c->name, vc->name, sizeof(c->name));
		c->addr = vc->addr;
		c->capacity = vc->capacity;
		c->active = vc->active;
		c->attempts += vc->attempts;
		c->answered += vc->answered;
		c->failed += vc->failed;
		c->timeouts += vc->timeouts;
	}
	t->carrier_n = v->carrier_n;
	t->cdrs_emitted += v->cdrs_emitted;
	vswitch_disk_add(&t->disk, v);
	if (v->bill != NULL)
		bill_add(t, v->bill);
}

void sim_run__voice_totals(const struct sim_run *r, struct sim_voice_totals *out)
{
	*out = r->dead;
	out->b2b.active = 0; /* the dead instances' calls are crash.calls_lost */
	out->sip.txn_active = 0;
	for (uint32_t i = 0; i < SCN_CARRIERS_MAX; i++)
		out->carriers[i].active = 0;
	if (r->sw != NULL)
		sim_run__voice_add(out, r->sw);
}

/* A crash is a kill -9: whatever was not committed is gone (a power loss
 * is one too, and then the disk also drops what was not synced). The SMSC's
 * pending queue batch and MDRs, the switch's CDR batch and ledger batch are
 * dropped, not flushed; calls in progress die without a CDR (counted as
 * crash.calls_lost). The dead instances' counters stay in the run's totals.
 * On restart both come back on the same stores and recover. */
static void switch_crashed(void *arg, struct sim_node *node)
{
	struct sim_run *r = arg;
	r->crashes++;
	if (r->smsc != NULL)
		sim_run__sms_dead(r, r->smsc);
	smsc_destroy(r->smsc);
	r->smsc = NULL;
	sim_ussd_crash(r);
	if (r->sw == NULL) {
		sim_fraud_crash(r);
		return;
	}
	struct vswitch_crash c;
	sim_run__voice_add(&r->dead, r->sw);
	vswitch_abandon(r->sw, &c);
	r->sw = NULL;
	sim_fraud_crash(r); /* after both components that held it */
	r->crash.calls_lost += c.calls_lost;
	r->crash.cdrs_dropped += c.cdrs_dropped;
	r->crash.ledger_ops_dropped += c.ledger_ops_dropped;
	SY_LOG(sim_node_env(node), SY_LOG_INFO,
	       "crash: %" PRIu64 " calls in progress lost, %" PRIu64 " CDRs and %" PRIu64 " ledger operations not yet "
	       "committed dropped",
	       c.calls_lost, c.cdrs_dropped, c.ledger_ops_dropped);
}

/* A new switch comes up on the same stores: CDR ids continue from the last
 * one on disk, the ledger reconciles the reservations left open. */
static void switch_restarted(void *arg, struct sim_node *node)
{
	struct sim_run *r = arg;
	char err[256];
	SY_ASSERT(r->sw == NULL);
	if (sim_fraud_start(r, err, sizeof(err)) != SY_OK ||
	    vswitch_create(&r->sw_cfg, &r->sw, err, sizeof(err)) != SY_OK) {
		SY_LOG(sim_node_env(node), SY_LOG_ERROR, "restart: %s", err);
		r->sw = NULL; /* stays down: the report covers the instances that ran */
		return;
	}
	if (r->scn->smpp_carrier_n > 0 && smsc_start(r, err, sizeof(err)) != SY_OK)
		SY_LOG(sim_node_env(node), SY_LOG_ERROR, "restart: %s", err);
	sim_ussd_restart(r);
}

/* An SMPP link drop: the carrier cuts every bind now and keeps cutting
 * rebinds until the drop ends. */
static void sms_drop_fire(void *arg)
{
	struct drop_ctx *d = arg;
	smsc_peer_drop_links(d->r->sms_peers[d->carrier]);
	uint64_t next = sim_now(d->r->sim) + 250 * SY_NS_PER_MS;
	if (next < d->until_ns)
		sim_at(d->r->sim, next, sms_drop_fire, d);
	else
		free(d);
}

/* --out DIR, or out/<scenario name>: created, and emptied of a past run. */
static enum sy_rc out_dir_init(struct sim_run *r, const char *dir, char *err, size_t errlen)
{
	if (dir != NULL) {
		snprintf(r->out_dir, sizeof(r->out_dir), "%s", dir);
	} else {
		const char *base = strrchr(r->scn->file, '/');
		base = base ? base + 1 : r->scn->file;
		size_t n = strcspn(base, ".");
		snprintf(r->out_dir, sizeof(r->out_dir), "out/%.*s", (int)n, base);
	}
	enum sy_rc rc = make_dir(r->out_dir, err, errlen);
	if (rc == SY_OK) {
		clear_outputs(r->out_dir);
		clear_nodes(r->out_dir);
	}
	return rc;
}

/* The switch's host: its timing faults, its CPU model, and the tap its
 * components run on when the run is captured (the switch's view). */
static enum sy_rc switch_node_add(struct sim_run *r, const struct sim_run_opts *o)
{
	const struct world_model *m = &r->world->model;
	r->sw_node = sim_node_add(r->sim, "switch", "10.0.0.1");
	sim_node_set_timer_late(r->sw_node, o->switch_timer_late_ns);
	sim_node_set_cpu(r->sw_node, &(struct sim_cpu_cost){world_model_cost(m, m->rx_ns), world_model_cost(m, m->tx_ns),
							       world_model_cost(m, m->timer_ns), m->rcvbuf_bytes});
	pcap_node_tap_init(&r->sw_tap, sim_node_env(r->sw_node));
	for (uint32_t i = 0; i < o->sink_n; i++) {
		enum sy_rc rc = pcap_node_tap_add(&r->sw_tap, o->sinks[i]);
		if (rc != SY_OK)
			return rc;
	}
	return SY_OK;
}

/* The callers, replays, applications and attacks (which may run past
 * the callers: the traffic ends with the last of them). */
static enum sy_rc add_traffic(struct sim_run *r, char *err, size_t errlen)
{
	const struct world *w = r->world;
	enum sy_rc rc;
	if (w->voice.present && (rc = add_callers(r, err, errlen)) != SY_OK)
		return rc;
	if ((rc = sim_replay_callers(r, err, errlen)) != SY_OK)
		return rc;
	if ((w->sms.present || r->scn->smpp_carrier_n > 0) && (rc = add_sms(r, err, errlen)) != SY_OK)
		return rc;
	if ((rc = sim_attacks_create(r, err, errlen)) != SY_OK || (rc = sim_ussd_create(r, err, errlen)) != SY_OK)
		return rc;
	r->traffic_end_ns = SY_MAX(r->traffic_end_ns, sim_attacks_end(r));
	return SY_OK;
}

static void start_traffic(struct sim_run *r)
{
	if (r->uac != NULL)
		uac_start(r->uac);
	sim_replay_start(r);
	if (r->esme != NULL)
		esme_start(r->esme);
	sim_attacks_start(r);
	sim_ussd_start(r);
}

enum sy_rc sim_run_create(const struct sim_scenario *sc, const struct sim_run_opts *o, struct sim_run **out,
			  char *err, size_t errlen)
{
	const struct world *w = sc->world;
	const struct scn *scn = w->scn;
	struct sim_run *r = calloc(1, sizeof(*r));
	struct sy_addr addrs[SCN_CARRIERS_MAX];
	enum sy_rc rc = SY_ERR_NOMEM;
	if (r == NULL)
		return rc;
	r->scn = scn;
	r->world = w;
	r->expects = &sc->expects;
	if ((r->node = conf_node_new(scn)) == NULL)
		goto out_free;
	sy_hist_init(&r->dead.b2b.pdd);
	sy_hist_init(&r->dead.b2b.setup);
	r->seed = o->seed_set ? o->seed : scn->run.seed;
	r->fraud_off = o->fraud_off;
	r->log_level = o->log_level;
	if ((rc = out_dir_init(r, o->out_dir, err, errlen)) != SY_OK)
		goto out_free;
	struct sim_opts so = {.log_level = o->log_level};
	r->sim = sim_create_opts(r->seed, scn->run.epoch_ns, &so);
	if (r->sim == NULL)
		goto out_free;
	if (o->trace != NULL)
		sim_set_event_text(r->sim, o->trace);
	/* Power loss undoes unsynced writes: the disk remembers them from the
	 * first file on, and only then (it costs a read per overwrite). */
	sim_disk_track(r->sim, sim_run__power_losses(w) > 0);
	r->calls_max = scn->run.calls_max ? scn->run.calls_max : scn_peers_calls_max(w);
	if ((rc = switch_node_add(r, o)) != SY_OK)
		goto out_free;
	if ((rc = sim_replay_load(r, err, errlen)) != SY_OK || (rc = add_carriers(r, addrs, err, errlen)) != SY_OK)
		goto out_free;
	memcpy(r->sw_carrier_addrs, addrs, sizeof(addrs));
	r->sw_cfg = (struct vswitch_cfg){
		.env = pcap_node_tap_env(&r->sw_tap),
		.sw = &r->node->sw,
		.billing = &r->node->billing,
		.listen = sim_node_addr(r->sw_node, SIP_PORT),
		.out_dir = r->out_dir,
		.carrier_addrs = r->sw_carrier_addrs,
		.calls_max = r->calls_max,
		.bill_sessions_max = ussd_charged_sessions_max(&r->node->ussd), /* run_ussd.c: on the same book */
		/* as live: [run] txn_max if set, else as many as [node] sip_memory holds */
		.txn_max = scn->run.txn_max,
	};
	/* the evaluator's observers (r->fraud_on_decision) are set before the component */
	if ((rc = sim_attacks_init(r, err, errlen)) != SY_OK || (rc = sim_fraud_start(r, err, errlen)) != SY_OK ||
	    (rc = vswitch_create(&r->sw_cfg, &r->sw, err, errlen)) != SY_OK)
		goto out_free;
	if ((rc = add_traffic(r, err, errlen)) != SY_OK)
		goto out_free;
	sim_node_set_hooks(r->sw_node, switch_crashed, switch_restarted, r);
	add_faults(r);
	r->drain_end_ns = r->traffic_end_ns + scn->run.drain_ns;
	r->hard_end_ns = r->drain_end_ns + HANGUP_GRACE_NS;
	sim_series_init(&r->series, (uint32_t)(r->hard_end_ns / SY_NS_PER_S + 2));
	for (int i = 0; i < COL_N; i++)
		r->cols[i] = sim_series_col_add(&r->series, col_names[i]);
	start_traffic(r);
	sim_at(r->sim, TICK_NS, tick, r);
	*out = r;
	return SY_OK;
out_free:
	sim_run_destroy(r);
	return rc;
}

/* ---- stepping ---- */

uint64_t sim_run__counter(const struct sim_run *r, int col)
{
	static struct sim_voice_totals t; /* large; one run steps at a time */
	sim_run__voice_totals(r, &t);
	const struct b2bua_stats *b = &t.b2b;
	switch (col) {
	case COL_OFFERED: return r->uac ? uac_stats(r->uac)->attempted : 0;
	case COL_ATTEMPTS: return b->attempts;
	case COL_ANSWERED: return b->answered;
	case COL_FAILED: return b->failed;
	case COL_COMPLETED: return b->completed;
	case COL_ACTIVE: return b->active;
	default: return b->cdrs;
	}
}

/* Once per virtual second: the time series, and the end-of-run decision. */
static void tick(void *arg)
{
	struct sim_run *r = arg;
	uint64_t now = sim_now(r->sim);
	uint64_t t = now - TICK_NS; /* the second that just ended */
	for (int i = 0; i < COL_N; i++) {
		uint64_t v = sim_run__counter(r, i);
		if (i == COL_ACTIVE)
			sim_series_set(&r->series, r->cols[i], t, (int64_t)v);
		else
			sim_series_add(&r->series, r->cols[i], t, (int64_t)(v - r->last[i]));
		r->last[i] = v;
	}
	/* Checked only once traffic has stopped: counting unreceipted messages
	 * walks every segment record of the applications. */
	bool idle = now >= r->traffic_end_ns && (r->sw == NULL || b2bua_stats(r->sw->b2bua)->active == 0) &&
		    (r->uac == NULL || uac_stats(r->uac)->active == 0) && sim_replay_idle(r) &&
		    (r->esme == NULL || (esme_in_flight(r->esme) == 0 && sim_run__sms_unreceipted(r) == 0)) &&
		    !sim_attacks_busy(r) && sim_ussd_idle(r);
	if (idle) {
		r->done = true;
		return;
	}
	if (now >= r->drain_end_ns && !r->hung_up) {
		r->hung_up = true;
		if (r->uac != NULL)
			uac_stop_and_hangup(r->uac);
		if (r->esme != NULL)
			esme_stop(r->esme);
		sim_attacks_hangup(r);
		sim_ussd_hangup(r);
	}
	if (now >= r->hard_end_ns) {
		r->done = true;
		return;
	}
	sim_at(r->sim, now + TICK_NS, tick, r);
}

bool sim_run_step(struct sim_run *r, uint64_t step_ns)
{
	if (r->done)
		return false;
	sim_run_until(r->sim, sim_now(r->sim) + step_ns);
	return !r->done;
}

uint64_t sim_run_now(const struct sim_run *r)
{
	return sim_now(r->sim);
}

uint64_t sim_run_horizon(const struct sim_run *r)
{
	return r->hard_end_ns;
}

uint64_t sim_run_traffic_end(const struct sim_run *r)
{
	return r->traffic_end_ns;
}

uint64_t sim_run_events(const struct sim_run *r)
{
	return sim_stats(r->sim)->events;
}

uint64_t sim_run_calls(const struct sim_run *r)
{
	return sim_run__counter(r, COL_ATTEMPTS);
}

uint64_t sim_run_completed(const struct sim_run *r)
{
	return sim_run__counter(r, COL_COMPLETED);
}

uint64_t sim_run_messages(const struct sim_run *r)
{
	return r->esme != NULL ? esme_stats(r->esme)->segs_submitted : 0;
}

const char *sim_run_out_dir(const struct sim_run *r)
{
	return r->out_dir;
}

void sim_run_destroy(struct sim_run *r)
{
	if (r == NULL)
		return;
	uac_destroy(r->uac);
	sim_replay_destroy(r);
	if (r->esme != NULL)
		esme_destroy(r->esme);
	for (uint32_t i = 0; i < SCN_SMPP_CARRIERS_MAX; i++)
		if (r->sms_peers[i] != NULL)
			smsc_peer_destroy(r->sms_peers[i]);
	if (r->smsc != NULL) {
		smsc_flush(r->smsc);
		smsc_destroy(r->smsc);
	}
	sim_nodes_destroy(r);
	for (uint32_t i = 0; i < SCN_CARRIERS_MAX; i++)
		if (r->uas[i] != NULL)
			uas_destroy(r->uas[i]);
	sim_ussd_destroy(r); /* before the switch: the gateway charges through its billing */
	vswitch_destroy(r->sw);
	sim_fraud_destroy(r);	/* after the switch and the SMSC */
	sim_attacks_destroy(r); /* after the switch's last CDRs, before the hosts' sim */
	pcap_node_tap_close(&r->sw_tap); /* the sinks are the caller's: only the tap goes */
	if (r->sim != NULL) {
		sim_disk_track(r->sim, false); /* frees what it remembered */
		sim_destroy(r->sim);
	}
	if (r->series.ncols > 0)
		sim_series_free(&r->series);
	free(r->node); /* after the switch and the SMSC that point into it */
	free(r);
}
