/* scn_peers.c: the scenario's world to peer configs; see scn_peers.h. */
#include "scn_peers.h"

#include <string.h>

uint32_t scn_peers_calls_max(const struct world *w)
{
	const struct scn *s = w->scn;
	uint64_t ring_ns = 0;
	for (uint32_t i = 0; i < s->carrier_n; i++)
		ring_ns = SY_MAX(ring_ns, sy_dist_mean(&w->carriers[i].ring) * 2);
	/* Concurrency is arrivals x mean life and varies little at carrier
	 * rates; the margin covers ramp-up, slow carriers and long tails. */
	uint64_t life_ns = sy_dist_mean(&w->voice.hold) * 3 / 2 + ring_ns + 5 * SY_NS_PER_S;
	uint64_t n = w->voice.cps_milli * (life_ns / SY_NS_PER_MS) / 1000000 + 2000;
	return (uint32_t)SY_MIN(n, 4000000u);
}

void scn_peers_uac(const struct world *w, struct sy_addr local, struct sy_addr target, uint32_t calls_max,
		   struct uac_dest *dests, struct uac_cfg *out)
{
	const struct scn *s = w->scn;
	const struct world_traffic_voice *v = &w->voice;
	uint64_t dur = v->duration_ns ? v->duration_ns : s->run.duration_ns;
	for (uint32_t i = 0; i < v->to_n; i++) {
		dests[i].pattern = v->to[i].pattern;
		dests[i].weight_ppm = v->to[i].weight_ppm;
	}
	memset(out, 0, sizeof(*out));
	out->name = "callers";
	out->local = local;
	out->target = target;
	out->cps_milli = v->cps_milli;
	memcpy(out->dest, dests, sizeof(dests[0]) * v->to_n);
	out->dest_n = v->to_n;
	out->from_pattern = v->from;
	out->hold = v->hold;
	out->start_ns = v->start_ns;
	out->stop_ns = v->start_ns + dur;
	out->max_calls = v->calls_max;
	out->bye_loss_ppm = v->bye_loss_ppm;
	out->calls_max = calls_max;
	out->t1_ns = s->run.t1_ns;
}

void scn_peers_uas(const struct world *w, uint32_t carrier, struct sy_addr local, uint32_t calls_max,
		   struct uas_cfg *out)
{
	const struct scn *s = w->scn;
	const struct world_carrier *c = &w->carriers[carrier];
	memset(out, 0, sizeof(*out));
	out->name = s->carriers[carrier].name;
	out->index = carrier;
	out->local = local;
	out->answer_ppm = c->answer_ppm;
	out->ring = c->ring;
	out->calls_max = calls_max;
	out->t1_ns = s->run.t1_ns;
	for (uint32_t k = 0; k < c->reject_n && k < UAS_REJECT_MAX; k++) {
		out->reject[k].code = c->reject[k].code;
		out->reject[k].share_ppm = c->reject[k].ppm;
		out->reject_n = k + 1;
	}
	if (c->noanswer_ns != 0) {
		out->noanswer_ppm = SCN_PPM - c->answer_ppm;
		out->noanswer_timeout_ns = c->noanswer_ns;
	}
}

static const char *digits(const char *p)
{
	return p[0] == '+' ? p + 1 : p;
}

void scn_peers_esme(const struct world *w, struct sy_addr target, char (*patterns)[WORLD_PATTERN_MAX],
		    struct esme_cfg *out)
{
	const struct scn *s = w->scn;
	const struct world_traffic_sms *t = &w->sms;
	int a = scn_account_find(s, t->account);
	uint64_t dur = t->duration_ns ? t->duration_ns : s->run.duration_ns;
	memset(out, 0, sizeof(*out));
	out->name = "apps";
	out->target = target;
	out->system_id = t->account;
	out->password = a >= 0 ? s->accounts[a].password : "";
	/* a group: bind i as member i mod count, each with the group's password */
	out->members = a >= 0 ? s->accounts[a].count : 0;
	out->binds = t->binds;
	out->window = t->window;
	out->tps_milli = t->tps_milli;
	for (uint32_t i = 0; i < t->to_n && i < ESME_DEST_MAX; i++) {
		snprintf(patterns[i], WORLD_PATTERN_MAX, "%s", digits(t->to[i].pattern));
		out->dest[i].pattern = patterns[i];
		out->dest[i].weight = t->to[i].weight_ppm;
		out->dest_n = i + 1;
	}
	out->src_pattern = digits(t->from);
	out->text_len_min = t->length_min;
	out->text_len_max = t->length_max;
	out->ucs2_ppm = t->ucs2_ppm;
	out->registered_delivery = t->dlr;
	out->validity_s = (uint32_t)SY_MIN(t->validity_ns / SY_NS_PER_S, UINT32_MAX);
	out->start_ns = t->start_ns;
	out->stop_ns = t->start_ns + dur;
	out->max_msgs = t->messages_max;
	/* an arrival burst must wait, not be skipped: a second of traffic */
	out->queue_max = (uint32_t)SY_MAX(1000u, SY_MIN(t->tps_milli / 1000, 1000000u));
	/* a segment's record lives until its receipt (seconds) and a while
	 * after, to spot duplicates: thirty seconds of traffic */
	out->seg_max = (uint32_t)SY_MAX(65536u, SY_MIN(t->tps_milli / 1000 * 30, 4000000u));
}

void scn_peers_smsc(const struct world *w, uint32_t carrier, struct sy_addr listen, struct smsc_peer_cfg *out)
{
	const struct scn *s = w->scn;
	const struct scn_smpp_carrier *c = &s->smpp_carriers[carrier];
	const struct world_smpp_carrier *b = &w->smpp_carriers[carrier];
	memset(out, 0, sizeof(*out));
	out->name = c->name;
	out->index = carrier;
	out->listen = listen;
	out->system_id = c->system_id;
	out->password = c->password;
	/* every SMSC instance binds its own (nodes = N) */
	out->sess_max = c->binds * (s->node.nodes > 1 ? s->node.nodes : 1) * 2 + 4;
	out->window = c->window; /* receipts outstanding per bind, as the switch's submits */
	out->reject_ppm = SCN_PPM - b->accept_ppm;
	out->undeliv_ppm = SCN_PPM - b->deliver_ppm;
	out->tps = b->tps;
	out->dlr_delay = b->dlr_delay;
	out->no_dedupe = !b->dedup;
	/* Sized for the traffic: every message of the run remembered for the
	 * duplicate check, ten seconds of receipts pending. */
	uint64_t tps = w->sms.tps_milli / 1000 + 1;
	uint64_t secs = (w->sms.duration_ns ? w->sms.duration_ns : s->run.duration_ns) / SY_NS_PER_S + 1;
	out->msg_max = (uint32_t)SY_MIN(SY_MAX(tps * 10, 65536u), 4000000u);
	out->keys_max = (uint32_t)SY_MIN(SY_MAX(tps * secs * 3, 65536u), 16000000u);
}
