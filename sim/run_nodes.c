/* run_nodes.c: [node] nodes = N in the simulator: the SMSC runs as N
 * instances (core/smpp/smsc_cluster.c), the first on the switch's host as
 * with one, instances 2..N each on a host of its own ("switch-2", ...:
 * its own event loop, CPU model and disk), with its own store folder
 * (OUT/node2/: smsq/ and mdrs.*), its own binds to every carrier. The
 * applications connect to the switch's SMPP address; the instance that
 * reads a bind hands the stream to its account's instance (the stream's
 * end moves to that host, sim/stream_move.c); receipts a carrier sends on
 * another instance's bind go round the instances after a modelled
 * in-process delay (NODES_FWD_NS: a ring between two threads and a wake).
 *
 * The instances are threads of one serve: `node = switch crash` (and
 * power-loss) takes every instance down and back up together, each
 * recovering its own queue. With N = 1 nothing here runs, and the run is
 * the one it always was. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/store/mdr.h"
#include "run_int.h"
#include "sim/stream_move.h"

#define NODES_FWD_NS (5 * SY_NS_PER_US) /* an instance to the next: ring + wake */

static const struct smsc_node_ops node_ops;

static void store_dir(const struct sim_run *r, uint32_t k, char *buf, size_t n)
{
	if (k == 0)
		snprintf(buf, n, "%s", r->out_dir);
	else
		snprintf(buf, n, "%s/node%u", r->out_dir, k + 1);
}

void sim_nodes_smsc_cfg(struct sim_run *r, uint32_t k, const struct sy_env *env, struct smsc_cfg *c)
{
	store_dir(r, k, r->sms_dirs[k], sizeof(r->sms_dirs[k]));
	*c = (struct smsc_cfg){
	    .env = env,
	    /* the one SMPP address: instance 1 accepts, the owner adopts */
	    .listen = k == 0 ? sim_node_addr(r->sw_node, SMPP_PORT) : (struct sy_addr){0},
	    .accounts = r->node->smsc_accounts,
	    .account_n = r->node->smsc_account_n,
	    .carriers = r->sms_carriers,
	    .carrier_n = r->node->smsc_carrier_n,
	    .store_dir = r->sms_dirs[k],
	    .msgs_max = (uint32_t)SY_MIN(SY_MAX(r->world->sms.tps_milli / 1000 * 8, 65536u), 4000000u),
	    /* the tariff is read-only; the switch that holds it is up
	     * whenever an instance is (they crash together) */
	    .rate = r->sw != NULL && r->sw->bill != NULL ? callbill_rate_sms : NULL,
	    .rate_arg = r->sw != NULL ? r->sw->bill : NULL,
	    .guard = r->node->smsc_guard,
	    .fraud = k == 0 ? r->fraud : NULL, /* nodes > 1 with [fraud] is refused (sim_nodes_add) */
	    .commit_interval_ns = r->scn->node.sms_commit_interval_ns,
	    .sync_full = r->node->sync_full,
	};
	uint32_t n = r->scn->node.nodes; /* r->sms_n is set after instance 1 starts */
	if (n > 1) {
		c->node_self = k;
		c->node_n = n;
		c->node_ops = &node_ops;
		c->node_arg = r;
	}
}

static struct smsc *instance(const struct sim_run *r, uint32_t k)
{
	return k == 0 ? r->smsc : r->smsc_more[k];
}

static struct sim_node *host(const struct sim_run *r, uint32_t k)
{
	return k == 0 ? r->sw_node : r->smsc_nodes[k];
}

/* ---- what the instances ask of the cluster ---- */

static void nodes_handoff(void *arg, uint32_t to, struct sy_stream *st, const uint8_t *pdu, size_t pdu_len,
			  const uint8_t *rest, size_t rest_len)
{
	struct sim_run *r = arg;
	struct smsc *s = instance(r, to);
	if (s == NULL) {
		/* the owner's loop is down: the stream is closed (the ESME rebinds) */
		sy_env_stream_close(sim_node_env(r->sw_node), st);
		return;
	}
	sim_stream_move(st, host(r, to));
	(void)smsc_adopt(s, st, pdu, pdu_len, rest, rest_len); /* on refusal it closed st */
}

struct fwd {
	struct sim_run *r;
	uint32_t to;
	struct smsc_fwd_receipt rc;
};

static void fwd_fire(void *arg)
{
	struct fwd *f = arg;
	struct smsc *s = instance(f->r, f->to);
	if (s != NULL)
		smsc_receipt_forwarded(s, &f->rc);
	else
		f->r->receipts_fwd_lost++; /* never answered: the carrier sends it again */
	free(f);
}

static void nodes_forward(void *arg, uint32_t to, const struct smsc_fwd_receipt *rc)
{
	struct sim_run *r = arg;
	struct fwd *f = malloc(sizeof(*f));
	SY_ASSERT(f != NULL);
	*f = (struct fwd){r, to, *rc};
	/* a world event: it is in the ring, not in a loop a crash would cancel */
	SY_ASSERT(sim_at(r->sim, sim_now(r->sim) + NODES_FWD_NS, fwd_fire, f) != 0);
}

struct ack {
	struct sim_run *r;
	uint32_t to, seq;
	uint64_t sess;
};

static void ack_fire(void *arg)
{
	struct ack *a = arg;
	struct smsc *s = instance(a->r, a->to);
	if (s != NULL) /* else its binds died with it: the carrier sends the receipt again */
		smsc_receipt_ack(s, a->sess, a->seq);
	free(a);
}

static void nodes_ack(void *arg, uint32_t to, uint64_t sess, uint32_t seq)
{
	struct sim_run *r = arg;
	struct ack *a = malloc(sizeof(*a));
	SY_ASSERT(a != NULL);
	*a = (struct ack){r, to, seq, sess};
	SY_ASSERT(sim_at(r->sim, sim_now(r->sim) + NODES_FWD_NS, ack_fire, a) != 0);
}

static const struct smsc_node_ops node_ops = {.handoff = nodes_handoff, .forward = nodes_forward, .ack = nodes_ack};

/* ---- the instances' hosts ---- */

static enum sy_rc start_k(struct sim_run *r, uint32_t k, char *err, size_t errlen)
{
	struct smsc_cfg c;
	sim_nodes_smsc_cfg(r, k, sim_node_env(r->smsc_nodes[k]), &c);
	return smsc_create(&c, &r->smsc_more[k], err, errlen);
}

static uint32_t index_of(const struct sim_run *r, const struct sim_node *n)
{
	for (uint32_t k = 1; k < r->sms_n; k++)
		if (r->smsc_nodes[k] == n)
			return k;
	SY_ASSERT(!"not a node of the cluster");
	return 0;
}

static void node_crashed(void *arg, struct sim_node *n)
{
	struct sim_run *r = arg;
	uint32_t k = index_of(r, n);
	if (r->smsc_more[k] != NULL)
		sim_run__sms_dead(r, r->smsc_more[k]);
	smsc_destroy(r->smsc_more[k]); /* what was not committed is gone */
	r->smsc_more[k] = NULL;
}

static void node_restarted(void *arg, struct sim_node *n)
{
	struct sim_run *r = arg;
	uint32_t k = index_of(r, n);
	char err[256];
	if (start_k(r, k, err, sizeof(err)) != SY_OK)
		SY_LOG(sim_node_env(n), SY_LOG_ERROR, "restart: %s", err);
}

enum sy_rc sim_nodes_add(struct sim_run *r, char *err, size_t errlen)
{
	const struct scn *s = r->scn;
	r->sms_n = s->node.nodes > 1 ? s->node.nodes : 1;
	if (r->sms_n == 1)
		return SY_OK;
	if (r->fraud != NULL) {
		snprintf(err, errlen,
			 "%s: [node] nodes = %u with [fraud]: the simulator runs fraud detection on one SMSC "
			 "instance only (use nodes = 1)",
			 s->file, r->sms_n);
		return SY_ERR_INVAL;
	}
	const struct world_model *m = &r->world->model;
	for (uint32_t k = 1; k < r->sms_n; k++) {
		char name[32], ip[32];
		snprintf(name, sizeof(name), "switch-%u", k + 1);
		snprintf(ip, sizeof(ip), "10.0.5.%u", k + 1);
		struct sim_node *n = sim_node_add(r->sim, name, ip);
		if (n == NULL)
			return SY_ERR_INVAL;
		r->smsc_nodes[k] = n;
		sim_node_set_cpu(n, &(struct sim_cpu_cost){world_model_cost(m, m->rx_ns), world_model_cost(m, m->tx_ns),
							   world_model_cost(m, m->timer_ns), m->rcvbuf_bytes});
		for (uint32_t i = 0; i < s->smpp_carrier_n; i++)
			sim_run__link_both(r->sim, n, r->sms_nodes[i], &r->world->smpp_carriers[i].link);
		char dir[SCN_PATH_MAX + 80];
		store_dir(r, k, dir, sizeof(dir));
		if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
			return SY_ERR_IO;
		}
		enum sy_rc rc = start_k(r, k, err, errlen);
		if (rc != SY_OK)
			return rc;
		sim_node_set_hooks(n, node_crashed, node_restarted, r);
	}
	return SY_OK;
}

void sim_nodes_link_apps(struct sim_run *r, struct sim_node *apps, const struct world_link *l)
{
	for (uint32_t k = 1; k < r->sms_n; k++)
		sim_run__link_both(r->sim, apps, r->smsc_nodes[k], l);
}

/* ---- the cluster's counters ---- */

void sim_run__sms_totals(const struct sim_run *r, struct smsc_stats *t, struct smsc_node_stats *node)
{
	if (r->smsc != NULL)
		*t = *smsc_stats(r->smsc);
	else
		memset(t, 0, sizeof(*t));
	*node = r->nodes_before;
	if (r->smsc != NULL)
		smsc_node_stats_add(node, smsc_node_stats(r->smsc));
	for (uint32_t k = 1; k < r->sms_n; k++) {
		if (r->smsc_more[k] == NULL)
			continue;
		smsc_stats_add(t, smsc_stats(r->smsc_more[k]));
		smsc_node_stats_add(node, smsc_node_stats(r->smsc_more[k]));
	}
	t->upstream_retries += r->sms_retries_before;
	t->recovered += r->sms_recovered_before;
	t->recovered_resent += r->sms_resent_before;
	t->store_commits += r->sms_commits_before;
	t->revenue_micros += r->sms_revenue_before;
}

static uint64_t finals_of(struct smsc *s)
{
	const struct smsc_stats *st = smsc_stats(s);
	return st->delivered + st->undeliverable + st->expired + st->rejected_final;
}

uint64_t sim_run__sms_finals(const struct sim_run *r)
{
	uint64_t n = r->sms_finals_before + (r->smsc != NULL ? finals_of(r->smsc) : 0);
	for (uint32_t k = 1; k < r->sms_n; k++)
		if (r->smsc_more[k] != NULL)
			n += finals_of(r->smsc_more[k]);
	return n;
}

void sim_run__sms_dead(struct sim_run *r, struct smsc *s)
{
	const struct smsc_stats *st = smsc_stats(s);
	r->sms_revenue_before += st->revenue_micros;
	r->sms_retries_before += st->upstream_retries;
	r->sms_recovered_before += st->recovered;
	r->sms_resent_before += st->recovered_resent;
	r->sms_commits_before += st->store_commits;
	r->sms_finals_before += finals_of(s);
	smsc_node_stats_add(&r->nodes_before, smsc_node_stats(s));
}

void sim_nodes_destroy(struct sim_run *r)
{
	for (uint32_t k = 1; k < r->sms_n; k++) {
		if (r->smsc_more[k] == NULL)
			continue;
		smsc_flush(r->smsc_more[k]);
		smsc_destroy(r->smsc_more[k]);
		r->smsc_more[k] = NULL;
	}
}

void sim_nodes_metrics(const struct sim_run *r, sy_ctr_visit_fn put, void *arg)
{
	static struct smsc_stats t; /* large; one report at a time */
	struct smsc_node_stats node;
	if (r->sms_n <= 1)
		return;
	sim_run__sms_totals(r, &t, &node);
	put(arg, "sms.nodes", SY_UNIT_COUNT, (int64_t)r->sms_n);
	sy_counters_visit(&smsc_node_counters, &node, put, arg);
	put(arg, "sms.receipts_forward_lost", SY_UNIT_COUNT, (int64_t)r->receipts_fwd_lost);
	put(arg, "sms.receipts_unknown", SY_UNIT_COUNT, (int64_t)t.receipts_unknown);
	for (uint32_t k = 1; k < r->sms_n; k++) {
		char key[32];
		snprintf(key, sizeof(key), "cpu.busy_node%u", k + 1);
		put(arg, key, SY_UNIT_NS, (int64_t)sim_node_cpu_stats(r->smsc_nodes[k])->busy_ns);
	}
}

uint64_t sim_nodes_mdr_rows(const struct sim_run *r)
{
	uint64_t rows = 0;
	for (uint32_t k = 0; k < SY_MAX(r->sms_n, 1u); k++) {
		char dir[SCN_PATH_MAX + 80], err[256];
		uint64_t n = 0;
		store_dir(r, k, dir, sizeof(dir));
		if (mdr_store_count_rows(sim_world_env(r->sim), dir, &n, err, sizeof(err)) != SY_OK)
			fprintf(stderr, "report: %s\n", err);
		rows += n;
	}
	return rows;
}
