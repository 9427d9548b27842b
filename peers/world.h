/* world.h: the simulated world a scenario file describes beside the node's
 * configuration (core/conf/scn.h): the traffic ([traffic voice], [traffic
 * sms]), how the simulated carriers behave (the answer, ring, reject, link
 * and noanswer keys of [carrier NAME]; tps, accept, delivery, link and dedup
 * of [smpp-carrier NAME]) and the faults ([fault]). Parsed in the same pass
 * as the node's sections, through the parser's extension table
 * (core/conf/scn_ext.h); the simulator and the live `load`/`carriers`
 * commands read it, core/ never does. */
#ifndef SY_PEERS_WORLD_H
#define SY_PEERS_WORLD_H

#include "core/conf/scn_ext.h"
#include "peers/world_link.h"
#include "peers/world_ussd.h"

#define WORLD_FAULTS_MAX  32
#define WORLD_DESTS_MAX	  16 /* `to` patterns of one traffic section */
#define WORLD_REJECTS_MAX 8
#define WORLD_PATTERN_MAX SCN_PATTERN_MAX


/* One SIP status with its share of the rejected calls. */
struct world_share {
	uint16_t code;
	uint32_t ppm;
};

/* How the simulated [carrier NAME] of the same index behaves. */
struct world_carrier {
	uint32_t answer_ppm;			      /* default 100% */
	struct sy_dist ring;			      /* ring delay of answered calls; default 0s */
	struct world_share reject[WORLD_REJECTS_MAX]; /* default 486 100% */
	uint32_t reject_n;
	struct world_link link;
	uint64_t noanswer_ns; /* 0 = not set */
};

/* How the simulated [smpp-carrier NAME] of the same index behaves. */
struct world_smpp_carrier {
	uint32_t tps;		  /* the carrier's own throttle; 0 = none */
	uint32_t accept_ppm;	  /* submit_sm accepted; default 100% */
	uint32_t deliver_ppm;	  /* accepted messages delivered; default 100% */
	struct sy_dist dlr_delay; /* submit -> receipt; default 1s..5s */
	struct world_link link;
	/* the carrier deduplicates re-sends on our key TLV (default yes); no
	 * plays a carrier that ignores it and delivers every re-send */
	bool dedup;
};

struct world_dest {
	char pattern[WORLD_PATTERN_MAX]; /* '+' optional, digits and X (random digit) */
	uint32_t weight_ppm;		 /* shares sum to SCN_PPM */
};

struct world_traffic_voice {
	bool present;
	uint32_t line;
	uint64_t cps_milli; /* calls per second x 1000 */
	struct world_dest to[WORLD_DESTS_MAX];
	uint32_t to_n;
	char from[WORLD_PATTERN_MAX]; /* default +1555XXXXXXX */
	struct sy_dist hold;	      /* default exp 90s */
	struct world_link link;	      /* access link of the callers */
	uint64_t start_ns;	      /* default 0 */
	uint64_t duration_ns;	      /* 0 = [run] duration */
	uint64_t calls_max;	      /* 0 = no cap */
	uint32_t bye_loss_ppm;	      /* callers whose BYE never arrives (they give up) */
	char account[SCN_NAME_MAX];   /* the callers belong to this [account]; "" = none */
	uint32_t account_line;
};

/* [traffic sms]: applications (ESMEs) submitting over SMPP. */
struct world_traffic_sms {
	bool present;
	uint32_t line;
	char account[SCN_NAME_MAX]; /* system_id of the binds; must be an [account] */
	uint32_t account_line;
	uint64_t tps_milli; /* submit_sm per second x 1000 */
	uint32_t binds;	    /* default 1 */
	uint32_t window;    /* outstanding submit_sm per bind; default 10 */
	struct world_dest to[WORLD_DESTS_MAX];
	uint32_t to_n;
	char from[WORLD_PATTERN_MAX];
	uint32_t length_min, length_max; /* characters; default 20..140 */
	uint32_t ucs2_ppm;		 /* share of UCS2 messages; default 0 */
	bool dlr;			 /* registered_delivery; default on */
	uint64_t validity_ns;		 /* default 24h */
	struct world_link link;
	uint64_t start_ns;
	uint64_t duration_ns;  /* 0 = [run] duration */
	uint64_t messages_max; /* 0 = no cap */
};

/* A new kind is one enum value, one key row in world_fault.c and its
 * target check there. */
enum world_fault_kind {
	WORLD_FAULT_NONE = 0,
	WORLD_FAULT_CARRIER_DOWN, /* carrier = NAME down 10s */
	WORLD_FAULT_SMPP_DROP,	  /* smpp-carrier = NAME drop 5s: binds cut, reconnect after */
	WORLD_FAULT_NODE_CRASH,	  /* node = switch crash 5s: killed, restarted after */
	WORLD_FAULT_DISK_SLOW,	  /* disk = slow 50ms [for 10s]: each write burst stalls the node */
	WORLD_FAULT_DISK_FULL,	  /* disk = full [for 10s]: writes fail with ENOSPC */
	WORLD_FAULT_DISK_FSYNC_FAIL, /* disk = fsync-fail [for 10s]: every fsync fails */
	WORLD_FAULT_NODE_POWER_LOSS, /* node = switch power-loss 5s [at 20s]: a crash, unsynced writes dropped */
};

struct world_fault {
	uint32_t line;
	enum world_fault_kind kind;
	uint64_t at_ns;
	uint64_t duration_ns;	   /* how long the fault lasts (disk: 0 = to the end) */
	uint64_t latency_ns;	   /* disk = slow: the stall per write burst */
	bool at_set;		   /* `at = 20s`, or `at 20s` in a disk fault's value */
	char target[SCN_NAME_MAX]; /* carrier name for CARRIER_DOWN */
	uint32_t target_line;
	int32_t carrier; /* index into scn.carriers / scn.smpp_carriers, resolved after parsing; -1 if none */
};

/* [model] (world_model.c): the simulated switch's host. The defaults are
 * calibrated from the live switch (docs/operations.md, "Capacity in the
 * simulator"); all costs 0 (cpu = off) is a switch with infinite CPU. */
#define WORLD_CPU_RX_NS	   8000u
#define WORLD_CPU_TX_NS	   5000u
#define WORLD_CPU_TIMER_NS 1000u
#define WORLD_RCVBUF_BYTES (8u * 1024 * 1024) /* serve asks 4 MB; Linux doubles it */
struct world_model {
	uint64_t rx_ns, tx_ns, timer_ns; /* per datagram received, sent; per timer callback */
	uint64_t rcvbuf_bytes;		 /* the switch's UDP receive buffer; 0 = unbounded */
	uint32_t share_ppm;		 /* of one core the switch gets (`share`), 1e6 = all */
};
/* A cost of the model on the switch's share of a core: ns / share, rounded up. */
uint64_t world_model_cost(const struct world_model *m, uint64_t ns);

/* [replay] or [replay NAME] (world_replay.c): a capture played again,
 * docs/pcap.md "Replay". Several may be given (callers and carriers, the
 * same or different captures). */
#define WORLD_REPLAYS_MAX 4
enum world_replay_role { WORLD_REPLAY_CALLERS = 0, WORLD_REPLAY_CARRIERS };
enum world_replay_pace { WORLD_PACE_ORIGINAL = 0, WORLD_PACE_RATE, WORLD_PACE_FACTOR };
struct world_replay {
	uint32_t line;
	char name[SCN_NAME_MAX];
	char pcap[SCN_PATH_MAX]; /* relative to the scenario's folder */
	uint8_t role, pace;
	uint64_t rate_milli;   /* pace = N/s */
	uint32_t factor_milli; /* pace = xK */
	uint32_t loop;	       /* default 1 */
	uint64_t limit;	       /* 0 = none */
	uint64_t max_gap_ns;   /* default 5s */
	uint64_t start_ns;
	bool key_round_robin; /* key = round-robin; default number */
	char filter[SCN_VALUE_MAX];
	char carrier[SCN_NAME_MAX]; /* role carriers: this [carrier] only; "" = every one */
	uint32_t carrier_line;
	char system_id[SCN_NAME_MAX]; /* SMPP binds: ours (an [account] with smpp = yes) */
	char password[SCN_NAME_MAX];
};

/* [attack NAME] (world_attack.c): labelled fraud mixed into the traffic;
 * docs/fraud.md "Labelled attacks in the simulator". */
#define WORLD_ATTACKS_MAX 8
enum world_attack_type {
	WORLD_ATTACK_NONE = 0,
	WORLD_ATTACK_IRSF,	  /* a compromised account pumping calls to premium/high-risk ranges */
	WORLD_ATTACK_WANGIRI,	  /* one-ring floods to our subscribers, then their callbacks */
	WORLD_ATTACK_SMS_PUMP,	  /* an application's account texting sequential expensive numbers */
	WORLD_ATTACK_COMPROMISED, /* a small account suddenly calling fast (velocity) */
	WORLD_ATTACK_TYPE_COUNT
};
/* "irsf", "wangiri", "sms-pump", "compromised". */
const char *world_attack_type_name(enum world_attack_type t);

struct world_attack {
	char name[SCN_NAME_MAX];
	uint32_t line;
	uint8_t type;	      /* enum world_attack_type */
	uint64_t start_ns;    /* after the run's start (default 0) */
	uint64_t duration_ns; /* required */
	uint64_t rate_milli;  /* calls or messages per second x 1000; required */
	struct world_dest to[WORLD_DESTS_MAX]; /* callees; sms-pump: X digits walked in order */
	uint32_t to_n;
	char from[WORLD_PATTERN_MAX]; /* caller numbers (sms: source address) */
	struct sy_dist hold;	      /* planned hold of an answered call (default exp 10m) */
	char address[SCN_ADDR_MAX];   /* the attacking host's IP (a [trunk] names it) */
	char account[SCN_NAME_MAX];   /* sms-pump: the SMPP account; calls: the account to rate with */
	uint32_t account_line;
	/* the victim's own calls from the same host, unlabelled (irsf, compromised); 0 = none */
	uint64_t baseline_milli;
	struct world_dest baseline_to[WORLD_DESTS_MAX];
	uint32_t baseline_to_n;
	/* wangiri */
	uint64_t cancel_ns;	       /* the flood caller hangs up after ringing this long (default 2s) */
	uint32_t callback_ppm;	       /* flooded subscribers who call back (default 10%) */
	uint64_t callback_delay_ns;    /* callbacks begin this long after the flood (default 30s) */
	char callback_address[SCN_ADDR_MAX]; /* the subscribers' host (default the [traffic voice] callers') */
	/* sms-pump */
	uint32_t binds; /* default 1 */
};

struct world {
	struct scn *scn;				 /* the node's sections, parsed in the same pass */
	struct world_carrier carriers[SCN_CARRIERS_MAX]; /* as scn->carriers */
	struct world_smpp_carrier smpp_carriers[SCN_SMPP_CARRIERS_MAX]; /* as scn->smpp_carriers */
	uint32_t carrier_n, smpp_carrier_n;
	struct world_traffic_voice voice;
	struct world_traffic_sms sms;
	struct world_fault faults[WORLD_FAULTS_MAX];
	uint32_t fault_n;
	struct world_model model;
	struct world_replay replays[WORLD_REPLAYS_MAX];
	uint32_t replay_n;
	struct world_attack attacks[WORLD_ATTACKS_MAX];
	uint32_t attack_n;
	struct world_ussd ussd; /* [traffic ussd], [ussd-app NAME] (world_ussd.c) */
	struct scn_sec_def secs[9]; /* the extension's sections (world_ext) */
};

/* Parses a scenario file: the node's sections into w->scn, the world into
 * *w, and the sections of the extra extensions (the simulator's [expect]).
 * Without an extension that takes [expect], its lines are skipped (the
 * live tools have no use for them; `switchyard sim` checks them). Errors
 * as scn_parse_file. */
enum sy_rc world_parse_file(const char *path, const struct scn_ext *const *extra, size_t extra_n, struct world **out,
			    char *err, size_t errlen);
enum sy_rc world_parse_buf(const char *text, size_t len, const char *name, const struct scn_ext *const *extra,
			   size_t extra_n, struct world **out, char *err, size_t errlen);
void world_free(struct world *w);

/* The extension itself, for callers that parse by hand (arg: a struct
 * world, world_init'ed). */
void world_init(struct world *w);
void world_ext(struct world *w, struct scn_ext *out);

/* Section and key tables of the fault and traffic parts (world_fault.c,
 * world_traffic.c). */
extern const struct scn_sec_def world_fault_sec;
enum sy_rc world_fault_check(struct scn_pctx *c, const struct scn *s, struct world *w);
extern const struct scn_sec_def world_voice_sec, world_sms_sec;
extern const struct scn_sec_def world_attack_sec;
enum sy_rc world_attack_check(struct scn_pctx *c, const struct scn *s, const struct world *w);
/* Shared key handlers of world_traffic.c: a number pattern; `to` patterns
 * with weights (array at k->off, count at k->off2); a rate per second. */
enum sy_rc world_key_pattern(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v);
enum sy_rc world_key_to(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v);
enum sy_rc world_key_rate(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v);
extern const struct scn_sec_def world_model_sec;
extern const struct scn_sec_def world_replay_sec, world_replay_named_sec;
enum sy_rc world_replay_check(struct scn_pctx *c, const struct scn *s, const struct world *w);
struct replay_cfg;
/* The section's pacing and limits (flows, addresses and name left to the caller). */
void world_replay_cfg(const struct world_replay *r, struct replay_cfg *out);
void world_model_init(struct world_model *m);
enum sy_rc world_traffic_check(struct scn_pctx *c, const struct scn *s, const struct world *w);
enum sy_rc world_key_link(struct scn_pctx *c, void *obj, const struct scn_key_def *k, struct sy_str v);

#endif
