/* fwin.c: the sliding-window counter (fwin.h). A ring of B buckets indexed
 * by absolute bucket number modulo B; moving to a newer bucket clears the
 * ones it passes over, so no bucket ever holds two periods' amounts. */
#include "core/fraud/fwin.h"

enum sy_rc fraud_fwin_geom_init(struct fraud_fwin_geom *g, uint64_t window_ns, uint32_t buckets)
{
	if (buckets == 0 || buckets > FRAUD_FWIN_BUCKETS_MAX || window_ns == 0 || window_ns % buckets != 0)
		return SY_ERR_INVAL;
	*g = (struct fraud_fwin_geom){.bucket_ns = window_ns / buckets, .buckets = buckets};
	return SY_OK;
}

void fraud_fwin_reset(const struct fraud_fwin_geom *g, struct fraud_fwin *w)
{
	memset(w, 0, fraud_fwin_bytes(g->buckets));
}

/* The bucket now_ns falls in, never older than the newest seen. */
static uint64_t bucket_of(const struct fraud_fwin_geom *g, const struct fraud_fwin *w, uint64_t now_ns)
{
	uint64_t k = now_ns / g->bucket_ns;
	return k < w->head ? w->head : k;
}

/* What the buckets head + 1 .. k would clear: the ones k - n + 1 .. head
 * stay. Returns the sum of those that stay. */
static uint64_t staying(const struct fraud_fwin_geom *g, const struct fraud_fwin *w, uint64_t k)
{
	uint64_t n = g->buckets;
	if (k - w->head >= n)
		return 0;
	if (k == w->head)
		return w->total;
	uint64_t s = 0;
	if (w->total != UINT64_MAX) {
		s = w->total;
		for (uint64_t i = w->head + 1; i <= k; i++)
			s -= w->b[i % n]; /* bucket i - n leaves */
		return s;
	}
	for (uint64_t i = k >= n ? k - n + 1 : 0; i <= w->head; i++)
		s = fraud_sat_add(s, w->b[i % n]);
	return s;
}

static void advance(const struct fraud_fwin_geom *g, struct fraud_fwin *w, uint64_t k)
{
	uint64_t n = g->buckets;
	w->total = staying(g, w, k);
	if (k - w->head >= n) {
		memset(w->b, 0, n * sizeof(w->b[0]));
	} else {
		for (uint64_t i = w->head + 1; i <= k; i++)
			w->b[i % n] = 0;
	}
	w->head = k;
}

uint64_t fraud_fwin_add(const struct fraud_fwin_geom *g, struct fraud_fwin *w, uint64_t now_ns, uint64_t amount)
{
	SY_ASSERT(g->bucket_ns > 0 && g->buckets > 0);
	uint64_t k = bucket_of(g, w, now_ns);
	if (k != w->head)
		advance(g, w, k);
	uint64_t *b = &w->b[k % g->buckets];
	*b = fraud_sat_add(*b, amount);
	w->total = fraud_sat_add(w->total, amount);
	return w->total;
}

uint64_t fraud_fwin_sum(const struct fraud_fwin_geom *g, const struct fraud_fwin *w, uint64_t now_ns)
{
	return staying(g, w, bucket_of(g, w, now_ns));
}
