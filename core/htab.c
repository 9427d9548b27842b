/* htab.c: see htab.h. */
#include "htab.h"

#include <stdlib.h>

#define HTAB_BUCKETS_MAX (1ull << 31)

enum sy_rc sy_htab_init(struct sy_htab *t, uint64_t expected)
{
	return sy_htab_init_seeded(t, expected, SY_HTAB_SEED_FIXED);
}

enum sy_rc sy_htab_init_seeded(struct sy_htab *t, uint64_t expected, uint64_t seed)
{
	uint64_t n = 16;
	while (n < expected && n < SY_HTAB_INIT_MAX)
		n <<= 1;
	t->buckets = calloc(n, sizeof(*t->buckets));
	if (t->buckets == NULL)
		return SY_ERR_NOMEM;
	t->mask = n - 1;
	t->count = 0;
	t->seed = seed;
	return SY_OK;
}

void sy_htab_free(struct sy_htab *t)
{
	free(t->buckets);
	t->buckets = NULL;
	t->count = 0;
}

/* Doubles the bucket array. Each old chain splits into bucket i and i + n
 * by one more hash bit; nodes are appended in chain order, so nodes under
 * one key stay in the order find/find_next return them. */
static void htab_grow(struct sy_htab *t)
{
	uint64_t n = t->mask + 1;
	if (n >= HTAB_BUCKETS_MAX)
		return;
	struct sy_hnode **nb = malloc(2 * n * sizeof(*nb));
	if (nb == NULL)
		return;
	for (uint64_t i = 0; i < n; i++) {
		struct sy_hnode **lo = &nb[i], **hi = &nb[i + n];
		for (struct sy_hnode *m = t->buckets[i], *next; m != NULL; m = next) {
			next = m->next;
			if (m->hash & n) {
				*hi = m;
				hi = &m->next;
			} else {
				*lo = m;
				lo = &m->next;
			}
		}
		*lo = *hi = NULL;
	}
	free(t->buckets);
	t->buckets = nb;
	t->mask = 2 * n - 1;
}

void sy_htab_insert(struct sy_htab *t, struct sy_hnode *n, struct sy_str key)
{
	if (t->count > t->mask)
		htab_grow(t);
	n->key = key;
	n->hash = sy_hash64(key.p, key.len, t->seed);
	struct sy_hnode **b = &t->buckets[n->hash & t->mask];
	n->next = *b;
	*b = n;
	t->count++;
}

struct sy_hnode *sy_htab_find(const struct sy_htab *t, struct sy_str key)
{
	uint64_t h = sy_hash64(key.p, key.len, t->seed);
	for (struct sy_hnode *n = t->buckets[h & t->mask]; n != NULL; n = n->next)
		if (n->hash == h && sy_str_eq(n->key, key))
			return n;
	return NULL;
}

struct sy_hnode *sy_htab_find_next(const struct sy_htab *t, const struct sy_hnode *n)
{
	(void)t;
	for (struct sy_hnode *m = n->next; m != NULL; m = m->next)
		if (m->hash == n->hash && sy_str_eq(m->key, n->key))
			return m;
	return NULL;
}

void sy_htab_remove(struct sy_htab *t, struct sy_hnode *n)
{
	struct sy_hnode **pp = &t->buckets[n->hash & t->mask];
	while (*pp != n) {
		SY_ASSERT(*pp != NULL);
		pp = &(*pp)->next;
	}
	*pp = n->next;
	n->next = NULL;
	t->count--;
}
