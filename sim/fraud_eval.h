/* fraud_eval.h: scoring the switch's fraud decisions against the labelled
 * attacks of a simulator run ([attack NAME], peers/attack.h).
 *
 * What it sees:
 *   labels     every call and message an attack sends, as it leaves (the
 *              generator knows what it sent): the Call-ID (a message: its
 *              destination number), the attack, the money at risk (the
 *              tariff of the attack's account for the callee x the hold the
 *              call would keep; a message: its price);
 *   decisions  every decision of the fraud component, through its
 *              on_decision observer (struct fraud_event: kind, decision,
 *              Call-ID, numbers): allow included, mid-call checks included;
 *   CDRs       every CDR (vswitch on_cdr): how long a labelled call really
 *              talked (the money that got through) and the normal calls'
 *              answer ratio, which the decisions cannot show.
 *
 * Units: a call (its decision at INVITE and any mid-call check folded in)
 * or a message (each submit decision). A detector is positive for a unit
 * when it fired (flag or more, enum fraud_decision.fired) on any of its
 * decisions. Each detector is scored on the units it is consulted on (IRSF
 * and Wangiri: calls; SMS pumping: messages; velocity and caller-ID: both)
 * against the attack type it is meant to catch: irsf -> irsf, wangiri (the
 * flood and the callbacks) -> wangiri, sms-pump -> sms_pump, compromised ->
 * velocity. A unit of another attack that a detector fires on is counted
 * apart ("other attacks"), neither a false positive nor a true negative. */
#ifndef SIM_FRAUD_EVAL_H
#define SIM_FRAUD_EVAL_H

#include <stdio.h>

#include "core/billing/tariff.h"
#include "core/fraud/fraud.h"
#include "core/store/cdr.h"
#include "expect.h"
#include "peers/attack.h"

#define FEVAL_ID_MAX 64

struct feval_item {
	uint64_t hash; /* 0 = empty slot */
	char id[FEVAL_ID_MAX];
	uint8_t attack; /* index + 1; 0 = a normal unit a detector fired on */
	uint8_t kind;	/* enum attack_item_kind */
	uint8_t last_action;
	bool decided, blocked, torn_down, cdr;
	uint32_t fired;
	int64_t risk, through; /* micro-units */
};

struct feval_attack {
	uint64_t start_ns; /* virtual */
	uint64_t units, flood, callbacks, decided, blocked, flagged, torn_down;
	int64_t risk, stopped, through;
	uint64_t first_block_ns, first_own_block_ns; /* after start; UINT64_MAX = none */
	bool tariff_ok;
	struct bill_tariff tariff;
};

struct feval_det {
	uint64_t tp, fp, fn, tn, other;
	uint64_t first_block_ns; /* UINT64_MAX = none */
};

struct fraud_eval {
	const struct world *w;
	uint64_t epoch_ns;
	struct feval_item *items;
	uint32_t cap, n;
	struct feval_attack atk[WORLD_ATTACKS_MAX];
	struct feval_det det[FRAUD_DET_COUNT];
	uint64_t decisions, by_action[FRAUD_ACTION_COUNT], midcall;
	uint64_t normal_calls, normal_sms, normal_fired_sms[FRAUD_DET_COUNT];
	uint64_t normal_cdrs, normal_answered; /* from the CDRs */
	bool scored;
	/* the same scenario with fraud off (fraud_eval_set_off) */
	bool off_ran;
	uint64_t off_cdrs, off_answered;
};

/* env reads the tariffs (the scenario's [tariff] of each attack's account,
 * else the first); err says which one failed. */
enum sy_rc fraud_eval_create(const struct sy_env *env, const struct world *w, struct fraud_eval **out, char *err,
			     size_t errlen);
void fraud_eval_destroy(struct fraud_eval *e);

/* attack_label_fn */
void fraud_eval_label(void *arg, const struct attack_item *it);
/* fraud_event_fn: pass as the fraud component's on_decision. */
void fraud_eval_on_decision(void *arg, const struct fraud_event *ev);
/* b2bua_cdr_fn */
void fraud_eval_on_cdr(void *arg, const struct cdr *c);

/* The normal calls' CDR counts of the run with fraud off. */
void fraud_eval_set_off(struct fraud_eval *e, uint64_t cdrs, uint64_t answered);

/* Scores (once) and gives every figure as a metric (expect.h units). */
typedef void (*feval_put_fn)(void *arg, const char *name, enum expect_unit unit, int64_t v);
void fraud_eval_metrics(struct fraud_eval *e, feval_put_fn put, void *arg);
/* The report's fraud section. */
void fraud_eval_text(struct fraud_eval *e, FILE *f);

/* "irsf", "wangiri", "sms_pump", "velocity", "callerid" (as fraud.h). */
const char *fraud_eval_det_name(enum fraud_detector d);

#endif
