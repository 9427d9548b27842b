/* replay.c: the scenario's [replay] sections in a simulated run (peers/
 * replay.h). Captures are read before the run starts, through the world's
 * env (files only), so reading them moves no simulated time. role =
 * callers plays the capture's callers from the host 10.0.5.1 (one port per
 * section, 5060 up) against the switch; role = carriers makes a [carrier]'s
 * host answer as the capture's callees did. */
#include <stdio.h>

#include "run_int.h"

#define REPLAY_IP "10.0.5.1"

static enum sy_rc check_flows(const struct sim_run *r, const struct world_replay *wr, const struct pcap_flows *f,
			      char *err, size_t errlen)
{
	bool smpp = wr->role == WORLD_REPLAY_CALLERS && f->bind_n > 0;
	if (f->dialog_n == 0 && !smpp) {
		snprintf(err, errlen, "%s:%u: [replay]: %s holds no SIP dialog%s", r->scn->file, wr->line, wr->pcap,
			 wr->role == WORLD_REPLAY_CALLERS ? " or SMPP bind" : "");
		return SY_ERR_INVAL;
	}
	if (smpp && wr->system_id[0] == '\0') {
		snprintf(err, errlen, "%s:%u: [replay]: %s holds SMPP binds: give system_id and password (ours)",
			 r->scn->file, wr->line, wr->pcap);
		return SY_ERR_INVAL;
	}
	return SY_OK;
}

enum sy_rc sim_replay_load(struct sim_run *r, char *err, size_t errlen)
{
	const struct world *w = r->world;
	for (uint32_t i = 0; i < w->replay_n; i++) {
		const struct world_replay *wr = &w->replays[i];
		struct pcap_read_cfg rc = {.filter = wr->filter[0] ? wr->filter : NULL};
		char why[256];
		enum sy_rc rv =
		    pcap_flows_load(sim_world_env(r->sim), wr->pcap, &rc, &r->rp_flows[i], why, sizeof(why));
		if (rv != SY_OK) {
			snprintf(err, errlen, "%s:%u: [replay]: %s", r->scn->file, wr->line, why);
			return rv;
		}
		if (check_flows(r, wr, r->rp_flows[i], err, errlen) != SY_OK)
			return SY_ERR_INVAL;
	}
	return SY_OK;
}

/* The replay section whose callees answer for carrier i; -1: none. */
int sim_replay_carrier(const struct sim_run *r, uint32_t i)
{
	const struct world *w = r->world;
	for (uint32_t k = 0; k < w->replay_n; k++) {
		const struct world_replay *wr = &w->replays[k];
		if (wr->role == WORLD_REPLAY_CARRIERS &&
		    (wr->carrier[0] == '\0' || strcmp(wr->carrier, r->scn->carriers[i].name) == 0))
			return (int)k;
	}
	return -1;
}

enum sy_rc sim_replay_uas(struct sim_run *r, uint32_t i, int k, struct sy_addr local)
{
	struct replay_cfg cfg;
	world_replay_cfg(&r->world->replays[k], &cfg);
	cfg.flows = r->rp_flows[k];
	cfg.local = local;
	cfg.name = "rpc";
	return replay_uas_create(sim_node_env(r->carrier_nodes[i]), &cfg, &r->rp_uas[i]);
}

enum sy_rc sim_replay_callers(struct sim_run *r, char *err, size_t errlen)
{
	const struct world *w = r->world;
	for (uint32_t k = 0; k < w->replay_n; k++) {
		const struct world_replay *wr = &w->replays[k];
		if (wr->role != WORLD_REPLAY_CALLERS)
			continue;
		if (r->rp_node == NULL) {
			r->rp_node = sim_node_add(r->sim, "replay", REPLAY_IP);
			sim_run__link_both(r->sim, r->rp_node, r->sw_node, &w->voice.link);
		}
		struct replay_cfg cfg;
		world_replay_cfg(wr, &cfg);
		cfg.flows = r->rp_flows[k];
		cfg.local = sim_node_addr(r->rp_node, (uint16_t)(SIP_PORT + k));
		cfg.target = sim_node_addr(r->sw_node, SIP_PORT);
		cfg.name = "rp";
		enum sy_rc rc = SY_OK;
		if (cfg.flows->dialog_n > 0 &&
		    (rc = replay_uac_create(sim_node_env(r->rp_node), &cfg, &r->rp_uac[k])) == SY_OK)
			r->traffic_end_ns = SY_MAX(r->traffic_end_ns, replay_uac_span_ns(r->rp_uac[k]) + SY_NS_PER_S);
		cfg.target = sim_node_addr(r->sw_node, SMPP_PORT);
		if (rc == SY_OK && cfg.flows->bind_n > 0 &&
		    (rc = replay_esme_create(sim_node_env(r->rp_node), &cfg, &r->rp_esme[k])) == SY_OK)
			r->traffic_end_ns = SY_MAX(r->traffic_end_ns, replay_esme_span_ns(r->rp_esme[k]) + SY_NS_PER_S);
		if (rc != SY_OK) {
			snprintf(err, errlen, "%s:%u: cannot replay %s: %s", r->scn->file, wr->line, wr->pcap,
				 sy_rc_str(rc));
			return rc;
		}
	}
	return SY_OK;
}

void sim_replay_start(struct sim_run *r)
{
	for (uint32_t k = 0; k < WORLD_REPLAYS_MAX; k++)
		if (r->rp_uac[k] != NULL)
			replay_uac_start(r->rp_uac[k]);
	for (uint32_t k = 0; k < WORLD_REPLAYS_MAX; k++)
		if (r->rp_esme[k] != NULL)
			replay_esme_start(r->rp_esme[k]);
}

bool sim_replay_idle(const struct sim_run *r)
{
	for (uint32_t k = 0; k < WORLD_REPLAYS_MAX; k++)
		if ((r->rp_uac[k] != NULL && !replay_uac_done(r->rp_uac[k])) ||
		    (r->rp_esme[k] != NULL && !replay_esme_done(r->rp_esme[k])))
			return false;
	return true;
}

static void add_stats(struct replay_stats *t, const struct replay_stats *s)
{
	t->dialogs += s->dialogs;
	t->completed += s->completed;
	t->matching += s->matching;
	t->divergent += s->divergent;
	t->failed += s->failed;
	t->skipped += s->skipped;
	t->active += s->active;
	t->requests += s->requests;
	t->retransmits += s->retransmits;
	t->answered += s->answered;
	t->unmatched += s->unmatched;
	t->gaps_clamped += s->gaps_clamped;
	t->rx_bad += s->rx_bad;
	for (uint32_t i = 0; i < s->div_n && t->div_n < REPLAY_DIVERGENCES_MAX; i++)
		t->div[t->div_n++] = s->div[i];
}

/* The callers' replays summed (the report's replay.* and [expect]). */
bool sim_replay_totals(const struct sim_run *r, struct replay_stats *callers, struct replay_stats *carriers)
{
	memset(callers, 0, sizeof(*callers));
	memset(carriers, 0, sizeof(*carriers));
	for (uint32_t k = 0; k < WORLD_REPLAYS_MAX; k++)
		if (r->rp_uac[k] != NULL)
			add_stats(callers, replay_uac_stats(r->rp_uac[k]));
	for (uint32_t k = 0; k < WORLD_REPLAYS_MAX; k++)
		if (r->rp_esme[k] != NULL)
			add_stats(callers, replay_esme_stats(r->rp_esme[k]));
	for (uint32_t i = 0; i < SCN_CARRIERS_MAX; i++)
		if (r->rp_uas[i] != NULL)
			add_stats(carriers, replay_uas_stats(r->rp_uas[i]));
	return r->world->replay_n > 0;
}

void sim_replay_destroy(struct sim_run *r)
{
	for (uint32_t k = 0; k < WORLD_REPLAYS_MAX; k++) {
		replay_uac_destroy(r->rp_uac[k]);
		replay_esme_destroy(r->rp_esme[k]);
		if (r->rp_flows[k] != NULL)
			pcap_flows_free(r->rp_flows[k]);
	}
	for (uint32_t i = 0; i < SCN_CARRIERS_MAX; i++)
		replay_uas_destroy(r->rp_uas[i]);
}
