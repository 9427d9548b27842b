/* uac.h: a population of calling SIP user agents (the A side), written only
 * against the env seam so it drives the simulator and, unchanged, real UDP
 * as a load generator. Poisson arrivals, RFC 3261 INVITE/ACK/BYE with UDP
 * retransmissions, and the counters a call test needs (ASR, PDD, setup). */
#ifndef SY_SIM_UAC_H
#define SY_SIM_UAC_H

#include "core/dist.h"
#include "core/env.h"
#include "core/metrics/hist.h"

#define UAC_DEST_MAX 16

struct uac_dest {
	const char *pattern; /* "+1XXXXXXXXXX": X -> 0-9, N -> 2-9, other chars kept */
	uint32_t weight_ppm; /* relative weight; weights need not sum to 1e6 */
};

struct uac_cfg {
	const char *name; /* node name, in Call-IDs; short, no spaces (default "uac") */
	uint32_t index;	  /* rng stream index: sy_rng_init_split(seed, "uac", index) */
	struct sy_addr local;
	struct sy_addr target; /* the switch; every request is sent here */
	uint64_t cps_milli;    /* mean arrival rate in calls per 1000 s */
	struct uac_dest dest[UAC_DEST_MAX];
	size_t dest_n;
	const char *from_pattern; /* default "+15550000000" style "+1555XXXXXXX" */
	struct sy_dist hold;
	uint64_t start_ns; /* first arrival after uac_start() + start_ns */
	uint64_t stop_ns;  /* no new calls after uac_start() + stop_ns; 0 = never */
	uint64_t max_calls;   /* at most this many attempts; 0 = unbounded */
	uint32_t calls_max;   /* pool of concurrent calls */
	uint64_t t1_ns;	      /* default 500 ms; T2 is 8 * T1 */
	uint64_t ring_timeout_ns; /* CANCEL a call ringing this long; 0 = never */
	uint32_t bye_loss_ppm;	  /* hang-ups whose BYE is lost on the way, every copy (a zombie maker) */
};

struct uac_call_result {
	uint64_t call_no;
	int status;		/* final INVITE status; 408 with timeout set */
	bool timeout;		/* timer B fired */
	uint64_t start_ns;	/* INVITE first sent */
	uint64_t pdd_ns;	/* 0 if no 18x/final */
	uint64_t setup_ns;	/* INVITE -> 200, 0 if not answered */
	uint64_t end_ns;	/* when the call was released */
	bool bye_ok;		/* BYE got a 2xx (or we answered the far BYE) */
};

enum { UAC_CODE_404, UAC_CODE_408, UAC_CODE_480, UAC_CODE_486, UAC_CODE_487, UAC_CODE_500, UAC_CODE_503,
       UAC_CODE_N };

struct uac_stats {
	uint64_t attempted;   /* INVITEs started */
	uint64_t skipped;     /* arrivals dropped because the pool was empty */
	uint64_t answered;    /* 2xx to INVITE */
	uint64_t failed;      /* 3xx-6xx to INVITE */
	uint64_t failed_class[7]; /* by status / 100 (index 3..6 used) */
	uint64_t failed_code[UAC_CODE_N]; /* 404 408 480 486 487 500 503 */
	uint64_t timeouts;    /* timer B: no response at all */
	uint64_t completed;   /* BYE answered 2xx, or far-end BYE answered */
	uint64_t bye_failed;  /* BYE got a non-2xx or timer F */
	uint64_t remote_byes; /* BYEs received from the far side */
	uint64_t active;      /* calls in the pool now */
	uint64_t retransmits; /* requests we sent again */
	uint64_t acks;	      /* ACKs sent (2xx and non-2xx, with resends) */
	uint64_t rx_bad;      /* datagrams that did not scan or matched nothing */
	struct sy_hist pdd;   /* INVITE -> first 180/183 (or the final) */
	struct sy_hist setup; /* INVITE -> 200 */
};

struct uac;
typedef void (*uac_call_done_fn)(void *arg, const struct uac_call_result *r);

/* A call about to send its INVITE, for a hook that labels calls or picks
 * their numbers (the simulator's attacks, peers/attack.c). from and dest
 * may be rewritten in place (NUL-terminated, < UAC_NUM_MAX bytes); hold_ns
 * is the hold the call will keep if answered, drawn now when a hook is set
 * (without one it is drawn at the answer, as always), and may be changed. */
#define UAC_NUM_MAX 32
struct uac_call_info {
	struct sy_str call_id;
	char *from, *dest;
	uint64_t hold_ns;
	uint64_t start_ns;
};
typedef void (*uac_call_start_fn)(void *arg, struct uac_call_info *ci);

/* Copies cfg (the pattern strings must outlive the uac). Allocates the pool
 * and opens the socket. SY_ERR_INVAL on a bad cfg, SY_ERR_NOMEM, or the
 * transport's error. */
enum sy_rc uac_create(const struct sy_env *env, const struct uac_cfg *cfg, struct uac **out);
void uac_on_call_done(struct uac *u, uac_call_done_fn fn, void *arg);
void uac_on_call_start(struct uac *u, uac_call_start_fn fn, void *arg);
void uac_start(struct uac *u);
/* Stops new arrivals and sends BYE on every answered call; calls still
 * ringing are left to finish (their answer then gets ACK + BYE). */
void uac_stop_and_hangup(struct uac *u);
const struct uac_stats *uac_stats(const struct uac *u);
void uac_destroy(struct uac *u);

#endif
