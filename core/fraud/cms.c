/* cms.c: the windowed count-min sketch (cms.h). Two arrays of d x w
 * counters, one per epoch; the older is cleared and becomes the current
 * one when time enters a new epoch. */
#include "core/fraud/cms.h"

#include <stdlib.h>

struct fraud_cms {
	struct fraud_cms_cfg cfg;
	uint64_t epoch;	   /* the newest epoch seen */
	uint32_t cur;	   /* which array is the current epoch's */
	uint64_t total[2]; /* amounts added per epoch */
	uint32_t *cnt[2];  /* d x w each */
};

enum sy_rc fraud_cms_create(const struct fraud_cms_cfg *cfg, struct fraud_cms **out)
{
	if (cfg->depth < 1 || cfg->depth > 16 || cfg->width < 16 || cfg->width > (1u << 24) ||
	    (cfg->width & (cfg->width - 1)) != 0 || cfg->epoch_ns == 0)
		return SY_ERR_INVAL;
	struct fraud_cms *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return SY_ERR_NOMEM;
	c->cfg = *cfg;
	size_t n = (size_t)cfg->depth * cfg->width;
	c->cnt[0] = calloc(2 * n, sizeof(uint32_t));
	if (c->cnt[0] == NULL)
		goto out_free_c;
	c->cnt[1] = c->cnt[0] + n;
	*out = c;
	return SY_OK;
out_free_c:
	free(c);
	return SY_ERR_NOMEM;
}

void fraud_cms_destroy(struct fraud_cms *c)
{
	if (c == NULL)
		return;
	free(c->cnt[0]);
	free(c);
}

size_t fraud_cms_bytes(const struct fraud_cms *c)
{
	return sizeof(*c) + 2 * (size_t)c->cfg.depth * c->cfg.width * sizeof(uint32_t);
}

/* How many epochs separate now from the newest seen (0: the same one). */
static uint64_t epochs_ahead(const struct fraud_cms *c, uint64_t now_ns)
{
	uint64_t e = now_ns / c->cfg.epoch_ns;
	return e > c->epoch ? e - c->epoch : 0;
}

static void rotate(struct fraud_cms *c, uint64_t now_ns)
{
	uint64_t ahead = epochs_ahead(c, now_ns);
	if (ahead == 0)
		return;
	size_t n = (size_t)c->cfg.depth * c->cfg.width;
	uint32_t old = c->cur ^ 1;
	memset(c->cnt[old], 0, n * sizeof(uint32_t));
	c->total[old] = 0;
	if (ahead > 1) { /* the current epoch left the window too */
		memset(c->cnt[c->cur], 0, n * sizeof(uint32_t));
		c->total[c->cur] = 0;
	}
	c->cur = old;
	c->epoch = now_ns / c->cfg.epoch_ns;
}

/* Row r's column for key: double hashing over one seeded 64-bit hash. */
static inline size_t cell(const struct fraud_cms *c, uint64_t h, uint32_t r)
{
	uint64_t h1 = h, h2 = (h >> 32) | 1;
	return (size_t)r * c->cfg.width + ((h1 + r * h2) & (c->cfg.width - 1));
}

static inline uint64_t key_hash(const struct fraud_cms *c, uint64_t key)
{
	return fraud_mix64(key ^ fraud_mix64(c->cfg.seed));
}

/* min over rows of (previous + current); `prev` false: current only. */
static uint64_t row_min(const struct fraud_cms *c, uint64_t h, uint64_t ahead, bool prev)
{
	if (ahead > 1)
		return 0;
	/* ahead == 1: the current array is the previous epoch, the old one gone */
	const uint32_t *cur = ahead == 0 ? c->cnt[c->cur] : NULL;
	const uint32_t *old = ahead == 0 ? c->cnt[c->cur ^ 1] : c->cnt[c->cur];
	uint64_t m = UINT64_MAX;
	for (uint32_t r = 0; r < c->cfg.depth; r++) {
		size_t i = cell(c, h, r);
		uint64_t v = (cur ? cur[i] : 0) + (prev ? old[i] : 0);
		m = v < m ? v : m;
	}
	return m;
}

uint64_t fraud_cms_add(struct fraud_cms *c, uint64_t key, uint64_t now_ns, uint32_t amount)
{
	rotate(c, now_ns);
	uint64_t h = key_hash(c, key);
	uint32_t *cur = c->cnt[c->cur];
	/* Conservative update: raise each row only to (current min + amount);
	 * every row stays >= the key's true count, so the min does too. */
	uint64_t want = row_min(c, h, 0, false) + amount;
	uint32_t target = want > UINT32_MAX ? UINT32_MAX : (uint32_t)want;
	for (uint32_t r = 0; r < c->cfg.depth; r++) {
		size_t i = cell(c, h, r);
		if (cur[i] < target)
			cur[i] = target;
	}
	c->total[c->cur] += amount;
	return row_min(c, h, 0, true);
}

uint64_t fraud_cms_estimate(const struct fraud_cms *c, uint64_t key, uint64_t now_ns)
{
	return row_min(c, key_hash(c, key), epochs_ahead(c, now_ns), true);
}

uint64_t fraud_cms_total(const struct fraud_cms *c, uint64_t now_ns)
{
	uint64_t ahead = epochs_ahead(c, now_ns);
	if (ahead > 1)
		return 0;
	return ahead == 1 ? c->total[c->cur] : c->total[0] + c->total[1];
}
