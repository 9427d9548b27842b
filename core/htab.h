/* htab.h: an intrusive chained hash table keyed by byte strings, with a
 * bucket array sized once at init (power of two) so the hot path never
 * allocates. The owner embeds struct sy_hnode in its object and keeps the
 * key bytes alive while the node is linked. Iteration order is never used
 * for output, so the table does not leak into determinism. */
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

/* A fixed seed: only for tables whose keys no peer chooses. */
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
/* Links n under key (n->key is set to key; the bytes must outlive the link). */
void sy_htab_insert(struct sy_htab *t, struct sy_hnode *n, struct sy_str key);
struct sy_hnode *sy_htab_find(const struct sy_htab *t, struct sy_str key);
/* The next node after n linked under the same key (keys may repeat). */
struct sy_hnode *sy_htab_find_next(const struct sy_htab *t, const struct sy_hnode *n);
/* Unlinks n; n must be linked. */
void sy_htab_remove(struct sy_htab *t, struct sy_hnode *n);

#endif
