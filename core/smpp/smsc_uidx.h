/* smsc_uidx.h: the SMSC's index of messages waiting for a carrier's
 * receipt, keyed by (carrier, the carrier's message id). An open-addressing
 * table (linear probing, backward-shift deletion) of 8-byte slots: the top
 * 32 bits of the key's seeded 64-bit hash as a tag beside the message's
 * pool index + 1 (0: empty). A probe reads one line of eight slots and
 * touches a message only on a tag match, where the caller compares the
 * full key; a miss costs one cache line, a hit two (the chained sy_htab
 * it replaces cost a bucket, a node in the object and its key bytes).
 * The tag's low bits are also the home slot, so a doubling and the
 * backward shift of a removal read no message; a tag match is a false one
 * for about one slot in 2^(32 - log2 slots) (1 in 4096 at a million
 * slots), which the caller's full compare rejects. The owner keeps each
 * entry's hash (for removal) and its key. Load stays at most a half by
 * doubling; a doubling that fails leaves the table as it is, and an insert
 * is refused only once it is 7/8 full. */
#ifndef SY_SMPP_SMSC_UIDX_H
#define SY_SMPP_SMSC_UIDX_H

#include "core/base.h"

struct smsc_uidx {
	uint64_t *slot; /* tag << 32 | (value + 1); 0: empty */
	uint32_t mask;	/* slots - 1 */
	uint32_t n;	/* entries */
	uint64_t seed;
};

/* The first table holds about `expected` (at most 4096 slots: a larger
 * size is reached by doubling, so memory follows what is live). */
enum sy_rc smsc_uidx_init(struct smsc_uidx *x, uint32_t expected, uint64_t seed);
void smsc_uidx_free(struct smsc_uidx *x);

static inline uint64_t smsc_uidx_hash(const struct smsc_uidx *x, struct sy_str key)
{
	return sy_hash64(key.p, key.len, x->seed);
}

/* Adds value (< UINT32_MAX) under hash h. Keys may repeat, then find
 * returns any one of them (the SMSC removes the old one first).
 * SY_ERR_NOMEM: not added. */
enum sy_rc smsc_uidx_insert(struct smsc_uidx *x, uint64_t h, uint32_t value);
/* Removes value, added under h; it must be there. */
void smsc_uidx_remove(struct smsc_uidx *x, uint64_t h, uint32_t value);

/* The first value under h that eq(arg, value) accepts, or UINT32_MAX. eq
 * is called only for slots whose tag matches h's. */
static inline uint32_t smsc_uidx_find(const struct smsc_uidx *x, uint64_t h,
				      bool (*eq)(const void *arg, uint32_t value), const void *arg)
{
	uint32_t tag = (uint32_t)(h >> 32);
	for (uint32_t i = tag & x->mask;; i = (i + 1) & x->mask) {
		uint64_t s = x->slot[i];
		if (s == 0)
			return UINT32_MAX;
		if ((uint32_t)(s >> 32) == tag && eq(arg, (uint32_t)s - 1))
			return (uint32_t)s - 1;
	}
}

/* Slots now (for reports and tests). */
/* A hint: the slot where a find of h starts, so its cache miss can overlap
 * other work (the SMSC parses the receipt's text meanwhile). */
static inline void smsc_uidx_prefetch(const struct smsc_uidx *x, uint64_t h)
{
	__builtin_prefetch(&x->slot[(uint32_t)(h >> 32) & x->mask]);
}

static inline uint32_t smsc_uidx_slots(const struct smsc_uidx *x)
{
	return x->slot != NULL ? x->mask + 1 : 0;
}

#endif
