/* wangiri.h: the Wangiri ("one ring and cut") detector, a module of
 * fraud.c with its own state. Fed with every call's end; it finds source
 * ranges (the caller number's first source_digits digits) that send many
 * short or unanswered calls to many distinct callees within a window, and
 * then protects subscribers from calling back: a call *to* a number in a
 * flooding source range is refused for callback_ns.
 *
 * State: a fixed table of source ranges (cfg->ranges_max, an ftab with a
 * sliding window of short calls and its last distinct callees each)
 * and the ranges under protection (with their expiry). Deterministic: the
 * seed comes from the caller (sy_env_random in fraud.c; fixed in tests).
 * Numbers given here are already normalised (digits, no '+').
 *
 * Distinct callees: each range keeps the distinct_min callees it called
 * last (a 24-bit fingerprint and the window bucket each, 4 bytes), so
 * "at least distinct_min distinct callees within the window" is exact (up
 * to fingerprint collisions, which can only under-count); hence
 * distinct_min is at most FRAUD_WANGIRI_DISTINCT_MAX.
 * Memory per tracked range: 4 x distinct_min bytes (rounded up to 8) + a
 * sliding window of B <= 12 buckets (16 + 8 B); with the defaults (20
 * callees, 60 s in 12 buckets of 5 s) a 192-byte blob, 208 bytes per ftab
 * slot, 2 slots per range at ranges_max = 65,536: 26 MiB. Ranges under
 * protection: max(16, ranges_max / 64) at once (1,024), 32 bytes each in
 * a table of twice as many slots (64 KiB); more evict the one that expires
 * first. 27.3 MB in all with the defaults (fraud_wangiri_bytes).
 * Cost: call_end O(distinct_min) (one ftab get, one scan of the callee
 * set, one fwin add); inbound the same without the insert; callback one
 * probe of the protection table (a sweep of that table when a protection
 * has expired since the last sweep). No allocation after create. */
#ifndef SY_FRAUD_WANGIRI_H
#define SY_FRAUD_WANGIRI_H
#include "core/fraud/fraud.h"

#define FRAUD_WANGIRI_DISTINCT_MAX 64u

struct fraud_wangiri;

/* Whether create would accept cfg (its on aside); when not, err (may be
 * NULL) says why, naming the config key: "wangiri_distinct must be at
 * most 64 (...)". create returns SY_ERR_INVAL for the same. */
bool fraud_wangiri_cfg_check(const struct fraud_wangiri_cfg *cfg, char *err, size_t errlen);
enum sy_rc fraud_wangiri_create(const struct fraud_wangiri_cfg *cfg, uint64_t seed, struct fraud_wangiri **out);
void fraud_wangiri_destroy(struct fraud_wangiri *w);

/* The source-range key of a caller number (0 when the number is shorter
 * than source_digits: such callers are not grouped). */
uint64_t fraud_wangiri_src_key(const struct fraud_wangiri *w, struct sy_str caller);

/* A call ended: short (unanswered within short_ns, or answered for less
 * than short_ns) calls count toward the caller's source range. When the
 * range crosses flood.max short calls to >= distinct_min callees within
 * flood.window_ns, it is put under protection until now + callback_ns
 * (again from the latest crossing). */
void fraud_wangiri_call_end(struct fraud_wangiri *w, struct sy_str caller, struct sy_str callee,
			    const struct fraud_call_end *e, uint64_t now_ns);
/* The same with keys: src_key from fraud_wangiri_src_key (0: not
 * grouped, ignored), callee_key any 64-bit hash of the callee number (the
 * engine's fraud_call.dest_key), so fraud.c need not keep the strings. */
void fraud_wangiri_call_end_keys(struct fraud_wangiri *w, uint64_t src_key, uint64_t callee_key,
				 const struct fraud_call_end *e, uint64_t now_ns);

/* A new call from caller: FRAUD_ALLOW, or cfg->flood.action when its
 * source range is flooding now (reason written, at most reason_len bytes
 * with the NUL). */
enum fraud_action fraud_wangiri_inbound(struct fraud_wangiri *w, struct sy_str caller, uint64_t now_ns, char *reason,
					size_t reason_len);

/* A new call to callee: FRAUD_ALLOW, or cfg->callback when the callee lies
 * in a source range under protection. */
enum fraud_action fraud_wangiri_callback(struct fraud_wangiri *w, struct sy_str callee, uint64_t now_ns, char *reason,
					 size_t reason_len);

/* Source ranges under protection at now_ns (the gauge). */
uint64_t fraud_wangiri_protected(const struct fraud_wangiri *w, uint64_t now_ns);
size_t fraud_wangiri_bytes(const struct fraud_wangiri *w);
#endif
