/* wangiri.h: the Wangiri ("one ring and cut") detector, a module of
 * fraud.c with its own state. Fed with every call's end; it finds source
 * ranges (the caller number's first source_digits digits) that send many
 * short or unanswered calls to many distinct callees within a window, and
 * then protects subscribers from calling back: a call *to* a number in a
 * flooding source range is refused for callback_ns.
 *
 * State: a fixed table of source ranges (cfg->ranges_max, an ftab with a
 * sliding window of short calls and a small distinct-callee sketch each)
 * and the ranges under protection (with their expiry). Deterministic: the
 * seed comes from the caller (sy_env_random in fraud.c; fixed in tests).
 * Numbers given here are already normalised (digits, no '+'). */
#ifndef SY_FRAUD_WANGIRI_H
#define SY_FRAUD_WANGIRI_H
#include "core/fraud/fraud.h"

struct fraud_wangiri;

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
