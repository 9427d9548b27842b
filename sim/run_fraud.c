/* run_fraud.c: the simulated node's fraud component (core/fraud/fraud.h).
 * One per switch node when [fraud] is enabled, on the node's env (virtual
 * time, the run's seed), given to the B2BUA and the SMSC alike. A crash
 * takes it with the rest of the process (its windows are memory): the
 * counters of the instance that died stay in the run's totals, and the
 * restarted node starts a new one.
 *
 * The seam for the evaluator (labelled attacks): set r->fraud_on_decision
 * and r->fraud_on_decision_arg before sim_fraud_start() runs (in
 * sim_run_create, before the switch is built); every decision, allow
 * included, reaches it, from every instance. */
#include "run_int.h"

#include <stdio.h>

enum sy_rc sim_fraud_start(struct sim_run *r, char *err, size_t errlen)
{
	if (!r->node->fraud.on || r->fraud_off) /* fraud_off: the evaluator's run without it */
		return SY_OK;
	char why[256];
	enum sy_rc rc = fraud_create(pcap_node_tap_env(&r->sw_tap), &r->node->fraud, r->fraud_on_decision,
				     r->fraud_on_alert, r->fraud_on_decision_arg, &r->fraud, why, sizeof(why));
	if (rc != SY_OK) {
		snprintf(err, errlen, "%s: [fraud]: %s", r->scn->file, why);
		return rc;
	}
	r->sw_cfg.fraud = r->fraud;
	return SY_OK;
}

/* Counters summed over instances; the gauges are the live one's. */
static void stats_add(struct fraud_stats *t, const struct fraud_stats *s)
{
	t->decisions += s->decisions;
	for (uint32_t i = 0; i < FRAUD_ACTION_COUNT; i++)
		t->by_action[i] += s->by_action[i];
	for (uint32_t i = 0; i < FRAUD_DET_COUNT; i++) {
		t->fired[i] += s->fired[i];
		t->blocked_by[i] += s->blocked_by[i];
	}
	t->teardowns += s->teardowns;
	t->checks += s->checks;
	t->alerts += s->alerts;
	t->alerts_suppressed += s->alerts_suppressed;
	t->ranges_reloads += s->ranges_reloads;
	t->ranges_reload_failed += s->ranges_reload_failed;
	t->accounts_evicted += s->accounts_evicted;
	t->wangiri_sources = s->wangiri_sources;
	t->accounts_tracked = s->accounts_tracked;
	t->bytes = s->bytes;
}

void sim_fraud_crash(struct sim_run *r)
{
	if (r->fraud == NULL)
		return;
	stats_add(&r->fraud_dead, fraud_stats(r->fraud));
	r->fraud_dead.wangiri_sources = r->fraud_dead.accounts_tracked = r->fraud_dead.bytes = 0;
	fraud_destroy(r->fraud);
	r->fraud = NULL;
	r->sw_cfg.fraud = NULL;
}

bool sim_fraud_totals(const struct sim_run *r, struct fraud_stats *out)
{
	*out = r->fraud_dead;
	if (r->fraud != NULL)
		stats_add(out, fraud_stats(r->fraud));
	return r->node->fraud.on;
}

void sim_fraud_destroy(struct sim_run *r)
{
	if (r->fraud != NULL)
		fraud_destroy(r->fraud);
	r->fraud = NULL;
}
