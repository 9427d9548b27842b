/* htab.c: see htab.h. */
#include "htab.h"

#include <stdlib.h>

enum sy_rc sy_htab_init(struct sy_htab *t, uint64_t expected)
{
	return sy_htab_init_seeded(t, expected, SY_HTAB_SEED_FIXED);
}

enum sy_rc sy_htab_init_seeded(struct sy_htab *t, uint64_t expected, uint64_t seed)
{
	uint64_t n = 16;
	while (n < expected)
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

void sy_htab_insert(struct sy_htab *t, struct sy_hnode *n, struct sy_str key)
{
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
