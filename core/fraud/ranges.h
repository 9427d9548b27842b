/* ranges.h: high-risk destination ranges for the IRSF detector. A CSV of
 * E.164 prefixes, each with a risk class and an optional label, loaded into
 * the route digit trie (core/route/route.h) for a longest-prefix match in
 * O(digits) with no allocation. The file format is in docs/fraud.md
 * ("Risk ranges and number checks"):
 *
 *   # comment           blank lines and lines starting with '#' are skipped
 *   prefix,class,label  an optional header line (exactly these words)
 *   +882,high,International Networks
 *   +53,high,Cuba
 *   +1900,premium,US premium rate
 *   +88234,none,carve-out: a shorter match is overridden
 *
 * Reload while running: each load builds a whole new table. A holder (the
 * detector, or a call that must keep one view of the ranges while it runs)
 * takes a reference; fraud_ranges_set_swap installs a new table and drops
 * the set's reference to the old one, which is freed when its last holder
 * releases it. No locks: the core is single-threaded per node. */
#ifndef SY_FRAUD_RANGES_H
#define SY_FRAUD_RANGES_H

#include "core/env.h"
#include "core/fraud/numcheck.h"
#include "core/route/route.h"

/* Risk classes, a fixed set in rising order of risk, so a rule can say "at
 * least high". NONE is both "no prefix matched" and an explicit carve-out
 * inside a risky range. */
enum fraud_risk {
	FRAUD_RISK_NONE = 0,
	FRAUD_RISK_LOW,
	FRAUD_RISK_MEDIUM,
	FRAUD_RISK_HIGH,
	FRAUD_RISK_PREMIUM, /* premium-rate: long calls cost most */
	FRAUD_RISK_BLOCKED, /* never to be called */
	FRAUD_RISK_COUNT
};

/* "none", "low", "medium", "high", "premium", "blocked". */
const char *fraud_risk_name(enum fraud_risk r);
/* Case-insensitive; false when s names no class. */
bool fraud_risk_parse(struct sy_str s, enum fraud_risk *out);

#define FRAUD_PREFIX_MAX      FRAUD_NUM_MAX /* digits in a prefix */
#define FRAUD_LABEL_MAX	      64	    /* bytes in a label */
#define FRAUD_LINE_MAX	      512	    /* bytes in a line */
#define FRAUD_RANGES_DEFAULT  1000000u	    /* prefixes per table unless opts say */
#define FRAUD_RANGES_FILE_MAX (64u << 20)   /* a larger file is refused */
#define FRAUD_ERR_MAX	      200	    /* room for "file:line: message" */

/* One prefix. Its index is its data line's order in the file. */
struct fraud_range_entry {
	uint32_t text_off; /* prefix digits, then the label, in fraud_ranges.text */
	uint32_t line;	   /* line in the source file */
	uint8_t prefix_len;
	uint8_t label_len;
	uint8_t risk; /* enum fraud_risk */
};

/* A loaded table. Memory: 12 bytes per entry, its prefix and label bytes,
 * and at most one 44-byte trie node per prefix digit (prefixes share the
 * nodes of their common digits; arrays trimmed to size after the load;
 * measured in docs/fraud.md: 218 bytes per prefix on random prefixes). */
struct fraud_ranges {
	struct route_trie trie; /* value = entry index */
	struct fraud_range_entry *e;
	uint32_t n, cap;
	char *text;
	uint32_t text_len, text_cap;
	uint32_t dup_n;	     /* lines repeating a prefix with the same class (ignored) */
	uint32_t refs;	     /* holders; the table is freed when it drops to 0 */
	uint64_t generation; /* set by fraud_ranges_set_swap; 0 before */
};

struct fraud_ranges_opts {
	uint32_t max_prefixes; /* 0 = FRAUD_RANGES_DEFAULT; more is a load error */
	char *err;	       /* optional: "file:line: message" on failure */
	size_t err_len;
};

/* Parses a ranges CSV held in memory (name is used in messages). On success
 * *out is a new table holding one reference (the caller's). On failure
 * *out is NULL and opts->err names file:line and the problem: a bad
 * prefix, an unknown class, a prefix repeated with another class, a prefix,
 * label or line too long, too many prefixes. SY_ERR_PARSE or SY_ERR_NOMEM.
 * Cost: O(bytes); allocates (load time, not the call path). */
enum sy_rc fraud_ranges_load_mem(const char *name, const char *buf, size_t len, const struct fraud_ranges_opts *opts,
				 struct fraud_ranges **out);
/* Reads path through env's files, then fraud_ranges_load_mem; SY_ERR_IO
 * (with "path: cannot read ...") when the file is unreadable or too big. */
enum sy_rc fraud_ranges_load_file(const struct sy_env *env, const char *path, const struct fraud_ranges_opts *opts,
				  struct fraud_ranges **out);

/* Reference counting: hold returns t; release frees it at the last holder
 * (NULL is ignored). A pointer is valid while its holder holds it. */
struct fraud_ranges *fraud_ranges_hold(struct fraud_ranges *t);
void fraud_ranges_release(struct fraud_ranges *t);

/* The result of a lookup: slices into the table, valid while it is held. */
struct fraud_range_hit {
	enum fraud_risk risk; /* FRAUD_RISK_NONE when nothing matched */
	struct sy_str prefix; /* the matched prefix's digits; empty when none */
	struct sy_str label;  /* may be empty */
	uint32_t line;	      /* its line in the file; 0 when none */
};

/* Longest-prefix match of a dialed number after fraud_num_norm(cfg, ...)
 * (cfg may be NULL: strip a '+' only). The walk stops at the first
 * non-digit, so "+8821x" matches what "+8821" matches: check the number with
 * fraud_num_check as well. Returns whether a prefix matched (a "none"
 * carve-out matches too). O(digits), no allocation. t may be NULL (no
 * table: nothing matches). */
bool fraud_ranges_lookup(const struct fraud_ranges *t, const struct fraud_num_cfg *cfg, struct sy_str number,
			 struct fraud_range_hit *hit);

/* Entry i's prefix digits and label (i < t->n). */
struct sy_str fraud_ranges_prefix(const struct fraud_ranges *t, uint32_t i);
struct sy_str fraud_ranges_label(const struct fraud_ranges *t, uint32_t i);
/* Bytes the table's heap memory takes (trie nodes, entries, text). */
size_t fraud_ranges_bytes(const struct fraud_ranges *t);

/* The table in force, and the generations it went through. */
struct fraud_ranges_set {
	struct fraud_ranges *cur; /* the set's reference; NULL before the first swap */
	uint64_t generation;	  /* tables installed so far */
	uint64_t reload_failed;	  /* fraud_ranges_set_reload calls that kept the old table */
};

/* Installs t (taking over the caller's reference), stamps it with the next
 * generation and releases the set's reference to the previous table. */
void fraud_ranges_set_swap(struct fraud_ranges_set *s, struct fraud_ranges *t);
/* Loads path and swaps it in. On any error the current table stays in
 * force, reload_failed is counted and opts->err says why. */
enum sy_rc fraud_ranges_set_reload(struct fraud_ranges_set *s, const struct sy_env *env, const char *path,
				   const struct fraud_ranges_opts *opts);
/* The current table, borrowed: valid until the next swap. Hold it to keep
 * it longer (a call in progress keeps the generation it started with). */
static inline const struct fraud_ranges *fraud_ranges_set_cur(const struct fraud_ranges_set *s)
{
	return s->cur;
}
/* Releases the set's reference. */
void fraud_ranges_set_free(struct fraud_ranges_set *s);

#endif
