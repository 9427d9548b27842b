/* run.c: a scenario run in the simulator; see run.h. */
#include "run.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net.h"
#include "run_int.h"

static const char *const col_names[COL_N] = {"offered",	  "attempts", "answered", "failed",
					     "completed", "active",   "cdrs"};

/* ---- building the world ---- */

static struct sim_link_cfg link_cfg(const struct scn_link *l)
{
	struct sim_link_cfg c = sim_link_cfg_default();
	if (l->set) {
		c.latency = l->latency;
		c.jitter_sd_ns = l->jitter_ns;
		c.loss_ppm = l->loss_ppm;
	}
	return c;
}

static void link_both(struct sim *sim, struct sim_node *a, struct sim_node *b, const struct scn_link *l)
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
static void clear_outputs(const char *dir)
{
	static const char *const files[] = {
		"cdrs.sqlite",	"cdrs.sqlite-wal", "cdrs.sqlite-shm", "cdrs.csv",	    "ledger.sqlite",
		"ledger.sqlite-wal", "ledger.sqlite-shm", "smsq.sqlite", "smsq.sqlite-wal", "smsq.sqlite-shm",
		"mdrs.sqlite",	"mdrs.sqlite-wal", "mdrs.sqlite-shm", "mdrs.csv",	    "report.txt",
		"report.json",	"series.csv",
	};
	char p[SCN_PATH_MAX + 96];
	for (size_t i = 0; i < SY_ARRAY_LEN(files); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		unlink(p);
	}
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
		link_both(r->sim, r->sw_node, r->carrier_nodes[i], &c->link);
		addrs[i] = sim_node_addr(r->carrier_nodes[i], SIP_PORT);
		struct uas_cfg u;
		scn_peers_uas(s, i, addrs[i], r->calls_max, &u);
		enum sy_rc rc = uas_create(sim_node_env(r->carrier_nodes[i]), &u, &r->uas[i]);
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
	const struct scn_traffic_voice *v = &s->voice;
	r->callers_node = sim_node_add(r->sim, "callers", "10.0.2.1");
	link_both(r->sim, r->callers_node, r->sw_node, &v->link);
	uint64_t dur = v->duration_ns ? v->duration_ns : s->run.duration_ns;
	struct uac_cfg u;
	scn_peers_uac(s, sim_node_addr(r->callers_node, SIP_PORT), sim_node_addr(r->sw_node, SIP_PORT), r->calls_max,
		      r->dests, &u);
	enum sy_rc rc = uac_create(sim_node_env(r->callers_node), &u, &r->uac);
	if (rc != SY_OK) {
		snprintf(err, errlen, "%s:%u: cannot simulate [traffic voice]: %s", s->file, v->line, sy_rc_str(rc));
		return rc;
	}
	r->traffic_end_ns = v->start_ns + dur;
	return SY_OK;
}

static void add_faults(struct sim_run *r)
{
	const struct scn *s = r->scn;
	for (uint32_t i = 0; i < s->fault_n; i++) {
		const struct scn_fault *f = &s->faults[i];
		if (f->kind == SCN_FAULT_CARRIER_DOWN && f->carrier >= 0)
			sim_net_down_between(r->sim, r->sw_node, r->carrier_nodes[f->carrier], true, f->at_ns,
					     f->at_ns + f->duration_ns);
	}
}

static void tick(void *arg);

enum sy_rc sim_run_create(const struct scn *scn, const struct sim_run_opts *o, struct sim_run **out, char *err,
			  size_t errlen)
{
	struct sim_run *r = calloc(1, sizeof(*r));
	struct sy_addr addrs[SCN_CARRIERS_MAX];
	enum sy_rc rc = SY_ERR_NOMEM;
	if (r == NULL)
		return rc;
	r->scn = scn;
	r->seed = o->seed_set ? o->seed : scn->run.seed;
	if (o->out_dir != NULL) {
		snprintf(r->out_dir, sizeof(r->out_dir), "%s", o->out_dir);
	} else {
		const char *base = strrchr(scn->file, '/');
		base = base ? base + 1 : scn->file;
		size_t n = strcspn(base, ".");
		snprintf(r->out_dir, sizeof(r->out_dir), "out/%.*s", (int)n, base);
	}
	if ((rc = make_dir(r->out_dir, err, errlen)) != SY_OK)
		goto out_free;
	clear_outputs(r->out_dir);
	struct sim_opts so = {.log_level = o->log_level};
	r->sim = sim_create_opts(r->seed, scn->run.epoch_ns, &so);
	if (r->sim == NULL)
		goto out_free;
	if (o->trace != NULL)
		sim_set_event_text(r->sim, o->trace);
	r->calls_max = scn->run.calls_max ? scn->run.calls_max : scn_peers_calls_max(scn);
	r->sw_node = sim_node_add(r->sim, "switch", "10.0.0.1");
	if ((rc = add_carriers(r, addrs, err, errlen)) != SY_OK)
		goto out_free;
	uint64_t cps = scn->voice.cps_milli / 1000 + 1;
	struct vswitch_cfg vc = {
		.env = sim_node_env(r->sw_node),
		.scn = scn,
		.listen = sim_node_addr(r->sw_node, SIP_PORT),
		.out_dir = r->out_dir,
		.carrier_addrs = addrs,
		.calls_max = r->calls_max,
		.txn_max = scn->run.txn_max ? scn->run.txn_max : (uint32_t)SY_MIN(cps * 120 + 20000, 16000000u),
	};
	if ((rc = vswitch_create(&vc, &r->sw, err, errlen)) != SY_OK)
		goto out_free;
	if (scn->voice.present && (rc = add_callers(r, err, errlen)) != SY_OK)
		goto out_free;
	add_faults(r);
	r->drain_end_ns = r->traffic_end_ns + scn->run.drain_ns;
	r->hard_end_ns = r->drain_end_ns + HANGUP_GRACE_NS;
	sim_series_init(&r->series, (uint32_t)(r->hard_end_ns / SY_NS_PER_S + 2));
	for (int i = 0; i < COL_N; i++)
		r->cols[i] = sim_series_col_add(&r->series, col_names[i]);
	if (r->uac != NULL)
		uac_start(r->uac);
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
	const struct b2bua_stats *b = b2bua_stats(r->sw->b2bua);
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
	bool idle = b2bua_stats(r->sw->b2bua)->active == 0 && (r->uac == NULL || uac_stats(r->uac)->active == 0);
	if (now >= r->traffic_end_ns && idle) {
		r->done = true;
		return;
	}
	if (now >= r->drain_end_ns && !r->hung_up) {
		r->hung_up = true;
		if (r->uac != NULL)
			uac_stop_and_hangup(r->uac);
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

uint64_t sim_run_events(const struct sim_run *r)
{
	return sim_stats(r->sim)->events;
}

uint64_t sim_run_calls(const struct sim_run *r)
{
	return b2bua_stats(r->sw->b2bua)->attempts;
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
	for (uint32_t i = 0; i < SCN_CARRIERS_MAX; i++)
		if (r->uas[i] != NULL)
			uas_destroy(r->uas[i]);
	vswitch_destroy(r->sw);
	if (r->sim != NULL)
		sim_destroy(r->sim);
	if (r->series.ncols > 0)
		sim_series_free(&r->series);
	free(r);
}
