/* limit.h: per-source limits in fixed memory, for every listener (SIP's
 * pike, SMPP's and HTTP's connection caps and failed-login backoff).
 *
 * A table of `slots` entries keyed by the source's IP (port ignored),
 * each with a token bucket (rate per second, burst), a count of open
 * connections, a count of failures, and a block-until time. A source
 * over its rate is blocked for block_ns (Kamailio's pike: its requests
 * are dropped without an answer, which is also what stops reflection).
 * When the table is full, the entry seen longest ago among the few a key
 * may occupy is reused, never one that is blocked or holds connections,
 * so a flood of new sources cannot unblock an old one or free its
 * connection count. Memory: slots x 48 bytes, allocated once.
 *
 * Time comes from the caller (the env's clock): deterministic in sim. */
#ifndef SY_SEC_LIMIT_H
#define SY_SEC_LIMIT_H

#include "core/base.h"
#include "core/env.h"

struct sy_srclimit_cfg {
	uint32_t rate;	   /* events per second per source; 0 = no rate limit */
	uint32_t burst;	   /* bucket size (events); 0 = rate */
	uint64_t block_ns; /* how long a source over its rate is refused */
	uint32_t conns;	   /* open connections per source; 0 = no cap */
	uint32_t slots;	   /* sources tracked; 0 = 65536 */
	uint64_t seed;	   /* hash seed (from sy_env_random in live) */
};

enum sy_src_verdict {
	SY_SRC_OK = 0,
	SY_SRC_LIMITED, /* this event crossed the rate: the source is blocked from now */
	SY_SRC_BLOCKED, /* the source is blocked (an earlier crossing or a backoff) */
	SY_SRC_FULL,	/* the table has no room and every candidate is pinned */
};

struct sy_srclimit_stats {
	uint64_t limited;  /* sources blocked for their rate */
	uint64_t dropped;  /* events refused while blocked or limited */
	uint64_t conns_refused;
	uint64_t evicted;  /* entries reused for a new source */
	uint32_t tracked;  /* entries in use */
};

struct sy_srclimit;

/* Who may bind to an SMPP listener (the SMSC's, the USSD gateway's), and how
 * fast a source may fail. Zero fields take the defaults given
 * (sy_bind_guard_defaults). */
struct sy_bind_guard {
	uint64_t bind_timeout_ns;     /* an accepted stream must bind within (default 5 s) */
	uint32_t conns_per_source;    /* open streams per source IP (default 16) */
	uint32_t bind_fails_max;      /* failed binds before the stream is closed (default 3) */
	uint64_t fail_backoff_ns;     /* a failed bind blocks its source this long, doubling (default 1 s) */
	uint64_t fail_backoff_max_ns; /* (default 5 min; at least fail_backoff_ns) */
};
void sy_bind_guard_defaults(struct sy_bind_guard *g);

enum sy_rc sy_srclimit_create(const struct sy_srclimit_cfg *cfg, struct sy_srclimit **out);
void sy_srclimit_destroy(struct sy_srclimit *l);

/* One event (a request, a connection attempt) from `from` at now_ns. */
enum sy_src_verdict sy_srclimit_hit(struct sy_srclimit *l, const struct sy_addr *from, uint64_t now_ns);

/* Whether `from` is blocked now, without counting an event. */
bool sy_srclimit_blocked(struct sy_srclimit *l, const struct sy_addr *from, uint64_t now_ns);

/* Connections: open counts one against the source's cap (false: refused,
 * counted); close gives it back. Every successful open needs one close. */
bool sy_srclimit_conn_open(struct sy_srclimit *l, const struct sy_addr *from, uint64_t now_ns);
void sy_srclimit_conn_close(struct sy_srclimit *l, const struct sy_addr *from);

/* A failed login from `from`: blocks it for base_ns << (failures - 1),
 * capped at max_ns (exponential backoff); sy_srclimit_success resets it.
 * Returns the failures counted so far. */
uint32_t sy_srclimit_fail(struct sy_srclimit *l, const struct sy_addr *from, uint64_t now_ns, uint64_t base_ns,
			  uint64_t max_ns);
void sy_srclimit_success(struct sy_srclimit *l, const struct sy_addr *from);

const struct sy_srclimit_stats *sy_srclimit_stats(const struct sy_srclimit *l);

#endif
