/* attack.h: the traffic of one [attack NAME] section (world.h), built from
 * the ordinary peers (uac.c callers, esme.c applications) with their
 * per-call and per-message hooks: every call or message the attack sends
 * is reported to a label callback before it leaves, so whoever scores the
 * switch's fraud decisions (sim/fraud_eval.c) knows the truth.
 *
 *   irsf, compromised  callers on the attacking host (a [trunk] names its
 *                      address, so the switch bills the victim's account),
 *                      optionally beside the victim's own unlabelled calls
 *                      from the same host (`baseline`);
 *   wangiri            a flood of calls the caller cancels after a short
 *                      ring, from one source range to our subscribers, and
 *                      after callback_delay a share of the rung subscribers
 *                      calling the numbers that rang them (from the
 *                      subscribers' host);
 *   sms-pump           messages through the application's own binds
 *                      (its [traffic sms] ESME, esme_inject), or binds of
 *                      its own on the same account without one, walking
 *                      the X digits of `to` in order.
 *
 * Written against the env seam like the peers it uses. */
#ifndef SY_PEERS_ATTACK_H
#define SY_PEERS_ATTACK_H

#include "core/rng.h"
#include "esme.h"
#include "uac.h"
#include "world.h"

enum attack_item_kind {
	ATTACK_ITEM_CALL = 0, /* irsf, compromised */
	ATTACK_ITEM_FLOOD,    /* wangiri: a one-ring call to a subscriber */
	ATTACK_ITEM_CALLBACK, /* wangiri: a subscriber calling the number back */
	ATTACK_ITEM_SMS,      /* sms-pump: a message */
};

/* One labelled call or message, as it leaves. */
struct attack_item {
	uint32_t attack; /* index into world->attacks */
	enum attack_item_kind kind;
	struct sy_str id;	      /* calls: the Call-ID; SMS: the destination (digits) */
	struct sy_str caller, callee; /* as sent */
	uint64_t hold_ns;	      /* calls: the hold it keeps if answered */
	uint64_t at_ns;
};
typedef void (*attack_label_fn)(void *arg, const struct attack_item *it);

struct attack_cfg {
	const struct world *w;
	uint32_t index;		      /* which [attack] */
	const struct sy_env *env;     /* the attacking host (sms-pump: the application's) */
	struct sy_addr local, local2; /* its SIP sockets: the attack's callers, the baseline's */
	const struct sy_env *cb_env;  /* wangiri: the subscribers' host */
	struct sy_addr cb_local;      /* its SIP socket for the callbacks */
	struct sy_addr sip_target;    /* the switch */
	struct sy_addr smpp_target;
	/* sms-pump: the application's own ESME ([traffic sms] of the same
	 * account), which sends the pumped messages beside its own; NULL: the
	 * pump binds on its own */
	struct esme *app;
	uint64_t run_ns; /* [run] duration: the baseline runs throughout */
	uint64_t t1_ns;
	attack_label_fn label;
	void *label_arg;
};

#define ATTACK_FLOOD_RING 8192 /* flood calls remembered for callbacks */

struct attack {
	struct attack_cfg cfg;
	const struct world_attack *a;
	struct uac *uac, *base, *cb;
	char names[3][16]; /* the uacs' names (Call-ID suffixes): atkN, baseN, cbN */
	struct esme *esme;
	struct uac_dest dests[WORLD_DESTS_MAX], base_dests[WORLD_DESTS_MAX], cb_dest[1];
	char sms_to[WORLD_PATTERN_MAX], sms_from[WORLD_PATTERN_MAX];
	uint64_t sms_seq;
	struct sy_rng rng; /* sms-pump through app: arrivals */
	sy_timer_id t_pump;
	uint64_t pump_next_ns, pump_stop_ns, pumped;
	/* wangiri: (caller, subscriber) of flood calls not yet called back */
	char (*ring)[2][UAC_NUM_MAX];
	uint32_t ring_head, ring_len;
	uint64_t callbacks_unpaired; /* callbacks with no flood call left to return */
};

enum sy_rc attack_create(const struct attack_cfg *cfg, struct attack **out);
void attack_start(struct attack *k);
/* The run's drain is over: stop arrivals and hang up (as the callers do). */
void attack_stop(struct attack *k);
/* Calls still up or messages in flight. */
bool attack_busy(const struct attack *k);
/* Calls begun (attack and callbacks; baseline apart) and messages submitted. */
uint64_t attack_sent(const struct attack *k);
void attack_destroy(struct attack *k);

#endif
