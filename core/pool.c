/* pool.c: see pool.h. */
#include "pool.h"

#include <stdlib.h>

enum sy_rc sy_pool_init(struct sy_pool *p, size_t obj_size, uint32_t max)
{
	SY_ASSERT(p != NULL && obj_size > 0 && max > 0);
	memset(p, 0, sizeof(*p));
	p->obj_size = obj_size; /* sizeof: a multiple of the alignment, and calloc aligns the slab */
	p->max = max;
	p->shift = 4;
	while (p->shift < 20 && ((size_t)2 << p->shift) * p->obj_size <= SY_POOL_SLAB_BYTES && (1u << p->shift) < max)
		p->shift++;
	p->slab_n = (uint32_t)(((uint64_t)max + (1u << p->shift) - 1) >> p->shift);
	p->slabs = calloc(p->slab_n, sizeof(*p->slabs));
	return p->slabs != NULL ? SY_OK : SY_ERR_NOMEM;
}

void sy_pool_free(struct sy_pool *p)
{
	for (uint32_t i = 0; p->slabs != NULL && i < p->slab_n; i++)
		free(p->slabs[i]);
	free(p->slabs);
	memset(p, 0, sizeof(*p));
}

void *sy_pool_grow(struct sy_pool *p, uint32_t *idx)
{
	if (p->used == p->max)
		return NULL;
	uint32_t s = p->used >> p->shift;
	if (p->slabs[s] == NULL) {
		/* The last slab holds only what is left below max. */
		uint32_t n = SY_MIN(1u << p->shift, p->max - (s << p->shift));
		if ((p->slabs[s] = calloc(n, p->obj_size)) == NULL)
			return NULL;
		p->slab_bytes += (uint64_t)n * p->obj_size;
	}
	*idx = p->used++;
	return sy_pool_at(p, *idx);
}
