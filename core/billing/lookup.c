/* lookup.c: the tariff's longest-prefix lookup (tariff.h): one number, or
 * many walked in lockstep so their trie descents overlap, and the entry's
 * time band at the call's moment. The loader is in tariff.c. */
#include "core/billing/tariff.h"

/* The entry of the prefix whose first band entry is e, for the time. */
static const struct bill_tariff_entry *band_pick(const struct bill_tariff *t, const struct bill_tariff_entry *e,
						 uint64_t epoch_s)
{
	if (e->next_band == 0 && e->band == BILL_BAND_ANY)
		return e; /* the common case: no bands, no clock arithmetic */
	uint8_t band = bill_tariff_band_at(t, epoch_s);
	const struct bill_tariff_entry *any = NULL;
	for (;;) {
		if (e->band == band && band != BILL_BAND_ANY)
			return e;
		if (e->band == BILL_BAND_ANY)
			any = e;
		if (e->next_band == 0)
			return any;
		e = &t->e[e->next_band - 1];
	}
}

const struct bill_tariff_entry *bill_tariff_lookup(const struct bill_tariff *t, enum bill_service svc,
						   struct sy_str number, uint64_t epoch_s)
{
	SY_ASSERT((unsigned)svc < BILL_SVC_COUNT);
	char key[ROUTE_DIGITS_MAX];
	size_t i = number.len > 0 && number.p[0] == '+', n = 1;
	key[0] = (char)('0' + svc);
	for (; i < number.len && n < ROUTE_DIGITS_MAX && number.p[i] >= '0' && number.p[i] <= '9'; i++)
		key[n++] = number.p[i];
	uint32_t idx;
	if (t->n == 0 || !route_lookup(&t->trie, (struct sy_str){key, n}, &idx, NULL))
		return NULL;
	return band_pick(t, &t->e[idx], epoch_s);
}

struct lane {
	const char *p, *end;
	uint32_t cur, best;
};

/* Walks up to BILL_LOOKUP_LANES numbers one trie level per round: each
 * round reads the node prefetched in the previous one. Same walk as
 * route_lookup on the key service digit + number. */
static void lookup_lanes(const struct bill_tariff *t, enum bill_service svc, const struct sy_str *num, size_t n,
			 uint32_t *best)
{
	const struct route_node *nodes = t->trie.nodes;
	struct lane l[BILL_LOOKUP_LANES];
	size_t live = 0;
	uint32_t first = nodes[0].child[svc];
	for (size_t i = 0; i < n; i++) {
		best[i] = ROUTE_NONE;
		l[i].p = num[i].p + (num[i].len > 0 && num[i].p[0] == '+');
		l[i].end = num[i].p + num[i].len;
		l[i].cur = first;
		l[i].best = ROUTE_NONE;
		live += first != 0;
	}
	while (live > 0) {
		live = 0;
		for (size_t i = 0; i < n; i++) {
			if (l[i].cur == 0)
				continue;
			const struct route_node *nd = &nodes[l[i].cur];
			if (nd->value != ROUTE_NONE)
				l[i].best = nd->value;
			unsigned d = l[i].p < l[i].end ? (unsigned)(*l[i].p - '0') : 10u;
			l[i].cur = d < 10 ? nd->child[d] : 0;
			l[i].p++;
			if (l[i].cur != 0) {
				__builtin_prefetch(&nodes[l[i].cur]);
				live++;
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		best[i] = l[i].best;
		if (best[i] != ROUTE_NONE)
			__builtin_prefetch(&t->e[best[i]]);
	}
}

void bill_tariff_lookup_many(const struct bill_tariff *t, enum bill_service svc, const struct sy_str *numbers,
			     const uint64_t *epoch_s, size_t n, const struct bill_tariff_entry **out)
{
	SY_ASSERT((unsigned)svc < BILL_SVC_COUNT);
	uint32_t best[BILL_LOOKUP_LANES];
	for (size_t at = 0; at < n; at += BILL_LOOKUP_LANES) {
		size_t k = SY_MIN(n - at, (size_t)BILL_LOOKUP_LANES);
		if (t->n == 0) {
			for (size_t i = 0; i < k; i++)
				out[at + i] = NULL;
			continue;
		}
		lookup_lanes(t, svc, numbers + at, k, best);
		for (size_t i = 0; i < k; i++)
			out[at + i] = best[i] == ROUTE_NONE ? NULL : band_pick(t, &t->e[best[i]], epoch_s[at + i]);
	}
}

const struct bill_tariff_entry *bill_tariff_entry(const struct bill_tariff *t, uint32_t id)
{
	return id >= 1 && id <= t->n ? &t->e[id - 1] : NULL;
}

struct sy_str bill_tariff_prefix(const struct bill_tariff *t, const struct bill_tariff_entry *e)
{
	return (struct sy_str){t->text + e->text_off, e->prefix_len};
}

struct sy_str bill_tariff_desc(const struct bill_tariff *t, const struct bill_tariff_entry *e)
{
	return (struct sy_str){t->text + e->text_off + e->prefix_len, e->desc_len};
}
