/* uas.h: a carrier-side SIP user agent (the called side) written against
 * the env seam: it answers, rejects or lets ring, per configured shares,
 * and is the far end both in the simulator and in live tests against SIPp
 * or a real switch. */
#ifndef SY_SIM_UAS_H
#define SY_SIM_UAS_H

#include "core/dist.h"
#include "core/env.h"

#define UAS_REJECT_MAX 8

struct uas_reject {
	uint16_t code;	    /* 300..699 */
	uint32_t share_ppm; /* relative share among rejects */
};

struct uas_cfg {
	const char *name; /* node name, in tags and branches; token chars (default "uas") */
	uint32_t index;	  /* rng stream: sy_rng_init_split(seed, "uas", index) */
	struct sy_addr local;
	uint32_t answer_ppm;   /* share of calls answered with 200 */
	uint32_t noanswer_ppm; /* share left ringing (until CANCEL or noanswer_timeout) */
	/* the rest (1e6 - answer - noanswer) is rejected with these codes: */
	struct uas_reject reject[UAS_REJECT_MAX];
	size_t reject_n;      /* 0: all rejects are 486 */
	struct sy_dist ring;  /* INVITE -> final response */
	bool early_media;     /* send 183 with SDP instead of 180 */
	uint32_t capacity;    /* concurrent calls before 503; 0 = calls_max */
	uint32_t calls_max;   /* pool of concurrent calls */
	uint64_t t1_ns;	      /* default 500 ms; T2 = 8 * T1 */
	uint64_t noanswer_timeout_ns; /* then 480; default 180 s */
};

struct uas_stats {
	uint64_t invites;	    /* new INVITEs (not retransmissions) */
	uint64_t invite_retx;	    /* retransmitted INVITEs absorbed */
	uint64_t answered;	    /* 200 sent */
	uint64_t rejected;	    /* final 3xx-6xx sent, including 487 and 503 */
	uint64_t rejected_code[700]; /* by status code */
	uint64_t overload;	    /* 503 for capacity or pool exhaustion */
	uint64_t cancelled;	    /* CANCEL turned into 487 */
	uint64_t acks;		    /* ACKs matched to a call */
	uint64_t ack_timeouts;	    /* 200 never ACKed: we sent BYE */
	uint64_t byes;		    /* BYE for a live call, answered 200 */
	uint64_t bye_unknown;	    /* BYE answered 481 */
	uint64_t active;	    /* calls in the pool now */
	uint64_t retransmits;	    /* final responses sent again by timer */
	uint64_t rx_bad;	    /* datagrams that did not scan or were dropped */
};

struct uas;

/* Copies cfg, allocates the pool and opens the socket. */
enum sy_rc uas_create(const struct sy_env *env, const struct uas_cfg *cfg, struct uas **out);
/* Nothing to schedule: a UAS only reacts. Kept for the same API shape. */
void uas_start(struct uas *s);
/* The address the UAS listens on (the real port if 0 was asked). */
void uas_local(const struct uas *s, struct sy_addr *out);
const struct uas_stats *uas_stats(const struct uas *s);
void uas_destroy(struct uas *s);

#endif
