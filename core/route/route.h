/* route.h: longest-prefix routing on digit strings. A compact digit trie
 * (nodes in one growable array, 10 children each, no per-node malloc) maps a
 * prefix to a uint32 value; billing reuses it for tariffs, so it is sized
 * for millions of prefixes. On top, the carrier table keeps a short ordered
 * list of carriers per prefix so the B2BUA can fail over. */
#ifndef SY_ROUTE_H
#define SY_ROUTE_H

#include "core/base.h"

#define ROUTE_NONE UINT32_MAX /* "no value" in a node; not a valid value */
#define ROUTE_DIGITS_MAX 32   /* longest prefix accepted by route_add */

struct route_node {
	uint32_t child[10]; /* 0 = none (the root is never a child) */
	uint32_t value;	    /* ROUTE_NONE when no prefix ends here */
};
_Static_assert(sizeof(struct route_node) <= 64, "keep nodes compact");

struct route_trie {
	struct route_node *nodes; /* nodes[0] is the root */
	uint32_t node_n, node_cap;
	uint32_t prefix_n; /* distinct prefixes holding a value */
};

/* cap_hint: nodes to reserve (0 = a small default). */
enum sy_rc route_trie_init(struct route_trie *t, uint32_t cap_hint);
void route_trie_free(struct route_trie *t);
/* Sets the value of a prefix (a leading '+' is ignored; digits only, at most
 * ROUTE_DIGITS_MAX; empty = default route). Replaces an existing value.
 * SY_ERR_INVAL on a bad prefix or value, SY_ERR_NOMEM when growth fails. */
enum sy_rc route_add(struct route_trie *t, struct sy_str prefix, uint32_t value);
/* The value of the longest prefix of number (leading '+' ignored; the walk
 * stops at the first non-digit). Returns false when nothing matches.
 * out_len (may be NULL) gets the matched prefix's digit count. */
bool route_lookup(const struct route_trie *t, struct sy_str number, uint32_t *out_value, size_t *out_len);

/* Carriers per prefix, ordered by priority (lower first) then by the order
 * they were added (declaration order). */
#define ROUTE_SET_MAX 8

struct route_set {
	uint8_t n;
	uint16_t carrier[ROUTE_SET_MAX];
	int32_t priority[ROUTE_SET_MAX];
};

struct route_table {
	struct route_trie trie; /* value = index into sets */
	struct route_set *sets;
	uint32_t set_n, set_cap;
};

enum sy_rc route_table_init(struct route_table *rt, uint32_t cap_hint);
void route_table_free(struct route_table *rt);
/* Adds a carrier to a prefix's list. SY_ERR_FULL past ROUTE_SET_MAX
 * carriers on one prefix; SY_ERR_INVAL on a bad prefix or a carrier already
 * on that prefix. */
enum sy_rc route_table_add(struct route_table *rt, struct sy_str prefix, uint16_t carrier_id, int32_t priority);
/* Carrier ids for the longest matching prefix, in failover order; returns how
 * many were written (at most max; 0 = no route). Shorter prefixes are not
 * consulted: the longest match alone defines the route set. */
size_t route_lookup_carriers(const struct route_table *rt, struct sy_str number, uint16_t *out_ids, size_t max);

#endif
