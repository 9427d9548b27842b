/* fraud_sim.c: the [attack] sections in a simulator run: their hosts and
 * peers (peers/attack.c), the evaluator that scores the fraud decisions
 * against their labels (fraud_eval.c), and the second run with fraud off
 * that `fraud.normal_asr_delta` compares with. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fraud_sim.h"
#include "run_int.h"

#define ATTACK_SIP_PORT	  5060
#define BASELINE_SIP_PORT 5062
#define CALLBACK_SIP_PORT 5064 /* on the subscribers' host, beside their own callers */

struct fraud_sim {
	struct fraud_eval *eval;
	struct attack *atk[WORLD_ATTACKS_MAX];
};

enum sy_rc sim_attacks_init(struct sim_run *r, char *err, size_t errlen)
{
	if (r->world->attack_n == 0)
		return SY_OK;
	struct fraud_sim *fs = calloc(1, sizeof(*fs));
	if (fs == NULL)
		return SY_ERR_NOMEM;
	r->fsim = fs;
	enum sy_rc rc = fraud_eval_create(sim_world_env(r->sim), r->world, &fs->eval, err, errlen);
	if (rc != SY_OK)
		return rc;
	r->sw_cfg.on_cdr = fraud_eval_on_cdr;
	r->sw_cfg.cdr_arg = fs->eval;
	r->fraud_on_decision = fraud_eval_on_decision;
	r->fraud_on_decision_arg = fs->eval;
	return SY_OK;
}

/* A host of the attack's own, or the one already at that address (the
 * callers', the applications'). */
static struct sim_node *host_at(struct sim_run *r, const char *ip, const char *name, const struct world_link *l)
{
	if (r->callers_node != NULL && strcmp(ip, "10.0.2.1") == 0)
		return r->callers_node;
	if (r->apps_node != NULL && strcmp(ip, "10.0.4.1") == 0)
		return r->apps_node;
	struct sim_node *n = sim_node_add(r->sim, name, ip);
	if (n != NULL)
		sim_run__link_both(r->sim, n, r->sw_node, l);
	return n;
}

static enum sy_rc attack_hosts(struct sim_run *r, uint32_t i, struct attack_cfg *c, char *err, size_t errlen)
{
	const struct world_attack *a = &r->world->attacks[i];
	const struct world_link *l = &r->world->voice.link;
	char name[32], ip[SCN_ADDR_MAX];
	snprintf(name, sizeof(name), "attack-%u", i);
	if (a->type == WORLD_ATTACK_SMS_PUMP && a->address[0] == '\0' && r->apps_node == NULL)
		snprintf(ip, sizeof(ip), "10.0.6.%u", i + 1);
	else
		snprintf(ip, sizeof(ip), "%s", a->address[0] != '\0' ? a->address : "10.0.4.1");
	struct sim_node *n = host_at(r, ip, name, a->type == WORLD_ATTACK_SMS_PUMP ? &r->world->sms.link : l);
	if (n == NULL)
		goto fail;
	c->env = sim_node_env(n);
	c->local = sim_node_addr(n, ATTACK_SIP_PORT);
	c->local2 = sim_node_addr(n, BASELINE_SIP_PORT);
	if (a->type != WORLD_ATTACK_WANGIRI || a->callback_ppm == 0)
		return SY_OK;
	snprintf(name, sizeof(name), "attack-%u-cb", i);
	snprintf(ip, sizeof(ip), "%s", a->callback_address[0] != '\0' ? a->callback_address : "10.0.2.1");
	if ((n = host_at(r, ip, name, l)) == NULL)
		goto fail;
	c->cb_env = sim_node_env(n);
	c->cb_local = sim_node_addr(n, CALLBACK_SIP_PORT);
	return SY_OK;
fail:
	snprintf(err, errlen, "%s:%u: [attack %s] cannot have a host at %s (taken by another host?)", r->scn->file,
		 a->line, a->name, ip);
	return SY_ERR_INVAL;
}

/* The normal callers draw each call's hold at its INVITE (a start hook
 * does that, peers/uac.h) instead of at its answer: their random stream
 * then does not depend on which calls are answered when, so the run with
 * fraud off offers the same normal calls, and the ASR delta measures what
 * fraud did to them rather than a reshuffle. */
static void normal_call_start(void *arg, struct uac_call_info *ci)
{
	(void)arg;
	(void)ci;
}

enum sy_rc sim_attacks_create(struct sim_run *r, char *err, size_t errlen)
{
	struct fraud_sim *fs = r->fsim;
	if (fs != NULL && r->uac != NULL)
		uac_on_call_start(r->uac, normal_call_start, NULL);
	for (uint32_t i = 0; fs != NULL && i < r->world->attack_n; i++) {
		struct attack_cfg c = {
		    .w = r->world,
		    .index = i,
		    .sip_target = sim_node_addr(r->sw_node, SIP_PORT),
		    .smpp_target = sim_node_addr(r->sw_node, SMPP_PORT),
		    .run_ns = r->scn->run.duration_ns,
		    .t1_ns = r->scn->run.t1_ns,
		    .label = fraud_eval_label,
		    .label_arg = fs->eval,
		};
		const struct world_attack *a = &r->world->attacks[i];
		if (a->type == WORLD_ATTACK_SMS_PUMP && r->esme != NULL &&
		    strcmp(a->account, r->world->sms.account) == 0)
			c.app = r->esme; /* through the application's own binds */
		enum sy_rc rc = attack_hosts(r, i, &c, err, errlen);
		if (rc != SY_OK)
			return rc;
		if ((rc = attack_create(&c, &fs->atk[i])) != SY_OK) {
			snprintf(err, errlen, "%s:%u: cannot simulate [attack %s]: %s", r->scn->file,
				 r->world->attacks[i].line, r->world->attacks[i].name, sy_rc_str(rc));
			return rc;
		}
	}
	return SY_OK;
}

void sim_attacks_start(struct sim_run *r)
{
	for (uint32_t i = 0; r->fsim != NULL && i < r->world->attack_n; i++)
		attack_start(r->fsim->atk[i]);
}

void sim_attacks_hangup(struct sim_run *r)
{
	for (uint32_t i = 0; r->fsim != NULL && i < r->world->attack_n; i++)
		attack_stop(r->fsim->atk[i]);
}

bool sim_attacks_busy(const struct sim_run *r)
{
	for (uint32_t i = 0; r->fsim != NULL && i < r->world->attack_n; i++)
		if (attack_busy(r->fsim->atk[i]))
			return true;
	return false;
}

uint64_t sim_attacks_end(const struct sim_run *r)
{
	uint64_t end = 0;
	for (uint32_t i = 0; i < r->world->attack_n; i++) {
		const struct world_attack *a = &r->world->attacks[i];
		uint64_t cb = a->type == WORLD_ATTACK_WANGIRI && a->callback_ppm ? a->callback_delay_ns : 0;
		end = SY_MAX(end, a->start_ns + a->duration_ns + cb);
	}
	return end;
}

void sim_attacks_destroy(struct sim_run *r)
{
	struct fraud_sim *fs = r->fsim;
	if (fs == NULL)
		return;
	for (uint32_t i = 0; i < WORLD_ATTACKS_MAX; i++)
		attack_destroy(fs->atk[i]);
	fraud_eval_destroy(fs->eval);
	free(fs);
	r->fsim = NULL;
}

/* ---- the report ---- */

static bool wants_off_run(const struct expect_set *x)
{
	for (uint32_t i = 0; i < x->n; i++)
		if (strncmp(x->items[i].metric, "fraud.normal_asr_", 17) == 0)
			return true;
	return false;
}

/* The same scenario, same seed, fraud off, in this process: its own output
 * folder (<out>/fraud-off) and no [expect]. Only the normal calls' CDRs
 * are taken from it. */
static void off_run(struct sim_run *r)
{
	struct sim_scenario *sc = calloc(1, sizeof(*sc));
	struct sim_run *o = NULL;
	char dir[SCN_PATH_MAX + 96], err[512];
	if (sc == NULL)
		return;
	sc->world = (struct world *)r->world;
	snprintf(dir, sizeof(dir), "%s/fraud-off", r->out_dir);
	struct sim_run_opts opts = {
	    .seed = r->seed, .seed_set = true, .out_dir = dir, .log_level = r->log_level, .fraud_off = true};
	if (sim_run_create(sc, &opts, &o, err, sizeof(err)) != SY_OK) {
		fprintf(stderr, "report: the run with fraud off failed: %s\n", err);
		free(sc);
		return;
	}
	while (sim_run_step(o, 10 * SY_NS_PER_S))
		;
	if (o->sw != NULL)
		vswitch_flush(o->sw);
	const struct fraud_eval *e = o->fsim->eval;
	fraud_eval_set_off(r->fsim->eval, e->normal_cdrs, e->normal_answered);
	sim_run_destroy(o);
	free(sc);
}

void sim_attacks_metrics(struct sim_run *r, feval_put_fn put, void *arg)
{
	if (r->fsim == NULL)
		return;
	if (!r->fraud_off && !r->fsim->eval->off_ran && wants_off_run(r->expects))
		off_run(r);
	fraud_eval_metrics(r->fsim->eval, put, arg);
}

void sim_attacks_text(struct sim_run *r, FILE *f)
{
	if (r->fsim != NULL)
		fraud_eval_text(r->fsim->eval, f);
}
