/* smsc_peer.h: a simulated upstream carrier SMSC (the server side the switch
 * binds to), written against the env seam so it runs in the simulator and on
 * real sockets: accept/reject shares, an optional TPS throttle, its own
 * upstream ids, delivery receipts after a delay, link drops, and counting of
 * every delivery by the message's own identity (what lands on a handset),
 * so a crash test sees each message delivered twice, whichever key the
 * switch gave it; deduplication on the switch's key TLV can be turned off
 * to play a carrier that does not know that TLV. */
#ifndef SY_SIM_SMSC_PEER_H
#define SY_SIM_SMSC_PEER_H

#include <stdio.h>

#include "core/dist.h"
#include "core/env.h"

/* The vendor TLV (SMPP 3.4 reserves 0x1400-0x3FFF) in which the switch puts
 * its own message id as text: the same tag as core/store/smsq.h's
 * SMSQ_TLV_IDEMPOTENCY_KEY. The 16-bit user_message_reference is too small. */
#define SMSC_PEER_TAG_KEY 0x1400
#define SMSC_PEER_KEY_CAP 32 /* key text with its NUL */

/* Zero fields take the defaults given. */
struct smsc_peer_cfg {
	const char *name;	      /* upstream ids are "NAME-N" (default "carrier"; <= 32 chars) */
	uint32_t index;		      /* rng stream: sy_rng_init_split(seed, "smsc_peer", index) */
	struct sy_addr listen;	      /* where the switch connects */
	const char *system_id;	      /* binds must match (required, <= 15 chars) */
	const char *password;	      /* default "" */
	uint32_t sess_max;	      /* sessions (default 16) */
	uint32_t window;	      /* outstanding deliver_sm per session (default 10) */
	uint32_t reject_ppm;	      /* submit_sm answered ESME_RSYSERR (default 0: all accepted) */
	uint32_t undeliv_ppm;	      /* accepted messages whose receipt says UNDELIV (default 0) */
	uint32_t tps;		      /* token bucket for all sessions: over it ESME_RTHROTTLED; 0 = none */
	uint32_t tps_burst;	      /* bucket size (default tps) */
	struct sy_dist dlr_delay;     /* submit_sm -> receipt (default fixed 0) */
	uint64_t dlr_retry_ns;	      /* receipt retry when no receiver is bound or it failed (default 1 s) */
	uint32_t msg_max;	      /* receipts pending; beyond, submit_sm gets ESME_RMSGQFUL (default 65536) */
	uint32_t keys_max;	      /* keys remembered, one per message and one per key TLV (default 1M);
				       * beyond, counted untracked */
	bool no_dedupe;		      /* true: a repeated key TLV is delivered again, as a carrier that
				       * ignores the TLV would (counted in duplicates) */
	FILE *keys_out;		      /* optional: one line per accepted or deduplicated submit_sm */
	uint64_t enquire_interval_ns; /* session keepalive (session default) */
	uint64_t resp_timeout_ns;     /* deliver_sm_resp due within (session default) */
};

/* A message's identity is MSG: "h:" and 16 hex digits of a hash of (source,
 * destination, short_message with its UDH, message_payload, sar_ TLVs),
 * which the carrier sees without any help from the switch. Two different
 * messages with the same source, destination and text count as one (a
 * handset could not tell them apart either); the simulated applications'
 * texts are random, so there they never collide.
 *
 * keys_out lines: "KEY MSG\n" for a delivery, "KEY MSG again\n" for a
 * delivery of a MSG delivered before (a duplicate that landed), "KEY MSG
 * dup\n" for a re-send recognised by the key TLV, answered with the first id
 * and not delivered. KEY is the switch's key TLV text (<= 30 printable
 * characters; a longer or binary one becomes "H:" and its hash), "-" when
 * the submit_sm has none. Set line buffering on the FILE if another process
 * reads it while the peer runs. */

struct smsc_peer_stats {
	uint64_t binds_ok, binds_refused;
	uint64_t submits;	 /* submit_sm that reached the peer (past the throttle) */
	uint64_t accepted;	 /* answered ESME_ROK with a new upstream id */
	uint64_t rejected;	 /* answered ESME_RSYSERR (reject_ppm) */
	uint64_t throttled;	 /* answered ESME_RTHROTTLED by the token bucket */
	uint64_t queue_full;	 /* answered ESME_RMSGQFUL: no room for the receipt */
	uint64_t received;	 /* deliveries of a message (MSG above) not delivered before */
	uint64_t duplicates;	 /* deliveries of a message delivered before: it landed twice */
	uint64_t deduped;	 /* re-sends recognised by the key TLV: first id, not delivered */
	/* submit_sm whose key (the TLV, else MSG) was accepted before, deduped
	 * or not: minus deduped, what sms.duplicate used to be, blind to a
	 * message that came back under a new key */
	uint64_t key_repeats;
	uint64_t keys_untracked; /* keys not remembered because keys_max was reached */
	uint64_t dlr_sent, dlr_acked, dlr_retries, dlr_delivered, dlr_undeliv;
	uint64_t other_requests; /* requests other than submit_sm (answered) */
	uint64_t link_drops;	 /* sessions closed by smsc_peer_drop_links() */
};

struct smsc_peer;

/* Copies cfg and listens. SY_ERR_INVAL on a bad cfg, SY_ERR_NOMEM, or the
 * transport's error. */
enum sy_rc smsc_peer_create(const struct sy_env *env, const struct smsc_peer_cfg *cfg, struct smsc_peer **out);
const struct smsc_peer_stats *smsc_peer_stats(struct smsc_peer *p);
/* Bound sessions now. */
uint32_t smsc_peer_bound(const struct smsc_peer *p);
/* Receipts not yet acknowledged by deliver_sm_resp. */
uint64_t smsc_peer_dlr_pending(const struct smsc_peer *p);
/* How many times key (a key TLV's text, else a MSG) was accepted or
 * deduplicated (0 = never). */
uint32_t smsc_peer_key_count(const struct smsc_peer *p, struct sy_str key);
/* Link drop fault: closes every bound session now, with no unbind; the
 * switch must rebind. Receipts in flight on them are sent again later.
 * Returns the sessions closed. */
uint32_t smsc_peer_drop_links(struct smsc_peer *p);
void smsc_peer_destroy(struct smsc_peer *p);

#endif
