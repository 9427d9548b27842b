/* htab.h: an intrusive chained hash table keyed by byte strings. The bucket
 * array starts small and doubles when the table holds more entries than
 * buckets, so memory follows the peak of what is linked rather than a
 * worst case given at init, and chains stay about one node long. A doubling
 * is the only allocation, amortised over the inserts that filled the table
 * (a failed one leaves the size alone: longer chains, still correct). The
 * owner embeds struct sy_hnode in its object and keeps the key bytes alive
 * while the node is linked. Iteration order is never used for output, so
 * the table does not leak into determinism; nodes under one key keep their
 * order (newest first) across a doubling. */
#ifndef SY_HTAB_H
#define SY_HTAB_H

#include "base.h"

struct sy_hnode {
	struct sy_hnode *next;
	uint64_t hash;
	struct sy_str key;
};

struct sy_htab {
	struct sy_hnode **buckets;
	uint64_t mask;
	uint64_t count;
	uint64_t seed; /* of the hash: per table, unpredictable in live */
};

#define SY_HTAB_SEED_FIXED 0x5357595244ull
/* Buckets at init at most: a bigger expected size is reached by doubling. */
#define SY_HTAB_INIT_MAX 1024u

/* A fixed seed: only for tables whose keys no peer chooses. expected sizes
 * the first bucket array (up to SY_HTAB_INIT_MAX). */
enum sy_rc sy_htab_init(struct sy_htab *t, uint64_t expected);
/* Tables keyed by what peers send (message ids, names, numbers) take a
 * seed from sy_env_random_u64(): with a fixed one, anyone can compute keys
 * that all land in one bucket and turn every lookup into a list walk. */
enum sy_rc sy_htab_init_seeded(struct sy_htab *t, uint64_t expected, uint64_t seed);
void sy_htab_free(struct sy_htab *t);
static inline uint64_t sy_htab_hash(struct sy_str key)
{
	return sy_hash64(key.p, key.len, SY_HTAB_SEED_FIXED);
}
/* Buckets now (for reports and tests). */
static inline uint64_t sy_htab_buckets(const struct sy_htab *t)
{
	return t->buckets != NULL ? t->mask + 1 : 0;
}
/* Links n under key (n->key is set to key; the bytes must outlive the link). */
void sy_htab_insert(struct sy_htab *t, struct sy_hnode *n, struct sy_str key);
struct sy_hnode *sy_htab_find(const struct sy_htab *t, struct sy_str key);
/* The next node after n linked under the same key (keys may repeat). */
struct sy_hnode *sy_htab_find_next(const struct sy_htab *t, const struct sy_hnode *n);
/* Unlinks n; n must be linked. */
void sy_htab_remove(struct sy_htab *t, struct sy_hnode *n);

#endif
