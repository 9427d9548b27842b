/* hll.c: HyperLogLog and its windowed ring (hll.h). */
#include "core/fraud/hll.h"

#include <math.h>
#include <stdlib.h>

#include "core/fraud/mix.h"

/* Register value r's share of the sum of 2^-r, in units of 2^-(63 - p):
 * exact for every r <= 63 - p; the two rarest values above (probability
 * 2^-(63 - 2p) per item) count 0. m registers at 0 sum to 2^63. */
static inline uint64_t share(uint32_t p, uint32_t r)
{
	return r <= 63 - p ? (uint64_t)1 << (63 - p - r) : 0;
}

enum sy_rc fraud_hll_init(struct fraud_hll *h, uint32_t p)
{
	if (p < FRAUD_HLL_P_MIN || p > FRAUD_HLL_P_MAX)
		return SY_ERR_INVAL;
	memset(h, 0, fraud_hll_bytes(p));
	h->p = (uint8_t)p;
	h->zeros = (uint32_t)1 << p;
	h->sum = (uint64_t)1 << 63;
	return SY_OK;
}

void fraud_hll_add(struct fraud_hll *h, uint64_t key, uint64_t seed)
{
	uint64_t x = fraud_mix64(key ^ fraud_mix64(seed ^ 0x9e3779b97f4a7c15ull));
	uint32_t p = h->p;
	uint64_t idx = x >> (64 - p);
	/* The rest of the bits, with a stop bit so the rank is at most 65 - p. */
	uint64_t w = (x << p) | ((uint64_t)1 << (p - 1));
	uint8_t rank = (uint8_t)(__builtin_clzll(w) + 1), old = h->reg[idx];
	if (old >= rank)
		return;
	h->reg[idx] = rank;
	h->sum = h->sum - share(p, old) + share(p, rank);
	h->zeros -= old == 0;
}

enum sy_rc fraud_hll_merge(struct fraud_hll *dst, const struct fraud_hll *src)
{
	if (dst->p != src->p)
		return SY_ERR_INVAL;
	size_t m = (size_t)1 << dst->p;
	uint64_t sum = 0;
	uint32_t zeros = 0;
	for (size_t i = 0; i < m; i++) {
		if (dst->reg[i] < src->reg[i])
			dst->reg[i] = src->reg[i];
		sum += share(dst->p, dst->reg[i]);
		zeros += dst->reg[i] == 0;
	}
	dst->sum = sum, dst->zeros = zeros;
	return SY_OK;
}

/* The estimate from the register sum: raw HLL, or linear counting for
 * small counts (Flajolet et al., figure 3). */
static uint64_t estimate(uint32_t p, uint64_t sum, uint32_t zeros)
{
	double m = (double)((uint64_t)1 << p);
	double alpha = p == 4 ? 0.673 : p == 5 ? 0.697 : p == 6 ? 0.709 : 0.7213 / (1.0 + 1.079 / m);
	double e = alpha * m * m / ldexp((double)sum, -(int)(63 - p));
	if (e <= 2.5 * m && zeros > 0)
		e = m * log(m / (double)zeros);
	return (uint64_t)(e + 0.5);
}

uint64_t fraud_hll_estimate(const struct fraud_hll *h)
{
	return estimate(h->p, h->sum, h->zeros);
}

/* The estimate of `n` sketches taken as one (their register max). */
static uint64_t estimate_of(const struct fraud_hll *const *hs, uint32_t n)
{
	uint32_t p = hs[0]->p, zeros = 0;
	size_t m = (size_t)1 << p;
	uint64_t sum = 0;
	for (size_t i = 0; i < m; i++) {
		uint8_t r = 0;
		for (uint32_t j = 0; j < n; j++)
			r = hs[j]->reg[i] > r ? hs[j]->reg[i] : r;
		sum += share(p, r);
		zeros += r == 0;
	}
	return estimate(p, sum, zeros);
}

struct fraud_hllw {
	struct fraud_hllw_cfg cfg;
	uint64_t epoch; /* the newest epoch seen */
	size_t stride;	/* fraud_hll_bytes(p), rounded to 8 */
	uint8_t *ring;	/* n sketches (epoch e at e % n), then the window's */
};

/* The window's sketch: the register max of the n live ones, kept as they
 * are added to and rebuilt when an epoch leaves, so that an estimate in
 * the newest epoch is O(1). */
static struct fraud_hll *win(const struct fraud_hllw *w)
{
	return (struct fraud_hll *)(void *)(w->ring + w->cfg.n * w->stride);
}

enum sy_rc fraud_hllw_create(const struct fraud_hllw_cfg *cfg, struct fraud_hllw **out)
{
	if (cfg->p < FRAUD_HLL_P_MIN || cfg->p > FRAUD_HLL_P_MAX || cfg->n < 1 || cfg->n > FRAUD_HLLW_N_MAX ||
	    cfg->epoch_ns == 0)
		return SY_ERR_INVAL;
	struct fraud_hllw *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return SY_ERR_NOMEM;
	w->cfg = *cfg;
	w->stride = (fraud_hll_bytes(cfg->p) + 7) & ~(size_t)7;
	w->ring = calloc(cfg->n + 1, w->stride);
	if (w->ring == NULL)
		goto out_free_w;
	for (uint32_t i = 0; i <= cfg->n; i++)
		fraud_hll_init((struct fraud_hll *)(void *)(w->ring + i * w->stride), cfg->p);
	*out = w;
	return SY_OK;
out_free_w:
	free(w);
	return SY_ERR_NOMEM;
}

void fraud_hllw_destroy(struct fraud_hllw *w)
{
	if (w == NULL)
		return;
	free(w->ring);
	free(w);
}

size_t fraud_hllw_bytes(const struct fraud_hllw *w)
{
	return sizeof(*w) + (w->cfg.n + 1) * w->stride;
}

static struct fraud_hll *slot(const struct fraud_hllw *w, uint64_t epoch)
{
	return (struct fraud_hll *)(void *)(w->ring + (epoch % w->cfg.n) * w->stride);
}

void fraud_hllw_add(struct fraud_hllw *w, uint64_t key, uint64_t now_ns)
{
	uint64_t e = now_ns / w->cfg.epoch_ns;
	if (e > w->epoch) { /* clear the sketches of the epochs passed over */
		uint64_t ahead = e - w->epoch;
		for (uint64_t i = 1; i <= ahead && i <= w->cfg.n; i++)
			fraud_hll_init(slot(w, w->epoch + i), w->cfg.p);
		w->epoch = e;
		fraud_hll_init(win(w), w->cfg.p);
		for (uint32_t i = 0; i < w->cfg.n; i++)
			fraud_hll_merge(win(w), (const struct fraud_hll *)(const void *)(w->ring + i * w->stride));
	}
	fraud_hll_add(slot(w, w->epoch), key, w->cfg.seed);
	fraud_hll_add(win(w), key, w->cfg.seed);
}

uint64_t fraud_hllw_estimate(const struct fraud_hllw *w, uint64_t now_ns)
{
	uint64_t e = now_ns / w->cfg.epoch_ns;
	e = e < w->epoch ? w->epoch : e;
	if (e == w->epoch)
		return fraud_hll_estimate(win(w));
	const struct fraud_hll *hs[FRAUD_HLLW_N_MAX];
	uint32_t n = 0;
	/* Epochs e - N + 1 .. newest seen; those after it are empty. */
	for (uint64_t k = 0; k < w->cfg.n && k <= w->epoch; k++) {
		uint64_t ep = w->epoch - k;
		if (e - ep < w->cfg.n)
			hs[n++] = slot(w, ep);
	}
	if (n == 0)
		return 0;
	return n == 1 ? fraud_hll_estimate(hs[0]) : estimate_of(hs, n);
}
