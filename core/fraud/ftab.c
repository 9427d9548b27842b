/* ftab.c: the per-key state table (ftab.h). Three arrays, so a probe reads
 * keys only (8 to a cache line) before touching any blob. */
#include "core/fraud/ftab.h"

#include <stdlib.h>

#include "core/fraud/mix.h"

struct fraud_ftab {
	struct fraud_ftab_cfg cfg;
	uint64_t mask;
	size_t stride;	   /* blob rounded up to 8 bytes */
	uint64_t *keys;	   /* 0: free */
	uint64_t *touched; /* ns of the last get */
	uint8_t *blobs;
	struct fraud_ftab_stats st;
};

static void *(*const volatile zero)(void *, int, size_t) = memset;

enum sy_rc fraud_ftab_create(const struct fraud_ftab_cfg *cfg, struct fraud_ftab **out)
{
	if (cfg->keys < 1 || cfg->keys > (1ull << 28) || cfg->blob < 1 || cfg->blob > 4096)
		return SY_ERR_INVAL;
	struct fraud_ftab *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return SY_ERR_NOMEM;
	t->cfg = *cfg;
	uint64_t n = FRAUD_FTAB_PROBE;
	while (n < cfg->keys + cfg->keys / 4)
		n <<= 1;
	t->mask = n - 1;
	t->stride = ((size_t)cfg->blob + 7) & ~(size_t)7;
	t->keys = malloc(n * sizeof(uint64_t));
	t->touched = malloc(n * sizeof(uint64_t));
	t->blobs = malloc(n * t->stride);
	if (t->keys == NULL || t->touched == NULL || t->blobs == NULL)
		goto out_free;
	/* Written now, not left to calloc's lazy pages: the page faults happen
	 * at start, not on the first calls of a million accounts. Through a
	 * volatile pointer, or the compiler turns malloc + memset into calloc. */
	zero(t->keys, 0, n * sizeof(uint64_t));
	zero(t->touched, 0, n * sizeof(uint64_t));
	zero(t->blobs, 0, n * t->stride);
	*out = t;
	return SY_OK;
out_free:
	fraud_ftab_destroy(t);
	return SY_ERR_NOMEM;
}

void fraud_ftab_destroy(struct fraud_ftab *t)
{
	if (t == NULL)
		return;
	free(t->keys);
	free(t->touched);
	free(t->blobs);
	free(t);
}

uint64_t fraud_ftab_key(const struct fraud_ftab *t, struct sy_str id)
{
	return sy_hash64(id.p, id.len, t->cfg.seed);
}

static inline uint64_t norm(uint64_t key)
{
	return key == 0 ? 1 : key;
}

static inline void *blob_at(const struct fraud_ftab *t, uint64_t i)
{
	return t->blobs + i * t->stride;
}

/* Slot j (0 .. 2 x PROBE - 1) of the key's two windows: two choices keep
 * windows from filling long before the table does. */
static inline uint64_t probe(const struct fraud_ftab *t, uint64_t h, uint32_t j)
{
	uint64_t base = j < FRAUD_FTAB_PROBE ? h : (h >> 32) | ((h & 0xffffffffu) << 32);
	return (fraud_mix64(base) + j % FRAUD_FTAB_PROBE) & t->mask;
}

static inline uint64_t hash_of(const struct fraud_ftab *t, uint64_t key)
{
	return fraud_mix64(key ^ t->cfg.seed);
}

/* The key's slot, or UINT64_MAX. */
static uint64_t lookup(const struct fraud_ftab *t, uint64_t key)
{
	uint64_t h = hash_of(t, key);
	for (uint32_t j = 0; j < 2 * FRAUD_FTAB_PROBE; j++) {
		uint64_t i = probe(t, h, j);
		if (t->keys[i] == key)
			return i;
	}
	return UINT64_MAX;
}

void *fraud_ftab_find(const struct fraud_ftab *t, uint64_t key)
{
	uint64_t i = lookup(t, norm(key));
	return i == UINT64_MAX ? NULL : blob_at(t, i);
}

/* A slot for a new key: a free one in its window, else the least recently
 * touched (the first of equals, so the choice is deterministic). */
static uint64_t victim(const struct fraud_ftab *t, uint64_t key)
{
	uint64_t h = hash_of(t, key), pick = UINT64_MAX;
	for (uint32_t j = 0; j < 2 * FRAUD_FTAB_PROBE; j++) {
		uint64_t i = probe(t, h, j);
		if (t->keys[i] == 0)
			return i;
		if (pick == UINT64_MAX || t->touched[i] < t->touched[pick])
			pick = i;
	}
	return pick;
}

void *fraud_ftab_get(struct fraud_ftab *t, uint64_t key, uint64_t now_ns, bool *fresh)
{
	key = norm(key);
	uint64_t i = lookup(t, key);
	bool is_new = i == UINT64_MAX;
	if (is_new) {
		i = victim(t, key);
		if (t->keys[i] != 0)
			t->st.evicted++;
		else
			t->st.tracked++;
		t->st.inserted++;
		t->keys[i] = key;
		memset(blob_at(t, i), 0, t->stride);
	}
	if (now_ns > t->touched[i] || is_new)
		t->touched[i] = now_ns;
	if (fresh != NULL)
		*fresh = is_new;
	return blob_at(t, i);
}

bool fraud_ftab_del(struct fraud_ftab *t, uint64_t key)
{
	uint64_t i = lookup(t, norm(key));
	if (i == UINT64_MAX)
		return false;
	t->keys[i] = 0;
	t->touched[i] = 0;
	t->st.tracked--;
	return true;
}

const struct fraud_ftab_stats *fraud_ftab_stats(const struct fraud_ftab *t)
{
	return &t->st;
}

size_t fraud_ftab_bytes(const struct fraud_ftab *t)
{
	uint64_t n = t->mask + 1;
	return sizeof(*t) + n * (2 * sizeof(uint64_t) + t->stride);
}
